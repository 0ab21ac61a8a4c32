import type { AlertKind } from './ledger-events.ts';

/** What the rules need to know about one (tray, SKU) row; null when the row no longer exists. */
export interface RowState {
  /** The SKU has a facing on this tray (false: misplaced units). */
  facing: boolean;
  observed: number;
  minLevel: number | null;
}

export type StockAlertKind = Extract<AlertKind, 'low-stock' | 'out-of-stock' | 'misplaced-item'>;

export interface AlertTransitions {
  raise: StockAlertKind[];
  clear: StockAlertKind[];
}

/**
 * Alert rules for one row, with hysteresis. Shelf-observed stock drives them (what a shopper
 * finds on the shelf, and what a restock must change):
 * - low-stock when observed ≤ minLevel, out-of-stock when observed ≤ 0; each raised once per
 *   episode (not again while one is open or acknowledged), and both cleared only when observed
 *   rises above minLevel + hysteresis, so a single put-back does not flap them;
 * - misplaced-item while units of a SKU without a facing lie on the tray; cleared when they
 *   are gone (or the SKU gets a facing there);
 * - a row that no longer exists clears everything it had.
 */
export function stockAlertTransitions(row: RowState | null, active: ReadonlySet<StockAlertKind>, hysteresis: number): AlertTransitions {
  const raise: StockAlertKind[] = [];
  const clear: StockAlertKind[] = [];
  const clearIfActive = (...kinds: StockAlertKind[]) => kinds.forEach((k) => active.has(k) && clear.push(k));
  if (row === null) {
    clearIfActive('low-stock', 'out-of-stock', 'misplaced-item');
  } else if (row.facing && row.minLevel !== null) {
    clearIfActive('misplaced-item');
    if (row.observed > row.minLevel + hysteresis) clearIfActive('low-stock', 'out-of-stock');
    if (row.observed <= row.minLevel && !active.has('low-stock')) raise.push('low-stock');
    if (row.observed <= 0 && !active.has('out-of-stock')) raise.push('out-of-stock');
  } else {
    clearIfActive('low-stock', 'out-of-stock');
    if (row.observed > 0 && !active.has('misplaced-item')) raise.push('misplaced-item');
    if (row.observed <= 0) clearIfActive('misplaced-item');
  }
  return { raise, clear };
}
