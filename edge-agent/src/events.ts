import { Observable } from 'rxjs';
import type {
  DeviceKind,
  GateScanPayload,
  HealthPayload,
  RfidReadsPayload,
  StatePayload,
  TagReportPayload,
  TracksPayload,
  WeightPayload,
} from '@storeedge/device-drivers';

/** A validated device message, as the domain sees it. */
export interface DeviceEvent<P> {
  deviceId: string;
  kind: DeviceKind;
  /** Device clock, ms since the epoch (from the payload's `at`). */
  deviceTime: number;
  /** Agent clock when the message was accepted. */
  receivedAt: number;
  payload: P;
}

export interface DeviceLifecycle {
  deviceId: string;
  kind: DeviceKind;
  at: number;
  state?: StatePayload;
}

/** Every event on the store's bus, by name. Domain services subscribe by name. */
export interface StoreEvents {
  'device.online': DeviceLifecycle;
  'device.offline': DeviceLifecycle;
  'device.health': DeviceEvent<HealthPayload>;
  'shelf.weight': DeviceEvent<WeightPayload>;
  'gate.scan': DeviceEvent<GateScanPayload>;
  'esl.tag.report': DeviceEvent<TagReportPayload>;
  'rfid.reads': DeviceEvent<RfidReadsPayload>;
  'tracker.tracks': DeviceEvent<TracksPayload>;
  'device.rejected': { deviceId: string; code: string; message: string; at: number };
}

export type StoreEventName = keyof StoreEvents;

/** The canonical bus name of a device event type, per device kind. */
export function canonicalEventName(kind: DeviceKind, type: string): StoreEventName | undefined {
  if (type === 'health') return 'device.health';
  const table: Partial<Record<DeviceKind, Partial<Record<string, StoreEventName>>>> = {
    shelf: { weight: 'shelf.weight' },
    gate: { scan: 'gate.scan' },
    'esl-gateway': { 'tag.report': 'esl.tag.report' },
    'rfid-reader': { reads: 'rfid.reads' },
    tracker: { tracks: 'tracker.tracks' },
  };
  return table[kind]?.[type];
}

type Handler<K extends StoreEventName> = (event: StoreEvents[K]) => void;

/**
 * The in-process event bus. Handlers run synchronously in emit order, so a handler that writes
 * to the ledger does so before the device's QoS 1 PUBACK is sent. A throwing handler is counted
 * and logged through `onHandlerError`; it never stops the other handlers or the emitter.
 */
export class EventBus {
  readonly #handlers = new Map<StoreEventName, Set<Handler<never>>>();
  readonly #anyHandlers = new Set<(name: StoreEventName, event: unknown) => void>();
  readonly #onHandlerError: (name: StoreEventName, error: unknown) => void;

  constructor(onHandlerError: (name: StoreEventName, error: unknown) => void = () => {}) {
    this.#onHandlerError = onHandlerError;
  }

  emit<K extends StoreEventName>(name: K, event: StoreEvents[K]): void {
    for (const handler of this.#handlers.get(name) ?? []) this.#call(name, () => (handler as Handler<K>)(event));
    for (const handler of this.#anyHandlers) this.#call(name, () => handler(name, event));
  }

  on<K extends StoreEventName>(name: K, handler: Handler<K>): () => void {
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    set.add(handler as Handler<never>);
    return () => set.delete(handler as Handler<never>);
  }

  onAny(handler: (name: StoreEventName, event: unknown) => void): () => void {
    this.#anyHandlers.add(handler);
    return () => this.#anyHandlers.delete(handler);
  }

  /** The events of one name as an rxjs Observable (for windowing, fusion and other stream work). */
  stream<K extends StoreEventName>(name: K): Observable<StoreEvents[K]> {
    return new Observable<StoreEvents[K]>((subscriber) => this.on(name, (event) => subscriber.next(event)));
  }

  #call(name: StoreEventName, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#onHandlerError(name, error);
    }
  }
}
