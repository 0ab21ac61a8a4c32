/** A SKU of a tray, as the quantity estimate needs it (catalog: unitWeightG, unitWeightSigmaG). */
export interface SkuWeight {
  sku: string;
  unitWeightG: number;
  unitWeightSigmaG: number;
  /** Most units one change may add for this SKU, when more than QuantityOptions.maxUnits (a declared restock). */
  maxUnitsAdded?: number;
}

/** One way to explain a weight change: `quantity` signed units of `sku`. */
export interface Explanation {
  sku: string;
  /** Signed units: negative = taken, positive = put back. */
  quantity: number;
  /** P(this integer | this SKU) × how well Δ fits it (0…1). */
  confidence: number;
  /** (Δ − quantity·unit) / σ_n: the residual in standard deviations. */
  z: number;
}

export interface QuantityEstimate {
  /** The best explanation, or null when no SKU of the tray explains Δ (or Δ is only cross-talk). */
  best: Explanation | null;
  /** The other explanations, best first: other SKUs, and other integers of a SKU that are not negligible. */
  alternatives: Explanation[];
  /** No SKU of the tray explains Δ within misplacedZ. */
  misplaced: boolean;
  /** For a misplaced change, 1 − the best fit (how sure it is that nothing on the tray explains it); else the best confidence. */
  confidence: number;
  /** Grams of Δ taken to be a neighbour's cross-talk share (0 without a share range). */
  shareG: number;
  /** Δ is all cross-talk: within the share range, with no unit of the tray's own. */
  crossTalkOnly: boolean;
}

/**
 * Cross-talk shares in Δ (cross-talk.ts): grams of simultaneous neighbour changes that may have
 * stayed on this tray — the share x in Δ = n·unit + x + lost lies in [lo, hi] (which includes
 * 0) — and the share of its own change the tray may have left on its neighbours, too small to
 * show there: lost = −p·n·unit with 0 ≤ p ≤ lostShare, and |lost| ≤ lostCapG.
 */
export interface ShareRange {
  lo: number;
  hi: number;
  lostShare?: number;
  /** …and at most this many grams (a larger share would have shown on the neighbours). */
  lostCapG?: number;
}

export interface QuantityOptions {
  /** |z| at which the fit falls to ½; beyond it a SKU does not explain Δ. */
  misplacedZ: number;
  /** Most units one change may be. */
  maxUnits: number;
  /** Prior weight of each extra unit in one change (n units: decay^(n−1)). */
  unitPriorDecay: number;
}

/** Alternatives of one SKU with a smaller share than this are left out. */
const MIN_ALTERNATIVE_CONFIDENCE = 0.01;

/**
 * Quantity = Δ / unit weight, with a confidence (research/checkout.md §4, Team 5: "count =
 * round(Δw / unit weight), confidence from how close to an integer"). For each SKU of the tray
 * and each integer n near Δ/w, the residual is measured against
 *
 *   σ_n = √(|n|·σ_unit² + σ_Δ²)
 *
 * (n units spread by √n·σ_unit — the per-SKU weight spread of §5.3 — plus the noise of the two
 * settled means). The integers are weighed by their Gaussian likelihood (their posterior under
 * a flat prior), and the best one's share is scaled by a fit factor that is ≈1 within a few σ
 * and ½ at misplacedZ:
 *
 *   fit(z) = 1 / (1 + exp((z² − misplacedZ²) / 2)).
 *
 * When no SKU of the tray fits (every |z| > misplacedZ, or more than maxUnits would be needed),
 * the change is misplaced: something that does not belong on this tray was put there (or taken
 * from it).
 */
export function explainDelta(
  deltaG: number,
  sigmaDeltaG: number,
  skus: readonly SkuWeight[],
  options: QuantityOptions,
  share?: ShareRange,
): QuantityEstimate {
  if (share !== undefined && share.hi > share.lo) {
    // Nothing of the tray's own: Δ is only the neighbour's share.
    const rest = deltaG - clamp(deltaG, share.lo, share.hi);
    if (fitFactor(rest / sigmaDeltaG, options.misplacedZ) >= 0.5) {
      return { best: null, alternatives: [], misplaced: false, confidence: 1, shareG: deltaG - rest, crossTalkOnly: true };
    }
  }
  // One posterior over every (SKU, n) of the tray: Gaussian likelihood × a prior that makes each
  // extra unit in one handling less likely (so 5 × 175 g beats 6 × 147 g when both fit).
  const candidates = skus.flatMap((item) => integerCandidates(deltaG, item, sigmaDeltaG, options.maxUnits, share).map((c) => ({ item, ...c })));
  let total = 0;
  for (const c of candidates) total += c.likelihood * options.unitPriorDecay ** (Math.abs(c.n) - 1);
  const all: Array<Explanation & { shareG: number }> = [];
  let bestFit = 0;
  const listed = new Set<string>();
  const ranked = candidates
    .map((c) => ({ c, posterior: total > 0 ? (c.likelihood * options.unitPriorDecay ** (Math.abs(c.n) - 1)) / total : 0 }))
    .sort((a, b) => b.posterior - a.posterior);
  for (const { c, posterior } of ranked) {
    const fit = fitFactor(c.z, options.misplacedZ);
    bestFit = Math.max(bestFit, fit);
    const confidence = posterior * fit;
    // Every SKU of the tray is listed once at least; other integers only when they are not negligible.
    if (!listed.has(c.item.sku) || confidence >= MIN_ALTERNATIVE_CONFIDENCE) {
      all.push({ sku: c.item.sku, quantity: c.n, confidence, z: c.z, shareG: c.shareG });
      listed.add(c.item.sku);
    }
  }
  all.sort((a, b) => b.confidence - a.confidence || Math.abs(a.z) - Math.abs(b.z));
  const explanations = all.map(({ shareG: _, ...e }) => e);
  const misplaced = bestFit < 0.5;
  if (misplaced) return { best: null, alternatives: explanations, misplaced, confidence: 1 - bestFit, shareG: 0, crossTalkOnly: false };
  const [best, ...alternatives] = explanations;
  return { best: best!, alternatives, misplaced, confidence: best!.confidence, shareG: all[0]!.shareG, crossTalkOnly: false };
}

/** The fit factor: 1/(1 + e^((z² − z₀²)/2)); ½ at |z| = z₀. */
export function fitFactor(z: number, z0: number): number {
  const exponent = (z * z - z0 * z0) / 2;
  return exponent > 50 ? 0 : 1 / (1 + Math.exp(exponent));
}

interface Candidate {
  n: number;
  z: number;
  likelihood: number;
  shareG: number;
}

/**
 * The integers next to Δ/w (never 0, at most maxUnits), the most likely first. With a share
 * range, the residual left after the best share in the range is what counts.
 */
function integerCandidates(deltaG: number, item: SkuWeight, sigmaDeltaG: number, maxUnits: number, share: ShareRange | undefined): Candidate[] {
  const w = item.unitWeightG;
  const lo = share?.lo ?? 0;
  const hi = share?.hi ?? 0;
  const lostShare = share?.lostShare ?? 0;
  const lostCap = share?.lostCapG ?? Number.POSITIVE_INFINITY;
  const reach = Math.min(lostShare * Math.abs(deltaG), lostCap) + 1;
  const first = Math.max(-maxUnits, Math.round((deltaG - hi - reach) / w) - 1);
  const most = Math.max(maxUnits, item.maxUnitsAdded ?? 0);
  const last = Math.min(most, Math.round((deltaG - lo + reach) / w) + 1);
  const out: Candidate[] = [];
  for (let n = first; n <= last && n - first <= 2 * most + 2; n++) {
    if (n === 0) continue;
    const sigma = Math.sqrt(Math.abs(n) * item.unitWeightSigmaG ** 2 + sigmaDeltaG ** 2);
    const residual = deltaG - n * w;
    const lost = -Math.sign(n) * Math.min(lostShare * Math.abs(n * w), lostCap);
    const explained = clamp(residual, lo + Math.min(0, lost), hi + Math.max(0, lost));
    // What neighbours left here is given back to them; what this tray left there stays unknown.
    const shareG = clamp(explained, lo, hi);
    const z = (residual - explained) / sigma;
    out.push({ n, z, likelihood: Math.exp(-(z * z) / 2) / sigma, shareG });
  }
  return out.sort((a, b) => b.likelihood - a.likelihood);
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
