import { describe, expect, it } from 'vitest';
import {
  priceCart,
  promotionsSchema,
  type CartQuantity,
  type PriceBookItem,
  type Promotion,
} from '../../src/checkout/pricing.ts';

function book(prices: Record<string, number>, currency = 'EUR'): Map<string, PriceBookItem> {
  return new Map(Object.entries(prices).map(([sku, priceMinor]) => [sku, { sku, name: `Item ${sku}`, priceMinor, currency }]));
}

const prices = book({ a: 100, b: 80, c: 100, d: 100, cola: 129, mints: 99 });

describe('priceCart without promotions', () => {
  it('merges lines per SKU, sorts them by SKU and totals them', () => {
    const priced = priceCart(
      [
        { sku: 'mints', quantity: 1 },
        { sku: 'cola', quantity: 2 },
        { sku: 'mints', quantity: 2 },
      ],
      prices,
      [],
    );
    expect(priced).toEqual({
      currency: 'EUR',
      lines: [
        { sku: 'cola', name: 'Item cola', quantity: 2, unitPriceMinor: 129, amountMinor: 258 },
        { sku: 'mints', name: 'Item mints', quantity: 3, unitPriceMinor: 99, amountMinor: 297 },
      ],
      discounts: [],
      subtotalMinor: 555,
      discountMinor: 0,
      totalMinor: 555,
    });
  });

  it('prices an empty cart at zero', () => {
    expect(priceCart([], prices, [])).toMatchObject({ currency: '', lines: [], subtotalMinor: 0, totalMinor: 0 });
  });

  it('throws naming an unknown SKU', () => {
    expect(() => priceCart([{ sku: 'ghost-42', quantity: 1 }], prices, [])).toThrow(/ghost-42/);
  });

  it('throws on mixed currencies', () => {
    const mixed = new Map([...prices, ['usd-item', { sku: 'usd-item', name: 'Imported', priceMinor: 300, currency: 'USD' }]]);
    expect(() => priceCart([{ sku: 'a', quantity: 1 }, { sku: 'usd-item', quantity: 1 }], mixed, [])).toThrow(/currenc/);
  });

  it('throws on a quantity that is not a positive integer', () => {
    expect(() => priceCart([{ sku: 'a', quantity: 0 }], prices, [])).toThrow(/positive integer/);
    expect(() => priceCart([{ sku: 'a', quantity: 1.5 }], prices, [])).toThrow(/positive integer/);
  });
});

describe('multi-buy', () => {
  const threeFor250: Promotion = { id: 'mb', kind: 'multi-buy', sku: 'a', buy: 3, payMinor: 250 };

  it('prices every N units at the group price', () => {
    const priced = priceCart([{ sku: 'a', quantity: 3 }], prices, [threeFor250]);
    expect(priced.discounts).toEqual([{ promotionId: 'mb', description: '3 for 2.50 EUR', skus: ['a'], times: 1, amountMinor: 50 }]);
    expect(priced.totalMinor).toBe(250);
  });

  it('charges remaining units at full price', () => {
    const priced = priceCart([{ sku: 'a', quantity: 7 }], prices, [threeFor250]);
    expect(priced.discounts[0]).toMatchObject({ times: 2, amountMinor: 100 });
    expect(priced.totalMinor).toBe(2 * 250 + 100);
  });

  it('does not apply below the group size', () => {
    expect(priceCart([{ sku: 'a', quantity: 2 }], prices, [threeFor250]).discounts).toEqual([]);
  });

  it('is ignored when it would raise the price', () => {
    const threeFor500: Promotion = { id: 'mb', kind: 'multi-buy', sku: 'a', buy: 3, payMinor: 500 };
    const priced = priceCart([{ sku: 'a', quantity: 3 }], prices, [threeFor500]);
    expect(priced.discounts).toEqual([]);
    expect(priced.totalMinor).toBe(300);
  });

  it('formats currencies without minor digits', () => {
    const yen = book({ tea: 150 }, 'JPY');
    const priced = priceCart([{ sku: 'tea', quantity: 2 }], yen, [{ id: 'mb', kind: 'multi-buy', sku: 'tea', buy: 2, payMinor: 250 }]);
    expect(priced.discounts[0]?.description).toBe('2 for 250 JPY');
  });
});

describe('percentage', () => {
  it('takes the percentage off each unit, rounding half-up per unit', () => {
    // 15 % of 99 = 14.85 → 15; 15 % of 129 = 19.35 → 19.
    const promo: Promotion = { id: 'p15', kind: 'percentage', skus: ['mints', 'cola'], percent: 15, description: 'Spring sale' };
    const priced = priceCart([{ sku: 'mints', quantity: 2 }, { sku: 'cola', quantity: 1 }], prices, [promo]);
    expect(priced.discounts).toEqual([{ promotionId: 'p15', description: 'Spring sale', skus: ['cola', 'mints'], times: 3, amountMinor: 2 * 15 + 19 }]);
    expect(priced.totalMinor).toBe(2 * 99 + 129 - 49);
  });

  it('rounds an exact half up', () => {
    // 12.5 % of 100 = 12.5 → 13; 50 % of 99 = 49.5 → 50.
    expect(priceCart([{ sku: 'a', quantity: 1 }], prices, [{ id: 'p', kind: 'percentage', skus: ['a'], percent: 12.5 }]).discountMinor).toBe(13);
    expect(priceCart([{ sku: 'mints', quantity: 1 }], prices, [{ id: 'p', kind: 'percentage', skus: ['mints'], percent: 50 }]).discountMinor).toBe(50);
  });

  it('makes a unit free at 100 %', () => {
    expect(priceCart([{ sku: 'a', quantity: 2 }], prices, [{ id: 'p', kind: 'percentage', skus: ['a'], percent: 100 }]).totalMinor).toBe(0);
  });

  it('uses only the best percentage for a unit when several apply', () => {
    const promos: Promotion[] = [
      { id: 'p10', kind: 'percentage', skus: ['a'], percent: 10 },
      { id: 'p20', kind: 'percentage', skus: ['a'], percent: 20 },
    ];
    const priced = priceCart([{ sku: 'a', quantity: 2 }], prices, promos);
    expect(priced.discounts).toEqual([{ promotionId: 'p20', description: '20% off', skus: ['a'], times: 2, amountMinor: 40 }]);
  });
});

describe('bundle', () => {
  const meal: Promotion = { id: 'meal', kind: 'bundle', skus: ['a', 'b'], payMinor: 150 };

  it('prices one unit of each SKU together', () => {
    const priced = priceCart([{ sku: 'a', quantity: 1 }, { sku: 'b', quantity: 1 }], prices, [meal]);
    expect(priced.discounts).toEqual([{ promotionId: 'meal', description: 'Bundle: a + b for 1.50 EUR', skus: ['a', 'b'], times: 1, amountMinor: 30 }]);
    expect(priced.totalMinor).toBe(150);
  });

  it('applies once per complete set and charges the rest at full price', () => {
    const priced = priceCart([{ sku: 'a', quantity: 3 }, { sku: 'b', quantity: 2 }], prices, [meal]);
    expect(priced.discounts[0]).toMatchObject({ times: 2, amountMinor: 60 });
    expect(priced.totalMinor).toBe(2 * 150 + 100);
  });

  it('does not apply to an incomplete set', () => {
    expect(priceCart([{ sku: 'a', quantity: 2 }], prices, [meal]).discounts).toEqual([]);
  });
});

describe('validity windows', () => {
  const windowed: Promotion = { id: 'w', kind: 'percentage', skus: ['a'], percent: 10, validFrom: 1_000, validUntil: 2_000 };
  const discountAt = (at?: number) => priceCart([{ sku: 'a', quantity: 1 }], prices, [windowed], at === undefined ? {} : { at }).discountMinor;

  it('applies from validFrom (inclusive) until validUntil (exclusive)', () => {
    expect(discountAt(999)).toBe(0);
    expect(discountAt(1_000)).toBe(10);
    expect(discountAt(1_999)).toBe(10);
    expect(discountAt(2_000)).toBe(0);
  });

  it('ignores windows when no instant is given', () => {
    expect(discountAt()).toBe(10);
  });

  it('treats a missing bound as open', () => {
    const openEnded: Promotion = { id: 'o', kind: 'multi-buy', sku: 'a', buy: 2, payMinor: 150, validFrom: 1_000 };
    expect(priceCart([{ sku: 'a', quantity: 2 }], prices, [openEnded], { at: 10 ** 12 }).discountMinor).toBe(50);
  });
});

describe('conflicts between promotions', () => {
  it('finds the cheapest combination where greedy by saving would not', () => {
    // b+c saves most per unit (60), but taking it leaves a and d without partners.
    // a+b and c+d together save 200 instead of 120.
    const promos: Promotion[] = [
      { id: 'ab-pair', kind: 'bundle', skus: ['a', 'b'], payMinor: 80 },
      { id: 'bc-greedy-trap', kind: 'bundle', skus: ['b', 'c'], payMinor: 60 },
      { id: 'cd-pair', kind: 'bundle', skus: ['c', 'd'], payMinor: 100 },
    ];
    const cart = ['a', 'b', 'c', 'd'].map((sku) => ({ sku, quantity: 1 }));
    const priced = priceCart(cart, prices, promos);
    expect(priced.subtotalMinor).toBe(380);
    // Greedy (bc-greedy-trap first) would pay 60 + 100 + 100 = 260.
    expect(priced.totalMinor).toBe(180);
    expect(priced.discounts.map((d) => d.promotionId)).toEqual(['ab-pair', 'cd-pair']);
  });

  it('prefers a percentage over a multi-buy when the percentage saves more', () => {
    const promos: Promotion[] = [
      { id: 'mb', kind: 'multi-buy', sku: 'a', buy: 3, payMinor: 270 },
      { id: 'half', kind: 'percentage', skus: ['a'], percent: 50 },
    ];
    const priced = priceCart([{ sku: 'a', quantity: 3 }], prices, promos);
    expect(priced.discounts.map((d) => d.promotionId)).toEqual(['half']);
    expect(priced.totalMinor).toBe(150);
  });

  it('combines a multi-buy with a percentage on the leftover units', () => {
    const promos: Promotion[] = [
      { id: 'mb', kind: 'multi-buy', sku: 'a', buy: 3, payMinor: 150 },
      { id: 'p10', kind: 'percentage', skus: ['a'], percent: 10 },
    ];
    const priced = priceCart([{ sku: 'a', quantity: 4 }], prices, promos);
    expect(priced.discounts).toEqual([
      { promotionId: 'mb', description: '3 for 1.50 EUR', skus: ['a'], times: 1, amountMinor: 150 },
      { promotionId: 'p10', description: '10% off', skus: ['a'], times: 1, amountMinor: 10 },
    ]);
    expect(priced.totalMinor).toBe(150 + 90);
  });

  it('never stacks two promotions on one unit', () => {
    const promos: Promotion[] = [
      { id: 'mb', kind: 'multi-buy', sku: 'a', buy: 2, payMinor: 150 },
      { id: 'meal', kind: 'bundle', skus: ['a', 'b'], payMinor: 130 },
      { id: 'p10', kind: 'percentage', skus: ['a', 'b'], percent: 10 },
    ];
    const priced = priceCart([{ sku: 'a', quantity: 2 }, { sku: 'b', quantity: 1 }], prices, promos);
    // Options: mb on both a (150) + b at 10 % (72) = 222; meal (130) + a at 10 % (90) = 220; all 10 % = 252.
    expect(priced.totalMinor).toBe(220);
    expect(priced.discounts.map((d) => [d.promotionId, d.times])).toEqual([
      ['meal', 1],
      ['p10', 1],
    ]);
  });

  it('does not depend on the order promotions are given in', () => {
    const promos: Promotion[] = [
      { id: 'x', kind: 'bundle', skus: ['a', 'b'], payMinor: 150 },
      { id: 'y', kind: 'bundle', skus: ['a', 'c'], payMinor: 170 },
    ];
    const cart = [{ sku: 'a', quantity: 1 }, { sku: 'b', quantity: 1 }, { sku: 'c', quantity: 1 }];
    expect(priceCart(cart, prices, [...promos].reverse())).toEqual(priceCart(cart, prices, promos));
  });

  it('stays fast and no worse than no promotion on a large, heavily overlapping set', () => {
    const skus = Array.from({ length: 8 }, (_, i) => `s${i}`);
    const bigBook = book(Object.fromEntries(skus.map((sku, i) => [sku, 100 + 7 * i])));
    const promos: Promotion[] = [];
    for (let i = 0; i < skus.length; i += 1) {
      for (let j = i + 1; j < skus.length; j += 1) {
        promos.push({ id: `bundle-${i}-${j}`, kind: 'bundle', skus: [skus[i]!, skus[j]!], payMinor: 150 + ((i * 13 + j * 7) % 40) });
      }
      promos.push({ id: `mb-${i}`, kind: 'multi-buy', sku: skus[i]!, buy: 3, payMinor: 250 + i });
    }
    const cart = skus.map((sku, i) => ({ sku, quantity: 3 + (i % 4) }));
    const started = performance.now();
    const priced = priceCart(cart, bigBook, promos);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(priced.totalMinor).toBeLessThan(priced.subtotalMinor);
    expect(priced.totalMinor).toBe(priced.subtotalMinor - priced.discountMinor);
  });
});

describe('promotionsSchema', () => {
  const valid: Promotion[] = [
    { id: 'mb', kind: 'multi-buy', sku: 'a', buy: 3, payMinor: 250, description: '3 for 2.50' },
    { id: 'pc', kind: 'percentage', skus: ['a', 'b'], percent: 12.5, validFrom: 0, validUntil: 10 },
    { id: 'bd', kind: 'bundle', skus: ['a', 'b'], payMinor: 0 },
  ];

  it('accepts well-formed promotions', () => {
    expect(promotionsSchema.parse(valid)).toEqual(valid);
  });

  const rejected: Array<[string, unknown[]]> = [
    ['duplicate ids', [valid[0], { ...valid[1], id: 'mb' }]],
    ['negative multi-buy price', [{ ...valid[0], payMinor: -1 }]],
    ['negative bundle price', [{ ...valid[2], payMinor: -5 }]],
    ['fractional money', [{ ...valid[0], payMinor: 2.5 }]],
    ['percent of 0', [{ ...valid[1], percent: 0 }]],
    ['percent above 100', [{ ...valid[1], percent: 100.01 }]],
    ['negative percent', [{ ...valid[1], percent: -10 }]],
    ['percent finer than 0.01', [{ ...valid[1], percent: 12.345 }]],
    ['percentage without SKUs', [{ ...valid[1], skus: [] }]],
    ['bundle of one SKU', [{ ...valid[2], skus: ['a'] }]],
    ['bundle with a duplicate SKU', [{ ...valid[2], skus: ['a', 'b', 'a'] }]],
    ['multi-buy of one unit', [{ ...valid[0], buy: 1 }]],
    ['multi-buy of a fractional count', [{ ...valid[0], buy: 2.5 }]],
    ['unknown key', [{ ...valid[0], stackable: true }]],
    ['unknown kind', [{ ...valid[0], kind: 'coupon' }]],
    ['empty window', [{ ...valid[1], validFrom: 10, validUntil: 10 }]],
    ['more than 10 000 promotions', Array.from({ length: 10_001 }, (_, i) => ({ ...valid[0], id: `p${i}` }))],
  ];

  it.each(rejected)('rejects %s', (_name, promotions) => {
    expect(promotionsSchema.safeParse(promotions).success).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Property test against a brute force over every assignment of units to promotions.

/** Tiny seeded PRNG so the random cases are the same on every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface RandomCase {
  priceBook: Map<string, PriceBookItem>;
  cart: CartQuantity[];
  promotions: Promotion[];
  at: number;
}

function randomCase(random: () => number): RandomCase {
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pool = ['p', 'q', 'r', 's'];
  /** `count` distinct SKUs, drawn without replacement. */
  const pick = (count: number) => {
    const left = [...pool];
    return Array.from({ length: count }, () => left.splice(int(0, left.length - 1), 1)[0]!);
  };
  const priceOf = Object.fromEntries(pool.map((sku) => [sku, int(0, 400)]));
  const priceBook = book(priceOf);

  const unitCount = int(1, 6);
  const cart = Array.from({ length: unitCount }, () => ({ sku: pool[int(0, pool.length - 1)]!, quantity: 1 }));

  const promotions: Promotion[] = Array.from({ length: int(0, 3) }, (_, i): Promotion => {
    const id = `promo-${i}`;
    const window = random() < 0.2 ? { validFrom: int(0, 100), validUntil: int(101, 200) } : {};
    const kind = int(0, 2);
    if (kind === 0) {
      const sku = pick(1)[0]!;
      const buy = int(2, 3);
      return { id, kind: 'multi-buy', sku, buy, payMinor: int(0, Math.ceil(buy * priceOf[sku]! * 1.2)), ...window };
    }
    if (kind === 1) return { id, kind: 'percentage', skus: pick(int(1, 3)), percent: int(1, 100), ...window };
    const skus = pick(int(2, 3));
    const full = skus.reduce((total, sku) => total + priceOf[sku]!, 0);
    return { id, kind: 'bundle', skus, payMinor: int(0, Math.ceil(full * 1.2)), ...window };
  });
  return { priceBook, cart, promotions: promotionsSchema.parse(promotions), at: int(0, 250) };
}

/** Minimum total over every way to give each unit to one covering promotion or to none. */
function bruteForceTotal({ priceBook, cart, promotions, at }: RandomCase): number {
  const active = promotions.filter((p) => (p.validFrom ?? -Infinity) <= at && at < (p.validUntil ?? Infinity));
  const units = cart.flatMap(({ sku, quantity }) => Array<string>(quantity).fill(sku));
  const price = (sku: string) => priceBook.get(sku)!.priceMinor;
  const covers = (promotion: Promotion, sku: string) => (promotion.kind === 'multi-buy' ? promotion.sku === sku : promotion.skus.includes(sku));

  const costOf = (assignment: number[]): number => {
    let cost = 0;
    units.forEach((sku, u) => {
      if (assignment[u] === -1) cost += price(sku);
    });
    active.forEach((promotion, index) => {
      const mine = units.filter((_, u) => assignment[u] === index);
      if (promotion.kind === 'percentage') {
        // Half-up: floor(x + 1/2) with x = price × percent / 100.
        for (const sku of mine) cost += price(sku) - Math.floor((2 * price(sku) * promotion.percent + 100) / 200);
      } else if (promotion.kind === 'multi-buy') {
        const groups = Math.floor(mine.length / promotion.buy);
        cost += groups * promotion.payMinor + (mine.length - groups * promotion.buy) * price(promotion.sku);
      } else {
        const counts = promotion.skus.map((sku) => mine.filter((s) => s === sku).length);
        const sets = Math.min(...counts);
        promotion.skus.forEach((sku, k) => (cost += (counts[k]! - sets) * price(sku)));
        cost += sets * promotion.payMinor;
      }
    });
    return cost;
  };

  let best = Infinity;
  const assignment: number[] = [];
  const assign = (u: number): void => {
    if (u === units.length) {
      best = Math.min(best, costOf(assignment));
      return;
    }
    const options = [-1, ...active.map((p, i) => (covers(p, units[u]!) ? i : -2)).filter((i) => i >= 0)];
    for (const option of options) {
      assignment[u] = option;
      assign(u + 1);
    }
  };
  assign(0);
  return best;
}

describe('priceCart on random carts', () => {
  it('matches a brute-force minimum and keeps its invariants over 300 seeded cases', () => {
    const random = mulberry32(20_240_601);
    let discounted = 0;
    for (let n = 0; n < 300; n += 1) {
      const testCase = randomCase(random);
      const priced = priceCart(testCase.cart, testCase.priceBook, testCase.promotions, { at: testCase.at });
      const context = JSON.stringify(testCase, (key, value) => (value instanceof Map ? Object.fromEntries(value) : value));

      const undiscounted = testCase.cart.reduce((total, { sku, quantity }) => total + quantity * testCase.priceBook.get(sku)!.priceMinor, 0);
      expect(priced.subtotalMinor, context).toBe(undiscounted);
      expect(priced.lines.reduce((total, line) => total + line.amountMinor, 0), context).toBe(priced.subtotalMinor);
      expect(priced.totalMinor, context).toBeLessThanOrEqual(priced.subtotalMinor);
      expect(priced.totalMinor, context).toBeGreaterThanOrEqual(0);
      expect(priced.totalMinor, context).toBe(priced.subtotalMinor - priced.discountMinor);
      expect(priced.discounts.reduce((total, d) => total + d.amountMinor, 0), context).toBe(priced.discountMinor);
      expect(priced.discounts.every((d) => d.amountMinor > 0 && d.times > 0), context).toBe(true);
      const ids = priced.discounts.map((d) => d.promotionId);
      expect(ids, context).toEqual([...ids].sort());

      expect(priced.totalMinor, context).toBe(bruteForceTotal(testCase));
      if (priced.discountMinor > 0) discounted += 1;
    }
    // Guard against a generator that never exercises promotions.
    expect(discounted).toBeGreaterThan(100);
  });
});
