import { describe, expect, it } from 'vitest';
import { SimClock } from '../src/clock.ts';

describe('SimClock', () => {
  it('fires timers in time order, ties in scheduling order, with now() at each due time', () => {
    const clock = new SimClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`c@${clock.now()}`), 30);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`b1@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`b2@${clock.now()}`), 20);
    clock.advance(25);
    expect(fired).toEqual(['a@1010', 'b1@1020', 'b2@1020']);
    expect(clock.now()).toBe(1_025);
    clock.advance(100);
    expect(fired).toEqual(['a@1010', 'b1@1020', 'b2@1020', 'c@1030']);
    expect(clock.now()).toBe(1_125);
  });

  it('runs timers scheduled during an advance when they fall inside it, and keeps later ones', () => {
    const clock = new SimClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => {
      fired.push(`outer@${clock.now()}`);
      clock.setTimeout(() => fired.push(`inner@${clock.now()}`), 5);
      clock.setTimeout(() => fired.push(`zero@${clock.now()}`), 0);
      clock.setTimeout(() => fired.push(`late@${clock.now()}`), 50);
    }, 10);
    clock.runUntil(20);
    expect(fired).toEqual(['outer@10', 'zero@10', 'inner@15']);
    expect(clock.pending()).toBe(1);
    expect(clock.nextDue()).toBe(60);
    clock.runUntil(60);
    expect(fired.at(-1)).toBe('late@60');
  });

  it('clearTimeout cancels, also from inside another timer at the same time', () => {
    const clock = new SimClock(0);
    const fired: string[] = [];
    const first = clock.setTimeout(() => fired.push('first'), 10);
    clock.clearTimeout(first);
    let second = clock.setTimeout(() => fired.push('second'), 20);
    clock.setTimeout(() => clock.clearTimeout(second), 20); // scheduled after: fires after second
    const third = clock.setTimeout(() => fired.push('third'), 30);
    clock.setTimeout(() => clock.clearTimeout(third), 25);
    clock.advance(100);
    expect(fired).toEqual(['second']);
    second = clock.setTimeout(() => fired.push('again'), 1);
    clock.clearTimeout(second);
    clock.advance(10);
    expect(fired).toEqual(['second']);
    expect(clock.pending()).toBe(0);
  });

  it('repeats intervals until cleared, interleaved correctly with timeouts', () => {
    const clock = new SimClock(0);
    const fired: string[] = [];
    const every10 = clock.setInterval(() => fired.push(`i@${clock.now()}`), 10);
    clock.setTimeout(() => fired.push(`t@${clock.now()}`), 25);
    clock.advance(40);
    expect(fired).toEqual(['i@10', 'i@20', 't@25', 'i@30', 'i@40']);
    clock.clearInterval(every10);
    clock.advance(100);
    expect(fired).toHaveLength(5);
  });

  it('lets an interval clear itself, and treats a 0 ms interval as 1 ms', () => {
    const clock = new SimClock(0);
    let count = 0;
    const handle = clock.setInterval(() => {
      count++;
      if (count === 3) clock.clearInterval(handle);
    }, 0);
    clock.advance(10);
    expect(count).toBe(3);
    expect(clock.now()).toBe(10);
  });

  it('never moves backwards', () => {
    const clock = new SimClock(500);
    clock.runUntil(100);
    expect(clock.now()).toBe(500);
    clock.advance(-5);
    expect(clock.now()).toBe(500);
  });

  it('fires many timers in (due, scheduling) order with clears and intervals, like a plain scan would', () => {
    // A reference model: every live timer in a list, the earliest found by scanning (the old SimClock).
    let state = 12345;
    const rand = (n: number) => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
    const clock = new SimClock(0);
    const ref: Array<{ id: number; due: number; seq: number; every?: number }> = [];
    const handles = new Map<number, ReturnType<SimClock['setTimeout']>>();
    let refNow = 0;
    let seq = 0;
    let nextId = 0;
    const fired: number[] = [];
    const refFired: number[] = [];
    const add = (every?: number) => {
      const id = nextId++;
      const delay = every ?? 100 * rand(50); // coarse: many timers fall due together, so ties are exercised
      const handle = every === undefined ? clock.setTimeout(() => fired.push(id), delay) : clock.setInterval(() => fired.push(id), delay);
      handles.set(id, handle);
      if (every === undefined) ref.push({ id, due: refNow + delay, seq: seq++ });
      else ref.push({ id, due: refNow + every, seq: seq++, every });
    };
    for (let round = 0; round < 150; round++) {
      for (let i = 0; i < 80; i++) add(rand(20) === 0 ? 100 * (1 + rand(3)) : undefined);
      for (let i = 0; i < 30 && ref.length > 0; i++) {
        const victim = ref[rand(ref.length)]!;
        clock.clearTimeout(handles.get(victim.id)!);
        ref.splice(ref.indexOf(victim), 1);
      }
      const target = refNow + 100 * rand(5);
      clock.runUntil(target);
      for (;;) {
        let best: (typeof ref)[number] | undefined;
        for (const t of ref) if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
        if (!best || best.due > target) break;
        refNow = best.due;
        refFired.push(best.id);
        if (best.every === undefined) ref.splice(ref.indexOf(best), 1);
        else {
          best.due += best.every;
          best.seq = seq++;
        }
      }
      refNow = target;
      expect(clock.now()).toBe(target);
    }
    expect(fired.length).toBeGreaterThan(5_000);
    // The first firing out of order (not a whole-array diff: thousands of ids).
    expect(fired.findIndex((id, i) => id !== refFired[i])).toBe(-1);
    expect(fired.length).toBe(refFired.length);
    expect(clock.pending()).toBe(ref.length);
  });
});
