import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { errors, type EdgeErrorCode, type StoreEdgeError } from '../../errors.ts';
import { parseLabelContent } from './content.ts';
import type { FromWorker, ToWorker, WireError, WireRendered } from './protocol.ts';
import { requireTagType, type RenderedLabel, type RenderOptions } from './render-label.ts';

const workerEntry = new URL('./worker-entry.mjs', import.meta.url);

export interface LabelRendererOptions {
  /** Worker threads (default: cores − 1, at least 1). */
  workers?: number;
  /** Renders that may wait for a worker; one more is refused with EDGE_ERR_LABEL_RENDER_QUEUE_FULL (default 256). */
  queueLimit?: number;
  /** First delay before a crashed worker is restarted, doubling while it keeps crashing, up to 10 s (default 100 ms). */
  restartDelayMs?: number;
  /** Called with each worker thread started (tests; default none). */
  onWorker?: (worker: Worker, index: number) => void;
}

export interface LabelRendererStatus {
  workers: number;
  /** Workers started and ready. */
  ready: number;
  busy: number;
  queued: number;
  queueLimit: number;
  rendered: number;
  failed: number;
  /** Renders refused because the queue was full. */
  refused: number;
  crashes: number;
}

interface Job {
  id: number;
  message: ToWorker;
  transfer: ArrayBuffer[];
  resolve: (label: RenderedLabel) => void;
  reject: (error: Error) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  job: Job | undefined;
  uncaught: string | undefined;
  exited: Promise<void>;
}

/**
 * Renders labels off the event loop: a pool of worker threads (worker.ts), one label at a time
 * each, fed from a bounded FIFO queue. Content and tag type are checked on the calling thread
 * first, so a bad label fails at once without taking a worker. A worker that dies fails the
 * render it was running (EDGE_ERR_LABEL_RENDER_FAILED) and is restarted.
 */
export class LabelRenderer {
  readonly #options: Required<Omit<LabelRendererOptions, 'onWorker'>>;
  readonly #onWorker: LabelRendererOptions['onWorker'];
  readonly #slots: Array<Slot | undefined> = [];
  readonly #queue: Job[] = [];
  readonly #counts = { rendered: 0, failed: 0, refused: 0, crashes: 0 };
  #jobs = 0;
  #closed = false;
  #crashesInARow = 0;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(options: LabelRendererOptions = {}) {
    const workers = options.workers ?? Math.max(1, availableParallelism() - 1);
    const queueLimit = options.queueLimit ?? 256;
    const restartDelayMs = options.restartDelayMs ?? 100;
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`workers must be an integer from 1 to 64, got ${workers}`);
    if (!Number.isInteger(queueLimit) || queueLimit < 0) throw new RangeError(`queueLimit must be a non-negative integer, got ${queueLimit}`);
    this.#options = { workers, queueLimit, restartDelayMs };
    this.#onWorker = options.onWorker;
    for (let i = 0; i < workers; i++) this.#spawn(i);
  }

  /**
   * Renders one label for a tag type. Rejects with EDGE_ERR_LABEL_CONTENT_INVALID or
   * EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN at once, EDGE_ERR_LABEL_RENDER_QUEUE_FULL when queueLimit
   * renders are waiting, EDGE_ERR_LABEL_RENDERER_CLOSED after close().
   */
  render(content: unknown, tagTypeId: string, options: RenderOptions = {}): Promise<RenderedLabel> {
    if (this.#closed) return Promise.reject(errors.EDGE_ERR_LABEL_RENDERER_CLOSED());
    try {
      parseLabelContent(content);
      requireTagType(tagTypeId);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (this.#queue.length >= this.#options.queueLimit && !this.#slots.some((s) => s?.ready && !s.job)) {
      this.#counts.refused++;
      return Promise.reject(errors.EDGE_ERR_LABEL_RENDER_QUEUE_FULL(`${this.#queue.length} label renders are waiting (queueLimit ${this.#options.queueLimit})`));
    }
    return new Promise<RenderedLabel>((resolve, reject) => {
      const id = ++this.#jobs;
      const picture = options.picture ? new Uint8Array(options.picture) : undefined;
      const message: ToWorker = { type: 'render', job: id, content, tagTypeId, options: { ...options, ...(picture ? { picture } : {}) } };
      this.#queue.push({ id, message, transfer: picture ? [picture.buffer] : [], resolve, reject });
      this.#pump();
    });
  }

  status(): LabelRendererStatus {
    const slots = this.#slots.filter((s): s is Slot => s !== undefined);
    return {
      workers: this.#options.workers,
      ready: slots.filter((s) => s.ready).length,
      busy: slots.filter((s) => s.job).length,
      queued: this.#queue.length,
      queueLimit: this.#options.queueLimit,
      ...this.#counts,
    };
  }

  /** Refuses new renders, fails the waiting and running ones with EDGE_ERR_LABEL_RENDERER_CLOSED and stops the workers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const job of this.#queue.splice(0)) job.reject(errors.EDGE_ERR_LABEL_RENDERER_CLOSED('the label renderer closed before this label was rendered'));
    const slots = this.#slots.filter((s): s is Slot => s !== undefined);
    for (const slot of slots) {
      slot.job?.reject(errors.EDGE_ERR_LABEL_RENDERER_CLOSED('the label renderer closed while this label was rendering'));
      slot.job = undefined;
      void slot.worker.terminate();
    }
    await Promise.all(slots.map((s) => s.exited));
  }

  #spawn(index: number): void {
    const worker = new Worker(workerEntry);
    let exited!: () => void;
    const slot: Slot = { index, worker, ready: false, job: undefined, uncaught: undefined, exited: new Promise<void>((resolve) => (exited = resolve)) };
    this.#slots[index] = slot;
    worker.on('message', (message: FromWorker) => this.#onMessage(slot, message));
    worker.on('error', (error) => (slot.uncaught = error.message));
    worker.on('exit', (code) => {
      this.#onExit(slot, code);
      exited();
    });
    this.#onWorker?.(worker, index);
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        this.#pump();
        return;
      case 'rendered':
      case 'failed': {
        const job = slot.job;
        if (!job || job.id !== message.job) return;
        slot.job = undefined;
        this.#crashesInARow = 0;
        if (message.type === 'rendered') {
          this.#counts.rendered++;
          job.resolve(fromWire(message.result));
        } else {
          this.#counts.failed++;
          job.reject(fromWireError(message.error));
        }
        this.#pump();
        return;
      }
    }
  }

  #onExit(slot: Slot, code: number): void {
    slot.ready = false;
    if (this.#slots[slot.index] === slot) this.#slots[slot.index] = undefined;
    if (this.#closed) return;
    this.#counts.crashes++;
    this.#crashesInARow++;
    const job = slot.job;
    slot.job = undefined;
    if (job) {
      this.#counts.failed++;
      job.reject(errors.EDGE_ERR_LABEL_RENDER_FAILED(`label render worker ${slot.index} exited (code ${code}${slot.uncaught ? `: ${slot.uncaught}` : ''}) while rendering; it is restarted`));
    }
    const delay = Math.min(10_000, this.#options.restartDelayMs * 2 ** Math.min(10, this.#crashesInARow - 1));
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#closed) this.#spawn(slot.index);
    }, delay);
    this.#timers.add(timer);
  }

  #pump(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot || !slot.ready || slot.job) continue;
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.postMessage(job.message, job.transfer);
    }
  }
}

function fromWire(result: WireRendered): RenderedLabel {
  const buffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { ...result, encoded: buffer(result.encoded), ...(result.png ? { png: buffer(result.png) } : {}) } as RenderedLabel;
}

function fromWireError(error: WireError): StoreEdgeError {
  const make = errors[error.code as EdgeErrorCode] ?? errors.EDGE_ERR_LABEL_RENDER_FAILED;
  return make(error.message, error.details === undefined ? undefined : { details: error.details });
}
