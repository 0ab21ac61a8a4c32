import { z } from 'zod';
import { promotionsSchema } from './pricing.ts';

/** Checkout settings (`store.checkout` in the config; docs/checkout.md). */
export const checkoutSettingsSchema = z.strictObject({
  /** Cart lines with a confidence below this go to the review queue instead of the cart. */
  reviewThreshold: z.number().min(0).max(1).default(0.8),
  /** A session's hands must score at least this much at a tray (≈ samples with a hand on it) to be charged. */
  minAttributionScore: z.number().positive().default(1),
  /** Sessions whose hands scored less than this at a tray are not even candidates (a review names only candidates). */
  minCandidateScore: z.number().nonnegative().default(0.2),
  /** Two sessions both at least this share of the best score are both at the tray (same SKU, same tray, same time). */
  sharedScoreRatio: z.number().min(0).max(1).default(0.5),
  /** Confidence factor of a change split one unit per session. */
  sharedConfidence: z.number().min(0).max(1).default(0.9),
  /** After the exit, wait at least this long for evidence to settle before the receipt. */
  settleMs: z.number().int().nonnegative().max(600_000).default(1_500),
  /** …and at most this long for trays the visit touched to be decided. */
  maxSettleMs: z.number().int().nonnegative().max(600_000).default(40_000),
  /** A visit none of whose persons was seen for this long is ended as of the last sighting (and counted). */
  lostAfterMs: z.number().int().positive().max(24 * 3_600_000).default(120_000),
  /** The tracker whose frames bind persons to sessions (default: the first one that sends). */
  trackerDevice: z.string().min(1).max(64).optional(),
  /** Person tracking (edge-agent/src/checkout/track-book.ts). */
  tracks: z
    .strictObject({
      entryWindowMs: z.number().int().positive().optional(),
      goneMs: z.number().int().positive().optional(),
      stitchMs: z.number().int().nonnegative().optional(),
      maxSpeedMps: z.number().positive().optional(),
      swapCheckM: z.number().nonnegative().optional(),
      swapMarginM: z.number().nonnegative().optional(),
      swapMinSeparationM: z.number().nonnegative().optional(),
      swapWindowMs: z.number().int().positive().max(2_000).optional(),
      historyMs: z.number().int().positive().optional(),
      exitNearM: z.number().nonnegative().optional(),
    })
    .default({}),
  /** Who was at a tray (edge-agent/src/checkout/attribution.ts). */
  attribution: z.strictObject({ kernelM: z.number().positive(), leadMs: z.number().nonnegative(), lagMs: z.number().nonnegative() }).default({ kernelM: 0.1, leadMs: 500, lagMs: 300 }),
  /** Identifying a unit by weight among a shopper's cart items (put on a wrong tray). */
  weightMatch: z
    .strictObject({
      weightNoiseG: z.number().nonnegative(),
      weightRelativeNoise: z.number().min(0).max(0.5),
      misplacedMaxZ: z.number().positive(),
      misplacedMaxUnits: z.number().int().min(1),
    })
    .default({ weightNoiseG: 3, weightRelativeNoise: 0.02, misplacedMaxZ: 3, misplacedMaxUnits: 3 }),
  /** Promotions priced on receipts: multi-buy, percentage, bundle (edge-agent/src/checkout/pricing.ts). */
  promotions: promotionsSchema.default([]),
});

export type CheckoutSettings = z.output<typeof checkoutSettingsSchema>;
