import { describe, expect, it } from 'vitest';
import { checkoutTrackerOptions, type CheckoutTrackerOptions } from '../../src/checkout/checkout-options.ts';
import type { CheckoutScript } from '../../src/checkout/checkout-script.ts';
import { TrackerModel, type TrackerFrame } from '../../src/checkout/tracker-model.ts';
import { Rng } from '../../src/random.ts';
import { scriptOf, suiteScenario } from './checkout-helpers.ts';

const script = scriptOf(suiteScenario('four-within-1m'));

function frames(s: CheckoutScript, options: Partial<CheckoutTrackerOptions>, seed = 1): { model: TrackerModel; frames: TrackerFrame[] } {
  const o = checkoutTrackerOptions.parse(options);
  const model = new TrackerModel(s.persons, o, new Rng(seed).fork('tracker'));
  const out: TrackerFrame[] = [];
  for (let i = 0; i * (1_000 / o.fps) <= s.end; i++) out.push(model.frame(i * (1_000 / o.fps)));
  return { model, frames: out };
}

function sd(values: readonly number[]): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}

describe('tracker model', () => {
  it('adds the configured position and hand noise, and drops hands at the configured rate', () => {
    const { model, frames: all } = frames(script, { positionSigmaM: 0.05, handSigmaM: 0.08, handDropout: 0.1, trackDropoutPerMin: 0, swapProbability: 0 });
    const persons = new Map(script.persons.map((p) => [p.id, p]));
    const dx: number[] = [];
    const dh: number[] = [];
    for (const frame of all) {
      frame.tracks.forEach((track, i) => {
        const truth = frame.truth.find((x) => x.trackId === track.id)!;
        if (i % 2 === 0) dx.push(track.x - truth.x);
        else dx.push(track.y - truth.y);
        const hands = persons.get(truth.personId)!.handsAt(frame.t);
        for (const h of track.hands ?? []) {
          // The nearer true hand (the two hang 0.5 m apart; the noise is far smaller).
          const near = hands.reduce((a, b) => (Math.hypot(h.x - a.x, h.y - a.y, h.z - a.z) <= Math.hypot(h.x - b.x, h.y - b.y, h.z - b.z) ? a : b));
          dh.push(h.z - near.z);
        }
      });
    }
    expect(dx.length).toBeGreaterThan(5_000);
    expect(sd(dx)).toBeGreaterThan(0.045);
    expect(sd(dx)).toBeLessThan(0.055);
    expect(sd(dh)).toBeGreaterThan(0.072);
    expect(sd(dh)).toBeLessThan(0.088);
    const dropped = model.stats.handsDropped / (model.stats.handsDropped + model.stats.handsSeen);
    expect(dropped).toBeGreaterThan(0.09);
    expect(dropped).toBeLessThan(0.11);
  });

  it('loses tracks at the configured rate; a lost person comes back under a new id', () => {
    const perMin = 6;
    const { model, frames: all } = frames(script, { trackDropoutPerMin: perMin, trackDropoutMs: [500, 3_000], swapProbability: 0 });
    const minutes = script.persons.reduce((sum, p) => sum + (p.goneAt - p.appearAt) / 60_000, 0);
    const expected = minutes * perMin;
    expect(expected).toBeGreaterThan(100);
    expect(Math.abs(model.stats.dropouts - expected)).toBeLessThan(4 * Math.sqrt(expected));
    // Without swaps each id is one person, and a person's ids change only after a dropout.
    const personOf = new Map<string, string>();
    const idsOf = new Map<string, Set<string>>();
    for (const frame of all) {
      for (const t of frame.truth) {
        expect(personOf.get(t.trackId) ?? t.personId).toBe(t.personId);
        personOf.set(t.trackId, t.personId);
        idsOf.set(t.personId, (idsOf.get(t.personId) ?? new Set()).add(t.trackId));
      }
    }
    const ids = [...idsOf.values()].reduce((sum, s) => sum + s.size, 0);
    expect(ids).toBe(model.stats.tracks);
    // Every dropout but those running past the exit brings a new id.
    expect(ids - script.persons.length).toBeGreaterThan(model.stats.dropouts * 0.8);
    expect(ids - script.persons.length).toBeLessThanOrEqual(model.stats.dropouts);
  });

  it('swaps two ids at the configured share of close encounters', () => {
    const p = 0.3;
    const { model, frames: all } = frames(script, { swapDistanceM: 0.5, swapProbability: p, trackDropoutPerMin: 0 });
    const { encounters, swaps } = model.stats;
    expect(encounters).toBeGreaterThan(100);
    expect(Math.abs(swaps - encounters * p)).toBeLessThan(4 * Math.sqrt(encounters * p * (1 - p)));
    // A swapped id follows another person afterwards.
    const personsOf = new Map<string, Set<string>>();
    for (const frame of all) for (const t of frame.truth) personsOf.set(t.trackId, (personsOf.get(t.trackId) ?? new Set()).add(t.personId));
    expect([...personsOf.values()].filter((s) => s.size > 1).length).toBeGreaterThan(0);
    expect(frames(script, { swapProbability: 0 }).model.stats.swaps).toBe(0);
  });

  it('uses trk-<n> ids that carry no token, and shows a party only after its entry scan', () => {
    const { frames: all } = frames(script, {});
    const truth = script.truth();
    const tokens = truth.visits.map((v) => v.token);
    const firstSeen = new Map<string, number>();
    for (const frame of all) {
      for (const track of frame.tracks) {
        expect(track.id).toMatch(/^trk-\d+$/);
        expect(tokens.some((token) => track.id.includes(token))).toBe(false);
        expect(track.hands?.length ?? 0).toBeLessThanOrEqual(2);
      }
      for (const t of frame.truth) if (!firstSeen.has(t.personId)) firstSeen.set(t.personId, frame.t);
    }
    for (const visit of truth.visits) {
      for (const id of visit.persons) {
        const seen = firstSeen.get(id)!;
        expect(seen).toBeGreaterThan(visit.enterAt);
        // Within 2 s of the scan, plus one frame and a possible dropout right at the start.
        expect(seen).toBeLessThanOrEqual(visit.enterAt + 2_000 + 100 + 3_000);
      }
    }
  });

  it('describes whoever stands there (re-identification): a look follows the body through an id swap; one frame names the right one of 50 persons about 86 % of the time, ten frames about 96 %', () => {
    const { model, frames: all } = frames(script, { trackDropoutPerMin: 0, swapProbability: 1 });
    const persons = [...new Set(script.persons.map((p) => p.id))];
    const gallery = [...persons, ...Array.from({ length: 50 - persons.length }, (_, k) => `stranger-${k}`)].map((id) => ({ id, look: model.lookOf(id) }));
    const dot = (a: readonly number[], b: readonly number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    const named = (look: readonly number[]) => gallery.reduce((best, g) => (dot(look, g.look) > dot(look, best.look) ? g : best)).id;
    let right = 0;
    let n = 0;
    let right10 = 0;
    let n10 = 0;
    const runs = new Map<string, number[][]>();
    for (const frame of all) {
      for (const track of frame.tracks) {
        const truth = frame.truth.find((x) => x.trackId === track.id)!;
        expect(track.look).toHaveLength(16);
        expect(Math.hypot(...track.look!)).toBeCloseTo(1, 2);
        // Apart from others (no neighbour mixed in), the look is the body's, whatever id the tracker gives it.
        const alone = frame.truth.every((o) => o === truth || Math.hypot(o.x - truth.x, o.y - truth.y) >= 0.4);
        if (!alone) continue;
        n++;
        if (named(track.look!) === truth.personId) right++;
        const run = runs.get(truth.personId) ?? [];
        run.push(track.look!);
        runs.set(truth.personId, run);
        if (run.length === 10) {
          n10++;
          if (named(run[0]!.map((_, i) => run.reduce((sum, l) => sum + l[i]!, 0))) === truth.personId) right10++;
          runs.set(truth.personId, []);
        }
      }
    }
    expect(model.stats.swaps).toBeGreaterThan(20);
    expect(n).toBeGreaterThan(5_000);
    expect(right / n).toBeGreaterThan(0.8);
    expect(right / n).toBeLessThan(0.93);
    expect(right10 / n10).toBeGreaterThan(0.9);
    expect(right10 / n10).toBeLessThan(0.995);
    // Without re-identification the tracker sends no look.
    expect(frames(script, { look: { ...checkoutTrackerOptions.parse({}).look, dims: 0 } }).frames.flatMap((f) => f.tracks).every((t) => t.look === undefined)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const a = frames(script, {}, 3).frames.slice(0, 600);
    const b = frames(script, {}, 3).frames.slice(0, 600);
    const c = frames(script, {}, 4).frames.slice(0, 600);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });
});
