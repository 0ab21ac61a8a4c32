import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreModelInput } from '@storeedge/device-drivers';
import { inventorySettingsSchema, type InventorySettings } from '../../src/config/schema.ts';
import { EventBus, type ShelfChange, type StoreAlert, type StoreEvents } from '../../src/events.ts';
import { InventoryService } from '../../src/inventory/inventory-service.ts';
import { inventoryProjection } from '../../src/inventory/projection.ts';
import { Ledger } from '../../src/ledger/ledger.ts';

/**
 * A small store: drinks (cola, chips) in zone z-drinks, care products (tagged soap, shampoo) in
 * z-care, and an exit portal zone. Unit weights are far enough apart that one unit of each fits
 * only its own SKU (cola 350 g, chips 160 g, soap 95 g, shampoo 420 g); `mints` (30 g) has no
 * facing anywhere.
 */
export const storeModelFixture: StoreModelInput = {
  catalog: [
    { sku: 'cola-330', gtin: '04006381333931', name: 'Cola 330 ml', unitWeightG: 350, unitWeightSigmaG: 2, priceMinor: 129 },
    { sku: 'chips-150', gtin: '04006381333948', name: 'Chips 150 g', unitWeightG: 160, unitWeightSigmaG: 3, priceMinor: 199 },
    { sku: 'soap-tag', gtin: '04006381333955', name: 'Soap (tagged)', unitWeightG: 95, unitWeightSigmaG: 1.5, priceMinor: 249, rfidTagged: true },
    { sku: 'shampoo-400', gtin: '04006381333962', name: 'Shampoo 400 ml', unitWeightG: 420, unitWeightSigmaG: 4, priceMinor: 399 },
    { sku: 'mints', gtin: '04012345000016', name: 'Mints', unitWeightG: 30, unitWeightSigmaG: 0.5, priceMinor: 99 },
  ],
  zones: [
    { id: 'z-drinks', antennas: [{ reader: 'rfid-1', antenna: 1 }] },
    { id: 'z-care', antennas: [{ reader: 'rfid-1', antenna: 2 }] },
    { id: 'z-exit', antennas: [{ reader: 'rfid-2', antenna: 1 }], exit: true },
  ],
  gondolas: [
    {
      id: 'g1',
      zone: 'z-drinks',
      bays: [
        {
          id: 'b1',
          shelves: [
            {
              id: 's1',
              trays: [
                { id: 't1', device: 'shelf-1', channel: 0, facings: [{ sku: 'cola-330', capacity: 12, minLevel: 3, initial: 10 }] },
                { id: 't2', device: 'shelf-1', channel: 1, facings: [{ sku: 'chips-150', capacity: 10, minLevel: 2, initial: 8 }] },
              ],
            },
          ],
        },
      ],
    },
    {
      id: 'g2',
      zone: 'z-care',
      bays: [
        {
          id: 'b2',
          shelves: [
            {
              id: 's2',
              trays: [
                { id: 't3', device: 'shelf-2', channel: 0, facings: [{ sku: 'soap-tag', capacity: 20, minLevel: 4, initial: 3 }] },
                { id: 't4', device: 'shelf-2', channel: 1, facings: [{ sku: 'shampoo-400', capacity: 8, minLevel: 2, initial: 8 }] },
              ],
            },
          ],
        },
      ],
    },
  ],
};

const unitWeight: Record<string, number> = { 'cola-330': 350, 'chips-150': 160, 'soap-tag': 95, 'shampoo-400': 420, mints: 30 };
const channelOf: Record<string, [string, number]> = { t1: ['shelf-1', 0], t2: ['shelf-1', 1], t3: ['shelf-2', 0], t4: ['shelf-2', 1] };

let clock = 1_736_935_200_000; // 2025-01-15T10:00:00Z: device time moves only when a change is made

/**
 * A settled shelf change as the weight pipeline would emit it. `units` of `sku` (negative:
 * picked), or `{ grams }` for a change no SKU of the tray explains (misplaced).
 */
export function shelfChange(
  id: string,
  trayId: string,
  what: { sku: string; units: number; confidence?: number } | { grams: number },
): ShelfChange {
  const [deviceId, channel] = channelOf[trayId] ?? ['shelf-x', 0];
  clock += 5_000;
  const base = { id, trayId, deviceId, channel, startAt: clock - 1_200, settledAt: clock, alternatives: [] };
  if ('grams' in what) return { ...base, deltaG: what.grams, sku: null, quantity: 0, confidence: 0, misplaced: true };
  return {
    ...base,
    deltaG: what.units * unitWeight[what.sku]!,
    sku: what.sku,
    quantity: what.units,
    confidence: what.confidence ?? 0.97,
    misplaced: false,
  };
}

export interface InventoryRig {
  dir: string;
  file: string;
  ledger: Ledger;
  bus: EventBus;
  service: InventoryService;
  /** Every alert event seen on the bus, in order. */
  busAlerts: Array<{ event: keyof StoreEvents; alert: StoreAlert }>;
  settings: InventorySettings;
  close(): void;
}

/** A service on a real SQLite file in a temp folder, with the fixture model applied. */
export function inventoryRig(overrides: Partial<InventorySettings> = {}, options: { applyModel?: boolean } = {}): InventoryRig {
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-inventory-'));
  const file = join(dir, 'ledger.db');
  let t = 1_000;
  const ledger = Ledger.open(file, { projections: [inventoryProjection], synchronous: 'normal', now: () => (t += 1) });
  const bus = new EventBus((name, error) => {
    throw new Error(`bus handler for ${name} failed: ${String(error)}`);
  });
  const settings = inventorySettingsSchema.parse(overrides);
  const service = new InventoryService({ ledger, bus, storeId: 'store-test', settings, timeZone: 'Europe/Berlin', now: () => 1_736_935_300_000 });
  const busAlerts: InventoryRig['busAlerts'] = [];
  for (const event of ['alert.raised', 'alert.acknowledged', 'alert.cleared', 'alert.assigned'] as const) bus.on(event, (alert) => busAlerts.push({ event, alert }));
  if (options.applyModel !== false) service.applyModel(storeModelFixture, { kind: 'config' });
  return {
    dir,
    file,
    ledger,
    bus,
    service,
    busAlerts,
    settings,
    close() {
      ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every row of the inventory read model, for replay comparisons. */
export function inventorySnapshot(ledger: Ledger): Record<string, unknown[]> {
  const tables = ['inventory_model', 'inventory_trays', 'inventory_stock', 'inventory_changes', 'inventory_rfid_tags', 'inventory_alerts'];
  return Object.fromEntries(tables.map((table) => [table, ledger.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()]));
}
