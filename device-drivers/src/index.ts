export * from './topics.ts';
export * from './payloads.ts';
export * from './errors.ts';
export * from './store-model.ts';
export * from './shelf/index.ts';
export * from './rfid/index.ts';
export * from './epc/index.ts';
export * from './serial-mock-line.ts';
