/** A tag read leaving the store through an exit portal, kept for checkout and loss prevention. */
export interface ExitRecord {
  epc: string;
  gtin?: string;
  serial?: string;
  /** The exit zone. */
  zone: string;
  /** The zone the tag was present in before, when it was. */
  previousZone?: string;
  /** Device time of the read that decided the exit. */
  at: number;
}

/** Exits ordered by time, with a range query and time-based retention. */
export class ExitLog {
  readonly #records: ExitRecord[] = [];

  add(record: ExitRecord): void {
    // Exits arrive almost in time order (late reader batches aside): insert from the end.
    let i = this.#records.length;
    while (i > 0 && this.#records[i - 1]!.at > record.at) i--;
    this.#records.splice(i, 0, record);
  }

  /** Exits with from <= at <= to, oldest first. */
  between(from: number, to: number): ExitRecord[] {
    const start = this.#firstAtOrAfter(from);
    const out: ExitRecord[] = [];
    for (let i = start; i < this.#records.length && this.#records[i]!.at <= to; i++) out.push({ ...this.#records[i]! });
    return out;
  }

  /** Drops exits older than `before`. */
  prune(before: number): void {
    const keep = this.#firstAtOrAfter(before);
    if (keep > 0) this.#records.splice(0, keep);
  }

  get size(): number {
    return this.#records.length;
  }

  #firstAtOrAfter(at: number): number {
    let lo = 0;
    let hi = this.#records.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#records[mid]!.at < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
