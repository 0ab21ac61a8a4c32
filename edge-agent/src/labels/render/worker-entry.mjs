// Worker-thread entry of the label renderer. Node 20 does not apply tsx to a worker's own .ts
// entry (ERR_UNKNOWN_FILE_EXTENSION), so this plain-JS entry registers tsx's loader in the
// worker first and then loads the TypeScript module (as models/src/inference/worker-entry.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
