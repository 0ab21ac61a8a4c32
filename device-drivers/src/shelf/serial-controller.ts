import { EventEmitter } from 'node:events';
import { SerialPortStream } from '@serialport/stream';
import { z } from 'zod';
import { DriverError, driverErrors, type DriverErrorCode } from '../errors.ts';
import { systemSerialBinding, type SerialBinding } from '../serial-binding.ts';
import { healthPayload, type HealthPayload, type WeightPayload } from '../payloads.ts';
import { deviceIdPattern } from '../topics.ts';
import { defaultChannelCalibration, sampleToWeightPayload, type ChannelCalibration } from './calibration.ts';
import { ShelfFrameParser } from './frame-parser.ts';
import {
  encodeFrame,
  SHELF_MAX_CHANNELS,
  shelfNakErrorName,
  shelfOpcodes,
  type ShelfAckResult,
  type ShelfCommand,
  type ShelfFrame,
  type ShelfReject,
  type ShelfStatusFrame,
} from './frame.ts';

/** The timers the driver uses; tests pass fakes (or use vi.useFakeTimers, which the default follows). */
export interface ShelfDriverTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall time and Node's timers, looked up at each call so fake timers installed later apply. */
export const systemShelfTimers: ShelfDriverTimers = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
});

/**
 * A device time at or after 2020-01-01 is taken as ms since the Unix epoch (the host has set
 * the controller's clock); an earlier one is ms since power-up and is anchored to host time.
 */
export const SHELF_CLOCK_SET_AFTER_MS = Date.UTC(2020, 0, 1);

const calibrationSchema = z.object({
  offsetCounts: z.number().finite().default(defaultChannelCalibration.offsetCounts),
  gramsPerCount: z
    .number()
    .finite()
    .refine((v) => v !== 0, 'gramsPerCount must not be 0')
    .default(defaultChannelCalibration.gramsPerCount),
});

/** The plain (serialisable) options, with their defaults. */
export const serialShelfControllerConfig = z.object({
  /** Device id in the registry; names the controller in events, stats and errors. */
  deviceId: z.string().regex(deviceIdPattern, 'deviceId: lowercase letters, digits, . _ - (docs/mqtt.md)'),
  /** The serial device, e.g. /dev/ttyACM0 or /dev/serial/by-id/…; never discovered by listing ports. */
  path: z.string().min(1),
  baudRate: z.number().int().positive().default(115_200),
  /** Per channel (key: channel number); missing channels use `defaultChannelCalibration`. */
  calibration: z.record(z.string().regex(/^\d+$/, 'calibration keys are channel numbers'), calibrationSchema).default({}),
  /** How long a command waits for its ack (and requestStatus for the status frame after it). */
  commandTimeoutMs: z.number().positive().default(3_000),
  /** First wait before reopening after a failed open or a lost port; doubles per failure. */
  reopenInitialDelayMs: z.number().positive().default(500),
  reopenMaxDelayMs: z.number().positive().default(30_000),
  /** Send SET_TIME after each open and when frames show the controller clock unset. */
  syncClock: z.boolean().default(true),
  /** While frames keep showing an unset clock, try SET_TIME again at most this often. */
  clockSyncRetryMs: z.number().positive().default(10_000),
});

export type SerialShelfControllerConfig = z.input<typeof serialShelfControllerConfig>;

export interface SerialShelfControllerOptions extends SerialShelfControllerConfig {
  /** serialport binding; default `@serialport/bindings-cpp` autoDetect() (loaded on first open). */
  binding?: ShelfSerialBinding;
  timers?: ShelfDriverTimers;
}

export interface SerialShelfControllerEvents {
  /** One canonical sample per sample frame with at least one usable channel. */
  weight: [sample: WeightPayload];
  /** A status frame, as sent. */
  status: [status: ShelfStatusFrame];
  /** The same status frame in the canonical `evt/health` shape. */
  health: [health: HealthPayload];
  /** Something was dropped or missed: a bad frame, a sequence gap, a faulty channel. Counted in stats. */
  reject: [reject: ShelfReject];
  /** The port failed to open, failed under the driver, or closed; the driver reopens it. */
  portError: [error: DriverError];
  open: [];
  /** The port closed under the driver (then it reopens); `error` unless the close was orderly. Not emitted by stop(). */
  close: [error: DriverError | undefined];
}

export interface SerialShelfControllerStats {
  deviceId: string;
  path: string;
  open: boolean;
  /** Successful opens, and open attempts that failed. */
  opens: number;
  openFailures: number;
  /** Frames that passed their CRC and decoded. */
  frames: number;
  /** `weight` events emitted. */
  samples: number;
  /** Frames the sequence numbers show were sent but never arrived whole. */
  lostFrames: number;
  /** Counts by code: frame rejects, gaps, channel faults, port failures, command timeouts and naks. */
  rejects: Partial<Record<DriverErrorCode, number>>;
  commandsSent: number;
  commandsAcked: number;
  commandsFailed: number;
}

interface PendingCommand {
  readonly label: string;
  readonly opcode: number;
  readonly timer: unknown;
  /** requestStatus: after its ack, waits for the status frame that follows. */
  readonly awaitsStatus: boolean;
  acked: boolean;
  resolve(value: ShelfAckResult | ShelfStatusFrame): void;
  reject(error: DriverError): void;
}

/** A serialport binding: `@serialport/bindings-cpp` for real ports, `@serialport/binding-mock` in tests. */
export type ShelfSerialBinding = SerialBinding;

/** The native binding, with hang-ups seen as the line going down (see serial-binding.ts). */
export { systemSerialBinding };

/**
 * A load-cell shelf controller on a serial port, speaking the frame of docs/shelf-controller.md.
 * Turns sample frames into the canonical `weight` sample the MQTT shelves send, keeps the port
 * open (reopening with a doubling back-off after it fails or goes away), counts every reject by
 * code, and sends commands whose promises settle on the ack, the nak or a timeout.
 */
export class SerialShelfController extends EventEmitter<SerialShelfControllerEvents> {
  readonly deviceId: string;
  readonly path: string;
  readonly #config: z.output<typeof serialShelfControllerConfig>;
  readonly #binding: ShelfSerialBinding | undefined;
  readonly #timers: ShelfDriverTimers;
  readonly #calibration = new Map<number, ChannelCalibration>();
  readonly #parser = new ShelfFrameParser();
  readonly #pending = new Map<number, PendingCommand>();
  #port: SerialPortStream | undefined;
  #state: 'idle' | 'running' | 'stopped' = 'idle';
  #reopenTimer: unknown;
  #failedOpens = 0;
  #nextSeq = 0;
  /** The controller's frame sequence, unwrapped past 65535, for the canonical `seq`. */
  #lastSeq: number | undefined;
  #extendedSeq: number | undefined;
  /** Host time minus device time, while the controller's clock is not set. */
  #anchor: { offsetMs: number; lastDeviceMs: number } | undefined;
  /** SET_TIME commands awaiting their answer. */
  #clockSyncsInFlight = 0;
  #lastClockSyncAt = -Infinity;
  readonly #stats: Omit<SerialShelfControllerStats, 'deviceId' | 'path' | 'open' | 'rejects'> = {
    opens: 0,
    openFailures: 0,
    frames: 0,
    samples: 0,
    lostFrames: 0,
    commandsSent: 0,
    commandsAcked: 0,
    commandsFailed: 0,
  };
  readonly #rejects: Partial<Record<DriverErrorCode, number>> = {};

  constructor(options: SerialShelfControllerOptions) {
    super();
    const { binding, timers, ...plain } = options;
    const parsed = serialShelfControllerConfig.safeParse(plain);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw driverErrors.DRV_ERR_CONFIG_INVALID(`serial shelf controller ${String(options.deviceId)}: ${issues}`);
    }
    this.#config = Object.freeze(parsed.data);
    this.deviceId = this.#config.deviceId;
    this.path = this.#config.path;
    this.#binding = binding;
    this.#timers = timers ?? systemShelfTimers;
    for (const [ch, calibration] of Object.entries(this.#config.calibration)) {
      if (Number(ch) >= SHELF_MAX_CHANNELS) throw driverErrors.DRV_ERR_CONFIG_INVALID(`${this.deviceId}: calibration for channel ${ch}, the protocol has 0-${SHELF_MAX_CHANNELS - 1}`);
      this.#calibration.set(Number(ch), { ...calibration });
    }
  }

  /** Starts opening the port; `open` fires when it is, `portError` each time it is not (then it retries). */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'running';
    void this.#open();
  }

  /** Closes the port and stops reopening; pending commands reject with DRV_ERR_PORT. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    if (this.#reopenTimer !== undefined) this.#timers.clearTimeout(this.#reopenTimer);
    this.#reopenTimer = undefined;
    this.#failAll(driverErrors.DRV_ERR_PORT(`${this.deviceId}: controller stopped`));
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  get isOpen(): boolean {
    return this.#port?.isOpen ?? false;
  }

  /** The calibration the driver applies to a channel now (a tare changes its offset). */
  calibrationOf(ch: number): ChannelCalibration {
    return { ...(this.#calibration.get(ch) ?? defaultChannelCalibration) };
  }

  stats(): SerialShelfControllerStats {
    return { deviceId: this.deviceId, path: this.path, open: this.isOpen, ...this.#stats, rejects: { ...this.#rejects } };
  }

  /**
   * Tares a channel: the controller averages its next conversions and reports them as the
   * channel's zero; the driver makes that the channel's `offsetCounts`, so it then reads ~0 g.
   */
  async tare(ch: number): Promise<{ ch: number; zeroCounts: number }> {
    const result = (await this.#send({ op: 'tare', ch })) as Extract<ShelfAckResult, { op: 'tare' }>;
    if (result.ch !== ch) {
      this.#count('DRV_ERR_DEVICE_ERROR');
      throw driverErrors.DRV_ERR_DEVICE_ERROR(`${this.deviceId}: tare ch ${ch} was acked for channel ${result.ch}`);
    }
    this.#calibration.set(ch, { ...this.calibrationOf(ch), offsetCounts: result.zeroCounts });
    return { ch, zeroCounts: result.zeroCounts };
  }

  /** Resolves with the rate the controller now samples at; a rate it cannot do is a nak (DRV_ERR_DEVICE_ERROR). */
  async setSampleRate(hz: number): Promise<number> {
    return ((await this.#send({ op: 'setRate', hz })) as Extract<ShelfAckResult, { op: 'setRate' }>).hz;
  }

  /** Resolves with the status frame the controller sends after acking the request. */
  async requestStatus(): Promise<ShelfStatusFrame> {
    return (await this.#send({ op: 'requestStatus' })) as ShelfStatusFrame;
  }

  /** Sets the controller's clock (default: now on the driver's timers), so frames carry epoch times. */
  async setClock(epochMs: number = Math.round(this.#timers.now())): Promise<void> {
    this.#clockSyncsInFlight++;
    this.#lastClockSyncAt = this.#timers.now();
    try {
      await this.#send({ op: 'setTime', epochMs });
    } finally {
      this.#clockSyncsInFlight--;
    }
  }

  // ── port lifecycle ─────────────────────────────────────────────────────────────────────

  async #open(): Promise<void> {
    this.#reopenTimer = undefined;
    if (this.#state !== 'running') return;
    let port: SerialPortStream;
    try {
      const binding = this.#binding ?? (await systemSerialBinding());
      if (this.#state !== 'running') return;
      port = new SerialPortStream({ binding, path: this.path, baudRate: this.#config.baudRate, autoOpen: false });
    } catch (error) {
      this.#openFailed(error);
      return;
    }
    port.on('data', (chunk: Buffer) => {
      if (port === this.#port) this.#onData(chunk);
    });
    port.on('error', (error: Error) => this.#onPortError(port, error));
    port.on('close', (error?: Error | null) => this.#onClose(port, error ?? undefined));
    port.open((error) => {
      if (error) return this.#openFailed(error);
      if (this.#state !== 'running') return port.close();
      this.#port = port;
      this.#failedOpens = 0;
      this.#stats.opens++;
      // A new connection: the controller may have restarted, bytes in flight are gone.
      this.#parser.reset();
      this.#lastSeq = undefined;
      this.#anchor = undefined;
      this.emit('open');
      if (this.#config.syncClock) this.#syncClock();
    });
  }

  #openFailed(cause: unknown): void {
    this.#stats.openFailures++;
    this.#portError(`cannot open ${this.path}: ${describe(cause)}`, cause);
    this.#scheduleReopen();
  }

  #onPortError(port: SerialPortStream, cause: Error): void {
    if (port !== this.#port) return;
    this.#portError(`${this.path}: ${cause.message}`, cause);
    // The stream may be left open but unusable; closing it ends in #onClose, which reopens.
    if (port.isOpen) port.close();
  }

  #onClose(port: SerialPortStream, cause: Error | undefined): void {
    if (port !== this.#port) return;
    this.#port = undefined;
    if (port.isOpen) port.close();
    const error = cause === undefined ? undefined : this.#portError(`${this.path} closed: ${cause.message}`, cause);
    this.#failAll(driverErrors.DRV_ERR_PORT(`${this.deviceId}: ${this.path} closed`));
    this.emit('close', error);
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (this.#state !== 'running' || this.#reopenTimer !== undefined) return;
    const { reopenInitialDelayMs, reopenMaxDelayMs } = this.#config;
    const delay = Math.min(reopenMaxDelayMs, reopenInitialDelayMs * 2 ** this.#failedOpens);
    this.#failedOpens++;
    this.#reopenTimer = this.#timers.setTimeout(() => void this.#open(), delay);
  }

  #portError(message: string, cause: unknown): DriverError {
    const error = driverErrors.DRV_ERR_PORT(`${this.deviceId}: ${message}`, { cause });
    this.#count('DRV_ERR_PORT');
    this.emit('portError', error);
    return error;
  }

  // ── receiving ──────────────────────────────────────────────────────────────────────────

  #onData(chunk: Uint8Array): void {
    for (const item of this.#parser.push(chunk)) {
      if (item.kind === 'reject') this.#reject(item.reject);
      else this.#onFrame(item.frame);
    }
  }

  #onFrame(frame: ShelfFrame): void {
    this.#stats.frames++;
    const seq = this.#extendSeq(frame.seq);
    switch (frame.type) {
      case 'sample': {
        const at = this.#epochMs(frame.deviceTimeMs);
        const { payload, faults } = sampleToWeightPayload(frame, { at, seq, calibration: (ch) => this.#calibration.get(ch) ?? defaultChannelCalibration });
        for (const fault of faults) this.#reject(fault);
        if (payload !== undefined) {
          this.#stats.samples++;
          this.emit('weight', payload);
        }
        return;
      }
      case 'status':
        return this.#onStatus(frame);
      case 'ack': {
        const pending = this.#pending.get(frame.ackSeq);
        // A late ack (after its timeout) or one for another opcode answers nothing we wait for.
        if (pending === undefined || pending.opcode !== shelfOpcodes[frame.result.op]) return;
        if (!pending.awaitsStatus) return this.#settle(frame.ackSeq, frame.result);
        pending.acked = true;
        return;
      }
      case 'nak': {
        const pending = this.#pending.get(frame.ackSeq);
        if (pending === undefined || pending.opcode !== frame.opcode) return;
        this.#count('DRV_ERR_DEVICE_ERROR');
        return this.#settle(frame.ackSeq, driverErrors.DRV_ERR_DEVICE_ERROR(`${this.deviceId}: ${pending.label} refused: ${shelfNakErrorName(frame.error)}`));
      }
      case 'command':
        return this.#reject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: `controller sent a command frame (seq ${frame.seq}); only the host sends commands` });
    }
  }

  #onStatus(frame: ShelfStatusFrame): void {
    const at = this.#epochMs(frame.deviceTimeMs);
    this.emit('status', frame);
    const temperatureC = frame.temperatureDeciC === null ? undefined : frame.temperatureDeciC / 10;
    const health = healthPayload.safeParse({ at, uptimeS: frame.uptimeS, ...(temperatureC === undefined ? {} : { temperatureC }) });
    if (health.success) this.emit('health', health.data);
    for (const [seq, pending] of this.#pending) if (pending.awaitsStatus && pending.acked) this.#settle(seq, frame);
  }

  #reject(reject: ShelfReject): void {
    this.#count(reject.code);
    if (reject.lost !== undefined) this.#stats.lostFrames += reject.lost;
    this.emit('reject', reject);
  }

  #count(code: DriverErrorCode): void {
    this.#rejects[code] = (this.#rejects[code] ?? 0) + 1;
  }

  #extendSeq(seq: number): number {
    if (this.#extendedSeq === undefined) {
      this.#extendedSeq = seq;
    } else if (this.#lastSeq === undefined) {
      // First frame after a reopen: keep counting up from where the last connection ended.
      this.#extendedSeq += 1;
    } else {
      const step = (seq - this.#lastSeq) & 0xffff;
      // Forward (gaps included) by its step; a restart still moves the canonical seq forward.
      this.#extendedSeq += step !== 0 && step < 0x8000 ? step : 1;
    }
    this.#lastSeq = seq;
    return this.#extendedSeq;
  }

  /** Device time → ms since the epoch (`at`): as sent once the clock is set, else anchored to host time. */
  #epochMs(deviceMs: number): number {
    if (deviceMs >= SHELF_CLOCK_SET_AFTER_MS) return deviceMs;
    if (this.#anchor === undefined || deviceMs < this.#anchor.lastDeviceMs) {
      // First frame, or the device clock went back (a restart): anchor to now, and set the clock.
      this.#anchor = { offsetMs: Math.round(this.#timers.now()) - deviceMs, lastDeviceMs: deviceMs };
      if (this.#config.syncClock) this.#syncClock();
    } else if (this.#config.syncClock && this.#timers.now() - this.#lastClockSyncAt >= this.#config.clockSyncRetryMs) {
      // Still unset: the last SET_TIME was lost or went out before the controller listened.
      this.#syncClock();
    }
    this.#anchor.lastDeviceMs = deviceMs;
    return Math.max(0, deviceMs + this.#anchor.offsetMs);
  }

  #syncClock(): void {
    if (this.#clockSyncsInFlight > 0 || !this.isOpen) return;
    // Failures are counted (timeout, nak, port); the next restart or reopen tries again.
    this.setClock().catch(() => undefined);
  }

  // ── commands ───────────────────────────────────────────────────────────────────────────

  #send(command: Exclude<ShelfCommand, { op: 'invalid' }>): Promise<ShelfAckResult | ShelfStatusFrame> {
    const label = `${command.op}${'ch' in command ? ` ch ${command.ch}` : 'hz' in command ? ` ${command.hz} Hz` : ''}`;
    const port = this.#port;
    if (port === undefined || !port.isOpen) {
      this.#stats.commandsFailed++;
      return Promise.reject(driverErrors.DRV_ERR_PORT(`${this.deviceId}: ${label}: ${this.path} is not open`));
    }
    const seq = this.#nextSeq;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame({ type: 'command', seq, command });
    } catch (error) {
      this.#stats.commandsFailed++;
      return Promise.reject(error);
    }
    this.#nextSeq = (seq + 1) & 0xffff;
    return new Promise((resolve, reject) => {
      const timer = this.#timers.setTimeout(() => {
        this.#count('DRV_ERR_COMMAND_TIMEOUT');
        this.#settle(seq, driverErrors.DRV_ERR_COMMAND_TIMEOUT(`${this.deviceId}: ${label}: no answer in ${this.#config.commandTimeoutMs} ms`));
      }, this.#config.commandTimeoutMs);
      this.#pending.set(seq, { label, opcode: shelfOpcodes[command.op], timer, awaitsStatus: command.op === 'requestStatus', acked: false, resolve, reject });
      this.#stats.commandsSent++;
      port.write(Buffer.from(bytes), (error) => {
        if (error) this.#settle(seq, driverErrors.DRV_ERR_PORT(`${this.deviceId}: ${label}: write failed: ${error.message}`, { cause: error }));
      });
    });
  }

  #settle(seq: number, outcome: ShelfAckResult | ShelfStatusFrame | DriverError): void {
    const pending = this.#pending.get(seq);
    if (pending === undefined) return;
    this.#pending.delete(seq);
    this.#timers.clearTimeout(pending.timer);
    if (outcome instanceof DriverError) {
      this.#stats.commandsFailed++;
      pending.reject(outcome);
    } else {
      this.#stats.commandsAcked++;
      pending.resolve(outcome);
    }
  }

  #failAll(error: DriverError): void {
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, error);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
