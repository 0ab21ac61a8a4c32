import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical.ts';
import { parseHlc } from './hlc.ts';
import { storeIdPattern } from './topics.ts';

/**
 * Uplink batches (store → HQ) and their acks (HQ → store): docs/sync.md "Uplink". A record's
 * identity is (store, epoch, seq) and, for good, (store, key); its `hash` is the content hash,
 * which HQ recomputes (a mismatch is corruption, SYNC_ERR_UPLINK_HASH) and compares with what
 * it already holds under either identity (a difference is SYNC_ERR_UPLINK_CONFLICT).
 */

/** Records per batch, at most (the schema's cap; the agent's `sync.uplink.batchRecords` stays below it). */
export const MAX_BATCH_RECORDS = 10_000;

/** One outbox row as it travels. */
export interface UplinkRecord {
  /** Outbox row id: 1, 2, 3 … without gaps within an epoch. */
  seq: number;
  stream: string;
  type: string;
  /** The ledger idempotency key: HQ keeps one record per (store, key) forever. */
  key: string;
  /** Wall-clock ms of the append. */
  at: number;
  /** Hybrid logical clock stamp of the append. */
  hlc: string;
  payload: unknown;
  /** `contentHash` of the record. */
  hash: string;
}

const seqSchema = z.number().int().min(1);
const epochSchema = z.string().min(1).max(128);
const batchIdSchema = z.string().min(1).max(256);
const sha256Schema = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits');

export const uplinkRecordSchema = z.strictObject({
  seq: seqSchema,
  stream: z.string().min(1).max(128),
  type: z.string().min(1).max(256),
  key: z.string().min(1).max(512),
  at: z.number().int().min(0),
  hlc: z.string().refine((s) => parseHlc(s) !== undefined, 'an HLC stamp PPPPPPPPPPPPPPP.LLLLL'),
  payload: z.unknown(),
  hash: sha256Schema,
});

/** A point of the store's hash-chained ledger: the event seq and the chain hash there. */
const ledgerMarkSchema = z.strictObject({ seq: seqSchema, hash: sha256Schema });

/** Anchors per checkpoint, at most. */
export const MAX_CHECKPOINT_ANCHORS = 16;

/**
 * The store's tamper-evidence checkpoint (research/sync.md G9; docs/sync.md "Checkpoints"): the
 * ledger's head, and the chain hash as the store's ledger has it now at earlier seqs (its last
 * acknowledged checkpoint's head and the round milestones of `checkpointAnchorSeqs`). HQ keeps
 * every mark it is sent per (store, epoch, seq); a later anchor that disagrees with a kept mark
 * means the store's history was rewritten after HQ saw it (SYNC_ERR_CHECKPOINT_FORK).
 */
export const checkpointSchema = z.strictObject({
  head: ledgerMarkSchema,
  anchors: z.array(ledgerMarkSchema).max(MAX_CHECKPOINT_ANCHORS),
});

export type Checkpoint = z.infer<typeof checkpointSchema>;

/** Milestone scales: the anchors are the largest multiple of each at or below the head. */
const CHECKPOINT_SCALES = [100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000] as const;

/**
 * The seqs a checkpoint at `headSeq` proves (besides the head): `extra` (the head of the last
 * checkpoint HQ acknowledged), and the largest multiple of 100, 1 000, … 10 000 000 at or below
 * the head — the same seqs from every checkpoint for a while, so HQ can compare them. Ascending,
 * below the head, without repeats.
 */
export function checkpointAnchorSeqs(headSeq: number, extra: readonly number[] = []): number[] {
  const seqs = new Set<number>();
  for (const scale of CHECKPOINT_SCALES) {
    const milestone = Math.floor(headSeq / scale) * scale;
    if (milestone > 0 && milestone < headSeq) seqs.add(milestone);
  }
  for (const seq of extra) if (Number.isInteger(seq) && seq > 0 && seq < headSeq) seqs.add(seq);
  return [...seqs].sort((a, b) => a - b).slice(-MAX_CHECKPOINT_ANCHORS);
}

export const uplinkBatchSchema = z
  .strictObject({
    v: z.literal(1),
    store: z.string().regex(storeIdPattern, 'a store id'),
    epoch: epochSchema,
    batch: batchIdSchema,
    records: z.array(uplinkRecordSchema).min(1).max(MAX_BATCH_RECORDS),
    /** The store's ledger checkpoint when the batch was built (G9); stores before it sent none. */
    checkpoint: checkpointSchema.optional(),
  })
  .superRefine((batch, ctx) => {
    for (let i = 1; i < batch.records.length; i++) {
      if (batch.records[i]!.seq <= batch.records[i - 1]!.seq) {
        ctx.addIssue({ code: 'custom', path: ['records', i, 'seq'], message: 'records must be in strictly ascending seq order' });
        return;
      }
    }
  });

const seqRangeSchema = z.tuple([seqSchema, seqSchema]).refine(([from, to]) => from <= to, 'a range [from, to] needs from ≤ to');

export const uplinkAckSchema = z.strictObject({
  v: z.literal(1),
  epoch: epochSchema,
  batch: batchIdSchema,
  /** Inclusive seq ranges HQ now holds (new or duplicate). */
  acked: z.array(seqRangeSchema).max(MAX_BATCH_RECORDS),
  /** Every seq ≤ watermark is held at HQ. */
  watermark: z.number().int().min(0),
  /** Records HQ refused for good. */
  rejected: z
    .array(z.strictObject({ seq: seqSchema, code: z.string().min(1).max(64), reason: z.string().max(1000) }))
    .max(MAX_BATCH_RECORDS),
});

export type UplinkBatch = z.infer<typeof uplinkBatchSchema>;
export type UplinkAck = z.infer<typeof uplinkAckSchema>;

/** The content hash of a record: sha256 hex of canonicalJson({ stream, type, key, at, payload }). */
export function contentHash(record: { stream: string; type: string; key: string; at: number; payload: unknown }): string {
  const { stream, type, key, at, payload } = record;
  return sha256Hex(canonicalJson({ stream, type, key, at, payload }));
}

/** True when the record's `hash` is its content hash; false (never a throw) when the payload has no canonical form. */
export function hasValidContentHash(record: UplinkRecord): boolean {
  try {
    return contentHash(record) === record.hash;
  } catch {
    return false;
  }
}

/** Seqs as sorted, merged, deduplicated inclusive ranges: [5, 1, 2, 3, 3] → [[1, 3], [5, 5]]. */
export function toRanges(seqs: Iterable<number>): Array<[number, number]> {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const ranges: Array<[number, number]> = [];
  for (const seq of sorted) {
    if (!Number.isSafeInteger(seq)) throw new RangeError(`toRanges: ${seq} is not a safe integer`);
    const last = ranges[ranges.length - 1];
    if (last !== undefined && seq === last[1] + 1) last[1] = seq;
    else ranges.push([seq, seq]);
  }
  return ranges;
}

/**
 * Every seq in `ranges`, ascending and deduplicated. Throws RangeError for a range with
 * from > to or non-integer ends, or when the ranges hold more than `limit` seqs (an ack naming
 * [1, 10^15] must not exhaust memory; test the ranges with SQL `BETWEEN` for such spans).
 */
export function fromRanges(ranges: Iterable<readonly [number, number]>, limit = 1_000_000): number[] {
  const seqs = new Set<number>();
  for (const [from, to] of ranges) {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from > to) throw new RangeError(`fromRanges: [${from}, ${to}] is not a range`);
    if (to - from + 1 > limit - seqs.size) throw new RangeError(`fromRanges: more than ${limit} seqs`);
    for (let seq = from; seq <= to; seq++) seqs.add(seq);
  }
  return [...seqs].sort((a, b) => a - b);
}

export type ParseBatchResult = { ok: true; batch: UplinkBatch } | { ok: false; code: 'SYNC_ERR_UPLINK_MALFORMED'; reason: string };
export type ParseAckResult = { ok: true; ack: UplinkAck } | { ok: false; code: 'SYNC_ERR_ACK_MALFORMED'; reason: string };

/** An uplink batch off the wire, checked against `uplinkBatchSchema`. Never throws. */
export function parseUplinkBatch(raw: Buffer | Uint8Array | string): ParseBatchResult {
  const parsed = parseWireJson(raw, uplinkBatchSchema);
  return parsed.ok ? { ok: true, batch: parsed.value } : { ok: false, code: 'SYNC_ERR_UPLINK_MALFORMED', reason: parsed.reason };
}

/** An uplink ack off the wire, checked against `uplinkAckSchema`. Never throws. */
export function parseUplinkAck(raw: Buffer | Uint8Array | string): ParseAckResult {
  const parsed = parseWireJson(raw, uplinkAckSchema);
  return parsed.ok ? { ok: true, ack: parsed.value } : { ok: false, code: 'SYNC_ERR_ACK_MALFORMED', reason: parsed.reason };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * JSON text or bytes → a value of `schema`, or the reason it is not one. Never throws: invalid
 * UTF-8, invalid JSON and schema misses all come back as a reason.
 * @internal shared by the uplink and document parsers.
 */
export function parseWireJson<T>(raw: unknown, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; reason: string } {
  let value: unknown;
  try {
    const text = typeof raw === 'string' ? raw : raw instanceof Uint8Array ? utf8.decode(raw) : undefined;
    if (text === undefined) return { ok: false, reason: 'expected a string or bytes' };
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, reason: `not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(value);
  return result.success ? { ok: true, value: result.data } : { ok: false, reason: describeIssues(result.error) };
}

/** A zod error as one short line: the first issues with their paths. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length === 0 ? '(root)' : issue.path.join('.')}: ${issue.message}`)
    .join('; ');
}
