import mqtt from 'mqtt';
import {
  tagImageCommand,
  tagLedCommand,
  type HealthPayload,
  type TagDeliveryPayload,
  type TagReportPayload,
} from '@storeedge/device-drivers';
import type { z } from 'zod';
import { DeviceSimulator, type DeviceSimulatorBaseOptions } from './device-simulator.ts';
import { SimulatorError } from './errors.ts';
import type { EslRadioCounters, EslTagTruth, ShownContent, ShownRecord } from './esl/ground-truth.ts';
import { EslRadio } from './esl/radio.ts';
import type { EslRadioOptions, EslTagConfig, ResolvedEslRadioOptions } from './esl/radio-options.ts';

export * from './esl/index.ts';

export interface EslGatewayOptions extends DeviceSimulatorBaseOptions, EslRadioOptions {
  /** The tags this gateway serves: ids, or full configs. */
  tags: readonly (string | EslTagConfig)[];
}

/**
 * An e-paper shelf-label gateway on the store's MQTT broker (docs/esl-gateway-sim.md). It
 * takes `cmd/tag.image` and `cmd/tag.led` (device-drivers esl/protocol.ts), answers each with
 * `evt/tag.delivery`, and relays its tags' `evt/tag.report`s. The radio behind it (esl/radio.ts)
 * models check-ins, the air rate, the pending queue, reboots, range and batteries, and keeps the
 * ground truth of what every tag shows, which never goes over MQTT.
 */
export class EslGatewaySimulator extends DeviceSimulator {
  readonly #radio: EslRadio;
  readonly #url: string;
  readonly #password: string;
  readonly #connectTimeoutMs: number;

  constructor(options: EslGatewayOptions) {
    const {
      url,
      storeId,
      deviceId,
      password,
      clock,
      rng,
      fw,
      model,
      onError,
      healthIntervalMs,
      reconnectPeriodMs,
      connectTimeoutMs,
      keepaliveS,
      validatePayloads,
      tags,
      ...radioOptions
    } = options;
    super({
      url,
      storeId,
      deviceId,
      password,
      clock,
      rng,
      fw,
      model: model ?? 'storeedge-sim-esl-gw',
      onError,
      healthIntervalMs,
      reconnectPeriodMs,
      connectTimeoutMs,
      keepaliveS,
      validatePayloads,
      kind: 'esl-gateway',
    });
    this.#url = url;
    this.#password = password;
    this.#connectTimeoutMs = connectTimeoutMs ?? 10_000;
    this.#radio = new EslRadio({
      ...radioOptions,
      deviceId,
      clock: this.clock,
      // A stream of its own: the radio's draws do not shift the gateway's other randomness.
      rng: this.rng.fork('esl-radio'),
      tags,
      sink: { report: (report, cause) => this.#sendReport(report, cause), delivery: (delivery) => this.#sendDelivery(delivery) },
      onError: (error) =>
        this.reportError(error instanceof SimulatorError ? error : this.makeError('SIM_ERR_TASK_FAILED', `radio step failed: ${describe(error)}`, error)),
    });
  }

  /** The radio knobs in force (defaults filled in). */
  get radioOptions(): ResolvedEslRadioOptions {
    return this.#radio.options;
  }

  // ---- ground truth (never sent to the agent) ---------------------------------------------

  tagIds(): string[] {
    return this.#radio.tagIds();
  }

  /** What the tag shows now. */
  shown(tagId: string): ShownContent {
    return this.#radio.shown(tagId);
  }

  /** The content hash the tag shows now (undefined: blank). */
  displayedHash(tagId: string): string | undefined {
    return this.#radio.shown(tagId).contentHash;
  }

  /** What the tag showed at time `t` (clock milliseconds). */
  shownAt(tagId: string, t: number): ShownContent {
    return this.#radio.shownAt(tagId, t);
  }

  /** Every change of the tag's screen since construction. */
  history(tagId: string): readonly ShownRecord[] {
    return this.#radio.history(tagId);
  }

  tagTruth(tagId: string): EslTagTruth {
    return this.#radio.tagTruth(tagId);
  }

  /** Tags with something pending in the gateway's queue. */
  queueLength(): number {
    return this.#radio.queueLength();
  }

  eslStats(): EslRadioCounters {
    return this.#radio.counters();
  }

  // ---- things a scenario does to the store --------------------------------------------------

  /** The tag reboots now (content lost unless `cachesContent`) and reports `boot` if the gateway hears it. */
  rebootTag(tagId: string): void {
    this.#radio.rebootTag(tagId);
  }

  /** Ends spontaneous tag reboots and range churn (the scenario's activity is over); tags out of range stay out. */
  stopDisturbances(): void {
    this.#radio.stopDisturbances();
  }

  /** Moves a tag out of radio range or back into it. */
  setInRange(tagId: string, inRange: boolean): void {
    this.#radio.setInRange(tagId, inRange);
  }

  /**
   * The gateway reboots. Its radio loses the pending queue and any transfer in flight without a
   * word (OEPL keeps them in RAM; research/esl.md §1.7) and is deaf for `restartDowntimeMs`;
   * tags keep their screens. On MQTT the rebooted gateway's new connection takes over the old
   * session, so the broker drops the old one without DISCONNECT and publishes its will
   * (`online: false`) [MQTT-3.1.4-2]; the client then reconnects after `reconnectPeriodMs` and
   * announces itself again. Resolves once the old connection has been displaced.
   */
  async restart(): Promise<void> {
    if (this.status !== 'online' && this.status !== 'offline') {
      throw this.makeError('SIM_ERR_NOT_STARTED', `restart(): status is ${this.status}`);
    }
    this.#radio.restart();
    await this.#displaceSession();
  }

  // ---- device lifecycle ---------------------------------------------------------------------

  protected override onStart(): void {
    this.#radio.start();
  }

  protected override onStop(): void {
    this.#radio.stop();
  }

  protected override onCommand(type: string, payload: unknown): boolean {
    switch (type) {
      case 'tag.image':
        this.#radio.submitImage(this.#parse(type, tagImageCommand, payload));
        return true;
      case 'tag.led':
        this.#radio.submitLed(this.#parse(type, tagLedCommand, payload));
        return true;
      default:
        return false; // counted as ignored by the base class
    }
  }

  protected override healthReport(): Omit<HealthPayload, 'at'> {
    return { ...super.healthReport(), temperatureC: Math.round(this.rng.normal(24, 0.5) * 10) / 10 };
  }

  #parse<S extends z.ZodType>(type: string, schema: S, payload: unknown): z.output<S> {
    const parsed = schema.safeParse(payload);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw this.makeError('SIM_ERR_COMMAND_INVALID', `${type}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }

  /**
   * Transfer and boot reports go at QoS 1 (mqtt.js holds them over a reconnect: they are the
   * agent's only proof of what a label shows). Heartbeats are telemetry: QoS 0, dropped while
   * offline, as the base class drops samples.
   */
  #sendReport(report: TagReportPayload, cause: 'transfer' | 'boot' | 'heartbeat'): void {
    if (!this.#connected()) return;
    if (cause === 'heartbeat') {
      if (!this.online) {
        this.countDroppedOffline();
        return;
      }
      void this.publishEvent('tag.report', report, { qos: 0 });
      return;
    }
    void this.publishEvent('tag.report', report, { qos: 1 }); // a failure is already counted and reported
  }

  #sendDelivery(delivery: TagDeliveryPayload): void {
    if (this.#connected()) void this.publishEvent('tag.delivery', delivery, { qos: 1 });
  }

  /** Started and not stopped: a radio event before start() or after stop() has nobody to tell. */
  #connected(): boolean {
    return this.status === 'online' || this.status === 'offline';
  }

  /** Connects once with the gateway's own credentials and leaves: the broker closes the old session on the way. */
  async #displaceSession(): Promise<void> {
    let client: mqtt.MqttClient;
    try {
      client = await mqtt.connectAsync(this.#url, {
        clientId: this.deviceId,
        username: this.deviceId,
        password: this.#password,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: this.#connectTimeoutMs,
      });
    } catch (error) {
      throw this.makeError('SIM_ERR_CONNECT_FAILED', `restart(): cannot reconnect to ${this.#url}: ${describe(error)}`, error);
    }
    await client.endAsync().catch(() => undefined);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
