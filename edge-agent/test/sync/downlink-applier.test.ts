import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildDocument, generateSigningKey, type DocumentInput, type DocChunkMessage, type SigningKey } from '@storeedge/sync';
import { errors } from '../../src/errors.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { Metrics } from '../../src/metrics.ts';
import { PriceBook, type PriceChange } from '../../src/pricing/index.ts';
import type { DocumentPriceBook } from '../../src/sync/document-handlers.ts';
import { DownlinkApplier, type ChunkOutcome } from '../../src/sync/downlink-applier.ts';
import { syncEventTypes } from '../../src/sync/ledger-events.ts';

const HOUR = 3_600_000;
const T0 = 1_764_000_000_000;
const hq1 = generateSigningKey('hq-1');
const hq2 = generateSigningKey('hq-2');
const rogue = generateSigningKey('hq-1'); // same key id, another key: a forger

interface Store {
  ledger: Ledger;
  prices: PriceBook;
  applier: DownlinkApplier;
  metrics: Metrics;
  clock: { now: number };
  changes: PriceChange[];
  /** Feeds every chunk message of a document; returns the last outcome. */
  send(messages: readonly DocChunkMessage[] | readonly unknown[]): ChunkOutcome;
  /** A new applier (and price book) on the same ledger: a restart. */
  restart(): void;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function store(options: { file?: string; wrapPrices?: (book: PriceBook) => DocumentPriceBook } = {}): Store {
  const clock = { now: T0 };
  const ledger = Ledger.open(options.file ?? ':memory:', { now: () => clock.now });
  const metrics = new Metrics();
  cleanups.push(() => {
    ledger.close();
    metrics.close();
  });
  const s = {
    ledger,
    metrics,
    clock,
    changes: [] as PriceChange[],
  } as Store;
  const make = () => {
    s.prices = new PriceBook({ ledger, now: () => clock.now });
    s.prices.onChange((change) => s.changes.push(change));
    s.applier = new DownlinkApplier({
      ledger,
      prices: options.wrapPrices ? options.wrapPrices(s.prices) : s.prices,
      storeId: 's1',
      trustedKeys: [{ keyId: hq1.keyId, publicKey: hq1.publicKey }],
      now: () => clock.now,
      metrics,
    });
  };
  make();
  s.prices.applyCatalog([
    { sku: 'apple', name: 'Apple', priceMinor: 100, currency: 'EUR' },
    { sku: 'pear', name: 'Pear', priceMinor: 200, currency: 'EUR' },
  ]);
  s.changes.length = 0;
  s.send = (messages) => {
    let outcome: ChunkOutcome | undefined;
    for (const message of messages) outcome = s.applier.accept(typeof message === 'string' ? message : JSON.stringify(message));
    return outcome!;
  };
  s.restart = make;
  return s;
}

let nextVersion = 1;
function doc(input: Partial<DocumentInput> & Pick<DocumentInput, 'kind' | 'body'>, signer: SigningKey = hq1, chunkBytes?: number) {
  const built = buildDocument({ version: nextVersion++, stores: ['s1'], issuedAt: T0, ...input }, signer, chunkBytes === undefined ? {} : { chunkBytes });
  return built.messages;
}

const priceAt = (s: Store, sku: string, at: number) => s.prices.regularAt(sku, at)?.priceMinor;
const outcomes = (s: Store) =>
  s.ledger.outboxPending().filter((row) => row.stream === 'sync').map((row): Record<string, unknown> => ({ type: row.event.type, ...(row.event.payload as Record<string, unknown>) }));

describe('DownlinkApplier', () => {
  it('applies a signed prices document at its effective time, in one transaction with its outcome (queued for HQ)', () => {
    const s = store();
    const messages = doc({ kind: 'prices', effectiveFrom: T0 + HOUR, body: { prices: [{ sku: 'apple', priceMinor: 90 }, { sku: 'pear', priceMinor: 180, effectiveFrom: T0 + 2 * HOUR }] } });
    expect(s.send(messages)).toMatchObject({ status: 'applied', kind: 'prices' });
    expect(priceAt(s, 'apple', T0)).toBe(100);
    expect(priceAt(s, 'apple', T0 + HOUR)).toBe(90);
    expect(priceAt(s, 'pear', T0 + HOUR)).toBe(200);
    expect(priceAt(s, 'pear', T0 + 2 * HOUR)).toBe(180);
    expect(s.prices.regularAt('apple', T0 + HOUR)).toMatchObject({ source: 'hq', actor: 'hq' });
    const header = messages[0]!.header;
    expect(outcomes(s)).toEqual([
      expect.objectContaining({ type: syncEventTypes.documentApplied, docId: header.id, kind: 'prices', version: header.version, bodySha256: header.bodySha256, effectiveFrom: T0 + HOUR }),
    ]);
    // HQ's own prices are not sent back up; the outcome is.
    expect(s.ledger.outboxPending().map((row) => row.event.type)).toEqual([syncEventTypes.documentApplied]);
    // Listeners (the labels) hear once, after the commit.
    expect(s.changes.map((c) => c.skus)).toEqual([['apple'], ['pear']]);
  });

  it('refuses forged, tampered, replayed, wrong-store, stale and malformed documents, leaving the price book unchanged', () => {
    const s = store();
    const applied = doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 95 }] } });
    expect(s.send(applied).status).toBe('applied');
    const book = () => [s.prices.history('apple').length, s.prices.history('pear').length, priceAt(s, 'apple', T0 + 10 * HOUR), priceAt(s, 'pear', T0 + 10 * HOUR)];
    const before = book();
    const cases: Array<[string, readonly unknown[], string]> = [];

    cases.push(['forged (same key id, other key)', doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }, rogue), 'SYNC_ERR_DOC_SIGNATURE']);
    cases.push(['signed by an unknown key', doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }, hq2), 'SYNC_ERR_DOC_UNKNOWN_KEY']);
    const tampered = doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 50 }] } }).map((m) => ({ ...m, header: { ...m.header, stores: ['*'] } }));
    cases.push(['header changed after signing', tampered, 'SYNC_ERR_DOC_SIGNATURE']);
    // Same length as the signed body, other price.
    const otherBody = Buffer.from('{"prices":[{"priceMinor":10,"sku":"apple"}]}').toString('base64');
    cases.push(['body swapped under a valid header', doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 50 }] } }).map((m) => ({ ...m, data: otherBody })), 'SYNC_ERR_DOC_BODY_HASH']);
    cases.push(['alg not Ed25519', doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }).map((m) => ({ ...m, alg: 'none' })), 'SYNC_ERR_DOC_SIGNATURE']);
    cases.push(['for another store', doc({ kind: 'prices', stores: ['s2'], body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }), 'SYNC_ERR_DOC_WRONG_STORE']);
    cases.push(['an older version (rollback)', doc({ kind: 'prices', version: 1, body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }), 'SYNC_ERR_DOC_STALE']);
    cases.push(['an unknown SKU (nothing partial)', doc({ kind: 'prices', body: { prices: [{ sku: 'pear', priceMinor: 1 }, { sku: 'plum', priceMinor: 1 }] } }), 'SYNC_ERR_DOC_BODY_INVALID']);
    cases.push(['another currency', doc({ kind: 'prices', body: { prices: [{ sku: 'pear', priceMinor: 1, currency: 'USD' }] } }), 'SYNC_ERR_DOC_BODY_INVALID']);
    cases.push(['not JSON', ['{"v":1,'], 'SYNC_ERR_DOC_MALFORMED']);
    cases.push(['no header', [{ v: 1 }], 'SYNC_ERR_DOC_MALFORMED']);
    cases.push(['expired', doc({ kind: 'prices', expiresAt: T0 - 1, body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }), 'SYNC_ERR_DOC_EXPIRED']);
    cases.push(['a planogram for a store without an inventory', doc({ kind: 'planogram', body: { model: {} } }), 'SYNC_ERR_DOC_UNSUPPORTED_KIND']);

    for (const [what, messages, code] of cases) {
      const outcome = s.send(messages);
      expect({ what, outcome }).toMatchObject({ what, outcome: { status: 'refused', code } });
      expect({ what, book: book() }).toEqual({ what, book: before });
    }
    // The replayed (applied) document: a duplicate, acknowledged by its recorded outcome, not re-applied.
    expect(s.send(applied)).toMatchObject({ status: 'duplicate' });
    expect(book()).toEqual(before);
    expect(s.changes).toHaveLength(1);
    const refused = outcomes(s).filter((o) => o.type === syncEventTypes.documentRefused);
    // Every refusal with a readable header is reported (the two without one are only counted).
    expect(refused.map((o) => o.code)).toEqual(cases.filter(([what]) => what !== 'not JSON' && what !== 'no header').map(([, , code]) => code));
    expect(outcomes(s).filter((o) => o.type === syncEventTypes.documentApplied)).toHaveLength(1);
    // The same refusal again is one event.
    s.send(cases[0]![1]);
    expect(outcomes(s).filter((o) => o.type === syncEventTypes.documentRefused)).toHaveLength(refused.length);
  });

  it('applies a document arriving after its effective time (an outage) on arrival; only the latest due entry per SKU counts', () => {
    const s = store();
    s.clock.now = T0 + 3 * HOUR;
    const messages = doc({
      kind: 'prices',
      effectiveFrom: T0 + HOUR,
      body: { prices: [{ sku: 'apple', priceMinor: 90 }, { sku: 'apple', priceMinor: 80, effectiveFrom: T0 + 2 * HOUR }, { sku: 'apple', priceMinor: 70, effectiveFrom: T0 + 5 * HOUR }] },
    });
    expect(s.send(messages).status).toBe('applied');
    expect(priceAt(s, 'apple', T0 + 2 * HOUR)).toBe(100); // the past is not rewritten
    expect(priceAt(s, 'apple', T0 + 3 * HOUR)).toBe(80);
    expect(priceAt(s, 'apple', T0 + 5 * HOUR)).toBe(70);
    expect(outcomes(s)[0]).toMatchObject({ summary: { prices: 2, superseded: 1, late: 1 }, effectiveFrom: T0 + 3 * HOUR });
  });

  it('reassembles a chunked document in any order and applies it whole', () => {
    const s = store();
    const items = Array.from({ length: 300 }, (_, i) => ({ sku: `sku-${String(i).padStart(3, '0')}`, name: `Item ${i}`, priceMinor: 100 + i, currency: 'EUR' }));
    const messages = doc({ kind: 'catalog', body: { items } }, hq1, 1_000);
    expect(messages.length).toBeGreaterThan(10);
    const shuffled = [...messages.slice(1), messages[0]!];
    for (const m of shuffled.slice(0, -1)) expect(s.applier.accept(JSON.stringify(m)).status).toBe('incomplete');
    expect(s.prices.history('sku-000')).toHaveLength(0);
    expect(s.send([shuffled.at(-1)!])).toMatchObject({ status: 'applied', kind: 'catalog' });
    expect(priceAt(s, 'sku-299', T0)).toBe(399);
    expect(outcomes(s)[0]).toMatchObject({ summary: { items: 300, priced: 300 } });
    // Now a prices document can name them.
    expect(s.send(doc({ kind: 'prices', body: { prices: [{ sku: 'sku-299', priceMinor: 1 }] } })).status).toBe('applied');
  });

  it('applies promotions from the header effectiveFrom', () => {
    const s = store();
    const promotions = [{ id: 'p1', kind: 'percentage', skus: ['apple'], percent: 10 }];
    expect(s.send(doc({ kind: 'promotions', effectiveFrom: T0 + HOUR, body: { promotions } })).status).toBe('applied');
    expect(s.prices.listsAt(T0).promotions).toEqual([]);
    expect(s.prices.listsAt(T0 + HOUR).promotions).toEqual(promotions);
    expect(s.send(doc({ kind: 'promotions', body: { promotions: [{ id: 'bad', kind: 'percentage', skus: ['apple'], percent: 300 }] } }))).toMatchObject({
      status: 'refused',
      code: 'SYNC_ERR_DOC_BODY_INVALID',
    });
  });

  it('rolls back everything when the price book refuses midway, and rebuilds its memory from the ledger', () => {
    const s = store({
      wrapPrices: (book) => ({
        history: (sku) => book.history(sku),
        applyCatalog: (items, actor) => book.applyCatalog(items, actor),
        setPromotions: (list, options) => book.setPromotions(list, options),
        atomically: (fn) => book.atomically(fn),
        // The first price is written (ledger and memory), then a rule the plan did not know says no.
        setPrices: (inputs) => {
          book.setPrices(inputs.slice(0, 1));
          throw errors.EDGE_ERR_PRICE_INVALID('a rule the plan did not know');
        },
      }),
    });
    const events = s.ledger.stats().events;
    const outcome = s.send(doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 90 }, { sku: 'pear', priceMinor: 180 }] } }));
    expect(outcome).toMatchObject({ status: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID', reason: expect.stringContaining('EDGE_ERR_PRICE_INVALID') });
    // apple's price was set in memory before pear failed: gone again, in the file and in memory.
    expect(s.prices.history('apple')).toHaveLength(1);
    expect(priceAt(s, 'apple', T0 + HOUR)).toBe(100);
    expect(s.ledger.stats().events).toBe(events + 1); // only the refusal
    expect(s.changes).toEqual([]); // no listener heard of the rolled-back change

    // A ledger failure (not the document's fault) is thrown, nothing kept, the message may come again.
    const failing = store({
      wrapPrices: (book) => ({
        history: (sku) => book.history(sku),
        applyCatalog: (items, actor) => book.applyCatalog(items, actor),
        setPromotions: (list, options) => book.setPromotions(list, options),
        atomically: (fn) => book.atomically(fn),
        setPrices: (inputs) => {
          book.setPrices(inputs);
          throw new Error('SQLITE_FULL: database or disk is full');
        },
      }),
    });
    const messages = doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 90 }] } });
    expect(() => failing.send(messages)).toThrow('SQLITE_FULL');
    expect(failing.prices.history('apple')).toHaveLength(1);
    expect(outcomes(failing)).toEqual([]);
  });

  it('adds and revokes keys through signed keys documents, and keeps them (and applied versions) across a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const s = store({ file: join(dir, 'ledger.db') });
    // hq-2 is not trusted yet.
    expect(s.send(doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 99 }] } }, hq2))).toMatchObject({ code: 'SYNC_ERR_DOC_UNKNOWN_KEY' });
    expect(s.send(doc({ kind: 'keys', body: { add: [{ keyId: 'hq-2', publicKey: hq2.publicKey }], revoke: ['hq-1'] } }))).toMatchObject({ code: 'SYNC_ERR_DOC_KEY_SELF_REVOKE' });
    expect(s.send(doc({ kind: 'keys', body: { add: [{ keyId: 'hq-2', publicKey: hq2.publicKey }], revoke: [] } })).status).toBe('applied');
    const byHq2 = doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 98 }] } }, hq2);
    expect(s.send(byHq2).status).toBe('applied');
    expect(s.send(doc({ kind: 'keys', body: { add: [], revoke: ['hq-1'] } }, hq2)).status).toBe('applied');
    expect(s.applier.status().trustedKeys).toEqual(['hq-2']);
    const oldKeyDoc = doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }, hq1);
    expect(s.send(oldKeyDoc)).toMatchObject({ code: 'SYNC_ERR_DOC_UNKNOWN_KEY' });

    // A restart (as after kill -9: nothing but the file survives) rebuilds the ring and the versions.
    s.restart();
    expect(s.applier.status()).toMatchObject({ trustedKeys: ['hq-2'], versions: { prices: byHq2[0]!.header.version } });
    expect(s.send(oldKeyDoc)).toMatchObject({ code: 'SYNC_ERR_DOC_UNKNOWN_KEY' });
    expect(s.send(byHq2)).toMatchObject({ status: 'duplicate' });
    expect(priceAt(s, 'apple', T0)).toBe(98);
    expect(s.prices.history('apple')).toHaveLength(2);
    const older = doc({ kind: 'prices', version: byHq2[0]!.header.version - 1, body: { prices: [{ sku: 'apple', priceMinor: 2 }] } }, hq2);
    expect(s.send(older)).toMatchObject({ code: 'SYNC_ERR_DOC_STALE' });
    expect(s.send(doc({ kind: 'keys', body: { add: [], revoke: ['hq-2'] } }, hq2))).toMatchObject({ code: 'SYNC_ERR_DOC_KEY_SELF_REVOKE' });
  });

  it('flags a document issued too far ahead of the store clock without adopting its time', async () => {
    const s = store();
    expect(s.send(doc({ kind: 'prices', issuedAt: Date.now() + 10 * HOUR, body: { prices: [{ sku: 'apple', priceMinor: 97 }] } })).status).toBe('applied');
    expect(outcomes(s)[0]).toMatchObject({ clockSkewMs: expect.any(Number) });
    const metric = await s.metrics.registry.getSingleMetric('storeedge_sync_clock_skew_total')?.get();
    expect(metric?.values[0]?.value).toBe(1);
  });

  it('records at most refusalsPerMinute refusals (a forged-document flood does not fill the ledger)', () => {
    const s = store();
    const events = s.ledger.stats().events;
    for (let i = 0; i < 70; i++) s.send(doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: i + 1 }] } }, hq2));
    expect(s.ledger.stats().events - events).toBe(60);
    s.clock.now += 60_000;
    s.send(doc({ kind: 'prices', body: { prices: [{ sku: 'apple', priceMinor: 1 }] } }, hq2));
    expect(s.ledger.stats().events - events).toBe(61);
  });
});
