import { z } from 'zod';
import { documentIdPattern, isPublicKeyText, MAX_BATCH_RECORDS } from '@storeedge/sync';

/**
 * The `sync` block of the agent's configuration (docs/sync.md, docs/configuration.md): the
 * upstream broker HQ listens on, the keys HQ documents must be signed with, and uplink flow
 * control. Without the block the agent does not sync (a store running on its own).
 */

const upstreamSchema = z
  .strictObject({
    /** mqtt://, mqtts://, ws:// or wss:// URL of the upstream broker. */
    url: z.string().regex(/^(mqtts?|wss?):\/\/.+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    /** Username on the upstream broker; default the store id (the broker ACL's `%u`). The client id is always the store id. */
    username: z.string().min(1).optional(),
    /** The password itself (tests, demos); prefer `passwordFile`. */
    password: z.string().min(1).optional(),
    /** File holding the password (first line). */
    passwordFile: z.string().min(1).optional(),
    /** PEM CA bundle to verify an mqtts:// or wss:// broker. */
    caFile: z.string().min(1).optional(),
    /** PEM client certificate (mutual TLS), with `keyFile`. */
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
    /** Verify the broker's certificate. Turn off only against a test broker. */
    rejectUnauthorized: z.boolean().default(true),
    /** MQTT protocol level: 5 (MQTT 5) or 4 (3.1.1). */
    protocolVersion: z.union([z.literal(4), z.literal(5)]).default(5),
    /**
     * MQTT 5 session expiry, seconds: how long the broker keeps the store's session and queues
     * HQ's messages while it is away (MQTT 3.1.1 sessions last as long as the broker keeps them).
     */
    sessionExpiryS: z.number().int().min(0).max(0xffff_ffff).default(7 * 86_400),
    keepaliveS: z.number().int().min(5).max(65_535).default(30),
    connectTimeoutMs: z.number().int().min(1_000).default(10_000),
    /** Reconnect back-off: first delay, then doubling up to `reconnectMaxMs` (with jitter). */
    reconnectMinMs: z.number().int().min(10).default(1_000),
    reconnectMaxMs: z.number().int().min(10).default(60_000),
  })
  .superRefine((upstream, ctx) => {
    if (upstream.password !== undefined && upstream.passwordFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['passwordFile'], message: 'give password or passwordFile, not both' });
    }
    if ((upstream.certFile === undefined) !== (upstream.keyFile === undefined)) {
      ctx.addIssue({ code: 'custom', path: [upstream.certFile === undefined ? 'certFile' : 'keyFile'], message: 'a client certificate needs both certFile and keyFile' });
    }
    if (upstream.reconnectMaxMs < upstream.reconnectMinMs) ctx.addIssue({ code: 'custom', path: ['reconnectMaxMs'], message: 'must be at least reconnectMinMs' });
  });

const uplinkSchema = z
  .strictObject({
    /** Records per batch, at most. */
    batchRecords: z.number().int().min(1).max(MAX_BATCH_RECORDS).default(200),
    /** Bytes of a batch's JSON, at most (a single larger record still goes, alone). */
    batchBytes: z.number().int().min(1_024).max(64 * 1024 * 1024).default(256 * 1024),
    /** Batches sent and not yet acknowledged by HQ, at most. */
    maxInFlightBatches: z.number().int().min(1).max(1_000).default(4),
    /** A batch HQ has not acknowledged after this long is sent again (from the oldest unacknowledged row). */
    ackTimeoutMs: z.number().int().min(100).default(30_000),
    /** Rows queued before the connection came up drain at most this fast; rows queued since go at once. */
    backlogRecordsPerSec: z.number().positive().default(500),
    /** Back-off after a failure (ack timeout, publish error): first delay, doubling up to retryMaxMs (with jitter). */
    retryBaseMs: z.number().int().min(10).default(1_000),
    retryMaxMs: z.number().int().min(10).default(60_000),
    /** How often the outbox is looked at for new rows (one indexed query). */
    pollIntervalMs: z.number().int().min(5).max(60_000).default(100),
  })
  .refine((u) => u.retryMaxMs >= u.retryBaseMs, { path: ['retryMaxMs'], message: 'must be at least retryBaseMs' });

const trustedKeySchema = z.strictObject({
  keyId: z.string().regex(documentIdPattern, 'a key id of 1–128 letters, digits, ".", "_", ":" or "-"'),
  /** base64 of the raw 32-byte Ed25519 public key (`storeedge hq keygen` prints it). */
  publicKey: z.string().refine(isPublicKeyText, 'base64 of a 32-byte Ed25519 public key'),
});

export const syncSettingsSchema = z.strictObject({
  upstream: upstreamSchema,
  /** HQ's document signing keys the store trusts from the start; `keys` documents add and revoke later. */
  trustedKeys: z
    .array(trustedKeySchema)
    .max(64)
    .refine((keys) => new Set(keys.map((k) => k.keyId)).size === keys.length, 'list each keyId once')
    .default([]),
  uplink: uplinkSchema.prefault({}),
  downlink: z
    .strictObject({
      /** Largest document body accepted (a 50 000-SKU catalog is a few MiB). */
      maxBodyBytes: z.number().int().min(1_024).max(1024 * 1024 * 1024).default(64 * 1024 * 1024),
      /** Documents assembled from chunks at once. */
      maxPendingDocuments: z.number().int().min(1).max(64).default(8),
    })
    .prefault({}),
  /** A remote time (a document's issuedAt) further ahead of the store's clock is flagged, not adopted. */
  maxSkewMs: z.number().int().min(1_000).default(60_000),
  /** How often the retained `up/status` message is refreshed. */
  statusIntervalMs: z.number().int().min(1_000).default(60_000),
});

export type SyncSettings = z.output<typeof syncSettingsSchema>;
export type SyncSettingsInput = z.input<typeof syncSettingsSchema>;
export type UplinkSettings = SyncSettings['uplink'];
