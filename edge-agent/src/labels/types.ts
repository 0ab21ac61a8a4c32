import type { ImageEncoding } from '@storeedge/device-drivers';

import type { LabelContent as PriceBookLabelContent } from '../pricing/timeline.ts';

/**
 * What one shelf label must show for its SKU: the price book's label content (research/esl.md
 * §6.1: the label shows the same record, and the same version, the checkout charges from), with
 * any version a price source gives.
 */
export type LabelContent = Omit<PriceBookLabelContent, 'version'> & { version: number | string };

/** An image rendered for one tag type: exactly the bytes a `tag.image` carries, and their content hash. */
export interface RenderedLabel {
  encoded: Buffer;
  encoding: ImageEncoding;
  /** contentHashOf(encoded) (device-drivers esl/protocol.ts). */
  contentHash: string;
}

/**
 * The label renderer (the real one is `LabelRenderer` in ./render/). Must be deterministic:
 * the same content and tag type give the same bytes, so an unchanged label is never re-sent.
 */
export interface LabelRendererPort {
  render(content: LabelContent, tagTypeId: string): Promise<RenderedLabel>;
  /** A PNG of encoded image bytes, pixel for pixel what the tag shows. */
  toPng(encoded: Buffer, encoding: ImageEncoding, tagTypeId: string): Promise<Buffer>;
}

/** A price source's word that some SKUs' label content may change (the price book's `PriceChange` fits). */
export interface LabelPriceChange {
  skus: readonly string[];
  /** From when; a change recorded ahead of time is applied at that instant. Default: now. */
  effectiveFrom?: number;
}

/** Where label content comes from (the price book in ../pricing/). */
export interface LabelPriceSource {
  /** The content a label of `sku` must show at `at` (ms since the epoch); undefined (or a throw) when the SKU has no price. */
  labelContentAt(sku: string, at: number): LabelContent | undefined;
  /** Calls `listener` when content may change (a price, promotion or catalogue update). Returns an unsubscribe function. */
  onChange?(listener: (change: LabelPriceChange) => void): () => void;
  /** The next instant after `at` where an effective-dated change takes effect, or null. */
  nextChangeAfter?(at: number): number | null;
}

/**
 * Time for the label service: real time in the agent, virtual time in scenarios and tests
 * (simulators' `Clock` fits). Method syntax on purpose: any timer-handle type is accepted.
 */
export interface LabelClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers and Date.now(). */
export const realLabelClock: LabelClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): unknown => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
});

/** How the service publishes commands (the agent's DevicePlane fits). */
export interface CommandPublisher {
  publishCommand(deviceId: string, type: string, payload: unknown, options?: { qos?: 0 | 1 }): Promise<void>;
}
