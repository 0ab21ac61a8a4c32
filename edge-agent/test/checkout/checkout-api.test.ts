import { afterEach, describe, expect, it } from 'vitest';
import { counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';
import { checkoutModelInput, ENTRY, EXIT, gateScan, Scene, skuChange, standAt, T0 } from './checkout-fixture.ts';

type Json = Record<string, any>;

const TOKENS = ['tok-alice-secret-0001', 'tok-bob-secret-00002'];

describe('checkout HTTP API (real agent, real SQLite)', () => {
  let t: TestAgent;
  afterEach(async () => t?.close());

  it('serves sessions, the review queue, receipts and corrections — and never a token', async () => {
    t = await startTestAgent({ store: { model: checkoutModelInput, checkout: { promotions: [{ id: 'cola-2-for-2', kind: 'multi-buy', sku: 'cola', buy: 2, payMinor: 200 }] } } });
    const bodies: string[] = [];
    const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Json }> => {
      const res = await fetch(`${t.agent.httpUrl}${path}`, {
        method,
        headers: { authorization: t.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      bodies.push(text);
      return { status: res.status, json: JSON.parse(text) as Json };
    };
    const bus = t.agent.bus;
    const scene = new Scene((e) => bus.emit('tracker.tracks', e), T0);
    const enter = (token: string, trackId: string) => {
      bus.emit('gate.scan', gateScan('gate-in', 'entry', token, scene.t));
      scene.put(trackId, ENTRY.x, ENTRY.y).advance(100);
    };
    const shop = (trackId: string, trayId: string, id: string, sku: string, units: number, confidence = 0.97) => {
      scene.walk({ [trackId]: standAt(trayId) });
      bus.emit('shelf.change', skuChange(id, trayId, sku, units, scene.reach(trackId, trayId), confidence));
    };
    const leave = (trackId: string) => {
      scene.walk({ [trackId]: EXIT });
      scene.drop(trackId).advance(2_500);
    };

    expect(await call('GET', '/api/sessions')).toEqual({ status: 200, json: { sessions: [] } });
    expect(await call('GET', '/api/receipts')).toEqual({ status: 200, json: { receipts: [] } });
    expect(await call('GET', '/api/review')).toEqual({ status: 200, json: { items: [] } });

    // Alice takes two colas and, with weak evidence, chips; Bob takes water and leaves.
    enter(TOKENS[0]!, 'a');
    shop('a', 't1', 'c1', 'cola', -2);
    shop('a', 't2', 'c2', 'chips', -1, 0.5);
    scene.walk({ a: { x: 3, y: 2 } });
    enter(TOKENS[1]!, 'b');
    shop('b', 't3', 'c3', 'water', -1);
    leave('b');

    const all = await call('GET', '/api/sessions');
    expect(all.status).toBe(200);
    expect(all.json.sessions.map((s: Json) => s.state)).toEqual(['open', 'closed']);
    const [alice, bob] = all.json.sessions as Json[];
    expect(alice).toMatchObject({ party: 1, persons: 1, cart: [{ sku: 'cola', quantity: 2 }], receiptId: null, exitAt: null });
    expect(alice!.openReviews).toHaveLength(1);
    expect(Object.keys(alice!).sort()).toEqual(['cart', 'exitAt', 'id', 'lines', 'openReviews', 'openedAt', 'party', 'persons', 'receiptId', 'state']);
    expect((await call('GET', '/api/sessions?state=open')).json.sessions.map((s: Json) => s.id)).toEqual([alice!.id]);
    expect((await call('GET', '/api/sessions?state=closed')).json.sessions.map((s: Json) => s.id)).toEqual([bob!.id]);
    expect((await call('GET', '/api/sessions?limit=1')).json.sessions.map((s: Json) => s.id)).toEqual([bob!.id]);
    expect((await call('GET', '/api/sessions?state=gone')).json.error).toMatchObject({ code: 'EDGE_ERR_BAD_REQUEST', message: expect.stringContaining('query.state') });

    const one = await call('GET', `/api/sessions/${alice!.id}`);
    expect(one).toEqual({ status: 200, json: alice });
    expect(one.json.lines).toEqual([expect.objectContaining({ changeId: 'c1', trayId: 't1', sku: 'cola', quantity: 2, confidence: 0.97, reason: 'pick' })]);
    expect(await call('GET', '/api/sessions/s-0000000000000000')).toMatchObject({ status: 404, json: { error: { code: 'EDGE_ERR_CHECKOUT_NOT_FOUND' } } });

    // Bob's receipt.
    const receipts = (await call('GET', '/api/receipts')).json.receipts as Json[];
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({ sessionId: bob!.id, lines: [{ sku: 'water', quantity: 1, amountMinor: 89 }], totalMinor: 89, currency: 'EUR', reviewed: false, corrections: [] });
    await eventually(async () => (await call('GET', `/api/receipts/${receipts[0]!.receiptId}`)).json.payment.status === 'approved', 'bob paid');
    expect(await call('GET', '/api/receipts/rc-0000')).toMatchObject({ status: 404, json: { error: { code: 'EDGE_ERR_CHECKOUT_NOT_FOUND' } } });

    // The review queue: Alice's chips.
    const open = (await call('GET', '/api/review?state=open')).json.items as Json[];
    expect(open).toEqual([
      expect.objectContaining({ state: 'open', changeId: 'c2', trayId: 't2', reason: 'pick', sessionIds: [alice!.id], proposal: [{ sessionId: alice!.id, sku: 'chips', quantity: 1 }], confidence: 0.5, resolution: null }),
    ]);
    expect((await call('GET', '/api/review?state=resolved')).json.items).toEqual([]);
    expect((await call('GET', '/api/review?state=stale')).status).toBe(400);

    leave('a');
    expect((await call('GET', `/api/sessions/${alice!.id}`)).json.state).toBe('in-review');

    const reviewId = open[0]!.id as string;
    const bad = await call('POST', `/api/review/${reviewId}/resolve`, { lines: 'maybe' });
    expect(bad).toMatchObject({ status: 400, json: { error: { code: 'EDGE_ERR_BAD_REQUEST', message: expect.stringContaining('body.lines') } } });
    expect((await call('POST', `/api/review/${reviewId}/resolve`, { lines: [{ sessionId: alice!.id, sku: 'chips', quantity: 1 }], extra: 1 })).status).toBe(400);
    expect((await call('POST', `/api/review/${reviewId}/resolve`, { lines: [{ sessionId: bob!.id, sku: 'chips', quantity: 1 }] })).status).toBe(400); // not a candidate
    expect(await call('POST', '/api/review/r-000000000000/resolve', { lines: 'accept' })).toMatchObject({ status: 404, json: { error: { code: 'EDGE_ERR_CHECKOUT_NOT_FOUND' } } });
    expect((await call('GET', `/api/review?state=open`)).json.items).toHaveLength(1);

    const resolved = await call('POST', `/api/review/${reviewId}/resolve`, { lines: 'accept' });
    expect(resolved).toMatchObject({ status: 200, json: { id: reviewId, state: 'resolved', resolution: { reviewId, actor: 'test', lines: [{ sessionId: alice!.id, sku: 'chips', quantity: 1 }] } } });
    const again = await call('POST', `/api/review/${reviewId}/resolve`, { lines: [] });
    expect(again).toMatchObject({ status: 409, json: { error: { code: 'EDGE_ERR_CHECKOUT_REVIEW_CLOSED' } } });

    // Alice's receipt now: 2 colas at 2-for-2.00 and the chips.
    const afterReview = (await call('GET', `/api/sessions/${alice!.id}`)).json;
    expect(afterReview).toMatchObject({ state: 'closed', openReviews: [] });
    const receipt = (await call('GET', `/api/receipts/${afterReview.receiptId}`)).json;
    expect(receipt).toMatchObject({
      sessionId: alice!.id,
      lines: [
        { sku: 'chips', quantity: 1, unitPriceMinor: 199, amountMinor: 199 },
        { sku: 'cola', quantity: 2, unitPriceMinor: 129, amountMinor: 258 },
      ],
      subtotalMinor: 457,
      discountMinor: 58,
      totalMinor: 399,
      reviewed: true,
    });
    expect((await call('GET', '/api/receipts')).json.receipts.map((r: Json) => r.sessionId)).toEqual([bob!.id, alice!.id]);

    // A correction: a refund line, the receipt's own lines untouched.
    const corrected = await call('POST', `/api/receipts/${receipt.receiptId}/corrections`, { lines: [{ sku: 'chips', quantity: 1 }], reason: 'stale chips' });
    expect(corrected.status).toBe(200);
    expect(corrected.json.lines).toEqual(receipt.lines);
    expect(corrected.json.totalMinor).toBe(399);
    expect(corrected.json.corrections).toEqual([
      {
        receiptId: receipt.receiptId,
        correctionId: 'c-1',
        lines: [{ sku: 'chips', quantity: 1, amountMinor: 199 }],
        amountMinor: 199,
        reason: 'stale chips',
        actor: 'test',
        at: expect.any(Number),
        refund: expect.objectContaining({ status: expect.any(String) }),
      },
    ]);
    expect((await call('GET', `/api/receipts/${receipt.receiptId}`)).json.corrections).toHaveLength(1);
    const over = await call('POST', `/api/receipts/${receipt.receiptId}/corrections`, { lines: [{ sku: 'chips', quantity: 1 }], reason: 'again' });
    expect(over).toMatchObject({ status: 400, json: { error: { code: 'EDGE_ERR_BAD_REQUEST' } } });
    expect((await call('POST', `/api/receipts/${receipt.receiptId}/corrections`, { lines: [{ sku: 'cola', quantity: 0 }], reason: 'x' })).status).toBe(400);
    expect((await call('POST', `/api/receipts/${receipt.receiptId}/corrections`, { lines: [], reason: 'x' })).status).toBe(400);
    expect((await call('POST', '/api/receipts/rc-0000/corrections', { lines: [{ sku: 'cola', quantity: 1 }], reason: 'x' })).status).toBe(404);
    expect((await call('GET', `/api/receipts/${receipt.receiptId}`)).json.corrections).toHaveLength(1);
    expect(t.agent.ledger.events({ type: 'checkout.receipt.corrected' })).toHaveLength(1);

    // Device-side rejects are metrics, not HTTP.
    bus.emit('gate.scan', gateScan('gate-in', 'entry', TOKENS[0]!, scene.t));
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_CHECKOUT_TOKEN_REPLAYED' })).toBe(1);
    expect((await call('GET', '/api/sessions')).json.sessions).toHaveLength(2);

    // No response carried a token (the agent's other read endpoints included).
    for (const path of ['/api/health', '/api/devices', '/metrics', '/']) {
      const res = await fetch(`${t.agent.httpUrl}${path}`, { headers: { authorization: t.authorization } });
      expect(res.status).toBe(200);
      bodies.push(await res.text());
    }
    expect(bodies.length).toBeGreaterThan(30);
    for (const body of bodies) for (const token of TOKENS) expect(body).not.toContain(token);
  });

  it('staff restocking a tray beside a shopper (declared through the API) is not the shopper\'s put-back', async () => {
    // The inventory books the arriving units against the declared restock before the checkout sees the change: the
    // checkout asks the inventory how it booked the change, not only what is still pending.
    t = await startTestAgent({ store: { model: checkoutModelInput } });
    const bus = t.agent.bus;
    const scene = new Scene((e) => bus.emit('tracker.tracks', e), T0);
    bus.emit('gate.scan', gateScan('gate-in', 'entry', TOKENS[0]!, scene.t));
    scene.put('a', ENTRY.x, ENTRY.y).advance(100);
    scene.walk({ a: standAt('t1') });
    bus.emit('shelf.change', skuChange('c1', 't1', 'cola', -1, scene.reach('a', 't1')));
    const declared = await fetch(`${t.agent.httpUrl}/api/stock/restock`, {
      method: 'POST',
      headers: { authorization: t.authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ trayId: 't1', sku: 'cola', quantity: 4 }),
    });
    expect(declared.status).toBe(200);
    // The shopper's hand is at the tray again as the staff's four colas land.
    bus.emit('shelf.change', skuChange('r1', 't1', 'cola', 4, scene.reach('a', 't1')));
    expect(t.agent.ledger.events({ type: 'inventory.shelf.changed' }).map((e) => (e.payload as { outcome: string }).outcome)).toEqual(['pick', 'restock']);
    expect(t.agent.checkout.reviews()).toEqual([]);
    const [session] = t.agent.checkout.sessions();
    expect(session!.cart).toEqual([{ sku: 'cola', quantity: 1 }]);
  });
});
