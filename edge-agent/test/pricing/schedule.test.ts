import { describe, expect, it } from 'vitest';
import { catalog, DAY, day, makeBook, price, T0 } from './fixture.ts';

function seeded() {
  const f = makeBook();
  f.book.applyCatalog(catalog);
  return f;
}

describe('change schedule', () => {
  it('finds the next effective-dated price, promotion start and end, in order', () => {
    const f = seeded();
    price(f, 'cola', 120, day(10));
    f.book.setPromotions([{ id: 'p', kind: 'percentage', skus: ['chips'], percent: 10, validFrom: day(3), validUntil: day(5) }], { source: 'hq', actor: 't' });
    expect(f.book.nextChangeAfter(T0)).toBe(day(3));
    expect(f.book.nextChangeAfter(day(3))).toBe(day(5));
    expect(f.book.nextChangeAfter(day(5))).toBe(day(10));
    expect(f.book.nextChangeAfter(day(10))).toBeNull();
    expect(f.book.nextChangeAfter(T0, { sku: 'cola' })).toBe(day(10));
    expect(f.book.nextChangeAfter(T0, { within: 2 * DAY })).toBeNull();
  });

  it('skips candidates that change nothing (the same price again, a promotion that saves nothing)', () => {
    const f = seeded();
    price(f, 'cola', 100, day(2));
    f.book.setPromotions([{ id: 'm', kind: 'member-price', sku: 'cola', priceMinor: 100, validFrom: day(4) }], { source: 'hq', actor: 't' });
    price(f, 'cola', 99, day(6));
    expect(f.book.nextChangeAfter(T0)).toBe(day(6));
  });

  it('counts a member price as a change: label and members’ unit price', () => {
    const f = seeded();
    f.book.setPromotions([{ id: 'm', kind: 'member-price', sku: 'cola', priceMinor: 90, validFrom: day(4), validUntil: day(6) }], { source: 'hq', actor: 't' });
    expect(f.book.nextChangeAfter(T0)).toBe(day(4));
    expect(f.book.nextChangeAfter(day(4))).toBe(day(6));
  });

  it('a new list effective later is a change for the SKUs it drops as well as those it adds', () => {
    const f = seeded();
    f.book.setPromotions([{ id: 'a', kind: 'percentage', skus: ['cola'], percent: 10 }], { source: 'hq', actor: 't' });
    f.book.setPromotions([{ id: 'b', kind: 'percentage', skus: ['chips'], percent: 10 }], { source: 'hq', actor: 't', effectiveFrom: day(7) });
    expect(f.book.nextChangeAfter(T0)).toBe(day(7));
    expect(f.book.changedBetween(day(6), day(8))).toEqual(['chips', 'cola']);
  });

  it('changedBetween lists SKUs whose label differs at the two instants, not those that changed and changed back', () => {
    const f = seeded();
    price(f, 'cola', 120, day(10));
    f.book.setPromotions([{ id: 'flash', kind: 'percentage', skus: ['chips'], percent: 10, validFrom: day(3), validUntil: day(4) }], { source: 'hq', actor: 't' });
    expect(f.book.changedBetween(T0, day(11))).toEqual(['cola']);
    expect(f.book.changedBetween(T0, day(3))).toEqual(['chips']);
    expect(f.book.changedBetween(day(3), day(3))).toEqual([]);
    // a SKU that appears in between
    f.book.applyCatalog([{ sku: 'new', name: 'New', priceMinor: 5, currency: 'EUR' }]);
    expect(f.book.changedBetween(T0 - 1, T0)).toContain('new');
  });
});

describe('price list (GET /api/prices)', () => {
  it('pages through SKUs in code-unit order with a keyset cursor', () => {
    const f = makeBook();
    f.book.applyCatalog(Array.from({ length: 25 }, (_, i) => ({ sku: `sku-${String(i).padStart(3, '0')}`, name: `Item ${i}`, priceMinor: 100 + i, currency: 'EUR' })));
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = f.book.list({ at: T0, limit: 10, ...(after === undefined ? {} : { after }) });
      seen.push(...page.prices.map((p) => p.sku));
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toHaveLength(25);
    expect(seen).toEqual([...seen].sort());
    expect(f.book.list({ at: T0, sku: 'sku-007' }).prices.map((p) => p.sku)).toEqual(['sku-007']);
    expect(f.book.list({ at: T0, sku: 'nope' }).prices).toEqual([]);
    expect(f.book.list({ at: T0 - 1 }).prices).toEqual([]);
  });

  it('shows current, regular, was, member price, promotions, version and the next change', () => {
    const f = seeded();
    price(f, 'chips', 150, day(40), 'markdown');
    f.book.setPromotions([{ id: 'm', kind: 'member-price', sku: 'chips', priceMinor: 140, validUntil: day(45) }], { source: 'hq', actor: 't' });
    const [entry] = f.book.list({ at: day(41), sku: 'chips' }).prices;
    expect(entry).toEqual({
      sku: 'chips',
      name: 'Chips 150 g',
      currency: 'EUR',
      priceMinor: 150,
      regularMinor: 150,
      wasPriceMinor: 200,
      memberPriceMinor: 140,
      promoText: '-25%',
      promotions: [{ id: 'm', kind: 'member-price', description: null }],
      version: f.book.labelContentAt('chips', day(41)).version,
      priceVersion: f.book.regularAt('chips', day(41))!.version,
      nextChangeAt: day(45),
    });
  });

  it('serves a 1000-row page of 50 000 SKUs quickly (seeding them is a one-time 50 000-event transaction)', () => {
    const f = makeBook();
    f.book.applyCatalog(Array.from({ length: 50_000 }, (_, i) => ({ sku: `s${String(i).padStart(5, '0')}`, name: `Item ${i}`, priceMinor: 100 + (i % 500), currency: 'EUR' })));
    f.book.setPromotions([{ id: 'p', kind: 'percentage', skus: Array.from({ length: 500 }, (_, i) => `s${String(i * 7).padStart(5, '0')}`), percent: 10, validFrom: day(2) }], { source: 'hq', actor: 't' });
    const started = performance.now();
    const page = f.book.list({ at: day(3), limit: 1000 });
    expect(page.prices).toHaveLength(1000);
    expect(page.next).toBe('s00999');
    // ≈ 0.3 s on the shared 2-core machine; the bound leaves room for load
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});
