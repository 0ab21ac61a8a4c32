import { scanFrame, SHELF_SYNC, type ShelfFrame, type ShelfReject } from './frame.ts';

export type ShelfParserOutput = { kind: 'frame'; frame: ShelfFrame } | { kind: 'reject'; reject: ShelfReject };

export interface ShelfFrameParserOptions {
  /**
   * Report skipped sequence numbers as DRV_ERR_FRAME_SEQUENCE_GAP (default true). The host
   * tracks the controller's numbers; the controller side (simulator) turns this off.
   */
  trackSequence?: boolean;
}

/**
 * The stream shell around `scanFrame`: feed it chunks as they come off the port, get back the
 * frames and rejects they complete. It keeps only the bytes of an unfinished frame (at most
 * SHELF_MAX_FRAME_BYTES) and the last sequence number, so the same bytes give the same output
 * however they are split. Never throws on device input.
 *
 * Resync rule (docs/shelf-controller.md): a candidate frame that fails its header check or
 * CRC costs one byte — its first sync byte — and the hunt for `A5 5A` restarts right after
 * it, so the frames that follow a bad one (even one whose length field was hit) are still
 * found. Bytes skipped while hunting after a good frame are one DRV_ERR_FRAME_MALFORMED
 * (reported when the next sync shows where they end); bytes skipped after a reject belong
 * to that reject.
 */
export class ShelfFrameParser {
  readonly #trackSequence: boolean;
  #buffer: Uint8Array = new Uint8Array(0);
  #lastSeq: number | undefined;
  /** Bytes skipped since the last frame or reject, not yet reported. */
  #skipped = 0;
  /** A reject was the last thing reported: skipped bytes are part of it. */
  #resyncing = false;

  constructor(options: ShelfFrameParserOptions = {}) {
    this.#trackSequence = options.trackSequence ?? true;
  }

  /** Bytes held for a frame that has not finished arriving. */
  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  push(chunk: Uint8Array): ShelfParserOutput[] {
    const bytes = this.#buffer.length === 0 ? chunk : concat(this.#buffer, chunk);
    const out: ShelfParserOutput[] = [];
    let i = 0;
    for (;;) {
      const start = findSync(bytes, i);
      if (start === -1) {
        // Keep a trailing 0xA5: it may be the first half of a sync split across chunks.
        const keep = bytes.length > i && bytes[bytes.length - 1] === SHELF_SYNC[0] ? 1 : 0;
        this.#skipped += bytes.length - keep - i;
        i = bytes.length - keep;
        break;
      }
      this.#skipped += start - i;
      i = start;
      const result = scanFrame(bytes, start);
      if (result.status === 'incomplete') break;
      if (this.#skipped > 0 && !this.#resyncing) {
        out.push({ kind: 'reject', reject: { code: 'DRV_ERR_FRAME_MALFORMED', reason: `skipped ${this.#skipped} bytes that are not a frame` } });
      }
      this.#skipped = 0;
      i += result.size;
      if (result.status === 'reject') {
        this.#resyncing = true;
        out.push({ kind: 'reject', reject: result.reject });
        continue;
      }
      this.#resyncing = false;
      const gap = this.#sequenceGap(result.frame.seq);
      if (gap !== undefined) out.push({ kind: 'reject', reject: gap });
      out.push({ kind: 'frame', frame: result.frame });
    }
    // A copy: a port's chunk may be a view into a pool the stream reuses.
    this.#buffer = new Uint8Array(bytes.subarray(i));
    return out;
  }

  /** Forgets buffered bytes and the sequence (after the port was reopened). */
  reset(): void {
    this.#buffer = new Uint8Array(0);
    this.#lastSeq = undefined;
    this.#skipped = 0;
    this.#resyncing = false;
  }

  #sequenceGap(seq: number): ShelfReject | undefined {
    if (!this.#trackSequence) return undefined;
    const last = this.#lastSeq;
    this.#lastSeq = seq;
    if (last === undefined) return undefined;
    const expected = (last + 1) & 0xffff;
    const lost = (seq - expected) & 0xffff;
    // A step back (lost ≥ 32768) is a controller restart or a replay, not a gap: start over from it.
    if (lost === 0 || lost >= 0x8000) return undefined;
    return {
      code: 'DRV_ERR_FRAME_SEQUENCE_GAP',
      reason: `${lost} frame${lost === 1 ? '' : 's'} missing between seq ${last} and ${seq}`,
      lost,
    };
  }
}

/** Index of the next `A5 5A` at or after `from`, or -1. */
function findSync(bytes: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(SHELF_SYNC[0], from); i !== -1 && i + 1 < bytes.length; i = bytes.indexOf(SHELF_SYNC[0], i + 1)) {
    if (bytes[i + 1] === SHELF_SYNC[1]) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
