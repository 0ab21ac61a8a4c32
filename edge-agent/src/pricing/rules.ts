/**
 * What the price book accepts: promotions (the checkout's multi-buy, percentage and bundle,
 * plus a member price) and time-of-day markdown rules. Money is integer minor units.
 */
import { z } from 'zod';
import { promotionSchema, type Promotion } from '../checkout/pricing.ts';

const sku = z.string().min(1).max(64);
const epochMs = z.number().int().nonnegative();

/** Percent held as basis points, like the checkout's percentage promotion: at most two decimals. */
const percent = z
  .number()
  .gt(0)
  .lte(100)
  .refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-9, 'percent may have at most two decimals, e.g. 12.5');

/**
 * A lower price for loyalty members: a shopper the gate identified as a member pays
 * `priceMinor` for one unit of `sku` while the promotion is valid, when that is below what
 * everyone else pays. It is not a reduction announcement (no prior price) and never enters the
 * prior-price history (docs/pricing.md).
 */
export const memberPriceSchema = z
  .strictObject({
    id: z.string().min(1),
    description: z.string().min(1).optional(),
    validFrom: epochMs.optional(),
    validUntil: epochMs.optional(),
    kind: z.literal('member-price'),
    sku,
    priceMinor: z.number().int().nonnegative(),
  })
  .refine((p) => p.validFrom === undefined || p.validUntil === undefined || p.validFrom < p.validUntil, {
    path: ['validUntil'],
    message: 'validUntil must be after validFrom',
  });

export type MemberPricePromotion = z.infer<typeof memberPriceSchema>;
export type BookPromotion = Promotion | MemberPricePromotion;

export const bookPromotionsSchema = z
  .array(z.union([promotionSchema, memberPriceSchema]))
  .max(10_000)
  .superRefine((list, ctx) => uniqueIds(list, ctx));

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'use 24-hour local time "HH:MM"');

/**
 * A time-of-day markdown: `percent` off the SKUs from `fromLocalTime` until `untilLocalTime`
 * (exclusive; absent: until midnight) every day in the store's time zone, within the optional
 * validity window, and with `whileStock` only while the shelf has the SKU.
 */
export const markdownRuleSchema = z
  .strictObject({
    id: z.string().min(1),
    description: z.string().min(1).optional(),
    skus: z.array(sku).min(1).max(10_000),
    fromLocalTime: localTime,
    untilLocalTime: localTime.optional(),
    percent,
    whileStock: z.boolean().default(true),
    validFrom: epochMs.optional(),
    validUntil: epochMs.optional(),
  })
  .superRefine((rule, ctx) => {
    if (rule.untilLocalTime !== undefined && rule.untilLocalTime <= rule.fromLocalTime) {
      ctx.addIssue({ code: 'custom', path: ['untilLocalTime'], message: 'untilLocalTime must be after fromLocalTime on the same day (omit it for "until midnight")' });
    }
    if (rule.validFrom !== undefined && rule.validUntil !== undefined && rule.validFrom >= rule.validUntil) {
      ctx.addIssue({ code: 'custom', path: ['validUntil'], message: 'validUntil must be after validFrom' });
    }
    if (new Set(rule.skus).size !== rule.skus.length) ctx.addIssue({ code: 'custom', path: ['skus'], message: 'list each SKU once' });
  });

export type MarkdownRule = z.output<typeof markdownRuleSchema>;
export type MarkdownRuleInput = z.input<typeof markdownRuleSchema>;

export const markdownRulesSchema = z
  .array(markdownRuleSchema)
  .max(1_000)
  .superRefine((list, ctx) => uniqueIds(list, ctx));

function uniqueIds(list: ReadonlyArray<{ id: string }>, ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  list.forEach((item, index) => {
    if (seen.has(item.id)) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `duplicate id "${item.id}"` });
    seen.add(item.id);
  });
}

/** Is `at` inside the optional [validFrom, validUntil) window? */
export function withinWindow(item: { validFrom?: number | undefined; validUntil?: number | undefined }, at: number): boolean {
  return (item.validFrom === undefined || at >= item.validFrom) && (item.validUntil === undefined || at < item.validUntil);
}

/** SKUs a promotion touches. */
export function promotionSkus(promotion: BookPromotion): string[] {
  return promotion.kind === 'multi-buy' || promotion.kind === 'member-price' ? [promotion.sku] : promotion.skus;
}

/**
 * `priceMinor` less `percent` %, the saving rounded half-up in integers (percent as basis
 * points) — the same rounding as the checkout's percentage promotion (checkout/pricing.ts).
 */
export function lessPercent(priceMinor: number, percentOff: number): number {
  const basisPoints = Math.round(percentOff * 100);
  return priceMinor - Math.floor((priceMinor * basisPoints + 5_000) / 10_000);
}
