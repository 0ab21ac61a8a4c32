import { palettes } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';
import { nearestIndex, quantise } from '../../../src/labels/render/index.ts';

/** A horizontal grey ramp, white on the left to black on the right, RGB. */
function greyRamp(width: number, height: number): Uint8Array {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rgb.fill(Math.round(255 - (255 * x) / (width - 1)), (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return rgb;
}

/** Share of black pixels in columns [from, to). */
function blackShare(indices: Uint8Array, width: number, height: number, from: number, to: number): number {
  let black = 0;
  for (let y = 0; y < height; y++) for (let x = from; x < to; x++) black += indices[y * width + x] === 1 ? 1 : 0;
  return black / ((to - from) * height);
}

describe('quantising to a palette', () => {
  const width = 256;
  const height = 32;
  const ramp = greyRamp(width, height);

  it('none: a hard threshold (one black/white edge per row), greys never red', () => {
    const indices = quantise(ramp, 3, width, height, palettes.bwr, 'none');
    for (let y = 0; y < height; y++) {
      const row = indices.subarray(y * width, (y + 1) * width);
      const edges = row.reduce((n, v, x) => n + (x > 0 && v !== row[x - 1] ? 1 : 0), 0);
      expect(edges).toBe(1);
    }
    expect(indices.includes(2)).toBe(false);
    expect(nearestIndex(130, 120, 125, palettes.bwr)).not.toBe(2);
    expect(nearestIndex(230, 20, 20, palettes.bwr)).toBe(2);
    expect(nearestIndex(240, 230, 20, palettes.bwry)).toBe(3);
  });

  for (const mode of ['burkes', 'ordered'] as const) {
    it(`${mode}: the share of black follows the ramp (tones, not a threshold) and stays black/white`, () => {
      const indices = quantise(ramp, 3, width, height, palettes.bwr, mode);
      expect(indices.includes(2)).toBe(false);
      const bands = 8;
      const shares = Array.from({ length: bands }, (_, b) => blackShare(indices, width, height, (b * width) / bands, ((b + 1) * width) / bands));
      for (const [b, share] of shares.entries()) {
        const expected = (b + 0.5) / bands; // the band's mean darkness
        expect(Math.abs(share - expected), `band ${b}: ${share.toFixed(3)} black, expected ≈ ${expected.toFixed(3)}`).toBeLessThan(0.07);
      }
      for (let b = 1; b < bands; b++) expect(shares[b]!).toBeGreaterThan(shares[b - 1]!);
      // Deterministic.
      expect(Buffer.from(quantise(ramp, 3, width, height, palettes.bwr, mode)).equals(Buffer.from(indices))).toBe(true);
    });
  }

  it('ordered: a flat 50 % grey becomes a checkerboard-like even pattern of its two nearest colours', () => {
    const grey = new Uint8Array(8 * 8 * 3).fill(128);
    const indices = quantise(grey, 3, 8, 8, palettes.bw, 'ordered');
    expect(blackShare(indices, 8, 8, 0, 8)).toBe(0.5);
    // Every 2 × 2 cell holds two of each (Bayer 4 × 4 at its middle threshold).
    for (let y = 0; y < 8; y += 2) for (let x = 0; x < 8; x += 2) expect(indices[y * 8 + x]! + indices[y * 8 + x + 1]! + indices[(y + 1) * 8 + x]! + indices[(y + 1) * 8 + x + 1]!).toBe(2);
  });

  it('dithers a red ramp with red, not black, on BWR', () => {
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) {
      const x = i % width;
      rgb.set([255, Math.round(255 - (255 * x) / (width - 1)), Math.round(255 - (255 * x) / (width - 1))], i * 3);
    }
    for (const mode of ['burkes', 'ordered'] as const) {
      const indices = quantise(rgb, 3, width, height, palettes.bwr, mode);
      const red = indices.reduce((n, v) => n + (v === 2 ? 1 : 0), 0) / indices.length;
      expect(red, mode).toBeGreaterThan(0.35);
      expect(blackShare(indices, width, height, 0, width), mode).toBeLessThan(0.05);
    }
  });
});
