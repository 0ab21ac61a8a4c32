import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_CHUNK_BYTES, documentIdPattern } from '../documents.ts';
import { storeIdPattern } from '../topics.ts';
import { HqError } from './hq-errors.ts';

/**
 * The reference HQ's configuration (`storeedge hq serve --config FILE`): schema and defaults side
 * by side, validated once, paths resolved against the config file, frozen. docs/sync.md
 * "Reference HQ" documents the fields.
 */

const port = z.number().int().min(0).max(65535);
const passwordSha256 = z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the store\'s password, 64 lowercase hex digits (`storeedge hq store-credentials ID` prints it)');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the admin token, 64 lowercase hex digits (`storeedge hq token` prints it)');

const upstreamSchema = z
  .strictObject({
    /** mqtt://, mqtts://, ws:// or wss:// URL of the upstream broker the stores use. */
    url: z.string().regex(/^(mqtts?|wss?):\/\/.+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
    /** Username on the broker; the broker ACL gives `hq` read of every store's up/ and write of down/. */
    username: z.string().min(1).default('hq'),
    /** MQTT client id; one HQ process per id (a second one would take the session over). */
    clientId: z.string().min(1).max(128).default('hq'),
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
     * MQTT 5 session expiry, seconds: how long the broker keeps HQ's session (its subscriptions
     * and the batches queued for it) while HQ is down. Default 7 days.
     */
    sessionExpiryS: z.number().int().min(0).max(0xffff_ffff).default(7 * 86_400),
    keepaliveS: z.number().int().min(5).max(65_535).default(30),
    connectTimeoutMs: z.number().int().min(1_000).default(10_000),
    /** Reconnect back-off: first delay, then doubling up to `reconnectMaxMs`. */
    reconnectMinMs: z.number().int().min(10).default(1_000),
    reconnectMaxMs: z.number().int().min(10).default(30_000),
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

/** HQ's own client on its embedded broker; no store may take this id. */
export const HQ_BROKER_USER = 'hq';

const storeCredentialSchema = z.strictObject({
  /** The store's id: its MQTT username and client id (the agent's `storeId`). */
  id: z
    .string()
    .regex(storeIdPattern, 'a store id (1–64 of A–Z a–z 0–9 _ -)')
    .refine((id) => id !== HQ_BROKER_USER, `"${HQ_BROKER_USER}" is HQ's own user on the broker; give the store another id`),
  /**
   * sha256 (hex) of the store's broker password, or a list of up to 4 (rotation: add the new
   * hash, move the store to the new password, remove the old one). Only the hash is kept here;
   * `storeedge hq store-credentials ID` makes a random 256-bit password and prints both. A plain
   * sha256 is safe only for such random passwords, never for one a person chose.
   */
  passwordSha256: z.union([passwordSha256, z.array(passwordSha256).min(1).max(4)]).transform((hash) => (typeof hash === 'string' ? [hash] : hash)),
});

const brokerSchema = z
  .strictObject({
    /** Interface the stores connect to. Loopback by default; bind beyond it only with `tls` (passwords cross the wire). */
    host: z.string().min(1).default('127.0.0.1'),
    /** Plain MQTT (TCP) port for the stores; 0 picks a free one, null turns it off (TLS only). */
    tcpPort: port.nullable().default(1883),
    /** MQTT over TLS for the stores (their `sync.upstream.url` is then mqtts://). */
    tls: z
      .strictObject({
        /** PEM certificate chain file. */
        certFile: z.string().min(1),
        /** PEM private key file. */
        keyFile: z.string().min(1),
        port: port.default(8883),
      })
      .optional(),
    /** The stores allowed to connect, with their password hashes. Unknown stores are refused. */
    stores: z
      .array(storeCredentialSchema)
      .default([])
      .refine((stores) => new Set(stores.map((s) => s.id)).size === stores.length, 'list each store id once'),
    /** Connections beyond this are refused at CONNECT. */
    maxConnections: z.number().int().min(1).default(10_000),
    /**
     * A packet larger than this closes its connection before it is buffered whole. Must exceed
     * the stores' `sync.uplink.batchBytes` and HQ's document chunk messages.
     */
    maxPacketBytes: z.number().int().min(64 * 1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
    /** Messages kept for one disconnected client's session, at most; newer ones are dropped (the sender re-sends). */
    maxQueuedMessages: z.number().int().min(1).default(1_000),
    /** Payload bytes kept for one disconnected client's session, at most. */
    maxQueuedBytes: z.number().int().min(64 * 1024).default(16 * 1024 * 1024),
    /** Seconds a client may set as keep-alive at most (0: no limit). */
    keepaliveLimitS: z.number().int().min(0).default(300),
    /** A client that does not read is dropped after this many ms of back-pressure (aedes drainTimeout). */
    drainTimeoutMs: z.number().int().min(1_000).default(30_000),
    /** ms a client has to send CONNECT. */
    connectTimeoutMs: z.number().int().min(100).default(10_000),
  })
  .superRefine((broker, ctx) => {
    if (broker.tcpPort === null && broker.tls === undefined) ctx.addIssue({ code: 'custom', path: ['tcpPort'], message: 'with tcpPort null, give tls (else no store can connect)' });
  });

const httpSchema = z.strictObject({
  /** Address to bind. Loopback by default: put a TLS proxy in front to reach it from elsewhere. */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port (0 picks a free one). */
  port: port.default(8470),
  /**
   * sha256 (hex) of the admin token that mutating requests (publishing documents) must carry as
   * `Authorization: Bearer <token>`. Only the hash is kept here. Without it the API is read-only.
   */
  adminTokenSha256: sha256Hex.optional(),
  /** Require the admin token on reads too (store records, documents); set it when binding beyond loopback. */
  readsRequireToken: z.boolean().default(false),
  /** Largest request body, bytes (a full catalogue is a few MB). */
  maxBodyBytes: z.number().int().min(1024).default(32 * 1024 * 1024),
});

export const hqConfigSchema = z.strictObject({
  /** Directory for the HQ database (relative to the config file). */
  dataDir: z.string().min(1).default('.'),
  /** HQ database file; default `<dataDir>/hq.db`. */
  database: z.string().min(1).optional(),
  /** The key HQ signs documents with (`storeedge hq keygen --out FILE` makes one). HQ does not start without it. */
  signingKey: z.strictObject({
    /** Id the stores know the public key by (their `sync.trustedKeys`). */
    keyId: z.string().regex(documentIdPattern, 'a key id of 1–128 letters, digits, ".", "_", ":" or "-"'),
    /** PKCS#8 PEM file of the Ed25519 private key, mode 0600. */
    file: z.string().min(1),
  }),
  /** The external upstream broker HQ joins as user `hq`. Give this or `broker`. */
  upstream: upstreamSchema.optional(),
  /**
   * Run an MQTT broker inside HQ (aedes) for the stores, with the ACL of docs/sync.md; HQ's own
   * client then uses it and needs no `upstream`. Sessions live in memory: see docs/sync.md.
   */
  broker: brokerSchema.optional(),
  /**
   * The chain's stores. HQ also learns stores from the broker as they connect; a document to
   * `["*"]` goes to these and every store seen. Listing them lets status show a store that never
   * connected, and lets a document name a store before its first connection.
   */
  stores: z.array(z.string().regex(storeIdPattern, 'a store id (1–64 of A–Z a–z 0–9 _ -)')).default([]),
  http: httpSchema.default(httpSchema.parse({})),
  documents: z
    .strictObject({
      /** Body bytes per chunk message (keep it under the broker's message size limit). */
      chunkBytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(DEFAULT_CHUNK_BYTES),
      /** Re-send a store's unanswered, unexpired documents when it comes back online. */
      resendOnReconnect: z.boolean().default(true),
    })
    .default({ chunkBytes: DEFAULT_CHUNK_BYTES, resendOnReconnect: true }),
  log: z
    .strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
    .default({ level: 'info' }),
}).superRefine((config, ctx) => {
  if (config.upstream === undefined && config.broker === undefined) {
    ctx.addIssue({ code: 'custom', path: ['upstream'], message: 'give upstream (an external broker HQ joins) or broker (the embedded one)' });
  }
  if (config.upstream !== undefined && config.broker !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['broker'], message: 'give upstream (an external broker) or broker (the embedded one), not both' });
  }
  // A chunk message is its base64 data plus the signed header; it crosses HQ's own connection.
  const chunkMessageBytes = Math.ceil((config.documents.chunkBytes * 4) / 3) + 16 * 1024;
  if (config.broker !== undefined && chunkMessageBytes > config.broker.maxPacketBytes) {
    ctx.addIssue({
      code: 'custom',
      path: ['broker', 'maxPacketBytes'],
      message: `must exceed a document chunk message (${chunkMessageBytes} bytes for documents.chunkBytes ${config.documents.chunkBytes}); raise it or lower documents.chunkBytes`,
    });
  }
});

export type HqConfigInput = z.input<typeof hqConfigSchema>;
export type HqConfig = z.infer<typeof hqConfigSchema>;

export interface ResolvedHqConfig extends HqConfig {
  /** Absolute database path (dataDir and database resolved), or ':memory:'. */
  readonly databaseFile: string;
}

/**
 * Validates a raw config once, fills defaults, resolves paths against baseDir and returns a
 * deep-frozen object. Errors list every problem with the path of the field to fix.
 */
export function loadHqConfig(raw: unknown, baseDir: string = process.cwd()): Readonly<ResolvedHqConfig> {
  const parsed = hqConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new HqError('SYNC_ERR_HQ_CONFIG_INVALID', `HQ configuration is invalid; fix these fields:\n${problems.join('\n')}`, parsed.error.issues);
  }
  const config = parsed.data;
  const abs = (p: string) => (isAbsolute(p) || p === ':memory:' ? p : resolve(baseDir, p));
  const absOptional = (p: string | undefined) => (p === undefined ? undefined : abs(p));
  const dataDir = abs(config.dataDir);
  const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const upstream = config.upstream && {
    ...config.upstream,
    passwordFile: absOptional(config.upstream.passwordFile),
    caFile: absOptional(config.upstream.caFile),
    certFile: absOptional(config.upstream.certFile),
    keyFile: absOptional(config.upstream.keyFile),
  };
  const broker = config.broker && {
    ...config.broker,
    tls: config.broker.tls && { ...config.broker.tls, certFile: abs(config.broker.tls.certFile), keyFile: abs(config.broker.tls.keyFile) },
  };
  const resolved: ResolvedHqConfig = defined({
    ...config,
    dataDir,
    databaseFile: config.database ? abs(config.database) : resolve(dataDir, 'hq.db'),
    signingKey: { ...config.signingKey, file: abs(config.signingKey.file) },
    upstream: upstream && defined(upstream),
    broker: broker && defined(broker),
  });
  return deepFreeze(resolved);
}

/** The chain's stores HQ knows from its config: `stores` and the embedded broker's `broker.stores`. */
export function configuredStores(config: Pick<HqConfig, 'stores' | 'broker'>): string[] {
  return [...new Set([...config.stores, ...(config.broker?.stores.map((s) => s.id) ?? [])])];
}

/** Reads a JSON config file and validates it; paths in it are relative to the file. */
export function loadHqConfigFile(file: string): Readonly<ResolvedHqConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new HqError('SYNC_ERR_HQ_CONFIG_UNREADABLE', `cannot read HQ config file ${file}: ${(cause as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new HqError('SYNC_ERR_HQ_CONFIG_INVALID', `HQ config file ${file} is not valid JSON: ${(cause as Error).message}`);
  }
  return loadHqConfig(raw, dirname(resolve(file)));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
