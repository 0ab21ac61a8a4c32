import Database from 'better-sqlite3';
import { expect } from 'vitest';
import { contentHash } from '@storeedge/sync';
import { HqStore, type HeldRecord } from '@storeedge/sync/hq/index.ts';
import { uplinkPayload } from '../../../src/sync/uplink-relay.ts';

/**
 * The claim of issue 7's fault tests: after recovery HQ holds exactly the store's outbox — the
 * same records under the same identities with the same content, each once, nothing missing.
 * Both sides are read from their SQLite files (read-only), not from either process's word.
 */

/** One outbox row of the store's ledger, as HQ should hold it. */
export interface StoreOutboxRecord {
  seq: number;
  stream: string;
  type: string;
  key: string;
  at: number;
  hlc: string;
  /** The payload as it may leave the store (`uplinkPayload`: store-only members removed). */
  payload: unknown;
  hash: string;
  sent: boolean;
  rejected: boolean;
  lastError: string | null;
}

/** The ledger's epoch and every outbox row with its event, read-only (the agent may be running or stopped). */
export function readStoreOutbox(ledgerFile: string): { epoch: string; records: StoreOutboxRecord[] } {
  const db = new Database(ledgerFile, { readonly: true, fileMustExist: true });
  try {
    return db.transaction(() => {
      const epoch = db.prepare<[], string>("SELECT value FROM ledger_meta WHERE key = 'epoch'").pluck().get()!;
      const rows = db
        .prepare<[], { id: number; hlc: string; sent_at: number | null; rejected_at: number | null; last_error: string | null; stream: string; type: string; key: string; at: number; payload: string }>(
          `SELECT o.id, o.hlc, o.sent_at, o.rejected_at, o.last_error, e.stream, e.type, e.key, e.at, e.payload
           FROM outbox o JOIN events e ON e.seq = o.seq ORDER BY o.id`,
        )
        .all();
      const records = rows.map((row) => {
        const payload = uplinkPayload(JSON.parse(row.payload) as unknown);
        const { stream, type, key, at } = row;
        return {
          seq: row.id,
          stream,
          type,
          key,
          at,
          hlc: row.hlc,
          payload,
          hash: contentHash({ stream, type, key, at, payload }),
          sent: row.sent_at !== null,
          rejected: row.rejected_at !== null,
          lastError: row.last_error,
        };
      });
      return { epoch, records };
    })();
  } finally {
    db.close();
  }
}

/**
 * What HQ's database says about one store: a file is opened read-only (beside a running HQ or
 * after it stopped); an open HqStore is read as it is.
 */
export function readHq(database: string | HqStore, storeId: string) {
  const hq = typeof database === 'string' ? HqStore.open(database, { readonly: true }) : database;
  try {
    return {
      records: hq.records(storeId),
      summary: hq.store(storeId),
      gaps: hq.gaps(storeId),
      rejects: hq.rejects({ store: storeId }),
      duplicates: hq.duplicates(storeId),
    };
  } finally {
    if (typeof database === 'string') hq.close();
  }
}

/**
 * Asserts HQ holds exactly the store's outbox: every row acknowledged (none pending, none
 * rejected), the same count, each (epoch, seq) with the same key, stream, type, times, payload
 * and content hash, no key twice, one epoch whose watermark is the highest seq, no gaps, no
 * refusals. Returns what was compared, for further assertions.
 */
export function expectHqHoldsExactlyTheOutbox(ledgerFile: string, hqDatabase: string | HqStore, storeId: string) {
  const store = readStoreOutbox(ledgerFile);
  const hq = readHq(hqDatabase, storeId);
  const pending = store.records.filter((r) => !r.sent);
  expect(pending.map((r) => `${r.seq} ${r.key}`), 'outbox rows still pending at the store').toEqual([]);
  expect(store.records.filter((r) => r.rejected).map((r) => `${r.seq} ${r.key}: ${r.lastError}`), 'outbox rows HQ refused').toEqual([]);

  const held = new Map<number, HeldRecord>();
  for (const record of hq.records) {
    expect(record.epoch, `HQ record ${record.seq} is of another epoch`).toBe(store.epoch);
    expect(held.has(record.seq), `HQ holds seq ${record.seq} twice`).toBe(false);
    held.set(record.seq, record);
  }
  expect(new Set(hq.records.map((r) => r.key)).size, 'HQ holds a key twice').toBe(hq.records.length);
  const missing = store.records.filter((r) => !held.has(r.seq)).map((r) => `${r.seq} ${r.key}`);
  const ours = new Set(store.records.map((r) => r.seq));
  const extra = hq.records.filter((r) => !ours.has(r.seq)).map((r) => `${r.seq} ${r.key}`);
  expect({ missing, extra }, 'HQ records vs the store outbox').toEqual({ missing: [], extra: [] });
  expect(hq.records).toHaveLength(store.records.length);
  for (const mine of store.records) {
    const theirs = held.get(mine.seq)!;
    const { seq, stream, type, key, at, hlc, payload, hash } = theirs;
    expect({ seq, stream, type, key, at, hlc, payload, hash }, `HQ's copy of seq ${mine.seq}`).toEqual({
      seq: mine.seq,
      stream: mine.stream,
      type: mine.type,
      key: mine.key,
      at: mine.at,
      hlc: mine.hlc,
      payload: mine.payload,
      hash: mine.hash,
    });
  }
  const maxSeq = store.records.at(-1)?.seq ?? 0;
  expect(hq.summary?.epochs.map((e) => ({ epoch: e.epoch, watermark: e.watermark, maxSeq: e.maxSeq, held: e.held, gaps: e.gaps }))).toEqual([
    { epoch: store.epoch, watermark: maxSeq, maxSeq, held: store.records.length, gaps: [] },
  ]);
  expect(hq.gaps).toEqual([]);
  expect(hq.rejects).toEqual([]);
  expect(hq.summary?.held).toBe(store.records.length);
  return { store, hq, byType: countBy(store.records, (r) => r.type) };
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}
