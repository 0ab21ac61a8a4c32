/**
 * Measures a tray's white-noise σ from its own samples, so that every threshold can be set in
 * units of σ (AiFi: noise "varies highly" between shelves — research/checkout.md §2, §5.3).
 *
 * Successive differences of white noise have variance 2σ², while slow changes (drift, creep,
 * a level step) hardly move them; each block of samples gives one estimate, and σ is the
 * median of the last 31 blocks. Only samples the caller marks as quiet (the tray settled) fill
 * blocks, and the median ignores the few a burst inflates, so a busy tray's hands do not
 * raise its σ (which would loosen every threshold).
 */
export class NoiseEstimator {
  static readonly BLOCKS = 31;
  readonly #blockSize: number;
  readonly #prior: number;
  readonly #floor: number;
  readonly #blocks: number[] = [];
  #blockSum = 0;
  #blockN = 0;
  #sigma: number;
  #previous: number | undefined;

  constructor(options: { blockSize: number; priorSigmaG: number; minSigmaG: number }) {
    this.#blockSize = Math.max(4, options.blockSize);
    this.#prior = options.priorSigmaG;
    this.#floor = options.minSigmaG;
    this.#sigma = Math.max(this.#floor, this.#prior);
  }

  /**
   * Adds a sample; `continuous` is false after a gap in the samples (the difference across it
   * is skipped), `counts` false while the tray is being handled.
   */
  push(value: number, continuous: boolean, counts = true): void {
    const previous = this.#previous;
    this.#previous = value;
    if (previous === undefined || !continuous || !counts) return;
    const d = value - previous;
    this.#blockSum += d * d;
    if (++this.#blockN < this.#blockSize) return;
    const estimate = Math.sqrt(this.#blockSum / (2 * this.#blockN));
    this.#blockSum = 0;
    this.#blockN = 0;
    this.#blocks.push(estimate);
    if (this.#blocks.length > NoiseEstimator.BLOCKS) this.#blocks.shift();
    // Three blocks are enough to stop trusting the prior.
    if (this.#blocks.length >= 3) this.#sigma = Math.max(this.#floor, medianOf(this.#blocks));
  }

  /** The current estimate of σ, grams. */
  get sigma(): number {
    return this.#sigma;
  }
}

function medianOf(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
