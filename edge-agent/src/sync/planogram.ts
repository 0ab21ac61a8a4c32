import type { DocumentHeader, PlanogramBody } from '@storeedge/sync';
import type { StoreModel } from '@storeedge/device-drivers';
import { StoreEdgeError } from '../errors.ts';
import type { InventoryService, ModelSource, PreparedModel } from '../inventory/inventory-service.ts';
import type { Ledger } from '../ledger/index.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { PriceBook } from '../pricing/index.ts';
import type { DocumentPlan, PlanogramTarget, Refusal } from './document-handlers.ts';
import { syncEventTypes, syncStream, type DocumentApplied, type PlanogramScheduled } from './ledger-events.ts';

export interface PlanogramsOptions {
  ledger: Ledger;
  inventory: Pick<InventoryService, 'prepareModel' | 'modelSource'>;
  prices: Pick<PriceBook, 'applyCatalog' | 'atomically' | 'history'>;
  /** The store clock (the price book's): effective times are judged and waited for on it. */
  clock: { now(): number; setTimeout(fn: () => void, ms: number): unknown; clearTimeout(handle: unknown): void };
  logger?: Logger;
  /** After a planogram took effect: the parts that read the model once (the labels) re-read it. */
  onApplied?: () => void;
}

/** What waits for its effective time (GET /api/health `sync.planogram`). */
export interface PendingPlanogram {
  docId: string;
  version: number;
  effectiveFrom: number;
}

/** Node's timers take at most 2^31 − 1 ms; a later instant is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const invalid = (reason: string): Refusal => ({ ok: false, code: 'SYNC_ERR_DOC_BODY_INVALID', reason });

/**
 * HQ planograms (docs/sync.md "Planograms"): a `planogram` document carries the whole store model
 * (catalogue, trays, facings, gates, labels). On arrival it is checked as the config's model is
 * (EDGE_ERR_STORE_MODEL_INVALID → the document is refused whole) and against the price book
 * (a SKU's currency does not change). Due now, it is applied in the document's one ledger
 * transaction — the inventory's model event with the stock it keeps, adds and drops, and the
 * catalogue's names and prices — and the model in memory changes only after the commit. With
 * an effective time still ahead (a reset planned for the night), the document is recorded as
 * scheduled and applied at that instant on the store clock — after a restart too; a later
 * planogram document replaces one still waiting.
 */
export class Planograms implements PlanogramTarget {
  readonly #o: PlanogramsOptions;
  readonly #log: Logger;
  #pending: PlanogramScheduled | null = null;
  #timer: unknown = undefined;
  #stopped = false;

  constructor(options: PlanogramsOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger()).child({ part: 'planograms' });
  }

  /** Re-arms a planogram still waiting in the ledger (one due while the agent was down applies now). */
  start(): void {
    this.#stopped = false;
    this.#pending = this.#findPending();
    this.#arm();
  }

  stop(): void {
    this.#stopped = true;
    this.#disarm();
  }

  pending(): PendingPlanogram | null {
    const p = this.#pending;
    return p === null ? null : { docId: p.docId, version: p.version, effectiveFrom: p.effectiveFrom };
  }

  plan(body: PlanogramBody, header: DocumentHeader, now: number): DocumentPlan | Refusal {
    let prepared: PreparedModel;
    try {
      prepared = this.#o.inventory.prepareModel(body.model, sourceOf(header.version));
    } catch (err) {
      if (err instanceof StoreEdgeError && err.code === 'EDGE_ERR_STORE_MODEL_INVALID') return invalid(`model: ${err.message}`);
      throw err;
    }
    const model = prepared.model;
    for (const [index, item] of model.catalog.entries()) {
      const current = this.#o.prices.history(item.sku).at(-1);
      if (current !== undefined && current.currency !== item.currency) {
        return invalid(`model.catalog[${index}]: SKU "${item.sku}" is priced in ${current.currency}, not ${item.currency}`);
      }
    }
    const summary = { skus: model.catalog.length, trays: countTrays(model), labels: model.labels.length, gates: model.gates.length };
    const at = header.effectiveFrom;
    if (at !== null && at > now) {
      const payload: PlanogramScheduled = { docId: header.id, version: header.version, effectiveFrom: at, model };
      return {
        ok: true,
        effectiveFrom: at,
        summary: { ...summary, scheduled: 1 },
        apply: () => {
          this.#o.ledger.append({ type: syncEventTypes.planogramScheduled, stream: syncStream, key: `sync.planogram.scheduled:${header.id}:${header.version}`, payload });
        },
        afterCommit: () => {
          this.#disarm();
          this.#pending = payload;
          this.#log.info({ docId: header.id, version: header.version, effectiveFrom: at }, 'planogram scheduled');
          this.#arm();
        },
      };
    }
    let notices: ReturnType<PreparedModel['apply']> = [];
    return {
      ok: true,
      effectiveFrom: now,
      summary: { ...summary, changed: prepared.changed ? 1 : 0 },
      apply: () => {
        notices = prepared.apply();
        this.#applyCatalog(model);
      },
      afterCommit: () => {
        // A planogram waiting for its time is superseded by this later one.
        this.#disarm();
        this.#pending = null;
        prepared.afterCommit(notices);
        this.#o.onApplied?.();
      },
    };
  }

  #applyCatalog(model: StoreModel): void {
    this.#o.prices.applyCatalog(
      model.catalog.map(({ sku, name, priceMinor, currency }) => ({ sku, name, priceMinor, currency })),
      'hq',
    );
  }

  #arm(): void {
    const pending = this.#pending;
    if (pending === null || this.#stopped) return;
    const delay = pending.effectiveFrom - this.#o.clock.now();
    if (delay <= 0) {
      this.#fire(pending);
      return;
    }
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#arm();
    }, Math.min(delay, MAX_TIMER_MS));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** The planogram's time has come: applied in one transaction, the model in memory after the commit. */
  #fire(pending: PlanogramScheduled): void {
    this.#pending = null;
    try {
      const prepared = this.#o.inventory.prepareModel(pending.model, sourceOf(pending.version));
      let notices: ReturnType<PreparedModel['apply']> = [];
      this.#o.prices.atomically(() => {
        notices = prepared.apply();
        this.#applyCatalog(prepared.model);
      });
      prepared.afterCommit(notices);
      this.#log.info({ docId: pending.docId, version: pending.version, effectiveFrom: pending.effectiveFrom }, 'scheduled planogram applied');
      this.#o.onApplied?.();
    } catch (err) {
      // Checked on arrival; only a price rule that changed since can stop it. Nothing was applied;
      // the ledger keeps the scheduled document, so a restart tries it again.
      this.#log.error({ err, docId: pending.docId, version: pending.version }, 'scheduled planogram could not be applied; the store model in force stays');
    }
  }

  /**
   * The planogram still waiting, from the ledger: the latest planogram document applied (the
   * applier keeps their versions increasing), if it was scheduled and its model is not in force.
   */
  #findPending(): PlanogramScheduled | null {
    let latest: DocumentApplied | null = null;
    const scheduled = new Map<number, PlanogramScheduled>();
    for (let from = 1; ; ) {
      const batch = this.#o.ledger.events({ stream: syncStream, fromSeq: from, limit: 1_000 });
      for (const event of batch) {
        if (event.type === syncEventTypes.documentApplied) {
          const p = event.payload as DocumentApplied;
          if (p.kind === 'planogram' && (latest === null || p.version > latest.version)) latest = p;
        } else if (event.type === syncEventTypes.planogramScheduled) {
          const p = event.payload as PlanogramScheduled;
          scheduled.set(p.version, p);
        }
      }
      if (batch.length < 1_000) break;
      from = batch.at(-1)!.seq + 1;
    }
    if (latest === null) return null;
    const waiting = scheduled.get(latest.version);
    if (waiting === undefined) return null;
    const inForce = this.#o.inventory.modelSource;
    if (inForce?.kind === 'planogram' && inForce.version === String(waiting.version)) return null;
    return waiting;
  }
}

function sourceOf(version: number): ModelSource {
  return { kind: 'planogram', version: String(version), actor: 'hq' };
}

function countTrays(model: StoreModel): number {
  let trays = 0;
  for (const gondola of model.gondolas) for (const bay of gondola.bays) for (const shelf of bay.shelves) trays += shelf.trays.length;
  return trays;
}
