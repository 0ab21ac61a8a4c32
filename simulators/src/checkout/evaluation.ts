import type { CheckoutCase, CheckoutTruth, TrueShelfAction } from './truth.ts';

/**
 * Checkout evaluation per research/checkout.md §5.1 (metrics 1, 2, 3, 5, 6 and 7): the agent's
 * receipts against the simulator's ground truth, in the report shape of ARCHITECTURE.md
 * "Scenario file and report".
 *
 * Conventions used throughout:
 * - **Times.** Truth times are simulated ms from the scenario start; every time in the outcome
 *   is device ms = simulated ms + `options.epochMs`.
 * - **Visits** are `truth.visits`, keyed by token. A receipt is linked to a visit by the payment
 *   token. The first receipt of a token counts; any later one is a duplicate (counted, ignored).
 *   A receipt whose token is no visit is counted in `unknownTokens`; its units are false
 *   positives and its money is overcharge (someone is charged for it), but it is not a visit.
 * - **Charged cart** of a visit: its receipt's lines summed per SKU, keeping SKUs whose sum is
 *   > 0; empty when the visit has no receipt. **Truth cart**: `truth.carts.get(token)`.
 * - **Rates** are rounded to 4 decimals and money (major units, minor / 100) to 2 decimals.
 *   Precision, recall and similar ratios are 1 when their denominator is 0; F1 is 0 when
 *   precision + recall is 0.
 */

/** What the agent did, as the runner collected it. */
export interface CheckoutOutcome {
  /** One per receipt the agent issued (or holds in review), linked to the visit by the payment token the agent handed to the payment service. */
  receipts: Array<{
    token: string;
    lines: Array<{ sku: string; quantity: number }>;
    totalMinor: number;
    /** Device ms the receipt was issued; null while it is held (e.g. in review). */
    issuedAt: number | null;
    reviewed: boolean;
    /** The visit's lowest cart-line confidence before any review (for the threshold trade-off); 1 when no lines. */
    minConfidence: number;
    /** What the agent would have charged without review (its best guess); defaults to `lines`. */
    unreviewedLines?: Array<{ sku: string; quantity: number }>;
  }>;
  /** Cart additions as the agent made them (device time), for pick→cart latency. */
  cartEvents: Array<{ token: string; sku: string; quantity: number; addedAt: number }>;
}

export type CrowdingBucket = '0' | '1' | '2' | '3+';

/** Nearest-rank percentiles of the matched samples (ms); null when there is no sample. */
export interface LatencyStats {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  n: number;
  /** Samples per LATENCY_BIN_MS bin (bin k holds [k, k + 1) × bin; the last bin, LATENCY_BINS − 1, everything from there on and below 0 the first): several runs' percentiles can be pooled from these. */
  histogram: number[];
}

/** Width of a latency histogram bin. */
export const LATENCY_BIN_MS = 100;
/** Bins at most (the last one open-ended: ≥ 60 s). */
export const LATENCY_BINS = 601;

export interface CaseScore {
  /** Truth units of the case: surviving tagged pick units + tagged put-back / misplace units. */
  units: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface ReviewTradeOffRow {
  threshold: number;
  /** Visits whose receipt has `minConfidence < threshold` / visits. */
  reviewRate: number;
  /** Non-exact visits among those not reviewed at this threshold, judged on `unreviewedLines ?? lines`. */
  unreviewedErrorRate: number;
}

export interface VisitError {
  token: string;
  missing: boolean;
  reviewed: boolean;
  truth: Array<{ sku: string; quantity: number }>;
  charged: Array<{ sku: string; quantity: number }>;
}

export interface CheckoutReport {
  visits: number;
  receipts: {
    /** Visits whose charged cart equals the truth cart / visits. */
    exactMatchRate: number;
    /** Σ over visits (and unknown tokens) of over- / under-charged units × list price, major units. */
    overcharge: number;
    undercharge: number;
    /** Visits with any over- / under-charged unit (a visit can be both). */
    overchargedVisits: number;
    underchargedVisits: number;
    /** Visits without a receipt (exact anyway when their truth cart is empty). */
    missing: number;
    /** Visits with a receipt whose charged cart differs from the truth cart. */
    wrong: number;
    /** Receipts after the first for the same token (ignored). */
    duplicates: number;
    /** Receipts whose token is no visit. */
    unknownTokens: number;
    /** Counted receipts whose `totalMinor` differs from Σ lines × list price. */
    totalMismatches: number;
  };
  items: { precision: number; recall: number; f1: number; tp: number; fp: number; fn: number };
  attribution: {
    /** TP / (TP + misattributed) units per crowding bucket; null when that is 0 / 0. */
    byCrowding: Record<CrowdingBucket, number | null>;
    /** Surviving true pick units per bucket. */
    units: Record<CrowdingBucket, number>;
  };
  review: { rate: number; unreviewedErrorRate: number; reviewed: number; tradeOff: ReviewTradeOffRow[] };
  latency: { pickToCartMs: LatencyStats; exitToReceiptMs: LatencyStats };
  cases: Record<CheckoutCase, CaseScore>;
  /** Every non-exact visit, in visit order, with both carts (what to look at when exact-match falls short). */
  errors: VisitError[];
  /** SKUs on a receipt or truth cart without a catalog price (priced 0). */
  unpricedSkus: string[];
}

export interface CheckoutEvaluationOptions {
  epochMs: number;
  catalog: ReadonlyArray<{ sku: string; priceMinor: number }>;
}

/** Every case tag (the Record makes the compiler flag a tag added to CheckoutCase but not here). */
const CASE_TAGS: Record<CheckoutCase, true> = {
  single: true,
  'put-back': true,
  'wrong-tray': true,
  'same-weight-swap': true,
  'multi-unit': true,
  'long-hold': true,
  'same-bay': true,
  'same-tray-same-time': true,
  'hand-off': true,
  'four-close': true,
  group: true,
  crowded: true,
};
export const CHECKOUT_CASES = Object.keys(CASE_TAGS) as CheckoutCase[];

/**
 * Thresholds the review trade-off is worked out at. 0 is a store without a manager: nothing is
 * reviewed and every visit is judged on the checkout's own best guess (what the machine alone gets
 * right — the figure to compare with and without cameras, since a manager's answers are right).
 */
export const REVIEW_THRESHOLDS: readonly number[] = [0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];

const BUCKETS: readonly CrowdingBucket[] = ['0', '1', '2', '3+'];

/** Slack before the hand reaches the tray within which a cart addition may match the pick. */
const CART_EARLY_SLACK_MS = 1_000;

/** Per (visit or unknown token, SKU) comparison. */
interface Cell {
  token: string;
  sku: string;
  truth: number;
  charged: number;
  tp: number;
  fp: number;
  fn: number;
  /** Surviving true pick units, one entry per unit, in time order (at most `truth`). */
  survivors: TrueShelfAction[];
  /** Put-back / misplace units, one entry per unit, in time order. */
  removals: TrueShelfAction[];
  /** FP units explained by a put-back / misplace still charged: min(fp, removals). */
  removalFp: number;
  /** FP units not so explained (wrong visit, overcount, phantom). */
  otherFp: number;
}

/**
 * Compares the agent's receipts and cart additions with the ground truth.
 *
 * - **exactMatchRate**: visits whose charged cart {(SKU, qty > 0)} equals the truth cart / visits.
 * - **Money**: per visit and SKU, over = max(0, charged − truth) × list price, under =
 *   max(0, truth − charged) × list price (catalog `priceMinor`, reported / 100).
 * - **Items** (AiFi/CMU convention, per unit, SKU and visit both right): per (visit, SKU)
 *   TP = min(charged, truth), FP = charged − TP, FN = truth − TP.
 * - **Surviving picks**: per (visit, SKU), actions in `endAt` order (as `cartsFromActions`);
 *   a put-back or misplace cancels the latest picked units first; survivors beyond the truth
 *   cart's count are dropped (latest first).
 * - **FP explanation**: per (visit, SKU), FP units are first explained by that cell's put-back /
 *   misplace units (a put-back the agent still charged). The other FP units of SKU s, pooled over
 *   all visits (U_s), are matched with the FN units of s (N_s): M_s = min(U_s, N_s) units went to
 *   a wrong visit. The rest of U_s is overcount or phantom.
 * - **Attribution by crowding** (MPS "association accuracy"): each surviving pick unit of a
 *   cell carries TP/truth and FN/truth of a unit (fair share). Bucket b (the pick's `crowding`:
 *   0, 1, 2, 3+) gets TP_b and the misattributed units M_b = Σ_s M_s × FN_b(s) / N_s, i.e. the
 *   wrong-visit FP units of s apportioned by where the missed units of s came from. Rate =
 *   TP_b / (TP_b + M_b); null when that is 0 / 0 (empty bucket, or its units were charged to
 *   nobody — a miss, not a misattribution). Put-backs still charged and overcounts do not count.
 * - **Cases**, per tag T:
 *   - pick units: surviving units of picks tagged T. Per cell, the TP budget min(charged, truth)
 *     goes to T-tagged units first (in time order): TP_T += min(TP, tagged), FN_T += the rest
 *     of the tagged units;
 *   - removal units: units of put-back / misplace actions tagged T. Per cell the first
 *     (removals − removalFp) units, T-tagged first, were honoured (not charged): TP_T; the rest
 *     were still charged: FP_T (a put-back still charged is a wrong unit on the receipt, so a
 *     charged put-back lowers precision, not recall);
 *   - FP_T also gets the wrong-visit units M_s × (T-tagged FN of s) / N_s, and each cell's
 *     leftover overcount (otherFp × (1 − M_s / U_s)) × (T-tagged survivors / truth).
 *   precision = TP_T / (TP_T + FP_T), recall = TP_T / (TP_T + FN_T). Tags without units score 1.
 * - **Review**: rate = visits whose receipt is `reviewed` / visits; unreviewedErrorRate =
 *   non-exact / visits not reviewed (visits without a receipt count as not reviewed; 0 when
 *   none). Trade-off: at each threshold a visit with a receipt is reviewed when
 *   `minConfidence < threshold`; the others are judged on `unreviewedLines ?? lines`.
 * - **Latency**: pick→cart: each true pick (in `startAt` order, cancelled ones too) takes the
 *   earliest unused cart event with its token (`chargedTo`) and SKU, quantity > 0 and
 *   addedAt ≥ startAt + epochMs − 1000; latency = max(0, addedAt − (endAt + epochMs)).
 *   Exit→receipt: per visit whose receipt is issued (issuedAt not null) and not reviewed,
 *   issuedAt − (exitAt + epochMs) (not clamped). Percentiles are nearest-rank.
 */
export function evaluateCheckout(truth: CheckoutTruth, outcome: CheckoutOutcome, options: CheckoutEvaluationOptions): CheckoutReport {
  const { epochMs } = options;
  const prices = new Map(options.catalog.map((c) => [c.sku, c.priceMinor]));
  const unpriced = new Set<string>();
  const priceOf = (sku: string): number => {
    const price = prices.get(sku);
    if (price === undefined) {
      unpriced.add(sku);
      return 0;
    }
    return price;
  };

  // --- Receipts per token ---------------------------------------------------------------
  const visitTokens = new Set(truth.visits.map((v) => v.token));
  type Receipt = CheckoutOutcome['receipts'][number];
  const receiptOf = new Map<string, Receipt>();
  let duplicates = 0;
  let totalMismatches = 0;
  const unknownTokens: string[] = [];
  for (const receipt of outcome.receipts) {
    if (receiptOf.has(receipt.token)) {
      duplicates++;
      continue;
    }
    receiptOf.set(receipt.token, receipt);
    if (!visitTokens.has(receipt.token)) unknownTokens.push(receipt.token);
    const listed = receipt.lines.reduce((sum, line) => sum + line.quantity * priceOf(line.sku), 0);
    if (listed !== receipt.totalMinor) totalMismatches++;
  }
  const truthCartOf = (token: string): ReadonlyMap<string, number> => truth.carts.get(token) ?? new Map<string, number>();
  const chargedCartOf = (token: string): Map<string, number> => {
    const receipt = receiptOf.get(token);
    return receipt ? cartOf(receipt.lines) : new Map();
  };

  // --- Cells (token, SKU) ---------------------------------------------------------------
  const cells = new Map<string, Cell>();
  const cellOf = (token: string, sku: string): Cell => {
    const k = `${token}\u0000${sku}`;
    let cell = cells.get(k);
    if (!cell) {
      cell = { token, sku, truth: 0, charged: 0, tp: 0, fp: 0, fn: 0, survivors: [], removals: [], removalFp: 0, otherFp: 0 };
      cells.set(k, cell);
    }
    return cell;
  };
  const tokens = [...truth.visits.map((v) => v.token), ...unknownTokens];
  for (const token of tokens) {
    for (const [sku, units] of truthCartOf(token)) if (units > 0) cellOf(token, sku).truth = units;
    for (const [sku, units] of chargedCartOf(token)) cellOf(token, sku).charged = units;
  }
  // Surviving picks: put-backs and misplacements cancel the latest picked units first.
  for (const action of [...truth.actions].sort((a, b) => a.endAt - b.endAt)) {
    if (!visitTokens.has(action.chargedTo)) continue;
    const cell = cellOf(action.chargedTo, action.sku);
    if (action.kind === 'pick') {
      for (let i = 0; i < action.units; i++) cell.survivors.push(action);
    } else {
      cell.survivors.splice(Math.max(0, cell.survivors.length - action.units));
      for (let i = 0; i < action.units; i++) cell.removals.push(action);
    }
  }
  for (const cell of cells.values()) {
    cell.survivors.splice(cell.truth);
    cell.tp = Math.min(cell.charged, cell.truth);
    cell.fp = cell.charged - cell.tp;
    cell.fn = cell.truth - cell.tp;
    cell.removalFp = Math.min(cell.fp, cell.removals.length);
    cell.otherFp = cell.fp - cell.removalFp;
  }

  // Wrong-visit units per SKU: unexplained FP matched with FN of the same SKU.
  const perSku = new Map<string, { unexplainedFp: number; fn: number; misattributed: number }>();
  for (const cell of cells.values()) {
    const s = perSku.get(cell.sku) ?? { unexplainedFp: 0, fn: 0, misattributed: 0 };
    s.unexplainedFp += cell.otherFp;
    s.fn += cell.fn;
    perSku.set(cell.sku, s);
  }
  for (const s of perSku.values()) s.misattributed = Math.min(s.unexplainedFp, s.fn);
  const skuStats = (sku: string) => perSku.get(sku) ?? { unexplainedFp: 0, fn: 0, misattributed: 0 };

  // --- Receipts, money, items -----------------------------------------------------------
  let exact = 0;
  let missing = 0;
  let wrong = 0;
  let overMinor = 0;
  let underMinor = 0;
  let overchargedVisits = 0;
  let underchargedVisits = 0;
  let reviewed = 0;
  let unreviewed = 0;
  let unreviewedErrors = 0;
  const errors: VisitError[] = [];
  for (const visit of truth.visits) {
    const receipt = receiptOf.get(visit.token);
    const truthCart = truthCartOf(visit.token);
    const charged = chargedCartOf(visit.token);
    const isExact = sameCart(truthCart, charged);
    if (isExact) exact++;
    if (!receipt) missing++;
    else if (!isExact) wrong++;
    if (!isExact) {
      errors.push({ token: visit.token, missing: !receipt, reviewed: receipt?.reviewed ?? false, truth: linesOf(truthCart), charged: linesOf(charged) });
    }
    if (receipt?.reviewed) reviewed++;
    else {
      unreviewed++;
      if (!isExact) unreviewedErrors++;
    }
  }
  for (const token of tokens) {
    let over = 0;
    let under = 0;
    for (const sku of new Set([...truthCartOf(token).keys(), ...chargedCartOf(token).keys()])) {
      const cell = cellOf(token, sku);
      over += cell.fp * priceOf(sku);
      under += cell.fn * priceOf(sku);
    }
    overMinor += over;
    underMinor += under;
    if (!visitTokens.has(token)) continue;
    if (over > 0) overchargedVisits++;
    if (under > 0) underchargedVisits++;
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (const cell of cells.values()) {
    tp += cell.tp;
    fp += cell.fp;
    fn += cell.fn;
  }
  const items = prfRates(tp, fp, fn);

  // --- Attribution by crowding ----------------------------------------------------------
  const bucketTp: Record<CrowdingBucket, number> = { '0': 0, '1': 0, '2': 0, '3+': 0 };
  const bucketMis: Record<CrowdingBucket, number> = { '0': 0, '1': 0, '2': 0, '3+': 0 };
  const bucketUnits: Record<CrowdingBucket, number> = { '0': 0, '1': 0, '2': 0, '3+': 0 };
  for (const cell of cells.values()) {
    if (cell.truth === 0) continue;
    const s = skuStats(cell.sku);
    for (const action of cell.survivors) {
      const b = bucketOf(action.crowding);
      bucketUnits[b]++;
      bucketTp[b] += cell.tp / cell.truth;
      if (s.fn > 0) bucketMis[b] += (s.misattributed * (cell.fn / cell.truth)) / s.fn;
    }
  }
  const byCrowding = {} as Record<CrowdingBucket, number | null>;
  for (const b of BUCKETS) {
    const denominator = bucketTp[b] + bucketMis[b];
    byCrowding[b] = denominator > 1e-12 ? round4(bucketTp[b] / denominator) : null;
  }

  // --- Cases ----------------------------------------------------------------------------
  const cases = {} as Record<CheckoutCase, CaseScore>;
  for (const tag of CHECKOUT_CASES) {
    let units = 0;
    let caseTp = 0;
    let caseFp = 0;
    let caseFn = 0;
    for (const cell of cells.values()) {
      const s = skuStats(cell.sku);
      const taggedPicks = cell.survivors.filter((a) => a.cases.includes(tag)).length;
      if (taggedPicks > 0) {
        units += taggedPicks;
        const taggedTp = Math.min(cell.tp, taggedPicks);
        const taggedFn = taggedPicks - taggedTp;
        caseTp += taggedTp;
        caseFn += taggedFn;
        if (s.fn > 0) caseFp += (s.misattributed * taggedFn) / s.fn;
        const leftover = s.unexplainedFp > 0 ? cell.otherFp * (1 - s.misattributed / s.unexplainedFp) : 0;
        caseFp += (leftover * taggedPicks) / cell.truth;
      }
      const taggedRemovals = cell.removals.filter((a) => a.cases.includes(tag)).length;
      if (taggedRemovals > 0) {
        units += taggedRemovals;
        const honoured = Math.min(taggedRemovals, cell.removals.length - cell.removalFp);
        caseTp += honoured;
        caseFp += taggedRemovals - honoured;
      }
    }
    cases[tag] = { units, ...prfRates(caseTp, caseFp, caseFn) };
  }

  // --- Review trade-off -----------------------------------------------------------------
  const tradeOff = REVIEW_THRESHOLDS.map((threshold): ReviewTradeOffRow => {
    let wouldReview = 0;
    let notReviewed = 0;
    let notReviewedErrors = 0;
    for (const visit of truth.visits) {
      const receipt = receiptOf.get(visit.token);
      if (receipt && receipt.minConfidence < threshold) {
        wouldReview++;
        continue;
      }
      notReviewed++;
      const guess = receipt ? cartOf(receipt.unreviewedLines ?? receipt.lines) : new Map<string, number>();
      if (!sameCart(truthCartOf(visit.token), guess)) notReviewedErrors++;
    }
    return {
      threshold,
      reviewRate: ratio(wouldReview, truth.visits.length, 0),
      unreviewedErrorRate: ratio(notReviewedErrors, notReviewed, 0),
    };
  });

  // --- Latency --------------------------------------------------------------------------
  const eventsByKey = new Map<string, CheckoutOutcome['cartEvents']>();
  for (const event of outcome.cartEvents) {
    if (!(event.quantity > 0)) continue;
    const k = `${event.token}\u0000${event.sku}`;
    const list = eventsByKey.get(k) ?? [];
    list.push(event);
    eventsByKey.set(k, list);
  }
  for (const list of eventsByKey.values()) list.sort((a, b) => a.addedAt - b.addedAt);
  const usedEvents = new Set<CheckoutOutcome['cartEvents'][number]>();
  const pickLatencies: number[] = [];
  for (const action of [...truth.actions].filter((a) => a.kind === 'pick').sort((a, b) => a.startAt - b.startAt)) {
    const earliest = action.startAt + epochMs - CART_EARLY_SLACK_MS;
    const event = eventsByKey.get(`${action.chargedTo}\u0000${action.sku}`)?.find((e) => !usedEvents.has(e) && e.addedAt >= earliest);
    if (!event) continue;
    usedEvents.add(event);
    pickLatencies.push(Math.max(0, event.addedAt - (action.endAt + epochMs)));
  }
  const exitLatencies: number[] = [];
  for (const visit of truth.visits) {
    const receipt = receiptOf.get(visit.token);
    if (!receipt || receipt.reviewed || receipt.issuedAt === null) continue;
    exitLatencies.push(receipt.issuedAt - (visit.exitAt + epochMs));
  }

  const visits = truth.visits.length;
  return {
    visits,
    receipts: {
      exactMatchRate: ratio(exact, visits, 1),
      overcharge: round2(overMinor / 100),
      undercharge: round2(underMinor / 100),
      overchargedVisits,
      underchargedVisits,
      missing,
      wrong,
      duplicates,
      unknownTokens: unknownTokens.length,
      totalMismatches,
    },
    items: { ...items, tp, fp, fn },
    attribution: { byCrowding, units: bucketUnits },
    review: { rate: ratio(reviewed, visits, 0), unreviewedErrorRate: ratio(unreviewedErrors, unreviewed, 0), reviewed, tradeOff },
    latency: { pickToCartMs: percentiles(pickLatencies), exitToReceiptMs: percentiles(exitLatencies) },
    cases,
    errors,
    unpricedSkus: [...unpriced].sort(),
  };
}

/** Lines summed per SKU, keeping SKUs whose sum is > 0. */
function cartOf(lines: ReadonlyArray<{ sku: string; quantity: number }>): Map<string, number> {
  const cart = new Map<string, number>();
  for (const line of lines) cart.set(line.sku, (cart.get(line.sku) ?? 0) + line.quantity);
  for (const [sku, units] of cart) if (!(units > 0)) cart.delete(sku);
  return cart;
}

function sameCart(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): boolean {
  const positive = (m: ReadonlyMap<string, number>) => [...m].filter(([, units]) => units > 0);
  const pa = positive(a);
  const pb = positive(b);
  return pa.length === pb.length && pa.every(([sku, units]) => b.get(sku) === units);
}

function linesOf(cart: ReadonlyMap<string, number>): Array<{ sku: string; quantity: number }> {
  return [...cart]
    .filter(([, units]) => units > 0)
    .map(([sku, quantity]) => ({ sku, quantity }))
    .sort((x, y) => (x.sku < y.sku ? -1 : x.sku > y.sku ? 1 : 0));
}

function bucketOf(crowding: number): CrowdingBucket {
  if (crowding >= 3) return '3+';
  if (crowding >= 2) return '2';
  if (crowding >= 1) return '1';
  return '0';
}

/** Precision / recall / F1 from (possibly fractional) counts; 1 when a denominator is 0, rounded to 4 decimals. */
function prfRates(tp: number, fp: number, fn: number): { precision: number; recall: number; f1: number } {
  const precision = tp + fp > 1e-12 ? tp / (tp + fp) : 1;
  const recall = tp + fn > 1e-12 ? tp / (tp + fn) : 1;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision: round4(precision), recall: round4(recall), f1: round4(f1) };
}

function ratio(numerator: number, denominator: number, whenEmpty: number): number {
  return denominator === 0 ? whenEmpty : round4(numerator / denominator);
}

/** Nearest-rank: the ⌈p/100 · n⌉-th smallest sample. */
function percentiles(samples: readonly number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number | null => (sorted.length === 0 ? null : sorted[Math.max(1, Math.ceil((p * sorted.length) / 100)) - 1]!);
  const histogram: number[] = [];
  for (const ms of sorted) {
    const bin = Math.min(LATENCY_BINS - 1, Math.max(0, Math.floor(ms / LATENCY_BIN_MS)));
    while (histogram.length <= bin) histogram.push(0);
    histogram[bin]!++;
  }
  return { p50: at(50), p95: at(95), p99: at(99), n: sorted.length, histogram };
}

function round4(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
