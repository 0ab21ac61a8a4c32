import type { z } from 'zod';
import type { Reject } from '../errors.ts';
import type { RfidRead } from './read.ts';

/** What a vendor JSON decoder returns for one message. It never throws. */
export interface VendorDecodeResult {
  /** Tag reads, in message order. */
  reads: RfidRead[];
  /** One per bad message or bad event in a batch; the good events of a batch are still read. */
  rejects: Reject[];
  /** Events that are valid but not tag reads (antenna, status, heartbeat events): skipped, not rejected. */
  ignored: number;
}

export interface VendorDecodeOptions {
  /** Receive time, used when an event carries no timestamp. Default Date.now(). */
  receivedAt?: number;
}

/**
 * The events in one message: a JSON object, a JSON array (a batch), or newline-delimited JSON
 * (an HTTP event stream's lines; blank keep-alive lines are skipped), or a
 * DRV_ERR_JSON_MALFORMED reject when it is none of these. In a batch, rejects name the member: `[3].…`.
 */
export function splitVendorJson(payload: string | Uint8Array): { events: unknown[]; batch: boolean } | { reject: Reject } {
  const text = typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8');
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? { events: value, batch: true } : { events: [value], batch: false };
  } catch (error) {
    const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
    if (lines.length > 1) {
      const events: unknown[] = [];
      for (const [i, line] of lines.entries()) {
        try {
          events.push(JSON.parse(line));
        } catch (lineError) {
          return { reject: { code: 'DRV_ERR_JSON_MALFORMED', reason: `line ${i + 1} is not JSON: ${describe(lineError)}` } };
        }
      }
      return { events, batch: true };
    }
    return { reject: { code: 'DRV_ERR_JSON_MALFORMED', reason: `not JSON: ${describe(error)}` } };
  }
}

/** A DRV_ERR_JSON_SCHEMA reject naming the first bad field, e.g. `[2].tagInventoryEvent.antennaPort`. */
export function schemaReject(vendor: string, prefix: string, error: z.ZodError): Reject {
  const issue = error.issues[0];
  const path = joinPath(prefix, issue?.path ?? []);
  return { code: 'DRV_ERR_JSON_SCHEMA', reason: `${vendor}: ${path || '(root)'}: ${issue?.message ?? 'invalid'}` };
}

export function fieldReject(vendor: string, path: string, problem: string): Reject {
  return { code: 'DRV_ERR_JSON_SCHEMA', reason: `${vendor}: ${path}: ${problem}` };
}

/** `[i]` for batch members, then dotted keys. */
export function joinPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out.length === 0 ? '' : '.'}${String(key)}`;
  return out;
}

const ISO_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/;

/**
 * ISO 8601 times as the vendors write them: `2023-02-24T10:14:42.851+0000` (Zebra, offset
 * without a colon), `…T16:45:49.163785016Z` (Impinj, nanoseconds). Undefined when not one.
 */
export function parseVendorTime(text: string): number | undefined {
  const match = ISO_TIME.exec(text);
  if (match === null) return undefined;
  const [, base, fraction = '', zone] = match;
  const offset = zone === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${zone!.slice(-2)}`;
  const ms = Date.parse(`${base}.${fraction.padEnd(3, '0').slice(0, 3)}${offset}`);
  return Number.isNaN(ms) ? undefined : ms;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One vendor event decoded: a read, a reject, or a valid event that is not a tag read. */
export type VendorEventOutcome = RfidRead | Reject | 'ignored';

/**
 * Decodes one vendor message with a per-event decoder: splits it into events (one, a batch
 * array, or NDJSON lines), decodes each with its path prefix (`[3]` in a batch), and collects
 * reads, rejects and ignored events. A bad event in a batch never loses the good ones.
 */
export function decodeVendorMessage(
  payload: string | Uint8Array,
  options: VendorDecodeOptions,
  decodeEvent: (value: unknown, path: string, receivedAt: number) => VendorEventOutcome,
): VendorDecodeResult {
  const result: VendorDecodeResult = { reads: [], rejects: [], ignored: 0 };
  const split = splitVendorJson(payload);
  if ('reject' in split) {
    result.rejects.push(split.reject);
    return result;
  }
  const receivedAt = options.receivedAt ?? Date.now();
  for (const [i, value] of split.events.entries()) {
    const decoded = decodeEvent(value, split.batch ? `[${i}]` : '', receivedAt);
    if (decoded === 'ignored') result.ignored++;
    else if ('code' in decoded) result.rejects.push(decoded);
    else result.reads.push(decoded);
  }
  return result;
}
