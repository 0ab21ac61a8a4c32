export { PriceBook, type PriceBookOptions, type PriceChange, type PriceChangeListener, type PriceListEntry, type PriceListQuery, type SetListOptions, type SetPriceInput } from './price-book.ts';
export { registerPricingRoutes, type PricingApi } from './routes.ts';
export { pricingEventTypes, pricingStream, priceSources, listSources, type PriceSet, type PromotionsSet, type MarkdownsSet, type PriceSource, type ListSource } from './ledger-events.ts';
export { bookPromotionsSchema, markdownRulesSchema, memberPriceSchema, type BookPromotion, type MarkdownRule, type MarkdownRuleInput, type MemberPricePromotion } from './rules.ts';
export { defaultPriorPricePolicy, type LabelContent, type ListVersion, type PriceRecord, type PriorPricePolicy, type UnitPrice } from './timeline.ts';
