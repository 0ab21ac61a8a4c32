import { fileURLToPath } from 'node:url';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { z } from 'zod';
import { RECOGNISER_COSFACE_SCALE } from './hand-crop.ts';
import { loadVerifiedModel, modelErrors, modelManifest, type VerifiedModel } from './manifest.ts';

/**
 * The product recogniser (models/recogniser, MODEL_CARD.md there): embeds crops around a hand
 * into unit vectors and names the product by the nearest SKU of a gallery built from catalogue
 * images — so a SKU HQ adds is recognised from its images alone. The model sees only pixels.
 */

/** The committed model's manifest. */
export const RECOGNISER_MANIFEST = fileURLToPath(new URL('../recogniser/manifest.json', import.meta.url));

export const recogniserManifest = modelManifest.extend({
  input: z
    .object({
      name: z.string().min(1),
      dtype: z.literal('float32'),
      shape: z.tuple([z.string(), z.literal(3), z.number().int().positive(), z.number().int().positive()]),
      preprocessing: z.object({ mean: z.array(z.number()).length(3), std: z.array(z.number().positive()).length(3) }).loose(),
    })
    .loose(),
  output: z.object({ name: z.string().min(1), dtype: z.literal('float32'), shape: z.tuple([z.string(), z.number().int().positive()]) }).loose(),
  embeddingSize: z.number().int().positive(),
})
  // The training section (seeds, held-out SKUs, CosFace scale) and the metrics are kept for callers and tests.
  .loose();

export type RecogniserManifest = z.output<typeof recogniserManifest>;

/**
 * A crop to recognise: raw interleaved 8-bit RGB (as simulators' `cropFrame` or the agent's
 * crop step give it), or an encoded image (PNG, JPEG) sharp can read. Crops of another size
 * are scaled to the model's input size by sharp.
 */
export type RecogniserImage = { width: number; height: number; rgb: Uint8Array } | Buffer;

export interface ProductMatch {
  sku: string;
  /** Cosine similarity of the crop's embedding and the SKU's gallery embedding, −1 to 1. */
  score: number;
}

export interface RecogniserOptions {
  /** Default: the committed models/recogniser/manifest.json. */
  manifestPath?: string;
  /** onnxruntime threads for one inference (default 1: inference shares the store box). */
  threads?: number;
  /** Crops per inference call (default 128). */
  batchSize?: number;
}

export class ProductRecogniser {
  readonly manifest: Readonly<RecogniserManifest>;
  readonly #session: InferenceSession;
  readonly #size: number;
  readonly #batchSize: number;

  private constructor(model: VerifiedModel<RecogniserManifest>, session: InferenceSession, batchSize: number) {
    this.manifest = Object.freeze(model.manifest);
    this.#session = session;
    this.#size = model.manifest.input.shape[2];
    this.#batchSize = batchSize;
  }

  /** Loads the manifest, checks the model's sha256 (MDL_ERR_MODEL_INTEGRITY on a mismatch), then opens a session on the verified bytes. */
  static async load(options: RecogniserOptions = {}): Promise<ProductRecogniser> {
    const model = loadVerifiedModel(options.manifestPath ?? RECOGNISER_MANIFEST, recogniserManifest);
    const threads = options.threads ?? 1;
    const session = await InferenceSession.create(model.model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
    return new ProductRecogniser(model, session, options.batchSize ?? 128);
  }

  get embeddingSize(): number {
    return this.manifest.embeddingSize;
  }

  /** The model's input for one crop (see `preprocessCrop`). */
  async preprocess(image: RecogniserImage): Promise<Float32Array> {
    return preprocessCrop(image, this.manifest.input);
  }

  /** Unit-length embeddings of `images`, in order, run in batches. */
  async embed(images: readonly RecogniserImage[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const inputSize = 3 * this.#size * this.#size;
    const dims = this.embeddingSize;
    for (let start = 0; start < images.length; start += this.#batchSize) {
      const batch = images.slice(start, start + this.#batchSize);
      const data = new Float32Array(batch.length * inputSize);
      const inputs = await Promise.all(batch.map((image) => this.preprocess(image)));
      inputs.forEach((input, i) => data.set(input, i * inputSize));
      const feeds = { [this.manifest.input.name]: new Tensor('float32', data, [batch.length, 3, this.#size, this.#size]) };
      const result = await this.#session.run(feeds);
      const embedding = result[this.manifest.output.name]!.data as Float32Array;
      for (let i = 0; i < batch.length; i++) out.push(embedding.slice(i * dims, (i + 1) * dims));
    }
    return out;
  }

  /** A gallery from catalogue images: each SKU's embedding is the normalised mean of its images' embeddings. */
  async buildGallery(images: Iterable<{ sku: string; image: RecogniserImage }>): Promise<ProductGallery> {
    const list = [...images];
    const embeddings = await this.embed(list.map((entry) => entry.image));
    const gallery = new ProductGallery(this.embeddingSize);
    const bySku = new Map<string, Float32Array[]>();
    list.forEach((entry, i) => bySku.set(entry.sku, [...(bySku.get(entry.sku) ?? []), embeddings[i]!]));
    for (const [sku, vectors] of bySku) gallery.set(sku, vectors);
    return gallery;
  }

  /** The `k` best SKUs for each crop, best first. */
  async recognise(images: readonly RecogniserImage[], gallery: ProductGallery, k = 5): Promise<ProductMatch[][]> {
    return (await this.embed(images)).map((embedding) => gallery.nearest(embedding, k));
  }

  /**
   * The `k` best SKUs for each hand seen through several crops — the windows around its tracked
   * position (RECOGNISER_HAND_WINDOWS, device-drivers `cropFrameWindows`), of one frame or more —
   * best first: `ProductGallery.nearestOfViews` over the crops' embeddings (the agent's
   * VisionService scores a hand the same way). `temperature` defaults to the CosFace scale.
   */
  async recogniseViews(views: readonly (readonly RecogniserImage[])[], gallery: ProductGallery, k = 5, temperature = RECOGNISER_COSFACE_SCALE): Promise<ProductMatch[][]> {
    const embeddings = await this.embed(views.flat());
    const out: ProductMatch[][] = [];
    let start = 0;
    for (const view of views) {
      out.push(gallery.nearestOfViews(embeddings.slice(start, start + view.length), k, temperature));
      start += view.length;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.#session.release();
  }
}

/**
 * The model's input for one crop: CHW float32, each channel (pixel / 255 − mean) / std, exactly
 * as models/train/recogniser.py feeds it. Shared by ProductRecogniser and the inference workers.
 */
export async function preprocessCrop(image: RecogniserImage, input: RecogniserManifest['input']): Promise<Float32Array> {
  const size = input.shape[2];
  const rgb = await cropRgb(image, size);
  const { mean, std } = input.preprocessing;
  const plane = size * size;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) out[c * plane + i] = (rgb[i * 3 + c]! / 255 - mean[c]!) / std[c]!;
  }
  return out;
}

/** A crop's interleaved RGB at size × size. */
async function cropRgb(image: RecogniserImage, size: number): Promise<Uint8Array> {
  if (!Buffer.isBuffer(image)) {
    if (image.rgb.length !== image.width * image.height * 3) {
      throw modelErrors.MDL_ERR_INPUT_INVALID(`recogniser: a ${image.width} × ${image.height} RGB crop has ${image.width * image.height * 3} bytes, got ${image.rgb.length}`);
    }
    // A crop of the input size is used as it is: the training data are such crops, byte for byte.
    if (image.width === size && image.height === size) return image.rgb;
  }
  const input = Buffer.isBuffer(image) ? sharp(image) : sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } });
  try {
    return await input.removeAlpha().toColourspace('srgb').resize(size, size).raw().toBuffer();
  } catch (error) {
    throw modelErrors.MDL_ERR_INPUT_INVALID(`recogniser: cannot read a crop as an image: ${(error as Error).message}`);
  }
}

/** SKU embeddings to compare crops with; a SKU HQ adds is one `set` with its catalogue images' embeddings. */
export class ProductGallery {
  readonly dimensions: number;
  readonly #skus: string[] = [];
  readonly #vectors = new Map<string, Float32Array>();

  constructor(dimensions: number) {
    this.dimensions = dimensions;
  }

  get skus(): readonly string[] {
    return this.#skus;
  }

  /** Sets a SKU's embedding to the normalised mean of `embeddings` (its catalogue images'). */
  set(sku: string, embeddings: readonly Float32Array[]): void {
    if (embeddings.length === 0) throw modelErrors.MDL_ERR_INPUT_INVALID(`gallery: SKU "${sku}" has no catalogue images`);
    const mean = new Float32Array(this.dimensions);
    for (const e of embeddings) {
      if (e.length !== this.dimensions) throw modelErrors.MDL_ERR_INPUT_INVALID(`gallery: embeddings have ${this.dimensions} values, got ${e.length}`);
      for (let i = 0; i < this.dimensions; i++) mean[i]! += e[i]!;
    }
    const norm = Math.hypot(...mean) || 1;
    for (let i = 0; i < this.dimensions; i++) mean[i]! /= norm;
    if (!this.#vectors.has(sku)) this.#skus.push(sku);
    this.#vectors.set(sku, mean);
  }

  /** The `k` SKUs most similar to a unit-length embedding (cosine), best first. */
  nearest(embedding: Float32Array, k = 5): ProductMatch[] {
    const scores = this.#skus.map((sku) => {
      const v = this.#vectors.get(sku)!;
      let dot = 0;
      for (let i = 0; i < this.dimensions; i++) dot += v[i]! * embedding[i]!;
      return { sku, score: dot };
    });
    return scores.sort((a, b) => b.score - a.score).slice(0, k);
  }

  /**
   * The `k` SKUs most likely to be the unit seen in several crops of it (unit-length embeddings:
   * windows around a hand, frames), best first. Each crop votes with its softmax of
   * temperature × cosine over the gallery, and a SKU's score is the log of its mean vote over
   * temperature, plus the crops' mean log-partition over temperature:
   *
   *   score(s) = (ln mean_i exp(T·cos_i(s) − L_i) + mean_i L_i) / T,   L_i = ln Σ_s' exp(T·cos_i(s'))
   *
   * so one crop scores its cosines exactly (as `nearest`), and a softmax of T × score over any
   * candidate set is the crops' mean vote restricted to those candidates, normalised. A crop
   * whose window a neighbour's facing fills votes for it only once, and confidently right crops
   * outvote it.
   */
  nearestOfViews(embeddings: readonly Float32Array[], k = 5, temperature = RECOGNISER_COSFACE_SCALE): ProductMatch[] {
    if (embeddings.length === 0) throw modelErrors.MDL_ERR_INPUT_INVALID('gallery: no crops to score');
    if (embeddings.length === 1) return this.nearest(embeddings[0]!, k);
    const n = this.#skus.length;
    // ln Σ_i exp(T·cos_i(s) − L_i) per SKU, accumulated in log space (no underflow for SKUs no crop votes for).
    const logVotes = new Float64Array(n).fill(-Infinity);
    const logits = new Float64Array(n);
    let meanPartition = 0;
    for (const embedding of embeddings) {
      if (embedding.length !== this.dimensions) throw modelErrors.MDL_ERR_INPUT_INVALID(`gallery: embeddings have ${this.dimensions} values, got ${embedding.length}`);
      let max = -Infinity;
      this.#skus.forEach((sku, j) => {
        const v = this.#vectors.get(sku)!;
        let dot = 0;
        for (let i = 0; i < this.dimensions; i++) dot += v[i]! * embedding[i]!;
        logits[j] = temperature * dot;
        if (logits[j]! > max) max = logits[j]!;
      });
      let sum = 0;
      for (let j = 0; j < n; j++) sum += Math.exp(logits[j]! - max);
      const partition = max + Math.log(sum);
      meanPartition += partition / embeddings.length;
      for (let j = 0; j < n; j++) {
        const a = logVotes[j]!;
        const b = logits[j]! - partition;
        logVotes[j] = a === -Infinity ? b : Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
      }
    }
    const logCount = Math.log(embeddings.length);
    const scores = this.#skus.map((sku, j) => ({ sku, score: (logVotes[j]! - logCount + meanPartition) / temperature }));
    return scores.sort((a, b) => b.score - a.score).slice(0, k);
  }
}
