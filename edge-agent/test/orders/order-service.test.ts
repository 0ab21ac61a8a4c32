import { buildDocument } from '@storeedge/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreEdgeError } from '../../src/errors.ts';
import { ORDER_EXPIRED_ALERT_KIND } from '../../src/orders/order-service.ts';
import { shelfChange } from '../inventory/store-fixture.ts';
import { flush } from '../sync/fake-clock.ts';
import { HOUR, hq, MIN, order, orderDocument, orderRig, ordersSnapshot, T0, type OrderRig } from './order-fixture.ts';

const rigs: OrderRig[] = [];
afterEach(() => {
  for (const rig of rigs.splice(0).reverse()) rig.close();
});
function rig(options?: Parameters<typeof orderRig>[0]): OrderRig {
  const r = orderRig(options);
  rigs.push(r);
  return r;
}

/** The catalogued code a call throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreEdgeError) return err.code;
    throw err;
  }
  throw new Error('did not throw');
}

const lineFigures = (r: OrderRig, id: string) => r.orders.order(id).lines.map(({ sku, qty, reserved, short, picked }) => ({ sku, qty, reserved, short, picked }));

describe('order documents: reservation', () => {
  it('reserves what the shelves hold beyond other open orders; a shortfall is accepted and recorded for HQ', () => {
    const r = rig();
    expect(r.send(order('o-1', [{ sku: 'cola-330', qty: 5 }, { sku: 'shampoo-400', qty: 2 }], { note: 'Please call Anna on 0176 1234567' }))).toMatchObject({ status: 'applied', kind: 'order' });
    // cola: 10 on t1 + 2 on t5 = 12, of which o-1 holds 5; mints has no facing and no stock.
    expect(r.send(order('o-2', [{ sku: 'cola-330', qty: 8 }, { sku: 'mints', qty: 1 }]))).toMatchObject({ status: 'applied' });

    expect(lineFigures(r, 'o-1')).toEqual([
      { sku: 'cola-330', qty: 5, reserved: 5, short: 0, picked: null },
      { sku: 'shampoo-400', qty: 2, reserved: 2, short: 0, picked: null },
    ]);
    expect(lineFigures(r, 'o-2')).toEqual([
      { sku: 'cola-330', qty: 8, reserved: 7, short: 1, picked: null },
      { sku: 'mints', qty: 1, reserved: 0, short: 1, picked: null },
    ]);
    expect(r.orders.order('o-2')).toMatchObject({ state: 'open', units: 9, reservedUnits: 7, shortUnits: 2, customerRef: 'c-7f3a', collectBy: T0 + 2 * HOUR, receivedAt: T0 });

    // HQ hears the reservation per line (and the applied outcome with totals) — never the customer reference or the note.
    expect(r.outbox('orders')).toEqual([
      { type: 'order.reserved', key: 'order.reserved:o-1', payload: expect.objectContaining({ orderId: 'o-1', reserved: 7, short: 0 }) },
      {
        type: 'order.reserved',
        key: 'order.reserved:o-2',
        payload: {
          orderId: 'o-2',
          lines: [
            { sku: 'cola-330', qty: 8, reserved: 7, short: 1 },
            { sku: 'mints', qty: 1, reserved: 0, short: 1 },
          ],
          reserved: 7,
          short: 2,
          at: T0,
        },
      },
    ]);
    expect(r.outbox('sync').map((e) => [e.type, e.payload.summary])).toEqual([
      ['sync.document.applied', { lines: 2, units: 7, reserved: 7, short: 0 }],
      ['sync.document.applied', { lines: 2, units: 9, reserved: 7, short: 2 }],
    ]);
    const uplinked = JSON.stringify(r.outbox());
    expect(uplinked).not.toContain('c-7f3a');
    expect(uplinked).not.toContain('Anna');
    expect(r.orders.order('o-1').note).toBe('Please call Anna on 0176 1234567');
  });

  it('refuses an order that does not fit the store, whole, and applies a re-sent document once', () => {
    const r = rig();
    const first = order('o-1', [{ sku: 'cola-330', qty: 1 }]);
    const [message] = orderDocument(first);
    expect(r.applier.accept(message!)).toMatchObject({ status: 'applied' });
    expect(r.applier.accept(message!)).toMatchObject({ status: 'duplicate' });

    const refusals: Array<[string, unknown]> = [
      ['an unknown SKU', order('o-2', [{ sku: 'cola-330', qty: 1 }, { sku: 'plum', qty: 1 }])],
      ['the same order id in another document', first],
      ['collectBy already past', order('o-3', [{ sku: 'cola-330', qty: 1 }], { collectBy: T0 - 1 })],
    ];
    for (const [what, body] of refusals) {
      expect(r.send(body as ReturnType<typeof order>), what).toMatchObject({ status: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID' });
    }
    expect(r.send(first)).toMatchObject({ reason: expect.stringContaining('already received') });
    // HQ itself cannot build a body that is not an order: a customer's e-mail as reference, a SKU twice.
    expect(() => buildDocument({ kind: 'order', version: 960, stores: ['s1'], issuedAt: T0, body: order('o-4', [{ sku: 'cola-330', qty: 1 }], { customerRef: 'anna@example.com' }) }, hq)).toThrow(/customerRef/);
    expect(() => buildDocument({ kind: 'order', version: 961, stores: ['s1'], issuedAt: T0, body: order('o-4', [{ sku: 'cola-330', qty: 1 }, { sku: 'cola-330', qty: 2 }]) }, hq)).toThrow(/listed twice/);

    expect(r.ledger.events({ stream: 'orders' }).map((e) => e.key)).toEqual(['order.received:o-1', 'order.reserved:o-1']);
    expect(r.orders.list({ state: 'all' }).total).toBe(1);
    expect(r.outbox('sync').map((e) => [e.type, e.payload.code])).toEqual([
      ['sync.document.applied', undefined],
      ...Array.from({ length: 4 }, () => ['sync.document.refused', 'SYNC_ERR_DOC_BODY_INVALID']),
    ]);
  });
});

describe('pick list and label flashes', () => {
  it('lists per line the trays where the SKU lies, in walking order by bay, taking the reservation from the first trays on the walk', () => {
    const r = rig();
    // A cola put on the soap tray (g2/b2): misplaced, found by weight.
    expect(r.inventory.recordShelfChange(shelfChange('m1', 't3', { grams: 350.7 })).outcome).toBe('misplaced-put');
    r.send(order('o-1', [{ sku: 'shampoo-400', qty: 2 }, { sku: 'cola-330', qty: 11 }, { sku: 'chips-150', qty: 1 }, { sku: 'mints', qty: 2 }]));
    const pick = r.orders.order('o-1').pickList!;
    expect(pick.map((l) => [l.sku, l.reserved, l.toTake, l.short])).toEqual([
      ['cola-330', 11, 11, 0], // g1/b1 first
      ['chips-150', 1, 1, 0],
      ['shampoo-400', 2, 2, 0], // g2/b2
      ['mints', 0, 0, 2], // nowhere on a shelf: last, all short
    ]);
    expect(pick[0]!.stops.map((s) => [s.trayId, s.bay, s.onShelf, s.take, s.misplaced])).toEqual([
      ['t1', 'b1', 10, 10, false],
      ['t3', 'b2', 1, 1, true],
      ['t5', 'b2', 2, 0, false],
    ]);
    expect(pick[0]!.stops[0]).toMatchObject({ zone: 'z-drinks', gondola: 'g1', shelf: 's1' });
    expect(pick[3]!.stops).toEqual([]);
  });

  it('flashes the labels on the trays to take from, through the LED budget; a tag not allowed yet flashes when it may', async () => {
    const r = rig();
    r.send(order('o-1', [{ sku: 'cola-330', qty: 3 }, { sku: 'shampoo-400', qty: 1 }, { sku: 'mints', qty: 1 }, { sku: 'soap-tag', qty: 1 }]));
    await flush();
    // cola is taken from t1 only: its t1 label, not the t5 one; shampoo's label has no tray; mints has none; soap's has no LED.
    expect(r.labels.flashes.map((f) => [f.tagId, f.input])).toEqual([
      ['esl-cola-1', { colour: 'blue', flashes: 3, repeats: 2, actor: 'order:o-1' }],
      ['esl-shampoo', { colour: 'blue', flashes: 3, repeats: 2, actor: 'order:o-1' }],
    ]);
    expect(r.orders.order('o-1').flashes).toEqual([
      { tagId: 'esl-cola-1', sku: 'cola-330', state: 'requested', requestId: 'led-1', retryAt: null },
      { tagId: 'esl-shampoo', sku: 'shampoo-400', state: 'requested', requestId: 'led-2', retryAt: null },
    ]);

    // The same tag within its interval: the label service says "in 40 s"; the order flashes it then.
    r.labels.limited.set('esl-cola-1', 40_000);
    r.labels.limited.set('esl-chips', 5 * HOUR); // daily budget used up: not retried
    r.send(order('o-2', [{ sku: 'cola-330', qty: 1 }, { sku: 'chips-150', qty: 1 }]));
    await flush();
    expect(r.orders.order('o-2').flashes).toEqual([
      { tagId: 'esl-cola-1', sku: 'cola-330', state: 'retry-scheduled', requestId: null, retryAt: T0 + 40_000 },
      { tagId: 'esl-chips', sku: 'chips-150', state: 'limited', requestId: null, retryAt: null },
    ]);
    r.labels.limited.delete('esl-cola-1');
    r.clock.advance(40_000);
    await flush();
    expect(r.labels.flashes.at(-1)).toMatchObject({ tagId: 'esl-cola-1', at: T0 + 40_000 });
    expect(r.orders.order('o-2').flashes[1]).toMatchObject({ tagId: 'esl-cola-1', state: 'requested' });

    // A retry for an order picked meanwhile is dropped.
    r.labels.limited.set('esl-shampoo', 30_000);
    r.send(order('o-3', [{ sku: 'shampoo-400', qty: 1 }]));
    await flush();
    r.orders.picked('o-3', { lines: [{ sku: 'shampoo-400', qty: 1 }], actor: 'staff' });
    r.labels.limited.delete('esl-shampoo');
    const before = r.labels.flashes.length;
    r.clock.advance(30_000);
    await flush();
    expect(r.labels.flashes.length).toBe(before);
  });

  it('a store without labels takes orders all the same, without flashing', async () => {
    const r = rig({ noLabels: true });
    expect(r.send(order('o-1', [{ sku: 'cola-330', qty: 2 }])).status).toBe('applied');
    await flush();
    expect(r.labels.flashes).toEqual([]);
    expect(r.orders.order('o-1')).toMatchObject({ state: 'open', reservedUnits: 2, flashes: [] });
  });
});

describe('picking, collection and cancellation', () => {
  it('picked releases the reservation (the load cells booked the units leaving the shelf), then collected; HQ hears each step once', () => {
    const r = rig();
    r.send(order('o-1', [{ sku: 'cola-330', qty: 5 }, { sku: 'shampoo-400', qty: 2 }]));
    expect(codeOf(() => r.orders.collected('o-1', { actor: 'staff' }))).toBe('EDGE_ERR_ORDER_STATE');
    expect(codeOf(() => r.orders.picked('o-1', { lines: [{ sku: 'cola-330', qty: 5 }], actor: 'staff' }))).toBe('EDGE_ERR_ORDER_PICK_INVALID');
    expect(codeOf(() => r.orders.picked('o-1', { lines: [{ sku: 'cola-330', qty: 5 }, { sku: 'shampoo-400', qty: 2 }, { sku: 'chips-150', qty: 1 }], actor: 'staff' }))).toBe('EDGE_ERR_ORDER_PICK_INVALID');
    expect(codeOf(() => r.orders.picked('o-1', { lines: [{ sku: 'cola-330', qty: 6 }, { sku: 'shampoo-400', qty: 2 }], actor: 'staff' }))).toBe('EDGE_ERR_ORDER_PICK_INVALID');
    expect(codeOf(() => r.orders.picked('nope', { lines: [], actor: 'staff' }))).toBe('EDGE_ERR_ORDER_NOT_FOUND');

    // Staff take 4 colas (one is dented) and 2 shampoos: the shelves see the picks.
    r.inventory.recordShelfChange(shelfChange('p1', 't1', { sku: 'cola-330', units: -4 }));
    r.inventory.recordShelfChange(shelfChange('p2', 't4', { sku: 'shampoo-400', units: -2 }));
    const picked = r.orders.picked('o-1', { lines: [{ sku: 'shampoo-400', qty: 2 }, { sku: 'cola-330', qty: 4 }], actor: 'staff-7' });
    expect(picked).toMatchObject({ state: 'picked', pickedUnits: 6, pickedBy: 'staff-7', pickedAt: T0, pickList: null });
    expect(lineFigures(r, 'o-1')).toEqual([
      { sku: 'cola-330', qty: 5, reserved: 5, short: 0, picked: 4 },
      { sku: 'shampoo-400', qty: 2, reserved: 2, short: 0, picked: 2 },
    ]);
    // The 4 colas are off the shelf and the reservation released: 8 left (6 on t1, 2 on t5), all free for the next order.
    r.send(order('o-2', [{ sku: 'cola-330', qty: 12 }]));
    expect(lineFigures(r, 'o-2')).toEqual([{ sku: 'cola-330', qty: 12, reserved: 8, short: 4, picked: null }]);

    // A retried request is answered with the order; other quantities are a conflict.
    expect(r.orders.picked('o-1', { lines: [{ sku: 'cola-330', qty: 4 }, { sku: 'shampoo-400', qty: 2 }], actor: 'staff-7' }).state).toBe('picked');
    expect(codeOf(() => r.orders.picked('o-1', { lines: [{ sku: 'cola-330', qty: 5 }, { sku: 'shampoo-400', qty: 2 }], actor: 'staff-7' }))).toBe('EDGE_ERR_ORDER_STATE');

    r.clock.advance(10 * MIN);
    expect(r.orders.collected('o-1', { actor: 'staff-2' })).toMatchObject({ state: 'collected', closedAt: T0 + 10 * MIN, closedBy: 'staff-2' });
    expect(r.orders.collected('o-1', { actor: 'staff-2' }).state).toBe('collected');
    expect(codeOf(() => r.orders.cancel('o-1', { actor: 'staff' }))).toBe('EDGE_ERR_ORDER_STATE');

    expect(r.outbox('orders').map((e) => e.key)).toEqual(['order.reserved:o-1', 'order.picked:o-1', 'order.reserved:o-2', 'order.collected:o-1']);
    expect(r.outbox('orders')[1]!.payload).toEqual({
      orderId: 'o-1',
      lines: [
        { sku: 'cola-330', qty: 5, picked: 4, short: 1 },
        { sku: 'shampoo-400', qty: 2, picked: 2, short: 0 },
      ],
      picked: 6,
      short: 1,
      actor: 'staff-7',
      at: T0,
    });
    expect(r.outbox('orders')[3]!.payload).toEqual({ orderId: 'o-1', units: 6, actor: 'staff-2', at: T0 + 10 * MIN });
    expect(r.orders.list({}).orders.map((o) => o.orderId)).toEqual(['o-2']);
    expect(r.orders.list({ state: 'all' }).orders.map((o) => [o.orderId, o.state])).toEqual([
      ['o-1', 'collected'],
      ['o-2', 'open'],
    ]);
  });

  it('cancel releases an open order’s reservation, and tells how many picked units go back to the shelf', () => {
    const r = rig();
    r.send(order('o-1', [{ sku: 'cola-330', qty: 10 }]));
    r.send(order('o-2', [{ sku: 'cola-330', qty: 5 }]));
    expect(lineFigures(r, 'o-2')[0]).toMatchObject({ reserved: 2, short: 3 });
    expect(r.orders.cancel('o-1', { actor: 'manager', reason: 'customer called' })).toMatchObject({ state: 'cancelled', closedBy: 'manager', closeReason: 'customer called' });
    expect(r.orders.cancel('o-1', { actor: 'manager' }).state).toBe('cancelled');
    r.send(order('o-3', [{ sku: 'cola-330', qty: 5 }]));
    expect(lineFigures(r, 'o-3')[0]).toMatchObject({ reserved: 5, short: 0 });

    r.orders.picked('o-2', { lines: [{ sku: 'cola-330', qty: 2 }], actor: 'staff' });
    r.orders.cancel('o-2', { actor: 'staff' });
    expect(r.outbox('orders').filter((e) => e.type === 'order.cancelled').map((e) => e.payload)).toEqual([
      { orderId: 'o-1', from: 'open', released: 10, unitsToReturn: 0, actor: 'manager', reason: 'customer called', at: T0 },
      { orderId: 'o-2', from: 'picked', released: 0, unitsToReturn: 2, actor: 'staff', reason: null, at: T0 },
    ]);
  });
});

describe('expiry', () => {
  it('an order not collected by collectBy expires with an alert; an open one releases its reservation', () => {
    const r = rig();
    r.send(order('o-open', [{ sku: 'cola-330', qty: 10 }], { collectBy: T0 + HOUR }));
    r.send(order('o-picked', [{ sku: 'shampoo-400', qty: 3 }], { collectBy: T0 + 90 * MIN }));
    r.send(order('o-done', [{ sku: 'chips-150', qty: 1 }], { collectBy: T0 + HOUR }));
    r.orders.picked('o-picked', { lines: [{ sku: 'shampoo-400', qty: 3 }], actor: 'staff' });
    r.orders.picked('o-done', { lines: [{ sku: 'chips-150', qty: 1 }], actor: 'staff' });
    r.orders.collected('o-done', { actor: 'staff' });

    r.clock.advance(HOUR - 1);
    expect(r.orders.order('o-open').state).toBe('open');
    r.clock.advance(1);
    expect(r.orders.order('o-open')).toMatchObject({ state: 'expired', closedAt: T0 + HOUR, alertId: expect.stringMatching(/^al-\d+$/) });
    const expiredAlerts = () => r.busAlerts.filter((a) => a.kind === ORDER_EXPIRED_ALERT_KIND);
    expect(expiredAlerts().map((a) => [a.details.orderId, a.state])).toEqual([['o-open', 'open']]);
    expect(expiredAlerts()[0]!.message).toContain('reservation of 10 units is released');
    // Released: the whole shelf is free again.
    r.send(order('o-next', [{ sku: 'cola-330', qty: 12 }], { collectBy: T0 + 5 * HOUR }));
    expect(lineFigures(r, 'o-next')[0]).toMatchObject({ reserved: 12, short: 0 });

    r.clock.advance(30 * MIN);
    expect(r.orders.order('o-picked').state).toBe('expired');
    expect(r.inventory.alerts({ kind: ORDER_EXPIRED_ALERT_KIND }).map((a) => a.message)).toEqual([
      expect.stringContaining('put its 3 picked units back on the shelf'),
      expect.stringContaining('not picked or collected'),
    ]);
    expect(r.orders.order('o-done').state).toBe('collected');
    expect(codeOf(() => r.orders.collected('o-picked', { actor: 'staff' }))).toBe('EDGE_ERR_ORDER_STATE');
    expect(codeOf(() => r.orders.cancel('o-open', { actor: 'staff' }))).toBe('EDGE_ERR_ORDER_STATE');
    expect(r.outbox('orders').filter((e) => e.type === 'order.expired').map((e) => e.payload)).toEqual([
      { orderId: 'o-open', from: 'open', collectBy: T0 + HOUR, released: 10, unitsToReturn: 0, alertId: r.orders.order('o-open').alertId, at: T0 + HOUR },
      { orderId: 'o-picked', from: 'picked', collectBy: T0 + 90 * MIN, released: 0, unitsToReturn: 3, alertId: r.orders.order('o-picked').alertId, at: T0 + 90 * MIN },
    ]);
    expect(r.outbox('inventory').filter((e) => e.type === 'inventory.alert.raised' && e.payload.kind === ORDER_EXPIRED_ALERT_KIND)).toHaveLength(2);
  });

  it('waits past the longest timer for a collectBy days ahead', () => {
    const r = rig();
    r.send(order('o-1', [{ sku: 'cola-330', qty: 1 }], { collectBy: T0 + 30 * 24 * HOUR }));
    r.clock.advance(30 * 24 * HOUR - 1);
    expect(r.orders.order('o-1').state).toBe('open');
    r.clock.advance(1);
    expect(r.orders.order('o-1').state).toBe('expired');
  });
});

describe('restart', () => {
  it('after kill -9 every order is as the ledger says, expiry is re-armed, and a replay rebuilds the read model exactly', () => {
    const r = rig();
    const [message] = orderDocument(order('o-1', [{ sku: 'cola-330', qty: 4 }], { collectBy: T0 + HOUR }));
    expect(r.applier.accept(message!).status).toBe('applied');
    r.send(order('o-2', [{ sku: 'cola-330', qty: 10 }, { sku: 'chips-150', qty: 2 }], { collectBy: T0 + 2 * HOUR }));
    r.orders.picked('o-2', { lines: [{ sku: 'cola-330', qty: 8 }, { sku: 'chips-150', qty: 2 }], actor: 'staff' });
    r.send(order('o-3', [{ sku: 'soap-tag', qty: 1 }], { collectBy: T0 + 3 * HOUR }));
    r.orders.cancel('o-3', { actor: 'staff' });
    const before = r.orders.list({ state: 'all' });
    const snapshot = ordersSnapshot(r.ledger);

    const r2 = r.restart(); // the first connection is never closed: the process died
    rigs.push(r2);
    expect(r2.orders.list({ state: 'all' })).toEqual(before);
    expect(r2.orders.order('o-1').pickList![0]).toMatchObject({ sku: 'cola-330', reserved: 4, toTake: 4 });
    // The same document again is a duplicate, not a second order.
    expect(r2.applier.accept(message!)).toMatchObject({ status: 'duplicate' });
    // The reservation holds across the restart: 12 − 4 = 8.
    r2.send(order('o-4', [{ sku: 'cola-330', qty: 12 }], { collectBy: T0 + 4 * HOUR }));
    expect(lineFigures(r2, 'o-4')[0]).toMatchObject({ reserved: 8, short: 4 });

    // The timer armed at start expires the orders in order.
    r2.clock.advance(HOUR);
    expect(r2.orders.order('o-1').state).toBe('expired');
    r2.clock.advance(HOUR);
    expect(r2.orders.order('o-2').state).toBe('expired');
    expect(r2.outbox('orders').filter((e) => e.type === 'order.expired').map((e) => e.payload.orderId)).toEqual(['o-1', 'o-2']);

    // Damage the read model; a replay puts it back from the events.
    const full = ordersSnapshot(r2.ledger);
    expect(full.orders).not.toEqual(snapshot.orders);
    r2.ledger.db.exec("DELETE FROM order_lines; UPDATE orders SET state = 'open', note = 'x'");
    r2.ledger.replay();
    expect(ordersSnapshot(r2.ledger)).toEqual(full);
  });

  it('orders whose collectBy passed while the agent was down expire at start', () => {
    const r = rig();
    r.send(order('o-1', [{ sku: 'cola-330', qty: 4 }], { collectBy: T0 + HOUR }));
    r.orders.stop(); // down …
    r.clock.advance(3 * HOUR); // … for three hours (no timer runs)
    expect(r.orders.order('o-1').state).toBe('open');
    const r2 = r.restart();
    rigs.push(r2);
    expect(r2.orders.order('o-1')).toMatchObject({ state: 'expired', closedAt: T0 + 3 * HOUR });
    expect(r2.busAlerts.filter((a) => a.kind === ORDER_EXPIRED_ALERT_KIND).map((a) => a.details.orderId)).toEqual(['o-1']);
  });
});
