import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { parseTopic, topics } from '@storeedge/device-drivers';
import { errors } from '../errors.ts';
import type { ResolvedConfig } from '../config/load.ts';
import type { DeviceIngest } from '../ingest/device-ingest.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { OutgoingPlane, type BrokerAddresses, type DevicePlane } from './device-plane.ts';

export interface ExternalBrokerOptions {
  config: Readonly<ResolvedConfig>;
  ingest: DeviceIngest;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The agent as a client of an external broker (Mosquitto, EMQX) for stores that outgrow the
 * embedded one. Same topics; the external broker enforces authentication and the topic ACL
 * (docs/mqtt.md gives a Mosquitto ACL that matches acl.ts). The agent still validates every
 * payload: the broker checks who may publish where, not what they publish.
 */
export class ExternalBroker extends OutgoingPlane implements DevicePlane {
  readonly #o: ExternalBrokerOptions;
  #client: MqttClient | undefined;

  constructor(options: ExternalBrokerOptions) {
    super(options.config.storeId, options.metrics);
    this.#o = options;
  }

  async start(): Promise<BrokerAddresses> {
    const { config, logger } = this.#o;
    const external = config.broker.external;
    if (!external) throw errors.EDGE_ERR_CONFIG_INVALID('broker.external is required in external mode');
    let password: string;
    try {
      password = readFileSync(external.passwordFile, 'utf8').trim();
    } catch (cause) {
      throw errors.EDGE_ERR_CONFIG_UNREADABLE(`cannot read broker.external.passwordFile: ${(cause as Error).message}`, { cause });
    }
    const client = mqtt.connect(external.url, {
      clientId: `storeedge-agent-${config.storeId}`,
      username: external.username,
      password,
      clean: false, // a persistent session: device messages sent while the agent restarts wait for it
      reconnectPeriod: 2_000,
      connectTimeout: 10_000,
      ...(external.caFile ? { ca: readFileSync(external.caFile) } : {}),
    });
    this.#client = client;
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    client.on('error', (err) => logger.warn({ err: err.message }, 'external broker error'));
    client.on('offline', () => logger.warn('external broker offline'));
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      await client.subscribeAsync([topics.allDeviceEvents(config.storeId), topics.allDeviceStates(config.storeId)], { qos: 1 });
    } catch (cause) {
      client.end(true);
      throw errors.EDGE_ERR_UPSTREAM_BROKER(`cannot join external broker ${external.url}: ${(cause as Error).message}`, { cause });
    }
    logger.info({ url: external.url }, 'joined external broker');
    return { mode: 'external', external: external.url };
  }

  async close(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    if (client) await client.endAsync();
  }

  reconcile(): void {
    // Connections belong to the external broker; disabled devices are refused by the agent's ingest.
  }

  connectedClients(): number {
    return this.#client?.connected ? 1 : 0;
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (!parsed || (parsed.kind !== 'state' && parsed.kind !== 'evt') || parsed.storeId !== this.#o.config.storeId) {
      this.#o.ingest.recordReject('(external)', 'EDGE_ERR_INGEST_TOPIC_DENIED', `message on "${topic}" is outside the device contract`);
      return;
    }
    this.#o.ingest.accept(parsed.deviceId, parsed, payload);
  }

  protected async publishJson(topic: string, payload: unknown, qos: 0 | 1, retain: boolean): Promise<void> {
    const client = this.#client;
    if (!client) throw errors.EDGE_ERR_INTERNAL('external broker link is not running');
    await client.publishAsync(topic, JSON.stringify(payload), { qos, retain });
  }
}
