// Worker-thread entry of the inference service. Node 20 does not apply tsx to a worker's own .ts
// entry (ERR_UNKNOWN_FILE_EXTENSION), so this plain-JS entry registers tsx's loader in the
// worker first and then loads the TypeScript module (as edge-agent/src/bench/load-generator-entry.mjs).
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
