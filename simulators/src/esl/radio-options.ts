import { z } from 'zod';
import { contentHashPattern, RADIO_BLOCK_BYTES } from '@storeedge/device-drivers';
import { simulatorErrors } from '../errors.ts';
import { defaultBatteryCosts, type BatteryCosts } from './battery.ts';

/**
 * The knobs of the ESL radio model, with their defaults side by side. Each default names its
 * source in research/esl.md; docs/esl-gateway-sim.md explains them.
 */
const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const share = z.number().min(0).max(1);

const batterySchema = z
  .object({
    capacityMah: positive.default(defaultBatteryCosts.capacityMah),
    checkinUah: nonNegative.default(defaultBatteryCosts.checkinUah),
    redrawUah: nonNegative.default(defaultBatteryCosts.redrawUah),
    ledFlashUah: nonNegative.default(defaultBatteryCosts.ledFlashUah),
    minimumMv: positive.default(defaultBatteryCosts.minimumMv),
  })
  .strict();

export const eslRadioOptionsSchema = z
  .object({
    /** Each tag wakes this often (§1.5 `INTERVAL_BASE 40` s); null: tags never check in. */
    checkinIntervalMs: positive.nullable().default(40_000),
    /** Each interval varies by up to ± this share (crystal drift; assumed). */
    checkinJitter: z.number().min(0).max(0.5).default(0.02),
    /** Air rate of the gateway radio, bytes per second (§1.9: "about 5 kbyte/s"). */
    radioBytesPerSecond: positive.default(5_000),
    /** Transfer block size (§1.7: 4 096-byte blocks). */
    blockBytes: z.number().int().positive().default(RADIO_BLOCK_BYTES),
    /** Tags with something pending (§1.7 `MAX_PENDING_MACS 250`). */
    pendingLimit: z.number().int().positive().default(250),
    /** Housekeeping ticks a pending item survives (§1.7 `MAX_XFER_ATTEMPTS 20`). */
    pendingAttempts: z.number().int().positive().default(20),
    /** Housekeeping period (§1.7 `HOUSEKEEPING_INTERVAL 60` s); 20 × 60 s ≈ 20 min to a timeout. */
    housekeepingIntervalMs: positive.default(60_000),
    /** A heartbeat `tag.report` per tag at most this often (OEPL `maxsleep` 10 min; §1.5). */
    reportEveryMs: positive.default(600_000),
    /** Tags redraw their image from flash after a reboot (ZBS tags do; §1.7 "Reboot recovery"). */
    cachesContent: z.boolean().default(false),
    /** Spontaneous reboots per tag per day (watchdog, battery contact); 0: only rebootTag(). */
    rebootsPerTagPerDay: nonNegative.default(0),
    /** Share of tags (drawn at construction) that are out of range from the start. */
    outOfRangeShare: share.default(0),
    /** Moves tags out of range and back over time (exponential stays); null: tags stay where they are. */
    rangeChurn: z.object({ meanInRangeMs: positive, meanOutOfRangeMs: positive }).strict().nullable().default(null),
    /** Unanswered tags back off: hourly after 14 misses, 2-hourly after a day, then daily (§1.5 `powermgt.h`). */
    backoff: z.boolean().default(true),
    /** After restart() the radio hears nothing for this long (AP boot). */
    restartDowntimeMs: nonNegative.default(20_000),
    /** The tag type a tag has when its config names none (device-drivers esl/tag-types.ts ids). */
    defaultTagType: z.string().min(1).max(64).default('m2-2.9-bwr'),
    battery: batterySchema.default(() => ({ ...defaultBatteryCosts })),
  })
  .strict();

export type EslRadioOptions = z.input<typeof eslRadioOptionsSchema>;
export type ResolvedEslRadioOptions = Readonly<Omit<z.output<typeof eslRadioOptionsSchema>, 'battery'> & { battery: Readonly<BatteryCosts> }>;

/** One tag a gateway serves. */
export const eslTagConfigSchema = z
  .object({
    tagId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/),
    /** Default: the radio's `defaultTagType`. */
    tagType: z.string().min(1).max(64).optional(),
    /** Default: the tag type's `led` (device-drivers esl/tag-types.ts), true for a type it does not know (OEPL capability bit `HAS_LED`; §1.6). */
    hasLed: z.boolean().optional(),
    /** What the tag shows at start; absent: blank. */
    contentHash: z.string().regex(contentHashPattern).optional(),
    /** The version of that content (the gateway refuses older ones). */
    version: z.number().int().positive().optional(),
    /** Battery at start; default 2 900-3 100 mV, drawn per tag. */
    batteryMv: z.number().min(0).max(5_000).optional(),
    /** Out of range from the start (never heard until moved back). Default: drawn by `outOfRangeShare`. */
    outOfRange: z.boolean().optional(),
    /** First check-in this long after start; default a random phase within the interval. */
    firstCheckinMs: nonNegative.optional(),
  })
  .strict()
  .refine((tag) => tag.version === undefined || tag.contentHash !== undefined, { message: 'version needs a contentHash' });

export type EslTagConfig = z.input<typeof eslTagConfigSchema>;

/** Validates once; the result is frozen. Errors name the field and what is wrong. */
export function resolveRadioOptions(input: EslRadioOptions, deviceId: string): ResolvedEslRadioOptions {
  const parsed = eslRadioOptionsSchema.safeParse(input);
  if (!parsed.success) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${deviceId}: ${describeIssues(parsed.error)}`, { deviceId });
  return Object.freeze({ ...parsed.data, battery: Object.freeze(parsed.data.battery) });
}

export function resolveTagConfigs(input: readonly (string | EslTagConfig)[], deviceId: string): z.output<typeof eslTagConfigSchema>[] {
  const seen = new Set<string>();
  return input.map((entry, i) => {
    const parsed = eslTagConfigSchema.safeParse(typeof entry === 'string' ? { tagId: entry } : entry);
    if (!parsed.success) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${deviceId}: tags[${i}]: ${describeIssues(parsed.error)}`, { deviceId });
    if (seen.has(parsed.data.tagId)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${deviceId}: tag ${parsed.data.tagId} is listed twice`, { deviceId });
    seen.add(parsed.data.tagId);
    return parsed.data;
  });
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}
