import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/random.ts';
import { loadScenarioFile, parseScenario } from '../../src/scenario/scenario-file.ts';
import { evaluateInventory, evaluateShelfEvents, type ReportedShelfChange } from '../../src/scenario/shelf-evaluation.ts';
import { ShelfScript, type ScriptedShelfAction } from '../../src/scenario/shelf-script.ts';

const suite = resolve(import.meta.dirname, '../../scenarios');

describe('shelf scenario script (ground truth)', () => {
  const scenario = loadScenarioFile(`${suite}/shelf-picks-1000.json`);

  it('generates the asked number of shopper actions plus restocks, never a negative tray, and keeps the books', () => {
    const script = new ShelfScript(scenario.store, scenario.shelfActivity!, new Rng(scenario.seed));
    script.generate(0);
    const shopper = script.actions.filter((a) => a.kind !== 'restock');
    expect(shopper).toHaveLength(1_000);
    expect(script.actions.filter((a) => a.kind === 'restock').length).toBeGreaterThan(0);
    expect(script.actions.filter((a) => a.kind === 'misplace').length).toBeGreaterThan(20);
    expect(script.actions.filter((a) => a.kind === 'pick' && a.units > 1).length).toBeGreaterThan(50);

    // Replay the actions in time order: no tray ever holds fewer than zero units of a SKU.
    const stock = new Map<string, number>();
    for (const g of scenario.store.gondolas) for (const b of g.bays) for (const s of b.shelves) for (const t of s.trays) for (const f of t.facings) stock.set(`${t.id}/${f.sku}`, f.initial);
    for (const a of [...script.actions].sort((x, y) => x.startAt - y.startAt)) {
      const key = `${a.trayId}/${a.sku}`;
      const next = (stock.get(key) ?? 0) + (a.kind === 'pick' ? -a.units : a.units);
      expect(next, `action ${a.n}`).toBeGreaterThanOrEqual(0);
      stock.set(key, next);
      expect(Math.sign(a.deltaG)).toBe(a.kind === 'pick' ? -1 : 1);
    }
    for (const [key, units] of stock) {
      const [tray, sku] = key.split('/') as [string, string];
      expect(script.stock.get(tray)?.get(sku) ?? 0).toBe(units);
    }
  });

  it('keeps a tray and its neighbours quiet between actions, so every action is a separate event', () => {
    const script = new ShelfScript(scenario.store, scenario.shelfActivity!, new Rng(3));
    script.generate(0);
    const byTray = new Map<string, ScriptedShelfAction[]>();
    for (const a of script.actions) byTray.set(a.trayId, [...(byTray.get(a.trayId) ?? []), a]);
    for (const list of byTray.values()) {
      list.sort((a, b) => a.startAt - b.startAt);
      for (let i = 1; i < list.length; i++) expect(list[i]!.startAt - list[i - 1]!.endAt).toBeGreaterThanOrEqual(scenario.shelfActivity!.trayQuietMs);
    }
  });

  it('is the same for the same seed and differs for another', () => {
    const a = new ShelfScript(scenario.store, scenario.shelfActivity!, new Rng(1));
    const b = new ShelfScript(scenario.store, scenario.shelfActivity!, new Rng(1));
    const c = new ShelfScript(scenario.store, scenario.shelfActivity!, new Rng(2));
    a.generate(0);
    b.generate(0);
    c.generate(0);
    expect(b.actions).toEqual(a.actions);
    expect(c.actions).not.toEqual(a.actions);
  });

  it('rejects a scenario with a typo in a section name or an invalid store', () => {
    expect(() => parseScenario({ ...scenario, shelfActivty: {} })).toThrow(/SIM_ERR_CONFIG_INVALID|shelfActivty|Unrecognized/);
    expect(() => parseScenario({ ...scenario, store: { ...scenario.store, zones: [] } })).toThrow(/zones/);
  });
});

describe('shelf scenario evaluation', () => {
  const action = (n: number, over: Partial<ScriptedShelfAction> = {}): ScriptedShelfAction => ({
    n,
    kind: 'pick',
    trayId: 't1',
    sku: 'a',
    units: 1,
    deltaG: -100,
    startAt: n * 10_000,
    endAt: n * 10_000 + 1_500,
    ...over,
  });
  const change = (a: ScriptedShelfAction, over: Partial<ReportedShelfChange> = {}): ReportedShelfChange => ({
    trayId: a.trayId,
    startAt: a.startAt + 100,
    settledAt: a.endAt + 600,
    deltaG: a.deltaG,
    sku: a.sku,
    quantity: a.kind === 'pick' ? -a.units : a.units,
    misplaced: false,
    ...over,
  });

  it('counts matches, misses, spurious detections, quantity and sign errors', () => {
    const truth = [action(1), action(2, { units: 3, deltaG: -300 }), action(3, { kind: 'put-back', deltaG: 100 }), action(4)];
    const detected = [
      change(truth[0]!),
      change(truth[1]!, { quantity: -2 }), // wrong quantity
      change(truth[2]!, { deltaG: -100, quantity: -1 }), // wrong sign
      change(action(9)), // nothing happened then
      change(truth[0]!, { trayId: 't2' }), // wrong tray
    ];
    const r = evaluateShelfEvents(truth, detected);
    expect(r.matched).toBe(3);
    expect(r.precision).toBeCloseTo(3 / 5);
    expect(r.recall).toBeCloseTo(3 / 4);
    expect(r.signErrors).toBe(1);
    expect(r.quantityExactRate).toBeCloseTo(1 / 3);
    expect(r.multiUnitPicks).toBe(1);
    expect(r.multiUnitExact).toBe(0);
    expect(r.missed.map((a) => a.n)).toEqual([4]);
  });

  it('does not match a detection more than the tolerance away', () => {
    const a = action(1);
    expect(evaluateShelfEvents([a], [change(a, { startAt: a.endAt + 1_500, settledAt: a.endAt + 2_500 })]).matched).toBe(0);
    expect(evaluateShelfEvents([a], [change(a, { startAt: a.endAt + 900, settledAt: a.endAt + 2_000 })]).matched).toBe(1);
  });

  it('measures inventory drift per SKU', () => {
    const r = evaluateInventory(new Map([['a', 5], ['b', 3], ['c', 0]]), new Map([['a', 5], ['b', 4]]), 2, 3);
    expect(r).toMatchObject({ driftUnits: 1, misplacedFlagged: 2, misplacedTrue: 3 });
    expect(r.accuracy).toBeCloseTo(2 / 3);
    expect(r.differences).toEqual([{ sku: 'b', believed: 4, true: 3 }]);
  });
});
