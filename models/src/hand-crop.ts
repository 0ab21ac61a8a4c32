/**
 * Values the agent needs to feed the product recogniser the way it was trained, for manifests
 * that do not state them (models/recogniser/manifest.json does not, as of 1.0.0): a manifest's
 * top-level `handCropRadiusM` and `temperature` win over these.
 */

/**
 * Radius of the sphere around a tracked hand that a recogniser crop covers, metres: the radius
 * simulators/src/vision/dataset.ts (`HAND_CROP_RADIUS_M`) cut the training and gallery crops with
 * (a test checks the two agree). The agent cuts live crops with device-drivers `cropFrame`
 * (`FrameStore.cropNearest`) and this radius.
 */
export const RECOGNISER_HAND_CROP_RADIUS_M = 0.15;

/**
 * The CosFace scale models/train/recogniser.py trained with (SCALE): the softmax temperature that
 * turns cosine similarities into probabilities over a candidate set.
 */
export const RECOGNISER_COSFACE_SCALE = 20;
