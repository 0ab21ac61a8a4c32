import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CheckoutScenarioRun, loadScenarioFile } from '@storeedge/simulators';
import { TrackBook } from '../../src/checkout/track-book.ts';
import { formatTrackIdentity } from '../../src/cli/sim-command.ts';

const scenarioPath = fileURLToPath(new URL('../../../simulators/scenarios/checkout-four-within-1m.json', import.meta.url));

/** The same scenario with a tracker that sends no appearance descriptors (position only). */
function withoutLooks<S extends ReturnType<typeof loadScenarioFile>>(scenario: S): S {
  const checkout = scenario.checkout!;
  return { ...scenario, checkout: { ...checkout, tracker: { ...checkout.tracker, look: { ...checkout.tracker.look, dims: 0 } } } };
}

/** `storeedge sim --tracks-only`: the tracker's frames straight into a person book, scored against the truth. */
describe('track identity (sim --tracks-only)', () => {
  const scenario = { ...loadScenarioFile(scenarioPath), seed: 2 };
  const run = () => new CheckoutScenarioRun(scenario, { epochMs: Date.UTC(2026, 0, 5, 8), vision: false });

  it('scores the agent\'s book: every tracker swap of four shoppers within a metre repaired, nobody on another visit', () => {
    const r = run().evaluateTrackIdentity(new TrackBook(scenario.store.gates));
    expect(r.tracker.swaps).toBeGreaterThan(10);
    expect(r.swaps.tracker).toBe(r.tracker.swaps);
    expect(r.swaps).toMatchObject({ right: r.swaps.tracker, false: 0, missed: 0 });
    expect(r.samples.total).toBeGreaterThan(10_000);
    expect(r.samples.wrongVisit).toBe(0);
    expect(r.actions).toMatchObject({ wrongVisit: 0, inDoubt: 0 });
    expect(formatTrackIdentity(scenario, r)).toContain(`repaired right ${r.swaps.tracker}  false 0  missed 0`);
  });

  const groups = { ...loadScenarioFile(fileURLToPath(new URL('../../../simulators/scenarios/checkout-group-entry.json', import.meta.url))), seed: 3 };
  const identity = (s: typeof groups) => new CheckoutScenarioRun(s, { epochMs: Date.UTC(2026, 0, 5, 8), vision: false }).evaluateTrackIdentity(new TrackBook(s.store.gates));

  it('counts what doubt costs: by position alone, group-entry seed 3\'s two shoppers lost together are in doubt at every action of theirs it would get wrong', () => {
    const r = identity(withoutLooks(groups));
    expect(r.stitches.wrongInDoubt).toBeGreaterThan(0);
    expect(r.actions.wrongVisit).toBeGreaterThan(0);
    expect(r.actions.wrongVisitInDoubt).toBe(r.actions.wrongVisit);
    expect(r.actions.inDoubt).toBeGreaterThanOrEqual(r.actions.wrongVisit);
  });

  it('re-identifies them by how they look when the tracker sends appearance: stitched right, no doubt, no action on another visit', () => {
    const r = identity(groups);
    expect(r.stitches).toMatchObject({ wrong: 0, wrongInDoubt: 0 });
    expect(r.actions).toMatchObject({ wrongVisit: 0, inDoubt: 0 });
    expect(r.samples.wrongVisit).toBe(0);
  });

  it('shows what a book that never repairs a swap gets wrong (the figures can fail)', () => {
    const r = new CheckoutScenarioRun(withoutLooks(scenario), { epochMs: Date.UTC(2026, 0, 5, 8), vision: false }).evaluateTrackIdentity(new TrackBook(scenario.store.gates, { swapMarginM: Number.POSITIVE_INFINITY }));
    expect(r.swaps).toMatchObject({ repairs: 0, right: 0, missed: r.swaps.tracker });
    expect(r.samples.wrongVisit / r.samples.total).toBeGreaterThan(0.05);
    expect(r.actions.wrongVisit).toBeGreaterThan(0);
    expect(r.persons.everWrong).toBeGreaterThan(0);
  });
});
