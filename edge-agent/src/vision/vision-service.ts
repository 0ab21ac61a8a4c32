import { EventEmitter } from 'node:events';
import { bayCameraIds, cropFrameWindows, type FrameStore, type StoredFrame, type StoreModel, type StorePoint } from '@storeedge/device-drivers';
import {
  InferenceService,
  ModelError,
  modelErrors,
  ProductGallery,
  RECOGNISER_HAND_WINDOWS,
  RECOGNISER_MANIFEST,
  type EmbedResult,
  type InferenceServiceOptions,
  type InferenceStatus,
  type InferenceStatusChange,
  type ProductMatch,
} from '@storeedge/models';
import type { VisionSettings } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { VisionAlertCondition, VisionAlerts } from './alerts.ts';
import { defaultHints, readRecogniserHints, softmaxOver, type RecogniserHints } from './hints.ts';
import { VisionMetrics, type IdentifyOutcome, type VisionState } from './metrics.ts';

export type { IdentifyOutcome, VisionState } from './metrics.ts';

/**
 * The agent's product recognition (docs/vision-agent.md): the recogniser model served by an
 * InferenceService (worker threads), a gallery built from the SKUs' catalogue images, and
 * `identify` — the crops around a tracked hand in the nearest camera frame (the windows
 * RECOGNISER_HAND_WINDOWS: the track is a few cm off), embedded and scored against the gallery —
 * as evidence fusion can multiply with weight likelihoods and planogram
 * priors. When the model is missing or refused, or no catalogue images were given, vision is
 * off: `identify` resolves undefined (weight-only) and a 'vision-unavailable' alert is open
 * until it works again. Nothing here throws into the agent: `identify` never rejects.
 */

/** A catalogue image: interleaved 8-bit RGB, any size (scaled to the model's input by sharp). */
export interface CatalogImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

export type CatalogImages = ReadonlyMap<string, readonly CatalogImage[]>;

export interface IdentifyInput {
  /** The bay the hand is at: its listed cameras (or its default `cam-{bayId}`) are tried. */
  bayId?: string;
  /** A camera to use (wins over bayId). */
  cameraId?: string;
  /** When, on the cameras' clock (frame timestamps), ms. */
  atMs: number;
  /** The hand, store metres (from the tracker). */
  point: StorePoint;
  /** Radius of the crop around the hand, metres. Default: the model's (manifest `handCropRadiusM`, else 0.15 m, as in training). */
  radiusM?: number;
  /** Largest gap between atMs and the frame used, ms. Default config vision.maxFrameGapMs (150). */
  maxGapMs?: number;
  /** Scores of the best k SKUs only. Default: every gallery SKU. */
  k?: number;
}

export interface IdentifyBestInput extends IdentifyInput {
  /** Frames to use: up to this many captured at or before atMs (default config vision.bestOfFrames, 3)… */
  frames?: number;
  /** …at most this many ms before it (default config vision.bestOfSpanMs, 500). */
  spanMs?: number;
  /** Where the hand was at each frame's time (a moving hand); default `point` for every frame. */
  pointAt?: (tMs: number) => StorePoint;
}

/** What a camera frame says about the product in a hand. */
export interface VisionEvidence {
  cameraId: string;
  /** Capture time of the frame used (identifyBest: of the used frame nearest atMs). */
  frameAtMs: number;
  /** Capture times of every frame used, oldest first (one for identify). */
  framesAtMs: number[];
  modelName: string;
  modelVersion: string;
  radiusM: number;
  /** The softmax temperature `probabilities` uses. */
  temperature: number;
  /**
   * Each gallery SKU's score, best first: the crops' (every window around the hand, of every frame
   * used) mean softmax vote as a cosine-scaled score (`ProductGallery.nearestOfViews`; a single
   * crop's cosine similarity).
   */
  scores: ProductMatch[];
  /** Best score minus the second best (1 with a single SKU): a small margin is a weak answer. */
  margin: number;
  /**
   * Probabilities over `candidates`: softmax of temperature × cosine over those candidates that
   * have a gallery embedding. Candidates without catalogue images are left out of the map (vision
   * knows nothing about them; fusion should not let vision vote on them). Sums to 1 unless empty.
   */
  probabilities(candidates: readonly string[]): Map<string, number>;
}

export interface VisionStatus {
  state: VisionState;
  /** Why vision is unavailable (with the error's code and message when there is one). */
  unavailable: VisionAlertCondition | undefined;
  modelName: string | undefined;
  version: string | undefined;
  /** SKUs in the gallery, and the model version that embedded it. */
  gallerySkus: number;
  galleryVersion: string | undefined;
  hints: RecogniserHints;
}

export interface VisionServiceEvents {
  status: [VisionStatus];
}

export interface VisionServiceOptions {
  settings: VisionSettings;
  frames: FrameStore;
  /** The store model in force (bays' cameras). */
  model: () => StoreModel | null;
  /** Explicit camera calibrations were given (the store has cameras even without bay camera lists). */
  hasExplicitCameras?: boolean;
  catalogImages?: CatalogImages;
  alerts: VisionAlerts;
  metrics: Metrics;
  logger: Logger;
  /** Extra inference service options (tests: queue limits, hooks). manifestPath and workers come from settings. */
  inference?: Omit<InferenceServiceOptions, 'manifestPath' | 'workers'>;
}

interface GalleryState {
  gallery: ProductGallery;
  version: string;
  modelName: string;
}

/** Crops a request carries at most; the catalogue is embedded in runs of this many, one after another. */
const GALLERY_CHUNK = 64;

export class VisionService extends EventEmitter<VisionServiceEvents> {
  readonly settings: Readonly<VisionSettings>;
  readonly manifestPath: string;
  readonly #o: VisionServiceOptions;
  readonly #log: Logger;
  readonly #catalog = new Map<string, readonly CatalogImage[]>();
  readonly #hints = new Map<string, RecogniserHints>();
  readonly #metrics: VisionMetrics;
  #catalogGiven: boolean;
  #service: InferenceService | undefined;
  #gallery: GalleryState | undefined;
  /** Gallery builds and updates run one at a time, in call order. */
  #galleryChain: Promise<unknown> = Promise.resolve();
  #galleryError: ModelError | undefined;
  /** Gallery builds scheduled or running. */
  #building = 0;
  #startError: ModelError | undefined;
  #started: Promise<VisionStatus> | undefined;
  #closed = false;
  #lastState: VisionState | undefined;

  constructor(options: VisionServiceOptions) {
    super();
    this.#o = options;
    this.settings = options.settings;
    this.manifestPath = options.settings.manifest ?? RECOGNISER_MANIFEST;
    this.#log = options.logger.child({ part: 'vision' });
    this.#catalogGiven = options.catalogImages !== undefined;
    for (const [sku, images] of options.catalogImages ?? []) {
      try {
        const checked = checkImages(sku, images);
        // A SKU without images is simply not in the gallery.
        if (checked.length > 0) this.#catalog.set(sku, checked);
      } catch (err) {
        this.#log.warn({ err, sku }, 'catalogue images refused');
      }
    }
    this.#metrics = new VisionMetrics(options.metrics, () => ({ state: this.state, inference: this.#service?.metrics(), gallerySkus: this.#gallery?.gallery.skus.length ?? 0 }));
  }

  /** The inference service, once started (undefined while vision is disabled or idle). */
  get inference(): InferenceService | undefined {
    return this.#service;
  }

  get state(): VisionState {
    if (this.#closed) return 'closed';
    if (!this.settings.enabled) return 'disabled';
    const service = this.#service;
    if (!service) return this.#startError ? 'unavailable' : 'idle';
    if (service.state === 'starting') return 'starting';
    if (service.state === 'closed') return 'closed';
    if (this.#condition()) return 'unavailable';
    if (this.#building > 0 && !this.#gallery) return 'starting';
    return 'available';
  }

  status(): VisionStatus {
    const version = this.#service?.version;
    return {
      state: this.state,
      unavailable: this.state === 'unavailable' ? this.#condition() : undefined,
      modelName: this.#service?.modelName,
      version,
      gallerySkus: this.#gallery?.gallery.skus.length ?? 0,
      galleryVersion: this.#gallery?.version,
      hints: this.#hintsOf(version),
    };
  }

  /** SKUs with catalogue images. */
  catalogSkus(): string[] {
    return [...this.#catalog.keys()];
  }

  /**
   * Starts the inference service and builds the gallery, when vision is enabled and there is
   * something to recognise (catalogue images were given, or the store has cameras); otherwise
   * vision stays idle until `setCatalogImages`. Resolves with the status; never rejects.
   */
  start(): Promise<VisionStatus> {
    this.#started ??= (async () => {
      if (this.settings.enabled && (this.#catalogGiven || this.#storeHasCameras())) await this.#startService();
      this.#evaluate();
      return this.status();
    })();
    return this.#started;
  }

  /**
   * Adds or replaces one SKU's catalogue images (a SKU HQ adds: no retraining) and embeds them
   * into the gallery; an empty list removes the SKU. Rejects with MDL_ERR_INPUT_INVALID for an
   * image that is not `{ width, height, rgb }` RGB of that size; embedding failures are logged
   * and leave vision unavailable (reason 'gallery') until the next successful build.
   */
  async setCatalogImages(sku: string, images: readonly CatalogImage[]): Promise<void> {
    if (this.#closed) throw modelErrors.MDL_ERR_UNAVAILABLE('vision is closed');
    const checked = checkImages(sku, images);
    this.#catalogGiven = true;
    if (checked.length === 0) this.#catalog.delete(sku);
    else this.#catalog.set(sku, checked);
    if (!this.settings.enabled) return;
    await this.start();
    if (!this.#service) await this.#startService();
    await this.#galleryTask(async () => {
      const service = this.#service!;
      const current = this.#gallery;
      if (service.state !== 'available') return;
      if (!current || current.version !== service.version || checked.length === 0 || this.#galleryError) return this.#rebuild();
      const embedded = await this.#embedAll(checked);
      if (embedded.version !== current.version) return this.#rebuild();
      current.gallery.set(sku, embedded.embeddings);
    });
    this.#evaluate();
  }

  /**
   * Swaps the recogniser for another version (InferenceService.swap) and rebuilds the gallery
   * with it. A refused model rejects (MDL_ERR_…) and leaves the old one serving; a swap that
   * makes an unavailable service available clears the alert.
   */
  async swap(manifestPath: string): Promise<VisionStatus> {
    if (!this.settings.enabled) throw modelErrors.MDL_ERR_UNAVAILABLE('vision is disabled (config vision.enabled)');
    await this.start();
    if (!this.#service) await this.#startService();
    const { version, hints } = readRecogniserHints(manifestPath);
    if (version !== undefined) this.#hints.set(version, hints);
    try {
      await this.#service!.swap(manifestPath);
    } finally {
      // The status event scheduled a rebuild for the new version; wait for it.
      await this.#galleryChain;
      this.#evaluate();
    }
    return this.status();
  }

  /**
   * Evidence from the frame nearest `atMs` (within maxGapMs) of the bay's camera: the crops
   * around the hand (RECOGNISER_HAND_WINDOWS), embedded and scored against the gallery, each
   * window voting with its softmax (`ProductGallery.nearestOfViews`). Undefined — never a rejection —
   * when vision is unavailable, there is no frame close enough, the hand is out of view, or
   * inference failed; each counted by outcome.
   */
  async identify(input: IdentifyInput): Promise<VisionEvidence | undefined> {
    return this.#identify(input, undefined);
  }

  /**
   * Like identify over several frames: up to `frames` frames captured in [atMs − spanMs, atMs]
   * (or, when there is none, the frame nearest atMs within maxGapMs), each cropped around the
   * hand (every window), embedded in one request; every crop of every frame votes.
   */
  async identifyBest(input: IdentifyBestInput): Promise<VisionEvidence | undefined> {
    return this.#identify(input, {
      frames: input.frames ?? this.settings.bestOfFrames,
      spanMs: input.spanMs ?? this.settings.bestOfSpanMs,
      pointAt: input.pointAt ?? (() => input.point),
    });
  }

  /** Rejects waiting inference requests and ends the workers. The alert is left as it is (the ledger is closing too). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#service?.close().catch((err: unknown) => this.#log.error({ err }, 'inference service close failed'));
  }

  // ---- identify --------------------------------------------------------------------------

  async #identify(input: IdentifyInput, multi: { frames: number; spanMs: number; pointAt: (tMs: number) => StorePoint } | undefined): Promise<VisionEvidence | undefined> {
    const done = (outcome: IdentifyOutcome, evidence?: VisionEvidence): VisionEvidence | undefined => {
      this.#metrics.identify.inc({ outcome });
      return evidence;
    };
    try {
      if (this.state !== 'available') return done('unavailable');
      const service = this.#service!;
      const size = service.manifest!.input.shape[2];
      const maxGapMs = input.maxGapMs ?? this.settings.maxFrameGapMs;
      const version = this.#gallery!.version;
      const hints = this.#hintsOf(version);
      const radiusM = input.radiusM ?? hints.handCropRadiusM;

      const picked = this.#pickFrames(input, maxGapMs, multi);
      if (!picked) return done('no-frame');
      const pinhole = this.#o.frames.pinhole(picked.cameraId)!;
      const pointAt = multi?.pointAt ?? (() => input.point);
      const crops: Array<{ rgb: Uint8Array; frame: StoredFrame }> = [];
      // The windows around the tracked hand (the same `cropFrameWindows` the recogniser's test
      // scores): a track a few cm off leaves the held unit off the centre crop.
      for (const frame of picked.frames) {
        const point = multi ? pointAt(frame.timestampMs) : input.point;
        for (const crop of await cropFrameWindows(frame.jpeg, pinhole, { point, radiusM }, RECOGNISER_HAND_WINDOWS, size)) if (crop) crops.push({ rgb: crop.rgb, frame });
      }
      if (crops.length === 0) return done('out-of-view');

      // A gallery being rebuilt for a newly swapped model: wait for it rather than compare across models.
      if (this.#building > 0) await this.#galleryChain;
      let result: EmbedResult | undefined;
      let gallery: GalleryState | undefined;
      for (let attempt = 0; attempt < 2 && !gallery; attempt++) {
        result = await service.embedWithModel(crops.map((c) => ({ width: size, height: size, rgb: c.rgb })));
        if (this.#gallery?.version === result.version) gallery = this.#gallery;
        else await this.#galleryChain; // a swap: the gallery is being rebuilt with the new version
      }
      if (!gallery || !result) return done('unavailable');
      const temperature = this.#hintsOf(gallery.version).temperature;
      const all = gallery.gallery.nearestOfViews(result.embeddings, gallery.gallery.skus.length, temperature);
      const byScore = new Map(all.map((m) => [m.sku, m.score]));
      const frames = [...new Set(crops.map((c) => c.frame.timestampMs))].sort((a, b) => a - b);
      const nearest = frames.reduce((best, t) => (Math.abs(t - input.atMs) < Math.abs(best - input.atMs) ? t : best), frames[0]!);
      return done('ok', {
        cameraId: picked.cameraId,
        frameAtMs: nearest,
        framesAtMs: frames,
        modelName: result.modelName,
        modelVersion: result.version,
        radiusM,
        temperature,
        scores: input.k === undefined ? all : all.slice(0, Math.max(0, input.k)),
        margin: all.length > 1 ? all[0]!.score - all[1]!.score : all.length === 1 ? 1 : 0,
        probabilities: (candidates) => softmaxOver(byScore, candidates, temperature),
      });
    } catch (err) {
      this.#log.warn({ err, bayId: input.bayId, cameraId: input.cameraId, atMs: input.atMs }, 'vision identify failed');
      return done(err instanceof ModelError && err.code === 'MDL_ERR_UNAVAILABLE' ? 'unavailable' : 'error');
    }
  }

  /**
   * The camera and frames to use: of the candidate cameras (the given one, or the bay's) that
   * are calibrated, see the hand and hold a usable frame, the one whose frame is nearest atMs.
   */
  #pickFrames(
    input: IdentifyInput,
    maxGapMs: number,
    multi: { frames: number; spanMs: number; pointAt: (tMs: number) => StorePoint } | undefined,
  ): { cameraId: string; frames: StoredFrame[] } | undefined {
    let best: { cameraId: string; frames: StoredFrame[]; sees: boolean; gap: number } | undefined;
    for (const cameraId of this.#camerasFor(input)) {
      const pinhole = this.#o.frames.pinhole(cameraId);
      if (!pinhole) continue;
      let frames: StoredFrame[] = [];
      if (multi) frames = this.#o.frames.framesAround(cameraId, input.atMs, multi.spanMs, 0).slice(-multi.frames);
      if (frames.length === 0) {
        const nearest = this.#o.frames.nearest(cameraId, input.atMs, maxGapMs);
        if (nearest) frames = [nearest];
      }
      if (frames.length === 0) continue;
      const candidate = { cameraId, frames, sees: pinhole.sees(input.point), gap: Math.min(...frames.map((f) => Math.abs(f.timestampMs - input.atMs))) };
      // A camera that sees the hand beats one that does not; then the frame nearest in time.
      if (!best || (candidate.sees && !best.sees) || (candidate.sees === best.sees && candidate.gap < best.gap)) best = candidate;
    }
    return best && { cameraId: best.cameraId, frames: best.frames };
  }

  #camerasFor(input: IdentifyInput): string[] {
    if (input.cameraId !== undefined) return [input.cameraId];
    if (input.bayId === undefined) return [];
    for (const gondola of this.#o.model()?.gondolas ?? []) {
      const bay = gondola.bays.find((b) => b.id === input.bayId);
      if (bay) return bayCameraIds(bay);
    }
    return [];
  }

  // ---- model and gallery -----------------------------------------------------------------

  async #startService(): Promise<void> {
    if (this.#service || this.#closed) return;
    const { version, hints } = readRecogniserHints(this.manifestPath);
    if (version !== undefined) this.#hints.set(version, hints);
    let service: InferenceService;
    try {
      service = new InferenceService({ ...this.#o.inference, manifestPath: this.manifestPath, workers: this.settings.workers });
    } catch (err) {
      this.#startError = err instanceof ModelError ? err : modelErrors.MDL_ERR_CONFIG_INVALID(String(err));
      this.#log.error({ err }, 'vision: inference service options refused; running weight-only');
      return;
    }
    this.#service = service;
    service.on('status', (change) => this.#onServiceStatus(change));
    service.on('workerCrashed', (crash) => this.#log.error({ ...crash }, 'vision: inference worker crashed; restarting it'));
    const status: InferenceStatus = await service.start();
    if (status.state === 'unavailable') {
      this.#log.error({ error: status.error, manifest: this.manifestPath }, 'vision: recogniser model refused; running weight-only');
    }
    // The first gallery (the status event scheduled it when the model became available).
    await this.#galleryChain;
  }

  #onServiceStatus(change: InferenceStatusChange): void {
    if (this.#closed) return;
    this.#log.info({ state: change.state, previous: change.previousState, version: change.version, error: change.error }, 'vision: inference status');
    // Every 'available' status is a model installed (the start, or a swap — perhaps to another build of the same version): rebuild.
    if (change.state === 'available') void this.#scheduleRebuild();
    this.#evaluate();
  }

  #galleryTask<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#galleryChain.then(fn, fn);
    this.#galleryChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Embeds every SKU's catalogue images with the serving model into a new gallery (again if the model changed meanwhile). */
  async #rebuild(): Promise<void> {
    const service = this.#service;
    if (!service) return;
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (service.state !== 'available' || this.#closed) return;
        const skus = [...this.#catalog.entries()];
        const images = skus.flatMap(([, list]) => list);
        const embedded = await this.#embedAll(images);
        if (embedded.version !== service.version) continue;
        const gallery = new ProductGallery(service.manifest!.embeddingSize);
        let offset = 0;
        for (const [sku, list] of skus) {
          gallery.set(sku, embedded.embeddings.slice(offset, offset + list.length));
          offset += list.length;
        }
        this.#gallery = { gallery, version: embedded.version, modelName: embedded.modelName };
        this.#galleryError = undefined;
        this.#log.info({ skus: gallery.skus.length, images: images.length, version: embedded.version }, 'vision: gallery built');
        return;
      }
      throw modelErrors.MDL_ERR_INFERENCE_FAILED('the model changed three times while the gallery was built');
    } catch (err) {
      if (this.#closed) return;
      this.#galleryError = err instanceof ModelError ? err : modelErrors.MDL_ERR_INFERENCE_FAILED(String(err));
      this.#log.error({ err }, 'vision: gallery build failed; running weight-only');
    }
  }

  /** Schedules a gallery build (after any running one); the state counts it as building from now. */
  #scheduleRebuild(): Promise<void> {
    this.#building++;
    return this.#galleryTask(() => this.#rebuild()).finally(() => {
      this.#building--;
      this.#evaluate();
    });
  }

  /** Embeddings of `images` in runs of GALLERY_CHUNK, one run after another, all by one model version. */
  async #embedAll(images: readonly CatalogImage[]): Promise<{ embeddings: Float32Array[]; version: string; modelName: string }> {
    const service = this.#service!;
    const embeddings: Float32Array[] = [];
    let version = service.version ?? '';
    let modelName = service.modelName ?? '';
    for (let start = 0; start < images.length; start += GALLERY_CHUNK) {
      const result = await service.embedWithModel(images.slice(start, start + GALLERY_CHUNK));
      if (start > 0 && result.version !== version) return { embeddings: [], version: '', modelName: '' };
      version = result.version;
      modelName = result.modelName;
      embeddings.push(...result.embeddings);
    }
    return { embeddings, version, modelName };
  }

  // ---- state and alert -------------------------------------------------------------------

  /** Why vision cannot answer now, or undefined when it can (or is disabled, idle, starting or closed). */
  #condition(): VisionAlertCondition | undefined {
    const service = this.#service;
    if (this.#closed || !this.settings.enabled) return undefined;
    if (!service) return this.#startError && { reason: 'model', code: this.#startError.code, message: this.#startError.message, modelVersion: null };
    const version = service.version ?? null;
    if (service.state === 'unavailable') {
      const error = service.status().error;
      return { reason: 'model', code: error?.code ?? 'MDL_ERR_UNAVAILABLE', message: error?.message ?? 'no recogniser model loaded', modelVersion: version };
    }
    if (service.state !== 'available') return undefined;
    if (this.#galleryError) return { reason: 'gallery', code: this.#galleryError.code, message: this.#galleryError.message, modelVersion: version };
    if (this.#catalog.size === 0) {
      return { reason: 'no-catalog-images', code: null, message: 'no catalogue images were given, so there is nothing to compare camera crops with', modelVersion: version };
    }
    if (!this.#gallery || this.#gallery.version !== service.version) return this.#building > 0 ? undefined : { reason: 'gallery', code: null, message: 'the gallery is not built for the serving model', modelVersion: version };
    return undefined;
  }

  /** Brings the alert in line with the state and emits 'status' when the state changed. */
  #evaluate(): void {
    if (this.#closed) return;
    const state = this.state;
    // Starting: not decided yet. Disabled or idle: an alert left open by an earlier run is stale.
    if (state !== 'starting') {
      try {
        this.#o.alerts.sync(state === 'unavailable' ? this.#condition() : undefined);
      } catch (err) {
        this.#log.error({ err }, 'vision: cannot raise or clear the vision-unavailable alert');
      }
    }
    if (state !== this.#lastState) {
      this.#lastState = state;
      const status = this.status();
      this.#log.info({ state, unavailable: status.unavailable, version: status.version, gallerySkus: status.gallerySkus }, 'vision state');
      this.emit('status', status);
    }
  }

  #hintsOf(version: string | undefined): RecogniserHints {
    return (version !== undefined ? this.#hints.get(version) : undefined) ?? defaultHints;
  }

  #storeHasCameras(): boolean {
    if (this.#o.hasExplicitCameras) return true;
    return (this.#o.model()?.gondolas ?? []).some((g) => g.bays.some((b) => b.cameras.length > 0));
  }
}

/** Checks catalogue images (MDL_ERR_INPUT_INVALID names the SKU and image) and returns them. */
function checkImages(sku: string, images: readonly CatalogImage[]): readonly CatalogImage[] {
  if (!Array.isArray(images)) throw modelErrors.MDL_ERR_INPUT_INVALID(`catalogue images of "${sku}": expected an array of { width, height, rgb }`);
  images.forEach((image, i) => {
    const ok =
      image !== null &&
      typeof image === 'object' &&
      Number.isInteger(image.width) &&
      Number.isInteger(image.height) &&
      image.width > 0 &&
      image.height > 0 &&
      image.rgb instanceof Uint8Array &&
      image.rgb.length === image.width * image.height * 3;
    if (!ok) throw modelErrors.MDL_ERR_INPUT_INVALID(`catalogue image ${i} of "${sku}" is not { width, height, rgb } with width × height × 3 RGB bytes`);
  });
  return [...images];
}
