/**
 * Click & collect orders' ledger events (stream `orders`, docs/sync.md "Online orders"). The
 * service decides (what is reserved, picked, released) and writes the decision into the payload;
 * the projection only applies it, so a replay rebuilds every order exactly. `at` is the store
 * clock (the agent's), which the ledger's own append time need not be.
 *
 * `order.received` stays in the store: it carries the customer reference and the note, which HQ
 * sent and does not need back. Every later step is queued for HQ (`outbox: true`) and names the
 * order by its id only.
 */
export const orderStream = 'orders';

export const orderEventTypes = {
  received: 'order.received',
  reserved: 'order.reserved',
  picked: 'order.picked',
  collected: 'order.collected',
  cancelled: 'order.cancelled',
  expired: 'order.expired',
} as const;

/**
 * `open`: reserved, waiting to be picked; `picked`: in the bag, waiting for the customer (its
 * reservation released, the units off the shelf); then one of `collected`, `cancelled`, `expired`.
 */
export const orderStates = ['open', 'picked', 'collected', 'cancelled', 'expired'] as const;
export type OrderState = (typeof orderStates)[number];

export interface OrderReceived {
  orderId: string;
  /** The HQ document that carried the order. */
  docId: string;
  docVersion: number;
  customerRef: string;
  collectBy: number;
  note: string | null;
  lines: Array<{ sku: string; qty: number }>;
  at: number;
}

export interface OrderReserved {
  orderId: string;
  /** Per line, in the order's line order: `reserved + short = qty`. */
  lines: Array<{ sku: string; qty: number; reserved: number; short: number }>;
  reserved: number;
  short: number;
  at: number;
}

export interface OrderPicked {
  orderId: string;
  /** Per line: `picked + short = qty`. */
  lines: Array<{ sku: string; qty: number; picked: number; short: number }>;
  picked: number;
  short: number;
  actor: string;
  at: number;
}

export interface OrderCollected {
  orderId: string;
  /** Units handed over. */
  units: number;
  actor: string;
  at: number;
}

export interface OrderCancelled {
  orderId: string;
  from: 'open' | 'picked';
  /** Reserved units given back to other orders (from `open`). */
  released: number;
  /** Picked units to put back on the shelf (from `picked`). */
  unitsToReturn: number;
  actor: string;
  reason: string | null;
  at: number;
}

export interface OrderExpired {
  orderId: string;
  from: 'open' | 'picked';
  collectBy: number;
  released: number;
  unitsToReturn: number;
  /** The `order-expired` alert raised in the same transaction. */
  alertId: string;
  at: number;
}
