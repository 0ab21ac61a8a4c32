import { z } from 'zod';
import { toRfidReadsPayloads, type RfidRead } from '@storeedge/device-drivers';
import { DeviceSimulator, type DeviceSimulatorBaseOptions, type DeviceStats } from '../device-simulator.ts';
import { simulatorErrors } from '../errors.ts';
import type { AntennaView, RfidField, TagSighting } from './field.ts';

/**
 * What the reader publishes:
 * - `native`: `evt/reads` with the storeedge `rfidReadsPayload` (docs/mqtt.md), one message per round;
 * - `impinj-r700`: Impinj IoT device interface `tagInventory` events, one per message (as the R700
 *   publishes over MQTT), on `evt/impinj.events`. The agent has no ingest path for that type yet;
 *   this mode feeds `decodeImpinjR700` in driver tests. The base class adds an `at` field to
 *   every message, which the decoder ignores.
 */
export type RfidJsonFormat = 'native' | 'impinj-r700';

/** The event type of the Impinj mode's messages. */
export const IMPINJ_EVENTS_TYPE = 'impinj.events';

export interface RfidJsonReaderSimulatorOptions extends DeviceSimulatorBaseOptions {
  field: RfidField;
  /** 1-32 antennas, each covering a zone (see `antennaViews` to take them from a store model). */
  antennas: readonly AntennaView[];
  /** One inventory round over all antennas per this period. Default 1000 ms. */
  roundMs?: number;
  format?: RfidJsonFormat;
  /** Impinj mode: the `hostname` of the events. Default `impinj-` + the device id. */
  hostname?: string;
  /** QoS of read messages. Default 0: telemetry, like the shelf's weight samples. */
  readsQos?: 0 | 1;
  /** Inventory runs from start(); false waits for a `cmd/inventory` `{ "action": "start" }`. Default true. */
  autostart?: boolean;
  /** Called for every tag sighting (ground truth: own zone or cross-read), sent or not. */
  onSighting?: (sighting: TagSighting) => void;
}

export interface RfidJsonReaderStats {
  rounds: number;
  reads: number;
  crossReads: number;
  messages: number;
}

const inventoryCommand = z.object({ action: z.enum(['start', 'stop']) });

/**
 * A fixed UHF reader with several antennas (Impinj R700 style) on the store's MQTT broker.
 * Each round, every antenna inventories the field: tags in its zone answer with the field's read
 * rate, tags in neighbouring zones with the cross-read rate and a weaker RSSI.
 */
export class RfidJsonReaderSimulator extends DeviceSimulator {
  readonly format: RfidJsonFormat;
  readonly #field: RfidField;
  readonly #antennas: readonly AntennaView[];
  readonly #roundMs: number;
  readonly #hostname: string;
  readonly #readsQos: 0 | 1;
  readonly #onSighting: ((sighting: TagSighting) => void) | undefined;
  #running: boolean;
  #cancelRounds: (() => void) | undefined;
  readonly #stats: RfidJsonReaderStats = { rounds: 0, reads: 0, crossReads: 0, messages: 0 };

  constructor(options: RfidJsonReaderSimulatorOptions) {
    const format = options.format ?? 'native';
    super({
      ...options,
      kind: 'rfid-reader',
      model: options.model ?? (format === 'impinj-r700' ? 'Impinj R700 (storeedge simulator)' : 'storeedge-sim-rfid-4ant'),
      // The Impinj events are not a storeedge contract: nothing to validate them against.
      validatePayloads: format === 'impinj-r700' ? false : options.validatePayloads,
    });
    const invalid = (message: string) => simulatorErrors.SIM_ERR_CONFIG_INVALID(`${options.deviceId}: ${message}`, { deviceId: options.deviceId });
    if (options.antennas.length < 1 || options.antennas.length > 32) throw invalid(`antennas: ${options.antennas.length} given, 1-32 allowed`);
    const ports = new Set<number>();
    for (const view of options.antennas) {
      if (!Number.isInteger(view.antenna) || view.antenna < 1 || view.antenna > 64) throw invalid(`antenna ${view.antenna} must be 1-64`);
      if (ports.has(view.antenna)) throw invalid(`antenna ${view.antenna} is listed twice`);
      ports.add(view.antenna);
    }
    this.format = format;
    this.#field = options.field;
    this.#antennas = options.antennas;
    this.#roundMs = options.roundMs ?? 1_000;
    if (!(this.#roundMs >= 10)) throw invalid(`roundMs ${this.#roundMs} must be >= 10`);
    this.#hostname = options.hostname ?? `impinj-${options.deviceId}`;
    this.#readsQos = options.readsQos ?? 0;
    this.#onSighting = options.onSighting;
    this.#running = options.autostart ?? true;
  }

  get inventoryRunning(): boolean {
    return this.#running;
  }

  override stats(): DeviceStats & { rfid: RfidJsonReaderStats } {
    return { ...super.stats(), rfid: { ...this.#stats } };
  }

  protected override onStart(): void {
    this.#cancelRounds = this.every(this.#roundMs, () => this.#round(), 'inventory round');
  }

  protected override onStop(): void {
    this.#cancelRounds = undefined;
  }

  /** `cmd/inventory` `{ "action": "start" | "stop" }`. */
  protected override onCommand(type: string, payload: unknown): boolean {
    if (type !== 'inventory') return false;
    const parsed = inventoryCommand.safeParse(payload);
    if (!parsed.success) throw this.makeError('SIM_ERR_COMMAND_INVALID', `inventory command needs { "action": "start" | "stop" }`);
    this.#running = parsed.data.action === 'start';
    return true;
  }

  #round(): void {
    if (!this.#running || this.#cancelRounds === undefined) return;
    this.#stats.rounds++;
    const at = Math.round(this.clock.now());
    const sightings = this.#antennas.flatMap((view) => this.#field.inventory(view, this.rng));
    for (const sighting of sightings) {
      this.#stats.reads++;
      if (sighting.crossRead) this.#stats.crossReads++;
      this.#onSighting?.(sighting);
    }
    if (sightings.length === 0) return;
    if (!this.online) {
      this.countDroppedOffline();
      return;
    }
    if (this.format === 'native') {
      const reads: RfidRead[] = sightings.map((s) => ({ epc: s.epc, antenna: s.antenna, rssi: s.rssi, at }));
      for (const payload of toRfidReadsPayloads(reads, at)) this.#publish('reads', payload);
      return;
    }
    const timestamp = new Date(at).toISOString();
    for (const s of sightings) this.#publish(IMPINJ_EVENTS_TYPE, impinjTagInventoryEvent(s, this.#hostname, timestamp));
  }

  #publish(type: string, payload: Record<string, unknown>): void {
    this.#stats.messages++;
    void this.publishEvent(type, payload, { qos: this.#readsQos });
  }
}

/**
 * One R700 `tagInventory` event with the fields research/rfid.md §1.5 lists (epc as base64 and
 * hex, pc as base64, antenna port and name, peak RSSI in centi-dBm, last-seen time).
 */
export function impinjTagInventoryEvent(sighting: TagSighting, hostname: string, timestamp: string): Record<string, unknown> {
  const epc = Buffer.from(sighting.epc, 'hex');
  return {
    timestamp,
    hostname,
    eventType: 'tagInventory',
    tagInventoryEvent: {
      epc: epc.toString('base64'),
      epcHex: sighting.epc,
      pc: Buffer.from([sighting.pc >> 8, sighting.pc & 0xff]).toString('base64'),
      antennaPort: sighting.antenna,
      antennaName: `antenna-${sighting.antenna}`,
      peakRssiCdbm: sighting.rssi * 100,
      lastSeenTime: timestamp,
    },
  };
}
