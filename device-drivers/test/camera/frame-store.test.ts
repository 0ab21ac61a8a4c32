import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { CameraCalibration } from '../../src/camera/calibration.ts';
import { cropFrame, cropFrameWindows } from '../../src/camera/crop.ts';
import { FrameStore, type FrameStoreHooks, type FrameStoreOptionsInput, type StoredFrame } from '../../src/camera/frame-store.ts';
import { encodeCameraFrame, type FrameSize } from '../../src/camera/frame.ts';
import { DriverError, type Reject } from '../../src/errors.ts';

/** A 32 × 24 camera 2 m up, looking along +y and down at a shelf 1 m away. */
function calibrationOf(camera: string, width = 32, height = 24): CameraCalibration {
  return { camera, position: { x: 0, y: 0, z: 2 }, lookAt: { x: 0, y: 1, z: 1 }, width, height, fx: 30, fy: 30, cx: width / 2, cy: height / 2 };
}

/** Framing only (SOI, EOI): enough for the synchronous checks; the injected verify decides the rest. */
const body = (tag: number) => Buffer.from([0xff, 0xd8, tag & 0xff, 0xff, 0xd9]);
const frameAt = (t: number) => encodeCameraFrame(t, body(t));

/** A verify whose answers the test releases one by one, to hold frames "under validation". */
class HeldVerify {
  readonly waiting: Array<{ jpeg: Buffer; release: (r?: Reject) => void }> = [];
  readonly verify = (jpeg: Buffer, _size: FrameSize): Promise<Reject | undefined> =>
    new Promise((resolve) => this.waiting.push({ jpeg, release: resolve }));
  /** Releases the oldest held check and lets the store take the next frame. */
  async next(reject?: Reject): Promise<void> {
    this.waiting.shift()!.release(reject);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

interface Harness {
  store: FrameStore;
  rejects: Array<{ cameraId: string; code: string }>;
  accepted: StoredFrame[];
}

function harness(options: FrameStoreOptionsInput = {}, hooks: Partial<FrameStoreHooks> = {}, cameras = ['cam-a', 'cam-b']): Harness {
  const calibrations = new Map(cameras.map((id) => [id, calibrationOf(id)]));
  const rejects: Harness['rejects'] = [];
  const accepted: StoredFrame[] = [];
  const store = new FrameStore(
    {
      calibration: (id) => calibrations.get(id),
      onReject: (cameraId, r) => rejects.push({ cameraId, code: r.code }),
      onFrame: (f) => accepted.push(f),
      verify: async () => undefined,
      now: () => 42,
      ...hooks,
    },
    options,
  );
  return { store, rejects, accepted };
}

async function offerAll(store: FrameStore, cameraId: string, times: number[]): Promise<Array<string | undefined>> {
  const codes = times.map((t) => store.offer(cameraId, frameAt(t))?.code);
  await store.idle();
  return codes;
}

/** Offers frames one at a time, each validated before the next; the codes of the synchronous rejects. */
async function offerEach(store: FrameStore, cameraId: string, times: number[]): Promise<Array<string | undefined>> {
  const codes: Array<string | undefined> = [];
  for (const t of times) {
    codes.push(store.offer(cameraId, frameAt(t))?.code);
    await store.idle();
  }
  return codes;
}

const timesOf = (frames: readonly StoredFrame[]) => frames.map((f) => f.timestampMs);

describe('FrameStore ring buffer (simulated time: the frames’ own timestamps)', () => {
  it('keeps the last windowMs of frames, evicting by the newest frame’s time', async () => {
    const { store } = harness({ windowMs: 300 });
    await offerEach(store, 'cam-a', [0, 100, 200, 300, 400, 500]);
    expect(timesOf(store.framesAround('cam-a', 0, 1e9, 1e9))).toEqual([200, 300, 400, 500]);
    const stats = store.stats('cam-a')!;
    expect(stats).toEqual({ cameraId: 'cam-a', received: 6, accepted: 6, dropped: 0, rejected: {}, queued: 0, buffered: 4, lastTimestampMs: 500 });
  });

  it('keeps at most maxFramesPerCamera frames', async () => {
    const { store } = harness({ windowMs: 10_000, maxFramesPerCamera: 3 });
    await offerEach(store, 'cam-a', [0, 33, 66, 100, 133]);
    expect(timesOf(store.framesAround('cam-a', 100, 1_000, 1_000))).toEqual([66, 100, 133]);
  });

  it('keeps the frames a pending decision wants past the window (keepFrom), up to maxRetainedFramesPerCamera more', async () => {
    let keepFrom: number | undefined = 100;
    const { store } = harness({ windowMs: 300, maxFramesPerCamera: 4, maxRetainedFramesPerCamera: 3 }, { keepFrom: (id) => (id === 'cam-a' ? keepFrom : undefined) });
    await offerEach(store, 'cam-a', [0, 100, 200, 300, 400, 500]);
    await offerEach(store, 'cam-b', [0, 100, 200, 300, 400, 500]);
    // cam-a: 100 and 200 are older than the window but wanted; 0 is not. cam-b: the window alone.
    expect(timesOf(store.framesAround('cam-a', 0, 1e9, 1e9))).toEqual([100, 200, 300, 400, 500]);
    expect(timesOf(store.framesAround('cam-b', 0, 1e9, 1e9))).toEqual([200, 300, 400, 500]);
    // The allowance bounds them: 4 + 3 frames at most, the oldest go first.
    await offerEach(store, 'cam-a', [600, 700, 800]);
    expect(timesOf(store.framesAround('cam-a', 0, 1e9, 1e9))).toEqual([200, 300, 400, 500, 600, 700, 800]);
    // Decided: the next frame brings the ring back to the window.
    keepFrom = undefined;
    await offerEach(store, 'cam-a', [900]);
    expect(timesOf(store.framesAround('cam-a', 0, 1e9, 1e9))).toEqual([600, 700, 800, 900]);
    // A throwing hook is the window alone.
    const broken = harness({ windowMs: 300 }, { keepFrom: () => { throw new Error('bug'); } }).store;
    await offerEach(broken, 'cam-a', [0, 100, 200, 300, 400]);
    expect(timesOf(broken.framesAround('cam-a', 0, 1e9, 1e9))).toEqual([100, 200, 300, 400]);
  });

  it('answers framesAround (inclusive bounds, oldest first) and nearest (earlier on a tie, maxGapMs)', async () => {
    const { store } = harness({ windowMs: 10_000 });
    await offerEach(store, 'cam-a', [1_000, 1_100, 1_200, 1_300, 1_400]);
    expect(timesOf(store.framesAround('cam-a', 1_200, 100, 100))).toEqual([1_100, 1_200, 1_300]);
    expect(timesOf(store.framesAround('cam-a', 1_250, 0, 10))).toEqual([]);
    expect(timesOf(store.framesAround('cam-a', 1_250, 100, 0))).toEqual([1_200]);
    expect(timesOf(store.framesAround('cam-b', 1_200, 1_000, 1_000))).toEqual([]);
    expect(store.nearest('cam-a', 1_249)?.timestampMs).toBe(1_200);
    expect(store.nearest('cam-a', 1_250)?.timestampMs).toBe(1_200);
    expect(store.nearest('cam-a', 1_251)?.timestampMs).toBe(1_300);
    expect(store.nearest('cam-a', 0)?.timestampMs).toBe(1_000);
    expect(store.nearest('cam-a', 9_999)?.timestampMs).toBe(1_400);
    expect(store.nearest('cam-a', 1_450, 40)).toBeUndefined();
    expect(store.nearest('cam-a', 1_450, 50)?.timestampMs).toBe(1_400);
    expect(store.nearest('cam-b', 1_200)).toBeUndefined();
  });

  it('holds each frame’s JPEG byte for byte, with the camera id and times', async () => {
    const { store } = harness();
    await offerAll(store, 'cam-a', [7]);
    const [frame] = store.framesAround('cam-a', 7, 0, 0);
    expect(frame).toEqual({ cameraId: 'cam-a', timestampMs: 7, receivedAt: 42, jpeg: body(7) });
    expect(Object.isFrozen(frame)).toBe(true);
  });

  it('slots late frames inside the window in order; refuses older ones and duplicate timestamps as stale', async () => {
    const { store, rejects } = harness({ windowMs: 1_000 });
    const codes = await offerEach(store, 'cam-a', [5_000, 4_600, 5_200, 4_199, 4_200, 5_200, 4_600]);
    const stale = 'DRV_ERR_CAMERA_FRAME_STALE';
    // 4_199 is older than the newest (5_200) minus the window; 4_200 is just inside it.
    expect(codes).toEqual([undefined, undefined, undefined, stale, undefined, stale, stale]);
    expect(timesOf(store.framesAround('cam-a', 5_000, 1e6, 1e6))).toEqual([4_200, 4_600, 5_000, 5_200]);
    expect(store.stats('cam-a')!.rejected).toEqual({ DRV_ERR_CAMERA_FRAME_STALE: 3 });
    expect(rejects.filter((r) => r.code === stale)).toHaveLength(3);
  });

  it('refuses frames offered together that fall out of the window once the newer ones are in', async () => {
    const { store } = harness({ windowMs: 1_000 });
    await offerAll(store, 'cam-a', [5_000, 3_000, 5_000]);
    expect(timesOf(store.framesAround('cam-a', 5_000, 1e6, 1e6))).toEqual([5_000]);
    expect(store.stats('cam-a')!.rejected).toEqual({ DRV_ERR_CAMERA_FRAME_STALE: 2 });
  });


  it('rechecks staleness after validation: a frame overtaken while it was decoded is refused', async () => {
    const held = new HeldVerify();
    const { store } = harness({ windowMs: 100, concurrency: 2 }, { verify: held.verify });
    expect(store.offer('cam-a', frameAt(1_000))).toBeUndefined(); // in flight
    expect(store.offer('cam-b', frameAt(0))).toBeUndefined(); // another camera's check runs alongside
    expect(store.offer('cam-a', frameAt(1_500))).toBeUndefined(); // queued behind it
    await held.next(); // 1_000 accepted; 1_500 starts
    await held.next(); // cam-b's 0 accepted
    expect(store.offer('cam-a', frameAt(1_050))).toBeUndefined(); // inside the window of 1_000: queued
    await held.next(); // 1_500 accepted: 1_050 is now stale
    await held.next();
    await store.idle();
    expect(timesOf(store.framesAround('cam-a', 0, 1e6, 1e6))).toEqual([1_500]);
    expect(store.stats('cam-a')!.rejected).toEqual({ DRV_ERR_CAMERA_FRAME_STALE: 1 });
    expect(timesOf(store.framesAround('cam-b', 0, 1e6, 1e6))).toEqual([0]);
  });
});

describe('FrameStore ingest queue', () => {
  it('drops the oldest waiting frame when a camera’s queue is full, and counts it', async () => {
    const held = new HeldVerify();
    const { store, rejects } = harness({ queueLimit: 2, concurrency: 1, windowMs: 10_000 }, { verify: held.verify });
    for (const t of [0, 10, 20, 30, 40]) expect(store.offer('cam-a', frameAt(t))).toBeUndefined();
    // 0 is under validation; 10 and 20 were pushed out by 30 and 40.
    expect(store.stats('cam-a')).toMatchObject({ received: 5, dropped: 2, queued: 3, buffered: 0, rejected: { DRV_ERR_CAMERA_FRAME_DROPPED: 2 } });
    expect(store.pending()).toBe(3);
    while (held.waiting.length > 0) await held.next();
    await store.idle();
    expect(timesOf(store.framesAround('cam-a', 0, 1e6, 1e6))).toEqual([0, 30, 40]);
    expect(rejects).toEqual([
      { cameraId: 'cam-a', code: 'DRV_ERR_CAMERA_FRAME_DROPPED' },
      { cameraId: 'cam-a', code: 'DRV_ERR_CAMERA_FRAME_DROPPED' },
    ]);
    expect(store.stats('cam-a')).toMatchObject({ accepted: 3, queued: 0, buffered: 3 });
  });

  it('takes cameras in turns: a flooding camera does not starve another one', async () => {
    const held = new HeldVerify();
    const { store } = harness({ queueLimit: 3, concurrency: 1, windowMs: 10_000 }, { verify: held.verify });
    for (let t = 0; t < 50; t++) store.offer('cam-a', frameAt(t));
    store.offer('cam-b', frameAt(0));
    await held.next(); // cam-a's first
    await held.next(); // cam-b's turn comes next, ahead of cam-a's queue
    expect(timesOf(store.framesAround('cam-b', 0, 0, 0))).toEqual([0]);
    while (held.waiting.length > 0) await held.next();
    await store.idle();
    expect(store.stats('cam-a')).toMatchObject({ received: 50, accepted: 4, dropped: 46 });
    expect(store.stats('cam-b')).toMatchObject({ received: 1, accepted: 1, dropped: 0 });
  });

  it('counts validation rejects per code and keeps taking frames', async () => {
    const verify = async (jpeg: Buffer): Promise<Reject | undefined> =>
      jpeg[2] === 13 ? { code: 'DRV_ERR_CAMERA_JPEG_INVALID', reason: 'corrupt' } : jpeg[2] === 14 ? { code: 'DRV_ERR_CAMERA_FRAME_SIZE', reason: 'size' } : undefined;
    const { store, rejects, accepted } = harness({}, { verify });
    const codes = await offerAll(store, 'cam-a', [12, 13, 14, 15]);
    expect(codes).toEqual([undefined, undefined, undefined, undefined]); // decided after the decode
    expect(timesOf(accepted)).toEqual([12, 15]);
    expect(rejects.map((r) => r.code)).toEqual(['DRV_ERR_CAMERA_JPEG_INVALID', 'DRV_ERR_CAMERA_FRAME_SIZE']);
    expect(store.stats('cam-a')!.rejected).toEqual({ DRV_ERR_CAMERA_JPEG_INVALID: 1, DRV_ERR_CAMERA_FRAME_SIZE: 1 });
  });

  it('treats a verify that throws as an invalid JPEG, and a listener that throws as no reason to stop', async () => {
    const { store } = harness(
      {},
      {
        verify: async (jpeg) => {
          if (jpeg[2] === 1) throw new Error('libvips exploded');
          return undefined;
        },
        onFrame: () => {
          throw new Error('listener bug');
        },
      },
    );
    await offerAll(store, 'cam-a', [1, 2]);
    expect(store.stats('cam-a')).toMatchObject({ accepted: 1, rejected: { DRV_ERR_CAMERA_JPEG_INVALID: 1 } });
  });

  it('refuses bad headers and uncalibrated cameras at once, without queueing them', async () => {
    const { store, rejects } = harness({ maxFrameBytes: 64 });
    expect(store.offer('cam-a', Buffer.from('not a frame at all'))?.code).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED');
    expect(store.offer('cam-a', encodeCameraFrame(1, Buffer.concat([body(1).subarray(0, 3), Buffer.alloc(60), body(1).subarray(3)])))?.code).toBe('DRV_ERR_CAMERA_FRAME_TOO_LARGE');
    expect(store.offer('cam-z', frameAt(1))?.code).toBe('DRV_ERR_CAMERA_UNCALIBRATED');
    expect(store.pending()).toBe(0);
    expect(rejects.map((r) => `${r.cameraId} ${r.code}`)).toEqual([
      'cam-a DRV_ERR_CAMERA_FRAME_MALFORMED',
      'cam-a DRV_ERR_CAMERA_FRAME_TOO_LARGE',
      'cam-z DRV_ERR_CAMERA_UNCALIBRATED',
    ]);
    expect(store.allStats().map((s) => [s.cameraId, s.received])).toEqual([
      ['cam-a', 2],
      ['cam-z', 1],
    ]);
  });

  it('forgets everything on clear(); a check in flight at that moment is discarded', async () => {
    const held = new HeldVerify();
    const { store } = harness({}, { verify: held.verify });
    store.offer('cam-a', frameAt(1));
    store.clear();
    await held.next();
    await store.idle();
    expect(store.stats('cam-a')).toBeUndefined();
    expect(store.framesAround('cam-a', 1, 10, 10)).toEqual([]);
    store.offer('cam-a', frameAt(2));
    await held.next();
    await store.idle();
    expect(store.stats('cam-a')).toMatchObject({ accepted: 1 });
  });

  it('refuses invalid options with DRV_ERR_CONFIG_INVALID naming the option', () => {
    expect(() => harness({ windowMs: 0 })).toThrow(DriverError);
    expect(() => harness({ queueLimit: 0 })).toThrow(/queueLimit/);
  });
});

describe('FrameStore with real JPEGs (sharp)', () => {
  const jpegOf = (width: number, height: number, grey: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: grey, g: grey, b: grey } } }).jpeg().toBuffer();

  it('validates size and decodability against the calibration, and crops the nearest frame as cropFrame does', async () => {
    const { store, rejects } = harness({}, { verify: undefined as never });
    const good = await jpegOf(32, 24, 128);
    const wrongSize = await jpegOf(64, 48, 128);
    const corrupt = Buffer.concat([good.subarray(0, Math.floor(good.length * 0.6)), Buffer.from([0xff, 0xd9])]);
    store.offer('cam-a', encodeCameraFrame(100, good));
    store.offer('cam-a', encodeCameraFrame(200, wrongSize));
    store.offer('cam-a', encodeCameraFrame(300, corrupt));
    await store.idle();
    expect(rejects.map((r) => r.code)).toEqual(['DRV_ERR_CAMERA_FRAME_SIZE', 'DRV_ERR_CAMERA_JPEG_INVALID']);
    expect(store.framesAround('cam-a', 200, 200, 200).map((f) => f.jpeg)).toEqual([good]);

    const target = { point: { x: 0, y: 1, z: 1 }, radiusM: 0.2 };
    const crop = await store.cropNearest('cam-a', 290, target, 16);
    expect(crop?.frame.timestampMs).toBe(100);
    expect(crop?.rgb).toEqual((await cropFrame(good, store.pinhole('cam-a')!, target, 16))!.rgb);
    expect(crop?.rgb.length).toBe(16 * 16 * 3);
    expect(await store.cropNearest('cam-a', 290, target, 16, 50)).toBeUndefined();
    expect(await store.cropNearest('cam-b', 100, target)).toBeUndefined();
  });

  it('cropFrameWindows: the centre window is cropFrame byte for byte, a shifted window is cropFrame around the shifted square, and a target out of view gives none', async () => {
    const { store } = harness({}, { verify: undefined as never });
    const frame = await sharp({ create: { width: 32, height: 24, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .composite([{ input: await sharp({ create: { width: 8, height: 6, channels: 3, background: { r: 250, g: 20, b: 20 } } }).png().toBuffer(), left: 20, top: 4 }])
      .jpeg()
      .toBuffer();
    store.offer('cam-a', encodeCameraFrame(100, frame));
    await store.idle();
    const camera = store.pinhole('cam-a')!;
    const target = { point: { x: 0, y: 1, z: 1 }, radiusM: 0.2 };
    const [centre, shifted, bigger] = await cropFrameWindows(frame, camera, target, [{ dx: 0, dy: 0 }, { dx: 0.5, dy: -0.25 }, { dx: 0, dy: 0, scale: 1.5 }], 16);
    expect(centre!.rgb).toEqual((await cropFrame(frame, camera, target, 16))!.rgb);
    const base = camera.squareAround(target.point, target.radiusM)!;
    expect(shifted!.square).toEqual({ left: base.left + Math.round(0.5 * base.size), top: base.top + Math.round(-0.25 * base.size), size: base.size });
    expect(shifted!.rgb).not.toEqual(centre!.rgb);
    expect(bigger!.square.size).toBe(Math.round(base.size * 1.5));
    expect(await cropFrameWindows(frame, camera, { point: { x: 40, y: -30, z: 1 }, radiusM: 0.2 }, [{ dx: 0, dy: 0 }])).toEqual([undefined]);
  });
});
