export * from './topics.ts';
export * from './payloads.ts';
export * from './errors.ts';
export * from './store-model.ts';
