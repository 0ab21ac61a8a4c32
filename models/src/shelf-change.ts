import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { z } from 'zod';
import { loadVerifiedModel, modelErrors, modelManifest, type VerifiedModel } from './manifest.ts';
import { ProductGallery, type ProductMatch } from './recogniser.ts';

/**
 * The shelf-change model (models/shelf-change, MODEL_CARD.md there): given the crop of one tray
 * from a frame before a load-cell event and one after it, says what changed — a unit
 * `appeared`, `disappeared`, or `none` — and names the unit by the nearest SKU of a gallery
 * built from catalogue pairs (an empty tray, then the tray with one unit), so a SKU HQ adds is
 * named from its catalogue pairs alone. It catches what the load cells cannot: which of two
 * products of the same weight it was, and a unit put back on the wrong tray. Only pixels go in.
 */

/** The committed model's manifest. */
export const SHELF_CHANGE_MANIFEST = fileURLToPath(new URL('../shelf-change/manifest.json', import.meta.url));

export const SHELF_CHANGE_KINDS = ['appeared', 'disappeared', 'none'] as const;
export type ShelfChangeKind = (typeof SHELF_CHANGE_KINDS)[number];

const output = z.object({ name: z.string().min(1), dtype: z.literal('float32'), shape: z.tuple([z.string(), z.number().int().positive()]) }).loose();

export const shelfChangeManifest = modelManifest.extend({
  input: z
    .object({
      name: z.string().min(1),
      dtype: z.literal('float32'),
      shape: z.tuple([z.string(), z.literal(6), z.number().int().positive(), z.number().int().positive()]),
      preprocessing: z.object({ mean: z.array(z.number()).length(3), std: z.array(z.number().positive()).length(3) }).loose(),
    })
    .loose(),
  output,
  kindOutput: output.extend({ labels: z.tuple([z.literal('appeared'), z.literal('disappeared'), z.literal('none')]) }),
  embeddingSize: z.number().int().positive(),
  /**
   * How to classify (absent: each pair once). `playedBothWays`: run each pair forwards and played
   * backwards too (after, then before), and combine: the kind from the sum of the two log-softmaxes
   * (appeared and disappeared swapped for the backward run), the embedding the normalised sum of
   * the two — as the gallery is built.
   */
  inference: z.object({ playedBothWays: z.boolean() }).loose().optional(),
  /** How it was trained: the seeds a held-out test must avoid, and the SKU split. */
  training: z
    .object({
      trainSeed: z.number().int(),
      /** Every seed the model was trained on, over all its runs (from 1.3.0: 1.2.0 on seed 1, then fine-tuned on 3, 4, 5); trainSeed is the first export of the last run. */
      trainSeeds: z.array(z.number().int()).optional(),
      validationSeed: z.number().int(),
      storeSkusSeen: z.array(z.string()),
      heldOutSkus: z.array(z.string()),
    })
    .loose(),
});

export type ShelfChangeManifest = z.output<typeof shelfChangeManifest>;

/** A tray crop: raw interleaved 8-bit RGB (as `cropFrame` gives it), or an encoded image sharp can read; another size is scaled by sharp. */
export type TrayImage = { width: number; height: number; rgb: Uint8Array } | Buffer;

/** The tray before the event and after it. */
export interface TrayPair {
  before: TrayImage;
  after: TrayImage;
}

export interface ShelfChange {
  kind: ShelfChangeKind;
  /** Softmax probability of each kind (a model played both ways: the normalised product of the two runs' probabilities). */
  probabilities: Record<ShelfChangeKind, number>;
  /** The best SKUs for the unit that changed, best first (empty when the kind is 'none'). */
  matches: ProductMatch[];
}

export interface ShelfChangeOptions {
  /** Default: the committed models/shelf-change/manifest.json. */
  manifestPath?: string;
  /** onnxruntime threads for one inference (default 1). */
  threads?: number;
  /** Pairs per inference call (default 64). */
  batchSize?: number;
}

export class ShelfChangeModel {
  readonly manifest: Readonly<ShelfChangeManifest>;
  readonly #session: InferenceSession;
  readonly #size: number;
  readonly #batchSize: number;

  private constructor(model: VerifiedModel<ShelfChangeManifest>, session: InferenceSession, batchSize: number) {
    this.manifest = Object.freeze(model.manifest);
    this.#session = session;
    this.#size = model.manifest.input.shape[2];
    this.#batchSize = batchSize;
  }

  /** Loads the manifest, checks the model's sha256 (MDL_ERR_MODEL_INTEGRITY on a mismatch), then opens a session on the verified bytes. */
  static async load(options: ShelfChangeOptions = {}): Promise<ShelfChangeModel> {
    const model = loadVerifiedModel(options.manifestPath ?? SHELF_CHANGE_MANIFEST, shelfChangeManifest);
    const session = await InferenceSession.create(model.model, { intraOpNumThreads: options.threads ?? 1, interOpNumThreads: 1 });
    return new ShelfChangeModel(model, session, options.batchSize ?? 64);
  }

  get embeddingSize(): number {
    return this.manifest.embeddingSize;
  }

  /** Side of the tray crops the model takes, pixels. */
  get sizePx(): number {
    return this.#size;
  }

  /** The model's input for one pair: 6 × S × S float32 (before RGB, after RGB), each channel (pixel / 255 − mean) / std, as models/train/shelf_change.py feeds it. */
  async preprocess(pair: TrayPair): Promise<Float32Array> {
    const [before, after] = await Promise.all([this.#rgb(pair.before), this.#rgb(pair.after)]);
    const { mean, std } = this.manifest.input.preprocessing;
    const plane = this.#size * this.#size;
    const out = new Float32Array(6 * plane);
    [before, after].forEach((rgb, frame) => {
      for (let i = 0; i < plane; i++) {
        for (let c = 0; c < 3; c++) out[(frame * 3 + c) * plane + i] = (rgb[i * 3 + c]! / 255 - mean[c]!) / std[c]!;
      }
    });
    return out;
  }

  /** Kind logits and unit-length embeddings of the changed unit for `pairs`, in order. */
  async run(pairs: readonly TrayPair[]): Promise<Array<{ logits: Float32Array; embedding: Float32Array }>> {
    const out: Array<{ logits: Float32Array; embedding: Float32Array }> = [];
    const inputSize = 6 * this.#size * this.#size;
    const dims = this.embeddingSize;
    const kinds = SHELF_CHANGE_KINDS.length;
    for (let start = 0; start < pairs.length; start += this.#batchSize) {
      const batch = pairs.slice(start, start + this.#batchSize);
      const data = new Float32Array(batch.length * inputSize);
      const inputs = await Promise.all(batch.map((pair) => this.preprocess(pair)));
      inputs.forEach((input, i) => data.set(input, i * inputSize));
      const feeds = { [this.manifest.input.name]: new Tensor('float32', data, [batch.length, 6, this.#size, this.#size]) };
      const result = await this.#session.run(feeds);
      const logits = result[this.manifest.kindOutput.name]!.data as Float32Array;
      const embedding = result[this.manifest.output.name]!.data as Float32Array;
      for (let i = 0; i < batch.length; i++) out.push({ logits: logits.slice(i * kinds, (i + 1) * kinds), embedding: embedding.slice(i * dims, (i + 1) * dims) });
    }
    return out;
  }

  /**
   * A gallery from catalogue pairs (an empty tray, then the tray with one unit of the SKU): each
   * SKU's embedding is the normalised mean of its pairs' embeddings played forwards (the unit
   * appears) and backwards (it disappears).
   */
  async buildGallery(pairs: Iterable<{ sku: string; pair: TrayPair }>): Promise<ProductGallery> {
    const list = [...pairs];
    const forwards = await this.run(list.map((entry) => entry.pair));
    const backwards = await this.run(list.map((entry) => ({ before: entry.pair.after, after: entry.pair.before })));
    const gallery = new ProductGallery(this.embeddingSize);
    const bySku = new Map<string, Float32Array[]>();
    list.forEach((entry, i) => bySku.set(entry.sku, [...(bySku.get(entry.sku) ?? []), forwards[i]!.embedding, backwards[i]!.embedding]));
    for (const [sku, vectors] of bySku) gallery.set(sku, vectors);
    return gallery;
  }

  /** What changed on each tray: the kind, and for 'appeared' or 'disappeared' the `k` nearest SKUs of `gallery`. */
  async classify(pairs: readonly TrayPair[], gallery: ProductGallery, k = 3): Promise<ShelfChange[]> {
    const forwards = await this.run(pairs);
    const backwards = this.manifest.inference?.playedBothWays === true ? await this.run(pairs.map((pair) => ({ before: pair.after, after: pair.before }))) : undefined;
    return forwards.map(({ logits, embedding }, n) => {
      let scores = logSoftmax(logits);
      let vector = embedding;
      const back = backwards?.[n];
      if (back !== undefined) {
        // Played backwards a unit that appeared disappeared: swap those two kinds back.
        const b = logSoftmax(back.logits);
        scores = scores.map((s, i) => s + b[i === 0 ? 1 : i === 1 ? 0 : i]!);
        vector = normalised(embedding.map((v, i) => v + back.embedding[i]!));
      }
      const top = Math.max(...scores);
      const exp = scores.map((l) => Math.exp(l - top));
      const sum = exp.reduce((a, b) => a + b, 0);
      const probabilities = Object.fromEntries(SHELF_CHANGE_KINDS.map((kind, i) => [kind, exp[i]! / sum])) as Record<ShelfChangeKind, number>;
      const kind = SHELF_CHANGE_KINDS[exp.indexOf(Math.max(...exp))]!;
      return { kind, probabilities, matches: kind === 'none' ? [] : gallery.nearest(vector, k) };
    });
  }

  async close(): Promise<void> {
    await this.#session.release();
  }

  async #rgb(image: TrayImage): Promise<Uint8Array> {
    const size = this.#size;
    if (!Buffer.isBuffer(image)) {
      if (image.rgb.length !== image.width * image.height * 3) {
        throw modelErrors.MDL_ERR_INPUT_INVALID(`shelf change: a ${image.width} × ${image.height} RGB crop has ${image.width * image.height * 3} bytes, got ${image.rgb.length}`);
      }
      // A crop of the input size is used as it is: the training data are such crops, byte for byte.
      if (image.width === size && image.height === size) return image.rgb;
    }
    const input = Buffer.isBuffer(image) ? sharp(image) : sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } });
    try {
      return await input.removeAlpha().toColourspace('srgb').resize(size, size).raw().toBuffer();
    } catch (error) {
      throw modelErrors.MDL_ERR_INPUT_INVALID(`shelf change: cannot read a tray crop as an image: ${(error as Error).message}`);
    }
  }
}

function logSoftmax(logits: Float32Array): number[] {
  const top = Math.max(...logits);
  const log = Math.log([...logits].reduce((sum, l) => sum + Math.exp(l - top), 0));
  return [...logits].map((l) => l - top - log);
}

function normalised(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}
