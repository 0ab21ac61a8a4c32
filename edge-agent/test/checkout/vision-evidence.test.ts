import { describe, expect, it } from 'vitest';
import type { Person } from '../../src/checkout/track-book.ts';
import { fuseVision, handLooks, MAX_LOOKS, type VisionReading } from '../../src/checkout/vision-evidence.ts';

const TRAY = { x: 2, y: 5, z: 1.1 };

/** A person whose right hand goes to the tray at 1 s, rests there until 2 s, and comes back by 3 s (100 ms samples); the left hangs by the body. */
function reacher(): Person {
  const samples = [];
  for (let at = 0; at <= 4_000; at += 100) {
    const out = at < 1_000 ? 1 - at / 1_000 : at <= 2_000 ? 0 : Math.min(1, (at - 2_000) / 1_000);
    const right = { x: TRAY.x, y: TRAY.y - 0.6 * out, z: TRAY.z - 0.2 * out };
    samples.push({ at, x: TRAY.x, y: TRAY.y - 0.7, hands: [{ x: TRAY.x - 0.4, y: TRAY.y - 0.7, z: 0.8 }, right] });
  }
  return { id: 'p1', sessionId: 's1', samples, lastAt: 4_000, gone: false, exitedAt: null } as unknown as Person;
}

function reading(p: Record<string, number>): VisionReading {
  return {
    cameraId: 'cam-b1',
    frameAtMs: 0,
    modelVersion: '1.0.0',
    probabilities: (skus) => {
      const known = skus.filter((s) => p[s] !== undefined);
      const total = known.reduce((a, s) => a + p[s]!, 0);
      return new Map(known.map((s) => [s, p[s]! / total]));
    },
  };
}

describe('handLooks', () => {
  it('looks at the hand on its way out after a unit was taken, and on its way in before one was put down', () => {
    const window = { startAt: 1_000, settledAt: 2_500 };
    const out = handLooks(reacher(), TRAY, window, true);
    expect(out.length).toBe(MAX_LOOKS);
    expect(out.every((l) => l.atMs > 2_000 && l.atMs < 3_000)).toBe(true);
    expect(out.map((l) => l.atMs)).toEqual([...out.map((l) => l.atMs)].sort((a, b) => a - b));
    const inward = handLooks(reacher(), TRAY, window, false);
    expect(inward.length).toBe(MAX_LOOKS);
    expect(inward.every((l) => l.atMs < 1_000 && l.atMs > 0)).toBe(true);
    // Every look is the right hand, off the tray but not back by the body.
    for (const l of [...out, ...inward]) {
      const d = Math.hypot(l.point.x - TRAY.x, l.point.y - TRAY.y, l.point.z - TRAY.z);
      expect(d).toBeGreaterThanOrEqual(0.08);
      expect(d).toBeLessThanOrEqual(0.5);
    }
  });

  it('follows the hand by where it was: a frame that lost it (or shows only the other hand) right after it left the tray is skipped', () => {
    const window = { startAt: 1_000, settledAt: 2_500 };
    for (const lost of ['dropped', 'swapped']) {
      const person = reacher();
      // At 2.1 s (the first sample out of the shelf) the tracker shows only the left hand, or the two in the other order.
      const sample = person.samples.find((x) => x.at === 2_100)!;
      sample.hands = lost === 'dropped' ? [sample.hands[0]!] : [sample.hands[1]!, sample.hands[0]!];
      const out = handLooks(person, TRAY, window, true);
      expect(out.length).toBe(MAX_LOOKS);
      expect(out.every((l) => Math.abs(l.point.x - TRAY.x) < 1e-9)).toBe(true); // the right hand, never the left
      if (lost === 'dropped') expect(out.map((l) => l.atMs)).toEqual([2_200, 2_300, 2_400]);
    }
  });

  it('has nowhere to look when the hand never came to the tray', () => {
    expect(handLooks(reacher(), { x: 5, y: 5, z: 1.1 }, { startAt: 1_000, settledAt: 2_500 }, true)).toEqual([]);
  });
});

describe('fuseVision', () => {
  it('weighs what the camera saw by how many of each could be the unit', () => {
    const fused = fuseVision(new Map([['cola', 9], ['cola-zero', 1]]), [reading({ cola: 0.05, 'cola-zero': 0.95 })])!;
    expect(fused.best).toBe('cola-zero');
    expect(fused.p).toBeCloseTo((1 * 0.95) / (1 * 0.95 + 9 * 0.05), 6);
    // A weak sighting does not overturn a strong prior.
    expect(fuseVision(new Map([['cola', 9], ['cola-zero', 1]]), [reading({ cola: 0.4, 'cola-zero': 0.6 })])!.best).toBe('cola');
  });

  it('combines several looks by their geometric mean, and ignores readings that lack a candidate', () => {
    const fused = fuseVision(new Map([['a', 1], ['b', 1]]), [reading({ a: 0.9, b: 0.1 }), reading({ a: 0.6, b: 0.4 }), reading({ a: 1 })])!;
    const a = Math.sqrt(0.9 * 0.6);
    const b = Math.sqrt(0.1 * 0.4);
    expect(fused.p).toBeCloseTo(a / (a + b), 6);
  });

  it('says nothing without readings or candidates', () => {
    expect(fuseVision(new Map([['a', 1]]), [])).toBeUndefined();
    expect(fuseVision(new Map([['a', 0]]), [reading({ a: 1 })])).toBeUndefined();
  });
});
