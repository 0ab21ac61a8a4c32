import { describe, expect, it } from 'vitest';
import { catalog, day, makeBook, price, T0, type BookFixture } from './fixture.ts';
import type { PriorPricePolicy } from '../../src/pricing/index.ts';

/** cola 100 from day 0 (catalog), chips 200, bread 300. */
function seeded(priorPrice: Partial<PriorPricePolicy> = {}): BookFixture {
  const f = makeBook({ priorPrice });
  f.book.applyCatalog(catalog);
  return f;
}

function promote(f: BookFixture, promotions: unknown[], from = f.now) {
  return f.book.setPromotions(promotions, { source: 'hq', actor: 'test', effectiveFrom: from });
}

const pct = (id: string, sku: string, percent: number, validFrom?: number, validUntil?: number) => ({
  id,
  kind: 'percentage',
  skus: [sku],
  percent,
  ...(validFrom === undefined ? {} : { validFrom }),
  ...(validUntil === undefined ? {} : { validUntil }),
});

describe('prior ("was") price: the lowest price of the 30 days before the reduction [98/6/EC Art. 6a]', () => {
  it('a price raised then lowered is no reduction while it stays above the lowest 30-day price', () => {
    const f = seeded();
    price(f, 'cola', 150, day(50));
    price(f, 'cola', 120, day(60), 'markdown');
    const label = f.book.labelContentAt('cola', day(61));
    expect(label).toMatchObject({ priceMinor: 120 });
    expect(label.wasPriceMinor).toBeUndefined();
    expect(label.promoText).toBeUndefined();
  });

  it('a markdown below the 30-day low shows that low as "was", not the raised price', () => {
    const f = seeded();
    price(f, 'cola', 150, day(50));
    price(f, 'cola', 90, day(60), 'markdown');
    expect(f.book.labelContentAt('cola', day(61))).toMatchObject({ priceMinor: 90, wasPriceMinor: 100, promoText: '-10%' });
  });

  it('a percentage after a raise is taken off the prior price, not the raised one [CJEU C-330/23]', () => {
    const f = seeded();
    price(f, 'cola', 150, day(50));
    promote(f, [pct('cola-20', 'cola', 20, day(60))]);
    expect(f.book.labelContentAt('cola', day(61))).toMatchObject({ priceMinor: 80, wasPriceMinor: 100, promoText: '-20%' });
    expect(f.book.unitPriceAt('cola', day(61))).toMatchObject({ priceMinor: 80, regularMinor: 150, reduction: { kind: 'percentage', id: 'cola-20' } });
  });

  it('a raise more than 30 days before the reduction is the prior price', () => {
    const f = seeded();
    price(f, 'cola', 150, day(20));
    promote(f, [pct('cola-20', 'cola', 20, day(60))]);
    expect(f.book.labelContentAt('cola', day(61))).toMatchObject({ priceMinor: 120, wasPriceMinor: 150 });
  });

  it('looks back exactly `days`: a price that ended exactly 30 days before does not count, one ending 1 ms later does', () => {
    const f = seeded();
    price(f, 'cola', 150, day(10));
    promote(f, [pct('a', 'cola', 10, day(40))]);
    expect(f.book.labelContentAt('cola', day(41)).wasPriceMinor).toBe(150);
    const g = seeded();
    price(g, 'cola', 150, day(10));
    promote(g, [pct('a', 'cola', 10, day(40) - 1)]);
    expect(g.book.labelContentAt('cola', day(41)).wasPriceMinor).toBe(100);
  });

  it('an earlier promotion inside the 30 days lowers the prior price of the next one', () => {
    const f = seeded();
    promote(f, [pct('first', 'chips', 10, day(40), day(45)), pct('second', 'chips', 10, day(60))]);
    expect(f.book.labelContentAt('chips', day(42))).toMatchObject({ priceMinor: 180, wasPriceMinor: 200 });
    // 180 was charged on days 40–45, inside the 30 days before day 60; 10 % off that prior price.
    expect(f.book.labelContentAt('chips', day(61))).toMatchObject({ priceMinor: 162, wasPriceMinor: 180, promoText: '-10%' });
  });

  it('uses the promotion lists as they were: a promotion dropped from a later list still counts', () => {
    const f = seeded();
    promote(f, [pct('first', 'chips', 10, day(40), day(45))]);
    promote(f, [pct('second', 'chips', 10, day(60))], day(50));
    expect(f.book.labelContentAt('chips', day(61))).toMatchObject({ priceMinor: 162, wasPriceMinor: 180 });
  });
});

describe('a reduction that deepens [Art. 6a(5)]', () => {
  it('markdowns 200 → 160 → 120 keep the price before the first step as "was"', () => {
    const f = seeded();
    price(f, 'chips', 160, day(40), 'markdown');
    price(f, 'chips', 120, day(50), 'markdown');
    expect(f.book.labelContentAt('chips', day(45))).toMatchObject({ priceMinor: 160, wasPriceMinor: 200, promoText: '-20%' });
    expect(f.book.labelContentAt('chips', day(51))).toMatchObject({ priceMinor: 120, wasPriceMinor: 200, promoText: '-40%' });
  });

  it('with progressive: false each step looks back on its own', () => {
    const f = seeded({ progressive: false });
    price(f, 'chips', 160, day(40), 'markdown');
    price(f, 'chips', 120, day(50), 'markdown');
    expect(f.book.labelContentAt('chips', day(51))).toMatchObject({ priceMinor: 120, wasPriceMinor: 160, promoText: '-25%' });
  });

  it('back-to-back percentages: the second is taken off the price before the first', () => {
    const f = seeded();
    promote(f, [pct('p20', 'chips', 20, day(40), day(47)), pct('p40', 'chips', 40, day(47), day(54))]);
    expect(f.book.labelContentAt('chips', day(48))).toMatchObject({ priceMinor: 120, wasPriceMinor: 200, promoText: '-40%' });
    const g = seeded({ progressive: false });
    promote(g, [pct('p20', 'chips', 20, day(40), day(47)), pct('p40', 'chips', 40, day(47), day(54))]);
    expect(g.book.labelContentAt('chips', day(48))).toMatchObject({ priceMinor: 96, wasPriceMinor: 160 });
  });

  it('a break between reductions starts a new one', () => {
    const f = seeded();
    promote(f, [pct('p20', 'chips', 20, day(40), day(47)), pct('p40', 'chips', 40, day(48), day(55))]);
    expect(f.book.labelContentAt('chips', day(49))).toMatchObject({ priceMinor: 96, wasPriceMinor: 160 });
  });
});

describe('a SKU on sale for less than 30 days [Art. 6a(4)]', () => {
  it('shorter-period (default): the lowest price since it appeared', () => {
    const f = seeded();
    price(f, 'cola', 80, day(5));
    price(f, 'cola', 95, day(10));
    promote(f, [pct('new', 'cola', 10, day(20))]);
    expect(f.book.labelContentAt('cola', day(21))).toMatchObject({ priceMinor: 72, wasPriceMinor: 80 });
  });

  it('not-announced: the shopper pays the reduced price, the label announces no reduction', () => {
    const f = seeded({ newArrivals: 'not-announced' });
    price(f, 'cola', 80, day(5));
    price(f, 'cola', 95, day(10));
    promote(f, [pct('new', 'cola', 10, day(20), day(25)), pct('later', 'cola', 10, day(70))]);
    const label = f.book.labelContentAt('cola', day(21));
    // 95 less 9.5 rounded half-up
    expect(label).toMatchObject({ priceMinor: 85 });
    expect(label.wasPriceMinor).toBeUndefined();
    expect(label.promoText).toBeUndefined();
    // with 30 days behind it the SKU's reductions are announced as usual (the days before day 40 are out of the window)
    expect(f.book.labelContentAt('cola', day(71))).toMatchObject({ priceMinor: 85, wasPriceMinor: 95, promoText: '-10%' });
  });

  it('a reduction from the first day has no prior price: charged, never announced', () => {
    const f = makeBook();
    promote(f, [pct('launch', 'cola', 10)]);
    f.book.applyCatalog(catalog);
    const label = f.book.labelContentAt('cola', T0 + 1);
    expect(label.priceMinor).toBe(90);
    expect(label.wasPriceMinor).toBeUndefined();
    expect(label.promoText).toBeUndefined();
  });
});

describe('member prices, multi-buys and the label version', () => {
  it('a member price is shown beside the public price, charged only to members, and is no prior price', () => {
    const f = seeded();
    promote(f, [{ id: 'm', kind: 'member-price', sku: 'chips', priceMinor: 150, validUntil: day(30) }, pct('p', 'chips', 10, day(40))]);
    expect(f.book.labelContentAt('chips', day(1))).toMatchObject({ priceMinor: 200, memberPriceMinor: 150 });
    expect(f.book.unitPriceAt('chips', day(1))).toMatchObject({ priceMinor: 200, memberPrice: false });
    expect(f.book.unitPriceAt('chips', day(1), { member: true })).toMatchObject({ priceMinor: 150, memberPrice: true, reduction: null });
    // members paid 150 until day 30; the public prior price is still 200
    expect(f.book.labelContentAt('chips', day(41))).toMatchObject({ priceMinor: 180, wasPriceMinor: 200 });
  });

  it('a member price above the public price is not shown and members pay the public price', () => {
    const f = seeded();
    promote(f, [{ id: 'm', kind: 'member-price', sku: 'chips', priceMinor: 190 }, pct('p', 'chips', 10, day(40))]);
    expect(f.book.labelContentAt('chips', day(41)).memberPriceMinor).toBeUndefined();
    expect(f.book.unitPriceAt('chips', day(41), { member: true })).toMatchObject({ priceMinor: 180, memberPrice: false });
  });

  it('a multi-buy is label text only: no "was", no change to the unit price; the checkout gets it for the cart', () => {
    const f = seeded();
    promote(f, [{ id: 'cola-2', kind: 'multi-buy', sku: 'cola', buy: 2, payMinor: 150 }, pct('c', 'chips', 10)]);
    const label = f.book.labelContentAt('cola', day(1));
    expect(label).toMatchObject({ priceMinor: 100, promoText: '2 for 1.50 EUR' });
    expect(label.wasPriceMinor).toBeUndefined();
    expect(f.book.cartPromotionsAt(day(1)).map((p) => p.id)).toEqual(['cola-2']);
  });

  it('keeps promoText within the 60 characters a label renders, the announced reduction first', () => {
    const f = seeded();
    promote(f, [
      pct('p', 'cola', 10, day(40)),
      { id: 'b', kind: 'multi-buy', sku: 'cola', buy: 3, payMinor: 200, description: 'Three bottles of our finest cola for only two euros' },
      { id: 'a', kind: 'multi-buy', sku: 'cola', buy: 2, payMinor: 150 },
    ]);
    expect(f.book.labelContentAt('cola', day(41)).promoText).toBe('-10% · 2 for 1.50 EUR');
    promote(f, [{ ...pct('p', 'cola', 10, day(40)), description: 'x'.repeat(80) }], day(39));
    const text = f.book.labelContentAt('cola', day(41)).promoText!;
    expect([...text]).toHaveLength(60);
    expect(text.endsWith('…')).toBe(true);
  });

  it('the lowest reduction wins, without stacking', () => {
    const f = seeded();
    price(f, 'bread', 240, day(40), 'markdown');
    promote(f, [pct('a', 'bread', 10, day(40)), pct('b', 'bread', 25, day(41))]);
    expect(f.book.labelContentAt('bread', day(40) + 1)).toMatchObject({ priceMinor: 240, wasPriceMinor: 300, promoText: '-20%' });
    expect(f.book.labelContentAt('bread', day(42))).toMatchObject({ priceMinor: 225, wasPriceMinor: 300, promoText: '-25%' });
  });

  it('version changes exactly when something the label shows changes', () => {
    const f = seeded();
    price(f, 'cola', 100, day(10), 'manager'); // same price again: label unchanged
    promote(f, [{ id: 'm', kind: 'member-price', sku: 'cola', priceMinor: 90, validFrom: day(20) }]);
    price(f, 'cola', 110, day(30));
    const v = (at: number) => f.book.labelContentAt('cola', at).version;
    expect(v(day(1))).toMatch(/^[0-9a-f]{16}$/);
    expect(v(day(11))).toBe(v(day(1)));
    expect(v(day(21))).not.toBe(v(day(11)));
    expect(v(day(31))).not.toBe(v(day(21)));
    expect(f.book.unitPriceAt('cola', day(31)).labelVersion).toBe(v(day(31)));
  });

  it('rounds the percentage half-up in whole minor units', () => {
    const f = seeded();
    f.book.applyCatalog([{ sku: 'mints', name: 'Mints', priceMinor: 99, currency: 'EUR' }]);
    promote(f, [pct('m15', 'mints', 15, day(40))]);
    // 15 % of 0.99 is 14.85 → 0.15 off (as the checkout rounds)
    expect(f.book.labelContentAt('mints', day(41)).priceMinor).toBe(84);
  });
});
