export * from './options.ts';
export * from './pipeline.ts';
export { explainDelta, fitFactor, type Explanation, type QuantityEstimate, type SkuWeight } from './quantity.ts';
export { SettleDetector, type SettledSegment, type SettleState } from './settle-detector.ts';
