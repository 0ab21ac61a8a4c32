import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReceiptView, SessionView } from '../../src/checkout/checkout-service.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { startAgentProcess, type AgentProcess } from './durability/agent-process.ts';
import { DeviceFleet } from './durability/devices.ts';
import { ShopperScript } from './durability/shopper-script.ts';
import { authorization, devices, gates, registerDevices, trayPoint, trays, writeConfig } from './durability/store.ts';

/**
 * Issue: "Killing the agent (kill -9) mid-session and restarting it loses no cart line and
 * issues no duplicate receipt". The real agent runs as a child process on a temp data dir
 * (real SQLite ledger, embedded broker, HTTP API); the devices are mqtt.js clients publishing at
 * QoS 1 in simulated device time. One shopper picks from tray A, the agent is SIGKILLed and
 * restarted on the same data dir, the shopper (same tracker track id — the tracker is outside the
 * agent and keeps its ids) picks from tray B and leaves through the exit lane: the agent must
 * re-bind the track to the visit from its ledger, keep the first line once, and issue one receipt
 * — also after a second kill -9 right after the receipt.
 */

const [trayA, trayB] = [trays[0]!, trays[1]!];
const epochMs = Date.UTC(2026, 0, 5, 8);
/** Where the shopper stands to reach a tray: 0.35 m in front of its front edge (shoppers are on the −y side). */
const standAt = (trayId: string) => ({ x: trayPoint(trayId).x, y: trayPoint(trayId).y - 0.35 });
const token = 'Vb3_kq9-ZxT2mW8pLr4nQa'; // 22 URL-safe characters, one visit
const trackId = 'trk-0007';

// Offsets from epochMs (device time). Part 1 runs on the first agent, part 2 on the restarted one
// (the gap is the downtime: the devices' clocks go on), part 3 on the agent restarted after the receipt.
const part1 = { from: 0, to: 13_000 };
const part2 = { from: 15_000, to: 29_500 };
const part3 = { from: 31_000, to: 33_000 };
const pickA = 8_500;
const pickB = 19_500;
const vanishAt = 24_800;

const script = new ShopperScript({
  epochMs,
  trackId,
  scans: [{ device: devices.gateIn, at: 3_000, payload: { lane: 'entry', token, party: 1 } }],
  path: [
    { t: 3_200, x: gates.entry.x, y: gates.entry.y }, // appears at the entry lane
    { t: 3_600, x: gates.entry.x, y: gates.entry.y },
    { t: 6_600, ...standAt(trayA.trayId) }, // ≈ 1.2 m/s
    { t: 16_000, ...standAt(trayA.trayId) }, // stays around (across the restart)
    { t: 16_500, ...standAt(trayB.trayId) },
    { t: 21_000, ...standAt(trayB.trayId) },
    { t: 24_300, x: gates.exit.x, y: gates.exit.y }, // ≈ 1.2 m/s to the exit lane
  ],
  vanishAt, // gone from the frames at the exit lane
  reaches: [
    { trayId: trayA.trayId, from: pickA - 700, to: pickA + 500 },
    { trayId: trayB.trayId, from: pickB - 700, to: pickB + 500 },
  ],
  steps: [
    { trayId: trayA.trayId, at: pickA, deltaG: -trayA.unitWeightG },
    { trayId: trayB.trayId, at: pickB, deltaG: -trayB.unitWeightG },
  ],
});

async function getJson<T>(agent: AgentProcess, path: string): Promise<T> {
  const response = await fetch(`${agent.api}${path}`, { headers: { authorization } });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

/** Polls `probe` until it returns a value (not undefined); fails with `what` and the agent's logs after `timeoutMs`. */
async function until<T>(agent: AgentProcess, what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\nagent stderr:\n${agent.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const cartOf = (s: SessionView) => s.cart.map(({ sku, quantity }) => ({ sku, quantity }));

describe('checkout durability under kill -9 (agent child process, real MQTT, real SQLite)', () => {
  let dir = '';
  let agent: AgentProcess | undefined;
  let fleet: DeviceFleet | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-checkout-kill9-'));
  });
  afterEach(async () => {
    await fleet?.close();
    await agent?.kill9();
    fleet = agent = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the cart line picked before the kill exactly once, re-binds the track, and issues exactly one receipt', { timeout: 60_000 }, async () => {
    const { configFile, ledgerFile } = writeConfig(dir);
    const secrets = await registerDevices(ledgerFile);

    // ── part 1: entry, walk to tray A, pick one unit ──────────────────────────────────────
    agent = await startAgentProcess(configFile);
    fleet = await DeviceFleet.connect(agent.mqttUrl, secrets);
    await script.send(fleet, part1.from, part1.to);
    const first = agent;
    const session = await until(agent, 'a session with one cart line from tray A', async () => {
      const { sessions } = await getJson<{ sessions: SessionView[] }>(first, '/api/sessions');
      return sessions.length === 1 && sessions[0]!.lines.length === 1 ? sessions[0] : undefined;
    });
    expect(session).toMatchObject({ state: 'open', party: 1, persons: 1, receiptId: null });
    expect(cartOf(session)).toEqual([{ sku: trayA.sku, quantity: 1 }]);
    expect(session.lines[0]).toMatchObject({ trayId: trayA.trayId, sku: trayA.sku, quantity: 1, reason: 'pick' });
    const lineA = session.lines[0]!;

    // ── kill -9 mid-session, restart on the same data dir ─────────────────────────────────
    await agent.kill9();
    await fleet.close();
    agent = await startAgentProcess(configFile);
    const afterKill = await getJson<SessionView>(agent, `/api/sessions/${session.id}`);
    expect(afterKill).toMatchObject({ id: session.id, state: 'open', persons: 1, lines: [lineA] });

    // ── part 2: same track id, pick from tray B, leave through the exit lane ─────────────
    fleet = await DeviceFleet.connect(agent.mqttUrl, secrets);
    await script.send(fleet, part2.from, part2.to);
    const second = agent;
    const receipt = await until(agent, 'the receipt of the visit', async () => {
      const { receipts } = await getJson<{ receipts: ReceiptView[] }>(second, '/api/receipts');
      return receipts.find((r) => r.sessionId === session.id);
    });
    // kill -9 right after the receipt (its payment hand-off may or may not have been recorded).
    await agent.kill9();
    await fleet.close();

    const expectedLines = [
      { sku: trayB.sku, quantity: 1, unitPriceMinor: trayB.priceMinor, amountMinor: trayB.priceMinor },
      { sku: trayA.sku, quantity: 1, unitPriceMinor: trayA.priceMinor, amountMinor: trayA.priceMinor },
    ].sort((a, b) => a.sku.localeCompare(b.sku));
    expect([...receipt.lines].sort((a, b) => a.sku.localeCompare(b.sku))).toEqual(expectedLines.map((l) => expect.objectContaining(l)));
    expect(receipt).toMatchObject({ sessionId: session.id, currency: 'EUR', totalMinor: trayA.priceMinor + trayB.priceMinor, exitAt: epochMs + vanishAt - 100 });
    expect(receipt).not.toHaveProperty('token');

    // ── restart after the receipt: still one receipt, also after more device traffic ──────
    agent = await startAgentProcess(configFile);
    fleet = await DeviceFleet.connect(agent.mqttUrl, secrets);
    await script.send(fleet, part3.from, part3.to);
    const third = agent;
    await until(third, 'the receipt payment recorded after the restart', async () => {
      const r = await getJson<ReceiptView>(third, `/api/receipts/${receipt.receiptId}`);
      return r.payment.status === 'approved' ? r : undefined;
    });
    const { receipts } = await getJson<{ receipts: ReceiptView[] }>(agent, '/api/receipts');
    expect(receipts.map((r) => r.receiptId)).toEqual([receipt.receiptId]);
    const final = await getJson<SessionView>(agent, `/api/sessions/${session.id}`);
    expect(final).toMatchObject({ state: 'closed', receiptId: receipt.receiptId, persons: 1 });
    expect(final.lines.filter((l) => l.changeId === lineA.changeId)).toEqual([lineA]);
    expect(final.lines.map((l) => [l.trayId, l.sku, l.quantity])).toEqual([
      [trayA.trayId, trayA.sku, 1],
      [trayB.trayId, trayB.sku, 1],
    ]);
    expect(cartOf(final)).toEqual(expectedLines.map(({ sku, quantity }) => ({ sku, quantity })));
    await fleet.close();
    fleet = undefined;
    expect(await agent.stop()).toBe(0);
    agent = undefined;

    // ── the ledger: one visit, one binding of the track, two cart lines, one receipt ─────
    const ledger = Ledger.open(ledgerFile);
    try {
      const events = ledger.events({ stream: 'checkout' });
      const of = (type: string) => events.filter((e) => e.type === type);
      const listing = events.map((e) => `${e.seq} ${e.type} ${e.key}`).join('\n');
      expect(of('checkout.session.opened'), listing).toHaveLength(1);
      // The track was bound once, at the entry; after the restart the agent re-bound it from the ledger.
      expect(of('checkout.person.bound').map((e) => e.payload), listing).toEqual([expect.objectContaining({ trackId, sessionId: session.id, how: 'entered' })]);
      expect(of('checkout.cart.changed').map((e) => (e.payload as { sku: string }).sku), listing).toEqual([trayA.sku, trayB.sku]);
      expect(of('checkout.session.exited'), listing).toHaveLength(1);
      expect(of('checkout.receipt.issued'), listing).toHaveLength(1);
      expect(of('checkout.payment.result'), listing).toHaveLength(1);
      expect(ledger.verifyChain()).toMatchObject({ ok: true });
    } finally {
      ledger.close();
    }
  });
});
