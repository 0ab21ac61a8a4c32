import sharp from 'sharp';
import { bayCameraIds, cropFrame, trayPoints, type FrameStore, type StoreModel, type TrayPoint } from '@storeedge/device-drivers';
import type { EventBus, ShelfChange } from '../events.ts';
import { silentLogger, type Logger } from '../log.ts';

/** One camera's view of a tray just before a change began or just after it settled. */
export interface ReviewCrop {
  cameraId: string;
  when: 'before' | 'after';
  /** Capture time of the frame it was cut from (the camera's clock, ms). */
  atMs: number;
  jpeg: Buffer;
}

export interface ReviewCropRecorderOptions {
  frames: Pick<FrameStore, 'nearest' | 'pinhole'>;
  model: () => StoreModel | null;
  logger?: Logger;
  /** Changes whose crops are kept, newest first. Default 200 (a few MB at most). */
  maxChanges?: number;
  /** Side of the square crop, pixels. Default 160. */
  sizePx?: number;
  /** Half the side of the square around the tray's front edge, metres. Default 0.3. */
  radiusM?: number;
  /** How far before the change began (and after it settled) the frame is looked for. Default 300 ms. */
  marginMs?: number;
  /** A frame further than this from that instant is not used. Default 2 s. */
  maxGapMs?: number;
}

/**
 * The camera crops the review page shows beside a change's weight trace (docs/dashboard.md
 * "Review"): at every settled shelf change, for each camera of the tray's bay, the square around
 * the tray's front edge in the frame nearest just before the change began and just after it
 * settled, as a small JPEG. The frame store keeps only a few seconds per camera, so the crops are
 * cut when the change settles, not when someone opens the review page. In memory only (like the
 * frames: nothing a camera saw is written to disk), the last `maxChanges` changes.
 */
export class ReviewCropRecorder {
  readonly #o: Required<Omit<ReviewCropRecorderOptions, 'logger'>> & { logger: Logger };
  readonly #crops = new Map<string, ReviewCrop[]>();
  #pointsFor: StoreModel | null = null;
  #points = new Map<string, TrayPoint & { cameras: string[] }>();
  #pending: Promise<void> = Promise.resolve();

  constructor(options: ReviewCropRecorderOptions) {
    this.#o = { maxChanges: 200, sizePx: 160, radiusM: 0.3, marginMs: 300, maxGapMs: 2_000, logger: silentLogger(), ...options };
  }

  attach(bus: EventBus): () => void {
    return bus.on('shelf.change', (change) => {
      this.#pending = this.#pending.then(() => this.record(change)).catch((err: unknown) => this.#o.logger.warn({ err, changeId: change.id }, 'review crops: cutting failed'));
    });
  }

  /** Resolves when every change seen so far has been cut. */
  idle(): Promise<void> {
    return this.#pending;
  }

  /** The crops of a change, before ones first; empty when no camera saw it (or it is no longer kept). */
  crops(changeId: string): ReviewCrop[] {
    return this.#crops.get(changeId) ?? [];
  }

  async record(change: Pick<ShelfChange, 'id' | 'trayId' | 'startAt' | 'settledAt'>): Promise<void> {
    const tray = this.#tray(change.trayId);
    if (tray === undefined) return;
    const crops: ReviewCrop[] = [];
    for (const when of ['before', 'after'] as const) {
      const at = when === 'before' ? change.startAt - this.#o.marginMs : change.settledAt + this.#o.marginMs;
      for (const cameraId of tray.cameras) {
        const frame = this.#o.frames.nearest(cameraId, at, this.#o.maxGapMs);
        const camera = this.#o.frames.pinhole(cameraId);
        if (frame === undefined || camera === undefined) continue;
        const crop = await cropFrame(frame.jpeg, camera, { point: { x: tray.x, y: tray.y, z: tray.z + 0.1 }, radiusM: this.#o.radiusM }, this.#o.sizePx);
        if (crop === undefined) continue;
        const jpeg = await sharp(crop.rgb, { raw: { width: crop.sizePx, height: crop.sizePx, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
        crops.push({ cameraId, when, atMs: frame.timestampMs, jpeg });
      }
    }
    if (crops.length === 0) return;
    this.#crops.set(change.id, crops);
    while (this.#crops.size > this.#o.maxChanges) this.#crops.delete(this.#crops.keys().next().value!);
  }

  /** The tray's front-edge point and its bay's cameras (`bayCameraIds`). */
  #tray(trayId: string): (TrayPoint & { cameras: string[] }) | undefined {
    const model = this.#o.model();
    if (model === null) return undefined;
    if (model !== this.#pointsFor) {
      this.#pointsFor = model;
      const points = trayPoints(model);
      this.#points = new Map();
      for (const gondola of model.gondolas) {
        for (const bay of gondola.bays) {
          const cameras = bayCameraIds(bay);
          for (const shelf of bay.shelves) {
            for (const tray of shelf.trays) {
              const point = points.get(tray.id);
              if (point) this.#points.set(tray.id, { ...point, cameras });
            }
          }
        }
      }
    }
    return this.#points.get(trayId);
  }
}
