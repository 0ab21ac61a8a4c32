import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { canonicalJson } from '../canonical.ts';
import type { DocChunkMessage, DocumentHeader } from '../documents.ts';
import type { SyncErrorCode } from '../errors.ts';
import { contentHash, toRanges, type Checkpoint, type UplinkAck, type UplinkBatch, type UplinkRecord } from '../uplink.ts';
import { migrateHqSchema, requireCurrentHqSchema, type Db } from './schema.ts';

/**
 * The reference HQ's SQLite file: the uplink inbox (exactly-once effect over at-least-once
 * delivery, G3), per-(store, epoch) watermarks and gaps (G4), the documents HQ signed with
 * their per-store delivery and outcome, and what each store last said about itself.
 */

export interface HqStoreOptions {
  /**
   * 'full' (default): every commit fsyncs, so an ack HQ sent is never for a record a power cut
   * then lost (the store would mark it sent and never re-send it). 'normal' only for benches.
   */
  synchronous?: 'full' | 'normal';
  /** How long to wait for another connection holding the write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Open for reading only (`hq status` beside a running HQ); the file must exist and be migrated. */
  readonly?: boolean;
}

/** A record HQ holds, with where it came from. */
export interface HeldRecord extends UplinkRecord {
  store: string;
  epoch: string;
  /** HQ wall clock when it was first stored. */
  receivedAt: number;
}

/** One refused record in an ack, plus what was logged. */
export interface RejectedRecord {
  seq: number;
  code: SyncErrorCode;
  reason: string;
}

/** What one batch did, beyond its ack. */
export interface IngestResult {
  ack: UplinkAck;
  /** Records stored for the first time. */
  stored: number;
  /** Records HQ already held (same identity, same hash): acked, not stored again. */
  duplicates: number;
  rejected: RejectedRecord[];
  /** Document outcomes (sync.document.applied / .refused) among the new records. */
  documentOutcomes: DocumentOutcome[];
  /** The batch's checkpoint: marks checked against kept ones, and the forks found (none: consistent). */
  checkpoint: { checked: number; forks: CheckpointFork[] } | null;
}

export interface EpochState {
  epoch: string;
  /** Every seq ≤ watermark is settled at HQ: held, or refused for good. */
  watermark: number;
  /** Highest seq seen in this epoch. */
  maxSeq: number;
  /** Records of this epoch in the inbox. */
  held: number;
  firstSeenAt: number;
  lastBatchAt: number;
  /** Holes between the watermark and maxSeq: seqs HQ has not seen (inclusive ranges). */
  gaps: Array<[number, number]>;
  /** The head (ledger seq) of the latest checkpoint, and when it arrived (G9); null before any. */
  checkpoint: { seq: number; at: number } | null;
}

/** A checkpoint that contradicted a mark HQ kept (SYNC_ERR_CHECKPOINT_FORK). */
export interface CheckpointFork {
  store: string;
  epoch: string;
  /** Ledger seq where the store's chain now differs from what it sent before. */
  seq: number;
  heldHash: string;
  claimedHash: string;
  batch: string;
  at: number;
}

export interface StoreCounters {
  batches: number;
  recordsNew: number;
  recordsDuplicate: number;
  recordsRejected: number;
}

export interface StoreSummary {
  id: string;
  firstSeenAt: number;
  lastSeenAt: number;
  lastBatchAt: number | null;
  /** The store's last retained `up/status` payload, as it sent it; null if none (or cleared). */
  status: unknown;
  statusAt: number | null;
  counters: StoreCounters;
  /** Records HQ holds for this store (= counters.recordsNew). */
  held: number;
  /** Epochs, the newest first seen first. */
  epochs: EpochState[];
  /** Checkpoint forks found for this store, ever (G9): anything above 0 needs an investigation. */
  forks: number;
}

export interface StoreGap {
  epoch: string;
  from: number;
  to: number;
}

export interface RejectEntry {
  id: number;
  store: string;
  epoch: string;
  seq: number;
  batch: string;
  key: string;
  code: string;
  reason: string;
  hash: string;
  record: unknown;
  firstAt: number;
  lastAt: number;
  times: number;
}

export type DocumentOutcomeKind = 'applied' | 'refused';

export interface DocumentOutcome {
  docId: string;
  store: string;
  outcome: DocumentOutcomeKind;
  kind: string | null;
  version: number | null;
  code: string | null;
  reason: string | null;
  /** Store wall clock of the report. */
  at: number;
  hlc: string;
  receivedAt: number;
}

export interface DocumentTarget {
  store: string;
  /** Times every chunk was handed to the broker (PUBACK). */
  sends: number;
  sentAt: number | null;
  outcome: DocumentOutcome | null;
}

export interface StoredDocument {
  id: string;
  kind: string;
  version: number;
  header: DocumentHeader;
  /** As addressed: store ids, or ['*']. */
  stores: string[];
  publishedAt: number;
  expiresAt: number | null;
  targets: DocumentTarget[];
}

/** A document as one store sees it: its delivery and what the store reported. */
export interface StoreDocument {
  id: string;
  kind: string;
  version: number;
  publishedAt: number;
  sends: number;
  sentAt: number | null;
  outcome: DocumentOutcome | null;
}

export interface RecordQuery {
  stream?: string;
  type?: string;
  epoch?: string;
  /** Keyset cursor: records strictly after this one in (hlc, epoch, seq) order. */
  after?: { hlc: string; epoch: string; seq: number };
  limit?: number;
}

/** Ledger event types a store reports document outcomes with (docs/sync.md "Verification order" 7). */
export const DOCUMENT_APPLIED_TYPE = 'sync.document.applied';
export const DOCUMENT_REFUSED_TYPE = 'sync.document.refused';

const outcomePayloadSchema = z.object({
  docId: z.string().min(1).max(256),
  kind: z.string().max(64).optional(),
  version: z.number().int().optional(),
  code: z.string().max(64).optional(),
  reason: z.string().max(2000).optional(),
});

/** SQLite's "no limit". */
const noLimit = -1;
/** Settled seqs read per page when advancing a watermark. */
const watermarkPage = 1000;

interface InboxRow {
  store: string;
  epoch: string;
  seq: number;
  stream: string;
  type: string;
  key: string;
  at: number;
  hlc: string;
  hash: string;
  payload: string;
  received_at: number;
}

interface StoreRow {
  id: string;
  first_seen_at: number;
  last_seen_at: number;
  last_batch_at: number | null;
  status: string | null;
  status_at: number | null;
  batches: number;
  records_new: number;
  records_duplicate: number;
  records_rejected: number;
}

interface EpochRow {
  store: string;
  epoch: string;
  watermark: number;
  max_seq: number;
  held: number;
  first_seen_at: number;
  last_batch_at: number;
  checkpoint_seq: number | null;
  checkpoint_at: number | null;
}

interface ForkRow {
  store: string;
  epoch: string;
  seq: number;
  held_hash: string;
  claimed_hash: string;
  batch: string;
  at: number;
}

interface RejectRow {
  id: number;
  store: string;
  epoch: string;
  seq: number;
  batch: string;
  key: string;
  code: string;
  reason: string;
  hash: string;
  record: string;
  first_at: number;
  last_at: number;
  times: number;
}

interface OutcomeRow {
  doc_id: string;
  store: string;
  outcome: DocumentOutcomeKind;
  kind: string | null;
  version: number | null;
  code: string | null;
  reason: string | null;
  at: number;
  hlc: string;
  received_at: number;
}

interface DocumentRow {
  id: string;
  kind: string;
  version: number;
  header: string;
  stores: string;
  published_at: number;
  expires_at: number | null;
}

interface TargetRow {
  doc_id: string;
  store: string;
  sends: number;
  sent_at: number | null;
}

export class HqStore {
  readonly file: string;
  readonly #db: Db;
  readonly #statements: ReturnType<typeof prepareStatements>;
  readonly #recordQueries = new Map<string, Statement<Record<string, string | number>, InboxRow>>();
  // IMMEDIATE: take the write lock at BEGIN (a deferred read-then-write transaction fails with
  // SQLITE_BUSY, not waited out by busy_timeout, when another connection wrote in between).
  readonly #ingest: (storeId: string, batch: UplinkBatch, now: number) => IngestResult;

  private constructor(file: string, db: Db) {
    this.file = file;
    this.#db = db;
    this.#statements = prepareStatements(db);
    const ingest = db.transaction((storeId: string, batch: UplinkBatch, now: number) => this.#ingestInTransaction(storeId, batch, now));
    this.#ingest = (storeId, batch, now) => ingest.immediate(storeId, batch, now);
  }

  /** Opens (creating if missing) an HQ database file, or ':memory:', and migrates it. */
  static open(file: string, options: HqStoreOptions = {}): HqStore {
    const inMemory = file === ':memory:' || file === '';
    if (!inMemory && !options.readonly) mkdirSync(dirname(file), { recursive: true });
    const db = new Database(file, options.readonly ? { readonly: true, fileMustExist: true } : {});
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      if (options.readonly) {
        requireCurrentHqSchema(db, file);
      } else {
        // WAL: readers (HTTP API, `hq status`) never block ingest, and a commit is one sequential write.
        if (!inMemory) db.pragma('journal_mode = WAL');
        db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
        db.pragma('foreign_keys = ON');
        migrateHqSchema(db, file);
      }
      return new HqStore(file, db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  // ---- uplink ---------------------------------------------------------------------------------

  /**
   * Ingests one uplink batch of `storeId` in ONE transaction and returns the ack to send once it
   * returned (committed). Per record: the hash is recomputed (mismatch: SYNC_ERR_UPLINK_HASH);
   * a record already held under (store, epoch, seq) or (store, key) with the same hash is a
   * duplicate (acked, stored once); with a different hash, SYNC_ERR_UPLINK_CONFLICT (the first
   * copy stays, the refusal is logged); anything else is stored.
   */
  ingest(storeId: string, batch: UplinkBatch, now: number): UplinkAck {
    return this.ingestDetailed(storeId, batch, now).ack;
  }

  /** `ingest`, with counts and the document outcomes the batch carried. */
  ingestDetailed(storeId: string, batch: UplinkBatch, now: number): IngestResult {
    if (batch.store !== storeId) throw new TypeError(`HqStore.ingest: batch of store ${batch.store} ingested as ${storeId}`);
    return this.#ingest(storeId, batch, now);
  }

  /** Records the store's retained `up/status` payload (null: the retained message was cleared). */
  recordStatus(storeId: string, status: unknown, now: number): void {
    this.#db
      .transaction(() => {
        this.#statements.touchStore.run({ id: storeId, now });
        this.#statements.setStatus.run(status === null ? null : canonicalJson(status), now, storeId);
      })
      .immediate();
  }

  /** HQ has heard from this store (a batch or a status). */
  hasStore(storeId: string): boolean {
    return this.#statements.storeById.get(storeId) !== undefined;
  }

  storeIds(): string[] {
    return this.#statements.storeIds.all();
  }

  stores(): StoreSummary[] {
    return this.#statements.allStores.all().map((row) => this.#summary(row));
  }

  store(storeId: string): StoreSummary | undefined {
    const row = this.#statements.storeById.get(storeId);
    return row && this.#summary(row);
  }

  /** Every hole below the highest seq seen, per epoch of the store. */
  gaps(storeId: string): StoreGap[] {
    return this.#statements.epochsOf
      .all(storeId)
      .flatMap((row) => this.#epochGaps(row).map(([from, to]) => ({ epoch: row.epoch, from, to })));
  }

  /** Held records of a store in (hlc, epoch, seq) order — causal time, not arrival (G8). */
  records(storeId: string, query: RecordQuery = {}): HeldRecord[] {
    const conditions = ['store = @store'];
    const params: Record<string, string | number> = { store: storeId, limit: limitOrNone(query.limit) };
    if (query.stream !== undefined) {
      conditions.push('stream = @stream');
      params.stream = query.stream;
    }
    if (query.type !== undefined) {
      conditions.push('type = @type');
      params.type = query.type;
    }
    if (query.epoch !== undefined) {
      conditions.push('epoch = @epoch');
      params.epoch = query.epoch;
    }
    if (query.after !== undefined) {
      conditions.push('(hlc, epoch, seq) > (@afterHlc, @afterEpoch, @afterSeq)');
      params.afterHlc = query.after.hlc;
      params.afterEpoch = query.after.epoch;
      params.afterSeq = query.after.seq;
    }
    const sql = `SELECT * FROM inbox WHERE ${conditions.join(' AND ')} ORDER BY hlc, epoch, seq LIMIT @limit`;
    let statement = this.#recordQueries.get(sql);
    if (!statement) {
      statement = this.#db.prepare<Record<string, string | number>, InboxRow>(sql);
      this.#recordQueries.set(sql, statement);
    }
    return statement.all(params).map(toHeldRecord);
  }

  recordByKey(storeId: string, key: string): HeldRecord | undefined {
    const row = this.#statements.inboxByKey.get(storeId, key);
    return row && toHeldRecord(row);
  }

  recordBySeq(storeId: string, epoch: string, seq: number): HeldRecord | undefined {
    const row = this.#statements.inboxBySeq.get(storeId, epoch, seq);
    return row && toHeldRecord(row);
  }

  /** Held records, optionally of one store / stream / type. */
  count(query: { store?: string; stream?: string; type?: string } = {}): number {
    const conditions: string[] = [];
    const params: Record<string, string> = {};
    for (const field of ['store', 'stream', 'type'] as const) {
      const value = query[field];
      if (value === undefined) continue;
      conditions.push(`${field} = @${field}`);
      params[field] = value;
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    return this.#db.prepare<Record<string, string>, number>(`SELECT count(*) FROM inbox ${where}`).pluck().get(params) ?? 0;
  }

  /** Held records per stream of a store. */
  countsByStream(storeId: string): Record<string, number> {
    return Object.fromEntries(this.#statements.countsByStream.all(storeId).map((row) => [row.stream, row.n]));
  }

  /** Duplicates acked so far (all stores, or one). */
  duplicates(storeId?: string): number {
    return storeId === undefined ? (this.#statements.duplicatesAll.get() ?? 0) : (this.#statements.storeById.get(storeId)?.records_duplicate ?? 0);
  }

  /** Refused records, newest first. */
  rejects(options: { store?: string; limit?: number } = {}): RejectEntry[] {
    const limit = limitOrNone(options.limit);
    const rows = options.store === undefined ? this.#statements.rejectsAll.all(limit) : this.#statements.rejectsOf.all(options.store, limit);
    return rows.map(toRejectEntry);
  }

  // ---- documents -----------------------------------------------------------------------------

  /**
   * Takes the next version of `kind`, builds the document with it and records the document, its
   * chunk messages and one delivery row per target store — all in one transaction, so a version
   * is never handed out twice and never lost to a crash between signing and recording.
   */
  createDocument(
    input: { kind: string; stores: readonly string[]; targets: readonly string[] },
    build: (version: number) => { header: DocumentHeader; messages: DocChunkMessage[] },
    now: number,
  ): StoredDocument {
    const id = this.#db
      .transaction(() => {
        const version = (this.#statements.documentVersion.get(input.kind) ?? 0) + 1;
        this.#statements.setDocumentVersion.run(input.kind, version);
        const { header, messages } = build(version);
        if (header.kind !== input.kind || header.version !== version) {
          throw new TypeError(`HqStore.createDocument: built ${header.kind} v${header.version}, expected ${input.kind} v${version}`);
        }
        this.#statements.insertDocument.run(header.id, header.kind, header.version, canonicalJson(header), JSON.stringify(input.stores), now, header.expiresAt);
        messages.forEach((message, index) => this.#statements.insertChunk.run(header.id, index, JSON.stringify(message)));
        for (const store of new Set(input.targets)) this.#statements.insertTarget.run(header.id, store);
        return header.id;
      })
      .immediate();
    return this.document(id)!;
  }

  document(id: string): StoredDocument | undefined {
    const row = this.#statements.documentById.get(id);
    return row && this.#storedDocument(row);
  }

  /** Documents HQ signed, the newest first. */
  documents(options: { limit?: number; kind?: string } = {}): StoredDocument[] {
    const limit = limitOrNone(options.limit);
    const rows = options.kind === undefined ? this.#statements.documentsAll.all(limit) : this.#statements.documentsOfKind.all(options.kind, limit);
    return rows.map((row) => this.#storedDocument(row));
  }

  /** The chunk messages of a document, as published (JSON text), in index order. */
  documentChunks(id: string): string[] {
    return this.#statements.chunksOf.all(id);
  }

  /** Deliveries not yet taken by the broker (optionally of one store), oldest document first. */
  unsentTargets(storeId?: string): Array<{ docId: string; store: string }> {
    const rows = storeId === undefined ? this.#statements.unsentAll.all() : this.#statements.unsentOf.all(storeId);
    return rows.map((row) => ({ docId: row.doc_id, store: row.store }));
  }

  /**
   * Queues documents to be sent again: the given (document, store) deliveries, or — with
   * `unansweredOf` — every unexpired document `storeId` has not reported on. Returns how many.
   */
  requeueDocuments(selection: { docId: string; stores: readonly string[] } | { unansweredOf: string; now: number }): number {
    if ('unansweredOf' in selection) return this.#statements.requeueUnanswered.run({ store: selection.unansweredOf, now: selection.now }).changes;
    return this.#db
      .transaction(() => selection.stores.reduce((n, store) => n + this.#statements.requeueTarget.run(selection.docId, store).changes, 0))
      .immediate();
  }

  /**
   * A store HQ did not know when chain-wide (`["*"]`) documents were published gets them now:
   * a delivery for every unexpired chain-wide document it has none of, in publishing order (a
   * `keys` rotation before the prices signed with the new key). Returns how many were added.
   */
  targetChainWide(storeId: string, now: number): number {
    return this.#statements.targetChainWide.run({ store: storeId, now }).changes;
  }

  /** Every chunk of the document went to the broker for `storeId`. */
  markDocumentSent(docId: string, storeId: string, now: number): void {
    this.#statements.markTargetSent.run(now, docId, storeId);
  }

  /** The last documents addressed to a store, newest first, with delivery and outcome. */
  storeDocuments(storeId: string, limit = 10): StoreDocument[] {
    return this.#statements.storeDocuments.all(storeId, limitOrNone(limit)).map((row) => ({
      id: row.id,
      kind: row.kind,
      version: row.version,
      publishedAt: row.published_at,
      sends: row.sends,
      sentAt: row.sent_at,
      outcome: this.#outcome(row.id, storeId) ?? null,
    }));
  }

  /** Outcomes a store reported for documents HQ did not sign (e.g. a forged one it refused). */
  foreignDocumentOutcomes(storeId: string, limit = 10): DocumentOutcome[] {
    return this.#statements.foreignOutcomes.all(storeId, limitOrNone(limit)).map(toOutcome);
  }

  documentOutcome(docId: string, storeId: string): DocumentOutcome | undefined {
    return this.#outcome(docId, storeId);
  }

  /** Moves the WAL into the main file and truncates it. */
  checkpoint(): void {
    if (!this.#db.readonly) this.#db.pragma('wal_checkpoint(TRUNCATE)');
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

  get isOpen(): boolean {
    return this.#db.open;
  }

  // ---- internals -----------------------------------------------------------------------------

  #ingestInTransaction(storeId: string, batch: UplinkBatch, now: number): IngestResult {
    const s = this.#statements;
    const { epoch } = batch;
    s.touchStore.run({ id: storeId, now });
    s.touchEpoch.run({ store: storeId, epoch, now });

    const acked: number[] = [];
    const rejected: RejectedRecord[] = [];
    const documentOutcomes: DocumentOutcome[] = [];
    let stored = 0;
    let duplicates = 0;
    const reject = (record: UplinkRecord, code: SyncErrorCode, reason: string) => {
      rejected.push({ seq: record.seq, code, reason });
      s.logReject.run({
        store: storeId,
        epoch,
        seq: record.seq,
        batch: batch.batch,
        key: record.key,
        code,
        reason,
        hash: record.hash,
        record: safeCanonical(record),
        now,
      });
    };

    for (const record of batch.records) {
      const actualHash = hashOrUndefined(record);
      if (actualHash !== record.hash) {
        reject(
          record,
          'SYNC_ERR_UPLINK_HASH',
          actualHash === undefined ? 'payload has no canonical JSON form' : `content hash is ${actualHash}, the record carries ${record.hash}`,
        );
        continue;
      }
      const atSeq = s.inboxBySeq.get(storeId, epoch, record.seq) ?? s.aliasBySeq.get(storeId, epoch, record.seq);
      if (atSeq) {
        if (atSeq.hash === record.hash) {
          acked.push(record.seq);
          duplicates += 1;
        } else {
          reject(record, 'SYNC_ERR_UPLINK_CONFLICT', `seq ${record.seq} of epoch ${epoch} is already held with another content (key ${atSeq.key}, hash ${atSeq.hash})`);
        }
        continue;
      }
      const atKey = s.inboxByKey.get(storeId, record.key);
      if (atKey) {
        if (atKey.hash === record.hash) {
          // The same fact under a new (epoch, seq): a restored store re-sending (G13). Held once.
          s.insertAlias.run(storeId, epoch, record.seq, record.key, record.hash, now);
          acked.push(record.seq);
          duplicates += 1;
        } else {
          reject(record, 'SYNC_ERR_UPLINK_CONFLICT', `key ${record.key} is already held (epoch ${atKey.epoch} seq ${atKey.seq}) with another content hash ${atKey.hash}`);
        }
        continue;
      }
      s.insertRecord.run({
        store: storeId,
        epoch,
        seq: record.seq,
        stream: record.stream,
        type: record.type,
        key: record.key,
        at: record.at,
        hlc: record.hlc,
        hash: record.hash,
        payload: canonicalJson(record.payload),
        now,
      });
      acked.push(record.seq);
      stored += 1;
      const outcome = this.#documentOutcomeOf(storeId, record, now);
      if (outcome) {
        s.upsertOutcome.run({
          docId: outcome.docId,
          store: storeId,
          outcome: outcome.outcome,
          kind: outcome.kind,
          version: outcome.version,
          code: outcome.code,
          reason: outcome.reason,
          at: outcome.at,
          hlc: outcome.hlc,
          recordKey: record.key,
          now,
        });
        documentOutcomes.push(outcome);
      }
    }

    const lastSeq = batch.records[batch.records.length - 1]?.seq ?? 0;
    s.updateEpoch.run({ store: storeId, epoch, maxSeq: lastSeq, held: stored, now });
    const watermark = this.#advanceWatermark(storeId, epoch);
    s.countBatch.run({ id: storeId, now, stored, duplicates, rejected: rejected.length });

    const ack: UplinkAck = { v: 1, epoch, batch: batch.batch, acked: toRanges(acked), watermark, rejected };
    const checkpoint = batch.checkpoint === undefined ? null : this.#checkCheckpoint(storeId, batch, batch.checkpoint, now);
    return { ack, stored, duplicates, rejected, documentOutcomes, checkpoint };
  }

  /**
   * G9: every mark of the checkpoint (its head and anchors) is compared with the hash HQ kept for
   * that (store, epoch, seq); a difference is a fork, recorded (once per claimed hash) and
   * reported — the kept hash stays. Marks not seen before are kept. In the batch's transaction.
   */
  #checkCheckpoint(storeId: string, batch: UplinkBatch, checkpoint: Checkpoint, now: number): { checked: number; forks: CheckpointFork[] } {
    const s = this.#statements;
    const forks: CheckpointFork[] = [];
    let checked = 0;
    for (const mark of [...checkpoint.anchors, checkpoint.head]) {
      const held = s.markAt.get(storeId, batch.epoch, mark.seq);
      if (held === undefined) {
        s.insertMark.run(storeId, batch.epoch, mark.seq, mark.hash, now);
        continue;
      }
      checked += 1;
      if (held === mark.hash) continue;
      const fork: CheckpointFork = { store: storeId, epoch: batch.epoch, seq: mark.seq, heldHash: held, claimedHash: mark.hash, batch: batch.batch, at: now };
      s.insertFork.run(fork);
      forks.push(fork);
    }
    s.setCheckpoint.run(checkpoint.head.seq, now, storeId, batch.epoch, checkpoint.head.seq);
    return { checked, forks };
  }

  /** Checkpoint forks of a store (or of every store), oldest first. */
  checkpointForks(storeId?: string): CheckpointFork[] {
    return (storeId === undefined ? this.#statements.allForks.all() : this.#statements.forksOf.all(storeId)).map((row) => ({
      store: row.store,
      epoch: row.epoch,
      seq: row.seq,
      heldHash: row.held_hash,
      claimedHash: row.claimed_hash,
      batch: row.batch,
      at: row.at,
    }));
  }

  /** Moves the epoch's watermark over every contiguous settled seq above it; returns it. */
  #advanceWatermark(store: string, epoch: string): number {
    const s = this.#statements;
    const start = s.epoch.get(store, epoch)?.watermark ?? 0;
    let watermark = start;
    // The common cases cost one point lookup: the next seq is missing (a gap stays open), or a
    // page of settled seqs follows.
    while (this.#isSettled(store, epoch, watermark + 1)) {
      const seqs = s.settledAbove.all({ store, epoch, above: watermark, limit: watermarkPage });
      let contiguous = 0;
      for (const seq of seqs) {
        if (seq !== watermark + 1) break;
        watermark = seq;
        contiguous += 1;
      }
      if (contiguous < watermarkPage) break;
    }
    if (watermark !== start) s.setWatermark.run(watermark, store, epoch);
    return watermark;
  }

  #isSettled(store: string, epoch: string, seq: number): boolean {
    const s = this.#statements;
    return (
      s.inboxBySeq.get(store, epoch, seq) !== undefined ||
      s.aliasBySeq.get(store, epoch, seq) !== undefined ||
      s.rejectAt.get(store, epoch, seq) !== undefined
    );
  }

  #epochGaps(row: EpochRow): Array<[number, number]> {
    if (row.max_seq <= row.watermark) return [];
    const gaps: Array<[number, number]> = [];
    let expected = row.watermark + 1;
    for (const seq of this.#statements.settledAbove.all({ store: row.store, epoch: row.epoch, above: row.watermark, limit: noLimit })) {
      if (seq > expected) gaps.push([expected, seq - 1]);
      expected = seq + 1;
    }
    return gaps;
  }

  #documentOutcomeOf(store: string, record: UplinkRecord, now: number): DocumentOutcome | undefined {
    const outcome = record.type === DOCUMENT_APPLIED_TYPE ? 'applied' : record.type === DOCUMENT_REFUSED_TYPE ? 'refused' : undefined;
    if (!outcome) return undefined;
    // A malformed report is still held (it is the store's fact); it just updates no outcome.
    const parsed = outcomePayloadSchema.safeParse(record.payload);
    if (!parsed.success) return undefined;
    const p = parsed.data;
    return {
      docId: p.docId,
      store,
      outcome,
      kind: p.kind ?? null,
      version: p.version ?? null,
      code: p.code ?? null,
      reason: p.reason ?? null,
      at: record.at,
      hlc: record.hlc,
      receivedAt: now,
    };
  }

  #summary(row: StoreRow): StoreSummary {
    return {
      id: row.id,
      firstSeenAt: row.first_seen_at,
      lastSeenAt: row.last_seen_at,
      lastBatchAt: row.last_batch_at,
      status: row.status === null ? null : (JSON.parse(row.status) as unknown),
      statusAt: row.status_at,
      counters: {
        batches: row.batches,
        recordsNew: row.records_new,
        recordsDuplicate: row.records_duplicate,
        recordsRejected: row.records_rejected,
      },
      held: row.records_new,
      epochs: this.#statements.epochsOf.all(row.id).map((epoch) => ({
        epoch: epoch.epoch,
        watermark: epoch.watermark,
        maxSeq: epoch.max_seq,
        held: epoch.held,
        firstSeenAt: epoch.first_seen_at,
        lastBatchAt: epoch.last_batch_at,
        gaps: this.#epochGaps(epoch),
        checkpoint: epoch.checkpoint_seq === null ? null : { seq: epoch.checkpoint_seq, at: epoch.checkpoint_at! },
      })),
      forks: this.#statements.forkCount.get(row.id) ?? 0,
    };
  }

  #storedDocument(row: DocumentRow): StoredDocument {
    return {
      id: row.id,
      kind: row.kind,
      version: row.version,
      header: JSON.parse(row.header) as DocumentHeader,
      stores: JSON.parse(row.stores) as string[],
      publishedAt: row.published_at,
      expiresAt: row.expires_at,
      targets: this.#statements.targetsOf.all(row.id).map((target) => ({
        store: target.store,
        sends: target.sends,
        sentAt: target.sent_at,
        outcome: this.#outcome(row.id, target.store) ?? null,
      })),
    };
  }

  #outcome(docId: string, store: string): DocumentOutcome | undefined {
    const row = this.#statements.outcome.get(docId, store);
    return row && toOutcome(row);
  }
}

function prepareStatements(db: Db) {
  const settled = (table: string) => `SELECT seq FROM ${table} WHERE store = @store AND epoch = @epoch AND seq > @above`;
  return {
    touchStore: db.prepare<{ id: string; now: number }>(
      `INSERT INTO stores (id, first_seen_at, last_seen_at) VALUES (@id, @now, @now)
       ON CONFLICT (id) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)`,
    ),
    setStatus: db.prepare<[string | null, number, string]>('UPDATE stores SET status = ?, status_at = ? WHERE id = ?'),
    countBatch: db.prepare<{ id: string; now: number; stored: number; duplicates: number; rejected: number }>(
      `UPDATE stores SET last_batch_at = @now, batches = batches + 1, records_new = records_new + @stored,
         records_duplicate = records_duplicate + @duplicates, records_rejected = records_rejected + @rejected
       WHERE id = @id`,
    ),
    storeIds: db.prepare<[], string>('SELECT id FROM stores ORDER BY id').pluck(),
    allStores: db.prepare<[], StoreRow>('SELECT * FROM stores ORDER BY id'),
    storeById: db.prepare<[string], StoreRow>('SELECT * FROM stores WHERE id = ?'),
    duplicatesAll: db.prepare<[], number>('SELECT coalesce(sum(records_duplicate), 0) FROM stores').pluck(),

    touchEpoch: db.prepare<{ store: string; epoch: string; now: number }>(
      `INSERT INTO epochs (store, epoch, first_seen_at, last_batch_at) VALUES (@store, @epoch, @now, @now)
       ON CONFLICT (store, epoch) DO NOTHING`,
    ),
    updateEpoch: db.prepare<{ store: string; epoch: string; maxSeq: number; held: number; now: number }>(
      `UPDATE epochs SET max_seq = max(max_seq, @maxSeq), held = held + @held, last_batch_at = @now
       WHERE store = @store AND epoch = @epoch`,
    ),
    epoch: db.prepare<[string, string], EpochRow>('SELECT * FROM epochs WHERE store = ? AND epoch = ?'),
    epochsOf: db.prepare<[string], EpochRow>('SELECT * FROM epochs WHERE store = ? ORDER BY first_seen_at DESC, epoch'),
    markAt: db.prepare<[string, string, number], string>('SELECT hash FROM checkpoint_marks WHERE store = ? AND epoch = ? AND seq = ?').pluck(),
    insertMark: db.prepare<[string, string, number, string, number]>('INSERT INTO checkpoint_marks (store, epoch, seq, hash, received_at) VALUES (?, ?, ?, ?, ?)'),
    insertFork: db.prepare<CheckpointFork>(
      `INSERT INTO checkpoint_forks (store, epoch, seq, held_hash, claimed_hash, batch, at) VALUES (@store, @epoch, @seq, @heldHash, @claimedHash, @batch, @at)
       ON CONFLICT (store, epoch, seq, claimed_hash) DO NOTHING`,
    ),
    // A checkpoint older than the one kept (a re-sent batch) does not move it back.
    setCheckpoint: db.prepare<[number, number, string, string, number]>(
      'UPDATE epochs SET checkpoint_seq = ?, checkpoint_at = ? WHERE store = ? AND epoch = ? AND (checkpoint_seq IS NULL OR checkpoint_seq <= ?)',
    ),
    forkCount: db.prepare<[string], number>('SELECT count(*) FROM checkpoint_forks WHERE store = ?').pluck(),
    forksOf: db.prepare<[string], ForkRow>('SELECT * FROM checkpoint_forks WHERE store = ? ORDER BY id'),
    allForks: db.prepare<[], ForkRow>('SELECT * FROM checkpoint_forks ORDER BY id'),
    setWatermark: db.prepare<[number, string, string]>('UPDATE epochs SET watermark = ? WHERE store = ? AND epoch = ?'),
    // Settled = held, held under another identity, or refused for good (the store will not re-send it).
    settledAbove: db
      .prepare<{ store: string; epoch: string; above: number; limit: number }, number>(
        `${settled('inbox')} UNION ${settled('inbox_aliases')} UNION ${settled('rejects')} ORDER BY seq LIMIT @limit`,
      )
      .pluck(),

    inboxBySeq: db.prepare<[string, string, number], InboxRow>('SELECT * FROM inbox WHERE store = ? AND epoch = ? AND seq = ?'),
    inboxByKey: db.prepare<[string, string], InboxRow>('SELECT * FROM inbox WHERE store = ? AND key = ?'),
    aliasBySeq: db.prepare<[string, string, number], { key: string; hash: string }>(
      'SELECT key, hash FROM inbox_aliases WHERE store = ? AND epoch = ? AND seq = ?',
    ),
    insertRecord: db.prepare<{
      store: string;
      epoch: string;
      seq: number;
      stream: string;
      type: string;
      key: string;
      at: number;
      hlc: string;
      hash: string;
      payload: string;
      now: number;
    }>(
      `INSERT INTO inbox (store, epoch, seq, stream, type, key, at, hlc, hash, payload, received_at)
       VALUES (@store, @epoch, @seq, @stream, @type, @key, @at, @hlc, @hash, @payload, @now)`,
    ),
    insertAlias: db.prepare<[string, string, number, string, string, number]>(
      'INSERT INTO inbox_aliases (store, epoch, seq, key, hash, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    countsByStream: db.prepare<[string], { stream: string; n: number }>('SELECT stream, count(*) AS n FROM inbox WHERE store = ? GROUP BY stream ORDER BY stream'),

    logReject: db.prepare<{
      store: string;
      epoch: string;
      seq: number;
      batch: string;
      key: string;
      code: string;
      reason: string;
      hash: string;
      record: string;
      now: number;
    }>(
      `INSERT INTO rejects (store, epoch, seq, batch, key, code, reason, hash, record, first_at, last_at)
       VALUES (@store, @epoch, @seq, @batch, @key, @code, @reason, @hash, @record, @now, @now)
       ON CONFLICT (store, epoch, seq, code, hash) DO UPDATE SET times = times + 1, last_at = excluded.last_at, batch = excluded.batch`,
    ),
    rejectAt: db.prepare<[string, string, number], number>('SELECT 1 FROM rejects WHERE store = ? AND epoch = ? AND seq = ? LIMIT 1').pluck(),
    rejectsAll: db.prepare<[number], RejectRow>('SELECT * FROM rejects ORDER BY last_at DESC, id DESC LIMIT ?'),
    rejectsOf: db.prepare<[string, number], RejectRow>('SELECT * FROM rejects WHERE store = ? ORDER BY last_at DESC, id DESC LIMIT ?'),

    documentVersion: db.prepare<[string], number>('SELECT version FROM document_versions WHERE kind = ?').pluck(),
    setDocumentVersion: db.prepare<[string, number]>(
      'INSERT INTO document_versions (kind, version) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET version = excluded.version',
    ),
    insertDocument: db.prepare<[string, string, number, string, string, number, number | null]>(
      'INSERT INTO documents (id, kind, version, header, stores, published_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    insertChunk: db.prepare<[string, number, string]>('INSERT INTO document_chunks (doc_id, idx, message) VALUES (?, ?, ?)'),
    insertTarget: db.prepare<[string, string]>('INSERT INTO document_targets (doc_id, store) VALUES (?, ?)'),
    documentById: db.prepare<[string], DocumentRow>('SELECT * FROM documents WHERE id = ?'),
    documentsAll: db.prepare<[number], DocumentRow>('SELECT * FROM documents ORDER BY published_at DESC, rowid DESC LIMIT ?'),
    documentsOfKind: db.prepare<[string, number], DocumentRow>('SELECT * FROM documents WHERE kind = ? ORDER BY version DESC LIMIT ?'),
    chunksOf: db.prepare<[string], string>('SELECT message FROM document_chunks WHERE doc_id = ? ORDER BY idx').pluck(),
    targetsOf: db.prepare<[string], TargetRow>('SELECT * FROM document_targets WHERE doc_id = ? ORDER BY store'),
    unsentAll: db.prepare<[], TargetRow>(
      `SELECT t.* FROM document_targets t JOIN documents d ON d.id = t.doc_id
       WHERE t.sent_at IS NULL ORDER BY d.published_at, d.rowid, t.store`,
    ),
    unsentOf: db.prepare<[string], TargetRow>(
      `SELECT t.* FROM document_targets t JOIN documents d ON d.id = t.doc_id
       WHERE t.sent_at IS NULL AND t.store = ? ORDER BY d.published_at, d.rowid`,
    ),
    requeueTarget: db.prepare<[string, string]>('UPDATE document_targets SET sent_at = NULL WHERE doc_id = ? AND store = ?'),
    requeueUnanswered: db.prepare<{ store: string; now: number }>(
      `UPDATE document_targets SET sent_at = NULL
       WHERE store = @store AND sent_at IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM document_outcomes o WHERE o.doc_id = document_targets.doc_id AND o.store = @store)
         AND doc_id IN (SELECT id FROM documents WHERE expires_at IS NULL OR expires_at > @now)`,
    ),
    targetChainWide: db.prepare<{ store: string; now: number }>(
      `INSERT INTO document_targets (doc_id, store)
       SELECT d.id, @store FROM documents d
       WHERE d.stores = '["*"]' AND (d.expires_at IS NULL OR d.expires_at > @now)
         AND NOT EXISTS (SELECT 1 FROM document_targets t WHERE t.doc_id = d.id AND t.store = @store)
       ORDER BY d.published_at, d.rowid`,
    ),
    markTargetSent: db.prepare<[number, string, string]>('UPDATE document_targets SET sent_at = ?, sends = sends + 1 WHERE doc_id = ? AND store = ?'),
    storeDocuments: db.prepare<[string, number], DocumentRow & { sends: number; sent_at: number | null }>(
      `SELECT d.*, t.sends, t.sent_at FROM document_targets t JOIN documents d ON d.id = t.doc_id
       WHERE t.store = ? ORDER BY d.published_at DESC, d.rowid DESC LIMIT ?`,
    ),

    upsertOutcome: db.prepare<{
      docId: string;
      store: string;
      outcome: string;
      kind: string | null;
      version: number | null;
      code: string | null;
      reason: string | null;
      at: number;
      hlc: string;
      recordKey: string;
      now: number;
    }>(
      `INSERT INTO document_outcomes (doc_id, store, outcome, kind, version, code, reason, at, hlc, record_key, received_at)
       VALUES (@docId, @store, @outcome, @kind, @version, @code, @reason, @at, @hlc, @recordKey, @now)
       ON CONFLICT (doc_id, store) DO UPDATE SET outcome = excluded.outcome, kind = excluded.kind, version = excluded.version,
         code = excluded.code, reason = excluded.reason, at = excluded.at, hlc = excluded.hlc, record_key = excluded.record_key,
         received_at = excluded.received_at
       WHERE excluded.hlc > document_outcomes.hlc
         -- Applied is final: a store applies a document id once and answers a genuine copy as a
         -- duplicate, so a refusal reported under an applied id is about another message carrying
         -- that id (a tampered or corrupted copy). The report is held like any record; it does not
         -- make HQ show the document refused.
         AND NOT (document_outcomes.outcome = 'applied' AND excluded.outcome = 'refused')`,
    ),
    outcome: db.prepare<[string, string], OutcomeRow>('SELECT * FROM document_outcomes WHERE doc_id = ? AND store = ?'),
    foreignOutcomes: db.prepare<[string, number], OutcomeRow>(
      `SELECT o.* FROM document_outcomes o LEFT JOIN documents d ON d.id = o.doc_id
       WHERE o.store = ? AND d.id IS NULL ORDER BY o.hlc DESC LIMIT ?`,
    ),
  };
}

function toHeldRecord(row: InboxRow): HeldRecord {
  return {
    store: row.store,
    epoch: row.epoch,
    seq: row.seq,
    stream: row.stream,
    type: row.type,
    key: row.key,
    at: row.at,
    hlc: row.hlc,
    payload: JSON.parse(row.payload) as unknown,
    hash: row.hash,
    receivedAt: row.received_at,
  };
}

function toRejectEntry(row: RejectRow): RejectEntry {
  return {
    id: row.id,
    store: row.store,
    epoch: row.epoch,
    seq: row.seq,
    batch: row.batch,
    key: row.key,
    code: row.code,
    reason: row.reason,
    hash: row.hash,
    record: JSON.parse(row.record) as unknown,
    firstAt: row.first_at,
    lastAt: row.last_at,
    times: row.times,
  };
}

function toOutcome(row: OutcomeRow): DocumentOutcome {
  return {
    docId: row.doc_id,
    store: row.store,
    outcome: row.outcome,
    kind: row.kind,
    version: row.version,
    code: row.code,
    reason: row.reason,
    at: row.at,
    hlc: row.hlc,
    receivedAt: row.received_at,
  };
}

function hashOrUndefined(record: UplinkRecord): string | undefined {
  try {
    return contentHash(record);
  } catch {
    return undefined;
  }
}

/** The refused record for the log; a payload with no canonical form is kept as plain JSON. */
function safeCanonical(record: UplinkRecord): string {
  try {
    return canonicalJson(record);
  } catch {
    return JSON.stringify(record);
  }
}

function limitOrNone(limit: number | undefined): number {
  if (limit === undefined) return noLimit;
  if (!Number.isInteger(limit) || limit < 0) throw new TypeError(`HqStore: limit must be a non-negative integer, got ${limit}`);
  return limit;
}
