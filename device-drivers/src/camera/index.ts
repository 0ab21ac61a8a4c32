export * from './calibration.ts';
export * from './frame.ts';
export * from './frame-store.ts';
export * from './crop.ts';
