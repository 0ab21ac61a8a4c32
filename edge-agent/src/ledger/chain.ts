import { canonicalJson, sha256Hex } from './canonical.ts';
import type { LedgerEvent } from './types.ts';

/** `prevHash` of the first event: there is nothing before it. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields an event's hash covers: everything in the row except the hash itself. */
export type HashedFields = Omit<LedgerEvent, 'hash'>;

/**
 * sha256 hex of canonicalJson({seq, type, stream, key, payload, at, prevHash}). Because the
 * canonical form sorts keys, the bytes hashed are, in this order:
 * {"at":…,"key":…,"payload":…,"prevHash":…,"seq":…,"stream":…,"type":…}
 */
export function eventHash(fields: HashedFields): string {
  const { seq, type, stream, key, payload, at, prevHash } = fields;
  return sha256Hex(canonicalJson({ seq, type, stream, key, payload, at, prevHash }));
}

/** A row of the `events` table as SQLite returns it (payload still canonical JSON text). */
export interface StoredEventRow {
  seq: number;
  type: string;
  stream: string;
  key: string;
  payload: string;
  at: number;
  prev_hash: string;
  hash: string;
}

export type ChainVerdict = { ok: true; checked: number } | { ok: false; brokenAt: number; reason: string };

/**
 * Walks rows in seq order and checks what the chain promises: seqs run 1, 2, 3 … without a
 * gap, each prev_hash is the previous row's hash, each hash matches the row's content, and the
 * payload is stored in canonical form (so an edit that keeps the JSON meaning but changes the
 * bytes is caught too). Stops at the first break; `brokenAt` is the first seq that is wrong or
 * missing.
 *
 * What it cannot see from the file alone: rows cut off the end (the shorter log is still a
 * valid chain). That needs the head hash kept somewhere else, e.g. acknowledged by HQ.
 */
export function verifyRows(rows: Iterable<StoredEventRow>): ChainVerdict {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (const row of rows) {
    if (row.seq !== expectedSeq) {
      return row.seq > expectedSeq
        ? { ok: false, brokenAt: expectedSeq, reason: `seq ${expectedSeq} is missing (the next row is seq ${row.seq})` }
        : { ok: false, brokenAt: expectedSeq, reason: `expected seq ${expectedSeq}, found seq ${row.seq}` };
    }
    if (row.prev_hash !== prevHash) {
      return {
        ok: false,
        brokenAt: row.seq,
        reason: row.seq === 1 ? 'prev_hash of the first event is not the genesis hash' : `prev_hash does not match the hash of seq ${row.seq - 1}`,
      };
    }
    let payload: unknown;
    try {
      payload = JSON.parse(row.payload);
    } catch {
      return { ok: false, brokenAt: row.seq, reason: 'payload is not valid JSON' };
    }
    if (canonicalJson(payload) !== row.payload) {
      return { ok: false, brokenAt: row.seq, reason: 'payload is not stored in canonical form (edited)' };
    }
    const recomputed = eventHash({ seq: row.seq, type: row.type, stream: row.stream, key: row.key, payload, at: row.at, prevHash: row.prev_hash });
    if (recomputed !== row.hash) {
      return { ok: false, brokenAt: row.seq, reason: 'hash does not match the event content (content or hash edited)' };
    }
    prevHash = row.hash;
    expectedSeq += 1;
  }
  return { ok: true, checked: expectedSeq - 1 };
}
