import { describe, expect, it } from 'vitest';
import { explainDelta, fitFactor, type SkuWeight } from '../../../src/inventory/weight/quantity.ts';

const options = { misplacedZ: 4, maxUnits: 12, unitPriorDecay: 0.5 };
const cola: SkuWeight = { sku: 'cola-500', unitWeightG: 540, unitWeightSigmaG: 8 };
const chips: SkuWeight = { sku: 'chips-150', unitWeightG: 158, unitWeightSigmaG: 2.4 };
const crisps: SkuWeight = { sku: 'crisps-170', unitWeightG: 170, unitWeightSigmaG: 2.6 };

describe('explainDelta: quantity = Δ / unit weight with a confidence', () => {
  it('a Δ on an integer multiple is that many units, with a confidence near 1', () => {
    const one = explainDelta(-541, 2, [cola], options);
    expect(one.best).toMatchObject({ sku: 'cola-500', quantity: -1 });
    expect(one.confidence).toBeGreaterThan(0.99);
    expect(one.misplaced).toBe(false);
    const four = explainDelta(-2_150, 2, [cola], options);
    expect(four.best).toMatchObject({ quantity: -4 });
    expect(explainDelta(316, 2, [chips], options).best).toMatchObject({ quantity: 2 });
  });

  it('the confidence falls as Δ moves away from the multiple, against σ_n = √(n·σ_unit² + σ_Δ²)', () => {
    const sigma1 = Math.sqrt(8 ** 2 + 2 ** 2);
    const at = (k: number) => explainDelta(-540 - k * sigma1, 2, [cola], options).confidence;
    expect(at(0)).toBeGreaterThan(at(2));
    expect(at(2)).toBeGreaterThan(at(3.5));
    expect(at(3.5)).toBeGreaterThan(0.5);
    // The same 20 g off is a better fit for 4 units (the units' spread adds up) than for 1.
    expect(explainDelta(-4 * 540 - 20, 2, [cola], options).confidence).toBeGreaterThan(explainDelta(-540 - 20, 2, [cola], options).confidence);
  });

  it('fitFactor is ½ at misplacedZ and ≈ 1 well inside it', () => {
    expect(fitFactor(4, 4)).toBeCloseTo(0.5, 12);
    expect(fitFactor(0, 4)).toBeGreaterThan(0.999);
    expect(fitFactor(6, 4)).toBeLessThan(1e-4);
  });

  it('lists every SKU of the tray as an alternative, best first, and tells close weights apart by the fit', () => {
    const estimate = explainDelta(-171, 2, [chips, crisps], options);
    expect(estimate.best).toMatchObject({ sku: 'crisps-170', quantity: -1 });
    expect(estimate.alternatives.map((a) => a.sku)).toContain('chips-150');
    const other = estimate.alternatives.find((a) => a.sku === 'chips-150')!;
    expect(other.confidence).toBeLessThan(estimate.confidence);
  });

  it('a Δ both SKUs explain splits the confidence; fewer units are more likely (5 × 175 g over 6 × 146 g)', () => {
    const a: SkuWeight = { sku: 'a', unitWeightG: 175, unitWeightSigmaG: 2.6 };
    const b: SkuWeight = { sku: 'b', unitWeightG: 146, unitWeightSigmaG: 2.2 };
    const estimate = explainDelta(-876, 2.5, [a, b], options);
    expect(estimate.best).toMatchObject({ sku: 'a', quantity: -5 });
    expect(estimate.alternatives[0]).toMatchObject({ sku: 'b', quantity: -6 });
    expect(estimate.confidence).toBeLessThan(0.9);
  });

  it('no SKU of the tray explains Δ: misplaced, no best, every SKU still listed', () => {
    const estimate = explainDelta(270, 2, [cola], options);
    expect(estimate.misplaced).toBe(true);
    expect(estimate.best).toBeNull();
    expect(estimate.confidence).toBeGreaterThan(0.99);
    expect(estimate.alternatives.map((a) => a.sku)).toEqual(['cola-500']);
    // More units than one handling takes is no explanation either.
    expect(explainDelta(13 * 158, 2, [chips], options).misplaced).toBe(true);
  });

  it('with a neighbour share range: all of Δ inside it is cross-talk; otherwise the share is taken off first', () => {
    expect(explainDelta(-18, 2, [chips], options, { lo: -25, hi: 0 })).toMatchObject({ crossTalkOnly: true, best: null, shareG: -18 });
    const withShare = explainDelta(-158 - 15, 2, [chips], options, { lo: -25, hi: 0 });
    expect(withShare.best).toMatchObject({ sku: 'chips-150', quantity: -1 });
    expect(withShare.shareG).toBeCloseTo(-15, 6);
    expect(explainDelta(-158 - 15, 2, [chips], options).misplaced).toBe(true);
  });
});
