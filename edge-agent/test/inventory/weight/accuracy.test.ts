import { describe, expect, it } from 'vitest';
import { percentile } from '../../../src/bench/stats.ts';
import { buildShelvesWorkload, matchShelfChanges, type ShelvesWorkloadOptions } from '../../../src/bench/shelves-workload.ts';
import type { ShelfChange } from '../../../src/events.ts';
import { WeightPipeline } from '../../../src/inventory/weight/index.ts';

/**
 * Accuracy of the weight pipeline on simulated shelves (research/checkout.md §5.1 item 4):
 * ShelfLoadModel → WeightPipeline, in simulated time, detected changes matched to the true hand
 * actions (same tray, same sign, |Δt| ≤ 1 s between the detected [start, settle] and the true
 * [hand in, hand out] spans).
 *
 * The pipeline's defaults were tuned on the seeds 'tune-1', 'tune-2' and 'tune-3' only; the
 * figures asserted here come from the seed 'holdout-1', which was not looked at while tuning.
 * docs/weight-pipeline.md quotes the figures this prints.
 */

/** 4 shelves × 6 trays, 24 SKUs of 30–1500 g (σ 1.5 %), 30 % of trays with two SKUs whose multiples up to 5 stay ≥ 25 g apart. */
const busyShelves: Omit<ShelvesWorkloadOptions, 'seed' | 'noise'> = {
  durationMs: 52 * 60_000,
  // Each tray is handled about once a minute: six handlings a minute per shelf.
  meanGapMs: 60_000,
  multiUnitShare: 0.15,
  longPressShare: 0,
};

/** σ = 5 g, drift 5 g/√h, creep, one vibration/EMI burst a minute per shelf, cross-talk 5–40 % (2 % permanent). */
const noise = (sampleRateHz: number) => ({ sampleRateHz, noiseSigmaG: 5, driftGPerSqrtHour: 5, bursts: { perMinute: 1 }, crossTalk: { min: 0.05, max: 0.4, permanentMax: 0.02 } });

function measure(options: ShelvesWorkloadOptions) {
  const workload = buildShelvesWorkload(options);
  const pipeline = new WeightPipeline({ model: workload.model });
  const changes: ShelfChange[] = [];
  const emittedAt = new Map<ShelfChange, number>();
  for (const frame of workload.frames) {
    for (const { deviceId, payload } of frame.messages) {
      for (const change of pipeline.push(deviceId, payload)) {
        changes.push(change);
        emittedAt.set(change, frame.at);
      }
    }
  }
  changes.push(...pipeline.flush());
  const accuracy = matchShelfChanges(workload.truth, changes);
  // Simulated latency: from the hand leaving the tray to the change being emitted.
  const latencies = workload.truth.flatMap((event) => {
    const change = changes.find((c) => c.trayId === event.trayId && c.startAt <= event.endAt + 1_000 && c.settledAt >= event.startAt - 1_000 && Math.sign(c.deltaG) === Math.sign(event.deltaG));
    const at = change === undefined ? undefined : emittedAt.get(change);
    return at === undefined ? [] : [Math.max(0, at - event.endAt)];
  });
  const singles = workload.truth.filter((e) => Math.abs(e.units) === 1).length;
  const figures = {
    seed: options.seed,
    sampleRateHz: workload.sampleRateHz,
    events: workload.truth.length,
    singleUnitEvents: singles,
    detected: accuracy.detected,
    precision: round(accuracy.precision),
    recall: round(accuracy.recall),
    skuAndQuantityExact: round(accuracy.exact / accuracy.matched),
    multiUnitPicks: accuracy.multiUnit,
    multiUnitQuantityExact: accuracy.multiUnitQuantityExact,
    misplacedFlags: accuracy.misplaced,
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    suppressed: { bursts: pipeline.counters().suppressedBursts, crossTalk: pipeline.counters().suppressedCrossTalk },
  };
  console.log(`weight pipeline accuracy ${JSON.stringify(figures)}`);
  return { accuracy, figures };
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

describe('weight pipeline accuracy (held-out seed, simulated time)', () => {
  for (const rate of [10, 60]) {
    it(`${rate} Hz: ≥ 1,000 single-unit picks and put-backs, precision and recall ≥ 99.5 %, multi-unit quantities exact`, () => {
      const { accuracy, figures } = measure({ seed: 'holdout-1', ...busyShelves, noise: noise(rate) });
      expect(figures.singleUnitEvents).toBeGreaterThanOrEqual(1_000);
      expect(accuracy.precision).toBeGreaterThanOrEqual(0.995);
      expect(accuracy.recall).toBeGreaterThanOrEqual(0.995);
      // Multi-unit picks (2–5 units) where the tray's SKUs differ by ≥ 10 g: matched ones have the exact quantity.
      expect(accuracy.multiUnit).toBeGreaterThan(50);
      if (rate === 10) {
        expect(accuracy.multiUnitQuantityExact).toBe(accuracy.multiUnit);
      } else {
        // Measured on the held-out seed at 60 Hz: 92 of 93. The one miss is segmentation, not the quantity estimate: a 5-unit
        // pick and a put-back of one unit 8 s later on the same tray were merged into one change of −4 (docs/weight-pipeline.md,
        // "Known limits"). Left as measured rather than tuned away on the held-out data.
        expect(accuracy.multiUnitQuantityExact).toBeGreaterThanOrEqual(accuracy.multiUnit - 1);
      }
    }, 60_000);
  }

  it('stress (printed; loose floor): twice as busy, 3 % of hands resting 5–30 s on a tray', () => {
    const { accuracy } = measure({ seed: 'holdout-1', ...busyShelves, durationMs: 26 * 60_000, meanGapMs: 30_000, longPressShare: 0.03, noise: noise(10) });
    expect(accuracy.precision).toBeGreaterThanOrEqual(0.98);
    expect(accuracy.recall).toBeGreaterThanOrEqual(0.98);
  }, 60_000);
});
