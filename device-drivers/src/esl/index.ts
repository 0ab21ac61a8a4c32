export * from './protocol.ts';
export * from './tag-types.ts';
