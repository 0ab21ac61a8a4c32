/**
 * Hybrid logical clock stamps (docs/sync.md "Clock", research/sync.md §1.3, G8).
 *
 * A stamp is `PPPPPPPPPPPPPPP.LLLLL`: wall-clock ms zero-padded to 15 digits, a dot, and a
 * counter zero-padded to 5 digits, so plain string order is time order. A clock's stamps only
 * ever increase: a wall clock stepped backwards (an NTP step, a dead RTC battery) holds the
 * physical part where it was and counts up instead.
 */

/** Largest ms a stamp can carry (15 digits: the year 33658). */
const MAX_MS = 999_999_999_999_999;
/** Largest counter in one ms; one more moves the stamp to the next ms. */
export const HLC_MAX_COUNTER = 99_999;
/** Remote times further ahead than this are flagged, not adopted (ubiquisync's 60 s "to prevent HLC poisoning"). */
export const DEFAULT_MAX_SKEW_MS = 60_000;

const HLC_PATTERN = /^(\d{15})\.(\d{5})$/;

/** The stamp for `ms` and `counter`; throws RangeError outside 0…10^15−1 ms or 0…99 999. */
export function formatHlc(ms: number, counter: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) throw new RangeError(`formatHlc: ms must be an integer in 0…${MAX_MS}, got ${ms}`);
  if (!Number.isInteger(counter) || counter < 0 || counter > HLC_MAX_COUNTER) {
    throw new RangeError(`formatHlc: counter must be an integer in 0…${HLC_MAX_COUNTER}, got ${counter}`);
  }
  return `${String(ms).padStart(15, '0')}.${String(counter).padStart(5, '0')}`;
}

/** The parts of a stamp, or undefined when `s` is not one. */
export function parseHlc(s: unknown): { ms: number; counter: number } | undefined {
  if (typeof s !== 'string') return undefined;
  const match = HLC_PATTERN.exec(s);
  if (match === null) return undefined;
  return { ms: Number(match[1]), counter: Number(match[2]) };
}

export interface HybridClockOptions {
  /** Wall clock, ms since the epoch. Default `Date.now`. */
  now?: () => number;
  /** The last stamp issued before (persisted across restarts), so the clock resumes above it. */
  last?: string | null;
  /** How far ahead of local time a remote time may be and still be adopted. Default 60 000. */
  maxSkewMs?: number;
}

/** What `observe` did with a remote time. */
export interface ObserveResult {
  /** False when the remote time was too far ahead and was ignored (flag it: SYNC_ERR_CLOCK_SKEW). */
  adopted: boolean;
  /** Remote time minus local wall time, ms (positive: the remote is ahead). */
  skewMs: number;
}

export class HybridClock {
  readonly #now: () => number;
  readonly #maxSkewMs: number;
  #ms: number;
  #counter: number;
  #issued: boolean;

  constructor(options: HybridClockOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    if (!(this.#maxSkewMs >= 0)) throw new RangeError(`HybridClock: maxSkewMs must be ≥ 0, got ${this.#maxSkewMs}`);
    const last = options.last ?? null;
    const parsed = last === null ? undefined : parseHlc(last);
    if (last !== null && parsed === undefined) throw new RangeError(`HybridClock: last is not a stamp: ${JSON.stringify(last)}`);
    this.#ms = parsed?.ms ?? 0;
    this.#counter = parsed?.counter ?? 0;
    this.#issued = parsed !== undefined;
  }

  /** A new stamp, strictly greater than every stamp this clock issued or resumed from. */
  tick(): string {
    const wall = this.#wallMs();
    if (!this.#issued || wall > this.#ms) {
      this.#ms = wall;
      this.#counter = 0;
    } else if (this.#counter < HLC_MAX_COUNTER) {
      this.#counter += 1;
    } else {
      // More than 100 000 stamps in one ms: borrow the next ms rather than wrap.
      this.#ms += 1;
      this.#counter = 0;
    }
    this.#issued = true;
    return formatHlc(this.#ms, this.#counter);
  }

  /**
   * Take in a remote time (e.g. a document's `issuedAt`). Within `maxSkewMs` of local time (or
   * behind it) the clock moves to at least `remoteMs`, so later stamps order after it; further
   * ahead it is not adopted, so one fast clock cannot drag every later stamp into its future.
   */
  observe(remoteMs: number): ObserveResult {
    if (!Number.isFinite(remoteMs)) throw new RangeError(`HybridClock.observe: remote time must be finite, got ${remoteMs}`);
    const remote = Math.floor(remoteMs);
    const skewMs = remote - this.#wallMs();
    if (skewMs > this.#maxSkewMs || remote < 0 || remote > MAX_MS) return { adopted: false, skewMs };
    if (!this.#issued || remote > this.#ms) {
      this.#ms = remote;
      this.#counter = 0;
      this.#issued = true;
    }
    return { adopted: true, skewMs };
  }

  /** The clock's current stamp (the last issued or adopted), or null before the first. */
  last(): string | null {
    return this.#issued ? formatHlc(this.#ms, this.#counter) : null;
  }

  /** The wall clock, clamped to what a stamp can carry: a broken clock (NaN, before 1970) reads as 0 and the counter carries on. */
  #wallMs(): number {
    const wall = Math.floor(this.#now());
    if (!(wall >= 0)) return 0;
    return Math.min(wall, MAX_MS);
  }
}
