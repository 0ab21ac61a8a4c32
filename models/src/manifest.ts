import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

/**
 * A model's manifest (ARCHITECTURE.md "Models": name, version, sha256, inputs, outputs, labels
 * or embedding size) and the check that the .onnx file next to it is the one it describes: a
 * model whose bytes do not hash to the manifest's sha256 is refused before any runtime sees it.
 */

/** Error codes of the models package. */
export type ModelErrorCode =
  | 'MDL_ERR_MANIFEST_INVALID'
  | 'MDL_ERR_MODEL_INTEGRITY'
  | 'MDL_ERR_INPUT_INVALID'
  | 'MDL_ERR_MODEL_LOAD'
  | 'MDL_ERR_UNAVAILABLE'
  | 'MDL_ERR_QUEUE_FULL'
  | 'MDL_ERR_WORKER_CRASHED'
  | 'MDL_ERR_INFERENCE_FAILED'
  | 'MDL_ERR_CONFIG_INVALID';

export class ModelError extends Error {
  readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelError';
    this.code = code;
  }
}

export const modelErrors = {
  /** The manifest cannot be read, is not JSON, or lacks a field the loader needs. */
  MDL_ERR_MANIFEST_INVALID: (message: string, cause?: unknown) => new ModelError('MDL_ERR_MANIFEST_INVALID', message, { cause }),
  /** The model file's sha256 differs from the manifest's: changed, truncated or a stale manifest. */
  MDL_ERR_MODEL_INTEGRITY: (message: string) => new ModelError('MDL_ERR_MODEL_INTEGRITY', message),
  /** An input (a crop, a gallery entry) is not what the model takes. */
  MDL_ERR_INPUT_INVALID: (message: string) => new ModelError('MDL_ERR_INPUT_INVALID', message),
  /** onnxruntime refused verified model bytes (not a model it can open, or inputs/outputs other than the manifest's). */
  MDL_ERR_MODEL_LOAD: (message: string, cause?: unknown) => new ModelError('MDL_ERR_MODEL_LOAD', message, { cause }),
  /** The inference service has no model to run (its model was refused at start, or it was closed); `cause` is why. */
  MDL_ERR_UNAVAILABLE: (message: string, cause?: unknown) => new ModelError('MDL_ERR_UNAVAILABLE', message, { cause }),
  /** The inference service's queue was full: the oldest waiting request was dropped to make room for a new one. */
  MDL_ERR_QUEUE_FULL: (message: string) => new ModelError('MDL_ERR_QUEUE_FULL', message),
  /** The inference worker running the request exited; the worker is restarted, the request is not retried. */
  MDL_ERR_WORKER_CRASHED: (message: string) => new ModelError('MDL_ERR_WORKER_CRASHED', message),
  /** onnxruntime failed while running a batch. */
  MDL_ERR_INFERENCE_FAILED: (message: string) => new ModelError('MDL_ERR_INFERENCE_FAILED', message),
  /** Inference service options are not valid; the message names the option. */
  MDL_ERR_CONFIG_INVALID: (message: string) => new ModelError('MDL_ERR_CONFIG_INVALID', message),
} as const;

export const modelErrorCodes = Object.keys(modelErrors) as ModelErrorCode[];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex digits');
const dimension = z.union([z.number().int().positive(), z.string().min(1)]);

/** What every manifest has; model-specific sections (an embedding model's preprocessing, a classifier's labels) extend it. */
export const modelManifest = z.object({
  name: z.string().min(1),
  version: z.string().regex(/^\d+\.\d+\.\d+$/, 'versions are semver (1.2.3)'),
  /** The .onnx file, relative to the manifest. */
  file: z.string().regex(/^[\w.-]+\.onnx$/, 'the model file is a .onnx file next to the manifest'),
  sha256: sha256Hex,
  input: z.object({ name: z.string().min(1), dtype: z.literal('float32'), shape: z.array(dimension).min(1) }).loose(),
  output: z.object({ name: z.string().min(1), dtype: z.literal('float32'), shape: z.array(dimension).min(1) }).loose(),
  labels: z.array(z.string()).optional(),
  embeddingSize: z.number().int().positive().optional(),
});

export type ModelManifest = z.infer<typeof modelManifest>;

/** A manifest, and the model bytes that were hashed and found to match it (hand these to the runtime, not the path). */
export interface VerifiedModel<M> {
  manifest: M;
  manifestPath: string;
  modelPath: string;
  model: Uint8Array;
}

/**
 * Reads a manifest, validates it with `schema`, reads its model file and checks the file's
 * sha256. Throws MDL_ERR_MANIFEST_INVALID when the manifest is unreadable or invalid, and
 * MDL_ERR_MODEL_INTEGRITY when the model file is missing or its hash differs.
 */
export function loadVerifiedModel<S extends z.ZodType<ModelManifest>>(manifestPath: string, schema: S): VerifiedModel<z.output<S>> {
  const path = resolve(manifestPath);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw modelErrors.MDL_ERR_MANIFEST_INVALID(`model manifest ${path} cannot be read as JSON: ${(error as Error).message}`, error);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw modelErrors.MDL_ERR_MANIFEST_INVALID(`model manifest ${path}: ${issues}`);
  }
  const manifest = parsed.data;
  const modelPath = resolve(dirname(path), manifest.file);
  let model: Buffer;
  try {
    model = readFileSync(modelPath);
  } catch (error) {
    throw modelErrors.MDL_ERR_MODEL_INTEGRITY(`model file ${modelPath} named by ${path} cannot be read: ${(error as Error).message}`);
  }
  const actual = createHash('sha256').update(model).digest('hex');
  if (actual !== manifest.sha256) {
    throw modelErrors.MDL_ERR_MODEL_INTEGRITY(
      `model ${manifest.name} ${manifest.version}: ${modelPath} has sha256 ${actual}, but ${path} says ${manifest.sha256}; ` +
        'the file was changed or the manifest is stale — restore both from the release, or retrain (models/train/README.md)',
    );
  }
  return { manifest, manifestPath: path, modelPath, model };
}
