import type { ScriptedShelfAction } from './shelf-script.ts';

/** A shelf change as the agent reported it (the fields the evaluation reads). */
export interface ReportedShelfChange {
  trayId: string;
  startAt: number;
  settledAt: number;
  deltaG: number;
  sku: string | null;
  quantity: number;
  misplaced: boolean;
}

export interface ShelfEventsReport {
  /** Detected changes that match a true action / all detected changes. */
  precision: number;
  /** True actions matched by a detected change / all true actions. */
  recall: number;
  /** Matched picks and put-backs whose reported SKU and signed quantity equal the true ones (misplacements and restocks excluded). */
  quantityExactRate: number;
  trueEvents: number;
  detectedEvents: number;
  matched: number;
  /** Matched actions whose reported direction (taken / put) is wrong. */
  signErrors: number;
  /** Matched multi-unit picks (2–5 units) and how many of them had the exact quantity. */
  multiUnitPicks: number;
  multiUnitExact: number;
  /** Up to 10 unmatched true actions and detected changes, to debug a miss. */
  missed: ScriptedShelfAction[];
  spurious: ReportedShelfChange[];
}

/**
 * Event matching per research/checkout.md §5.1 item 4: a detected change matches a true action
 * on the same tray when their times agree within `toleranceMs` (the detected [start, settle]
 * span overlaps the true [hand in, hand out] span widened by the tolerance). Each action and
 * each detection matches at most once; the closest start wins.
 */
export function evaluateShelfEvents(actions: readonly ScriptedShelfAction[], detected: readonly ReportedShelfChange[], toleranceMs = 1_000): ShelfEventsReport {
  const byTray = new Map<string, ReportedShelfChange[]>();
  for (const change of detected) {
    const list = byTray.get(change.trayId) ?? [];
    list.push(change);
    byTray.set(change.trayId, list);
  }
  const used = new Set<ReportedShelfChange>();
  const missed: ScriptedShelfAction[] = [];
  let matched = 0;
  let signErrors = 0;
  let quantityChecked = 0;
  let quantityExact = 0;
  let multiUnitPicks = 0;
  let multiUnitExact = 0;
  for (const action of [...actions].sort((a, b) => a.startAt - b.startAt)) {
    let best: ReportedShelfChange | undefined;
    for (const change of byTray.get(action.trayId) ?? []) {
      if (used.has(change)) continue;
      const overlaps = change.startAt <= action.endAt + toleranceMs && change.settledAt >= action.startAt - toleranceMs;
      if (!overlaps) continue;
      if (!best || Math.abs(change.startAt - action.startAt) < Math.abs(best.startAt - action.startAt)) best = change;
    }
    if (!best) {
      missed.push(action);
      continue;
    }
    used.add(best);
    matched++;
    if (Math.sign(best.deltaG) !== Math.sign(action.deltaG)) signErrors++;
    // Quantity is the weight pipeline's claim for shopper handlings; a misplaced unit is foreign
    // to its tray and a restock is explained by the inventory from the declared quantity.
    if (action.kind === 'misplace' || action.kind === 'restock') continue;
    const trueQuantity = action.kind === 'pick' ? -action.units : action.units;
    const exact = best.sku === action.sku && best.quantity === trueQuantity;
    quantityChecked++;
    if (exact) quantityExact++;
    if (action.kind === 'pick' && action.units > 1) {
      multiUnitPicks++;
      if (exact) multiUnitExact++;
    }
  }
  const spurious = detected.filter((c) => !used.has(c));
  return {
    precision: detected.length === 0 ? 1 : matched / detected.length,
    recall: actions.length === 0 ? 1 : matched / actions.length,
    quantityExactRate: quantityChecked === 0 ? 1 : quantityExact / quantityChecked,
    trueEvents: actions.length,
    detectedEvents: detected.length,
    matched,
    signErrors,
    multiUnitPicks,
    multiUnitExact,
    missed: missed.slice(0, 10),
    spurious: spurious.slice(0, 10),
  };
}

export interface InventoryReport {
  /** Σ over SKUs of |believed − true| units. */
  driftUnits: number;
  /** Share of SKUs whose believed stock equals the true stock. */
  accuracy: number;
  /** Units the agent holds as misplaced at the end, and units truly put back on a wrong tray. */
  misplacedFlagged: number;
  misplacedTrue: number;
  /** SKUs whose believed stock differs, with both figures (at most 10). */
  differences: Array<{ sku: string; believed: number; true: number }>;
}

/** Compares the agent's believed stock per SKU with the simulator's true stock at the end. */
export function evaluateInventory(
  trueStock: ReadonlyMap<string, number>,
  believedStock: ReadonlyMap<string, number>,
  misplacedFlagged: number,
  misplacedTrue: number,
): InventoryReport {
  let driftUnits = 0;
  let exact = 0;
  const differences: InventoryReport['differences'] = [];
  for (const [sku, truth] of trueStock) {
    const believed = believedStock.get(sku) ?? 0;
    driftUnits += Math.abs(believed - truth);
    if (believed === truth) exact++;
    else if (differences.length < 10) differences.push({ sku, believed, true: truth });
  }
  return {
    driftUnits,
    accuracy: trueStock.size === 0 ? 1 : exact / trueStock.size,
    misplacedFlagged,
    misplacedTrue,
    differences,
  };
}
