import { EventEmitter } from 'node:events';
import type { SerialPortStream } from '@serialport/stream';
import { DriverError, driverErrors, type DriverErrorCode, type Reject } from '../errors.ts';
import { M100FrameParser, type M100ParseEvent } from './m100-parser.ts';
import { decodeM100Message, m100Commands, type M100Message } from './m100-protocol.ts';
import { ANTENNA_MAX, type RfidRead } from './read.ts';
import { openSerialPort, type SerialBinding } from './serial-line.ts';

/**
 * The serial shell of an M100-family UHF module: opens the port, starts a multi-poll, turns tag
 * notices into canonical reads, counts everything it drops, and re-opens the port with a
 * back-off after errors. The protocol itself is the pure code in m100-frame/parser/protocol.
 */

export interface M100ReaderOptions {
  /** The serial device, e.g. `/dev/ttyUSB0` or a pty. Ports are never listed (that needs udevadm). */
  path: string;
  /** Default 115200 (the M100's factory setting). */
  baudRate?: number;
  /** Default: `@serialport/bindings-cpp` (loaded on first open). Tests pass `@serialport/binding-mock`. */
  binding?: SerialBinding;
  /** The antenna number reads carry; an M100 module has one port. Default 1. */
  antenna?: number;
  /** Rounds per multi-poll command, 1-65535. Default 65535. */
  pollCount?: number;
  /**
   * Re-sends the multi-poll this often, so inventory resumes after the module ran its rounds out
   * or was reset without the port noticing. Null: only on open. Default 60 s.
   */
  repollIntervalMs?: number | null;
  /** Wait before the first re-open after a failure; doubles per failure up to `maxBackoffMs`. Default 500 ms. */
  initialBackoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
  /** Largest frame parameter length accepted (M100FrameParser). Default 255. */
  maxParamLength?: number;
  /**
   * When the line stays silent this long with part of a frame held back, that part can no longer
   * complete (noise that looked like a header, a frame cut off): the parser is flushed so the
   * frames behind it are not held back too. Like serialport's parser-inter-byte-timeout. At
   * 115 200 baud the longest frame takes ~25 ms. Default 100 ms.
   */
  interByteTimeoutMs?: number;
  /** Receive time of reads, ms since the epoch. Default Date.now. */
  now?: () => number;
}

/** The reader's events; the map is the contract. */
export interface M100ReaderEvents {
  /** A tag answered. */
  read: [read: RfidRead];
  /** Bytes or a message were dropped (bad frame, tag CRC, module error); already counted. */
  reject: [reject: Reject];
  /** A response that is not a tag read: stop acknowledged, module info, TX power, region. */
  message: [message: M100Message];
  /** The port is open and the multi-poll was sent. */
  open: [];
  /** The port closed (or failed to open); a re-open is scheduled after `retryInMs` unless stopping. */
  down: [error: DriverError, retryInMs: number];
}

export type M100ReaderState = 'idle' | 'opening' | 'open' | 'backoff' | 'stopping' | 'stopped';

export interface M100ReaderStats {
  path: string;
  state: M100ReaderState;
  reads: number;
  /** Rejects by code (frames, tag CRCs, module errors, port failures). */
  rejects: Partial<Record<DriverErrorCode, number>>;
  frames: number;
  bytes: number;
  /** Successful opens; more than one means the reader recovered from failures. */
  opens: number;
  /** Failed opens and lost ports. */
  portFailures: number;
}

export class M100Reader extends EventEmitter<M100ReaderEvents> {
  readonly path: string;
  readonly #baudRate: number;
  readonly #binding: SerialBinding | undefined;
  readonly #antenna: number;
  readonly #pollCount: number;
  readonly #repollIntervalMs: number | null;
  readonly #initialBackoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #now: () => number;
  readonly #interByteTimeoutMs: number;
  readonly #parser: M100FrameParser;

  #state: M100ReaderState = 'idle';
  #port: SerialPortStream | undefined;
  #failures = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #repollTimer: NodeJS.Timeout | undefined;
  #silenceTimer: NodeJS.Timeout | undefined;
  #firstOpen: { promise: Promise<void>; resolve: () => void };
  readonly #counts = { reads: 0, frames: 0, bytes: 0, opens: 0, portFailures: 0 };
  readonly #rejects: Partial<Record<DriverErrorCode, number>> = {};

  constructor(options: M100ReaderOptions) {
    super();
    const antenna = options.antenna ?? 1;
    const pollCount = options.pollCount ?? 0xffff;
    if (options.path.length === 0) throw new RangeError('M100Reader: path is empty');
    if (!Number.isInteger(antenna) || antenna < 0 || antenna > ANTENNA_MAX) throw new RangeError(`M100Reader: antenna ${antenna} must be 0-${ANTENNA_MAX}`);
    if (!Number.isInteger(pollCount) || pollCount < 1 || pollCount > 0xffff) throw new RangeError(`M100Reader: pollCount ${pollCount} must be 1-65535`);
    this.path = options.path;
    this.#baudRate = options.baudRate ?? 115_200;
    this.#binding = options.binding;
    this.#antenna = antenna;
    this.#pollCount = pollCount;
    this.#repollIntervalMs = options.repollIntervalMs === undefined ? 60_000 : options.repollIntervalMs;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#interByteTimeoutMs = options.interByteTimeoutMs ?? 100;
    this.#parser = new M100FrameParser({ maxParamLength: options.maxParamLength });
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.#firstOpen = { promise, resolve };
  }

  get state(): M100ReaderState {
    return this.#state;
  }

  /**
   * Opens the port and starts inventory. Resolves once the port is first open (after any number
   * of retries), or when stop() is called first. Never rejects: failures are `down` events.
   * A reader is single-use: once stopped it stays stopped.
   */
  start(): Promise<void> {
    if (this.#state === 'idle') this.#open();
    return this.#firstOpen.promise;
  }

  /** Stops inventory (best effort), closes the port and cancels retries. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#state === 'stopped' || this.#state === 'stopping') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'stopping';
    this.#clearTimers();
    const port = this.#port;
    if (wasOpen && port !== undefined && port.isOpen) {
      await this.#write(m100Commands.stopMultiPoll()).catch(() => undefined);
      await new Promise<void>((resolve) => port.drain(() => resolve()));
    }
    await this.#closePort();
    this.#state = 'stopped';
    this.#firstOpen.resolve();
  }

  /** Writes a command frame (e.g. `m100Commands.setTxPower(26)`); rejects with DRV_ERR_PORT when the port is not open. */
  send(frame: Uint8Array): Promise<void> {
    return this.#write(frame);
  }

  stats(): M100ReaderStats {
    return { path: this.path, state: this.#state, ...this.#counts, rejects: { ...this.#rejects } };
  }

  #open(): void {
    this.#state = 'opening';
    openSerialPort({ path: this.path, baudRate: this.#baudRate, binding: this.#binding }).then(
      (port) => this.#onOpened(port),
      (error: unknown) => {
        if (this.#state !== 'opening') return;
        this.#down(driverErrors.DRV_ERR_PORT(`cannot open ${this.path}: ${describe(error)}`, { cause: error }));
      },
    );
  }

  #onOpened(port: SerialPortStream): void {
    if (this.#state !== 'opening') {
      port.close(() => undefined); // stopped while opening
      return;
    }
    this.#port = port;
    this.#state = 'open';
    this.#failures = 0;
    this.#counts.opens++;
    this.#parser.reset();
    port.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    port.on('error', (error: Error) => this.#onPortLost(port, error));
    port.on('close', (error?: Error | null) => this.#onPortLost(port, error ?? new Error('port closed')));
    this.#startInventory();
    if (this.#repollIntervalMs !== null) this.#repollTimer = setInterval(() => this.#startInventory(), this.#repollIntervalMs);
    this.emit('open');
    this.#firstOpen.resolve();
  }

  #startInventory(): void {
    this.#write(m100Commands.multiPoll(this.#pollCount)).catch(() => undefined); // failures end in #onPortLost
  }

  #onBytes(chunk: Buffer): void {
    this.#counts.bytes += chunk.length;
    this.#handle(this.#parser.push(chunk));
    if (this.#silenceTimer !== undefined) clearTimeout(this.#silenceTimer);
    this.#silenceTimer = undefined;
    if (this.#parser.buffered > 0) {
      this.#silenceTimer = setTimeout(() => {
        this.#silenceTimer = undefined;
        if (this.#state === 'open') this.#handle(this.#parser.flush());
      }, this.#interByteTimeoutMs);
    }
  }

  #handle(events: M100ParseEvent[]): void {
    for (const event of events) {
      if (event.kind === 'reject') {
        this.#reject(event.reject);
        continue;
      }
      this.#counts.frames++;
      const result = decodeM100Message(event.frame);
      if (!result.ok) {
        this.#reject(result.reject);
        continue;
      }
      const message = result.message;
      if (message.kind === 'tag') {
        this.#counts.reads++;
        this.emit('read', { epc: message.epc, antenna: this.#antenna, rssi: message.rssi, pc: message.pc, at: this.#now() });
      } else {
        this.emit('message', message);
      }
    }
  }

  #reject(reject: Reject): void {
    this.#rejects[reject.code] = (this.#rejects[reject.code] ?? 0) + 1;
    this.emit('reject', reject);
  }

  /** An error or close on the current port: close it (once) and schedule a re-open. */
  #onPortLost(port: SerialPortStream, error: Error): void {
    if (this.#port !== port) return; // an old port's late event
    this.#port = undefined;
    if (this.#state !== 'open') return; // stopping closes on purpose
    // Bytes of a frame cut off by the loss cannot complete: report them.
    this.#handle(this.#parser.flush());
    if (port.isOpen) port.close(() => undefined);
    this.#down(driverErrors.DRV_ERR_PORT(`${this.path} lost: ${error.message}`, { cause: error }));
  }

  #down(error: DriverError): void {
    this.#clearTimers();
    this.#counts.portFailures++;
    this.#rejects[error.code] = (this.#rejects[error.code] ?? 0) + 1;
    const retryInMs = Math.min(this.#maxBackoffMs, this.#initialBackoffMs * 2 ** this.#failures);
    this.#failures++;
    this.#state = 'backoff';
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#state === 'backoff') this.#open();
    }, retryInMs);
    this.emit('down', error, retryInMs);
  }

  #write(frame: Uint8Array): Promise<void> {
    const port = this.#port;
    if (port === undefined || !port.isOpen || this.#state === 'stopped') {
      return Promise.reject(driverErrors.DRV_ERR_PORT(`${this.path} is not open`));
    }
    return new Promise<void>((resolve, reject) => {
      port.write(Buffer.from(frame), (error) => {
        if (error) reject(new DriverError('DRV_ERR_PORT', `write to ${this.path} failed: ${error.message}`, { cause: error }));
        else resolve();
      });
    });
  }

  async #closePort(): Promise<void> {
    const port = this.#port;
    this.#port = undefined;
    if (port === undefined || !port.isOpen) return;
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  #clearTimers(): void {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    if (this.#repollTimer !== undefined) clearInterval(this.#repollTimer);
    if (this.#silenceTimer !== undefined) clearTimeout(this.#silenceTimer);
    this.#retryTimer = undefined;
    this.#repollTimer = undefined;
    this.#silenceTimer = undefined;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
