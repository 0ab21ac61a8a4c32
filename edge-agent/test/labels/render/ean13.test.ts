import { describe, expect, it } from 'vitest';
import { ean13Modules, gs1CheckDigit, gtin14ToEan13, isValidGtin } from '../../../src/labels/render/index.ts';
import { readEan13Row } from './fixtures.ts';

const rowOf = (modules: Uint8Array, module: number) => [false, ...[...modules].flatMap((m) => Array<boolean>(module).fill(m === 1)), false];

describe('EAN-13', () => {
  it('computes GS1 check digits and validates GTINs', () => {
    expect(gs1CheckDigit('590123412345')).toBe(7);
    expect(gs1CheckDigit('0400604001191')).toBe(0);
    expect(isValidGtin('05901234123457')).toBe(true);
    expect(isValidGtin('05901234123458')).toBe(false);
    expect(isValidGtin('5901234123457')).toBe(true);
    expect(isValidGtin('59012341234x')).toBe(false);
  });

  it('turns a GTIN-14 with indicator 0 into its EAN-13, and no other', () => {
    expect(gtin14ToEan13('05901234123457')).toBe('5901234123457');
    expect(gtin14ToEan13('15901234123454')).toBeUndefined();
  });

  it('draws the published example 5901234123457 module for module', () => {
    // Start guard; 9 0 1 2 3 4 in sets A B B A A B (the pattern for first digit 5); centre guard; 1 2 3 4 5 7 in set C; end guard.
    const expected =
      '101' + '0001011' + '0100111' + '0110011' + '0010011' + '0111101' + '0011101' + '01010' + '1100110' + '1101100' + '1000010' + '1011100' + '1001110' + '1000100' + '101';
    expect([...ean13Modules('5901234123457')].join('')).toBe(expected);
  });

  it('decodes its own bars back to the digits for every first digit, at 1 to 3 px a module', () => {
    for (let first = 0; first <= 9; first++) {
      const body = `${first}${String(123456789012 + first * 7919).slice(0, 11)}`;
      const ean = body + gs1CheckDigit(body);
      for (const module of [1, 2, 3]) expect(readEan13Row(rowOf(ean13Modules(ean), module))).toBe(ean);
    }
  });

  it('refuses a wrong check digit', () => {
    expect(() => ean13Modules('5901234123458')).toThrow(/check digit/);
  });
});
