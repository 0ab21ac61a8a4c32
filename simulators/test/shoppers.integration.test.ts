import { afterEach, describe, expect, it } from 'vitest';
import { gateScanPayload, topics, weightPayload, type GateScanPayload, type WeightPayload } from '@storeedge/device-drivers';
import { SimClock } from '../src/clock.ts';
import { GateSimulator } from '../src/gate.ts';
import { Rng } from '../src/random.ts';
import { LoadCellShelfSimulator } from '../src/shelf.ts';
import { ShopperSimulation, type ShelfAction, type ShopperSimulationOptions } from '../src/shoppers.ts';
import { eventually, startTestBroker, type TestBroker } from './helpers/test-broker.ts';

const storeId = 'store-test';
const SETTLE_MS = 400;
const products = [
  { ch: 0, sku: 'pasta-spaghetti-500', unitGrams: 512 },
  { ch: 1, sku: 'espresso-beans-250', unitGrams: 263 },
  { ch: 2, sku: 'passata-bottle-500', unitGrams: 720 },
  { ch: 3, sku: 'chocolate-dark-100', unitGrams: 104 },
];
const UNITS = 6;

let broker: TestBroker | undefined;
const stoppers: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const stop of stoppers.splice(0).reverse()) await stop();
  await broker?.close();
  broker = undefined;
});

function makeStore(url: string, clock: SimClock, seed: string, overrides: Partial<ShopperSimulationOptions> = {}) {
  const quiet = () => undefined;
  const shelf = new LoadCellShelfSimulator({
    url,
    storeId,
    deviceId: 'shelf-1',
    password: 'shelf-secret',
    clock,
    rng: new Rng(seed).fork('shelf-1'),
    channels: products.map((p) => ({ ch: p.ch, tareGrams: 350, loadGrams: UNITS * p.unitGrams })),
    sampleRateHz: 5,
    settleMs: SETTLE_MS,
    weightQos: 1,
    healthIntervalMs: null,
    onError: quiet,
  });
  const gate = new GateSimulator({ url, storeId, deviceId: 'gate-1', password: 'gate-secret', clock, healthIntervalMs: null, onError: quiet });
  const shoppers = new ShopperSimulation({
    trays: products.map((p) => ({ shelf, ch: p.ch, sku: p.sku, unitGrams: p.unitGrams, units: UNITS, capacity: UNITS })),
    gate,
    rng: new Rng(seed).fork('shoppers'),
    clock,
    arrivalRatePerMin: 1.5,
    maxVisits: 10,
    putBackChance: 0.3,
    restockBelowUnits: 2,
    restockDelayMs: 60_000,
    ...overrides,
  });
  return { shelf, gate, shoppers };
}

/** Mean reading of one channel over the samples whose device time is in [from, to). */
function meanOver(samples: WeightPayload[], ch: number, from: number, to: number): number | undefined {
  const values = samples.filter((s) => s.at >= from && s.at < to).map((s) => s.channels.find((c) => c.ch === ch)!.grams);
  return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
}

describe('ShopperSimulation', () => {
  it('produces picks whose weight changes on the wire match its ground truth', async () => {
    broker = await startTestBroker({ 'shelf-1': 'shelf-secret', 'gate-1': 'gate-secret' });
    const clock = new SimClock();
    const { shelf, gate, shoppers } = makeStore(broker.url, clock, 'walkout-1');
    stoppers.push(() => shelf.stop(), () => gate.stop());
    await Promise.all([shelf.start(), gate.start()]);
    stoppers.push(() => shoppers.stop());
    const startedAt = clock.now();
    shoppers.start();

    // Drive virtual time in 1 s steps; after each, wait until every publish is acknowledged, so
    // nothing depends on how fast the wall clock runs.
    for (let s = 0; s < 25 * 60; s++) {
      clock.advance(1_000);
      await Promise.all([shelf.flush(), gate.flush()]);
    }
    const sentWeights = shelf.stats().sent - 1; // minus the birth
    const weightTopic = topics.event(storeId, 'shelf-1', 'weight');
    await eventually(() => broker!.on(weightTopic).length === sentWeights, 'every weight sample at the broker');
    expect(shelf.stats()).toMatchObject({ failed: 0, errors: 0 });
    expect(gate.stats()).toMatchObject({ failed: 0, errors: 0 });

    const truth = shoppers.groundTruth();
    expect(truth.visits).toHaveLength(10);
    expect(truth.visits.every((v) => v.exitedAt !== null)).toBe(true);
    const picks = truth.actions.filter((a) => a.kind === 'pick');
    expect(picks.length).toBeGreaterThanOrEqual(10);

    // Gate: one entry and one exit per visit, with pseudonymous URL-safe tokens.
    const scans = broker.on(topics.event(storeId, 'gate-1', 'scan')).map((m) => gateScanPayload.parse(m.body) as GateScanPayload);
    const tokens = truth.visits.map((v) => v.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    expect(scans.filter((s) => s.lane === 'entry').map((s) => s.token).sort()).toEqual([...tokens].sort());
    expect(scans.filter((s) => s.lane === 'exit').map((s) => s.token).sort()).toEqual([...tokens].sort());

    // Each shelf change the truth records shows up as that weight step on the wire. Checked where
    // no other change on the same tray overlaps the before/after windows.
    const samples = broker.on(weightTopic).map((m) => weightPayload.parse(m.body));
    const isolated = (a: ShelfAction) =>
      !truth.actions.some((b) => b !== a && b.ch === a.ch && b.at > a.at - 1_000 && b.at < a.at + SETTLE_MS + 1_000);
    let checked = 0;
    for (const action of truth.actions.filter(isolated)) {
      const before = meanOver(samples, action.ch, action.at - 1_000, action.at);
      const after = meanOver(samples, action.ch, action.at + SETTLE_MS, action.at + SETTLE_MS + 1_000);
      if (before === undefined || after === undefined) continue;
      expect(Math.abs(after - before - action.deltaGrams), `${action.kind} on ch ${action.ch} at ${action.at}`).toBeLessThan(10);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(10);

    // Over the whole run, each tray's settled weight moved by exactly what the truth says.
    for (const { ch } of products) {
      const net = truth.actions.filter((a) => a.ch === ch).reduce((sum, a) => sum + a.deltaGrams, 0);
      const first = meanOver(samples, ch, startedAt, startedAt + 2_000)!;
      const last = meanOver(samples, ch, clock.now() - 2_000, clock.now() + 1)!;
      expect(Math.abs(last - first - net), `net change on ch ${ch}`).toBeLessThan(10);
      expect(shelf.loadGrams(ch)).toBeCloseTo(UNITS * products[ch]!.unitGrams + net, 6);
    }

    // Baskets are the picks minus the put-backs, per shopper.
    for (const visit of truth.visits) {
      const expected: Record<string, number> = {};
      for (const a of truth.actions.filter((x) => x.token === visit.token)) {
        expected[a.sku] = (expected[a.sku] ?? 0) + (a.kind === 'pick' ? a.units : -a.units);
      }
      for (const sku of Object.keys(expected)) if (expected[sku] === 0) delete expected[sku];
      expect(visit.basket).toEqual(expected);
    }

    // The truth is a copy: changing it changes nothing inside.
    truth.visits.length = 0;
    expect(shoppers.groundTruth().visits).toHaveLength(10);
  });

  it('replays the same visits for the same seed and differs for another', () => {
    const run = (seed: string) => {
      const clock = new SimClock();
      const { shoppers } = makeStore('mqtt://127.0.0.1:1', clock, seed, { maxVisits: 30 });
      shoppers.start();
      clock.advance(60 * 60_000);
      shoppers.stop();
      return { truth: shoppers.groundTruth(), stats: shoppers.stats() };
    };
    const a = run('seed-a');
    expect(a.truth.visits).toHaveLength(30);
    expect(a.stats.restocks).toBeGreaterThan(0);
    expect(a.stats.putbacks).toBeGreaterThan(0);
    expect(run('seed-a')).toEqual(a);
    expect(run('seed-b').truth).not.toEqual(a.truth);
  });

  it('never takes more than a tray holds, and restocks low trays', () => {
    const clock = new SimClock();
    const { shelf, shoppers } = makeStore('mqtt://127.0.0.1:1', clock, 'rush', {
      arrivalRatePerMin: 20,
      maxVisits: 200,
      restockDelayMs: 5 * 60_000,
    });
    shoppers.start();
    for (let minute = 0; minute < 30; minute++) {
      clock.advance(60_000);
      for (const [key, units] of Object.entries(shoppers.stock())) {
        expect(units, key).toBeGreaterThanOrEqual(0);
        expect(units, key).toBeLessThanOrEqual(UNITS);
        expect(shelf.loadGrams(Number(key.split('/')[1]))).toBeGreaterThanOrEqual(0);
      }
    }
    const stats = shoppers.stats();
    expect(stats.emptyTrays).toBeGreaterThan(0);
    expect(stats.restocks).toBeGreaterThan(0);
    shoppers.stop();
  });
});
