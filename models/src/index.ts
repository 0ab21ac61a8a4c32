export * from './manifest.ts';
export * from './recogniser.ts';
export * from './inference/service.ts';
export * from './hand-crop.ts';
