import { describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/error-of.ts';
import { catalog, day, makeBook, price, T0, type BookFixture } from './fixture.ts';
import type { PriceChange } from '../../src/pricing/index.ts';

function seeded(): BookFixture {
  const f = makeBook();
  f.book.applyCatalog(catalog);
  return f;
}

describe('PriceBook: regular prices', () => {
  it('seeds each catalog SKU once, effective now, and names it', () => {
    const f = seeded();
    expect(f.book.history('cola')).toEqual([
      expect.objectContaining({ sku: 'cola', priceMinor: 100, currency: 'EUR', effectiveFrom: T0, source: 'catalog', version: 1 }),
    ]);
    expect(f.book.labelContentAt('cola', T0)).toMatchObject({ sku: 'cola', name: 'Cola 0.5 l', priceMinor: 100, currency: 'EUR' });
    f.now = day(1);
    expect(f.book.applyCatalog(catalog)).toEqual([]);
    expect(f.ledger.stats().events).toBe(3);
  });

  it('takes a changed catalog price, but a restart with the same catalog does not undo an HQ price', () => {
    const f = seeded();
    f.now = day(1);
    price(f, 'cola', 120, day(1));
    f.now = day(2);
    expect(f.book.applyCatalog(catalog)).toEqual([]);
    expect(f.book.regularAt('cola', day(3))?.priceMinor).toBe(120);
    f.now = day(4);
    const [changed] = f.book.applyCatalog([{ ...catalog[0]!, priceMinor: 110 }]);
    expect(changed).toMatchObject({ sku: 'cola', priceMinor: 110, source: 'catalog', effectiveFrom: day(4) });
    expect(f.book.regularAt('cola', day(5))?.priceMinor).toBe(110);
    // back to the first catalog price: a new fact, not the old key
    f.now = day(6);
    expect(f.book.applyCatalog(catalog)).toHaveLength(1);
    expect(f.book.regularAt('cola', day(6))?.priceMinor).toBe(100);
  });

  it('answers for the instant asked: before, at and after an effective-dated change', () => {
    const f = seeded();
    price(f, 'cola', 130, day(10));
    expect(f.book.regularAt('cola', T0 - 1)).toBeUndefined();
    expect(f.book.regularAt('cola', day(10) - 1)?.priceMinor).toBe(100);
    expect(f.book.regularAt('cola', day(10))?.priceMinor).toBe(130);
    expect(f.book.unitPriceAt('cola', day(10) - 1).priceMinor).toBe(100);
    expect(f.book.unitPriceAt('cola', day(10)).priceMinor).toBe(130);
  });

  it('lets the later record win for the same effective instant and keeps the history in effective order', () => {
    const f = seeded();
    price(f, 'cola', 130, day(10));
    price(f, 'cola', 90, day(5));
    price(f, 'cola', 125, day(10), 'manager');
    expect(f.book.regularAt('cola', day(10))).toMatchObject({ priceMinor: 125, source: 'manager' });
    expect(f.book.history('cola').map((r) => [r.effectiveFrom, r.priceMinor])).toEqual([
      [T0, 100],
      [day(5), 90],
      [day(10), 130],
      [day(10), 125],
    ]);
    const versions = f.book.history('cola').map((r) => r.version);
    expect(new Set(versions).size).toBe(4);
  });

  it('refuses retroactive prices, unknown SKUs, other currencies and invalid input with catalogued errors', () => {
    const f = seeded();
    f.now = day(3);
    expect(errorOf(() => price(f, 'cola', 90, day(2))).code).toBe('EDGE_ERR_PRICE_RETROACTIVE');
    expect(errorOf(() => price(f, 'nope', 90, day(4))).code).toBe('EDGE_ERR_PRICE_UNKNOWN_SKU');
    expect(errorOf(() => f.book.setPrice({ sku: 'cola', priceMinor: 90, currency: 'USD', source: 'hq', reason: 'x', actor: 't' })).code).toBe('EDGE_ERR_PRICE_CURRENCY_MISMATCH');
    const float = errorOf(() => f.book.setPrice({ sku: 'cola', priceMinor: 0.99, source: 'hq', reason: 'x', actor: 't' }));
    expect(float.code).toBe('EDGE_ERR_PRICE_INVALID');
    expect(float.message).toContain('price.priceMinor');
    expect(errorOf(() => f.book.setPrice({ sku: 'cola', priceMinor: -1, source: 'hq', reason: 'x', actor: 't' })).code).toBe('EDGE_ERR_PRICE_INVALID');
    expect(errorOf(() => f.book.setPrice({ sku: 'cola', priceMinor: 1, source: 'catalog' as 'hq', reason: 'x', actor: 't' })).code).toBe('EDGE_ERR_PRICE_INVALID');
    expect(errorOf(() => f.book.unitPriceAt('cola', T0 - 1)).code).toBe('EDGE_ERR_PRICE_UNKNOWN_SKU');
    expect(errorOf(() => f.book.labelContentAt('nope', T0)).code).toBe('EDGE_ERR_PRICE_UNKNOWN_SKU');
    expect(f.book.history('cola')).toHaveLength(1);
  });

  it('records a retried change once (changeId), and refuses a changeId reused for another price', () => {
    const f = seeded();
    const input = { sku: 'cola', priceMinor: 95, source: 'manager' as const, reason: 'match competitor', actor: 'ana', changeId: 'c-1' };
    const first = f.book.setPrice(input);
    f.now = T0 + 5_000;
    expect(f.book.setPrice(input)).toEqual(first);
    expect(f.book.history('cola')).toHaveLength(2);
    expect(errorOf(() => f.book.setPrice({ ...input, priceMinor: 94 })).code).toBe('EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT');
  });

  it('queues store-made prices for HQ in the outbox, not HQ’s own', () => {
    const f = seeded();
    price(f, 'cola', 90, day(1), 'hq');
    price(f, 'cola', 80, day(2), 'manager');
    expect(f.ledger.outboxPending().map((row) => (row.event.payload as { priceMinor: number }).priceMinor)).toEqual([80]);
  });

  it('tells listeners about a new price at once, with its effective instant, and not about a retry', () => {
    const f = seeded();
    const heard: PriceChange[] = [];
    const off = f.book.onChange((change) => heard.push(change));
    const record = f.book.setPrice({ sku: 'cola', priceMinor: 90, effectiveFrom: day(2), source: 'hq', reason: 'x', actor: 't', changeId: 'p1' });
    f.book.setPrice({ sku: 'cola', priceMinor: 90, effectiveFrom: day(2), source: 'hq', reason: 'x', actor: 't', changeId: 'p1' });
    expect(heard).toEqual([{ cause: 'price', skus: ['cola'], effectiveFrom: day(2), version: record.version }]);
    off();
    price(f, 'cola', 91, day(3));
    expect(heard).toHaveLength(1);
  });

  it('takes many prices in one transaction with one notice per effective instant, or none of them', () => {
    const f = seeded();
    const heard: PriceChange[] = [];
    f.book.onChange((change) => heard.push(change));
    const eventsBefore = f.ledger.stats().events;
    const bad = errorOf(() =>
      f.book.setPrices([
        { sku: 'cola', priceMinor: 90, effectiveFrom: day(1), source: 'hq', reason: 'x', actor: 't' },
        { sku: 'nope', priceMinor: 90, effectiveFrom: day(1), source: 'hq', reason: 'x', actor: 't' },
      ]),
    );
    expect(bad.code).toBe('EDGE_ERR_PRICE_UNKNOWN_SKU');
    expect(bad.message).toMatch(/^prices\[1\]: /);
    expect(f.ledger.stats().events).toBe(eventsBefore);
    expect(f.book.regularAt('cola', day(2))?.priceMinor).toBe(100);
    expect(heard).toEqual([]);

    const records = f.book.setPrices([
      { sku: 'cola', priceMinor: 90, effectiveFrom: day(1), source: 'hq', reason: 'x', actor: 't', changeId: 'w-1' },
      { sku: 'chips', priceMinor: 190, effectiveFrom: day(2), source: 'hq', reason: 'x', actor: 't', changeId: 'w-2' },
      { sku: 'bread', priceMinor: 290, effectiveFrom: day(1), source: 'hq', reason: 'x', actor: 't', changeId: 'w-3' },
    ]);
    expect(records.map((r) => [r.sku, r.priceMinor])).toEqual([['cola', 90], ['chips', 190], ['bread', 290]]);
    expect(heard).toEqual([
      { cause: 'price', skus: ['bread', 'cola'], effectiveFrom: day(1), version: records[2]!.version },
      { cause: 'price', skus: ['chips'], effectiveFrom: day(2), version: records[1]!.version },
    ]);
    // A retried batch writes nothing new and tells no one.
    expect(f.book.setPrices([{ sku: 'chips', priceMinor: 190, effectiveFrom: day(2), source: 'hq', reason: 'x', actor: 't', changeId: 'w-2' }])).toEqual([records[1]]);
    expect(heard).toHaveLength(2);
    expect(f.ledger.stats().events).toBe(eventsBefore + 3);
  });

  it('keeps a listener that throws from breaking the write or the other listeners', () => {
    const f = seeded();
    const heard: string[] = [];
    f.book.onChange(() => {
      throw new Error('boom');
    });
    f.book.onChange((c) => heard.push(c.skus.join()));
    expect(() => price(f, 'chips', 150, day(1))).not.toThrow();
    expect(heard).toEqual(['chips']);
  });
});

describe('PriceBook: promotion lists', () => {
  it('validates lists strictly (shared checkout schema plus member price)', () => {
    const f = seeded();
    const bad = errorOf(() => f.book.setPromotions([{ id: 'p', kind: 'percentage', skus: ['cola'], percent: 12.345 }], { source: 'hq', actor: 't' }));
    expect(bad.code).toBe('EDGE_ERR_PRICE_INVALID');
    expect(bad.message).toContain('promotions.0');
    expect(errorOf(() => f.book.setPromotions([{ id: 'm', kind: 'member-price', sku: 'cola', priceMinor: 80, extra: 1 }], { source: 'hq', actor: 't' })).code).toBe('EDGE_ERR_PRICE_INVALID');
    expect(errorOf(() => f.book.setMarkdowns([{ id: 'r', skus: ['bread'], fromLocalTime: '20:00', untilLocalTime: '19:00', percent: 50 }], { source: 'manager', actor: 't' })).code).toBe('EDGE_ERR_PRICE_INVALID');
    expect(errorOf(() => f.book.setMarkdowns([{ id: 'r', skus: ['bread'], fromLocalTime: '24:00', percent: 50 }], { source: 'manager', actor: 't' })).code).toBe('EDGE_ERR_PRICE_INVALID');
    f.now = day(1);
    expect(errorOf(() => f.book.setPromotions([], { source: 'hq', actor: 't', effectiveFrom: T0 })).code).toBe('EDGE_ERR_PRICE_RETROACTIVE');
  });

  it('records config promotions only when the config changed, and never over a later HQ list', () => {
    const f = seeded();
    const config = [{ id: 'cola-2', kind: 'multi-buy', sku: 'cola', buy: 2, payMinor: 150 }];
    expect(f.book.applyConfigPromotions([])).toBeNull();
    expect(f.book.applyConfigPromotions(config)).not.toBeNull();
    f.now = day(1);
    expect(f.book.applyConfigPromotions(config)).toBeNull();
    f.book.setPromotions([], { source: 'hq', actor: 'hq' });
    f.now = day(2);
    expect(f.book.applyConfigPromotions(config)).toBeNull();
    expect(f.book.listsAt(day(2)).promotions).toEqual([]);
    expect(f.book.applyConfigPromotions([{ ...config[0]!, payMinor: 140 }])).not.toBeNull();
    expect(f.book.cartPromotionsAt(day(2))).toEqual([{ id: 'cola-2', kind: 'multi-buy', sku: 'cola', buy: 2, payMinor: 140 }]);
  });

  it('tells listeners which SKUs a new list may touch: those of the list it replaces and its own', () => {
    const f = seeded();
    const heard: PriceChange[] = [];
    f.book.onChange((c) => heard.push(c));
    f.book.setPromotions([{ id: 'a', kind: 'percentage', skus: ['cola', 'chips'], percent: 10 }], { source: 'hq', actor: 't' });
    f.book.setPromotions([{ id: 'b', kind: 'member-price', sku: 'bread', priceMinor: 250 }], { source: 'hq', actor: 't', effectiveFrom: day(5) });
    expect(heard.map((c) => [c.cause, c.skus, c.effectiveFrom])).toEqual([
      ['promotions', ['chips', 'cola'], T0],
      ['promotions', ['bread', 'chips', 'cola'], day(5)],
    ]);
  });
});
