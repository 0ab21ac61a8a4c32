import { Ledger } from '../../src/ledger/index.ts';
import { PriceBook, type PriceBookOptions } from '../../src/pricing/index.ts';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
/** 2025-01-01T00:00:00Z: day 0 of every test. */
export const T0 = Date.UTC(2025, 0, 1);
export const day = (n: number): number => T0 + n * DAY;

export interface BookFixture {
  ledger: Ledger;
  book: PriceBook;
  /** The agent clock the book's writes see. */
  now: number;
}

/** A price book on an in-memory ledger whose write clock the test moves (`f.now = day(3)`). */
export function makeBook(options: Omit<PriceBookOptions, 'ledger' | 'now'> = {}, ledger: Ledger = Ledger.open(':memory:')): BookFixture {
  const fixture = { ledger, now: T0 } as BookFixture;
  fixture.book = new PriceBook({ ...options, ledger, now: () => fixture.now });
  return fixture;
}

export const catalog = [
  { sku: 'cola', name: 'Cola 0.5 l', priceMinor: 100, currency: 'EUR' },
  { sku: 'chips', name: 'Chips 150 g', priceMinor: 200, currency: 'EUR' },
  { sku: 'bread', name: 'Bread 500 g', priceMinor: 300, currency: 'EUR' },
];

/** Records a price ahead of time (the write clock stays where it is), effective at `from`. */
export function price(f: BookFixture, sku: string, priceMinor: number, from: number, source: 'hq' | 'manager' | 'markdown' = 'hq') {
  return f.book.setPrice({ sku, priceMinor, effectiveFrom: from, source, reason: `${source} ${priceMinor}`, actor: 'test' });
}
