import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heldOutSkus, recogniserCatalog } from '@storeedge/simulators/vision/recogniser-catalog.ts';
import { SHELF_CHANGE_CROP_PX, shelfChangeEvents, shelfChangeGalleryPairs, type ShelfChangePair } from '@storeedge/simulators/vision/shelf-change-dataset.ts';
import { ModelError } from '../src/manifest.ts';
import { SHELF_CHANGE_MANIFEST, ShelfChangeModel, type TrayPair } from '../src/shelf-change.ts';

/**
 * The shelf-change model on a held-out set rendered here, now, by the simulator — a seed no
 * training or validation export used — with the scenario's default vision knobs, over the whole
 * store catalogue: SKUs the model never saw in training (named from their catalogue pairs
 * only), units put back on the wrong tray, units taken, trays where nothing changed while a
 * neighbour did. Target (the vision issue, part 3): shelf-change accuracy ≥ 97 %, where a pair
 * is right when the kind (appeared / disappeared / none) is right and, when something changed,
 * so is the SKU (top-1 against a gallery of all 100 store SKUs).
 *
 * Scored on pairs where a passing shopper (the occlusion knob, 10 % of frames) covers at most
 * half of the tray's crop in either frame: when the body is over the tray, what changed is not
 * in the pixels (the agent takes another frame). The rendering knows how much was hidden (it
 * renders a frame that has a passing shopper again without it); the model never sees that. The
 * figure over all pairs is printed too. Shoppers' arms reaching into view are not left out.
 * Printed breakdowns besides (not the metric): by event, by seen / never-seen SKU, by where the
 * changed unit stands (front row, or behind a full front row where only its top can show), and
 * the kind confusions.
 */

const TEST_SEED = 43;
/** Frame pairs to render; each gives 9 tray pairs (one per tray of the bay). */
const FRAME_PAIRS = 160;
/** The vision issue's target. */
const TARGET = 0.97;
/**
 * What the committed model must not fall below (a regression floor) while the target is not met:
 * model 1.3.0 measures 0.867 on this render (1.2.0 0.844, 1.1.0 0.813, 1.0.0 0.758). MODEL_CARD.md:
 * still far from the target — the SKU of a unit put on the wrong tray is the larger loss, then
 * changes missed ('none'). When a model meets the target, the floor becomes the target.
 */
const FLOOR = 0.86;
const MAX_HIDDEN_SHARE = 0.5;

const tray = (rgb: Buffer) => ({ width: SHELF_CHANGE_CROP_PX, height: SHELF_CHANGE_CROP_PX, rgb });
const asPair = (p: ShelfChangePair): TrayPair => ({ before: tray(p.before), after: tray(p.after) });

describe('shelf-change model on a fresh held-out render', () => {
  it(`says what appeared or disappeared on a tray, kind and SKU, ≥ ${FLOOR * 100} % of the time (target ${TARGET * 100} %)`, { timeout: 240_000 }, async () => {
    const started = performance.now();
    const model = await ShelfChangeModel.load();
    const { training } = model.manifest;
    expect([training.trainSeed, ...(training.trainSeeds ?? []), training.validationSeed]).not.toContain(TEST_SEED);
    expect(training.trainSeeds ?? [training.trainSeed]).not.toContain(training.validationSeed);
    expect(model.sizePx).toBe(SHELF_CHANGE_CROP_PX);

    const catalog = recogniserCatalog();
    const heldOut = heldOutSkus(catalog);
    // The split the model was trained with is the one the simulator derives now.
    expect([...heldOut].sort()).toEqual([...training.heldOutSkus].sort());
    for (const item of catalog) expect(heldOut.has(item.sku) || training.storeSkusSeen.includes(item.sku), `${item.sku} is neither seen nor held out`).toBe(true);

    const gallery = await model.buildGallery(
      (await shelfChangeGalleryPairs(catalog, catalog.map((item) => item.sku))).map((p) => ({ sku: p.sku, pair: asPair(p) })),
    );
    const events: ShelfChangePair[] = [];
    for await (const p of shelfChangeEvents({ catalog, seed: TEST_SEED, conditions: 'heldout', framePairs: FRAME_PAIRS, measureHidden: true })) events.push(p);
    const results = await model.classify(events.map(asPair), gallery, 1);
    await model.close();

    const groups = new Map<string, [number, number]>();
    const count = (group: string, right: boolean) => {
      const g = groups.get(group) ?? [0, 0];
      g[0] += right ? 1 : 0;
      g[1] += 1;
      groups.set(group, g);
    };
    const errors: string[] = [];
    const confusions = new Map<string, number>();
    events.forEach((event, i) => {
      const result = results[i]!;
      const kindRight = result.kind === event.kind;
      const skuRight = event.kind === 'none' || result.matches[0]?.sku === event.sku;
      const right = kindRight && skuRight;
      count('all pairs', right);
      if (event.hiddenShare! > MAX_HIDDEN_SHARE) return;
      count('all', right);
      count('kind', kindRight);
      if (event.kind === 'none') count('none', right);
      else {
        count(`${event.kind}${event.foreign ? ' (foreign unit)' : ' (own product)'}`, right);
        count(heldOut.has(event.sku) ? 'SKUs never seen in training' : 'SKUs seen in training', right);
        // Breakdowns only (not the target's metric): where the changed unit stands. Behind a full
        // front row the camera sees at most its top.
        if (event.unitRow !== undefined) {
          const where = event.unitRow === 0 ? 'changed unit in the front row' : 'changed unit behind a full front row';
          count(where, right);
          count(`${where}, kind alone`, kindRight);
        }
      }
      if (!kindRight) confusions.set(`${event.kind}→${result.kind}`, (confusions.get(`${event.kind}→${result.kind}`) ?? 0) + 1);
      if (!right && errors.length < 12) errors.push(`${event.kind} ${event.sku || '-'}${event.foreign ? ' (foreign)' : ''} → ${result.kind} ${result.matches[0]?.sku ?? '-'}`);
    });
    const rate = (g: [number, number] | undefined) => (g === undefined ? Number.NaN : g[0] / g[1]);
    const accuracy = rate(groups.get('all'));
    console.log(
      `shelf-change held-out (seed ${TEST_SEED}, ${events.length} tray pairs, gallery of ${gallery.skus.length} SKUs): accuracy ${accuracy.toFixed(4)}; ` +
        [...groups].filter(([name]) => name !== 'all').map(([name, g]) => `${name} ${rate(g).toFixed(4)} (${g[1]})`).join(', ') +
        `; ${((performance.now() - started) / 1_000).toFixed(1)} s\n  kind errors (true→predicted): ${[...confusions].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}` +
        `\n  first errors: ${errors.join('; ') || 'none'}`,
    );
    // Every kind of event is in the set, and SKUs never seen in training among the changes.
    for (const group of ['none', 'appeared (own product)', 'appeared (foreign unit)', 'disappeared (own product)', 'disappeared (foreign unit)', 'SKUs never seen in training']) {
      expect(groups.get(group)?.[1] ?? 0, group).toBeGreaterThanOrEqual(10);
    }
    console.log(`shelf-change vs the issue's target ${TARGET}: ${accuracy >= TARGET ? 'met' : 'NOT met'}`);
    expect(accuracy).toBeGreaterThanOrEqual(FLOOR);
  });
});

describe('shelf-change model integrity', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  function copy(): { manifest: string; model: string } {
    const dir = mkdtempSync(join(tmpdir(), 'shelf-change-'));
    dirs.push(dir);
    const manifest = JSON.parse(readFileSync(SHELF_CHANGE_MANIFEST, 'utf8')) as { file: string };
    copyFileSync(SHELF_CHANGE_MANIFEST, join(dir, 'manifest.json'));
    copyFileSync(join(dirname(SHELF_CHANGE_MANIFEST), manifest.file), join(dir, manifest.file));
    return { manifest: join(dir, 'manifest.json'), model: join(dir, manifest.file) };
  }

  it('loads an untouched copy and refuses one whose bytes changed', async () => {
    const { manifest, model } = copy();
    const loaded = await ShelfChangeModel.load({ manifestPath: manifest });
    expect(loaded.embeddingSize).toBe(64);
    await loaded.close();
    const bytes = readFileSync(model);
    bytes[bytes.length - 100]! ^= 0x01;
    writeFileSync(model, bytes);
    const error = await ShelfChangeModel.load({ manifestPath: manifest }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('MDL_ERR_MODEL_INTEGRITY');
  });
});
