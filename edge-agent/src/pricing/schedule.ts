/**
 * When labels and unit prices change by themselves: effective-dated prices, promotion and list
 * windows, markdown windows in store-local time. The label service asks for the next instant
 * and re-renders ahead of it (research/esl.md §6 point 5); immediate changes come from
 * PriceBook.onChange instead.
 */
import { forEachSpan, type ListVersion, type PriceTimeline } from './timeline.ts';
import { promotionSkus, type BookPromotion, type MarkdownRule } from './rules.ts';

/**
 * Instants in (from, to] at which something that prices a SKU starts or ends, each with the SKUs
 * it may touch (only `sku`'s, when given). A candidate is not yet a change: the caller compares.
 */
export function changeCandidates(timeline: PriceTimeline, from: number, to: number, sku?: string): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const add = (t: number | undefined, skus: Iterable<string>) => {
    if (t === undefined || !(t > from && t <= to)) return;
    let set = out.get(t);
    for (const s of skus) {
      if (sku !== undefined && s !== sku) continue;
      if (set === undefined) out.set(t, (set = new Set()));
      set.add(s);
    }
  };
  for (const s of sku === undefined ? timeline.skus() : [sku]) {
    for (const record of timeline.history(s)) add(record.effectiveFrom, [s]);
  }
  listCandidates(timeline.promotionLists(), from, to, sku, add, (p: BookPromotion) => promotionSkus(p), (p, _s, _e, emit) => {
    emit(p.validFrom);
    emit(p.validUntil);
  });
  listCandidates(timeline.markdownLists(), from, to, sku, add, (rule: MarkdownRule) => rule.skus, (rule, s, e, emit) => {
    for (const [a, b] of timeline.ruleWindows(rule, Math.max(from, s), Math.min(to, e))) {
      emit(a);
      emit(b);
    }
  });
  return out;
}

function listCandidates<T>(
  lists: readonly ListVersion<T>[],
  from: number,
  to: number,
  sku: string | undefined,
  add: (t: number | undefined, skus: Iterable<string>) => void,
  skusOf: (item: T) => string[],
  bounds: (item: T, start: number, end: number, emit: (t: number | undefined) => void) => void,
): void {
  forEachSpan(lists, from, to, (list, s, e) => {
    const items = sku === undefined ? list.items : list.bySku.get(sku) ?? [];
    // A new list may drop or add items: every SKU of it and of the list before it.
    const index = lists.indexOf(list);
    const before = index > 0 ? lists[index - 1]! : undefined;
    const beforeItems = before === undefined ? [] : sku === undefined ? before.items : before.bySku.get(sku) ?? [];
    add(s, [...items, ...beforeItems].flatMap(skusOf));
    for (const item of items) bounds(item, s, e, (t) => (t !== undefined && t >= s && t <= e ? add(t, skusOf(item)) : undefined));
  });
}
