import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isSimulatorError } from '../../src/errors.ts';
import { catalogAppearance } from '../../src/vision/appearance.ts';
import type { VisionOptionsInput } from '../../src/vision/options.ts';
import { heldOutSkus, recogniserCatalog } from '../../src/vision/recogniser-catalog.ts';
import { SimulatedShelfCamera } from '../../src/vision/render.ts';
import { SHELF_CHANGE_CROP_PX, hasPassingShopper, shelfChangeCatalog, shelfChangeEvents, shelfChangeGalleryPairs } from '../../src/vision/shelf-change-dataset.ts';
import { productAppearance } from '../../src/vision/appearance.ts';
import { GondolaLayout } from '../../src/vision/shelf-layout.ts';
import { COLA, HONEY, PAPRIKA, visionStore } from './vision-store.ts';

/** No randomness but the sensor noise: fixed exposure, no cast, blur or passing shoppers. */
const steady: VisionOptionsInput = { occlusionRate: 0, lighting: { gain: [1, 1], colourCast: 0 }, blur: { defocusSigmaPx: [0, 0], motionPx: [0, 0] } };

function shelfCamera(vision: VisionOptionsInput = steady) {
  return new SimulatedShelfCamera({ model: visionStore(), bayId: 'b1', seed: 7, vision });
}

async function pixels(jpeg: Buffer): Promise<Buffer> {
  return sharp(jpeg).raw().toBuffer();
}

function difference(a: Buffer, b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

describe('units on the wrong tray (ShelfScene.extra)', () => {
  it('leaves a frame byte for byte as it was when absent or empty', async () => {
    const camera = shelfCamera({});
    const stock = new Map([['t-paprika', [3]]]);
    const plain = await camera.render({ stock }, 500);
    const empty = await camera.render({ stock, extra: new Map() }, 500);
    const none = await camera.render({ stock, extra: new Map([['t-paprika', []]]) }, 500);
    expect(empty.jpeg.equals(plain.jpeg)).toBe(true);
    expect(none.jpeg.equals(plain.jpeg)).toBe(true);
  });

  it('stands a foreign unit in the first free front slot, printed side out, and changes only that tray', async () => {
    const camera = shelfCamera();
    const stock = new Map([['t-paprika', [1]]]);
    const target = camera.trayTarget('t-paprika');
    const before = (await camera.renderCrop({ stock }, 0, target, SHELF_CHANGE_CROP_PX))!.rgb;
    const after = (await camera.renderCrop({ stock, extra: new Map([['t-paprika', [HONEY]]]) }, 0, target, SHELF_CHANGE_CROP_PX))!.rgb;
    expect(difference(before, after)).toBeGreaterThan(2);
    // A unit of the tray's own product in that slot looks different from the foreign one.
    const own = (await camera.renderCrop({ stock: new Map([['t-paprika', [2]]]) }, 0, target, SHELF_CHANGE_CROP_PX))!.rgb;
    expect(difference(own, after)).toBeGreaterThan(1);
    // Another tray's crop is untouched (the two crops do not overlap).
    const far = camera.trayTarget('t-cola');
    const farBefore = (await camera.renderCrop({ stock }, 0, far))!.rgb;
    const farAfter = (await camera.renderCrop({ stock, extra: new Map([['t-paprika', [HONEY]]]) }, 0, far))!.rgb;
    expect(difference(farBefore, farAfter)).toBe(0);
  });

  it('places extras in free front slots, then in front of the full front row', () => {
    const model = visionStore();
    const layout = new GondolaLayout(model, 'g1', catalogAppearance(model.catalog));
    const facing = layout.trays.get('t-paprika')!.facings[0]!;
    const front = facing.slots.filter((s) => s.row === 0);
    expect(front.length).toBeGreaterThan(1);
    // One unit stands: the extra takes the second front slot.
    expect(layout.extraSlots('t-paprika', [1], 1)).toEqual([front[1]]);
    // A full tray: the extra stands in front of the first front unit, nearer the shoppers.
    const [slot] = layout.extraSlots('t-paprika', [6], 1);
    expect(slot!.row).toBe(0);
    expect(slot!.base.x).toBeCloseTo(front[0]!.base.x);
    expect(slot!.base.y).toBeLessThan(front[0]!.base.y); // shoppers are on the −y side
    expect(() => layout.extraSlots('nope', [0], 1)).toThrow(/tray "nope"/);
  });

  it('draws a foreign unit on a full tray over the front row', async () => {
    const camera = shelfCamera();
    const target = camera.trayTarget('t-cola');
    const full = (await camera.renderCrop({}, 0, target))!.rgb;
    const wrong = (await camera.renderCrop({ extra: new Map([['t-cola', [PAPRIKA]]]) }, 0, target))!.rgb;
    expect(difference(full, wrong)).toBeGreaterThan(1);
  });

  it('refuses an extra unit of a SKU the catalogue does not have', async () => {
    const camera = shelfCamera();
    const error = await camera.render({ extra: new Map([['t-cola', ['no-such-sku']]]) }, 0).catch((e: unknown) => e);
    expect(isSimulatorError(error)).toBe(true);
    expect((error as Error).message).toMatch(/no-such-sku/);
    // Its own SKU as an extra is allowed (drawn like a foreign unit); the stock is unchanged.
    await expect(camera.render({ extra: new Map([['t-cola', [COLA]]]) }, 0)).resolves.toBeDefined();
  });
});

describe('shelf-change dataset', () => {
  it('gives one before/after pair per tray of each frame pair, deterministically, labelled as drawn', async () => {
    const catalog = shelfChangeCatalog('heldout');
    const take = async () => {
      const out = [];
      for await (const p of shelfChangeEvents({ catalog, seed: 3, conditions: 'heldout', framePairs: 3 })) out.push(p);
      return out;
    };
    const [a, b] = [await take(), await take()];
    expect(a).toHaveLength(27);
    a.forEach((p, i) => {
      expect(p.before.length).toBe(SHELF_CHANGE_CROP_PX * SHELF_CHANGE_CROP_PX * 3);
      expect(p.before.equals(b[i]!.before) && p.after.equals(b[i]!.after)).toBe(true);
      expect(p.kind === 'none' ? p.sku === '' : p.sku !== '').toBe(true);
      expect(p.foreign).toBe(p.kind !== 'none' && p.sku !== p.traySku);
      // Something changed between the frames (at least the light and the noise).
      expect(difference(p.before, p.after)).toBeGreaterThan(0);
    });
  });

  it('knows which frames have a passing shopper without rendering them twice', async () => {
    const vision = { ...steady, occlusionRate: 0.5 };
    const camera = new SimulatedShelfCamera({ model: visionStore(), bayId: 'b1', seed: 7, vision });
    const twin = new SimulatedShelfCamera({ model: visionStore(), bayId: 'b1', seed: 7, vision: { ...vision, occlusionRate: 0 } });
    let passing = 0;
    for (let t = 0; t < 16; t++) {
      const [frame, clear] = await Promise.all([camera.render({}, t * 1_000), twin.render({}, t * 1_000)]);
      const expected = hasPassingShopper(camera, 7, t * 1_000);
      expect(!frame.jpeg.equals(clear.jpeg), `t = ${t} s`).toBe(expected);
      passing += expected ? 1 : 0;
    }
    expect(passing).toBeGreaterThan(0);
    expect(passing).toBeLessThan(16);
  });

  it('reports hidden shares and the row of the changed unit, and draws sibling flavours for wrong-tray put-backs when asked', async () => {
    const catalog = shelfChangeCatalog('train');
    const family = new Map(catalog.map((item) => [item.sku, productAppearance(item).family]));
    const events = async (siblingForeign?: number) => {
      const out = [];
      for await (const p of shelfChangeEvents({ catalog, seed: 5, conditions: 'train', framePairs: 4, measureHidden: true, ...(siblingForeign === undefined ? {} : { siblingForeign }) })) out.push(p);
      return out;
    };
    const [plain, zero, siblings] = [await events(), await events(0), await events(1)];
    // siblingForeign 0 draws exactly what a render without the option draws.
    plain.forEach((p, i) => expect(p.after.equals(zero[i]!.after) && p.sku === zero[i]!.sku).toBe(true));
    for (const p of [...plain, ...siblings]) {
      expect(p.hiddenShare).toBeGreaterThanOrEqual(0);
      expect(p.hiddenShare).toBeLessThanOrEqual(1);
      if (p.kind === 'none') expect(p.unitRow).toBeUndefined();
      else expect(p.foreign ? p.unitRow === 0 : p.unitRow! >= 0).toBe(true);
    }
    const wrongTray = siblings.filter((p) => p.kind === 'appeared' && p.foreign);
    expect(wrongTray.length).toBeGreaterThan(0);
    const hasSiblings = (sku: string) => catalog.some((item) => item.sku !== sku && family.get(item.sku) === family.get(sku));
    for (const p of wrongTray) if (hasSiblings(p.traySku)) expect(family.get(p.sku)).toBe(family.get(p.traySku));
  });

  it('keeps held-out SKUs out of a training catalogue, and renders catalogue pairs of one unit on an empty tray', async () => {
    const heldOut = heldOutSkus(recogniserCatalog());
    expect(heldOut.size).toBeGreaterThan(0);
    expect(shelfChangeCatalog('train').some((item) => heldOut.has(item.sku))).toBe(false);
    const catalog = shelfChangeCatalog('heldout');
    const pairs = await shelfChangeGalleryPairs(catalog, [catalog[0]!.sku, catalog[1]!.sku]);
    expect(pairs).toHaveLength(8);
    for (const p of pairs) {
      expect(p.kind).toBe('appeared');
      expect(difference(p.before, p.after)).toBeGreaterThan(0.5);
    }
  });
});
