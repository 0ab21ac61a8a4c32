import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { topics, type DeviceKind } from '@storeedge/device-drivers';
import { CheckoutScenarioRun, parseScenario, type CheckoutRunSummary, type ScenarioFile } from '@storeedge/simulators';
import { repoRoot } from './storeedge-process.ts';

/**
 * Shoppers for the fault tests: a checkout scenario from simulators/scenarios/, cut down to a few
 * visits, played by the simulator (CheckoutScenarioRun: gate scans, tracker frames, load-cell
 * samples in device time) into a store agent running as a child process, over its MQTT broker
 * with the devices' registered credentials — as `storeedge sim` does in-process. The agent
 * issues receipts and books shelf changes as stock events; both go to its outbox.
 *
 * Faults are placed in device time: the run's `onTime` runs each when the scenario reaches its
 * instant, and no message stamped later goes out before it has finished (messages already in
 * flight stay so; the devices' clients keep reconnecting, so an agent restarted on the same port
 * gets them and the rest).
 */

/** Simulated device time starts here (as in `storeedge sim`). */
export const EPOCH_MS = Date.UTC(2026, 0, 5, 8, 0, 0);
/** A device message the agent's broker has not acknowledged after this long fails the run. */
const STALL_MS = 30_000;

/**
 * checkout-single-shopper (single picks, some put-backs), cut down to its first gondola (6 shelf
 * controllers, 18 trays), a few visits of 2–4 actions, and load cells at 10 Hz: the file's 18
 * controllers at 60 Hz are 18 times the messages and add nothing the sync path needs (the agent
 * books the same shelf changes and issues the same receipts at 10 Hz).
 */
export function smallCheckoutScenario(options: { visits: number; durationMs: number; concurrent?: number }): ScenarioFile {
  const raw = JSON.parse(readFileSync(join(repoRoot, 'simulators/scenarios/checkout-single-shopper.json'), 'utf8')) as {
    store: { gondolas: unknown[] };
    shelves: { loadCells: Record<string, unknown> };
    checkout: { shoppers: Record<string, unknown>; actionsPerPerson: [number, number] };
  };
  raw.store.gondolas = raw.store.gondolas.slice(0, 1);
  raw.shelves.loadCells.sampleRateHz = 10;
  raw.checkout.shoppers = { ...raw.checkout.shoppers, visits: options.visits, durationMs: options.durationMs, concurrent: options.concurrent ?? 1 };
  raw.checkout.actionsPerPerson = [2, 4];
  return parseScenario(raw, 'checkout-single-shopper (cut down)');
}

export interface TimedFault {
  /** Device time, ms from the scenario's start. */
  atMs: number;
  run: () => Promise<void> | void;
}

export class CheckoutDriver {
  readonly scenario: ScenarioFile;
  readonly #run: CheckoutScenarioRun;

  constructor(scenario: ScenarioFile) {
    this.scenario = scenario;
    this.#run = new CheckoutScenarioRun(scenario, { epochMs: EPOCH_MS, vision: false });
  }

  /** The devices the scenario needs registered at the agent. */
  get devices(): Array<[string, DeviceKind]> {
    return [
      ...this.#run.shelfDeviceIds.map((id) => [id, 'shelf'] as [string, DeviceKind]),
      ...this.#run.gateDeviceIds.map((id) => [id, 'gate'] as [string, DeviceKind]),
      ...this.#run.trackerDeviceIds.map((id) => [id, 'tracker'] as [string, DeviceKind]),
    ];
  }

  /**
   * Plays the whole scenario into the agent at `mqttUrl` (devices connect with `secrets`);
   * `faults` run at their device time. Resolves when every message was acknowledged by the
   * agent's broker and the devices have disconnected.
   */
  async play(options: { storeId: string; mqttUrl: string; secrets: Record<string, string>; faults?: TimedFault[]; settleTailMs?: number }): Promise<CheckoutRunSummary> {
    const clients = new Map<string, MqttClient>();
    try {
      for (const [deviceId] of this.devices) {
        const client = await mqtt.connectAsync(options.mqttUrl, {
          clientId: deviceId,
          username: deviceId,
          password: options.secrets[deviceId]!,
          // A device keeps trying while the agent is down; its unacknowledged QoS 1 messages go again on reconnect.
          reconnectPeriod: 100,
          connectTimeout: 5_000,
        });
        client.on('error', () => {}); // ECONNREFUSED while the agent restarts: the client retries
        clients.set(deviceId, client);
      }
      const faults = [...(options.faults ?? [])].sort((a, b) => a.atMs - b.atMs);
      let stall: Error | undefined;
      const send = async (deviceId: string, type: string, payload: object): Promise<void> => {
        const at = (payload as { at: number }).at - EPOCH_MS;
        const acked = clients.get(deviceId)!.publishAsync(topics.event(options.storeId, deviceId, type), JSON.stringify(payload), { qos: 1 });
        // A hung agent fails the run with what it was sent, not with the test's timeout: the
        // oldest message in flight stalls first and fails the run; later ones just never settle.
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            if (stall !== undefined) return;
            stall = new Error(`the agent did not acknowledge ${deviceId}'s ${type} of device time ${at} ms within ${STALL_MS} ms`);
            reject(stall);
          }, STALL_MS);
        });
        try {
          await Promise.race([acked, stalled]);
        } finally {
          clearTimeout(timer);
        }
      };
      return await this.#run.run(
        {
          publish: (deviceId, type, payload) => {
            return send(deviceId, type, payload);
          },
        },
        {
          // Device time goes on after the last shopper left, past the checkout's settle limits, so every visit is decided.
          settleTailMs: options.settleTailMs ?? 45_000,
          // The run waits for this before sending the messages of that instant.
          onTime: async (simMs) => {
            while (faults.length > 0 && faults[0]!.atMs <= simMs) await faults.shift()!.run();
          },
        },
      );
    } finally {
      await Promise.all([...clients.values()].map((c) => c.endAsync(true).catch(() => undefined)));
    }
  }
}
