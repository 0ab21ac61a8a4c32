// Worker-thread entry of the sync bench's HQ thread. Node 20 does not apply `execArgv: ['--import', 'tsx']`
// to a worker's own .ts entry (ERR_UNKNOWN_FILE_EXTENSION), so this plain-JS entry registers tsx's
// loader in the worker first and then loads the TypeScript module (as load-generator-entry.mjs does).
import { register } from 'tsx/esm/api';

register();
await import('./sync-hq-worker.ts');
