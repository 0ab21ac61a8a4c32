import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreAgent } from '../../src/agent.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';
import { shelfChange, storeModelFixture } from './store-fixture.ts';

type Json = Record<string, any>;

async function call(t: TestAgent, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${t.agent.httpUrl}${path}`, {
    method,
    headers: { authorization: t.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}

describe('inventory HTTP API (real agent, real SQLite)', () => {
  let t: TestAgent;
  afterEach(async () => t?.close());

  it('GET /api/stock answers 503 EDGE_ERR_INVENTORY_NO_MODEL without a store model; alerts and EPCIS still answer', async () => {
    t = await startTestAgent();
    const stock = await call(t, 'GET', '/api/stock');
    expect(stock).toEqual({ status: 503, json: { error: { code: 'EDGE_ERR_INVENTORY_NO_MODEL', message: expect.stringContaining('store.model') } } });
    expect((await call(t, 'GET', '/api/alerts')).json).toEqual({ alerts: [] });
    expect((await call(t, 'GET', '/api/epcis')).json.epcisBody.eventList).toEqual([]);
  });

  it('GET /api/stock shows book, observed and RFID per SKU and per tray with the accuracy figure, filtered by ?sku= and ?zone=', async () => {
    t = await startTestAgent({ store: { model: storeModelFixture } });
    t.agent.bus.emit('shelf.change', shelfChange('h1', 't1', { sku: 'cola-330', units: -3 }));
    t.agent.bus.emit('rfid.presence', { epc: '3034257BF7194E4000001A85', gtin: '04006381333955', serial: '1', kind: 'arrived', zone: 'z-care', at: 1 });
    const { status, json } = await call(t, 'GET', '/api/stock');
    expect(status).toBe(200);
    expect(json.skus.find((s: Json) => s.sku === 'cola-330')).toMatchObject({ book: 7, observed: 7, rfid: null, trays: ['t1'], matches: true });
    expect(json.skus.find((s: Json) => s.sku === 'soap-tag')).toMatchObject({ book: 3, observed: 3, rfid: 1, rfidTagged: true, matches: false });
    expect(json.trays.find((r: Json) => r.trayId === 't1')).toMatchObject({ sku: 'cola-330', zone: 'z-drinks', book: 7, observed: 7, capacity: 12, minLevel: 3, status: 'ok' });
    expect(json.accuracy).toEqual({ skus: 4, matching: 4, skuAccuracy: 1, unitAccuracy: 1, unitsOff: 0, rfid: { skus: 1, matching: 0, accuracy: 0 } });
    expect(json.discrepancies).toEqual([{ sku: 'soap-tag', book: 3, observed: 3, rfid: 1 }]);
    expect(json.modelHash).toMatch(/^[0-9a-f]{64}$/);

    const care = (await call(t, 'GET', '/api/stock?zone=z-care')).json;
    expect(care.trays.map((r: Json) => r.trayId)).toEqual(['t3', 't4']);
    expect(care.filter).toEqual({ zone: 'z-care' });
    const cola = (await call(t, 'GET', '/api/stock?sku=cola-330')).json;
    expect(cola.skus.map((s: Json) => s.sku)).toEqual(['cola-330']);

    const bad = await call(t, 'GET', '/api/stock?color=red');
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatchObject({ code: 'EDGE_ERR_BAD_REQUEST', message: expect.stringContaining('color') });
  });

  it('lists alerts by state, acknowledges them (audited), and publishes every step on out/alerts', async () => {
    t = await startTestAgent({ store: { model: storeModelFixture } });
    const raised: string[] = [];
    t.agent.bus.on('alert.raised', (a) => raised.push(a.kind));
    t.agent.bus.emit('shelf.change', shelfChange('h1', 't2', { grams: 123.4 })); // fits nothing
    expect(raised).toEqual(['unknown-weight-change']);

    const open = (await call(t, 'GET', '/api/alerts?state=open')).json.alerts as Json[];
    expect(open.map((a) => a.kind)).toEqual(['unknown-weight-change', 'low-stock']); // newest first; soap starts low
    const unknown = open[0]!;
    expect(unknown).toMatchObject({ state: 'open', trayId: 't2', changeId: 'h1', message: expect.stringContaining('+123.4 g') });

    const ack = await call(t, 'POST', `/api/alerts/${unknown.id}/ack`, {});
    expect(ack).toMatchObject({ status: 200, json: { id: unknown.id, state: 'acknowledged', acknowledgedBy: 'test' } });
    expect(t.agent.ledger.getByKey(`alert-ack:${unknown.id}`)?.payload).toEqual({ alertId: unknown.id, actor: 'test' });
    expect((await call(t, 'GET', '/api/alerts?state=open')).json.alerts.map((a: Json) => a.kind)).toEqual(['low-stock']);
    expect((await call(t, 'GET', '/api/alerts?state=acknowledged')).json.alerts.map((a: Json) => a.id)).toEqual([unknown.id]);
    // No body at all; the actor is who is authenticated (the harness's token "test").
    const lowId = (await call(t, 'GET', '/api/alerts?kind=low-stock')).json.alerts[0].id as string;
    const res = await fetch(`${t.agent.httpUrl}/api/alerts/${lowId}/ack`, { method: 'POST', headers: { authorization: t.authorization } });
    expect(((await res.json()) as Json).acknowledgedBy).toBe('test');

    // Model start (soap low), the unknown change, two acknowledgements: four messages on out/alerts.
    await eventually(async () => (await counter(t.agent, 'storeedge_messages_out_total', { type: 'out.alerts' })) === 4, 'four out/alerts messages');

    expect(await call(t, 'POST', '/api/alerts/al-424242/ack', {})).toMatchObject({ status: 404, json: { error: { code: 'EDGE_ERR_ALERT_NOT_FOUND' } } });
    expect((await call(t, 'GET', '/api/alerts?state=closed')).status).toBe(400);
    // A cleared alert cannot be acknowledged.
    t.agent.bus.emit('shelf.change', shelfChange('h2', 't3', { sku: 'soap-tag', units: 10 }));
    expect((await call(t, 'GET', `/api/alerts?kind=low-stock&state=cleared`)).json.alerts).toHaveLength(1);
    expect(await call(t, 'POST', `/api/alerts/${lowId}/ack`, {})).toMatchObject({ status: 409, json: { error: { code: 'EDGE_ERR_ALERT_CLEARED' } } });
  });

  it('POST /api/stock/restock declares units (book now, observed when they land); POST /api/stock/reconcile accepts the shelf', async () => {
    t = await startTestAgent({ store: { model: storeModelFixture } });
    const declared = await call(t, 'POST', '/api/stock/restock', { trayId: 't3', sku: 'soap-tag', quantity: 12, note: 'delivery 4711' });
    expect(declared).toMatchObject({ status: 200, json: { trayId: 't3', sku: 'soap-tag', book: 15, observed: 3, pendingRestock: 12 } });
    t.agent.bus.emit('shelf.change', shelfChange('h1', 't3', { sku: 'soap-tag', units: 10 }));
    const after = (await call(t, 'GET', '/api/stock?sku=soap-tag')).json.trays[0];
    expect(after).toMatchObject({ book: 15, observed: 13, pendingRestock: 2 });
    const reconciled = await call(t, 'POST', '/api/stock/reconcile', { sku: 'soap-tag' });
    expect(reconciled.json.adjustments).toEqual([{ trayId: 't3', sku: 'soap-tag', bookBefore: 15, observed: 13, pendingBefore: 2 }]);
    expect((await call(t, 'GET', '/api/stock?sku=soap-tag')).json.trays[0]).toMatchObject({ book: 13, observed: 13, pendingRestock: 0 });

    expect(await call(t, 'POST', '/api/stock/restock', { trayId: 't9', sku: 'soap-tag', quantity: 1 })).toMatchObject({ status: 404, json: { error: { code: 'EDGE_ERR_INVENTORY_UNKNOWN_TRAY' } } });
    expect(await call(t, 'POST', '/api/stock/restock', { trayId: 't1', sku: 'soap-tag', quantity: 1 })).toMatchObject({ status: 422, json: { error: { code: 'EDGE_ERR_INVENTORY_NOT_ON_TRAY' } } });
    const bad = await call(t, 'POST', '/api/stock/restock', { trayId: 't1', sku: 'cola-330', quantity: 0 });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'EDGE_ERR_BAD_REQUEST', message: expect.stringContaining('body.quantity') } } });
  });

  it('keeps stock across a restart and does not re-apply an unchanged model', async () => {
    t = await startTestAgent({ store: { model: storeModelFixture } });
    t.agent.bus.emit('shelf.change', shelfChange('h1', 't4', { sku: 'shampoo-400', units: -2 }));
    await t.agent.stop();
    const config = loadConfig(
      { storeId: t.storeId, dataDir: t.dir, broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null }, http: { host: '127.0.0.1', port: 0 }, log: { level: 'silent' }, store: { model: storeModelFixture } },
      t.dir,
    );
    const again = await StoreAgent.start(config, { logger: silentLogger() });
    try {
      expect(again.inventory.stock({ sku: 'shampoo-400' }).trays[0]).toMatchObject({ book: 6, observed: 6 });
      expect(again.ledger.events({ type: 'inventory.model.applied' })).toHaveLength(1);
    } finally {
      await again.stop();
      rmSync(t.dir, { recursive: true, force: true });
    }
  });
});
