import { simulatorErrors } from './errors.ts';

/**
 * A seeded pseudo-random stream: xoshiro128** (Blackman & Vigna, 2018) seeded through
 * cyrb128 from a string key. Everything random in the simulators draws from one of these,
 * so a scenario with the same seed replays exactly; nothing here may call Math.random.
 */
export class Rng {
  /** The key this stream was seeded from; forks derive their keys from it. */
  readonly key: string;
  readonly #state: Uint32Array;
  /** Box–Muller makes two normals at a time; the second waits here. */
  #spareNormal: number | undefined;

  constructor(seed: number | string) {
    this.key = String(seed);
    this.#state = seedState(this.key);
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return xoshiro128ss(this.#state) / 0x1_0000_0000;
  }

  /**
   * Fills `out` with `floor(next() * 2^16)` draws (each step's top 16 bits), in order: the same
   * values as `out.length` calls of `next()`, with the generator's steps inlined for per-pixel use.
   */
  fillUint16(out: Uint16Array): void {
    const state = this.#state;
    let s0 = state[0]!;
    let s1 = state[1]!;
    let s2 = state[2]!;
    let s3 = state[3]!;
    for (let i = 0; i < out.length; i++) {
      const m = Math.imul(s1, 5);
      const r = Math.imul((m << 7) | (m >>> 25), 9);
      out[i] = r >>> 16;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
    }
    state[0] = s0;
    state[1] = s1;
    state[2] = s2;
    state[3] = s3;
  }

  /** A uniform integer in [lo, hi], both ends included. */
  int(lo: number, hi: number): number {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) {
      throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`int(${lo}, ${hi}): bounds must be integers with lo <= hi`);
    }
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** A uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  /** A normal (Gaussian) sample, by the Box–Muller transform. */
  normal(mean = 0, sd = 1): number {
    if (this.#spareNormal !== undefined) {
      const z = this.#spareNormal;
      this.#spareNormal = undefined;
      return mean + sd * z;
    }
    // 1 - next() is in (0, 1], so the logarithm stays finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.next()));
    const angle = 2 * Math.PI * this.next();
    this.#spareNormal = radius * Math.sin(angle);
    return mean + sd * radius * Math.cos(angle);
  }

  /** An exponential sample with the given mean: the gap between events of a Poisson process. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID('pick() from an empty array');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** `count` distinct elements in random order (a partial Fisher–Yates shuffle). */
  sample<T>(items: readonly T[], count: number): T[] {
    const pool = [...items];
    const n = Math.min(count, pool.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.next() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** A URL-safe random string (base64url alphabet), `length` characters, 6 bits each. */
  token(length = 22): string {
    let out = '';
    for (let i = 0; i < length; i++) out += URL_SAFE_ALPHABET[Math.floor(this.next() * 64)];
    return out;
  }

  /**
   * An independent stream named `label`. It depends only on this stream's key and the label,
   * not on how much this stream has been used, so adding draws in one part of a simulation
   * does not shift the randomness of another.
   */
  fork(label: string): Rng {
    return new Rng(`${this.key}/${label}`);
  }
}

const URL_SAFE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** One step of xoshiro128**: returns a uint32 and advances the state in place. */
function xoshiro128ss(state: Uint32Array): number {
  let s0 = state[0]!;
  let s1 = state[1]!;
  let s2 = state[2]!;
  let s3 = state[3]!;
  const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
  const t = s1 << 9;
  s2 ^= s0;
  s3 ^= s1;
  s1 ^= s2;
  s0 ^= s3;
  s2 ^= t;
  s3 = rotl(s3, 11);
  // Uint32Array stores wrap each word to 32 bits.
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
  return result;
}

/** cyrb128: hashes a string to four 32-bit words; the all-zero state (xoshiro's fixed point) is avoided. */
function seedState(key: string): Uint32Array {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  const state = Uint32Array.of(h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0);
  if (state.every((word) => word === 0)) state[0] = 1;
  // The first outputs of a freshly hashed state are weakly mixed; discard a few.
  for (let i = 0; i < 8; i++) xoshiro128ss(state);
  return state;
}
