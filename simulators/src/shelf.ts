import type { HealthPayload, WeightPayload } from '@storeedge/device-drivers';
import { DeviceSimulator, type DeviceSimulatorBaseOptions } from './device-simulator.ts';
import { simulatorErrors } from './errors.ts';

export interface LoadCellChannelConfig {
  /** Channel number on the controller, 0-255. */
  ch: number;
  /** Weight of the empty tray on the cell. Default 350 g. */
  tareGrams?: number;
  /** Weight of the items on the tray at start. Default 0. */
  loadGrams?: number;
}

export interface LoadCellShelfOptions extends DeviceSimulatorBaseOptions {
  /** The trays: a count (channels 0…n-1, default tare, empty) or one entry per channel. */
  channels: number | readonly LoadCellChannelConfig[];
  /** Samples per second. Default 10. */
  sampleRateHz?: number;
  /** Gaussian noise of each reading. Default 2 g. */
  noiseSdGrams?: number;
  /** Zero drift as a random walk, in g RMS per hour (temperature, creep). Default 4. */
  driftGramsPerHour?: number;
  /** Time a load change takes to settle. Default 400 ms (an HX711 at 10 SPS settles in 4 samples). */
  settleMs?: number;
  /** Extra noise while a tray is handled (during the settling ramp). Default 15 g. */
  handlingNoiseSdGrams?: number;
  /** One message per channel per sample instead of one per sample. Default false. */
  messagePerChannel?: boolean;
  /** QoS of weight samples. Default 0: telemetry, the next sample supersedes a lost one. */
  weightQos?: 0 | 1;
}

/**
 * The broker allows 100 msg/s per device (burst 200); health and state need some room, so
 * sampling may use at most half of it.
 */
const MAX_SAMPLE_MESSAGES_PER_SECOND = 50;

/** A typical plastic tray with its pusher. */
const DEFAULT_TARE_GRAMS = 350;

interface ChannelState {
  readonly ch: number;
  readonly tareGrams: number;
  /** Settled weight of the items on the tray (the target of any ramp in progress). */
  loadGrams: number;
  /** The linear settling ramp from `rampFromGrams` (incl. tare) to tare + load. */
  rampFromGrams: number;
  rampStart: number;
  rampEnd: number;
  /** The cell's zero offset, wandering slowly. */
  driftGrams: number;
}

/**
 * A multi-channel load-cell shelf controller: one cell per tray, all channels sampled together
 * and sent as one `evt/weight` message per sample (docs/mqtt.md), with noise, slow zero drift
 * and a settling ramp whenever items are taken or put back.
 */
export class LoadCellShelfSimulator extends DeviceSimulator {
  readonly sampleRateHz: number;
  readonly #channels: ChannelState[];
  readonly #noiseSdGrams: number;
  readonly #driftStepSdGrams: number;
  readonly #settleMs: number;
  readonly #handlingNoiseSdGrams: number;
  readonly #messagePerChannel: boolean;
  readonly #weightQos: 0 | 1;
  #seq = 0;

  constructor(options: LoadCellShelfOptions) {
    super({ ...options, kind: 'shelf', model: options.model ?? 'storeedge-sim-loadcell-4' });
    const invalid = (message: string) => simulatorErrors.SIM_ERR_CONFIG_INVALID(`${options.deviceId}: ${message}`, { deviceId: options.deviceId });
    const configs: readonly LoadCellChannelConfig[] =
      typeof options.channels === 'number' ? Array.from({ length: options.channels }, (_, ch) => ({ ch })) : options.channels;
    // weightPayload carries 1-64 channels numbered 0-255.
    if (configs.length < 1 || configs.length > 64) throw invalid(`channels: ${configs.length} given, 1-64 allowed`);
    const seen = new Set<number>();
    for (const { ch, tareGrams = DEFAULT_TARE_GRAMS, loadGrams = 0 } of configs) {
      if (!Number.isInteger(ch) || ch < 0 || ch > 255) throw invalid(`channel ${ch}: must be an integer 0-255`);
      if (seen.has(ch)) throw invalid(`channel ${ch} is listed twice`);
      if (!(tareGrams >= 0) || !(loadGrams >= 0)) throw invalid(`channel ${ch}: tareGrams and loadGrams must be >= 0`);
      seen.add(ch);
    }
    this.sampleRateHz = options.sampleRateHz ?? 10;
    this.#messagePerChannel = options.messagePerChannel ?? false;
    const messagesPerSecond = this.sampleRateHz * (this.#messagePerChannel ? configs.length : 1);
    if (!(this.sampleRateHz > 0) || messagesPerSecond > MAX_SAMPLE_MESSAGES_PER_SECOND) {
      throw invalid(
        `sampleRateHz ${this.sampleRateHz} makes ${messagesPerSecond} msg/s; keep it in (0, ${MAX_SAMPLE_MESSAGES_PER_SECOND}] (the broker allows 100 msg/s per device)`,
      );
    }
    this.#noiseSdGrams = options.noiseSdGrams ?? 2;
    const samplesPerHour = 3_600 * this.sampleRateHz;
    // A random walk of n steps of σ has RMS σ·√n: pick σ so an hour drifts by the given RMS.
    this.#driftStepSdGrams = (options.driftGramsPerHour ?? 4) / Math.sqrt(samplesPerHour);
    this.#settleMs = options.settleMs ?? 400;
    this.#handlingNoiseSdGrams = options.handlingNoiseSdGrams ?? 15;
    this.#weightQos = options.weightQos ?? 0;
    const now = this.clock.now();
    this.#channels = configs.map(({ ch, tareGrams = DEFAULT_TARE_GRAMS, loadGrams = 0 }) => ({
      ch,
      tareGrams,
      loadGrams,
      rampFromGrams: tareGrams + loadGrams,
      rampStart: now,
      rampEnd: now,
      driftGrams: 0,
    }));
  }

  /** The channel numbers, in configuration order. */
  channelIds(): number[] {
    return this.#channels.map((c) => c.ch);
  }

  /** Settled weight of the items on a tray (without tare, noise or drift): the ground truth. */
  loadGrams(ch: number): number {
    return this.#channel(ch).loadGrams;
  }

  /** What the cell carries right now, tare included, noise- and drift-free (mid-ramp while settling). */
  trueGrams(ch: number): number {
    return this.#trueGramsAt(this.#channel(ch), this.clock.now());
  }

  /** Takes `grams` off a tray; the reading ramps to the new load over the settling time. */
  removeItems(ch: number, grams: number): void {
    const channel = this.#channel(ch);
    this.#checkGrams(grams);
    if (grams > channel.loadGrams + 1e-9) {
      throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(
        `${this.deviceId}: cannot remove ${grams} g from channel ${ch}, which holds ${channel.loadGrams} g`,
        { deviceId: this.deviceId },
      );
    }
    this.#changeLoad(channel, -grams);
  }

  /** Puts `grams` on a tray; the reading ramps to the new load over the settling time. */
  addItems(ch: number, grams: number): void {
    const channel = this.#channel(ch);
    this.#checkGrams(grams);
    this.#changeLoad(channel, grams);
  }

  protected override onStart(): void {
    this.every(1_000 / this.sampleRateHz, () => this.#sample(), 'weight sample');
  }

  protected override healthReport(): Omit<HealthPayload, 'at'> {
    return { ...super.healthReport(), temperatureC: round(this.rng.normal(21, 0.3), 1) };
  }

  #sample(): void {
    const now = this.clock.now();
    // Drift and noise advance every tick, sent or not, so an outage does not change what follows.
    const channels = this.#channels.map((channel) => {
      channel.driftGrams += this.rng.normal(0, this.#driftStepSdGrams);
      const handling = now < channel.rampEnd ? this.rng.normal(0, this.#handlingNoiseSdGrams) : 0;
      const grams = this.#trueGramsAt(channel, now) + channel.driftGrams + this.rng.normal(0, this.#noiseSdGrams) + handling;
      return { ch: channel.ch, grams: round(grams, 1) };
    });
    const seq = this.#seq++;
    if (!this.online) {
      this.countDroppedOffline();
      return;
    }
    const at = Math.round(now);
    const messages: WeightPayload[] = this.#messagePerChannel
      ? channels.map((reading) => ({ at, seq, channels: [reading] }))
      : [{ at, seq, channels }];
    for (const message of messages) void this.publishEvent('weight', message, { qos: this.#weightQos });
  }

  #changeLoad(channel: ChannelState, deltaGrams: number): void {
    const now = this.clock.now();
    // A change during a ramp starts from wherever the cell is now.
    channel.rampFromGrams = this.#trueGramsAt(channel, now);
    channel.loadGrams = Math.max(0, channel.loadGrams + deltaGrams);
    channel.rampStart = now;
    channel.rampEnd = now + this.#settleMs;
  }

  #trueGramsAt(channel: ChannelState, t: number): number {
    const settled = channel.tareGrams + channel.loadGrams;
    if (t >= channel.rampEnd) return settled;
    const progress = (t - channel.rampStart) / (channel.rampEnd - channel.rampStart);
    return channel.rampFromGrams + (settled - channel.rampFromGrams) * progress;
  }

  #channel(ch: number): ChannelState {
    const channel = this.#channels.find((c) => c.ch === ch);
    if (channel === undefined) {
      throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`${this.deviceId}: no channel ${ch} (has ${this.channelIds().join(', ')})`, {
        deviceId: this.deviceId,
      });
    }
    return channel;
  }

  #checkGrams(grams: number): void {
    if (!(grams > 0) || !Number.isFinite(grams)) {
      throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`${this.deviceId}: grams must be a positive number, got ${grams}`, {
        deviceId: this.deviceId,
      });
    }
  }
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
