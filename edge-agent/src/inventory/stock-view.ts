import type { Db } from '../ledger/types.ts';
import type { ModelIndex } from './model-index.ts';

/** One (tray, SKU) row: a facing from the model, or misplaced units found by weight. */
export interface TrayStockView {
  trayId: string;
  zone: string;
  gondola: string;
  bay: string;
  shelf: string;
  sku: string;
  gtin: string;
  name: string | null;
  /** False: units of a SKU that has no facing on this tray (misplaced). */
  facing: boolean;
  capacity: number | null;
  minLevel: number | null;
  /** What the store believes is there: initial + restocks ± recognised shelf changes. */
  book: number;
  /** What the load cell says is there: initial ± settled, recognised weight changes. */
  observed: number;
  /** Declared restock units not yet seen arriving on the shelf. */
  pendingRestock: number;
  /** From observed stock: 'out' ≤ 0, 'low' ≤ minLevel, 'misplaced' for non-facing rows. */
  status: 'ok' | 'low' | 'out' | 'misplaced';
}

export interface SkuStockView {
  sku: string;
  gtin: string;
  name: string;
  rfidTagged: boolean;
  book: number;
  observed: number;
  /** Units of this SKU lying on trays where it has no facing (included in book and observed). */
  misplacedUnits: number;
  pendingRestock: number;
  /** Tagged units present (exit zones excluded); null for SKUs that are not RFID-tagged. */
  rfid: number | null;
  trays: string[];
  /** Book equals observed (and, for tagged SKUs, equals the RFID count). */
  matches: boolean;
}

export interface AccuracyView {
  /** SKUs compared (those with a row in scope). */
  skus: number;
  /** SKUs whose book stock equals shelf-observed stock. */
  matching: number;
  /** matching / skus; null when there is nothing to compare. */
  skuAccuracy: number | null;
  /** The same share with each SKU weighted by its units (max of book and observed). */
  unitAccuracy: number | null;
  /** Σ |book − observed| over SKUs. */
  unitsOff: number;
  /** RFID-tagged SKUs: book stock compared to the tags present. */
  rfid: { skus: number; matching: number; accuracy: number | null };
}

export interface StockFilter {
  sku?: string;
  zone?: string;
}

export interface StockView {
  modelHash: string;
  filter: StockFilter;
  accuracy: AccuracyView;
  skus: SkuStockView[];
  trays: TrayStockView[];
  /** SKUs whose figures disagree (book vs observed, or book vs RFID for tagged SKUs). */
  discrepancies: Array<{ sku: string; book: number; observed: number; rfid: number | null }>;
  /** Shelf changes kept unresolved (low confidence or unexplained weight) whose alert is still open. */
  unresolvedChanges: number;
}

/** A row of the `inventory_stock` projection table (inventory/projection.ts). */
export interface StockRowDb {
  tray_id: string;
  sku: string;
  gtin: string;
  facing: number;
  capacity: number | null;
  min_level: number | null;
  book: number;
  observed: number;
  pending_restock: number;
}

/** A stock row with where its tray sits. */
interface StockRow extends StockRowDb {
  zone: string;
  gondola: string;
  bay: string;
  shelf: string;
}

/** Reads stock per tray and per SKU, with the accuracy figure over the rows in scope. */
export function readStock(db: Db, index: ModelIndex, modelHash: string, filter: StockFilter): StockView {
  const conditions: string[] = [];
  const params: Record<string, string> = {};
  if (filter.sku !== undefined) {
    conditions.push('s.sku = @sku');
    params.sku = filter.sku;
  }
  if (filter.zone !== undefined) {
    conditions.push('t.zone = @zone');
    params.zone = filter.zone;
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows = db
    .prepare<Record<string, string>, StockRow>(
      `SELECT s.*, t.zone, t.gondola, t.bay, t.shelf FROM inventory_stock s JOIN inventory_trays t ON t.tray_id = s.tray_id ${where} ORDER BY s.tray_id, s.sku`,
    )
    .all(params);
  const trays = rows.map((r): TrayStockView => ({
    trayId: r.tray_id,
    zone: r.zone,
    gondola: r.gondola,
    bay: r.bay,
    shelf: r.shelf,
    sku: r.sku,
    gtin: r.gtin,
    name: index.bySku(r.sku)?.name ?? null,
    facing: r.facing === 1,
    capacity: r.capacity,
    minLevel: r.min_level,
    book: r.book,
    observed: r.observed,
    pendingRestock: r.pending_restock,
    status: r.facing !== 1 ? 'misplaced' : r.observed <= 0 ? 'out' : r.observed <= (r.min_level ?? 0) ? 'low' : 'ok',
  }));

  const tags = rfidCounts(db, index, filter);
  const bySku = new Map<string, SkuStockView>();
  const skuView = (sku: string): SkuStockView | undefined => {
    let view = bySku.get(sku);
    const item = index.bySku(sku);
    if (!view && item) {
      view = { sku, gtin: item.gtin, name: item.name, rfidTagged: item.rfidTagged, book: 0, observed: 0, misplacedUnits: 0, pendingRestock: 0, rfid: item.rfidTagged ? tags.get(sku) ?? 0 : null, trays: [], matches: true };
      bySku.set(sku, view);
    }
    return view;
  };
  for (const row of trays) {
    const view = skuView(row.sku);
    if (!view) continue;
    view.book += row.book;
    view.observed += row.observed;
    view.pendingRestock += row.pendingRestock;
    if (!row.facing) view.misplacedUnits += row.observed;
    view.trays.push(row.trayId);
  }
  // Tagged SKUs seen by RFID in scope but with no tray row there still count (book 0).
  for (const sku of tags.keys()) if (filter.sku === undefined || filter.sku === sku) skuView(sku);
  const skus = [...bySku.values()].sort((a, b) => a.sku.localeCompare(b.sku));
  for (const s of skus) s.matches = s.book === s.observed && (s.rfid === null || s.rfid === s.book);

  return {
    modelHash,
    filter,
    accuracy: accuracyOf(skus),
    skus,
    trays,
    discrepancies: skus.filter((s) => !s.matches).map((s) => ({ sku: s.sku, book: s.book, observed: s.observed, rfid: s.rfid })),
    unresolvedChanges: unresolvedCount(db, filter),
  };
}

/**
 * Inventory accuracy: the share of SKUs whose book stock equals shelf-observed stock, the same
 * share weighted by units (max(book, observed) per SKU, so a SKU the books think is empty but
 * the shelf holds still weighs), and for RFID-tagged SKUs the share whose book stock equals the
 * tags present.
 */
export function accuracyOf(skus: ReadonlyArray<Pick<SkuStockView, 'book' | 'observed' | 'rfid'>>): AccuracyView {
  let matching = 0;
  let weight = 0;
  let matchingWeight = 0;
  let unitsOff = 0;
  let rfidSkus = 0;
  let rfidMatching = 0;
  for (const s of skus) {
    const w = Math.max(s.book, s.observed, 0);
    weight += w;
    unitsOff += Math.abs(s.book - s.observed);
    if (s.book === s.observed) {
      matching += 1;
      matchingWeight += w;
    }
    if (s.rfid !== null) {
      rfidSkus += 1;
      if (s.rfid === s.book) rfidMatching += 1;
    }
  }
  return {
    skus: skus.length,
    matching,
    skuAccuracy: skus.length > 0 ? matching / skus.length : null,
    unitAccuracy: weight > 0 ? matchingWeight / weight : null,
    unitsOff,
    rfid: { skus: rfidSkus, matching: rfidMatching, accuracy: rfidSkus > 0 ? rfidMatching / rfidSkus : null },
  };
}

/** Tags present per SKU in scope; tags in exit zones are leaving and do not count. */
function rfidCounts(db: Db, index: ModelIndex, filter: StockFilter): Map<string, number> {
  const rows = db
    .prepare<[], { sku: string; zone: string; n: number }>('SELECT sku, zone, count(*) AS n FROM inventory_rfid_tags WHERE sku IS NOT NULL GROUP BY sku, zone')
    .all();
  const counts = new Map<string, number>();
  for (const r of rows) {
    if (index.exitZones.has(r.zone)) continue;
    if (filter.zone !== undefined && r.zone !== filter.zone) continue;
    if (filter.sku !== undefined && r.sku !== filter.sku) continue;
    counts.set(r.sku, (counts.get(r.sku) ?? 0) + r.n);
  }
  return counts;
}

function unresolvedCount(db: Db, filter: StockFilter): number {
  const conditions = ["a.state = 'open'", "a.kind IN ('low-confidence-change', 'unknown-weight-change')"];
  const params: Record<string, string> = {};
  if (filter.zone !== undefined) {
    conditions.push('t.zone = @zone');
    params.zone = filter.zone;
  }
  if (filter.sku !== undefined) {
    conditions.push('a.sku = @sku');
    params.sku = filter.sku;
  }
  return db
    .prepare<Record<string, string>, number>(
      `SELECT count(*) FROM inventory_alerts a LEFT JOIN inventory_trays t ON t.tray_id = a.tray_id WHERE ${conditions.join(' AND ')}`,
    )
    .pluck()
    .get(params)!;
}
