import { newApiToken } from '../../../src/http/auth/index.ts';
import type { SyncHealth } from '../../../src/sync/sync-service.ts';

/** The store manager's API token in the rig's agents (a manager token named "test-manager"; sync-rig puts its sha256 in each config). */
export const managerApiToken = newApiToken();

/**
 * Waiting on conditions, never on the clock: a probe is polled until it returns a value (not
 * undefined); the deadline only bounds a hang, with `context()` (e.g. a child's stderr) in the
 * error.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, options: { timeoutMs?: number; context?: () => string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}${options.context ? `\n${options.context()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `sync` of the agent's GET /api/health. */
export async function syncHealth(api: string): Promise<SyncHealth> {
  const response = await fetch(`${api}/api/health`);
  if (!response.ok) throw new Error(`GET /api/health: ${response.status}`);
  const health = (await response.json()) as { sync: SyncHealth | null };
  if (!health.sync) throw new Error('the agent reports no sync');
  return health.sync;
}

/** A manager's price change through the agent's API: one more outbox row, at a moment the test chooses. */
export async function managerPriceChange(api: string, sku: string, priceMinor: number): Promise<void> {
  const response = await fetch(`${api}/api/prices`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${managerApiToken.token}` },
    body: JSON.stringify({ sku, priceMinor, reason: 'fault test: a price changed while the link is in trouble' }),
  });
  if (!response.ok) throw new Error(`POST /api/prices: ${response.status} ${await response.text()}`);
}
