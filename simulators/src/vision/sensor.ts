import { Rng } from '../random.ts';

/**
 * What the optics and the sensor do to a rendered scene, as pure functions over pixel buffers
 * and kernels: motion-blur kernels for sharp's `convolve`, and the exposure, colour cast and
 * Gaussian read noise applied to the raw pixels before JPEG encoding.
 */

/** A convolution kernel in sharp's `convolve` shape. */
export interface BlurKernel {
  width: number;
  height: number;
  kernel: number[];
  scale: number;
}

/** Samples per pixel of streak when rasterising a motion-blur line. */
const STREAK_SAMPLES_PER_PX = 4;

/** A straight streak `lengthPx` long through the kernel's centre at `angleRad`: the blur of a scene moving that far during the exposure. */
export function motionBlurKernel(lengthPx: number, angleRad: number): BlurKernel {
  const size = 2 * Math.ceil(lengthPx / 2) + 1;
  const centre = (size - 1) / 2;
  const kernel = new Array<number>(size * size).fill(0);
  const samples = Math.ceil(lengthPx * STREAK_SAMPLES_PER_PX) + 1;
  for (let i = 0; i < samples; i++) {
    const t = (i / (samples - 1) - 0.5) * lengthPx;
    const x = Math.round(centre + Math.cos(angleRad) * t);
    const y = Math.round(centre + Math.sin(angleRad) * t);
    kernel[y * size + x]! += 1;
  }
  return { width: size, height: size, kernel, scale: samples };
}

/**
 * Standard normal samples that the noise pass indexes with one uniform draw per pixel channel:
 * half the cost of drawing each sample by Box–Muller, and 2^16 levels (tails to about ±4σ) are
 * far finer than 8-bit pixels show. Drawn once from a fixed seed.
 */
const NORMAL_TABLE_SIZE = 1 << 16;
let normalTable: Float32Array | undefined;

function standardNormals(): Float32Array {
  if (normalTable === undefined) {
    const rng = new Rng('vision/sensor-noise-table');
    normalTable = Float32Array.from({ length: NORMAL_TABLE_SIZE }, () => rng.normal());
  }
  return normalTable;
}

/**
 * In place on interleaved 8-bit RGB: each channel times its gain (exposure × colour cast),
 * plus Gaussian noise of σ `noiseSigma` levels, rounded and clipped to 0–255 as a sensor's
 * ADC does.
 */
export function exposeAndAddNoise(rgb: Uint8Array, gains: readonly [number, number, number], noiseSigma: number, rng: Rng): void {
  const normals = standardNormals();
  // One uniform draw per channel value, in pixel order (the table index is a draw's top 16 bits).
  const draws = noiseSigma > 0 ? new Uint16Array(rgb.length) : undefined;
  if (draws !== undefined) rng.fillUint16(draws);
  for (let i = 0; i < rgb.length; i++) {
    const noise = draws !== undefined ? noiseSigma * normals[draws[i]!]! : 0;
    const value = Math.round(rgb[i]! * gains[i % 3]! + noise);
    rgb[i] = value < 0 ? 0 : value > 255 ? 255 : value;
  }
}
