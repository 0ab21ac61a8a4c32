import type { ShelfLabel, StoreModelInput, TagLedCommand } from '@storeedge/device-drivers';
import { EslGatewaySimulator, SimClock } from '@storeedge/simulators';
import { buildDocument, generateSigningKey } from '@storeedge/sync';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/**
 * Issue 7 item 6 end to end on a real agent: a signed `order` document (the agent's own downlink
 * applier, its key from `sync.trustedKeys`) reserves stock, the pick list walks the planogram,
 * the labels of the SKUs to pick get an LED command that reaches a real ESL gateway simulator
 * over the agent's broker, and staff's picked/collected steps are queued for HQ.
 */
const hqKey = generateSigningKey('hq-1');
const gatewayId = 'esl-gw-1';
const labels: ShelfLabel[] = [
  { tagId: 'esl-0001', gateway: gatewayId, tagType: 'm3-2.9-bwr', sku: 'oat-milk', trayId: 't1' },
  { tagId: 'esl-0002', gateway: gatewayId, tagType: 'm3-2.9-bwr', sku: 'rye-bread', trayId: 't2' },
  { tagId: 'esl-0003', gateway: gatewayId, tagType: 'm3-2.9-bwr', sku: 'oat-milk', trayId: 't3' },
  { tagId: 'esl-0004', gateway: gatewayId, tagType: 'm3-2.9-bwr', sku: 'apple-juice', trayId: 't4' },
];
const tray = (id: string, device: string, channel: number, sku: string, initial: number) => ({ id, device, channel, facings: [{ sku, capacity: 12, minLevel: 1, initial }] });
const model: StoreModelInput = {
  catalog: [
    { sku: 'oat-milk', gtin: '04006381333931', name: 'Oat drink 1 l', unitWeightG: 1_040, unitWeightSigmaG: 8, priceMinor: 189 },
    { sku: 'rye-bread', gtin: '05901234123457', name: 'Rye bread 500 g', unitWeightG: 500, unitWeightSigmaG: 12, priceMinor: 249 },
    { sku: 'apple-juice', gtin: '04006381333948', name: 'Apple juice 1 l', unitWeightG: 1_060, unitWeightSigmaG: 9, priceMinor: 159 },
  ],
  zones: [{ id: 'aisle-1' }, { id: 'aisle-2' }],
  gondolas: [
    { id: 'g1', zone: 'aisle-1', bays: [{ id: 'b1', shelves: [{ id: 's1', trays: [tray('t1', 'shelf-1', 0, 'oat-milk', 6), tray('t2', 'shelf-1', 1, 'rye-bread', 4)] }] }] },
    { id: 'g2', zone: 'aisle-2', bays: [{ id: 'b2', shelves: [{ id: 's2', trays: [tray('t3', 'shelf-2', 0, 'oat-milk', 3), tray('t4', 'shelf-2', 1, 'apple-juice', 5)] }] }] },
  ],
  labels,
};
const S = 1_000;

let t: TestAgent;
let gateway: EslGatewaySimulator;
let clock: SimClock;
let ledCommands: TagLedCommand[];

beforeEach(async () => {
  t = await startTestAgent({
    store: { model },
    // The upstream is never reached here: the test hands the document to the agent's applier, as the sync service would.
    sync: { upstream: { url: 'mqtt://127.0.0.1:1', reconnectMinMs: 60_000, reconnectMaxMs: 60_000 }, trustedKeys: [{ keyId: hqKey.keyId, publicKey: hqKey.publicKey }] },
  });
  ledCommands = [];
  const publishCommand = t.agent.plane.publishCommand.bind(t.agent.plane);
  vi.spyOn(t.agent.plane, 'publishCommand').mockImplementation((deviceId, type, payload, options) => {
    if (type === 'tag.led') ledCommands.push(structuredClone(payload as TagLedCommand));
    return publishCommand(deviceId, type, payload, options);
  });
  clock = new SimClock();
  gateway = new EslGatewaySimulator({
    url: t.agent.addresses.mqtt!,
    storeId: t.storeId,
    deviceId: gatewayId,
    password: await t.addDevice(gatewayId, 'esl-gateway'),
    clock,
    tags: labels.map((l, i) => ({ tagId: l.tagId, tagType: l.tagType, firstCheckinMs: (i + 1) * 5 * S })),
    checkinJitter: 0,
    reportEveryMs: 3_600_000,
    healthIntervalMs: null,
    reconnectPeriodMs: 100,
  });
  await gateway.start(); // connected and subscribed to its cmd/#
});

afterEach(async () => {
  await gateway.stop();
  await t.close();
});

async function api<T = Record<string, any>>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${t.agent.httpUrl}${path}`, {
    method,
    headers: { authorization: t.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as T };
}

describe('click & collect on a running agent', () => {
  it('a signed order reserves stock, lists the picks in walking order, flashes their labels, and reports picked and collected to HQ once', async () => {
    const collectBy = Date.now() + 2 * 3_600_000;
    const { messages } = buildDocument(
      {
        kind: 'order',
        version: 1,
        stores: [t.storeId],
        issuedAt: Date.now(),
        body: { orderId: 'cc-1001', customerRef: 'c-9b1e04', collectBy, lines: [{ sku: 'rye-bread', qty: 5 }, { sku: 'oat-milk', qty: 7 }], note: 'no substitutions' },
      },
      hqKey,
    );
    for (const message of messages) expect(t.agent.sync!.applier.accept(JSON.stringify(message))).toMatchObject({ status: 'applied', kind: 'order' });

    // Reserved: oat drink 7 of 9 (t1 6 + t3 3), rye bread 4 of 4 with 1 short.
    const detail = await api('GET', '/api/orders/cc-1001');
    expect(detail.status).toBe(200);
    expect(detail.json).toMatchObject({ state: 'open', customerRef: 'c-9b1e04', units: 12, reservedUnits: 11, shortUnits: 1, note: 'no substitutions' });
    expect(detail.json.pickList.map((l: any) => [l.sku, l.qty, l.reserved, l.short, l.stops.map((s: any) => [s.trayId, s.bay, s.onShelf, s.take])])).toEqual([
      ['oat-milk', 7, 7, 0, [['t1', 'b1', 6, 6], ['t3', 'b2', 3, 1]]],
      ['rye-bread', 5, 4, 1, [['t2', 'b1', 4, 4]]],
    ]);
    // A reservation sets units aside for other orders; the shelf keeps them until they are picked.
    expect((await api('GET', '/api/stock?sku=oat-milk')).json.skus[0].observed).toBe(9);

    // The labels of the trays to pick from (not apple juice's) get an LED command, and it reaches the gateway.
    await eventually(() => ledCommands.length === 3, 'three LED commands');
    expect(ledCommands.map((c) => [c.tagId, c.colour]).sort()).toEqual([
      ['esl-0001', 'blue'],
      ['esl-0002', 'blue'],
      ['esl-0003', 'blue'],
    ]);
    await eventually(() => gateway.eslStats().ledReceived === 3, 'the gateway holds the three flashes');
    clock.advance(30 * S); // every tag checks in once
    await gateway.flush();
    expect(gateway.eslStats()).toMatchObject({ ledFlashes: 3 });
    expect(t.agent.labels.label('esl-0001').lastFlash).toMatchObject({ colour: 'blue' });
    expect((await api('GET', '/api/orders/cc-1001')).json.flashes.map((f: any) => [f.tagId, f.state]).sort()).toEqual([
      ['esl-0001', 'requested'],
      ['esl-0002', 'requested'],
      ['esl-0003', 'requested'],
    ]);

    // Staff pick, the customer collects.
    const picked = await api('POST', '/api/orders/cc-1001/picked', { lines: [{ sku: 'oat-milk', qty: 7 }, { sku: 'rye-bread', qty: 4 }] });
    expect(picked).toMatchObject({ status: 200, json: { state: 'picked', pickedUnits: 11 } });
    expect(await api('POST', '/api/orders/cc-1001/collected', {})).toMatchObject({ status: 200, json: { state: 'collected' } });
    expect(await api('POST', '/api/orders/cc-1001/collected', {})).toMatchObject({ status: 200, json: { state: 'collected' } });
    expect((await api('GET', '/api/orders')).json).toEqual({ orders: [], total: 0 });

    // What HQ will receive, each once, in order; the customer reference and the note stay in the store.
    const outbox = t.agent.ledger.outboxPending();
    const ofOrder = outbox.filter((row) => row.stream === 'orders' || row.event.type.startsWith('sync.document'));
    expect(ofOrder.map((row) => row.event.type)).toEqual(['order.reserved', 'sync.document.applied', 'order.picked', 'order.collected']);
    expect(ofOrder.find((row) => row.event.type === 'order.picked')!.event.payload).toMatchObject({
      orderId: 'cc-1001',
      lines: [
        { sku: 'rye-bread', qty: 5, picked: 4, short: 1 },
        { sku: 'oat-milk', qty: 7, picked: 7, short: 0 },
      ],
      actor: 'test',
    });
    const uplinked = JSON.stringify(outbox.map((row) => row.event.payload));
    expect(uplinked).not.toContain('c-9b1e04');
    expect(uplinked).not.toContain('no substitutions');

    // HQ sends the same document again (a re-send after a reconnect): acknowledged, nothing new.
    expect(t.agent.sync!.applier.accept(JSON.stringify(messages[0]))).toMatchObject({ status: 'duplicate' });
    expect(t.agent.ledger.outboxPending().length).toBe(outbox.length);
  });

  it('applies orders whose versions arrive out of order (orders stand alone), while a price document that goes back is stale', () => {
    const order = (version: number, orderId: string) =>
      buildDocument({ kind: 'order', version, stores: [t.storeId], issuedAt: Date.now(), body: { orderId, customerRef: 'c-77aa01', collectBy: Date.now() + 3_600_000, lines: [{ sku: 'apple-juice', qty: 1 }] } }, hqKey).messages;
    const accept = (messages: unknown[]) => messages.map((m) => t.agent.sync!.applier.accept(JSON.stringify(m))).at(-1);
    expect(accept(order(7, 'cc-7'))).toMatchObject({ status: 'applied', kind: 'order' });
    expect(accept(order(6, 'cc-6'))).toMatchObject({ status: 'applied', kind: 'order' });
    const prices = (version: number) =>
      buildDocument({ kind: 'prices', version, stores: [t.storeId], issuedAt: Date.now(), body: { prices: [{ sku: 'apple-juice', priceMinor: 149 + version }] } }, hqKey).messages;
    expect(accept(prices(7))).toMatchObject({ status: 'applied', kind: 'prices' });
    expect(accept(prices(6))).toMatchObject({ status: 'refused', code: 'SYNC_ERR_DOC_STALE' });
  });
});
