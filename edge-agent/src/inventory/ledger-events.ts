import type { StoreModel } from '@storeedge/device-drivers';
import type { RfidPresence, ShelfChange } from '../events.ts';

/**
 * The inventory's ledger events. The service decides (which SKU, how many units, which alerts)
 * and writes the decision into the payload; the projection only applies it, so a replay
 * rebuilds stock and alerts exactly, whatever the store model is at replay time.
 */
export const inventoryStream = 'inventory';
export const replenishmentStream = 'replenishment';

export const inventoryEventTypes = {
  modelApplied: 'inventory.model.applied',
  shelfChanged: 'inventory.shelf.changed',
  restockDeclared: 'inventory.restock.declared',
  stockReconciled: 'inventory.stock.reconciled',
  rfidPresence: 'inventory.rfid.presence',
  alertRaised: 'inventory.alert.raised',
  alertCleared: 'inventory.alert.cleared',
  alertAcknowledged: 'inventory.alert.acknowledged',
  alertAssigned: 'inventory.alert.assigned',
  replenishmentRequested: 'replenishment.requested',
} as const;

/** A tray as the projection stores it: where it is and its facings (one per SKU). */
export interface TrayRecord {
  trayId: string;
  zone: string;
  gondola: string;
  bay: string;
  shelf: string;
  device: string;
  channel: number;
  facings: Array<{ sku: string; capacity: number; minLevel: number; initial: number }>;
}

export interface ModelApplied {
  /** sha256 of the model's canonical JSON. */
  hash: string;
  model: StoreModel;
  /** The trays derived from the model (stored so replay never depends on today's derivation). */
  trays: TrayRecord[];
  source: { kind: 'config' | 'planogram'; version: string | null; actor: string };
}

/**
 * How a shelf change was read:
 * - `pick` / `put-back`: a SKU of the tray, at or above the confidence threshold;
 * - `restock`: a positive change while a declared restock is pending on that facing;
 * - `misplaced-put` / `misplaced-removed`: no SKU of the tray explains Δ, one catalog SKU does;
 * - `unknown`: nothing (or more than one SKU) explains Δ; `low-confidence`: kept unresolved;
 * - `unknown-tray`: the tray is not in the store model; `no-change`: zero units.
 */
export type ShelfOutcome =
  | 'pick'
  | 'put-back'
  | 'restock'
  | 'misplaced-put'
  | 'misplaced-removed'
  | 'unknown'
  | 'low-confidence'
  | 'unknown-tray'
  | 'no-change';

/** One stock movement on one (tray, SKU) row. */
export interface StockEffect {
  trayId: string;
  sku: string;
  gtin: string;
  /** Signed change of book stock and of shelf-observed stock, units. */
  book: number;
  observed: number;
  /** Declared restock units this change accounted for (pending restock goes down by this). */
  restockConsumed: number;
  /** The row after the change (for exports; the projection recomputes, it does not copy). */
  observedAfter: number;
  /** True when the SKU has no facing on this tray (a misplaced unit). */
  misplaced: boolean;
}

export interface WeightCandidate {
  sku: string;
  units: number;
  /** |Δ − units·unitWeight| in standard deviations. */
  z: number;
}

export interface ShelfChanged {
  change: ShelfChange;
  outcome: ShelfOutcome;
  effects: StockEffect[];
  /** For misplaced/unknown changes: every catalog SKU whose weight fits Δ, best first. */
  candidates: WeightCandidate[];
}

export interface RestockDeclared {
  restockId: string;
  trayId: string;
  sku: string;
  gtin: string;
  quantity: number;
  actor: string;
  note: string | null;
}

export interface StockReconciled {
  actor: string;
  adjustments: Array<{ trayId: string; sku: string; bookBefore: number; observed: number; pendingBefore: number }>;
}

export interface RfidPresenceRecorded extends RfidPresence {
  /** The catalog SKU of the tag's GTIN, or null (untagged GTIN or opaque EPC). */
  sku: string | null;
}

export type AlertKind = 'low-stock' | 'out-of-stock' | 'misplaced-item' | 'unknown-weight-change' | 'low-confidence-change';

export interface AlertRaised {
  kind: AlertKind;
  trayId: string | null;
  sku: string | null;
  changeId: string | null;
  message: string;
  details: Record<string, unknown>;
}

export interface AlertCleared {
  alertId: string;
  reason: string;
}

export interface AlertAcknowledged {
  alertId: string;
  actor: string;
}

/** Who is to deal with an alert (a name the store uses for a colleague), or nobody any more. */
export interface AlertAssigned {
  alertId: string;
  assignee: string | null;
  actor: string;
}

/** Queued for HQ in the outbox (stream "replenishment"), once per low-stock episode. */
export interface ReplenishmentRequested {
  requestId: string;
  storeId: string;
  trayId: string;
  sku: string;
  gtin: string;
  /** Units to bring the facing back to capacity. */
  quantity: number;
  observed: number;
  capacity: number;
  minLevel: number;
  alertId: string;
}
