import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario, type LabelsOutcome } from '@storeedge/simulators';
import { runScenario } from '../../src/cli/sim-command.ts';

const root = resolve(import.meta.dirname, '../../..');

/**
 * The labels scenario (simulators/scenarios/labels-20000.json) through the real agent and ESL
 * gateway simulators over MQTT in simulated time, scaled down for CI: 600 labels on 3 gateways,
 * 40 simulated minutes, with every ingredient of the full one (price changes every 5 minutes, a
 * store-wide change, tag reboots, tags out of range for good and drifting, a gateway restart,
 * purchases at the till every 2 s). The simulators keep what each tag shows; the run compares
 * it with the agent's outputs. The full 20 000-label run is `storeedge sim --scenario
 * simulators/scenarios/labels-20000.json` (figures in docs/esl.md).
 */
describe('labels scenario', () => {
  it('every in-range label converges to its desired content, no charge is above a label, nothing is re-sent unchanged, lost tags raise alerts', { timeout: 900_000 }, async () => {
    const full = loadScenarioFile(resolve(root, 'simulators/scenarios/labels-20000.json'));
    const scenario = parseScenario({
      ...full,
      scenario: 'labels-ci',
      labels: {
        ...full.labels,
        generate: { ...full.labels!.generate!, skus: 600, gateways: 3 },
        durationMs: 40 * 60_000,
        // A tag that missed 14 check-ins (out of range) checks in only hourly (OEPL back-off): the run waits for it.
        settleMs: 3 * 3_600_000,
        priceChanges: { ...full.labels!.priceChanges, storeWideAtMs: [20 * 60_000] },
        // More reboots than the full run's, so a 40-minute run sees several.
        radio: { ...full.labels!.radio, rebootsPerTagPerDay: 4, outOfRangeShare: 0.01 },
        gatewayRestarts: [{ gateway: 'esl-gw-02', atMs: 15 * 60_000 }],
      },
    });
    const report = await runScenario(scenario, {});
    const labels = report.labels as { integrityViolations: number; resentUnchanged: number; truth: LabelsOutcome; alerts: Record<string, number> };
    const t = labels.truth;
    console.log(JSON.stringify({ ...t, alerts: labels.alerts }));

    expect(t.total).toBe(600);
    expect(t.inRange).toBeGreaterThan(550);
    expect(t.converged).toBe(t.inRange);
    expect(t.confirmedByAgent).toBe(t.inRange);
    expect(t.wrongPriceShown).toBe(0);
    expect(t.lagOpen).toBe(0);
    expect(t.priceChanges).toBeGreaterThan(600);
    expect(t.purchases).toBeGreaterThan(1_000);
    expect(t.integrityViolations).toBe(0);
    expect(labels.integrityViolations).toBe(0);
    expect(t.resentUnchanged).toBe(0);
    expect(labels.resentUnchanged).toBe(0);
    expect(t.radio.reboots).toBeGreaterThan(0);
    expect(t.storeWideUpdates).toHaveLength(1);
    expect(t.storeWideUpdates[0]!.confirmMs).not.toBeNull();
    // Every tag out of range at the end was noticed: a stale or unseen label alert each.
    const lost = t.total - t.inRange;
    expect(lost).toBeGreaterThan(0);
    expect((labels.alerts['label-stale'] ?? 0) + (labels.alerts['label-unseen'] ?? 0)).toBeGreaterThanOrEqual(lost);
  });
});
