import type BetterSqlite3 from 'better-sqlite3';

export type Db = BetterSqlite3.Database;

/** One row of the append-only log. */
export interface LedgerEvent<P = unknown> {
  /** 1, 2, 3 … in append order; no gaps. */
  readonly seq: number;
  /** Dotted event type, e.g. "device.registered". */
  readonly type: string;
  /** Logical stream the event belongs to (e.g. "devices", "receipts"); uplink is ordered per stream. */
  readonly stream: string;
  /** Idempotency key: appending the same key twice stores one event. */
  readonly key: string;
  readonly payload: P;
  /** Agent wall-clock time of the append, ms since the epoch. */
  readonly at: number;
  /** Hash of the previous event (64 zeros for the first). */
  readonly prevHash: string;
  /** sha256 hex over the canonical serialisation of seq, type, stream, key, payload, at and prevHash. */
  readonly hash: string;
}

export interface AppendInput<P = unknown> {
  type: string;
  stream: string;
  key: string;
  payload: P;
  /** Also queue the event in the outbox for uplink to HQ. Default false. */
  outbox?: boolean;
}

export interface AppendResult<P = unknown> {
  event: LedgerEvent<P>;
  /** True when an event with this key was already in the log (nothing new was written). */
  duplicate: boolean;
}

/**
 * A projection keeps read tables derived from the log. It is updated in the same transaction
 * as the append, and `reset` + re-applying every event rebuilds it exactly (replay).
 */
export interface Projection {
  readonly name: string;
  /** Create its tables if missing (idempotent). */
  migrate(db: Db): void;
  /** Empty its tables (before a replay). */
  reset(db: Db): void;
  /** Apply one event; ignore types it does not know. Must be deterministic: read only the event and its own tables. */
  apply(db: Db, event: LedgerEvent): void;
}

export interface OutboxRow {
  readonly id: number;
  readonly seq: number;
  readonly stream: string;
  readonly createdAt: number;
  readonly attempts: number;
}
