import {
  planKeyChanges,
  type CatalogBody,
  type DocumentHeader,
  type DocumentKind,
  type KeyRing,
  type KeysBody,
  type ModelReleaseBody,
  type PlanogramBody,
  type PricesBody,
  type PromotionsBody,
  type SyncErrorCode,
} from '@storeedge/sync';
import { StoreEdgeError } from '../errors.ts';
import type { Ledger } from '../ledger/index.ts';
import { orderHandler, type OrderIntake } from '../orders/order-document.ts';
import { bookPromotionsSchema, type PriceBook } from '../pricing/index.ts';
import { syncEventTypes, syncStream, type KeysChanged } from './ledger-events.ts';

/**
 * One handler per document kind (docs/sync.md "Downlink"). `plan` checks everything the document
 * needs against the store as it is now and writes nothing; the plan's `apply` then runs inside
 * the applier's one ledger transaction and must not fail for a reason `plan` could have seen.
 */

/** The price book as the handlers use it. */
export type DocumentPriceBook = Pick<PriceBook, 'setPrices' | 'setPromotions' | 'applyCatalog' | 'history' | 'atomically'>;

export interface HandlerContext {
  header: DocumentHeader;
  /** The key that signed the document. */
  keyId: string;
  /** Store clock (the price book's), ms. */
  now: () => number;
  ledger: Ledger;
  prices: DocumentPriceBook;
  keyRing: KeyRing;
  /** The store's parts a kind needs beyond the price book; a kind whose part is absent is refused. */
  parts: StoreParts;
}

/**
 * The parts of the store that take documents besides the price book, given to the applier by
 * the agent: click & collect orders, planograms (the inventory's store model), model releases
 * (the vision service). A store without one refuses that kind (SYNC_ERR_DOC_UNSUPPORTED_KIND).
 */
export interface StoreParts {
  orders?: OrderIntake;
  planograms?: PlanogramTarget;
  models?: ModelReleaseTarget;
}

/** What a planogram document asks of the store (`Planograms`, planogram.ts). */
export interface PlanogramTarget {
  plan(body: PlanogramBody, header: DocumentHeader, now: number): DocumentPlan | Refusal;
  /** The planogram waiting for its effective time, if any (GET /api/health `sync.planogram`). */
  pending?(): { docId: string; version: number; effectiveFrom: number } | null;
}

/** What a model-release document asks of the store (`ModelReleases`, model-release.ts). */
export interface ModelReleaseTarget {
  plan(body: ModelReleaseBody, header: DocumentHeader, now: number): DocumentPlan | Refusal;
}

export type Refusal = { ok: false; code: SyncErrorCode; reason: string };

export interface DocumentPlan {
  ok: true;
  /** When its effects start, store clock. */
  effectiveFrom: number;
  /** What it changes, for the outcome event and the log. */
  summary: Record<string, number>;
  /** The effects, inside the applier's transaction. */
  apply(): void;
  /** In-memory effects that must wait for the commit (the key ring). */
  afterCommit?(): void;
}

export interface DocumentHandler {
  readonly kind: DocumentKind;
  /**
   * Documents of this kind stand alone (each click & collect order): they do not supersede one
   * another, so a lower version arriving after a higher one is not a rollback and is applied.
   * Replays are still caught by the document id, forgeries by the signature.
   */
  readonly independentVersions?: boolean;
  plan(body: unknown, ctx: HandlerContext): DocumentPlan | Refusal;
}

const refuse = (code: SyncErrorCode, reason: string): Refusal => ({ ok: false, code, reason });
const invalid = (reason: string): Refusal => refuse('SYNC_ERR_DOC_BODY_INVALID', reason);

/**
 * A future instant as the price book's `effectiveFrom`, or undefined for "now". A document that
 * arrives after its effective time (an outage) takes effect on arrival: labels showed, and
 * receipts charged, the old price until then, and the book never changes the past.
 */
function futureOrNow(at: number | null | undefined, now: number): number | undefined {
  return at !== null && at !== undefined && at > now ? at : undefined;
}

/**
 * Calls `write(now)` with the store clock; once more with a fresh reading when an instant that
 * was still ahead passed in between (EDGE_ERR_PRICE_RETROACTIVE: the price book writes nothing
 * before it throws that), so a document due this very millisecond is written as "now".
 */
function writeAt<T>(clock: () => number, write: (now: number) => T): T {
  try {
    return write(clock());
  } catch (err) {
    if (err instanceof StoreEdgeError && err.code === 'EDGE_ERR_PRICE_RETROACTIVE') return write(clock() + 1);
    throw err;
  }
}

/** Regular prices per SKU, each from its own effectiveFrom, else the header's, else now. */
export const pricesHandler: DocumentHandler = {
  kind: 'prices',
  plan(raw, ctx) {
    const body = raw as PricesBody;
    const now = ctx.now();
    const { header } = ctx;
    type Entry = { index: number; sku: string; priceMinor: number; currency: string; requested: number };
    const entries: Entry[] = [];
    for (const [index, entry] of body.prices.entries()) {
      const current = ctx.prices.history(entry.sku).at(-1);
      if (current === undefined) return invalid(`prices[${index}]: SKU "${entry.sku}" is not in this store's price book (send it in a catalog document first)`);
      const currency = entry.currency ?? current.currency;
      if (currency !== current.currency) return invalid(`prices[${index}]: SKU "${entry.sku}" is priced in ${current.currency}, not ${currency}`);
      entries.push({ index, sku: entry.sku, priceMinor: entry.priceMinor, currency, requested: entry.effectiveFrom ?? header.effectiveFrom ?? now });
    }
    // Of the entries already due, only the latest per SKU matters: it is the one in force now.
    const latestDue = new Map<string, Entry>();
    for (const e of entries) {
      if (e.requested > now) continue;
      const known = latestDue.get(e.sku);
      if (known === undefined || e.requested >= known.requested) latestDue.set(e.sku, e);
    }
    const kept = entries.filter((e) => e.requested > now || latestDue.get(e.sku) === e);
    const slots = new Set<string>();
    for (const e of kept) {
      const slot = `${e.sku}\u0000${e.requested > now ? e.requested : 'now'}`;
      if (slots.has(slot)) return invalid(`prices[${e.index}]: SKU "${e.sku}" has two prices from the same instant`);
      slots.add(slot);
    }
    return {
      ok: true,
      effectiveFrom: Math.min(...kept.map((e) => Math.max(e.requested, now))),
      summary: { prices: kept.length, superseded: entries.length - kept.length, late: kept.filter((e) => e.requested < now).length },
      apply() {
        // One call: all prices in one append, one notice to the labels per effective instant.
        writeAt(ctx.now, (now) =>
          ctx.prices.setPrices(
            kept.map((e) => {
              const effectiveFrom = futureOrNow(e.requested, now);
              return {
                sku: e.sku,
                priceMinor: e.priceMinor,
                currency: e.currency,
                ...(effectiveFrom === undefined ? {} : { effectiveFrom }),
                source: 'hq' as const,
                reason: `HQ prices document ${header.id} (version ${header.version})`,
                actor: 'hq',
                // Versions of a kind are unique chain-wide, so this names the entry for good.
                changeId: `hq-prices:v${header.version}:${e.index}`,
              };
            }),
          ),
        );
      },
    };
  },
};

/** The whole promotion list, from the header's effectiveFrom (or now). */
export const promotionsHandler: DocumentHandler = {
  kind: 'promotions',
  plan(raw, ctx) {
    const body = raw as PromotionsBody;
    const checked = bookPromotionsSchema.safeParse(body.promotions);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      return invalid(`promotions.${issue.path.join('.')}: ${issue.message}`);
    }
    const now = ctx.now();
    const { header } = ctx;
    return {
      ok: true,
      effectiveFrom: Math.max(header.effectiveFrom ?? now, now),
      summary: { promotions: checked.data.length },
      apply() {
        writeAt(ctx.now, (now) => {
          const effectiveFrom = futureOrNow(header.effectiveFrom, now);
          return ctx.prices.setPromotions(checked.data, { source: 'hq', actor: 'hq', changeId: `hq-promotions:v${header.version}`, ...(effectiveFrom === undefined ? {} : { effectiveFrom }) });
        });
      },
    };
  },
};

/**
 * Names and catalogue prices (`applyCatalog`: a SKU's catalogue price is recorded only when it
 * changed since the last catalogue, so a price HQ or a manager set since is not undone). Applies
 * on arrival; the store model's catalogue (layout, GTINs, weights) comes with planograms.
 */
export const catalogHandler: DocumentHandler = {
  kind: 'catalog',
  plan(raw, ctx) {
    const body = raw as CatalogBody;
    const seen = new Set<string>();
    for (const [index, item] of body.items.entries()) {
      if (seen.has(item.sku)) return invalid(`items[${index}]: SKU "${item.sku}" is listed twice`);
      seen.add(item.sku);
      const current = ctx.prices.history(item.sku).at(-1);
      if (current !== undefined && current.currency !== item.currency) return invalid(`items[${index}]: SKU "${item.sku}" is priced in ${current.currency}, not ${item.currency}`);
    }
    let priced = 0;
    return {
      ok: true,
      effectiveFrom: ctx.now(),
      get summary() {
        return { items: body.items.length, priced };
      },
      apply() {
        priced = ctx.prices.applyCatalog(body.items.map(({ sku, name, priceMinor, currency }) => ({ sku, name, priceMinor, currency })), 'hq').length;
      },
    };
  },
};

/** Adds and revokes trusted keys (G11); persisted as a ledger event, the ring changes after the commit. */
export const keysHandler: DocumentHandler = {
  kind: 'keys',
  plan(raw, ctx) {
    const body = raw as KeysBody;
    const planned = planKeyChanges(body, ctx.keyId, ctx.keyRing);
    if (!planned.ok) return refuse(planned.code, planned.reason);
    const remaining = ctx.keyRing.list().filter((k) => !planned.revoke.includes(k.keyId)).length + planned.add.length;
    if (remaining === 0) return invalid('the document would leave the store without a trusted key');
    const { header } = ctx;
    const payload: KeysChanged = { docId: header.id, version: header.version, add: planned.add, revoke: planned.revoke };
    return {
      ok: true,
      effectiveFrom: ctx.now(),
      summary: { added: planned.add.length, revoked: planned.revoke.length },
      apply() {
        ctx.ledger.append({ type: syncEventTypes.keysChanged, stream: syncStream, key: `sync.keys:${header.id}:${header.version}`, payload });
      },
      afterCommit() {
        applyKeyChanges(ctx.keyRing, payload);
      },
    };
  },
};

/** Applies a recorded key change to the ring (live and when rebuilding it at start). */
export function applyKeyChanges(keyRing: KeyRing, change: Pick<KeysChanged, 'add' | 'revoke'>): void {
  for (const key of change.add) keyRing.add(key);
  for (const keyId of change.revoke) keyRing.revoke(keyId);
}

/** The store model from HQ (planogram.ts); refused by a store that runs no inventory. */
export const planogramHandler: DocumentHandler = {
  kind: 'planogram',
  plan(raw, ctx) {
    const target = ctx.parts.planograms;
    if (target === undefined) return refuse('SYNC_ERR_DOC_UNSUPPORTED_KIND', 'this store keeps no store model (no inventory service)');
    return target.plan(raw as PlanogramBody, ctx.header, ctx.now());
  },
};

/** A model for the vision service (model-release.ts); refused by a store that runs no vision. */
export const modelReleaseHandler: DocumentHandler = {
  kind: 'model-release',
  plan(raw, ctx) {
    const target = ctx.parts.models;
    if (target === undefined) return refuse('SYNC_ERR_DOC_UNSUPPORTED_KIND', 'this store runs no vision service');
    return target.plan(raw as ModelReleaseBody, ctx.header, ctx.now());
  },
};

/** The kinds this agent applies: every kind of the contract (docs/sync.md "What applying means"). */
export const documentHandlers: ReadonlyMap<DocumentKind, DocumentHandler> = new Map(
  [pricesHandler, promotionsHandler, catalogHandler, keysHandler, orderHandler, planogramHandler, modelReleaseHandler].map((handler) => [handler.kind, handler]),
);
