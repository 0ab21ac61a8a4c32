import type { Palette, Rgb } from '@storeedge/device-drivers';
import type { Box } from './text-fit.ts';

/**
 * RGB pixels to palette indices (research/esl.md §1.3, OEPL `makeimage.cpp`):
 * - `none`: the nearest palette colour.
 * - `burkes`: Burkes error diffusion (8/32 to the next two pixels' first, 4/32 to the second;
 *   2-4-8-4-2 /32 to the row below), in raster order, integer arithmetic.
 * - `ordered`: a 4 × 4 Bayer threshold between the two nearest palette colours — OEPL's "special
 *   ordered" dither, which turns a 50 % tone into a checkerboard of its two colours.
 * Colour distance is weighted 3:6:1 (R:G:B) as OEPL's, and a near-grey pixel never becomes red or
 * yellow: anti-aliased black text keeps black and white edges.
 *
 * Text, prices and codes are always quantised with `none` (never dithered, §6 point 10); dithering
 * is for image-like parts only (a product picture).
 */
export const ditherModes = ['none', 'burkes', 'ordered'] as const;
export type DitherMode = (typeof ditherModes)[number];

/** A pixel whose channels differ by no more than this is grey. */
const GREY_SPREAD = 24;

const BAYER_4 = [
  [0, 8, 2, 10],
  [12, 4, 14, 6],
  [3, 11, 1, 9],
  [15, 7, 13, 5],
] as const;

function distance(r: number, g: number, b: number, c: Rgb): number {
  const dr = r - c[0];
  const dg = g - c[1];
  const db = b - c[2];
  return 3 * dr * dr + 6 * dg * dg + db * db;
}

function isAchromatic(c: Rgb): boolean {
  return c[0] === c[1] && c[1] === c[2];
}

function isGrey(r: number, g: number, b: number): boolean {
  return Math.max(r, g, b) - Math.min(r, g, b) <= GREY_SPREAD;
}

/** The index of the nearest palette colour (a grey pixel only looks at the palette's greys). */
export function nearestIndex(r: number, g: number, b: number, palette: Palette): number {
  const colours = palette.colours;
  const greyOnly = isGrey(r, g, b);
  let best = 0;
  let bestDistance = Infinity;
  for (let i = 0; i < colours.length; i++) {
    const c = colours[i]!;
    if (greyOnly && !isAchromatic(c)) continue;
    const d = distance(r, g, b, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = i;
    }
  }
  return best;
}

/** The nearest and second-nearest palette indices. */
function twoNearest(r: number, g: number, b: number, palette: Palette): [number, number] {
  const colours = palette.colours;
  const greyOnly = isGrey(r, g, b);
  let first = -1;
  let second = -1;
  let d1 = Infinity;
  let d2 = Infinity;
  for (let i = 0; i < colours.length; i++) {
    const c = colours[i]!;
    if (greyOnly && !isAchromatic(c)) continue;
    const d = distance(r, g, b, c);
    if (d < d1) {
      second = first;
      d2 = d1;
      first = i;
      d1 = d;
    } else if (d < d2) {
      second = i;
      d2 = d;
    }
  }
  return [first, second < 0 ? first : second];
}

/**
 * Quantises the `box` of an RGB(A) image (`channels` bytes a pixel, `width` px a row) into
 * `indices` (one byte a pixel, same width) with the given dithering.
 */
export function quantiseInto(
  indices: Uint8Array,
  rgb: Uint8Array,
  channels: number,
  width: number,
  box: Box,
  palette: Palette,
  dither: DitherMode,
): void {
  const { x: x0, y: y0, w, h } = box;
  const colours = palette.colours;
  if (dither === 'burkes') {
    // Errors for this row and the next, 3 channels, 2 px of margin each side.
    let current = new Int32Array((w + 4) * 3);
    let next = new Int32Array((w + 4) * 3);
    for (let y = 0; y < h; y++) {
      next.fill(0);
      for (let x = 0; x < w; x++) {
        const p = ((y0 + y) * width + x0 + x) * channels;
        const e = (x + 2) * 3;
        const r = clamp(rgb[p]! + current[e]!);
        const g = clamp(rgb[p + 1]! + current[e + 1]!);
        const b = clamp(rgb[p + 2]! + current[e + 2]!);
        const index = nearestIndex(r, g, b, palette);
        indices[(y0 + y) * width + x0 + x] = index;
        const c = colours[index]!;
        const errors = [r - c[0], g - c[1], b - c[2]] as const;
        for (let k = 0; k < 3; k++) {
          const err = errors[k]!;
          current[e + 3 + k]! += (err * 8) >> 5;
          current[e + 6 + k]! += (err * 4) >> 5;
          next[e - 6 + k]! += (err * 2) >> 5;
          next[e - 3 + k]! += (err * 4) >> 5;
          next[e + k]! += (err * 8) >> 5;
          next[e + 3 + k]! += (err * 4) >> 5;
          next[e + 6 + k]! += (err * 2) >> 5;
        }
      }
      [current, next] = [next, current];
    }
    return;
  }
  if (dither === 'none') {
    // A rendered label has few distinct colours (fills and anti-aliased edges): remember each one's index.
    const memo = new Map<number, number>();
    for (let y = 0; y < h; y++) {
      let p = ((y0 + y) * width + x0) * channels;
      let o = (y0 + y) * width + x0;
      for (let x = 0; x < w; x++, p += channels, o++) {
        const key = (rgb[p]! << 16) | (rgb[p + 1]! << 8) | rgb[p + 2]!;
        let index = memo.get(key);
        if (index === undefined) {
          index = nearestIndex(rgb[p]!, rgb[p + 1]!, rgb[p + 2]!, palette);
          memo.set(key, index);
        }
        indices[o] = index;
      }
    }
    return;
  }
  // Ordered: where the pixel lies on the segment from its nearest colour c1 to the next c2 (0 at c1), against the Bayer threshold.
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = ((y0 + y) * width + x0 + x) * channels;
      const r = rgb[p]!;
      const g = rgb[p + 1]!;
      const b = rgb[p + 2]!;
      const [first, second] = twoNearest(r, g, b, palette);
      const c1 = colours[first]!;
      const c2 = colours[second]!;
      const dr = c2[0] - c1[0];
      const dg = c2[1] - c1[1];
      const db = c2[2] - c1[2];
      const length = 3 * dr * dr + 6 * dg * dg + db * db;
      const t = length === 0 ? 0 : (3 * (r - c1[0]) * dr + 6 * (g - c1[1]) * dg + (b - c1[2]) * db) / length;
      const threshold = (BAYER_4[(y0 + y) & 3]![(x0 + x) & 3]! + 0.5) / 16;
      indices[(y0 + y) * width + x0 + x] = t > threshold ? second : first;
    }
  }
}

/** Quantises a whole RGB(A) image; returns one palette index a pixel. */
export function quantise(rgb: Uint8Array, channels: number, width: number, height: number, palette: Palette, dither: DitherMode): Uint8Array {
  const indices = new Uint8Array(width * height);
  quantiseInto(indices, rgb, channels, width, { x: 0, y: 0, w: width, h: height }, palette, dither);
  return indices;
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}
