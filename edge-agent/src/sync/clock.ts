/**
 * Time as the sync components see it: the relay's ack timeouts, back-off and backlog rate, the
 * status interval. Injected so tests run on fake time; the agent passes real time (sync talks to
 * a real broker even when a scenario simulates the store's clock).
 */
export interface SyncClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Wall-clock time; its timers never keep the process alive. */
export const realSyncClock: SyncClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Exponential back-off with jitter: the n-th consecutive failure (n ≥ 1) waits between half and
 * all of min(max, base × 2^(n−1)), so stores that lost HQ together do not retry in lockstep.
 */
export function backoffMs(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
