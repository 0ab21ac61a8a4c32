export * from './canonical.ts';
export * from './errors.ts';
export * from './keys.ts';
export * from './documents.ts';
export * from './uplink.ts';
export * from './hlc.ts';
export * from './topics.ts';
export * from './packet-size-guard.ts';
