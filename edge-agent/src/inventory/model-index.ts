import { trayPlacements, type CatalogItem, type StoreModel } from '@storeedge/device-drivers';
import type { TrayRecord } from './ledger-events.ts';

/**
 * Lookups over one store model: trays by id, catalog by SKU and by GTIN. Facings of the same
 * SKU on one tray are merged (a load cell cannot tell them apart): capacities, minimum levels
 * and initial units add up.
 */
export class ModelIndex {
  readonly model: StoreModel;
  readonly trays: ReadonlyMap<string, TrayRecord>;
  readonly catalog: ReadonlyMap<string, CatalogItem>;
  readonly #byGtin: ReadonlyMap<string, CatalogItem>;
  readonly exitZones: ReadonlySet<string>;

  constructor(model: StoreModel) {
    this.model = model;
    this.catalog = new Map(model.catalog.map((item) => [item.sku, item]));
    this.#byGtin = new Map(model.catalog.map((item) => [item.gtin, item]));
    this.exitZones = new Set(model.zones.filter((z) => z.exit).map((z) => z.id));
    this.trays = new Map(trayRecords(model).map((t) => [t.trayId, t]));
  }

  bySku(sku: string): CatalogItem | undefined {
    return this.catalog.get(sku);
  }

  /** The catalog item of a GTIN-14 (RFID tags carry GTINs, not SKUs). */
  byGtin(gtin: string): CatalogItem | undefined {
    return this.#byGtin.get(gtin);
  }
}

/** The trays of a model, in layout order, with merged facings. */
export function trayRecords(model: StoreModel): TrayRecord[] {
  return trayPlacements(model).map((p) => {
    const facings = new Map<string, { sku: string; capacity: number; minLevel: number; initial: number }>();
    for (const f of p.tray.facings) {
      const merged = facings.get(f.sku);
      if (merged) {
        merged.capacity += f.capacity;
        merged.minLevel += f.minLevel;
        merged.initial += f.initial;
      } else {
        facings.set(f.sku, { sku: f.sku, capacity: f.capacity, minLevel: f.minLevel, initial: f.initial });
      }
    }
    return {
      trayId: p.tray.id,
      zone: p.zone,
      gondola: p.gondola,
      bay: p.bay,
      shelf: p.shelf,
      device: p.tray.device,
      channel: p.tray.channel,
      facings: [...facings.values()],
    };
  });
}
