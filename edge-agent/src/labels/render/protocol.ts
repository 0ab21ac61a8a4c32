import type { ImageEncoding } from '@storeedge/device-drivers';
import type { RenderOptions } from './render-label.ts';

/** Messages between LabelRenderer (main thread) and its workers (worker.ts). */

export interface WireError {
  code: string;
  message: string;
  details?: unknown;
}

export interface WireRendered {
  tagType: string;
  width: number;
  height: number;
  /** Own buffers (transferred). */
  encoded: Uint8Array;
  encoding: ImageEncoding;
  contentHash: string;
  png?: Uint8Array;
  missingGlyphs: number[];
  nameTruncated: boolean;
  omitted: string[];
}

export type ToWorker = { type: 'render'; job: number; content: unknown; tagTypeId: string; options: RenderOptions };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'rendered'; job: number; result: WireRendered }
  | { type: 'failed'; job: number; error: WireError };
