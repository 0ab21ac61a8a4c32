export { EslRadio, type EslRadioInit, type EslRadioSink, type SubmitOutcome } from './radio.ts';
export {
  eslRadioOptionsSchema,
  eslTagConfigSchema,
  type EslRadioOptions,
  type EslTagConfig,
  type ResolvedEslRadioOptions,
} from './radio-options.ts';
export { type EslRadioCounters, type EslTagTruth, type ShownContent, type ShownRecord } from './ground-truth.ts';
export { defaultBatteryCosts, voltageAt, type BatteryCosts } from './battery.ts';
