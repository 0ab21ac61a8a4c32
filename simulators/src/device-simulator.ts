import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import {
  deviceIdPattern,
  eventSchema,
  parseTopic,
  topics,
  typePattern,
  type DeviceKind,
  type HealthPayload,
  type StatePayload,
} from '@storeedge/device-drivers';
import { realClock, type Clock, type TimerHandle } from './clock.ts';
import { logSimulatorError, SimulatorError, simulatorErrors, type SimulatorErrorCode } from './errors.ts';
import { Rng } from './random.ts';

/** docs/mqtt.md: store ids are `[a-z0-9][a-z0-9-]{0,62}` (topics.ts has no pattern for them). */
const storeIdPattern = /^[a-z0-9][a-z0-9-]{0,62}$/;

export interface DeviceSimulatorOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  storeId: string;
  /** Also the MQTT client id and username (docs/mqtt.md "Connecting"). */
  deviceId: string;
  kind: DeviceKind;
  /** The device's secret from `storeedge device add`. */
  password: string;
  /** Drives sampling, check-ins and `at` stamps; default wall time. */
  clock?: Clock;
  /** Default: a stream seeded from the device id. */
  rng?: Rng;
  fw?: string;
  model?: string;
  /**
   * Where failures after start() go (lost connections, failed publishes, bad commands, tasks
   * that threw). Default: one JSON line on stderr. Never throws into a timer.
   */
  onError?: (error: SimulatorError) => void;
  /** Period of `evt/health`; null turns health reports off. Default 30 s. */
  healthIntervalMs?: number | null;
  /** Wait between reconnect attempts after a lost connection. Default 2 s. */
  reconnectPeriodMs?: number;
  /** How long start() waits for CONNACK. Default 10 s. */
  connectTimeoutMs?: number;
  /** MQTT keep-alive; the broker caps it (broker.keepaliveLimitS). Default 30 s. */
  keepaliveS?: number;
  /** Check every outgoing event against the device contract before sending. Default true. */
  validatePayloads?: boolean;
}

/** What a subclass's constructor takes: everything but the kind, which the subclass fixes. */
export type DeviceSimulatorBaseOptions = Omit<DeviceSimulatorOptions, 'kind'>;

export interface PublishOptions {
  /** Default 1: the promise resolves on PUBACK. With 0 it resolves once written to the socket. */
  qos?: 0 | 1;
}

/** idle → starting → online ⇄ offline → stopped. A simulator is started at most once. */
export type DeviceStatus = 'idle' | 'starting' | 'online' | 'offline' | 'stopping' | 'stopped';

export interface DeviceStats {
  deviceId: string;
  kind: DeviceKind;
  status: DeviceStatus;
  /** Publishes handed to the client (events and states). */
  sent: number;
  /** Publishes acknowledged (QoS 1: PUBACK; QoS 0: written). */
  acked: number;
  /** Publishes that failed or were cut off before their PUBACK. */
  failed: number;
  /** Telemetry samples not sent because the device was offline (a real device loses them too). */
  droppedOffline: number;
  /** Commands received, and of those: not understood (unknown type) or invalid (bad payload). */
  commands: number;
  commandsIgnored: number;
  commandsInvalid: number;
  /** Reconnections after the first connect. */
  reconnects: number;
  /** Errors passed to onError. */
  errors: number;
}

type Counters = Omit<DeviceStats, 'deviceId' | 'kind' | 'status'>;

/** CONNACK return codes of MQTT 3.1.1 [MQTT-3.2.2.3], with what each means for a storeedge device. */
const connackReasons: Readonly<Record<number, string>> = {
  1: 'unacceptable protocol version',
  2: 'identifier rejected (the client id must equal the username, the device id)',
  3: 'server unavailable',
  4: 'bad username or password (is the device registered, and is this its current secret?)',
  5: 'not authorized (is the device disabled?)',
};

/**
 * One simulated device on the store's MQTT broker. The base class owns the connection, the
 * lifecycle states (retained birth, last will, offline on stop), command dispatch, timers on
 * the injected clock, and the error path; subclasses add what the device measures or does.
 */
export abstract class DeviceSimulator {
  readonly deviceId: string;
  readonly storeId: string;
  readonly kind: DeviceKind;
  readonly fw: string;
  readonly model: string;
  protected readonly clock: Clock;
  protected readonly rng: Rng;

  readonly #url: string;
  readonly #password: string;
  readonly #onError: (error: SimulatorError) => void;
  readonly #healthIntervalMs: number | null;
  readonly #reconnectPeriodMs: number;
  readonly #connectTimeoutMs: number;
  readonly #keepaliveS: number;
  readonly #validatePayloads: boolean;

  #client: MqttClient | undefined;
  #status: DeviceStatus = 'idle';
  #startedAt = 0;
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  /** Settles start() on the first CONNACK, or the first error or close before it. */
  #pendingStart: { resolve: () => void; reject: (error: SimulatorError) => void } | undefined;
  readonly #intervals = new Set<TimerHandle>();
  readonly #timeouts = new Set<TimerHandle>();
  /** Publishes awaiting their ack; stop() fails what is left so nothing waits forever. */
  readonly #inflight = new Map<number, { promise: Promise<void>; fail: (error: SimulatorError) => void }>();
  #nextPublishId = 0;
  readonly #counters: Counters = {
    sent: 0,
    acked: 0,
    failed: 0,
    droppedOffline: 0,
    commands: 0,
    commandsIgnored: 0,
    commandsInvalid: 0,
    reconnects: 0,
    errors: 0,
  };

  protected constructor(options: DeviceSimulatorOptions) {
    const invalid = (message: string) => simulatorErrors.SIM_ERR_CONFIG_INVALID(message, { deviceId: options.deviceId });
    if (!deviceIdPattern.test(options.deviceId)) {
      throw invalid(`deviceId "${options.deviceId}" must be 1-64 of a-z 0-9 . _ - starting with a letter or digit`);
    }
    if (!storeIdPattern.test(options.storeId)) {
      throw invalid(`storeId "${options.storeId}" must be 1-63 of a-z 0-9 - starting with a letter or digit`);
    }
    if (options.url.length === 0) throw invalid('url is empty');
    if (options.password.length === 0) throw invalid(`password for ${options.deviceId} is empty`);
    this.deviceId = options.deviceId;
    this.storeId = options.storeId;
    this.kind = options.kind;
    this.fw = options.fw ?? 'sim-1.0.0';
    this.model = options.model ?? `storeedge-sim-${options.kind}`;
    this.clock = options.clock ?? realClock;
    this.rng = options.rng ?? new Rng(options.deviceId);
    this.#url = options.url;
    this.#password = options.password;
    this.#onError = options.onError ?? logSimulatorError;
    this.#healthIntervalMs = options.healthIntervalMs === undefined ? 30_000 : options.healthIntervalMs;
    this.#reconnectPeriodMs = options.reconnectPeriodMs ?? 2_000;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.#keepaliveS = options.keepaliveS ?? 30;
    this.#validatePayloads = options.validatePayloads ?? true;
  }

  get status(): DeviceStatus {
    return this.#status;
  }

  /** True while connected to the broker. */
  get online(): boolean {
    return this.#status === 'online';
  }

  /**
   * Connects, subscribes to its own `cmd/#`, publishes the retained birth state and starts the
   * device's periodic work. Rejects with SIM_ERR_CONNECT_REFUSED when the broker refuses
   * CONNECT (no retries: a wrong secret stays wrong), SIM_ERR_CONNECT_FAILED when it cannot be
   * reached, SIM_ERR_SUBSCRIBE_DENIED when the command subscription is refused.
   */
  start(): Promise<void> {
    if (this.#status !== 'idle') {
      return Promise.reject(simulatorErrors.SIM_ERR_ALREADY_STARTED(`${this.deviceId} was already started`, { deviceId: this.deviceId }));
    }
    this.#status = 'starting';
    this.#startPromise = this.#start();
    return this.#startPromise;
  }

  /**
   * Publishes the retained `{ online: false }` state, then disconnects cleanly (so the broker
   * drops the last will). Safe to call in any state, more than once; later calls share the first.
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  /**
   * Drops the connection without DISCONNECT, as a power loss would: the broker publishes the
   * last will (retained `{ online: false }`). The simulator is stopped afterwards.
   */
  crash(): Promise<void> {
    this.#stopPromise ??= this.#crash();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    if (this.#status === 'idle') {
      this.#status = 'stopped';
      return;
    }
    if (this.#status === 'starting') await this.#startPromise?.catch(() => undefined);
    if (this.#status === 'stopped' || this.#status === 'stopping') return;
    const client = this.#client!;
    const wasOnline = this.#status === 'online';
    this.#status = 'stopping';
    this.#cancelAllTimers();
    this.onStop();
    if (wasOnline) {
      await this.#publish(this.#stateTopic(), { online: false, at: this.#nowMs() } satisfies StatePayload, { qos: 1, retain: true }).catch(
        () => undefined, // already counted and reported; stopping goes on
      );
    }
    await this.#end(client, !client.connected);
  }

  async #crash(): Promise<void> {
    if (this.#status === 'starting') await this.#startPromise?.catch(() => undefined);
    if (this.#client === undefined || this.#status === 'stopped' || this.#status === 'stopping') {
      this.#status = 'stopped';
      return;
    }
    this.#status = 'stopping';
    this.#cancelAllTimers();
    this.onStop();
    await this.#end(this.#client, true);
  }

  /**
   * Publishes `evt/{type}` as JSON, stamping `at` from the clock when the payload has none.
   * Resolves on PUBACK (QoS 1, the default) or once written (QoS 0). A failure is counted,
   * passed to onError and rejects the promise; an ignored promise never becomes an unhandled
   * rejection.
   */
  publishEvent(type: string, payload: Readonly<Record<string, unknown>>, options: PublishOptions = {}): Promise<void> {
    const body = { ...payload, at: typeof payload.at === 'number' ? payload.at : this.#nowMs() };
    const problem = this.#contractProblem(type, body);
    if (problem !== undefined) return this.#failEarly(simulatorErrors.SIM_ERR_PAYLOAD_INVALID(problem, { deviceId: this.deviceId }));
    return this.#publish(topics.event(this.storeId, this.deviceId, type), body, { qos: options.qos ?? 1, retain: false });
  }

  /** Resolves once every publish made so far has been acknowledged or has failed. */
  async flush(): Promise<void> {
    while (this.#inflight.size > 0) {
      await Promise.allSettled([...this.#inflight.values()].map((entry) => entry.promise));
    }
  }

  /**
   * Runs `task` every `ms` on the device's clock until the returned function is called or the
   * device stops. A task that throws or rejects is reported (SIM_ERR_TASK_FAILED) and runs
   * again on its next tick.
   */
  every(ms: number, task: () => void | Promise<void>, label = 'task'): () => void {
    const handle = this.clock.setInterval(() => this.#runTask(label, task), ms);
    this.#intervals.add(handle);
    return () => {
      this.clock.clearInterval(handle);
      this.#intervals.delete(handle);
    };
  }

  /** Runs `task` once after `ms` on the device's clock, unless cancelled or the device stops first. */
  after(ms: number, task: () => void | Promise<void>, label = 'task'): () => void {
    const handle = this.clock.setTimeout(() => {
      this.#timeouts.delete(handle);
      this.#runTask(label, task);
    }, ms);
    this.#timeouts.add(handle);
    return () => {
      this.clock.clearTimeout(handle);
      this.#timeouts.delete(handle);
    };
  }

  stats(): DeviceStats {
    return { deviceId: this.deviceId, kind: this.kind, status: this.#status, ...this.#counters };
  }

  /** Called once the first connection is up: start sampling, check-ins, … with every()/after(). */
  protected onStart(): void {}

  /** Called when the device stops or crashes, after its timers are cancelled. */
  protected onStop(): void {}

  /**
   * Handles one command (`cmd/{type}`, JSON already parsed). Return false for a type the device
   * does not know (counted as ignored); throw SIM_ERR_COMMAND_INVALID for a bad payload.
   */
  protected onCommand(_type: string, _payload: unknown): boolean {
    return false;
  }

  /** The fields of the periodic `evt/health` report; subclasses add what they measure. */
  protected healthReport(): Omit<HealthPayload, 'at'> {
    return { uptimeS: Math.max(0, Math.floor((this.clock.now() - this.#startedAt) / 1000)) };
  }

  /** Counts a telemetry sample that was not sent because the device is offline. */
  protected countDroppedOffline(): void {
    this.#counters.droppedOffline++;
  }

  /** Passes an error to onError; a throwing handler is swallowed so timers keep running. */
  protected reportError(error: SimulatorError): void {
    this.#counters.errors++;
    try {
      this.#onError(error);
    } catch {
      // The error path must never throw into a timer or the MQTT client.
    }
  }

  protected makeError(code: SimulatorErrorCode, message: string, cause?: unknown): SimulatorError {
    return simulatorErrors[code](`${this.deviceId}: ${message}`, { deviceId: this.deviceId, cause });
  }

  async #start(): Promise<void> {
    let client: MqttClient;
    try {
      client = mqtt.connect(this.#url, this.#clientOptions());
    } catch (error) {
      this.#status = 'stopped';
      throw this.makeError('SIM_ERR_CONNECT_FAILED', `cannot connect to "${this.#url}": ${describe(error)}`, error);
    }
    this.#client = client;
    client.on('connect', () => this.#onConnect(client));
    client.on('close', () => this.#onClose());
    client.on('error', (error) => this.#onClientError(error));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    try {
      await new Promise<void>((resolve, reject) => {
        this.#pendingStart = { resolve, reject };
      });
      await this.#announce(client);
    } catch (error) {
      this.#pendingStart = undefined;
      this.#status = 'stopping';
      await this.#end(client, true);
      throw error instanceof SimulatorError ? error : this.makeError('SIM_ERR_CONNECT_FAILED', describe(error), error);
    }
    this.#startedAt = this.clock.now();
    this.#status = 'online';
    if (this.#healthIntervalMs !== null) {
      this.every(this.#healthIntervalMs, () => this.#publishTelemetry('health', this.healthReport()), 'health');
    }
    this.onStart();
  }

  #clientOptions(): IClientOptions {
    return {
      clientId: this.deviceId,
      username: this.deviceId,
      password: this.#password,
      protocolVersion: 4, // MQTT 3.1.1: the embedded broker (aedes) has no stable MQTT 5
      clean: true,
      keepalive: this.#keepaliveS,
      reconnectPeriod: this.#reconnectPeriodMs,
      connectTimeout: this.#connectTimeoutMs,
      // We subscribe again on every connect ourselves (a clean session forgets subscriptions).
      resubscribe: false,
      // Telemetry taken while offline is lost, as on a real device; replaying a backlog of
      // samples at once would only trip the broker's rate limit.
      queueQoSZero: false,
      will: { topic: this.#stateTopic(), payload: Buffer.from(JSON.stringify({ online: false } satisfies StatePayload)), qos: 1, retain: true },
    };
  }

  /** On every connect: commands first, so a command sent in answer to the birth is not missed. */
  async #announce(client: MqttClient): Promise<void> {
    const grants = await client.subscribeAsync(topics.command(this.storeId, this.deviceId, '#'), { qos: 1 });
    if (grants.some((grant) => grant.qos === 128)) {
      throw this.makeError('SIM_ERR_SUBSCRIBE_DENIED', `the broker refused the subscription to ${topics.command(this.storeId, this.deviceId, '#')}`);
    }
    const birth: StatePayload = { online: true, kind: this.kind, fw: this.fw, model: this.model, at: this.#nowMs() };
    await this.#publish(this.#stateTopic(), birth, { qos: 1, retain: true });
  }

  #onConnect(client: MqttClient): void {
    if (this.#pendingStart !== undefined) {
      this.#pendingStart.resolve();
      this.#pendingStart = undefined;
      return;
    }
    if (this.#status !== 'offline') return;
    this.#counters.reconnects++;
    this.#status = 'online';
    this.#announce(client).catch((error: unknown) =>
      this.reportError(error instanceof SimulatorError ? error : this.makeError('SIM_ERR_CONNECTION_LOST', `re-announce failed: ${describe(error)}`, error)),
    );
  }

  #onClose(): void {
    if (this.#pendingStart !== undefined) {
      this.#pendingStart.reject(this.makeError('SIM_ERR_CONNECT_FAILED', `connection to ${this.#url} closed before CONNACK`));
      this.#pendingStart = undefined;
      return;
    }
    if (this.#status === 'online') this.#status = 'offline';
  }

  #onClientError(error: Error): void {
    if (this.#status === 'stopping' || this.#status === 'stopped') return;
    const returnCode = (error as { code?: unknown }).code;
    const refused = typeof returnCode === 'number' && returnCode > 0;
    const mapped = refused
      ? this.makeError(
          'SIM_ERR_CONNECT_REFUSED',
          `the broker at ${this.#url} refused CONNECT (CONNACK ${returnCode}: ${connackReasons[returnCode] ?? error.message})`,
          error,
        )
      : this.#pendingStart !== undefined
        ? this.makeError('SIM_ERR_CONNECT_FAILED', `cannot connect to ${this.#url}: ${error.message}`, error)
        : this.makeError('SIM_ERR_CONNECTION_LOST', `${error.message}; retrying every ${this.#reconnectPeriodMs} ms`, error);
    if (this.#pendingStart !== undefined) {
      this.#pendingStart.reject(mapped);
      this.#pendingStart = undefined;
      return;
    }
    // After start a refusal stops mqtt.js from retrying (a rotated or disabled secret); say so.
    this.reportError(mapped);
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseTopic(topic);
    if (parsed?.kind !== 'cmd' || parsed.storeId !== this.storeId || parsed.deviceId !== this.deviceId) return;
    this.#counters.commands++;
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch (error) {
      this.#counters.commandsInvalid++;
      this.reportError(this.makeError('SIM_ERR_COMMAND_INVALID', `command ${parsed.type} is not JSON`, error));
      return;
    }
    try {
      if (!this.onCommand(parsed.type, body)) this.#counters.commandsIgnored++;
    } catch (error) {
      this.#counters.commandsInvalid++;
      this.reportError(
        error instanceof SimulatorError ? error : this.makeError('SIM_ERR_COMMAND_INVALID', `command ${parsed.type} failed: ${describe(error)}`, error),
      );
    }
  }

  /** Periodic telemetry: QoS 0, and skipped (counted) while offline. */
  #publishTelemetry(type: string, payload: Readonly<Record<string, unknown>>): void {
    if (!this.online) {
      this.countDroppedOffline();
      return;
    }
    void this.publishEvent(type, payload, { qos: 0 });
  }

  #publish(topic: string, body: object, options: { qos: 0 | 1; retain: boolean }): Promise<void> {
    const client = this.#client;
    const accepting = this.#status === 'online' || this.#status === 'offline' || this.#status === 'stopping' || this.#status === 'starting';
    if (client === undefined || !accepting) {
      return this.#failEarly(this.makeError('SIM_ERR_NOT_STARTED', `cannot publish to ${topic}: status is ${this.#status}`));
    }
    const id = this.#nextPublishId++;
    this.#counters.sent++;
    let resolve!: () => void;
    let reject!: (error: SimulatorError) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Mark as handled: callers may fire and forget; failures already went to onError.
    promise.catch(() => undefined);
    const fail = (error: SimulatorError) => {
      if (!this.#inflight.delete(id)) return; // settled already
      this.#counters.failed++;
      this.reportError(error);
      reject(error);
    };
    // Registered before publish(): mqtt.js may call back synchronously (offline QoS 0).
    this.#inflight.set(id, { promise, fail });
    client.publish(topic, JSON.stringify(body), options, (error) => {
      if (error) {
        fail(this.makeError('SIM_ERR_PUBLISH_FAILED', `publish to ${topic} failed: ${error.message}`, error));
        return;
      }
      if (!this.#inflight.delete(id)) return; // already failed by stop()
      this.#counters.acked++;
      resolve();
    });
    return promise;
  }

  #failEarly(error: SimulatorError): Promise<void> {
    this.#counters.failed++;
    this.reportError(error);
    const rejected = Promise.reject(error);
    rejected.catch(() => undefined);
    return rejected;
  }

  async #end(client: MqttClient, force: boolean): Promise<void> {
    await client.endAsync(force).catch(() => undefined);
    this.#status = 'stopped';
    for (const entry of [...this.#inflight.values()]) {
      entry.fail(this.makeError('SIM_ERR_PUBLISH_FAILED', 'the connection closed before the PUBACK'));
    }
  }

  #runTask(label: string, task: () => void | Promise<void>): void {
    const report = (error: unknown) => this.reportError(this.makeError('SIM_ERR_TASK_FAILED', `${label} failed: ${describe(error)}`, error));
    try {
      const result = task();
      if (result instanceof Promise) result.catch(report);
    } catch (error) {
      report(error);
    }
  }

  #cancelAllTimers(): void {
    for (const handle of this.#intervals) this.clock.clearInterval(handle);
    for (const handle of this.#timeouts) this.clock.clearTimeout(handle);
    this.#intervals.clear();
    this.#timeouts.clear();
  }

  /** Why an event breaks the contract, or undefined when it does not. */
  #contractProblem(type: string, body: Record<string, unknown>): string | undefined {
    if (!typePattern.test(type)) return `${this.deviceId}: event type "${type}" is not a dotted lowercase word`;
    if (!this.#validatePayloads) return undefined;
    const schema = eventSchema(this.kind, type);
    if (schema === undefined) return `${this.deviceId}: a ${this.kind} does not send "${type}" events`;
    const result = schema.safeParse(body);
    if (result.success) return undefined;
    const issue = result.error.issues[0];
    return `${this.deviceId}: ${type} payload: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`;
  }

  #stateTopic(): string {
    return topics.state(this.storeId, this.deviceId);
  }

  #nowMs(): number {
    return Math.round(this.clock.now());
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
