import { describe, expect, it } from 'vitest';
import { evaluateCheckout, type CheckoutOutcome } from '../../src/checkout/evaluation.ts';
import { cartsFromActions, type CheckoutCase, type CheckoutTruth, type TrueShelfAction, type TrueVisit } from '../../src/checkout/truth.ts';

/** Device time = simulated time + epoch. */
const E = 1_700_000_000_000;
const catalog = [
  { sku: 'A', priceMinor: 250 },
  { sku: 'B', priceMinor: 100 },
  { sku: 'C', priceMinor: 399 },
  { sku: 'D', priceMinor: 120 },
  { sku: 'F', priceMinor: 80 },
];
const price = new Map(catalog.map((c) => [c.sku, c.priceMinor]));

type Receipt = CheckoutOutcome['receipts'][number];

function visit(token: string, exitAt = 60_000): TrueVisit {
  return { token, party: 1, persons: [`${token}-p`], enterAt: 0, exitAt };
}

let n = 0;
function act(
  kind: TrueShelfAction['kind'],
  chargedTo: string,
  sku: string,
  startAt: number,
  more: { units?: number; endAt?: number; crowding?: number; cases?: CheckoutCase[] } = {},
): TrueShelfAction {
  const units = more.units ?? 1;
  return {
    n: ++n,
    kind,
    person: `${chargedTo}-p`,
    chargedTo,
    trayId: `tray-${sku}`,
    sku,
    units,
    deltaG: kind === 'pick' ? -100 * units : 100 * units,
    startAt,
    endAt: more.endAt ?? startAt + 1_000,
    cases: more.cases ?? ['single'],
    crowding: more.crowding ?? 0,
  };
}

function truthOf(visits: TrueVisit[], actions: TrueShelfAction[]): CheckoutTruth {
  return { visits, actions, handOffs: [], carts: cartsFromActions(visits, actions) };
}

function receipt(token: string, lines: Array<[string, number]>, more: Partial<Receipt> = {}): Receipt {
  return {
    token,
    lines: lines.map(([sku, quantity]) => ({ sku, quantity })),
    totalMinor: lines.reduce((sum, [sku, q]) => sum + q * (price.get(sku) ?? 0), 0),
    issuedAt: E + 65_000,
    reviewed: false,
    minConfidence: 1,
    ...more,
  };
}

/**
 * v1 picks 2 A (crowding 0, multi-unit) and 1 B (crowding 1, single + hand-off);
 * v2 picks 1 C (crowding 5, single) and picks then puts back 1 A (put-back).
 * Truth: v1 {A: 2, B: 1}, v2 {C: 1}.
 */
function base(extraVisits: TrueVisit[] = []): CheckoutTruth {
  return truthOf(
    [visit('v1', 60_000), visit('v2', 90_000), ...extraVisits],
    [
      act('pick', 'v1', 'A', 1_000, { units: 2, endAt: 2_000, cases: ['multi-unit'] }),
      act('pick', 'v1', 'B', 5_000, { endAt: 6_000, crowding: 1, cases: ['single', 'hand-off'] }),
      act('pick', 'v2', 'C', 7_000, { endAt: 8_000, crowding: 5 }),
      act('pick', 'v2', 'A', 10_000, { endAt: 11_000, cases: ['put-back'] }),
      act('put-back', 'v2', 'A', 20_000, { endAt: 21_000, cases: ['put-back'] }),
    ],
  );
}

const v1Right = receipt('v1', [['A', 2], ['B', 1]], { issuedAt: E + 64_000, minConfidence: 0.85 });
const v2Right = receipt('v2', [['C', 1]], { issuedAt: E + 100_000, minConfidence: 0.97 });
const baseCartEvents: CheckoutOutcome['cartEvents'] = [
  { token: 'v1', sku: 'A', quantity: 2, addedAt: E + 2_500 }, // 500 ms after the hand left
  { token: 'v1', sku: 'B', quantity: 1, addedAt: E + 6_200 }, // 200
  { token: 'v2', sku: 'C', quantity: 1, addedAt: E + 8_000 }, // 0
  { token: 'v2', sku: 'A', quantity: 1, addedAt: E + 11_300 }, // 300
  { token: 'v2', sku: 'A', quantity: -1, addedAt: E + 21_500 }, // removal: never matched to a pick
];
const opts = { epochMs: E, catalog };

describe('evaluateCheckout', () => {
  it('scores a perfect outcome 1 everywhere with no money error', () => {
    const r = evaluateCheckout(base(), { receipts: [v1Right, v2Right], cartEvents: baseCartEvents }, opts);
    expect(r.visits).toBe(2);
    expect(r.receipts).toEqual({
      exactMatchRate: 1,
      overcharge: 0,
      undercharge: 0,
      overchargedVisits: 0,
      underchargedVisits: 0,
      missing: 0,
      wrong: 0,
      duplicates: 0,
      unknownTokens: 0,
      totalMismatches: 0,
    });
    expect(r.items).toEqual({ precision: 1, recall: 1, f1: 1, tp: 4, fp: 0, fn: 0 });
    expect(r.attribution.byCrowding).toEqual({ '0': 1, '1': 1, '2': null, '3+': 1 });
    expect(r.attribution.units).toEqual({ '0': 2, '1': 1, '2': 0, '3+': 1 });
    expect(r.cases['multi-unit']).toEqual({ units: 2, precision: 1, recall: 1, f1: 1 });
    expect(r.cases.single).toEqual({ units: 2, precision: 1, recall: 1, f1: 1 });
    expect(r.cases['hand-off']).toEqual({ units: 1, precision: 1, recall: 1, f1: 1 });
    // The put-back cancels its pick; the put-back unit itself is the case's unit.
    expect(r.cases['put-back']).toEqual({ units: 1, precision: 1, recall: 1, f1: 1 });
    expect(r.cases.crowded).toEqual({ units: 0, precision: 1, recall: 1, f1: 1 });
    expect(r.review.rate).toBe(0);
    expect(r.review.unreviewedErrorRate).toBe(0);
    expect(r.review.reviewed).toBe(0);
    // Latencies 0, 200, 300, 500: nearest rank p50 = 2nd, p95 = p99 = 4th.
    expect(r.latency.pickToCartMs).toMatchObject({ p50: 200, p95: 500, p99: 500, n: 4 });
    // …and per 100 ms bin, so runs can be pooled: [0, 100) 1, [200, 300) 1, [300, 400) 1, [500, 600) 1.
    expect(r.latency.pickToCartMs.histogram).toEqual([1, 0, 1, 1, 0, 1]);
    // v1 exits at 60 000 and gets its receipt at 64 000; v2 at 90 000 and 100 000.
    expect(r.latency.exitToReceiptMs).toMatchObject({ p50: 4_000, p95: 10_000, p99: 10_000, n: 2 });
    expect(r.errors).toEqual([]);
    expect(r.unpricedSkus).toEqual([]);
  });

  it('counts a missing receipt as missing, undercharged and a false negative; an empty visit without receipt is exact', () => {
    const r = evaluateCheckout(base([visit('v3')]), { receipts: [v1Right], cartEvents: baseCartEvents }, opts);
    expect(r.visits).toBe(3);
    expect(r.receipts).toMatchObject({ exactMatchRate: 0.6667, missing: 2, wrong: 0, overcharge: 0, undercharge: 3.99, overchargedVisits: 0, underchargedVisits: 1 });
    // TP 3, FN 1 (C): recall 3/4, F1 = 2·0.75/1.75.
    expect(r.items).toEqual({ precision: 1, recall: 0.75, f1: 0.8571, tp: 3, fp: 0, fn: 1 });
    // C (crowding 5) was charged to nobody: a miss, not a misattribution.
    expect(r.attribution.byCrowding).toEqual({ '0': 1, '1': 1, '2': null, '3+': null });
    expect(r.cases.single).toEqual({ units: 2, precision: 1, recall: 0.5, f1: 0.6667 });
    expect(r.review.unreviewedErrorRate).toBe(0.3333);
    expect(r.latency.exitToReceiptMs).toMatchObject({ p50: 4_000, p95: 4_000, p99: 4_000, n: 1 });
    expect(r.errors).toEqual([{ token: 'v2', missing: true, reviewed: false, truth: [{ sku: 'C', quantity: 1 }], charged: [] }]);
  });

  it('lists every wrong visit with both carts, however many (a crowded run has two dozen)', () => {
    const tokens = Array.from({ length: 14 }, (_, i) => `w${i + 1}`);
    const truth = truthOf(tokens.map((t) => visit(t)), tokens.map((t, i) => act('pick', t, 'B', 1_000 + i)));
    const r = evaluateCheckout(truth, { receipts: tokens.map((t) => receipt(t, [['D', 1]])), cartEvents: [] }, opts);
    expect(r.receipts.wrong).toBe(14);
    expect(r.errors.map((e) => e.token)).toEqual(tokens);
    expect(r.errors[13]).toEqual({ token: 'w14', missing: false, reviewed: false, truth: [{ sku: 'B', quantity: 1 }], charged: [{ sku: 'D', quantity: 1 }] });
  });

  it('counts a put-back still charged as overcharge, a false positive and a put-back case error, not an attribution error', () => {
    const v2Over = receipt('v2', [['C', 1], ['A', 1]], { issuedAt: E + 100_000 });
    const r = evaluateCheckout(base(), { receipts: [v1Right, v2Over], cartEvents: baseCartEvents }, opts);
    expect(r.receipts).toMatchObject({ exactMatchRate: 0.5, missing: 0, wrong: 1, overcharge: 2.5, undercharge: 0, overchargedVisits: 1, underchargedVisits: 0 });
    // TP 4, FP 1: precision 0.8, F1 = 1.6/1.8.
    expect(r.items).toEqual({ precision: 0.8, recall: 1, f1: 0.8889, tp: 4, fp: 1, fn: 0 });
    expect(r.attribution.byCrowding).toEqual({ '0': 1, '1': 1, '2': null, '3+': 1 });
    expect(r.cases['put-back']).toEqual({ units: 1, precision: 0, recall: 1, f1: 0 });
    expect(r.cases['multi-unit']).toEqual({ units: 2, precision: 1, recall: 1, f1: 1 });
    expect(r.errors).toEqual([
      { token: 'v2', missing: false, reviewed: false, truth: [{ sku: 'C', quantity: 1 }], charged: [{ sku: 'A', quantity: 1 }, { sku: 'C', quantity: 1 }] },
    ]);
  });

  it('a unit charged to the wrong visit hurts precision, recall, money both ways and the attribution of its crowding bucket', () => {
    const v1Short = receipt('v1', [['A', 2]]);
    const v2Extra = receipt('v2', [['B', 1], ['C', 1]]);
    const r = evaluateCheckout(base(), { receipts: [v1Short, v2Extra], cartEvents: [] }, opts);
    expect(r.receipts).toMatchObject({ exactMatchRate: 0, wrong: 2, overcharge: 1, undercharge: 1, overchargedVisits: 1, underchargedVisits: 1 });
    expect(r.items).toEqual({ precision: 0.75, recall: 0.75, f1: 0.75, tp: 3, fp: 1, fn: 1 });
    // B was picked at crowding 1: bucket 1 has TP 0 and 1 misattributed unit.
    expect(r.attribution.byCrowding).toEqual({ '0': 1, '1': 0, '2': null, '3+': 1 });
    // single: C right (TP), B missed (FN) and charged elsewhere (FP).
    expect(r.cases.single).toEqual({ units: 2, precision: 0.5, recall: 0.5, f1: 0.5 });
    expect(r.cases['hand-off']).toEqual({ units: 1, precision: 0, recall: 0, f1: 0 });
    expect(r.cases['multi-unit']).toEqual({ units: 2, precision: 1, recall: 1, f1: 1 });
    expect(r.latency.pickToCartMs).toMatchObject({ p50: null, p95: null, p99: null, n: 0 });
  });

  it('uses the first receipt of a token, counts duplicates, unknown tokens and wrong totals', () => {
    const stray = receipt('zz', [['B', 1]], { totalMinor: 999 });
    const r = evaluateCheckout(base(), { receipts: [v1Right, v2Right, receipt('v1', [['A', 5]]), stray], cartEvents: [] }, opts);
    expect(r.receipts).toMatchObject({ exactMatchRate: 1, duplicates: 1, unknownTokens: 1, totalMismatches: 1, overcharge: 1, overchargedVisits: 0, missing: 0, wrong: 0 });
    expect(r.items).toEqual({ precision: 0.8, recall: 1, f1: 0.8889, tp: 4, fp: 1, fn: 0 });
    expect(r.visits).toBe(2);

    // A wrong receipt first: it is the one that counts.
    const first = evaluateCheckout(base(), { receipts: [receipt('v1', [['A', 1]]), v1Right, v2Right], cartEvents: [] }, opts);
    expect(first.receipts).toMatchObject({ exactMatchRate: 0.5, duplicates: 1, wrong: 1, undercharge: 3.5, underchargedVisits: 1 });
    expect(first.items).toMatchObject({ tp: 2, fp: 0, fn: 2 });
  });

  it('drops a case F1 below 0.9 when put-backs are charged, and blames a multi-unit overcount on its case', () => {
    const visits = [visit('u1'), visit('u2'), visit('u3')];
    const actions: TrueShelfAction[] = [];
    for (const v of visits) {
      actions.push(act('pick', v.token, 'F', 1_000));
      actions.push(act('pick', v.token, 'D', 3_000, { cases: ['put-back'] }));
      if (v.token === 'u3') actions.push(act('misplace', v.token, 'D', 8_000, { cases: ['put-back', 'wrong-tray'] }));
      else actions.push(act('put-back', v.token, 'D', 8_000, { cases: ['put-back'] }));
    }
    actions.push(act('pick', 'u1', 'A', 12_000, { units: 3, crowding: 2, cases: ['multi-unit'] }));
    const truth = truthOf(visits, actions);
    expect(truth.carts.get('u1')).toEqual(new Map([['F', 1], ['A', 3]]));
    const r = evaluateCheckout(
      truth,
      { receipts: [receipt('u1', [['F', 1], ['A', 4]]), receipt('u2', [['F', 1]]), receipt('u3', [['F', 1], ['D', 1]])], cartEvents: [] },
      opts,
    );
    // TP: 3 F + 3 A; FP: 1 A (u1) + 1 D (u3).
    expect(r.items).toEqual({ precision: 0.75, recall: 1, f1: 0.8571, tp: 6, fp: 2, fn: 0 });
    expect(r.receipts).toMatchObject({ exactMatchRate: 0.3333, overcharge: 3.7, undercharge: 0, overchargedVisits: 2 });
    // 3 put-backs, u3's still charged: TP 2, FP 1 → P 2/3, R 1, F1 0.8.
    expect(r.cases['put-back']).toEqual({ units: 3, precision: 0.6667, recall: 1, f1: 0.8 });
    expect(r.cases['put-back'].f1).toBeLessThan(0.9);
    expect(r.cases['wrong-tray']).toEqual({ units: 1, precision: 0, recall: 1, f1: 0 });
    // Pick 3, charged 4: TP 3, FP 1.
    expect(r.cases['multi-unit']).toEqual({ units: 3, precision: 0.75, recall: 1, f1: 0.8571 });
    expect(r.cases.single).toEqual({ units: 3, precision: 1, recall: 1, f1: 1 });
    // An overcount is nobody else's unit: attribution stays 1.
    expect(r.attribution.byCrowding).toEqual({ '0': 1, '1': null, '2': 1, '3+': null });
    expect(r.attribution.units).toEqual({ '0': 3, '1': 0, '2': 3, '3+': 0 });
  });

  it('builds the review trade-off table from minConfidence and the unreviewed best guess', () => {
    const visits = [visit('w1'), visit('w2'), visit('w3'), visit('w4')];
    const truth = truthOf(visits, [act('pick', 'w1', 'A', 1_000), act('pick', 'w2', 'B', 1_000), act('pick', 'w3', 'C', 1_000), act('pick', 'w4', 'D', 1_000)]);
    const receipts = [
      receipt('w1', [['A', 1]], { minConfidence: 0.99, issuedAt: E + 61_000 }),
      // Reviewed and right; its best guess without review was wrong. Held: no issue time.
      receipt('w2', [['B', 1]], { minConfidence: 0.75, reviewed: true, unreviewedLines: [{ sku: 'F', quantity: 1 }], issuedAt: null }),
      receipt('w3', [['F', 1]], { minConfidence: 0.55, issuedAt: E + 62_000 }),
      receipt('w4', [['D', 1]], { minConfidence: 0.92, issuedAt: E + 63_000 }),
    ];
    const r = evaluateCheckout(truth, { receipts, cartEvents: [] }, opts);
    expect(r.receipts.exactMatchRate).toBe(0.75);
    expect(r.review.reviewed).toBe(1);
    expect(r.review.rate).toBe(0.25);
    expect(r.review.unreviewedErrorRate).toBe(0.3333); // w3 wrong among w1, w3, w4
    expect(r.review.tradeOff).toEqual([
      { threshold: 0, reviewRate: 0, unreviewedErrorRate: 0.5 }, // no manager: w2 (guess) and w3 wrong of 4
      { threshold: 0.5, reviewRate: 0, unreviewedErrorRate: 0.5 }, // the same: no receipt is below 0.5
      { threshold: 0.6, reviewRate: 0.25, unreviewedErrorRate: 0.3333 }, // w3 reviewed; w2 wrong of 3
      { threshold: 0.7, reviewRate: 0.25, unreviewedErrorRate: 0.3333 },
      { threshold: 0.8, reviewRate: 0.5, unreviewedErrorRate: 0 }, // w2, w3 reviewed
      { threshold: 0.9, reviewRate: 0.5, unreviewedErrorRate: 0 },
      { threshold: 0.95, reviewRate: 0.75, unreviewedErrorRate: 0 }, // w4 too
    ]);
    // Exit→receipt: reviewed w2 excluded; 1 000, 2 000, 3 000 ms.
    expect(r.latency.exitToReceiptMs).toMatchObject({ p50: 2_000, p95: 3_000, p99: 3_000, n: 3 });
    expect(r.errors.map((e) => e.token)).toEqual(['w3']);
  });

  describe('latency', () => {
    const skus = Array.from({ length: 22 }, (_, i) => `S${i + 1}`);
    const latencyCatalog = skus.map((sku) => ({ sku, priceMinor: 100 }));
    const truth = truthOf(
      [visit('L', 300_000)],
      skus.map((sku, i) => act('pick', 'L', sku, (i + 1) * 10_000, { endAt: (i + 1) * 10_000 + 500 })),
    );
    /** Device-time outcome for a given epoch. */
    const outcomeAt = (epoch: number): CheckoutOutcome => {
      const cartEvents: CheckoutOutcome['cartEvents'] = [];
      for (let i = 1; i <= 20; i++) cartEvents.push({ token: 'L', sku: `S${i}`, quantity: 1, addedAt: epoch + i * 10_000 + 500 + 100 * i });
      // Settled 300 ms before the hand was out (still after it reached the tray): clamped to 0.
      cartEvents.push({ token: 'L', sku: 'S21', quantity: 1, addedAt: epoch + 210_000 + 200 });
      // More than 1 s before the hand reached the tray: not this pick's addition.
      cartEvents.push({ token: 'L', sku: 'S22', quantity: 1, addedAt: epoch + 220_000 - 1_500 });
      return {
        receipts: [{ ...receipt('L', skus.map((s) => [s, 1])), totalMinor: 2_200, issuedAt: epoch + 312_345 }],
        cartEvents,
      };
    };

    it('reports nearest-rank percentiles of pick→cart (clamped at 0, unmatched picks excluded) and exit→receipt', () => {
      const r = evaluateCheckout(truth, outcomeAt(E), { epochMs: E, catalog: latencyCatalog });
      // Samples 0, 100, …, 2 000 (n = 21): p50 = 11th = 1 000, p95 = 20th = 1 900, p99 = 21st = 2 000.
      expect(r.latency.pickToCartMs).toMatchObject({ p50: 1_000, p95: 1_900, p99: 2_000, n: 21 });
      expect(r.latency.exitToReceiptMs).toMatchObject({ p50: 12_345, p95: 12_345, p99: 12_345, n: 1 });
      expect(r.receipts.totalMismatches).toBe(0);
    });

    it('compares device times with simulated times through the epoch', () => {
      const shifted = evaluateCheckout(truth, outcomeAt(E + 3_600_000), { epochMs: E + 3_600_000, catalog: latencyCatalog });
      expect(shifted.latency).toEqual(evaluateCheckout(truth, outcomeAt(E), { epochMs: E, catalog: latencyCatalog }).latency);
      // Forgetting the epoch makes every latency ~E ms.
      const wrong = evaluateCheckout(truth, outcomeAt(E), { epochMs: 0, catalog: latencyCatalog });
      expect(wrong.latency.pickToCartMs.p50!).toBeGreaterThan(E - 1);
      expect(wrong.latency.exitToReceiptMs.p50).toBe(E + 12_345);
    });

    it('matches repeated picks of one SKU to the earliest unused addition in time', () => {
      const twice = truthOf([visit('M')], [act('pick', 'M', 'A', 1_000, { endAt: 1_500 }), act('pick', 'M', 'A', 5_000, { endAt: 5_600 })]);
      const r = evaluateCheckout(
        twice,
        {
          receipts: [],
          cartEvents: [
            { token: 'M', sku: 'A', quantity: 1, addedAt: E + 5_500 },
            { token: 'M', sku: 'A', quantity: 0, addedAt: E + 1_600 },
            { token: 'M', sku: 'A', quantity: 1, addedAt: E + 1_800 },
          ],
        },
        opts,
      );
      // First pick → 1 800 (300 ms); second → 5 500 (100 ms early, clamped to 0).
      expect(r.latency.pickToCartMs).toMatchObject({ p50: 0, p95: 300, p99: 300, n: 2 });
    });
  });
});
