import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from '../../src/ledger/canonical.ts';

describe('canonicalJson', () => {
  it('sorts object keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { y: [3, { d: 1, c: 2 }], x: 'é' }, '10': true, '9': null })).toBe(
      '{"10":true,"9":null,"a":{"x":"é","y":[3,{"c":2,"d":1}]},"b":1}',
    );
  });

  it('gives the same text for the same content built in any key order', () => {
    const one: Record<string, unknown> = {};
    const other: Record<string, unknown> = {};
    for (const key of ['sku', 'qty', 'price', 'z', 'a']) one[key] = { key, n: key.length };
    for (const key of ['a', 'z', 'price', 'qty', 'sku']) other[key] = { n: key.length, key };
    expect(canonicalJson(one)).toBe(canonicalJson(other));
  });

  it('reads back to itself (stable under parse and re-serialise)', () => {
    const text = canonicalJson({ n: 0.1 + 0.2, big: 1e21, small: -5e-7, neg: -0, s: 'line\nbreak "q" \u2028', list: [true, false, null, [], {}] });
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });

  it('writes primitives as JSON does, and honours toJSON', () => {
    expect(canonicalJson('x')).toBe('"x"');
    expect(canonicalJson(42)).toBe('42');
    expect(canonicalJson(null)).toBe('null');
    expect(canonicalJson({ when: new Date(Date.UTC(2024, 0, 2)) })).toBe('{"when":"2024-01-02T00:00:00.000Z"}');
  });

  it('leaves out undefined object properties, as JSON does', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });

  it('refuses values JSON would silently change', () => {
    expect(() => canonicalJson({ w: Number.NaN })).toThrow(/\$\.w is NaN/);
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow(/Infinity/);
    expect(() => canonicalJson({ list: [1, undefined] })).toThrow(/\$\.list\[1\] is undefined/);
    expect(() => canonicalJson([1, , 3])).toThrow(/undefined/); // a hole
    expect(() => canonicalJson(undefined)).toThrow(/undefined/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/function/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
    expect(() => canonicalJson({ m: new Map([[1, 2]]) })).toThrow(/Map/);
  });

  it('refuses cycles but allows the same object twice', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
  });
});

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 test vector and hashes UTF-8', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    // The UTF-8 bytes C3 A9, not the Latin-1 byte E9.
    expect(sha256Hex('é')).toBe('4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
  });
});
