import { describe, expect, it } from 'vitest';
import { stockAlertTransitions, type StockAlertKind } from '../../src/inventory/alert-rules.ts';
import { uniqueFit, weightCandidates } from '../../src/inventory/weight-match.ts';
import { accuracyOf } from '../../src/inventory/stock-view.ts';

const settings = { weightNoiseG: 2, weightRelativeNoise: 0, misplacedMaxZ: 3, misplacedMaxUnits: 3 };
const items = [
  { sku: 'cola', unitWeightG: 350, unitWeightSigmaG: 2 },
  { sku: 'chips', unitWeightG: 160, unitWeightSigmaG: 3 },
  { sku: 'soap', unitWeightG: 95, unitWeightSigmaG: 1.5 },
];

describe('weightCandidates', () => {
  it('fits whole units within maxZ σ, σ = √(n·σ_unit² + σ_scale²)', () => {
    expect(weightCandidates(350, items, settings)).toEqual([{ sku: 'cola', units: 1, z: 0 }]);
    // 2 cola = 700 g; σ = √(2·4 + 4) = 3.46 g → 710 g is 2.89 σ off (fits), 711 g is 3.18 σ (does not).
    expect(weightCandidates(710, items, settings)).toEqual([{ sku: 'cola', units: 2, z: 2.887 }]);
    expect(weightCandidates(711, items, settings)).toEqual([]);
  });

  it('never takes a change for more units than allowed (per setting, or per item)', () => {
    expect(weightCandidates(4 * 95, items, settings)).toEqual([]); // 4 soaps > misplacedMaxUnits 3
    expect(weightCandidates(3 * 95, items, settings)).toEqual([{ sku: 'soap', units: 3, z: 0 }]);
    expect(weightCandidates(2 * 95, [{ ...items[2]!, maxUnits: 1 }], settings)).toEqual([]);
  });

  it('lists every fit best first; uniqueFit takes the fewest units and refuses to choose between two SKUs', () => {
    const wide = { ...settings, weightNoiseG: 25 };
    const both = weightCandidates(385, items, wide);
    // cola: 1 unit at 1.40 σ; chips: 2 units (320 g) at 2.56 σ; soap would be 4 units, over the limit.
    expect(both.map((c) => [c.sku, c.units])).toEqual([['cola', 1], ['chips', 2]]);
    // One cola explains it with fewer units than two bags of chips: a put-back is one unit.
    expect(uniqueFit(both)).toMatchObject({ sku: 'cola', units: 1 });
    // Two SKUs that both fit as one unit: no guess.
    expect(uniqueFit([{ sku: 'a', units: 1, z: 0.5 }, { sku: 'b', units: 1, z: 1.5 }, { sku: 'c', units: 2, z: 0.1 }])).toBeNull();
    expect(uniqueFit(weightCandidates(160, items, settings))).toEqual({ sku: 'chips', units: 1, z: 0 });
    expect(uniqueFit([])).toBeNull();
  });
});

describe('stockAlertTransitions', () => {
  const facing = (observed: number) => ({ facing: true, observed, minLevel: 3 });
  const active = (...kinds: StockAlertKind[]) => new Set(kinds);

  it('raises low at ≤ minLevel and out at ≤ 0, once', () => {
    expect(stockAlertTransitions(facing(4), active(), 2)).toEqual({ raise: [], clear: [] });
    expect(stockAlertTransitions(facing(3), active(), 2)).toEqual({ raise: ['low-stock'], clear: [] });
    expect(stockAlertTransitions(facing(0), active(), 2)).toEqual({ raise: ['low-stock', 'out-of-stock'], clear: [] });
    expect(stockAlertTransitions(facing(0), active('low-stock', 'out-of-stock'), 2)).toEqual({ raise: [], clear: [] });
  });

  it('clears only above minLevel + hysteresis', () => {
    expect(stockAlertTransitions(facing(5), active('low-stock', 'out-of-stock'), 2)).toEqual({ raise: [], clear: [] });
    expect(stockAlertTransitions(facing(6), active('low-stock', 'out-of-stock'), 2)).toEqual({ raise: [], clear: ['low-stock', 'out-of-stock'] });
    expect(stockAlertTransitions(facing(4), active('low-stock'), 0)).toEqual({ raise: [], clear: ['low-stock'] });
  });

  it('misplaced rows raise misplaced-item while units lie there; gone rows clear everything', () => {
    const misplaced = (observed: number) => ({ facing: false, observed, minLevel: null });
    expect(stockAlertTransitions(misplaced(1), active(), 2)).toEqual({ raise: ['misplaced-item'], clear: [] });
    expect(stockAlertTransitions(misplaced(2), active('misplaced-item'), 2)).toEqual({ raise: [], clear: [] });
    expect(stockAlertTransitions(misplaced(0), active('misplaced-item'), 2)).toEqual({ raise: [], clear: ['misplaced-item'] });
    expect(stockAlertTransitions(null, active('low-stock', 'misplaced-item'), 2)).toEqual({ raise: [], clear: ['low-stock', 'misplaced-item'] });
    expect(stockAlertTransitions(facing(10), active('misplaced-item'), 2)).toEqual({ raise: [], clear: ['misplaced-item'] });
  });
});

describe('accuracyOf', () => {
  it('gives the share of matching SKUs, the unit-weighted share, units off, and the RFID share', () => {
    const a = accuracyOf([
      { book: 10, observed: 10, rfid: null },
      { book: 4, observed: 6, rfid: null },
      { book: 5, observed: 5, rfid: 5 },
      { book: 2, observed: 2, rfid: 1 },
    ]);
    expect(a).toEqual({
      skus: 4,
      matching: 3,
      skuAccuracy: 0.75,
      unitAccuracy: 17 / 23,
      unitsOff: 2,
      rfid: { skus: 2, matching: 1, accuracy: 0.5 },
    });
    expect(accuracyOf([])).toMatchObject({ skuAccuracy: null, unitAccuracy: null, rfid: { accuracy: null } });
  });
});
