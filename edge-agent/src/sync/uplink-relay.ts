import { checkpointAnchorSeqs, contentHash, parseUplinkAck, toRanges, type Checkpoint, type UplinkAck, type UplinkBatch, type UplinkRecord } from '@storeedge/sync';
import type { Ledger, PendingOutboxEntry } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { backoffMs, realSyncClock, type SyncClock } from './clock.ts';
import { SeqRanges } from './seq-ranges.ts';
import type { UplinkSettings } from './settings.ts';

export interface UplinkRelayOptions {
  ledger: Ledger;
  storeId: string;
  settings: UplinkSettings;
  /**
   * Publishes one batch (JSON) to `up/batch` at QoS 1; resolves when the broker took it (PUBACK),
   * rejects when it could not. HQ's acknowledgement is the `down/ack` message, not this.
   */
  publish: (payload: string) => Promise<void>;
  clock?: SyncClock;
  /** Jitter of the retry back-off; default Math.random. */
  random?: () => number;
  metrics?: Metrics;
  logger?: Logger;
  /** Called after each ack from HQ was applied to the outbox (for observers: tests, scenario reports). */
  onAck?: (ack: AckApplied) => void;
}

/** One ack from HQ as the relay applied it. */
export interface AckApplied {
  batch: string;
  /** Rows newly marked sent. */
  acked: number;
  /** Rows newly marked rejected. */
  rejected: number;
  watermark: number;
}

/** What the relay is doing, for GET /api/health and `up/status`. */
export interface UplinkStatus {
  online: boolean;
  epoch: string;
  inFlightBatches: number;
  /** Highest outbox id that was backlog when the connection came up (0: none yet). */
  backlogCeiling: number;
  /** True while rows queued before the connection came up are still being sent. */
  drainingBacklog: boolean;
  lastAckAt: number | null;
  lastAckBatch: string | null;
  /** Highest contiguous seq HQ reported holding. */
  watermark: number;
  consecutiveFailures: number;
  lastError: string | null;
  /** When the next attempt after a failure is due (null: none pending). */
  retryAt: number | null;
}

interface InFlightBatch {
  id: string;
  /** Its ack timeout. */
  timer: unknown;
}

/** Bytes of the batch envelope around the records, generously (store id, epoch and batch id included). */
const ENVELOPE_BYTES = 512;

/**
 * Ledger outbox → upstream broker (docs/sync.md "Uplink"). Rows go up in outbox id order as
 * batches whose record `seq` is the row id; HQ acknowledges by ranges after its commit and the
 * relay marks exactly the acknowledged rows it sent as sent (rejected ones as rejected). Until
 * then a row stays pending in the file, so a crash, a lost message or a lost ack only costs a
 * re-send, which HQ deduplicates.
 *
 * Flow control (G5, G10):
 * - at most `maxInFlightBatches` batches unacknowledged;
 * - rows queued before the current connection came up (the backlog: ids ≤ the outbox's highest
 *   id at that moment) drain at `backlogRecordsPerSec` (a token bucket), while rows queued since
 *   go at once, on their own cursor: live sales are never stuck behind days of backlog;
 * - an ack timeout or a publish error drops every in-flight batch and, after an exponential
 *   back-off, re-sends from the oldest unacknowledged row — driven by the relay's own timer, so
 *   it never waits for a new local write (T14).
 *
 * Wake-up: the relay looks at the outbox every `pollIntervalMs` (one indexed range query from
 * its cursor), and at once after an ack frees a slot. Polling, not a hook in the ledger's
 * append: it also sees rows other processes append (the CLI), costs microseconds when nothing
 * is new, and keeps the sale path free of any sync code.
 */
export class UplinkRelay {
  /** Records built while sizing a batch, reused to send it (keyed by the outbox row object). */
  readonly #records = new WeakMap<PendingOutboxEntry, UplinkRecord>();
  readonly #ledger: Ledger;
  readonly #storeId: string;
  readonly #settings: UplinkSettings;
  readonly #publish: (payload: string) => Promise<void>;
  readonly #clock: SyncClock;
  readonly #random: () => number;
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #onAck: ((ack: AckApplied) => void) | undefined;
  readonly #maxOutboxId: () => number;
  readonly #firstPendingId: () => number | undefined;

  #started = false;
  #online = false;
  /** Bumped on every (re)start of sending, so late callbacks of an abandoned round are ignored. */
  #round = 0;
  readonly #inFlight = new Map<string, InFlightBatch>();
  /** Ids sent by this process and not acknowledged yet: an ack counts only for these. */
  readonly #unacked = new SeqRanges();
  #ceiling = 0;
  /** Backlog rows with id ≤ this were handed to a batch in the current round. */
  #backlogCursor = 0;
  /** Live rows (id > ceiling) with id ≤ this were handed to a batch in the current round. */
  #liveCursor = 0;
  /** Ledger head of the checkpoint each batch in flight carries (G9). */
  readonly #checkpointOf = new Map<string, number>();
  /** Head of the latest checkpoint HQ acknowledged (in memory: after a restart, the milestones alone). */
  #ackedCheckpoint = 0;
  #tokens = 0;
  #tokensAt = 0;
  #pollTimer: unknown;
  #retryTimer: unknown;
  #retryAt: number | null = null;
  #failures = 0;
  #lastError: string | null = null;
  #lastAckAt: number | null = null;
  #lastAckBatch: string | null = null;
  #watermark = 0;

  constructor(options: UplinkRelayOptions) {
    this.#ledger = options.ledger;
    this.#storeId = options.storeId;
    this.#settings = options.settings;
    this.#publish = options.publish;
    this.#clock = options.clock ?? realSyncClock;
    this.#random = options.random ?? Math.random;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#onAck = options.onAck;
    // Read-only queries of the outbox table: the highest id, sent or not (the backlog ceiling at connect)…
    const maxId = options.ledger.db.prepare<[], number>('SELECT coalesce(max(id), 0) FROM outbox').pluck();
    this.#maxOutboxId = () => maxId.get() ?? 0;
    // Through the pending-only index: a re-send starts here instead of scanning every row ever sent.
    const firstPending = options.ledger.db.prepare<[], number>('SELECT id FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT 1').pluck();
    this.#firstPendingId = () => firstPending.get();
  }

  get epoch(): string {
    return this.#ledger.epoch;
  }

  /** Starts looking at the outbox; nothing is sent before `connected()`. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedulePoll();
  }

  stop(): void {
    this.#started = false;
    this.#online = false;
    this.#abandonRound();
    this.#clock.clearTimeout(this.#pollTimer);
    this.#clearRetry();
  }

  /** The upstream connection came up: everything not yet acknowledged is sent (again). */
  connected(): void {
    this.#online = true;
    this.#abandonRound();
    this.#ceiling = this.#maxOutboxId();
    this.#restartCursors();
    this.#tokens = this.#bucketCapacity();
    this.#tokensAt = this.#clock.now();
    // A reconnect is a fresh start: no back-off carried over from the last connection.
    this.#clearRetry();
    this.#pump();
  }

  /** The upstream connection went down: batches in flight are given up (re-sent on reconnect). */
  disconnected(): void {
    this.#online = false;
    this.#abandonRound();
    this.#clearRetry();
  }

  /** A `down/ack` message. Marks acknowledged rows sent and rejected ones rejected, in one transaction. */
  handleAck(raw: Buffer | Uint8Array | string): void {
    const parsed = parseUplinkAck(raw);
    if (!parsed.ok) {
      this.#metrics?.syncAcksIgnored.inc({ reason: 'malformed' });
      this.#logger?.warn({ code: parsed.code, reason: parsed.reason }, 'uplink ack ignored: malformed');
      return;
    }
    const ack = parsed.ack;
    if (ack.epoch !== this.epoch) {
      // Acks of a previous ledger file (a restored store, G13) say nothing about this one's rows.
      this.#metrics?.syncAcksIgnored.inc({ reason: 'other-epoch' });
      this.#logger?.warn({ batch: ack.batch, epoch: ack.epoch, ourEpoch: this.epoch }, 'uplink ack ignored: another epoch');
      return;
    }
    const checkpointSeq = this.#checkpointOf.get(ack.batch);
    if (checkpointSeq !== undefined) {
      this.#checkpointOf.delete(ack.batch);
      // HQ kept this head: the next checkpoints prove the chain still has it there.
      if (checkpointSeq > this.#ackedCheckpoint) this.#ackedCheckpoint = checkpointSeq;
    }
    const batch = this.#inFlight.get(ack.batch);
    if (batch) {
      this.#clock.clearTimeout(batch.timer);
      this.#inFlight.delete(ack.batch);
      this.#metrics?.syncUplinkBatches.inc({ outcome: 'acked' });
    }
    const { sent, rejected } = this.#apply(ack);
    this.#metrics?.syncUplinkRecords.inc({ outcome: 'acked' }, sent);
    this.#lastAckAt = this.#clock.now();
    this.#lastAckBatch = ack.batch;
    this.#failures = 0;
    this.#lastError = null;
    this.#logger?.debug({ batch: ack.batch, acked: sent, rejected, watermark: ack.watermark }, 'uplink ack');
    this.#onAck?.({ batch: ack.batch, acked: sent, rejected, watermark: ack.watermark });
    this.#pump();
  }

  status(): UplinkStatus {
    return {
      online: this.#online,
      epoch: this.epoch,
      inFlightBatches: this.#inFlight.size,
      backlogCeiling: this.#ceiling,
      drainingBacklog: this.#online && this.#backlogCursor < this.#ceiling,
      lastAckAt: this.#lastAckAt,
      lastAckBatch: this.#lastAckBatch,
      watermark: this.#watermark,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      retryAt: this.#retryAt,
    };
  }

  // ── acks ──────────────────────────────────────────────────────────────────────────────────

  #apply(ack: UplinkAck): { sent: number; rejected: number } {
    const rejectedIds = new Set<number>();
    const rejections = ack.rejected.filter((r) => this.#unacked.has(r.seq) && !rejectedIds.has(r.seq) && rejectedIds.add(r.seq));
    const acked = new Set<number>();
    // Everything ≤ watermark is held at HQ, as is every acked range.
    for (const [from, to] of [...ack.acked, [1, ack.watermark] as const]) {
      for (const id of this.#unacked.idsWithin(from, to)) if (!rejectedIds.has(id)) acked.add(id);
    }
    this.#ledger.transaction(() => {
      for (const r of rejections) this.#ledger.markRejected(r.seq, `${r.code}: ${r.reason}`);
      // By range, one UPDATE each: ids inside a sent range that were not in its batch were not pending.
      for (const [from, to] of toRanges(acked)) this.#ledger.markSentRange(from, to);
    });
    for (const [from, to] of toRanges([...acked, ...rejectedIds])) this.#unacked.remove(from, to);
    if (ack.watermark > this.#watermark) this.#watermark = ack.watermark;
    for (const r of rejections) {
      this.#metrics?.syncUplinkRecords.inc({ outcome: 'rejected' });
      this.#logger?.error({ seq: r.seq, code: r.code, reason: r.reason, batch: ack.batch }, 'HQ rejected an uplink record for good; kept in the ledger, not re-sent');
    }
    return { sent: acked.size, rejected: rejections.length };
  }

  // ── sending ───────────────────────────────────────────────────────────────────────────────

  #pump(): void {
    if (!this.#started || !this.#online || this.#retryTimer !== undefined) return;
    try {
      while (this.#inFlight.size < this.#settings.maxInFlightBatches) {
        const rows = this.#nextLive() ?? this.#nextBacklog();
        if (rows === undefined) return;
        this.#send(rows);
      }
    } catch (err) {
      this.#fail(`reading the outbox failed: ${(err as Error).message}`);
    }
  }

  /** Rows queued since the connection came up: at once. */
  #nextLive(): PendingOutboxEntry[] | undefined {
    const rows = this.#take(this.#ledger.outboxPending({ afterId: Math.max(this.#liveCursor, this.#ceiling), limit: this.#settings.batchRecords }));
    if (rows.length === 0) return undefined;
    this.#liveCursor = rows.at(-1)!.id;
    return rows;
  }

  /** Rows queued before: as the token bucket allows. */
  #nextBacklog(): PendingOutboxEntry[] | undefined {
    if (this.#backlogCursor >= this.#ceiling) return undefined;
    this.#refill();
    if (this.#tokens < this.#backlogThreshold()) return undefined;
    const limit = Math.min(this.#settings.batchRecords, Math.floor(this.#tokens));
    const fetched = this.#ledger.outboxPending({ afterId: this.#backlogCursor, limit });
    const candidates = fetched.filter((row) => row.id <= this.#ceiling);
    const rows = this.#take(candidates);
    // Nothing pending up to the ceiling beyond what this batch takes: the backlog is sent.
    const exhausted = rows.length === candidates.length && (fetched.length < limit || candidates.length < fetched.length);
    this.#backlogCursor = exhausted ? this.#ceiling : rows.at(-1)!.id;
    if (rows.length === 0) return undefined;
    this.#tokens -= rows.length;
    return rows;
  }

  /** The longest prefix of `rows` that fits `batchBytes` (at least one row). */
  #take(rows: PendingOutboxEntry[]): PendingOutboxEntry[] {
    let bytes = ENVELOPE_BYTES;
    for (let i = 0; i < rows.length; i++) {
      // Built once: sized here, sent by #send (stripping, canonical JSON and sha256 are the relay's main cost).
      const record = toRecord(rows[i]!);
      this.#records.set(rows[i]!, record);
      bytes += Buffer.byteLength(JSON.stringify(record)) + 1;
      if (bytes > this.#settings.batchBytes && i > 0) return rows.slice(0, i);
    }
    return rows;
  }

  /**
   * The ledger's tamper-evidence checkpoint (docs/sync.md "Checkpoints", G9): its head, and the
   * chain hash the file has now at the last checkpoint HQ acknowledged and at round milestones.
   * A rewrite of anything HQ was shown changes one of those hashes, and HQ sees the fork.
   */
  #checkpoint(): Checkpoint | undefined {
    const head = this.#ledger.head();
    if (head.seq === 0) return undefined;
    const anchors = checkpointAnchorSeqs(head.seq, [this.#ackedCheckpoint]).flatMap((seq) => {
      const hash = this.#ledger.hashAt(seq);
      return hash === undefined ? [] : [{ seq, hash }];
    });
    return { head: { seq: head.seq, hash: head.hash }, anchors };
  }

  #send(rows: PendingOutboxEntry[]): void {
    const first = rows[0]!.id;
    const last = rows.at(-1)!.id;
    const checkpoint = this.#checkpoint();
    const batch: UplinkBatch = {
      v: 1,
      store: this.#storeId,
      epoch: this.epoch,
      batch: `${this.epoch}:${first}-${last}`,
      records: rows.map((row) => this.#records.get(row) ?? toRecord(row)),
      ...(checkpoint ? { checkpoint } : {}),
    };
    if (checkpoint) this.#checkpointOf.set(batch.batch, checkpoint.head.seq);
    const round = this.#round;
    // The ids between first and last that are not in the batch were not pending: nothing to send.
    this.#unacked.add(first, last);
    const entry: InFlightBatch = {
      id: batch.batch,
      timer: this.#clock.setTimeout(() => {
        if (round !== this.#round || !this.#inFlight.has(batch.batch)) return;
        this.#metrics?.syncUplinkBatches.inc({ outcome: 'timeout' });
        this.#fail(`no ack for batch ${batch.batch} within ${this.#settings.ackTimeoutMs} ms`);
      }, this.#settings.ackTimeoutMs),
    };
    this.#inFlight.set(batch.batch, entry);
    this.#metrics?.syncUplinkBatches.inc({ outcome: 'sent' });
    this.#metrics?.syncUplinkRecords.inc({ outcome: 'sent' }, rows.length);
    this.#publish(JSON.stringify(batch)).catch((err: unknown) => {
      if (round !== this.#round) return;
      this.#metrics?.syncUplinkBatches.inc({ outcome: 'failed' });
      this.#fail(`publishing batch ${batch.batch} failed: ${(err as Error).message}`);
    });
  }

  // ── failure and retry ─────────────────────────────────────────────────────────────────────

  /** Give up the round; after a back-off, re-send from the oldest unacknowledged row. */
  #fail(reason: string): void {
    this.#failures += 1;
    this.#lastError = reason;
    this.#abandonRound();
    this.#restartCursors();
    const delay = backoffMs(this.#failures, this.#settings.retryBaseMs, this.#settings.retryMaxMs, this.#random);
    this.#logger?.warn({ reason, failures: this.#failures, retryInMs: delay }, 'uplink round failed; re-sending from the oldest unacknowledged row');
    this.#clearRetry();
    this.#retryAt = this.#clock.now() + delay;
    this.#retryTimer = this.#clock.setTimeout(() => {
      this.#retryTimer = undefined;
      this.#retryAt = null;
      this.#pump();
    }, delay);
  }

  #abandonRound(): void {
    this.#round += 1;
    for (const batch of this.#inFlight.values()) this.#clock.clearTimeout(batch.timer);
    this.#inFlight.clear();
    this.#checkpointOf.clear();
  }

  /** From the oldest unacknowledged row: backlog rows at the backlog rate, rows since at once. */
  #restartCursors(): void {
    const first = this.#firstPendingId();
    this.#backlogCursor = first === undefined ? this.#ceiling : Math.min(first - 1, this.#ceiling);
    this.#liveCursor = this.#ceiling;
  }

  #clearRetry(): void {
    if (this.#retryTimer !== undefined) this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#retryAt = null;
  }

  #schedulePoll(): void {
    if (!this.#started) return;
    this.#pollTimer = this.#clock.setTimeout(() => {
      this.#pump();
      this.#schedulePoll();
    }, this.#settings.pollIntervalMs);
  }

  /** A backlog batch waits for a second's worth of tokens or a full batch, whichever is less. */
  #backlogThreshold(): number {
    return Math.max(1, Math.min(this.#settings.batchRecords, this.#settings.backlogRecordsPerSec));
  }

  /** The bucket holds a second's worth of backlog, or one full batch if that is more. */
  #bucketCapacity(): number {
    return Math.max(this.#settings.batchRecords, this.#settings.backlogRecordsPerSec);
  }

  #refill(): void {
    const now = this.#clock.now();
    const elapsed = Math.max(0, now - this.#tokensAt);
    this.#tokensAt = now;
    this.#tokens = Math.min(this.#bucketCapacity(), this.#tokens + (elapsed * this.#settings.backlogRecordsPerSec) / 1000);
  }
}

/**
 * One outbox row as it travels (docs/sync.md): seq = outbox id, hash = content hash, and the
 * payload as HQ may see it (`uplinkPayload`).
 */
export function toRecord(row: PendingOutboxEntry): UplinkRecord {
  const { stream, type, key, at } = row.event;
  const payload = uplinkPayload(row.event.payload);
  return { seq: row.id, stream, type, key, at, hlc: row.hlc, payload, hash: contentHash({ stream, type, key, at, payload }) };
}

/** Payload members that identify a shopper (the per-visit app QR or payment token): they stay in the store (G12). */
const storeOnlyMembers = new Set(['token']);

/**
 * The payload without its store-only members, at any depth. Receipts keep their pseudonymous
 * session id, lines and amounts; the token they were paid with is the payment service's
 * business and never reaches HQ. Deterministic, so a re-sent row hashes the same.
 */
export function uplinkPayload(payload: unknown): unknown {
  if (Array.isArray(payload)) return payload.map(uplinkPayload);
  if (payload === null || typeof payload !== 'object') return payload;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(payload)) if (!storeOnlyMembers.has(name)) out[name] = uplinkPayload(value);
  return out;
}
