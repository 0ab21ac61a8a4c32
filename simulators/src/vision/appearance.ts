import { z } from 'zod';
import type { CatalogItem } from '@storeedge/device-drivers';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';

/**
 * How each product looks to a shelf camera, derived only from catalogue data so a SKU the
 * models never saw in training still renders, and the same SKU looks the same in every
 * scenario and seed. A scenario may pin any part of it (`appearanceOverride`).
 *
 * Variant families: a name written "Family - flavour" (hyphen, en or em dash with spaces
 * around it) puts the SKU in the family; every SKU of a family shares shape, size, colours
 * and label text and differs only in a small stripe colour and the flavour word under the
 * band, which is what makes flavours of one brand hard to tell apart (research/checkout.md
 * §5.4: confusions concentrate among "same brand, different flavour"). `catalogAppearance`
 * spreads a family's stripe hues round the colour wheel, as a brand's designers would.
 */

export const packageShapes = ['box', 'bottle', 'can', 'bag', 'jar'] as const;
export type PackageShape = (typeof packageShapes)[number];

/** One product's look: its package and what is printed on the front. Colours are #rrggbb. */
export interface ProductAppearance {
  sku: string;
  /** SKUs with the same family share everything below except `stripeColour` and `flavour`. */
  family: string;
  shape: PackageShape;
  /** Size of one unit as it stands on a tray, metres: across, up, front to back. */
  widthM: number;
  heightM: number;
  depthM: number;
  bodyColour: string;
  /** The brand band across the front, and the label text printed on it (the family's short name). */
  bandColour: string;
  label: string;
  /** Lid or cap (bottles, jars); cans show a metal top whatever this is. */
  capColour: string;
  /** The variant marks: a narrow stripe under the band and the flavour word under it ('' for none). */
  stripeColour: string;
  flavour: string;
}

const colour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'colours are written #rrggbb');
const size = z.number().positive().max(1);

/** What a scenario may pin for one SKU (`vision.appearance` by SKU); the rest is derived. */
export const appearanceOverride = z.strictObject({
  family: z.string().min(1).max(200).optional(),
  flavour: z.string().max(40).optional(),
  label: z.string().min(1).max(40).optional(),
  shape: z.enum(packageShapes).optional(),
  widthM: size.optional(),
  heightM: size.optional(),
  depthM: size.optional(),
  bodyColour: colour.optional(),
  bandColour: colour.optional(),
  capColour: colour.optional(),
  stripeColour: colour.optional(),
});

export type AppearanceOverride = z.infer<typeof appearanceOverride>;

/** "Family - flavour": the separator is a hyphen or dash with spaces around it. */
const VARIANT_SEPARATOR = /\s+[-–—]\s+/;
/** Longest label text; longer short names are cut at a word boundary. */
const LABEL_MAX_CHARS = 14;
/** Words left out of the label: sizes, units and package words. */
const NOT_LABEL_WORDS = /^(\d.*|.*\d.*|g|kg|ml|cl|l|%|can|tin|jar|bottle|glass|bag|box|pack|carton)$/i;

/** Shape from words in the family name, first match wins; a name with none gets a shape from its hash. */
const shapeWords: ReadonlyArray<readonly [PackageShape, RegExp]> = [
  ['can', /\b(can|tin)\b/],
  ['jar', /\b(jar|honey|jam|pickles|mustard|mayonnaise|peanut butter)\b/],
  ['bottle', /\b(bottle|water|juice|oil|drink|lemonade|shampoo|gel|mouthwash|ketchup|soap|\d+(?:[.,]\d+)?\s?(?:ml|cl|l))\b/],
  ['bag', /\b(bag|crisps|chips|nuts|peanuts|cashews|apricots|sweets|flour|sugar|rice)\b/],
  ['box', /\b(box|pack|carton|cereal|muesli|tea|pasta|spaghetti|crackers|cookies|tabs|pods)\b/],
];

/**
 * Size of each shape at a reference unit weight; other weights scale it by the cube root of
 * the weight ratio (volume ∝ weight), in steps of `SIZE_STEP` so near weights share a size.
 */
const shapeSizes: Readonly<Record<PackageShape, { refG: number; widthM: number; heightM: number; depthM: number }>> = {
  box: { refG: 500, widthM: 0.14, heightM: 0.2, depthM: 0.06 },
  bottle: { refG: 1_000, widthM: 0.08, heightM: 0.27, depthM: 0.08 },
  can: { refG: 400, widthM: 0.075, heightM: 0.11, depthM: 0.075 },
  bag: { refG: 150, widthM: 0.16, heightM: 0.22, depthM: 0.06 },
  jar: { refG: 400, widthM: 0.085, heightM: 0.11, depthM: 0.085 },
};
const SIZE_STEP = 0.1;
const MIN_SCALE = 0.5;
const MAX_SCALE = 1.3;
/** Units stay lower than the 0.4 m default gap between shelves. */
const MAX_HEIGHT_M = 0.3;

const capColours = ['#303030', '#ececec', '#c9a23a'] as const;

/** The look of one catalogue item: derived from its SKU, name and unit weight, with `override` on top. */
export function productAppearance(item: Pick<CatalogItem, 'sku' | 'name' | 'unitWeightG'>, override: AppearanceOverride = {}): ProductAppearance {
  const [familyName, flavourWord] = splitVariant(item.name);
  const family = override.family ?? familyName;
  // Family traits come from the family alone; the stripe from the SKU and its full name.
  const traits = new Rng(`appearance/family/${family}`);
  const shape = override.shape ?? shapeFromWords(family) ?? packageShapes[traits.int(0, packageShapes.length - 1)]!;
  const bodyHue = traits.uniform(0, 360);
  const bodyLight = traits.uniform(0.3, 0.62);
  const bodyColour = hslToHex(bodyHue, traits.uniform(0.45, 0.9), bodyLight);
  // The band sits opposite the body on the colour wheel and on the other side of mid-grey, so it reads at a distance.
  const bandColour = hslToHex(bodyHue + traits.uniform(120, 240), traits.uniform(0.6, 0.9), bodyLight < 0.46 ? traits.uniform(0.72, 0.88) : traits.uniform(0.14, 0.3));
  const capColour = capColours[traits.int(0, capColours.length - 1)]!;
  const variant = new Rng(`appearance/variant/${item.sku}/${item.name}`);
  const stripeColour = hslToHex(variant.uniform(0, 360), variant.uniform(0.7, 1), variant.uniform(0.4, 0.6));

  const base = shapeSizes[shape];
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Math.round(Math.cbrt(item.unitWeightG / base.refG) / SIZE_STEP) * SIZE_STEP));
  return {
    sku: item.sku,
    family,
    shape,
    widthM: override.widthM ?? millimetres(base.widthM * scale),
    heightM: override.heightM ?? millimetres(Math.min(MAX_HEIGHT_M, base.heightM * scale)),
    depthM: override.depthM ?? millimetres(base.depthM * scale),
    bodyColour: override.bodyColour ?? bodyColour,
    bandColour: override.bandColour ?? bandColour,
    label: override.label ?? shortName(family),
    capColour: override.capColour ?? capColour,
    stripeColour: override.stripeColour ?? stripeColour,
    flavour: override.flavour ?? flavourWord,
  };
}

/** Every catalogue item's look, by SKU; an override for a SKU that is not in the catalogue is refused (a typo would otherwise do nothing). */
export function catalogAppearance(
  catalog: ReadonlyArray<Pick<CatalogItem, 'sku' | 'name' | 'unitWeightG'>>,
  overrides: Readonly<Record<string, AppearanceOverride>> = {},
): Map<string, ProductAppearance> {
  const out = new Map(catalog.map((item) => [item.sku, productAppearance(item, overrides[item.sku])]));
  for (const sku of Object.keys(overrides)) {
    if (!out.has(sku)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`vision.appearance: SKU "${sku}" is not in the catalog`);
  }
  spreadStripes(catalog, out, overrides);
  return out;
}

/**
 * Gives the flavours of each family stripe hues spread round the colour wheel: a brand never
 * prints two flavours in one colour, but hues drawn independently per SKU did (two of four
 * "Fizz soda" flavours came out the same orange, and no camera could tell them apart by more
 * than a flavour word a few pixels tall). Flavour `i` of `n` (in an order drawn from the SKUs)
 * gets the family's start hue + i·360/n, ± a sixth of that step; saturation and lightness stay
 * the SKU's own. A stripe a scenario pins is left as it is. Adding a flavour to a family moves
 * the others' hues: fine for a simulator, whose catalogue is fixed for a run.
 */
function spreadStripes(
  catalog: ReadonlyArray<Pick<CatalogItem, 'sku' | 'name' | 'unitWeightG'>>,
  looks: Map<string, ProductAppearance>,
  overrides: Readonly<Record<string, AppearanceOverride>>,
): void {
  const families = new Map<string, string[]>();
  for (const item of catalog) {
    const look = looks.get(item.sku)!;
    if (look.flavour === '' || overrides[item.sku]?.stripeColour !== undefined) continue;
    families.set(look.family, [...(families.get(look.family) ?? []), `${item.sku}\u0000${item.name}`]);
  }
  for (const [family, members] of families) {
    if (members.length < 2) continue;
    const order = new Map(members.map((m) => [m, new Rng(`appearance/stripe-order/${m}`).next()]));
    const sorted = [...members].sort((a, b) => order.get(a)! - order.get(b)!);
    const step = 360 / sorted.length;
    const start = new Rng(`appearance/stripe-start/${family}`).uniform(0, 360);
    sorted.forEach((member, i) => {
      const [sku, name] = member.split('\u0000') as [string, string];
      const variant = new Rng(`appearance/variant/${sku}/${name}`);
      variant.uniform(0, 360); // the hue productAppearance drew alone
      const [saturation, lightness] = [variant.uniform(0.7, 1), variant.uniform(0.4, 0.6)];
      const hue = start + i * step + variant.uniform(-step / 6, step / 6);
      looks.set(sku, { ...looks.get(sku)!, stripeColour: hslToHex(hue, saturation, lightness) });
    });
  }
}

/** "Crispo crisps - paprika" → ["Crispo crisps", "paprika"]; a name without the separator is its own family with no flavour. */
function splitVariant(name: string): [string, string] {
  const match = VARIANT_SEPARATOR.exec(name);
  if (match === null) return [name.trim(), ''];
  return [name.slice(0, match.index).trim(), name.slice(match.index + match[0].length).trim()];
}

function shapeFromWords(family: string): PackageShape | undefined {
  const lower = family.toLowerCase();
  return shapeWords.find(([, words]) => words.test(lower))?.[0];
}

/** The family name without sizes, units and package words, cut to LABEL_MAX_CHARS at a word boundary. */
function shortName(family: string): string {
  const words = family.split(/\s+/).filter((w) => w !== '' && !NOT_LABEL_WORDS.test(w));
  if (words.length === 0) return family.slice(0, LABEL_MAX_CHARS);
  let label = words[0]!.slice(0, LABEL_MAX_CHARS);
  for (const word of words.slice(1)) {
    if (label.length + 1 + word.length > LABEL_MAX_CHARS) break;
    label += ` ${word}`;
  }
  return label;
}

function millimetres(metres: number): number {
  return Math.round(metres * 1_000) / 1_000;
}

/** HSL (hue in degrees, any value; saturation and lightness in [0, 1]) to #rrggbb. */
export function hslToHex(hue: number, saturation: number, lightness: number): string {
  const h = (((hue % 360) + 360) % 360) / 60;
  const chroma = (1 - Math.abs(2 * lightness - 1)) * saturation;
  const x = chroma * (1 - Math.abs((h % 2) - 1));
  const [r, g, b] = h < 1 ? [chroma, x, 0] : h < 2 ? [x, chroma, 0] : h < 3 ? [0, chroma, x] : h < 4 ? [0, x, chroma] : h < 5 ? [x, 0, chroma] : [chroma, 0, x];
  const m = lightness - chroma / 2;
  return `#${[r, g, b].map((c) => Math.round((c + m) * 255).toString(16).padStart(2, '0')).join('')}`;
}
