export * from './sgtin.ts';
