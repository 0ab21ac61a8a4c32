import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { closed, counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/** The CONNACK return code mqtt.js reports for a refused CONNECT. */
async function refusal(t: TestAgent, clientId: string, username: string, password: string): Promise<number> {
  try {
    const client = await mqtt.connectAsync(t.agent.addresses.mqtt!, { clientId, username, password, reconnectPeriod: 0 });
    await client.endAsync(true);
    return 0;
  } catch (error) {
    return (error as { code?: number }).code ?? -1;
  }
}

describe('device authentication at CONNECT (real TCP)', () => {
  let t: TestAgent;
  beforeEach(async () => {
    t = await startTestAgent();
  });
  afterEach(async () => t.close());

  it('accepts a registered device with its secret and marks it online', async () => {
    const secret = await t.addDevice('shelf-1');
    const client = await t.connect('shelf-1', secret);
    expect(client.connected).toBe(true);
    await eventually(() => t.agent.status.get('shelf-1')?.online === true, 'shelf-1 online');
    const events = t.agent.ledger.events({ stream: 'device-lifecycle' });
    expect(events.map((e) => e.type)).toContain('device.online');
  });

  it('refuses a wrong secret, an unknown device, a missing password and a mismatched client id', async () => {
    const secret = await t.addDevice('shelf-1');
    expect(await refusal(t, 'shelf-1', 'shelf-1', 'not-the-secret')).toBe(4);
    expect(await refusal(t, 'ghost', 'ghost', secret)).toBe(4);
    expect(await refusal(t, 'shelf-1', 'shelf-1', '')).toBe(4);
    expect(await refusal(t, 'someone-else', 'shelf-1', secret)).toBe(2);
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_AUTH_BAD_CREDENTIALS' })).toBe(3);
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_AUTH_CLIENT_ID_MISMATCH' })).toBe(1);
  });

  it('refuses a disabled device and disconnects it if it was connected', async () => {
    const secret = await t.addDevice('gate-1', 'gate');
    const client = await t.connect('gate-1', secret);
    t.agent.registry.disable('gate-1', 'test');
    await closed(client);
    await eventually(() => t.agent.status.get('gate-1')?.online === false, 'gate-1 offline');
    expect(await refusal(t, 'gate-1', 'gate-1', secret)).toBe(5);
    t.agent.registry.enable('gate-1', 'test');
    expect(await refusal(t, 'gate-1', 'gate-1', secret)).toBe(0);
  });

  it('after rotate-secret the old secret is refused, the new one works, and the old session is closed', async () => {
    const oldSecret = await t.addDevice('esl-gw-1', 'esl-gateway');
    const client = await t.connect('esl-gw-1', oldSecret);
    const { secret: newSecret } = await t.agent.registry.rotateSecret('esl-gw-1', 'test');
    await closed(client);
    expect(await refusal(t, 'esl-gw-1', 'esl-gw-1', oldSecret)).toBe(4);
    expect(await refusal(t, 'esl-gw-1', 'esl-gw-1', newSecret)).toBe(0);
  });

  it('stores only a salted scrypt hash of the secret', async () => {
    const secret = await t.addDevice('shelf-2');
    const hash = t.agent.registry.get('shelf-2')!.secretHash;
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hash).not.toContain(secret);
    const raw = JSON.stringify(t.agent.ledger.events());
    expect(raw).not.toContain(secret);
  });
});
