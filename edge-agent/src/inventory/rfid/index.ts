export * from './options.ts';
export * from './presence-tracker.ts';
export type { ExitRecord } from './exit-log.ts';
