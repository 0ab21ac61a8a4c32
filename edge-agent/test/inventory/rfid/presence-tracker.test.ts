import { driverErrors } from '@storeedge/device-drivers';
import { Rng } from '@storeedge/simulators/random.ts';
import { describe, expect, it } from 'vitest';
import { rfidPresenceOptions } from '../../../src/inventory/rfid/options.ts';
import { RfidPresenceTracker } from '../../../src/inventory/rfid/presence-tracker.ts';
import { BROKEN, GTIN, OPAQUE, SGTIN_1, SGTIN_2, handModel, harness, readEveryCycle, type Harness } from './harness.ts';

/** Defaults: 1 s cycles, 250 ms duplicate slots, 500 ms lateness, 2 of 4 cycles, 15 s absence, 8 dB margin. */

/** Reads in both zones of a cycle must be fed in time order; this feeds a per-cycle script. */
function cycles(h: Harness, from: number, to: number, script: (cycle: number, t: number) => void): void {
  for (let cycle = from; cycle <= to; cycle++) script(cycle, cycle * 1000);
}

describe('RfidPresenceTracker: duplicates and smoothing', () => {
  it('counts many reads of one tag by one antenna in one 250 ms slot once', () => {
    const h = harness();
    const burst = Array.from({ length: 10 }, () => [SGTIN_1, 1, -50] as [string, number, number]);
    expect(h.feed('r1', 100, burst)).toMatchObject({ counted: 1, duplicates: 9 });
    expect(h.feed('r1', 249, burst.slice(0, 3))).toMatchObject({ counted: 0, duplicates: 3 });
    // Next slot, and another antenna in the same slot, count again.
    expect(h.feed('r1', 250, [[SGTIN_1, 1, -50]])).toMatchObject({ counted: 1, duplicates: 0 });
    expect(h.feed('r1', 260, [[SGTIN_1, 2, -50]])).toMatchObject({ counted: 1, duplicates: 0 });
    expect(h.tracker.stats()).toMatchObject({ reads: 15, counted: 3, duplicates: 12 });
  });

  it('does not make a tag present from one stray read, however many duplicates it has', () => {
    const h = harness();
    h.feed('r1', 1100, Array.from({ length: 50 }, () => [SGTIN_1, 1, -50] as [string, number, number]));
    h.tick(60_000);
    expect(h.events).toEqual([]);
    expect(h.tracker.countByZone()).toEqual({ A: 0, B: 0, C: 0 });
  });

  it('makes a tag present after reads in k = 2 of the last n = 4 cycles, once that cycle is decided', () => {
    const h = harness();
    h.feed('r1', 1100, [[SGTIN_1, 1, -50]]);
    h.feed('r1', 2100, [[SGTIN_1, 1, -50]]);
    // Cycle 2 ends at 3000 and is decided 500 ms later.
    h.tick(3499);
    expect(h.events).toEqual([]);
    h.tick(3500);
    expect(h.events).toEqual([{ epc: SGTIN_1, gtin: GTIN, serial: '1', kind: 'arrived', zone: 'A', at: 2100 }]);
    expect(h.tracker.countByZone()).toEqual({ A: 1, B: 0, C: 0 });
    expect(h.tracker.tag(SGTIN_1)).toEqual({ epc: SGTIN_1, gtin: GTIN, serial: '1', zone: 'A', since: 2100, lastSeen: 2100 });
  });

  it('needs the k hits inside the window of n cycles', () => {
    const inWindow = harness();
    inWindow.feed('r1', 1100, [[SGTIN_1, 1]]);
    inWindow.feed('r1', 4100, [[SGTIN_1, 1]]); // cycles 1 and 4: both in the window 1..4
    inWindow.tick(10_000);
    expect(inWindow.kinds()).toEqual(['arrived:A']);

    const tooFarApart = harness();
    tooFarApart.feed('r1', 1100, [[SGTIN_1, 1]]);
    tooFarApart.feed('r1', 5100, [[SGTIN_1, 1]]); // cycles 1 and 5: the window 2..5 holds one
    tooFarApart.tick(10_000);
    expect(tooFarApart.events).toEqual([]);
  });

  it('honours other k-of-n settings', () => {
    const h = harness({ windowCycles: 5, presentCycles: 3 });
    readEveryCycle(h, 'A', SGTIN_1, 1, 2);
    h.tick(10_000);
    expect(h.events).toEqual([]);
    readEveryCycle(h, 'A', SGTIN_1, 11, 13);
    h.tick(20_000);
    expect(h.kinds()).toEqual(['arrived:A']);
  });
});

describe('RfidPresenceTracker: absence timeouts', () => {
  it('reports departed at last read + 15 s, decided when that cycle closes', () => {
    const h = harness();
    readEveryCycle(h, 'A', SGTIN_1, 1, 3); // last read at 3100
    h.tick(19_499);
    expect(h.kinds()).toEqual(['arrived:A']);
    h.tick(19_500);
    expect(h.events.at(-1)).toEqual({ epc: SGTIN_1, gtin: GTIN, serial: '1', kind: 'departed', zone: 'A', at: 18_100 });
    expect(h.tracker.countByZone().A).toBe(0);
    expect(h.tracker.zoneOf(SGTIN_1)).toBeUndefined();
  });

  it('keeps a tag that is read now and then, however long', () => {
    const h = harness();
    readEveryCycle(h, 'A', SGTIN_1, 0, 3, { rssi: -50 });
    for (let cycle = 10; cycle < 600; cycle += 14) h.feed('r1', cycle * 1000 + 100, [[SGTIN_1, 1, -50]]);
    h.tick(600_000);
    expect(h.kinds()).toEqual(['arrived:A']);
  });

  it('takes the absence timeout per zone', () => {
    const h = harness({ zones: { C: { absenceTimeoutMs: 30_000 } } });
    readEveryCycle(h, 'C', SGTIN_1, 1, 3);
    readEveryCycle(h, 'A', SGTIN_2, 4, 6); // last read 6100
    h.tick(25_000);
    expect(h.kinds()).toEqual(['arrived:C', 'arrived:A', 'departed:A']);
    h.tick(40_000);
    expect(h.events.at(-1)).toMatchObject({ epc: SGTIN_1, kind: 'departed', zone: 'C', at: 33_100 });
  });
});

describe('RfidPresenceTracker: moves and hysteresis', () => {
  it('reports one moved event, not departed + arrived', () => {
    const h = harness();
    readEveryCycle(h, 'A', SGTIN_1, 0, 29, { rssi: -50 });
    readEveryCycle(h, 'C', SGTIN_1, 30, 60, { rssi: -50 });
    h.tick(70_000);
    expect(h.kinds()).toEqual(['arrived:A', 'moved:C<A']);
    const moved = h.events[1]!;
    // A tag read every cycle is movable after moveQuietMinCycles…(its p̂ bound) silent cycles, well before the 15 s timeout.
    expect(moved.at).toBeGreaterThan(30_000);
    expect(moved.at).toBeLessThan(40_000);
    expect(h.tracker.countByZone()).toEqual({ A: 0, B: 0, C: 1 });
  });

  it('moves to a neighbour even while the old zone keeps cross-reading it faintly', () => {
    const h = harness();
    readEveryCycle(h, 'A', SGTIN_1, 0, 29, { rssi: -50 });
    cycles(h, 30, 60, (_, t) => {
      h.feed('r1', t + 100, [[SGTIN_1, 2, -50]]); // B reads it directly
      h.feed('r1', t + 400, [[SGTIN_1, 1, -66]]); // A only at the fringe, 16 dB down
    });
    h.tick(70_000);
    expect(h.kinds()).toEqual(['arrived:A', 'moved:B<A']);
    expect(h.tracker.stats().crossReads).toBeGreaterThan(20);
  });

  it('keeps a tag on the border in its zone while that zone still reads it (no flapping)', () => {
    const h = harness();
    readEveryCycle(h, 'A', SGTIN_1, 0, 9, { rssi: -50 });
    // Border: B reads it more often and every other cycle A misses it; A never falls silent for long.
    cycles(h, 10, 300, (cycle, t) => {
      if (cycle % 2 === 0) h.feed('r1', t + 100, [[SGTIN_1, 1, -52]]);
      for (let i = 0; i < 3; i++) h.feed('r1', t + 150 + i * 250, [[SGTIN_1, 2, -50]]);
    });
    h.tick(301_000);
    expect(h.kinds()).toEqual(['arrived:A']);
  });

  it('keeps a seeded border tag (both zones read it 80 % of cycles, 3 dB apart) in place for 30 minutes', () => {
    const h = harness();
    const rng = new Rng('rfid-border');
    readEveryCycle(h, 'A', SGTIN_1, 0, 9, { rssi: -50 });
    cycles(h, 10, 1_800, (_, t) => {
      const reads: Array<[number, number]> = [];
      if (rng.chance(0.8)) reads.push([t + rng.int(0, 999), 1]);
      if (rng.chance(0.8)) reads.push([t + rng.int(0, 999), 2]);
      for (const [at, antenna] of reads.sort((a, b) => a[0] - b[0])) {
        h.feed('r1', at, [[SGTIN_1, antenna, (antenna === 1 ? -50 : -53) + rng.normal(0, 2)]]);
      }
    });
    h.tick(1_802_000);
    expect(h.events.length).toBeLessThanOrEqual(3);
    expect(h.tracker.zoneOf(SGTIN_1)).toBe('A');
  });

  it('flaps on the same border tag when the hysteresis is turned down (the test above can fail)', () => {
    const h = harness({ moveQuietMinCycles: 1, moveQuietMaxCycles: 1, crossReadMarginDb: null });
    readEveryCycle(h, 'A', SGTIN_1, 0, 9);
    cycles(h, 10, 300, (cycle, t) => {
      if (cycle % 2 === 0) h.feed('r1', t + 100, [[SGTIN_1, 1]]);
      else for (let i = 0; i < 3; i++) h.feed('r1', t + 150 + i * 250, [[SGTIN_1, 2]]);
    });
    h.tick(301_000);
    expect(h.events.length).toBeGreaterThan(10);
  });
});

describe('RfidPresenceTracker: cross-reads between neighbours', () => {
  it('counts a weaker simultaneous read in the neighbour as a cross-read (read count first)', () => {
    const h = harness();
    cycles(h, 0, 30, (_, t) => {
      h.feed('r1', t + 100, [[SGTIN_1, 1], [SGTIN_1, 2]]);
      h.feed('r1', t + 400, [[SGTIN_1, 1]]); // A: 2 counted reads a cycle, B: 1
    });
    h.tick(40_000);
    expect(h.kinds()).toEqual(['arrived:A']);
    expect(h.tracker.stats().crossReads).toBe(31);
  });

  it('lets RSSI decide between neighbours with equal read counts', () => {
    const h = harness();
    cycles(h, 0, 30, (_, t) => h.feed('r1', t + 100, [[SGTIN_1, 1, -55], [SGTIN_1, 2, -51]]));
    h.tick(40_000);
    expect(h.kinds()).toEqual(['arrived:B']);
    expect(h.tracker.stats().crossReads).toBe(31);
  });

  it('does not suppress zones that are not neighbours: each competes for the tag on its own evidence', () => {
    const h = harness();
    cycles(h, 0, 10, (_, t) => {
      h.feed('r1', t + 100, [[SGTIN_1, 1]]);
      h.feed('r2', t + 200, [[SGTIN_1, 1]]);
      h.feed('r2', t + 500, [[SGTIN_1, 1]]);
    });
    h.tick(20_000);
    expect(h.kinds()).toEqual(['arrived:C']); // C read it twice as often
    expect(h.tracker.stats().crossReads).toBe(0);
  });

  it('ignores reads far below the tag’s own RSSI: no move, and the old zone times out', () => {
    const h = harness();
    readEveryCycle(h, 'A', SGTIN_1, 0, 19, { rssi: -50 });
    readEveryCycle(h, 'B', SGTIN_1, 20, 34, { rssi: -66 }); // 16 dB down: the fringe of B's field
    h.tick(35_499);
    expect(h.kinds()).toEqual(['arrived:A']);
    h.tick(35_500);
    expect(h.events[1]).toMatchObject({ kind: 'departed', zone: 'A', at: 19_100 + 15_000 });
    // Once it has no zone, nothing says the faint reads are faint: B is all there is.
    readEveryCycle(h, 'B', SGTIN_1, 35, 40, { rssi: -66 });
    expect(h.kinds()).toEqual(['arrived:A', 'departed:A', 'arrived:B']);
  });

  it('without RSSI comparison the same faint reads move the tag (crossReadMarginDb: null)', () => {
    const h = harness({ crossReadMarginDb: null });
    readEveryCycle(h, 'A', SGTIN_1, 0, 19, { rssi: -50 });
    readEveryCycle(h, 'B', SGTIN_1, 20, 60, { rssi: -66 });
    h.tick(70_000);
    expect(h.kinds()).toEqual(['arrived:A', 'moved:B<A']);
  });

  it('corrects a first placement made from cross-reads once the right zone is read much stronger', () => {
    const h = harness();
    // The neighbour's faint reads come first …
    readEveryCycle(h, 'B', SGTIN_1, 0, 3, { rssi: -64 });
    // … then the tag's own zone reads it at full strength, with the faint neighbour reads going on.
    cycles(h, 4, 40, (_, t) => {
      h.feed('r1', t + 100, [[SGTIN_1, 1, -50]]);
      h.feed('r1', t + 400, [[SGTIN_1, 2, -64]]);
    });
    h.tick(50_000);
    expect(h.kinds()).toEqual(['arrived:B', 'moved:A<B']);
  });
});

describe('RfidPresenceTracker: exit portals', () => {
  it('reports exited at once on 2 portal reads within 1 s, and keeps it for the range query', () => {
    const h = harness();
    readEveryCycle(h, 'C', SGTIN_1, 0, 9, { rssi: -50 });
    h.tick(11_000);
    h.feed('gate', 20_100, [[SGTIN_1, 1, -48]]);
    expect(h.events.filter((e) => e.kind === 'exited')).toEqual([]);
    h.feed('gate', 20_400, [[SGTIN_1, 1, -47]]);
    // Emitted by the ingest itself: no tick, no cycle close needed.
    expect(h.events.at(-1)).toEqual({ epc: SGTIN_1, gtin: GTIN, serial: '1', kind: 'exited', zone: 'X', previousZone: 'C', at: 20_400 });
    expect(h.tracker.zoneOf(SGTIN_1)).toBeUndefined();
    expect(h.tracker.countByZone().C).toBe(0);
    expect(h.tracker.exitedBetween(20_000, 21_000)).toEqual([{ epc: SGTIN_1, gtin: GTIN, serial: '1', zone: 'X', previousZone: 'C', at: 20_400 }]);
    expect(h.tracker.exitedBetween(0, 20_399)).toEqual([]);
    // A shopper lingering in the door: more portal reads, no second exit, no departure later.
    for (let t = 20_700; t < 30_000; t += 300) h.feed('gate', t, [[SGTIN_1, 1, -47]]);
    h.tick(120_000);
    expect(h.kinds()).toEqual(['arrived:C', 'exited:X<C']);
  });

  it('needs exit.reads counted reads: duplicates and a single read are not enough', () => {
    const h = harness();
    h.feed('gate', 1_000, [[SGTIN_1, 1], [SGTIN_1, 1], [SGTIN_1, 1]]);
    h.feed('gate', 1_200, [[SGTIN_1, 1]]); // same 250 ms slot
    h.feed('gate', 2_400, [[SGTIN_1, 1]]); // next read 1.4 s later: outside the 1 s window
    h.tick(10_000);
    expect(h.events).toEqual([]);

    const single = harness({ zones: { X: { exitReads: 1 } } });
    single.feed('gate', 1_000, [[SGTIN_2, 1]]);
    expect(single.events).toEqual([{ epc: SGTIN_2, gtin: GTIN, serial: '2', kind: 'exited', zone: 'X', at: 1_000 }]);
  });

  it('treats faint portal reads of a tag in the zone beside it as cross-reads, strong ones as an exit', () => {
    const h = harness();
    readEveryCycle(h, 'B', SGTIN_1, 0, 9, { rssi: -50 });
    for (let t = 10_100; t < 15_000; t += 300) h.feed('gate', t, [[SGTIN_1, 1, -66]]);
    h.tick(16_000);
    expect(h.kinds()).toEqual(['arrived:B']);
    h.feed('gate', 16_100, [[SGTIN_1, 1, -51]]);
    h.feed('gate', 16_400, [[SGTIN_1, 1, -50]]);
    expect(h.kinds()).toEqual(['arrived:B', 'exited:X<B']);
  });

  it('without RSSI, waits until the zone beside the portal has been silent, and cancels if it reads the tag on', () => {
    const h = harness();
    cycles(h, 0, 19, (_, t) => h.feed('r1', t + 100, [[SGTIN_1, 2], [SGTIN_2, 2]]));
    cycles(h, 20, 40, (cycle, t) => {
      if (cycle === 20) h.feed('gate', t + 50, [[SGTIN_1, 1], [SGTIN_2, 1]]);
      if (cycle === 20) h.feed('gate', t + 300, [[SGTIN_1, 1], [SGTIN_2, 1]]);
      // SGTIN_1 stays on the shelf and is read on; SGTIN_2 has gone through the door.
      h.feed('r1', t + 600, [[SGTIN_1, 2]]);
      h.feed('r1', t + 850, [[SGTIN_1, 2]]);
    });
    h.tick(45_000);
    expect(h.kinds()).toEqual(['arrived:B', 'arrived:B', 'exited:X<B']);
    expect(h.events[2]).toMatchObject({ epc: SGTIN_2, at: 20_300 });
    expect(h.tracker.zoneOf(SGTIN_1)).toBe('B');
  });

  it('lets a tag exit again once it is back in the store, or after exit.rearmMs', () => {
    const h = harness();
    readEveryCycle(h, 'C', SGTIN_1, 0, 5);
    h.feed('gate', 10_000, [[SGTIN_1, 1]]);
    h.feed('gate', 10_300, [[SGTIN_1, 1]]);
    readEveryCycle(h, 'C', SGTIN_1, 20, 25); // brought back in
    h.feed('gate', 30_000, [[SGTIN_1, 1]]);
    h.feed('gate', 30_300, [[SGTIN_1, 1]]);
    h.tick(40_000);
    // Not back in the store, but 60 s after its last portal read.
    h.feed('gate', 91_000, [[SGTIN_1, 1]]);
    h.feed('gate', 91_300, [[SGTIN_1, 1]]);
    expect(h.kinds()).toEqual(['arrived:C', 'exited:X<C', 'arrived:C', 'exited:X<C', 'exited:X']);
    expect(h.tracker.exitedBetween(0, 100_000).map((r) => r.at)).toEqual([10_300, 30_300, 91_300]);
  });

  it('forgets exits after exit.retentionMs', () => {
    const h = harness({ exit: { retentionMs: 10_000 } });
    h.feed('gate', 1_000, [[SGTIN_1, 1]]);
    h.feed('gate', 1_300, [[SGTIN_1, 1]]);
    expect(h.tracker.exitedBetween(0, 5_000)).toHaveLength(1);
    h.tick(11_299);
    expect(h.tracker.exitedBetween(0, 5_000)).toHaveLength(1);
    h.tick(11_301);
    expect(h.tracker.exitedBetween(0, 5_000)).toEqual([]);
  });

  it('ignores portal reads below the zone’s minRssi', () => {
    const h = harness({ zones: { X: { minRssi: -60 } } });
    h.feed('gate', 1_000, [[SGTIN_1, 1, -70]]);
    h.feed('gate', 1_300, [[SGTIN_1, 1, -65]]);
    expect(h.events).toEqual([]);
    expect(h.tracker.stats().belowMinRssi).toBe(2);
  });
});

describe('RfidPresenceTracker: rejects, EPCs, counts', () => {
  it('rejects reads from an antenna the store model does not have, and never changes presence for them', () => {
    const h = harness();
    cycles(h, 0, 30, (_, t) => {
      h.feed('r1', t + 100, [[SGTIN_1, 7, -40]]);
      h.feed('unknown-reader', t + 200, [[SGTIN_1, 1, -40]]);
    });
    h.tick(60_000);
    expect(h.events).toEqual([]);
    const stats = h.tracker.stats();
    expect(stats.rejected).toBe(62);
    expect(stats.rejectedByChannel).toEqual({ 'r1#7': 31, 'unknown-reader#1': 31 });
    expect(h.rejects[0]).toMatchObject({ code: driverErrors.DRV_ERR_UNKNOWN_CHANNEL.code, deviceId: 'r1', antenna: 7, epc: SGTIN_1, at: 100 });
    expect(h.rejects[0]!.code).toBe('DRV_ERR_UNKNOWN_CHANNEL');
  });

  it('tracks SGTINs with their GTIN and other EPCs as opaque; counts per zone, GTIN and SKU', () => {
    const h = harness();
    cycles(h, 0, 3, (_, t) => {
      h.feed('r1', t + 100, [[SGTIN_1, 1], [OPAQUE.toLowerCase(), 1], [BROKEN, 1]]);
      h.feed('r2', t + 200, [[SGTIN_2, 1]]);
    });
    h.tick(10_000);
    expect(h.tracker.countByZone()).toEqual({ A: 3, B: 0, C: 1 });
    expect(h.tracker.countByGtin()).toEqual({ [GTIN]: 2 });
    expect(h.tracker.countByGtin('A')).toEqual({ [GTIN]: 1 });
    expect(h.tracker.countByGtin('B')).toEqual({});
    expect(h.tracker.countBySku()).toEqual({ 'SKU-1': 2 });
    const opaque = h.events.find((e) => e.epc === OPAQUE)!;
    expect(opaque).toEqual({ epc: OPAQUE, kind: 'arrived', zone: 'A', at: 1_100 });
    expect(h.events.find((e) => e.epc === BROKEN)).not.toHaveProperty('gtin');
    expect(h.tracker.stats().decodeErrors).toBe(1);
    expect(h.tracker.zoneOf(OPAQUE.toLowerCase())).toBe('A');
    expect(h.tracker.present('C').map((t) => t.epc)).toEqual([SGTIN_2]);
  });

  it('drops reads for a cycle already decided (late) without a presence change', () => {
    const h = harness();
    h.tick(10_000);
    expect(h.feed('r1', 2_100, [[SGTIN_1, 1]])).toMatchObject({ late: 1, counted: 0 });
    expect(h.feed('r1', 3_100, [[SGTIN_1, 1]])).toMatchObject({ late: 1 });
    h.tick(20_000);
    expect(h.events).toEqual([]);
    expect(h.tracker.stats().late).toBe(2);
  });

  it('accepts a batch up to latenessMs late', () => {
    const h = harness();
    h.feed('r1', 1_100, [[SGTIN_1, 1]]);
    h.feed('r2', 2_450, [[SGTIN_2, 1]]); // watermark 2450: cycle 1 is decided at 2500
    expect(h.feed('r1', 1_900, [[SGTIN_1, 1]])).toMatchObject({ late: 0, counted: 1 });
  });

  it('keeps going when a listener throws', () => {
    const errors: unknown[] = [];
    const seen: string[] = [];
    const tracker = new RfidPresenceTracker({
      model: handModel(),
      onPresence: () => {
        throw new Error('listener bug');
      },
      onListenerError: (error) => errors.push(error),
    });
    tracker.subscribe((event) => seen.push(event.kind));
    const unsubscribe = tracker.subscribe(() => seen.push('second'));
    unsubscribe();
    tracker.ingest({ deviceId: 'r1', kind: 'rfid-reader', deviceTime: 100, receivedAt: 100, payload: { at: 100, reads: [{ epc: SGTIN_1, antenna: 1 }] } });
    tracker.ingest({ deviceId: 'r1', kind: 'rfid-reader', deviceTime: 1100, receivedAt: 1100, payload: { at: 1100, reads: [{ epc: SGTIN_1, antenna: 1 }] } });
    tracker.tick(5_000);
    expect(seen).toEqual(['arrived']);
    expect(errors).toHaveLength(1);
    expect(tracker.stats().listenerErrors).toBe(1);
  });

  it('forgets tags that are gone, so memory follows the tags in the store', () => {
    const h = harness();
    for (let i = 0; i < 50; i++) h.feed('r1', 100 + i, [[`E2000000000000000000${String(i).padStart(4, '0')}`, 1]]);
    expect(h.tracker.stats().trackedTags).toBe(50);
    h.tick(200_000);
    expect(h.tracker.stats().trackedTags).toBe(0);
  });
});

describe('rfidPresenceOptions', () => {
  it('has documented defaults', () => {
    expect(rfidPresenceOptions.parse({})).toEqual({
      cycleMs: 1_000,
      duplicateWindowMs: 250,
      latenessMs: 500,
      windowCycles: 4,
      presentCycles: 2,
      absenceTimeoutMs: 15_000,
      crossReadMarginDb: 8,
      moveFalseQuietProbability: 0.001,
      moveQuietMinCycles: 2,
      moveQuietMaxCycles: 8,
      smoothing: 0.1,
      exit: { reads: 2, windowMs: 1_000, rearmMs: 60_000, retentionMs: 86_400_000 },
      zones: {},
    });
  });

  it.each([
    [{ presentCycles: 5, windowCycles: 4 }, 'presentCycles'],
    [{ duplicateWindowMs: 300 }, 'duplicateWindowMs'],
    [{ absenceTimeoutMs: 9_000 }, 'absenceTimeoutMs'],
    [{ zones: { A: { absenceTimeoutMs: 5_000 } } }, 'zones.A.absenceTimeoutMs'],
    [{ moveQuietMinCycles: 9 }, 'moveQuietMinCycles'],
    [{ exit: { reads: 0 } }, 'exit.reads'],
    [{ cycleMs: 1_000, extra: true }, '(root)'],
  ])('refuses %j, naming %s', (options, path) => {
    expect(() => new RfidPresenceTracker({ model: handModel(), options: options as never })).toThrow(
      expect.objectContaining({ code: 'EDGE_ERR_CONFIG_INVALID', message: expect.stringContaining(`- ${path}:`) }),
    );
  });

  it('refuses overrides for zones the store model does not have', () => {
    expect(() => new RfidPresenceTracker({ model: handModel(), options: { zones: { Q: { absenceTimeoutMs: 20_000 } } } })).toThrow(
      expect.objectContaining({ code: 'EDGE_ERR_CONFIG_INVALID', message: expect.stringContaining('Q') }),
    );
  });
});
