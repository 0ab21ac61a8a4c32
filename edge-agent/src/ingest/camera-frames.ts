import { bayCameras, FrameStore, type CameraCalibration, type DriverErrorCode, type FrameStoreOptionsInput, type StoreModel } from '@storeedge/device-drivers';
import { Gauge } from 'prom-client';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export interface CameraFramesOptions {
  /** Calibrations given explicitly; they win over the ones derived from the store model. */
  cameras?: readonly CameraCalibration[];
  /** The store model in force: each placed bay's camera gets `bayCamera`'s default calibration. */
  model: () => StoreModel | null;
  metrics: Metrics;
  logger: Logger;
  /** Where the store's rejects are counted (the ingest's `recordDriverReject`). */
  recordReject: (deviceId: string, code: DriverErrorCode, message: string) => void;
  store?: FrameStoreOptionsInput;
  /** From when a camera's frames are still wanted past the store's window (a shelf change held undecided on a tray it watches). */
  keepFrom?: (cameraId: string) => number | undefined;
}

/**
 * The agent's camera frame store (device-drivers `FrameStore`): calibrations from the options,
 * else from the store model's placed bays (`bayCameras`, default 320 × 240 placement — the
 * simulator's default too); rejects counted like every other device reject; accepted frames
 * counted as `storeedge_messages_in_total{type="camera.frame"}`; the validation backlog as
 * `storeedge_queue_depth{queue="camera.frames"}`; frames held per camera as
 * `storeedge_camera_frames_buffered{camera}`.
 */
export function createCameraFrames(o: CameraFramesOptions): FrameStore {
  const explicit = new Map((o.cameras ?? []).map((c) => [c.camera, c]));
  let derivedFor: StoreModel | null | undefined;
  let derived = new Map<string, CameraCalibration>();
  const fromModel = (): Map<string, CameraCalibration> => {
    const model = o.model();
    if (model === derivedFor) return derived;
    derivedFor = model;
    derived = new Map();
    if (model) {
      try {
        for (const calibration of bayCameras(model).values()) derived.set(calibration.camera, calibration);
      } catch (err) {
        o.logger.warn({ err }, 'cannot derive camera calibrations from the store model');
      }
    }
    return derived;
  };
  const store = new FrameStore({
    calibration: (cameraId) => explicit.get(cameraId) ?? fromModel().get(cameraId),
    onReject: (cameraId, reject) => o.recordReject(cameraId, reject.code, reject.reason),
    onFrame: () => o.metrics.messagesIn.inc({ type: 'camera.frame' }),
    ...(o.keepFrom ? { keepFrom: o.keepFrom } : {}),
  }, o.store);
  const buffered = new Gauge({ name: 'storeedge_camera_frames_buffered', help: 'Validated frames held in memory per camera', labelNames: ['camera'], registers: [o.metrics.registry] });
  o.metrics.onCollect(() => {
    o.metrics.queueDepth.set({ queue: 'camera.frames' }, store.pending());
    for (const stats of store.allStats()) buffered.set({ camera: stats.cameraId }, stats.buffered);
  });
  return store;
}
