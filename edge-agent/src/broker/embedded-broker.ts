import { once } from 'node:events';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { WebSocketServer, createWebSocketStream } from 'ws';
import { errors, type EdgeErrorCode } from '../errors.ts';
import type { ResolvedConfig } from '../config/load.ts';
import { CAMERA_FRAME_TYPE, type DeviceIngest } from '../ingest/device-ingest.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DeviceRegistry } from '../registry/registry.ts';
import { devicePublishAllowed, deviceSubscribeAllowed, type DeviceIdentity } from './acl.ts';
import { OutgoingPlane, type BrokerAddresses, type DevicePlane } from './device-plane.ts';
import { PacketSizeGuard } from '@storeedge/sync';

export interface EmbeddedBrokerOptions {
  config: Readonly<ResolvedConfig>;
  registry: DeviceRegistry;
  ingest: DeviceIngest;
  metrics: Metrics;
  logger: Logger;
}

interface Session extends DeviceIdentity {
  client: Client;
  /** Registry revision the credentials were checked against. */
  revision: number;
}

// CONNACK return codes [MQTT-3.2.2.3].
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(code: EdgeErrorCode, returnCode: number): AuthenticateError {
  return Object.assign(errors[code](), { returnCode }) as AuthenticateError;
}

/**
 * The store's MQTT broker (aedes) with the device registry as its authentication, the topic ACL
 * of acl.ts as its authorisation, and the device ingest run inside `authorizePublish` — aedes
 * writes a QoS 1 PUBACK only after that hook completes, so whatever the domain writes to the
 * ledger for a message is durable before the device hears "acknowledged".
 */
export class EmbeddedBroker extends OutgoingPlane implements DevicePlane {
  readonly #o: EmbeddedBrokerOptions;
  #aedes: Aedes | undefined;
  readonly #servers: Array<NetServer | TlsServer | HttpServer> = [];
  #wss: WebSocketServer | undefined;
  readonly #identities = new WeakMap<Client, Session>();
  /** The live session per device: a reconnect with the same id takes over the old session. */
  readonly #sessions = new Map<string, Session>();

  constructor(options: EmbeddedBrokerOptions) {
    super(options.config.storeId, options.metrics);
    this.#o = options;
  }

  async start(): Promise<BrokerAddresses> {
    const { config, logger } = this.#o;
    const b = config.broker;
    const aedes = await Aedes.createBroker({
      id: `storeedge-${config.storeId}`,
      connectTimeout: b.connectTimeoutMs,
      keepaliveLimit: b.keepaliveLimitS,
      drainTimeout: b.drainTimeoutMs,
      maxClientsIdLength: 64,
      heartbeatInterval: 60_000,
      preConnect: (_client, _packet, done) => this.#preConnect(done),
      authenticate: (client, username, password, done) => void this.#authenticate(client, username, password, done),
      authorizePublish: (client, packet, done) => this.#authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => {
        const session = this.#identities.get(client);
        if (session && deviceSubscribeAllowed(session, sub.topic)) return done(null, sub);
        this.#o.ingest.recordReject(session?.deviceId ?? String(client.id), 'EDGE_ERR_INGEST_TOPIC_DENIED', `subscribe to "${sub.topic}" denied`);
        done(null, null); // SUBACK 0x80 for this filter [MQTT-3.9.3]
      },
    });
    this.#aedes = aedes;
    aedes.on('clientReady', (client) => {
      const session = this.#identities.get(client);
      if (!session) return;
      this.#sessions.set(session.deviceId, session);
      this.#o.ingest.connected(session.deviceId);
      this.#o.metrics.brokerClients.set(aedes.connectedClients);
    });
    aedes.on('clientDisconnect', (client) => {
      const session = this.#identities.get(client);
      this.#o.metrics.brokerClients.set(aedes.connectedClients);
      if (!session || this.#sessions.get(session.deviceId) !== session) return; // an older, taken-over session
      this.#sessions.delete(session.deviceId);
      this.#o.ingest.disconnected(session.deviceId);
    });
    aedes.on('clientError', (client, err) => logger.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (client, err) => logger.debug({ clientId: client?.id, err: err.message }, 'mqtt connection error'));

    const addresses: BrokerAddresses = { mode: 'embedded' };
    const tcp = createNetServer((socket) => this.#handleSocket(socket));
    addresses.mqtt = `mqtt://${await listen(tcp, b.host, b.tcpPort)}`;
    this.#servers.push(tcp);

    if (b.wsPort !== null) {
      const http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n'));
      this.#wss = new WebSocketServer({ server: http, maxPayload: b.maxPacketBytes + 5 });
      this.#wss.on('connection', (ws, req) => {
        const stream = createWebSocketStream(ws);
        stream.on('error', () => ws.terminate());
        aedes.handle(this.#guard(stream, () => ws.terminate()), req);
      });
      addresses.ws = `ws://${await listen(http, b.host, b.wsPort)}`;
      this.#servers.push(http);
    }

    if (b.tls) {
      let cert: Buffer;
      let key: Buffer;
      try {
        cert = readFileSync(b.tls.certFile);
        key = readFileSync(b.tls.keyFile);
      } catch (cause) {
        throw errors.EDGE_ERR_BROKER_TLS(`cannot read broker.tls files: ${(cause as Error).message}`, { cause });
      }
      const tls = createTlsServer({ cert, key, minVersion: 'TLSv1.2' }, (socket) => this.#handleSocket(socket));
      addresses.mqtts = `mqtts://${await listen(tls, b.host, b.tls.port)}`;
      this.#servers.push(tls);
    }
    logger.info(addresses, 'embedded broker listening');
    return addresses;
  }

  async close(): Promise<void> {
    for (const server of this.#servers) server.close();
    this.#wss?.close();
    const aedes = this.#aedes;
    this.#aedes = undefined;
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(this.#servers.map((s) => (s.listening ? once(s, 'close') : undefined)));
    this.#servers.length = 0;
  }

  reconcile(): void {
    for (const session of this.#sessions.values()) {
      const device = this.#o.registry.get(session.deviceId);
      if (device && device.enabled && device.revision === session.revision) continue;
      this.#o.logger.info({ deviceId: session.deviceId }, 'disconnecting device: disabled, removed or secret rotated');
      session.client.close();
    }
  }

  connectedClients(): number {
    return this.#aedes?.connectedClients ?? 0;
  }

  #handleSocket(socket: Socket): void {
    // Without TCP_NODELAY, Nagle + delayed ACK add ~40 ms to every QoS 1 round trip.
    socket.setNoDelay(true);
    this.#aedes?.handle(this.#guard(socket, () => socket.destroy()));
  }

  /** Puts the packet-size guard on the read side of a connection. */
  #guard(conn: Duplex, kill: () => void): Duplex {
    const guard = new PacketSizeGuard(this.#o.config.broker.maxPacketBytes, (announced) =>
      this.#o.ingest.recordReject(remoteName(conn), 'EDGE_ERR_INGEST_PACKET_TOO_LARGE', `packet of ${announced} bytes`),
    );
    guard.on('error', kill);
    conn.on('error', () => guard.destroy());
    const guarded = Duplex.from({ readable: conn.pipe(guard), writable: conn });
    // mqtt-packet corks the stream it writes to and uncorks on the next tick; forward that to the
    // socket so a burst of packets leaves in one write instead of one syscall per packet.
    guarded.cork = () => conn.cork();
    guarded.uncork = () => conn.uncork();
    return guarded;
  }

  #preConnect(done: (error: Error | null, success: boolean) => void): void {
    const aedes = this.#aedes;
    if (aedes && aedes.connectedClients >= this.#o.config.broker.maxConnections) {
      this.#o.metrics.rejects.inc({ code: 'EDGE_ERR_BROKER_CONNECTION_LIMIT' });
      return done(errors.EDGE_ERR_BROKER_CONNECTION_LIMIT(), false);
    }
    done(null, true);
  }

  async #authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    const refuse = (code: EdgeErrorCode, returnCode: number) => {
      this.#o.metrics.reject(username ?? '(none)', code);
      this.#o.logger.warn({ clientId: client.id, username, code }, 'mqtt CONNECT refused');
      done(authError(code, returnCode), false);
    };
    if (!username || !password) return refuse('EDGE_ERR_AUTH_BAD_CREDENTIALS', BAD_USERNAME_OR_PASSWORD);
    if (client.id !== username) return refuse('EDGE_ERR_AUTH_CLIENT_ID_MISMATCH', IDENTIFIER_REJECTED);
    let outcome;
    try {
      outcome = await this.#o.registry.authenticate(username, password.toString('utf8'));
    } catch (err) {
      this.#o.logger.error({ err, username }, 'device authentication failed');
      return refuse('EDGE_ERR_INTERNAL', SERVER_UNAVAILABLE);
    }
    if (outcome === 'disabled') return refuse('EDGE_ERR_AUTH_DEVICE_DISABLED', NOT_AUTHORIZED);
    if (outcome !== 'ok') return refuse('EDGE_ERR_AUTH_BAD_CREDENTIALS', BAD_USERNAME_OR_PASSWORD);
    const device = this.#o.registry.get(username)!;
    this.#identities.set(client, { client, storeId: this.#o.config.storeId, deviceId: username, revision: device.revision });
    done(null, true);
  }

  #authorizePublish(client: Client | null, packet: { topic: string; payload: Buffer | string; retain: boolean }, done: (error?: Error | null) => void): void {
    if (client === null) return done(null); // the agent's own in-process publish
    const session = this.#identities.get(client);
    const topic = session && devicePublishAllowed(session, packet.topic);
    if (!session || !topic) {
      this.#o.ingest.recordReject(session?.deviceId ?? String(client.id), 'EDGE_ERR_INGEST_TOPIC_DENIED', `publish to "${packet.topic}" denied`);
      // An error here closes the connection without a PUBACK [MQTT-3.3.5-2].
      return done(errors.EDGE_ERR_INGEST_TOPIC_DENIED(`publish to "${packet.topic}" denied`));
    }
    const bytes = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const outcome = this.#o.ingest.accept(session.deviceId, topic, bytes);
    // A rejected message is acknowledged (resending it cannot help) but never retained; nor is
    // a camera frame (frames live only in the agent's frame store, never in the broker).
    if (!outcome.ok || (topic.kind === 'evt' && topic.type === CAMERA_FRAME_TYPE)) packet.retain = false;
    done(null);
  }

  protected publishJson(topic: string, payload: unknown, qos: 0 | 1, retain: boolean): Promise<void> {
    const aedes = this.#aedes;
    if (!aedes) return Promise.reject(errors.EDGE_ERR_INTERNAL('broker is not running'));
    const bytes = Buffer.from(JSON.stringify(payload));
    return new Promise((resolve, reject) =>
      aedes.publish({ cmd: 'publish', topic, payload: bytes, qos, retain, dup: false }, (err) => (err ? reject(err) : resolve())),
    );
  }
}

function remoteName(conn: Duplex): string {
  const socket = conn as Partial<Socket>;
  return socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : '(connection)';
}

async function listen(server: NetServer | HttpServer | TlsServer, host: string, port: number): Promise<string> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (cause) {
    throw errors.EDGE_ERR_BROKER_LISTEN(`cannot listen on ${host}:${port}: ${(cause as Error).message}`, { cause });
  }
  const address = server.address() as AddressInfo;
  return `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}
