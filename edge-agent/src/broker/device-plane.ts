import { topics } from '@storeedge/device-drivers';
import type { Metrics } from '../metrics.ts';

/**
 * What the agent needs from the MQTT device plane, whichever broker carries it: the embedded
 * aedes broker or an external one the agent joins as a client. Same topics either way.
 */
export interface DevicePlane {
  start(): Promise<BrokerAddresses>;
  close(): Promise<void>;
  /** Publishes a command to one device: `…/dev/{deviceId}/cmd/{type}`. */
  publishCommand(deviceId: string, type: string, payload: unknown, options?: { qos?: 0 | 1 }): Promise<void>;
  /** Publishes to an integration stream: `…/out/{stream}`. */
  publishOut(stream: string, payload: unknown, options?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  /** Re-checks connected devices against the registry (disabled or rotated ones are disconnected). */
  reconcile(): void;
  connectedClients(): number;
}

export interface BrokerAddresses {
  mode: 'embedded' | 'external';
  mqtt?: string;
  ws?: string;
  mqtts?: string;
  external?: string;
}

/**
 * The agent's outgoing side, the same on every plane: commands to one device and `out/` streams,
 * JSON-encoded and counted. A plane supplies only how a message reaches its broker.
 */
export abstract class OutgoingPlane {
  readonly #storeId: string;
  readonly #metrics: Metrics;

  protected constructor(storeId: string, metrics: Metrics) {
    this.#storeId = storeId;
    this.#metrics = metrics;
  }

  publishCommand(deviceId: string, type: string, payload: unknown, options: { qos?: 0 | 1 } = {}): Promise<void> {
    this.#metrics.messagesOut.inc({ type: `cmd.${type}` });
    return this.publishJson(topics.command(this.#storeId, deviceId, type), payload, options.qos ?? 1, false);
  }

  publishOut(stream: string, payload: unknown, options: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    this.#metrics.messagesOut.inc({ type: `out.${stream}` });
    return this.publishJson(topics.out(this.#storeId, stream), payload, options.qos ?? 1, options.retain ?? false);
  }

  protected abstract publishJson(topic: string, payload: unknown, qos: 0 | 1, retain: boolean): Promise<void>;
}
