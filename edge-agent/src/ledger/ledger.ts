import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HybridClock } from '@storeedge/sync';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { errors } from '../errors.ts';
import { canonicalJson } from './canonical.ts';
import { GENESIS_HASH, eventHash, verifyRows, type ChainVerdict, type StoredEventRow } from './chain.ts';
import { migrateLedgerSchema } from './schema.ts';
import type { AppendInput, AppendResult, Db, LedgerEvent, OutboxRow, Projection } from './types.ts';

export interface LedgerOptions {
  /** Read models kept in step with the log, in this order, inside each append's transaction. */
  projections?: readonly Projection[];
  /**
   * 'full' (default): every commit fsyncs the WAL, so an append that returned survives power
   * loss — the ledger holds receipts and payments, and a store's power does fail.
   * 'normal': survives a process crash (kill -9) but may lose the last commits on power loss.
   */
  synchronous?: 'full' | 'normal';
  /** Clock for `at` and outbox times, ms since the epoch. Injected so tests need no real clock. */
  now?: () => number;
  /** How long to wait for another process (e.g. the CLI) holding the write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** A remote clock further ahead than this is flagged, not adopted (`observeRemoteClock`). Default 60 s. */
  maxClockSkewMs?: number;
}

export interface LedgerHead {
  seq: number;
  hash: string;
}

export interface LedgerStats {
  /** Events in the log (= head seq: seqs have no gaps). */
  events: number;
  /** Size of the main database file: page_count × page_size (the WAL is not counted). */
  bytes: number;
  head: LedgerHead;
  outboxPending: number;
  /** Outbox rows HQ refused for good (kept in the file, no longer pending). */
  outboxRejected: number;
}

/** Pending outbox rows of one stream. */
export interface OutboxBacklog {
  stream: string;
  pending: number;
  /** Agent time the oldest pending row was queued. */
  oldestCreatedAt: number;
}

export interface EventQuery {
  /** First seq to return (inclusive). */
  fromSeq?: number;
  limit?: number;
  stream?: string;
  type?: string;
}

/** A queued outbox row with its event, as the uplink needs it. */
export interface PendingOutboxEntry extends OutboxRow {
  /** Error of the last failed attempt, if any. */
  readonly lastError: string | null;
  /** Hybrid logical clock stamp given at append (docs/sync.md "Clock"): string order is time order. */
  readonly hlc: string;
  readonly event: LedgerEvent;
}

export type { ChainVerdict } from './chain.ts';

/** Rows per page when replaying (see `replay`). */
const replayPageSize = 500;
/** SQLite's "no limit". */
const noLimit = -1;

interface OutboxJoinRow extends StoredEventRow {
  outbox_id: number;
  created_at: number;
  attempts: number;
  last_error: string | null;
  hlc: string;
}

/**
 * The append-only, hash-chained event log in SQLite — the store's source of truth. Appends are
 * synchronous: when `append` returns, the event, its projections and its outbox row are
 * committed together (or, inside `transaction`, together with the caller's writes).
 */
export class Ledger {
  readonly file: string;
  readonly #db: Db;
  readonly #projections: readonly Projection[];
  readonly #now: () => number;
  readonly #clock: HybridClock;
  readonly #epoch: string;
  readonly #statements: ReturnType<typeof prepareStatements>;
  readonly #eventQueries = new Map<string, Statement<[Record<string, string | number>], StoredEventRow>>();
  // IMMEDIATE: take the write lock at BEGIN. A deferred transaction that reads the head and
  // then writes fails with SQLITE_BUSY (not waited out by busy_timeout) when another process
  // committed in between.
  readonly #appendOne: (input: AppendInput) => AppendResult;
  readonly #appendAll: (inputs: readonly AppendInput[]) => AppendResult[];

  private constructor(file: string, db: Db, options: LedgerOptions) {
    this.file = file;
    this.#db = db;
    this.#projections = [...(options.projections ?? [])];
    this.#now = options.now ?? Date.now;
    this.#statements = prepareStatements(db);
    this.#epoch = this.#statements.epoch.get() ?? '';
    this.#clock = new HybridClock({ now: this.#now, last: this.#statements.lastHlc.get() ?? null, maxSkewMs: options.maxClockSkewMs });
    const one = db.transaction((input: AppendInput) => this.#write(input));
    const all = db.transaction((inputs: readonly AppendInput[]) => inputs.map((input) => this.#write(input)));
    this.#appendOne = (input) => one.immediate(input);
    this.#appendAll = (inputs) => all.immediate(inputs);
  }

  /** Opens (creating if missing) a ledger file, or ':memory:'. Runs schema and projection migrations. */
  static open(file: string, options: LedgerOptions = {}): Ledger {
    const inMemory = file === ':memory:' || file === '';
    if (!inMemory) mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file);
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      // WAL: readers (HTTP API, CLI) never block the appender, and a commit is one sequential write.
      if (!inMemory) db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = ON');
      migrateLedgerSchema(db, file);
      const projections = options.projections ?? [];
      db.transaction(() => projections.forEach((projection) => projection.migrate(db))).immediate();
      return new Ledger(file, db, options);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** The connection, for projections' owners to query their read tables. Write only through the ledger. */
  get db(): Db {
    return this.#db;
  }

  /**
   * Appends one event, or returns the stored one if its key is already in the log with the same
   * type, stream and (canonically equal) payload. Same key, different content: throws
   * EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT. A projection that throws rolls everything back.
   */
  append<P>(input: AppendInput<P>): AppendResult<P> {
    return this.#appendOne(input) as AppendResult<P>;
  }

  /** Appends in order, all in one transaction: all are written or none. */
  appendMany(inputs: readonly AppendInput[]): AppendResult[] {
    return this.#appendAll(inputs);
  }

  /**
   * Runs `fn` in one write transaction: appends inside it and the caller's own writes commit
   * together or not at all. Nests (inner calls become savepoints). `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.#db.transaction(fn).immediate();
  }

  /**
   * This ledger file's uplink epoch (docs/sync.md): random, fixed when the file was created, so
   * outbox sequence numbers of a restored or replaced store never collide with the old ones.
   */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Moves the outbox clock to at least a remote time (e.g. a document's issue time) unless it is
   * more than the skew bound ahead of this machine's clock, which is flagged and not adopted.
   */
  observeRemoteClock(remoteMs: number): { adopted: boolean; skewMs: number } {
    return this.#clock.observe(remoteMs);
  }

  head(): LedgerHead {
    return this.#statements.head.get() ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** The chain hash of the event at `seq`, as the file has it now; undefined when there is none. */
  hashAt(seq: number): string | undefined {
    return this.#statements.hashAt.get(seq);
  }

  stats(): LedgerStats {
    const head = this.head();
    const pageCount = this.#db.pragma('page_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    const outboxPending = this.#statements.outboxPendingCount.get() ?? 0;
    const outboxRejected = this.#statements.outboxRejectedCount.get() ?? 0;
    return { events: head.seq, bytes: pageCount * pageSize, head, outboxPending, outboxRejected };
  }

  get(seq: number): LedgerEvent | undefined {
    const row = this.#statements.bySeq.get(seq);
    return row && toEvent(row);
  }

  getByKey(key: string): LedgerEvent | undefined {
    const row = this.#statements.byKey.get(key);
    return row && toEvent(row);
  }

  /** Events in ascending seq order, filtered by all the given options. */
  events(query: EventQuery = {}): LedgerEvent[] {
    const conditions: string[] = [];
    const params: Record<string, string | number> = {};
    if (query.fromSeq !== undefined) {
      conditions.push('seq >= @fromSeq');
      params.fromSeq = query.fromSeq;
    }
    if (query.stream !== undefined) {
      conditions.push('stream = @stream');
      params.stream = query.stream;
    }
    if (query.type !== undefined) {
      conditions.push('type = @type');
      params.type = query.type;
    }
    params.limit = limitOrNone(query.limit);
    const sql = `SELECT * FROM events ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''} ORDER BY seq LIMIT @limit`;
    let statement = this.#eventQueries.get(sql);
    if (!statement) {
      statement = this.#db.prepare<Record<string, string | number>, StoredEventRow>(sql);
      this.#eventQueries.set(sql, statement);
    }
    return statement.all(params).map(toEvent);
  }

  /** Recomputes every hash and link from seq 1; reports the first seq that does not verify. */
  verifyChain(): ChainVerdict {
    return verifyRows(this.#statements.allRows.iterate());
  }

  /**
   * Rebuilds every projection from the log: reset, then apply each event in seq order, in one
   * transaction (readers see the old read model until it commits). Refuses a broken chain —
   * rebuilding state from edited events would launder the edit.
   */
  replay(): { events: number } {
    return this.transaction(() => {
      const verdict = this.verifyChain();
      if (!verdict.ok) {
        throw errors.EDGE_ERR_LEDGER_CHAIN_BROKEN(
          `ledger ${this.file} fails its hash chain at seq ${verdict.brokenAt} (${verdict.reason}); not replaying`,
          { details: verdict },
        );
      }
      for (const projection of this.#projections) projection.reset(this.#db);
      let events = 0;
      for (const event of this.#allEventsPaged()) {
        for (const projection of this.#projections) projection.apply(this.#db, event);
        events += 1;
      }
      return { events };
    });
  }

  /**
   * Queued events not yet acknowledged by the uplink, in outbox id order (= seq order), optionally
   * one stream's and only rows with id > `afterId`.
   */
  outboxPending(options: { stream?: string; limit?: number; afterId?: number } = {}): PendingOutboxEntry[] {
    const limit = limitOrNone(options.limit);
    const afterId = options.afterId ?? 0;
    const rows =
      options.stream === undefined
        ? this.#statements.outboxPending.all(afterId, limit)
        : this.#statements.outboxPendingByStream.all(afterId, options.stream, limit);
    return rows.map((row) => ({
      id: row.outbox_id,
      seq: row.seq,
      stream: row.stream,
      createdAt: row.created_at,
      attempts: row.attempts,
      lastError: row.last_error,
      hlc: row.hlc,
      event: toEvent(row),
    }));
  }

  /** Pending rows per stream, with the age of each stream's oldest (sync health). */
  outboxBacklog(): OutboxBacklog[] {
    return this.#statements.outboxBacklog.all().map((row) => ({ stream: row.stream, pending: row.pending, oldestCreatedAt: row.oldest }));
  }

  /**
   * HQ refused a row for good (e.g. an idempotency conflict): it leaves the pending set so it is
   * not re-sent forever, and stays in the file with the reason (`stats().outboxRejected`).
   */
  markRejected(id: number, reason: string): void {
    const at = this.#now();
    this.#statements.markRejected.run(at, at, reason, id);
  }

  /** Marks outbox rows delivered; already-sent and unknown ids are ignored (acks may repeat). */
  markSent(ids: readonly number[]): void {
    const sentAt = this.#now();
    this.transaction(() => {
      for (const id of ids) this.#statements.markSent.run(sentAt, id);
    });
  }

  /** Marks every still-pending row with from ≤ id ≤ to delivered, in one statement (the uplink acks by range). Returns how many. */
  markSentRange(from: number, to: number): number {
    return this.#statements.markSentRange.run(this.#now(), from, to).changes;
  }

  /** Records a failed delivery attempt; the row stays pending, in its place in the stream. */
  markFailed(id: number, error: string): void {
    this.#statements.markFailed.run(error, id);
  }

  /** Moves the WAL into the main file and truncates it, so the WAL does not grow without bound. */
  checkpoint(): void {
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Checkpoints and closes. Safe to call twice. */
  close(): void {
    if (!this.#db.open) return;
    try {
      this.checkpoint();
    } finally {
      this.#db.close();
    }
  }

  #write(input: AppendInput): AppendResult {
    requireName('type', input.type);
    requireName('stream', input.stream);
    requireName('key', input.key);
    const payloadJson = canonicalJson(input.payload);

    const existing = this.#statements.byKey.get(input.key);
    if (existing) return { event: sameContentOrThrow(existing, input, payloadJson), duplicate: true };

    const head = this.head();
    const at = this.#now();
    // Projections get the payload as it will read back from the file (parsed canonical JSON),
    // not the caller's object, so applying now and replaying later see identical input.
    const fields = { seq: head.seq + 1, type: input.type, stream: input.stream, key: input.key, payload: JSON.parse(payloadJson) as unknown, at, prevHash: head.hash };
    const event: LedgerEvent = { ...fields, hash: eventHash(fields) };
    this.#statements.insertEvent.run(event.seq, event.type, event.stream, event.key, payloadJson, event.at, event.prevHash, event.hash);
    for (const projection of this.#projections) projection.apply(this.#db, event);
    if (input.outbox) this.#statements.insertOutbox.run(event.seq, event.stream, at, this.#clock.tick());
    return { event, duplicate: false };
  }

  /**
   * All events in seq order, a page at a time. Not one statement iterator: better-sqlite3
   * refuses other statements on a connection while an iterator is open, and projections write
   * while we go. Keyset pages (seq > last) keep memory bounded just the same.
   */
  *#allEventsPaged(): Generator<LedgerEvent> {
    let afterSeq = 0;
    for (;;) {
      const rows = this.#statements.page.all(afterSeq, replayPageSize);
      for (const row of rows) yield toEvent(row);
      const last = rows.at(-1);
      if (!last || rows.length < replayPageSize) return;
      afterSeq = last.seq;
    }
  }
}

function prepareStatements(db: Db) {
  const outboxSelect = `SELECT o.id AS outbox_id, o.created_at, o.attempts, o.last_error, o.hlc, e.*
    FROM outbox o JOIN events e ON e.seq = o.seq WHERE o.sent_at IS NULL AND o.id > ?`;
  return {
    head: db.prepare<[], LedgerHead>('SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1'),
    bySeq: db.prepare<[number], StoredEventRow>('SELECT * FROM events WHERE seq = ?'),
    hashAt: db.prepare<[number], string>('SELECT hash FROM events WHERE seq = ?').pluck(),
    byKey: db.prepare<[string], StoredEventRow>('SELECT * FROM events WHERE key = ?'),
    allRows: db.prepare<[], StoredEventRow>('SELECT * FROM events ORDER BY seq'),
    page: db.prepare<[number, number], StoredEventRow>('SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?'),
    insertEvent: db.prepare<[number, string, string, string, string, number, string, string]>(
      'INSERT INTO events (seq, type, stream, key, payload, at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertOutbox: db.prepare<[number, string, number, string]>('INSERT INTO outbox (seq, stream, created_at, hlc) VALUES (?, ?, ?, ?)'),
    outboxPending: db.prepare<[number, number], OutboxJoinRow>(`${outboxSelect} ORDER BY o.id LIMIT ?`),
    outboxPendingByStream: db.prepare<[number, string, number], OutboxJoinRow>(`${outboxSelect} AND o.stream = ? ORDER BY o.id LIMIT ?`),
    outboxPendingCount: db.prepare<[], number>('SELECT count(*) FROM outbox WHERE sent_at IS NULL').pluck(),
    outboxRejectedCount: db.prepare<[], number>('SELECT count(*) FROM outbox WHERE rejected_at IS NOT NULL').pluck(),
    outboxBacklog: db.prepare<[], { stream: string; pending: number; oldest: number }>(
      'SELECT stream, count(*) AS pending, min(created_at) AS oldest FROM outbox WHERE sent_at IS NULL GROUP BY stream ORDER BY stream',
    ),
    markRejected: db.prepare<[number, number, string, number]>('UPDATE outbox SET sent_at = ?, rejected_at = ?, last_error = ? WHERE id = ? AND sent_at IS NULL'),
    epoch: db.prepare<[], string>("SELECT value FROM ledger_meta WHERE key = 'epoch'").pluck(),
    lastHlc: db.prepare<[], string>('SELECT hlc FROM outbox WHERE hlc IS NOT NULL ORDER BY id DESC LIMIT 1').pluck(),
    markSent: db.prepare<[number, number]>('UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL'),
    markSentRange: db.prepare<[number, number, number]>('UPDATE outbox SET sent_at = ? WHERE id BETWEEN ? AND ? AND sent_at IS NULL'),
    markFailed: db.prepare<[string, number]>('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id = ? AND sent_at IS NULL'),
  };
}

function toEvent(row: StoredEventRow): LedgerEvent {
  return {
    seq: row.seq,
    type: row.type,
    stream: row.stream,
    key: row.key,
    payload: JSON.parse(row.payload) as unknown,
    at: row.at,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** The stored event when `input` repeats it exactly; otherwise the key names two facts. */
function sameContentOrThrow(existing: StoredEventRow, input: AppendInput, payloadJson: string): LedgerEvent {
  const differs = [
    ...(existing.type !== input.type ? ['type'] : []),
    ...(existing.stream !== input.stream ? ['stream'] : []),
    ...(existing.payload !== payloadJson ? ['payload'] : []),
  ];
  if (differs.length === 0) return toEvent(existing);
  throw errors.EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT(
    `idempotency key "${input.key}" is already used by seq ${existing.seq} with a different ${differs.join(' and ')}`,
    { details: { key: input.key, seq: existing.seq, differs } },
  );
}

function limitOrNone(limit: number | undefined): number {
  if (limit === undefined) return noLimit;
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError(`ledger: limit must be a non-negative integer, got ${limit}`);
  return limit;
}

function requireName(field: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`ledger append: ${field} must be a non-empty string, got ${JSON.stringify(value) ?? String(value)}`);
  }
}
