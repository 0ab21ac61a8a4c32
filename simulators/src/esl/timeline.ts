import type { Clock, TimerHandle } from '../clock.ts';
import { EventHeap } from './event-heap.ts';

/** Float sums of due times can land a hair off the clock's; closer than this counts as due. */
const DUE_EPSILON_MS = 1e-6;

/**
 * The events of one gateway's radio on one clock timer: a heap holds every scheduled event
 * and a single timeout is armed for the earliest. When it fires, every event due by then runs
 * in time order (and those they schedule for the same instant), then the timer is re-armed.
 * On a SimClock a store of 20 gateways costs the clock 20 timers, not one per tag.
 */
export class Timeline<T> {
  readonly #clock: Clock;
  readonly #run: (event: T, due: number) => void;
  readonly #onError: (error: unknown) => void;
  readonly #heap = new EventHeap<T>();
  #armed: { due: number; handle: TimerHandle } | undefined;
  #draining = false;
  #running = false;
  /** One callback for every arm: 500 arms a simulated second should not each allocate a closure. */
  readonly #drainBound = (): void => this.#drain();

  /**
   * `run` handles one event, given the time it was due; when it throws, `onError` gets the
   * error and the other events still run (a bug in one tag's step must not stop the store).
   */
  constructor(clock: Clock, run: (event: T, due: number) => void, onError: (error: unknown) => void) {
    this.#clock = clock;
    this.#run = run;
    this.#onError = onError;
  }

  get size(): number {
    return this.#heap.size;
  }

  /** Starts firing events (those scheduled before start wait for it). */
  start(): void {
    this.#running = true;
    this.#arm();
  }

  /** Stops firing and forgets every scheduled event. */
  stop(): void {
    this.#running = false;
    this.#disarm();
    this.#heap.clear();
  }

  /** Schedules `event` at absolute time `due` (a due time in the past runs as soon as possible). */
  at(due: number, event: T): void {
    this.#heap.push(due, event);
    if (!this.#running || this.#draining) return;
    if (this.#armed === undefined || due < this.#armed.due) this.#arm();
  }

  #arm(): void {
    this.#disarm();
    const due = this.#heap.peekDue();
    if (due === undefined || !this.#running) return;
    const handle = this.#clock.setTimeout(this.#drainBound, Math.max(0, due - this.#clock.now()));
    this.#armed = { due, handle };
  }

  #disarm(): void {
    if (this.#armed === undefined) return;
    this.#clock.clearTimeout(this.#armed.handle);
    this.#armed = undefined;
  }

  #drain(): void {
    this.#armed = undefined;
    this.#draining = true;
    try {
      for (;;) {
        const due = this.#heap.peekDue();
        if (due === undefined || due > this.#clock.now() + DUE_EPSILON_MS || !this.#running) break;
        const event = this.#heap.pop()!;
        try {
          this.#run(event, due);
        } catch (error) {
          this.#onError(error);
        }
      }
    } finally {
      this.#draining = false;
    }
    this.#arm();
  }
}
