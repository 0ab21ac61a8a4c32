import { createHash } from 'node:crypto';
import { z } from 'zod';

/**
 * The storeedge ESL gateway protocol over MQTT (docs/esl.md, docs/mqtt.md): what the agent
 * sends a gateway for one of its tags, and what the gateway reports back. Shared by the agent's
 * label delivery, the gateway simulator and any bridge to a vendor access point (an
 * OpenEPaperLink AP speaks HTTP; research/esl.md §1.2).
 *
 * Commands (agent → gateway, `dev/{gatewayId}/cmd/{type}`; only the agent may publish them —
 * the broker's ACL refuses `cmd` topics from devices):
 * - `tag.image`: put an image on a tag. The gateway queues it (a bounded pending queue, one entry
 *   per tag: a newer image for a tag replaces the one waiting), hands it to the tag at the tag's
 *   next check-in and moves it over the radio in 4 096-byte blocks.
 * - `tag.led`: flash the tag's LED at its next check-in.
 *
 * Events (gateway → agent, `dev/{gatewayId}/evt/{type}`):
 * - `tag.report` (payloads.ts): a tag checked in, booted or woke for another reason, with the
 *   content hash and version it shows — the only proof a label shows what it should.
 * - `tag.delivery`: what became of one `tag.image` or `tag.led`: queued, sent (the tag completed the
 *   transfer), failed (the gateway gave up) or refused (never queued, with a reason).
 *
 * Anti-replay: every image carries a per-tag `version` the agent never reuses for other content.
 * A gateway (and a tag) refuses an image whose version is below the highest it accepted for that
 * tag, or equal to it with other content; re-sending the same version with the same content is how a
 * rebooted tag gets its content back.
 */

const at = z.number().int().nonnegative();
const tagId = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/);

/** A content hash: the first 8 bytes of the SHA-256 of the encoded image, as 16 lowercase hex digits. */
export const contentHashPattern = /^[0-9a-f]{16}$/;

/** The content hash of an encoded image (exactly the bytes a `tag.image` carries). */
export function contentHashOf(encoded: Uint8Array): string {
  return createHash('sha256').update(encoded).digest('hex').slice(0, 16);
}

/** How the image bytes are encoded (research/esl.md §1.3): raw bit planes, or zlib of them with a u32 length prefix. */
export const imageEncodings = ['raw', 'zlib'] as const;
export type ImageEncoding = (typeof imageEncodings)[number];

/** Radio block size: a tag fetches an image 4 096 bytes at a time (OEPL: 42 parts of 99 bytes). */
export const RADIO_BLOCK_BYTES = 4096;
/** The largest encoded image a `tag.image` may carry (a 7.5″ 800 × 480 two-plane raw image is 96 000 bytes). */
export const MAX_IMAGE_BYTES = 160 * 1024;

/** Delivery priority: a price change goes before a cosmetic redraw. */
export const labelPriorities = ['price', 'cosmetic'] as const;
export type LabelPriority = (typeof labelPriorities)[number];

/** `cmd/tag.image`. */
export const tagImageCommand = z.object({
  at,
  tagId,
  /** Monotonic per tag, ≥ 1. */
  version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** contentHashOf(the decoded `image` bytes); the gateway checks it. */
  contentHash: z.string().regex(contentHashPattern),
  /** The tag type the image was rendered for (tag-types.ts); the gateway refuses another type's image. */
  tagType: z.string().min(1).max(64),
  encoding: z.enum(imageEncodings),
  priority: z.enum(labelPriorities).default('cosmetic'),
  /** The encoded image, base64. */
  image: z.string().min(4).max(Math.ceil(MAX_IMAGE_BYTES / 3) * 4),
});
export type TagImageCommand = z.infer<typeof tagImageCommand>;

/** LED colours a tag can show. */
export const ledColours = ['red', 'green', 'blue', 'white'] as const;

/** `cmd/tag.led`. */
export const tagLedCommand = z.object({
  at,
  tagId,
  /** The agent's id for this flash, echoed in `tag.delivery`. */
  requestId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/),
  colour: z.enum(ledColours).default('green'),
  /** Flashes per repeat (OEPL: a 4-bit count). */
  flashes: z.number().int().min(1).max(15).default(3),
  repeats: z.number().int().min(1).max(15).default(2),
});
export type TagLedCommand = z.infer<typeof tagLedCommand>;

/** Why a gateway refused a command. */
export const refusalReasons = [
  /** The version is below the tag's highest accepted one, or equal to it with other content. */
  'stale-version',
  /** The image's SHA-256 does not start with `contentHash`, or it does not decode. */
  'hash-mismatch',
  /** The image is for another tag type than the tag's. */
  'wrong-type',
  /** This gateway does not serve the tag. */
  'unknown-tag',
  /** The pending queue is full (OEPL: 250 tags); try again later. */
  'queue-full',
  /** The tag has no LED, or LED commands are rate-limited on the gateway. */
  'not-supported',
] as const;
export type RefusalReason = (typeof refusalReasons)[number];

/** `evt/tag.delivery`. */
export const tagDeliveryPayload = z.object({
  at,
  tagId,
  /** For images: the version this is about. */
  version: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  contentHash: z.string().regex(contentHashPattern).optional(),
  /** For LED flashes: the command's requestId. */
  requestId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/).optional(),
  /**
   * queued: waiting for the tag's check-in; sent: the tag completed the transfer (for an image) or
   * flashed (for an LED command); failed: the gateway gave up (the tag did not check in within its
   * attempts, or the transfer broke off); refused: never queued; superseded: a newer image for the
   * tag replaced this one while it waited.
   */
  state: z.enum(['queued', 'sent', 'failed', 'refused', 'superseded']),
  reason: z.enum([...refusalReasons, 'timeout', 'transfer-error']).optional(),
});
export type TagDeliveryPayload = z.infer<typeof tagDeliveryPayload>;
