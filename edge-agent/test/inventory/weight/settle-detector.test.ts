import { Rng } from '@storeedge/simulators';
import { describe, expect, it } from 'vitest';
import { resolveWeightPipelineOptions } from '../../../src/inventory/weight/options.ts';
import { RollingWindow } from '../../../src/inventory/weight/rolling-window.ts';
import { SettleDetector, type SettledSegment } from '../../../src/inventory/weight/settle-detector.ts';

const options = resolveWeightPipelineOptions();

/** Feeds level(t) + N(0, σ) at `rateHz` from `from` to `to`; returns the segments that closed. */
function feed(detector: SettleDetector, rng: Rng, level: (t: number) => number, sigma: number, rateHz: number, from: number, to: number): SettledSegment[] {
  const out: SettledSegment[] = [];
  for (let t = from; t <= to; t += 1_000 / rateHz) {
    const segment = detector.push(t, level(t) + rng.normal(0, sigma));
    if (segment) out.push(segment);
  }
  return out;
}

describe('RollingWindow', () => {
  it('keeps mean, SD and the two halves of the last n samples', () => {
    const w = new RollingWindow(6);
    for (const [i, x] of [100, 1, 2, 3, 4, 5, 6].entries()) w.push(i, x + 10_000);
    expect(w.full).toBe(true);
    expect(w.mean()).toBeCloseTo(10_003.5, 9);
    expect(w.std()).toBeCloseTo(Math.sqrt(3.5), 9);
    expect(w.olderMean()).toBeCloseTo(10_002, 9);
    expect(w.recentMean()).toBeCloseTo(10_005, 9);
    expect(w.oldestTime()).toBe(1);
    expect(w.valueBack(0)).toBe(10_006);
  });
});

describe('SettleDetector', () => {
  it('measures the sample rate and sizes its window from it (1 s: 10 samples at 10 Hz, 60 at 60 Hz)', () => {
    const d10 = new SettleDetector(options);
    feed(d10, new Rng(1), () => 1_000, 2, 10, 0, 3_000);
    expect(d10.periodMs).toBe(100);
    expect(d10.windowSamples).toBe(10);
    const d60 = new SettleDetector(options);
    feed(d60, new Rng(1), () => 1_000, 2, 60, 0, 3_000);
    expect(d60.windowSamples).toBe(60);
  });

  it('settles on a quiet signal without an event (the absolute level is not trusted), and measures σ', () => {
    const d = new SettleDetector(options);
    expect(feed(d, new Rng(2), () => 5_000, 5, 10, 0, 60_000)).toEqual([]);
    expect(d.state).toBe('settled');
    expect(d.levelG).toBeCloseTo(5_000, -1);
    expect(d.sigmaG).toBeGreaterThan(4.5);
    expect(d.sigmaG).toBeLessThan(5.5);
  });

  it('closes one segment per step: Δ from the settled levels, start at the step, settled once a window is quiet', () => {
    const d = new SettleDetector(options);
    const rng = new Rng(3);
    feed(d, rng, () => 2_000, 3, 10, 0, 30_000);
    // A pick of 250 g at t = 40 s, ramping over the ADC's 400 ms.
    const level = (t: number) => 2_000 - 250 * Math.min(1, Math.max(0, (t - 40_000) / 400));
    const [segment, ...rest] = feed(d, rng, level, 3, 10, 30_100, 60_000);
    expect(rest).toEqual([]);
    expect(segment!.afterG - segment!.beforeG).toBeCloseTo(-250, -1);
    expect(segment!.startAt).toBeGreaterThanOrEqual(40_000);
    expect(segment!.startAt).toBeLessThanOrEqual(40_300);
    expect(segment!.settledAt).toBeGreaterThanOrEqual(40_400);
    expect(segment!.settledAt).toBeLessThanOrEqual(41_000);
    expect(segment!.confirmedAt - segment!.settledAt).toBe(900); // a 10-sample window
    expect(segment!.approachG).toBeGreaterThan(0); // reached from above: the load went
  });

  it('a slow change (an item sliding off over 3 s) is still seen through the mean-shift test', () => {
    const d = new SettleDetector(options);
    const rng = new Rng(4);
    feed(d, rng, () => 1_000, 2, 10, 0, 30_000);
    const level = (t: number) => 1_000 - 60 * Math.min(1, Math.max(0, (t - 40_000) / 3_000));
    const segments = feed(d, rng, level, 2, 10, 30_100, 60_000);
    const total = segments.reduce((sum, s) => sum + s.afterG - s.beforeG, 0);
    expect(segments.length).toBeGreaterThanOrEqual(1);
    expect(total).toBeCloseTo(-60, -1);
  });
});
