import { readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '@storeedge/simulators';
import { runScenario } from '../../src/cli/sim-command.ts';

const root = resolve(import.meta.dirname, '../../..');
const dir = resolve(root, 'simulators/scenarios');

/**
 * The checkout scenario suite (simulators/scenarios/checkout-*.json, the MPS hard cases of
 * research/checkout.md §1.5 and §5.2), each run once at seed 1 through an in-process agent over
 * real MQTT in simulated time; the report compares receipts with the simulator's ground truth
 * only after the run.
 *
 * What is asserted: the invariants a shopper must be able to trust on every scenario (one
 * receipt per visit, none missing, none twice, totals that are the priced lines), and floors
 * for receipt exact-match and item F1 set just under what seed 1 measures today — regression
 * guards. Issue 4's own targets (exact ≥ 98 %, F1 ≥ 0.99, every case ≥ 0.9, reviewed ≤ 5 %,
 * unreviewed wrong ≤ 0.5 %) are NOT met yet; docs/checkout.md lists the figures per scenario and
 * seed and what fails. The crowded runs (and the over-capacity crush-short) take minutes each and are
 * measured with `storeedge sim` and `storeedge bench checkout`, not here.
 */
const floors: Record<string, { exact: number; f1: number }> = {
  'checkout-single-shopper': { exact: 1, f1: 1 },
  'checkout-put-back': { exact: 1, f1: 1 },
  // Seed 1: 100 % → 95.8 % (F1 0.990) since a later shopper buys misplaced units (2026-12-07): a unit put on a 1.2 kg-unit tray
  // and bought from there 26 s later, while the weight pipeline still held the put-down (a hand may rest there), come back to
  // the level together and neither is seen (docs/checkout.md "misplaced units bought").
  'checkout-wrong-tray-put-back': { exact: 0.95, f1: 0.98 },
  'checkout-same-weight-swap': { exact: 0.95, f1: 0.98 },
  'checkout-multi-unit': { exact: 1, f1: 1 },
  'checkout-long-hold': { exact: 1, f1: 1 },
  'checkout-two-shoppers-same-bay': { exact: 0.96, f1: 0.99 }, // seed 1: 96.7 % → 100 % since a pick by a shopper the tracker lost beside the tray is theirs (2026-12-06)
  'checkout-hand-off': { exact: 0.96, f1: 0.99 },
  'checkout-four-within-1m': { exact: 0.96, f1: 0.99 }, // 0.9 / 0.94 before the swap repair judged a window of frames (seed 1: 93.8 % → 100 %, F1 0.946 → 1.000)
  'checkout-group-entry': { exact: 0.95, f1: 0.99 },
};

interface Report {
  visits: number;
  receipts: { exactMatchRate: number; missing: number; duplicates: number; totalMismatches: number; unknownTokens: number };
  items: { f1: number };
  review: { rate: number; unreviewedErrorRate: number };
}

describe('checkout scenario suite (seed 1, simulated time, real MQTT)', () => {
  const files = readdirSync(dir).filter((f) => f.startsWith('checkout-') && f.endsWith('.json') && !/^checkout-(crowded|crush)/.test(f));

  it('has a file for every hard case', () => {
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(Object.keys(floors).sort());
  });

  for (const file of files) {
    const name = file.replace(/\.json$/, '');
    const withCameras = loadScenarioFile(resolve(dir, file)).vision?.enabled === true;
    it(`${name}: one correct-total receipt per visit, and no worse than today`, async () => {
      const scenario = loadScenarioFile(resolve(dir, file));
      const report = await runScenario({ ...scenario, seed: 1 });
      const c = report.checkout as unknown as Report;
      console.log(name, JSON.stringify({ visits: c.visits, exact: c.receipts.exactMatchRate, f1: c.items.f1, reviewed: c.review.rate, unreviewedWrong: c.review.unreviewedErrorRate, vision: report.vision?.enabled ?? false }));
      // A scenario with shelf cameras sends its frames, and the agent accepts every one.
      if (withCameras) expect(report.vision).toMatchObject({ enabled: true, agent: { rejected: {} } });
      if (withCameras) expect(report.vision!.agent!.accepted).toBe(report.vision!.frames);
      expect(c.visits).toBeGreaterThan(10);
      expect(c.receipts.missing).toBe(0);
      expect(c.receipts.duplicates).toBe(0);
      expect(c.receipts.unknownTokens).toBe(0);
      expect(c.receipts.totalMismatches).toBe(0);
      expect(c.receipts.exactMatchRate).toBeGreaterThanOrEqual(floors[name]!.exact);
      expect(c.items.f1).toBeGreaterThanOrEqual(floors[name]!.f1);
    }, withCameras ? 900_000 : 300_000); // 60 Hz load cells: about a minute each on one core; rendering the camera frames adds 3–4 minutes
  }
});
