import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StoreModelInput } from '@storeedge/device-drivers';
import type { ScenarioVisionInput } from '../scenario/scenario-file.ts';
import type { LoadCellNoiseOptions } from '../signal/noise-options.ts';
import type { CheckoutActivityInput, CheckoutMix } from './checkout-options.ts';

/**
 * The checkout scenario suite (simulators/scenarios/checkout-*.json, research/checkout.md
 * §5.2): one file per hard case, all in the same small store, plus two crowded runs in a store
 * sized for 50 shoppers and a stress run of those 50 in a store a third of that size. The files are generated from here so they stay consistent; a test checks that the
 * committed files equal what this generates. Regenerate with
 * `npx tsx simulators/src/checkout/suite.ts`.
 */

/** A scenario file as JSON (parsed by scenario-file.ts). */
export interface CheckoutScenarioJson {
  scenario: string;
  description: string;
  seed: number;
  store: StoreModelInput;
  shelves: { tareG: number; loadCells: LoadCellNoiseOptions };
  checkout: CheckoutActivityInput;
  /** Shelf cameras (scenario-file.ts `vision`), only in the scenarios that have them. */
  vision?: ScenarioVisionInput;
}

/**
 * Load cells sampled at 60 Hz like the AiFi store's plates, the data these hard cases come from
 * (research/checkout.md §5.3: "simulated at 60 Hz to match AiFi"; a 10 SPS HX711's 400 ms settling
 * alone would use most of the 1.5 s pick → cart budget), σ 5 g; bursts and cross-talk at the
 * research defaults.
 */
const LOAD_CELLS: LoadCellNoiseOptions = {
  sampleRateHz: 60,
  noiseSigmaG: 5,
  bursts: { perMinute: 0.5, minMs: 200, maxMs: 2_000, minAmplitudeG: 10, maxAmplitudeG: 50 },
  crossTalk: { min: 0.05, max: 0.4, permanentMax: 0.02 },
};

const PRODUCTS = [
  'Mints tin', 'Chewing gum', 'Tea bags 20', 'Granola bar', 'Chocolate bar', 'Crackers', 'Salted peanuts', 'Instant noodles',
  'Cookies', 'Dried apricots', 'Crisps 150 g', 'Coffee pods', 'Rice cakes', 'Dark chocolate', 'Tuna can', 'Muesli 375 g',
  'Cola 330 ml can', 'Pasta 500 g', 'Tomato passata', 'Peanut butter', 'Honey jar', 'Jam jar', 'Oat drink 1 l', 'Orange juice 1 l',
  'Rice 1 kg', 'Olive oil 500 ml', 'Laundry pods', 'Dish soap', 'Shampoo', 'Shower gel', 'Toothpaste', 'Hand soap',
  'Ketchup', 'Mayonnaise', 'Mustard', 'Pickles jar', 'Chickpeas can', 'Sweetcorn can', 'Coconut milk', 'Soup carton',
  'Cereal 500 g', 'Flour 1 kg', 'Sugar 1 kg', 'Water 1.5 l', 'Sparkling water 1 l', 'Iced tea 1 l', 'Energy drink', 'Sports drink',
  'Kitchen roll', 'Dishwasher tabs',
];

/** Same-weight twins (§5.2 "same-weight SKUs with different colours"): base product index, twin name, grams added. */
const TWINS: ReadonlyArray<[number, string, number]> = [
  [16, 'Lemonade 330 ml can', 3],
  [6, 'Cashews', -2],
  [23, 'Apple juice 1 l', 4],
  [30, 'Mouthwash', -3],
];

const GS1_PREFIX = '02';

interface Product {
  sku: string;
  name: string;
  grams: number;
}

/** 50 products at least 14 g apart, and four twins within 5 g of one of them (so ≥ 10 g from every other SKU). */
function products(): Product[] {
  const out: Product[] = [];
  let grams = 40;
  for (const name of PRODUCTS) {
    out.push({ sku: `sku-${String(out.length + 1).padStart(2, '0')}`, name, grams: Math.round(grams * 10) / 10 });
    grams = Math.max(grams + 14, grams * 1.05);
  }
  for (const [base, name, delta] of TWINS) out.push({ sku: `sku-${String(out.length + 1).padStart(2, '0')}`, name, grams: out[base]!.grams + delta });
  return out;
}

function gtin(n: number): string {
  const body = `${GS1_PREFIX}${String(n).padStart(11, '0')}`;
  let sum = 0;
  // [GS1 General Specifications §7.9.1] weights 3, 1, 3, … from the right, check digit excluded.
  for (let i = body.length - 1, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += Number(body[i]) * w;
  return `${body}${(10 - (sum % 10)) % 10}`;
}

/**
 * A store of back-to-back gondola pairs along x (2.2 m aisles), 3 shelves of 3 single-SKU trays
 * per 1 m bay, one shelf controller per shelf; the entry and exit gates at the front.
 * `copies` puts every SKU on that many trays (on different gondolas). `cameras`: one shelf
 * camera per bay, `cam-{bay id}` (device-drivers `bayCamera`'s default id), else none.
 */
export function checkoutStore(options: { gondolas: number; baysPerGondola: number; copies: number; cameras?: boolean }): StoreModelInput {
  const catalog = products();
  const traysPerGondola = options.baysPerGondola * 9;
  const total = options.gondolas * traysPerGondola;
  if (total !== catalog.length * options.copies) throw new Error(`checkout store: ${total} trays for ${catalog.length} SKUs × ${options.copies}`);
  // Tray k holds SKU order[k mod 54]: 17 is coprime to 54, so a shelf never holds one SKU twice.
  const order = catalog.map((_, k) => catalog[(k * 17) % catalog.length]!);
  // Put the first twin pair side by side on one shelf (same weight, and cross-talk between them).
  const a = order.findIndex((p) => p.name === TWINS[0]![1]);
  const b = order.findIndex((p) => p.name === PRODUCTS[TWINS[0]![0]]);
  const beside = a % 3 === 2 ? a - 1 : a + 1;
  [order[b], order[beside]] = [order[beside]!, order[b]!];

  const gondolas: NonNullable<StoreModelInput['gondolas']> = [];
  for (let g = 0; g < options.gondolas; g++) {
    const pair = Math.floor(g / 2);
    const front = g % 2 === 0;
    const gid = `g${g + 1}`;
    gondolas.push({
      id: `gondola-${g + 1}`,
      zone: 'floor',
      placement: { x: 3, y: front ? 2.5 + 3 * pair : 3.3 + 3 * pair, axis: 'x', side: front ? -1 : 1, bayWidthM: 1, depthM: 0.4 },
      bays: Array.from({ length: options.baysPerGondola }, (_, b) => ({
        id: `bay-${gid}b${b + 1}`,
        cameras: options.cameras ? [`cam-bay-${gid}b${b + 1}`] : [],
        shelves: Array.from({ length: 3 }, (_, s) => ({
          id: `shelf-${gid}b${b + 1}s${s + 1}`,
          trays: Array.from({ length: 3 }, (_, t) => {
            const k = g * traysPerGondola + b * 9 + s * 3 + t;
            const product = order[k % order.length]!;
            const capacity = Math.max(6, Math.min(30, Math.round(3_000 / product.grams)));
            return {
              id: `tray-${gid}b${b + 1}s${s + 1}t${t + 1}`,
              device: `shelf-${gid}b${b + 1}s${s + 1}`,
              channel: t,
              facings: [{ sku: product.sku, capacity, minLevel: Math.floor(capacity / 4), initial: capacity }],
            };
          }),
        })),
      })),
    });
  }
  return {
    catalog: catalog.map((p, i) => ({
      sku: p.sku,
      gtin: gtin(i + 1),
      name: p.name,
      unitWeightG: p.grams,
      unitWeightSigmaG: Math.max(0.5, Math.round(p.grams) / 100),
      priceMinor: 79 + ((i * 53) % 620),
      currency: 'EUR',
    })),
    zones: [{ id: 'floor', name: 'Sales floor' }],
    gondolas,
    gates: [
      { device: 'gate-in', lane: 'entry', x: 1, y: 0.8, radiusM: 1 },
      { device: 'gate-out', lane: 'exit', x: 3 + options.baysPerGondola + 2.5, y: 0.8, radiusM: 1 },
    ],
  };
}

/**
 * The wrong-tray cases "followed by a second shopper buying the misplaced item" (research/checkout.md §5.2): of the picks at
 * a tray where a misplaced unit lies, this share take that unit. The research gives no rate; 0.3 makes it a few times a run.
 */
const MISPLACED_PICK_SHARE = 0.3;

const NO_MIX: CheckoutMix = { pick: 1, putBack: 0, wrongTray: 0, longHold: 0, handOff: 0, sameBay: 0, sameTraySameTime: 0, fourClose: 0 };

/** The crowded runs: 50 persons at once, every behaviour at the default mix, staff restocking. */
const CROWD: CheckoutActivityInput = {
  shoppers: { concurrent: 50, durationMs: 7_200_000 },
  actionsPerPerson: [4, 12],
  dwellMs: [3_000, 15_000],
  restocks: { belowShare: 0.3 },
};

/**
 * The crowded store: 50 shoppers need about 280 m² of sales floor at the mercantile occupant load
 * of building codes (IBC: 60 sq ft, 5.6 m², gross per person); checkout-free stores of the
 * research are 1 900–4 000 sq ft (177–372 m², research/checkout.md §3). Six back-to-back pairs of
 * 5 m gondolas (60 bays, 540 trays, every SKU on 10 of them) on about 11 m × 20 m: 4.4 m² and
 * 1.2 m of shelf face per shopper, still more than two others within 1 m of most picks.
 */
const CROWDED_STORE = { gondolas: 12, baysPerGondola: 5, copies: 10 };
/** The crowded store before 2026-12-07: 18 bays on about 10 m × 10 m, 2 m² per shopper of the 50. */
const OVER_CAPACITY_STORE = { gondolas: 6, baysPerGondola: 3, copies: 3 };

interface Case {
  name: string;
  description: string;
  checkout: CheckoutActivityInput;
  crowded?: boolean;
  /** The crowd in the small crowded store (`overCapacityStore`) instead of `crowdedStore`. */
  overCapacity?: boolean;
  /** Shelf cameras on (a camera per bay, `vision.enabled`; knobs at their defaults). */
  vision?: boolean;
}

const CASES: readonly Case[] = [
  {
    name: 'single-shopper',
    description: 'One shopper in the store at a time (15 visits): single picks on several gondolas, now and then a put-back to the original tray.',
    checkout: { shoppers: { visits: 15, concurrent: 1, durationMs: 720_000 }, party: { groupShare: 0 }, actionsPerPerson: [1, 4], mix: { ...NO_MIX, putBack: 0.1 } },
  },
  {
    name: 'put-back',
    description: '24 visits, about two in the store at once; many units go back to the tray they came from (sometimes two at once).',
    checkout: { shoppers: { visits: 24, arrivalPerMin: 4, durationMs: 540_000 }, party: { groupShare: 0 }, mix: { ...NO_MIX, putBack: 0.6 } },
  },
  {
    name: 'wrong-tray-put-back',
    description:
      '24 visits; units put back on a tray of another SKU near by (misplacements the shelf must keep track of), plus put-backs to the right tray; a later shopper at such a tray sometimes buys the misplaced unit.',
    checkout: {
      shoppers: { visits: 24, arrivalPerMin: 4, durationMs: 540_000 },
      party: { groupShare: 0 },
      mix: { ...NO_MIX, putBack: 0.2, wrongTray: 0.5 },
      sameWeightShare: 0,
      misplacedPickShare: MISPLACED_PICK_SHARE,
    },
    vision: true,
  },
  {
    name: 'same-weight-swap',
    description:
      '24 visits; shoppers favour the four SKUs that have a twin within 5 g and put them on the twin\'s tray (one pair sits side by side on one shelf), and a later shopper at that tray sometimes buys the misplaced twin: weight alone cannot tell.',
    checkout: {
      shoppers: { visits: 24, arrivalPerMin: 4, durationMs: 540_000 },
      party: { groupShare: 0 },
      mix: { ...NO_MIX, wrongTray: 0.6 },
      sameWeightShare: 1,
      sameWeightPickShare: 0.7,
      misplacedPickShare: MISPLACED_PICK_SHARE,
    },
    vision: true,
  },
  {
    name: 'multi-unit',
    description: '24 visits; most picks take 2–4 units at once, and put-backs return one or several.',
    checkout: { shoppers: { visits: 24, arrivalPerMin: 4, durationMs: 540_000 }, party: { groupShare: 0 }, mix: { ...NO_MIX, putBack: 0.2 }, maxUnits: 4, multiUnitShare: 0.6 },
  },
  {
    name: 'long-hold',
    description: '20 visits; many picks start with the hand resting on the tray for 5–30 s (leaning or holding) before the lift.',
    checkout: { shoppers: { visits: 20, arrivalPerMin: 3.5, durationMs: 540_000 }, party: { groupShare: 0 }, mix: { ...NO_MIX, longHold: 0.6 } },
  },
  {
    name: 'two-shoppers-same-bay',
    description: '30 visits, six persons in the store: shoppers of two visits pick side by side at one bay, or one unit each from one tray within 0.5 s.',
    checkout: { shoppers: { visits: 30, concurrent: 6, durationMs: 600_000 }, party: { groupShare: 0 }, mix: { ...NO_MIX, sameBay: 0.5, sameTraySameTime: 0.3 } },
  },
  {
    name: 'hand-off',
    description: '30 visits, six persons in the store: a shopper hands a picked unit to a shopper of another visit standing 0.6 m away; half the receivers put it back. The picker pays for what is not put back.',
    checkout: { shoppers: { visits: 30, concurrent: 6, durationMs: 600_000 }, party: { groupShare: 0 }, mix: { ...NO_MIX, handOff: 0.5 }, handOffReturnShare: 0.5 },
  },
  {
    name: 'four-within-1m',
    description: '32 visits, eight persons in the store: four shoppers of four visits stand shoulder to shoulder (0.45 m apart) in front of one stretch of gondola and each pick from it within 3 s.',
    checkout: { shoppers: { visits: 32, concurrent: 8, durationMs: 600_000 }, party: { groupShare: 0 }, mix: { ...NO_MIX, fourClose: 0.4 } },
  },
  {
    name: 'group-entry',
    description: '20 visits, 60 % of them groups of 2–4 entering on one token and sharing one cart; members shop on their own.',
    checkout: { shoppers: { visits: 20, arrivalPerMin: 3.5, durationMs: 540_000 }, party: { groupShare: 0.6, sizes: [2, 4] }, mix: { ...NO_MIX, putBack: 0.15 } },
  },
  {
    name: 'crowded',
    description: 'Two hours with 50 persons in a 540-tray store of about 220 m² (60 bays): every behaviour at the default mix, groups, staff restocks announced through the API.',
    crowded: true,
    checkout: CROWD,
  },
  {
    name: 'crowded-short',
    description: 'Ten minutes with 50 persons in a 540-tray store of about 220 m² (60 bays): every behaviour at the default mix, groups, staff restocks announced through the API.',
    crowded: true,
    checkout: { ...CROWD, shoppers: { concurrent: 50, durationMs: 600_000 } },
  },
  {
    name: 'crowded-short-cameras',
    description:
      'The crowded-short store and shoppers with a shelf camera on every bay (60): the weight-only runs\' reviews are mostly look-alikes and units handed over, which a camera tells apart. The simulator renders every frame (about 95 000 for seed 1): about an hour of wall time on two cores.',
    crowded: true,
    vision: true,
    checkout: { ...CROWD, shoppers: { concurrent: 50, durationMs: 600_000 } },
  },
  {
    name: 'crush-short',
    description:
      'A stress run, outside the suite\'s targets: ten minutes with 50 persons in a 162-tray store of about 100 m² (18 bays), about three times the occupant load a building code allows (the crowded store until 2026-12-07).',
    crowded: true,
    overCapacity: true,
    checkout: { ...CROWD, shoppers: { concurrent: 50, durationMs: 600_000 } },
  },
];

/** Every scenario of the suite, by file name (checkout-<case>.json). */
export function checkoutSuite(): Map<string, CheckoutScenarioJson> {
  const small = checkoutStore({ gondolas: 3, baysPerGondola: 2, copies: 1 });
  const smallWithCameras = checkoutStore({ gondolas: 3, baysPerGondola: 2, copies: 1, cameras: true });
  const crowded = checkoutStore(CROWDED_STORE);
  const crowdedWithCameras = checkoutStore({ ...CROWDED_STORE, cameras: true });
  const overCapacity = checkoutStore(OVER_CAPACITY_STORE);
  return new Map(
    CASES.map((c) => [
      `checkout-${c.name}.json`,
      {
        scenario: `checkout-${c.name}`,
        description: c.description,
        seed: 7,
        store: c.overCapacity ? overCapacity : c.crowded ? (c.vision ? crowdedWithCameras : crowded) : c.vision ? smallWithCameras : small,
        shelves: { tareG: 350, loadCells: LOAD_CELLS },
        checkout: c.checkout,
        ...(c.vision ? { vision: { enabled: true } } : {}),
      },
    ]),
  );
}

/** The file text a scenario is written as. */
export function scenarioJsonText(json: CheckoutScenarioJson): string {
  return `${JSON.stringify(json, null, 1)}\n`;
}

/** Writes the suite into a directory (default simulators/scenarios). */
export function writeCheckoutSuite(dir = resolve(import.meta.dirname, '../../scenarios')): string[] {
  const written: string[] = [];
  for (const [file, json] of checkoutSuite()) {
    writeFileSync(resolve(dir, file), scenarioJsonText(json));
    written.push(file);
  }
  return written;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const file of writeCheckoutSuite()) console.log(file);
}
