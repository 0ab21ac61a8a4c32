/**
 * Time as the simulators see it. Devices, shoppers and the store take a `Clock` so the same
 * code runs on wall time in the demo and on virtual time in tests and scenarios, where a
 * simulated hour passes in milliseconds and replays identically.
 */
declare const timerHandleBrand: unique symbol;
/** An opaque timer handle; only the clock that made it can clear it. */
export type TimerHandle = { readonly [timerHandleBrand]: true };

export interface Clock {
  /** Milliseconds since the epoch (virtual for a SimClock). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
}

/** Wall time: Date.now() and Node's own timers. */
export const realClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle: TimerHandle) => clearTimeout(handle as unknown as NodeJS.Timeout),
  setInterval: (fn: () => void, ms: number) => setInterval(fn, ms) as unknown as TimerHandle,
  clearInterval: (handle: TimerHandle) => clearInterval(handle as unknown as NodeJS.Timeout),
});

interface SimTimer {
  readonly id: number;
  readonly fn: () => void;
  due: number;
  /** Insertion order: ties at the same due time fire in the order they were scheduled. */
  seq: number;
  readonly intervalMs: number | undefined;
}

/**
 * Virtual time. Nothing happens until `advance(ms)` or `runUntil(t)`, which fire every due
 * timer in time order (ties in scheduling order), including timers scheduled by the timers
 * they fire, and leave `now()` at the target. A timer that throws propagates out of
 * advance() — the simulators wrap their own callbacks, so a throw here is a bug to see.
 */
export class SimClock implements Clock {
  #now: number;
  #nextId = 1;
  #nextSeq = 0;
  readonly #timers = new Map<number, SimTimer>();

  /** Starts at `startMs` (default 2025-01-01T00:00:00Z, so `at` fields look like real times). */
  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    // Like Node: an interval under 1 ms runs every 1 ms (a 0 ms interval would never let time move).
    return this.#schedule(fn, ms, Math.max(1, sanitizeDelay(ms)));
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handleId(handle));
  }

  clearInterval(handle: TimerHandle): void {
    this.#timers.delete(handleId(handle));
  }

  /** Moves time forward by `ms`, firing what falls due on the way. */
  advance(ms: number): void {
    this.runUntil(this.#now + sanitizeDelay(ms));
  }

  /** Moves time to `t` (never backwards), firing every timer due at or before it. */
  runUntil(t: number): void {
    for (;;) {
      const timer = this.#earliest();
      if (timer === undefined || timer.due > t) break;
      this.#now = timer.due;
      if (timer.intervalMs === undefined) {
        this.#timers.delete(timer.id);
      } else {
        timer.due += timer.intervalMs;
        timer.seq = this.#nextSeq++;
      }
      timer.fn();
    }
    if (t > this.#now) this.#now = t;
  }

  /** The number of scheduled timers (intervals count once). */
  pending(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or undefined when none is scheduled. */
  nextDue(): number | undefined {
    return this.#earliest()?.due;
  }

  #schedule(fn: () => void, ms: number, intervalMs: number | undefined): TimerHandle {
    const id = this.#nextId++;
    const delay = intervalMs ?? sanitizeDelay(ms);
    this.#timers.set(id, { id, fn, due: this.#now + delay, seq: this.#nextSeq++, intervalMs });
    return { id } as unknown as TimerHandle;
  }

  /**
   * A linear scan: simulations keep tens of timers (one interval per device, one step per
   * active shopper), where a heap would cost more code than it saves.
   */
  #earliest(): SimTimer | undefined {
    let best: SimTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (best === undefined || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq)) best = timer;
    }
    return best;
  }
}

/** Like Node: negative, NaN or infinite delays mean "as soon as possible". */
function sanitizeDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function handleId(handle: TimerHandle): number {
  return (handle as unknown as { id: number }).id;
}
