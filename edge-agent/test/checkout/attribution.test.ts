import { describe, expect, it } from 'vitest';
import { candidatesAt, defaultAttributionOptions, unseenAt } from '../../src/checkout/attribution.ts';
import type { Person, Point3 } from '../../src/checkout/track-book.ts';
import { T0, tray } from './checkout-fixture.ts';

/** A person whose hand is at `hand(k)` in frame k (100 ms apart, from `from`), `frames` frames. */
function person(id: string, sessionId: string | null, frames: number, hand: (k: number) => Point3 | null, from = T0): Person {
  const samples = Array.from({ length: frames }, (_, k) => {
    const h = hand(k);
    return { at: from + k * 100, x: 0, y: 0, hands: h === null ? [] : [h] };
  });
  return { id, sessionId, samples, lastAt: samples.at(-1)?.at ?? from, gone: false, exitedAt: null };
}

/** The kernel's width (0.1 m). */
const K = defaultAttributionOptions.kernelM;
const t1 = tray('t1');
const t2 = tray('t2');
const at = (p: { x: number; y: number; z: number }, dx = 0, dy = 0, dz = 0): Point3 => ({ x: p.x + dx, y: p.y + dy, z: p.z + dz });
/** A change whose window [start − 0.5 s, settled + 0.3 s] covers frames 0…9 (T0 … T0 + 900). */
const window = { startAt: T0 + 500, settledAt: T0 + 600 };

describe('candidatesAt', () => {
  it('scores a hand on the tray point for 1 s (10 frames) ≈ 10 for its session', () => {
    const c = candidatesAt([person('p-1', 's1', 10, () => at(t1))], t1, window);
    expect(c).toEqual([{ sessionId: 's1', score: 10, closestM: 0, persons: ['p-1'] }]);
    // With tracker noise of 5 cm the score stays near 10: exp(−0.05²/(2·0.1²)) ≈ 0.88 per frame.
    const noisy = candidatesAt([person('p-1', 's1', 10, (k) => at(t1, k % 2 ? 0.05 : -0.05))], t1, window);
    expect(noisy[0]!.score).toBeCloseTo(10 * Math.exp(-(0.05 ** 2) / (2 * K ** 2)), 9);
    expect(noisy[0]!.score).toBeGreaterThan(8.8);
    expect(noisy[0]!.closestM).toBeCloseTo(0.05, 9);
  });

  it('scores a hand at the neighbouring tray (0.33 m away) below 1', () => {
    expect(Math.hypot(t2.x - t1.x, t2.y - t1.y, t2.z - t1.z)).toBeCloseTo(1 / 3, 9);
    const c = candidatesAt([person('p-1', 's1', 10, () => at(t2))], t1, window);
    expect(c).toHaveLength(1);
    expect(c[0]!.score).toBeLessThan(1);
    expect(c[0]!.score).toBeCloseTo(10 * Math.exp(-((1 / 3) ** 2) / (2 * K ** 2)), 9);
    // A hand hanging at the torso (0.6 m in front of the shelf, 0.35 m lower) scores nearly nothing.
    const torso = candidatesAt([person('p-1', 's1', 10, () => at(t1, 0, -0.6, -0.35))], t1, window);
    expect(torso[0]!.score).toBeLessThan(0.01);
  });

  it('orders sessions best first and sums the persons of one session', () => {
    const persons = [
      person('p-1', 's1', 10, (k) => (k < 3 ? at(t1) : null)), // 3 frames on the tray
      person('p-2', 's2', 10, () => at(t1, 0.02)), // 10 frames, 2 cm off
      person('p-3', 's3', 10, (k) => (k < 2 ? at(t1) : null)), // 2 frames
      person('p-4', 's3', 10, (k) => (k >= 8 ? at(t1) : null)), // and 2 more of the same party
    ];
    const c = candidatesAt(persons, t1, window);
    expect(c.map((x) => x.sessionId)).toEqual(['s2', 's3', 's1']);
    expect(c[0]!.score).toBeCloseTo(10 * Math.exp(-(0.02 ** 2) / (2 * K ** 2)), 9);
    expect(c[1]).toEqual({ sessionId: 's3', score: 4, closestM: 0, persons: ['p-3', 'p-4'] });
    expect(c[2]).toEqual({ sessionId: 's1', score: 3, closestM: 0, persons: ['p-1'] });
  });

  it('leaves unbound persons out, and persons without hands', () => {
    const c = candidatesAt(
      [person('p-1', null, 10, () => at(t1)), person('p-2', 's2', 10, () => null), person('p-3', 's3', 10, () => at(t1, 0, -0.3))],
      t1,
      window,
    );
    expect(c.map((x) => x.sessionId)).toEqual(['s3']);
  });

  it('counts only samples within [startAt − leadMs, settledAt + lagMs]', () => {
    // Frames every 100 ms from T0 − 1 s to T0 + 2 s, hand always on the tray.
    const p = person('p-1', 's1', 31, () => at(t1), T0 - 1_000);
    const w = { startAt: T0 + 500, settledAt: T0 + 600 }; // [T0, T0 + 900]: frames T0 … T0 + 900 = 10
    expect(candidatesAt([p], t1, w)[0]!.score).toBe(10);
    // Bounds are inclusive: lead 400 → from T0 + 100 (9 frames); lag 0 → to T0 + 600 (7 frames from T0).
    expect(candidatesAt([p], t1, w, { ...defaultAttributionOptions, leadMs: 400 })[0]!.score).toBe(9);
    expect(candidatesAt([p], t1, w, { ...defaultAttributionOptions, lagMs: 0 })[0]!.score).toBe(7);
    // A person whose hand was there only before the window is not a candidate.
    const before = person('p-2', 's2', 10, () => at(t1), T0 - 2_000);
    expect(candidatesAt([before], t1, w)).toEqual([]);
    const after = person('p-3', 's3', 10, () => at(t1), T0 + 1_000);
    expect(candidatesAt([after], t1, w)).toEqual([]);
  });

  it('uses the closest of two hands, in three dimensions', () => {
    const p: Person = {
      id: 'p-1',
      sessionId: 's1',
      samples: [{ at: T0 + 500, x: 0, y: 0, hands: [at(t1, 0, -0.5), at(t1, 0, 0, 0.1)] }],
      lastAt: T0 + 500,
      gone: false,
      exitedAt: null,
    };
    const [c] = candidatesAt([p], t1, window);
    expect(c!.closestM).toBeCloseTo(0.1, 9);
    expect(c!.score).toBeCloseTo(Math.exp(-(0.1 ** 2) / (2 * K ** 2)), 9);
  });
});

describe('unseenAt', () => {
  /** Frames every 100 ms from T0 − 2 s to T0 + 3 s at torso `where(t)`, hands down; none where `where` gives null. */
  function walker(id: string, sessionId: string | null, where: (t: number) => { x: number; y: number } | null, gone = false): Person {
    const samples: Person['samples'] = [];
    for (let t = T0 - 2_000; t <= T0 + 3_000; t += 100) {
      const p = where(t);
      if (p !== null) samples.push({ at: t, x: p.x, y: p.y, hands: [] });
    }
    return { id, sessionId, samples, lastAt: samples.at(-1)!.at, gone, exitedAt: null };
  }
  const beside = { x: t1.x, y: t1.y - 0.6 };
  const far = { x: t1.x + 2, y: t1.y - 0.6 };
  /** The tray changed over [T0 + 500, T0 + 600]: lost from T0 to T0 + 1.5 s. */
  const lost = (t: number) => (t >= T0 && t < T0 + 1_500 ? null : beside);

  it('finds a bound person the tracker lost beside the tray while it changed, seen again beside it', () => {
    expect(unseenAt([walker('p-1', 's1', lost)], t1, window)).toEqual([{ sessionId: 's1', personId: 'p-1', back: true }]);
    // Still lost when the change is read (and known to be gone): only the sighting before counts.
    expect(unseenAt([walker('p-1', 's1', (t) => (t >= T0 ? null : beside), true)], t1, window)).toEqual([{ sessionId: 's1', personId: 'p-1', back: false }]);
  });

  it('leaves out persons seen throughout, lost far from the tray, lost only before or after the change, unbound, or lost too briefly', () => {
    const persons = [
      walker('p-1', 's1', () => beside), // in view the whole time (their hands would have scored if they took it)
      walker('p-2', 's2', (t) => (t >= T0 && t < T0 + 1_500 ? null : far)), // lost 2 m from the tray
      walker('p-3', 's3', (t) => (t >= T0 - 1_500 && t < T0 - 600 ? null : beside)), // lost and back before the window
      walker('p-4', 's4', (t) => (t >= T0 + 1_000 && t < T0 + 2_000 ? null : beside)), // lost only after the change settled
      walker('p-5', null, lost), // nobody's
      walker('p-6', 's6', (t) => (t === T0 + 500 || t === T0 + 600 ? null : beside)), // two frames missing: 0.3 s
      walker('p-7', 's7', (t) => (t >= T0 ? null : beside)), // not in the frames any more but not yet gone
    ];
    expect(unseenAt(persons, t1, window)).toEqual([]);
    // Back far from the tray (they walked away while lost): not counted either.
    expect(unseenAt([walker('p-8', 's8', (t) => (t < T0 ? beside : t < T0 + 1_500 ? null : far))], t1, window)).toEqual([]);
  });
});
