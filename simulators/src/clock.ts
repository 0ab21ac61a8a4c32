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
  readonly #heap = new TimerHeap();

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
      this.#heap.pop();
      this.#now = timer.due;
      if (timer.intervalMs === undefined) {
        this.#timers.delete(timer.id);
      } else {
        timer.due += timer.intervalMs;
        timer.seq = this.#nextSeq++;
        this.#heap.push({ timer, due: timer.due, seq: timer.seq });
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
    const timer: SimTimer = { id, fn, due: this.#now + delay, seq: this.#nextSeq++, intervalMs };
    this.#timers.set(id, timer);
    // Cleared timers wait in the heap until they reach the top; rebuild when they dominate it.
    if (this.#heap.size > 4 * this.#timers.size + 1024) this.#heap.rebuild([...this.#timers.values()].map((t) => ({ timer: t, due: t.due, seq: t.seq })));
    else this.#heap.push({ timer, due: timer.due, seq: timer.seq });
    return { id } as unknown as TimerHandle;
  }

  /**
   * The next live timer, left at the top of the heap. A labels scenario keeps tens of thousands
   * of timers (a check-in per tag, a delivery timeout per image), so a linear scan per fired
   * timer was quadratic. Cleared timers and the old entries of rescheduled intervals are
   * dropped lazily here, when they reach the top.
   */
  #earliest(): SimTimer | undefined {
    for (;;) {
      const top = this.#heap.peek();
      if (top === undefined) return undefined;
      const live = this.#timers.get(top.timer.id) === top.timer && top.timer.due === top.due && top.timer.seq === top.seq;
      if (live) return top.timer;
      this.#heap.pop();
    }
  }
}

interface HeapEntry {
  readonly timer: SimTimer;
  /** The timer's due time and order when this entry was pushed (an interval moves on; its old entry goes stale). */
  readonly due: number;
  readonly seq: number;
}

/** A binary min-heap of timer entries by (due, seq): ties fire in scheduling order. */
class TimerHeap {
  #items: HeapEntry[] = [];

  get size(): number {
    return this.#items.length;
  }

  rebuild(entries: HeapEntry[]): void {
    this.#items = entries.sort((a, b) => (before(a, b) ? -1 : before(b, a) ? 1 : 0));
  }

  peek(): HeapEntry | undefined {
    return this.#items[0];
  }

  push(entry: HeapEntry): void {
    const items = this.#items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): HeapEntry | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && before(items[l]!, items[smallest]!)) smallest = l;
        if (r < items.length && before(items[r]!, items[smallest]!)) smallest = r;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }
}

function before(a: HeapEntry, b: HeapEntry): boolean {
  return a.due < b.due || (a.due === b.due && a.seq < b.seq);
}

/** Like Node: negative, NaN or infinite delays mean "as soon as possible". */
function sanitizeDelay(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function handleId(handle: TimerHandle): number {
  return (handle as unknown as { id: number }).id;
}
