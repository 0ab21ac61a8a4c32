import { tagType, type StoreModel } from '@storeedge/device-drivers';
import type { OrderBody } from '@storeedge/sync';
import { errors, StoreEdgeError } from '../errors.ts';
import type { EventBus } from '../events.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import { inventoryEventTypes, inventoryStream } from '../inventory/ledger-events.ts';
import { alertIdOf } from '../inventory/projection.ts';
import type { LabelsApi } from '../labels/api.ts';
import type { LedColour } from '../labels/ledger-events.ts';
import { realLabelClock, type LabelClock } from '../labels/types.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { silentLogger, type Logger } from '../log.ts';
import type {
  CancelInput,
  CollectedInput,
  OrderDetailView,
  OrderFlashView,
  OrderLineView,
  OrderListQuery,
  OrdersApi,
  OrderSummaryView,
  PickedInput,
} from './api.ts';
import {
  orderEventTypes as types,
  orderStream,
  type OrderCancelled,
  type OrderCollected,
  type OrderExpired,
  type OrderPicked,
  type OrderReceived,
  type OrderReserved,
  orderStates,
  type OrderState,
} from './ledger-events.ts';
import type { OrderIntake, OrderIntakePlan } from './order-document.ts';
import { pickList, walkOrder, type PickLine } from './pick-list.ts';

/** The alert kind raised when an order passes its collectBy uncollected. */
export const ORDER_EXPIRED_ALERT_KIND = 'order-expired';

/** How the labels of the items to pick flash. */
export interface OrderFlashSettings {
  colour: LedColour;
  flashes: number;
  repeats: number;
  /** A tag whose LED budget says "not yet" is tried once more if that is at most this far away (the per-tag interval is 1 min); longer waits (the daily budget) are not retried. */
  retryWithinMs: number;
}

export const defaultOrderFlash: OrderFlashSettings = Object.freeze({ colour: 'blue', flashes: 3, repeats: 2, retryWithinMs: 5 * 60_000 });

export interface OrderServiceOptions {
  /** Opened with `inventoryProjection` and `ordersProjection`. */
  ledger: Ledger;
  bus: EventBus;
  /** Stock per tray (the planogram and the load cells) and the alert table. */
  inventory: Pick<InventoryService, 'model' | 'stock' | 'alert'>;
  /** The label service, when the store has one: no labels, no flash. */
  labels?: Pick<LabelsApi, 'list' | 'flash'>;
  /** The store clock (the agent's): collectBy, `at` in the events, the expiry timer. */
  clock?: LabelClock;
  flash?: Partial<OrderFlashSettings>;
  logger?: Logger;
}

interface OrderRowDb {
  order_id: string;
  doc_id: string;
  doc_version: number;
  customer_ref: string;
  collect_by: number;
  note: string | null;
  state: OrderState;
  received_at: number;
  picked_at: number | null;
  picked_by: string | null;
  closed_at: number | null;
  closed_by: string | null;
  close_reason: string | null;
  alert_id: string | null;
}

interface LineRowDb {
  line: number;
  sku: string;
  qty: number;
  reserved: number;
  picked: number | null;
}

/** The longest single timer wait; the expiry timer re-arms after it (timers overflow past ~24.8 days). */
const maxTimerMs = 3_600_000;
const activeStates: readonly OrderState[] = ['open', 'picked'];

/**
 * Click & collect (docs/sync.md "Online orders"). An HQ `order` document reserves stock against
 * the shelf (other orders' reservations deducted; a shortfall is recorded, not refused), yields a
 * pick list in walking order, and flashes the labels of the items to pick. Staff move it on
 * through the API: picked (the reservation is released: the units left the shelf, which the load
 * cells book) → collected, or cancelled; uncollected at collectBy it expires with an alert. Every
 * step is a ledger event (`orders` stream; all but the store-only `order.received` go to HQ), the
 * read model is the `orders` projection, so a restart — kill -9 included — resumes where the
 * ledger is; the expiry timer is re-armed from it at start.
 */
export class OrderService implements OrdersApi, OrderIntake {
  readonly #o: OrderServiceOptions;
  readonly #clock: LabelClock;
  readonly #flash: OrderFlashSettings;
  readonly #log: Logger;
  readonly #sql: ReturnType<typeof prepare>;
  /** LED flashes asked for per open order (in memory only). */
  readonly #flashes = new Map<string, OrderFlashView[]>();
  readonly #retryTimers = new Set<unknown>();
  #expiryTimer: unknown;
  #walkModel: StoreModel | null = null;
  #walk = new Map<string, number>();
  #stopped = false;

  constructor(options: OrderServiceOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realLabelClock;
    this.#flash = { ...defaultOrderFlash, ...options.flash };
    this.#log = (options.logger ?? silentLogger()).child({ part: 'orders' });
    const hasTables = options.ledger.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'order_lines'").get();
    if (!hasTables) throw errors.EDGE_ERR_INTERNAL('OrderService needs a ledger opened with ordersProjection');
    this.#sql = prepare(options.ledger);
  }

  /** Expires what passed its collectBy while the agent was down and arms the expiry timer (documents reach it through the sync service's store parts). */
  start(): void {
    this.expireDue();
    this.#armExpiry();
    this.#log.info({ active: this.#sql.countActive.get() }, 'order service started');
  }

  stop(): void {
    this.#stopped = true;
    if (this.#expiryTimer !== undefined) this.#clock.clearTimeout(this.#expiryTimer);
    for (const timer of this.#retryTimers) this.#clock.clearTimeout(timer);
    this.#retryTimers.clear();
  }

  // ── intake (the `order` document handler) ──────────────────────────────────────────────

  /**
   * Checks an order against the store and reserves what the shelves hold beyond other open
   * orders' reservations (per SKU: Σ shelf-observed units over its trays, each at least 0, minus
   * the units open orders hold). Writes nothing: `apply` does, in the document's transaction.
   */
  planOrder(body: OrderBody, source: { docId: string; docVersion: number }): OrderIntakePlan {
    const refuse = (reason: string): OrderIntakePlan => ({ ok: false, reason });
    const model = this.#o.inventory.model;
    if (model === null) return refuse('this store has no store model, so it cannot reserve stock for an order');
    const known = this.#sql.orderById.get(body.orderId);
    if (known !== undefined) return refuse(`order ${body.orderId} was already received in document ${known.doc_id}; an order is sent once (a changed order needs a new order id)`);
    const catalogue = new Set(model.catalog.map((item) => item.sku));
    for (const [index, line] of body.lines.entries()) {
      if (!catalogue.has(line.sku)) return refuse(`lines[${index}]: SKU "${line.sku}" is not in this store's catalogue`);
    }
    const at = this.#clock.now();
    if (body.collectBy <= at) return refuse(`collectBy ${new Date(body.collectBy).toISOString()} has already passed`);

    const lines = body.lines.map((line) => {
      const reserved = Math.min(line.qty, Math.max(0, this.#available(line.sku)));
      return { sku: line.sku, qty: line.qty, reserved, short: line.qty - reserved };
    });
    const received: OrderReceived = {
      orderId: body.orderId,
      docId: source.docId,
      docVersion: source.docVersion,
      customerRef: body.customerRef,
      collectBy: body.collectBy,
      note: body.note ?? null,
      lines: body.lines.map(({ sku, qty }) => ({ sku, qty })),
      at,
    };
    const reservation: OrderReserved = { orderId: body.orderId, lines, reserved: sum(lines, 'reserved'), short: sum(lines, 'short'), at };
    return {
      ok: true,
      summary: { lines: lines.length, units: sum(lines, 'qty'), reserved: reservation.reserved, short: reservation.short },
      apply: () => {
        this.#o.ledger.append({ type: types.received, stream: orderStream, key: `order.received:${body.orderId}`, payload: received });
        this.#o.ledger.append({ type: types.reserved, stream: orderStream, key: `order.reserved:${body.orderId}`, payload: reservation, outbox: true });
      },
      afterCommit: () => {
        this.#log.info({ orderId: body.orderId, docId: source.docId, reserved: reservation.reserved, short: reservation.short }, 'order received');
        this.#flashPickList(body.orderId);
        this.#armExpiry();
      },
    };
  }

  // ── API ─────────────────────────────────────────────────────────────────────────────────

  list(query: OrderListQuery = {}): { orders: OrderSummaryView[]; total: number } {
    const state = query.state ?? 'active';
    const states = JSON.stringify(state === 'all' ? orderStates : state === 'active' ? activeStates : [state]);
    const rows = this.#sql.ordersIn.all(states, query.limit ?? 100);
    return { orders: rows.map((row) => this.#summary(row, this.#sql.lines.all(row.order_id))), total: this.#sql.countIn.get(states) ?? 0 };
  }

  order(id: string): OrderDetailView {
    const row = this.#row(id);
    const lines = this.#sql.lines.all(id);
    const names = this.#names();
    return {
      ...this.#summary(row, lines),
      lines: lines.map((l): OrderLineView => ({ sku: l.sku, name: names.get(l.sku) ?? null, qty: l.qty, reserved: l.reserved, short: l.qty - l.reserved, picked: l.picked })),
      pickList: row.state === 'open' ? this.#pickList(lines) : null,
      flashes: (this.#flashes.get(id) ?? []).map((f) => ({ ...f })),
    };
  }

  /**
   * Staff picked the order: every line once with the units in the bag. The reservation is
   * released (the units left the shelf; the load cells booked the picks). Sending the same
   * lines again answers the order as it is (a retried request); other lines are a conflict.
   */
  picked(id: string, input: PickedInput): OrderDetailView {
    const row = this.#row(id);
    const lines = this.#sql.lines.all(id);
    const picked = pickedLines(id, lines, input.lines);
    if (row.state === 'picked' && lines.every((l, i) => l.picked === picked[i]!.picked)) return this.order(id);
    this.#require(row, ['open'], 'picked');
    const payload: OrderPicked = { orderId: id, lines: picked, picked: sum(picked, 'picked'), short: sum(picked, 'short'), actor: input.actor, at: this.#clock.now() };
    this.#o.ledger.append({ type: types.picked, stream: orderStream, key: `order.picked:${id}`, payload, outbox: true });
    this.#afterTransition(id);
    this.#log.info({ orderId: id, picked: payload.picked, short: payload.short, actor: input.actor }, 'order picked');
    return this.order(id);
  }

  /** The customer took the order. Only a picked order can be handed over; a second call is a no-op. */
  collected(id: string, input: CollectedInput): OrderDetailView {
    const row = this.#row(id);
    if (row.state === 'collected') return this.order(id);
    this.#require(row, ['picked'], 'collected');
    const payload: OrderCollected = { orderId: id, units: pickedUnits(this.#sql.lines.all(id)), actor: input.actor, at: this.#clock.now() };
    this.#o.ledger.append({ type: types.collected, stream: orderStream, key: `order.collected:${id}`, payload, outbox: true });
    this.#afterTransition(id);
    this.#log.info({ orderId: id, units: payload.units, actor: input.actor }, 'order collected');
    return this.order(id);
  }

  /** Cancels an open or picked order: its reservation is released; picked units go back to the shelf. A second call is a no-op. */
  cancel(id: string, input: CancelInput): OrderDetailView {
    const row = this.#row(id);
    if (row.state === 'cancelled') return this.order(id);
    this.#require(row, ['open', 'picked'], 'cancelled');
    const lines = this.#sql.lines.all(id);
    const from = row.state as 'open' | 'picked';
    const payload: OrderCancelled = {
      orderId: id,
      from,
      released: from === 'open' ? sum(lines, 'reserved') : 0,
      unitsToReturn: from === 'picked' ? pickedUnits(lines) : 0,
      actor: input.actor,
      reason: input.reason ?? null,
      at: this.#clock.now(),
    };
    this.#o.ledger.append({ type: types.cancelled, stream: orderStream, key: `order.cancelled:${id}`, payload, outbox: true });
    this.#afterTransition(id);
    this.#log.info({ orderId: id, from, actor: input.actor }, 'order cancelled');
    return this.order(id);
  }

  /**
   * Expires every open or picked order whose collectBy has come: its reservation is released
   * (open) or its picked units are to go back to the shelf (picked), and an `order-expired`
   * alert tells the team — one transaction for all. Runs on the expiry timer and at start.
   * Returns the expired order ids.
   */
  expireDue(): string[] {
    const now = this.#clock.now();
    const due = this.#sql.due.all(now);
    if (due.length === 0) return [];
    const alertIds: string[] = [];
    this.#o.ledger.transaction(() => {
      for (const row of due) {
        const lines = this.#sql.lines.all(row.order_id);
        const from = row.state as 'open' | 'picked';
        const released = from === 'open' ? sum(lines, 'reserved') : 0;
        const unitsToReturn = from === 'picked' ? pickedUnits(lines) : 0;
        const deadline = new Date(row.collect_by).toISOString();
        const alert = {
          kind: ORDER_EXPIRED_ALERT_KIND,
          trayId: null,
          sku: null,
          changeId: null,
          message:
            from === 'picked'
              ? `Order ${row.order_id} was not collected by ${deadline}: put its ${unitsToReturn} picked units back on the shelf.`
              : `Order ${row.order_id} was not picked or collected by ${deadline}; its reservation of ${released} units is released.`,
          details: { orderId: row.order_id, collectBy: row.collect_by, from, released, unitsToReturn },
        };
        // AlertRaised's kind lists the inventory's kinds; the projection stores any kind as text (as vision's and the labels' do).
        const { event } = this.#o.ledger.append({ type: inventoryEventTypes.alertRaised, stream: inventoryStream, key: `alert:${ORDER_EXPIRED_ALERT_KIND}:${row.order_id}`, payload: alert, outbox: true });
        const alertId = alertIdOf(event.seq);
        alertIds.push(alertId);
        const payload: OrderExpired = { orderId: row.order_id, from, collectBy: row.collect_by, released, unitsToReturn, alertId, at: now };
        this.#o.ledger.append({ type: types.expired, stream: orderStream, key: `order.expired:${row.order_id}`, payload, outbox: true });
      }
    });
    for (const row of due) this.#flashes.delete(row.order_id);
    for (const alertId of alertIds) this.#o.bus.emit('alert.raised', this.#o.inventory.alert(alertId));
    this.#log.warn({ orders: due.map((r) => r.order_id) }, 'orders expired uncollected');
    return due.map((row) => row.order_id);
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  #row(id: string): OrderRowDb {
    const row = this.#sql.orderById.get(id);
    if (row === undefined) throw errors.EDGE_ERR_ORDER_NOT_FOUND(`no order "${id}"`);
    return row;
  }

  #require(row: OrderRowDb, from: readonly OrderState[], to: OrderState): void {
    if (from.includes(row.state)) return;
    const hint = to === 'collected' && row.state === 'open' ? ' (report it picked first)' : '';
    throw errors.EDGE_ERR_ORDER_STATE(`order ${row.order_id} is ${row.state}; it cannot become ${to}${hint}`, { details: { orderId: row.order_id, state: row.state, wanted: to } });
  }

  #afterTransition(id: string): void {
    this.#flashes.delete(id);
    this.#armExpiry();
  }

  /** Units of a SKU on its trays (each at least 0) minus what open orders hold. */
  #available(sku: string): number {
    const onShelf = this.#o.inventory.stock({ sku }).trays.reduce((n, row) => n + Math.max(0, row.observed), 0);
    return onShelf - (this.#sql.reservedOpen.get(sku) ?? 0);
  }

  #pickList(lines: readonly LineRowDb[]): PickLine[] {
    const model = this.#o.inventory.model;
    if (model === null) return [];
    if (model !== this.#walkModel) {
      this.#walkModel = model;
      this.#walk = walkOrder(model);
    }
    const names = this.#names();
    return pickList(
      lines.map((l) => ({ sku: l.sku, name: names.get(l.sku) ?? null, qty: l.qty, reserved: l.reserved, short: l.qty - l.reserved })),
      (sku) => this.#o.inventory.stock({ sku }).trays,
      this.#walk,
    );
  }

  #names(): Map<string, string> {
    return new Map((this.#o.inventory.model?.catalog ?? []).map((item) => [item.sku, item.name]));
  }

  #summary(row: OrderRowDb, lines: readonly LineRowDb[]): OrderSummaryView {
    return {
      orderId: row.order_id,
      state: row.state,
      customerRef: row.customer_ref,
      collectBy: row.collect_by,
      receivedAt: row.received_at,
      docId: row.doc_id,
      docVersion: row.doc_version,
      lineCount: lines.length,
      units: sum(lines, 'qty'),
      reservedUnits: sum(lines, 'reserved'),
      shortUnits: lines.reduce((n, l) => n + l.qty - l.reserved, 0),
      pickedUnits: row.picked_at === null ? null : pickedUnits(lines),
      note: row.note,
      pickedAt: row.picked_at,
      pickedBy: row.picked_by,
      closedAt: row.closed_at,
      closedBy: row.closed_by,
      closeReason: row.close_reason,
      alertId: row.alert_id,
    };
  }

  /**
   * Flashes the labels of the SKUs to take from a shelf: per line, the SKU's labels with an LED
   * on the trays to take from (and those without a tray), else all of them. Through the label
   * service, so its per-tag LED budget holds; a tag not allowed yet is tried once more when it
   * may (if that is within `retryWithinMs` and the order is still open). No labels: no flash.
   */
  #flashPickList(orderId: string): void {
    const labels = this.#o.labels;
    if (labels === undefined) return;
    const row = this.#sql.orderById.get(orderId);
    if (row === undefined || row.state !== 'open') return;
    for (const line of this.#pickList(this.#sql.lines.all(orderId))) {
      if (line.toTake === 0) continue;
      const trays = new Set(line.stops.filter((s) => s.take > 0).map((s) => s.trayId));
      // A tag type without an LED would only spend a radio message (the gateway refuses `not-supported`).
      const tags = labels.list({ sku: line.sku, limit: 1_000 }).labels.filter((tag) => tagType(tag.tagType)?.led !== false);
      const near = tags.filter((tag) => tag.trayId === null || trays.has(tag.trayId));
      for (const tag of near.length > 0 ? near : tags) void this.#flashTag(orderId, line.sku, tag.id, true);
    }
  }

  /** One tag's flash for an order, with the outcome kept for `GET /api/orders/:id`. Never rejects. */
  async #flashTag(orderId: string, sku: string, tagId: string, mayRetry: boolean): Promise<void> {
    const labels = this.#o.labels!;
    const record = (view: Omit<OrderFlashView, 'tagId' | 'sku'>) => {
      if (this.#stopped || this.#sql.orderById.get(orderId)?.state !== 'open') return;
      const list = (this.#flashes.get(orderId) ?? []).filter((f) => f.tagId !== tagId);
      this.#flashes.set(orderId, [...list, { tagId, sku, ...view }]);
    };
    try {
      const { colour, flashes, repeats } = this.#flash;
      const flash = await labels.flash(tagId, { colour, flashes, repeats, actor: `order:${orderId}` });
      record({ state: 'requested', requestId: flash.requestId, retryAt: null });
    } catch (err) {
      if (err instanceof StoreEdgeError && err.code === errors.EDGE_ERR_LABEL_NOT_FOUND.code) return; // the label left the store model meanwhile
      if (!(err instanceof StoreEdgeError) || err.code !== errors.EDGE_ERR_LABEL_FLASH_LIMITED.code) {
        this.#log.warn({ err, orderId, tagId }, 'flashing a label for an order failed');
        record({ state: 'failed', requestId: null, retryAt: null });
        return;
      }
      const retryAfterMs = (err.details as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? Number.POSITIVE_INFINITY;
      if (!mayRetry || retryAfterMs > this.#flash.retryWithinMs || this.#stopped) {
        this.#log.info({ orderId, tagId, retryAfterMs }, 'label LED budget used up; not flashed for the order');
        record({ state: 'limited', requestId: null, retryAt: null });
        return;
      }
      const retryAt = this.#clock.now() + retryAfterMs;
      record({ state: 'retry-scheduled', requestId: null, retryAt });
      const timer = this.#clock.setTimeout(() => {
        this.#retryTimers.delete(timer);
        if (this.#sql.orderById.get(orderId)?.state !== 'open') return;
        void this.#flashTag(orderId, sku, tagId, false);
      }, retryAfterMs);
      this.#retryTimers.add(timer);
    }
  }

  /** One timer to the earliest collectBy of an active order (at most an hour ahead, then again). */
  #armExpiry(): void {
    if (this.#expiryTimer !== undefined) this.#clock.clearTimeout(this.#expiryTimer);
    this.#expiryTimer = undefined;
    if (this.#stopped) return;
    const next = this.#sql.nextDue.get();
    if (next === undefined || next === null) return;
    const delay = Math.min(Math.max(0, next - this.#clock.now()), maxTimerMs);
    this.#expiryTimer = this.#clock.setTimeout(() => {
      this.#expiryTimer = undefined;
      try {
        this.expireDue();
      } catch (err) {
        this.#log.error({ err }, 'expiring orders failed; trying again at the next timer');
      }
      this.#armExpiry();
    }, delay);
  }
}

/**
 * The picked lines in the order's line order, or EDGE_ERR_ORDER_PICK_INVALID: every line of the
 * order exactly once, no other SKU, at most the units ordered.
 */
function pickedLines(orderId: string, lines: readonly LineRowDb[], input: PickedInput['lines']): OrderPicked['lines'] {
  const reported = new Map<string, number>();
  for (const [index, line] of input.entries()) {
    if (reported.has(line.sku)) throw errors.EDGE_ERR_ORDER_PICK_INVALID(`lines[${index}]: SKU "${line.sku}" is listed twice`);
    if (!lines.some((l) => l.sku === line.sku)) throw errors.EDGE_ERR_ORDER_PICK_INVALID(`lines[${index}]: SKU "${line.sku}" is not in order ${orderId}`);
    reported.set(line.sku, line.qty);
  }
  return lines.map((l) => {
    const picked = reported.get(l.sku);
    if (picked === undefined) throw errors.EDGE_ERR_ORDER_PICK_INVALID(`SKU "${l.sku}" of order ${orderId} is missing: list every line, with qty 0 for what could not be found`);
    if (picked > l.qty) throw errors.EDGE_ERR_ORDER_PICK_INVALID(`SKU "${l.sku}": ${picked} picked but ${l.qty} ordered`);
    return { sku: l.sku, qty: l.qty, picked, short: l.qty - picked };
  });
}

function pickedUnits(lines: readonly LineRowDb[]): number {
  return lines.reduce((n, l) => n + (l.picked ?? 0), 0);
}

function sum<K extends string>(rows: ReadonlyArray<Record<K, number>>, key: K): number {
  return rows.reduce((n, row) => n + row[key], 0);
}

function prepare(ledger: Ledger) {
  const db = ledger.db;
  const active = "('open', 'picked')";
  return {
    orderById: db.prepare<[string], OrderRowDb>('SELECT * FROM orders WHERE order_id = ?'),
    ordersIn: db.prepare<[string, number], OrderRowDb>('SELECT * FROM orders WHERE state IN (SELECT value FROM json_each(?)) ORDER BY collect_by, order_id LIMIT ?'),
    countIn: db.prepare<[string], number>('SELECT count(*) FROM orders WHERE state IN (SELECT value FROM json_each(?))').pluck(),
    lines: db.prepare<[string], LineRowDb>('SELECT line, sku, qty, reserved, picked FROM order_lines WHERE order_id = ? ORDER BY line'),
    reservedOpen: db
      .prepare<[string], number>("SELECT coalesce(sum(l.reserved), 0) FROM order_lines l JOIN orders o ON o.order_id = l.order_id WHERE o.state = 'open' AND l.sku = ?")
      .pluck(),
    due: db.prepare<[number], OrderRowDb>(`SELECT * FROM orders WHERE state IN ${active} AND collect_by <= ? ORDER BY collect_by, order_id`),
    nextDue: db.prepare<[], number | null>(`SELECT min(collect_by) FROM orders WHERE state IN ${active}`).pluck(),
    countActive: db.prepare<[], number>(`SELECT count(*) FROM orders WHERE state IN ${active}`).pluck(),
  };
}
