import { errors } from '../errors.ts';

const dayMs = 24 * 3_600_000;

/**
 * Per-tag LED budget (research/esl.md §1.8, §4 point 5, §6.9): an LED flash wakes the tag's
 * radio and drains its coin cell, so an unbounded flash API is a battery DoS. At most one flash
 * per `minIntervalMs` and `dailyBudget` flashes in any 24 h per tag.
 */
export class FlashLimiter {
  readonly #minIntervalMs: number;
  readonly #dailyBudget: number;
  /** Flash times per tag within the last 24 h, oldest first. */
  readonly #recent = new Map<string, number[]>();

  constructor(options: { minIntervalMs: number; dailyBudget: number }) {
    this.#minIntervalMs = options.minIntervalMs;
    this.#dailyBudget = options.dailyBudget;
  }

  /** Throws EDGE_ERR_LABEL_FLASH_LIMITED (with `details.retryAfterMs`) when the tag may not flash at `now`. */
  check(tagId: string, now: number): void {
    const times = this.#window(tagId, now);
    const last = times.at(-1);
    if (last !== undefined && now - last < this.#minIntervalMs) {
      const retryAfterMs = last + this.#minIntervalMs - now;
      throw errors.EDGE_ERR_LABEL_FLASH_LIMITED(`tag "${tagId}" flashed ${Math.round((now - last) / 1000)} s ago; at most one flash per ${this.#minIntervalMs / 1000} s (retry in ${Math.ceil(retryAfterMs / 1000)} s)`, {
        details: { tagId, limit: 'interval', retryAfterMs },
      });
    }
    if (times.length >= this.#dailyBudget) {
      const retryAfterMs = times[0]! + dayMs - now;
      throw errors.EDGE_ERR_LABEL_FLASH_LIMITED(`tag "${tagId}" used its ${this.#dailyBudget} flashes of the last 24 h (retry in ${Math.ceil(retryAfterMs / 60_000)} min)`, {
        details: { tagId, limit: 'daily', retryAfterMs },
      });
    }
  }

  /** Counts a flash at `at` (also when rebuilding from the ledger). */
  record(tagId: string, at: number): void {
    const times = this.#window(tagId, at);
    times.push(at);
    this.#recent.set(tagId, times);
  }

  #window(tagId: string, now: number): number[] {
    const times = (this.#recent.get(tagId) ?? []).filter((t) => t > now - dayMs);
    if (times.length === 0) this.#recent.delete(tagId);
    else this.#recent.set(tagId, times);
    return times;
  }
}
