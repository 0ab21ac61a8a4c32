import { describe, expect, it } from 'vitest';
import { WeightTraceRecorder } from '../../src/dashboard/weight-trace-recorder.ts';
import { EventBus, type ShelfChange } from '../../src/events.ts';

const T0 = 1_736_935_200_000;

function weight(bus: EventBus, at: number, grams: Record<number, number>): void {
  bus.emit('shelf.weight', {
    deviceId: 'shelf-1',
    kind: 'shelf',
    deviceTime: at,
    receivedAt: at,
    payload: { at, channels: Object.entries(grams).map(([ch, g]) => ({ ch: Number(ch), grams: g })) },
  });
}

function change(startAt: number, settledAt: number): ShelfChange {
  return {
    id: `t1@${settledAt}`,
    trayId: 't1',
    deviceId: 'shelf-1',
    channel: 0,
    deltaG: -350,
    startAt,
    settledAt,
    sku: 'cola',
    quantity: -1,
    confidence: 0.6,
    alternatives: [{ sku: 'tea', quantity: -1, confidence: 0.4 }],
    misplaced: false,
  };
}

describe('WeightTraceRecorder', () => {
  it('keeps the channel\'s weight around a change, and the candidates, for the review page', () => {
    const bus = new EventBus();
    const recorder = new WeightTraceRecorder({ marginMs: 1_000 });
    recorder.attach(bus);
    // 10 Hz on two channels; the cola leaves channel 0 between +5.0 s and +5.4 s.
    for (let i = 0; i <= 60; i++) weight(bus, T0 + i * 100, { 0: i < 50 ? 1_000 : i < 54 ? 800 : 650, 1: 500 });
    bus.emit('shelf.change', change(T0 + 5_000, T0 + 5_400));
    for (let i = 61; i <= 80; i++) weight(bus, T0 + i * 100, { 0: 650, 1: 500 });

    const evidence = recorder.evidence(`t1@${T0 + 5_400}`)!;
    expect(evidence).toMatchObject({ trayId: 't1', deviceId: 'shelf-1', channel: 0, deltaG: -350, misplaced: false });
    expect(evidence.candidates).toEqual([
      { sku: 'cola', quantity: -1, confidence: 0.6 },
      { sku: 'tea', quantity: -1, confidence: 0.4 },
    ]);
    // The whole window with its margins, samples that arrived after the change included.
    expect(evidence.trace.t[0]).toBe(T0 + 4_000);
    expect(evidence.trace.t.at(-1)).toBe(T0 + 6_400);
    expect(evidence.trace.grams[0]).toBe(1_000);
    expect(evidence.trace.grams.at(-1)).toBe(650);
    expect(recorder.evidence('t1@0')).toBeUndefined();
  });

  it('thins long traces, forgets old weight and keeps a bounded number of changes', () => {
    const bus = new EventBus();
    const recorder = new WeightTraceRecorder({ keepMs: 2_000, marginMs: 500, maxChanges: 2, maxPoints: 10 });
    recorder.attach(bus);
    for (let i = 0; i < 1_000; i++) weight(bus, T0 + i * 10, { 0: 1_000 });
    bus.emit('shelf.change', change(T0 + 8_000, T0 + 9_000));
    const first = recorder.evidence(`t1@${T0 + 9_000}`)!;
    expect(first.trace.t.length).toBeLessThanOrEqual(10);
    expect(first.trace.t.length).toBeGreaterThan(5);

    // Long after: the recent weight no longer covers it, the copy taken at the change stays.
    for (let i = 1_000; i < 2_000; i++) weight(bus, T0 + i * 10, { 0: 1_000 });
    expect(recorder.evidence(`t1@${T0 + 9_000}`)!.trace).toEqual(first.trace);

    bus.emit('shelf.change', change(T0 + 18_000, T0 + 18_500));
    bus.emit('shelf.change', change(T0 + 19_000, T0 + 19_500));
    expect(recorder.evidence(`t1@${T0 + 9_000}`)).toBeUndefined();
    expect(recorder.evidence(`t1@${T0 + 19_500}`)).toBeDefined();
  });
});
