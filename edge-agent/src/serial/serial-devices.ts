import { M100Reader, SerialShelfController, toRfidReadsPayloads, type DriverErrorCode, type RfidRead } from '@storeedge/device-drivers';
import type { DeviceIngest } from '../ingest/device-ingest.ts';
import type { Logger } from '../log.ts';

/** One device wired to this host, from the config's `serialDevices`. */
export interface SerialDeviceConfig {
  device: string;
  driver: 'storeedge-shelf-serial' | 'm100-serial';
  path: string;
  baudRate?: number | undefined;
  /** RFID readers: the antenna number their reads carry (an M100 module has one port). */
  antenna?: number | undefined;
  /** Shelf controllers: per-channel calibration (raw counts → grams). */
  calibration?: Record<string, { offsetCounts?: number; gramsPerCount?: number }> | undefined;
}

interface Running {
  stop(): Promise<void>;
}

/** How often an RFID reader's single reads are batched into one `rfid.reads` event. */
const readBatchMs = 200;

/**
 * Opens the serial devices of the config with their drivers and feeds what they decode into
 * the same ingest as MQTT devices (registry check, rate limit, schema, bus). Drivers reopen
 * lost ports themselves; their rejects (bad frames, CRC errors, gaps) are counted per device.
 * The device must also be registered (`device add ID --kind shelf --driver storeedge-shelf-serial`):
 * until it is, and while it is disabled, its events are refused and counted like an MQTT device's.
 */
export class SerialDevices {
  readonly #running: Running[] = [];

  constructor(
    private readonly configs: readonly SerialDeviceConfig[],
    private readonly o: { ingest: DeviceIngest; logger: Logger },
  ) {}

  start(): void {
    for (const config of this.configs) this.#running.push(config.driver === 'm100-serial' ? this.#rfid(config) : this.#shelf(config));
  }

  async stop(): Promise<void> {
    await Promise.all(this.#running.splice(0).map((r) => r.stop()));
  }

  #shelf(config: SerialDeviceConfig): Running {
    const { ingest, logger } = this.o;
    const id = config.device;
    const controller = new SerialShelfController({
      deviceId: id,
      path: config.path,
      ...(config.baudRate === undefined ? {} : { baudRate: config.baudRate }),
      ...(config.calibration === undefined ? {} : { calibration: config.calibration }),
    });
    const line = new LineState(id, ingest);
    controller.on('close', () => line.down());
    controller.on('weight', (sample) => line.accepted(ingest.acceptLocal(id, 'weight', sample)));
    controller.on('health', (health) => line.accepted(ingest.acceptLocal(id, 'health', health)));
    controller.on('reject', (r) => ingest.recordDriverReject(id, r.code, r.reason));
    controller.on('portError', (error) => logger.warn({ deviceId: id, path: config.path, err: error.message }, 'serial port failure; reopening'));
    controller.start(); // opens in the background and keeps reopening; failures arrive as portError
    return {
      async stop() {
        await controller.stop();
        line.down();
      },
    };
  }

  #rfid(config: SerialDeviceConfig): Running {
    const { ingest, logger } = this.o;
    const id = config.device;
    const reader = new M100Reader({
      path: config.path,
      ...(config.baudRate === undefined ? {} : { baudRate: config.baudRate }),
      ...(config.antenna === undefined ? {} : { antenna: config.antenna }),
    });
    let batch: RfidRead[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      for (const payload of toRfidReadsPayloads(batch)) line.accepted(ingest.acceptLocal(id, 'reads', payload));
      batch = [];
    };
    const timer = setInterval(flush, readBatchMs);
    timer.unref();
    const line = new LineState(id, ingest);
    reader.on('down', (error, retryInMs) => {
      line.down();
      logger.warn({ deviceId: id, path: config.path, err: error.message, retryInMs }, 'RFID reader port down; reopening');
    });
    reader.on('read', (read) => batch.push(read));
    reader.on('reject', (r) => ingest.recordDriverReject(id, r.code as DriverErrorCode, r.reason));
    // Resolves on the first open; until then failures arrive as `down` and the reader retries.
    void reader.start().catch((error: unknown) => logger.error({ deviceId: id, err: error }, 'RFID reader failed to start'));
    return {
      async stop() {
        clearInterval(timer);
        flush();
        await reader.stop();
        line.down();
      },
    };
  }
}

/**
 * Online/offline for a device on a serial line: online from its first accepted event (a port
 * can be open with nothing on the other end, and a device registered later must still show
 * up), offline when the port closes or the agent stops.
 */
class LineState {
  #online = false;
  constructor(
    private readonly deviceId: string,
    private readonly ingest: DeviceIngest,
  ) {}

  accepted(outcome: { ok: boolean }): void {
    if (!outcome.ok || this.#online) return;
    this.#online = true;
    this.ingest.connected(this.deviceId);
  }

  down(): void {
    if (!this.#online) return;
    this.#online = false;
    this.ingest.disconnected(this.deviceId);
  }
}
