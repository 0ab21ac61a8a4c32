import { describe, expect, it } from 'vitest';
import { dailyWindows, localDate, zonedInstant } from '../../src/pricing/local-time.ts';
import type { PriceChange } from '../../src/pricing/index.ts';
import { catalog, HOUR, makeBook, type BookFixture } from './fixture.ts';

const BERLIN = 'Europe/Berlin';
const utc = (iso: string) => Date.parse(iso);

/** Bread at 3.00 from 2025-01-01; 50 % off from 20:00 Berlin time until midnight while in stock. */
function evening(stock: { units: number }, rule: Record<string, unknown> = {}): BookFixture {
  const f = makeBook({ timeZone: BERLIN, stockOf: (sku) => (sku === 'bread' ? stock.units : 0) });
  f.book.applyCatalog(catalog);
  f.book.setMarkdowns([{ id: 'bakery-evening', skus: ['bread'], fromLocalTime: '20:00', percent: 50, ...rule }], { source: 'manager', actor: 'test' });
  return f;
}

describe('store-local time', () => {
  it('maps local wall-clock times to instants across both DST changes (Europe/Berlin 2025)', () => {
    const date = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
    expect(zonedInstant(BERLIN, date('2025-03-29'), 20 * 60)).toBe(utc('2025-03-29T19:00:00Z'));
    expect(zonedInstant(BERLIN, date('2025-03-30'), 20 * 60)).toBe(utc('2025-03-30T18:00:00Z'));
    // 02:30 does not exist on 30 March: moved forward by the gap to 03:30 CEST
    expect(zonedInstant(BERLIN, date('2025-03-30'), 150)).toBe(utc('2025-03-30T01:30:00Z'));
    // 02:30 happens twice on 26 October: the earlier one (CEST)
    expect(zonedInstant(BERLIN, date('2025-10-26'), 150)).toBe(utc('2025-10-26T00:30:00Z'));
    expect(zonedInstant(BERLIN, date('2025-10-26'), 20 * 60)).toBe(utc('2025-10-26T19:00:00Z'));
    expect(localDate(BERLIN, utc('2025-03-30T22:30:00Z'))).toBe(date('2025-03-31'));
    expect(zonedInstant('America/New_York', date('2025-03-09'), 20 * 60)).toBe(utc('2025-03-10T00:00:00Z'));
  });

  it('a day window is 23 h long on the spring-forward day', () => {
    const [w] = dailyWindows(BERLIN, 0, undefined, utc('2025-03-30T12:00:00Z'), utc('2025-03-30T12:00:00Z')).filter(([a]) => a === utc('2025-03-29T23:00:00Z'));
    expect(w).toEqual([utc('2025-03-29T23:00:00Z'), utc('2025-03-30T22:00:00Z')]);
  });
});

describe('time-of-day markdowns', () => {
  it('start at 20:00 local time on both sides of the spring DST change and end at local midnight', () => {
    const f = evening({ units: 5 });
    const price = (iso: string) => f.book.labelContentAt('bread', utc(iso)).priceMinor;
    expect(price('2025-03-29T18:59:59.999Z')).toBe(300);
    expect(price('2025-03-29T19:00:00Z')).toBe(150);
    expect(price('2025-03-29T22:59:59.999Z')).toBe(150);
    expect(price('2025-03-29T23:00:00Z')).toBe(300);
    expect(price('2025-03-30T17:59:59.999Z')).toBe(300);
    expect(price('2025-03-30T18:00:00Z')).toBe(150);
    expect(price('2025-03-30T21:59:59.999Z')).toBe(150);
    expect(price('2025-03-30T22:00:00Z')).toBe(300);
    expect(f.book.labelContentAt('bread', utc('2025-03-30T19:00:00Z'))).toMatchObject({ priceMinor: 150, wasPriceMinor: 300, promoText: '-50%' });
    expect(f.book.unitPriceAt('bread', utc('2025-03-30T19:00:00Z'))).toMatchObject({ priceMinor: 150, reduction: { kind: 'markdown-rule', id: 'bakery-evening' } });
  });

  it('schedules the next change across the DST change', () => {
    const f = evening({ units: 5 });
    expect(f.book.nextChangeAfter(utc('2025-03-29T12:00:00Z'))).toBe(utc('2025-03-29T19:00:00Z'));
    expect(f.book.nextChangeAfter(utc('2025-03-29T19:00:00Z'))).toBe(utc('2025-03-29T23:00:00Z'));
    expect(f.book.nextChangeAfter(utc('2025-03-30T12:00:00Z'))).toBe(utc('2025-03-30T18:00:00Z'));
    expect(f.book.nextChangeAfter(utc('2025-10-26T12:00:00Z'))).toBe(utc('2025-10-26T19:00:00Z'));
  });

  it('untilLocalTime is exclusive', () => {
    const f = evening({ units: 5 }, { untilLocalTime: '21:30' });
    expect(f.book.labelContentAt('bread', utc('2025-01-10T20:29:59.999Z')).priceMinor).toBe(150);
    expect(f.book.labelContentAt('bread', utc('2025-01-10T20:30:00Z')).priceMinor).toBe(300);
  });

  it('whileStock: the label stops announcing it when the shelf is empty; a unit already taken still gets it', () => {
    const stock = { units: 0 };
    const f = evening(stock);
    const at = utc('2025-01-10T20:00:00Z');
    expect(f.book.labelContentAt('bread', at)).toMatchObject({ priceMinor: 300 });
    expect(f.book.unitPriceAt('bread', at).priceMinor).toBe(150);
    stock.units = 2;
    expect(f.book.labelContentAt('bread', at)).toMatchObject({ priceMinor: 150, wasPriceMinor: 300 });
  });

  it('whileStock: false applies whatever the stock', () => {
    const f = evening({ units: 0 }, { whileStock: false });
    expect(f.book.labelContentAt('bread', utc('2025-01-10T20:00:00Z')).priceMinor).toBe(150);
  });

  it('reports stock changes of covered SKUs to listeners, and only those', () => {
    const f = evening({ units: 0 });
    const heard: PriceChange[] = [];
    f.book.onChange((c) => heard.push(c));
    f.book.stockChanged('cola');
    f.book.stockChanged('bread');
    expect(heard).toEqual([{ cause: 'stock', skus: ['bread'], effectiveFrom: f.now, version: null }]);
  });

  it('nightly markdowns do not become the prior price of the next night (perishables, Art. 6a(3))', () => {
    const f = evening({ units: 5 });
    expect(f.book.labelContentAt('bread', utc('2025-02-20T20:00:00Z'))).toMatchObject({ priceMinor: 150, wasPriceMinor: 300 });
  });

  it('respects the rule’s own validity window', () => {
    const f = evening({ units: 5 }, { validFrom: utc('2025-02-01T00:00:00Z'), validUntil: utc('2025-02-03T00:00:00Z') });
    expect(f.book.labelContentAt('bread', utc('2025-01-31T20:00:00Z')).priceMinor).toBe(300);
    expect(f.book.labelContentAt('bread', utc('2025-02-02T20:00:00Z')).priceMinor).toBe(150);
    expect(f.book.labelContentAt('bread', utc('2025-02-03T20:00:00Z')).priceMinor).toBe(300);
    expect(f.book.nextChangeAfter(utc('2025-02-02T12:00:00Z'))).toBe(utc('2025-02-02T19:00:00Z'));
    expect(f.book.nextChangeAfter(utc('2025-02-02T19:00:00Z'))).toBe(utc('2025-02-02T23:00:00Z'));
    expect(f.book.nextChangeAfter(utc('2025-02-02T23:00:00Z'))).toBeNull();
  });

  it('an all-day rule is one unbroken reduction: its prior price is from before it began', () => {
    const f = makeBook({ timeZone: BERLIN });
    f.book.applyCatalog(catalog);
    f.book.setMarkdowns([{ id: 'all-day', skus: ['chips'], fromLocalTime: '00:00', percent: 10, validFrom: utc('2025-03-01T00:00:00Z') }], { source: 'manager', actor: 't' });
    // 200 until 1 March, then 180 every day: after 40 days the "was" is still 200
    expect(f.book.labelContentAt('chips', utc('2025-04-10T12:00:00Z') + HOUR)).toMatchObject({ priceMinor: 180, wasPriceMinor: 200 });
  });
});
