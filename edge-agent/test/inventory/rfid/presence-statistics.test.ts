import { describe, expect, it } from 'vitest';
import { defaultScenario } from './read-generator.ts';
import { runScenario } from './presence-statistics.ts';

/**
 * Seeded scenarios in simulated time (read-generator.ts): 100 tags, 30 minutes, four shelf zones
 * in a row and an exit portal, read rate p = 0.6–0.9 per cycle, cross-reads q = 0.1–0.3 per
 * cycle into each neighbour at 10–20 dB lower RSSI, moves and exits at known times.
 * `npx tsx edge-agent/test/inventory/rfid/measure.ts` prints the figures docs/rfid-presence.md quotes.
 */
describe('RFID presence statistics', () => {
  it.each(['rfid-presence-statistics', 'rfid-presence-statistics-2'])('keeps tags in the right zone, without flapping, and sees every exit (seed %s)', (seed) => {
    const f = runScenario({ ...defaultScenario, seed });

    // ≥ 99 % of tag-time in the right zone once the smoothing delay (12 s) has passed.
    expect(f.zoneSamples).toBeGreaterThan(100_000);
    expect(f.zoneAccuracy).toBeGreaterThanOrEqual(0.99);
    expect(f.ghostSamples).toBeLessThanOrEqual(f.absentSamples * 0.001);

    // No flapping: at most a couple of events beyond the true changes for any tag.
    expect(f.maxExtraEventsPerTag).toBeLessThanOrEqual(2);
    expect(f.extraEvents).toBeLessThanOrEqual(f.expectedEvents * 0.05);

    // Every exit, quickly, and none that did not happen.
    expect(f.exits.total).toBeGreaterThan(10);
    expect(f.exits.detected).toBe(f.exits.total);
    expect(f.exits.falseExits).toBe(0);
    expect(f.exits.latency.maxMs).toBeLessThanOrEqual(3_000);

    // Moves are single 'moved' events, detected within the smoothing delay.
    expect(f.moves.total).toBeGreaterThan(50);
    expect(f.moves.asMove).toBeGreaterThanOrEqual(Math.floor(f.moves.total * 0.97));
    expect(f.moves.latency.p95Ms).toBeLessThanOrEqual(12_000);
    expect(f.arrivals.detected).toBeGreaterThanOrEqual(f.arrivals.total * 0.95);

    // The generator's noise reached the tracker and was counted.
    expect(f.stats.duplicates).toBeGreaterThan(100_000);
    expect(f.stats.crossReads).toBeGreaterThan(10_000);
    expect(f.stats.rejected).toBeGreaterThan(3_000);
  });

  it('still works from read counts alone when readers report no RSSI (looser figures)', () => {
    const f = runScenario({ ...defaultScenario, withRssi: false });
    expect(f.zoneAccuracy).toBeGreaterThanOrEqual(0.98);
    expect(f.exits.detected).toBe(f.exits.total);
    expect(f.exits.falseExits).toBeLessThanOrEqual(2);
    expect(f.maxExtraEventsPerTag).toBeLessThanOrEqual(6);
  });

  it('fails these bounds without smoothing and hysteresis (the statistics can fail)', () => {
    const f = runScenario(defaultScenario, { windowCycles: 1, presentCycles: 1, crossReadMarginDb: null, moveQuietMinCycles: 1, moveQuietMaxCycles: 1 });
    expect(f.zoneAccuracy).toBeLessThan(0.99);
    expect(f.maxExtraEventsPerTag).toBeGreaterThan(2);
    expect(f.exits.falseExits).toBeGreaterThan(0);
  });

  it('is deterministic for a seed', () => {
    const short = { ...defaultScenario, durationMs: 5 * 60_000, tags: 30 };
    const a = runScenario(short);
    const b = runScenario(short);
    expect(b).toEqual(a);
  });
});
