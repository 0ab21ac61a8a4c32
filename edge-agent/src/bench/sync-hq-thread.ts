import { Worker } from 'node:worker_threads';
import type { FromHq, HqReplyValue, HqRequest, ToHq } from './sync-hq-protocol.ts';

const entry = new URL('./sync-hq-worker-entry.mjs', import.meta.url);

type ValueOf<O extends HqRequest['op']> = Extract<HqReplyValue, { op: O }>;

/**
 * The bench's handle on its HQ thread (sync-hq-worker.ts). Requests run one at a time in the
 * worker; each is bounded in time, and a crash or timeout fails every waiting request.
 */
export class HqThread {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (value: HqReplyValue) => void; reject: (error: Error) => void }>();
  #next = 1;
  #failure: Error | undefined;
  #exited = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (reply: FromHq) => {
      const waiter = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new Error(`HQ thread: ${reply.error}`));
    });
    worker.on('error', (error) => this.#fail(new Error(`HQ thread crashed: ${error.message}`)));
    worker.on('exit', (code) => {
      this.#exited = true;
      this.#fail(new Error(`HQ thread exited (code ${code})`));
    });
  }

  static start(): HqThread {
    return new HqThread(new Worker(entry));
  }

  /** Sends one request and waits for its reply (at most timeoutMs; the first request also waits for the module to load). */
  request<R extends HqRequest>(request: R, timeoutMs = 60_000): Promise<ValueOf<R['op']>> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise<ValueOf<R['op']>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error(`HQ thread: no reply to "${request.op}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as ValueOf<R['op']>);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.#worker.postMessage({ ...request, id } satisfies ToHq);
    });
  }

  /** Closes HQ (if open) and ends the thread; terminates it if that takes longer than timeoutMs. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.#exited) return;
    await this.request({ op: 'close' }, timeoutMs).catch(() => undefined);
    await this.#worker.terminate();
    this.#exited = true;
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}
