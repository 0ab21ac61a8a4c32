export * from './noise-options.ts';
export * from './hand-action.ts';
export * from './burst-schedule.ts';
export * from './load-cell-model.ts';
export * from './weight-payloads.ts';
