/** The last `capacity` latencies (a ring), and percentiles over them. */
export class LatencyWindow {
  readonly #values: Float64Array;
  #next = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  add(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    this.#size = Math.min(this.#size + 1, this.#values.length);
  }

  /** The nearest-rank percentile (0–100) of the values held, or null when there are none. */
  percentile(p: number): number | null {
    if (this.#size === 0) return null;
    const sorted = this.#values.slice(0, this.#size).sort();
    const rank = Math.max(1, Math.ceil((p / 100) * this.#size));
    return sorted[rank - 1]!;
  }
}
