import type { ImageEncoding, LabelPriority, ledColours } from '@storeedge/device-drivers';
import type { LabelContent } from './types.ts';

export type LedColour = (typeof ledColours)[number];

/** The ledger stream of the label service (docs/esl.md "Ledger events"). */
export const labelStream = 'labels';

export const labelEventTypes = {
  desired: 'label.desired',
  confirmed: 'label.confirmed',
  diverged: 'label.diverged',
  flashRequested: 'label.flash.requested',
  chargeAboveLabel: 'label.integrity.violation',
} as const;

/**
 * New desired content for a tag, with the version it goes out under. Written before any
 * command carries that version, so a version is never reused after a crash. The image bytes
 * live in the `label_images` table (by hash), not in the log.
 */
export interface LabelDesired {
  tagId: string;
  gateway: string;
  tagType: string;
  sku: string;
  version: number;
  contentHash: string;
  encoding: ImageEncoding;
  priority: LabelPriority;
  content: LabelContent;
  /** 'content': the price book changed; 'reissue': the same content under a higher version (a gateway refused the old one as stale). */
  reason: 'content' | 'reissue';
}
export const desiredKey = (tagId: string, version: number) => `label.desired:${tagId}:${version}`;

/** The tag reported the desired content: it now shows `version` / `contentHash`. */
export interface LabelConfirmed {
  tagId: string;
  version: number;
  contentHash: string;
  sku: string;
  priceMinor: number;
  currency: string;
  /** From the desired content's append to this report, ms (agent clock). */
  latencyMs: number;
  /** Device time of the report. */
  reportAt: number;
}

/**
 * The tag reported content other than what it was known to show and other than the desired
 * content: blank after a reboot, an older version, or a hash the agent never rendered.
 */
export interface LabelDiverged {
  tagId: string;
  version: number | null;
  contentHash: string | null;
  /** The content of that version when the agent rendered it (looked up by its desired event), else null. */
  content: LabelContent | null;
  /** 'blank': the tag shows nothing; 'known': an older version of ours; 'unknown': content the agent never rendered for this tag. */
  shows: 'blank' | 'known' | 'unknown';
  wakeReason: string;
  reportAt: number;
}

/** A manager (or pick-to-light) asked a tag to flash (audited; also rebuilds the per-tag LED budget after a restart). */
export interface LabelFlashRequested {
  tagId: string;
  requestId: string;
  colour: LedColour;
  flashes: number;
  repeats: number;
  actor: string;
}

/** A charge above the price the SKU's confirmed label showed at that instant (research/esl.md §5, §6.6). */
export interface LabelChargeAboveLabel {
  sku: string;
  at: number;
  unitPriceMinor: number;
  labelPriceMinor: number;
}
