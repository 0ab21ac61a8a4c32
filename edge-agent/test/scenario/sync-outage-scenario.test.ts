import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from '@storeedge/simulators';
import { runScenario } from '../../src/cli/sim-command.ts';
import { skipWithoutMosquitto } from '../helpers/mosquitto.ts';

const root = resolve(import.meta.dirname, '../../..');
const MINUTE = 60_000;

/**
 * The HQ-outage scenario (simulators/scenarios/sync-hq-outage.json: 3 simulated hours, HQ out of
 * reach for 2 of them) scaled down for CI: 30 simulated minutes with the upstream Mosquitto
 * stopped from minute 8 to minute 23. Everything else is the full run's: the in-process agent
 * over real MQTT in simulated time, a real Mosquitto as upstream (persistence on, stopped and
 * started again on its port), the reference HQ in process. The store's ledger and HQ's records
 * are compared only at the end. The full run is `storeedge sim --scenario
 * simulators/scenarios/sync-hq-outage.json` (figures in docs/sync.md).
 */
describe.skipIf(skipWithoutMosquitto)('HQ-outage scenario (skipped: mosquitto not installed)', () => {
  it('loses no sale and duplicates none across a 15-minute HQ outage; the backlog grows while HQ is away and drains after', { timeout: 300_000 }, async () => {
    const full = loadScenarioFile(resolve(root, 'simulators/scenarios/sync-hq-outage.json'));
    const outage = { startMs: 8 * MINUTE, lengthMs: 15 * MINUTE };
    const scenario = parseScenario({
      ...full,
      scenario: 'sync-hq-outage-ci',
      checkout: { ...full.checkout, shoppers: { ...full.checkout!.shoppers, durationMs: 30 * MINUTE } },
      network: { hqOutages: [outage] },
    });
    const report = await runScenario(scenario, { vision: false });
    const sync = report.sync!;
    console.log(JSON.stringify({ ...sync, backlog: sync.backlog.pending.join(' ') }));

    expect(report.visits).toBeGreaterThan(15);
    // Every outbox row is at HQ, once, with the content the store holds.
    expect(sync.uplinkEvents).toBeGreaterThan(100);
    expect(sync.missing).toBe(0);
    expect(sync.duplicates).toBe(0);
    expect(sync.unexpected).toBe(0);
    expect(sync.hqReceived).toBe(sync.uplinkEvents);
    expect(sync.pendingAtEnd).toBe(0);
    expect(sync.rejected).toBe(0);
    expect(sync.finalDrain.drained).toBe(true);
    for (const [stream, n] of Object.entries(sync.streams)) expect(n.hq, stream).toBe(n.store);
    // Every sale: the receipts HQ holds are the store's, with the same totals.
    expect(sync.receipts.store).toBeGreaterThan(15);
    expect(sync.receipts.hq).toBe(sync.receipts.store);
    expect(sync.receipts.mismatched).toBe(0);
    expect(sync.receipts.hqTotalMinor).toBe(sync.receipts.storeTotalMinor);
    // Nothing personal left the store (research/sync.md G12, T12): every message HQ received was
    // scanned for e-mail, phone, card and IBAN formats and for each shopper token the store holds.
    expect(sync.egress.messages).toBeGreaterThan(10);
    expect(sync.egress.scannedBytes).toBe(sync.egress.bytes);
    expect(sync.egress.shopperTokens).toBeGreaterThanOrEqual(report.visits!);
    expect(sync.egress.first).toEqual([]);
    expect(sync.egress.hits).toBe(0);

    // The outage happened where the scenario put it, and the store came back.
    expect(sync.outages).toHaveLength(1);
    const o = sync.outages[0]!;
    expect(o).toMatchObject(outage);
    expect(sync.connects).toBeGreaterThanOrEqual(2);
    expect(o.reconnectedAtMs).toBeGreaterThanOrEqual(outage.startMs + outage.lengthMs);
    // The backlog grew while HQ was away (sampled each simulated minute)…
    const pending = sync.backlog.pending;
    const during = pending.slice(outage.startMs / MINUTE + 1, (outage.startMs + outage.lengthMs) / MINUTE + 1);
    expect(o.pendingAtEnd!).toBeGreaterThan(o.pendingAtStart!);
    expect(o.pendingAtEnd!).toBeGreaterThan(20);
    expect(during.at(-1)!).toBeGreaterThan(during[0]!);
    expect(Math.max(...pending.slice(0, outage.startMs / MINUTE))).toBeLessThan(o.pendingAtEnd!);
    // …and drained to nothing after the reconnect, while the store kept selling.
    expect(o.backlogAtReconnect!).toBeGreaterThan(0);
    expect(o.drainedAtMs).not.toBeNull();
    expect(o.drainedAtMs!).toBeGreaterThanOrEqual(o.reconnectedAtMs!);
    expect(pending.slice((o.drainedAtMs! + MINUTE) / MINUTE).every((n) => n < o.pendingAtEnd!)).toBe(true);
  });
});

describe('the network knob', () => {
  it('takes outages in ascending order without overlap, and only with a checkout section', () => {
    const full = loadScenarioFile(resolve(root, 'simulators/scenarios/sync-hq-outage.json'));
    expect(full.network?.hqOutages).toEqual([{ startMs: 30 * MINUTE, lengthMs: 120 * MINUTE }]);
    expect(() => parseScenario({ ...full, network: { hqOutages: [{ startMs: 0, lengthMs: 2 * MINUTE }, { startMs: MINUTE, lengthMs: MINUTE }] } })).toThrow(/network\.hqOutages: outages must be in ascending order/);
    expect(() => parseScenario({ ...full, network: { hqOutages: [{ startMs: 0, lengthMs: 0 }] } })).toThrow(/network\.hqOutages\.0\.lengthMs/);
    expect(() => parseScenario({ ...full, checkout: undefined, network: { hqOutages: [] } })).toThrow(/network: .*needs a `checkout` section/);
  });
});
