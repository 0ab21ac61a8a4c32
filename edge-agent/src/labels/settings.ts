import { z } from 'zod';

const ms = z.number().int().positive();

/**
 * Label service settings (docs/esl.md), schema and defaults side by side. The numbers come from
 * the OpenEPaperLink radio (research/esl.md §1.5–1.7): 250 pending tags per access point, a
 * 40 s check-in that stretches to 10 min, about 20 min before the radio gives up on a tag.
 */
export const labelSettingsSchema = z
  .strictObject({
    /** Image commands waiting at one gateway at a time; below its pending limit (250) so price changes are never refused as queue-full. */
    inFlightPerGateway: z.number().int().min(1).max(10_000).default(200),
    /** First retry after a failed, refused or timed-out delivery; doubles per attempt up to retryMaxMs. */
    retryBaseMs: ms.default(30_000),
    retryMaxMs: ms.default(15 * 60_000),
    /** No tag.delivery for a queued image within this time: counted as failed (timeout) and retried. Above the radio's ~20 min. */
    deliveryTimeoutMs: ms.default(25 * 60_000),
    /** Desired content not confirmed within this time: a 'label-stale' alert. */
    staleAfterMs: ms.default(10 * 60_000),
    /** A tag not heard from within this time (three 10-min report periods): a 'label-unseen' alert. */
    unseenAfterMs: ms.default(30 * 60_000),
    /** OEPL BATTERY_VOLTAGE_MINIMUM (research/esl.md §1.5): below it, a 'label-low-battery' alert. */
    lowBatteryMv: z.number().int().min(0).max(5_000).default(2_450),
    /** The low-battery alert clears only above lowBatteryMv + this (no flapping around the threshold). */
    batteryHysteresisMv: z.number().int().min(0).max(1_000).default(50),
    /** How often alerts are checked. */
    healthCheckIntervalMs: ms.default(60_000),
    /** LED flashes drain batteries (OEPL wiki): at most one per tag per this interval … */
    flashMinIntervalMs: ms.default(60_000),
    /** … and at most this many per tag in any 24 h. */
    flashDailyBudget: z.number().int().min(1).max(1_000).default(20),
    /** Renders at a time (each is a request to the renderer's worker pool). */
    renderConcurrency: z.number().int().min(1).max(64).default(4),
    /** How far back `labelPriceFor(sku, at)` can answer for a past instant. */
    priceHistoryMs: ms.default(24 * 3_600_000),
    /** Closed integrity windows kept for the report (totals cover all of them). */
    windowsKept: z.number().int().min(0).max(100_000).default(1_000),
  })
  .refine((s) => s.retryMaxMs >= s.retryBaseMs, { message: 'retryMaxMs must be ≥ retryBaseMs', path: ['retryMaxMs'] });

export type LabelSettings = Readonly<z.output<typeof labelSettingsSchema>>;
export type LabelSettingsInput = z.input<typeof labelSettingsSchema>;

/** Settings with every default filled in, frozen. */
export function labelSettings(input: LabelSettingsInput = {}): LabelSettings {
  return Object.freeze(labelSettingsSchema.parse(input));
}
