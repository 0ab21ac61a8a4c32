import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { loadVerifiedModel, ModelError, modelErrors, type ModelErrorCode } from '../manifest.ts';
import { RECOGNISER_MANIFEST, recogniserManifest, type RecogniserImage, type RecogniserManifest } from '../recogniser.ts';
import { LatencyWindow } from './latency-window.ts';
import type { FromWorker, RequestResult, ToWorker, WireCrop } from './protocol.ts';

/**
 * The vision inference service (docs/vision-inference.md): recogniser models run in worker
 * threads, each with its own onnxruntime session, fed from one bounded queue whose waiting
 * requests are merged into batches. The model is verified (manifest + sha256) in this thread
 * before any worker sees its bytes, and can be swapped for another version while serving.
 * A model that is missing or refused leaves the service 'unavailable' rather than throwing.
 */

const workerEntry = new URL('./worker-entry.mjs', import.meta.url);

export const inferenceServiceOptions = z
  .object({
    /** The model to serve at start. Default: the committed models/recogniser/manifest.json. */
    manifestPath: z.string().min(1).default(RECOGNISER_MANIFEST),
    /** Worker threads, each with its own session. */
    workers: z.number().int().min(1).max(16).default(1),
    /** onnxruntime intra-op threads per session (1: inference shares the store box). */
    threads: z.number().int().min(1).max(16).default(1),
    /** Requests that may wait for a worker; when full, the oldest waiting request is dropped (MDL_ERR_QUEUE_FULL). */
    queueLimit: z.number().int().min(1).default(256),
    /** Crops merged into one batch (a single larger request still runs alone, in runs of this size). */
    maxBatch: z.number().int().min(1).max(4096).default(64),
    /** How long an idle worker waits for more requests when fewer than maxBatch crops are waiting (0: run at once). */
    maxWaitMs: z.number().min(0).max(10_000).default(0),
    /** Delay before a crashed worker is restarted; doubled on each crash in a row, up to 30 s. */
    restartDelayMs: z.number().min(0).max(60_000).default(1_000),
    /** How long close() waits for a worker to finish its batch and end before terminating it. */
    closeTimeoutMs: z.number().positive().default(5_000),
    /** Completed requests the latency percentiles are taken over. */
    latencyWindow: z.number().int().min(1).max(100_000).default(1_024),
  })
  .strict();

export interface InferenceServiceHooks {
  /** Called with each worker thread when it is started (and restarted): for supervision and tests. Default: none. */
  onWorker?: (worker: Worker, index: number) => void;
}

export type InferenceServiceOptions = z.input<typeof inferenceServiceOptions> & InferenceServiceHooks;

/**
 * starting: workers are starting and the first model loading (requests wait in the queue);
 * available: a model is serving; unavailable: no model could be loaded (`error` says why,
 * requests are rejected with MDL_ERR_UNAVAILABLE, a successful swap makes it available);
 * closed: after close().
 */
export type InferenceState = 'starting' | 'available' | 'unavailable' | 'closed';

export interface InferenceStatus {
  state: InferenceState;
  modelName: string | undefined;
  version: string | undefined;
  /** Why the service is unavailable: the refused model's error. Undefined when available. */
  error: { code: ModelErrorCode; message: string } | undefined;
}

/** A 'status' event: the status now, and the state before. */
export interface InferenceStatusChange extends InferenceStatus {
  previousState: InferenceState;
}

export interface WorkerCrash {
  worker: number;
  exitCode: number;
  /** The uncaught error that ended the thread, if there was one. */
  error: string | undefined;
  /** Requests of the batch it was running, rejected with MDL_ERR_WORKER_CRASHED. */
  requestsFailed: number;
  /** When it is restarted. */
  restartInMs: number;
}

export interface InferenceServiceEvents {
  /** The state changed, the model serving changed (a swap), or the reason for being unavailable changed. */
  status: [InferenceStatusChange];
  /** A worker thread ended unexpectedly; it is restarted. */
  workerCrashed: [WorkerCrash];
}

export interface EmbedResult {
  /** One unit-length embedding per crop, in order. */
  embeddings: Float32Array[];
  /** The model that computed them (a gallery built with another version must be rebuilt). */
  modelName: string;
  version: string;
}

export interface InferenceMetrics {
  state: InferenceState;
  modelName: string | undefined;
  version: string | undefined;
  error: { code: ModelErrorCode; message: string } | undefined;
  /** Worker threads started and ready; `workersBusy` of them running a batch. */
  workers: number;
  workersBusy: number;
  workerCrashes: number;
  /** Requests (and their crops) waiting for a worker. */
  queueDepth: number;
  queuedCrops: number;
  queueLimit: number;
  /** Requests answered with embeddings, and their crops. */
  requests: number;
  crops: number;
  /** Requests dropped from a full queue (MDL_ERR_QUEUE_FULL). */
  dropped: number;
  /** Requests rejected for any other reason (bad input, unavailable, crashed worker, inference failure). */
  errors: number;
  /** Batches sent to workers, and crops per batch. */
  batches: number;
  meanBatchSize: number;
  swaps: number;
  swapFailures: number;
  /** From enqueue to result, over the last `latencyWindow` answered requests; null before the first. */
  latencyMs: { p50: number | null; p95: number | null; samples: number };
}

interface Request {
  crops: WireCrop[];
  transfer: ArrayBuffer[];
  enqueuedAt: number;
  resolve: (result: EmbedResult) => void;
  reject: (error: Error) => void;
}

/** A verified model, numbered in the order it was installed. */
interface Generation {
  id: number;
  manifest: RecogniserManifest;
  model: Uint8Array;
}

interface Batch {
  id: number;
  generation: Generation;
  requests: Request[];
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
  readyWaiters: { resolve: () => void; reject: (error: Error) => void }[];
  /** Generations whose session this worker holds. */
  loaded: Set<number>;
  loads: Map<number, { resolve: () => void; reject: (error: Error) => void }>;
  batch: Batch | undefined;
  uncaught: string | undefined;
  exited: Promise<void>;
}

const MAX_RESTART_DELAY_MS = 30_000;

export class InferenceService extends EventEmitter<InferenceServiceEvents> {
  readonly options: Readonly<z.output<typeof inferenceServiceOptions>>;
  readonly #hooks: InferenceServiceHooks;
  readonly #slots: (Slot | undefined)[] = [];
  readonly #queue: Request[] = [];
  readonly #latency: LatencyWindow;
  readonly #restarts = new Set<NodeJS.Timeout>();
  #state: InferenceState = 'starting';
  #error: ModelError | undefined;
  #current: Generation | undefined;
  #generations = 0;
  #batchIds = 0;
  #started: Promise<InferenceStatus> | undefined;
  #closed: Promise<void> | undefined;
  /** Swaps run one at a time, after start. */
  #swaps: Promise<unknown> = Promise.resolve();
  #waitTimer: NodeJS.Timeout | undefined;
  #crashesInARow = 0;
  readonly #counts = { requests: 0, crops: 0, dropped: 0, errors: 0, batches: 0, batchCrops: 0, workerCrashes: 0, swaps: 0, swapFailures: 0 };

  /** Validates the options (MDL_ERR_CONFIG_INVALID); nothing starts until start(). */
  constructor(options: InferenceServiceOptions = {}) {
    super();
    const { onWorker, ...rest } = options;
    const parsed = inferenceServiceOptions.safeParse(rest);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; ');
      throw modelErrors.MDL_ERR_CONFIG_INVALID(`inference service options: ${issues}`);
    }
    this.options = Object.freeze(parsed.data);
    this.#hooks = onWorker ? { onWorker } : {};
    this.#latency = new LatencyWindow(this.options.latencyWindow);
  }

  get state(): InferenceState {
    return this.#state;
  }

  get modelName(): string | undefined {
    return this.#current?.manifest.name;
  }

  get version(): string | undefined {
    return this.#current?.manifest.version;
  }

  /** The serving model's manifest (its input size, embedding size), if one is serving. */
  get manifest(): Readonly<RecogniserManifest> | undefined {
    return this.#current?.manifest;
  }

  status(): InferenceStatus {
    return {
      state: this.#state,
      modelName: this.modelName,
      version: this.version,
      error: this.#error && { code: this.#error.code, message: this.#error.message },
    };
  }

  /**
   * Starts the workers and loads `manifestPath`. Resolves with the status — 'available', or
   * 'unavailable' with the error when the model is missing, tampered with or refused by
   * onnxruntime; it does not reject for those. Listen to 'status' before calling it.
   */
  start(): Promise<InferenceStatus> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<InferenceStatus> {
    if (this.#state === 'closed') return this.status();
    for (let index = 0; index < this.options.workers; index++) this.#spawn(index);
    try {
      await this.#install(this.options.manifestPath);
    } catch (error) {
      // close() may have been called while the model loaded.
      if (this.#isClosed()) return this.status();
      this.#error = asModelError(error);
      this.#setState('unavailable');
      this.#rejectQueued(() => this.#unavailable());
    }
    return this.status();
  }

  /** Unit-length embeddings of `crops`, in order. Rejects with a ModelError (see `embedWithModel`). */
  async embed(crops: readonly RecogniserImage[]): Promise<Float32Array[]> {
    return (await this.embedWithModel(crops)).embeddings;
  }

  /**
   * Embeddings of `crops` and the model version that computed them. Rejects with
   * MDL_ERR_UNAVAILABLE (no model, or closed), MDL_ERR_QUEUE_FULL (dropped as the oldest
   * waiting request of a full queue), MDL_ERR_INPUT_INVALID (a crop that is not an image),
   * MDL_ERR_WORKER_CRASHED or MDL_ERR_INFERENCE_FAILED.
   */
  embedWithModel(crops: readonly RecogniserImage[]): Promise<EmbedResult> {
    if (this.#state === 'closed' || this.#state === 'unavailable') {
      this.#counts.errors++;
      return Promise.reject(this.#unavailable());
    }
    let wire: { crops: WireCrop[]; transfer: ArrayBuffer[] };
    try {
      wire = toWire(crops);
    } catch (error) {
      this.#counts.errors++;
      return Promise.reject(error as Error);
    }
    if (wire.crops.length === 0 && this.#current) {
      return Promise.resolve({ embeddings: [], modelName: this.#current.manifest.name, version: this.#current.manifest.version });
    }
    return new Promise<EmbedResult>((resolve, reject) => {
      if (this.#queue.length >= this.options.queueLimit) {
        const oldest = this.#queue.shift()!;
        this.#counts.dropped++;
        oldest.reject(
          modelErrors.MDL_ERR_QUEUE_FULL(
            `inference queue full (${this.options.queueLimit} requests waiting): dropped the oldest request (${oldest.crops.length} crops) for a newer one`,
          ),
        );
      }
      this.#queue.push({ ...wire, enqueuedAt: performance.now(), resolve, reject });
      this.#pump();
    });
  }

  /**
   * Verifies the model at `manifestPath`, loads it in every worker, then switches to it at once:
   * batches already running finish on the old version, every batch after runs on the new one.
   * A swap that fails (MDL_ERR_MANIFEST_INVALID, MDL_ERR_MODEL_INTEGRITY, MDL_ERR_MODEL_LOAD,
   * MDL_ERR_WORKER_CRASHED) rejects and leaves the old version serving. Swaps run one at a time.
   */
  swap(manifestPath: string): Promise<InferenceStatus> {
    const run = async (): Promise<InferenceStatus> => {
      await this.start();
      if (this.#state === 'closed') throw this.#unavailable();
      try {
        await this.#install(manifestPath);
      } catch (error) {
        const refused = asModelError(error);
        this.#counts.swapFailures++;
        if (this.#state === 'unavailable') {
          this.#error = refused;
          this.#setState('unavailable', true);
        }
        throw refused;
      }
      this.#counts.swaps++;
      return this.status();
    };
    const swapped = this.#swaps.then(run, run);
    this.#swaps = swapped.catch(() => undefined);
    return swapped;
  }

  metrics(): InferenceMetrics {
    const slots = this.#slots.filter((slot): slot is Slot => slot !== undefined);
    const c = this.#counts;
    return {
      state: this.#state,
      modelName: this.modelName,
      version: this.version,
      error: this.status().error,
      workers: slots.filter((slot) => slot.ready).length,
      workersBusy: slots.filter((slot) => slot.batch).length,
      workerCrashes: c.workerCrashes,
      queueDepth: this.#queue.length,
      queuedCrops: this.#queuedCrops(),
      queueLimit: this.options.queueLimit,
      requests: c.requests,
      crops: c.crops,
      dropped: c.dropped,
      errors: c.errors,
      batches: c.batches,
      meanBatchSize: c.batches === 0 ? 0 : c.batchCrops / c.batches,
      swaps: c.swaps,
      swapFailures: c.swapFailures,
      latencyMs: { p50: this.#latency.percentile(50), p95: this.#latency.percentile(95), samples: this.#latency.size },
    };
  }

  /**
   * Rejects waiting requests (MDL_ERR_UNAVAILABLE), lets each worker finish its batch, release
   * its sessions and end; a worker still running after closeTimeoutMs is terminated.
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#setState('closed');
    clearTimeout(this.#waitTimer);
    for (const timer of this.#restarts) clearTimeout(timer);
    this.#restarts.clear();
    this.#rejectQueued(() => this.#unavailable());
    await Promise.all(
      this.#slots.map(async (slot) => {
        if (!slot) return;
        this.#post(slot, { type: 'close' });
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.closeTimeoutMs)));
        if ((await Promise.race([slot.exited, timedOut])) === 'timeout') await slot.worker.terminate();
        clearTimeout(timer);
        await slot.exited;
      }),
    );
  }

  // ---- the model -------------------------------------------------------------------------

  /** Verifies a model, loads it in every worker that is up, and makes it the one serving. */
  async #install(manifestPath: string): Promise<void> {
    const verified = loadVerifiedModel(manifestPath, recogniserManifest);
    const generation: Generation = { id: ++this.#generations, manifest: verified.manifest, model: verified.model };
    const slots = this.#slots.filter((slot): slot is Slot => slot !== undefined);
    const loads = await Promise.allSettled(slots.map((slot) => this.#load(slot, generation)));
    const failed = loads.find((load): load is PromiseRejectedResult => load.status === 'rejected');
    if (failed || this.#state === 'closed') {
      for (const slot of slots) this.#retire(slot, generation.id);
      throw failed ? asModelError(failed.reason) : this.#unavailable();
    }
    const previous = this.#current;
    this.#current = generation;
    this.#error = undefined;
    if (previous) for (const slot of this.#slots) if (slot) this.#retire(slot, previous.id);
    // A worker restarted during the load has not got this generation yet.
    for (const slot of this.#slots) if (slot) this.#ensureCurrent(slot);
    this.#setState('available', true);
    this.#pump();
  }

  async #load(slot: Slot, generation: Generation): Promise<void> {
    if (!slot.ready) await new Promise<void>((resolve, reject) => slot.readyWaiters.push({ resolve, reject }));
    await new Promise<void>((resolve, reject) => {
      slot.loads.set(generation.id, { resolve, reject });
      this.#post(slot, { type: 'load', generation: generation.id, manifest: generation.manifest, model: generation.model, threads: this.options.threads });
    });
    slot.loaded.add(generation.id);
  }

  #retire(slot: Slot, generation: number): void {
    if (!slot.loaded.delete(generation)) return;
    this.#post(slot, { type: 'retire', generation });
  }

  /** Loads the serving generation into a worker that lacks it (a restarted one). */
  #ensureCurrent(slot: Slot): void {
    const current = this.#current;
    if (!current || !slot.ready || slot.loaded.has(current.id) || slot.loads.has(current.id)) return;
    this.#load(slot, current).then(
      () => {
        // Swapped again while this was loading.
        if (this.#current !== current) this.#retire(slot, current.id);
        this.#pump();
      },
      () => {
        // These bytes loaded before, so the worker is at fault: end it, and it is restarted.
        if (this.#slots[slot.index] === slot) void slot.worker.terminate();
      },
    );
  }

  // ---- queue and batches -----------------------------------------------------------------

  #pump(): void {
    const current = this.#current;
    if (this.#state !== 'available' || !current) return;
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot || !slot.ready || slot.batch || !slot.loaded.has(current.id)) continue;
      if (this.options.maxWaitMs > 0 && this.#queuedCrops() < this.options.maxBatch) {
        const waited = performance.now() - this.#queue[0]!.enqueuedAt;
        if (waited < this.options.maxWaitMs) {
          this.#waitTimer ??= setTimeout(() => {
            this.#waitTimer = undefined;
            this.#pump();
          }, this.options.maxWaitMs - waited);
          return;
        }
      }
      this.#dispatch(slot, current);
    }
  }

  /** Sends the oldest waiting requests to `slot`: whole requests, up to maxBatch crops (the first one even if larger). */
  #dispatch(slot: Slot, generation: Generation): void {
    const requests = [this.#queue.shift()!];
    let crops = requests[0]!.crops.length;
    while (this.#queue.length > 0 && crops + this.#queue[0]!.crops.length <= this.options.maxBatch) {
      const next = this.#queue.shift()!;
      requests.push(next);
      crops += next.crops.length;
    }
    const batch: Batch = { id: ++this.#batchIds, generation, requests };
    slot.batch = batch;
    this.#counts.batches++;
    this.#counts.batchCrops += crops;
    this.#post(
      slot,
      { type: 'run', batch: batch.id, generation: generation.id, maxBatch: this.options.maxBatch, requests: requests.map((r) => r.crops) },
      requests.flatMap((r) => r.transfer),
    );
  }

  #finish(slot: Slot, batchId: number, results: RequestResult[]): void {
    const batch = slot.batch;
    if (!batch || batch.id !== batchId) return;
    slot.batch = undefined;
    this.#crashesInARow = 0;
    const now = performance.now();
    const { name, version } = batch.generation.manifest;
    batch.requests.forEach((request, i) => {
      const result = results[i];
      if (result?.ok) {
        this.#counts.requests++;
        this.#counts.crops += result.embeddings.length;
        this.#latency.add(now - request.enqueuedAt);
        request.resolve({ embeddings: result.embeddings, modelName: name, version });
      } else {
        this.#counts.errors++;
        const error = result?.error ?? { code: 'MDL_ERR_INFERENCE_FAILED' as const, message: 'inference worker returned no result for the request' };
        request.reject(new ModelError(error.code, error.message));
      }
    });
    this.#pump();
  }

  #queuedCrops(): number {
    return this.#queue.reduce((sum, request) => sum + request.crops.length, 0);
  }

  #rejectQueued(error: () => Error): void {
    for (const request of this.#queue.splice(0)) {
      this.#counts.errors++;
      request.reject(error());
    }
  }

  // ---- workers ---------------------------------------------------------------------------

  #spawn(index: number): void {
    const worker = new Worker(workerEntry);
    let exited!: () => void;
    const slot: Slot = {
      index,
      worker,
      ready: false,
      readyWaiters: [],
      loaded: new Set(),
      loads: new Map(),
      batch: undefined,
      uncaught: undefined,
      exited: new Promise<void>((resolve) => (exited = resolve)),
    };
    this.#slots[index] = slot;
    worker.on('message', (message: FromWorker) => this.#onMessage(slot, message));
    worker.on('error', (error) => (slot.uncaught = error.message));
    worker.on('exit', (code) => {
      this.#onExit(slot, code);
      exited();
    });
    this.#hooks.onWorker?.(worker, index);
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    switch (message.type) {
      case 'ready':
        slot.ready = true;
        for (const waiter of slot.readyWaiters.splice(0)) waiter.resolve();
        this.#ensureCurrent(slot);
        return;
      case 'loaded':
      case 'load-failed': {
        const waiter = slot.loads.get(message.generation);
        slot.loads.delete(message.generation);
        if (message.type === 'loaded') waiter?.resolve();
        else waiter?.reject(new ModelError(message.error.code, message.error.message));
        return;
      }
      case 'result':
        return this.#finish(slot, message.batch, message.results);
    }
  }

  #onExit(slot: Slot, exitCode: number): void {
    slot.ready = false;
    const closing = this.#state === 'closed';
    const failure = closing
      ? modelErrors.MDL_ERR_UNAVAILABLE('inference service closed while the request was running')
      : modelErrors.MDL_ERR_WORKER_CRASHED(
          `inference worker ${slot.index} exited (code ${exitCode}${slot.uncaught ? `: ${slot.uncaught}` : ''}) while running the request; it is restarted`,
        );
    for (const waiter of slot.readyWaiters.splice(0)) waiter.reject(failure);
    for (const waiter of slot.loads.values()) waiter.reject(failure);
    slot.loads.clear();
    const requests = slot.batch?.requests ?? [];
    slot.batch = undefined;
    for (const request of requests) {
      this.#counts.errors++;
      request.reject(failure);
    }
    if (closing || this.#slots[slot.index] !== slot) return;
    this.#slots[slot.index] = undefined;
    this.#counts.workerCrashes++;
    this.#crashesInARow++;
    const restartInMs = Math.min(MAX_RESTART_DELAY_MS, this.options.restartDelayMs * 2 ** (this.#crashesInARow - 1));
    const timer = setTimeout(() => {
      this.#restarts.delete(timer);
      this.#spawn(slot.index);
    }, restartInMs);
    this.#restarts.add(timer);
    this.emit('workerCrashed', { worker: slot.index, exitCode, error: slot.uncaught, requestsFailed: requests.length, restartInMs });
    // Another worker may take what waits.
    this.#pump();
  }

  #post(slot: Slot, message: ToWorker, transfer: ArrayBuffer[] = []): void {
    slot.worker.postMessage(message, transfer);
  }

  // ---- state -----------------------------------------------------------------------------

  /** Moves to `state` and emits 'status' — also without a state change when `always` (a swap, a new reason). */
  #setState(state: InferenceState, always = false): void {
    const previous = this.#state;
    if (previous === state && !always) return;
    if (previous === 'closed') return;
    this.#state = state;
    this.emit('status', { ...this.status(), previousState: previous });
  }

  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #unavailable(): ModelError {
    if (this.#state === 'closed') return modelErrors.MDL_ERR_UNAVAILABLE('inference service is closed');
    const cause = this.#error;
    return modelErrors.MDL_ERR_UNAVAILABLE(
      `inference service unavailable: ${cause ? `${cause.code}: ${cause.message}` : 'no model loaded'}; a successful swap() makes it available`,
      cause,
    );
  }
}

function asModelError(error: unknown): ModelError {
  if (error instanceof ModelError) return error;
  return modelErrors.MDL_ERR_MODEL_LOAD(`inference service: ${error instanceof Error ? error.message : String(error)}`, error);
}

/**
 * Crops as they cross to a worker. A view into a larger buffer (a pooled Buffer, a frame) is
 * copied to its own buffer, which is then transferred rather than cloned.
 */
function toWire(crops: readonly RecogniserImage[]): { crops: WireCrop[]; transfer: ArrayBuffer[] } {
  const transfer: ArrayBuffer[] = [];
  const own = (bytes: Uint8Array): Uint8Array => {
    if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
    const copy = new Uint8Array(bytes);
    transfer.push(copy.buffer);
    return copy;
  };
  const wire = crops.map((crop, i): WireCrop => {
    if (crop instanceof Uint8Array) return { encoded: own(crop) };
    const raw = crop as Partial<{ width: unknown; height: unknown; rgb: unknown }> | null;
    if (raw && raw.rgb instanceof Uint8Array && Number.isInteger(raw.width) && Number.isInteger(raw.height)) {
      return { width: raw.width as number, height: raw.height as number, rgb: own(raw.rgb) };
    }
    throw modelErrors.MDL_ERR_INPUT_INVALID(`inference service: crop ${i} is neither an encoded image Buffer nor { width, height, rgb }`);
  });
  return { crops: wire, transfer };
}
