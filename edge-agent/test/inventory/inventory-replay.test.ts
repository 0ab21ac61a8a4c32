import { afterEach, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/events.ts';
import { InventoryService } from '../../src/inventory/inventory-service.ts';
import { inventoryProjection } from '../../src/inventory/projection.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { inventoryRig, inventorySnapshot, shelfChange, storeModelFixture, type InventoryRig } from './store-fixture.ts';

/** mulberry32: a small seeded PRNG, so the workload is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const facings: Array<[string, string, number]> = [
  ['t1', 'cola-330', 350],
  ['t2', 'chips-150', 160],
  ['t3', 'soap-tag', 95],
  ['t4', 'shampoo-400', 420],
];

/** Picks, put-backs, restocks, misplaced units, unknown and low-confidence changes, RFID, acks, a model swap. */
function workload(rig: InventoryRig, seed: number, steps: number): void {
  const random = prng(seed);
  const pickOf = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
  for (let i = 0; i < steps; i++) {
    const [trayId, sku, grams] = pickOf(facings);
    const r = random();
    if (r < 0.4) rig.service.recordShelfChange(shelfChange(`w${seed}-${i}`, trayId, { sku, units: -1 - Math.floor(random() * 2) }));
    else if (r < 0.55) rig.service.recordShelfChange(shelfChange(`w${seed}-${i}`, trayId, { sku, units: 1 }));
    else if (r < 0.65) {
      rig.service.restock({ trayId, sku, quantity: 3 + Math.floor(random() * 5), actor: 'staff', restockId: `r${seed}-${i}` });
      rig.service.recordShelfChange(shelfChange(`w${seed}-${i}`, trayId, { sku, units: 3 }));
    } else if (r < 0.72) {
      // a unit of another facing's SKU dropped here, sometimes taken away again
      const [, , otherGrams] = pickOf(facings.filter(([t]) => t !== trayId));
      rig.service.recordShelfChange(shelfChange(`w${seed}-${i}`, trayId, { grams: otherGrams + 0.7 }));
      if (random() < 0.5) rig.service.recordShelfChange(shelfChange(`w${seed}-${i}b`, trayId, { grams: -otherGrams }));
    } else if (r < 0.77) rig.service.recordShelfChange(shelfChange(`w${seed}-${i}`, trayId, { grams: 2 * grams + 61 }));
    else if (r < 0.82) rig.service.recordShelfChange(shelfChange(`w${seed}-${i}`, trayId, { sku, units: -1, confidence: 0.3 }));
    else if (r < 0.9) {
      const serial = String(Math.floor(random() * 20));
      const kind = pickOf(['arrived', 'moved', 'departed', 'exited'] as const);
      const zone = kind === 'exited' ? 'z-exit' : pickOf(['z-care', 'z-drinks']);
      rig.service.recordRfidPresence({ epc: `3034257BF7194E4000${serial.padStart(6, '0')}`, gtin: '04006381333955', serial, kind, zone, at: i });
    } else if (r < 0.95) {
      const open = rig.service.alerts({ state: 'open' });
      if (open.length > 0) rig.service.acknowledgeAlert(pickOf(open).id, 'manager');
    } else {
      rig.service.reconcile({ trayId, actor: 'manager' });
    }
    if (i === Math.floor(steps / 2)) {
      const next = structuredClone(storeModelFixture);
      next.gondolas![0]!.bays[0]!.shelves[0]!.trays[0]!.facings[0]!.minLevel = 5;
      rig.service.applyModel(next, { kind: 'planogram', version: 'mid', actor: 'hq' });
    }
  }
}

describe('inventory replay', () => {
  let rig: InventoryRig;
  afterEach(() => rig?.close());

  it('rebuilds stock, RFID presence and alerts exactly from the log (same file, and a second connection)', () => {
    rig = inventoryRig();
    workload(rig, 7, 400);
    const before = inventorySnapshot(rig.ledger);
    const stockBefore = rig.service.stock();
    // The workload exercised what it should.
    const outcomes = new Set((before.inventory_changes as Array<{ outcome: string }>).map((c) => c.outcome));
    expect([...outcomes].sort()).toEqual(expect.arrayContaining(['low-confidence', 'misplaced-put', 'misplaced-removed', 'pick', 'put-back', 'restock', 'unknown']));
    const alertStates = new Set((before.inventory_alerts as Array<{ state: string }>).map((a) => a.state));
    expect([...alertStates].sort()).toEqual(['acknowledged', 'cleared', 'open']);
    expect(before.inventory_rfid_tags!.length).toBeGreaterThan(0);

    // Damage the read model, then rebuild it from the log.
    rig.ledger.db.exec("UPDATE inventory_stock SET book = book + 5, observed = 0; DELETE FROM inventory_alerts WHERE state = 'open'; DELETE FROM inventory_rfid_tags; DELETE FROM inventory_trays");
    expect(inventorySnapshot(rig.ledger)).not.toEqual(before);
    rig.ledger.replay();
    expect(inventorySnapshot(rig.ledger)).toEqual(before);
    expect(rig.service.stock()).toEqual(stockBefore);

    // A fresh process on the same file: replay gives the same state, and a new service sees the model.
    const second = Ledger.open(rig.file, { projections: [inventoryProjection] });
    try {
      second.replay();
      expect(inventorySnapshot(second)).toEqual(before);
      const service = new InventoryService({ ledger: second, bus: new EventBus(), storeId: 'store-test', settings: rig.settings });
      expect(service.modelHash).toBe(rig.service.modelHash);
      expect(service.stock()).toEqual(stockBefore);
    } finally {
      second.close();
    }
  });

  it('writes each stock change in the same transaction as its event: a failing append leaves neither', () => {
    rig = inventoryRig();
    const before = inventorySnapshot(rig.ledger);
    const head = rig.ledger.head();
    // A change whose payload cannot be serialised (NaN) fails inside the transaction.
    expect(() => rig.service.recordShelfChange({ ...shelfChange('bad', 't1', { sku: 'cola-330', units: -3 }), confidence: Number.NaN })).toThrow();
    expect(() => rig.service.recordShelfChange({ ...shelfChange('bad2', 't1', { sku: 'cola-330', units: -10 }), deltaG: Number.NaN })).toThrow();
    expect(rig.ledger.head()).toEqual(head);
    expect(inventorySnapshot(rig.ledger)).toEqual(before);
  });
});
