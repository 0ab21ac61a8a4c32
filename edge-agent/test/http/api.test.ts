import { request as httpRequest } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '@storeedge/device-drivers';
import { startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

async function get(t: TestAgent, path: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(`${t.agent.httpUrl}${path}`, { headers: { authorization: t.authorization } });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

describe('HTTP API (real HTTP)', () => {
  let t: TestAgent;
  beforeEach(async () => {
    t = await startTestAgent();
  });
  afterEach(async () => t.close());

  it('GET /api/health reports broker clients, ledger size and head hash, and event-loop lag', async () => {
    const secret = await t.addDevice('shelf-1');
    await t.connect('shelf-1', secret);
    const res = await get(t, '/api/health');
    expect(res.status).toBe(200);
    const health = JSON.parse(res.body);
    expect(health).toMatchObject({ status: 'ok', storeId: 'store-test', broker: { mode: 'embedded', clients: 1 }, devices: { registered: 1, online: 1 } });
    expect(health.ledger.events).toBe(t.agent.ledger.stats().events);
    expect(health.ledger.headHash).toMatch(/^[0-9a-f]{64}$/);
    expect(health.ledger.bytes).toBeGreaterThan(0);
    expect(health.eventLoopLagMs).toEqual({ p50: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
  });

  it('GET /metrics serves Prometheus text with messages in/out, rejects, queue depths and loop lag', async () => {
    const secret = await t.addDevice('shelf-1');
    const client = await t.connect('shelf-1', secret);
    await client.publishAsync(topics.event(t.storeId, 'shelf-1', 'weight'), JSON.stringify({ at: 1, channels: [{ ch: 0, grams: 1 }] }), { qos: 1 });
    await client.publishAsync(topics.event(t.storeId, 'shelf-1', 'weight'), 'not json', { qos: 1 });
    await t.agent.plane.publishCommand('shelf-1', 'tare', {});
    const res = await get(t, '/metrics');
    expect(res.status).toBe(200);
    expect(res.type).toContain('text/plain');
    expect(res.body).toContain('storeedge_messages_in_total{type="shelf.weight"} 1');
    expect(res.body).toContain('storeedge_messages_out_total{type="cmd.tare"} 1');
    expect(res.body).toContain('storeedge_rejects_total{code="EDGE_ERR_INGEST_MALFORMED_JSON"} 1');
    expect(res.body).toMatch(/storeedge_event_loop_lag_seconds\{quantile="0.99"\} \d/);
    expect(res.body).toContain('storeedge_ledger_events ');
    expect(res.body).toContain('storeedge_broker_clients 1');
  });

  it('GET /api/devices lists devices with live status and never their secret hash', async () => {
    await t.addDevice('gate-1', 'gate');
    const res = await get(t, '/api/devices');
    const { devices } = JSON.parse(res.body);
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ id: 'gate-1', kind: 'gate', enabled: true, online: false });
    expect(res.body).not.toContain('scrypt');
    expect(JSON.parse((await get(t, '/api/devices/gate-1')).body).id).toBe('gate-1');
  });

  it('answers errors as { error: { code, message } } with catalogued codes', async () => {
    const missing = await get(t, '/api/devices/nope');
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toEqual({ error: { code: 'EDGE_ERR_DEVICE_NOT_FOUND', message: expect.stringContaining('nope') } });
    const noRoute = await get(t, '/api/nothing-here');
    expect(noRoute.status).toBe(404);
    expect(JSON.parse(noRoute.body).error.code).toBe('EDGE_ERR_NOT_FOUND');
  });

  it('GET /api/events streams bus events as server-sent events', async () => {
    const secret = await t.addDevice('shelf-1');
    const url = new URL('/api/events', t.agent.httpUrl);
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(url, { headers: { authorization: t.authorization } }, (res) => {
        expect(res.headers['content-type']).toContain('text/event-stream');
        let buffer = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffer += chunk;
          if (buffer.includes('event: device.online')) {
            req.destroy();
            resolve(buffer);
          }
        });
        // Connect the device once the stream is open.
        void t.connect('shelf-1', secret).catch(reject);
      });
      req.on('error', (err) => (err.message.includes('aborted') ? undefined : reject(err)));
      req.end();
    });
    const data = text.split('\n').find((line) => line.startsWith('data: ') && line.includes('shelf-1'));
    expect(JSON.parse(data!.slice(6))).toMatchObject({ deviceId: 'shelf-1', kind: 'shelf' });
  });
});
