/**
 * What `storeedge bench sync` sends: a day of a busy store's outbox events, the documents HQ
 * publishes (a full catalog, a full price list) and pre-built uplink batches for simulated stores.
 * Payloads are typed with the real event types (checkout, inventory, pricing), so their shape and
 * size follow the code that writes them. Deterministic for a seed; nothing here reads a clock.
 */
import { Rng, gtinCheckDigit } from '@storeedge/simulators';
import { canonicalJson, contentHash, formatHlc, type CatalogBody, type PricesBody, type UplinkBatch, type UplinkRecord } from '@storeedge/sync';
import type { PaymentResult, ReceiptCorrected, ReceiptIssued, RefundResult } from '../checkout/ledger-events.ts';
import type { AlertAcknowledged, AlertCleared, AlertRaised, RestockDeclared, ReplenishmentRequested, ShelfChanged, StockReconciled } from '../inventory/ledger-events.ts';
import type { AppendInput } from '../ledger/index.ts';
import type { PriceSet } from '../pricing/ledger-events.ts';
import { uplinkPayload } from '../sync/uplink-relay.ts';

/**
 * A busy store's day, per receipt where it scales with the shoppers. Defaults: 3 000 receipts a
 * day (a walk-out store of ≈ 200 m² open 15 h, a shopper every 18 s), 5 lines a basket on
 * average, every line one shelf pick, 8 % of picks put back, a restock every 20 receipts, a
 * low-stock episode (alert raised, replenishment requested, alert cleared) every 20, an exception
 * alert (misplaced or unknown weight change; raised, acknowledged, cleared) every 60, a refund
 * every 200; plus 20 device transitions, 10 manager price changes and one stock count a day.
 */
export interface StoreDayModel {
  receipts: number;
  meanLines: number;
  putBackShare: number;
  receiptsPerRestock: number;
  receiptsPerLowStock: number;
  receiptsPerException: number;
  receiptsPerRefund: number;
  deviceTransitions: number;
  managerPrices: number;
  stockCounts: number;
  /** SKUs the store sells (the assortment the baskets draw from). */
  assortment: number;
}

export const BUSY_STORE_DAY: StoreDayModel = {
  receipts: 3_000,
  meanLines: 5,
  putBackShare: 0.08,
  receiptsPerRestock: 20,
  receiptsPerLowStock: 20,
  receiptsPerException: 60,
  receiptsPerRefund: 200,
  deviceTransitions: 20,
  managerPrices: 10,
  stockCounts: 1,
  assortment: 2_000,
};

/** One outbox event of the day, at its store time. */
export interface TimedEvent {
  at: number;
  input: AppendInput;
}

export interface StoreDay {
  model: StoreDayModel;
  /** In time order; every input has `outbox: true`. */
  events: TimedEvent[];
  /** Events per type. */
  byType: Record<string, number>;
  /** Bytes of the uplinked payloads (canonical JSON, store-only members removed), total and mean. */
  payloadBytes: number;
  meanPayloadBytes: number;
}

const DAY_MS = 86_400_000;

const brands = ['Alpenhof', 'Nordkind', 'Casa Verde', 'Maison Blanc', 'Fjord', 'Sonnenfeld', 'Bio Primo', 'Gut & Gerne', 'Oliveira', 'Hanse'];
const products = [
  'Whole Milk', 'Greek Yoghurt', 'Sourdough Loaf', 'Free-Range Eggs', 'Cheddar Mature', 'Orange Juice', 'Espresso Beans', 'Dark Chocolate 70%',
  'Penne Rigate', 'Basmati Rice', 'Chickpeas', 'Tomato Passata', 'Olive Oil Extra Virgin', 'Oat Drink', 'Sparkling Water', 'Apple Juice Cloudy',
  'Muesli Crunchy', 'Peanut Butter', 'Salted Crisps', 'Ice Tea Peach', 'Cold Brew Coffee', 'Hummus Classic', 'Smoked Salmon', 'Mozzarella',
];
const sizes = ['150 g', '250 g', '500 g', '1 kg', '330 ml', '500 ml', '750 ml', '1 L', '1.5 L', '6 × 1.5 L', '10 pcs', '400 g'];

/** SKU `i` of a synthetic assortment: id, name, GTIN-13, price and unit weight, stable for i. */
export function benchSku(i: number): { sku: string; name: string; gtin: string; priceMinor: number; unitWeightG: number } {
  const data = `400${String(1_000_000_000 + i).slice(1)}`;
  return {
    sku: `sku-${String(i).padStart(6, '0')}`,
    name: `${brands[i % brands.length]} ${products[Math.floor(i / brands.length) % products.length]} ${sizes[Math.floor(i / (brands.length * products.length)) % sizes.length]}`,
    gtin: `${data}${gtinCheckDigit(data)}`,
    priceMinor: 49 + ((i * 7919) % 2_950),
    unitWeightG: 50 + ((i * 104_729) % 1_950),
  };
}

/** HQ's full catalog document body: `skus` items with names, prices in EUR, GTINs and unit weights. */
export function catalogBody(skus: number): CatalogBody {
  return {
    items: Array.from({ length: skus }, (_, i) => {
      const s = benchSku(i);
      return { sku: s.sku, name: s.name, priceMinor: s.priceMinor, currency: 'EUR', gtin: s.gtin, unitWeightG: s.unitWeightG };
    }),
  };
}

/** HQ's full price list: a new regular price for each of the first `skus` catalog SKUs. */
export function pricesBody(skus: number): PricesBody {
  return { prices: Array.from({ length: skus }, (_, i) => ({ sku: benchSku(i).sku, priceMinor: benchSku(i).priceMinor + 10 + (i % 40) })) };
}

/**
 * A day of a store's outbox events (`model`) between `startAt` and `startAt` + 24 h, in time
 * order. Keys are unique within the day and carry `keyPrefix` (a store id), so several simulated
 * stores never share an identity.
 */
export function storeDay(options: { model?: Partial<StoreDayModel>; startAt: number; seed?: number | string; keyPrefix?: string }): StoreDay {
  const model: StoreDayModel = { ...BUSY_STORE_DAY, ...options.model };
  const rng = new Rng(`sync-bench-day:${options.seed ?? 1}`);
  const prefix = options.keyPrefix ?? 'bench';
  const start = options.startAt;
  const events: TimedEvent[] = [];
  const hex = (n: number) => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
  // Follow-ups due after the day's end (an alert cleared two hours later) are kept inside it.
  const add = (at: number, type: string, stream: string, key: string, payload: unknown) =>
    events.push({ at: Math.round(Math.min(at, start + DAY_MS - 1)), input: { type, stream, key, payload, outbox: true } });
  const sku = () => benchSku(rng.int(0, model.assortment - 1));
  const tray = () => `t-${String(rng.int(1, 40)).padStart(2, '0')}-${rng.int(1, 6)}-${rng.int(1, 4)}`;
  const shelfChange = (at: number, s: ReturnType<typeof benchSku>, quantity: number, outcome: ShelfChanged['outcome']): ShelfChanged => {
    const trayId = tray();
    const deltaG = Math.round(quantity * s.unitWeightG + rng.normal(0, 3));
    const observedAfter = rng.int(0, 24);
    return {
      change: {
        id: `${trayId}:${Math.round(at)}`,
        trayId,
        deviceId: `shelf-${trayId.slice(2, 4)}`,
        channel: rng.int(0, 11),
        deltaG,
        startAt: Math.round(at) - rng.int(400, 3_000),
        settledAt: Math.round(at),
        sku: s.sku,
        quantity,
        confidence: Math.round(rng.uniform(0.9, 1) * 1000) / 1000,
        alternatives: rng.next() < 0.2 ? [{ sku: sku().sku, quantity, confidence: Math.round(rng.uniform(0.2, 0.6) * 1000) / 1000 }] : [],
        misplaced: false,
      },
      outcome,
      effects: [{ trayId, sku: s.sku, gtin: s.gtin, book: quantity, observed: quantity, restockConsumed: outcome === 'restock' ? quantity : 0, observedAfter, misplaced: false }],
      candidates: [],
    };
  };

  for (let r = 0; r < model.receipts; r++) {
    const exitAt = start + rng.uniform(10 * 60_000, DAY_MS - 60_000);
    const sessionId = `s-${hex(12)}`;
    const receiptId = `rc-${sessionId.slice(2)}`;
    const lineCount = Math.max(1, Math.min(15, Math.round(rng.exponential(model.meanLines - 1)) + 1));
    const lines: ReceiptIssued['lines'] = [];
    for (let l = 0; l < lineCount; l++) {
      const s = sku();
      const quantity = rng.next() < 0.8 ? 1 : rng.int(2, 3);
      lines.push({ sku: s.sku, name: s.name, quantity, unitPriceMinor: s.priceMinor, amountMinor: quantity * s.priceMinor });
      const pickAt = exitAt - rng.uniform(30_000, 8 * 60_000);
      add(pickAt, 'inventory.shelf.changed', 'inventory', `shelf-change:${prefix}:${r}:${l}`, shelfChange(pickAt, s, -quantity, 'pick'));
      if (rng.next() < model.putBackShare) {
        add(pickAt + 4_000, 'inventory.shelf.changed', 'inventory', `shelf-change:${prefix}:${r}:${l}:back`, shelfChange(pickAt + 4_000, s, 1, 'put-back'));
      }
    }
    const subtotalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0);
    const discounts: ReceiptIssued['discounts'] =
      rng.next() < 0.3 ? [{ promotionId: `promo-${rng.int(1, 40)}`, description: '2 for 1.99 on selected drinks', skus: [lines[0]!.sku], times: 1, amountMinor: Math.min(subtotalMinor, 50) }] : [];
    const discountMinor = discounts.reduce((sum, d) => sum + d.amountMinor, 0);
    const receipt: ReceiptIssued = {
      receiptId,
      sessionId,
      token: `tok-${hex(24)}`,
      currency: 'EUR',
      lines,
      discounts,
      subtotalMinor,
      discountMinor,
      totalMinor: subtotalMinor - discountMinor,
      exitAt: Math.round(exitAt),
      issuedAt: Math.round(exitAt + 1_500),
      reviewed: rng.next() < 0.02,
      minConfidence: Math.round(rng.uniform(0.85, 1) * 1000) / 1000,
    };
    add(exitAt + 1_500, 'checkout.receipt.issued', 'checkout', `receipt:${prefix}:${sessionId}`, receipt);
    const payment: PaymentResult = { receiptId, status: 'approved', reference: `psp-${hex(16)}`, at: Math.round(exitAt + 3_000) };
    add(exitAt + 3_000, 'checkout.payment.result', 'checkout', `payment:${prefix}:${receiptId}`, payment);
    if (r % model.receiptsPerRefund === model.receiptsPerRefund - 1) {
      const line = lines[0]!;
      const correctionId = `corr-${hex(8)}`;
      const at = exitAt + rng.uniform(60_000, 3_600_000);
      const corrected: ReceiptCorrected = { receiptId, correctionId, lines: [{ sku: line.sku, quantity: -1, amountMinor: -line.unitPriceMinor }], amountMinor: -line.unitPriceMinor, reason: 'customer returned an unopened item', actor: 'manager-1', at: Math.round(at) };
      add(at, 'checkout.receipt.corrected', 'checkout', `correction:${prefix}:${receiptId}:${correctionId}`, corrected);
      const refund: RefundResult = { receiptId, correctionId, status: 'approved', reference: `psp-${hex(16)}`, at: Math.round(at + 2_000) };
      add(at + 2_000, 'checkout.refund.result', 'checkout', `refund:${prefix}:${receiptId}:${correctionId}`, refund);
    }
  }

  const times = (n: number) => Array.from({ length: n }, () => start + rng.uniform(0, DAY_MS));
  for (const at of times(Math.round(model.receipts / model.receiptsPerRestock))) {
    const s = sku();
    const quantity = rng.int(6, 24);
    const restockId = `rs-${hex(10)}`;
    const declared: RestockDeclared = { restockId, trayId: tray(), sku: s.sku, gtin: s.gtin, quantity, actor: 'staff-2', note: null };
    add(at, 'inventory.restock.declared', 'inventory', `restock:${prefix}:${restockId}`, declared);
    add(at + 120_000, 'inventory.shelf.changed', 'inventory', `shelf-change:${prefix}:${restockId}`, shelfChange(at + 120_000, s, quantity, 'restock'));
  }
  let alerts = 0;
  for (const at of times(Math.round(model.receipts / model.receiptsPerLowStock))) {
    const s = sku();
    const trayId = tray();
    const alertId = `a-${++alerts}`;
    const raised: AlertRaised = {
      kind: 'low-stock',
      trayId,
      sku: s.sku,
      changeId: null,
      message: `Tray ${trayId}: ${s.name} is low (2 on the shelf, minimum 3).`,
      details: { observed: 2, book: 2, minLevel: 3, capacity: 18 },
    };
    add(at, 'inventory.alert.raised', 'inventory', `alert:low-stock:${prefix}:${trayId}:${s.sku}:${alertId}`, raised);
    const request: ReplenishmentRequested = { requestId: `${prefix}:${alertId}`, storeId: prefix, trayId, sku: s.sku, gtin: s.gtin, quantity: 16, observed: 2, capacity: 18, minLevel: 3, alertId };
    add(at + 1, 'replenishment.requested', 'replenishment', `replenishment:${prefix}:${alertId}`, request);
    const cleared: AlertCleared = { alertId, reason: 'restocked' };
    add(at + rng.uniform(600_000, 7_200_000), 'inventory.alert.cleared', 'inventory', `alert-cleared:${prefix}:${alertId}`, cleared);
  }
  for (const at of times(Math.round(model.receipts / model.receiptsPerException))) {
    const s = sku();
    const trayId = tray();
    const alertId = `a-${++alerts}`;
    const misplaced = rng.next() < 0.5;
    const raised: AlertRaised = {
      kind: misplaced ? 'misplaced-item' : 'unknown-weight-change',
      trayId,
      sku: misplaced ? s.sku : null,
      changeId: `${trayId}:${Math.round(at)}`,
      message: misplaced ? `Tray ${trayId}: 1 × ${s.name} put on the wrong tray; move it back to its facing.` : `Tray ${trayId}: a change of 212 g that no SKU explains.`,
      details: { deltaG: misplaced ? s.unitWeightG : 212, candidates: misplaced ? [{ sku: s.sku, units: 1, z: 0.4 }] : [] },
    };
    add(at, 'inventory.alert.raised', 'inventory', `alert:${raised.kind}:${prefix}:${raised.changeId}`, raised);
    const ack: AlertAcknowledged = { alertId, actor: 'staff-1' };
    add(at + rng.uniform(60_000, 900_000), 'inventory.alert.acknowledged', 'inventory', `alert-ack:${prefix}:${alertId}`, ack);
    const cleared: AlertCleared = { alertId, reason: 'removed' };
    add(at + rng.uniform(900_000, 3_600_000), 'inventory.alert.cleared', 'inventory', `alert-cleared:${prefix}:${alertId}`, cleared);
  }
  for (const [i, at] of times(model.deviceTransitions).entries()) {
    const type = i % 2 === 0 ? 'device.offline' : 'device.online';
    add(at, type, 'device-lifecycle', `${type}:${prefix}:${i}`, { deviceId: `shelf-${String(rng.int(1, 40)).padStart(2, '0')}`, kind: 'shelf', at: Math.round(at), fw: '2.4.1' });
  }
  for (const [i, at] of times(model.managerPrices).entries()) {
    const s = sku();
    const price: PriceSet = { sku: s.sku, priceMinor: Math.round(s.priceMinor * 0.7), currency: 'EUR', effectiveFrom: Math.round(at), source: 'manager', reason: 'short-dated: reduced to clear', actor: 'manager-1' };
    add(at, 'pricing.price.set', 'pricing', `price:${prefix}:manager:${i}`, price);
  }
  for (const [i, at] of times(model.stockCounts).entries()) {
    const reconciled: StockReconciled = {
      actor: 'manager-1',
      adjustments: Array.from({ length: 40 }, () => ({ trayId: tray(), sku: sku().sku, bookBefore: rng.int(0, 20), observed: rng.int(0, 20), pendingBefore: 0 })),
    };
    add(at, 'inventory.stock.reconciled', 'inventory', `reconcile:${prefix}:${i}`, reconciled);
  }

  events.sort((a, b) => a.at - b.at);
  const byType: Record<string, number> = {};
  let payloadBytes = 0;
  for (const e of events) {
    byType[e.input.type] = (byType[e.input.type] ?? 0) + 1;
    payloadBytes += Buffer.byteLength(canonicalJson(uplinkPayload(e.input.payload)));
  }
  return { model, events, byType, payloadBytes, meanPayloadBytes: events.length === 0 ? 0 : payloadBytes / events.length };
}

/**
 * An outbox event as it travels (what the relay's `toRecord` makes of a ledger row): seq, the
 * payload without store-only members, its content hash, and an HLC stamp from its time.
 */
export function uplinkRecordOf(event: TimedEvent, seq: number): UplinkRecord {
  const { stream, type, key } = event.input;
  const payload = uplinkPayload(event.input.payload);
  return { seq, stream, type, key, at: event.at, hlc: formatHlc(event.at, seq % 100_000), payload, hash: contentHash({ stream, type, key, at: event.at, payload }) };
}

/**
 * The events as uplink batch payloads (JSON text) of one store and epoch, seq 1, 2, 3 …, cut as
 * the relay cuts them: at most `batchRecords` records and `batchBytes` bytes a batch.
 */
export function uplinkBatches(events: readonly TimedEvent[], p: { store: string; epoch: string; batchRecords: number; batchBytes: number; firstSeq?: number }): Array<{ id: string; records: number; json: string }> {
  const out: Array<{ id: string; records: number; json: string }> = [];
  let records: UplinkRecord[] = [];
  let bytes = 512;
  const flush = () => {
    if (records.length === 0) return;
    const batch: UplinkBatch = { v: 1, store: p.store, epoch: p.epoch, batch: `${p.epoch}:${records[0]!.seq}-${records.at(-1)!.seq}`, records };
    out.push({ id: batch.batch, records: records.length, json: JSON.stringify(batch) });
    records = [];
    bytes = 512;
  };
  for (const [i, event] of events.entries()) {
    const record = uplinkRecordOf(event, (p.firstSeq ?? 1) + i);
    const size = Buffer.byteLength(JSON.stringify(record)) + 1;
    if (records.length > 0 && (records.length >= p.batchRecords || bytes + size > p.batchBytes)) flush();
    records.push(record);
    bytes += size;
  }
  flush();
  return out;
}
