import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { syncTopics, type SyncTopics } from '@storeedge/sync';
import { errors } from '../errors.ts';
import type { Ledger } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { backoffMs, realSyncClock, type SyncClock } from './clock.ts';
import type { DocumentPriceBook, StoreParts } from './document-handlers.ts';
import { DownlinkApplier, type ChunkOutcome, type DownlinkStatus } from './downlink-applier.ts';
import type { SyncSettings } from './settings.ts';
import { UplinkRelay, type AckApplied } from './uplink-relay.ts';

export interface SyncServiceOptions {
  storeId: string;
  settings: SyncSettings;
  ledger: Ledger;
  prices: DocumentPriceBook;
  /** The parts that take orders, planograms and model releases (docs/sync.md "What applying means"). */
  parts?: StoreParts;
  /** The store's clock (the price book's): documents' effective times and expiry. */
  storeNow: () => number;
  /** Timers of the link (ack timeouts, back-off, status); default real time. */
  clock?: SyncClock;
  random?: () => number;
  /** Reported in `up/status`. */
  agentVersion: string;
  metrics?: Metrics;
  logger?: Logger;
}

/** What the service tells observers (tests and scenario reports wait on these instead of polling). */
export interface SyncServiceEvents {
  connected: [];
  disconnected: [];
  /** An ack from HQ, applied to the outbox. */
  ack: [AckApplied];
  /** A document applied, found a duplicate, or refused (chunks that only buffer are not reported). */
  document: [Exclude<ChunkOutcome, { status: 'incomplete' }>];
}

/** `sync` in GET /api/health. */
export interface SyncHealth {
  url: string;
  connected: boolean;
  /** Since when the link is up (connected) or down (not connected), ms. */
  since: number;
  epoch: string;
  /** Outbox rows HQ has not acknowledged, per stream, with the age of the oldest. */
  backlog: Array<{ stream: string; pending: number; oldestAgeS: number }>;
  pending: number;
  oldestUnsentAgeS: number | null;
  /** Rows HQ refused for good (kept in the ledger, not re-sent). */
  rejected: number;
  uplink: {
    inFlightBatches: number;
    drainingBacklog: boolean;
    lastAckAt: number | null;
    watermark: number;
    consecutiveFailures: number;
    lastError: string | null;
    retryAt: number | null;
  };
  documents: DownlinkStatus;
  /** A planogram waiting for its effective time (docs/sync.md "Planograms"), or null. */
  planogram: { docId: string; version: number; effectiveFrom: number } | null;
}

/** The retained `up/status` payload (the last will says `offline`). */
export interface StoreSyncStatus {
  v: 1;
  store: string;
  state: 'online' | 'offline';
  at?: number;
  epoch: string;
  agentVersion: string;
  pending?: number;
  oldestUnsentAt?: number | null;
  lastAckAt?: number | null;
  versions?: DownlinkStatus['versions'];
}

/**
 * The store's link to HQ (docs/sync.md): one MQTT client to the upstream broker (client id and
 * default username = store id, persistent session, QoS 1), the uplink relay on `up/batch` and
 * `down/ack`, the downlink applier on `down/doc`, and a retained `up/status` with an `offline`
 * last will. Nothing in the store waits on it: `start` returns at once, the link comes and goes
 * with its own back-off, and the outbox keeps everything until HQ has it.
 */
export class SyncService extends EventEmitter<SyncServiceEvents> {
  readonly relay: UplinkRelay;
  readonly applier: DownlinkApplier;
  readonly topics: SyncTopics;
  readonly #o: SyncServiceOptions;
  readonly #clock: SyncClock;
  readonly #random: () => number;
  #client: MqttClient | undefined;
  #connected = false;
  #since: number;
  #reconnectFailures = 0;
  #reconnectTimer: unknown;
  #statusTimer: unknown;
  #lastStatusAt = 0;
  #stopping = false;

  constructor(options: SyncServiceOptions) {
    super();
    this.#o = options;
    this.#clock = options.clock ?? realSyncClock;
    this.#random = options.random ?? Math.random;
    this.#since = this.#clock.now();
    this.topics = syncTopics(options.storeId);
    this.relay = new UplinkRelay({
      ledger: options.ledger,
      storeId: options.storeId,
      settings: options.settings.uplink,
      publish: (payload) => this.#publish(this.topics.batch, payload, false),
      clock: this.#clock,
      random: this.#random,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      onAck: (ack) => this.#emitSafely('ack', ack),
    });
    this.applier = new DownlinkApplier({
      ledger: options.ledger,
      prices: options.prices,
      ...(options.parts ? { parts: options.parts } : {}),
      storeId: options.storeId,
      trustedKeys: options.settings.trustedKeys,
      now: options.storeNow,
      maxBodyBytes: options.settings.downlink.maxBodyBytes,
      maxPendingDocuments: options.settings.downlink.maxPendingDocuments,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Starts the link; returns at once (the first connection is made in the background). Throws EDGE_ERR_CONFIG_UNREADABLE for a missing secret file. */
  start(): void {
    const options = this.#clientOptions();
    if (this.#o.settings.trustedKeys.length === 0 && this.applier.keyRing.list().length === 0) {
      this.#o.logger?.warn('sync.trustedKeys is empty: every HQ document will be refused (SYNC_ERR_DOC_UNKNOWN_KEY)');
    }
    const client = mqtt.connect(this.#o.settings.upstream.url, options);
    this.#client = client;
    // Handled here rather than on 'message': mqtt.js sends the PUBACK after this callback, so a
    // document is committed before the broker may forget it (a crash before: delivered again).
    client.handleMessage = (packet, done) => {
      try {
        this.#onMessage(packet);
        done();
      } catch (err) {
        this.#o.logger?.error({ err, topic: packet.topic }, 'sync message not processed; not acknowledged to the broker');
        done(err as Error);
      }
    };
    client.on('connect', (connack) => void this.#onConnect(client, connack.sessionPresent));
    client.on('close', () => this.#onClose());
    // One warning per outage; the reconnect attempts that follow log at debug (an outage of hours is thousands of them).
    let errorsSinceConnect = 0;
    client.on('connect', () => (errorsSinceConnect = 0));
    client.on('error', (err) => {
      const level = errorsSinceConnect++ === 0 ? 'warn' : 'debug';
      this.#o.logger?.[level]({ err: err.message, url: this.#o.settings.upstream.url }, 'upstream broker error');
    });
    this.relay.start();
  }

  /** Stops the link: `offline` status (retained), then disconnect. Pending rows stay in the outbox. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.relay.stop();
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#clock.clearTimeout(this.#statusTimer);
    const client = this.#client;
    this.#client = undefined;
    if (!client) return;
    if (client.connected) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        client.publishAsync(this.topics.status, JSON.stringify(this.#status('offline')), { qos: 1, retain: true }).catch(() => undefined),
        new Promise((resolve) => (timer = setTimeout(resolve, 2_000))),
      ]);
      clearTimeout(timer);
    }
    await client.endAsync(!client.connected).catch((err: unknown) => this.#o.logger?.warn({ err }, 'upstream disconnect failed'));
    this.#setConnected(false);
  }

  health(): SyncHealth {
    const now = this.#clock.now();
    const backlog = this.#o.ledger.outboxBacklog();
    const relay = this.relay.status();
    const oldest = backlog.length === 0 ? null : Math.min(...backlog.map((b) => b.oldestCreatedAt));
    return {
      url: this.#o.settings.upstream.url,
      connected: this.#connected,
      since: this.#since,
      epoch: relay.epoch,
      backlog: backlog.map((b) => ({ stream: b.stream, pending: b.pending, oldestAgeS: ageS(now, b.oldestCreatedAt) })),
      pending: backlog.reduce((sum, b) => sum + b.pending, 0),
      oldestUnsentAgeS: oldest === null ? null : ageS(now, oldest),
      rejected: this.#o.ledger.stats().outboxRejected,
      uplink: {
        inFlightBatches: relay.inFlightBatches,
        drainingBacklog: relay.drainingBacklog,
        lastAckAt: relay.lastAckAt,
        watermark: relay.watermark,
        consecutiveFailures: relay.consecutiveFailures,
        lastError: relay.lastError,
        retryAt: relay.retryAt,
      },
      documents: this.applier.status(),
      planogram: this.#o.parts?.planograms?.pending?.() ?? null,
    };
  }

  /** Refreshes the sync gauges (called before a scrape). */
  collectMetrics(metrics: Metrics): void {
    const now = this.#clock.now();
    const backlog = this.#o.ledger.outboxBacklog();
    metrics.syncConnected.set(this.#connected ? 1 : 0);
    metrics.syncBacklog.reset();
    for (const b of backlog) metrics.syncBacklog.set({ stream: b.stream }, b.pending);
    metrics.syncOldestUnsentAge.set(backlog.length === 0 ? 0 : ageS(now, Math.min(...backlog.map((b) => b.oldestCreatedAt))));
  }

  // ── link ──────────────────────────────────────────────────────────────────────────────────

  #clientOptions(): IClientOptions {
    const { storeId, settings } = this.#o;
    const upstream = settings.upstream;
    const read = (file: string, what: string): Buffer => {
      try {
        return readFileSync(file);
      } catch (cause) {
        throw errors.EDGE_ERR_CONFIG_UNREADABLE(`cannot read sync.upstream.${what}: ${(cause as Error).message}`, { cause });
      }
    };
    const password = upstream.password ?? (upstream.passwordFile ? read(upstream.passwordFile, 'passwordFile').toString('utf8').split(/\r?\n/)[0]!.trim() : undefined);
    const will: StoreSyncStatus = { v: 1, store: storeId, state: 'offline', epoch: this.#o.ledger.epoch, agentVersion: this.#o.agentVersion };
    return {
      clientId: storeId,
      username: upstream.username ?? storeId,
      ...(password === undefined ? {} : { password }),
      clean: false,
      protocolVersion: upstream.protocolVersion,
      // MQTT 5 ends a session at disconnect unless it has an expiry: HQ's messages must wait for the store.
      ...(upstream.protocolVersion === 5 ? { properties: { sessionExpiryInterval: upstream.sessionExpiryS } } : {}),
      keepalive: upstream.keepaliveS,
      connectTimeout: upstream.connectTimeoutMs,
      // Reconnects are ours (#onClose), with exponential back-off and jitter.
      reconnectPeriod: 0,
      resubscribe: false,
      will: { topic: this.topics.status, payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
      ...(upstream.caFile ? { ca: read(upstream.caFile, 'caFile') } : {}),
      ...(upstream.certFile ? { cert: read(upstream.certFile, 'certFile') } : {}),
      ...(upstream.keyFile ? { key: read(upstream.keyFile, 'keyFile') } : {}),
      rejectUnauthorized: upstream.rejectUnauthorized,
    };
  }

  async #onConnect(client: MqttClient, sessionPresent: boolean): Promise<void> {
    this.#reconnectFailures = 0;
    try {
      // Every time, not only without a session: the subscription must exist whatever the broker kept.
      await client.subscribeAsync([this.topics.ack, this.topics.doc], { qos: 1 });
    } catch (err) {
      this.#o.logger?.warn({ err: (err as Error).message }, 'subscribing to down/ack and down/doc failed; reconnecting');
      // Drop this connection only (#onClose reconnects with back-off). Not `end()`: it closes the
      // client's message stores, and the reconnect, which hands them over to keep QoS 1 messages
      // in flight, then crashes the process on the closed store (a broker going down between
      // CONNACK and SUBACK did exactly that).
      if (client === this.#client) client.stream.destroy();
      return;
    }
    if (client !== this.#client || !client.connected) return;
    this.#setConnected(true);
    this.#o.logger?.info({ url: this.#o.settings.upstream.url, sessionPresent, epoch: this.#o.ledger.epoch }, 'connected to the upstream broker');
    this.relay.connected();
    this.#publishStatus();
  }

  #onClose(): void {
    const wasConnected = this.#connected;
    this.#setConnected(false);
    this.relay.disconnected();
    this.#clock.clearTimeout(this.#statusTimer);
    if (this.#stopping || this.#client === undefined) return;
    this.#reconnectFailures += 1;
    const upstream = this.#o.settings.upstream;
    const delay = backoffMs(this.#reconnectFailures, upstream.reconnectMinMs, upstream.reconnectMaxMs, this.#random);
    if (wasConnected) this.#o.logger?.warn({ url: upstream.url, retryInMs: delay }, 'upstream broker connection lost; the store keeps selling and queues its outbox');
    else this.#o.logger?.debug({ url: upstream.url, retryInMs: delay, failures: this.#reconnectFailures }, 'upstream broker not reachable');
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      const client = this.#client;
      if (!client || this.#stopping || client.connected) return;
      // Keep mqtt.js's stores: QoS 1 messages in flight are re-sent on the new connection.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
    }, delay);
  }

  #setConnected(connected: boolean): void {
    const changed = this.#connected !== connected;
    if (changed) this.#since = this.#clock.now();
    this.#connected = connected;
    this.#o.metrics?.syncConnected.set(connected ? 1 : 0);
    if (changed) this.#emitSafely(connected ? 'connected' : 'disconnected');
  }

  /** An observer that throws must not break the link (nor un-acknowledge a committed document). */
  #emitSafely<K extends keyof SyncServiceEvents>(event: K, ...args: SyncServiceEvents[K]): void {
    try {
      (this.emit as (event: K, ...args: SyncServiceEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.logger?.error({ err, event }, 'sync event listener failed');
    }
  }

  #onMessage(packet: IPublishPacket): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    if (packet.topic === this.topics.ack) this.relay.handleAck(payload);
    else if (packet.topic === this.topics.doc) {
      const outcome = this.applier.accept(payload);
      if (outcome.status !== 'incomplete') this.#emitSafely('document', outcome);
    }
    else this.#o.logger?.warn({ topic: packet.topic }, 'message on an unexpected upstream topic ignored');
  }

  // ── status ────────────────────────────────────────────────────────────────────────────────

  #publishStatus(): void {
    this.#clock.clearTimeout(this.#statusTimer);
    if (!this.#connected || this.#stopping) return;
    this.#publish(this.topics.status, JSON.stringify(this.#status('online')), true).catch((err: unknown) =>
      this.#o.logger?.debug({ err: (err as Error).message }, 'publishing up/status failed'),
    );
    this.#statusTimer = this.#clock.setTimeout(() => this.#publishStatus(), this.#o.settings.statusIntervalMs);
  }

  #status(state: 'online' | 'offline'): StoreSyncStatus {
    // G10: status never goes back in time, even when the wall clock does.
    const at = Math.max(this.#clock.now(), this.#lastStatusAt + 1);
    this.#lastStatusAt = at;
    const backlog = this.#o.ledger.outboxBacklog();
    const relay = this.relay.status();
    return {
      v: 1,
      store: this.#o.storeId,
      state,
      at,
      epoch: relay.epoch,
      agentVersion: this.#o.agentVersion,
      pending: backlog.reduce((sum, b) => sum + b.pending, 0),
      oldestUnsentAt: backlog.length === 0 ? null : Math.min(...backlog.map((b) => b.oldestCreatedAt)),
      lastAckAt: relay.lastAckAt,
      versions: this.applier.status().versions,
    };
  }

  #publish(topic: string, payload: string, retain: boolean): Promise<void> {
    const client = this.#client;
    if (!client) return Promise.reject(errors.EDGE_ERR_INTERNAL('the upstream link is stopped'));
    return client.publishAsync(topic, payload, { qos: 1, retain }).then(() => undefined);
  }
}

function ageS(now: number, at: number): number {
  return Math.max(0, Math.round((now - at) / 1000));
}
