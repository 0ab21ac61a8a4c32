import { catalogItem, type CatalogItem } from '@storeedge/device-drivers';
import { gtinCheckDigit } from '../demo-catalog.ts';
import { Rng } from '../random.ts';
import { checkoutStore } from '../checkout/suite.ts';
import { productAppearance } from './appearance.ts';

/**
 * Which products the product recogniser (models/recogniser) is trained and tested on.
 *
 * The store catalogue is the checkout suite's 54 products plus ranges of "Brand - flavour"
 * variants (appearance.ts: one family, told apart only by a stripe colour and a flavour word).
 * About a fifth of it is held out of training for good — one flavour of every range with three
 * or more, one whole new range, and a few single products — so the tests can measure what the
 * issue asks: a SKU HQ adds is recognised from its catalogue images alone, without retraining.
 *
 * Training also sees products no store sells (`trainingOnlyCatalog`): more brands and ranges
 * than one store has, so the embedding learns what tells packages apart rather than these
 * particular packages.
 */

/** A range of variants: the family name (it sets the look), the flavours, grams per unit. */
interface Range {
  family: string;
  flavours: readonly string[];
  grams: number;
}

/** Ranges of the store catalogue. Shape words in the family name pick the package (appearance.ts). */
const STORE_RANGES: readonly Range[] = [
  { family: 'Crispo crisps 150 g', flavours: ['paprika', 'salted', 'sour cream', 'chilli', 'cheese'], grams: 150 },
  { family: 'Fizz soda 330 ml can', flavours: ['cola', 'lemon', 'orange', 'cherry'], grams: 350 },
  { family: 'Sunny juice 1 l', flavours: ['apple', 'orange', 'multivitamin', 'pineapple'], grams: 1_050 },
  { family: 'Bramble jam 340 g jar', flavours: ['strawberry', 'apricot', 'raspberry', 'cherry'], grams: 420 },
  { family: 'Nordic tea 20 bags', flavours: ['green', 'earl grey', 'mint', 'camomile'], grams: 45 },
  { family: 'Oat bar 6 pack', flavours: ['honey', 'cocoa', 'berry'], grams: 210 },
  { family: 'Energy drink 500 ml can', flavours: ['original', 'sugar free', 'mango'], grams: 530 },
  { family: 'Bean soup 400 g tin', flavours: ['tomato', 'lentil', 'pea'], grams: 430 },
  { family: 'Sparkle water 500 ml', flavours: ['lime', 'lemon', 'plain', 'berry'], grams: 520 },
  { family: 'Choco cookies 200 g', flavours: ['dark', 'milk', 'white'], grams: 200 },
  { family: 'Trail nuts 200 g', flavours: ['salted', 'honey', 'chilli'], grams: 200 },
  { family: 'Greek yoghurt 500 g', flavours: ['plain', 'honey', 'cherry'], grams: 520 },
  { family: 'Pesto 190 g jar', flavours: ['basil', 'tomato', 'rosso'], grams: 250 },
];

/** The range no model sees in training: a brand HQ adds after the model shipped. */
const NEW_RANGE = 'Pesto 190 g jar';
/** Single products held out of training, in addition to one flavour per range. */
const HELD_OUT_SINGLES = 6;

/** The recogniser's store catalogue: the checkout suite's products, then the ranges above (SKU `range-NN-M`). */
export function recogniserCatalog(): CatalogItem[] {
  const checkout = checkoutStore({ gondolas: 2, baysPerGondola: 3, copies: 1 }).catalog.map((item) => catalogItem.parse(item));
  const ranges = STORE_RANGES.flatMap((range, r) =>
    range.flavours.map((flavour, f) => item(`range-${String(r + 1).padStart(2, '0')}-${f + 1}`, `${range.family} - ${flavour}`, range.grams, 300 + r * 10 + f)),
  );
  return [...checkout, ...ranges];
}

/**
 * The SKUs of `catalog` that training never sees: every SKU of the new range, the flavour of
 * each other range of three or more that hashes lowest, and the `HELD_OUT_SINGLES` single
 * products that hash lowest. A pure function of the catalogue (SKU and name), so the exporter,
 * the training script's data and the tests agree without passing lists around.
 */
export function heldOutSkus(catalog: readonly Pick<CatalogItem, 'sku' | 'name' | 'unitWeightG'>[]): Set<string> {
  const hash = (sku: string) => new Rng(`recogniser/held-out/${sku}`).next();
  const families = new Map<string, string[]>();
  for (const item of catalog) {
    const family = productAppearance(item).family;
    families.set(family, [...(families.get(family) ?? []), item.sku]);
  }
  const out = new Set<string>();
  const singles: string[] = [];
  for (const [family, skus] of families) {
    if (family === NEW_RANGE) skus.forEach((sku) => out.add(sku));
    else if (skus.length >= 3) out.add([...skus].sort((a, b) => hash(a) - hash(b))[0]!);
    else singles.push(...skus);
  }
  singles.sort((a, b) => hash(a) - hash(b)).slice(0, HELD_OUT_SINGLES).forEach((sku) => out.add(sku));
  return out;
}

/** Product words for training-only brands; the shape words in them pick the package (appearance.ts). */
const TRAINING_PRODUCTS: ReadonlyArray<readonly [string, number, number]> = [
  ['crisps', 60, 200],
  ['soda can', 250, 550],
  ['juice', 250, 1_500],
  ['jam', 200, 500],
  ['tea', 30, 120],
  ['cereal', 300, 750],
  ['nuts', 100, 300],
  ['pasta', 250, 1_000],
  ['honey', 250, 500],
  ['water', 330, 1_500],
  ['cookies', 120, 400],
  ['soup tin', 300, 800],
  ['snack', 40, 400],
  ['sauce', 150, 700],
  ['spread', 150, 450],
  ['dessert', 100, 600],
];
const TRAINING_FLAVOURS = [
  'lemon', 'lime', 'orange', 'cherry', 'apple', 'berry', 'mango', 'peach', 'vanilla', 'cocoa', 'mint', 'ginger', 'chilli', 'garlic', 'herb',
  'cheese', 'salted', 'sweet', 'smoky', 'plain', 'light', 'classic', 'extra', 'spicy', 'coconut', 'melon', 'grape', 'plum', 'caramel', 'nutty',
];
/** Ranges, and how many products without variants, that only training sees. */
const TRAINING_RANGES = 72;
const TRAINING_SINGLES = 24;
const TRAINING_ONLY_PREFIX = 'train-';

/**
 * Products no store sells, for training only (SKU `train-NNN`): 72 ranges of 3–6 flavours and
 * 24 single products of invented brands. Many ranges, because telling flavours apart by a thin
 * stripe is what the embedding must learn to do for ranges it has never seen.
 */
export function trainingOnlyCatalog(): CatalogItem[] {
  const rng = new Rng('recogniser/training-catalog');
  const out: CatalogItem[] = [];
  const add = (name: string, grams: number) => out.push(item(`${TRAINING_ONLY_PREFIX}${String(out.length + 1).padStart(3, '0')}`, name, grams, 500 + out.length));
  const brands = new Set<string>();
  while (brands.size < TRAINING_RANGES + TRAINING_SINGLES) brands.add(brandName(rng));
  [...brands].forEach((brand, r) => {
    const [product, lo, hi] = TRAINING_PRODUCTS[r % TRAINING_PRODUCTS.length]!;
    const family = `${brand} ${product}`;
    const grams = Math.round(rng.uniform(lo, hi));
    if (r < TRAINING_RANGES) {
      for (const flavour of rng.sample(TRAINING_FLAVOURS, rng.int(3, 6))) add(`${family} - ${flavour}`, grams);
    } else {
      add(family, grams);
    }
  });
  return out;
}

/** Whether a SKU is one of `trainingOnlyCatalog`'s. */
export function isTrainingOnly(sku: string): boolean {
  return sku.startsWith(TRAINING_ONLY_PREFIX);
}

/** An invented brand: two or three consonant–vowel syllables ("Tesuko"). */
function brandName(rng: Rng): string {
  const syllables = Array.from({ length: rng.int(2, 3) }, () => rng.pick([...'bcdfgklmnprstvz']) + rng.pick([...'aeiou'])).join('');
  return syllables[0]!.toUpperCase() + syllables.slice(1);
}

function item(sku: string, name: string, grams: number, n: number): CatalogItem {
  const data = `2${String(n).padStart(11, '0')}`;
  return catalogItem.parse({ sku, gtin: `0${data}${gtinCheckDigit(data)}`, name, unitWeightG: grams, unitWeightSigmaG: Math.max(0.5, grams / 100), priceMinor: 199 });
}
