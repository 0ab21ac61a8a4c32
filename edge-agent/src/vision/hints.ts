import { readFileSync } from 'node:fs';
import { RECOGNISER_COSFACE_SCALE, RECOGNISER_HAND_CROP_RADIUS_M } from '@storeedge/models';

/** How to feed a recogniser model and read its scores, beyond what its validated manifest holds. */
export interface RecogniserHints {
  /** Radius of the crop around a hand, metres: the manifest's `handCropRadiusM`, else RECOGNISER_HAND_CROP_RADIUS_M. */
  handCropRadiusM: number;
  /** Softmax temperature over cosine similarities: the manifest's `temperature` (or `training.cosFaceScale`), else RECOGNISER_COSFACE_SCALE. */
  temperature: number;
  /** Where each came from, for the status and logs. */
  source: { handCropRadiusM: 'manifest' | 'default'; temperature: 'manifest' | 'default' };
}

export const defaultHints: Readonly<RecogniserHints> = Object.freeze<RecogniserHints>({
  handCropRadiusM: RECOGNISER_HAND_CROP_RADIUS_M,
  temperature: RECOGNISER_COSFACE_SCALE,
  source: { handCropRadiusM: 'default', temperature: 'default' },
});

const positive = (value: unknown, max: number): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max ? value : undefined;

/**
 * The optional fields of a recogniser manifest (the models package's schema drops fields it
 * does not know, so they are read from the file): `handCropRadiusM` (top level or under
 * `input.preprocessing`) and `temperature` (top level, or the CosFace scale as
 * `training.cosFaceScale` / `training.cosFace.scale`). Never throws: a manifest that cannot be
 * read gives the defaults (the inference service reports the unreadable manifest itself).
 * Returns the manifest's version too, so hints are kept per model version.
 */
export function readRecogniserHints(manifestPath: string): { version: string | undefined; hints: RecogniserHints } {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
    if (!raw || typeof raw !== 'object') return { version: undefined, hints: defaultHints };
  } catch {
    return { version: undefined, hints: defaultHints };
  }
  const object = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});
  const input = object(raw.input);
  const training = object(raw.training);
  const radius = positive(raw.handCropRadiusM, 5) ?? positive(object(input.preprocessing).handCropRadiusM, 5);
  const temperature = positive(raw.temperature, 1_000) ?? positive(training.cosFaceScale, 1_000) ?? positive(object(training.cosFace).scale, 1_000);
  return {
    version: typeof raw.version === 'string' ? raw.version : undefined,
    hints: {
      handCropRadiusM: radius ?? defaultHints.handCropRadiusM,
      temperature: temperature ?? defaultHints.temperature,
      source: { handCropRadiusM: radius === undefined ? 'default' : 'manifest', temperature: temperature === undefined ? 'default' : 'manifest' },
    },
  };
}

/** Probabilities over `candidates` (those with a score): softmax of temperature × cosine, computed stably. */
export function softmaxOver(scores: ReadonlyMap<string, number>, candidates: readonly string[], temperature: number): Map<string, number> {
  const known = [...new Set(candidates)].filter((sku) => scores.has(sku));
  const out = new Map<string, number>();
  if (known.length === 0) return out;
  const logits = known.map((sku) => temperature * scores.get(sku)!);
  const max = Math.max(...logits);
  const weights = logits.map((l) => Math.exp(l - max));
  const sum = weights.reduce((a, b) => a + b, 0);
  known.forEach((sku, i) => out.set(sku, weights[i]! / sum));
  return out;
}
