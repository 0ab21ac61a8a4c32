import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalJson, sha256Hex } from '../src/canonical.ts';

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code unit, recursively, with no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    // Code-unit order, not locale order: uppercase before lowercase, and an astral character
    // (surrogate pair, 0xD83D…) before U+FF21 although its code point is larger.
    expect(canonicalJson({ a: 1, B: 2, '\uFF21': 3, '😀': 4 })).toBe('{"B":2,"a":1,"😀":4,"Ａ":3}');
  });

  it('gives the same bytes for the same content whatever the key order', () => {
    expect(canonicalJson({ x: 1, y: [1, 2], z: { q: null } })).toBe(canonicalJson({ z: { q: null }, y: [1, 2], x: 1 }));
    expect(canonicalBytes({ a: 'é' })).toEqual(Buffer.from('{"a":"é"}', 'utf8'));
  });

  it('keeps array order and omits undefined object members', () => {
    expect(canonicalJson([3, 1, 2])).toBe('[3,1,2]');
    expect(canonicalJson({ a: undefined, b: null })).toBe('{"b":null}');
  });

  it('honours toJSON', () => {
    expect(canonicalJson({ at: new Date(0) })).toBe('{"at":"1970-01-01T00:00:00.000Z"}');
  });

  it.each([
    ['NaN', { n: Number.NaN }],
    ['Infinity', [Number.POSITIVE_INFINITY]],
    ['bigint', { n: 1n }],
    ['function', { f: () => 1 }],
    ['symbol', { s: Symbol('s') }],
    ['undefined in an array', [1, undefined]],
    ['a Map', { m: new Map() }],
    ['top-level undefined', undefined],
  ])('refuses %s', (_name, value) => {
    expect(() => canonicalJson(value)).toThrow(TypeError);
  });

  it('refuses cycles but allows the same object twice side by side', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    const shared = { v: 1 };
    expect(canonicalJson([shared, shared])).toBe('[{"v":1},{"v":1}]');
  });

  it('hashes UTF-8 as 64 lowercase hex digits', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });
});
