import { SerialPortStream } from '@serialport/stream';
import {
  defaultChannelCalibration,
  encodeFrame,
  gramsToCounts,
  SHELF_MAX_CHANNELS,
  SHELF_RAW_MAX,
  SHELF_RAW_MIN,
  shelfChannelFlags,
  shelfControllerFlags,
  ShelfFrameParser,
  shelfNakErrors,
  shelfOpcodes,
  systemSerialBinding,
  type ChannelCalibration,
  type ShelfChannelReading,
  type ShelfCommandFrame,
  type ShelfFrame,
  type ShelfFrameBody,
  type ShelfSerialBinding,
} from '@storeedge/device-drivers';
import { realClock, type Clock, type TimerHandle } from '../clock.ts';
import { logSimulatorError, simulatorErrors, type SimulatorError } from '../errors.ts';
import { Rng } from '../random.ts';

/**
 * Grams on each channel at a device time (the time the controller stamps on the sample; it
 * jumps once when the host sets the clock). The signal models in simulators/src/signal plug in
 * here; the default is a constant tare with seeded Gaussian noise.
 */
export type ShelfSampleSource = (deviceTimeMs: number) => readonly number[];

/** Line faults, each drawn per outgoing frame from the simulator's seeded stream. */
export interface ShelfSerialFaults {
  /** Probability that one byte of a frame is flipped (XORed with a random non-zero mask). */
  corruptProbability?: number;
  /** Probability that a frame is not sent; its sequence number is used up, so the host sees a gap. */
  dropProbability?: number;
  /** Probability that 1…garbageMaxBytes random bytes go out before a frame. */
  garbageProbability?: number;
  /** Default 16. */
  garbageMaxBytes?: number;
}

export interface SerialShelfSimulatorOptions {
  /** The port the controller sits on: one end of a pty pair, or a mock path. */
  path: string;
  baudRate?: number;
  /** Default: the real binding (`@serialport/bindings-cpp`). */
  binding?: ShelfSerialBinding;
  /** Load-cell channels, 1-64. Default 4. */
  channels?: number;
  /** Grams per channel at a device time; must return `channels` values (NaN: that ADC fails). */
  source?: ShelfSampleSource;
  /** Default source: each channel's constant weight (an empty tray). Default 350 g. */
  tareGrams?: number;
  /** Default source: Gaussian noise per reading. Default 0.5 g. */
  noiseSdGrams?: number;
  /** How the simulated ADCs map grams to counts, per channel. Default: `defaultChannelCalibration`. */
  calibration?: readonly Partial<ChannelCalibration>[];
  /** Samples per second at start. Default 10. */
  sampleRateHz?: number;
  /** Rates SET_RATE accepts; others are naked `unsupportedRate`. Default 10, 60, 80. */
  supportedRatesHz?: readonly number[];
  /** Conversions a tare averages. Default 4 (400 ms at 10 SPS, the HX711's settling time). */
  tareSamples?: number;
  /** Period of unsolicited status frames; null: only on request. Default 10 s. */
  statusIntervalMs?: number | null;
  firmware?: { major: number; minor: number };
  /** Board temperature; null: no sensor. Default 21.5 °C. */
  temperatureC?: number | null;
  faults?: ShelfSerialFaults;
  /** Drives sampling and device time. Default wall time. */
  clock?: Clock;
  /** Default: a stream seeded from the path. */
  rng?: Rng;
  /** Failures after start() (a source that throws, port errors). Default: one JSON line on stderr. */
  onError?: (error: SimulatorError) => void;
}

export interface SerialShelfSimulatorStats {
  /** Frames handed to the port (corrupted ones included, dropped ones not). */
  framesSent: number;
  samples: number;
  framesDropped: number;
  framesCorrupted: number;
  garbageBursts: number;
  garbageBytes: number;
  /** Command frames received, and of those answered with a nak. */
  commands: number;
  naks: number;
  /** Host bytes or frames refused (bad CRC, version, length; not a command); stops at 65535. */
  rxErrors: number;
}

interface PendingTare {
  readonly commandSeq: number;
  sum: number;
  count: number;
}

const DEFAULT_TARE_GRAMS = 350;

/**
 * A multi-channel load-cell shelf controller on a serial port, speaking the frame of
 * docs/shelf-controller.md: sample frames at the configured rate (raw counts from an injected
 * gram source), status frames, and answers to tare, set-rate, status and set-time commands,
 * with seeded line faults for tests.
 */
export class SerialShelfSimulator {
  readonly path: string;
  readonly channels: number;
  readonly #options: SerialShelfSimulatorOptions;
  readonly #clock: Clock;
  readonly #source: ShelfSampleSource;
  readonly #calibration: ChannelCalibration[];
  readonly #supportedRates: readonly number[];
  readonly #tareSamples: number;
  readonly #faultRng: Rng;
  readonly #onError: (error: SimulatorError) => void;
  readonly #parser = new ShelfFrameParser({ trackSequence: false });
  readonly #tares = new Map<number, PendingTare>();
  #faults: Required<ShelfSerialFaults>;
  #sampleRateHz: number;
  #port: SerialPortStream | undefined;
  #sampleTimer: TimerHandle | undefined;
  #statusTimer: TimerHandle | undefined;
  #status: 'idle' | 'starting' | 'running' | 'stopped' = 'idle';
  readonly #bootAt: number;
  /** Set by SET_TIME: device time = time since boot + this. */
  #clockOffsetMs = 0;
  #clockSet = false;
  #seq = 0;
  #channelFlags: number[];
  readonly #stats: SerialShelfSimulatorStats = {
    framesSent: 0,
    samples: 0,
    framesDropped: 0,
    framesCorrupted: 0,
    garbageBursts: 0,
    garbageBytes: 0,
    commands: 0,
    naks: 0,
    rxErrors: 0,
  };

  constructor(options: SerialShelfSimulatorOptions) {
    const invalid = (message: string) => simulatorErrors.SIM_ERR_CONFIG_INVALID(`serial shelf ${options.path}: ${message}`);
    if (typeof options.path !== 'string' || options.path.length === 0) throw invalid('path is required');
    this.path = options.path;
    this.channels = options.channels ?? 4;
    if (!Number.isInteger(this.channels) || this.channels < 1 || this.channels > SHELF_MAX_CHANNELS) {
      throw invalid(`channels: ${this.channels} given, 1-${SHELF_MAX_CHANNELS} allowed`);
    }
    this.#supportedRates = options.supportedRatesHz ?? [10, 60, 80];
    this.#sampleRateHz = options.sampleRateHz ?? 10;
    if (!this.#supportedRates.includes(this.#sampleRateHz)) {
      throw invalid(`sampleRateHz ${this.#sampleRateHz} is not one of supportedRatesHz (${this.#supportedRates.join(', ')})`);
    }
    if (this.#supportedRates.some((hz) => !Number.isInteger(hz) || hz < 1 || hz > 1_000)) throw invalid('supportedRatesHz must be integers in 1-1000');
    this.#tareSamples = options.tareSamples ?? 4;
    if (!Number.isInteger(this.#tareSamples) || this.#tareSamples < 1) throw invalid('tareSamples must be a positive integer');
    this.#calibration = Array.from({ length: this.channels }, (_, ch) => ({ ...defaultChannelCalibration, ...options.calibration?.[ch] }));
    if (this.#calibration.some((c) => !Number.isFinite(c.offsetCounts) || !Number.isFinite(c.gramsPerCount) || c.gramsPerCount === 0)) {
      throw invalid('calibration: offsetCounts and gramsPerCount must be finite, gramsPerCount non-zero');
    }
    this.#options = options;
    this.#clock = options.clock ?? realClock;
    const rng = options.rng ?? new Rng(`shelf-serial:${options.path}`);
    // Separate streams: turning faults on does not change the noise, nor the noise the faults.
    const noiseRng = rng.fork('noise');
    this.#faultRng = rng.fork('faults');
    this.#faults = checkFaults(options.faults ?? {}, invalid);
    const tare = options.tareGrams ?? DEFAULT_TARE_GRAMS;
    const sd = options.noiseSdGrams ?? 0.5;
    this.#source = options.source ?? (() => Array.from({ length: this.channels }, () => tare + noiseRng.normal(0, sd)));
    this.#onError = options.onError ?? logSimulatorError;
    this.#channelFlags = new Array<number>(this.channels).fill(0);
    this.#bootAt = this.#clock.now();
  }

  get sampleRateHz(): number {
    return this.#sampleRateHz;
  }

  /** Whether the host has set the clock (SET_TIME). */
  get clockSet(): boolean {
    return this.#clockSet;
  }

  /** The controller's clock: ms since power-up, or since the epoch once the host has set it. */
  deviceTimeMs(): number {
    return Math.round(this.#clock.now() - this.#bootAt + this.#clockOffsetMs);
  }

  stats(): SerialShelfSimulatorStats {
    return { ...this.#stats };
  }

  /** Changes the line faults from now on (e.g. off, to let the host catch up in a test). */
  setFaults(faults: ShelfSerialFaults): void {
    this.#faults = checkFaults(faults, (message) => simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`serial shelf ${this.path}: ${message}`));
  }

  /** Opens the port and starts sampling. Rejects with SIM_ERR_CONNECT_FAILED when the port cannot be opened. */
  async start(): Promise<void> {
    if (this.#status !== 'idle') throw simulatorErrors.SIM_ERR_ALREADY_STARTED(`serial shelf ${this.path} was already started`);
    this.#status = 'starting';
    let port: SerialPortStream;
    try {
      const binding = this.#options.binding ?? (await systemSerialBinding());
      port = new SerialPortStream({ binding, path: this.path, baudRate: this.#options.baudRate ?? 115_200, autoOpen: false });
      await new Promise<void>((resolve, reject) => port.open((error) => (error ? reject(error) : resolve())));
    } catch (error) {
      this.#status = 'stopped';
      throw simulatorErrors.SIM_ERR_CONNECT_FAILED(`serial shelf: cannot open ${this.path}: ${describe(error)}`, { cause: error });
    }
    if (this.#status !== 'starting') {
      // stop() was called while the port was opening.
      await new Promise<void>((resolve) => port.close(() => resolve()));
      return;
    }
    this.#port = port;
    this.#status = 'running';
    port.on('data', (chunk: Buffer) => this.#receive(chunk));
    port.on('error', (error: Error) => this.#onError(simulatorErrors.SIM_ERR_TASK_FAILED(`serial shelf ${this.path}: ${error.message}`, { cause: error })));
    port.on('close', () => this.#stopTimers());
    this.#startSampling();
    const statusIntervalMs = this.#options.statusIntervalMs === undefined ? 10_000 : this.#options.statusIntervalMs;
    if (statusIntervalMs !== null) this.#statusTimer = this.#clock.setInterval(() => this.#guard('status', () => this.#sendStatus()), statusIntervalMs);
  }

  async stop(): Promise<void> {
    if (this.#status === 'stopped') return;
    this.#status = 'stopped';
    this.#stopTimers();
    const port = this.#port;
    this.#port = undefined;
    if (port?.isOpen) {
      // Let queued frames go out first, as a controller's UART would.
      await new Promise<void>((resolve) => port.drain(() => resolve()));
      await new Promise<void>((resolve) => port.close(() => resolve()));
    }
  }

  // ── sampling ───────────────────────────────────────────────────────────────────────────

  #startSampling(): void {
    if (this.#sampleTimer !== undefined) this.#clock.clearInterval(this.#sampleTimer);
    this.#sampleTimer = this.#clock.setInterval(() => this.#guard('sample', () => this.#sample()), 1_000 / this.#sampleRateHz);
  }

  #stopTimers(): void {
    if (this.#sampleTimer !== undefined) this.#clock.clearInterval(this.#sampleTimer);
    if (this.#statusTimer !== undefined) this.#clock.clearInterval(this.#statusTimer);
    this.#sampleTimer = undefined;
    this.#statusTimer = undefined;
  }

  #sample(): void {
    const deviceTimeMs = this.deviceTimeMs();
    const grams = this.#source(deviceTimeMs);
    if (grams.length !== this.channels) throw new Error(`the sample source returned ${grams.length} values for ${this.channels} channels`);
    const channels = grams.map((g, ch) => this.#convert(g, ch));
    this.#channelFlags = channels.map((c) => c.flags);
    this.#send({ type: 'sample', deviceTimeMs, channels });
    this.#stats.samples++;
    this.#advanceTares(channels);
  }

  /** The ADC: grams → signed 24-bit counts, pinned at the rails when over range. */
  #convert(grams: number, ch: number): ShelfChannelReading {
    if (!Number.isFinite(grams)) return { raw: 0, flags: shelfChannelFlags.adcError };
    const raw = gramsToCounts(grams, this.#calibration[ch]!);
    if (raw >= SHELF_RAW_MAX) return { raw: SHELF_RAW_MAX, flags: shelfChannelFlags.saturated };
    if (raw <= SHELF_RAW_MIN) return { raw: SHELF_RAW_MIN, flags: shelfChannelFlags.saturated };
    return { raw, flags: 0 };
  }

  #advanceTares(channels: readonly ShelfChannelReading[]): void {
    for (const [ch, tare] of this.#tares) {
      const reading = channels[ch]!;
      if (reading.flags !== 0) {
        this.#tares.delete(ch);
        this.#nak(tare.commandSeq, shelfOpcodes.tare, shelfNakErrors.channelFault);
        continue;
      }
      tare.sum += reading.raw;
      tare.count++;
      if (tare.count < this.#tareSamples) continue;
      this.#tares.delete(ch);
      this.#send({ type: 'ack', ackSeq: tare.commandSeq, result: { op: 'tare', ch, zeroCounts: Math.round(tare.sum / tare.count) } });
    }
  }

  #sendStatus(): void {
    const flags = (this.#clockSet ? shelfControllerFlags.clockSet : 0) | (this.#tares.size > 0 ? shelfControllerFlags.tareBusy : 0);
    const temperatureC = this.#options.temperatureC === undefined ? 21.5 : this.#options.temperatureC;
    this.#send({
      type: 'status',
      deviceTimeMs: this.deviceTimeMs(),
      uptimeS: Math.floor((this.#clock.now() - this.#bootAt) / 1_000),
      sampleRateHz: this.#sampleRateHz,
      firmwareMajor: this.#options.firmware?.major ?? 1,
      firmwareMinor: this.#options.firmware?.minor ?? 0,
      flags,
      rxErrors: this.#stats.rxErrors,
      temperatureDeciC: temperatureC === null ? null : Math.round(temperatureC * 10),
      channelFlags: [...this.#channelFlags],
    });
  }

  // ── commands ───────────────────────────────────────────────────────────────────────────

  #receive(chunk: Uint8Array): void {
    for (const item of this.#parser.push(chunk)) {
      if (item.kind === 'reject' || item.frame.type !== 'command') {
        this.#stats.rxErrors = Math.min(0xffff, this.#stats.rxErrors + 1);
        continue;
      }
      this.#stats.commands++;
      this.#guard('command', () => this.#command(item.frame as ShelfCommandFrame));
    }
  }

  #command({ seq, command }: ShelfCommandFrame): void {
    switch (command.op) {
      case 'tare': {
        if (command.ch >= this.channels) return this.#nak(seq, shelfOpcodes.tare, shelfNakErrors.badChannel);
        if (this.#tares.has(command.ch)) return this.#nak(seq, shelfOpcodes.tare, shelfNakErrors.busy);
        if (this.#channelFlags[command.ch] !== 0) return this.#nak(seq, shelfOpcodes.tare, shelfNakErrors.channelFault);
        // Answered once `tareSamples` more conversions are in (#advanceTares).
        this.#tares.set(command.ch, { commandSeq: seq, sum: 0, count: 0 });
        return;
      }
      case 'setRate':
        if (!this.#supportedRates.includes(command.hz)) return this.#nak(seq, shelfOpcodes.setRate, shelfNakErrors.unsupportedRate);
        this.#sampleRateHz = command.hz;
        this.#startSampling();
        return this.#send({ type: 'ack', ackSeq: seq, result: { op: 'setRate', hz: command.hz } });
      case 'requestStatus':
        this.#send({ type: 'ack', ackSeq: seq, result: { op: 'requestStatus' } });
        return this.#sendStatus();
      case 'setTime':
        this.#clockOffsetMs = command.epochMs - (this.#clock.now() - this.#bootAt);
        this.#clockSet = true;
        return this.#send({ type: 'ack', ackSeq: seq, result: { op: 'setTime' } });
      case 'invalid': {
        const known = (Object.values(shelfOpcodes) as number[]).includes(command.opcode);
        return this.#nak(seq, command.opcode, known ? shelfNakErrors.badArgument : shelfNakErrors.unknownOpcode);
      }
    }
  }

  #nak(ackSeq: number, opcode: number, error: number): void {
    this.#stats.naks++;
    this.#send({ type: 'nak', ackSeq, opcode, error });
  }

  // ── the line ───────────────────────────────────────────────────────────────────────────

  /** Numbers the frame, draws the line faults and writes it. */
  #send(frame: ShelfFrameBody): void {
    const seq = this.#seq;
    this.#seq = (seq + 1) & 0xffff;
    const port = this.#port;
    if (port === undefined || !port.isOpen) return;
    const rng = this.#faultRng;
    const { corruptProbability, dropProbability, garbageProbability, garbageMaxBytes } = this.#faults;
    if (garbageProbability > 0 && rng.chance(garbageProbability)) {
      const garbage = Uint8Array.from({ length: rng.int(1, garbageMaxBytes) }, () => rng.int(0, 255));
      this.#stats.garbageBursts++;
      this.#stats.garbageBytes += garbage.length;
      port.write(Buffer.from(garbage));
    }
    if (dropProbability > 0 && rng.chance(dropProbability)) {
      this.#stats.framesDropped++;
      return;
    }
    const bytes = encodeFrame({ ...frame, seq } as ShelfFrame);
    if (corruptProbability > 0 && rng.chance(corruptProbability)) {
      bytes[rng.int(0, bytes.length - 1)]! ^= rng.int(1, 255);
      this.#stats.framesCorrupted++;
    }
    this.#stats.framesSent++;
    port.write(Buffer.from(bytes));
  }

  #guard(task: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#onError(simulatorErrors.SIM_ERR_TASK_FAILED(`serial shelf ${this.path}: ${task}: ${describe(error)}`, { cause: error }));
    }
  }
}

function checkFaults(faults: ShelfSerialFaults, invalid: (message: string) => SimulatorError): Required<ShelfSerialFaults> {
  const out = {
    corruptProbability: faults.corruptProbability ?? 0,
    dropProbability: faults.dropProbability ?? 0,
    garbageProbability: faults.garbageProbability ?? 0,
    garbageMaxBytes: faults.garbageMaxBytes ?? 16,
  };
  for (const key of ['corruptProbability', 'dropProbability', 'garbageProbability'] as const) {
    if (!(out[key] >= 0 && out[key] <= 1)) throw invalid(`faults.${key} must be a probability in [0, 1], got ${out[key]}`);
  }
  if (!Number.isInteger(out.garbageMaxBytes) || out.garbageMaxBytes < 1) throw invalid('faults.garbageMaxBytes must be a positive integer');
  return out;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
