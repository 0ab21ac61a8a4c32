import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Promotion, PriceBookItem } from '../checkout/pricing.ts';
import { StoreEdgeError, errors } from '../errors.ts';
import { canonicalJson, sha256Hex } from '../ledger/canonical.ts';
import type { Ledger, LedgerEvent } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import {
  listSources,
  priceSources,
  pricingEventTypes as types,
  pricingStream,
  type ListSource,
  type MarkdownsSet,
  type PriceSet,
  type PriceSource,
  type PromotionsSet,
} from './ledger-events.ts';
import { bookPromotionsSchema, markdownRulesSchema, type BookPromotion, type MarkdownRule, type MarkdownRuleInput } from './rules.ts';
import { changeCandidates } from './schedule.ts';
import {
  compareStrings,
  defaultPriorPricePolicy,
  indexBySku,
  PriceTimeline,
  type LabelContent,
  type ListVersion,
  type PriceRecord,
  type PriorPricePolicy,
  type UnitPrice,
} from './timeline.ts';

export interface PriceBookOptions {
  /** The store ledger; the book replays stream "pricing" from it on construction. */
  ledger: Ledger;
  /** IANA time zone of the store: markdown times are local times there. Default 'UTC'. */
  timeZone?: string;
  /**
   * The agent clock, for writes only: a new price or list takes effect at `now()` unless it
   * names a later instant, and an earlier one is refused. Queries never read it (except `list`
   * without `at`). Default Date.now.
   */
  now?: () => number;
  /** Units of a SKU on the shelves now; markdowns with `whileStock` show on labels only while > 0. Default: always in stock. */
  stockOf?: (sku: string) => number;
  /**
   * The SKU's display name from the store model (which the inventory keeps in the ledger), so a
   * restarted book names SKUs before the catalog is applied again. Default: the names the last
   * `applyCatalog` gave (in memory), then the SKU itself.
   */
  nameOf?: (sku: string) => string | undefined;
  priorPrice?: Partial<PriorPricePolicy>;
  logger?: Logger;
}

/** Something a label or a unit price may show differently from now on. */
export interface PriceChange {
  cause: 'price' | 'promotions' | 'markdowns' | 'stock';
  /** SKUs that may be affected, sorted. */
  skus: string[];
  /** From when (a change recorded ahead of time: the label service schedules it). */
  effectiveFrom: number;
  /** Ledger seq of the event (null for stock). */
  version: number | null;
}

export type PriceChangeListener = (change: PriceChange) => void;

export interface SetPriceInput {
  sku: string;
  priceMinor: number;
  /** Default: the SKU's currency; a different one is refused. */
  currency?: string;
  /** Default: now; never earlier. */
  effectiveFrom?: number;
  source: Exclude<PriceSource, 'catalog'>;
  reason: string;
  actor: string;
  /** Idempotency: the same changeId records one price (a retried request). Default: a new UUID. */
  changeId?: string;
}

export interface SetListOptions {
  source: ListSource;
  actor: string;
  effectiveFrom?: number;
  changeId?: string;
}

/** One row of GET /api/prices. */
export interface PriceListEntry {
  sku: string;
  name: string;
  currency: string;
  /** What every shopper pays for one unit now (what the label shows). */
  priceMinor: number;
  regularMinor: number;
  wasPriceMinor: number | null;
  memberPriceMinor: number | null;
  promoText: string | null;
  promotions: Array<{ id: string; kind: BookPromotion['kind'] | 'markdown'; description: string | null }>;
  /** Label content version. */
  version: string;
  /** Version of the regular price record in force. */
  priceVersion: number;
  /** Next instant this SKU's label or unit price changes by schedule (within 35 days), or null. */
  nextChangeAt: number | null;
}

export interface PriceListQuery {
  /** Default: now. */
  at?: number;
  sku?: string;
  /** Keyset paging: SKUs after this one (code-unit order). */
  after?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

const DEFAULT_HORIZON_MS = 35 * 86_400_000;

const setPriceSchema = z.strictObject({
  sku: z.string().min(1).max(64),
  priceMinor: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "EUR"').optional(),
  effectiveFrom: z.number().int().nonnegative().optional(),
  source: z.enum(priceSources).exclude(['catalog']),
  reason: z.string().min(1).max(500),
  actor: z.string().min(1).max(100),
  changeId: z.string().min(1).max(100).optional(),
});

const listOptionsSchema = z.strictObject({
  source: z.enum(listSources),
  actor: z.string().min(1).max(100),
  effectiveFrom: z.number().int().nonnegative().optional(),
  changeId: z.string().min(1).max(100).optional(),
});

/**
 * The store's price book (docs/pricing.md): effective-dated regular prices per SKU, promotions
 * and time-of-day markdowns, all as ledger events (stream "pricing") replayed on start, so a
 * restart — even after kill -9 — answers exactly as before. Prices and label contents are asked
 * for at an explicit instant; the same record and version feed the label and the checkout
 * (research/esl.md §6 point 1).
 */
export class PriceBook {
  readonly #ledger: Ledger;
  readonly #now: () => number;
  readonly #logger: Logger | undefined;
  readonly #newTimeline: () => PriceTimeline;
  #timeline: PriceTimeline;
  readonly #listeners = new Set<PriceChangeListener>();
  /** The last catalog-sourced record per SKU: the catalog seeds a price only when its own price changed. */
  readonly #lastCatalog = new Map<string, PriceRecord>();
  /** SKUs of any `whileStock` markdown rule (a stock change may change their labels). */
  readonly #stockSensitive = new Set<string>();
  /** Names the catalog gave (kept in memory only), to name SKUs again after a `#reload`. */
  readonly #catalogNames = new Map<string, string>();
  /** Inside `atomically`: changes held back until the transaction committed. */
  #held: PriceChange[] | null = null;

  constructor(options: PriceBookOptions) {
    this.#ledger = options.ledger;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger;
    const timeZone = options.timeZone ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en', { timeZone });
    } catch {
      throw errors.EDGE_ERR_PRICE_INVALID(`timeZone "${timeZone}" is not an IANA time zone such as "Europe/Berlin" or "UTC"`);
    }
    const policy = { ...defaultPriorPricePolicy, ...options.priorPrice };
    if (!Number.isInteger(policy.days) || policy.days < 30) throw errors.EDGE_ERR_PRICE_INVALID('priorPrice.days must be an integer of at least 30 [Directive 98/6/EC Art. 6a(2)]');
    const stockOf = options.stockOf ?? (() => Infinity);
    this.#newTimeline = () => new PriceTimeline({ timeZone, policy, stockOf, ...(options.nameOf ? { nameOf: options.nameOf } : {}) });
    this.#timeline = this.#newTimeline();
    this.#replay();
  }

  /**
   * Runs `fn` in one ledger transaction in which several writes (prices, lists, catalog, and the
   * caller's own appends) commit together or not at all — an HQ document applies whole. Inside,
   * the book answers with the changes made so far; listeners hear of them only after the commit
   * (merged per cause and instant). If `fn` or the commit throws, the in-memory book is rebuilt
   * from the ledger, so it never keeps a change the file does not have. Nests: an inner call
   * joins the outer one. `fn` must be synchronous.
   */
  atomically<T>(fn: () => T): T {
    if (this.#held !== null) return fn();
    const held: PriceChange[] = [];
    this.#held = held;
    let result: T;
    try {
      result = this.#ledger.transaction(fn);
    } catch (err) {
      this.#held = null;
      this.#reload();
      throw err;
    }
    this.#held = null;
    for (const change of mergeChanges(held)) this.#emit(change);
    return result;
  }

  // ── writes ──────────────────────────────────────────────────────────────────────────────

  /**
   * Names every catalog SKU and gives it the catalog price: once when the SKU has no price yet,
   * and again only when the catalog's own price changed since the last catalog record (a price
   * set by HQ or a manager is not undone by a restart). Effective now. One transaction.
   */
  applyCatalog(items: ReadonlyArray<Pick<PriceBookItem, 'sku' | 'name' | 'priceMinor' | 'currency'>>, actor = 'catalog'): PriceRecord[] {
    const effectiveFrom = this.#now();
    const inputs: Array<{ key: string; payload: PriceSet }> = [];
    for (const item of items) {
      this.#timeline.setName(item.sku, item.name);
      this.#catalogNames.set(item.sku, item.name);
      const last = this.#lastCatalog.get(item.sku);
      const hasPrice = this.#timeline.history(item.sku).length > 0;
      if (last === undefined ? hasPrice : last.priceMinor === item.priceMinor && last.currency === item.currency) continue;
      this.#checkCurrency(item.sku, item.currency);
      inputs.push({
        key: `price:catalog:${item.sku}:${last?.version ?? 0}:${item.priceMinor}:${item.currency}`,
        payload: { sku: item.sku, priceMinor: item.priceMinor, currency: item.currency, effectiveFrom, source: 'catalog', reason: 'catalog price', actor },
      });
    }
    const events = this.#ledger.transaction(() =>
      inputs.map(({ key, payload }) => this.#ledger.append({ type: types.priceSet, stream: pricingStream, key, payload })),
    );
    const records = events.filter((r) => !r.duplicate).map((r) => this.#apply(r.event)!) as PriceRecord[];
    if (records.length > 0) this.#emit({ cause: 'price', skus: records.map((r) => r.sku), effectiveFrom, version: records.at(-1)!.version });
    return records;
  }

  /** Records a regular price (HQ, a manager, a markdown). Throws EDGE_ERR_PRICE_INVALID, _UNKNOWN_SKU, _RETROACTIVE, _CURRENCY_MISMATCH. */
  setPrice(input: SetPriceInput): PriceRecord {
    return this.setPrices([input])[0]!;
  }

  /**
   * Records many regular prices at once (a store-wide change, an HQ price document): every input
   * is checked first (the first bad one throws, naming its index, and nothing is written), then
   * all are appended in one ledger transaction and listeners hear one change per effective time.
   * Returns the records in input order (an input whose changeId was already used for the same
   * price returns the stored record).
   */
  setPrices(inputs: readonly SetPriceInput[]): PriceRecord[] {
    const prepared = inputs.map((input, i) => {
      try {
        return this.#preparePrice(input);
      } catch (err) {
        if (inputs.length > 1 && err instanceof StoreEdgeError) throw new StoreEdgeError(err.code, `prices[${i}]: ${err.message}`, err.statusCode, { cause: err, details: err.details });
        throw err;
      }
    });
    const fresh = prepared.filter((p): p is { key: string; payload: PriceSet } => 'key' in p);
    const appended = fresh.length === 0 ? [] : this.#ledger.appendMany(fresh.map(({ key, payload }) => ({ type: types.priceSet, stream: pricingStream, key, payload, outbox: payload.source !== 'hq' })));
    const byKey = new Map<string, PriceRecord>();
    for (const r of appended) byKey.set(r.event.key, r.duplicate ? toRecord(r.event as LedgerEvent<PriceSet>) : (this.#apply(r.event) as PriceRecord));
    const records = prepared.map((p) => ('key' in p ? byKey.get(p.key)! : p.record));
    const changed = appended.filter((r) => !r.duplicate).map((r) => byKey.get(r.event.key)!);
    const byInstant = new Map<number, PriceRecord[]>();
    for (const record of changed) {
      const group = byInstant.get(record.effectiveFrom);
      if (group) group.push(record);
      else byInstant.set(record.effectiveFrom, [record]);
    }
    for (const [effectiveFrom, group] of byInstant) this.#emit({ cause: 'price', skus: group.map((r) => r.sku), effectiveFrom, version: group.at(-1)!.version });
    return records;
  }

  /** Checks one price input: the event to append, or the stored record when its changeId was already used for the same price. */
  #preparePrice(input: SetPriceInput): { key: string; payload: PriceSet } | { record: PriceRecord } {
    const parsed = parseOrThrow(setPriceSchema, input, 'price');
    if (!this.#timeline.hasSku(parsed.sku)) throw errors.EDGE_ERR_PRICE_UNKNOWN_SKU(`SKU "${parsed.sku}" is not in the catalog or the price book`);
    const currency = parsed.currency ?? this.#timeline.history(parsed.sku).at(-1)?.currency;
    if (currency === undefined) throw errors.EDGE_ERR_PRICE_INVALID(`SKU "${parsed.sku}" has no price yet: give its currency`);
    this.#checkCurrency(parsed.sku, currency);
    const key = `price:${parsed.changeId ?? randomUUID()}`;
    const existing = this.#ledger.getByKey(key);
    if (existing !== undefined) {
      const p = existing.payload as PriceSet;
      const same = existing.type === types.priceSet && p.sku === parsed.sku && p.priceMinor === parsed.priceMinor && p.currency === currency && p.source === parsed.source && p.reason === parsed.reason && (parsed.effectiveFrom === undefined || parsed.effectiveFrom === p.effectiveFrom);
      if (!same) throw errors.EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT(`changeId "${parsed.changeId}" was used for a different price`);
      return { record: toRecord(existing as LedgerEvent<PriceSet>) };
    }
    const effectiveFrom = this.#effectiveFrom(parsed.effectiveFrom);
    // Store changes go up to HQ; HQ's own prices came from there.
    return { key, payload: { sku: parsed.sku, priceMinor: parsed.priceMinor, currency, effectiveFrom, source: parsed.source, reason: parsed.reason, actor: parsed.actor } };
  }

  /** Replaces the promotion list from `effectiveFrom` (default now) on. Throws EDGE_ERR_PRICE_INVALID or _RETROACTIVE. */
  setPromotions(promotions: readonly unknown[], options: SetListOptions): ListVersion<BookPromotion> {
    const list = parseOrThrow(bookPromotionsSchema, promotions, 'promotions') as BookPromotion[];
    return this.#setList(types.promotionsSet, 'promotions', list, options) as ListVersion<BookPromotion>;
  }

  /** Replaces the markdown rules from `effectiveFrom` (default now) on. Throws EDGE_ERR_PRICE_INVALID or _RETROACTIVE. */
  setMarkdowns(markdowns: readonly MarkdownRuleInput[] | readonly unknown[], options: SetListOptions): ListVersion<MarkdownRule> {
    const list = parseOrThrow(markdownRulesSchema, markdowns, 'markdowns');
    return this.#setList(types.markdownsSet, 'markdowns', list, options) as ListVersion<MarkdownRule>;
  }

  /**
   * Promotions from the config (`store.checkout.promotions`): recorded when they differ from the
   * last list the config gave, so a restart with the same config changes nothing and a list set
   * by HQ or a manager since then stays. Returns null when nothing was recorded.
   */
  applyConfigPromotions(promotions: readonly unknown[]): ListVersion<BookPromotion> | null {
    const list = parseOrThrow(bookPromotionsSchema, promotions, 'promotions');
    const lastConfig = this.#timeline.promotionLists().filter((l) => l.source === 'config').sort((a, b) => a.version - b.version).at(-1);
    if (lastConfig === undefined ? list.length === 0 : canonicalJson(lastConfig.items) === canonicalJson(list)) return null;
    const changeId = `config:${sha256Hex(canonicalJson(list)).slice(0, 16)}:${lastConfig?.version ?? 0}`;
    return this.setPromotions(list, { source: 'config', actor: 'config', changeId });
  }

  /** Tells the book a SKU's stock changed; listeners hear of it when a `whileStock` markdown covers the SKU. */
  stockChanged(sku: string): void {
    if (this.#stockSensitive.has(sku)) this.#emit({ cause: 'stock', skus: [sku], effectiveFrom: this.#now(), version: null });
  }

  /** Immediate changes (a new price, list or stock level); returns the unsubscribe function. */
  onChange(listener: PriceChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ── queries (explicit instant) ──────────────────────────────────────────────────────────

  /** The regular price record in force at `at`, or undefined before the SKU's first price. */
  regularAt(sku: string, at: number): PriceRecord | undefined {
    return this.#timeline.regularAt(sku, at);
  }

  /** Every price record of the SKU, by effectiveFrom then version (empty for an unknown SKU). */
  history(sku: string): readonly PriceRecord[] {
    return this.#timeline.history(sku);
  }

  /** What one unit costs a shopper at `at` (a member: `{ member: true }`). Throws EDGE_ERR_PRICE_UNKNOWN_SKU. */
  unitPriceAt(sku: string, at: number, options: { member?: boolean } = {}): UnitPrice & { labelVersion: string } {
    const unit = this.#timeline.unitPriceAt(sku, at, options.member === true);
    if (unit === undefined) throw this.#noPrice(sku, at);
    return { ...unit, labelVersion: this.labelContentAt(sku, at).version };
  }

  /** What the SKU's shelf label must show at `at`. Throws EDGE_ERR_PRICE_UNKNOWN_SKU. */
  labelContentAt(sku: string, at: number): LabelContent {
    const label = this.#timeline.labelAt(sku, at);
    if (label === undefined) throw this.#noPrice(sku, at);
    return label;
  }

  /**
   * The next instant after `at` (within `within` ms, default 35 days) at which any SKU's label
   * content or unit price changes by schedule, or null. Stock changes are not scheduled; they
   * come through onChange.
   */
  nextChangeAfter(at: number, options: { within?: number; sku?: string } = {}): number | null {
    const candidates = changeCandidates(this.#timeline, at, at + (options.within ?? DEFAULT_HORIZON_MS), options.sku);
    for (const t of [...candidates.keys()].sort((a, b) => a - b)) {
      for (const sku of candidates.get(t)!) if (this.#stateKey(sku, t - 1) !== this.#stateKey(sku, t)) return t;
    }
    return null;
  }

  /** SKUs whose label content at `t1` differs from that at `t0` (t0 < t1), sorted. */
  changedBetween(t0: number, t1: number): string[] {
    if (!(t1 > t0)) return [];
    const skus = new Set<string>();
    for (const set of changeCandidates(this.#timeline, t0, t1).values()) for (const sku of set) skus.add(sku);
    return [...skus].filter((sku) => this.#timeline.labelAt(sku, t0)?.version !== this.#timeline.labelAt(sku, t1)?.version).sort(compareStrings);
  }

  /**
   * For the checkout: each SKU's unit price, the lowest over the instants its units were taken
   * and the exit (a price that ended or rose in between is not charged), in the shape priceCart
   * takes; an instant before the SKU's first price is priced at that first price. Per-unit reductions are in the price; group offers come from `cartPromotionsAt`.
   */
  cartPriceBook(taken: ReadonlyArray<{ sku: string; at: number }>, exitAt: number, options: { member?: boolean } = {}): Map<string, PriceBookItem> {
    const book = new Map<string, PriceBookItem>();
    for (const { sku, at } of [...taken, ...taken.map(({ sku }) => ({ sku, at: exitAt }))]) {
      // A device clock that reads earlier than the SKU's first price (the agent's first start): its first price.
      const first = this.#timeline.history(sku)[0]?.effectiveFrom;
      const unit = this.#timeline.unitPriceAt(sku, first !== undefined && at < first ? first : at, options.member === true);
      if (unit === undefined) continue;
      const current = book.get(sku);
      if (current === undefined || unit.priceMinor < current.priceMinor) book.set(sku, { sku, name: this.#timeline.name(sku), priceMinor: unit.priceMinor, currency: unit.currency });
    }
    return book;
  }

  /** Multi-buy and bundle promotions in force at `at`, for priceCart (percentages and member prices are in the unit prices). */
  cartPromotionsAt(at: number): Promotion[] {
    // As for prices: a device clock that reads earlier than the first list (the agent's first start) gets the first list.
    const list = this.#timeline.promotionsAt(at) ?? [...this.#timeline.promotionLists()].sort((a, b) => a.effectiveFrom - b.effectiveFrom || a.version - b.version)[0];
    return (list?.items ?? []).filter((p): p is Promotion => p.kind === 'multi-buy' || p.kind === 'bundle');
  }

  /** The promotion list and markdown rules in force at `at`. */
  listsAt(at: number): { promotions: readonly BookPromotion[]; markdowns: readonly MarkdownRule[] } {
    return { promotions: this.#timeline.promotionsAt(at)?.items ?? [], markdowns: this.#timeline.markdownsAt(at)?.items ?? [] };
  }

  /** GET /api/prices: one page of SKUs in code-unit order. */
  list(query: PriceListQuery = {}): { at: number; prices: PriceListEntry[]; next: string | null } {
    const at = query.at ?? this.#now();
    const limit = Math.min(Math.max(query.limit ?? 100, 1), 1000);
    const all = this.#timeline.skus();
    let skus: readonly string[];
    if (query.sku !== undefined) skus = all.includes(query.sku) && (query.after === undefined || query.sku > query.after) ? [query.sku] : [];
    else skus = all.slice(query.after === undefined ? 0 : upperBound(all, query.after));
    const page: string[] = [];
    for (const sku of skus) {
      if (page.length > limit) break;
      if (this.#timeline.regularAt(sku, at) !== undefined) page.push(sku);
    }
    const prices = page.slice(0, limit).map((sku) => this.#entry(sku, at));
    return { at, prices, next: page.length > limit ? prices.at(-1)!.sku : null };
  }

  /** GET /api/prices/:sku. Throws EDGE_ERR_PRICE_UNKNOWN_SKU. */
  detail(sku: string, at = this.#now()): { sku: string; name: string; at: number; current: PriceListEntry | null; history: readonly PriceRecord[] } {
    const history = this.history(sku);
    if (history.length === 0) throw errors.EDGE_ERR_PRICE_UNKNOWN_SKU(`SKU "${sku}" has no price in the price book`);
    return { sku, name: this.#timeline.name(sku), at, current: this.#timeline.regularAt(sku, at) === undefined ? null : this.#entry(sku, at), history };
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────

  #entry(sku: string, at: number): PriceListEntry {
    const label = this.labelContentAt(sku, at);
    const regular = this.#timeline.regularAt(sku, at)!;
    return {
      sku,
      name: label.name,
      currency: label.currency,
      priceMinor: label.priceMinor,
      regularMinor: regular.priceMinor,
      wasPriceMinor: label.wasPriceMinor ?? null,
      memberPriceMinor: label.memberPriceMinor ?? null,
      promoText: label.promoText ?? null,
      promotions: [
        ...this.#timeline.activePromotions(sku, at).map((p) => ({ id: p.id, kind: p.kind, description: p.description ?? null })),
        ...this.#timeline.activeMarkdowns(sku, at).map((rule) => ({ id: rule.id, kind: 'markdown' as const, description: rule.description ?? null })),
      ],
      version: label.version,
      priceVersion: regular.version,
      nextChangeAt: this.nextChangeAfter(at, { sku }),
    };
  }

  /** Everything of a SKU that can change by schedule: label content and unit prices. */
  #stateKey(sku: string, at: number): string {
    const label = this.#timeline.labelAt(sku, at);
    if (label === undefined) return 'none';
    return `${label.version}|${this.#timeline.unitPriceAt(sku, at, false)!.priceMinor}|${this.#timeline.unitPriceAt(sku, at, true)!.priceMinor}`;
  }

  #setList(type: string, name: 'promotions' | 'markdowns', items: Array<BookPromotion | MarkdownRule>, options: SetListOptions): ListVersion<BookPromotion | MarkdownRule> {
    const parsed = parseOrThrow(listOptionsSchema, options, 'options');
    const key = `${name}:${parsed.changeId ?? randomUUID()}`;
    const existing = this.#ledger.getByKey(key);
    if (existing !== undefined) {
      const p = existing.payload as PromotionsSet & MarkdownsSet;
      const same = existing.type === type && canonicalJson(p[name]) === canonicalJson(items) && (parsed.effectiveFrom === undefined || parsed.effectiveFrom === p.effectiveFrom);
      if (!same) throw errors.EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT(`changeId "${parsed.changeId}" was used for a different ${name} list`);
      return this.#findList(existing.seq)!;
    }
    const effectiveFrom = this.#effectiveFrom(parsed.effectiveFrom);
    const payload = { [name]: items, effectiveFrom, source: parsed.source, actor: parsed.actor };
    const before = name === 'promotions' ? this.#timeline.promotionsAt(effectiveFrom) : this.#timeline.markdownsAt(effectiveFrom);
    const { event } = this.#ledger.append({ type, stream: pricingStream, key, payload, outbox: parsed.source === 'manager' });
    const list = this.#apply(event) as ListVersion<BookPromotion | MarkdownRule>;
    const skus = new Set([...(before?.bySku.keys() ?? []), ...list.bySku.keys()]);
    this.#emit({ cause: name, skus: [...skus], effectiveFrom, version: event.seq });
    return list;
  }

  #findList(version: number): ListVersion<BookPromotion | MarkdownRule> | undefined {
    return [...this.#timeline.promotionLists(), ...this.#timeline.markdownLists()].find((l) => l.version === version);
  }

  #effectiveFrom(requested: number | undefined): number {
    const now = this.#now();
    if (requested === undefined) return now;
    if (requested < now) {
      throw errors.EDGE_ERR_PRICE_RETROACTIVE(`effectiveFrom ${new Date(requested).toISOString()} is before now (${new Date(now).toISOString()}); what labels showed and receipts charged cannot be changed afterwards`);
    }
    return requested;
  }

  #checkCurrency(sku: string, currency: string): void {
    const current = this.#timeline.history(sku).at(-1)?.currency;
    if (current !== undefined && current !== currency) {
      throw errors.EDGE_ERR_PRICE_CURRENCY_MISMATCH(`SKU "${sku}" is priced in ${current}, not ${currency}; one SKU keeps one currency (its prior prices must compare)`);
    }
  }

  #noPrice(sku: string, at: number) {
    return errors.EDGE_ERR_PRICE_UNKNOWN_SKU(`SKU "${sku}" has no price in force at ${new Date(at).toISOString()}`);
  }

  #emit(change: PriceChange): void {
    if (this.#held !== null) {
      this.#held.push(change);
      return;
    }
    const sorted = { ...change, skus: [...new Set(change.skus)].sort(compareStrings) };
    for (const listener of this.#listeners) {
      try {
        listener(sorted);
      } catch (err) {
        this.#logger?.error({ err, cause: change.cause }, 'price change listener failed');
      }
    }
  }

  /** The in-memory book as the ledger has it: after a transaction that changed it rolled back. */
  #reload(): void {
    this.#timeline = this.#newTimeline();
    this.#lastCatalog.clear();
    this.#stockSensitive.clear();
    for (const [sku, name] of this.#catalogNames) this.#timeline.setName(sku, name);
    this.#replay();
    this.#logger?.warn('price book rebuilt from the ledger after a rolled-back transaction');
  }

  #replay(): void {
    for (let from = 1; ; ) {
      const batch = this.#ledger.events({ stream: pricingStream, fromSeq: from, limit: 10_000 });
      for (const event of batch) this.#apply(event);
      if (batch.length < 10_000) break;
      from = batch.at(-1)!.seq + 1;
    }
  }

  /** Applies one event of the stream to the in-memory book; the same code live and on replay. */
  #apply(event: LedgerEvent): PriceRecord | ListVersion<BookPromotion | MarkdownRule> | undefined {
    switch (event.type) {
      case types.priceSet: {
        const record = toRecord(event as LedgerEvent<PriceSet>);
        this.#timeline.addPrice(record);
        if (record.source === 'catalog') this.#lastCatalog.set(record.sku, record);
        return record;
      }
      case types.promotionsSet: {
        const p = event.payload as PromotionsSet;
        const list: ListVersion<BookPromotion> = { version: event.seq, effectiveFrom: p.effectiveFrom, source: p.source, actor: p.actor, items: p.promotions, bySku: indexBySku(p.promotions) };
        this.#timeline.addPromotions(list);
        return list;
      }
      case types.markdownsSet: {
        const p = event.payload as MarkdownsSet;
        const list: ListVersion<MarkdownRule> = { version: event.seq, effectiveFrom: p.effectiveFrom, source: p.source, actor: p.actor, items: p.markdowns, bySku: indexBySku(p.markdowns) };
        for (const rule of p.markdowns) if (rule.whileStock) for (const sku of rule.skus) this.#stockSensitive.add(sku);
        this.#timeline.addMarkdowns(list);
        return list;
      }
      default:
        return undefined;
    }
  }
}

/** One change per cause and instant (SKUs united, the latest version), in first-seen order. */
function mergeChanges(changes: readonly PriceChange[]): PriceChange[] {
  const merged = new Map<string, PriceChange>();
  for (const change of changes) {
    const id = `${change.cause}|${change.effectiveFrom}`;
    const known = merged.get(id);
    if (known === undefined) merged.set(id, { ...change, skus: [...change.skus] });
    else {
      known.skus.push(...change.skus);
      if (change.version !== null && (known.version === null || change.version > known.version)) known.version = change.version;
    }
  }
  return [...merged.values()];
}

function toRecord(event: LedgerEvent<PriceSet>): PriceRecord {
  return { ...event.payload, version: event.seq, recordedAt: event.at };
}

function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${[what, ...issue.path].join('.')}: ${issue.message}`);
  throw errors.EDGE_ERR_PRICE_INVALID(problems.join('; '));
}

/** Index of the first element > key in a sorted array. */
function upperBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
