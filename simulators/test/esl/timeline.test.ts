import { describe, expect, it } from 'vitest';
import { SimClock } from '../../src/clock.ts';
import { EventHeap } from '../../src/esl/event-heap.ts';
import { Timeline } from '../../src/esl/timeline.ts';
import { Rng } from '../../src/random.ts';

describe('EventHeap', () => {
  it('pops in due order, ties in insertion order', () => {
    const rng = new Rng('heap');
    const heap = new EventHeap<{ due: number; n: number }>();
    const items = Array.from({ length: 5_000 }, (_, n) => ({ due: rng.int(0, 300), n }));
    for (const item of items) heap.push(item.due, item);
    const out: { due: number; n: number }[] = [];
    while (heap.size > 0) out.push(heap.pop()!);
    expect(out).toEqual([...items].sort((a, b) => a.due - b.due || a.n - b.n));
    expect(heap.pop()).toBeUndefined();
    expect(heap.peekDue()).toBeUndefined();
  });
});

describe('Timeline', () => {
  it('keeps one clock timer however many events it holds, and runs them in time order', () => {
    const clock = new SimClock();
    const t0 = clock.now();
    const ran: Array<[string, number]> = [];
    const timeline = new Timeline<string>(clock, (event, due) => ran.push([event, due - t0]), (error) => {
      throw error;
    });
    for (let i = 0; i < 1_000; i++) timeline.at(t0 + 1_000 + i, `e${i}`);
    timeline.start();
    expect(clock.pending()).toBe(1);
    timeline.at(t0 + 10, 'early'); // re-arms for the earlier event
    expect(clock.pending()).toBe(1);
    clock.advance(1_000);
    expect(ran).toEqual([['early', 10], ['e0', 1_000]]);
    clock.advance(2_000);
    expect(ran).toHaveLength(1_001);
    expect(ran.at(-1)).toEqual(['e999', 1_999]);
    expect(clock.pending()).toBe(0);
  });

  it('runs events an event schedules for the same instant, reports a throwing event and goes on', () => {
    const clock = new SimClock();
    const errors: unknown[] = [];
    const ran: string[] = [];
    const timeline: Timeline<string> = new Timeline<string>(
      clock,
      (event) => {
        ran.push(event);
        if (event === 'a') timeline.at(clock.now(), 'a-child');
        if (event === 'bad') throw new Error('boom');
      },
      (error) => errors.push(error),
    );
    timeline.start();
    timeline.at(clock.now() + 5, 'a');
    timeline.at(clock.now() + 5, 'bad');
    timeline.at(clock.now() + 6, 'b');
    clock.advance(10);
    expect(ran).toEqual(['a', 'bad', 'a-child', 'b']);
    expect(errors).toHaveLength(1);
    timeline.stop();
    timeline.at(clock.now() + 1, 'after-stop');
    clock.advance(10);
    expect(ran).toHaveLength(4);
    expect(clock.pending()).toBe(0);
  });
});
