import type { LabelContent } from '../../../src/labels/render/index.ts';

/** Test content: every part a label can show (promo banner, was and member price, unit price, EAN-13, QR). */
export const fullContent: LabelContent = {
  sku: 'SKU-10042',
  name: 'Bio-Vollmilch 3,5% Fett, frisch 1 L',
  priceMinor: 149,
  currency: 'EUR',
  wasPriceMinor: 199,
  promoText: '25% OFF',
  unitPriceText: '€1.49 / l',
  gtin: '04006040011910',
  qrUrl: 'https://shop.example.com/p/10042',
  memberPriceMinor: 129,
};

/** A Chinese product name (GB2312 level 1 and 2 characters, full-width forms) on a CNY price. */
export const chineseContent: LabelContent = {
  sku: 'SKU-20001',
  name: '蒙牛纯牛奶 250毫升×24盒 整箱装（鲜）',
  priceMinor: 6990,
  currency: 'CNY',
  unitPriceText: '¥11.65 / 升',
  promoText: '特价 限时优惠',
  gtin: '06923644272159',
};

/** A Latin name far too long for any label. */
export const longName =
  'Extra-virgin Mediterranean Cold-pressed Organic Olive Oil from Single-estate Koroneiki Olives, Unfiltered, Harvest of the Year, in a Dark Glass Bottle';

/**
 * An independent EAN-13 reader for the tests: the number sets written out from the symbology
 * (not shared with the encoder), reading one row of a label's pixels (true = dark).
 */
const A = ['0001101', '0011001', '0010011', '0111101', '0100011', '0110001', '0101111', '0111011', '0110111', '0001011'];
const B = ['0100111', '0110011', '0011011', '0100001', '0011101', '0111001', '0000101', '0010001', '0001001', '0010111'];
const C = ['1110010', '1100110', '1101100', '1000010', '1011100', '1001110', '1010000', '1000100', '1001000', '1110100'];
const FIRST = ['AAAAAA', 'AABABB', 'AABBAB', 'AABBBA', 'ABAABB', 'ABBAAB', 'ABBBAA', 'ABABAB', 'ABABBA', 'ABBABA'];

/** Decodes an EAN-13 from a row of dark/light pixels: finds the first bar, measures the module from the start guard. */
export function readEan13Row(row: readonly boolean[]): string {
  const start = row.indexOf(true);
  if (start < 0) throw new Error('no bar in the row');
  let module = 0;
  while (row[start + module]) module++;
  const bits = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => {
      const x = start + (from + i) * module;
      // Sample the middle of each module; every pixel of the module must agree.
      const pixels = row.slice(x, x + module);
      if (pixels.some((p) => p !== pixels[0])) throw new Error(`module ${from + i} is not uniform (bars are not whole modules)`);
      return pixels[0] ? '1' : '0';
    }).join('');
  if (bits(0, 3) !== '101') throw new Error(`no start guard: ${bits(0, 3)}`);
  if (bits(45, 5) !== '01010') throw new Error(`no centre guard: ${bits(45, 5)}`);
  if (bits(92, 3) !== '101') throw new Error(`no end guard: ${bits(92, 3)}`);
  let parity = '';
  let digits = '';
  for (let i = 0; i < 6; i++) {
    const code = bits(3 + i * 7, 7);
    const a = A.indexOf(code);
    const b = B.indexOf(code);
    if (a < 0 && b < 0) throw new Error(`left digit ${i}: ${code} is in neither set A nor B`);
    parity += a >= 0 ? 'A' : 'B';
    digits += String(a >= 0 ? a : b);
  }
  for (let i = 0; i < 6; i++) {
    const code = bits(50 + i * 7, 7);
    const c = C.indexOf(code);
    if (c < 0) throw new Error(`right digit ${i}: ${code} is not in set C`);
    digits += String(c);
  }
  const first = FIRST.indexOf(parity);
  if (first < 0) throw new Error(`parity pattern ${parity} encodes no first digit`);
  const all = String(first) + digits;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(all[i]) * (i % 2 === 0 ? 1 : 3);
  if ((10 - (sum % 10)) % 10 !== Number(all[12])) throw new Error(`check digit of ${all} is wrong`);
  return all;
}
