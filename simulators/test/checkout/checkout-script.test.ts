import { trayPlacements } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';
import type { CheckoutActivityInput } from '../../src/checkout/checkout-options.ts';
import { SAME_WEIGHT_G, type CheckoutScript } from '../../src/checkout/checkout-script.ts';
import { distance } from '../../src/checkout/floor-plan.ts';
import { cartsFromActions, type CheckoutCase, type CheckoutTruth, type TrueShelfAction } from '../../src/checkout/truth.ts';
import { parseScenario, type ScenarioFile } from '../../src/scenario/scenario-file.ts';
import { PICKS_ONLY, scriptOf, suiteScenario, withCheckout } from './checkout-helpers.ts';

const base = suiteScenario('put-back');
const DELIBERATE: readonly CheckoutCase[] = ['same-bay', 'same-tray-same-time', 'four-close'];

/** Replays the trays in time order: no tray ever holds fewer than zero units of a SKU. */
function expectStockNeverNegative(scenario: ScenarioFile, script: CheckoutScript): void {
  const stock = new Map<string, number>();
  for (const p of trayPlacements(scenario.store)) for (const f of p.tray.facings) stock.set(`${p.tray.id}/${f.sku}`, f.initial);
  const truth = script.truth();
  const steps = [
    ...truth.actions.map((a) => ({ at: a.startAt, key: `${a.trayId}/${a.sku}`, units: a.kind === 'pick' ? -a.units : a.units, what: `action ${a.n}` })),
    ...script.restocks.map((r) => ({ at: r.startAt, key: `${r.trayId}/${r.sku}`, units: r.units, what: 'restock' })),
  ].sort((a, b) => a.at - b.at);
  for (const step of steps) {
    const next = (stock.get(step.key) ?? 0) + step.units;
    expect(next, step.what).toBeGreaterThanOrEqual(0);
    stock.set(step.key, next);
  }
}

/** Replays what each person holds: a put-back or misplacement only returns units the person holds. */
function expectOnlyHeldUnitsReturned(truth: CheckoutTruth): void {
  const held = new Map<string, number>();
  const add = (person: string, sku: string, units: number) => held.set(`${person}/${sku}`, (held.get(`${person}/${sku}`) ?? 0) + units);
  const steps: Array<{ at: number; run: () => void }> = [
    ...truth.actions.map((a) =>
      a.kind === 'pick'
        ? { at: a.endAt, run: () => add(a.person, a.sku, a.units) }
        : {
            at: a.startAt,
            run: () => {
              expect(held.get(`${a.person}/${a.sku}`) ?? 0, `action ${a.n}`).toBeGreaterThanOrEqual(a.units);
              add(a.person, a.sku, -a.units);
            },
          },
    ),
    ...truth.handOffs.map((h) => ({
      at: h.at,
      run: () => {
        expect(held.get(`${h.from}/${h.sku}`) ?? 0).toBeGreaterThanOrEqual(h.units);
        add(h.from, h.sku, -h.units);
        add(h.to, h.sku, h.units);
      },
    })),
  ].sort((a, b) => a.at - b.at);
  for (const step of steps) step.run();
}

/** Actions on one tray or its neighbours keep `quietMs` apart, except inside one deliberate episode. */
function expectQuietTrays(scenario: ScenarioFile, actions: readonly TrueShelfAction[], quietMs: number): void {
  const neighbours = new Map(trayPlacements(scenario.store).map((p) => [p.tray.id, new Set([p.tray.id, ...p.neighbours])]));
  const sorted = [...actions].sort((a, b) => a.startAt - b.startAt);
  for (let i = 0; i < sorted.length; i++) {
    const a = sorted[i]!;
    for (let j = i + 1; j < sorted.length && sorted[j]!.startAt < a.endAt + 40_000; j++) {
      const b = sorted[j]!;
      if (!neighbours.get(a.trayId)!.has(b.trayId)) continue;
      const episode = DELIBERATE.find((tag) => a.cases.includes(tag) && b.cases.includes(tag));
      if (episode !== undefined && b.startAt - a.startAt <= 3_000) continue;
      expect(b.startAt - a.endAt, `actions ${a.n} and ${b.n} on ${a.trayId} / ${b.trayId}`).toBeGreaterThanOrEqual(quietMs - 1e-6);
    }
  }
}

describe('checkout script (ground truth)', () => {
  it('is the same for the same seed and differs for another', () => {
    const a = scriptOf(base).truth();
    const b = scriptOf(base).truth();
    const c = scriptOf({ ...base, seed: base.seed + 1 }).truth();
    expect(b).toEqual(a);
    expect(c.visits.map((v) => v.token)).not.toEqual(a.visits.map((v) => v.token));
    expect(c.actions).not.toEqual(a.actions);
  });

  it('keeps the books for every scenario of the suite: stock, held units, quiet trays, carts', () => {
    for (const name of ['single-shopper', 'put-back', 'wrong-tray-put-back', 'same-weight-swap', 'multi-unit', 'long-hold', 'two-shoppers-same-bay', 'hand-off', 'four-within-1m', 'group-entry']) {
      const scenario = suiteScenario(name);
      const script = scriptOf(scenario);
      const truth = script.truth();
      expect(truth.actions.length, name).toBeGreaterThan(20);
      expectStockNeverNegative(scenario, script);
      expectOnlyHeldUnitsReturned(truth);
      expectQuietTrays(scenario, truth.actions, scenario.checkout!.trayQuietMs);
      expect(truth.carts).toEqual(cartsFromActions(truth.visits, truth.actions));
      for (const a of truth.actions) {
        expect(Math.sign(a.deltaG), `action ${a.n}`).toBe(a.kind === 'pick' ? -1 : 1);
        expect(a.cases.length).toBeGreaterThan(0);
        expect(a.endAt).toBeGreaterThan(a.startAt);
      }
    }
  });

  it('gives each visit a fresh 22-character URL-safe token and its persons, who leave through the exit', () => {
    const scenario = suiteScenario('group-entry');
    const script = scriptOf(scenario);
    const truth = script.truth();
    const tokens = truth.visits.map((v) => v.token);
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const persons = new Map(script.persons.map((p) => [p.id, p]));
    const entry = scenario.store.gates.find((g) => g.lane === 'entry')!;
    const exit = scenario.store.gates.find((g) => g.lane === 'exit')!;
    for (const visit of truth.visits) {
      expect(visit.persons).toHaveLength(visit.party);
      let last = visit.enterAt;
      for (const id of visit.persons) {
        const p = persons.get(id)!;
        // One by one, within 2 s after the scan, at the entry; gone at the exit.
        expect(p.appearAt).toBeGreaterThan(last);
        expect(p.appearAt).toBeLessThanOrEqual(visit.enterAt + 2_000);
        last = p.appearAt;
        expect(distance(p.torsoAt(p.appearAt), entry)).toBeLessThanOrEqual(0.3 + 1e-9);
        expect(distance(p.torsoAt(p.goneAt), exit)).toBeLessThanOrEqual(0.3 + 1e-9);
        expect(p.goneAt).toBeLessThanOrEqual(visit.exitAt);
      }
      expect(visit.exitAt).toBe(Math.max(...visit.persons.map((id) => persons.get(id)!.goneAt)));
    }
    // The entry admits one party at a time.
    const visits = [...truth.visits].sort((a, b) => a.enterAt - b.enterAt);
    for (let i = 1; i < visits.length; i++) {
      const before = Math.max(...visits[i - 1]!.persons.map((id) => persons.get(id)!.appearAt));
      expect(visits[i]!.enterAt).toBeGreaterThan(before);
    }
  });

  it('reaches the tray front with one hand during the action and stands 0.35 m in front of it', () => {
    const scenario = suiteScenario('put-back');
    const script = scriptOf(scenario);
    const persons = new Map(script.persons.map((p) => [p.id, p]));
    for (const a of script.truth().actions) {
      const site = script.plan.site(a.trayId);
      const p = persons.get(a.person)!;
      const mid = (a.startAt + a.endAt) / 2;
      const torso = p.torsoAt(mid);
      const front = (torso.x - site.point.x) * site.normal.x + (torso.y - site.point.y) * site.normal.y;
      expect(front).toBeCloseTo(0.35, 6);
      const hand = p.handsAt(mid).map((h) => Math.hypot(h.x - site.point.x, h.y - site.point.y, h.z - site.point.z));
      expect(Math.min(...hand)).toBeLessThanOrEqual(site.widthM / 2 + 0.1);
      // Hands hang at the torso between actions.
      const rest = p.handsAt(a.startAt - 1_000);
      for (const h of rest) expect(h.z).toBe(0.9);
    }
  });

  it('counts crowding from the motion: nobody near a lone shopper, three or more for four close', () => {
    const lone = scriptOf(suiteScenario('single-shopper')).truth();
    expect(lone.actions.every((a) => a.crowding === 0)).toBe(true);
    expect(lone.actions.every((a) => !a.cases.includes('crowded'))).toBe(true);
    const four = scriptOf(suiteScenario('four-within-1m')).truth().actions.filter((a) => a.cases.includes('four-close'));
    expect(four.length).toBeGreaterThan(20);
    expect(four.filter((a) => a.crowding >= 3).length / four.length).toBeGreaterThan(0.9);
    for (const a of four) expect(a.cases).toContain('crowded');
  });

  describe('behaviour knobs produce their cases at about the configured rate', () => {
    const busy = (changes: CheckoutActivityInput, seed = 11) =>
      scriptOf(
        withCheckout(
          base,
          { shoppers: { visits: 200, concurrent: 8, durationMs: 8 * 3_600_000 }, party: { groupShare: 0 }, actionsPerPerson: [4, 8], restocks: {}, ...changes },
          seed,
        ),
      ).truth();
    /** Episodes of a case per rolled step: a several-person episode is one step of its initiator. */
    const rate = (truth: CheckoutTruth, tag: CheckoutCase, size = 1) => {
      const episodes = truth.actions.filter((a) => a.cases.includes(tag)).length / size;
      return episodes / (truth.actions.length - (size - 1) * episodes);
    };

    it('put-back, wrong tray, long hold', () => {
      // 0.25 / 1.25 = 0.2 of the steps; a put-back needs a unit in hand (none on a person's first step), so ≈ 0.155.
      const putBack = rate(busy({ mix: { ...PICKS_ONLY, putBack: 0.25 } }), 'put-back');
      expect(putBack).toBeGreaterThan(0.12);
      expect(putBack).toBeLessThan(0.22);
      const wrong = busy({ mix: { ...PICKS_ONLY, wrongTray: 0.25 }, sameWeightShare: 0 });
      expect(rate(wrong, 'wrong-tray')).toBeGreaterThan(0.12);
      expect(rate(wrong, 'wrong-tray')).toBeLessThan(0.22);
      expect(wrong.actions.filter((a) => a.kind === 'misplace').every((a) => a.cases.includes('wrong-tray'))).toBe(true);
      const hold = busy({ mix: { ...PICKS_ONLY, longHold: 0.25 } });
      // A long hold is a pick: never falls back, so 0.2 ± 3.5 σ of ~1,200 steps.
      expect(rate(hold, 'long-hold')).toBeGreaterThan(0.16);
      expect(rate(hold, 'long-hold')).toBeLessThan(0.24);
      for (const a of hold.actions.filter((x) => x.cases.includes('long-hold'))) expect(a.endAt - a.startAt).toBeGreaterThanOrEqual(5_000);
    });

    it('multi-unit picks and same-weight swaps', () => {
      const multi = busy({ mix: PICKS_ONLY, maxUnits: 4, multiUnitShare: 0.3 });
      const picks = multi.actions.filter((a) => a.kind === 'pick');
      const share = picks.filter((a) => a.cases.includes('multi-unit')).length / picks.length;
      expect(share).toBeGreaterThan(0.24);
      expect(share).toBeLessThan(0.36);
      expect(Math.max(...picks.map((a) => a.units))).toBe(4);

      const swap = busy({ mix: { ...PICKS_ONLY, wrongTray: 0.5 }, sameWeightShare: 0.5, sameWeightPickShare: 1 });
      const misplaced = swap.actions.filter((a) => a.kind === 'misplace');
      const sameWeight = misplaced.filter((a) => a.cases.includes('same-weight-swap'));
      expect(sameWeight.length / misplaced.length).toBeGreaterThan(0.4);
      expect(sameWeight.length / misplaced.length).toBeLessThan(0.65);
      const grams = new Map(base.store.catalog.map((c) => [c.sku, c.unitWeightG]));
      const skuOf = new Map(trayPlacements(base.store).map((p) => [p.tray.id, p.tray.facings[0]!.sku]));
      for (const a of sameWeight) {
        expect(skuOf.get(a.trayId)).not.toBe(a.sku);
        expect(Math.abs(grams.get(skuOf.get(a.trayId)!)! - grams.get(a.sku)!)).toBeLessThanOrEqual(SAME_WEIGHT_G);
      }
    });

    it('a misplaced unit is bought by a later shopper at the configured rate, and only while it lies there', () => {
      const changes: CheckoutActivityInput = { mix: { ...PICKS_ONLY, wrongTray: 0.5 }, sameWeightShare: 0.5, sameWeightPickShare: 1 };
      const skuOf = new Map(trayPlacements(base.store).map((p) => [p.tray.id, p.tray.facings[0]!.sku]));
      const misplacedPicks = (truth: CheckoutTruth) => truth.actions.filter((a) => a.kind === 'pick' && a.sku !== skuOf.get(a.trayId));
      const never = busy(changes);
      expect(misplacedPicks(never)).toEqual([]);
      // Its own random stream: drawing the chance for every such pick (and never taking the unit) changes nothing else.
      expect(busy({ ...changes, misplacedPickShare: 1e-9 })).toEqual(never);
      const bought = busy({ ...changes, misplacedPickShare: 0.5 });
      // Of the picks from a tray with a misplaced unit on it, about half take that unit (one each, its own weight).
      const lying = new Map<string, number>();
      let chances = 0;
      let taken = 0;
      for (const a of [...bought.actions].sort((x, y) => x.startAt - y.startAt)) {
        const key = a.trayId;
        const own = skuOf.get(a.trayId);
        if (a.kind !== 'pick' && a.sku !== own) lying.set(key, (lying.get(key) ?? 0) + a.units);
        if (a.kind !== 'pick' || a.cases.includes('same-tray-same-time')) continue;
        if ((lying.get(key) ?? 0) > 0) chances++;
        if (a.sku === own) continue;
        taken++;
        expect(lying.get(key) ?? 0, `action ${a.n}`).toBeGreaterThan(0);
        lying.set(key, lying.get(key)! - a.units);
        expect(a.units).toBe(1);
        expect(a.cases).toContain('wrong-tray');
        expect(a.deltaG).toBeLessThan(0);
      }
      expect(taken).toBe(misplacedPicks(bought).length);
      expect(taken / chances).toBeGreaterThan(0.35);
      expect(taken / chances).toBeLessThan(0.65);
      expect(misplacedPicks(bought).some((a) => a.cases.includes('same-weight-swap'))).toBe(true);
    });

    it('same bay, same tray at the same time, four close: persons of different visits together', () => {
      const truth = busy({ mix: { ...PICKS_ONLY, sameBay: 0.1, sameTraySameTime: 0.1, fourClose: 0.1 } });
      const visitOf = new Map(truth.visits.flatMap((v) => v.persons.map((p) => [p, v.token] as const)));
      // 0.1 / 1.3 ≈ 0.077 each; a step finds no free partner now and then (≈ 0.06 over long runs).
      for (const [tag, size] of [['same-bay', 2], ['same-tray-same-time', 2], ['four-close', 4]] as const) {
        expect(rate(truth, tag, size), tag).toBeGreaterThan(0.035);
        expect(rate(truth, tag, size), tag).toBeLessThan(0.095);
      }
      const bayOf = new Map(trayPlacements(base.store).map((p) => [p.tray.id, p.bay]));
      const partnerOf = (tag: CheckoutCase, a: TrueShelfAction) =>
        truth.actions.find((b) => b !== a && b.cases.includes(tag) && bayOf.get(b.trayId) === bayOf.get(a.trayId) && b.startAt < a.endAt && a.startAt < b.endAt);
      for (const a of truth.actions.filter((x) => x.cases.includes('same-tray-same-time'))) {
        const b = truth.actions.find((x) => x !== a && x.cases.includes('same-tray-same-time') && x.trayId === a.trayId && Math.abs(x.startAt - a.startAt) <= 500)!;
        expect(b).toBeDefined();
        expect(visitOf.get(b.person)).not.toBe(visitOf.get(a.person));
      }
      for (const a of truth.actions.filter((x) => x.cases.includes('same-bay'))) {
        const b = partnerOf('same-bay', a)!;
        expect(b.trayId).not.toBe(a.trayId);
        expect(visitOf.get(b.person)).not.toBe(visitOf.get(a.person));
      }
    });

    it('hand-offs: within 1 m, charges stay with the picker, the receiver sometimes puts the unit back', () => {
      const scenario = withCheckout(base, {
        shoppers: { visits: 120, concurrent: 8, durationMs: 4 * 3_600_000 },
        party: { groupShare: 0 },
        actionsPerPerson: [4, 8],
        mix: { ...PICKS_ONLY, handOff: 0.2 },
        handOffReturnShare: 0.5,
      });
      const script = scriptOf(scenario);
      const truth = script.truth();
      const persons = new Map(script.persons.map((p) => [p.id, p]));
      const tokenOf = new Map(truth.visits.flatMap((v) => v.persons.map((p) => [p, v.token] as const)));
      expect(truth.handOffs.length / truth.actions.length).toBeGreaterThan(0.08);
      for (const h of truth.handOffs) {
        expect(tokenOf.get(h.to)).not.toBe(tokenOf.get(h.from));
        expect(distance(persons.get(h.from)!.torsoAt(h.at), persons.get(h.to)!.torsoAt(h.at))).toBeLessThanOrEqual(1);
      }
      // Put-backs by someone whose visit is not charged are receivers returning a handed unit.
      const returns = truth.actions.filter((a) => a.kind !== 'pick' && tokenOf.get(a.person) !== a.chargedTo);
      expect(returns.length / truth.handOffs.length).toBeGreaterThan(0.35);
      expect(returns.length / truth.handOffs.length).toBeLessThan(0.65);
      for (const a of returns) {
        expect(a.cases).toContain('hand-off');
        expect(truth.handOffs.some((h) => h.to === a.person && h.sku === a.sku && h.at < a.startAt)).toBe(true);
      }
      // The picker is charged: the receiver's cart never holds the handed unit.
      const picked = truth.actions.filter((a) => a.kind === 'pick' && a.cases.includes('hand-off'));
      expect(picked.length).toBeGreaterThan(0);
      for (const a of picked) expect(a.chargedTo).toBe(tokenOf.get(a.person));
    });

    it('group entry', () => {
      const truth = busy({ mix: PICKS_ONLY, party: { groupShare: 0.4, sizes: [2, 4] } }, 5);
      const groups = truth.visits.filter((v) => v.party > 1);
      expect(groups.length / truth.visits.length).toBeGreaterThan(0.28);
      expect(groups.length / truth.visits.length).toBeLessThan(0.52);
      expect(new Set(groups.map((v) => v.party))).toEqual(new Set([2, 3, 4]));
      const grouped = new Set(groups.flatMap((v) => v.persons));
      for (const a of truth.actions) expect(a.cases.includes('group')).toBe(grouped.has(a.person));
    });
  });

  it('keeps about `concurrent` persons in the store and restocks trays that run low', () => {
    const scenario = withCheckout(suiteScenario('crowded-short'), { shoppers: { concurrent: 20, durationMs: 300_000 } });
    const script = scriptOf(scenario);
    const persons = script.persons;
    let most = 0;
    for (let t = 60_000; t < 300_000; t += 5_000) most = Math.max(most, persons.filter((p) => p.present(t)).length);
    expect(most).toBeGreaterThanOrEqual(18);
    expect(most).toBeLessThanOrEqual(20 + 3);
    expect(script.restocks.length).toBeGreaterThan(0);
    expectStockNeverNegative(scenario, script);
    expect(() => parseScenario({ ...scenario, checkout: { ...scenario.checkout, mix: { pick: 1, teleport: 1 } } })).toThrow(/teleport|Unrecognized/);
  });
});
