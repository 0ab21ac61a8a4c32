import { createHash } from 'node:crypto';
import { eventSchemas, trayPlacements, type GateScanPayload, type TracksPayload, type WeightPayload } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';
import { CheckoutScenarioRun, type CheckoutMessageType } from '../../src/checkout/checkout-run.ts';
import type { CheckoutOutcome } from '../../src/checkout/evaluation.ts';
import type { ScenarioFile } from '../../src/scenario/scenario-file.ts';
import { loadCellNoiseOptions } from '../../src/signal/noise-options.ts';
import { PICKS_ONLY, scriptOf, suiteScenario, withCheckout } from './checkout-helpers.ts';

const EPOCH = 1_700_000_000_000;

interface Message {
  deviceId: string;
  type: CheckoutMessageType;
  payload: WeightPayload | GateScanPayload | TracksPayload;
}

async function collect(scenario: ScenarioFile, restocks: string[] = []): Promise<{ run: CheckoutScenarioRun; messages: Message[]; summary: Awaited<ReturnType<CheckoutScenarioRun['run']>> }> {
  const run = new CheckoutScenarioRun(scenario, { epochMs: EPOCH });
  const messages: Message[] = [];
  const summary = await run.run(
    {
      async publish(deviceId, type, payload) {
        // These scenarios have no cameras; a frame (binary) would fail the schemas below.
        if (Buffer.isBuffer(payload)) throw new Error(`unexpected ${type} from ${deviceId}`);
        messages.push({ deviceId, type, payload });
      },
    },
    {
      staff: {
        async restock(trayId, sku, units) {
          restocks.push(`${messages.length}:${trayId}:${sku}:${units}`);
        },
      },
    },
  );
  return { run, messages, summary };
}

const groups = withCheckout(suiteScenario('group-entry'), {
  shoppers: { visits: 6, arrivalPerMin: 6, durationMs: 120_000 },
  party: { groupShare: 0.5, sizes: [2, 3] },
  exitScan: true,
  tracker: { trackDropoutPerMin: 0, swapProbability: 0 },
});

describe('checkout scenario run', () => {
  it('publishes valid scans, tracker frames and weights in device-time order', async () => {
    const { run, messages, summary } = await collect(groups);
    const kindOf = { weight: 'shelf', scan: 'gate', tracks: 'tracker', frame: 'camera' } as const;
    let last = 0;
    const lastOf = new Map<string, number>();
    for (const m of messages) {
      const schema = eventSchemas[kindOf[m.type]][m.type as never] as { safeParse(v: unknown): { success: boolean } };
      expect(schema.safeParse(m.payload).success, `${m.type} ${JSON.stringify(m.payload).slice(0, 200)}`).toBe(true);
      expect(m.payload.at).toBeGreaterThanOrEqual(last);
      expect(m.payload.at).toBeGreaterThanOrEqual(lastOf.get(m.deviceId) ?? 0);
      last = m.payload.at;
      lastOf.set(m.deviceId, m.payload.at);
    }
    expect(new Set(messages.filter((m) => m.type === 'weight').map((m) => m.deviceId))).toEqual(new Set(run.shelfDeviceIds));
    expect(run.gateDeviceIds).toEqual(['gate-in', 'gate-out']);
    expect(run.trackerDeviceIds).toEqual(['tracker-1']);
    const count = (type: CheckoutMessageType) => messages.filter((m) => m.type === type).length;
    expect(summary.messages).toEqual({ weight: count('weight'), scan: count('scan'), tracks: count('tracks') });
    // One weight message per controller per sample (up to the last frame), one frame per 100 ms, over the whole run.
    const sampleMs = 1_000 / loadCellNoiseOptions.parse(groups.shelves.loadCells).sampleRateHz;
    const perController = count('weight') / run.shelfDeviceIds.length;
    expect(Number.isInteger(perController)).toBe(true);
    expect(perController).toBeGreaterThanOrEqual(Math.floor(summary.simulatedMs / sampleMs) + 1);
    expect(perController).toBeLessThanOrEqual(Math.ceil((summary.simulatedMs + 100) / sampleMs) + 1);
    expect(count('tracks')).toBe(Math.floor(summary.simulatedMs / 100) + 1);
    expect(summary.visits).toBe(6);
    expect(run.visitsSummary()).toEqual({ visits: summary.visits, persons: summary.persons, groupVisits: expect.any(Number) });
    expect(summary.actions.picks).toBeGreaterThan(0);
  });

  it('shows each party entering after its scan and leaving through the exit, where the exit gate scans the token once', async () => {
    const { messages } = await collect(groups);
    const entry = groups.store.gates.find((g) => g.lane === 'entry')!;
    const exit = groups.store.gates.find((g) => g.lane === 'exit')!;
    const scans = messages.filter((m) => m.type === 'scan').map((m) => ({ deviceId: m.deviceId, ...(m.payload as GateScanPayload) }));
    const entries = scans.filter((s) => s.lane === 'entry');
    const exits = scans.filter((s) => s.lane === 'exit');
    expect(entries.every((s) => s.deviceId === 'gate-in')).toBe(true);
    expect(exits.every((s) => s.deviceId === 'gate-out')).toBe(true);
    expect(exits.map((s) => s.token).sort()).toEqual(entries.map((s) => s.token).sort());
    expect(entries.some((s) => s.party > 1)).toBe(true);

    // Tracks seen for the first time, where, and where they were last seen.
    const first = new Map<string, { at: number; x: number; y: number }>();
    const lastSeen = new Map<string, { at: number; x: number; y: number }>();
    for (const m of messages.filter((x) => x.type === 'tracks')) {
      const frame = m.payload as TracksPayload;
      for (const t of frame.tracks) {
        if (!first.has(t.id)) first.set(t.id, { at: frame.at, x: t.x, y: t.y });
        lastSeen.set(t.id, { at: frame.at, x: t.x, y: t.y });
      }
    }
    for (const scan of entries) {
      const born = [...first.values()].filter((f) => f.at > scan.at && f.at <= scan.at + 2_100);
      expect(born).toHaveLength(scan.party);
      for (const f of born) expect(Math.hypot(f.x - entry.x, f.y - entry.y)).toBeLessThan(0.3 + 0.25);
    }
    expect(first.size).toBe(entries.reduce((sum, s) => sum + s.party, 0));
    for (const l of lastSeen.values()) expect(Math.hypot(l.x - exit.x, l.y - exit.y)).toBeLessThan(exit.radiusM);
    // The exit scan comes as the first person of the party reaches the exit.
    const truth = scriptOf(groups).truth();
    const persons = new Map(scriptOf(groups).persons.map((p) => [p.id, p]));
    for (const scan of exits) {
      const visit = truth.visits.find((v) => v.token === scan.token)!;
      expect(scan.at).toBe(Math.round(EPOCH + Math.min(...visit.persons.map((id) => persons.get(id)!.goneAt))));
      expect(scan.party).toBe(visit.party);
    }
  });

  it('is deterministic for a seed', async () => {
    const hash = (messages: Message[]) => createHash('sha256').update(JSON.stringify(messages)).digest('hex');
    const short = withCheckout(groups, { shoppers: { visits: 2, durationMs: 30_000 } });
    expect(hash((await collect(short)).messages)).toBe(hash((await collect(short)).messages));
    expect(hash((await collect({ ...short, seed: 99 })).messages)).not.toBe(hash((await collect(short)).messages));
  });

  it('drives the load cells with the true actions: a long hold presses on the tray before the lift', async () => {
    const suite = suiteScenario('long-hold');
    const permanentMax = loadCellNoiseOptions.parse(suite.shelves.loadCells).crossTalk?.permanentMax ?? 0;
    const scenario = withCheckout(suite, {
      shoppers: { visits: 3, arrivalPerMin: 6, durationMs: 90_000 },
      mix: { ...PICKS_ONLY, pick: 0, longHold: 1 },
      longHoldTouchG: [400, 600],
    });
    const truth = scriptOf(scenario).truth();
    const { messages } = await collect(scenario);
    const where = new Map(trayPlacements(scenario.store).map((p) => [p.tray.id, p.tray]));
    const reading = (trayId: string, from: number, to: number) => {
      const tray = where.get(trayId)!;
      const values = messages
        .filter((m) => m.deviceId === tray.device && m.type === 'weight' && m.payload.at >= EPOCH + from && m.payload.at < EPOCH + to)
        .map((m) => (m.payload as WeightPayload).channels.find((c) => c.ch === tray.channel)!.grams);
      return values.reduce((s, v) => s + v, 0) / values.length;
    };
    const holds = truth.actions.filter((a) => a.cases.includes('long-hold'));
    expect(holds.length).toBeGreaterThan(2);
    for (const a of holds) {
      const before = reading(a.trayId, a.startAt - 2_000, a.startAt - 500);
      expect(reading(a.trayId, a.startAt + 1_000, a.startAt + 4_000) - before).toBeGreaterThan(250);
      // After the lift the tray is lighter by the units taken, less what stays on its (at most two) neighbours: up to permanentMax each.
      const seen = (reading(a.trayId, a.endAt + 1_000, a.endAt + 2_000) - before) / a.deltaG;
      expect(seen).toBeGreaterThan(1 - 2 * permanentMax - 0.03);
      expect(seen).toBeLessThan(1.03);
    }
  });

  it('announces staff restocks when they start, before their weight shows', async () => {
    const scenario = withCheckout(suiteScenario('crowded-short'), { shoppers: { concurrent: 15, durationMs: 120_000 }, restocks: { belowShare: 0.6, delayMs: [1_000, 2_000] } });
    const restocks: string[] = [];
    const { summary, messages } = await collect(scenario, restocks);
    const planned = scriptOf(scenario).restocks;
    expect(summary.actions.restocks).toBe(planned.length);
    expect(planned.length).toBeGreaterThan(0);
    expect(restocks).toHaveLength(planned.length);
    restocks.forEach((call, i) => {
      const [index, trayId, sku, units] = call.split(':');
      const r = planned[i]!;
      expect([trayId, sku, Number(units)]).toEqual([r.trayId, r.sku, r.units]);
      // Announced after the last sample before the restock started and before the first one after.
      expect(messages[Number(index) - 1]!.payload.at).toBeLessThanOrEqual(EPOCH + r.startAt);
      expect(messages[Number(index)]!.payload.at).toBeGreaterThanOrEqual(EPOCH + r.startAt - 100);
    });
  });

  it('evaluates an outcome against the truth and answers reviews from it', async () => {
    const { run } = await collect(groups);
    const truth = scriptOf(groups).truth();
    const price = new Map(groups.store.catalog.map((c) => [c.sku, c.priceMinor]));
    const perfect: CheckoutOutcome = {
      receipts: truth.visits.map((v) => {
        const lines = [...(truth.carts.get(v.token) ?? new Map<string, number>())].map(([sku, quantity]) => ({ sku, quantity }));
        return { token: v.token, lines, totalMinor: lines.reduce((s, l) => s + l.quantity * price.get(l.sku)!, 0), issuedAt: EPOCH + v.exitAt + 1_000, reviewed: false, minConfidence: 1 };
      }),
      cartEvents: truth.actions.filter((a) => a.kind === 'pick').map((a) => ({ token: a.chargedTo, sku: a.sku, quantity: a.units, addedAt: EPOCH + a.endAt + 800 })),
    };
    const report = run.evaluate(perfect);
    expect(report.visits).toBe(truth.visits.length);
    expect(report.receipts.exactMatchRate).toBe(1);
    expect(report.items.f1).toBe(1);

    const pick = truth.actions.find((a) => a.kind === 'pick')!;
    expect(run.reviewAnswer(pick.trayId, EPOCH + pick.startAt, EPOCH + pick.endAt + 500)).toContainEqual({ token: pick.chargedTo, sku: pick.sku, quantity: pick.units });
    expect(run.reviewAnswer(pick.trayId, EPOCH + pick.startAt - 60_000, EPOCH + pick.startAt - 30_000)).toEqual([]);
  });
});
