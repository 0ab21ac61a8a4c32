/**
 * Small statistics for benchmarks: nearest-rank percentiles, medians and per-run summaries.
 * Pure functions over numbers; nothing here reads a clock.
 */

/**
 * The p-th percentile (0 < p ≤ 100) of values by the nearest-rank method: the smallest value
 * such that at least p % of the values are ≤ it. Always one of the values (no interpolation),
 * so p99 of 100 latencies is the 99th smallest. NaN for no values.
 */
export function percentile(values: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return percentileOfSorted(sorted, p);
}

/** As percentile(), for values already sorted ascending (no copy). */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length); // 1-based
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The median: the middle value, or the mean of the two middle values for an even count. NaN for none. */
export function median(values: ArrayLike<number>): number {
  const finite = Array.from(values).filter((v) => !Number.isNaN(v));
  if (finite.length === 0) return Number.NaN;
  finite.sort((a, b) => a - b);
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
}

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Count, min, mean, p50, p90, p99 and max of a set of latencies (ms). */
export function summarizeLatencies(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n ? sorted[0]! : Number.NaN,
    mean: n ? sum / n : Number.NaN,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: n ? sorted[n - 1]! : Number.NaN,
  };
}

export interface DeliveryFigures {
  /** Messages the generator published. */
  sent: number;
  /** Distinct (device, seq) pairs that reached the sink. */
  received: number;
  /** Sent but never received. */
  lost: number;
  /** Receipts of a (device, seq) already received. */
  duplicates: number;
  /** received / (last receive − first send), messages per second. */
  msgPerSec: number;
  /** last receive − first send, ms. */
  spanMs: number;
  latencyMs: LatencySummary;
}

/**
 * Figures of one run from matched timestamps: `sentAt[i]` and `receivedAt[i]` are absolute
 * times (ms) of message i (NaN when it was not sent / not received). Latency is receive − send
 * per message; throughput is received messages over the span from the first send to the last
 * receive.
 */
export function deliveryFigures(sentAt: ArrayLike<number>, receivedAt: ArrayLike<number>, duplicates = 0): DeliveryFigures {
  if (sentAt.length !== receivedAt.length) throw new RangeError('sentAt and receivedAt must have the same length');
  const latencies: number[] = [];
  let sent = 0;
  let firstSend = Number.POSITIVE_INFINITY;
  let lastReceive = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < sentAt.length; i++) {
    const s = sentAt[i]!;
    const r = receivedAt[i]!;
    if (!Number.isNaN(s)) {
      sent++;
      if (s < firstSend) firstSend = s;
    }
    if (!Number.isNaN(r)) {
      if (r > lastReceive) lastReceive = r;
      if (!Number.isNaN(s)) latencies.push(r - s);
    }
  }
  const received = latencies.length;
  const spanMs = received > 0 && Number.isFinite(firstSend) ? lastReceive - firstSend : Number.NaN;
  return {
    sent,
    received,
    lost: sent - received,
    duplicates,
    msgPerSec: spanMs > 0 ? (received * 1000) / spanMs : Number.NaN,
    spanMs,
    latencyMs: summarizeLatencies(latencies),
  };
}
