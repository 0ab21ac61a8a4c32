import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '@storeedge/simulators';
import { runScenario } from '../../src/cli/sim-command.ts';

const root = resolve(import.meta.dirname, '../../..');

/**
 * Issue 3's "done means" for the end-to-end shelf scenario: an in-process agent, 12 simulated
 * shelf controllers over real MQTT, 1,000 shopper actions plus staff restocks in simulated
 * time, σ = 5 g with drift, creep, bursts and cross-talk (research/checkout.md §5.1–5.3). The
 * figures come from the report the simulator computes against its ground truth after the run;
 * the agent only ever sees samples and the restock declarations. Seeds 11 and 23 are checked
 * by hand (`storeedge sim --seed N`; docs/weight-pipeline.md lists their figures).
 */
describe('shelf-picks-1000 scenario (seed 7, simulated time)', () => {
  it('detects shelf events at ≥ 99.5 % precision and recall, every multi-unit pick exact, no inventory drift, every misplaced unit alerted', async () => {
    const scenario = loadScenarioFile(resolve(root, 'simulators/scenarios/shelf-picks-1000.json'));
    const report = await runScenario({ ...scenario, seed: 7 });
    const events = report.shelfEvents as { precision: number; recall: number; multiUnitPicks: number; multiUnitExact: number; trueEvents: number };
    const inventory = report.inventory as { driftUnits: number; misplacedFlagged: number; misplacedTrue: number; misplacedAlerted: number };
    console.log('shelf-picks-1000 seed 7', JSON.stringify({ shelfEvents: report.shelfEvents, inventory: report.inventory }));

    expect(events.trueEvents).toBeGreaterThanOrEqual(1_000);
    expect(events.precision).toBeGreaterThanOrEqual(0.995);
    expect(events.recall).toBeGreaterThanOrEqual(0.995);
    expect(events.multiUnitPicks).toBeGreaterThan(100);
    expect(events.multiUnitExact).toBe(events.multiUnitPicks);
    expect(inventory.misplacedTrue).toBeGreaterThan(0);
    // Believed stock equals true stock for every SKU at the end (restocks declared through the API), and every misplaced unit
    // is held on a row of its own SKU with an open misplaced-item alert for the store manager.
    expect(inventory.driftUnits).toBe(0);
    expect(inventory.misplacedFlagged).toBe(inventory.misplacedTrue);
    expect(inventory.misplacedAlerted).toBe(inventory.misplacedTrue);
  }, 120_000);
});
