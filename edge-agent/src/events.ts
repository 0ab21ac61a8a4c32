import { Observable } from 'rxjs';
import type { ReceiptView } from './checkout/checkout-service.ts';
import type {
  DeviceKind,
  GateScanPayload,
  HealthPayload,
  RfidReadsPayload,
  StatePayload,
  TagDeliveryPayload,
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

/**
 * A settled weight change on one tray, derived from `shelf.weight` samples by the weight
 * pipeline (edge-agent/src/inventory/weight/). Times are device time (ms), so the pipeline
 * behaves the same in simulated time.
 */
export interface ShelfChange {
  /** Stable id of this change (tray id + settle time), used as the ledger idempotency key. */
  id: string;
  trayId: string;
  deviceId: string;
  channel: number;
  /** Settled weight after − settled weight before, grams. Negative: items removed. */
  deltaG: number;
  /** Device time the tray left its previous settled level, and the time it settled again. */
  startAt: number;
  settledAt: number;
  /**
   * The best explanation among the tray's SKUs: signed units (negative = picked, positive =
   * put back) and how well Δ fits an integer multiple of the unit weight (0…1), or null when
   * no SKU of the tray explains Δ (a misplaced or foreign item).
   */
  sku: string | null;
  quantity: number;
  confidence: number;
  /** Other explanations, best first (several SKUs on one tray, or near-equal fits). */
  alternatives: Array<{ sku: string; quantity: number; confidence: number }>;
  /** True when Δ matches no SKU of the tray: something was put on the wrong tray (or a foreign object). */
  misplaced: boolean;
}

/** A tagged item's presence changing, from smoothed RFID reads (edge-agent/src/inventory/rfid/). */
export interface RfidPresence {
  /** EPC as upper-case hex. */
  epc: string;
  /** GTIN-14 and serial when the EPC is an SGTIN; absent for opaque EPCs. */
  gtin?: string;
  serial?: string;
  /** 'arrived': first seen in a zone; 'moved': now in another zone; 'departed': absent past the timeout; 'exited': read at an exit portal. */
  kind: 'arrived' | 'moved' | 'departed' | 'exited';
  zone: string;
  previousZone?: string;
  /** Device time of the read (or the timeout) that decided it. */
  at: number;
}

/**
 * An operational alert for the store's staff (inventory today), as the bus, `GET /api/alerts`
 * and `out/alerts` carry it. Lifecycle: open → acknowledged (by a manager) → cleared (the
 * condition is gone); an alert about a single event (e.g. an unexplained weight change) stays
 * open until acknowledged.
 */
export interface StoreAlert {
  id: string;
  kind: string;
  state: 'open' | 'acknowledged' | 'cleared';
  trayId: string | null;
  sku: string | null;
  /** The shelf change the alert is about, for alerts about one change. */
  changeId: string | null;
  message: string;
  details: Record<string, unknown>;
  /** Agent clock, ms since the epoch. */
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  clearedAt: number | null;
  clearReason: string | null;
  /** Who is to deal with it (assigned on the dashboard), who assigned it, when; null when nobody is. */
  assignedTo: string | null;
  assignedBy: string | null;
  assignedAt: number | null;
}

/** Every event on the store's bus, by name. Domain services subscribe by name. */
export interface StoreEvents {
  'device.online': DeviceLifecycle;
  'device.offline': DeviceLifecycle;
  /**
   * A device announced itself online (its retained birth `state`). Devices subscribe to their
   * commands before they publish the birth (docs/mqtt.md), so a command sent from here on is heard;
   * `device.online` (the connection) can come before the subscription.
   */
  'device.listening': DeviceLifecycle;
  'device.health': DeviceEvent<HealthPayload>;
  'shelf.weight': DeviceEvent<WeightPayload>;
  'gate.scan': DeviceEvent<GateScanPayload>;
  'esl.tag.report': DeviceEvent<TagReportPayload>;
  'esl.tag.delivery': DeviceEvent<TagDeliveryPayload>;
  'rfid.reads': DeviceEvent<RfidReadsPayload>;
  'tracker.tracks': DeviceEvent<TracksPayload>;
  'device.rejected': { deviceId: string; code: string; message: string; at: number };
  'shelf.change': ShelfChange;
  'rfid.presence': RfidPresence;
  'alert.raised': StoreAlert;
  'alert.acknowledged': StoreAlert;
  'alert.cleared': StoreAlert;
  /** Someone was given the alert to deal with, or nobody any more. */
  'alert.assigned': StoreAlert;
  /** A receipt was issued (checkout/checkout-service.ts); also on replay, so subscribers see each receipt once per start. */
  'checkout.receipt': ReceiptView;
}

export type StoreEventName = keyof StoreEvents;

/** The canonical bus name of a device event type, per device kind. */
export function canonicalEventName(kind: DeviceKind, type: string): StoreEventName | undefined {
  if (type === 'health') return 'device.health';
  const table: Partial<Record<DeviceKind, Partial<Record<string, StoreEventName>>>> = {
    shelf: { weight: 'shelf.weight' },
    gate: { scan: 'gate.scan' },
    'esl-gateway': { 'tag.report': 'esl.tag.report', 'tag.delivery': 'esl.tag.delivery' },
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
