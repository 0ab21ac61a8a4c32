export * from './appearance.ts';
export * from './options.ts';
export * from './scene.ts';
export * from './crop.ts';
export * from './render.ts';
