import type { OrderState } from './ledger-events.ts';
import type { PickLine } from './pick-list.ts';

/** One order in `GET /api/orders`. Times are the store clock, ms since the epoch. */
export interface OrderSummaryView {
  orderId: string;
  state: OrderState;
  customerRef: string;
  collectBy: number;
  receivedAt: number;
  docId: string;
  docVersion: number;
  lineCount: number;
  /** Units ordered. */
  units: number;
  /** Units set aside when the order arrived (held while `open`). */
  reservedUnits: number;
  /** Units that could not be reserved: `units − reservedUnits`. */
  shortUnits: number;
  /** Units picked (null until picked). */
  pickedUnits: number | null;
  note: string | null;
  pickedAt: number | null;
  pickedBy: string | null;
  closedAt: number | null;
  closedBy: string | null;
  closeReason: string | null;
  /** The `order-expired` alert, for an expired order. */
  alertId: string | null;
}

export interface OrderLineView {
  sku: string;
  name: string | null;
  qty: number;
  reserved: number;
  short: number;
  picked: number | null;
}

/**
 * An LED flash the order asked for (in memory: after a restart the list starts empty; the
 * flashes themselves are `label.flash.requested` events in the `labels` stream).
 */
export interface OrderFlashView {
  tagId: string;
  sku: string;
  /** `retry-scheduled`: the tag's LED budget said "not yet"; it flashes at `retryAt` if the order is still open. `limited`: not flashed (budget). */
  state: 'requested' | 'retry-scheduled' | 'limited' | 'failed';
  requestId: string | null;
  retryAt: number | null;
}

export interface OrderDetailView extends OrderSummaryView {
  lines: OrderLineView[];
  /** While `open`: what to take from which tray, in walking order; null afterwards. */
  pickList: PickLine[] | null;
  flashes: OrderFlashView[];
}

export interface OrderListQuery {
  /** `active` (default): open and picked, the team's work list; `all`: every order. */
  state?: OrderState | 'active' | 'all';
  limit?: number;
}

export interface PickedInput {
  /** Every line of the order once, with the units actually picked (0 … ordered). */
  lines: Array<{ sku: string; qty: number }>;
  actor: string;
}

export interface CollectedInput {
  actor: string;
}

export interface CancelInput {
  actor: string;
  reason?: string | null;
}

/** Orders as the HTTP API sees them (implemented by OrderService; docs/sync.md "Online orders"). */
export interface OrdersApi {
  /** Sorted by collectBy, then order id. */
  list(query: OrderListQuery): { orders: OrderSummaryView[]; total: number };
  /** Throws EDGE_ERR_ORDER_NOT_FOUND. */
  order(id: string): OrderDetailView;
  /** Throws EDGE_ERR_ORDER_NOT_FOUND, EDGE_ERR_ORDER_PICK_INVALID or EDGE_ERR_ORDER_STATE. */
  picked(id: string, input: PickedInput): OrderDetailView;
  /** Throws EDGE_ERR_ORDER_NOT_FOUND or EDGE_ERR_ORDER_STATE. */
  collected(id: string, input: CollectedInput): OrderDetailView;
  /** Throws EDGE_ERR_ORDER_NOT_FOUND or EDGE_ERR_ORDER_STATE. */
  cancel(id: string, input: CancelInput): OrderDetailView;
}
