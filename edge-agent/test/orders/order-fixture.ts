import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreModelInput } from '@storeedge/device-drivers';
import { buildDocument, generateSigningKey, type OrderBody } from '@storeedge/sync';
import { inventorySettingsSchema } from '../../src/config/schema.ts';
import { errors } from '../../src/errors.ts';
import { EventBus, type StoreAlert } from '../../src/events.ts';
import { InventoryService } from '../../src/inventory/inventory-service.ts';
import { inventoryProjection } from '../../src/inventory/projection.ts';
import type { FlashInput, FlashView, LabelsApi, LabelSummaryView } from '../../src/labels/api.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { OrderService, type OrderFlashSettings } from '../../src/orders/order-service.ts';
import { ordersProjection } from '../../src/orders/projection.ts';
import { PriceBook } from '../../src/pricing/index.ts';
import { DownlinkApplier, type ChunkOutcome } from '../../src/sync/downlink-applier.ts';
import { FakeClock } from '../sync/fake-clock.ts';
import { storeModelFixture } from '../inventory/store-fixture.ts';

export const T0 = 1_764_000_000_000;
export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const hq = generateSigningKey('hq-1');

/**
 * The inventory fixture's store (g1/b1: cola t1 ×10, chips t2 ×8; g2/b2: soap t3 ×3, shampoo t4
 * ×8; mints in the catalogue with no facing) plus a second cola facing further along the walk
 * (g2/b2 t5 ×2) and shelf labels: one per facing, cola's on both of its trays, soap's a type without an LED.
 */
export const orderStoreModel: StoreModelInput = (() => {
  const model = structuredClone(storeModelFixture);
  model.gondolas![1]!.bays[0]!.shelves[0]!.trays.push({ id: 't5', device: 'shelf-2', channel: 2, facings: [{ sku: 'cola-330', capacity: 6, minLevel: 1, initial: 2 }] });
  model.labels = [
    { tagId: 'esl-cola-1', gateway: 'esl-gw-1', tagType: 'm3-2.9-bwr', sku: 'cola-330', trayId: 't1' },
    { tagId: 'esl-cola-5', gateway: 'esl-gw-1', tagType: 'm3-2.9-bwr', sku: 'cola-330', trayId: 't5' },
    { tagId: 'esl-chips', gateway: 'esl-gw-1', tagType: 'm3-2.9-bwr', sku: 'chips-150', trayId: 't2' },
    { tagId: 'esl-shampoo', gateway: 'esl-gw-1', tagType: 'hs-2.13-bwr', sku: 'shampoo-400' },
    { tagId: 'esl-soap', gateway: 'esl-gw-1', tagType: 'm2-2.9-bwr', sku: 'soap-tag', trayId: 't3' }, // no LED
  ];
  return model;
})();

/** The label service as the orders use it: the model's labels, and a flash with the real LED budget's answers. */
export class FakeLabels implements Pick<LabelsApi, 'list' | 'flash'> {
  readonly flashes: Array<{ tagId: string; input: FlashInput; at: number }> = [];
  /** Tags whose budget answers "retry in n ms" (one flash per interval) or "used up for the day". */
  readonly limited = new Map<string, number>();
  #next = 1;

  constructor(
    readonly labels: () => readonly { tagId: string; sku: string; tagType: string; trayId?: string | undefined }[],
    readonly clock: { now(): number },
  ) {}

  list(query: { sku?: string }): { labels: LabelSummaryView[]; next: string | null; total: number } {
    const labels = this.labels()
      .filter((l) => query.sku === undefined || l.sku === query.sku)
      .map((l) => ({ id: l.tagId, sku: l.sku, tagType: l.tagType, trayId: l.trayId ?? null }) as LabelSummaryView);
    return { labels, next: null, total: labels.length };
  }

  async flash(id: string, input: FlashInput): Promise<FlashView> {
    if (!this.labels().some((l) => l.tagId === id)) throw errors.EDGE_ERR_LABEL_NOT_FOUND(`no tag ${id}`);
    const retryAfterMs = this.limited.get(id);
    if (retryAfterMs !== undefined) throw errors.EDGE_ERR_LABEL_FLASH_LIMITED(`tag ${id} is limited`, { details: { tagId: id, retryAfterMs } });
    this.flashes.push({ tagId: id, input, at: this.clock.now() });
    return { tagId: id, requestId: `led-${this.#next++}`, colour: input.colour, flashes: input.flashes, repeats: input.repeats, requestedAt: this.clock.now(), state: 'requested' };
  }
}

export interface OrderRig {
  file: string;
  clock: FakeClock;
  ledger: Ledger;
  bus: EventBus;
  inventory: InventoryService;
  prices: PriceBook;
  applier: DownlinkApplier;
  labels: FakeLabels;
  orders: OrderService;
  busAlerts: StoreAlert[];
  /** Signs and applies an order document (the next version of the kind). */
  send(body: OrderBody): ChunkOutcome;
  /** Event types in the outbox, in order (what HQ will hear). */
  outbox(stream?: string): Array<{ type: string; key: string; payload: Record<string, unknown> }>;
  /** A second connection to the same file, the first left open: the process was killed (kill -9) and started again. */
  restart(): OrderRig;
  close(): void;
}

let version = 1;

/**
 * A signed order document's chunk messages, as HQ publishes them. Versions rise with every call:
 * the applier refuses an order document whose version is not above the last applied `order`
 * version (docs/sync.md "Verification order" 5).
 */
export function orderDocument(body: OrderBody, options: { id?: string; issuedAt?: number } = {}): string[] {
  const { messages } = buildDocument({ kind: 'order', version: version++, stores: ['s1'], issuedAt: options.issuedAt ?? T0, body, ...(options.id ? { id: options.id } : {}) }, hq);
  return messages.map((m) => JSON.stringify(m));
}

/** An order service on a real ledger file with the store model applied, the real downlink applier in front of it, a fake clock and fake labels. */
export function orderRig(options: { flash?: Partial<OrderFlashSettings>; dir?: string; clock?: FakeClock; noLabels?: boolean } = {}): OrderRig {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'storeedge-orders-'));
  const file = join(dir, 'ledger.db');
  const clock = options.clock ?? new FakeClock(T0);
  const ledger = Ledger.open(file, { projections: [inventoryProjection, ordersProjection], synchronous: 'normal', now: () => clock.now() });
  const bus = new EventBus((name, error) => {
    throw new Error(`bus handler for ${name} failed: ${String(error)}`);
  });
  const busAlerts: StoreAlert[] = [];
  bus.on('alert.raised', (alert) => busAlerts.push(alert));
  const inventory = new InventoryService({ ledger, bus, storeId: 's1', settings: inventorySettingsSchema.parse({}), now: () => clock.now() });
  inventory.applyModel(orderStoreModel, { kind: 'config' });
  const prices = new PriceBook({ ledger, now: () => clock.now() });
  const labels = new FakeLabels(() => (options.noLabels ? [] : (inventory.model?.labels ?? [])), clock);
  const orders = new OrderService({ ledger, bus, inventory, labels, clock, ...(options.flash ? { flash: options.flash } : {}) });
  const applier = new DownlinkApplier({ ledger, prices, parts: { orders }, storeId: 's1', trustedKeys: [{ keyId: hq.keyId, publicKey: hq.publicKey }], now: () => clock.now() });
  orders.start();
  const rig: OrderRig = {
    file,
    clock,
    ledger,
    bus,
    inventory,
    prices,
    applier,
    labels,
    orders,
    busAlerts,
    send(body) {
      let outcome: ChunkOutcome | undefined;
      for (const message of orderDocument(body, { issuedAt: clock.now() })) outcome = applier.accept(message);
      return outcome!;
    },
    outbox(stream) {
      return ledger
        .outboxPending(stream === undefined ? {} : { stream })
        .map((row) => ({ type: row.event.type, key: row.event.key, payload: row.event.payload as Record<string, unknown> }));
    },
    restart() {
      orders.stop();
      return orderRig({ ...options, dir, clock });
    },
    close() {
      orders.stop();
      ledger.close();
      if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

export function order(orderId: string, lines: OrderBody['lines'], extra: Partial<OrderBody> = {}): OrderBody {
  return { orderId, lines, customerRef: 'c-7f3a', collectBy: T0 + 2 * HOUR, ...extra };
}

/** Every row of the orders read model, for replay comparisons. */
export function ordersSnapshot(ledger: Ledger): Record<string, unknown[]> {
  return Object.fromEntries(['orders', 'order_lines'].map((table) => [table, ledger.db.prepare(`SELECT * FROM ${table} ORDER BY 1, 2`).all()]));
}
