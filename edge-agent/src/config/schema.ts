import { z } from 'zod';

/**
 * The agent's configuration: schema and defaults side by side. docs/configuration.md documents
 * every field; change both together.
 */
const port = z.number().int().min(0).max(65535);

export const storeIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

const tlsSchema = z.strictObject({
  /** PEM certificate chain file. */
  certFile: z.string().min(1),
  /** PEM private key file. */
  keyFile: z.string().min(1),
  /** MQTT over TLS port. Default 8883. */
  port: port.default(8883),
});

const externalSchema = z.strictObject({
  /** mqtt://, mqtts://, ws:// or wss:// URL of the external broker. */
  url: z.string().regex(/^(mqtts?|wss?):\/\/.+/, 'must be an mqtt://, mqtts://, ws:// or wss:// URL'),
  /** User the agent connects as; the broker must let it read device topics and write cmd/ and out/. */
  username: z.string().min(1),
  /** File holding the agent's password (never the password itself in config). */
  passwordFile: z.string().min(1),
  /** CA file to verify an mqtts:// broker. */
  caFile: z.string().min(1).optional(),
});

export const configSchema = z.strictObject({
  /** Store id used in every topic: lowercase letters, digits and '-'. */
  storeId: z.string().regex(storeIdPattern, "use lowercase letters, digits and '-', e.g. \"store-042\""),
  /** Folder for the ledger and other state. Relative paths are relative to the config file. */
  dataDir: z.string().min(1).default('.storeedge'),
  ledger: z
    .strictObject({
      /** Ledger file; defaults to <dataDir>/ledger.db. */
      file: z.string().min(1).optional(),
      /** SQLite synchronous mode: 'full' survives power loss, 'normal' survives a process crash only. */
      synchronous: z.enum(['full', 'normal']).default('full'),
      /** How often the WAL is checkpointed (TRUNCATE), ms. */
      checkpointIntervalMs: z.number().int().min(1000).default(600_000),
    })
    .default({ synchronous: 'full', checkpointIntervalMs: 600_000 }),
  broker: z
    .strictObject({
      /** 'embedded' runs aedes in the agent; 'external' joins another broker as a client. */
      mode: z.enum(['embedded', 'external']).default('embedded'),
      /** Interface the embedded broker listens on. */
      host: z.string().min(1).default('0.0.0.0'),
      /** MQTT over TCP port (0 picks a free port). */
      tcpPort: port.default(1883),
      /** MQTT over WebSocket port; null turns WebSocket off. */
      wsPort: port.nullable().default(9001),
      tls: tlsSchema.optional(),
      external: externalSchema.optional(),
      /** Connections beyond this are refused at CONNECT. */
      maxConnections: z.number().int().min(1).default(5000),
      /** A packet larger than this closes its connection before it is buffered whole. */
      maxPacketBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
      /** Seconds a client may set as keep-alive at most (0: no limit). */
      keepaliveLimitS: z.number().int().min(0).default(300),
      /** Slow subscribers are dropped after this many ms of back-pressure (aedes drainTimeout). */
      drainTimeoutMs: z.number().int().min(1000).default(30_000),
      /** ms a client has to send CONNECT. */
      connectTimeoutMs: z.number().int().min(100).default(10_000),
    })
    .default({
      mode: 'embedded',
      host: '0.0.0.0',
      tcpPort: 1883,
      wsPort: 9001,
      maxConnections: 5000,
      maxPacketBytes: 4 * 1024 * 1024,
      keepaliveLimitS: 300,
      drainTimeoutMs: 30_000,
      connectTimeoutMs: 10_000,
    }),
  ingest: z
    .strictObject({
      /** Device payloads larger than this are rejected (counted, connection kept). */
      maxPayloadBytes: z.number().int().min(64).default(64 * 1024),
      /** Token bucket per device: sustained messages per second. */
      ratePerSecond: z.number().positive().default(100),
      /** Token bucket per device: burst size. */
      rateBurst: z.number().int().min(1).default(200),
    })
    .default({ maxPayloadBytes: 64 * 1024, ratePerSecond: 100, rateBurst: 200 }),
  http: z
    .strictObject({
      /** Interface of the HTTP API and dashboard. */
      host: z.string().min(1).default('127.0.0.1'),
      /** HTTP port (0 picks a free port). */
      port: port.default(8080),
    })
    .default({ host: '127.0.0.1', port: 8080 }),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
}).superRefine((config, ctx) => {
  if (config.broker.mode === 'external' && config.broker.external === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['broker', 'external'],
      message: "broker.mode is 'external': set broker.external { url, username, passwordFile }",
    });
  }
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
