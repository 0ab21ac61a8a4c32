import { once } from 'node:events';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client, type Subscription } from 'aedes';
import memoryPersistence from 'aedes-persistence';
import { SYNC_TOPIC_ROOT } from '../topics.ts';
import { HQ_BROKER_USER, type ResolvedHqConfig } from './config.ts';
import { HqError } from './hq-errors.ts';
import type { UpstreamConnection } from './hq-service.ts';
import type { Logger } from './log.ts';
import { PacketSizeGuard } from '../packet-size-guard.ts';

/**
 * The reference HQ's embedded MQTT broker (aedes), for a pilot that runs no broker of its own:
 * the stores connect to it with per-store credentials, HQ's own service connects to it as user
 * `hq` on a loopback listener only it knows, and the ACL of docs/sync.md is enforced here
 * exactly as a Mosquitto ACL file would:
 *
 *   pattern read  storeedge/v1/%u/down/#      (a store reads its own down/)
 *   pattern write storeedge/v1/%u/up/#        (a store writes its own up/)
 *   user hq  read storeedge/v1/+/up/#  write storeedge/v1/+/down/#
 *
 * Sessions (subscriptions and queued QoS 1 messages) live in memory (aedes-persistence): they
 * survive a client's reconnect, not an HQ restart. That costs time, never data — the store's
 * outbox re-sends whatever HQ has not acknowledged, and HQ re-sends documents a store has not
 * answered — so the buffer that matters is the store's ledger, not this broker.
 */

export type HqBrokerSettings = NonNullable<ResolvedHqConfig['broker']>;

export interface HqBrokerAddresses {
  /** Plain MQTT for the stores, e.g. mqtt://127.0.0.1:1883 (absent with tcpPort null). */
  mqtt?: string;
  /** MQTT over TLS for the stores (with `tls`). */
  mqtts?: string;
}

export interface HqBrokerCounters {
  /** CONNECTs refused (bad credentials, unknown store, wrong client id, limits, HQ not ready). */
  connectsRefused: number;
  /** Publishes outside the client's ACL: refused, connection closed. */
  publishesDenied: number;
  /** Subscriptions outside the client's ACL: SUBACK 0x80. */
  subscriptionsDenied: number;
  /** Packets above maxPacketBytes: connection closed. */
  packetsTooLarge: number;
  /** QoS 1 messages not queued because a disconnected client's session was full. */
  queuedDropped: number;
}

export interface HqBrokerStatus {
  addresses: HqBrokerAddresses;
  /** Stores connected now, sorted. */
  storesConnected: string[];
  hqConnected: boolean;
  counters: HqBrokerCounters;
}

/** Who a connection authenticated as. */
type Identity = { kind: 'hq' } | { kind: 'store'; storeId: string };

type Access = 'read' | 'write';

/** The ACL of docs/sync.md, `%u` standing for the store's username (= its id). */
const syncBrokerAcl: Record<Identity['kind'], Record<Access, readonly string[]>> = {
  store: { read: [`${SYNC_TOPIC_ROOT}/%u/down/#`], write: [`${SYNC_TOPIC_ROOT}/%u/up/#`] },
  hq: { read: [`${SYNC_TOPIC_ROOT}/+/up/#`], write: [`${SYNC_TOPIC_ROOT}/+/down/#`] },
};

// CONNACK return codes [MQTT-3.2.2.3].
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;

/** Refusals of one kind by one client are logged at warn once a minute, then at debug (a misconfigured store retries forever). */
const warnEveryMs = 60_000;

/**
 * True when every topic `filter` can match is matched by `pattern` (MQTT wildcards `+` and `#`
 * in both) — how Mosquitto checks a subscription against an ACL entry. A topic without wildcards
 * is a filter matching itself, so this also checks a publish.
 */
export function filterWithin(filter: string, pattern: string): boolean {
  const f = filter.split('/');
  const p = pattern.split('/');
  for (let i = 0; i < p.length; i++) {
    const level = p[i]!;
    // `a/#` also matches `a` itself [MQTT-4.7.1-2].
    if (level === '#') return true;
    const wanted = f[i];
    if (wanted === undefined || wanted === '#') return false;
    if (level === '+') continue;
    if (wanted !== level) return false; // a `+` in the filter is wider than a literal level
  }
  return f.length === p.length;
}

/** Whether `identity` may publish to `topic` (write) or subscribe to `filter` (read) under the sync ACL. */
export function syncAclAllows(identity: Identity, access: Access, topicOrFilter: string): boolean {
  // Wildcards are not allowed in a PUBLISH topic name [MQTT-3.3.2-2].
  if (access === 'write' && /[+#]/.test(topicOrFilter)) return false;
  const username = identity.kind === 'hq' ? HQ_BROKER_USER : identity.storeId;
  return syncBrokerAcl[identity.kind][access].some((pattern) => filterWithin(topicOrFilter, pattern.replace('%u', username)));
}

function sha256(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** `password`'s sha256 equals one of `hashes` (hex); compared in constant time. */
function passwordMatches(password: Buffer, hashes: readonly Buffer[]): boolean {
  const actual = sha256(password);
  let ok = false;
  for (const hash of hashes) ok = timingSafeEqual(actual, hash) || ok; // no early exit
  return ok;
}

function refusal(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

type EnqueueCombi = (subs: Array<{ clientId: string }>, packet: { payload?: Buffer | string }, cb?: (error?: Error | null) => void) => Promise<void> | void;

export class HqBroker {
  readonly #settings: HqBrokerSettings;
  readonly #log: Logger;
  readonly #aedes: Aedes;
  readonly #servers: Array<NetServer | TlsServer> = [];
  /** Connections accepted on the loopback listener only HQ's own client is told about. */
  readonly #internal = new WeakSet<Duplex>();
  readonly #identities = new WeakMap<Client, Identity>();
  /** The live connection per client id (a reconnect takes over the older one). */
  readonly #live = new Map<string, Client>();
  readonly #storeHashes: ReadonlyMap<string, readonly Buffer[]>;
  /** HQ's own password: random per start, never written anywhere. */
  readonly #hqPassword = randomBytes(32).toString('base64url');
  readonly #hqPasswordHash = sha256(Buffer.from(this.#hqPassword));
  /** Messages and bytes queued for each disconnected client since it went away. */
  readonly #offlineQueued = new Map<string, { messages: number; bytes: number; warned: boolean }>();
  readonly #lastWarned = new Map<string, number>();
  readonly #counters: HqBrokerCounters = { connectsRefused: 0, publishesDenied: 0, subscriptionsDenied: 0, packetsTooLarge: 0, queuedDropped: 0 };
  #admittingStores = false;
  #internalUrl = '';
  #addresses: HqBrokerAddresses = {};
  #closed: Promise<void> | undefined;

  private constructor(settings: HqBrokerSettings, logger: Logger, aedes: Aedes) {
    this.#settings = settings;
    this.#log = logger;
    this.#aedes = aedes;
    this.#storeHashes = new Map(settings.stores.map((s) => [s.id, s.passwordSha256.map((hex) => Buffer.from(hex, 'hex'))]));
  }

  /**
   * Starts the broker and its listeners. Stores are refused (CONNACK 3, server unavailable) until
   * `admitStores()`: HQ admits them once its own client has subscribed, so no batch is published
   * into a broker with nobody listening. Throws SYNC_ERR_HQ_CONFIG_INVALID when a port is taken
   * or the TLS files cannot be read.
   */
  static async start(settings: HqBrokerSettings, logger: Logger): Promise<HqBroker> {
    const log = logger.child({ part: 'hq-broker' });
    let broker: HqBroker | undefined;
    const aedes = await Aedes.createBroker({
      id: 'storeedge-hq',
      // In memory, explicitly: sessions survive reconnects, not an HQ restart (see above). The
      // package is CommonJS (`module.exports = factory`); its typings declare a default export.
      persistence: (memoryPersistence as unknown as () => unknown)(),
      connectTimeout: settings.connectTimeoutMs,
      keepaliveLimit: settings.keepaliveLimitS,
      drainTimeout: settings.drainTimeoutMs,
      maxClientsIdLength: 64,
      heartbeatInterval: 60_000,
      preConnect: (client, packet, done) => broker!.#preConnect(client, packet.protocolVersion ?? 4, done),
      authenticate: (client, username, password, done) => broker!.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => broker!.#authorizePublish(client, packet.topic, done),
      authorizeSubscribe: (client, sub, done) => broker!.#authorizeSubscribe(client, sub, done),
    });
    broker = new HqBroker(settings, log, aedes);
    try {
      await broker.#start();
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  /** Where the stores connect. */
  get addresses(): HqBrokerAddresses {
    return this.#addresses;
  }

  /** How HQ's own service connects: user `hq` on the loopback listener, MQTT 3.1.1, persistent session. */
  get hqConnection(): UpstreamConnection {
    return {
      url: this.#internalUrl,
      username: HQ_BROKER_USER,
      clientId: HQ_BROKER_USER,
      password: this.#hqPassword,
      // aedes 1.x speaks MQTT 3.1.1 only.
      protocolVersion: 4,
      keepaliveS: 30,
      connectTimeoutMs: 5_000,
      reconnectMinMs: 100,
      reconnectMaxMs: 2_000,
    };
  }

  /** Lets stores connect (HQ's client is subscribed). */
  admitStores(): void {
    if (this.#admittingStores) return;
    this.#admittingStores = true;
    this.#log.info({ ...this.#addresses, stores: this.#storeHashes.size }, 'embedded broker admits stores');
  }

  status(): HqBrokerStatus {
    const storesConnected = [...this.#live.keys()].filter((id) => id !== HQ_BROKER_USER).sort();
    return { addresses: this.#addresses, storesConnected, hqConnected: this.#live.has(HQ_BROKER_USER), counters: { ...this.#counters } };
  }

  /** Stops listening and closes every connection (stores see the broker go away and keep their outboxes). Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      for (const server of this.#servers) server.close();
      await new Promise<void>((resolve) => this.#aedes.close(() => resolve()));
      await Promise.all(this.#servers.map((s) => (s.listening ? once(s, 'close') : undefined)));
      this.#servers.length = 0;
    })();
    return this.#closed;
  }

  async #start(): Promise<void> {
    const s = this.#settings;
    const aedes = this.#aedes;
    this.#boundOfflineQueues();
    aedes.on('clientReady', (client) => {
      const identity = this.#identities.get(client);
      if (!identity) return;
      this.#live.set(client.id, client);
      this.#offlineQueued.delete(client.id);
      if (identity.kind === 'store') this.#log.info({ store: identity.storeId, clean: client.clean }, 'store connected');
    });
    aedes.on('clientDisconnect', (client) => {
      const identity = this.#identities.get(client);
      if (!identity || this.#live.get(client.id) !== client) return; // an older, taken-over connection
      this.#live.delete(client.id);
      if (identity.kind === 'store') this.#log.info({ store: identity.storeId }, 'store disconnected');
      else this.#log.info('HQ\'s own client disconnected from the embedded broker');
    });
    aedes.on('clientError', (client, err) => this.#log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (client, err) => this.#log.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'));

    const internal = createNetServer((socket) => this.#handleSocket(socket, true));
    this.#internalUrl = `mqtt://${await listen(internal, '127.0.0.1', 0, 'the internal listener')}`;
    this.#servers.push(internal);
    if (s.tcpPort !== null) {
      const tcp = createNetServer((socket) => this.#handleSocket(socket, false));
      this.#addresses.mqtt = `mqtt://${await listen(tcp, s.host, s.tcpPort, 'broker.tcpPort')}`;
      this.#servers.push(tcp);
    }
    if (s.tls) {
      let cert: Buffer;
      let key: Buffer;
      try {
        cert = readFileSync(s.tls.certFile);
        key = readFileSync(s.tls.keyFile);
      } catch (cause) {
        throw new HqError('SYNC_ERR_HQ_CONFIG_INVALID', `broker.tls: cannot read the certificate or key: ${(cause as Error).message}`);
      }
      const tls = createTlsServer({ cert, key, minVersion: 'TLSv1.2' }, (socket) => this.#handleSocket(socket, false));
      this.#addresses.mqtts = `mqtts://${await listen(tls, s.host, s.tls.port, 'broker.tls.port')}`;
      this.#servers.push(tls);
    }
    if (s.tcpPort !== null && !isLoopback(s.host)) {
      this.#log.warn({ host: s.host, port: s.tcpPort }, 'the embedded broker takes plain MQTT beyond loopback: store passwords cross the network in clear; use broker.tls and tcpPort null');
    }
    this.#log.info({ ...this.#addresses, stores: this.#storeHashes.size }, 'embedded broker listening');
  }

  #handleSocket(socket: Socket, internal: boolean): void {
    // Without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every QoS 1 round trip.
    socket.setNoDelay(true);
    const guard = new PacketSizeGuard(this.#settings.maxPacketBytes, (announced) => {
      this.#counters.packetsTooLarge += 1;
      this.#warn(`too-large:${socket.remoteAddress}`, { remote: `${socket.remoteAddress}:${socket.remotePort}`, bytes: announced, max: this.#settings.maxPacketBytes }, 'MQTT packet above broker.maxPacketBytes; connection closed (a store\'s sync.uplink.batchBytes must stay below it)');
    });
    guard.on('error', () => socket.destroy());
    socket.on('error', () => guard.destroy());
    const conn = Duplex.from({ readable: socket.pipe(guard), writable: socket });
    // mqtt-packet corks the stream it writes to; forward that to the socket so a burst of packets
    // leaves in one write instead of one syscall per packet.
    conn.cork = () => socket.cork();
    conn.uncork = () => socket.uncork();
    if (internal) this.#internal.add(conn);
    this.#aedes.handle(conn);
  }

  #preConnect(client: Client, protocolVersion: number, done: (error: Error | null, success: boolean) => void): void {
    if (protocolVersion === 5) {
      // aedes refuses it next (CONNACK 1); say what to change.
      this.#counters.connectsRefused += 1;
      this.#warn(`mqtt5:${client.id}`, { clientId: client.id }, 'MQTT 5 CONNECT refused: the embedded broker speaks MQTT 3.1.1; set the store\'s sync.upstream.protocolVersion to 4');
    }
    if (this.#aedes.connectedClients >= this.#settings.maxConnections) {
      this.#counters.connectsRefused += 1;
      this.#warn('max-connections', { max: this.#settings.maxConnections }, 'CONNECT refused: broker.maxConnections reached');
      return done(new Error('connection limit reached'), false);
    }
    done(null, true);
  }

  #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void {
    const refuse = (reason: string, returnCode: number) => {
      this.#counters.connectsRefused += 1;
      this.#warn(`refused:${username}:${reason}`, { clientId: client.id, username, reason }, 'mqtt CONNECT refused');
      done(refusal(reason, returnCode), false);
    };
    if (!username || !password) return refuse('no username or password', BAD_USERNAME_OR_PASSWORD);
    // The client id is the session: a store connecting under another's id would take over its
    // session and read what HQ queued for it.
    if (client.id !== username) return refuse('client id is not the username', IDENTIFIER_REJECTED);
    if (this.#internal.has(client.conn as Duplex)) {
      if (username !== HQ_BROKER_USER || !passwordMatches(password, [this.#hqPasswordHash])) return refuse('bad credentials on the internal listener', BAD_USERNAME_OR_PASSWORD);
      this.#identities.set(client, { kind: 'hq' });
      return done(null, true);
    }
    // User hq exists only on the loopback listener: its password never leaves this process.
    const hashes = username === HQ_BROKER_USER ? undefined : this.#storeHashes.get(username);
    if (!hashes || !passwordMatches(password, hashes)) return refuse('unknown store or wrong password', BAD_USERNAME_OR_PASSWORD);
    if (!this.#admittingStores) return refuse('HQ is starting', SERVER_UNAVAILABLE);
    this.#identities.set(client, { kind: 'store', storeId: username });
    done(null, true);
  }

  #authorizePublish(client: Client | null, topic: string, done: (error?: Error | null) => void): void {
    if (client === null) return done(null); // a publish from inside this process
    const identity = this.#identities.get(client);
    if (identity && syncAclAllows(identity, 'write', topic)) return done(null);
    this.#counters.publishesDenied += 1;
    this.#warn(`publish:${client.id}`, { clientId: client.id, topic }, 'publish outside the sync ACL refused; connection closed');
    // An error here closes the connection without a PUBACK [MQTT-3.3.5-2].
    done(new Error(`publish to "${topic}" denied`));
  }

  #authorizeSubscribe(client: Client, sub: Subscription, done: (error: Error | null, subscription?: Subscription | null) => void): void {
    const identity = this.#identities.get(client);
    if (identity && syncAclAllows(identity, 'read', sub.topic)) return done(null, sub);
    this.#counters.subscriptionsDenied += 1;
    this.#warn(`subscribe:${client.id}`, { clientId: client.id, topic: sub.topic }, 'subscription outside the sync ACL refused');
    done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3]
  }

  /**
   * Caps what a disconnected client's session piles up (as Mosquitto's max_queued_messages
   * does): beyond maxQueuedMessages / maxQueuedBytes new QoS 1 messages for it are dropped.
   * Nothing is lost for good: a store re-sends unacknowledged batches and HQ re-sends unanswered
   * documents when a store comes back. Connected clients are never capped.
   */
  #boundOfflineQueues(): void {
    const persistence = (this.#aedes as unknown as { persistence: { outgoingEnqueueCombi: EnqueueCombi } }).persistence;
    const enqueueCombi = persistence.outgoingEnqueueCombi.bind(persistence);
    const clients = (this.#aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
    const { maxQueuedMessages, maxQueuedBytes } = this.#settings;
    persistence.outgoingEnqueueCombi = (subs, packet, cb) => {
      const bytes = packet.payload === undefined ? 0 : Buffer.byteLength(packet.payload);
      const kept = subs.filter((sub) => {
        if (clients[sub.clientId] !== undefined) return true;
        const queued = this.#offlineQueued.get(sub.clientId) ?? { messages: 0, bytes: 0, warned: false };
        this.#offlineQueued.set(sub.clientId, queued);
        if (queued.messages + 1 <= maxQueuedMessages && queued.bytes + bytes <= maxQueuedBytes) {
          queued.messages += 1;
          queued.bytes += bytes;
          return true;
        }
        this.#counters.queuedDropped += 1;
        if (!queued.warned) {
          queued.warned = true;
          this.#log.warn({ clientId: sub.clientId, messages: queued.messages, bytes: queued.bytes }, 'session of a disconnected client is full; dropping new messages for it until it reconnects (they are re-sent)');
        }
        return false;
      });
      if (kept.length === subs.length) return enqueueCombi(subs, packet, cb);
      if (kept.length > 0) return enqueueCombi(kept, packet, cb);
      if (cb) return void process.nextTick(cb, null);
      return Promise.resolve();
    };
  }

  #warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const last = this.#lastWarned.get(key);
    if (last !== undefined && now - last < warnEveryMs) return this.#log.debug(fields, message);
    if (this.#lastWarned.size > 10_000) this.#lastWarned.clear(); // bounded: keys come from clients
    this.#lastWarned.set(key, now);
    this.#log.warn(fields, message);
  }
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

async function listen(server: NetServer | TlsServer, host: string, port: number, what: string): Promise<string> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (cause) {
    throw new HqError('SYNC_ERR_HQ_CONFIG_INVALID', `${what}: cannot listen on ${host}:${port}: ${(cause as Error).message}`);
  }
  const address = server.address() as AddressInfo;
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
