/**
 * EAN-13 bars from a GTIN, per the EAN/UPC symbology [ISO/IEC 15420; GS1 General Specifications
 * §5.2]: 95 modules — start guard 101, six left digits in number set A or B (the pattern of A/B
 * encodes the first digit), centre guard 01010, six right digits in set C, end guard 101 —
 * between quiet zones of 11 modules on the left and 7 on the right.
 */

/** Number set A (odd parity) per digit, 7 modules, 1 = bar. Set B is A's complement reversed; set C is A's complement. */
const SET_A = ['0001101', '0011001', '0010011', '0111101', '0100011', '0110001', '0101111', '0111011', '0110111', '0001011'] as const;
const SET_B = SET_A.map((a) => [...a].reverse().map((m) => (m === '1' ? '0' : '1')).join(''));
const SET_C = SET_A.map((a) => [...a].map((m) => (m === '1' ? '0' : '1')).join(''));
/** Sets of the six left digits for each first (implied) digit, A or B. */
const LEFT_PARITY = ['AAAAAA', 'AABABB', 'AABBAB', 'AABBBA', 'ABAABB', 'ABBAAB', 'ABBBAA', 'ABABAB', 'ABABBA', 'ABBABA'] as const;

export const EAN13_MODULES = 95;
export const EAN13_QUIET_LEFT = 11;
export const EAN13_QUIET_RIGHT = 7;

/** The GS1 check digit of the digits before it (weights 3 and 1 from the right) [GS1 GenSpecs §7.9.1]. */
export function gs1CheckDigit(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    const digit = body.charCodeAt(body.length - 1 - i) - 48;
    sum += digit * (i % 2 === 0 ? 3 : 1);
  }
  return (10 - (sum % 10)) % 10;
}

/** True for a string of 8, 12, 13 or 14 digits whose last digit is its GS1 check digit. */
export function isValidGtin(gtin: string): boolean {
  if (!/^(\d{8}|\d{12}|\d{13}|\d{14})$/.test(gtin)) return false;
  return gs1CheckDigit(gtin.slice(0, -1)) === Number(gtin.at(-1));
}

/**
 * The EAN-13 of a GTIN-14: only a GTIN-14 with indicator digit 0 is a GTIN-13 (the leading 0 is
 * padding); other indicators (1–8: trade units in a case) need ITF-14, which a shelf label does
 * not carry, so undefined.
 */
export function gtin14ToEan13(gtin14: string): string | undefined {
  if (!/^\d{14}$/.test(gtin14) || gtin14[0] !== '0') return undefined;
  return gtin14.slice(1);
}

/** The 95 modules of an EAN-13 (1 = bar), without quiet zones. */
export function ean13Modules(ean13: string): Uint8Array {
  if (!/^\d{13}$/.test(ean13)) throw new RangeError(`an EAN-13 has 13 digits, got "${ean13}"`);
  if (!isValidGtin(ean13)) throw new RangeError(`"${ean13}" has a wrong check digit`);
  const digits = [...ean13].map(Number);
  const parity = LEFT_PARITY[digits[0]!]!;
  let bits = '101';
  for (let i = 1; i <= 6; i++) bits += parity[i - 1] === 'A' ? SET_A[digits[i]!]! : SET_B[digits[i]!]!;
  bits += '01010';
  for (let i = 7; i <= 12; i++) bits += SET_C[digits[i]!]!;
  bits += '101';
  return Uint8Array.from(bits, (b) => (b === '1' ? 1 : 0));
}

/** Modules that belong to the guards (drawn longer, down into the digit row). */
export function isGuardModule(index: number): boolean {
  return index < 3 || (index >= 45 && index < 50) || index >= 92;
}
