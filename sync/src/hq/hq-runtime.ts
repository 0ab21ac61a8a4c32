import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { configuredStores, type ResolvedHqConfig } from './config.ts';
import { HqBroker } from './embedded-broker.ts';
import { HqError } from './hq-errors.ts';
import { HqService, type UpstreamConnection } from './hq-service.ts';
import { HqStore } from './hq-store.ts';
import { createHqHttpServer } from './http.ts';
import { createHqLogger, type Logger } from './log.ts';
import { loadSigningKey } from './signing-key.ts';

/** A running reference HQ: database, broker client (and embedded broker) and HTTP API. */
export interface RunningHq {
  readonly config: Readonly<ResolvedHqConfig>;
  readonly store: HqStore;
  readonly service: HqService;
  /** The embedded broker, when the config has a `broker` block. */
  readonly broker: HqBroker | undefined;
  readonly http: FastifyInstance;
  /** e.g. http://127.0.0.1:8470 */
  readonly httpUrl: string;
  readonly logger: Logger;
  /** Stops taking requests, disconnects from the broker (in-flight acks finish), closes the database. */
  stop(): Promise<void>;
}

/**
 * Starts HQ from a validated config. Refuses to start without its signing key (no default
 * secrets); does not wait for an external broker (HQ serves its API and keeps reconnecting).
 * With `broker`, starts the embedded broker first and uses it as the upstream; stores are let in
 * once HQ's own client has subscribed.
 */
export async function startHq(config: Readonly<ResolvedHqConfig>, options: { logger?: Logger; now?: () => number } = {}): Promise<RunningHq> {
  const logger = options.logger ?? createHqLogger(config.log.level);
  const signingKey = loadSigningKey(config.signingKey.file, config.signingKey.keyId);
  if (signingKey.looseMode) {
    logger.warn({ file: signingKey.file, mode: signingKey.looseMode }, 'the signing key file is readable by other users; chmod 600 it');
  }
  const upstream = config.upstream ? upstreamConnection(config.upstream) : undefined;
  const store = HqStore.open(config.databaseFile);
  let service: HqService | undefined;
  let broker: HqBroker | undefined;
  try {
    if (config.broker) broker = await HqBroker.start(config.broker, logger);
    const connection = broker?.hqConnection ?? upstream!;
    service = new HqService({
      store,
      signingKey,
      upstream: connection,
      stores: configuredStores(config),
      chunkBytes: config.documents.chunkBytes,
      resendOnReconnect: config.documents.resendOnReconnect,
      logger,
      ...(options.now ? { now: options.now } : {}),
    }).start();
    const embedded = broker;
    if (embedded) {
      // Stores are let in once HQ's client is subscribed, so no batch meets an empty broker. The
      // broker is in this process: that takes milliseconds; past the bound HQ starts anyway.
      const admitted = service.ready().then(() => embedded.admitStores());
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 10_000)));
      if ((await Promise.race([admitted, bounded])) === 'timeout') logger.error('HQ\'s client has not subscribed on its embedded broker yet; stores wait until it has');
      clearTimeout(timer);
    }
    const http = await createHqHttpServer(service, {
      ...(config.http.adminTokenSha256 ? { adminTokenSha256: config.http.adminTokenSha256 } : {}),
      readsRequireToken: config.http.readsRequireToken,
      maxBodyBytes: config.http.maxBodyBytes,
      logger,
    });
    await http.listen({ host: config.http.host, port: config.http.port });
    const address = http.server.address() as AddressInfo;
    const httpUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    if (!isLoopback(config.http.host) && !config.http.readsRequireToken) {
      logger.warn({ host: config.http.host }, 'HQ API bound beyond loopback with open reads; set http.readsRequireToken and put TLS in front');
    }
    if (!config.http.adminTokenSha256) logger.warn('no http.adminTokenSha256: the API is read-only (run `storeedge hq token`)');
    logger.info({ httpUrl, upstream: broker ? { embedded: broker.addresses } : connection.url, keyId: signingKey.keyId, publicKey: signingKey.publicKey, database: config.databaseFile }, 'HQ started');
    const running = service;
    let stopped: Promise<void> | undefined;
    return {
      config,
      store,
      service: running,
      broker,
      http,
      httpUrl,
      logger,
      stop() {
        stopped ??= (async () => {
          await http.close();
          await running.stop();
          await embedded?.close();
          store.close();
          logger.info('HQ stopped');
        })();
        return stopped;
      },
    };
  } catch (error) {
    await service?.stop();
    await broker?.close();
    store.close();
    throw error;
  }
}

/** The broker connection with its secrets read from their files. */
export function upstreamConnection(upstream: NonNullable<ResolvedHqConfig['upstream']>): UpstreamConnection {
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (cause) {
      throw new HqError('SYNC_ERR_HQ_CONFIG_INVALID', `upstream.${what}: cannot read ${file}: ${(cause as Error).message}`);
    }
  };
  const password = upstream.password ?? (upstream.passwordFile ? read(upstream.passwordFile, 'passwordFile').split(/\r?\n/)[0] : undefined);
  return {
    url: upstream.url,
    username: upstream.username,
    clientId: upstream.clientId,
    ...(password !== undefined ? { password } : {}),
    ...(upstream.caFile ? { ca: read(upstream.caFile, 'caFile') } : {}),
    ...(upstream.certFile ? { cert: read(upstream.certFile, 'certFile') } : {}),
    ...(upstream.keyFile ? { key: read(upstream.keyFile, 'keyFile') } : {}),
    rejectUnauthorized: upstream.rejectUnauthorized,
    protocolVersion: upstream.protocolVersion,
    sessionExpiryS: upstream.sessionExpiryS,
    keepaliveS: upstream.keepaliveS,
    connectTimeoutMs: upstream.connectTimeoutMs,
    reconnectMinMs: upstream.reconnectMinMs,
    reconnectMaxMs: upstream.reconnectMaxMs,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}
