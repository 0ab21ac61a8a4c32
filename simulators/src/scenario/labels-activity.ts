import { z } from 'zod';
import type { CatalogItem, ShelfLabel } from '@storeedge/device-drivers';
import { gtinCheckDigit } from '../demo-catalog.ts';
import { Rng } from '../random.ts';

const range = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]).refine(([lo, hi]) => lo <= hi, 'range must be [low, high]');

/**
 * A store of shelf labels to generate (a scenario does not list 20 000 labels by hand): `skus`
 * products with one label each, spread over `gateways` ESL gateways, tag types drawn by share,
 * some product names in Chinese (label fonts must cover them).
 */
export const labelStoreGeneration = z
  .object({
    skus: z.number().int().min(1).max(100_000),
    gateways: z.number().int().min(1).max(500),
    /** Tag type id (device-drivers esl/tag-types.ts) → share of labels. */
    tagTypes: z.record(z.string().min(1).max(64), z.number().positive()).default({ 'm2-2.9-bwr': 0.6, 'm2-1.54-bwr': 0.2, 'm3-4.2-bwy': 0.1, 'm3-2.9-bwry': 0.05, 'm2-7.5-bw': 0.05 }),
    /** Share of products whose name is Chinese. */
    chineseNames: z.number().min(0).max(1).default(0.1),
    /** Regular prices are drawn from this range, minor units. */
    priceMinor: range.default([49, 2_999]),
  })
  .strict();

/**
 * Shelf labels in a scenario (docs/esl.md "The labels scenario"): the store's labels (listed in
 * `store.labels` or generated), the gateways' radio model, price changes every few minutes (as HQ
 * or the pricing team would send them), tag reboots, tags out of range, gateway restarts, and
 * purchases at the till that test price integrity against what the labels show.
 */
export const labelsActivity = z
  .object({
    generate: labelStoreGeneration.optional(),
    /** Simulated time the activity runs; the run then waits up to `settleMs` for labels to converge. */
    durationMs: z.number().int().positive().max(7 * 24 * 3_600_000).default(2 * 3_600_000),
    settleMs: z.number().int().nonnegative().max(24 * 3_600_000).default(30 * 60_000),
    priceChanges: z
      .object({
        /** A batch of price changes this often (simulated time). */
        everyMs: z.number().int().positive().default(5 * 60_000),
        /** SKUs re-priced in one batch, [low, high]. */
        skus: range.default([5, 50]),
        /** Share of changes that are reductions (a promotion: the label shows the prior 30-day low as "was"). */
        reductionShare: z.number().min(0).max(1).default(0.5),
        /** Times (ms after the start) at which every SKU's price changes at once. */
        storeWideAtMs: z.array(z.number().int().nonnegative()).default([]),
      })
      .strict()
      .default({ everyMs: 5 * 60_000, skus: [5, 50], reductionShare: 0.5, storeWideAtMs: [] }),
    /** The ESL gateway simulator's radio options (simulators/src/esl-gateway.ts), applied to every gateway. */
    radio: z.record(z.string(), z.unknown()).default({}),
    /** Gateways restarted during the run (their pending queues are lost). */
    gatewayRestarts: z.array(z.object({ gateway: z.string().min(1).max(64), atMs: z.number().int().nonnegative() }).strict()).default([]),
    /** Purchases at the till: one SKU every `everyMs`, charged at the agent's price (checked against the labels' truth). */
    purchases: z.object({ everyMs: z.number().int().positive().default(2_000) }).strict().default({ everyMs: 2_000 }),
  })
  .strict();

export type LabelsActivity = z.output<typeof labelsActivity>;
export type LabelStoreGeneration = z.output<typeof labelStoreGeneration>;

const latinWords = ['Organic', 'Fresh', 'Classic', 'Whole', 'Crunchy', 'Smoked', 'Roasted', 'Sparkling', 'Creamy', 'Wild', 'Golden', 'Extra'];
const latinNouns = ['oat flakes', 'espresso beans', 'passata', 'hazelnut spread', 'basmati rice', 'sea salt crisps', 'apple juice', 'dark chocolate', 'green tea', 'peanut butter', 'tomato soup', 'mineral water'];
const sizes = ['100 g', '250 g', '500 g', '1 kg', '330 ml', '0.75 l', '1.5 l', '6 × 330 ml'];
const chineseNames = ['有机燕麦片', '意式浓缩咖啡豆', '番茄酱', '榛子巧克力酱', '香米', '海盐薯片', '苹果汁', '黑巧克力', '绿茶', '花生酱', '番茄汤', '矿泉水', '茉莉花茶', '老陈醋', '酱油', '方便面'];

/** The generated catalog and labels (gateway ids `esl-gw-01`…), the same for the same seed. */
export function generateLabelStore(gen: LabelStoreGeneration, seed: number): { catalog: CatalogItem[]; labels: ShelfLabel[]; gateways: string[] } {
  const rng = new Rng(`labels-store:${seed}`);
  const width = String(gen.gateways).length < 2 ? 2 : String(gen.gateways).length;
  const gateways = Array.from({ length: gen.gateways }, (_, i) => `esl-gw-${String(i + 1).padStart(width, '0')}`);
  const types = Object.entries(gen.tagTypes);
  const total = types.reduce((a, [, w]) => a + w, 0);
  const pickType = () => {
    let u = rng.next() * total;
    for (const [id, w] of types) if ((u -= w) < 0) return id;
    return types.at(-1)![0];
  };
  const catalog: CatalogItem[] = [];
  const labels: ShelfLabel[] = [];
  for (let i = 0; i < gen.skus; i++) {
    const sku = `sku-${String(i + 1).padStart(6, '0')}`;
    const data = `201${String(i + 1).padStart(9, '0')}`;
    const gtin = `0${data}${gtinCheckDigit(data)}`;
    const name =
      rng.next() < gen.chineseNames
        ? `${chineseNames[rng.int(0, chineseNames.length - 1)]} ${sizes[rng.int(0, sizes.length - 1)]}`
        : `${latinWords[rng.int(0, latinWords.length - 1)]} ${latinNouns[rng.int(0, latinNouns.length - 1)]} ${sizes[rng.int(0, sizes.length - 1)]}`;
    catalog.push({ sku, gtin, name, unitWeightG: 100, unitWeightSigmaG: 1, priceMinor: rng.int(gen.priceMinor[0], gen.priceMinor[1]), currency: 'EUR', rfidTagged: false });
    labels.push({ tagId: `tag-${String(i + 1).padStart(6, '0')}`, gateway: gateways[i % gateways.length]!, tagType: pickType(), sku });
  }
  return { catalog, labels, gateways };
}
