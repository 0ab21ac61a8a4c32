/**
 * The settled level of a tray and how it follows slow change while nothing happens.
 *
 * Absolute weight is never trusted (AiFi: cells are not zeroed and drift over hours to days;
 * creep moves a loaded cell by ≈0.03 % per 30 min — research/checkout.md §5.3): only the level
 * just before a change and the level just after it are compared. While the tray is settled the
 * level is the running mean of its samples, which turns into an exponential moving average
 * with time constant τ once it has that much history; drift and creep are absorbed into it
 * and never reported as events. How much it absorbed is kept for metrics.
 */
export class DriftTracker {
  readonly #tauMs: number;
  #level = Number.NaN;
  /** Samples behind the level, for the standard error of the mean (capped by the EMA's memory). */
  #n = 0;
  #anchor = Number.NaN;
  /** Total |level movement| absorbed over finished settled periods, grams. */
  absorbedG = 0;

  constructor(tauMs: number) {
    this.#tauMs = tauMs;
  }

  /** Starts a settled period at `level`, the mean of `n` quiet samples. */
  reset(level: number, n: number): void {
    this.#level = level;
    this.#n = n;
    this.#anchor = level;
  }

  /** Folds in one quiet sample; `periodMs` is the sample interval. */
  track(value: number, periodMs: number): void {
    const alpha = Math.min(1, periodMs / this.#tauMs);
    this.#level += alpha * (value - this.#level);
    // An EMA with weight α averages about (2 − α)/α samples once it has seen that many.
    this.#n = Math.min(this.#n + 1, (2 - alpha) / alpha);
  }

  /** Ends the settled period (the tray became active): books the drift it absorbed. */
  close(): void {
    if (Number.isFinite(this.#anchor)) this.absorbedG += Math.abs(this.#level - this.#anchor);
    this.#anchor = Number.NaN;
  }

  get level(): number {
    return this.#level;
  }

  /** Effective number of samples behind the level. */
  get samples(): number {
    return this.#n;
  }
}
