/** A product of the demo store. */
export interface DemoSku {
  sku: string;
  /** GTIN-13 in the GS1 restricted-circulation range (prefix 20), valid check digit. */
  gtin: string;
  name: string;
  /** Weight of one unit as it sits on the tray, packaging included. */
  unitGrams: number;
  priceCents: number;
  currency: 'EUR';
}

/** [GS1 General Specifications 7.9.1] check digit: weights 3,1,3,… from the rightmost data digit. */
export function gtinCheckDigit(data: string): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) {
    const digit = Number(data[data.length - 1 - i]);
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** A GTIN-13 for in-store numbering: prefix 200 (restricted circulation) + 9-digit item + check digit. */
function demoGtin(item: number): string {
  const data = `200${String(item).padStart(9, '0')}`;
  return `${data}${gtinCheckDigit(data)}`;
}

const products: ReadonlyArray<Omit<DemoSku, 'gtin' | 'currency'>> = [
  // shelf 1: pantry
  { sku: 'pasta-spaghetti-500', name: 'Spaghetti 500 g', unitGrams: 512, priceCents: 129 },
  { sku: 'rice-basmati-500', name: 'Basmati rice 500 g', unitGrams: 508, priceCents: 249 },
  { sku: 'chickpeas-can-400', name: 'Chickpeas 400 g can', unitGrams: 455, priceCents: 99 },
  { sku: 'passata-bottle-500', name: 'Tomato passata 500 g', unitGrams: 720, priceCents: 119 },
  // shelf 2: breakfast
  { sku: 'oats-500', name: 'Oat flakes 500 g', unitGrams: 521, priceCents: 179 },
  { sku: 'muesli-375', name: 'Fruit muesli 375 g', unitGrams: 396, priceCents: 349 },
  { sku: 'honey-jar-250', name: 'Flower honey 250 g jar', unitGrams: 368, priceCents: 499 },
  { sku: 'espresso-beans-250', name: 'Espresso beans 250 g', unitGrams: 263, priceCents: 599 },
  // shelf 3: snacks and drinks
  { sku: 'chocolate-dark-100', name: 'Dark chocolate 70% 100 g', unitGrams: 104, priceCents: 199 },
  { sku: 'crisps-salted-150', name: 'Salted crisps 150 g', unitGrams: 158, priceCents: 229 },
  { sku: 'water-sparkling-750', name: 'Sparkling water 0.75 l glass', unitGrams: 880, priceCents: 89 },
  { sku: 'peanut-butter-340', name: 'Peanut butter 340 g', unitGrams: 412, priceCents: 329 },
];

/** Twelve SKUs, four per shelf, in shelf order. */
export const demoCatalog: readonly DemoSku[] = Object.freeze(
  products.map((product, index) => Object.freeze({ ...product, gtin: demoGtin(index + 1), currency: 'EUR' as const })),
);
