import type { WeightPipelineOptions } from './options.ts';

/**
 * Vibration and EMI bursts (research/checkout.md §5.3: Poisson, 0.2–2 s, 10–50 g; AiFi FAQ:
 * "nearby vibrations and electrical noise") and a hand that touches a tray without taking or
 * leaving anything make the tray active and then let it settle where it was. Such a transient
 * is not an event: only a settled level that differs from the one before by more than the
 * noise of the two levels allows counts.
 */

/** σ of a settled Δ: the standard errors of the two means, plus a floor for what they miss. */
export function deltaSigma(sigmaG: number, beforeN: number, afterN: number, options: Pick<WeightPipelineOptions, 'deltaSigmaFloorG'>): number {
  return Math.sqrt(sigmaG * sigmaG * (1 / Math.max(1, beforeN) + 1 / Math.max(1, afterN)) + options.deltaSigmaFloorG ** 2);
}

/** The smallest |Δ| that is an event: eventZ standard errors, and never under minEventG. */
export function eventThresholdG(sigmaDeltaG: number, options: Pick<WeightPipelineOptions, 'eventZ' | 'minEventG'>): number {
  return Math.max(options.minEventG, options.eventZ * sigmaDeltaG);
}

/** True when the tray came back to its level: the activity was a transient, not a change. */
export function returnedToLevel(deltaG: number, sigmaDeltaG: number, options: Pick<WeightPipelineOptions, 'eventZ' | 'minEventG'>): boolean {
  return Math.abs(deltaG) < eventThresholdG(sigmaDeltaG, options);
}
