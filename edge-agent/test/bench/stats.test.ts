import { describe, expect, it } from 'vitest';
import { deliveryFigures, median, percentile, percentileOfSorted, summarizeLatencies } from '../../src/bench/stats.ts';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted

  it('returns one of the values: the smallest with at least p % of values at or below it', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 1)).toBe(1);
    expect(percentile(hundred, 0.5)).toBe(1);
  });

  it('handles small samples the nearest-rank way', () => {
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([3, 1, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2); // rank ceil(0.5 × 4) = 2
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000], 90)).toBe(90);
    expect(percentile([10, 20, 30, 40, 50, 60, 70, 80, 90, 1000], 99)).toBe(1000);
  });

  it('sorts numerically, not as strings, and does not modify its input', () => {
    const values = [10, 9, 100, 1];
    expect(percentile(values, 75)).toBe(10);
    expect(values).toEqual([10, 9, 100, 1]);
    expect(percentile(new Float64Array([2.5, 0.25, 1.5]), 50)).toBe(1.5);
  });

  it('is NaN for no values and rejects p outside (0, 100]', () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentileOfSorted([1], Number.NaN)).toThrow(RangeError);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(median([1_000, 10, 100])).toBe(100);
  });

  it('ignores NaN and is NaN for nothing', () => {
    expect(median([Number.NaN, 1, 3])).toBe(2);
    expect(median([])).toBeNaN();
    expect(median([Number.NaN])).toBeNaN();
  });
});

describe('summarizeLatencies', () => {
  it('gives count, min, mean, p50, p90, p99 and max', () => {
    const s = summarizeLatencies(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(s).toEqual({ count: 1000, min: 1, mean: 500.5, p50: 500, p90: 900, p99: 990, max: 1000 });
    expect(summarizeLatencies([]).count).toBe(0);
    expect(summarizeLatencies([]).p50).toBeNaN();
  });
});

describe('deliveryFigures', () => {
  it('matches send and receive times per message, counts lost and computes msg/s over first send → last receive', () => {
    const sentAt = [1000, 1001, 1002, 1003, Number.NaN];
    const receivedAt = [1004, 1003, Number.NaN, 1010, Number.NaN];
    const f = deliveryFigures(sentAt, receivedAt, 2);
    expect(f.sent).toBe(4);
    expect(f.received).toBe(3);
    expect(f.lost).toBe(1);
    expect(f.duplicates).toBe(2);
    expect(f.spanMs).toBe(10); // 1010 − 1000
    expect(f.msgPerSec).toBe(300); // 3 messages in 10 ms
    expect(f.latencyMs.min).toBe(2);
    expect(f.latencyMs.p50).toBe(4);
    expect(f.latencyMs.max).toBe(7);
  });

  it('has no throughput when nothing arrived', () => {
    const f = deliveryFigures([1, 2], [Number.NaN, Number.NaN]);
    expect(f.received).toBe(0);
    expect(f.lost).toBe(2);
    expect(f.msgPerSec).toBeNaN();
  });

  it('rejects arrays of different lengths', () => {
    expect(() => deliveryFigures([1], [1, 2])).toThrow(RangeError);
  });
});
