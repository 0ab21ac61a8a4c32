/**
 * Price-and-promotion engine for walk-out checkout receipts.
 *
 * Pure and deterministic: no I/O, no clock. The caller passes the instant to judge promotion
 * windows against (`options.at`), so a receipt can be re-priced later and come out identical.
 *
 * Money is always an integer number of minor units (cents); floats never hold an amount.
 *
 * Rules:
 * - `multi-buy`: every `buy` units of `sku` cost `payMinor` together; remaining units pay the
 *   unit price (or a percentage, if one applies to them).
 * - `percentage`: `percent` % off each unit of the listed SKUs. The saving is rounded half-up
 *   per application, i.e. per unit: 15 % of 0.99 is 14.85 → 0.15 off. `percent` may carry at
 *   most two decimals so it can be held as an integer number of basis points.
 * - `bundle`: one unit of each listed SKU together costs `payMinor`, applied once per complete set.
 * - Validity: with `options.at` given, a promotion is active when `validFrom <= at < validUntil`
 *   (either bound may be absent). Without `options.at`, windows are not checked.
 * - No stacking: a unit takes part in at most one promotion.
 * - Best price for the shopper: among all ways to assign units to promotions, the one with the
 *   lowest total is chosen (see {@link chooseUnitPromotions}). A promotion that would raise a
 *   price ("3 for 5.00" on a 1.00 item) is never applied, so the total is never above the
 *   undiscounted subtotal.
 * - All promotion amounts are in the currency of the cart's price-book items; promotions carry
 *   no currency of their own.
 * - Output: lines merged per SKU and sorted by SKU; discounts sorted by promotion id;
 *   `totalMinor = subtotalMinor - discountMinor`, never negative.
 */
import { z } from 'zod';

const moneyMinorSchema = z.number().int().nonnegative();
const skuSchema = z.string().min(1);
const epochMsSchema = z.number().int().nonnegative();

const commonFields = {
  id: z.string().min(1),
  description: z.string().min(1).optional(),
  /** Inclusive start, ms since the epoch. */
  validFrom: epochMsSchema.optional(),
  /** Exclusive end, ms since the epoch. */
  validUntil: epochMsSchema.optional(),
};

/** Percent is kept as basis points internally, so it may not be finer than 0.01 %. */
function hasAtMostTwoDecimals(percent: number): boolean {
  const basisPoints = percent * 100;
  return Math.abs(basisPoints - Math.round(basisPoints)) < 1e-9;
}

const multiBuySchema = z.strictObject({
  ...commonFields,
  kind: z.literal('multi-buy'),
  sku: skuSchema,
  buy: z.number().int().min(2, 'a multi-buy needs at least 2 units'),
  payMinor: moneyMinorSchema,
});

const percentageSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('percentage'),
  skus: z.array(skuSchema).min(1),
  percent: z
    .number()
    .gt(0)
    .lte(100)
    .refine(hasAtMostTwoDecimals, 'percent may have at most two decimals, e.g. 12.5'),
});

const bundleSchema = z.strictObject({
  ...commonFields,
  kind: z.literal('bundle'),
  skus: z.array(skuSchema).min(2, 'a bundle needs at least 2 SKUs'),
  payMinor: moneyMinorSchema,
});

export const promotionSchema = z
  .discriminatedUnion('kind', [multiBuySchema, percentageSchema, bundleSchema])
  .superRefine((promotion, ctx) => {
    if (promotion.validFrom !== undefined && promotion.validUntil !== undefined && promotion.validFrom >= promotion.validUntil) {
      ctx.addIssue({ code: 'custom', path: ['validUntil'], message: 'validUntil must be after validFrom' });
    }
    if (promotion.kind !== 'multi-buy' && new Set(promotion.skus).size !== promotion.skus.length) {
      ctx.addIssue({ code: 'custom', path: ['skus'], message: 'list each SKU once' });
    }
  });

export const promotionsSchema = z
  .array(promotionSchema)
  .max(10_000)
  .superRefine((promotions, ctx) => {
    const seen = new Set<string>();
    promotions.forEach((promotion, index) => {
      if (seen.has(promotion.id)) {
        ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate promotion id "${promotion.id}"` });
      }
      seen.add(promotion.id);
    });
  });

export type Promotion = z.infer<typeof promotionSchema>;
type MultiBuyPromotion = z.infer<typeof multiBuySchema>;
type PercentagePromotion = z.infer<typeof percentageSchema>;
type BundlePromotion = z.infer<typeof bundleSchema>;

export interface PriceBookItem {
  sku: string;
  name: string;
  priceMinor: number;
  currency: string;
}

/** `quantity` is a positive integer number of units. */
export interface CartQuantity {
  sku: string;
  quantity: number;
}

export interface PricedLine {
  sku: string;
  name: string;
  quantity: number;
  unitPriceMinor: number;
  /** quantity × unitPriceMinor, before discounts. */
  amountMinor: number;
}

export interface AppliedDiscount {
  promotionId: string;
  description: string;
  skus: string[];
  /** Groups (multi-buy), sets (bundle) or units (percentage) the promotion was applied to. */
  times: number;
  /** Money off against the unit prices; always > 0. */
  amountMinor: number;
}

export interface PricedCart {
  /** The price-book currency of the cart's items; '' for an empty cart. */
  currency: string;
  lines: PricedLine[];
  discounts: AppliedDiscount[];
  subtotalMinor: number;
  discountMinor: number;
  totalMinor: number;
}

export interface PriceCartOptions {
  /** The instant (ms epoch) to judge validity windows against; omit to ignore windows. */
  at?: number;
}

/**
 * Upper limit on search nodes per cart. Carts hold tens of units, for which the search ends far
 * below this; the limit only keeps a pathological promotion set from stalling a checkout, and
 * even then the answer is at least as good as the greedy one.
 */
const PROMOTION_SEARCH_NODE_LIMIT = 200_000;

/** Prices a cart: see the module comment for the rules. Throws on unknown SKUs and mixed currencies. */
export function priceCart(
  cart: readonly CartQuantity[],
  priceBook: ReadonlyMap<string, PriceBookItem>,
  promotions: readonly Promotion[],
  options: PriceCartOptions = {},
): PricedCart {
  const lines = priceLines(cart, priceBook);
  const currency = cartCurrency(lines, priceBook);
  const quantities = new Map(lines.map((line) => [line.sku, line.quantity]));
  const unitPrices = new Map(lines.map((line) => [line.sku, line.unitPriceMinor]));

  const active = promotions.filter((promotion) => isActive(promotion, options.at));
  const bestPercentages = bestPercentagePerSku(active, unitPrices);
  const candidates = groupCandidates(active, unitPrices, quantities, bestPercentages);
  const chosen = chooseUnitPromotions(candidates, quantities);

  const discounts = [
    ...groupDiscounts(candidates, chosen, currency),
    ...percentageDiscounts(candidates, chosen, quantities, bestPercentages),
  ].sort((a, b) => compareStrings(a.promotionId, b.promotionId));

  const subtotalMinor = sum(lines.map((line) => line.amountMinor));
  const discountMinor = sum(discounts.map((discount) => discount.amountMinor));
  return {
    currency,
    lines,
    discounts,
    subtotalMinor,
    discountMinor,
    totalMinor: Math.max(0, subtotalMinor - discountMinor),
  };
}

// ---------------------------------------------------------------------------------------------
// Lines

/** Merges cart entries per SKU, looks each up in the price book and sorts by SKU. */
function priceLines(cart: readonly CartQuantity[], priceBook: ReadonlyMap<string, PriceBookItem>): PricedLine[] {
  const quantities = new Map<string, number>();
  for (const entry of cart) {
    if (!Number.isSafeInteger(entry.quantity) || entry.quantity <= 0) {
      throw new Error(`cart quantity for SKU "${entry.sku}" must be a positive integer, got ${entry.quantity}`);
    }
    quantities.set(entry.sku, (quantities.get(entry.sku) ?? 0) + entry.quantity);
  }
  return [...quantities.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([sku, quantity]) => {
      const item = priceBook.get(sku);
      if (item === undefined) {
        throw new Error(`SKU "${sku}" is in the cart but not in the price book; validate carts before pricing`);
      }
      if (!Number.isSafeInteger(item.priceMinor) || item.priceMinor < 0) {
        throw new Error(`price of SKU "${sku}" must be a non-negative integer of minor units, got ${item.priceMinor}`);
      }
      return { sku, name: item.name, quantity, unitPriceMinor: item.priceMinor, amountMinor: quantity * item.priceMinor };
    });
}

/** A receipt has one currency; mixing them is a price-book error the caller must fix. */
function cartCurrency(lines: readonly PricedLine[], priceBook: ReadonlyMap<string, PriceBookItem>): string {
  const currencies = new Set(lines.map((line) => priceBook.get(line.sku)?.currency ?? ''));
  if (currencies.size > 1) {
    throw new Error(`cart mixes currencies (${[...currencies].sort().join(', ')}); one receipt must use one currency`);
  }
  return [...currencies][0] ?? '';
}

function isActive(promotion: Promotion, at: number | undefined): boolean {
  if (at === undefined) return true;
  if (promotion.validFrom !== undefined && at < promotion.validFrom) return false;
  if (promotion.validUntil !== undefined && at >= promotion.validUntil) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Percentages: independent per unit, so each SKU simply takes its best one.

interface PercentageChoice {
  promotion: PercentagePromotion;
  /** Money off one unit, already rounded. */
  savingPerUnitMinor: number;
}

/** Half-up rounding of price × percent / 100, in integers: percent is held as basis points. */
function percentageSavingMinor(priceMinor: number, percent: number): number {
  const basisPoints = Math.round(percent * 100);
  return Math.floor((priceMinor * basisPoints + 5_000) / 10_000);
}

/** For each cart SKU, the percentage promotion saving most per unit (ties: lowest id). */
function bestPercentagePerSku(
  promotions: readonly Promotion[],
  unitPrices: ReadonlyMap<string, number>,
): Map<string, PercentageChoice> {
  const best = new Map<string, PercentageChoice>();
  for (const promotion of promotions) {
    if (promotion.kind !== 'percentage') continue;
    for (const sku of promotion.skus) {
      const price = unitPrices.get(sku);
      if (price === undefined) continue;
      const saving = percentageSavingMinor(price, promotion.percent);
      const current = best.get(sku);
      const better =
        current === undefined ||
        saving > current.savingPerUnitMinor ||
        (saving === current.savingPerUnitMinor && compareStrings(promotion.id, current.promotion.id) < 0);
      if (saving > 0 && better) best.set(sku, { promotion, savingPerUnitMinor: saving });
    }
  }
  return best;
}

/** What a unit costs when no multi-buy or bundle takes it: the price less its best percentage. */
function fallbackUnitCost(sku: string, unitPrices: ReadonlyMap<string, number>, percentages: ReadonlyMap<string, PercentageChoice>): number {
  return (unitPrices.get(sku) ?? 0) - (percentages.get(sku)?.savingPerUnitMinor ?? 0);
}

// ---------------------------------------------------------------------------------------------
// Group promotions (multi-buy, bundle): they compete for units, so they are searched.

/** A multi-buy or bundle that could apply at least once and would beat the per-unit fallback. */
interface GroupCandidate {
  promotion: MultiBuyPromotion | BundlePromotion;
  /** Units of each SKU one application takes. */
  takes: ReadonlyMap<string, number>;
  unitsPerApplication: number;
  /** Money off against the unit prices, per application (what the receipt shows). */
  savingVsPriceMinor: number;
  /** Money off against the fallback (percentage) cost, per application (what the search maximises). */
  savingVsFallbackMinor: number;
}

function groupCandidates(
  promotions: readonly Promotion[],
  unitPrices: ReadonlyMap<string, number>,
  quantities: ReadonlyMap<string, number>,
  percentages: ReadonlyMap<string, PercentageChoice>,
): GroupCandidate[] {
  const candidates: GroupCandidate[] = [];
  for (const promotion of promotions) {
    if (promotion.kind === 'percentage') continue;
    const takes = promotion.kind === 'multi-buy' ? new Map([[promotion.sku, promotion.buy]]) : new Map(promotion.skus.map((sku) => [sku, 1]));
    const fitsOnce = [...takes].every(([sku, units]) => (quantities.get(sku) ?? 0) >= units);
    if (!fitsOnce) continue;
    const priceOfUnits = sum([...takes].map(([sku, units]) => units * (unitPrices.get(sku) ?? 0)));
    const fallbackOfUnits = sum([...takes].map(([sku, units]) => units * fallbackUnitCost(sku, unitPrices, percentages)));
    const savingVsFallbackMinor = fallbackOfUnits - promotion.payMinor;
    // Fallback ≤ price, so this also drops every promotion that would raise a price.
    if (savingVsFallbackMinor <= 0) continue;
    candidates.push({
      promotion,
      takes,
      unitsPerApplication: sum([...takes.values()]),
      savingVsPriceMinor: priceOfUnits - promotion.payMinor,
      savingVsFallbackMinor,
    });
  }
  // Best saving per unit first, so the search's first leaf is the greedy answer; id breaks ties
  // so the result does not depend on the input order.
  return candidates.sort(
    (a, b) =>
      b.savingVsFallbackMinor * a.unitsPerApplication - a.savingVsFallbackMinor * b.unitsPerApplication ||
      compareStrings(a.promotion.id, b.promotion.id),
  );
}

/**
 * Decides how many times to apply each group promotion so the shopper pays the least.
 *
 * Percentages apply per unit without limit, so they are folded into each unit's fallback cost;
 * what remains is choosing application counts for multi-buys and bundles that share units, an
 * integer packing problem. It is solved by depth-first branch and bound over the candidates
 * (sorted by saving per unit), trying the largest count first, so the first complete answer is the
 * greedy one and every later answer must beat it strictly. A branch is cut when its saving plus an
 * optimistic bound (each remaining unit at the best per-unit saving of any remaining candidate
 * covering its SKU, rounded up) cannot beat the best found. Applying nothing is the starting
 * answer, so the result is never worse than no promotion. The search is exact unless it visits
 * {@link PROMOTION_SEARCH_NODE_LIMIT} nodes, in which case the best answer so far (still no worse
 * than greedy) is returned.
 *
 * @returns application count per candidate, in candidate order.
 */
function chooseUnitPromotions(candidates: readonly GroupCandidate[], quantities: ReadonlyMap<string, number>): number[] {
  const bounds = optimisticSavingPerUnit(candidates);
  const remaining = new Map(quantities);
  const counts = candidates.map(() => 0);
  let best = { savingMinor: 0, counts: [...counts] };
  let nodes = 0;

  const visit = (index: number, savingMinor: number): void => {
    if (savingMinor > best.savingMinor) best = { savingMinor, counts: [...counts] };
    if (index === candidates.length || nodes >= PROMOTION_SEARCH_NODE_LIMIT) return;
    nodes += 1;
    if (savingMinor + optimisticRemainingSaving(bounds[index], remaining) <= best.savingMinor) return;
    const candidate = candidates[index]!;
    for (let times = maxApplications(candidate, remaining); times >= 0; times -= 1) {
      takeUnits(candidate, remaining, times);
      counts[index] = times;
      visit(index + 1, savingMinor + times * candidate.savingVsFallbackMinor);
      takeUnits(candidate, remaining, -times);
    }
    counts[index] = 0;
  };

  visit(0, 0);
  return best.counts;
}

/** bounds[i] maps SKU → the highest rounded-up saving per unit among candidates i, i+1, …. */
function optimisticSavingPerUnit(candidates: readonly GroupCandidate[]): Map<string, number>[] {
  const bounds: Map<string, number>[] = [];
  let running = new Map<string, number>();
  for (let index = candidates.length - 1; index >= 0; index -= 1) {
    const candidate = candidates[index]!;
    running = new Map(running);
    const perUnit = Math.ceil(candidate.savingVsFallbackMinor / candidate.unitsPerApplication);
    for (const sku of candidate.takes.keys()) running.set(sku, Math.max(running.get(sku) ?? 0, perUnit));
    bounds[index] = running;
  }
  return bounds;
}

function optimisticRemainingSaving(bound: ReadonlyMap<string, number> | undefined, remaining: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const [sku, perUnit] of bound ?? []) total += perUnit * (remaining.get(sku) ?? 0);
  return total;
}

function maxApplications(candidate: GroupCandidate, remaining: ReadonlyMap<string, number>): number {
  return Math.min(...[...candidate.takes].map(([sku, units]) => Math.floor((remaining.get(sku) ?? 0) / units)));
}

/** Removes (or, with negative times, returns) the units of `times` applications. */
function takeUnits(candidate: GroupCandidate, remaining: Map<string, number>, times: number): void {
  for (const [sku, units] of candidate.takes) remaining.set(sku, (remaining.get(sku) ?? 0) - units * times);
}

// ---------------------------------------------------------------------------------------------
// Discounts for the receipt

function groupDiscounts(candidates: readonly GroupCandidate[], counts: readonly number[], currency: string): AppliedDiscount[] {
  return candidates.flatMap((candidate, index) => {
    const times = counts[index] ?? 0;
    if (times === 0) return [];
    const { promotion } = candidate;
    return [
      {
        promotionId: promotion.id,
        description: promotion.description ?? defaultDescription(promotion, currency),
        skus: [...candidate.takes.keys()].sort(compareStrings),
        times,
        amountMinor: times * candidate.savingVsPriceMinor,
      },
    ];
  });
}

/** Units no group promotion took get their SKU's best percentage; one discount per promotion. */
function percentageDiscounts(
  candidates: readonly GroupCandidate[],
  counts: readonly number[],
  quantities: ReadonlyMap<string, number>,
  percentages: ReadonlyMap<string, PercentageChoice>,
): AppliedDiscount[] {
  const leftover = new Map(quantities);
  candidates.forEach((candidate, index) => takeUnits(candidate, leftover, counts[index] ?? 0));

  const byPromotion = new Map<string, AppliedDiscount>();
  for (const [sku, units] of leftover) {
    const choice = percentages.get(sku);
    if (choice === undefined || units === 0) continue;
    const { promotion } = choice;
    const discount = byPromotion.get(promotion.id) ?? {
      promotionId: promotion.id,
      description: promotion.description ?? `${promotion.percent}% off`,
      skus: [],
      times: 0,
      amountMinor: 0,
    };
    discount.skus.push(sku);
    discount.times += units;
    discount.amountMinor += units * choice.savingPerUnitMinor;
    byPromotion.set(promotion.id, discount);
  }
  return [...byPromotion.values()].map((discount) => ({ ...discount, skus: discount.skus.sort(compareStrings) }));
}

function defaultDescription(promotion: MultiBuyPromotion | BundlePromotion, currency: string): string {
  const pay = formatMinor(promotion.payMinor, currency);
  return promotion.kind === 'multi-buy' ? `${promotion.buy} for ${pay}` : `Bundle: ${promotion.skus.join(' + ')} for ${pay}`;
}

/** "250" EUR → "2.50 EUR", using the currency's minor-unit digits (JPY has none); integer maths only. */
function formatMinor(amountMinor: number, currency: string): string {
  const digits = currencyDigits(currency);
  if (digits === 0) return `${amountMinor} ${currency}`.trim();
  const scale = 10 ** digits;
  const major = Math.floor(amountMinor / scale);
  const minor = String(amountMinor % scale).padStart(digits, '0');
  return `${major}.${minor} ${currency}`.trim();
}

function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // Not an ISO 4217 code (or empty): cents are the common case.
    return 2;
  }
}

// ---------------------------------------------------------------------------------------------

/** Code-unit order, not locale order, so the receipt is the same on every device. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
