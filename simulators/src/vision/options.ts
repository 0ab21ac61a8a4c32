import { z } from 'zod';
import { bayCameraOptions } from '@storeedge/device-drivers/camera/index.ts';
import { appearanceOverride } from './appearance.ts';

/**
 * The `vision` section of a scenario file: the simulated shelf cameras' knobs. Schema and
 * defaults side by side; every field has a default, and an unknown field is rejected so a typo
 * does not silently fall back to one.
 *
 * research/checkout.md §5.4 gives figures for frame rate only, and names occlusion, lighting
 * and other shoppers as the problems real systems meet (§3, Amazon JWO); the occlusion,
 * lighting, blur, noise and JPEG defaults below are design parameters chosen to look like an
 * ordinary store camera, not sourced measurements.
 */

const share = z.number().min(0).max(1);

/** [low, high] within [min, max], drawn uniformly per frame. */
function range(min: number, max: number) {
  return z
    .tuple([z.number().finite().min(min).max(max), z.number().finite().min(min).max(max)])
    .refine(([lo, hi]) => lo <= hi, 'range must be [low, high]');
}

export const visionLighting = z.strictObject({
  /** Exposure gain per frame (1 = as rendered). Default 0.8–1.2: design parameter. */
  gain: range(0.05, 4).default([0.8, 1.2]),
  /** Colour cast: each channel's gain is off by up to ± this share per frame (white balance). Default 0.05: design parameter. */
  colourCast: z.number().min(0).max(0.5).default(0.05),
});

export const visionBlur = z.strictObject({
  /** Defocus: Gaussian σ in pixels per frame; below 0.3 px there is none. Default 0–0.8: design parameter. */
  defocusSigmaPx: range(0, 20).default([0, 0.8]),
  /** Motion blur: streak length in pixels per frame, in a random direction; below 2 px there is none. Default 0–3: design parameter. */
  motionPx: range(0, 64).default([0, 3]),
});

export const visionOptions = z.strictObject({
  /** Frames per second per camera (research/checkout.md §5.4: 10–30 fps). Default 10, the low end, to keep CI fast. */
  fps: z.number().positive().max(60).default(10),
  /** Frame size, pixels. Default 320 × 240, the input size of small shelf-crop classifiers rather than a camera's native one. */
  width: z.number().int().min(32).max(4096).default(320),
  height: z.number().int().min(32).max(4096).default(240),
  /**
   * Share of frames in which a passing shopper's body blocks part of the view. Default 0.1,
   * inside §5.4's 5–30 % per-frame keypoint dropout when occluded.
   */
  occlusionRate: share.default(0.1),
  lighting: visionLighting.prefault({}),
  blur: visionBlur.prefault({}),
  /** Sensor noise: Gaussian σ in 8-bit levels, per pixel and channel. Default 2: design parameter (a well-lit CMOS sensor). */
  noiseSigma: z.number().min(0).max(64).default(2),
  /** JPEG quality, 1–100. Default 80: design parameter (a typical camera stream setting). */
  jpegQuality: z.number().int().min(1).max(100).default(80),
  /** Where the bay cameras hang (device-drivers `bayCamera`: distance across the aisle, mount height, headroom, margin). */
  placement: bayCameraOptions.omit({ width: true, height: true }).prefault({}),
  /** Per-SKU appearance overrides; everything not given is derived from the catalogue. */
  appearance: z.record(z.string(), appearanceOverride).default({}),
});

/** What a scenario file may give: every field optional. */
export type VisionOptionsInput = z.input<typeof visionOptions>;
/** The section with every default filled in. */
export type VisionOptions = z.output<typeof visionOptions>;
