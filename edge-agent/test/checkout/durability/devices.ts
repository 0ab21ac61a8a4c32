import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@storeedge/device-drivers';
import { storeId } from './store.ts';

/** The store's devices connected to one agent over real MQTT (mqtt.js, QoS 1). */
export class DeviceFleet {
  readonly #clients = new Map<string, MqttClient>();

  static async connect(mqttUrl: string, secrets: Record<string, string>): Promise<DeviceFleet> {
    const fleet = new DeviceFleet();
    try {
      for (const [id, secret] of Object.entries(secrets)) {
        fleet.#clients.set(id, await mqtt.connectAsync(mqttUrl, { clientId: id, username: id, password: secret, reconnectPeriod: 0, connectTimeout: 5_000 }));
      }
    } catch (error) {
      await fleet.close();
      throw error;
    }
    return fleet;
  }

  /**
   * Publishes one device event at QoS 1 and waits for its PUBACK. The agent runs its bus
   * handlers (ledger writes included) before it acknowledges, so awaiting each publish keeps
   * the devices' messages in device-time order across connections.
   */
  async publish(deviceId: string, type: string, payload: object): Promise<void> {
    const client = this.#clients.get(deviceId);
    if (!client) throw new Error(`device ${deviceId} is not connected`);
    await client.publishAsync(topics.event(storeId, deviceId, type), JSON.stringify(payload), { qos: 1 });
  }

  /** Drops the connections without a DISCONNECT (the agent is gone or about to be). */
  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((c) => c.endAsync(true).catch(() => undefined)));
    this.#clients.clear();
  }
}
