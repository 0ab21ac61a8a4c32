#!/usr/bin/env node
// Entry point for `npx storeedge …`: loads the TypeScript sources through tsx's loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../edge-agent/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
