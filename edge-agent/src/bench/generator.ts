import { Worker } from 'node:worker_threads';
import type { FromGenerator, GeneratorConfig, PublishReport, ToGenerator } from './generator-protocol.ts';

const entry = new URL('./load-generator-entry.mjs', import.meta.url);

type Reply<T extends FromGenerator['type']> = Extract<FromGenerator, { type: T }>;

/**
 * The main thread's handle on one load-generator worker. Every step is bounded in time; on any
 * failure or timeout the worker is terminated (its sockets close with it).
 */
export class LoadGenerator {
  readonly #worker: Worker;
  readonly #waiters = new Map<string, { resolve: (m: FromGenerator) => void; reject: (e: Error) => void }>();
  #failure: Error | undefined;
  #exited = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: FromGenerator) => {
      if (message.type === 'failed') return this.#fail(new Error(`load generator: ${message.message}`));
      const waiter = this.#waiters.get(message.type);
      this.#waiters.delete(message.type);
      waiter?.resolve(message);
    });
    worker.on('error', (err) => this.#fail(new Error(`load generator crashed: ${err.message}`)));
    worker.on('exit', (code) => {
      this.#exited = true;
      this.#fail(new Error(`load generator exited (code ${code})`));
    });
  }

  /** Starts the worker and waits until its module has loaded. */
  static async start(config: GeneratorConfig, timeoutMs = 30_000): Promise<LoadGenerator> {
    const generator = new LoadGenerator(new Worker(entry, { workerData: config }));
    try {
      await generator.#await('ready', timeoutMs);
    } catch (error) {
      await generator.terminate();
      throw error;
    }
    return generator;
  }

  /**
   * Offset of the worker's clock from this thread's (ms; worker − main), from the ping with the
   * shortest round trip. Both threads use performance.timeOrigin + performance.now().
   */
  async clockOffset(pings = 9): Promise<{ offsetMs: number; rttMs: number }> {
    let best = { offsetMs: Number.NaN, rttMs: Number.POSITIVE_INFINITY };
    for (let i = 0; i < pings; i++) {
      const t0 = performance.timeOrigin + performance.now();
      this.#send({ type: 'ping', t0 });
      const pong = await this.#await('pong', 5_000);
      const t1 = performance.timeOrigin + performance.now();
      if (t1 - t0 < best.rttMs) best = { offsetMs: pong.t - (t0 + t1) / 2, rttMs: t1 - t0 };
    }
    return best;
  }

  /** Connects every device; resolves with the time it took (ms). */
  async connect(timeoutMs: number): Promise<number> {
    this.#send({ type: 'connect' });
    return (await this.#await('connected', timeoutMs)).connectMs;
  }

  /** Runs the publish phase (the worker bounds it by its publishTimeoutMs). */
  async publish(timeoutMs: number): Promise<PublishReport> {
    this.#send({ type: 'publish' });
    const { type: _type, ...report } = await this.#await('published', timeoutMs);
    return report;
  }

  /** Disconnects the devices and ends the worker; terminates it if that takes longer than timeoutMs. */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.#exited) return;
    try {
      this.#send({ type: 'close' });
      await this.#await('closed', timeoutMs);
    } catch {
      // fall through to terminate
    }
    await this.terminate();
  }

  async terminate(): Promise<void> {
    if (this.#exited) return;
    await this.#worker.terminate();
    this.#exited = true;
  }

  #send(message: ToGenerator): void {
    if (this.#failure) throw this.#failure;
    this.#worker.postMessage(message);
  }

  #await<T extends FromGenerator['type']>(type: T, timeoutMs: number): Promise<Reply<T>> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Reply<T>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(type);
        reject(new Error(`load generator: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.set(type, {
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m as Reply<T>);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiters.values()) waiter.reject(error);
    this.#waiters.clear();
  }
}
