import type { ModelErrorCode } from '../manifest.ts';
import type { RecogniserManifest } from '../recogniser.ts';

/**
 * Messages between the inference service (main thread) and its workers. A worker holds one
 * onnxruntime session per model generation it was told to load, and runs one batch at a time.
 */

/**
 * A crop as it crosses to a worker. Structured clone turns a Buffer into a plain Uint8Array,
 * so an encoded image is tagged rather than told apart by Buffer.isBuffer.
 */
export type WireCrop = { width: number; height: number; rgb: Uint8Array } | { encoded: Uint8Array };

export interface WireError {
  code: ModelErrorCode;
  message: string;
}

export type RequestResult = { ok: true; embeddings: Float32Array[] } | { ok: false; error: WireError };

export type ToWorker =
  /** Open a session on verified model bytes (the main thread checked the sha256). */
  | { type: 'load'; generation: number; manifest: RecogniserManifest; model: Uint8Array; threads: number }
  /** Embed each request's crops with the generation's session, in runs of at most maxBatch crops. */
  | { type: 'run'; batch: number; generation: number; maxBatch: number; requests: WireCrop[][] }
  /** Release the generation's session (after the batch using it, if one is running). */
  | { type: 'retire'; generation: number }
  /** Release every session and end the thread once the running batch is done. */
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'loaded'; generation: number }
  | { type: 'load-failed'; generation: number; error: WireError }
  /** One result per request of the batch, in order. */
  | { type: 'result'; batch: number; results: RequestResult[] };
