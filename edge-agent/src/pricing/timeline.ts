/**
 * The price book's state and rules, in memory and pure: every query takes its instant, nothing
 * reads a clock. Filled from the ledger's "pricing" stream by PriceBook (price-book.ts).
 *
 * Vocabulary (docs/pricing.md):
 * - regular price: the price.set record in force (latest `effectiveFrom` ≤ at; same instant: the
 *   later record);
 * - reduction: a percentage promotion, a time-of-day markdown rule, or a regular price whose
 *   source is `markdown` (clearance);
 * - public price: what anybody pays for one unit: the lowest of the regular price and every
 *   active reduction (lower price wins, no stacking);
 * - prior price: the lowest public price of the 30 days before a reduction began
 *   [Directive 98/6/EC Art. 6a(2)] — what a label shows as "was".
 */
import { canonicalJson, sha256Hex } from '../ledger/canonical.ts';
import type { Promotion } from '../checkout/pricing.ts';
import type { ListSource, PriceSet } from './ledger-events.ts';
import { DAY_MS, dailyWindows, minutesOf } from './local-time.ts';
import { lessPercent, promotionSkus, withinWindow, type BookPromotion, type MarkdownRule } from './rules.ts';

/** A price.set as the book keeps it: the event plus its ledger seq (its version) and append time. */
export interface PriceRecord extends PriceSet {
  /** The ledger seq of its price.set event: unique, increasing. */
  version: number;
  /** Agent clock when it was recorded, ms. */
  recordedAt: number;
}

/** One promotions.set or markdowns.set, indexed by SKU. */
export interface ListVersion<T> {
  version: number;
  effectiveFrom: number;
  source: ListSource;
  actor: string;
  items: readonly T[];
  bySku: ReadonlyMap<string, readonly T[]>;
}

/**
 * How the prior ("was") price is found. The defaults follow the Directive's general rule plus
 * the two options most member states took; check the national rules of the store's country.
 */
export interface PriorPricePolicy {
  /** Days looked back from the start of a reduction [Art. 6a(2): not shorter than 30]. */
  days: number;
  /**
   * A reduction that deepens without a break keeps the prior price of its first step
   * [Art. 6a(5)]. With false, each step is a new reduction with its own look-back.
   */
  progressive: boolean;
  /**
   * A SKU on sale for fewer than `days` before the reduction: `shorter-period` looks back only to
   * its first price [Art. 6a(4)]; `not-announced` never announces the reduction (no "was"; the
   * shopper still pays the reduced price).
   */
  newArrivals: 'shorter-period' | 'not-announced';
}

export const defaultPriorPricePolicy: PriorPricePolicy = { days: 30, progressive: true, newArrivals: 'shorter-period' };

/** What a shelf label shows for one SKU at one instant. */
export interface LabelContent {
  sku: string;
  name: string;
  /** What every shopper pays for one unit. */
  priceMinor: number;
  currency: string;
  /** Present when `priceMinor` is an announced reduction: the prior price [Art. 6a]. */
  wasPriceMinor?: number;
  /** The announced reduction ("-20%", from the prior price [CJEU C-330/23]) and multi-buy/bundle offers, joined by " · ", at most 60 characters. */
  promoText?: string;
  /** Present when loyalty members pay less than `priceMinor`. */
  memberPriceMinor?: number;
  /** sha256 (16 hex digits) of everything above: changes exactly when what the label shows changes. */
  version: string;
}

export type ReductionKind = 'markdown-price' | 'percentage' | 'markdown-rule';

/** The price of one unit for one shopper at one instant, and where it came from. */
export interface UnitPrice {
  sku: string;
  priceMinor: number;
  currency: string;
  regularMinor: number;
  /** The reduction that set the price (null: the regular price). */
  reduction: { kind: ReductionKind; id: string } | null;
  /** True when the member price was the lowest. */
  memberPrice: boolean;
  /** Version of the regular-price record in force. */
  priceVersion: number;
}

interface Reduction {
  kind: ReductionKind;
  id: string;
  priceMinor: number;
  priorMinor: number | null;
  text: string;
}

interface Evaluation {
  regular: PriceRecord;
  /** The lowest public price and the reduction that gives it (null: regular price). */
  publicMinor: number;
  winner: Reduction | null;
  groupOffers: Promotion[];
  memberMinor: number | null;
}

interface Interval {
  a: number;
  b: number;
  id: string;
}

const kindRank: Record<ReductionKind, number> = { 'markdown-price': 0, percentage: 1, 'markdown-rule': 2 };
/** How far back a reduction's start is searched; an older start only means "no prior price" anyway for a SKU that old. */
const MAX_LOOKBACK_MS = 5 * 366 * DAY_MS;

export class PriceTimeline {
  readonly timeZone: string;
  readonly policy: PriorPricePolicy;
  readonly #stockOf: (sku: string) => number;
  readonly #records = new Map<string, PriceRecord[]>();
  readonly #promotionLists: ListVersion<BookPromotion>[] = [];
  readonly #markdownLists: ListVersion<MarkdownRule>[] = [];
  readonly #names = new Map<string, string>();
  /** prior price per `${sku}|${reductionStart}`; cleared by every change (a price can be recorded ahead of time). */
  readonly #priorMemo = new Map<string, number | null>();
  #sortedSkus: string[] | null = null;

  readonly #nameOf: (sku: string) => string | undefined;

  constructor(options: { timeZone: string; policy: PriorPricePolicy; stockOf: (sku: string) => number; nameOf?: (sku: string) => string | undefined }) {
    this.timeZone = options.timeZone;
    this.policy = options.policy;
    this.#stockOf = options.stockOf;
    this.#nameOf = options.nameOf ?? (() => undefined);
  }

  // ── state ───────────────────────────────────────────────────────────────────────────────

  addPrice(record: PriceRecord): void {
    let list = this.#records.get(record.sku);
    if (list === undefined) {
      list = [];
      this.#records.set(record.sku, list);
      this.#sortedSkus = null;
    }
    list.push(record);
    list.sort((x, y) => x.effectiveFrom - y.effectiveFrom || x.version - y.version);
    this.#priorMemo.clear();
  }

  addPromotions(list: ListVersion<BookPromotion>): void {
    insertList(this.#promotionLists, list);
    this.#priorMemo.clear();
  }

  addMarkdowns(list: ListVersion<MarkdownRule>): void {
    insertList(this.#markdownLists, list);
    this.#priorMemo.clear();
  }

  setName(sku: string, name: string): void {
    this.#names.set(sku, name);
  }

  hasSku(sku: string): boolean {
    return this.#records.has(sku) || this.#names.has(sku) || this.#nameOf(sku) !== undefined;
  }

  /** SKUs with at least one price, in code-unit order. */
  skus(): readonly string[] {
    this.#sortedSkus ??= [...this.#records.keys()].sort(compareStrings);
    return this.#sortedSkus;
  }

  name(sku: string): string {
    return this.#nameOf(sku) ?? this.#names.get(sku) ?? sku;
  }

  history(sku: string): readonly PriceRecord[] {
    return this.#records.get(sku) ?? [];
  }

  promotionLists(): readonly ListVersion<BookPromotion>[] {
    return this.#promotionLists;
  }

  markdownLists(): readonly ListVersion<MarkdownRule>[] {
    return this.#markdownLists;
  }

  // ── regular prices and lists in force ─────────────────────────────────────────────────────

  regularAt(sku: string, at: number): PriceRecord | undefined {
    const list = this.#records.get(sku);
    if (list === undefined) return undefined;
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.effectiveFrom <= at) return list[i];
    return undefined;
  }

  /** The instant the SKU got its first price (it "appeared"). */
  appearedAt(sku: string): number | undefined {
    return this.#records.get(sku)?.[0]?.effectiveFrom;
  }

  promotionsAt(at: number): ListVersion<BookPromotion> | undefined {
    return listAt(this.#promotionLists, at);
  }

  markdownsAt(at: number): ListVersion<MarkdownRule> | undefined {
    return listAt(this.#markdownLists, at);
  }

  /** Promotions of the list in force at `at` that touch `sku` and whose own window contains `at`. */
  activePromotions(sku: string, at: number): BookPromotion[] {
    return (this.promotionsAt(at)?.bySku.get(sku) ?? []).filter((p) => withinWindow(p, at));
  }

  /** Markdown rules in force at `at` for `sku` whose local window contains `at` (stock not judged). */
  activeMarkdowns(sku: string, at: number): MarkdownRule[] {
    return (this.markdownsAt(at)?.bySku.get(sku) ?? []).filter((rule) => withinWindow(rule, at) && this.#inLocalWindow(rule, at));
  }

  #inLocalWindow(rule: MarkdownRule, at: number): boolean {
    const until = rule.untilLocalTime === undefined ? undefined : minutesOf(rule.untilLocalTime);
    return dailyWindows(this.timeZone, minutesOf(rule.fromLocalTime), until, at, at).some(([a, b]) => a <= at && at < b);
  }

  // ── what a shopper pays, what a label shows ─────────────────────────────────────────────────

  /** Undefined when the SKU has no price in force at `at`. */
  labelAt(sku: string, at: number): LabelContent | undefined {
    const e = this.#evaluate(sku, at, true);
    if (e === undefined) return undefined;
    const announced = e.winner !== null && e.winner.priorMinor !== null && e.winner.priceMinor < e.winner.priorMinor;
    const texts = [...(announced ? [e.winner!.text] : []), ...e.groupOffers.map((p) => p.description ?? offerText(p, e.regular.currency))];
    const content: Omit<LabelContent, 'version'> = {
      sku,
      name: this.name(sku),
      priceMinor: e.publicMinor,
      currency: e.regular.currency,
      ...(announced ? { wasPriceMinor: e.winner!.priorMinor! } : {}),
      ...(texts.length > 0 ? { promoText: promoLine(texts) } : {}),
      ...(e.memberMinor !== null && e.memberMinor < e.publicMinor ? { memberPriceMinor: e.memberMinor } : {}),
    };
    return { ...content, version: sha256Hex(canonicalJson(content)).slice(0, 16) };
  }

  /**
   * What one unit costs at `at`. Markdown rules apply here whatever the stock: a unit in a cart
   * was on the shelf when it was taken, so "while stock lasts" only stops the label announcing
   * it. So the unit price is never above the label's price (or member price) at the same instant.
   */
  unitPriceAt(sku: string, at: number, member: boolean): UnitPrice | undefined {
    const e = this.#evaluate(sku, at, false);
    if (e === undefined) return undefined;
    const memberWins = member && e.memberMinor !== null && e.memberMinor < e.publicMinor;
    return {
      sku,
      priceMinor: memberWins ? e.memberMinor! : e.publicMinor,
      currency: e.regular.currency,
      regularMinor: e.regular.priceMinor,
      reduction: memberWins || e.winner === null ? null : { kind: e.winner.kind, id: e.winner.id },
      memberPrice: memberWins,
      priceVersion: e.regular.version,
    };
  }

  #evaluate(sku: string, at: number, judgeStock: boolean): Evaluation | undefined {
    const regular = this.regularAt(sku, at);
    if (regular === undefined) return undefined;
    const reductions: Reduction[] = [];
    let unionStart: number | null | undefined;
    const priorFor = (id: string): number | null => {
      const start = this.policy.progressive ? (unionStart ??= this.reductionStart(sku, at)) : this.reductionStart(sku, at, id);
      return start === null ? null : this.priorPrice(sku, start);
    };

    if (regular.source === 'markdown') {
      const prior = priorFor(`price:${regular.version}`);
      const off = prior !== null && prior > 0 ? Math.floor(((prior - regular.priceMinor) * 100) / prior) : 0;
      reductions.push({ kind: 'markdown-price', id: String(regular.version), priceMinor: regular.priceMinor, priorMinor: prior, text: `-${off}%` });
    }
    const promotions = this.activePromotions(sku, at);
    for (const p of promotions) {
      if (p.kind !== 'percentage') continue;
      // [CJEU C-330/23] an announced percentage is taken off the prior price, not the current one.
      const prior = priorFor(`promo:${p.id}`);
      reductions.push({ kind: 'percentage', id: p.id, priceMinor: lessPercent(prior ?? regular.priceMinor, p.percent), priorMinor: prior, text: p.description ?? `-${p.percent}%` });
    }
    for (const rule of this.activeMarkdowns(sku, at)) {
      if (judgeStock && rule.whileStock && !(this.#stockOf(sku) > 0)) continue;
      const prior = priorFor(`rule:${rule.id}`);
      reductions.push({ kind: 'markdown-rule', id: rule.id, priceMinor: lessPercent(prior ?? regular.priceMinor, rule.percent), priorMinor: prior, text: rule.description ?? `-${rule.percent}%` });
    }
    reductions.sort((x, y) => x.priceMinor - y.priceMinor || kindRank[x.kind] - kindRank[y.kind] || compareStrings(x.id, y.id));
    const best = reductions[0];
    const winner = best !== undefined && (best.priceMinor < regular.priceMinor || best.kind === 'markdown-price') ? best : null;

    const memberPrices = promotions.flatMap((p) => (p.kind === 'member-price' ? [p.priceMinor] : []));
    return {
      regular,
      publicMinor: winner?.priceMinor ?? regular.priceMinor,
      winner,
      groupOffers: promotions.filter((p): p is Promotion => p.kind === 'multi-buy' || p.kind === 'bundle').sort((x, y) => compareStrings(x.id, y.id)),
      memberMinor: memberPrices.length > 0 ? Math.min(...memberPrices) : null,
    };
  }

  // ── reductions over time ──────────────────────────────────────────────────────────────────

  /**
   * When the reduction active at `at` began: the start of the unbroken run of reductions that
   * contains `at` (only those of source `id`, when given). Null when none is active at `at`.
   * Time-of-day markdowns count whatever the stock was (past stock is not known).
   */
  reductionStart(sku: string, at: number, id?: string): number | null {
    const appeared = this.appearedAt(sku) ?? at;
    // Look back 2 days first (a nightly markdown), then twice as far each time the run reaches the edge.
    for (let span = 2 * DAY_MS; ; span *= 2) {
      const from = at - span;
      const intervals = this.#reductionIntervals(sku, from, at).filter((iv) => id === undefined || iv.id === id);
      const covering = intervals.filter((iv) => iv.a <= at && at < iv.b);
      if (covering.length === 0) return null;
      let start = Math.min(...covering.map((iv) => iv.a));
      for (let changed = true; changed; ) {
        changed = false;
        for (const iv of intervals) {
          if (iv.a < start && iv.b >= start) {
            start = iv.a;
            changed = true;
          }
        }
      }
      // Every interval reaching back before `from` was generated (rules a day beyond it), so a start
      // a day after `from` is final; a start before the SKU appeared only means "no prior price".
      if (start > from + DAY_MS || from < appeared || from < at - MAX_LOOKBACK_MS) return start;
    }
  }

  /** Reductions of `sku` as intervals [a, b) that reach into [from, to]. */
  #reductionIntervals(sku: string, from: number, to: number): Interval[] {
    const out: Interval[] = [];
    const records = this.#records.get(sku) ?? [];
    records.forEach((r, i) => {
      if (r.source !== 'markdown') return;
      const b = records[i + 1]?.effectiveFrom ?? Infinity;
      if (r.effectiveFrom < b && b > from && r.effectiveFrom <= to) out.push({ a: r.effectiveFrom, b, id: `price:${r.version}` });
    });
    forEachSpan(this.#promotionLists, from, to, (list, s, e) => {
      for (const p of list.bySku.get(sku) ?? []) {
        if (p.kind !== 'percentage') continue;
        const a = Math.max(s, p.validFrom ?? -Infinity);
        const b = Math.min(e, p.validUntil ?? Infinity);
        if (a < b) out.push({ a, b, id: `promo:${p.id}` });
      }
    });
    forEachSpan(this.#markdownLists, from, to, (list, s, e) => {
      for (const rule of list.bySku.get(sku) ?? []) {
        for (const [wa, wb] of this.ruleWindows(rule, Math.max(from, s), Math.min(to, e))) {
          const a = Math.max(wa, s);
          const b = Math.min(wb, e);
          if (a < b) out.push({ a, b, id: `rule:${rule.id}` });
        }
      }
    });
    return out;
  }

  /** A rule's daily windows around [start, end], cut to its validity window. */
  ruleWindows(rule: MarkdownRule, start: number, end: number): Array<[number, number]> {
    const until = rule.untilLocalTime === undefined ? undefined : minutesOf(rule.untilLocalTime);
    return dailyWindows(this.timeZone, minutesOf(rule.fromLocalTime), until, start, end).flatMap(([a, b]): Array<[number, number]> => {
      const ca = Math.max(a, rule.validFrom ?? -Infinity);
      const cb = Math.min(b, rule.validUntil ?? Infinity);
      return ca < cb ? [[ca, cb]] : [];
    });
  }

  /**
   * The prior price of a reduction that began at `start`: the lowest public price in the
   * `policy.days` before it [Art. 6a(2)], or since the SKU appeared if that is later
   * [Art. 6a(4)]. Null when there is no such period (the SKU appeared at or after `start`, or is
   * too new under `not-announced`). Time-of-day markdowns and member prices are not part of it
   * (docs/pricing.md).
   */
  priorPrice(sku: string, start: number): number | null {
    const key = `${sku}|${start}`;
    if (this.#priorMemo.has(key)) return this.#priorMemo.get(key)!;
    const result = this.#computePrior(sku, start);
    this.#priorMemo.set(key, result);
    return result;
  }

  #computePrior(sku: string, start: number): number | null {
    const appeared = this.appearedAt(sku);
    if (appeared === undefined) return null;
    let from = start - this.policy.days * DAY_MS;
    if (from < appeared) {
      if (this.policy.newArrivals === 'not-announced') return null;
      from = appeared;
    }
    if (from >= start) return null;
    // The public price only changes where a record, a list or a percentage promotion starts or ends.
    const points = new Set<number>([from]);
    const inside = (t: number | undefined) => t !== undefined && t > from && t < start;
    for (const r of this.#records.get(sku) ?? []) if (inside(r.effectiveFrom)) points.add(r.effectiveFrom);
    forEachSpan(this.#promotionLists, from, start, (list, s) => {
      if (inside(s)) points.add(s);
      for (const p of list.bySku.get(sku) ?? []) {
        if (inside(p.validFrom)) points.add(p.validFrom!);
        if (inside(p.validUntil)) points.add(p.validUntil!);
      }
    });
    let lowest = Infinity;
    for (const t of points) lowest = Math.min(lowest, this.#historicPublicPrice(sku, t));
    return Number.isFinite(lowest) ? lowest : null;
  }

  /** The public price at a past instant as the prior-price rule counts it: regular and percentage promotions. */
  #historicPublicPrice(sku: string, at: number): number {
    const regular = this.regularAt(sku, at);
    if (regular === undefined) return Infinity;
    let price = regular.priceMinor;
    for (const p of this.activePromotions(sku, at)) {
      if (p.kind !== 'percentage') continue;
      const start = this.policy.progressive ? this.reductionStart(sku, at) : this.reductionStart(sku, at, `promo:${p.id}`);
      // Strictly earlier than `at`, so this recursion ends.
      const prior = start === null ? null : this.priorPrice(sku, start);
      price = Math.min(price, lessPercent(prior ?? regular.priceMinor, p.percent));
    }
    return price;
  }
}

/** The list in force at `at`: latest effectiveFrom ≤ at (same instant: the later version). */
function listAt<T>(lists: readonly ListVersion<T>[], at: number): ListVersion<T> | undefined {
  for (let i = lists.length - 1; i >= 0; i--) if (lists[i]!.effectiveFrom <= at) return lists[i];
  return undefined;
}

function insertList<T>(lists: ListVersion<T>[], list: ListVersion<T>): void {
  lists.push(list);
  lists.sort((x, y) => x.effectiveFrom - y.effectiveFrom || x.version - y.version);
}

/** Calls `fn(list, start, end)` for each list whose span [effectiveFrom, next effectiveFrom) meets [from, to]. */
export function forEachSpan<T>(lists: readonly ListVersion<T>[], from: number, to: number, fn: (list: ListVersion<T>, start: number, end: number) => void): void {
  lists.forEach((list, i) => {
    const s = list.effectiveFrom;
    const e = lists[i + 1]?.effectiveFrom ?? Infinity;
    if (s < e && e > from && s <= to) fn(list, s, e);
  });
}

export function indexBySku<T extends BookPromotion | MarkdownRule>(items: readonly T[]): Map<string, T[]> {
  const bySku = new Map<string, T[]>();
  for (const item of items) {
    const skus = 'fromLocalTime' in item ? item.skus : promotionSkus(item as BookPromotion);
    for (const sku of skus) {
      const list = bySku.get(sku) ?? [];
      list.push(item);
      bySku.set(sku, list);
    }
  }
  return bySku;
}

/** Longest promo line a label renders (labels/render/content.ts). */
export const PROMO_TEXT_MAX = 60;

/**
 * The texts joined by " · ", as many whole ones as fit in PROMO_TEXT_MAX characters; the first
 * (the announced reduction, when there is one) is always kept, cut with "…" if it alone is too long.
 */
function promoLine(texts: readonly string[]): string {
  const chars = (t: string) => [...t];
  let line = chars(texts[0]!).length > PROMO_TEXT_MAX ? chars(texts[0]!).slice(0, PROMO_TEXT_MAX - 1).join('') + '…' : texts[0]!;
  for (const text of texts.slice(1)) {
    const next = `${line} · ${text}`;
    if (chars(next).length > PROMO_TEXT_MAX) break;
    line = next;
  }
  return line;
}

/** "2 for 3.00 EUR", "Bundle: a + b for 5.00 EUR" (the checkout's wording; its formatter is private). */
function offerText(p: Promotion, currency: string): string {
  if (p.kind === 'multi-buy') return `${p.buy} for ${formatMinor(p.payMinor, currency)}`;
  if (p.kind === 'bundle') return `Bundle: ${p.skus.join(' + ')} for ${formatMinor(p.payMinor, currency)}`;
  return p.description ?? `-${p.percent}%`;
}

function formatMinor(amountMinor: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // not an ISO 4217 code: cents
  }
  if (digits === 0) return `${amountMinor} ${currency}`;
  const scale = 10 ** digits;
  return `${Math.floor(amountMinor / scale)}.${String(amountMinor % scale).padStart(digits, '0')} ${currency}`;
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
