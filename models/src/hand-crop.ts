/**
 * Values the agent needs to feed the product recogniser the way it was trained, for manifests
 * that do not state them (models/recogniser/manifest.json does not, as of 1.0.0): a manifest's
 * top-level `handCropRadiusM` and `temperature` win over these.
 */

/**
 * Radius of the sphere around a tracked hand that a recogniser crop covers, metres: the radius
 * simulators/src/vision/dataset.ts (`HAND_CROP_RADIUS_M`) cut the training and gallery crops with
 * (a test checks the two agree). The agent cuts live crops with device-drivers
 * `cropFrameWindows` (`cropFrame` for each of RECOGNISER_HAND_WINDOWS) and this radius.
 */
export const RECOGNISER_HAND_CROP_RADIUS_M = 0.15;

/**
 * The CosFace scale models/train/recogniser.py trained with (SCALE): the softmax temperature that
 * turns cosine similarities into probabilities over a candidate set.
 */
export const RECOGNISER_COSFACE_SCALE = 20;

/**
 * A window next to the crop around a tracked hand: shifted by `dx`, `dy` times the crop's side
 * (right, down in the image), scaled by `scale` (default 1). Structurally device-drivers'
 * `CropWindow` (`cropFrameWindows`).
 */
export interface HandCropWindow {
  dx: number;
  dy: number;
  scale?: number;
}

/**
 * The windows the agent (and the recogniser's test) cut around a tracked hand: a 5 × 5 grid of
 * crops of the trained size, shifted by 0, ±1/6 and ±1/3 of the side (±5 and ±10 cm at the
 * 0.15 m radius: one and two σ of the tracker's noise). The held unit is off the crop's centre
 * when the track is off; each window votes with its softmax over the gallery
 * (`ProductGallery.nearestOfViews`). Chosen on validation renders (seeds 2 and 5; MODEL_CARD.md).
 */
export const RECOGNISER_HAND_WINDOWS: readonly HandCropWindow[] = Object.freeze(
  [-2, -1, 0, 1, 2].flatMap((dy) => [-2, -1, 0, 1, 2].map((dx) => Object.freeze({ dx: dx / 6, dy: dy / 6 }))),
);
