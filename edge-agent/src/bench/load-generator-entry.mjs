// Worker-thread entry of the load generator. Node 20 does not apply `execArgv: ['--import', 'tsx']`
// to a worker's own .ts entry (it fails with ERR_UNKNOWN_FILE_EXTENSION), so this plain-JS
// entry registers tsx's loader in the worker first and then loads the TypeScript module.
import { register } from 'tsx/esm/api';

register();
await import('./load-generator.ts');
