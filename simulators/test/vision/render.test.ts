import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { PixelRegion } from '@storeedge/device-drivers/camera/index.ts';
import { PersonMotion } from '../../src/checkout/motion.ts';
import { isSimulatorError } from '../../src/errors.ts';
import { cropFrame } from '../../src/vision/crop.ts';
import type { VisionOptionsInput } from '../../src/vision/options.ts';
import { SimulatedShelfCamera } from '../../src/vision/render.ts';
import { armsAt, shopperLook, type ArmPose, type ShelfScene } from '../../src/vision/scene.ts';
import { COLA, PAPRIKA, SALTED, visionStore } from './vision-store.ts';

/** No randomness but the sensor noise: fixed exposure, no cast, blur or passing shoppers. */
const steady: VisionOptionsInput = { occlusionRate: 0, lighting: { gain: [1, 1], colourCast: 0 }, blur: { defocusSigmaPx: [0, 0], motionPx: [0, 0] } };

function shelfCamera(vision: VisionOptionsInput = {}, seed: number | string = 7) {
  return new SimulatedShelfCamera({ model: visionStore(), bayId: 'b1', seed, vision });
}

async function pixels(jpeg: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Mean absolute difference per channel, over a region or the whole image. */
function meanDifference(a: { data: Buffer; width: number }, b: { data: Buffer }, region?: PixelRegion): number {
  const r = region ?? { left: 0, top: 0, width: a.width, height: a.data.length / 3 / a.width };
  let sum = 0;
  for (let y = r.top; y < r.top + r.height; y++) {
    for (let x = r.left; x < r.left + r.width; x++) {
      for (let c = 0; c < 3; c++) sum += Math.abs(a.data[(y * a.width + x) * 3 + c]! - b.data[(y * a.width + x) * 3 + c]!);
    }
  }
  return sum / (r.width * r.height * 3);
}

function cropDifference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

/** A hand held up in front of the bay's lower middle tray, 0.3 m out from the shelf. */
function handInFront(holding: string | undefined): ArmPose {
  return { shoulder: { x: 0.45, y: 1.3, z: 1.4 }, hand: { x: 0.5, y: 1.7, z: 0.55 }, look: shopperLook('p1'), holding };
}

describe('SimulatedShelfCamera frames', () => {
  it('is a baseline JPEG of the calibrated size', async () => {
    for (const [width, height] of [
      [320, 240],
      [640, 480],
    ] as const) {
      const camera = shelfCamera({ width, height });
      const frame = await camera.render({}, 0);
      expect(frame.jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      const meta = await sharp(frame.jpeg).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width, height, channels: 3 });
      expect(camera.camera.width).toBe(width);
    }
  });

  it('carries the camera id, the timestamp and pixels — nothing else', async () => {
    const frame = await shelfCamera().render({ arms: [handInFront(PAPRIKA)] }, 1_250);
    expect(Object.keys(frame).sort()).toEqual(['cameraId', 'jpeg', 'timestampMs']);
    expect(frame).toMatchObject({ cameraId: 'cam-b1', timestampMs: 1_250 });
    const meta = await sharp(frame.jpeg).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.iptc).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.comments).toBeUndefined();
    // Walk the JPEG's header segments: only JFIF (APP0), tables, frame and scan headers, no APP1–15 or COM.
    const markers: number[] = [];
    for (let at = 2; at < frame.jpeg.length; ) {
      const marker = frame.jpeg[at + 1]!;
      markers.push(marker);
      if (marker === 0xda) break;
      at += 2 + frame.jpeg.readUInt16BE(at + 2);
    }
    expect(markers.filter((m) => (m >= 0xe1 && m <= 0xef) || m === 0xfe)).toEqual([]);
    expect(frame.jpeg.includes(Buffer.from(PAPRIKA))).toBe(false);
  });

  it('replays a frame byte for byte from the same seed, scene and timestamp', async () => {
    const scene: ShelfScene = { arms: [handInFront(COLA)] };
    const a = await shelfCamera({ occlusionRate: 0.5 }).render(scene, 100);
    const b = await shelfCamera({ occlusionRate: 0.5 }).render(scene, 100);
    expect(a.jpeg.equals(b.jpeg)).toBe(true);
  });

  it('draws different noise from a different seed or timestamp, and nothing else differs', async () => {
    const [a, b, c] = await Promise.all([shelfCamera(steady, 1).render({}, 100), shelfCamera(steady, 2).render({}, 100), shelfCamera(steady, 1).render({}, 200)]);
    expect(a.jpeg.equals(b.jpeg)).toBe(false);
    expect(a.jpeg.equals(c.jpeg)).toBe(false);
    // About the noise's σ = 2 levels (mean |N(0, 2)| difference of two draws ≈ 2.3, less after JPEG smoothing).
    const difference = meanDifference(await pixels(a.jpeg), await pixels(b.jpeg));
    expect(difference).toBeGreaterThan(0.5);
    expect(difference).toBeLessThan(4);
    const quiet = { ...steady, noiseSigma: 0 };
    const [d, e] = await Promise.all([shelfCamera(quiet, 1).render({}, 100), shelfCamera(quiet, 2).render({}, 300)]);
    expect(d.jpeg.equals(e.jpeg)).toBe(true);
  });

  it('shows one product fewer where a unit was taken, and nowhere else', async () => {
    const camera = shelfCamera(steady);
    const before = await pixels((await camera.render({}, 0)).jpeg);
    const taken = new Map([['t-paprika', [5]]]);
    const after = await pixels((await camera.render({ stock: taken }, 0)).jpeg);
    const target = camera.trayTarget('t-paprika');
    const tray = camera.camera.regionAround(target.point, target.radiusM)!;
    const inside = meanDifference(before, after, tray);
    expect(inside).toBeGreaterThan(1);
    // The rest of the frame: left of the tray's square (JPEG blocks may spill a few pixels).
    const left = { left: 0, top: 0, width: Math.max(1, tray.left - 16), height: before.height };
    expect(meanDifference(before, after, left)).toBe(0);
  });

  it('shows every unit: each count from full to empty gives a different tray', async () => {
    const camera = shelfCamera(steady);
    const target = camera.trayTarget('t-cola');
    const crops: Buffer[] = [];
    for (const units of [12, 11, 8, 4, 3, 2, 1, 0]) crops.push((await camera.renderCrop({ stock: new Map([['t-cola', [units]]]) }, 0, target))!.rgb);
    for (let i = 1; i < crops.length; i++) expect(cropDifference(crops[i - 1]!, crops[i]!), `step ${i}`).toBeGreaterThan(0.2);
  });

  it('tells two flavours of one family apart in a hand crop, and a different family more so', async () => {
    const camera = shelfCamera();
    const target = { point: handInFront(undefined).hand, radiusM: 0.12 };
    const crop = async (sku: string) => (await camera.renderCrop({ arms: [handInFront(sku)] }, 500, target))!.rgb;
    const [paprika, salted, cola] = await Promise.all([crop(PAPRIKA), crop(SALTED), crop(COLA)]);
    const siblings = cropDifference(paprika, salted);
    expect(siblings).toBeGreaterThan(0.5);
    expect(cropDifference(paprika, cola)).toBeGreaterThan(siblings * 2);
  });

  it('draws arms, a passing shopper and lighting where the knobs say', async () => {
    const camera = shelfCamera(steady);
    const empty = await pixels((await camera.render({}, 0)).jpeg);
    const withArm = await pixels((await camera.render({ arms: [handInFront(undefined)] }, 0)).jpeg);
    const hand = camera.camera.regionAround(handInFront(undefined).hand, 0.05)!;
    expect(meanDifference(empty, withArm, hand)).toBeGreaterThan(10);
    const occluded = await pixels((await shelfCamera({ ...steady, occlusionRate: 1 }).render({}, 0)).jpeg);
    expect(meanDifference(empty, occluded)).toBeGreaterThan(5);
    const dim = await pixels((await shelfCamera({ ...steady, lighting: { gain: [0.5, 0.5], colourCast: 0 } }).render({}, 0)).jpeg);
    const mean = (p: { data: Buffer }) => p.data.reduce((s, v) => s + v, 0) / p.data.length;
    expect(mean(dim) / mean(empty)).toBeCloseTo(0.5, 1);
  });

  it('draws a simulated person’s arms from their motion', async () => {
    const motion = new PersonMotion('p1', 0, { x: 0.5, y: 1.4 }, { x: 0, y: 1 });
    motion.stay(10_000);
    motion.reach({ hand: 1, startAt: 1_000, endAt: 2_000, target: { x: 0.5, y: 1.95, z: 0.3 } });
    const look = shopperLook('7/p1');
    const arms = armsAt(motion, 1_500, look, [undefined, PAPRIKA]);
    expect(arms).toHaveLength(2);
    // The right arm reaches the tray holding a unit; the left hangs beside the torso.
    expect(arms[1]).toEqual({ shoulder: { x: expect.closeTo(0.69, 9), y: 1.4, z: 1.4 }, hand: motion.handsAt(1_500)[1], look, holding: PAPRIKA });
    expect(arms[1]!.hand.z).toBeCloseTo(0.3, 9);
    expect(arms[0]!.shoulder.x).toBeCloseTo(0.31, 9);
    expect(arms[0]!.hand).toEqual(motion.handsAt(1_500)[0]);
    const camera = shelfCamera(steady);
    const empty = await pixels((await camera.render({}, 1_500)).jpeg);
    const reaching = await pixels((await camera.render({ arms }, 1_500)).jpeg);
    expect(meanDifference(empty, reaching, camera.camera.regionAround(arms[1]!.hand, 0.05)!)).toBeGreaterThan(10);
  });

  it('refuses bad stock, unknown held SKUs, unknown bays and bad knobs', async () => {
    const camera = shelfCamera();
    const refused = async (scene: ShelfScene, message: RegExp) => {
      const error = await camera.render(scene, 0).then(() => undefined, (e: unknown) => e);
      expect(isSimulatorError(error, 'SIM_ERR_ARGUMENT_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(message);
    };
    await refused({ stock: new Map([['t-cola', [-1]]]) }, /stock of tray "t-cola" facing 0/);
    await refused({ stock: new Map([['t-cola', []]]) }, /stock of tray "t-cola" facing 0/);
    await refused({ arms: [handInFront('no-such-sku')] }, /holds SKU "no-such-sku"/);
    expect(() => new SimulatedShelfCamera({ model: visionStore(), bayId: 'nope', seed: 1 })).toThrow(/bay "nope" is not in the store model/);
    expect(() => shelfCamera({ jpegQuality: 0 })).toThrow(/vision: jpegQuality/);
    expect(() => camera.trayTarget('nope')).toThrow(/tray "nope"/);
  });
});

describe('cropFrame', () => {
  it('cuts a square of the requested size, black where it reaches past the frame', async () => {
    const camera = shelfCamera(steady);
    const frame = await camera.render({}, 0);
    const corner = camera.camera.unproject(1.5, 1.5, 1.5);
    const crop = (await cropFrame(frame.jpeg, camera.camera, { point: corner, radiusM: 0.1 }, 32))!;
    expect(crop.sizePx).toBe(32);
    expect(crop.rgb.length).toBe(32 * 32 * 3);
    expect(crop.square.left).toBeLessThan(0);
    // The top-left quarter of the square lies outside the frame.
    expect([...crop.rgb.subarray(0, 3 * 8)].every((v) => v === 0)).toBe(true);
    expect(await cropFrame(frame.jpeg, camera.camera, { point: { x: 0.5, y: -5, z: 1 }, radiusM: 0.1 })).toBeUndefined();
  });
});
