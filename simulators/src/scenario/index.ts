export * from './scenario-file.ts';
export * from './shelf-script.ts';
export * from './shelf-evaluation.ts';
export * from './shelf-run.ts';
export * from './labels-activity.ts';
export * from './labels-run.ts';
