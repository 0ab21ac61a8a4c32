import type { BookPromotion, MarkdownRule } from './rules.ts';

/**
 * The price book's ledger events (stream "pricing"; docs/pricing.md). Each is a fact with an
 * effective instant, never an edit: a later event supersedes an earlier one from its
 * `effectiveFrom` on, and the history stays readable for the 30-day prior price.
 */
export const pricingStream = 'pricing';

export const pricingEventTypes = {
  priceSet: 'price.set',
  promotionsSet: 'promotions.set',
  markdownsSet: 'markdowns.set',
} as const;

/**
 * Where a regular price came from. `markdown` is a reduction (clearance) a label announces
 * with the prior price; the others are plain price changes.
 */
export const priceSources = ['catalog', 'hq', 'manager', 'markdown'] as const;
export type PriceSource = (typeof priceSources)[number];

/** Who replaced a promotion or markdown list. */
export const listSources = ['config', 'hq', 'manager'] as const;
export type ListSource = (typeof listSources)[number];

/** A regular price of one SKU from `effectiveFrom` on (until a later record takes over). */
export interface PriceSet {
  sku: string;
  /** Integer minor units of `currency`. */
  priceMinor: number;
  currency: string;
  /** ms since the epoch; never before the instant it was recorded (no retroactive prices). */
  effectiveFrom: number;
  source: PriceSource;
  reason: string;
  actor: string;
}

/** The whole promotion list from `effectiveFrom` on; each promotion also has its own window. */
export interface PromotionsSet {
  promotions: BookPromotion[];
  effectiveFrom: number;
  source: ListSource;
  actor: string;
}

/** The whole list of time-of-day markdown rules from `effectiveFrom` on. */
export interface MarkdownsSet {
  markdowns: MarkdownRule[];
  effectiveFrom: number;
  source: ListSource;
  actor: string;
}
