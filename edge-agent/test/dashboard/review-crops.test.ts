import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { bayCameras, encodeCameraFrame, FrameStore, storeModel, type StoreModelInput } from '@storeedge/device-drivers';
import { ReviewCropRecorder } from '../../src/dashboard/review-crops.ts';

/** One placed gondola, one bay, two trays: the bay's default camera looks at it from across the aisle. */
const model = storeModel.parse({
  catalog: [
    { sku: 'cola', gtin: '04006381333931', name: 'Cola', unitWeightG: 350, unitWeightSigmaG: 2, priceMinor: 129 },
    { sku: 'chips', gtin: '04006381333948', name: 'Chips', unitWeightG: 160, unitWeightSigmaG: 3, priceMinor: 199 },
  ],
  zones: [{ id: 'z1' }],
  gondolas: [
    {
      id: 'g1',
      zone: 'z1',
      placement: { x: 2, y: 5, axis: 'x', side: -1, bayWidthM: 1 },
      bays: [
        {
          id: 'b1',
          shelves: [
            {
              id: 's1',
              heightM: 1.1,
              trays: [
                { id: 't1', device: 'shelf-1', channel: 0, facings: [{ sku: 'cola', capacity: 10, minLevel: 2, initial: 8 }] },
                { id: 't2', device: 'shelf-1', channel: 1, facings: [{ sku: 'chips', capacity: 10, minLevel: 2, initial: 8 }] },
              ],
            },
          ],
        },
      ],
    },
  ],
} satisfies StoreModelInput);

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
});
