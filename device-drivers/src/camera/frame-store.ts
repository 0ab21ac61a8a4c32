import { z } from 'zod';
import { driverErrors, type DriverErrorCode, type Reject } from '../errors.ts';
import { PinholeCamera, type CameraCalibration } from './calibration.ts';
import { cropFrame, type CameraCrop, type CropTarget } from './crop.ts';
import { decodeCameraFrame, DEFAULT_MAX_CAMERA_FRAME_BYTES, CAMERA_FRAME_HEADER_BYTES, verifyJpeg, type FrameSize } from './frame.ts';

/** A frame the store holds: validated (decodable, the calibrated size), never written anywhere. */
export interface StoredFrame {
  readonly cameraId: string;
  /** The camera's capture time, ms since the epoch (from the frame header). */
  readonly timestampMs: number;
  /** When the store was offered it (the caller's clock). */
  readonly receivedAt: number;
  /** The JPEG exactly as the camera sent it. */
  readonly jpeg: Buffer;
}

/** Counters and state of one camera's buffer. */
export interface CameraFrameStats {
  cameraId: string;
  /** Frames offered, whatever became of them. */
  received: number;
  /** Frames that passed validation and entered the ring buffer. */
  accepted: number;
  /** Frames pushed out of a full ingest queue before validation (also counted in `rejected`). */
  dropped: number;
  /** Rejects by code (drops included, as DRV_ERR_CAMERA_FRAME_DROPPED). */
  rejected: Partial<Record<DriverErrorCode, number>>;
  /** Frames waiting for or under validation. */
  queued: number;
  /** Frames in the ring buffer now. */
  buffered: number;
  /** Capture time of the newest accepted frame, or null before the first. */
  lastTimestampMs: number | null;
}

export const frameStoreOptions = z.strictObject({
  /**
   * Each camera keeps the frames captured within this many ms of its newest one. Default 10000:
   * the checkout asks about a hand up to ~1.5 s before a shelf change settles, and the change
   * reaches it later still when the weight pipeline lags the cameras (3 s lost a fifth of the
   * looks in a loaded simulation run).
   */
  windowMs: z.number().int().positive().max(600_000).default(10_000),
  /** …and at most this many frames (10 s at 30 fps). Default 300. */
  maxFramesPerCamera: z.number().int().min(1).max(10_000).default(300),
  /**
   * Frames a camera may keep beyond those while evidence is still pending (`FrameStoreHooks.keepFrom`: a shelf change the
   * weight pipeline holds undecided for up to 30 s). Default 600 (60 s at 10 fps, 20 s at 30 fps).
   */
  maxRetainedFramesPerCamera: z.number().int().min(0).max(10_000).default(600),
  /** Frames per camera waiting for validation; when full, the oldest waiting frame is dropped. Default 4. */
  queueLimit: z.number().int().min(1).max(1_000).default(4),
  /** JPEG validations (decodes) in flight at once, over all cameras; one per camera at a time. Default 2. */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** Largest frame payload (header + JPEG), bytes. Default 512 KiB. */
  maxFrameBytes: z.number().int().min(CAMERA_FRAME_HEADER_BYTES + 4).max(64 * 1024 * 1024).default(DEFAULT_MAX_CAMERA_FRAME_BYTES),
});

export type FrameStoreOptionsInput = z.input<typeof frameStoreOptions>;
export type FrameStoreOptions = z.output<typeof frameStoreOptions>;

export interface FrameStoreHooks {
  /** The calibration of a camera, or undefined when it has none (its frames are refused). Asked per frame, so a new store model applies at once. */
  calibration: (cameraId: string) => CameraCalibration | undefined;
  /** Every reject (header, size, decode, stale, dropped, uncalibrated), for the caller's counters and logs. */
  onReject?: (cameraId: string, reject: Reject) => void;
  /** Every frame that entered a ring buffer. */
  onFrame?: (frame: StoredFrame) => void;
  /** Full JPEG check; default `verifyJpeg` (sharp). Tests inject one to control timing. */
  verify?: (jpeg: Buffer, size: FrameSize) => Promise<Reject | undefined>;
  /**
   * The capture time from which a camera's frames are still wanted although older than the window (a decision about what
   * it saw is pending), or undefined when none are. Asked as frames arrive; kept up to `maxRetainedFramesPerCamera` more.
   */
  keepFrom?: (cameraId: string) => number | undefined;
  /** Clock for `receivedAt`; default Date.now. */
  now?: () => number;
}

interface Pending {
  timestampMs: number;
  receivedAt: number;
  jpeg: Buffer;
}

interface CameraState {
  stats: CameraFrameStats;
  queue: Pending[];
  /** Oldest first, strictly increasing timestamps. */
  ring: StoredFrame[];
}

/**
 * The agent's short memory of what each camera saw, so fusion can ask for the frames around a
 * shelf event. Per camera: a bounded queue in front of validation (drop oldest, counted), then a
 * ring buffer of the last `windowMs` / `maxFramesPerCamera` frames ordered by capture time —
 * and, while the caller still has a decision pending about what a camera saw (`keepFrom`),
 * its frames since then too, up to `maxRetainedFramesPerCamera` more.
 *
 * Time is the cameras' own (frame timestamps), so the store behaves the same in simulated time.
 * Late frames inside the window are slotted in order; frames older than the newest minus the
 * window, and repeats of a held timestamp, are refused as stale. Frames live in memory only and
 * are never persisted (privacy: docs/architecture.md).
 *
 * Nothing here throws on bad input: a bad frame is a counted reject and the next frame is taken.
 */
export class FrameStore {
  readonly options: Readonly<FrameStoreOptions>;
  readonly #hooks: FrameStoreHooks;
  readonly #verify: (jpeg: Buffer, size: FrameSize) => Promise<Reject | undefined>;
  readonly #now: () => number;
  readonly #cameras = new Map<string, CameraState>();
  /** Cameras with queued frames and no validation in flight, in turn order. */
  readonly #turns: string[] = [];
  readonly #busy = new Set<string>();
  readonly #pinholes = new WeakMap<CameraCalibration, PinholeCamera>();
  #idleWaiters: Array<() => void> = [];

  constructor(hooks: FrameStoreHooks, options: FrameStoreOptionsInput = {}) {
    const parsed = frameStoreOptions.safeParse(options);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw driverErrors.DRV_ERR_CONFIG_INVALID(`frame store options: ${issues}`);
    }
    this.options = Object.freeze(parsed.data);
    this.#hooks = hooks;
    this.#verify = hooks.verify ?? verifyJpeg;
    this.#now = hooks.now ?? Date.now;
  }

  /**
   * Takes one frame message (header + JPEG) from a camera. The cheap checks run now (size,
   * header, JPEG markers, calibration, staleness) and their reject is returned; a frame that
   * passes is queued for the JPEG decode, whose reject arrives later through `onReject`.
   * Undefined: queued.
   */
  offer(cameraId: string, bytes: Uint8Array): Reject | undefined {
    const camera = this.#camera(cameraId);
    camera.stats.received += 1;
    const decoded = decodeCameraFrame(bytes, { maxFrameBytes: this.options.maxFrameBytes });
    if (!decoded.ok) return this.#reject(camera, decoded.reject);
    if (this.#hooks.calibration(cameraId) === undefined) {
      return this.#reject(camera, { code: 'DRV_ERR_CAMERA_UNCALIBRATED', reason: `camera "${cameraId}" has no calibration; its frames cannot be checked or mapped` });
    }
    const stale = this.#staleness(camera, decoded.timestampMs);
    if (stale) return this.#reject(camera, stale);
    camera.queue.push({ timestampMs: decoded.timestampMs, receivedAt: this.#now(), jpeg: decoded.jpeg });
    if (camera.queue.length > this.options.queueLimit) {
      const dropped = camera.queue.shift()!;
      camera.stats.dropped += 1;
      this.#reject(camera, { code: 'DRV_ERR_CAMERA_FRAME_DROPPED', reason: `frame of ${dropped.timestampMs} dropped: ${this.options.queueLimit} frames already waiting for validation` });
    }
    if (!this.#busy.has(cameraId) && !this.#turns.includes(cameraId)) this.#turns.push(cameraId);
    this.#pump();
    return undefined;
  }

  /** The frames of one camera captured in [tMs − beforeMs, tMs + afterMs], oldest first. */
  framesAround(cameraId: string, tMs: number, beforeMs: number, afterMs: number): StoredFrame[] {
    const ring = this.#cameras.get(cameraId)?.ring ?? [];
    const out: StoredFrame[] = [];
    for (let i = lowerBound(ring, tMs - beforeMs); i < ring.length && ring[i]!.timestampMs <= tMs + afterMs; i++) out.push(ring[i]!);
    return out;
  }

  /** The held frame of one camera closest in time to `tMs` (the earlier one on a tie), at most `maxGapMs` away. */
  nearest(cameraId: string, tMs: number, maxGapMs = Infinity): StoredFrame | undefined {
    const ring = this.#cameras.get(cameraId)?.ring ?? [];
    const i = lowerBound(ring, tMs);
    const after = ring[i];
    const before = ring[i - 1];
    const best = before && (!after || tMs - before.timestampMs <= after.timestampMs - tMs) ? before : after;
    return best && Math.abs(best.timestampMs - tMs) <= maxGapMs ? best : undefined;
  }

  /**
   * The model's input around a store point (a hand from a track) in the frame nearest `tMs`:
   * `cropFrame` with the camera's calibration. Undefined without a frame within `maxGapMs`, a
   * calibration, or when the point is not in view.
   */
  async cropNearest(cameraId: string, tMs: number, target: CropTarget, sizePx = 64, maxGapMs = Infinity): Promise<(CameraCrop & { frame: StoredFrame }) | undefined> {
    const frame = this.nearest(cameraId, tMs, maxGapMs);
    const camera = this.pinhole(cameraId);
    if (!frame || !camera) return undefined;
    const crop = await cropFrame(frame.jpeg, camera, target, sizePx);
    return crop && { ...crop, frame };
  }

  /** The camera's calibration as a `PinholeCamera` (store points → pixels), or undefined. */
  pinhole(cameraId: string): PinholeCamera | undefined {
    const calibration = this.#hooks.calibration(cameraId);
    if (!calibration) return undefined;
    let camera = this.#pinholes.get(calibration);
    if (!camera) {
      camera = new PinholeCamera(calibration);
      this.#pinholes.set(calibration, camera);
    }
    return camera;
  }

  stats(cameraId: string): CameraFrameStats | undefined {
    const camera = this.#cameras.get(cameraId);
    return camera && snapshot(camera, this.#busy.has(cameraId));
  }

  /** Every camera that has offered a frame, by id. */
  allStats(): CameraFrameStats[] {
    return [...this.#cameras.values()].map((c) => snapshot(c, this.#busy.has(c.stats.cameraId))).sort((a, b) => a.cameraId.localeCompare(b.cameraId));
  }

  /** Frames waiting for or under validation, over all cameras. */
  pending(): number {
    let n = this.#busy.size;
    for (const camera of this.#cameras.values()) n += camera.queue.length;
    return n;
  }

  /** Resolves once no frame is waiting for or under validation. */
  idle(): Promise<void> {
    if (this.pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Forgets every frame, queued or held (a validation in flight finds its camera's buffer gone and is discarded). */
  clear(): void {
    this.#cameras.clear();
    this.#turns.length = 0;
  }

  #camera(cameraId: string): CameraState {
    let camera = this.#cameras.get(cameraId);
    if (!camera) {
      camera = {
        stats: { cameraId, received: 0, accepted: 0, dropped: 0, rejected: {}, queued: 0, buffered: 0, lastTimestampMs: null },
        queue: [],
        ring: [],
      };
      this.#cameras.set(cameraId, camera);
    }
    return camera;
  }

  #staleness(camera: CameraState, timestampMs: number): Reject | undefined {
    const newest = camera.stats.lastTimestampMs;
    if (newest !== null && timestampMs < newest - this.options.windowMs) {
      return { code: 'DRV_ERR_CAMERA_FRAME_STALE', reason: `frame of ${timestampMs} is older than the newest (${newest}) minus the ${this.options.windowMs} ms window` };
    }
    const ring = camera.ring;
    if (ring[lowerBound(ring, timestampMs)]?.timestampMs === timestampMs) {
      return { code: 'DRV_ERR_CAMERA_FRAME_STALE', reason: `a frame of ${timestampMs} is already held (duplicate timestamp)` };
    }
    return undefined;
  }

  #pump(): void {
    while (this.#busy.size < this.options.concurrency && this.#turns.length > 0) {
      const cameraId = this.#turns.shift()!;
      const camera = this.#cameras.get(cameraId);
      const next = camera?.queue.shift();
      if (!camera || !next) continue;
      this.#busy.add(cameraId);
      void this.#validate(cameraId, camera, next).finally(() => {
        this.#busy.delete(cameraId);
        const current = this.#cameras.get(cameraId); // another state when cleared meanwhile
        if (current && current.queue.length > 0 && !this.#turns.includes(cameraId)) this.#turns.push(cameraId);
        this.#pump();
        if (this.pending() === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
      });
    }
  }

  async #validate(cameraId: string, camera: CameraState, frame: Pending): Promise<void> {
    const calibration = this.#hooks.calibration(cameraId);
    let reject: Reject | undefined;
    if (!calibration) reject = { code: 'DRV_ERR_CAMERA_UNCALIBRATED', reason: `camera "${cameraId}" has no calibration` };
    else {
      try {
        reject = await this.#verify(frame.jpeg, { width: calibration.width, height: calibration.height });
      } catch (error) {
        reject = { code: 'DRV_ERR_CAMERA_JPEG_INVALID', reason: `JPEG check failed: ${(error as Error)?.message ?? String(error)}` };
      }
    }
    if (this.#cameras.get(cameraId) !== camera) return; // cleared meanwhile
    if (reject) {
      this.#reject(camera, reject);
      return;
    }
    this.#insert(camera, { cameraId, timestampMs: frame.timestampMs, receivedAt: frame.receivedAt, jpeg: frame.jpeg });
  }

  #insert(camera: CameraState, frame: StoredFrame): void {
    // Checked again: newer frames may have been accepted while this one was decoded.
    const stale = this.#staleness(camera, frame.timestampMs);
    if (stale) {
      this.#reject(camera, stale);
      return;
    }
    const ring = camera.ring;
    ring.splice(lowerBound(ring, frame.timestampMs), 0, Object.freeze(frame));
    camera.stats.accepted += 1;
    const newest = ring.at(-1)!.timestampMs;
    camera.stats.lastTimestampMs = newest;
    // Frames older than the window go, unless a pending decision still wants them (then up to the retained allowance more).
    const cutoff = newest - this.options.windowMs;
    let keepFrom = cutoff;
    try {
      keepFrom = Math.min(cutoff, this.#hooks.keepFrom?.(frame.cameraId) ?? cutoff);
    } catch {
      // A caller's bug must not stop the store: the window alone applies.
    }
    const cap = this.options.maxFramesPerCamera + (keepFrom < cutoff ? this.options.maxRetainedFramesPerCamera : 0);
    let evict = Math.max(0, ring.length - cap);
    while (evict < ring.length && ring[evict]!.timestampMs < keepFrom) evict += 1;
    if (evict > 0) ring.splice(0, evict);
    try {
      this.#hooks.onFrame?.(frame);
    } catch {
      // A listener's bug must not stop the store; the frame is held either way.
    }
  }

  #reject(camera: CameraState, reject: Reject): Reject {
    const rejected = camera.stats.rejected;
    rejected[reject.code] = (rejected[reject.code] ?? 0) + 1;
    try {
      this.#hooks.onReject?.(camera.stats.cameraId, reject);
    } catch {
      // Counting is best effort; the store carries on.
    }
    return reject;
  }
}

function snapshot(camera: CameraState, validating: boolean): CameraFrameStats {
  return {
    ...camera.stats,
    rejected: { ...camera.stats.rejected },
    queued: camera.queue.length + (validating ? 1 : 0),
    buffered: camera.ring.length,
  };
}

/** Index of the first frame captured at or after `tMs`. */
function lowerBound(ring: readonly StoredFrame[], tMs: number): number {
  let lo = 0;
  let hi = ring.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ring[mid]!.timestampMs < tMs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
