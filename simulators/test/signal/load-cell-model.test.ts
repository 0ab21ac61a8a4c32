import { describe, expect, it } from 'vitest';
import { isSimulatorError } from '../../src/errors.ts';
import { Rng } from '../../src/random.ts';
import { loadCellNoiseOptions, ShelfLoadModel, weightPayloads, type LoadCellNoiseOptions, type ShelfLoadTray } from '../../src/signal/index.ts';

/** Everything off: the reading is the load (and tare) alone. */
const silent: LoadCellNoiseOptions = {
  noiseSigmaG: 0,
  electricalNoiseG: 0,
  driftGPerSqrtHour: 0,
  creepFraction: 0,
  bursts: null,
  crossTalk: null,
  touch: { tremorFraction: 0, wanderFraction: 0 },
};

const row = (n: number, loadG = 1_000): ShelfLoadTray[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `t${i}`,
    tareG: 300,
    loadG,
    neighbours: [i > 0 ? `t${i - 1}` : undefined, i < n - 1 ? `t${i + 1}` : undefined].filter((x): x is string => x !== undefined),
  }));

function series(model: ShelfLoadModel, trayId: string, fromMs: number, toMs: number, periodMs: number): number[] {
  const out: number[] = [];
  for (let t = fromMs; t <= toMs; t += periodMs) out.push(model.sample(t)[trayId]!);
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1));

describe('load-cell noise options', () => {
  it('fills the defaults of research/checkout.md §5.3 and the HX711 settling time from the rate', () => {
    const o = loadCellNoiseOptions.parse({});
    expect(o).toMatchObject({ sampleRateHz: 10, noiseSigmaG: 2, electricalNoiseG: 0.05, creepFraction: 0.0003, settleMs: 400 });
    expect(o.bursts).toEqual({ perMinute: 0.5, minMs: 200, maxMs: 2_000, minAmplitudeG: 10, maxAmplitudeG: 50 });
    expect(o.crossTalk).toEqual({ min: 0.05, max: 0.4, permanentMax: 0.02 });
    // HX711 datasheet: 400 ms at 10 SPS, 50 ms at 80 SPS.
    expect(loadCellNoiseOptions.parse({ sampleRateHz: 80 }).settleMs).toBe(50);
    expect(loadCellNoiseOptions.parse({ sampleRateHz: 60, settleMs: 0 }).settleMs).toBe(0);
    expect(loadCellNoiseOptions.parse({ bursts: null, crossTalk: null })).toMatchObject({ bursts: null, crossTalk: null });
  });

  it('refuses unknown keys and inverted ranges with SIM_ERR_CONFIG_INVALID naming the field', () => {
    for (const noise of [{ sigma: 3 }, { bursts: { minMs: 500, maxMs: 100 } }, { crossTalk: { min: 0.5, max: 0.1 } }, { noiseSigmaG: -1 }] as unknown as LoadCellNoiseOptions[]) {
      let error: unknown;
      try {
        new ShelfLoadModel({ trays: row(1), noise, random: new Rng(1) });
      } catch (e) {
        error = e;
      }
      expect(isSimulatorError(error, 'SIM_ERR_CONFIG_INVALID'), JSON.stringify(noise)).toBe(true);
    }
  });
});

describe('ShelfLoadModel', () => {
  it('replays exactly for the same seed and differs for another', () => {
    const run = (seed: number) => {
      const model = new ShelfLoadModel({ trays: row(3), noise: { noiseSigmaG: 5, bursts: { perMinute: 6 } }, random: new Rng(seed) });
      model.handle('t1', { startAt: 1_000, durationMs: 2_000, deltaG: -250 });
      return series(model, 't0', 0, 10_000, 100).concat(series(model, 't1', 10_100, 12_000, 100));
    };
    expect(run(7)).toEqual(run(7));
    expect(run(8)).not.toEqual(run(7));
  });

  it('reads tare + load, and white noise of the configured σ (with the electrical floor)', () => {
    const model = new ShelfLoadModel({ trays: row(1, 2_000), noise: { ...silent, noiseSigmaG: 5, electricalNoiseG: 0.05 }, random: new Rng(2) });
    const xs = series(model, 't0', 0, 600_000, 100);
    expect(mean(xs)).toBeCloseTo(2_300, 0);
    expect(sd(xs)).toBeGreaterThan(4.9);
    expect(sd(xs)).toBeLessThan(5.1);
  });

  it('drifts as a random walk: RMS offset after one hour ≈ driftGPerSqrtHour', () => {
    const offsets: number[] = [];
    for (let seed = 0; seed < 200; seed++) {
      const model = new ShelfLoadModel({ trays: row(1, 0), noise: { ...silent, driftGPerSqrtHour: 4 }, random: new Rng(`drift-${seed}`) });
      model.sample(0);
      offsets.push(model.sample(3_600_000)['t0']! - 300);
    }
    const rms = Math.sqrt(mean(offsets.map((x) => x * x)));
    expect(rms).toBeGreaterThan(3.4);
    expect(rms).toBeLessThan(4.6);
  });

  it('creeps by creepFraction of the load in 30 min after a load step (first order)', () => {
    const model = new ShelfLoadModel({ trays: [{ id: 't0', tareG: 0, loadG: 0, neighbours: [] }], noise: { ...silent, creepFraction: 0.0003 }, random: new Rng(3) });
    model.sample(0);
    model.handle('t0', { startAt: 1_000, durationMs: 1_000, deltaG: 20_000, touchG: 0 });
    const settled = model.sample(10_000)['t0']!;
    const later = model.sample(10_000 + 30 * 60_000)['t0']!;
    // ≈ 6 g on 20 kg (research/checkout.md §5.3).
    expect(later - settled).toBeGreaterThan(5);
    expect(later - settled).toBeLessThan(6.5);
  });

  it('follows a load step within the ADC settling time, not before (HX711: 400 ms at 10 SPS)', () => {
    const model = new ShelfLoadModel({ trays: row(1, 1_000), noise: { ...silent, touch: { defaultG: 0, transferMs: 0 } }, random: new Rng(4) });
    model.sample(0);
    model.handle('t0', { startAt: 1_000, durationMs: 400, deltaG: -200 });
    const xs = series(model, 't0', 1_000, 3_000, 50);
    const stepAt = xs.findIndex((x) => x < 1_300 - 1e-6);
    const doneAt = xs.findIndex((x) => x <= 1_100 + 1e-6);
    // Sampled every 50 ms: the reading moves in four steps of 100 ms and is settled 400 ms after the load moved.
    expect(new Set(xs.slice(stepAt, doneAt).map((x) => Math.round(x))).size).toBe(3);
    expect((doneAt - stepAt) * 50).toBeGreaterThanOrEqual(300);
    expect((doneAt - stepAt) * 50).toBeLessThanOrEqual(350);
    expect(model.trueLoad('t0')).toBe(800);
  });

  it('adds the hand force while the hand is in contact: before the lift for a pick, after the landing for a put-back', () => {
    const model = new ShelfLoadModel({ trays: row(1, 1_000), noise: { ...silent, settleMs: 0 }, random: new Rng(5) });
    model.handle('t0', { startAt: 1_000, durationMs: 3_000, deltaG: -100, touchG: 400 });
    model.handle('t0', { startAt: 6_000, durationMs: 3_000, deltaG: 100, touchG: 400 });
    const xs = series(model, 't0', 0, 12_000, 50);
    const at = (t: number) => xs[t / 50]!;
    expect(at(900)).toBe(1_300);
    expect(at(1_500)).toBeCloseTo(1_700, 5); // grasping: pressing with 400 g
    expect(at(4_500)).toBe(1_200); // lifted, hand gone
    expect(at(5_900)).toBe(1_200);
    expect(at(8_900)).toBeGreaterThan(1_500); // item down, hand still pressing
    expect(at(11_000)).toBe(1_300);
    expect(Math.max(...xs)).toBeGreaterThan(1_650);
  });

  it('shows a transient cross-talk share on the neighbours while a tray is handled, and only a small permanent share after', () => {
    const trays = row(3, 1_000);
    const model = new ShelfLoadModel({ trays, noise: { ...silent, settleMs: 0, crossTalk: { min: 0.05, max: 0.4, permanentMax: 0.02 } }, random: new Rng(6) });
    model.handle('t1', { startAt: 1_000, durationMs: 3_000, deltaG: -500, touchG: 300 });
    let maxExcursion = 0;
    for (let t = 0; t <= 4_000; t += 50) maxExcursion = Math.max(maxExcursion, Math.abs(model.sample(t)['t0']! - 1_300));
    const after = model.sample(10_000);
    expect(maxExcursion).toBeGreaterThan(0.05 * 300 - 1e-9);
    expect(maxExcursion).toBeLessThanOrEqual(0.4 * 800 + 1e-9);
    // What stays: at most 2 % of Δ per neighbour, taken off the handled tray (the shelf total is right).
    const stays = [after['t0']! - 1_300, after['t2']! - 1_300];
    for (const s of stays) expect(s).toBeLessThanOrEqual(0);
    for (const s of stays) expect(s).toBeGreaterThanOrEqual(-0.02 * 500 - 1e-9);
    expect(after['t0']! + after['t1']! + after['t2']! - 3 * 1_300).toBeCloseTo(-500, 6);
    expect(model.trueLoad('t1')).toBe(500);
    expect(model.trueLoad('t0')).toBe(1_000);
  });

  it('makes Poisson vibration/EMI bursts of the configured length and size that end where they began', () => {
    const model = new ShelfLoadModel({
      trays: row(2, 1_000).map((t) => ({ ...t, burstGroup: 'shelf-1' })),
      noise: { ...silent, bursts: { perMinute: 2, minMs: 200, maxMs: 2_000, minAmplitudeG: 10, maxAmplitudeG: 50 } },
      random: new Rng(7),
    });
    const xs = series(model, 't0', 0, 3_600_000, 100);
    const bursts = model.bursts();
    expect(bursts.length).toBeGreaterThan(90); // ≈ 120 in an hour, one schedule for the group
    expect(bursts.length).toBeLessThan(150);
    for (const b of bursts) {
      expect(b.endAt - b.startAt).toBeGreaterThanOrEqual(200);
      expect(b.endAt - b.startAt).toBeLessThanOrEqual(2_000);
      expect(b.amplitudeG).toBeGreaterThanOrEqual(10);
      expect(b.amplitudeG).toBeLessThanOrEqual(50);
    }
    expect(Math.max(...xs.map((x) => Math.abs(x - 1_300)))).toBeGreaterThan(10);
    // Outside bursts the reading is the load.
    const quiet = xs.filter((_, i) => !bursts.some((b) => i * 100 > b.startAt && i * 100 < b.endAt));
    for (const x of quiet) expect(x).toBeCloseTo(1_300, 6);
  });

  it('refuses what cannot happen, with SIM_ERR_ARGUMENT_INVALID', () => {
    const model = new ShelfLoadModel({ trays: row(2, 100), noise: silent, random: new Rng(8) });
    model.sample(5_000);
    const attempts: Array<() => unknown> = [
      () => model.handle('nope', { startAt: 6_000, durationMs: 1_000, deltaG: 1 }),
      () => model.handle('t0', { startAt: 6_000, durationMs: 1_000, deltaG: -101 }),
      () => model.handle('t0', { startAt: 4_000, durationMs: 1_000, deltaG: -1 }),
      () => model.handle('t0', { startAt: 6_000, durationMs: 0, deltaG: -1 }),
      () => model.sample(4_999),
      () => model.trueLoad('nope'),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (e) {
        error = e;
      }
      expect(isSimulatorError(error, 'SIM_ERR_ARGUMENT_INVALID')).toBe(true);
    }
    expect(() => new ShelfLoadModel({ trays: [{ id: 'a', tareG: 0, loadG: 0, neighbours: ['b'] }], random: new Rng(1) })).toThrow(/unknown neighbour "b"/);
  });
});

describe('weightPayloads', () => {
  it('makes one evt/weight payload per controller, channels in tray order, grams to 0.1 g', () => {
    const payloads = weightPayloads(
      { a: 1_000.04, b: 2_000.06, c: 3 },
      [
        { trayId: 'a', deviceId: 'ctl-1', channel: 0 },
        { trayId: 'c', deviceId: 'ctl-2', channel: 3 },
        { trayId: 'b', deviceId: 'ctl-1', channel: 1 },
      ],
      1_700_000_000_000.4,
      9,
    );
    expect(payloads).toEqual([
      { deviceId: 'ctl-1', payload: { at: 1_700_000_000_000, seq: 9, channels: [{ ch: 0, grams: 1_000 }, { ch: 1, grams: 2_000.1 }] } },
      { deviceId: 'ctl-2', payload: { at: 1_700_000_000_000, seq: 9, channels: [{ ch: 3, grams: 3 }] } },
    ]);
  });
});
