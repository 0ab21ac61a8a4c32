import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bayCameras, encodeCameraFrame, FrameStore } from '@storeedge/device-drivers';
import { ReviewCropRecorder } from '../../src/dashboard/review-crops.ts';
import { checkoutModel } from '../checkout/checkout-fixture.ts';

/** The checkout fixture's store: one placed gondola, one bay, three trays; the bay's default camera looks at it from across the aisle. */
const model = checkoutModel;

const calibration = bayCameras(model).get('b1')!;

/** A frame of the bay camera: one flat colour, so before and after tell apart. */
async function frame(t: number, rgb: [number, number, number]): Promise<Buffer> {
  const jpeg = await sharp({ create: { width: calibration.width, height: calibration.height, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } }).jpeg().toBuffer();
  return encodeCameraFrame(t, jpeg);
}

async function meanRed(jpeg: Buffer): Promise<number> {
  const { channels } = await sharp(jpeg).stats();
  return channels[0]!.mean;
}

describe('review crops', () => {
  it('cuts the tray from the bay camera just before a change and just after it, as small JPEGs kept in memory', async () => {
    const frames = new FrameStore({ calibration: (id) => (id === calibration.camera ? calibration : undefined) }, { windowMs: 10_000 });
    for (let t = 0; t <= 4_000; t += 500) expect(frames.offer(calibration.camera, await frame(t, t < 2_000 ? [200, 30, 30] : [30, 30, 200]))).toBeUndefined();
    await frames.idle();
    const recorder = new ReviewCropRecorder({ frames, model: () => model, maxChanges: 2 });

    await recorder.record({ id: 'c1', trayId: 't1', startAt: 1_800, settledAt: 2_600 });
    const crops = recorder.crops('c1');
    expect(crops.map((c) => [c.cameraId, c.when, c.atMs])).toEqual([
      [calibration.camera, 'before', 1_500],
      [calibration.camera, 'after', 3_000],
    ]);
    for (const crop of crops) expect(await sharp(crop.jpeg).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 160 });
    // Before: the red frames; after: the blue ones.
    expect(await meanRed(crops[0]!.jpeg)).toBeGreaterThan(150);
    expect(await meanRed(crops[1]!.jpeg)).toBeLessThan(80);

    // No frame near the change (or a tray no camera covers): nothing kept.
    await recorder.record({ id: 'c2', trayId: 't2', startAt: 60_000, settledAt: 61_000 });
    expect(recorder.crops('c2')).toEqual([]);
    await recorder.record({ id: 'c3', trayId: 'no-such-tray', startAt: 1_800, settledAt: 2_600 });
    expect(recorder.crops('c3')).toEqual([]);
    // Bounded: the oldest changes go first.
    await recorder.record({ id: 'c4', trayId: 't2', startAt: 1_800, settledAt: 2_600 });
    await recorder.record({ id: 'c5', trayId: 't2', startAt: 1_800, settledAt: 2_600 });
    expect([recorder.crops('c1').length, recorder.crops('c4').length, recorder.crops('c5').length]).toEqual([0, 2, 2]);
  });

  it('finds the frames of a bay whose id is not a device id (capitals, ":") under the camera id the bay camera gets', async () => {
    // A bay id may have capitals and ":"; a camera's device id may not: its default camera is "cam-bay-1".
    const renamed = { ...model, gondolas: model.gondolas.map((g) => ({ ...g, bays: g.bays.map((b) => ({ ...b, id: 'Bay:1' })) })) };
    const camera = bayCameras(renamed).get('Bay:1')!;
    expect(camera.camera).toBe('cam-bay-1');
    const frames = new FrameStore({ calibration: (id) => (id === camera.camera ? camera : undefined) }, { windowMs: 10_000 });
    for (let t = 0; t <= 4_000; t += 500) expect(frames.offer(camera.camera, await frame(t, [200, 30, 30]))).toBeUndefined();
    await frames.idle();
    const recorder = new ReviewCropRecorder({ frames, model: () => renamed });
    await recorder.record({ id: 'c1', trayId: 't1', startAt: 1_800, settledAt: 2_600 });
    expect(recorder.crops('c1').map((c) => [c.cameraId, c.when])).toEqual([
      ['cam-bay-1', 'before'],
      ['cam-bay-1', 'after'],
    ]);
  });
});
