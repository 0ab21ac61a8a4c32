import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { storeModel, trayPoints, type CatalogItem, type StoreModel, type StoreModelInput } from '@storeedge/device-drivers';
import type { StorePoint } from '@storeedge/device-drivers/camera/index.ts';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';
import { catalogAppearance, productAppearance, type ProductAppearance } from './appearance.ts';
import { cropFrame, cropFrameWindows, type CameraCrop, type CropTarget, type CropWindow } from './crop.ts';
import type { VisionOptionsInput } from './options.ts';
import { heldOutSkus, isTrainingOnly, recogniserCatalog, trainingOnlyCatalog } from './recogniser-catalog.ts';
import { SimulatedShelfCamera } from './render.ts';
import { shopperLook, type ArmPose } from './scene.ts';
import { GondolaLayout } from './shelf-layout.ts';

/**
 * Labelled crops for the product recogniser (models/recogniser), rendered by the simulated shelf
 * cameras: "query" crops around a hand holding a unit as it leaves or enters a tray, cut from a
 * camera frame the way the agent cuts them (the hand position from a noisy track, `cropFrame`),
 * and "gallery" crops — the catalogue images: one clean unit standing alone on a shelf, four
 * views per SKU. The labels (SKU) come from the scene that was drawn; only pixels go into a crop.
 *
 * Deterministic: the same catalogue, seed and counts give the same crops on one machine (text
 * rasterising depends on the installed fonts and libvips). Training exports and held-out sets
 * use different seeds, and held-out SKUs (recogniser-catalog.ts) never appear in a training
 * export, not even on a shelf behind a hand.
 *
 * CLI (from the repository root):
 *   node --import tsx simulators/src/vision/dataset.ts --out DIR --seed N --split train|heldout --per-sku M [--png]
 * writes DIR/crops.u8 (N × 64 × 64 × 3 bytes, RGB, row by row), DIR/labels.csv (one row per
 * crop, in that order: SKU, query or gallery, and for queries the share of the held unit a
 * passing shopper hides) and DIR/dataset.json (what was rendered, and every SKU's family).
 */

/** Side of a crop, pixels: the recogniser's input. */
export const RECOGNISER_CROP_PX = 64;
/**
 * Radius of the sphere around the hand a crop covers, metres: a 30 cm square, which holds the
 * tallest unit (30 cm, appearance.ts) when the track is right and most of it when it is a few cm
 * off. At the default 320 × 240 bay camera that square is 60–75 frame pixels, so 64 px keeps
 * about the frame's detail (a flavour's stripe is 1–3 px). An 80 px crop of 0.19 m did no better
 * (models/recogniser/MODEL_CARD.md).
 */
export const HAND_CROP_RADIUS_M = 0.15;
/** Held-out crops are centred on the hand plus tracker noise of this σ per axis: the tracker's default `handSigmaM` (research/checkout.md §5.4: 3–10 cm). */
export const HELD_OUT_HAND_SIGMA_M = 0.05;
/** A hand is used only when this share of its crop lies inside the frame (the agent can tell this from geometry alone). */
const MIN_IN_FRAME_SHARE = 0.8;
/** Draws of a hand position before a hand is given up for the frame. */
const HAND_TRIES = 12;

/** Shoppers stand this far in front of the shelf (checkout floor plan STAND_OFF_M), shoulders this far from the torso's centre line, at this height (scene.ts). */
const STAND_OFF_M = 0.35;
const SHOULDER_HALF_WIDTH_M = 0.19;
const SHOULDER_Z_M = 1.4;
/** A hand at rest hangs this far to the side and at this height (checkout motion.ts); a hand leaving a tray is on its way there. */
const HAND_REST_SIDE_M = 0.25;
const HAND_REST_Z_M = 0.9;
/** A hand reaches up to this far into the tray (checkout REACH_DEPTH_M) and lifts the unit this high above the shelf. */
const REACH_DEPTH_M = 0.1;
const LIFT_M: readonly [number, number] = [0.02, 0.12];
/** Share of the way from the tray back to rest where a query catches the hand. */
const WITHDRAW_SHARE: readonly [number, number] = [0, 0.65];

/** Store layout for the renders: 1 m bays of 3 shelves × 3 trays, 6 bays per gondola, one gondola every 4 m. */
const SHELVES = 3;
const TRAYS = 3;
const BAYS_PER_GONDOLA = 6;
const GONDOLA_PITCH_M = 4;

/** Gallery views: the unit alone on a shelf, at every tray of every shelf (shelf, tray); the first four (middle and top shelf, left and right) were the only ones before model 1.0.0 was measured with all nine. */
const GALLERY_SLOTS: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [1, 2],
  [2, 0],
  [2, 2],
  [0, 0],
  [0, 2],
  [1, 1],
  [2, 1],
  [0, 1],
];
/** A clean camera for catalogue images: no lighting change, blur, noise or passing shoppers. */
const GALLERY_VISION: VisionOptionsInput = {
  occlusionRate: 0,
  lighting: { gain: [1, 1], colourCast: 0 },
  blur: { defocusSigmaPx: [0, 0], motionPx: [0, 0] },
  noiseSigma: 0,
  jpegQuality: 95,
};
const GALLERY_SEED = 'recogniser/catalogue-images';

/** Where the occluder covers a held unit, a pixel differs from the unoccluded twin frame by more than this (sum over RGB). */
const HIDDEN_PIXEL_DIFFERENCE = 30;

export interface LabelledCrop {
  kind: 'query' | 'gallery';
  sku: string;
  /** RECOGNISER_CROP_PX × RECOGNISER_CROP_PX RGB, row by row. */
  rgb: Buffer;
  /**
   * Query crops rendered with `measureHidden`: the share of the held unit's front that a passing
   * shopper covers (0–1), found by rendering the same frame without the occluder. Evaluation
   * only; a model never sees it.
   */
  hiddenShare?: number;
  /** Query crops rendered with `windows`: the crop of each window around the same (tracked) target, in order; undefined where a window misses the frame. */
  windows?: Array<Buffer | undefined>;
}

/** How a query frame is drawn: the scenario defaults (held-out sets), or wider ranges for training. */
export type RecogniserConditions = 'heldout' | 'train';

export interface RecogniserQueryOptions {
  /** The SKUs that stand on the shelves (in a layout shuffled by the seed) and can be held. */
  catalog: readonly CatalogItem[];
  /** How many query crops of each SKU, by SKU. */
  counts: ReadonlyMap<string, number>;
  seed: number | string;
  conditions: RecogniserConditions;
  /** Render every frame a second time without the passing shopper and report `hiddenShare` (twice the time). */
  measureHidden?: boolean;
  /** Tracker noise on the hand position a crop is centred on, σ per axis, metres (default: HELD_OUT_HAND_SIGMA_M held out, 2–6 cm in training). */
  handSigmaM?: number;
  /** Also cut these windows around each hand's tracked target (`cropFrameWindows`), from the same frame. */
  windows?: readonly CropWindow[];
}

/**
 * Query crops: frames of a random bay of a store stocked with `catalog`, each with one to three
 * shoppers' hands (one per tray column) holding units of SKUs taken in a shuffled order from
 * `counts`, each cropped around the hand's tracked (noisy) position. Yields exactly `counts`.
 */
export async function* recogniserQueryCrops(options: RecogniserQueryOptions): AsyncGenerator<LabelledCrop> {
  const rng = new Rng(`recogniser/queries/${options.seed}`);
  const items = new Map(options.catalog.map((item) => [item.sku, item]));
  const model = shelfStore(options.catalog, shuffled(rng.fork('layout'), options.catalog));
  const points = trayPoints(model);
  const looks = catalogAppearance(model.catalog);
  const bays = model.gondolas.flatMap((gondola) => gondola.bays.map((bay) => ({ gondola, bay })));

  const pending: string[] = [];
  for (const [sku, count] of options.counts) for (let i = 0; i < count; i++) pending.push(known(items, sku).sku);
  const order = shuffled(rng.fork('order'), pending);
  const camerasByBay = new Map<string, { camera: SimulatedShelfCamera; twin: SimulatedShelfCamera | undefined }>();

  for (let frame = 0; order.length > 0; frame++) {
    const draw = rng.fork(`frame/${frame}`);
    const { gondola, bay } = draw.pick(bays);
    let cameras = camerasByBay.get(bay.id);
    if (cameras === undefined) {
      const vision = options.conditions === 'train' ? trainingVision(draw.fork('vision')) : {};
      cameras = {
        camera: new SimulatedShelfCamera({ model, bayId: bay.id, seed: `${options.seed}`, vision }),
        // The same camera without passing shoppers: every other draw of a frame is the same (render.ts).
        twin: options.measureHidden === true ? new SimulatedShelfCamera({ model, bayId: bay.id, seed: `${options.seed}`, vision: { ...vision, occlusionRate: 0 } }) : undefined,
      };
      if (options.conditions === 'heldout') camerasByBay.set(bay.id, cameras);
    }
    const { camera } = cameras;
    const normal = gondola.placement!.side === -1 ? { x: 0, y: -1 } : { x: 0, y: 1 };
    const right = { x: -normal.y, y: normal.x };

    // Units on every facing of the watched gondola: anything from empty to full.
    const stock = new Map<string, number[]>();
    for (const b of gondola.bays) for (const shelf of b.shelves) for (const tray of shelf.trays) stock.set(tray.id, tray.facings.map((f) => draw.int(0, f.capacity)));

    const columns = draw.sample([0, 1, 2], draw.int(1, TRAYS));
    const hands: Array<{ arm: ArmPose; target: CropTarget; look: ProductAppearance }> = [];
    for (const column of columns) {
      const sku = order.pop();
      if (sku === undefined) break;
      const hand = placeHand(draw.fork(`hand/${column}`), camera, {
        tray: (shelf) => points.get(bay.shelves[shelf]!.trays[column]!.id)!,
        normal,
        right,
        conditions: options.conditions,
        handSigmaM: options.handSigmaM,
      });
      if (hand === undefined) {
        order.unshift(sku);
        continue;
      }
      const look = looks.get(sku)!;
      hands.push({ arm: { ...hand.arm, look: shopperLook(`${options.seed}/${frame}/${column}`), holding: sku }, target: hand.target, look });
    }
    if (hands.length === 0) continue;

    const scene = { stock, arms: hands.map((h) => h.arm) };
    const timestampMs = frame * 100;
    const jpeg = (await camera.render(scene, timestampMs)).jpeg;
    const twin = cameras.twin === undefined ? undefined : (await cameras.twin.render(scene, timestampMs)).jpeg;
    for (const { arm, target, look } of hands) {
      const crop = await cropFrame(jpeg, camera.camera, target, RECOGNISER_CROP_PX);
      if (crop === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID('recogniser dataset: a hand checked to be in view has no crop');
      const out: LabelledCrop = { kind: 'query', sku: arm.holding!, rgb: crop.rgb };
      if (options.windows !== undefined) out.windows = (await cropFrameWindows(jpeg, camera.camera, target, options.windows, RECOGNISER_CROP_PX)).map((w) => w?.rgb);
      if (twin !== undefined) {
        const clear = (await cropFrame(twin, camera.camera, target, RECOGNISER_CROP_PX))!;
        out.hiddenShare = hiddenShare(crop, clear.rgb, unitBox(camera, crop, arm.hand, look, right));
      }
      yield out;
    }
  }
}

/**
 * The catalogue images of `skus`: each unit alone on an otherwise empty shelf, seen by a clean
 * bay camera, cropped around its front like a hand crop — `GALLERY_SLOTS.length` views per SKU
 * (three shelves × left, right, middle), in SKU order then view order.
 */
export async function recogniserGalleryCrops(catalog: readonly CatalogItem[], skus: readonly string[]): Promise<LabelledCrop[]> {
  const items = new Map(catalog.map((item) => [item.sku, item]));
  const wanted = skus.map((sku) => known(items, sku));
  const views: LabelledCrop[][] = wanted.map(() => []);
  const perBay = GALLERY_SLOTS.length;
  for (let view = 0; view < GALLERY_SLOTS.length; view++) {
    // Bay b holds SKUs [b·perBay, (b + 1)·perBay); SKU i stands on slot (i + view) mod perBay.
    const trays: CatalogItem[] = [];
    const slotOf = new Map<number, number>();
    for (let b = 0; b * perBay < wanted.length; b++) {
      const group = wanted.slice(b * perBay, (b + 1) * perBay);
      const bayTrays = new Array<CatalogItem>(SHELVES * TRAYS).fill(group[0]!);
      group.forEach((item, k) => {
        const [shelf, tray] = GALLERY_SLOTS[(k + view) % perBay]!;
        bayTrays[shelf * TRAYS + tray] = item;
        slotOf.set(b * perBay + k, shelf * TRAYS + tray);
      });
      trays.push(...bayTrays);
    }
    const model = shelfStore(catalog, trays, { capacity: () => 1, initial: 0 });
    const bays = model.gondolas.flatMap((gondola) => gondola.bays.map((bay) => ({ gondola, bay })));
    const layouts = new Map(model.gondolas.map((g) => [g.id, new GondolaLayout(model, g.id, catalogAppearance(model.catalog))]));
    for (const [b, { gondola, bay }] of bays.entries()) {
      const trayIds = bay.shelves.flatMap((shelf) => shelf.trays.map((tray) => tray.id));
      const camera = new SimulatedShelfCamera({ model, bayId: bay.id, seed: GALLERY_SEED, vision: GALLERY_VISION });
      const members = wanted.map((_, i) => i).filter((i) => Math.floor(i / perBay) === b);
      const stock = new Map(trayIds.map((id) => [id, [0]]));
      for (const i of members) stock.set(trayIds[slotOf.get(i)!]!, [1]);
      const jpeg = (await camera.render({ stock }, view)).jpeg;
      for (const i of members) {
        const facing = layouts.get(gondola.id)!.trays.get(trayIds[slotOf.get(i)!]!)!.facings[0]!;
        const base = facing.slots[0]!.base;
        const target = { point: { ...base, z: base.z + facing.look.heightM / 2 }, radiusM: HAND_CROP_RADIUS_M };
        const crop = await cropFrame(jpeg, camera.camera, target, RECOGNISER_CROP_PX);
        if (crop === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`recogniser dataset: gallery unit of ${wanted[i]!.sku} is out of view`);
        views[i]!.push({ kind: 'gallery', sku: wanted[i]!.sku, rgb: crop.rgb });
      }
    }
  }
  return views.flat();
}

/** What an export holds: training (seen and training-only SKUs) or a held-out set (the whole store catalogue). */
export type RecogniserSplit = 'train' | 'heldout';

export interface RecogniserExportOptions {
  out: string;
  seed: number;
  split: RecogniserSplit;
  /** Query crops per store SKU (held-out SKUs get twice as many, training-only SKUs half: `queriesPerSku`). */
  perSku: number;
  /** Also write every crop as a PNG under out/png, for looking at. */
  png?: boolean;
  /** Called after every 500 crops. */
  progress?: (done: number, total: number) => void;
}

/** Renders a split and writes it to `out`; returns the number of crops. */
export async function exportRecogniserDataset(options: RecogniserExportOptions): Promise<number> {
  const store = recogniserCatalog();
  const heldOut = heldOutSkus(store);
  const catalog = options.split === 'train' ? [...store.filter((item) => !heldOut.has(item.sku)), ...trainingOnlyCatalog()] : store;
  const skus = catalog.map((item) => item.sku);
  const counts = new Map(skus.map((sku) => [sku, queriesPerSku(sku, heldOut, options.perSku)]));
  const total = [...counts.values()].reduce((a, b) => a + b, 0) + skus.length * GALLERY_SLOTS.length;

  mkdirSync(options.out, { recursive: true });
  if (options.png === true) mkdirSync(resolve(options.out, 'png'), { recursive: true });
  const pixels = openSync(resolve(options.out, 'crops.u8'), 'w');
  const rows = ['index,kind,sku,hiddenShare'];
  const write = async (crop: LabelledCrop) => {
    const index = rows.length - 1;
    writeSync(pixels, crop.rgb);
    rows.push([index, crop.kind, crop.sku, crop.hiddenShare?.toFixed(3) ?? ''].join(','));
    if (options.png === true) {
      await sharp(crop.rgb, { raw: { width: RECOGNISER_CROP_PX, height: RECOGNISER_CROP_PX, channels: 3 } })
        .png()
        .toFile(resolve(options.out, 'png', `${String(index).padStart(6, '0')}-${crop.kind}-${crop.sku}.png`));
    }
    if ((index + 1) % 500 === 0) options.progress?.(index + 1, total);
  };
  try {
    for (const crop of await recogniserGalleryCrops(catalog, skus)) await write(crop);
    const conditions: RecogniserConditions = options.split === 'train' ? 'train' : 'heldout';
    for await (const crop of recogniserQueryCrops({ catalog, counts, seed: options.seed, conditions, measureHidden: true })) await write(crop);
  } finally {
    closeSync(pixels);
  }
  writeFileSync(resolve(options.out, 'labels.csv'), `${rows.join('\n')}\n`);
  const description = {
    generatedBy: 'simulators/src/vision/dataset.ts',
    split: options.split,
    seed: options.seed,
    perSku: options.perSku,
    sizePx: RECOGNISER_CROP_PX,
    layout: `crops.u8: N × ${RECOGNISER_CROP_PX} × ${RECOGNISER_CROP_PX} × 3 uint8, RGB, rows top to bottom; labels.csv row i is crop i`,
    handCropRadiusM: HAND_CROP_RADIUS_M,
    conditions: options.split === 'train' ? 'training ranges (dataset.ts trainingVision)' : 'scenario vision defaults (options.ts)',
    galleryViews: GALLERY_SLOTS.length,
    crops: rows.length - 1,
    skus: catalog.map((item) => ({ sku: item.sku, name: item.name, family: productAppearance(item).family, heldOut: heldOut.has(item.sku), storeCatalog: !isTrainingOnly(item.sku) })),
  };
  writeFileSync(resolve(options.out, 'dataset.json'), `${JSON.stringify(description, null, 1)}\n`);
  return rows.length - 1;
}

/**
 * Query crops of one SKU in an export: `perSku` for store SKUs, twice that for held-out SKUs
 * (there are fewer of them and theirs is the harder figure), half for training-only SKUs
 * (there are many; they teach what tells products apart, not themselves).
 */
function queriesPerSku(sku: string, heldOut: ReadonlySet<string>, perSku: number): number {
  if (heldOut.has(sku)) return perSku * 2;
  return isTrainingOnly(sku) ? Math.ceil(perSku / 2) : perSku;
}

/**
 * Training frames' knobs, drawn per frame: a little wider than the scenario defaults
 * (options.ts) on every side — not much wider, because heavy blur or a strong colour cast wipes
 * out a flavour's 1–3 px stripe, and a model trained on crops where it cannot be seen learns not
 * to look for it — and the camera hung nearer or further, higher or lower, so the model does not
 * learn one placement.
 */
function trainingVision(rng: Rng): VisionOptionsInput {
  return {
    occlusionRate: 0.1,
    lighting: { gain: [0.75, 1.25], colourCast: 0.06 },
    blur: { defocusSigmaPx: [0, 0.9], motionPx: [0, 3] },
    noiseSigma: rng.uniform(1.5, 3),
    jpegQuality: rng.int(70, 90),
    placement: { distanceM: rng.uniform(1.3, 1.8), aboveM: rng.uniform(0.25, 0.6) },
  };
}

interface HandPlacement {
  /** The front-edge point of the column's tray on shelf `shelf`. */
  tray: (shelf: number) => { x: number; y: number; z: number; widthM: number };
  normal: { x: number; y: number };
  right: { x: number; y: number };
  conditions: RecogniserConditions;
  handSigmaM: number | undefined;
}

/**
 * A hand on its way out of (or back into) a tray: between the reach point (in the tray, the
 * unit lifted a little) and where the hand rests beside the shopper, who stands STAND_OFF_M out;
 * the crop is centred on that point plus tracker noise. Undefined when no draw keeps the crop
 * in the frame.
 */
function placeHand(rng: Rng, camera: SimulatedShelfCamera, p: HandPlacement): { arm: Omit<ArmPose, 'look'>; target: CropTarget } | undefined {
  const drawn = p.conditions === 'train' ? rng.uniform(0.02, 0.06) : HELD_OUT_HAND_SIGMA_M;
  const sigma = p.handSigmaM ?? drawn;
  for (let i = 0; i < HAND_TRIES; i++) {
    const front = p.tray(rng.int(0, SHELVES - 1));
    const lateral = rng.uniform(-0.3, 0.3) * front.widthM;
    const into = rng.uniform(0, REACH_DEPTH_M);
    const reach = along(front, p, lateral, -into, front.z + rng.uniform(LIFT_M[0], LIFT_M[1]));
    const torsoLateral = lateral + rng.uniform(-0.15, 0.15);
    const handSide = rng.chance(0.5) ? 1 : -1;
    const rest = along(front, p, torsoLateral + handSide * HAND_REST_SIDE_M, STAND_OFF_M, HAND_REST_Z_M);
    const share = rng.uniform(WITHDRAW_SHARE[0], WITHDRAW_SHARE[1]);
    const hand = { x: reach.x + (rest.x - reach.x) * share, y: reach.y + (rest.y - reach.y) * share, z: reach.z + (rest.z - reach.z) * share };
    const shoulder = along(front, p, torsoLateral + handSide * SHOULDER_HALF_WIDTH_M, STAND_OFF_M, SHOULDER_Z_M + rng.uniform(-0.1, 0.1));
    const point = { x: hand.x + rng.normal(0, sigma), y: hand.y + rng.normal(0, sigma), z: hand.z + rng.normal(0, sigma) };
    const radiusM = p.conditions === 'train' ? HAND_CROP_RADIUS_M * rng.uniform(0.85, 1.15) : HAND_CROP_RADIUS_M;
    if (inFrameShare(camera, point, radiusM) >= MIN_IN_FRAME_SHARE) return { arm: { shoulder, hand }, target: { point, radiusM } };
  }
  return undefined;
}

/** A point `lateral` metres along the gondola from a tray's front centre, `out` metres in front of its edge (negative: into the tray), at height z. */
function along(front: { x: number; y: number }, p: HandPlacement, lateral: number, out: number, z: number): StorePoint {
  return { x: front.x + p.right.x * lateral + p.normal.x * out, y: front.y + p.right.y * lateral + p.normal.y * out, z };
}

/** How much of the crop square around a point lies inside the frame. */
function inFrameShare(camera: SimulatedShelfCamera, point: StorePoint, radiusM: number): number {
  const square = camera.camera.squareAround(point, radiusM);
  const region = camera.camera.regionAround(point, radiusM);
  if (square === undefined || region === undefined) return 0;
  return (region.width * region.height) / (square.size * square.size);
}

/** The held unit's front face in crop pixels [left, top, right, bottom]: the unit hangs centred on the hand (svg.ts). */
function unitBox(camera: SimulatedShelfCamera, crop: CameraCrop, hand: StorePoint, look: ProductAppearance, right: { x: number; y: number }): [number, number, number, number] {
  const scale = crop.sizePx / crop.square.size;
  const corners = [-1, 1].flatMap((side) =>
    [-1, 1].map((up) => camera.camera.project({ x: hand.x + right.x * side * (look.widthM / 2), y: hand.y + right.y * side * (look.widthM / 2), z: hand.z + (up * look.heightM) / 2 })),
  );
  const us = corners.map((c) => ((c?.u ?? Number.NaN) - crop.square.left) * scale);
  const vs = corners.map((c) => ((c?.v ?? Number.NaN) - crop.square.top) * scale);
  const clamp = (v: number) => Math.max(0, Math.min(crop.sizePx, v));
  return [clamp(Math.min(...us)), clamp(Math.min(...vs)), clamp(Math.max(...us)), clamp(Math.max(...vs))];
}

/** Share of the box's pixels where the crop differs from its unoccluded twin. */
function hiddenShare(crop: CameraCrop, clear: Buffer, [left, top, right, bottom]: [number, number, number, number]): number {
  let changed = 0;
  let all = 0;
  for (let y = Math.floor(top); y < Math.ceil(bottom); y++) {
    for (let x = Math.floor(left); x < Math.ceil(right); x++) {
      const i = (y * crop.sizePx + x) * 3;
      const difference = Math.abs(crop.rgb[i]! - clear[i]!) + Math.abs(crop.rgb[i + 1]! - clear[i + 1]!) + Math.abs(crop.rgb[i + 2]! - clear[i + 2]!);
      if (difference > HIDDEN_PIXEL_DIFFERENCE) changed++;
      all++;
    }
  }
  return all === 0 ? 0 : changed / all;
}

/**
 * A store of 1 m bays (3 shelves × 3 single-facing trays) whose trays hold `trays` in order,
 * 6 bays per gondola, gondolas 4 m apart along y with shoppers on the −y side. Capacity as in
 * the checkout suite unless given.
 */
function shelfStore(
  catalog: readonly CatalogItem[],
  trays: readonly CatalogItem[],
  facing: { capacity: (item: CatalogItem) => number; initial?: number } = { capacity: (item) => Math.max(6, Math.min(30, Math.round(3_000 / item.unitWeightG))) },
): StoreModel {
  const perBay = SHELVES * TRAYS;
  const bays = Math.ceil(trays.length / perBay);
  const gondolas: NonNullable<StoreModelInput['gondolas']> = [];
  for (let g = 0; g * BAYS_PER_GONDOLA < bays; g++) {
    gondolas.push({
      id: `gondola-${g + 1}`,
      zone: 'floor',
      placement: { x: 0, y: 2 + GONDOLA_PITCH_M * g, axis: 'x', side: -1, bayWidthM: 1, depthM: 0.4 },
      bays: Array.from({ length: Math.min(BAYS_PER_GONDOLA, bays - g * BAYS_PER_GONDOLA) }, (_, b) => {
        const bay = g * BAYS_PER_GONDOLA + b;
        return {
          id: `bay-${g + 1}-${b + 1}`,
          shelves: Array.from({ length: SHELVES }, (_, s) => ({
            id: `shelf-${g + 1}-${b + 1}-${s + 1}`,
            trays: Array.from({ length: TRAYS }, (_, t) => {
              const item = trays[(bay * perBay + s * TRAYS + t) % trays.length]!;
              const capacity = facing.capacity(item);
              return {
                id: `tray-${g + 1}-${b + 1}-${s + 1}-${t + 1}`,
                device: `shelf-${g + 1}-${b + 1}-${s + 1}`,
                channel: t,
                facings: [{ sku: item.sku, capacity, minLevel: 0, initial: facing.initial ?? capacity }],
              };
            }),
          })),
        };
      }),
    });
  }
  return storeModel.parse({ catalog, zones: [{ id: 'floor' }], gondolas });
}

function known(items: ReadonlyMap<string, CatalogItem>, sku: string): CatalogItem {
  const item = items.get(sku);
  if (item === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`recogniser dataset: SKU "${sku}" is not in the catalog`);
  return item;
}

function shuffled<T>(rng: Rng, items: readonly T[]): T[] {
  return rng.sample(items, items.length);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      split: { type: 'string', default: 'train' },
      'per-sku': { type: 'string' },
      png: { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed);
  const perSku = Number(values['per-sku']);
  if (values.out === undefined || !Number.isInteger(seed) || !Number.isInteger(perSku) || perSku < 0 || (values.split !== 'train' && values.split !== 'heldout')) {
    console.error('usage: node --import tsx simulators/src/vision/dataset.ts --out DIR --seed N --split train|heldout --per-sku M [--png]');
    process.exit(2);
  }
  const started = performance.now();
  const crops = await exportRecogniserDataset({
    out: values.out,
    seed,
    split: values.split,
    perSku,
    png: values.png,
    progress: (done, total) => console.error(`${done}/${total} crops, ${((performance.now() - started) / 1_000).toFixed(0)} s`),
  });
  console.log(`${crops} crops in ${values.out} (${((performance.now() - started) / 1_000).toFixed(0)} s)`);
}
