import { describe, expect, it } from 'vitest';
import { formatHlc, HybridClock, parseHlc } from '../src/hlc.ts';

/** A wall clock the test moves by hand. */
function manualClock(start: number) {
  const clock = { ms: start, now: () => clock.ms };
  return clock;
}

describe('HLC stamps', () => {
  it('format as 15-digit ms, a dot and a 5-digit counter, and parse back', () => {
    expect(formatHlc(1_764_000_000_000, 0)).toBe('001764000000000.00000');
    expect(formatHlc(0, 99_999)).toBe('000000000000000.99999');
    expect(parseHlc('001764000000000.00042')).toEqual({ ms: 1_764_000_000_000, counter: 42 });
    for (const bad of ['', '1764000000000.00000', '001764000000000.0000', '001764000000000-00000', ' 001764000000000.00000', 'x', 7]) {
      expect(parseHlc(bad), String(bad)).toBeUndefined();
    }
  });

  it('refuse values that do not fit', () => {
    expect(() => formatHlc(-1, 0)).toThrow(RangeError);
    expect(() => formatHlc(1e15, 0)).toThrow(RangeError);
    expect(() => formatHlc(1.5, 0)).toThrow(RangeError);
    expect(() => formatHlc(1, 100_000)).toThrow(RangeError);
  });

  it('order as strings exactly as they order in time', () => {
    const stamps = [formatHlc(9, 99_999), formatHlc(10, 0), formatHlc(10, 1), formatHlc(100, 0), formatHlc(1_764_000_000_000, 5)];
    expect([...stamps].reverse().sort()).toEqual(stamps);
  });
});

describe('HybridClock', () => {
  it('follows the wall clock and counts within a millisecond', () => {
    const wall = manualClock(1000);
    const clock = new HybridClock({ now: wall.now });
    expect(clock.last()).toBeNull();
    expect(clock.tick()).toBe(formatHlc(1000, 0));
    expect(clock.tick()).toBe(formatHlc(1000, 1));
    wall.ms = 1005;
    expect(clock.tick()).toBe(formatHlc(1005, 0));
    expect(clock.last()).toBe(formatHlc(1005, 0));
  });

  it('never goes backwards when the wall clock steps back (NTP step)', () => {
    const wall = manualClock(1_764_000_000_000);
    const clock = new HybridClock({ now: wall.now });
    const stamps = [clock.tick()];
    wall.ms -= 3_600_000; // an hour back
    for (let i = 0; i < 5; i++) stamps.push(clock.tick());
    wall.ms += 3_600_000 + 1;
    stamps.push(clock.tick());
    for (let i = 1; i < stamps.length; i++) expect(stamps[i]! > stamps[i - 1]!, `${stamps[i]} > ${stamps[i - 1]}`).toBe(true);
    expect(parseHlc(stamps[5]!)).toEqual({ ms: 1_764_000_000_000, counter: 5 });
    expect(parseHlc(stamps[6]!)).toEqual({ ms: 1_764_000_000_001, counter: 0 });
  });

  it('keeps counting, never throwing, when the wall clock is broken', () => {
    const wall = manualClock(5000);
    const clock = new HybridClock({ now: wall.now });
    const first = clock.tick();
    for (const broken of [Number.NaN, -1, Number.NEGATIVE_INFINITY]) {
      wall.ms = broken;
      expect(clock.tick() > first).toBe(true);
    }
    expect(clock.last()).toBe(formatHlc(5000, 3));
  });

  it('moves to the next ms when the counter would overflow', () => {
    const clock = new HybridClock({ now: () => 500, last: formatHlc(500, 99_998) });
    expect(clock.tick()).toBe(formatHlc(500, 99_999));
    expect(clock.tick()).toBe(formatHlc(501, 0));
    expect(clock.tick()).toBe(formatHlc(501, 1));
  });

  it('resumes above the last persisted stamp after a restart with a slow clock', () => {
    const clock = new HybridClock({ now: () => 10, last: formatHlc(2000, 7) });
    expect(clock.last()).toBe(formatHlc(2000, 7));
    expect(clock.tick()).toBe(formatHlc(2000, 8));
    expect(() => new HybridClock({ last: 'yesterday' })).toThrow(RangeError);
  });

  it('adopts a remote time within the skew bound, so later stamps order after it', () => {
    const wall = manualClock(100_000);
    const clock = new HybridClock({ now: wall.now, maxSkewMs: 60_000 });
    clock.tick();
    expect(clock.observe(150_000)).toEqual({ adopted: true, skewMs: 50_000 });
    const next = clock.tick();
    expect(parseHlc(next)!.ms).toBeGreaterThanOrEqual(150_000);
    expect(next > formatHlc(150_000, 0)).toBe(true);
    // A remote time in the past changes nothing.
    expect(clock.observe(1_000)).toEqual({ adopted: true, skewMs: -99_000 });
    expect(clock.tick() > next).toBe(true);
  });

  it('flags and ignores a remote time further ahead than maxSkewMs (HLC poisoning)', () => {
    const wall = manualClock(100_000);
    const clock = new HybridClock({ now: wall.now });
    const before = clock.tick();
    expect(clock.observe(100_000 + 60_001)).toEqual({ adopted: false, skewMs: 60_001 });
    expect(clock.observe(100_000 + 3_600_000)).toEqual({ adopted: false, skewMs: 3_600_000 });
    expect(clock.last()).toBe(before);
    expect(parseHlc(clock.tick())!.ms).toBe(100_000);
    expect(clock.observe(160_000)).toEqual({ adopted: true, skewMs: 60_000 }); // the bound itself is allowed
  });

  it('keeps stamps strictly increasing through a random walk of clock steps and remote times', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const wall = manualClock(1_764_000_000_000);
    const clock = new HybridClock({ now: wall.now });
    let previous = '';
    for (let i = 0; i < 5000; i++) {
      const r = random();
      if (r < 0.2) wall.ms += Math.floor(random() * 1000);
      else if (r < 0.25) wall.ms -= Math.floor(random() * 100_000);
      else if (r < 0.3) clock.observe(wall.ms + Math.floor((random() - 0.3) * 200_000));
      const stamp = clock.tick();
      expect(stamp > previous).toBe(true);
      previous = stamp;
    }
  });
});
