import type { Reject } from '../errors.ts';
import { frameAt, frameLengthAt, M100_HEADER, m100FrameProblem, type M100Frame } from './m100-frame.ts';

/**
 * What the parser found in the stream. `offset` and `length` locate the bytes in the whole
 * stream since the parser was made: every byte pushed ends up in exactly one event, either a
 * frame or a reject (bytes dropped).
 */
export type M100ParseEvent =
  | { kind: 'frame'; frame: M100Frame; offset: number; length: number }
  | { kind: 'reject'; reject: Reject; offset: number; length: number };

export interface M100FrameParserOptions {
  /**
   * Largest PL accepted. A header announcing more is dropped at once instead of waiting for
   * bytes that would hold back the frames behind it. Default 255: the biggest frames a reader
   * driver meets (tag notices, module info) are far smaller.
   */
  maxParamLength?: number;
}

/**
 * Cuts M100 frames out of a serial byte stream. It keeps only the bytes of a frame still
 * arriving between pushes (like serialport's parser-* packages) and never throws.
 *
 * Resync rule [research/rfid.md §0.2]: a candidate frame starts at a 0xBB. When its type, PL,
 * end byte or checksum is wrong, the parser drops the bytes from that 0xBB up to the next 0xBB
 * (one reject), and tries again there: a frame whose header byte lies inside a bad candidate is
 * still found. Bytes before any 0xBB are dropped as one reject too. A dropped run ends at the
 * next 0xBB even when that arrives in a later chunk, so the rejects do not depend on chunking. A 0xBB or 0x7E inside a good
 * frame's parameters is harmless: frames are cut by PL, not by delimiters.
 */
export class M100FrameParser {
  readonly #maxParamLength: number;
  #pending: Buffer = Buffer.alloc(0);
  /** Stream offset of #pending[0]. */
  #offset = 0;
  /** Bytes being dropped up to the next 0xBB: a bad candidate (with its reject) or stray bytes (without). */
  #droppedRun: { reject: Reject | undefined; offset: number; length: number } | undefined;

  constructor(options: M100FrameParserOptions = {}) {
    this.#maxParamLength = options.maxParamLength ?? 255;
  }

  /** Bytes held back: the start of a frame still arriving. */
  get buffered(): number {
    return this.#pending.length;
  }

  /** Feeds bytes; returns the frames and rejects they complete, in stream order. */
  push(chunk: Uint8Array): M100ParseEvent[] {
    const bytes = this.#pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#pending, chunk]);
    return this.#scan(bytes, false);
  }

  /**
   * End of stream (or a silent line): whatever is held back cannot complete any more. A frame
   * still arriving becomes a reject, and any frame behind its header is still decoded.
   */
  flush(): M100ParseEvent[] {
    return this.#scan(this.#pending, true);
  }

  /** Forgets held-back bytes without reporting them (a new port session). */
  reset(): void {
    this.#offset += this.#pending.length;
    this.#pending = Buffer.alloc(0);
    this.#droppedRun = undefined;
  }

  #scan(bytes: Buffer, final: boolean): M100ParseEvent[] {
    const events: M100ParseEvent[] = [];
    let pos = 0;
    // Dropped bytes run until the next 0xBB, which may arrive in a later push: the run stays
    // open until then, so a run is one reject however the stream was chunked.
    const closeRun = () => {
      const run = this.#droppedRun;
      if (run === undefined) return;
      this.#droppedRun = undefined;
      const reject = run.reject ?? { code: 'DRV_ERR_FRAME_MALFORMED', reason: `${run.length} bytes outside any frame` };
      events.push({ kind: 'reject', reject, offset: run.offset, length: run.length });
    };
    const drop = (end: number, reject?: Reject) => {
      if (reject === undefined && this.#droppedRun !== undefined) {
        this.#droppedRun.length += end - pos; // more of the same run
      } else {
        closeRun();
        this.#droppedRun = { reject, offset: this.#offset + pos, length: end - pos };
      }
      pos = end;
    };
    while (pos < bytes.length) {
      const start = bytes.indexOf(M100_HEADER, pos);
      if (start === -1) {
        drop(bytes.length);
        break;
      }
      if (start > pos) drop(start);
      closeRun();
      const available = bytes.length - pos;
      const problem = m100FrameProblem(bytes, pos, available, false, this.#maxParamLength);
      if (problem === undefined) {
        const incomplete = available < 5 || available < frameLengthAt(bytes, pos);
        if (incomplete && !final) break; // wait for the rest of this frame
        if (!incomplete) {
          const length = frameLengthAt(bytes, pos);
          events.push({ kind: 'frame', frame: frameAt(bytes, pos), offset: this.#offset + pos, length });
          pos += length;
          continue;
        }
        // Final and incomplete: judge it as a whole frame (reports the truncation).
        drop(nextHeader(bytes, pos), m100FrameProblem(bytes, pos, available, true, this.#maxParamLength)!);
        continue;
      }
      drop(nextHeader(bytes, pos), problem);
    }
    if (final) closeRun();
    this.#offset += pos;
    this.#pending = Buffer.from(bytes.subarray(pos));
    return events;
  }
}

/** Where the next candidate starts after a bad one at `pos`: the next 0xBB, or the end. */
function nextHeader(bytes: Buffer, pos: number): number {
  const next = bytes.indexOf(M100_HEADER, pos + 1);
  return next === -1 ? bytes.length : next;
}
