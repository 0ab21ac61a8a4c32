export * from './field.ts';
export * from './m100-simulator.ts';
export * from './json-reader-simulator.ts';
