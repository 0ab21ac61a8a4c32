import { randomUUID } from 'node:crypto';
import { storeModel, type StoreModel } from '@storeedge/device-drivers';
import type { InventorySettings } from '../config/schema.ts';
import { errors } from '../errors.ts';
import type { EventBus, RfidPresence, ShelfChange, StoreAlert } from '../events.ts';
import { canonicalJson, sha256Hex } from '../ledger/canonical.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { silentLogger, type Logger } from '../log.ts';
import { stockAlertTransitions, type StockAlertKind } from './alert-rules.ts';
import { epcisDocument, epcisEventsOf, type EpcisDocument } from './epcis/document.ts';
import type { EpcisLocation } from './epcis/identifiers.ts';
import {
  inventoryEventTypes as types,
  inventoryStream,
  replenishmentStream,
  type AlertAssigned,
  type AlertRaised,
  type ModelApplied,
  type ReplenishmentRequested,
  type RestockDeclared,
  type RfidPresenceRecorded,
  type ShelfChanged,
  type ShelfOutcome,
  type StockEffect,
  type StockReconciled,
  type WeightCandidate,
} from './ledger-events.ts';
import { ModelIndex, trayRecords } from './model-index.ts';
import { alertIdOf } from './projection.ts';
import { readStock, type StockFilter, type StockRowDb, type StockView, type TrayStockView } from './stock-view.ts';
import { uniqueFit, weightCandidates } from './weight-match.ts';

export interface InventoryServiceOptions {
  /** Opened with `inventoryProjection` among its projections. */
  ledger: Ledger;
  bus: EventBus;
  storeId: string;
  settings: InventorySettings;
  /** Store GLN for EPCIS bizLocation (optional). */
  gln?: string | null;
  /** IANA time zone for EPCIS eventTimeZoneOffset. Default UTC. */
  timeZone?: string;
  logger?: Logger;
  /** Clock for EPCIS creationDate. Ledger times come from the ledger's own clock. */
  now?: () => number;
}

export interface ModelSource {
  kind: 'config' | 'planogram';
  /** e.g. the planogram document version. */
  version?: string | null;
  actor?: string;
}

export interface ShelfChangeResult {
  /** The change id was already recorded; nothing changed. */
  duplicate: boolean;
  outcome: ShelfOutcome;
  effects: StockEffect[];
  candidates: WeightCandidate[];
}

export interface RestockInput {
  trayId: string;
  sku: string;
  quantity: number;
  actor: string;
  note?: string | null;
  /** Idempotency key chosen by the caller (a retried request with the same id is recorded once). */
  restockId?: string;
}

export interface ReconcileInput {
  trayId?: string;
  sku?: string;
  actor: string;
}

export interface AlertFilter {
  state?: StoreAlert['state'];
  kind?: string;
  sku?: string;
  trayId?: string;
  limit?: number;
}

interface AlertRowDb {
  id: string;
  kind: string;
  state: StoreAlert['state'];
  tray_id: string | null;
  sku: string | null;
  change_id: string | null;
  message: string;
  details: string;
  raised_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  cleared_at: number | null;
  clear_reason: string | null;
  assigned_to: string | null;
  assigned_by: string | null;
  assigned_at: number | null;
}

type Notice = { event: 'alert.raised' | 'alert.acknowledged' | 'alert.cleared' | 'alert.assigned'; alertId: string };

/** A validated store model, ready to apply inside a caller's transaction (`InventoryService.prepareModel`). */
export interface PreparedModel {
  /** False when it is the model in force already: `apply` then writes nothing. */
  changed: boolean;
  hash: string;
  model: StoreModel;
  /** The ledger writes, inside the caller's transaction; returns what to announce after the commit. */
  apply(): readonly Notice[];
  afterCommit(notices: readonly Notice[]): void;
}

const stockAlertKinds: readonly StockAlertKind[] = ['low-stock', 'out-of-stock', 'misplaced-item'];

/**
 * The store's inventory: stock per tray and per SKU (book, shelf-observed, RFID), alerts with
 * hysteresis, replenishment requests and the EPCIS export. Every change is a ledger event
 * appended in one transaction with the alerts and requests it causes; the read model is the
 * `inventory` projection (docs/inventory.md).
 *
 * Wiring: `attach()` subscribes to `shelf.change` and `rfid.presence` on the bus; the
 * store model comes from `applyModel` (config at start, an HQ planogram later).
 */
export class InventoryService {
  readonly #ledger: Ledger;
  readonly #bus: EventBus;
  readonly #storeId: string;
  readonly #settings: InventorySettings;
  readonly #location: EpcisLocation;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #sql: ReturnType<typeof prepare>;
  #index: ModelIndex | null = null;
  #modelHash = '';

  constructor(options: InventoryServiceOptions) {
    this.#ledger = options.ledger;
    this.#bus = options.bus;
    this.#storeId = options.storeId;
    this.#settings = options.settings;
    this.#location = { storeId: options.storeId, gln: options.gln ?? null, timeZone: options.timeZone ?? 'UTC' };
    this.#logger = (options.logger ?? silentLogger()).child({ part: 'inventory' });
    this.#now = options.now ?? Date.now;
    const hasTables = this.#ledger.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'inventory_stock'").get();
    if (!hasTables) throw errors.EDGE_ERR_INTERNAL('InventoryService needs a ledger opened with inventoryProjection');
    this.#sql = prepare(this.#ledger);
    this.#loadModel();
  }

  /** Subscribes to the bus events the inventory consumes. Returns the unsubscribe function. */
  attach(): () => void {
    const offs = [
      this.#bus.on('shelf.change', (change) => {
        this.recordShelfChange(change);
      }),
      this.#bus.on('rfid.presence', (presence) => this.recordRfidPresence(presence)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The store model in force, or null before one was applied. */
  get model(): StoreModel | null {
    return this.#index?.model ?? null;
  }

  get modelHash(): string | null {
    return this.#index ? this.#modelHash : null;
  }

  /** Where the model in force came from (`config` at start, `planogram` from HQ), or null before one was applied. */
  get modelSource(): ModelApplied['source'] | null {
    const row = this.#sql.modelSource.get();
    return row ? (JSON.parse(row.source) as ModelApplied['source']) : null;
  }

  /**
   * Validates and applies a store model (from the config at start; from an HQ planogram later),
   * in one ledger transaction with the alerts it raises or clears. Facings that stay keep their
   * stock; new ones start at `initial`; facings that are gone are dropped. Applying the model in
   * force again changes nothing.
   */
  applyModel(input: unknown, source: ModelSource): { changed: boolean; hash: string } {
    const prepared = this.prepareModel(input, source);
    const notices = this.#ledger.transaction(() => prepared.apply());
    prepared.afterCommit(notices);
    return { changed: prepared.changed, hash: prepared.hash };
  }

  /**
   * `applyModel` in two steps for a caller that owns the transaction (an HQ planogram document):
   * validates now (throws EDGE_ERR_STORE_MODEL_INVALID), `apply()` writes the ledger inside the
   * caller's transaction and returns the alert notices, `afterCommit(notices)` swaps the model
   * in memory and emits them — so a transaction that rolls back leaves the model in force as it was.
   */
  prepareModel(input: unknown, source: ModelSource): PreparedModel {
    const parsed = storeModel.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
      throw errors.EDGE_ERR_STORE_MODEL_INVALID(`store model is invalid; fix these fields:\n${problems.join('\n')}`, { details: parsed.error.issues });
    }
    const model = parsed.data;
    const hash = sha256Hex(canonicalJson(model));
    if (this.#index && hash === this.#modelHash) return { changed: false, hash, model, apply: () => [], afterCommit: () => undefined };
    const next = new ModelIndex(model);
    return {
      changed: true,
      hash,
      model,
      apply: () => {
        const notices: Notice[] = [];
        const before = this.#sql.allRowKeys.all();
        const payload: ModelApplied = {
          hash,
          model,
          trays: trayRecords(model),
          source: { kind: source.kind, version: source.version ?? null, actor: source.actor ?? source.kind },
        };
        const cause = `store-model:${hash}:${this.#ledger.head().seq}`;
        this.#ledger.append({ type: types.modelApplied, stream: inventoryStream, key: cause, payload });
        const after = this.#sql.allRowKeys.all();
        const keys = new Map([...before, ...after].map((r) => [`${r.tray_id}\u0000${r.sku}`, r]));
        for (const r of keys.values()) this.#evaluateRow(r.tray_id, r.sku, cause, notices, next);
        return notices;
      },
      afterCommit: (notices) => {
        this.#index = next;
        this.#modelHash = hash;
        this.#emit(notices);
        this.#logger.info({ hash, source: source.kind, version: source.version ?? null, trays: next.trays.size }, 'store model applied');
      },
    };
  }

  /**
   * Records one settled shelf change (idempotent by its id): reads it as a pick, put-back,
   * restock, misplaced unit, unknown or low-confidence change, moves stock, and raises or clears
   * alerts — all in one ledger transaction.
   */
  recordShelfChange(change: ShelfChange): ShelfChangeResult {
    const key = `shelf-change:${change.id}`;
    return this.#commit((notices) => {
      const existing = this.#ledger.getByKey(key);
      if (existing) {
        const recorded = existing.payload as ShelfChanged;
        if (canonicalJson(recorded.change) !== canonicalJson(change)) {
          throw errors.EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT(`shelf change "${change.id}" was already recorded with different content`);
        }
        return { duplicate: true, outcome: recorded.outcome, effects: recorded.effects, candidates: recorded.candidates };
      }
      const decision = this.#readChange(change);
      this.#ledger.append({ type: types.shelfChanged, stream: inventoryStream, key, payload: decision, outbox: true });
      if (decision.outcome === 'unknown-tray') {
        this.#logger.warn({ changeId: change.id, trayId: change.trayId }, 'shelf change on a tray that is not in the store model');
      }
      if (decision.outcome === 'low-confidence') {
        this.#raise(notices, key, {
          kind: 'low-confidence-change',
          trayId: change.trayId,
          sku: change.sku,
          changeId: change.id,
          message: `Tray ${change.trayId}: a change of ${formatGrams(change.deltaG)} was not booked — best guess ${change.quantity} × ${change.sku} at confidence ${change.confidence.toFixed(2)} (below ${this.#settings.minConfidence}). Check the shelf.`,
          details: { deltaG: change.deltaG, quantity: change.quantity, confidence: change.confidence, alternatives: change.alternatives },
        });
      }
      if (decision.outcome === 'unknown') {
        this.#raise(notices, key, {
          kind: 'unknown-weight-change',
          trayId: change.trayId,
          sku: null,
          changeId: change.id,
          message:
            decision.candidates.length > 1
              ? `Tray ${change.trayId}: ${formatGrams(change.deltaG)} fits several products (${decision.candidates.map((c) => c.sku).join(', ')}); not booked. Check the shelf.`
              : `Tray ${change.trayId}: ${formatGrams(change.deltaG)} matches no product; not booked. Check the shelf for a foreign object.`,
          details: { deltaG: change.deltaG, candidates: decision.candidates },
        });
      }
      for (const e of decision.effects) this.#evaluateRow(e.trayId, e.sku, key, notices);
      return { duplicate: false, outcome: decision.outcome, effects: decision.effects, candidates: decision.candidates };
    });
  }

  /** Records a tagged item's presence change (idempotent by EPC, kind, zone and time). */
  recordRfidPresence(presence: RfidPresence): void {
    const key = `rfid-presence:${presence.epc}:${presence.kind}:${presence.zone}:${presence.at}`;
    if (this.#ledger.getByKey(key)) return;
    const sku = presence.gtin ? (this.#index?.byGtin(presence.gtin)?.sku ?? null) : null;
    const payload: RfidPresenceRecorded = { ...presence, sku };
    this.#ledger.append({
      type: types.rfidPresence,
      stream: inventoryStream,
      key,
      payload,
    });
  }

  /**
   * Staff declare units they are about to put on a facing. Book stock rises now; the following
   * positive shelf changes on that facing are taken as these units arriving (they move observed
   * stock only) until the declared units are used up. Declare before stocking the shelf.
   */
  restock(input: RestockInput): TrayStockView {
    const index = this.#requireModel();
    const tray = index.trays.get(input.trayId);
    if (!tray) throw errors.EDGE_ERR_INVENTORY_UNKNOWN_TRAY(`no tray "${input.trayId}" in the store model`);
    if (!tray.facings.some((f) => f.sku === input.sku)) {
      throw errors.EDGE_ERR_INVENTORY_NOT_ON_TRAY(`SKU "${input.sku}" has no facing on tray "${input.trayId}" (its SKUs: ${tray.facings.map((f) => f.sku).join(', ')})`);
    }
    const restockId = input.restockId ?? randomUUID();
    const payload: RestockDeclared = {
      restockId,
      trayId: input.trayId,
      sku: input.sku,
      gtin: index.bySku(input.sku)?.gtin ?? '',
      quantity: input.quantity,
      actor: input.actor,
      note: input.note ?? null,
    };
    this.#commit(() => this.#ledger.append({ type: types.restockDeclared, stream: inventoryStream, key: `restock:${restockId}`, payload, outbox: true }));
    return this.stock({ sku: input.sku }).trays.find((t) => t.trayId === input.trayId)!;
  }

  /** Units the shelf shows on a tray now (observed stock), per SKU, misplaced units included. */
  unitsOnTray(trayId: string): Map<string, number> {
    return new Map(this.#sql.rowsOfTray.all(trayId).map((row) => [row.sku, row.observed]));
  }

  /** Units of SKUs without a facing on the tray that the shelf shows lying there (misplaced), per SKU. */
  misplacedOnTray(trayId: string): Map<string, number> {
    return new Map(this.#sql.rowsOfTray.all(trayId).flatMap((row) => (row.facing === 0 && row.observed > 0 ? [[row.sku, row.observed] as const] : [])));
  }

  /** Units of a declared restock a recorded shelf change was booked as (0 when it was none, or is not recorded yet). */
  restockUnitsOf(changeId: string): number {
    const recorded = this.#ledger.getByKey(`shelf-change:${changeId}`)?.payload as ShelfChanged | undefined;
    return recorded?.effects.reduce((sum, e) => sum + e.restockConsumed, 0) ?? 0;
  }

  /** Declared restock units of a tray that have not arrived yet, per SKU (the weight pipeline expects them). */
  pendingRestocks(trayId: string): Map<string, number> {
    const pending = new Map<string, number>();
    for (const row of this.#sql.rowsOfTray.all(trayId)) if (row.pending_restock > 0) pending.set(row.sku, row.pending_restock);
    return pending;
  }

  /**
   * Accepts the shelf as the truth after a staff check: sets book stock to observed stock and
   * closes pending restocks on the rows in scope (all rows, one tray, one SKU or one facing).
   */
  reconcile(input: ReconcileInput): StockReconciled {
    this.#requireModel();
    const rows = this.#sql.allRows.all().filter(
      (r) => (input.trayId === undefined || r.tray_id === input.trayId) && (input.sku === undefined || r.sku === input.sku) && (r.book !== r.observed || r.pending_restock !== 0),
    );
    const payload: StockReconciled = {
      actor: input.actor,
      adjustments: rows.map((r) => ({ trayId: r.tray_id, sku: r.sku, bookBefore: r.book, observed: r.observed, pendingBefore: r.pending_restock })),
    };
    if (payload.adjustments.length > 0) {
      this.#commit(() => this.#ledger.append({ type: types.stockReconciled, stream: inventoryStream, key: `reconcile:${randomUUID()}`, payload, outbox: true }));
    }
    return payload;
  }

  /** A manager acknowledges an alert (audited in the ledger). Acknowledging twice is a no-op. */
  acknowledgeAlert(id: string, actor: string): StoreAlert {
    const alert = this.alert(id);
    if (alert.state === 'acknowledged') return alert;
    if (alert.state === 'cleared') throw errors.EDGE_ERR_ALERT_CLEARED(`alert ${id} was cleared (${alert.clearReason ?? 'condition gone'}); nothing to acknowledge`);
    this.#commit((notices) => {
      this.#ledger.append({ type: types.alertAcknowledged, stream: inventoryStream, key: `alert-ack:${id}`, payload: { alertId: id, actor }, outbox: true });
      notices.push({ event: 'alert.acknowledged', alertId: id });
    });
    return this.alert(id);
  }

  /**
   * Gives an alert to someone to deal with (`assignee`: a name the store uses, or null for
   * nobody), audited in the ledger and sent to HQ. A cleared alert is not assigned
   * (EDGE_ERR_ALERT_CLEARED); the same assignee again changes nothing.
   */
  assignAlert(id: string, assignee: string | null, actor: string): StoreAlert {
    const alert = this.alert(id);
    if (alert.state === 'cleared') throw errors.EDGE_ERR_ALERT_CLEARED(`alert ${id} was cleared (${alert.clearReason ?? 'condition gone'}); nothing to assign`);
    if (alert.assignedTo === assignee) return alert;
    this.#commit((notices) => {
      const payload: AlertAssigned = { alertId: id, assignee, actor };
      this.#ledger.append({ type: types.alertAssigned, stream: inventoryStream, key: `alert-assign:${id}:${this.#ledger.head().seq}`, payload, outbox: true });
      notices.push({ event: 'alert.assigned', alertId: id });
    });
    return this.alert(id);
  }

  /** Throws EDGE_ERR_ALERT_NOT_FOUND for an unknown id. */
  alert(id: string): StoreAlert {
    const row = this.#sql.alertById.get(id);
    if (!row) throw errors.EDGE_ERR_ALERT_NOT_FOUND(`no alert "${id}"`);
    return toAlert(row);
  }

  /** Alerts, newest first. */
  alerts(filter: AlertFilter = {}): StoreAlert[] {
    const conditions: string[] = [];
    const params: Record<string, string | number> = { limit: filter.limit ?? 500 };
    for (const [column, value] of [['state', filter.state], ['kind', filter.kind], ['sku', filter.sku], ['tray_id', filter.trayId]] as const) {
      if (value === undefined) continue;
      conditions.push(`${column} = @${column}`);
      params[column] = value;
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    return this.#ledger.db
      .prepare<Record<string, string | number>, AlertRowDb>(`${alertSelect} ${where} ORDER BY raised_seq DESC LIMIT @limit`)
      .all(params)
      .map(toAlert);
  }

  /** Stock per SKU and per tray with book, observed and RFID figures and the accuracy figure. */
  stock(filter: StockFilter = {}): StockView {
    return readStock(this.#ledger.db, this.#requireModel(), this.#modelHash, filter);
  }

  /**
   * An EPCIS 2.0 document of the inventory events after ledger seq `since` (at most `limit`
   * ledger events are read). `nextSince` is the cursor for the next call.
   */
  epcis(query: { since?: number; limit?: number } = {}): { document: EpcisDocument; nextSince: number } {
    const since = query.since ?? 0;
    const events = this.#ledger.events({ stream: inventoryStream, fromSeq: since + 1, limit: query.limit ?? 1000 });
    const eventList = events.flatMap((event) => epcisEventsOf(event, this.#location));
    return { document: epcisDocument(eventList, this.#now()), nextSince: events.at(-1)?.seq ?? since };
  }

  // ---------------------------------------------------------------------------------------

  #loadModel(): void {
    const row = this.#sql.model.get();
    this.#index = row ? new ModelIndex(JSON.parse(row.model) as StoreModel) : null;
    this.#modelHash = row?.hash ?? '';
  }

  #requireModel(): ModelIndex {
    if (!this.#index) throw errors.EDGE_ERR_INVENTORY_NO_MODEL();
    return this.#index;
  }

  /** How a change is read; the decision goes into the ledger payload (docs/inventory.md). */
  #readChange(change: ShelfChange): ShelfChanged {
    const decided = (outcome: ShelfOutcome, effects: StockEffect[] = [], candidates: WeightCandidate[] = []): ShelfChanged => ({ change, outcome, effects, candidates });
    const index = this.#index;
    const tray = index?.trays.get(change.trayId);
    if (!index || !tray) return decided('unknown-tray');
    const rows = new Map(this.#sql.rowsOfTray.all(change.trayId).map((r) => [r.sku, r]));
    const effect = (sku: string, book: number, observed: number, restockConsumed = 0): StockEffect => {
      const row = rows.get(sku);
      return {
        trayId: change.trayId,
        sku,
        gtin: index.bySku(sku)?.gtin ?? row?.gtin ?? '',
        book,
        observed,
        restockConsumed,
        observedAfter: (row?.observed ?? 0) + observed,
        misplaced: !tray.facings.some((f) => f.sku === sku),
      };
    };

    const ownSku = change.sku !== null && !change.misplaced && tray.facings.some((f) => f.sku === change.sku);
    if (ownSku && change.sku !== null) {
      const units = change.quantity;
      // A positive change is a put-back unless a declared restock is pending on this facing.
      const pending = Math.max(0, rows.get(change.sku)?.pending_restock ?? 0);
      const restocked = Math.min(pending, units);
      // Several units put back at once, when one foreign unit weighs the same: shoppers return what they hold, one at a time
      // (whatever the confidence in the several units).
      const limit = this.#settings.putBackMaxUnits;
      if (units > 0 && restocked === 0 && limit > 0 && units > limit) {
        const foreign = uniqueFit(this.#putDownCandidates(change.deltaG, tray.facings, index, 1));
        if (foreign) return decided('misplaced-put', [effect(foreign.sku, 1, 1)], [foreign]);
      }
      if (change.confidence < this.#settings.minConfidence) return decided('low-confidence');
      if (units === 0) return decided('no-change');
      if (units < 0) return decided('pick', [effect(change.sku, units, units)]);
      return decided(restocked > 0 ? 'restock' : 'put-back', [effect(change.sku, units - restocked, units, restocked)]);
    }

    // A declared restock larger than one shopper handling reaches here unexplained (the weight
    // pipeline caps a handling's units): explain it by the facing's SKU up to the units pending.
    if (change.deltaG > 0) {
      const restock = this.#restockFit(change.deltaG, tray.facings, rows, index);
      if (restock) return decided('restock', [effect(restock.sku, 0, restock.units, restock.units)], [restock]);
    }

    // No SKU of the tray explains Δ: identify the item by weight. A unit put down may be any
    // catalog SKU without a facing here; a unit taken away must be one known to lie here.
    const putDown = change.deltaG > 0;
    const candidates = putDown
      ? this.#putDownCandidates(change.deltaG, tray.facings, index, this.#settings.misplacedMaxUnits)
      : weightCandidates(
          -change.deltaG,
          [...rows.values()]
            .filter((r) => r.facing === 0 && r.observed > 0)
            .flatMap((r) => {
              const item = index.bySku(r.sku);
              return item ? [{ ...item, maxUnits: r.observed }] : [];
            }),
          this.#settings,
        );
    const fit = uniqueFit(candidates);
    if (!fit) return decided('unknown', [], candidates);
    const units = putDown ? fit.units : -fit.units;
    return decided(putDown ? 'misplaced-put' : 'misplaced-removed', [effect(fit.sku, units, units)], candidates);
  }

  /** Catalog SKUs without a facing on the tray that explain a put-down Δ as up to `maxUnits` whole units. */
  #putDownCandidates(deltaG: number, facings: readonly { sku: string }[], index: ModelIndex, maxUnits: number): WeightCandidate[] {
    const foreign = [...index.catalog.values()].filter((item) => !facings.some((f) => f.sku === item.sku));
    return weightCandidates(deltaG, foreign, { ...this.#settings, misplacedMaxUnits: maxUnits });
  }

  /** The facing SKU with a pending restock that explains Δ as whole units (at most the units pending), or null. */
  #restockFit(deltaG: number, facings: readonly { sku: string }[], rows: ReadonlyMap<string, StockRowDb>, index: ModelIndex): WeightCandidate | null {
    const items = facings.flatMap((f) => {
      const pending = rows.get(f.sku)?.pending_restock ?? 0;
      const item = index.bySku(f.sku);
      return pending > 0 && item ? [{ ...item, maxUnits: pending }] : [];
    });
    return uniqueFit(weightCandidates(deltaG, items, { ...this.#settings, misplacedMaxUnits: Number.POSITIVE_INFINITY }));
  }

  /** Applies the alert rules to one (tray, SKU) row after it changed; raises or clears. */
  #evaluateRow(trayId: string, sku: string, cause: string, notices: Notice[], index = this.#index): void {
    const row = this.#sql.row.get(trayId, sku);
    const active = new Map(this.#sql.activeStockAlerts.all(trayId, sku).map((a) => [a.kind as StockAlertKind, a.id]));
    const state = row ? { facing: row.facing === 1, observed: row.observed, minLevel: row.min_level } : null;
    const { raise, clear } = stockAlertTransitions(state, new Set(active.keys()), this.#settings.alertHysteresisUnits);
    for (const kind of clear) {
      const alertId = active.get(kind)!;
      const reason = row === null ? 'no longer on the tray' : kind === 'misplaced-item' ? 'removed' : 'restocked';
      this.#ledger.append({ type: types.alertCleared, stream: inventoryStream, key: `alert-cleared:${alertId}`, payload: { alertId, reason }, outbox: true });
      notices.push({ event: 'alert.cleared', alertId });
    }
    if (!row) return;
    const name = index?.bySku(sku)?.name ?? sku;
    for (const kind of raise) {
      const subject = { trayId, sku, changeId: null };
      const details = { observed: row.observed, book: row.book, minLevel: row.min_level, capacity: row.capacity };
      const message =
        kind === 'low-stock'
          ? `Tray ${trayId}: ${name} is low (${row.observed} on the shelf, minimum ${row.min_level}).`
          : kind === 'out-of-stock'
            ? `Tray ${trayId}: ${name} is out of stock.`
            : `Tray ${trayId}: ${row.observed} × ${name} put on the wrong tray; move it back to its facing.`;
      const alertId = this.#raise(notices, cause, { kind, ...subject, message, details });
      if (kind === 'low-stock' && row.capacity !== null) this.#requestReplenishment(row, alertId);
    }
  }

  #raise(notices: Notice[], cause: string, alert: AlertRaised): string {
    const subject = alert.changeId ?? `${alert.trayId}:${alert.sku}`;
    const { event } = this.#ledger.append({ type: types.alertRaised, stream: inventoryStream, key: `alert:${alert.kind}:${subject}:${cause}`, payload: alert, outbox: true });
    const alertId = alertIdOf(event.seq);
    notices.push({ event: 'alert.raised', alertId });
    return alertId;
  }

  /** Once per low-stock episode (it is tied to the alert): fill the facing to capacity. */
  #requestReplenishment(row: StockRowDb, alertId: string): void {
    const payload: ReplenishmentRequested = {
      requestId: `${this.#storeId}:${alertId}`,
      storeId: this.#storeId,
      trayId: row.tray_id,
      sku: row.sku,
      gtin: row.gtin,
      quantity: row.capacity! - Math.max(0, row.observed),
      observed: row.observed,
      capacity: row.capacity!,
      minLevel: row.min_level!,
      alertId,
    };
    this.#ledger.append({ type: types.replenishmentRequested, stream: replenishmentStream, key: `replenishment:${alertId}`, payload, outbox: true });
  }

  /** Runs `fn` in one ledger transaction; bus notices go out only after it committed. */
  #commit<T>(fn: (notices: Notice[]) => T): T {
    const notices: Notice[] = [];
    const result = this.#ledger.transaction(() => fn(notices));
    this.#emit(notices);
    return result;
  }

  #emit(notices: readonly Notice[]): void {
    for (const notice of notices) {
      const row = this.#sql.alertById.get(notice.alertId);
      if (row) this.#bus.emit(notice.event, toAlert(row));
    }
  }
}

/** An alert row with who it is assigned to (the filters name the alert's own columns, which the assignment table does not have). */
const alertSelect = 'SELECT a.*, s.assigned_to, s.assigned_by, s.assigned_at FROM inventory_alerts a LEFT JOIN inventory_alert_assignments s ON s.alert_id = a.id';

function prepare(ledger: Ledger) {
  const db = ledger.db;
  return {
    model: db.prepare<[], { hash: string; model: string }>('SELECT hash, model FROM inventory_model WHERE id = 1'),
    modelSource: db.prepare<[], { source: string }>('SELECT source FROM inventory_model WHERE id = 1'),
    row: db.prepare<[string, string], StockRowDb>('SELECT * FROM inventory_stock WHERE tray_id = ? AND sku = ?'),
    rowsOfTray: db.prepare<[string], StockRowDb>('SELECT * FROM inventory_stock WHERE tray_id = ?'),
    allRows: db.prepare<[], StockRowDb>('SELECT * FROM inventory_stock ORDER BY tray_id, sku'),
    allRowKeys: db.prepare<[], { tray_id: string; sku: string }>('SELECT tray_id, sku FROM inventory_stock'),
    activeStockAlerts: db.prepare<[string, string], { id: string; kind: string }>(
      `SELECT id, kind FROM inventory_alerts WHERE tray_id = ? AND sku = ? AND state != 'cleared' AND kind IN (${stockAlertKinds.map((k) => `'${k}'`).join(', ')})`,
    ),
    alertById: db.prepare<[string], AlertRowDb>(`${alertSelect} WHERE id = ?`),
  };
}

function toAlert(row: AlertRowDb): StoreAlert {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    trayId: row.tray_id,
    sku: row.sku,
    changeId: row.change_id,
    message: row.message,
    details: JSON.parse(row.details) as Record<string, unknown>,
    raisedAt: row.raised_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    clearedAt: row.cleared_at,
    clearReason: row.clear_reason,
    assignedTo: row.assigned_to,
    assignedBy: row.assigned_by,
    assignedAt: row.assigned_at,
  };
}

function formatGrams(g: number): string {
  return `${g > 0 ? '+' : ''}${Math.round(g * 10) / 10} g`;
}
