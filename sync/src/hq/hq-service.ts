import { EventEmitter } from 'node:events';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { buildDocument, DOCUMENT_KINDS, type DocumentKind } from '../documents.ts';
import { HQ_SUBSCRIPTIONS, isValidStoreId, parseSyncTopic, syncTopics } from '../topics.ts';
import { DEFAULT_MAX_SKEW_MS, parseHlc } from '../hlc.ts';
import { parseUplinkBatch, toRanges, type UplinkAck, type UplinkBatch } from '../uplink.ts';
import { HqError } from './hq-errors.ts';
import type { CheckpointFork, DocumentOutcome, HqStore, RejectedRecord } from './hq-store.ts';
import { silentLogger, type Logger } from './log.ts';
import { storeConnected } from './store-status.ts';

/**
 * The reference HQ on the upstream broker: one MQTT client (user `hq`, persistent session,
 * QoS 1) that ingests every store's uplink batches into the HqStore and acks each one only
 * after its transaction committed, tracks the stores' retained status, and signs and delivers
 * documents. Everything it must not lose is in the HqStore first; the broker is a pipe.
 */

/** How HQ reaches the upstream broker (secrets already read from their files). */
export interface UpstreamConnection {
  url: string;
  username: string;
  clientId: string;
  password?: string;
  /** PEM contents, not paths. */
  ca?: string;
  cert?: string;
  key?: string;
  rejectUnauthorized?: boolean;
  protocolVersion?: 4 | 5;
  sessionExpiryS?: number;
  keepaliveS?: number;
  connectTimeoutMs?: number;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface HqServiceOptions {
  store: HqStore;
  /** HQ's document signing key. */
  signingKey: { keyId: string; privateKeyPem: string; publicKey: string };
  upstream: UpstreamConnection;
  /** The chain's configured stores (known before they connect). */
  stores?: readonly string[];
  /** Document body bytes per chunk message. */
  chunkBytes?: number;
  /** Re-send a store's unanswered documents when it comes back online. Default true. */
  resendOnReconnect?: boolean;
  logger?: Logger;
  /** HQ wall clock, ms. Injected for tests. */
  now?: () => number;
  /** A record stamped further ahead of HQ's clock than this is flagged (SYNC_ERR_CLOCK_SKEW; G8), not refused. Default 60 s. */
  maxSkewMs?: number;
  /** Sees every message from the stores before HQ handles it (an egress audit: the scenario runner's PII scan). */
  tap?: (topic: string, payload: Buffer) => void;
}

export interface PublishDocumentInput {
  kind: DocumentKind;
  /** Store ids, or ['*'] for every store HQ knows. */
  stores: readonly string[];
  body: unknown;
  effectiveFrom?: number | null;
  expiresAt?: number | null;
}

export interface PublishedDocument {
  id: string;
  version: number;
  /** The stores it is delivered to (['*'] resolved). */
  stores: string[];
}

export interface HqCounters {
  /** Batch messages received (any outcome). */
  batches: number;
  /** Batches that were not valid uplink batches: counted, logged, not acked. */
  batchesMalformed: number;
  /** Batches whose `store` is not the store of their topic: counted, logged, not acked. */
  batchesStoreMismatch: number;
  /** Batches whose transaction failed (e.g. disk full): not acked, the store re-sends. */
  batchesFailed: number;
  recordsNew: number;
  recordsDuplicate: number;
  recordsRejected: number;
  acksSent: number;
  statusUpdates: number;
  documentsPublished: number;
  /** (document, store) deliveries handed to the broker. */
  documentDeliveries: number;
  /** Ledger marks of store checkpoints compared with kept ones, and the forks among them (G9). */
  checkpointMarksChecked: number;
  checkpointForks: number;
  documentOutcomes: number;
  /** Records whose HLC stamp was more than `maxSkewMs` ahead of HQ's clock on arrival (stored and flagged: the store's clock is off). */
  recordsClockAhead: number;
}

export interface HqServiceStatus {
  upstream: { url: string; clientId: string; connected: boolean; lastConnectedAt: number | null; lastError: string | null };
  signingKey: { keyId: string; publicKey: string };
  stores: number;
  /** (document, store) deliveries still waiting for the broker. */
  unsentDeliveries: number;
  counters: HqCounters;
}

export interface BatchIngested {
  store: string;
  ack: UplinkAck;
  stored: number;
  duplicates: number;
  rejected: RejectedRecord[];
}

/** What the service tells its observers (tests wait on these instead of sleeping). */
export interface HqServiceEvents {
  connected: [];
  disconnected: [];
  batch: [BatchIngested];
  /** A batch HQ did not ingest: malformed, wrong store, or its transaction failed. */
  batchRefused: [{ store: string; code: string; reason: string }];
  status: [{ store: string; connected: boolean; status: unknown }];
  documentOutcome: [DocumentOutcome];
  /** Every chunk of a document went to the broker for this store. */
  documentSent: [{ docId: string; store: string }];
  /** A store's checkpoint contradicted one HQ kept: its ledger history was rewritten (SYNC_ERR_CHECKPOINT_FORK). */
  checkpointFork: [CheckpointFork];
}

/** A status is a small summary; HQ keeps the last one per store and shows it, so it is bounded. */
const maxStatusBytes = 64 * 1024;

export class HqService extends EventEmitter<HqServiceEvents> {
  readonly #store: HqStore;
  readonly #o: HqServiceOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #configuredStores: ReadonlySet<string>;
  readonly #online = new Map<string, boolean>();
  readonly #counters: HqCounters = {
    batches: 0,
    batchesMalformed: 0,
    batchesStoreMismatch: 0,
    batchesFailed: 0,
    recordsNew: 0,
    recordsDuplicate: 0,
    recordsRejected: 0,
    acksSent: 0,
    statusUpdates: 0,
    documentsPublished: 0,
    documentDeliveries: 0,
    documentOutcomes: 0,
    checkpointMarksChecked: 0,
    checkpointForks: 0,
    recordsClockAhead: 0,
  };
  #client: MqttClient | undefined;
  #connected = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #lastConnectedAt: number | null = null;
  #lastError: string | null = null;
  /** Document deliveries run one after another, so a store gets versions in the order HQ signed them. */
  #deliveries: Promise<void> = Promise.resolve();
  #ready: Promise<void>;
  #resolveReady!: () => void;

  constructor(options: HqServiceOptions) {
    super();
    this.#o = options;
    this.#store = options.store;
    this.#log = (options.logger ?? silentLogger()).child({ part: 'hq' });
    this.#now = options.now ?? Date.now;
    for (const id of options.stores ?? []) {
      if (!isValidStoreId(id)) throw new TypeError(`HqService: not a valid store id: ${JSON.stringify(id)}`);
    }
    this.#configuredStores = new Set(options.stores ?? []);
    this.#ready = new Promise((resolve) => (this.#resolveReady = resolve));
  }

  /** Connects to the upstream broker (and keeps reconnecting); does not wait for it — see `ready()`. */
  start(): this {
    if (this.#client) return this;
    const up = this.#o.upstream;
    const minDelay = up.reconnectMinMs ?? 1_000;
    const maxDelay = up.reconnectMaxMs ?? 30_000;
    const protocolVersion = up.protocolVersion ?? 5;
    const options: IClientOptions = {
      clientId: up.clientId,
      username: up.username,
      ...(up.password !== undefined ? { password: up.password } : {}),
      // A persistent session: batches stores publish while HQ is down wait for it at the broker
      // (up to the broker's queue limit; past it the stores' outboxes re-send, G5).
      clean: false,
      protocolVersion,
      ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: up.sessionExpiryS ?? 7 * 86_400 } } : {}),
      keepalive: up.keepaliveS ?? 30,
      connectTimeout: up.connectTimeoutMs ?? 10_000,
      reconnectPeriod: minDelay,
      // Subscriptions are made on every connect below (the session may not have survived).
      resubscribe: false,
      ...(up.ca !== undefined ? { ca: up.ca } : {}),
      ...(up.cert !== undefined ? { cert: up.cert } : {}),
      ...(up.key !== undefined ? { key: up.key } : {}),
      rejectUnauthorized: up.rejectUnauthorized ?? true,
    };
    const client = mqtt.connect(up.url, options);
    this.#client = client;

    client.on('connect', (connack) => {
      this.#connected = true;
      this.#lastConnectedAt = this.#now();
      this.#lastError = null;
      client.options.reconnectPeriod = minDelay;
      this.#log.info({ url: up.url, clientId: up.clientId, sessionPresent: connack.sessionPresent }, 'connected to the upstream broker');
      client.subscribe(
        [...HQ_SUBSCRIPTIONS],
        { qos: 1 },
        (error, granted) => {
          if (error) {
            this.#log.error({ err: error }, 'subscribing to the stores\' uplink failed');
            return;
          }
          // SUBACK return codes of 0x80 and above are refusals [MQTT-3.9.3; MQTT 5 §3.9.3].
          const refused = (granted ?? []).filter((g) => g.qos >= 0x80);
          if (refused.length > 0) this.#log.error({ topics: refused.map((g) => g.topic) }, 'the broker refused HQ\'s subscriptions; check its ACL (user hq reads storeedge/v1/+/up/#)');
          this.#resolveReady();
          this.emit('connected');
          void this.#flushUnsent();
        },
      );
    });
    client.on('close', () => {
      if (this.#connected) {
        this.#connected = false;
        if (!this.#stopping) this.#log.warn({ url: up.url }, 'upstream broker connection lost; reconnecting');
        this.emit('disconnected');
      }
      // Back off: double the delay up to the maximum; a connect resets it.
      client.options.reconnectPeriod = Math.min(maxDelay, (client.options.reconnectPeriod ?? minDelay) * 2);
    });
    client.on('error', (error) => {
      // While the broker is down the same error comes back on every retry: warn once per change.
      const repeated = error.message === this.#lastError;
      this.#lastError = error.message;
      (repeated ? this.#log.debug : this.#log.warn).call(this.#log, { err: error, url: up.url }, 'upstream broker error');
    });
    client.on('disconnect', (packet) => {
      // MQTT 5 DISCONNECT 0x8E "Session taken over": another HQ connected with the same client id.
      if (packet.reasonCode === 0x8e) this.#log.error({ clientId: up.clientId }, 'another client took over HQ\'s session; run one HQ per upstream.clientId');
    });
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    return this;
  }

  /** Resolves once HQ has connected and subscribed for the first time. */
  ready(): Promise<void> {
    return this.#ready;
  }

  get connected(): boolean {
    return this.#connected;
  }

  get store(): HqStore {
    return this.#store;
  }

  get signingKey(): { keyId: string; publicKey: string } {
    return { keyId: this.#o.signingKey.keyId, publicKey: this.#o.signingKey.publicKey };
  }

  /** Configured stores and every store seen, sorted. */
  knownStores(): string[] {
    return [...new Set([...this.#configuredStores, ...this.#store.storeIds()])].sort();
  }

  isConfiguredStore(storeId: string): boolean {
    return this.#configuredStores.has(storeId);
  }

  /** Whether the store's retained status says it is connected; undefined when HQ has none. */
  storeConnected(storeId: string): boolean | undefined {
    return this.#online.get(storeId);
  }

  status(): HqServiceStatus {
    return {
      upstream: {
        url: this.#o.upstream.url,
        clientId: this.#o.upstream.clientId,
        connected: this.#connected,
        lastConnectedAt: this.#lastConnectedAt,
        lastError: this.#lastError,
      },
      signingKey: this.signingKey,
      stores: this.knownStores().length,
      unsentDeliveries: this.#store.unsentTargets().length,
      counters: { ...this.#counters },
    };
  }

  /**
   * Signs a document and queues it for every target store: the next version of its kind is
   * taken, the document built, signed and recorded in one transaction; delivery follows (now if
   * the broker is up, else on reconnect). Throws HqError for unknown stores or a bad request and
   * SyncError (SYNC_ERR_DOC_BODY_INVALID …) for a body no store would accept — nothing is recorded then.
   */
  async publishDocument(input: PublishDocumentInput): Promise<PublishedDocument> {
    if (!(DOCUMENT_KINDS as readonly string[]).includes(input.kind)) {
      throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', `unknown document kind ${JSON.stringify(input.kind)}; one of ${DOCUMENT_KINDS.join(', ')}`);
    }
    const targets = this.#resolveTargets(input.stores);
    const stores = input.stores[0] === '*' ? ['*'] : [...new Set(input.stores)];
    const now = this.#now();
    const doc = this.#store.createDocument(
      { kind: input.kind, stores, targets },
      (version) =>
        buildDocument(
          {
            kind: input.kind,
            version,
            stores,
            issuedAt: now,
            effectiveFrom: input.effectiveFrom ?? null,
            expiresAt: input.expiresAt ?? null,
            body: input.body,
          },
          this.#o.signingKey,
          this.#o.chunkBytes === undefined ? {} : { chunkBytes: this.#o.chunkBytes },
        ),
      now,
    );
    this.#counters.documentsPublished += 1;
    this.#log.info({ docId: doc.id, kind: doc.kind, version: doc.version, stores, targets: targets.length, bytes: doc.header.bodyBytes, chunks: doc.header.chunks }, 'document signed');
    void this.#flushUnsent();
    return { id: doc.id, version: doc.version, stores: targets };
  }

  /** Sends a recorded document again (to its targets, or some of them): an operator's retry. */
  resendDocument(docId: string, storeIds?: readonly string[]): string[] {
    const doc = this.#store.document(docId);
    if (!doc) throw new HqError('SYNC_ERR_HQ_NOT_FOUND', `no document ${docId}`);
    const targets = doc.targets.map((t) => t.store);
    const chosen = storeIds === undefined ? targets : storeIds.filter((id) => targets.includes(id));
    if (storeIds !== undefined && chosen.length !== storeIds.length) {
      throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', `document ${docId} is not addressed to ${storeIds.filter((id) => !targets.includes(id)).join(', ')}`);
    }
    this.#store.requeueDocuments({ docId, stores: chosen });
    void this.#flushUnsent();
    return chosen;
  }

  /** Resolves when every delivery queued so far has been handed to the broker (or given up for now). */
  deliveriesSettled(): Promise<void> {
    return this.#deliveries;
  }

  /** Disconnects (letting in-flight acks and chunks finish, within a bound). The HqStore stays open. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopped ??= this.#disconnect();
    return this.#stopped;
  }

  async #disconnect(): Promise<void> {
    this.#stopping = true;
    const client = this.#client;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const graceful = client.endAsync(false);
    const bounded = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 3_000)));
    if ((await Promise.race([graceful, bounded])) === 'timeout') await client.endAsync(true);
    clearTimeout(timer);
    this.#connected = false;
  }

  // ---- inbound ---------------------------------------------------------------------------------

  /**
   * Runs synchronously: the batch's transaction has committed before mqtt.js PUBACKs it to the
   * broker. Messages still arriving while `stop()` drains are ingested too (the store is closed
   * only after the client); a batch whose ack does not get out is re-sent and deduplicated.
   */
  #onMessage(topic: string, payload: Buffer): void {
    if (!this.#store.isOpen) return;
    if (this.#o.tap) {
      try {
        this.#o.tap(topic, payload);
      } catch (error) {
        this.#log.error({ err: error, topic }, 'the message tap failed');
      }
    }
    const parsed = parseSyncTopic(topic);
    if (!parsed || parsed.direction !== 'up') {
      this.#log.warn({ topic }, 'message on a topic HQ does not handle');
      return;
    }
    try {
      if (parsed.kind === 'batch') this.#onBatch(parsed.storeId, payload);
      else if (parsed.kind === 'status') this.#onStatus(parsed.storeId, payload);
    } catch (error) {
      this.#log.error({ err: error, topic }, 'handling a store message failed');
    }
  }

  #onBatch(storeId: string, payload: Buffer): void {
    this.#counters.batches += 1;
    const parsed = parseUplinkBatch(payload);
    if (!parsed.ok) {
      this.#counters.batchesMalformed += 1;
      this.#log.warn({ store: storeId, code: parsed.code, reason: parsed.reason, bytes: payload.length }, 'malformed uplink batch; not acked');
      this.emit('batchRefused', { store: storeId, code: parsed.code, reason: parsed.reason });
      return;
    }
    const { batch } = parsed;
    if (batch.store !== storeId) {
      // The topic's store is who the broker authenticated; a batch claiming another store is a
      // misconfigured or hostile client. Not ingested and not acked (an ack would make the
      // store mark its records rejected for good over what is a configuration error).
      this.#counters.batchesStoreMismatch += 1;
      const reason = `batch ${batch.batch} on ${storeId}'s topic says store ${batch.store}`;
      this.#log.error({ store: storeId, claimed: batch.store, batch: batch.batch, code: 'SYNC_ERR_HQ_STORE_MISMATCH' }, reason);
      this.emit('batchRefused', { store: storeId, code: 'SYNC_ERR_HQ_STORE_MISMATCH', reason });
      return;
    }
    const known = this.#configuredStores.has(storeId) || this.#store.hasStore(storeId);
    let result;
    try {
      result = this.#store.ingestDetailed(storeId, batch, this.#now());
    } catch (error) {
      // Nothing committed, nothing acked: the store re-sends after its ack timeout.
      this.#counters.batchesFailed += 1;
      this.#log.error({ err: error, store: storeId, batch: batch.batch }, 'ingesting a batch failed; not acked');
      this.emit('batchRefused', { store: storeId, code: 'SYNC_ERR_HQ_INTERNAL', reason: (error as Error).message });
      return;
    }
    if (!known) this.#log.info({ store: storeId }, 'first batch from a store not in the config');
    const { ack, stored, duplicates, rejected } = result;
    this.#counters.recordsNew += stored;
    this.#counters.recordsDuplicate += duplicates;
    this.#counters.recordsRejected += rejected.length;
    if (rejected.length > 0) {
      // One line per batch (a batch may hold thousands); every refusal is in the rejects log.
      const first = rejected[0]!;
      this.#log.error(
        { store: storeId, epoch: batch.epoch, batch: batch.batch, refused: rejected.length, seqs: toRanges(rejected.map((r) => r.seq)).slice(0, 20), code: first.code, reason: first.reason },
        'uplink records refused',
      );
    }
    this.#log.debug({ store: storeId, batch: batch.batch, records: batch.records.length, stored, duplicates, rejected: rejected.length, watermark: ack.watermark }, 'batch ingested');
    this.#flagClockAhead(storeId, batch);
    if (result.checkpoint) {
      this.#counters.checkpointMarksChecked += result.checkpoint.checked;
      for (const fork of result.checkpoint.forks) {
        this.#counters.checkpointForks += 1;
        this.#log.error({ ...fork, code: 'SYNC_ERR_CHECKPOINT_FORK' }, "store ledger history rewritten: its checkpoint contradicts one HQ kept; investigate the store's ledger file");
        this.emit('checkpointFork', fork);
      }
    }
    this.#publishAck(storeId, ack);
    this.emit('batch', { store: storeId, ack, stored, duplicates, rejected });
    for (const outcome of result.documentOutcomes) {
      this.#counters.documentOutcomes += 1;
      const log = outcome.outcome === 'refused' ? this.#log.warn.bind(this.#log) : this.#log.info.bind(this.#log);
      log({ store: storeId, docId: outcome.docId, kind: outcome.kind, version: outcome.version, code: outcome.code, reason: outcome.reason }, `document ${outcome.outcome}`);
      this.emit('documentOutcome', outcome);
    }
  }

  /**
   * G8 at HQ: order comes from the HLC stamps, so a store whose clock runs ahead stamps its
   * records in HQ's future. They are stored (the sale happened) and flagged, once per batch.
   */
  #flagClockAhead(storeId: string, batch: UplinkBatch): void {
    const now = this.#now();
    const maxSkewMs = this.#o.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
    let ahead = 0;
    let aheadMs = 0;
    for (const record of batch.records) {
      const skew = (parseHlc(record.hlc)?.ms ?? 0) - now;
      if (skew > maxSkewMs) {
        ahead += 1;
        aheadMs = Math.max(aheadMs, skew);
      }
    }
    if (ahead === 0) return;
    this.#counters.recordsClockAhead += ahead;
    this.#log.warn({ store: storeId, batch: batch.batch, records: ahead, aheadMs, code: 'SYNC_ERR_CLOCK_SKEW' }, "records stamped ahead of HQ's clock: the store's clock is off (stored; order follows the stamps)");
  }

  #publishAck(storeId: string, ack: UplinkAck): void {
    const client = this.#client;
    if (!client) return;
    client.publish(syncTopics(storeId).ack, JSON.stringify(ack), { qos: 1 }, (error) => {
      if (error) this.#log.warn({ err: error, store: storeId, batch: ack.batch }, 'sending an ack failed; the store will re-send the batch');
      else this.#counters.acksSent += 1;
    });
  }

  #onStatus(storeId: string, payload: Buffer): void {
    this.#counters.statusUpdates += 1;
    let status: unknown = null;
    if (payload.length > maxStatusBytes) {
      this.#log.warn({ store: storeId, bytes: payload.length, max: maxStatusBytes }, 'store status is too large; ignored');
      return;
    }
    // An empty retained message clears the status (the store was decommissioned).
    if (payload.length > 0) {
      try {
        status = JSON.parse(payload.toString('utf8')) as unknown;
      } catch {
        this.#log.warn({ store: storeId, bytes: payload.length }, 'store status is not JSON; ignored');
        return;
      }
    }
    this.#store.recordStatus(storeId, status, this.#now());
    const connected = storeConnected(status);
    const was = this.#online.get(storeId);
    this.#online.set(storeId, connected);
    if (was !== connected) this.#log.info({ store: storeId, connected }, connected ? 'store online' : 'store offline');
    this.emit('status', { store: storeId, connected, status });
    if (connected && was !== true && (this.#o.resendOnReconnect ?? true)) this.#resendUnanswered(storeId);
  }

  // ---- outbound documents ----------------------------------------------------------------------

  #resolveTargets(stores: readonly string[]): string[] {
    if (!Array.isArray(stores) || stores.length === 0) throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', 'stores must name at least one store, or be ["*"]');
    if (stores.includes('*')) {
      if (stores.length !== 1) throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', 'a chain-wide document has stores exactly ["*"]');
      const all = this.knownStores();
      if (all.length === 0) throw new HqError('SYNC_ERR_HQ_UNKNOWN_STORE', 'HQ knows no stores yet (none configured, none seen); a document for ["*"] would reach nobody');
      return all;
    }
    const invalid = stores.filter((id) => !isValidStoreId(id));
    if (invalid.length > 0) throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', `not valid store ids: ${invalid.map((id) => JSON.stringify(id)).join(', ')}`);
    const known = new Set(this.knownStores());
    const unknown = stores.filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new HqError('SYNC_ERR_HQ_UNKNOWN_STORE', `HQ does not know store ${unknown.join(', ')} (add it to the config's stores, or let it connect once)`);
    }
    return [...new Set(stores)];
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#deliveries.then(task);
    this.#deliveries = run.catch((error: unknown) => this.#log.error({ err: error }, 'document delivery failed'));
    return this.#deliveries;
  }

  /** Hands every recorded-but-unsent delivery to the broker, oldest document first. */
  #flushUnsent(): Promise<void> {
    return this.#enqueue(async () => {
      for (const { docId, store } of this.#store.unsentTargets()) {
        if (!(await this.#send(docId, store))) return;
      }
    });
  }

  /**
   * The store came (back) online: whatever it has not answered may have been dropped by the
   * broker (its queue for an offline client is bounded) — send it again. A store treats a
   * document it already applied as a duplicate, so a second copy is harmless.
   */
  #resendUnanswered(storeId: string): void {
    const added = this.#store.targetChainWide(storeId, this.#now());
    if (added > 0) this.#log.info({ store: storeId, documents: added }, 'store online; sending it the chain-wide documents published before HQ knew it');
    const requeued = this.#store.requeueDocuments({ unansweredOf: storeId, now: this.#now() });
    if (requeued > 0) this.#log.info({ store: storeId, documents: requeued }, 'store online; re-sending the documents it has not answered');
    void this.#flushUnsent();
  }

  /** Publishes every chunk (QoS 1, in order) and records the delivery; false when not connected. */
  async #send(docId: string, storeId: string): Promise<boolean> {
    const client = this.#client;
    if (!client || !this.#connected || this.#stopping || !this.#store.isOpen) return false;
    const topic = syncTopics(storeId).doc;
    for (const chunk of this.#store.documentChunks(docId)) await client.publishAsync(topic, chunk, { qos: 1 });
    if (!this.#store.isOpen) return false;
    this.#store.markDocumentSent(docId, storeId, this.#now());
    this.#counters.documentDeliveries += 1;
    this.emit('documentSent', { docId, store: storeId });
    return true;
  }
}
