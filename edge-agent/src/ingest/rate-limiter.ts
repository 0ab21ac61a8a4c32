/**
 * Token bucket per key: `ratePerSecond` sustained, `burst` at once. One device's flood empties
 * only its own bucket, so it cannot starve the others.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; updatedAt: number }>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; false when its bucket is empty. */
  take(key: string): boolean {
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (!bucket) this.#buckets.set(key, (bucket = { tokens: this.burst, updatedAt: now }));
    const refill = ((now - bucket.updatedAt) / 1000) * this.ratePerSecond;
    bucket.tokens = Math.min(this.burst, bucket.tokens + refill);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  forget(key: string): void {
    this.#buckets.delete(key);
  }
}
