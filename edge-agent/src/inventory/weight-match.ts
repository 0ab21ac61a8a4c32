import type { WeightCandidate } from './ledger-events.ts';

export interface WeightMatchSettings {
  /** Scale noise of one settled delta, grams (σ), added to the units' own spread. */
  weightNoiseG: number;
  /** Relative error of a settled delta (σ share of |Δ|), added in quadrature. */
  weightRelativeNoise: number;
  /** A SKU fits when |Δ − n·w| ≤ this many σ. */
  misplacedMaxZ: number;
  /** Most units of one SKU one change may be. */
  misplacedMaxUnits: number;
}

export interface WeighableItem {
  sku: string;
  unitWeightG: number;
  unitWeightSigmaG: number;
  /** At most this many units can be meant (e.g. units known to lie on the tray); default no limit. */
  maxUnits?: number;
}

/**
 * Every item whose weight explains |Δ| as n whole units, best fit first. For n units the
 * spread is σ = √(n·σ_unit² + σ_scale² + (k·Δ)²) (independent units, one scale reading, and a
 * relative error k: the permanent cross-talk share a change may leave on its neighbours when it
 * is too small to show there, docs/weight-pipeline.md step 6); an item fits when |Δ| lies
 * within `misplacedMaxZ` σ of n·w for the nearest n ≥ 1.
 */
export function weightCandidates(absDeltaG: number, items: Iterable<WeighableItem>, settings: WeightMatchSettings): WeightCandidate[] {
  const out: WeightCandidate[] = [];
  for (const item of items) {
    const limit = Math.min(settings.misplacedMaxUnits, item.maxUnits ?? Number.POSITIVE_INFINITY);
    const units = Math.max(1, Math.round(absDeltaG / item.unitWeightG));
    if (units > limit) continue;
    const z = weightZ(absDeltaG, units, item, settings);
    if (z <= settings.misplacedMaxZ) out.push({ sku: item.sku, units, z: Math.round(z * 1000) / 1000 });
  }
  return out.sort((a, b) => a.z - b.z || a.sku.localeCompare(b.sku));
}

/** How many σ |Δ| lies from `units` units of `item` (unit spread, scale noise and relative noise together). */
export function weightZ(absDeltaG: number, units: number, item: Pick<WeighableItem, 'unitWeightG' | 'unitWeightSigmaG'>, settings: WeightMatchSettings): number {
  const sigma = Math.sqrt(units * item.unitWeightSigmaG ** 2 + settings.weightNoiseG ** 2 + (settings.weightRelativeNoise * absDeltaG) ** 2);
  const residual = Math.abs(absDeltaG - units * item.unitWeightG);
  return sigma > 0 ? residual / sigma : residual === 0 ? 0 : Number.POSITIVE_INFINITY;
}

/**
 * The one SKU that explains Δ with the fewest units, or null when none does or several do
 * equally (several: never guess). Fewest units first because a wrong-tray put-back is almost
 * always one unit: 1 × 200 g is the reading of a 200 g change, not 2 × 100 g.
 */
export function uniqueFit(candidates: readonly WeightCandidate[]): WeightCandidate | null {
  if (candidates.length === 0) return null;
  const fewest = Math.min(...candidates.map((c) => c.units));
  const best = candidates.filter((c) => c.units === fewest);
  return best.length === 1 ? best[0]! : null;
}
