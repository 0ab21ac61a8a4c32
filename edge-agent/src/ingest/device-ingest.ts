import {
  decodeImpinjR700,
  decodeZebraIotConnector,
  eventSchema,
  rfidReadsPayload,
  statePayload,
  toRfidReadsPayloads,
  type DeviceKind,
  type DriverErrorCode,
  type FrameStore,
  type ParsedTopic,
  type StatePayload,
  type VendorDecodeResult,
} from '@storeedge/device-drivers';
import type { z } from 'zod';
import { errors, type EdgeErrorCode } from '../errors.ts';
import { canonicalEventName, type EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DeviceRegistry } from '../registry/registry.ts';
import type { DeviceStatusBook } from './device-status.ts';
import { RateLimiter } from './rate-limiter.ts';
import { RejectLog } from './reject-log.ts';

export type IngestOutcome = { ok: true } | { ok: false; code: EdgeErrorCode | DriverErrorCode; message: string };

/**
 * Vendor formats a registered device may speak instead of storeedge JSON (`device add --driver`).
 * Such a device publishes the vendor's messages on any of its own `evt/…` topics; the driver
 * decodes them into canonical events. docs/rfid.md describes the mappings.
 */
const vendorDrivers: Record<string, { kind: DeviceKind; decode: (bytes: Uint8Array, receivedAt: number) => VendorDecodeResult }> = {
  'impinj-r700': { kind: 'rfid-reader', decode: (bytes, receivedAt) => decodeImpinjR700(bytes, { receivedAt }) },
  'zebra-iotc': { kind: 'rfid-reader', decode: (bytes, receivedAt) => decodeZebraIotConnector(bytes, { receivedAt }) },
};



export interface IngestOptions {
  registry: DeviceRegistry;
  bus: EventBus;
  status: DeviceStatusBook;
  metrics: Metrics;
  logger: Logger;
  maxPayloadBytes: number;
  ratePerSecond: number;
  rateBurst: number;
  /**
   * Where camera frames (`evt/frame`, binary: docs/mqtt.md) go: the frame store validates and
   * buffers them and reports its rejects itself (the agent wires them to `recordDriverReject`).
   * Without it a camera's frames are refused as an unknown event type.
   */
  frames?: Pick<FrameStore, 'offer'>;
  now?: () => number;
}

/** The event type of a camera frame: binary (header + JPEG), not JSON. */
export const CAMERA_FRAME_TYPE = 'frame';

/** What one message carries through the steps. */
interface Message {
  deviceId: string;
  kind: DeviceKind;
  topic: Extract<ParsedTopic, { kind: 'state' | 'evt' }>;
  bytes: Buffer;
  receivedAt: number;
  json?: unknown;
  schema?: z.ZodType;
  value?: unknown;
}

type Step = (this: DeviceIngest, message: Message) => IngestOutcome | undefined;

const reject = (code: EdgeErrorCode | DriverErrorCode, message: string): IngestOutcome => ({ ok: false, code, message });

/**
 * The boundary between devices and the domain: every device message passes these steps in
 * order, and only a message that passes all of them reaches the bus. A reject is counted per
 * device and code, logged (sampled) and never thrown: one bad device cannot stop the agent.
 */
export class DeviceIngest {
  readonly #options: IngestOptions;
  readonly #limiter: RateLimiter;
  readonly #rejectLog: RejectLog;
  readonly #now: () => number;

  static readonly steps: readonly Step[] = [
    function rateLimit(m) {
      // Checked first: a flood must cost as little as possible per dropped message.
      return this.limiter.take(m.deviceId) ? undefined : reject('EDGE_ERR_INGEST_RATE_LIMITED', 'rate limit exceeded');
    },
    function checkSize(m) {
      const max = this.options.maxPayloadBytes;
      return m.bytes.length > max ? reject('EDGE_ERR_INGEST_PAYLOAD_TOO_LARGE', `payload of ${m.bytes.length} bytes exceeds ${max}`) : undefined;
    },
    function findSchema(m) {
      if (m.topic.kind === 'state') {
        m.schema = statePayload;
        return undefined;
      }
      m.schema = eventSchema(m.kind, m.topic.type);
      return m.schema ? undefined : reject('EDGE_ERR_INGEST_UNKNOWN_TYPE', `a ${m.kind} device does not send "${m.topic.type}" events`);
    },
    function parseJson(m) {
      try {
        m.json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(m.bytes));
        return undefined;
      } catch (error) {
        return reject('EDGE_ERR_INGEST_MALFORMED_JSON', `payload is not JSON: ${(error as Error).message}`);
      }
    },
    function validate(m) {
      const result = m.schema!.safeParse(m.json);
      if (result.success) {
        m.value = result.data;
        return undefined;
      }
      const first = result.error.issues[0];
      return reject('EDGE_ERR_INGEST_SCHEMA_MISMATCH', `${first?.path.join('.') || '(payload)'}: ${first?.message ?? 'invalid'}`);
    },
  ];

  constructor(options: IngestOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#limiter = new RateLimiter(options.ratePerSecond, options.rateBurst, this.#now);
    this.#rejectLog = new RejectLog(options.logger, 10_000, this.#now);
  }

  /** For the steps. */
  get options(): IngestOptions {
    return this.#options;
  }
  get limiter(): RateLimiter {
    return this.#limiter;
  }

  /**
   * Takes one message published by `deviceId` on its own `state` or `evt/…` topic (the broker
   * has already checked the topic belongs to it) and runs it through the steps.
   */
  accept(deviceId: string, topic: Extract<ParsedTopic, { kind: 'state' | 'evt' }>, bytes: Buffer): IngestOutcome {
    const device = this.#options.registry.cached(deviceId);
    if (!device) return this.#rejected(deviceId, reject('EDGE_ERR_INGEST_UNKNOWN_DEVICE', `device "${deviceId}" is not registered`));
    if (!device.enabled) return this.#rejected(deviceId, reject('EDGE_ERR_INGEST_DEVICE_DISABLED', `device "${deviceId}" is disabled`));
    const message: Message = { deviceId, kind: device.kind, topic, bytes, receivedAt: this.#now() };
    if (device.kind === 'camera' && topic.kind === 'evt' && topic.type === CAMERA_FRAME_TYPE) return this.#acceptFrame(message);
    const vendor = vendorDrivers[device.driver];
    if (vendor && topic.kind === 'evt') return this.#acceptVendor(message, vendor.decode);
    for (const step of DeviceIngest.steps) {
      const outcome = step.call(this, message);
      if (outcome) return this.#rejected(deviceId, outcome);
    }
    this.#dispatch(message);
    return { ok: true };
  }

  /**
   * An event from a device attached to this host (a serial shelf controller or RFID reader),
   * already decoded by its driver: the same registry check, rate limit and schema validation
   * as an MQTT message, then the bus.
   */
  acceptLocal(deviceId: string, type: string, payload: unknown): IngestOutcome {
    const device = this.#options.registry.cached(deviceId);
    if (!device) return this.#rejected(deviceId, reject('EDGE_ERR_INGEST_UNKNOWN_DEVICE', `device "${deviceId}" is not registered`));
    if (!device.enabled) return this.#rejected(deviceId, reject('EDGE_ERR_INGEST_DEVICE_DISABLED', `device "${deviceId}" is disabled`));
    const topic = { kind: 'evt', storeId: '', deviceId, type } as Extract<ParsedTopic, { kind: 'evt' }>;
    const message: Message = { deviceId, kind: device.kind, topic, bytes: Buffer.alloc(0), receivedAt: this.#now(), json: payload };
    for (const step of [DeviceIngest.steps[0]!, DeviceIngest.steps[2]!, DeviceIngest.steps[4]!]) {
      const outcome = step.call(this, message);
      if (outcome) return this.#rejected(deviceId, outcome);
    }
    this.#dispatch(message);
    return { ok: true };
  }

  /** Counts a reject a local driver decided (a bad frame, a bad tag CRC), per device and code. */
  recordDriverReject(deviceId: string, code: DriverErrorCode, message: string): void {
    this.#rejected(deviceId, reject(code, message));
  }

  /**
   * A camera frame: rate limit, then the frame store (its own size limit, header, JPEG and
   * staleness checks; the JPEG decode runs after this returns). The store counts its rejects
   * through its `onReject` hook, so they are not counted again here.
   */
  #acceptFrame(m: Message): IngestOutcome {
    const limited = DeviceIngest.steps[0]!.call(this, m);
    if (limited) return this.#rejected(m.deviceId, limited);
    const frames = this.#options.frames;
    if (!frames) return this.#rejected(m.deviceId, reject('EDGE_ERR_INGEST_UNKNOWN_TYPE', 'this agent takes no camera frames'));
    const refused = frames.offer(m.deviceId, m.bytes);
    if (refused) return reject(refused.code, refused.reason);
    this.#options.status.seen(m.deviceId, m.receivedAt);
    return { ok: true };
  }

  #acceptVendor(m: Message, decode: (bytes: Uint8Array, receivedAt: number) => VendorDecodeResult): IngestOutcome {
    for (const step of [DeviceIngest.steps[0]!, DeviceIngest.steps[1]!]) {
      const outcome = step.call(this, m);
      if (outcome) return this.#rejected(m.deviceId, outcome);
    }
    const { reads, rejects } = decode(m.bytes, m.receivedAt);
    for (const r of rejects) this.#rejected(m.deviceId, reject(r.code, r.reason));
    if (reads.length === 0) return rejects.length > 0 ? reject(rejects[0]!.code, rejects[0]!.reason) : { ok: true };
    const topic = { ...m.topic, type: 'reads' };
    for (const payload of toRfidReadsPayloads(reads)) {
      const checked = rfidReadsPayload.safeParse(payload);
      if (!checked.success) {
        this.#rejected(m.deviceId, reject('EDGE_ERR_INGEST_SCHEMA_MISMATCH', checked.error.issues[0]?.message ?? 'invalid reads'));
        continue;
      }
      this.#dispatch({ ...m, topic, value: checked.data });
    }
    return { ok: true };
  }

  /** Counts and logs a reject decided elsewhere (broker ACL, oversized packet, bad CONNECT). */
  recordReject(deviceId: string, code: EdgeErrorCode, message: string): void {
    this.#rejected(deviceId, reject(code, message));
  }

  /** Connection-level lifecycle from the broker (embedded mode). */
  connected(deviceId: string): void {
    const device = this.#options.registry.cached(deviceId);
    if (device && this.#options.status.online(deviceId, this.#now())) {
      this.#options.bus.emit('device.online', { deviceId, kind: device.kind, at: this.#now() });
    }
  }

  disconnected(deviceId: string): void {
    const device = this.#options.registry.cached(deviceId);
    this.#limiter.forget(deviceId);
    if (device && this.#options.status.offline(deviceId, this.#now())) {
      this.#options.bus.emit('device.offline', { deviceId, kind: device.kind, at: this.#now() });
    }
  }

  #dispatch(m: Message): void {
    const { bus, status, metrics } = this.#options;
    if (m.topic.kind === 'state') {
      const state = m.value as StatePayload;
      metrics.messagesIn.inc({ type: 'state' });
      const changed = state.online ? status.online(m.deviceId, m.receivedAt, state) : status.offline(m.deviceId, m.receivedAt);
      if (changed) bus.emit(state.online ? 'device.online' : 'device.offline', { deviceId: m.deviceId, kind: m.kind, at: m.receivedAt, state });
      if (state.online) bus.emit('device.listening', { deviceId: m.deviceId, kind: m.kind, at: m.receivedAt, state });
      return;
    }
    const name = canonicalEventName(m.kind, m.topic.type);
    if (!name) throw errors.EDGE_ERR_INTERNAL(`no bus name for ${m.kind}/${m.topic.type}`);
    const payload = m.value as { at: number };
    metrics.messagesIn.inc({ type: name });
    status.seen(m.deviceId, m.receivedAt, name === 'device.health' ? (payload as never) : undefined);
    // The bus is typed by name; the schema for this name validated the payload just above.
    bus.emit(name, { deviceId: m.deviceId, kind: m.kind, deviceTime: payload.at, receivedAt: m.receivedAt, payload } as never);
  }

  #rejected(deviceId: string, outcome: IngestOutcome): IngestOutcome {
    if (outcome.ok) return outcome;
    this.#options.metrics.reject(deviceId, outcome.code);
    this.#options.status.rejected(deviceId, outcome.code);
    this.#rejectLog.log(deviceId, outcome.code, outcome.message);
    // A flood is counted, not broadcast: live views would otherwise receive the flood too.
    if (outcome.code === 'EDGE_ERR_INGEST_RATE_LIMITED') return outcome;
    this.#options.bus.emit('device.rejected', { deviceId, code: outcome.code, message: outcome.message, at: this.#now() });
    return outcome;
  }
}
