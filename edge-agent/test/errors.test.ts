import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errors, StoreEdgeError } from '../src/errors.ts';

const docs = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...docs.matchAll(/`([A-Z]+_ERR_[A-Z0-9_]+)`/g)].map((m) => m[1]!));

/** Every package's catalogue, by prefix. Add a package's errors here when it gets its own file. */
async function allCodes(): Promise<string[]> {
  const simulators = (await import('@storeedge/simulators')) as { simulatorErrorCodes?: readonly string[] };
  const drivers = (await import('@storeedge/device-drivers')) as { driverErrorCodes?: readonly string[] };
  const models = (await import('@storeedge/models')) as { modelErrorCodes?: readonly string[] };
  const sync = (await import('@storeedge/sync')) as { syncErrorCodes?: readonly string[] };
  const hq = (await import('@storeedge/sync/hq/index.ts')) as { hqErrorCodes?: readonly string[] };
  return [
    ...Object.keys(errors),
    ...(simulators.simulatorErrorCodes ?? []),
    ...(drivers.driverErrorCodes ?? []),
    ...(models.modelErrorCodes ?? []),
    ...(sync.syncErrorCodes ?? []),
    ...(hq.hqErrorCodes ?? []),
  ];
}

describe('error catalogue', () => {
  it('each factory makes an error whose code is its key', () => {
    for (const [key, make] of Object.entries(errors)) {
      const error = make();
      expect(error).toBeInstanceOf(StoreEdgeError);
      expect(error.code).toBe(key);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it('every code is documented in docs/errors.md, and every documented code exists', async () => {
    const codes = await allCodes();
    for (const code of codes) expect(documented.has(code), `${code} missing from docs/errors.md`).toBe(true);
    for (const code of documented) expect(codes.includes(code), `${code} documented but not defined`).toBe(true);
  });
});
