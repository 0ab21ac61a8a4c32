import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@storeedge/device-drivers';
import { counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';
import { skipWithoutMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';

/** The Mosquitto ACL exactly as docs/mqtt.md gives it, with the store id filled in. */
function documentedAcl(storeId: string): string {
  const doc = readFileSync(new URL('../../../docs/mqtt.md', import.meta.url), 'utf8');
  const block = doc.slice(doc.indexOf('# the agent'), doc.indexOf('```', doc.indexOf('# the agent')));
  return block.replaceAll('STORE_ID', storeId);
}

// Needs Debian's mosquitto; .ci/run installs it and requires it. Elsewhere, without it, the suite is skipped and says why.
describe.skipIf(skipWithoutMosquitto)('external broker mode against a real Mosquitto (skipped: mosquitto not installed)', () => {
  let broker: Mosquitto | undefined;
  let t: TestAgent | undefined;
  let secretsDir: string | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
    await Promise.all(clients.map((c) => c.endAsync(true)));
    clients.length = 0;
    await t?.close();
    await broker?.stop();
  });

  it('ingests, validates and commands devices through Mosquitto with the documented ACL', async () => {
    const storeId = 'store-test';
    broker = await startMosquitto({
      users: { 'storeedge-agent': 'agent-pw-0123456789', 'shelf-1': 'shelf-pw-0123456789', 'shelf-2': 'shelf2-pw-0123456789', 'rogue-1': 'rogue-pw-0123456789' },
      acl: documentedAcl(storeId),
    });
    secretsDir = mkdtempSync(join(tmpdir(), 'storeedge-agent-secret-'));
    const passwordFile = join(secretsDir, 'agent-password');
    writeFileSync(passwordFile, 'agent-pw-0123456789\n', { mode: 0o600 });
    t = await startTestAgent({
      broker: { mode: 'external', external: { url: broker.url, username: 'storeedge-agent', passwordFile } },
    });
    expect(t.agent.addresses).toEqual({ mode: 'external', external: broker.url });
    await t.addDevice('shelf-1');
    await t.addDevice('shelf-2'); // rogue-1 is known to Mosquitto but not registered in the store
    const received: Array<{ deviceId: string; grams: number }> = [];
    t.agent.bus.on('shelf.weight', (e) => received.push({ deviceId: e.deviceId, grams: e.payload.channels[0]!.grams }));

    const device = async (id: string, password: string) => {
      const c = await mqtt.connectAsync(broker!.url, { clientId: id, username: id, password, reconnectPeriod: 0 });
      clients.push(c);
      return c;
    };
    const shelf1 = await device('shelf-1', 'shelf-pw-0123456789');
    const rogue = await device('rogue-1', 'rogue-pw-0123456789');
    const weight = (grams: number) => JSON.stringify({ at: 1, channels: [{ ch: 0, grams }] });

    await shelf1.publishAsync(topics.event(storeId, 'shelf-1', 'weight'), weight(250), { qos: 1 });
    // Mosquitto's ACL drops a publish onto another device's topic: the agent never sees it.
    await shelf1.publishAsync(topics.event(storeId, 'shelf-2', 'weight'), weight(999), { qos: 1 });
    await shelf1.publishAsync(topics.event(storeId, 'shelf-1', 'weight'), '{broken', { qos: 1 });
    await rogue.publishAsync(topics.event(storeId, 'rogue-1', 'weight'), weight(5), { qos: 1 });
    await shelf1.publishAsync(topics.event(storeId, 'shelf-1', 'weight'), weight(251), { qos: 1 });

    await eventually(() => received.length === 2, 'two accepted weights');
    expect(received).toEqual([
      { deviceId: 'shelf-1', grams: 250 },
      { deviceId: 'shelf-1', grams: 251 },
    ]);
    await eventually(async () => (await counter(t!.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_INGEST_MALFORMED_JSON' })) === 1, 'malformed counted');
    await eventually(async () => (await counter(t!.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_INGEST_UNKNOWN_DEVICE' })) === 1, 'unknown counted');

    const commands: string[] = [];
    shelf1.on('message', (topic) => commands.push(topic));
    expect((await shelf1.subscribeAsync(topics.command(storeId, 'shelf-1', '#'), { qos: 1 }))[0]?.qos).toBe(1);
    // Mosquitto 2 grants the SUBACK but delivers nothing the ACL does not allow.
    await rogue.subscribeAsync(topics.command(storeId, 'shelf-1', '#'), { qos: 1 });
    const rogueGot: string[] = [];
    rogue.on('message', (topic) => rogueGot.push(topic));
    await t.agent.plane.publishCommand('shelf-1', 'tare', { channel: 0 });
    await eventually(() => commands.length === 1, 'command delivered');
    await shelf1.publishAsync(topics.event(storeId, 'shelf-1', 'weight'), weight(1), { qos: 1 }); // a round trip after the command
    expect(rogueGot).toEqual([]);
  });
});
