import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/random.ts';
import { exposeAndAddNoise } from '../../src/vision/sensor.ts';

/** The noise pass as first written, one `next()` per channel value: the datasets the models were trained and tested on were rendered with it. */
function reference(rgb: Uint8Array, gains: readonly [number, number, number], noiseSigma: number, rng: Rng): void {
  const table = new Rng('vision/sensor-noise-table');
  const normals = Float32Array.from({ length: 1 << 16 }, () => table.normal());
  for (let i = 0; i < rgb.length; i++) {
    const noise = noiseSigma > 0 ? noiseSigma * normals[Math.floor(rng.next() * (1 << 16))]! : 0;
    const value = Math.round(rgb[i]! * gains[i % 3]! + noise);
    rgb[i] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
}

describe('exposeAndAddNoise', () => {
  it('gives the same bytes as one draw per channel value, so rendered datasets do not change', () => {
    const source = new Rng('pixels');
    const pixels = Uint8Array.from({ length: 48 * 32 * 3 }, () => source.int(0, 255));
    for (const [gains, sigma] of [
      [[1.05, 0.97, 1.1], 3],
      [[0.6, 0.7, 0.65], 12],
      [[1.4, 1.3, 1.5], 0],
    ] as const) {
      const fast = pixels.slice();
      const slow = pixels.slice();
      const a = new Rng(`noise/${sigma}`);
      const b = new Rng(`noise/${sigma}`);
      exposeAndAddNoise(fast, gains, sigma, a);
      reference(slow, gains, sigma, b);
      expect(Buffer.from(fast).equals(Buffer.from(slow))).toBe(true);
      // …and leaves the frame's stream where it was left before.
      expect(a.next()).toBe(b.next());
    }
  });
});
