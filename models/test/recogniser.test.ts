import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RECOGNISER_CROP_PX, recogniserGalleryCrops, recogniserQueryCrops, type LabelledCrop } from '@storeedge/simulators/vision/dataset.ts';
import { heldOutSkus, recogniserCatalog } from '@storeedge/simulators/vision/recogniser-catalog.ts';
import { RECOGNISER_HAND_WINDOWS } from '../src/hand-crop.ts';
import { ModelError } from '../src/manifest.ts';
import { ProductGallery, ProductRecogniser, RECOGNISER_MANIFEST, type RecogniserImage } from '../src/recogniser.ts';

/**
 * The product recogniser on a held-out set rendered here, now, by the simulator — a seed no
 * training or validation export used — with the scenario's default vision knobs. Targets (the
 * vision issue, part 3): top-1 ≥ 97 % on SKUs seen in training and ≥ 93 % on SKUs never seen
 * in training (recognised from their catalogue images only).
 *
 * Scored on crops whose held unit is at least half visible: a passing shopper (the occlusion
 * knob) hides the unit completely in about 5 % of crops, and no model can name what is not in
 * the pixels. The rendering knows how much was hidden (it renders each frame again without the
 * shopper); the model never sees that. The figure over all crops is printed too.
 *
 * A hand is looked at as the agent looks at it (VisionService.identify): the windows
 * RECOGNISER_HAND_WINDOWS around its tracked (noisy) position, cut from the frame by
 * `cropFrameWindows`, each voting with its softmax over the gallery (`recogniseViews`).
 */

const TEST_SEED = 31;
/** Query crops per SKU: fewer for the 79 seen SKUs, more for the 21 held-out ones (their rate is the harder target). */
const PER_SEEN_SKU = 6;
const PER_HELD_OUT_SKU = 16;
const MAX_HIDDEN_SHARE = 0.5;
/** The vision issue's targets. */
const TARGET_SEEN = 0.97;
const TARGET_HELD_OUT = 0.93;
/**
 * What the committed model must not fall below (a regression floor) while a target is not met
 * yet; when a model meets a target, its floor becomes the target. Model 1.0.0 scored on the
 * centre crop alone measured 0.965 seen / 0.960 never seen on this render; with the windows
 * around the hand (RECOGNISER_HAND_WINDOWS) 0.974 (444 of 456) / 0.957 — the seen target by
 * one crop. MODEL_CARD.md says where the model stands.
 */
const FLOOR_SEEN = TARGET_SEEN;
const FLOOR_HELD_OUT = TARGET_HELD_OUT;

const crop = (c: LabelledCrop): RecogniserImage => ({ width: RECOGNISER_CROP_PX, height: RECOGNISER_CROP_PX, rgb: c.rgb });
/** The windows around a query's hand that lie in the frame. */
const views = (c: LabelledCrop): RecogniserImage[] =>
  c.windows!.filter((rgb): rgb is Buffer => rgb !== undefined).map((rgb) => ({ width: RECOGNISER_CROP_PX, height: RECOGNISER_CROP_PX, rgb }));

describe('product recogniser on a fresh held-out render', () => {
  it(`names seen SKUs ≥ ${FLOOR_SEEN * 100} % (target ${TARGET_SEEN * 100} %) and never-seen SKUs ≥ ${FLOOR_HELD_OUT * 100} % (target ${TARGET_HELD_OUT * 100} %) top-1`, { timeout: 600_000 }, async () => {
    const started = performance.now();
    const recogniser = await ProductRecogniser.load();
    const training = recogniser.manifest as unknown as { training: { trainSeed: number; validationSeed: number; storeSkusSeen: string[]; heldOutSkus: string[] } };
    expect([training.training.trainSeed, training.training.validationSeed]).not.toContain(TEST_SEED);
    // The simulator cuts crops of the size the model was trained on.
    expect(recogniser.manifest.input.shape[2]).toBe(RECOGNISER_CROP_PX);

    const catalog = recogniserCatalog();
    const heldOut = heldOutSkus(catalog);
    // The split the model was trained with is the one the simulator derives now.
    expect([...heldOut].sort()).toEqual([...training.training.heldOutSkus].sort());
    for (const item of catalog) expect(heldOut.has(item.sku) || training.training.storeSkusSeen.includes(item.sku), `${item.sku} is neither seen nor held out`).toBe(true);

    const gallery = await recogniser.buildGallery(
      (await recogniserGalleryCrops(catalog, catalog.map((item) => item.sku))).map((c) => ({ sku: c.sku, image: crop(c) })),
    );
    const counts = new Map(catalog.map((item) => [item.sku, heldOut.has(item.sku) ? PER_HELD_OUT_SKU : PER_SEEN_SKU]));
    const queries: LabelledCrop[] = [];
    for await (const q of recogniserQueryCrops({ catalog, counts, seed: TEST_SEED, conditions: 'heldout', measureHidden: true, windows: RECOGNISER_HAND_WINDOWS }))
      queries.push(q);
    const matches = await recogniser.recogniseViews(queries.map(views), gallery, 1);
    await recogniser.close();

    const tally = { seen: [0, 0], heldOut: [0, 0], seenAll: [0, 0], heldOutAll: [0, 0] };
    queries.forEach((q, i) => {
      const group = heldOut.has(q.sku) ? 'heldOut' : 'seen';
      const right = matches[i]![0]!.sku === q.sku ? 1 : 0;
      tally[`${group}All`][0]! += right;
      tally[`${group}All`][1]! += 1;
      if (q.hiddenShare! > MAX_HIDDEN_SHARE) return;
      tally[group][0]! += right;
      tally[group][1]! += 1;
    });
    const rate = ([right, all]: number[]) => right! / all!;
    const seen = rate(tally.seen);
    const unseen = rate(tally.heldOut);
    console.log(
      `recogniser held-out (seed ${TEST_SEED}, gallery of ${gallery.skus.length} SKUs): ` +
        `top-1 seen ${seen.toFixed(4)} (${tally.seen[1]} crops), never seen ${unseen.toFixed(4)} (${tally.heldOut[1]} crops); ` +
        `counting crops with the unit mostly hidden too: seen ${rate(tally.seenAll).toFixed(4)}, never seen ${rate(tally.heldOutAll).toFixed(4)} ` +
        `(${tally.seenAll[1]! + tally.heldOutAll[1]! - tally.seen[1]! - tally.heldOut[1]!} hidden); ${((performance.now() - started) / 1_000).toFixed(1)} s`,
    );
    const verdict = (rate: number, target: number) => (rate >= target ? 'target met' : `target ${target} NOT met`);
    console.log(`recogniser vs the issue's targets: seen ${verdict(seen, TARGET_SEEN)}; never seen ${verdict(unseen, TARGET_HELD_OUT)}`);
    expect(seen).toBeGreaterThanOrEqual(FLOOR_SEEN);
    expect(unseen).toBeGreaterThanOrEqual(FLOOR_HELD_OUT);
  });
});

describe('product recogniser model integrity', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  /** A copy of the committed manifest and model in a temporary directory. */
  function copy(): { manifest: string; model: string } {
    const dir = mkdtempSync(join(tmpdir(), 'recogniser-'));
    dirs.push(dir);
    const manifest = JSON.parse(readFileSync(RECOGNISER_MANIFEST, 'utf8')) as { file: string };
    copyFileSync(RECOGNISER_MANIFEST, join(dir, 'manifest.json'));
    copyFileSync(join(dirname(RECOGNISER_MANIFEST), manifest.file), join(dir, manifest.file));
    return { manifest: join(dir, 'manifest.json'), model: join(dir, manifest.file) };
  }

  async function refusal(manifestPath: string): Promise<ModelError> {
    const error = await ProductRecogniser.load({ manifestPath }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    return error as ModelError;
  }

  it('loads an untouched copy', async () => {
    const recogniser = await ProductRecogniser.load({ manifestPath: copy().manifest });
    expect(recogniser.embeddingSize).toBe(64);
    await recogniser.close();
  });

  it('refuses a model file whose bytes changed', async () => {
    const { manifest, model } = copy();
    const bytes = readFileSync(model);
    bytes[bytes.length - 100]! ^= 0x01;
    writeFileSync(model, bytes);
    const error = await refusal(manifest);
    expect(error.code).toBe('MDL_ERR_MODEL_INTEGRITY');
    expect(error.message).toMatch(/sha256/);
  });

  it('refuses a manifest whose sha256 was edited', async () => {
    const { manifest } = copy();
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { sha256: string };
    json.sha256 = `${json.sha256.slice(0, -1)}${json.sha256.endsWith('0') ? '1' : '0'}`;
    writeFileSync(manifest, JSON.stringify(json));
    expect((await refusal(manifest)).code).toBe('MDL_ERR_MODEL_INTEGRITY');
  });

  it('refuses a manifest without a valid sha256', async () => {
    const { manifest } = copy();
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as { sha256?: string };
    json.sha256 = 'not-a-hash';
    writeFileSync(manifest, JSON.stringify(json));
    expect((await refusal(manifest)).code).toBe('MDL_ERR_MANIFEST_INVALID');
  });
});

describe('ProductGallery.nearestOfViews (several crops of one hand)', () => {
  const unit = (values: number[]) => {
    const v = Float32Array.from(values);
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  const gallery = new ProductGallery(3);
  gallery.set('a', [unit([1, 0, 0])]);
  gallery.set('b', [unit([0, 1, 0])]);
  gallery.set('c', [unit([0, 0, 1])]);

  it('scores one crop by its cosines, as nearest does', () => {
    const e = unit([0.9, 0.3, 0.1]);
    const one = gallery.nearestOfViews([e], 3, 20);
    const cos = gallery.nearest(e, 3);
    one.forEach((m, i) => {
      expect(m.sku).toBe(cos[i]!.sku);
      expect(m.score).toBeCloseTo(cos[i]!.score, 9);
    });
  });

  it('a softmax of T × score over candidates is the crops\' mean softmax vote restricted to them; a confident crop is not outvoted by one confused one', () => {
    const crops = [unit([1, 0.1, 0]), unit([0.2, 1, 0]), unit([1, 0.3, 0.1])];
    const T = 20;
    const scores = new Map(gallery.nearestOfViews(crops, 3, T).map((m) => [m.sku, m.score]));
    const votes = new Map<string, number>([['a', 0], ['b', 0], ['c', 0]]);
    for (const e of crops) {
      const cos = gallery.nearest(e, 3);
      const z = cos.reduce((sum, m) => sum + Math.exp(T * m.score), 0);
      for (const m of cos) votes.set(m.sku, votes.get(m.sku)! + Math.exp(T * m.score) / z / crops.length);
    }
    const pair = ['a', 'b'];
    const fromScores = pair.map((sku) => Math.exp(T * scores.get(sku)!));
    const fromVotes = pair.map((sku) => votes.get(sku)!);
    expect(fromScores[0]! / (fromScores[0]! + fromScores[1]!)).toBeCloseTo(fromVotes[0]! / (fromVotes[0]! + fromVotes[1]!), 9);
    expect([...scores].sort((x, y) => y[1] - x[1])[0]![0]).toBe('a');
    // Far-off SKUs keep a finite score (log-space votes, no underflow).
    expect(Number.isFinite(gallery.nearestOfViews(crops, 3, 1_000).at(-1)!.score)).toBe(true);
  });
});
