/**
 * Moving statistics over the last `size` samples in O(1) per sample: mean and standard
 * deviation of the whole window, and the means of its older and newer halves (for the
 * "still ramping?" test and for spotting a slow shift). Values are stored relative to a
 * reference so that sums of squares keep their precision on a cell carrying kilograms; the
 * sums are recomputed exactly from time to time so rounding cannot pile up.
 */
export class RollingWindow {
  readonly size: number;
  /** Samples in the newer half (the older half has size − recentSize). */
  readonly recentSize: number;
  readonly #values: Float64Array;
  readonly #times: Float64Array;
  /** Index of the next write. */
  #head = 0;
  #count = 0;
  #ref: number | undefined;
  #sum = 0;
  #sumSq = 0;
  #sumRecent = 0;
  #sinceExact = 0;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 4) throw new RangeError(`window size must be an integer >= 4, got ${size}`);
    this.size = size;
    this.recentSize = Math.ceil(size / 2);
    this.#values = new Float64Array(size);
    this.#times = new Float64Array(size);
  }

  push(t: number, value: number): void {
    this.#ref ??= value;
    const x = value - this.#ref;
    const size = this.size;
    if (this.#count === size) {
      const old = this.#values[this.#head]!;
      this.#sum -= old;
      this.#sumSq -= old * old;
    } else {
      this.#count++;
    }
    // The sample recentSize places back leaves the newer half (once there are that many).
    if (this.#count > this.recentSize) {
      this.#sumRecent -= this.#values[(this.#head - this.recentSize + size) % size]!;
    }
    this.#values[this.#head] = x;
    this.#times[this.#head] = t;
    this.#head = (this.#head + 1) % size;
    this.#sum += x;
    this.#sumSq += x * x;
    this.#sumRecent += x;
    if (++this.#sinceExact >= 4_096) this.#recompute();
  }

  get count(): number {
    return this.#count;
  }

  get full(): boolean {
    return this.#count === this.size;
  }

  /** Mean of the samples in the window. */
  mean(): number {
    return this.#count === 0 ? Number.NaN : this.#sum / this.#count + this.#ref!;
  }

  /** Sample standard deviation (n − 1) of the window. */
  std(): number {
    const n = this.#count;
    if (n < 2) return 0;
    const variance = (this.#sumSq - (this.#sum * this.#sum) / n) / (n - 1);
    return variance > 0 ? Math.sqrt(variance) : 0;
  }

  /** Mean of the newer half (the last recentSize samples, or all when fewer). */
  recentMean(): number {
    const n = Math.min(this.#count, this.recentSize);
    return n === 0 ? Number.NaN : this.#sumRecent / n + this.#ref!;
  }

  /** Mean of the older half of a full window. */
  olderMean(): number {
    const n = this.#count - Math.min(this.#count, this.recentSize);
    return n === 0 ? Number.NaN : (this.#sum - this.#sumRecent) / n + this.#ref!;
  }

  /** Time of the oldest sample in the window. */
  oldestTime(): number {
    return this.#times[(this.#head - this.#count + this.size) % this.size]!;
  }

  /** The sample `back` places before the newest (0 = newest). */
  valueBack(back: number): number {
    return this.#values[(this.#head - 1 - back + 2 * this.size) % this.size]! + this.#ref!;
  }

  #recompute(): void {
    this.#sinceExact = 0;
    // Re-centre on the current mean, then sum again from the stored values.
    const shift = this.#count === 0 ? 0 : this.#sum / this.#count;
    let sum = 0;
    let sumSq = 0;
    let sumRecent = 0;
    for (let i = 0; i < this.#count; i++) {
      const at = (this.#head - 1 - i + this.size) % this.size;
      const x = this.#values[at]! - shift;
      this.#values[at] = x;
      sum += x;
      sumSq += x * x;
      if (i < this.recentSize) sumRecent += x;
    }
    this.#ref = (this.#ref ?? 0) + shift;
    this.#sum = sum;
    this.#sumSq = sumSq;
    this.#sumRecent = sumRecent;
  }
}
