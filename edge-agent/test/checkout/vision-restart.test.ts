import { afterEach, describe, expect, it } from 'vitest';
import { checkoutEventTypes } from '../../src/checkout/ledger-events.ts';
import type { VisionEvidenceSource } from '../../src/checkout/vision-evidence.ts';
import { ENTRY, EXIT, checkoutRig, gateScan, misplacedChange, skuChange, standAt, tray, type CheckoutRig } from './checkout-fixture.ts';

/**
 * A shelf change the checkout cannot decide by weight waits for the shelf camera. If the agent
 * dies (kill -9) in that wait, the inventory has the change but no cart has it: on restart the
 * change must go to review for the visits whose hands were near the tray — never lost, never guessed.
 */

/** A camera that is up but never answers: the process "dies" while the checkout waits for it. */
const silentCamera: VisionEvidenceSource = { available: () => true, identify: () => new Promise(() => {}) };

const rigs: CheckoutRig[] = [];
afterEach(() => {
  for (const r of rigs.splice(0)) r.close();
});

describe('CheckoutService: a change waiting for the camera survives a restart', () => {
  it('goes to review for the visit at the tray, once, and holds its receipt until a manager decides', async () => {
    let r = checkoutRig({ vision: silentCamera });
    rigs.push(r);
    r.bus.emit('gate.scan', gateScan('gate-in', 'entry', 'tok-alice-000001', r.scene.t));
    const session = r.service.sessions()[0]!.id;
    r.scene.put('a', ENTRY.x, ENTRY.y).advance(100);

    // A cola taken from its own tray: told by weight, decided at once.
    r.scene.walk({ a: standAt('t1') });
    r.bus.emit('shelf.change', skuChange('c1', 't1', 'cola', -1, r.scene.reach('a', 't1')));
    expect(r.service.session(session).cart).toEqual([{ sku: 'cola', quantity: 1 }]);

    // 350 g put on the water tray: a unit on a wrong tray, so the checkout asks the camera what it was.
    r.scene.walk({ a: standAt('t3') });
    const p = tray('t3');
    const body = r.scene.tracks.get('a')!;
    for (let k = 1; k <= 10; k++) {
      // The hand comes in from the body to the tray's front edge over a second.
      const f = k / 10;
      body.hands = [{ x: p.x, y: body.y + (p.y - body.y) * f, z: 0.9 + (p.z - 0.9) * f }];
      r.scene.advance(100);
    }
    const put = r.scene.reach('a', 't3');
    r.bus.emit('shelf.change', misplacedChange('c3', 't3', 350.4, put));
    const deferred = r.ledger.events({ stream: 'checkout', type: checkoutEventTypes.changeDeferred });
    expect(deferred.map((e) => e.payload)).toMatchObject([{ changeId: 'c3', sessionIds: [session] }]);
    expect(r.service.session(session).lines.map((l) => l.changeId)).toEqual(['c1']);

    // kill -9 while the camera has not answered, and restart on the same ledger.
    r = r.restart();
    rigs.push(r);
    const reviews = r.service.reviews({ state: 'open' });
    expect(reviews).toHaveLength(1);
    expect(reviews[0]).toMatchObject({ changeId: 'c3', trayId: 't3', reason: 'decision-interrupted', sessionIds: [session], proposal: [] });
    expect(r.ledger.events({ stream: 'checkout', type: checkoutEventTypes.changeDecided }).map((e) => (e.payload as { changeId: string }).changeId)).toEqual(['c3']);
    expect(r.service.session(session).cart).toEqual([{ sku: 'cola', quantity: 1 }]);

    // A second restart does not open it again.
    r = r.restart();
    rigs.push(r);
    expect(r.service.reviews()).toHaveLength(1);

    // The shopper leaves: no receipt while the review is open; the manager's decision issues it.
    r.scene.put('a', standAt('t3').x, standAt('t3').y);
    r.scene.walk({ a: EXIT });
    r.bus.emit('gate.scan', gateScan('gate-out', 'exit', 'tok-alice-000001', r.scene.t));
    r.scene.drop('a').advance(10_000);
    expect(r.service.receipts()).toEqual([]);
    r.service.resolveReview(reviews[0]!.id, { lines: [{ sessionId: session, sku: 'cola', quantity: -1 }], actor: 'manager-1' });
    r.scene.advance(2_000);
    const receipts = r.service.receipts();
    expect(receipts).toHaveLength(1);
    expect(receipts[0]!.lines).toEqual([]);
  });
});
