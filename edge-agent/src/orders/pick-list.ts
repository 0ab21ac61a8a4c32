import { trayPlacements, type StoreModel } from '@storeedge/device-drivers';
import type { TrayStockView } from '../inventory/stock-view.ts';

/** One tray to visit for a line: where it is, what its load cell says lies there, and how many to take. */
export interface PickStop {
  trayId: string;
  zone: string;
  gondola: string;
  bay: string;
  shelf: string;
  /** Units on the tray now (shelf-observed stock, never below 0). */
  onShelf: number;
  /** Units of the line's reservation to take from this tray. */
  take: number;
  /** Units lying on a tray where the SKU has no facing (found by weight): worth taking first-hand. */
  misplaced: boolean;
}

export interface PickLine {
  sku: string;
  name: string | null;
  qty: number;
  reserved: number;
  short: number;
  /** Σ take: below `reserved` when shoppers took reserved units off the shelf since. */
  toTake: number;
  /** In walking order; facing trays without stock are listed too (where to look). */
  stops: PickStop[];
}

export interface OrderLineStock {
  sku: string;
  name: string | null;
  qty: number;
  reserved: number;
  short: number;
}

/**
 * Walking order of the trays: the planogram's layout order — gondolas as the store model lists
 * them (aisle by aisle), bays left to right, shelves bottom to top, trays left to right. A tray's
 * index is its position on that walk.
 */
export function walkOrder(model: StoreModel): Map<string, number> {
  return new Map(trayPlacements(model).map((p, index) => [p.tray.id, index]));
}

/**
 * The pick list of an order: per line, the trays where the SKU lies (its facings, and misplaced
 * units the weights found), in walking order, each with the units to take so the line's
 * reservation is met by the first trays on the walk; lines sorted by their first stop on the walk
 * (lines with nothing to take from a tray come last, by SKU).
 */
export function pickList(lines: readonly OrderLineStock[], rowsOf: (sku: string) => readonly TrayStockView[], walk: ReadonlyMap<string, number>): PickLine[] {
  const position = (trayId: string) => walk.get(trayId) ?? Number.MAX_SAFE_INTEGER;
  const picks = lines.map((line): PickLine & { firstStop: number } => {
    const rows = rowsOf(line.sku)
      .filter((row) => row.facing || row.observed > 0)
      .sort((a, b) => position(a.trayId) - position(b.trayId) || a.trayId.localeCompare(b.trayId));
    let left = line.reserved;
    const stops = rows.map((row): PickStop => {
      const onShelf = Math.max(0, row.observed);
      const take = Math.min(left, onShelf);
      left -= take;
      return { trayId: row.trayId, zone: row.zone, gondola: row.gondola, bay: row.bay, shelf: row.shelf, onShelf, take, misplaced: !row.facing };
    });
    const first = stops.find((s) => s.take > 0);
    return { ...line, toTake: line.reserved - left, stops, firstStop: first === undefined ? Number.POSITIVE_INFINITY : position(first.trayId) };
  });
  picks.sort((a, b) => a.firstStop - b.firstStop || a.sku.localeCompare(b.sku));
  return picks.map(({ firstStop: _firstStop, ...line }) => line);
}
