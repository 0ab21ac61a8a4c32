import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { storeModel, trayPoints, type CatalogItem, type StoreModel, type StoreModelInput } from '@storeedge/device-drivers';
import type { StorePoint } from '@storeedge/device-drivers/camera/index.ts';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';
import { catalogAppearance, productAppearance } from './appearance.ts';
import { cropFrame } from './crop.ts';
import type { VisionOptionsInput } from './options.ts';
import { heldOutSkus, isTrainingOnly, recogniserCatalog, trainingOnlyCatalog } from './recogniser-catalog.ts';
import { SimulatedShelfCamera } from './render.ts';
import { shopperLook, type ArmPose } from './scene.ts';
import { GondolaLayout } from './shelf-layout.ts';

/**
 * Labelled before/after pairs for the shelf-change model (models/shelf-change): the crop of one
 * tray (`SimulatedShelfCamera.trayTarget`, cut with `cropFrame` as the agent cuts it) from a
 * frame before a load-cell event and from one after it, and what changed on the tray: a unit
 * `appeared` (put back — on its own tray, or a foreign unit on the wrong one), `disappeared`
 * (taken — the tray's own product, or a foreign unit that stood there), or `none`.
 *
 * "Event" pairs: a random bay of a store stocked with the catalogue; both frames draw their own
 * lighting, blur, noise and passing shopper, and shoppers' arms may be in view in either; every
 * tray of the bay changes or not independently, so a tray's crop may show a neighbour's change
 * at its edge. "Gallery" pairs are the catalogue images: an empty tray, then the same tray with
 * one unit of the SKU, clean camera, four views per SKU.
 *
 * The labels come from the scenes that were drawn; only pixels go into a pair. Held-out SKUs
 * (recogniser-catalog.ts) never appear in a training export, not even on a shelf or in a hand.
 *
 * CLI (from the repository root):
 *   node --import tsx simulators/src/vision/shelf-change-dataset.ts --out DIR --seed N --split train|heldout --pairs M [--sibling-foreign P] [--png]
 * writes DIR/pairs.u8 (N × 2 × S × S × 3 bytes: before then after, RGB, row by row),
 * DIR/labels.csv (one row per pair) and DIR/dataset.json (what was rendered, every SKU's family).
 */

/** Side of a tray crop, pixels: about the frame's own resolution for a tray at the default 320 × 240 bay camera (80–100 px). */
export const SHELF_CHANGE_CROP_PX = 80;

export type ShelfChangeKind = 'appeared' | 'disappeared' | 'none';
export const SHELF_CHANGE_KINDS: readonly ShelfChangeKind[] = ['appeared', 'disappeared', 'none'];

export interface ShelfChangePair {
  source: 'event' | 'gallery';
  kind: ShelfChangeKind;
  /** The SKU of the unit that appeared or disappeared; '' for none. */
  sku: string;
  /** The SKU of the tray's facing. */
  traySku: string;
  /** The changed unit is not the tray's own product (a wrong-tray put-back, or taking it off again). */
  foreign: boolean;
  trayId: string;
  /** SHELF_CHANGE_CROP_PX² RGB, row by row: the tray before and after. */
  before: Buffer;
  after: Buffer;
  /**
   * Event pairs rendered with `measureHidden`: the larger share, over the two frames, of the
   * tray crop that a passing shopper covers (0–1), found by rendering the same frames without
   * the occluder. Scoring only; a model never sees it.
   */
  hiddenShare?: number;
  /**
   * Event pairs that changed: the row the changed unit stands in (0 the front row, whose print
   * the camera sees; 1 and up behind a full front row, where only its top may show). A foreign
   * unit always stands in the front row or in front of it: 0. Scoring breakdowns only.
   */
  unitRow?: number;
}

/** How event frames are drawn: the scenario defaults (held-out sets), or wider ranges for training. */
export type ShelfChangeConditions = 'heldout' | 'train';

export interface ShelfChangeEventOptions {
  /** The SKUs on the shelves (one tray each, shuffled by the seed); also the SKUs of foreign units and held units. */
  catalog: readonly CatalogItem[];
  seed: number | string;
  conditions: ShelfChangeConditions;
  /** Frame pairs to render; each gives one pair per tray of its bay (9). */
  framePairs: number;
  /** Chances of each event per tray (default EVENT_MIX). */
  mix?: Partial<Record<EventType, number>>;
  /**
   * Report `hiddenShare`: every frame that has a passing shopper is rendered a second time
   * without it (a frame without one has nothing hidden: its twin is the same frame).
   */
  measureHidden?: boolean;
  /**
   * Chance that a unit put on the wrong tray is another flavour of the tray's own range (when
   * the catalogue holds one), else any SKU of the catalogue (default 0: always any SKU, and the
   * random draws are exactly those of a render without the option). Training exports raise it:
   * a sibling flavour on a range's own tray is the hardest wrong-tray put-back.
   */
  siblingForeign?: number;
}

/** Where a passing shopper covers the tray, a crop pixel differs from the unoccluded twin by more than this (sum over RGB). */
const HIDDEN_PIXEL_DIFFERENCE = 30;

/** What happens on one tray between the two frames. */
export type EventType = 'none' | 'takeOwn' | 'putBackOwn' | 'putBackForeign' | 'takeForeign';
/** Per tray: nothing (a neighbour may change), a unit taken, one put back on its own tray, one put on the wrong tray, a foreign unit taken off again. */
export const EVENT_MIX: Readonly<Record<EventType, number>> = { none: 0.25, takeOwn: 0.3, putBackOwn: 0.15, putBackForeign: 0.22, takeForeign: 0.08 };
/** Before the event a tray holds a foreign unit this often (so a foreign unit can be taken off again, and stands by when the tray's own changes). */
const FOREIGN_BEFORE = 0.12;

/** Store layout: 1 m bays of 3 shelves × 3 single-facing trays, 6 bays per gondola, one gondola every 4 m (as dataset.ts). */
const SHELVES = 3;
const TRAYS = 3;
const BAYS_PER_GONDOLA = 6;
const GONDOLA_PITCH_M = 4;

/** Shoppers stand this far out, shoulders this far from their centre line, at about this height (scene.ts, dataset.ts). */
const STAND_OFF_M = 0.35;
const SHOULDER_HALF_WIDTH_M = 0.19;
const SHOULDER_Z_M = 1.4;

/** Gallery views: the unit alone on an empty shelf at the left or right tray of the middle or top shelf (shelf, tray). */
const GALLERY_SLOTS: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [1, 2],
  [2, 0],
  [2, 2],
];
/** A clean camera for catalogue images: no lighting change, blur, noise or passing shoppers. */
const GALLERY_VISION: VisionOptionsInput = {
  occlusionRate: 0,
  lighting: { gain: [1, 1], colourCast: 0 },
  blur: { defocusSigmaPx: [0, 0], motionPx: [0, 0] },
  noiseSigma: 0,
  jpegQuality: 95,
};
const GALLERY_SEED = 'shelf-change/catalogue-images';

/**
 * Event pairs: `framePairs` before/after frame pairs of random bays, 9 tray pairs each.
 * Deterministic for a catalogue, seed and count.
 */
export async function* shelfChangeEvents(options: ShelfChangeEventOptions): AsyncGenerator<ShelfChangePair> {
  const rng = new Rng(`shelf-change/events/${options.seed}`);
  const mix = { ...EVENT_MIX, ...options.mix };
  const model = shelfStore(options.catalog, rng.sample(options.catalog, options.catalog.length));
  const points = trayPoints(model);
  const skus = options.catalog.map((item) => item.sku);
  const bays = model.gondolas.flatMap((gondola) => gondola.bays.map((bay) => ({ gondola, bay })));
  const seedKey = `shelf-change/${options.seed}`;
  const cameras = new Map<string, { camera: SimulatedShelfCamera; twin: SimulatedShelfCamera | undefined; layout: GondolaLayout }>();
  const siblingForeign = options.siblingForeign ?? 0;
  const familyOf = new Map(options.catalog.map((item) => [item.sku, productAppearance(item).family]));
  const family = new Map<string, string[]>();
  for (const [sku, f] of familyOf) family.set(f, [...(family.get(f) ?? []), sku]);
  const wrongSku = (rng: Rng, own: string): string => {
    if (siblingForeign > 0 && rng.chance(siblingForeign)) {
      const siblings = family.get(familyOf.get(own)!)!.filter((sku) => sku !== own);
      if (siblings.length > 0) return rng.pick(siblings);
    }
    return foreignSku(rng, skus, own);
  };

  for (let pair = 0; pair < options.framePairs; pair++) {
    const draw = rng.fork(`pair/${pair}`);
    const { gondola, bay } = draw.pick(bays);
    let pairCameras = cameras.get(bay.id);
    if (pairCameras === undefined) {
      const vision = options.conditions === 'train' ? trainingVision(draw.fork('vision')) : {};
      const seed = seedKey;
      const camera = new SimulatedShelfCamera({ model, bayId: bay.id, seed, vision });
      pairCameras = {
        camera,
        layout: new GondolaLayout(model, gondola.id, catalogAppearance(model.catalog, camera.options.appearance)),
        // The same camera without passing shoppers: every other draw of a frame is the same (render.ts).
        twin: options.measureHidden === true ? new SimulatedShelfCamera({ model, bayId: bay.id, seed, vision: { ...vision, occlusionRate: 0 } }) : undefined,
      };
      if (options.conditions === 'heldout') cameras.set(bay.id, pairCameras);
    }
    const { camera, twin, layout } = pairCameras;
    const normal = gondola.placement!.side === -1 ? { x: 0, y: -1 } : { x: 0, y: 1 };
    const right = { x: -normal.y, y: normal.x };

    // Every tray of the gondola: stock anywhere from empty to full, now and then a foreign unit.
    const before = { stock: new Map<string, number[]>(), extra: new Map<string, string[]>() };
    for (const b of gondola.bays) {
      for (const shelf of b.shelves) {
        for (const tray of shelf.trays) {
          before.stock.set(tray.id, tray.facings.map((f) => draw.int(0, f.capacity)));
          if (draw.chance(FOREIGN_BEFORE)) before.extra.set(tray.id, [foreignSku(draw, skus, tray.facings[0]!.sku)]);
        }
      }
    }
    const after = { stock: new Map([...before.stock].map(([id, s]) => [id, [...s]])), extra: new Map([...before.extra].map(([id, e]) => [id, [...e]])) };
    const trays = bay.shelves.flatMap((shelf) => shelf.trays);
    /** The row of the `index`-th unit of a tray's (single) facing, in fill order. */
    const rowOf = (trayId: string, index: number): number => layout.trays.get(trayId)!.facings[0]!.slots[index]!.row;
    const events = trays.map((tray) => {
      const own = tray.facings[0]!;
      const units = before.stock.get(tray.id)![0]!;
      const foreign = before.extra.get(tray.id) ?? [];
      const possible: EventType[] = ['none', 'putBackForeign'];
      if (units > 0) possible.push('takeOwn');
      if (units < own.capacity) possible.push('putBackOwn');
      if (foreign.length > 0) possible.push('takeForeign');
      const type = weighted(draw, possible, mix);
      switch (type) {
        case 'none':
          return { tray, kind: 'none' as const, sku: '', foreign: false, unitRow: undefined };
        case 'takeOwn':
          after.stock.set(tray.id, [units - 1]);
          return { tray, kind: 'disappeared' as const, sku: own.sku, foreign: false, unitRow: rowOf(tray.id, units - 1) };
        case 'putBackOwn':
          after.stock.set(tray.id, [units + 1]);
          return { tray, kind: 'appeared' as const, sku: own.sku, foreign: false, unitRow: rowOf(tray.id, units) };
        case 'putBackForeign': {
          const sku = wrongSku(draw, own.sku);
          after.extra.set(tray.id, [...foreign, sku]);
          return { tray, kind: 'appeared' as const, sku, foreign: true, unitRow: 0 };
        }
        case 'takeForeign': {
          after.extra.set(tray.id, foreign.slice(0, -1));
          return { tray, kind: 'disappeared' as const, sku: foreign.at(-1)!, foreign: true, unitRow: 0 };
        }
      }
    });

    // Shoppers' arms: in the frame before now and then, in the frame after often (a hand on its way back from the tray).
    const arms = (share: number, frame: string): ArmPose[] => {
      const out: ArmPose[] = [];
      const armRng = draw.fork(frame);
      for (let column = 0; column < TRAYS; column++) {
        if (!armRng.chance(share)) continue;
        const front = points.get(bay.shelves[armRng.int(0, SHELVES - 1)]!.trays[column]!.id)!;
        out.push(armNear(armRng, front, normal, right, skus, `${options.seed}/${pair}/${frame}/${column}`));
      }
      return out;
    };
    const t0 = pair * 10_000;
    const t1 = t0 + draw.int(1_000, 6_000);
    const scenes = [
      { ...before, arms: arms(0.15, 'before') },
      { ...after, arms: arms(0.3, 'after') },
    ];
    const [first, second] = await Promise.all([camera.render(scenes[0]!, t0), camera.render(scenes[1]!, t1)]);
    // Without a passing shopper the twin's frame is the frame itself (render.ts draws the occluder from its own stream).
    const clear =
      twin === undefined
        ? undefined
        : await Promise.all([
            hasPassingShopper(camera, seedKey, t0) ? twin.render(scenes[0]!, t0) : first,
            hasPassingShopper(camera, seedKey, t1) ? twin.render(scenes[1]!, t1) : second,
          ]);
    for (const event of events) {
      const target = camera.trayTarget(event.tray.id);
      const [a, b] = await Promise.all([cropFrame(first.jpeg, camera.camera, target, SHELF_CHANGE_CROP_PX), cropFrame(second.jpeg, camera.camera, target, SHELF_CHANGE_CROP_PX)]);
      if (a === undefined || b === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`shelf-change dataset: tray ${event.tray.id} is out of view`);
      const out: ShelfChangePair = { source: 'event', kind: event.kind, sku: event.sku, traySku: event.tray.facings[0]!.sku, foreign: event.foreign, trayId: event.tray.id, before: a.rgb, after: b.rgb };
      if (event.unitRow !== undefined) out.unitRow = event.unitRow;
      if (clear !== undefined) {
        const [ca, cb] = await Promise.all([
          clear[0] === first ? a : cropFrame(clear[0].jpeg, camera.camera, target, SHELF_CHANGE_CROP_PX),
          clear[1] === second ? b : cropFrame(clear[1].jpeg, camera.camera, target, SHELF_CHANGE_CROP_PX),
        ]);
        out.hiddenShare = Math.max(hiddenShare(a.rgb, ca!.rgb), hiddenShare(b.rgb, cb!.rgb));
      }
      yield out;
    }
  }
}

/**
 * The catalogue pairs of `skus`: an empty tray, then the same tray with one unit of the SKU
 * (the first slot of its facing), clean bay camera — `GALLERY_SLOTS.length` views per SKU (two
 * shelves, left and right), in SKU order then view order. Always kind 'appeared'.
 */
export async function shelfChangeGalleryPairs(catalog: readonly CatalogItem[], skus: readonly string[]): Promise<ShelfChangePair[]> {
  const items = new Map(catalog.map((item) => [item.sku, item]));
  const wanted = skus.map((sku) => {
    const item = items.get(sku);
    if (item === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`shelf-change dataset: SKU "${sku}" is not in the catalog`);
    return item;
  });
  const views: ShelfChangePair[][] = wanted.map(() => []);
  const perBay = GALLERY_SLOTS.length;
  for (let view = 0; view < GALLERY_SLOTS.length; view++) {
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
    const model = shelfStore(catalog, trays);
    const bays = model.gondolas.flatMap((gondola) => gondola.bays);
    for (const [b, bay] of bays.entries()) {
      const trayIds = bay.shelves.flatMap((shelf) => shelf.trays.map((tray) => tray.id));
      const camera = new SimulatedShelfCamera({ model, bayId: bay.id, seed: GALLERY_SEED, vision: GALLERY_VISION });
      const members = wanted.map((_, i) => i).filter((i) => Math.floor(i / perBay) === b);
      const empty = new Map(trayIds.map((id) => [id, [0]]));
      const stocked = new Map(empty);
      for (const i of members) stocked.set(trayIds[slotOf.get(i)!]!, [1]);
      const [first, second] = await Promise.all([camera.render({ stock: empty }, view * 2), camera.render({ stock: stocked }, view * 2 + 1)]);
      for (const i of members) {
        const trayId = trayIds[slotOf.get(i)!]!;
        const target = camera.trayTarget(trayId);
        const a = await cropFrame(first.jpeg, camera.camera, target, SHELF_CHANGE_CROP_PX);
        const c = await cropFrame(second.jpeg, camera.camera, target, SHELF_CHANGE_CROP_PX);
        if (a === undefined || c === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`shelf-change dataset: gallery tray of ${wanted[i]!.sku} is out of view`);
        views[i]!.push({ source: 'gallery', kind: 'appeared', sku: wanted[i]!.sku, traySku: wanted[i]!.sku, foreign: false, trayId, before: a.rgb, after: c.rgb });
      }
    }
  }
  return views.flat();
}

export type ShelfChangeSplit = 'train' | 'heldout';

export interface ShelfChangeExportOptions {
  out: string;
  seed: number;
  split: ShelfChangeSplit;
  framePairs: number;
  png?: boolean;
  /** `ShelfChangeEventOptions.siblingForeign` (default 0). */
  siblingForeign?: number;
  progress?: (done: number, total: number) => void;
}

/** The SKUs a split renders: training (seen store SKUs and training-only SKUs) or held-out sets (the whole store catalogue). */
export function shelfChangeCatalog(split: ShelfChangeSplit): CatalogItem[] {
  const store = recogniserCatalog();
  const heldOut = heldOutSkus(store);
  return split === 'train' ? [...store.filter((item) => !heldOut.has(item.sku)), ...trainingOnlyCatalog()] : store;
}

/** Renders a split (gallery pairs of every SKU, then events) and writes it to `out`; returns the number of pairs. */
export async function exportShelfChangeDataset(options: ShelfChangeExportOptions): Promise<number> {
  const heldOut = heldOutSkus(recogniserCatalog());
  const catalog = shelfChangeCatalog(options.split);
  const skus = catalog.map((item) => item.sku);
  const total = skus.length * GALLERY_SLOTS.length + options.framePairs * SHELVES * TRAYS;
  const size = SHELF_CHANGE_CROP_PX;

  mkdirSync(options.out, { recursive: true });
  if (options.png === true) mkdirSync(resolve(options.out, 'png'), { recursive: true });
  const pixels = openSync(resolve(options.out, 'pairs.u8'), 'w');
  const rows = ['index,source,kind,sku,traySku,foreign,trayId,hiddenShare,unitRow'];
  const write = async (pair: ShelfChangePair) => {
    const index = rows.length - 1;
    writeSync(pixels, pair.before);
    writeSync(pixels, pair.after);
    rows.push([index, pair.source, pair.kind, pair.sku, pair.traySku, pair.foreign ? 1 : 0, pair.trayId, pair.hiddenShare?.toFixed(4) ?? '', pair.unitRow ?? ''].join(','));
    if (options.png === true && index % 10 === 0) {
      const side = Buffer.alloc(size * 2 * size * 3);
      for (let y = 0; y < size; y++) {
        pair.before.copy(side, y * size * 6, y * size * 3, (y + 1) * size * 3);
        pair.after.copy(side, y * size * 6 + size * 3, y * size * 3, (y + 1) * size * 3);
      }
      await sharp(side, { raw: { width: size * 2, height: size, channels: 3 } })
        .png()
        .toFile(resolve(options.out, 'png', `${String(index).padStart(6, '0')}-${pair.kind}-${pair.sku || 'none'}${pair.foreign ? '-foreign' : ''}.png`));
    }
    if ((index + 1) % 500 === 0) options.progress?.(index + 1, total);
  };
  try {
    for (const pair of await shelfChangeGalleryPairs(catalog, skus)) await write(pair);
    const conditions: ShelfChangeConditions = options.split === 'train' ? 'train' : 'heldout';
    const events = shelfChangeEvents({ catalog, seed: options.seed, conditions, framePairs: options.framePairs, measureHidden: true, siblingForeign: options.siblingForeign ?? 0 });
    for await (const pair of events) await write(pair);
  } finally {
    closeSync(pixels);
  }
  writeFileSync(resolve(options.out, 'labels.csv'), `${rows.join('\n')}\n`);
  const description = {
    generatedBy: 'simulators/src/vision/shelf-change-dataset.ts',
    split: options.split,
    seed: options.seed,
    framePairs: options.framePairs,
    sizePx: size,
    layout: `pairs.u8: N × 2 × ${size} × ${size} × 3 uint8 (before, after), RGB, rows top to bottom; labels.csv row i is pair i`,
    conditions: options.split === 'train' ? 'training ranges (shelf-change-dataset.ts trainingVision)' : 'scenario vision defaults (options.ts)',
    eventMix: EVENT_MIX,
    siblingForeign: options.siblingForeign ?? 0,
    galleryViews: GALLERY_SLOTS.length,
    pairs: rows.length - 1,
    skus: catalog.map((item) => ({ sku: item.sku, name: item.name, family: productAppearance(item).family, heldOut: heldOut.has(item.sku), storeCatalog: !isTrainingOnly(item.sku) })),
  };
  writeFileSync(resolve(options.out, 'dataset.json'), `${JSON.stringify(description, null, 1)}\n`);
  return rows.length - 1;
}

/** Training frames' knobs, drawn per bay camera: a little wider than the scenario defaults, the camera nearer or further, higher or lower. */
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

/**
 * Whether `camera` (seeded with `seed`) draws a passing shopper into its frame at `timestampMs`:
 * the first draw of the frame's 'occlusion' stream, as SimulatedShelfCamera draws it (render.ts).
 */
export function hasPassingShopper(camera: SimulatedShelfCamera, seed: number | string, timestampMs: number): boolean {
  return new Rng(seed).fork(`vision/${camera.id}`).fork(String(timestampMs)).fork('occlusion').chance(camera.options.occlusionRate);
}

/** Share of a crop's pixels where it differs from its unoccluded twin. */
function hiddenShare(crop: Buffer, clear: Buffer): number {
  let changed = 0;
  for (let i = 0; i < crop.length; i += 3) {
    if (Math.abs(crop[i]! - clear[i]!) + Math.abs(crop[i + 1]! - clear[i + 1]!) + Math.abs(crop[i + 2]! - clear[i + 2]!) > HIDDEN_PIXEL_DIFFERENCE) changed++;
  }
  return changed / (crop.length / 3);
}

/** A SKU other than the tray's: any of the catalogue. */
function foreignSku(rng: Rng, skus: readonly string[], own: string): string {
  for (;;) {
    const sku = rng.pick(skus);
    if (sku !== own) return sku;
  }
}

function weighted<T extends string>(rng: Rng, options: readonly T[], weights: Readonly<Record<T, number>>): T {
  const total = options.reduce((sum, o) => sum + weights[o], 0);
  let x = rng.uniform(0, total);
  for (const o of options) {
    x -= weights[o];
    if (x <= 0) return o;
  }
  return options.at(-1)!;
}

/** A shopper's arm reaching towards (or coming back from) a tray: the hand between the tray's front and 0.4 m out, perhaps holding a unit. */
function armNear(rng: Rng, front: { x: number; y: number; z: number; widthM: number }, normal: { x: number; y: number }, right: { x: number; y: number }, skus: readonly string[], key: string): ArmPose {
  const lateral = rng.uniform(-0.4, 0.4) * front.widthM;
  const out = rng.uniform(-0.05, 0.4);
  const at = (side: number, o: number, z: number): StorePoint => ({ x: front.x + right.x * side + normal.x * o, y: front.y + right.y * side + normal.y * o, z });
  const hand = at(lateral, out, front.z + rng.uniform(0.03, 0.3));
  const torso = lateral + rng.uniform(-0.15, 0.15);
  const shoulder = at(torso + (rng.chance(0.5) ? 1 : -1) * SHOULDER_HALF_WIDTH_M, STAND_OFF_M, SHOULDER_Z_M + rng.uniform(-0.1, 0.1));
  return { shoulder, hand, look: shopperLook(key), holding: rng.chance(0.5) ? rng.pick(skus) : undefined };
}

/** A store of 1 m bays (3 shelves × 3 single-facing trays) holding `trays` in order, as dataset.ts builds it. */
function shelfStore(catalog: readonly CatalogItem[], trays: readonly CatalogItem[]): StoreModel {
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
              const capacity = Math.max(6, Math.min(30, Math.round(3_000 / item.unitWeightG)));
              return {
                id: `tray-${g + 1}-${b + 1}-${s + 1}-${t + 1}`,
                device: `shelf-${g + 1}-${b + 1}-${s + 1}`,
                channel: t,
                facings: [{ sku: item.sku, capacity, minLevel: 0, initial: capacity }],
              };
            }),
          })),
        };
      }),
    });
  }
  return storeModel.parse({ catalog, zones: [{ id: 'floor' }], gondolas });
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      seed: { type: 'string' },
      split: { type: 'string', default: 'train' },
      pairs: { type: 'string' },
      png: { type: 'boolean', default: false },
      'sibling-foreign': { type: 'string', default: '0' },
    },
  });
  const seed = Number(values.seed);
  const framePairs = Number(values.pairs);
  const siblingForeign = Number(values['sibling-foreign']);
  if (values.out === undefined || !Number.isInteger(seed) || !Number.isInteger(framePairs) || framePairs < 0 || (values.split !== 'train' && values.split !== 'heldout') || !(siblingForeign >= 0 && siblingForeign <= 1)) {
    console.error('usage: node --import tsx simulators/src/vision/shelf-change-dataset.ts --out DIR --seed N --split train|heldout --pairs M [--sibling-foreign P] [--png]');
    process.exit(2);
  }
  const started = performance.now();
  const pairs = await exportShelfChangeDataset({
    out: values.out,
    seed,
    split: values.split,
    framePairs,
    png: values.png,
    siblingForeign,
    progress: (done, total) => console.error(`${done}/${total} pairs, ${((performance.now() - started) / 1_000).toFixed(0)} s`),
  });
  console.log(`${pairs} pairs in ${values.out} (${((performance.now() - started) / 1_000).toFixed(0)} s)`);
}
