import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.ts';
import type { PriceBook } from '../../src/pricing/index.ts';
import { catalog, day, HOUR, makeBook, price, T0 } from './fixture.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Everything the book answers, at many instants. */
function answers(book: PriceBook) {
  const instants = [T0, day(5), day(40) + 21 * HOUR, day(41), day(52), day(61), day(70) + 20 * HOUR];
  return {
    labels: instants.flatMap((at) => catalog.map(({ sku }) => book.labelContentAt(sku, at))),
    units: instants.flatMap((at) => catalog.map(({ sku }) => [book.unitPriceAt(sku, at), book.unitPriceAt(sku, at, { member: true })])),
    history: catalog.map(({ sku }) => book.history(sku)),
    next: instants.map((at) => book.nextChangeAfter(at)),
    changed: book.changedBetween(T0, day(61)),
    list: book.list({ at: day(52) }),
  };
}

describe('price book on a real SQLite ledger', () => {
  it('answers the same after the file is closed and reopened, and a restart records nothing twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-pricing-'));
    dirs.push(dir);
    const file = join(dir, 'ledger.sqlite');
    // Names come from the store model, which the inventory keeps in the ledger too.
    const options = { timeZone: 'Europe/Berlin', nameOf: (sku: string) => catalog.find((item) => item.sku === sku)?.name };
    const first = makeBook(options, Ledger.open(file));
    first.book.applyCatalog(catalog);
    price(first, 'cola', 150, day(30));
    price(first, 'cola', 90, day(50), 'markdown');
    price(first, 'chips', 160, day(40), 'markdown');
    price(first, 'chips', 120, day(51), 'markdown');
    first.book.setPromotions(
      [
        { id: 'bread-20', kind: 'percentage', skus: ['bread'], percent: 20, validFrom: day(60), validUntil: day(65) },
        { id: 'cola-m', kind: 'member-price', sku: 'cola', priceMinor: 80 },
        { id: 'chips-2', kind: 'multi-buy', sku: 'chips', buy: 2, payMinor: 200 },
      ],
      { source: 'hq', actor: 'hq' },
    );
    first.book.setMarkdowns([{ id: 'evening', skus: ['bread'], fromLocalTime: '20:00', percent: 30 }], { source: 'manager', actor: 'ana' });
    const before = answers(first.book);
    const events = first.ledger.stats().events;
    first.ledger.close();

    const second = makeBook(options, Ledger.open(file));
    expect(second.ledger.verifyChain()).toEqual({ ok: true, checked: events });
    expect(answers(second.book)).toEqual(before);
    expect(second.book.labelContentAt('cola', day(52))).toMatchObject({ priceMinor: 90, wasPriceMinor: 100, memberPriceMinor: 80 });
    second.now = day(1);
    expect(second.book.applyCatalog(catalog)).toEqual([]);
    expect(second.book.applyConfigPromotions([])).toBeNull();
    expect(second.ledger.stats().events).toBe(events);
    second.ledger.close();
  });
});
