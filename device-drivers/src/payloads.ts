import { z } from 'zod';
import { tagDeliveryPayload } from './esl/protocol.ts';

/**
 * JSON payloads of storeedge-native devices (docs/mqtt.md). Vendor formats are decoded by
 * their drivers into these shapes. Unknown extra fields are dropped, wrong types rejected.
 * Every event carries `at`, the device's clock in ms since the epoch.
 */
export const deviceKinds = ['shelf', 'gate', 'esl-gateway', 'rfid-reader', 'camera', 'tracker'] as const;
export type DeviceKind = (typeof deviceKinds)[number];

const at = z.number().int().nonnegative();
const finite = z.number().finite();
const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/);

export const statePayload = z.object({
  online: z.boolean(),
  at: at.optional(),
  kind: z.enum(deviceKinds).optional(),
  model: z.string().max(64).optional(),
  fw: z.string().max(64).optional(),
});

export const healthPayload = z.object({
  at,
  batteryMv: z.number().int().min(0).max(20_000).optional(),
  rssi: z.number().min(-150).max(20).optional(),
  temperatureC: z.number().min(-60).max(150).optional(),
  uptimeS: z.number().int().nonnegative().optional(),
});

/** One sample per channel of a multi-channel load-cell controller. */
export const weightPayload = z.object({
  at,
  seq: z.number().int().nonnegative().optional(),
  channels: z
    .array(z.object({ ch: z.number().int().min(0).max(255), grams: finite.min(-1_000_000).max(1_000_000) }))
    .min(1)
    .max(64),
});

/** A shopper token presented at an entry or exit lane. Tokens are pseudonymous per visit. */
export const gateScanPayload = z.object({
  at,
  lane: z.enum(['entry', 'exit']),
  token: z.string().min(8).max(128).regex(/^[A-Za-z0-9_-]+$/, 'token must be URL-safe base64 or hex'),
  party: z.number().int().min(1).max(12).default(1),
});

/** A report an ESL gateway forwards from one tag after its check-in. */
export const tagReportPayload = z.object({
  at,
  tagId: id,
  contentHash: z.string().regex(/^[0-9a-f]{16,64}$/).optional(),
  /** The version of the content the tag shows (esl/protocol.ts); absent on a blank tag. */
  version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  /** The tag type (esl/tag-types.ts) the tag says it is. */
  tagType: z.string().min(1).max(64).optional(),
  batteryMv: z.number().int().min(0).max(5_000).optional(),
  rssi: z.number().min(-150).max(20).optional(),
  temperatureC: z.number().min(-60).max(150).optional(),
  reason: z.enum(['checkin', 'boot', 'button', 'nfc', 'timeout']).default('checkin'),
});

export const rfidReadsPayload = z.object({
  at,
  reads: z
    .array(z.object({ epc: z.string().regex(/^[0-9A-Fa-f]{8,124}$/), antenna: z.number().int().min(0).max(64), rssi: finite.optional() }))
    .min(1)
    .max(1000),
});

export const tracksPayload = z.object({
  at,
  tracks: z
    .array(
      z.object({
        id,
        x: finite,
        y: finite,
        hands: z.array(z.object({ x: finite, y: finite, z: finite })).max(2).optional(),
        /** The tracker's appearance descriptor of whoever this track is this frame (re-identification): 4–64 numbers, compared by cosine. */
        look: z.array(finite).min(4).max(64).optional(),
      }),
    )
    .max(200),
});

/** Which event types each kind of device may send, and their schema. */
export const eventSchemas = {
  shelf: { weight: weightPayload, health: healthPayload },
  gate: { scan: gateScanPayload, health: healthPayload },
  'esl-gateway': { 'tag.report': tagReportPayload, 'tag.delivery': tagDeliveryPayload, health: healthPayload },
  'rfid-reader': { reads: rfidReadsPayload, health: healthPayload },
  camera: { health: healthPayload },
  tracker: { tracks: tracksPayload, health: healthPayload },
} as const satisfies Record<DeviceKind, Record<string, z.ZodType>>;

export type StatePayload = z.infer<typeof statePayload>;
export type HealthPayload = z.infer<typeof healthPayload>;
export type WeightPayload = z.infer<typeof weightPayload>;
export type GateScanPayload = z.infer<typeof gateScanPayload>;
export type TagReportPayload = z.infer<typeof tagReportPayload>;
export type RfidReadsPayload = z.infer<typeof rfidReadsPayload>;
export type TracksPayload = z.infer<typeof tracksPayload>;

/** The schema for a device kind's event type, or undefined when that kind may not send it. */
export function eventSchema(kind: DeviceKind, type: string): z.ZodType | undefined {
  const table: Record<string, z.ZodType> = eventSchemas[kind];
  return Object.hasOwn(table, type) ? table[type] : undefined;
}
