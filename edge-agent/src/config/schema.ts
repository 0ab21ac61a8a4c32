import { labelSettingsSchema } from '../labels/settings.ts';
import { z } from 'zod';
import { gtinCheckDigitValid, storeModel } from '@storeedge/device-drivers';
import { rfidPresenceOptions } from '../inventory/rfid/options.ts';
import { weightPipelineOptions } from '../inventory/weight/options.ts';
import { checkoutSettingsSchema } from '../checkout/settings.ts';
import { syncSettingsSchema } from '../sync/settings.ts';
import { accessSettingsFields, checkAccessSettings } from '../http/auth/settings.ts';

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

/** Inventory rules (docs/inventory.md). */
export const inventorySettingsSchema = z.strictObject({
  /** A low/out-of-stock alert clears only when shelf stock rises above minLevel + this many units. */
  alertHysteresisUnits: z.number().int().min(0).max(10_000).default(2),
  /** Shelf changes whose confidence is below this are kept unresolved (with an alert), never guessed. */
  minConfidence: z.number().min(0).max(1).default(0.8),
  /** Misplaced items: scale noise of one settled delta, grams (σ), added to the units' own spread. */
  weightNoiseG: z.number().nonnegative().max(1_000).default(2),
  /**
   * Misplaced items and restocks: relative error of a settled delta (σ share of |Δ|, in quadrature): a change may leave up to
   * 2.5 % of itself on each neighbouring plate, too small to show there (docs/weight-pipeline.md step 6).
   */
  weightRelativeNoise: z.number().min(0).max(0.5).default(0.01),
  /** Misplaced items: a catalog SKU fits a weight change when it is within this many σ of whole units. */
  misplacedMaxZ: z.number().positive().max(10).default(3),
  /** Misplaced items: most units of one SKU a single change is taken to be. */
  misplacedMaxUnits: z.number().int().min(1).max(100).default(3),
  /**
   * Most units of its own SKU a positive change (no restock pending) is taken to be when one unit of a SKU without a facing on
   * the tray fits it too: shoppers put back what they hold, one unit at a time, so 5 × 30 g mints are read as one 150 g
   * misplaced pack. 0 turns the rule off.
   */
  putBackMaxUnits: z.number().int().min(0).max(100).default(1),
});

/** Product recognition (docs/vision-agent.md). */
export const visionSettingsSchema = z.strictObject({
  /** Run the recogniser when the store has cameras or catalogue images are given. false: weight-only, no model loaded. */
  enabled: z.boolean().default(true),
  /** Inference worker threads, each with its own onnxruntime session. */
  workers: z.number().int().min(1).max(16).default(1),
  /** The recogniser's manifest.json; default the committed models/recogniser/manifest.json. Relative paths are relative to the config file. */
  manifest: z.string().min(1).optional(),
  /** identify() uses a frame at most this many ms from the asked time; none that close: no evidence. */
  maxFrameGapMs: z.number().int().min(0).max(10_000).default(150),
  /** identifyBest() looks at up to this many frames before the asked time… */
  bestOfFrames: z.number().int().min(1).max(30).default(3),
  /** …captured at most this many ms before it. */
  bestOfSpanMs: z.number().int().min(0).max(10_000).default(500),
});

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The store: its model (catalog and layout; later replaced by HQ planograms) and inventory rules. */
const storeSchema = z.strictObject({
  /** Catalog, zones, gondolas → bays → shelves → trays → facings (device-drivers/src/store-model.ts). */
  model: storeModel,
  /** The store's GLN (13 digits); names the store as bizLocation in EPCIS exports. */
  gln: z
    .string()
    .regex(/^\d{13}$/, 'a GLN is 13 digits')
    .refine(gtinCheckDigitValid, 'GLN check digit is wrong')
    .optional(),
  /** IANA time zone of the store, for EPCIS eventTimeZoneOffset. */
  timeZone: z.string().refine(isTimeZone, 'use an IANA time zone such as "Europe/Berlin" or "UTC"').default('UTC'),
  inventory: inventorySettingsSchema.prefault({}),
  /** Weight signal pipeline: settle detection, drift, bursts, cross-talk, quantity (docs/weight-pipeline.md). */
  weight: weightPipelineOptions.prefault({}),
  /** RFID presence smoothing: k-of-n windows, timeouts, cross-reads, exits (docs/rfid-presence.md). */
  rfid: rfidPresenceOptions.prefault({}),
  /** Walk-out checkout: review threshold, settling, tracking, attribution, promotions (docs/checkout.md). */
  checkout: checkoutSettingsSchema.prefault({}),
  /** Shelf labels: render workers and delivery (docs/esl.md). */
  esl: z
    .strictObject({
      /** Label render worker threads (default: cores − 1, at least 1). */
      renderWorkers: z.number().int().min(1).max(64).optional(),
      delivery: labelSettingsSchema.prefault({}),
    })
    .optional(),
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
      /** Who may log in, machine clients' tokens, sessions and login throttling (docs/dashboard.md "Access"). None by default. */
      ...accessSettingsFields,
    })
    .superRefine(checkAccessSettings)
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .default({ level: 'info' }),
  /**
   * Devices wired to this host by serial line (shelf controllers, M100 RFID modules). Each must be
   * registered with a serial driver (`device add ID --kind shelf --driver storeedge-shelf-serial`).
   * Paths are explicit: ports are never discovered by listing (docs/shelf-controller.md, docs/rfid.md).
   */
  serialDevices: z
    .array(
      z.strictObject({
        device: z.string().min(1).max(64),
        driver: z.enum(['storeedge-shelf-serial', 'm100-serial']),
        path: z.string().min(1),
        baudRate: z.number().int().positive().optional(),
        antenna: z.number().int().min(0).max(64).optional(),
        calibration: z
          .record(z.string().regex(/^\d+$/, 'calibration keys are channel numbers'), z.strictObject({ offsetCounts: z.number().finite().optional(), gramsPerCount: z.number().finite().optional() }))
          .optional(),
      }),
    )
    .default([]),
  /** The store model and inventory rules; without it the agent runs no inventory (GET /api/stock answers 503). */
  store: storeSchema.optional(),
  /**
   * Product recognition from shelf-camera frames (docs/vision-agent.md): the recogniser model in
   * worker threads, a gallery from catalogue images, evidence for fusion. Off, or unavailable,
   * the agent runs weight-only.
   */
  vision: visionSettingsSchema.prefault({}),
  /**
   * HQ sync (docs/sync.md): uplink of the ledger's outbox and signed documents down, through an
   * upstream MQTT broker. Absent: the store runs on its own and queues its outbox.
   */
  sync: syncSettingsSchema.optional(),
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
export type StoreConfig = z.output<typeof storeSchema>;
export type InventorySettings = z.output<typeof inventorySettingsSchema>;
export type VisionSettings = z.output<typeof visionSettingsSchema>;
export type { SyncSettings } from '../sync/settings.ts';
