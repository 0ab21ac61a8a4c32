import { readdirSync, readFileSync } from 'node:fs';
import { trayPlacements } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';
import { SAME_WEIGHT_G } from '../../src/checkout/checkout-script.ts';
import { checkoutSuite, scenarioJsonText } from '../../src/checkout/suite.ts';
import type { CheckoutCase } from '../../src/checkout/truth.ts';
import { loadScenarioFile } from '../../src/scenario/scenario-file.ts';
import { scriptOf, suiteDir } from './checkout-helpers.ts';

const files = readdirSync(suiteDir).filter((f) => /^checkout-.*\.json$/.test(f));

/** The case each scenario is about: most of its actions carry the tag. */
const focus: Record<string, CheckoutCase | undefined> = {
  'checkout-single-shopper.json': 'single',
  'checkout-put-back.json': 'put-back',
  'checkout-wrong-tray-put-back.json': 'wrong-tray',
  'checkout-same-weight-swap.json': 'same-weight-swap',
  'checkout-multi-unit.json': 'multi-unit',
  'checkout-long-hold.json': 'long-hold',
  'checkout-two-shoppers-same-bay.json': 'same-bay',
  'checkout-hand-off.json': 'hand-off',
  'checkout-four-within-1m.json': 'four-close',
  'checkout-group-entry.json': 'group',
  'checkout-crowded.json': 'crowded',
  'checkout-crowded-short.json': 'crowded',
  'checkout-crowded-short-cameras.json': 'crowded',
  'checkout-crush-short.json': 'crowded',
};

describe('checkout scenario suite (simulators/scenarios/checkout-*.json)', () => {
  it('holds exactly the files suite.ts generates (regenerate with `npx tsx simulators/src/checkout/suite.ts`)', () => {
    const generated = checkoutSuite();
    expect(new Set(files)).toEqual(new Set(generated.keys()));
    for (const [file, json] of generated) expect(readFileSync(`${suiteDir}/${file}`, 'utf8'), file).toBe(scenarioJsonText(json));
  });

  it('stores: placed gondolas, entry and exit gates, priced catalog, same-weight pairs and otherwise ≥ 10 g between the SKUs of a shelf', () => {
    for (const file of files) {
      const { store } = loadScenarioFile(`${suiteDir}/${file}`);
      expect(store.gates.map((g) => g.lane).sort(), file).toEqual(['entry', 'exit']);
      expect(store.gondolas.every((g) => g.placement !== undefined)).toBe(true);
      expect(store.catalog.every((c) => c.priceMinor > 0)).toBe(true);
      const grams = new Map(store.catalog.map((c) => [c.sku, c.unitWeightG]));
      const twins = store.catalog.filter((a) => store.catalog.some((b) => b !== a && Math.abs(a.unitWeightG - b.unitWeightG) <= SAME_WEIGHT_G));
      expect(twins.length).toBeGreaterThanOrEqual(6);
      const shelves = new Map<string, string[]>();
      for (const p of trayPlacements(store)) {
        expect(p.tray.facings).toHaveLength(1);
        shelves.set(p.shelf, [...(shelves.get(p.shelf) ?? []), p.tray.facings[0]!.sku]);
      }
      for (const skus of shelves.values()) {
        expect(new Set(skus).size).toBe(skus.length);
        for (const a of skus) {
          for (const b of skus) {
            const d = Math.abs(grams.get(a)! - grams.get(b)!);
            if (a !== b) expect(d <= SAME_WEIGHT_G || d >= 10, `${a} ${b}`).toBe(true);
          }
        }
      }
    }
  });

  it('every non-crowded scenario parses and generates 15–40 visits in at most 15 simulated minutes, with its case', () => {
    for (const file of files.filter((f) => focus[f] !== 'crowded')) {
      const scenario = loadScenarioFile(`${suiteDir}/${file}`);
      const script = scriptOf(scenario);
      const truth = script.truth();
      expect(truth.visits.length, file).toBeGreaterThanOrEqual(15);
      expect(truth.visits.length, file).toBeLessThanOrEqual(40);
      expect(script.end + 5_000, file).toBeLessThanOrEqual(15 * 60_000);
      expect(truth.actions.filter((a) => a.cases.includes(focus[file]!)).length, file).toBeGreaterThanOrEqual(10);
    }
  });

  it('the crowded scenarios generate (script only): about 50 persons in the store', () => {
    for (const file of files.filter((f) => focus[f] === 'crowded')) {
      const scenario = loadScenarioFile(`${suiteDir}/${file}`);
      const script = scriptOf(scenario);
      const truth = script.truth();
      const persons = script.persons;
      const duration = scenario.checkout!.shoppers.durationMs;
      const counts: number[] = [];
      for (let t = 180_000; t < duration; t += 30_000) counts.push(persons.filter((p) => p.present(t)).length);
      counts.sort((a, b) => a - b);
      // The gate refills the store one party at a time, so it dips for a while when several leave together.
      expect(counts[counts.length >> 1], file).toBeGreaterThanOrEqual(47);
      expect(counts[0], file).toBeGreaterThanOrEqual(35);
      expect(counts[counts.length - 1], file).toBeLessThanOrEqual(53);
      expect(script.end, file).toBeLessThan(duration + 120_000);
      expect(truth.actions.filter((a) => a.cases.includes('crowded')).length).toBeGreaterThan(truth.actions.length / 2);
      for (const tag of ['put-back', 'wrong-tray', 'long-hold', 'hand-off', 'same-bay', 'same-tray-same-time', 'four-close', 'group', 'multi-unit'] as const) {
        expect(truth.actions.some((a) => a.cases.includes(tag)), `${file} ${tag}`).toBe(true);
      }
    }
  }, 90_000); // 2 h of 50 shoppers who keep their distance: ~15 s alone, more beside other test files
});
