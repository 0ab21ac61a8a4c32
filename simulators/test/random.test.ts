import { describe, expect, it } from 'vitest';
import { Rng } from '../src/random.ts';

const draw = (rng: Rng, n: number) => Array.from({ length: n }, () => rng.next());

function correlation(xs: number[], ys: number[]): number {
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('Rng', () => {
  it('replays the same sequence for the same seed', () => {
    expect(draw(new Rng(42), 100)).toEqual(draw(new Rng(42), 100));
    expect(draw(new Rng('store-7'), 100)).toEqual(draw(new Rng('store-7'), 100));
  });

  it('gives different sequences for different seeds', () => {
    const a = draw(new Rng(1), 100);
    const b = draw(new Rng(2), 100);
    expect(a.filter((x, i) => x === b[i]).length).toBeLessThan(3);
  });

  it('stays in [0, 1) with a flat histogram', () => {
    const rng = new Rng(9);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 20_000; i++) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      bins[Math.floor(x * 10)]!++;
    }
    for (const count of bins) expect(Math.abs(count - 2_000)).toBeLessThan(200);
  });

  it('int() covers both bounds and nothing outside', () => {
    const rng = new Rng(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i++) seen.add(rng.int(-2, 3));
    expect([...seen].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    expect(() => rng.int(3, 1)).toThrow(expect.objectContaining({ code: 'SIM_ERR_ARGUMENT_INVALID' }));
  });

  it('normal() has roughly the requested mean and standard deviation over 10k samples', () => {
    const rng = new Rng(11);
    const samples = Array.from({ length: 10_000 }, () => rng.normal(50, 4));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (samples.length - 1));
    expect(mean).toBeGreaterThan(49.85);
    expect(mean).toBeLessThan(50.15);
    expect(sd).toBeGreaterThan(3.85);
    expect(sd).toBeLessThan(4.15);
    // About 68 % within one sd: a uniform with the same sd would give 58 %.
    const within = samples.filter((x) => Math.abs(x - 50) < 4).length / samples.length;
    expect(within).toBeGreaterThan(0.66);
    expect(within).toBeLessThan(0.70);
  });

  it('exponential() has the requested mean', () => {
    const rng = new Rng(5);
    const samples = Array.from({ length: 10_000 }, () => rng.exponential(30));
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(mean).toBeGreaterThan(29);
    expect(mean).toBeLessThan(31);
  });

  it('pick(), sample(), chance() and token() behave', () => {
    const rng = new Rng(8);
    const items = ['a', 'b', 'c'] as const;
    const picked = new Set(Array.from({ length: 200 }, () => rng.pick(items)));
    expect(picked).toEqual(new Set(items));
    expect(() => rng.pick([])).toThrow(expect.objectContaining({ code: 'SIM_ERR_ARGUMENT_INVALID' }));
    const sample = rng.sample([1, 2, 3, 4, 5], 3);
    expect(new Set(sample).size).toBe(3);
    const hits = Array.from({ length: 10_000 }, () => rng.chance(0.2)).filter(Boolean).length;
    expect(Math.abs(hits - 2_000)).toBeLessThan(150);
    const token = rng.token(22);
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(rng.token(22)).not.toBe(token);
  });

  it('fillUint16() gives the top 16 bits of the same draws as next(), and leaves the stream where next() would', () => {
    const bulk = new Rng('fill');
    const out = new Uint16Array(10_001);
    bulk.fillUint16(out);
    const one = new Rng('fill');
    expect(Array.from(out)).toEqual(Array.from({ length: out.length }, () => Math.floor(one.next() * 2 ** 16)));
    expect(draw(bulk, 100)).toEqual(draw(one, 100));
  });

  it('fork() is deterministic, independent of the parent and of its siblings', () => {
    const parent = new Rng(7);
    const forkA = draw(parent.fork('a'), 2_000);
    // The same label from a parent in another state gives the same stream.
    const used = new Rng(7);
    draw(used, 500);
    expect(draw(used.fork('a'), 2_000)).toEqual(forkA);
    // Forking does not move the parent.
    expect(draw(parent, 100)).toEqual(draw(new Rng(7), 100));
    // Siblings and parent are uncorrelated.
    const forkB = draw(new Rng(7).fork('b'), 2_000);
    const parentDraws = draw(new Rng(7), 2_000);
    expect(forkB).not.toEqual(forkA);
    expect(Math.abs(correlation(forkA, forkB))).toBeLessThan(0.08);
    expect(Math.abs(correlation(forkA, parentDraws))).toBeLessThan(0.08);
  });
});

describe('simulator sources', () => {
  it('draw randomness only from Rng (no Math.random)', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const dir = new URL('../src/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      expect(await readFile(new URL(file, dir), 'utf8'), file).not.toMatch(/Math\.random\s*\(/);
    }
  });
});
