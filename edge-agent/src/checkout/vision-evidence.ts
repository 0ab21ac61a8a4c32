import type { Person, Point3 } from './track-book.ts';

/**
 * What the checkout asks of the shelf cameras, and where it looks. Weight cannot tell apart
 * products that weigh the same (research/checkout.md §2: 5.9 % of AiFi's product pairs weigh
 * within 10 g); the recogniser can, from the crop around the hand as it leaves a tray with a
 * unit or comes to it with one (docs/vision-agent.md). The checkout only needs, for a few
 * candidate SKUs, how likely each is to be the unit in that hand.
 */

/** One look at a hand: the camera's verdict over any set of candidate SKUs. */
export interface VisionReading {
  cameraId: string;
  frameAtMs: number;
  modelVersion: string;
  /** Probability of each of `skus` (summing to 1 over them); SKUs the gallery lacks get none. */
  probabilities(skus: readonly string[]): Map<string, number>;
  /** How much the crops look like each SKU of the gallery (cosine, combined over the crops); what `probabilities` is a softmax of. */
  scores?: ReadonlyArray<{ sku: string; score: number }>;
}

/** The agent's vision service as the checkout sees it; `undefined` when it cannot say (no frame, no model, no gallery). */
export interface VisionEvidenceSource {
  /** Whether asking is worth it now (a model and a gallery are loaded); when not, changes are decided at once by weight. */
  available(): boolean;
  identify(query: { trayId: string; atMs: number; point: Point3 }): Promise<VisionReading | undefined>;
}

/** What the checkout concluded from vision for one shelf change; recorded on the cart lines it decided. */
export interface VisionVerdict {
  /** The candidates vision was asked about, with the fused probability of each (prior × vision). */
  posterior: Record<string, number>;
  sku: string;
  cameraId: string;
  frames: number;
  modelVersion: string;
  /**
   * A unit taken with two visits' hands at the tray, the taker told by sight: the probability
   * of each visit, from where their hands were and how much the crops around each hand, on its
   * way out, look like the SKU (`takerBySight`).
   */
  takers?: Record<string, number>;
}

/** A hand is at a tray within this distance of its front-edge point (tracker σ 5 cm per axis). */
const AT_TRAY_M = 0.12;
/** Crops are cut where the hand is this far from the tray: out of the shelf, not yet down by the body. */
const LOOK_FROM_M = 0.08;
const LOOK_TO_M = 0.5;
/** A hand moves at most this far between two tracker frames (0.1 s; tracker σ 5 cm per axis): a hand farther from where it was is another. */
const MAX_HAND_STEP_M = 0.35;
/** Frames in a row without the followed hand (a hand dropout, the other hand only) before the look gives up. */
const MAX_SKIPPED_FRAMES = 2;
/** At most this many looks per change; their verdicts are combined (geometric mean). */
export const MAX_LOOKS = 3;
/** Looks are searched this far around the change's window. */
const LOOK_LEAD_MS = 1_500;
const LOOK_LAG_MS = 1_500;

/**
 * The tracker samples at which to look at the hand that did the change: for a unit taken,
 * the first samples after the hand was last at the tray (it is on its way out, holding the
 * unit); for a unit put down, the last samples before the hand first reached the tray (on its
 * way in, holding it). The hand is the one that was at the tray; samples where it is still on
 * the tray (the unit among the others) or already back by the body are not used.
 */
export function handLooks(person: Person, tray: Point3, window: { startAt: number; settledAt: number }, taking: boolean, lagMs = LOOK_LAG_MS): Array<{ atMs: number; point: Point3 }> {
  const rows: Array<{ at: number; hands: readonly Point3[]; d: number[] }> = [];
  for (const s of person.samples) {
    if (s.at < window.startAt - LOOK_LEAD_MS || s.at > window.settledAt + lagMs) continue;
    rows.push({ at: s.at, hands: s.hands, d: s.hands.map((h) => Math.hypot(h.x - tray.x, h.y - tray.y, h.z - tray.z)) });
  }
  const atTray = rows.map((r, i) => ({ i, hand: r.d.indexOf(Math.min(...r.d)), d: Math.min(...r.d) })).filter((r) => r.d <= AT_TRAY_M);
  if (atTray.length === 0) return [];
  const anchor = taking ? atTray.at(-1)! : atTray[0]!;
  const looks: Array<{ atMs: number; point: Point3 }> = [];
  const step = taking ? 1 : -1;
  // The hand is followed by where it was a frame before (the tracker's hands carry no identity, and one may be missing
  // from a frame): a frame without a hand that near is skipped, not taken for the end of the reach.
  let last = rows[anchor.i]!.hands[anchor.hand]!;
  let skipped = 0;
  for (let i = anchor.i + step; i >= 0 && i < rows.length && looks.length < MAX_LOOKS && skipped <= MAX_SKIPPED_FRAMES; i += step) {
    const row = rows[i]!;
    const near = row.hands.map((h, k) => ({ h, k, jump: Math.hypot(h.x - last.x, h.y - last.y, h.z - last.z) })).sort((a, b) => a.jump - b.jump)[0];
    if (near === undefined || near.jump > MAX_HAND_STEP_M * (skipped + 1)) {
      skipped++;
      continue;
    }
    skipped = 0;
    last = near.h;
    const d = row.d[near.k]!;
    if (d > LOOK_TO_M) break;
    if (d >= LOOK_FROM_M) looks.push({ atMs: row.at, point: near.h });
  }
  return looks;
}

/** Is a hand of the person at the tray in their latest sample (a unit taken, the hand not out of the shelf yet)? */
export function handStillAt(person: Person, tray: Point3): boolean {
  const last = person.samples.at(-1);
  return last !== undefined && last.hands.some((h) => Math.hypot(h.x - tray.x, h.y - tray.y, h.z - tray.z) <= AT_TRAY_M);
}

/**
 * Fuses priors over candidate SKUs (weight and planogram: how many of each could be the unit)
 * with the readings' probabilities: posterior ∝ prior × (geometric mean of the readings). Returns
 * undefined when no reading covers the candidates.
 */
export function fuseVision(priors: ReadonlyMap<string, number>, readings: readonly VisionReading[]): { posterior: Map<string, number>; best: string; p: number; looks: number } | undefined {
  const skus = [...priors.keys()].filter((sku) => (priors.get(sku) ?? 0) > 0);
  if (skus.length === 0 || readings.length === 0) return undefined;
  const logs = new Map(skus.map((sku) => [sku, 0]));
  let used = 0;
  for (const reading of readings) {
    const p = reading.probabilities(skus);
    if (skus.some((sku) => p.get(sku) === undefined)) continue;
    used++;
    for (const sku of skus) logs.set(sku, logs.get(sku)! + Math.log(Math.max(p.get(sku)!, 1e-6)));
  }
  if (used === 0) return undefined;
  const weights = skus.map((sku) => priors.get(sku)! * Math.exp(logs.get(sku)! / used));
  const total = weights.reduce((a, b) => a + b, 0);
  const posterior = new Map(skus.map((sku, i) => [sku, weights[i]! / total]));
  const [best, p] = [...posterior].sort((a, b) => b[1] - a[1])[0]!;
  return { posterior, best, p, looks: used };
}

/**
 * How strongly the camera sees the unit in one hand rather than the other: the odds of visit `a`
 * over visit `b` from where their hands were (the attribution scores' ratio) times
 * exp(temperature × (cos_a − cos_b)), where cos is how much the crops around that visit's hand,
 * on its way out of the shelf, look like the SKU taken. An empty hand's crops show the shelf
 * behind it and look less like the unit than the crops of the hand that holds it (a rendered,
 * stocked bay: the holder's higher in all 24 frames, by 0.34 on average beside an empty hand, by
 * 0.06 beside one holding another product 12 cm away — vision-service.test.ts). Undefined
 * without a score for both.
 */
export function takerBySight(
  sku: string,
  a: { score: number; readings: readonly VisionReading[] },
  b: { score: number; readings: readonly VisionReading[] },
  temperature = TAKER_SIGHT_TEMPERATURE,
): { pA: number; cosA: number; cosB: number } | undefined {
  const cos = (readings: readonly VisionReading[]): number | undefined => {
    const scores = readings.flatMap((r) => r.scores?.filter((s) => s.sku === sku).map((s) => s.score) ?? []);
    return scores.length === 0 ? undefined : scores.reduce((x, y) => x + y, 0) / scores.length;
  };
  const cosA = cos(a.readings);
  const cosB = cos(b.readings);
  if (cosA === undefined || cosB === undefined || !(a.score > 0) || !(b.score > 0)) return undefined;
  const odds = (a.score / b.score) * Math.exp(temperature * (cosA - cosB));
  return { pA: odds / (1 + odds), cosA, cosB };
}

/**
 * How much a difference in cosine between the two hands counts (`takerBySight`): a tenth makes one
 * e (2.7) times as likely — half the recogniser's own softmax temperature, because the two hands'
 * crops are not independent (both show the same shelf) and hands 10 cm apart share part of a crop.
 */
export const TAKER_SIGHT_TEMPERATURE = 10;
