import type { LabelPriority } from '@storeedge/device-drivers';
import type { DeliveryView } from './delivery-scheduler.ts';
import type { LedColour } from './ledger-events.ts';
import type { LabelState } from './metrics.ts';
import type { LabelContent } from './types.ts';

/** One label in `GET /api/labels`. Prices in minor units; times are the agent clock (ms since the epoch). */
export interface LabelSummaryView {
  /** The tag id. */
  id: string;
  sku: string;
  gateway: string;
  tagType: string;
  trayId: string | null;
  state: LabelState;
  /** Desired content not confirmed within `staleAfterMs`. */
  stale: boolean;
  currency: string | null;
  desiredPriceMinor: number | null;
  /** The price the tag confirmed it shows (null: blank, never confirmed, or content the agent never rendered). */
  confirmedPriceMinor: number | null;
  desiredVersion: number | null;
  confirmedVersion: number | null;
  batteryMv: number | null;
  rssi: number | null;
  lastSeen: number | null;
}

export interface LabelContentView {
  version: number | null;
  contentHash: string | null;
  content: LabelContent | null;
  /** Since when it is desired / shown. */
  since: number;
}

export interface LabelDetailView extends LabelSummaryView {
  desired: (LabelContentView & { priority: LabelPriority }) | null;
  /** What the tag shows per its reports: 'confirmed' (content the agent rendered), 'blank', 'unknown' (a hash the agent never rendered for it). */
  shown: (LabelContentView & { shows: 'confirmed' | 'blank' | 'unknown' }) | null;
  delivery: DeliveryView;
  health: { batteryMv: number | null; rssi: number | null; temperatureC: number | null; lastSeen: number | null; wakeReason: string | null; reports: number };
  lastFlash: FlashView | null;
}

export interface FlashView {
  tagId: string;
  requestId: string;
  colour: LedColour;
  flashes: number;
  repeats: number;
  requestedAt: number;
  /** 'requested' until the gateway says queued / sent (flashed) / failed / refused. */
  state: 'requested' | 'queued' | 'sent' | 'failed' | 'refused';
}

export interface LabelListQuery {
  state?: LabelState;
  sku?: string;
  gateway?: string;
  stale?: boolean;
  /** Cursor: the last id of the previous page (ids ascend). */
  after?: string;
  limit?: number;
}

export interface FlashInput {
  colour: LedColour;
  flashes: number;
  repeats: number;
  actor: string;
}

/** The labels as the HTTP API sees them (implemented by LabelService; docs/esl.md "API"). */
export interface LabelsApi {
  list(query: LabelListQuery): { labels: LabelSummaryView[]; next: string | null; total: number };
  /** Throws EDGE_ERR_LABEL_NOT_FOUND. */
  label(id: string): LabelDetailView;
  /** PNG of exactly the bytes the tag confirmed. Throws EDGE_ERR_LABEL_NOT_FOUND or EDGE_ERR_LABEL_NOT_CONFIRMED. */
  image(id: string): Promise<Buffer>;
  /** Throws EDGE_ERR_LABEL_NOT_FOUND or EDGE_ERR_LABEL_FLASH_LIMITED. */
  flash(id: string, input: FlashInput): Promise<FlashView>;
}
