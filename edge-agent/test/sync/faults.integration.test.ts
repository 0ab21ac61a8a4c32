import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parseUplinkAck, parseUplinkBatch, toRanges, type UplinkAck, type UplinkBatch } from '@storeedge/sync';
import { HqStore } from '@storeedge/sync/hq/index.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { silentLogger } from '../../src/log.ts';
import { PriceBook } from '../../src/pricing/index.ts';
import { syncSettingsSchema } from '../../src/sync/settings.ts';
import { SyncService } from '../../src/sync/sync-service.ts';
import { skipWithoutMosquitto } from '../../../sync/test/helpers/mosquitto.ts';
import { CheckoutDriver, EPOCH_MS, smallCheckoutScenario, type TimedFault } from './helpers/checkout-driver.ts';
import { expectHqHoldsExactlyTheOutbox, readHq, readStoreOutbox } from './helpers/exactly-once.ts';
import { managerPriceChange, syncHealth, waitFor } from './helpers/probes.ts';
import { killAllStoreedgeProcesses } from './helpers/storeedge-process.ts';
import { SyncRig, type AgentSetup, type RunningAgent } from './helpers/sync-rig.ts';

/**
 * Issue 7, done-means 1: "Fault tests with real processes: Mosquitto stopped for a while
 * mid-scenario; the agent kill -9'd during sync; HQ restarted; duplicated and reordered
 * deliveries. After recovery HQ holds exactly the store's receipts and stock events — counts and
 * content match the store's ledger, no duplicates, no gaps." (research/sync.md T4, T5; G3, G4,
 * G5, G10.)
 *
 * Real processes: a Mosquitto upstream broker (persistence on, the ACL of docs/sync.md), the
 * reference HQ as `storeedge hq serve` (key from `storeedge hq keygen`), and per test a store
 * agent as `storeedge agent --config FILE`, into which the checkout simulator plays shoppers
 * (gate scans, tracker frames, load cells) over the agent's MQTT broker: the agent issues
 * receipts and books shelf changes, and its outbox carries them (with payments and device
 * lifecycle) to HQ. Faults are placed in the scenario's device time. At the end each test stops
 * the agent and compares both SQLite files (`expectHqHoldsExactlyTheOutbox`).
 *
 * The broker and HQ are shared by the tests (one store id each); after a failure the next test
 * starts them again if needed.
 */

const STORE = {
  broker: 'store-broker-down',
  kill9: 'store-kill9',
  hqRestart: 'store-hq-restart',
  replay: 'store-replay',
  restored: 'store-restored',
} as const;

/** A client that captures the store's batches and the acks, and plays them at HQ again (a broker duplicating and reordering). */
const REPLAYER = { username: 'replayer', password: 'replayer-pw-0123456789' };
const replayerAcl = `
user ${REPLAYER.username}
topic read storeedge/v1/+/up/batch
topic write storeedge/v1/+/up/batch
topic read storeedge/v1/+/down/ack
`;

/** The SKU a manager reprices mid-run (an outbox row at a moment the test picks). */
const REPRICED_SKU = 'sku-01';

let rig: SyncRig;
/** The agent of the running test (killed in afterEach if the test failed before stopping it). */
let current: StoreUnderTest | undefined;

interface StoreUnderTest {
  setup: AgentSetup;
  agent: RunningAgent;
  driver: CheckoutDriver;
}

beforeAll(async () => {
  if (skipWithoutMosquitto) return;
  rig = await SyncRig.create({ stores: Object.values(STORE), extraUsers: { [REPLAYER.username]: REPLAYER.password }, extraAcl: replayerAcl });
  await rig.startHq();
}, 60_000);

afterEach(async () => {
  if (skipWithoutMosquitto) return;
  await current?.agent.process.kill('SIGKILL');
  current = undefined;
  // A failed test must not leave the next one without its broker or HQ.
  rig.hq?.process.resume();
  if (!rig.broker.running) await rig.broker.start();
  await rig.startHq();
}, 60_000);

afterAll(async () => {
  await killAllStoreedgeProcesses();
  await rig?.dispose();
}, 60_000);

/** What the running test did when (wall ms since it started), printed with the processes' logs if it fails. */
let timeline: string[] = [];
let testStarted = 0;
function note(what: string): void {
  timeline.push(`${String(Math.round(performance.now() - testStarted)).padStart(6)} ms  ${what}`);
}

/** A store with the cut-down checkout scenario, its devices registered, its agent started. */
async function openStore(storeId: string): Promise<StoreUnderTest> {
  timeline = [];
  testStarted = performance.now();
  const driver = new CheckoutDriver(smallCheckoutScenario({ visits: 6, concurrent: 2, durationMs: 50_000 }));
  const setup = await rig.setUpAgent(storeId, { model: driver.scenario.store, devices: driver.devices });
  const store: StoreUnderTest = { setup, agent: await rig.startAgent(setup), driver };
  const hq = rig.hq;
  // Runs after afterEach: everything it needs is held here, not in `current`.
  onTestFailed(() => {
    console.error(
      `${storeId}: what happened\n${timeline.join('\n')}\n` +
        `agent (${store.agent.process.running ? 'running' : 'gone'}) stderr:\n${store.agent.process.stderr().slice(-8_000)}\n` +
        `hq stderr:\n${(rig.hq ?? hq)?.process.stderr().slice(-4_000) ?? '(none)'}`,
    );
  });
  current = store;
  note('agent started');
  return current;
}

async function play(store: StoreUnderTest, faults: TimedFault[]) {
  const noted = faults.map((fault) => ({
    atMs: fault.atMs,
    run: async () => {
      note(`fault at device time ${fault.atMs} ms`);
      await fault.run();
      note(`fault at device time ${fault.atMs} ms done`);
    },
  }));
  const summary = await store.driver.play({ storeId: store.setup.storeId, mqttUrl: store.setup.mqttUrl, secrets: store.setup.secrets, faults: noted, settleTailMs: 10_000 });
  note(`scenario played: ${summary.visits} visits, ${summary.simulatedMs} ms of device time`);
  return summary;
}

const agentLog = (store: StoreUnderTest) => () => `agent stderr:\n${store.agent.process.stderr().slice(-4_000)}\nhq stderr:\n${rig.hq?.process.stderr().slice(-2_000) ?? '(not running)'}`;

/**
 * After recovery: the outbox drains by itself (no new local write, T14), the agent stops
 * cleanly, and HQ holds exactly its outbox — receipts and stock events among it.
 */
async function expectRecovered(store: StoreUnderTest) {
  await waitFor(
    'the outbox to drain',
    async () => {
      const sync = await syncHealth(store.agent.api);
      return sync.connected && sync.pending === 0 ? sync : undefined;
    },
    { timeoutMs: 60_000, context: agentLog(store) },
  );
  note('outbox drained');
  expect(await store.agent.process.stop(), agentLog(store)()).toBe(0);
  note('agent stopped');
  const compared = expectHqHoldsExactlyTheOutbox(store.setup.ledgerFile, rig.hqDatabase, store.setup.storeId);
  expect(compared.byType['checkout.receipt.issued'] ?? 0).toBeGreaterThanOrEqual(3);
  expect(compared.byType['checkout.payment.result'] ?? 0).toBe(compared.byType['checkout.receipt.issued']);
  expect(compared.byType['inventory.shelf.changed'] ?? 0).toBeGreaterThanOrEqual(3);
  // G12: the shopper's payment token never left the store.
  expect(JSON.stringify(compared.hq.records)).not.toMatch(/"token"/);
  return compared;
}

/** Receipts whose device time falls in [fromMs, toMs) of the scenario. */
function receiptsIssuedBetween(ledgerFile: string, fromMs: number, toMs: number): number {
  return readStoreOutbox(ledgerFile).records.filter((r) => {
    if (r.type !== 'checkout.receipt.issued') return false;
    const at = (r.payload as { issuedAt: number }).issuedAt - EPOCH_MS;
    return at >= fromMs && at < toMs;
  }).length;
}

describe.skipIf(skipWithoutMosquitto)('HQ sync under faults, with real processes (skipped: mosquitto not installed)', () => {
  it('a: Mosquitto stopped mid-scenario and started again (and later killed -9): the store keeps selling, then HQ holds exactly its outbox', async () => {
    const store = await openStore(STORE.broker);
    const { api } = store.agent;
    const outage = { fromMs: 15_000, toMs: 35_000 };
    let whileDown: Awaited<ReturnType<typeof syncHealth>> | undefined;
    await play(store, [
      {
        atMs: outage.fromMs,
        run: async () => {
          await rig.broker.stop(); // SIGTERM: Mosquitto saves its sessions and queued messages
          await waitFor('the store to see the link down', async () => ((await syncHealth(api)).connected ? undefined : true), { context: agentLog(store) });
          await managerPriceChange(api, REPRICED_SKU, 85);
        },
      },
      {
        atMs: outage.toMs,
        run: async () => {
          whileDown = await syncHealth(api);
          await rig.broker.start();
        },
      },
      {
        // Killed: whatever it held and had not saved is gone (HQ's queued batches, PUBACKed
        // messages); the store's outbox, not the broker, has to make up for it.
        atMs: 45_000,
        run: async () => {
          await rig.broker.kill();
          await rig.broker.start();
        },
      },
    ]);
    expect(whileDown).toMatchObject({ connected: false });
    expect(whileDown!.pending).toBeGreaterThan(0);
    expect(whileDown!.backlog.map((b) => b.stream)).toContain('checkout');
    await expectRecovered(store);
    // Shoppers were charged while HQ was unreachable: those receipts are among what HQ holds.
    expect(receiptsIssuedBetween(store.setup.ledgerFile, outage.fromMs, outage.toMs)).toBeGreaterThan(0);
  }, 120_000);

  it('b: the agent kill -9\'d with batches in flight and restarted on the same data dir: nothing lost, nothing twice', async () => {
    const store = await openStore(STORE.kill9);
    let pendingAtKill = 0;
    await play(store, [
      {
        // HQ frozen (SIGSTOP): batches reach the broker but no ack comes back.
        atMs: 20_000,
        run: () => rig.hq!.process.pause(),
      },
      {
        atMs: 32_000,
        run: async () => {
          const { api } = store.agent;
          await managerPriceChange(api, REPRICED_SKU, 86);
          const inFlight = await waitFor(
            'batches in flight, unacknowledged',
            async () => {
              const sync = await syncHealth(api);
              return sync.uplink.inFlightBatches > 0 && sync.pending > 0 ? sync : undefined;
            },
            { context: agentLog(store) },
          );
          pendingAtKill = inFlight.pending;
          await store.agent.process.kill('SIGKILL'); // no handlers, no ledger close, no offline status
          rig.hq!.process.resume(); // HQ ingests what the broker queued for it; its acks go to a dead client's session
          store.agent = await rig.startAgent(store.setup); // same data dir, same device broker port: the devices reconnect
        },
      },
    ]);
    expect(pendingAtKill).toBeGreaterThan(0);
    const { hq } = await expectRecovered(store);
    // The restarted agent sent again what its predecessor had in flight; HQ kept one copy.
    expect(hq.duplicates).toBeGreaterThan(0);
  }, 120_000);

  it('c: HQ restarted mid-scenario, once with SIGTERM and once with SIGKILL: HQ holds exactly the store\'s outbox', async () => {
    const store = await openStore(STORE.hqRestart);
    let failuresWhileHqDown = 0;
    // HQ comes back while the shoppers go on (its start is not awaited by the scenario).
    let hqBack: Promise<unknown> = Promise.resolve();
    await play(store, [
      { atMs: 15_000, run: async () => void expect(await rig.hq!.process.stop()).toBe(0) },
      {
        atMs: 30_000,
        run: async () => {
          const { api } = store.agent;
          await managerPriceChange(api, REPRICED_SKU, 87);
          // The store's batches wait in HQ's persistent session; the store's ack timeout fires and it re-sends.
          const sync = await waitFor('an ack timeout at the store', async () => {
            const s = await syncHealth(api);
            return s.uplink.consecutiveFailures > 0 ? s : undefined;
          }, { context: agentLog(store) });
          failuresWhileHqDown = sync.uplink.consecutiveFailures;
          hqBack = rig.startHq();
        },
      },
      {
        atMs: 42_000,
        run: async () => {
          await hqBack;
          await rig.hq!.process.kill('SIGKILL'); // mid-ingest or not: no close, no checkpoint
        },
      },
      {
        atMs: 52_000,
        run: async () => {
          await managerPriceChange(store.agent.api, REPRICED_SKU, 88);
          hqBack = rig.startHq();
        },
      },
    ]);
    await hqBack;
    expect(failuresWhileHqDown).toBeGreaterThan(0);
    const { hq } = await expectRecovered(store);
    expect(hq.duplicates).toBeGreaterThan(0);
  }, 150_000);

  it('d: duplicated and reordered deliveries of the store\'s own batches change nothing at HQ, and every ack is still right', async () => {
    // MQTT 5 for "no local": the replayer captures the store's batches, not its own copies of them.
    const replayer = await mqtt.connectAsync(rig.broker.url, { clientId: REPLAYER.username, username: REPLAYER.username, password: REPLAYER.password, protocolVersion: 5, reconnectPeriod: 200 });
    try {
      const topics = { batch: `storeedge/v1/${STORE.replay}/up/batch`, ack: `storeedge/v1/${STORE.replay}/down/ack` };
      const captured: Buffer[] = [];
      const acks: UplinkAck[] = [];
      replayer.on('message', (topic, payload) => {
        if (topic === topics.batch) captured.push(Buffer.from(payload));
        else if (topic === topics.ack) {
          const parsed = parseUplinkAck(payload);
          if (parsed.ok) acks.push(parsed.ack);
        }
      });
      await replayer.subscribeAsync([topics.batch, topics.ack], { qos: 1, nl: true });
      const replay = (payloads: Buffer[]) => Promise.all(payloads.map((p) => replayer.publishAsync(topics.batch, p, { qos: 1 })));

      const store = await openStore(STORE.replay);
      let liveReplays = 0;
      await play(store, [
        // While the store is still sending: its earlier batches again, newest first, twice each.
        {
          atMs: 30_000,
          run: async () => {
            const copies = [...captured].reverse().flatMap((p) => [p, p]);
            liveReplays += copies.length;
            await replay(copies);
          },
        },
        { atMs: 50_000, run: async () => void (liveReplays += (await replay(shuffled([...captured, ...captured], 7))).length) },
      ]);
      expect(liveReplays).toBeGreaterThan(0);
      await waitFor('the outbox to drain', async () => {
        const sync = await syncHealth(store.agent.api);
        return sync.connected && sync.pending === 0 ? true : undefined;
      }, { timeoutMs: 60_000, context: agentLog(store) });

      // Every batch the store ever sent, all at once, shuffled, three times each — once HQ's acks
      // of everything so far are in (one per batch it ingested), so the count below is of these.
      const batches = captured.map((p) => parseBatch(p));
      const before = readHq(rig.hqDatabase, STORE.replay);
      await waitFor('HQ\'s acks of the run', () => (acks.length >= before.summary!.counters.batches ? true : undefined));
      expect(acks).toHaveLength(before.summary!.counters.batches);
      acks.length = 0;
      const deliveries = shuffled([...captured, ...captured, ...captured], 11);
      await replay(deliveries);
      await waitFor('an ack for every replayed delivery', () => (acks.length >= deliveries.length ? true : undefined), { context: agentLog(store) });
      const after = readHq(rig.hqDatabase, STORE.replay);
      expect(after.summary?.held).toBe(before.summary?.held);
      expect(after.summary?.counters.recordsNew).toBe(before.summary?.counters.recordsNew);
      expect(after.records).toEqual(before.records);
      const replayedRecords = deliveries.reduce((n, p) => n + parseBatch(p).records.length, 0);
      expect(after.duplicates - before.duplicates).toBe(replayedRecords);
      // Each ack names exactly the replayed batch's seqs as held, refuses nothing, and gives the final watermark.
      const maxSeq = Math.max(...batches.flatMap((b) => b.records.map((r) => r.seq)));
      expect(acks).toHaveLength(deliveries.length);
      for (const ack of acks) {
        const candidates = batches.filter((b) => b.batch === ack.batch).map((b) => toRanges(b.records.map((r) => r.seq)));
        expect(candidates, `ack for ${ack.batch}`).toContainEqual(ack.acked);
        expect(ack).toMatchObject({ epoch: batches[0]!.epoch, rejected: [], watermark: maxSeq });
      }
      // The store heard those acks too: nothing of it changed (its rows were sent already).
      expect(await syncHealth(store.agent.api)).toMatchObject({ pending: 0, rejected: 0 });
      await expectRecovered(store);

      // The same deliveries, shuffled and duplicated, into an empty HQ database: at every step the
      // watermark is the contiguous prefix of what arrived and the gaps are exactly the holes
      // above it (T5: the watermark never passes a gap); at the end it holds exactly the outbox.
      const fresh = HqStore.open(':memory:');
      try {
        const seen = new Set<number>();
        let sawGap = false;
        for (const payload of shuffled([...captured, ...captured], 23)) {
          const batch = parseBatch(payload);
          const ack = fresh.ingest(STORE.replay, batch, Date.now());
          for (const r of batch.records) seen.add(r.seq);
          let prefix = 0;
          while (seen.has(prefix + 1)) prefix += 1;
          expect(ack.watermark).toBe(prefix);
          const holes = holesAbove(prefix, seen);
          sawGap ||= holes.length > 0;
          expect(fresh.gaps(STORE.replay).map((g) => [g.from, g.to])).toEqual(holes);
        }
        expect(sawGap).toBe(true);
        expectHqHoldsExactlyTheOutbox(store.setup.ledgerFile, fresh, STORE.replay);
      } finally {
        fresh.close();
      }
    } finally {
      await replayer.endAsync(true);
    }
  }, 150_000);

  it('a record under a key HQ holds with other content is refused (SYNC_ERR_UPLINK_CONFLICT), kept first at HQ and marked rejected at the store', async () => {
    // A store restored onto a new ledger file (a new epoch, G13) re-sends what it had sold — one
    // receipt identical, one with the same key but other content — and something new.
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-restored-'));
    const settings = syncSettingsSchema.parse({
      upstream: { url: rig.broker.url, password: rig.storePassword(STORE.restored), reconnectMinMs: 100, reconnectMaxMs: 1_000 },
      trustedKeys: [rig.hqKey],
      uplink: { pollIntervalMs: 20, ackTimeoutMs: 3_000, retryBaseMs: 100, retryMaxMs: 1_000 },
    });
    const receipt = (n: number, totalMinor: number) => ({ type: 'checkout.receipt.issued', stream: 'receipts', key: `receipt:s-${n}`, payload: { receiptId: `rc-${n}`, totalMinor }, outbox: true });
    // Restored from a backup, the repeated receipt is the same fact: same content, same time.
    const soldAt = Date.now();
    const runStore = async (file: string, appends: ReturnType<typeof receipt>[], until: (ledger: Ledger) => boolean) => {
      const ledger = Ledger.open(file, { now: () => soldAt });
      for (const a of appends) ledger.append(a);
      const sync = new SyncService({ storeId: STORE.restored, settings, ledger, prices: new PriceBook({ ledger }), storeNow: () => Date.now(), agentVersion: 'test', logger: silentLogger() });
      sync.start();
      try {
        await waitFor('the outbox settled', () => (until(ledger) ? true : undefined));
        return { epoch: ledger.epoch, stats: ledger.stats(), health: sync.health() };
      } finally {
        await sync.stop();
        ledger.close();
      }
    };
    try {
      const first = await runStore(join(dir, 'ledger.db'), [receipt(1, 100), receipt(2, 200)], (l) => l.stats().outboxPending === 0);
      const restored = await runStore(join(dir, 'restored.db'), [receipt(1, 100), receipt(2, 250), receipt(3, 300)], (l) => l.stats().outboxPending === 0);
      expect(restored.epoch).not.toBe(first.epoch);
      expect(restored.stats.outboxRejected).toBe(1);
      expect(restored.health.rejected).toBe(1);
      const rejectedRow = readStoreOutbox(join(dir, 'restored.db')).records.find((r) => r.rejected);
      expect(rejectedRow).toMatchObject({ seq: 2, key: 'receipt:s-2' });
      expect(rejectedRow!.lastError).toMatch(/^SYNC_ERR_UPLINK_CONFLICT: /);

      const hq = readHq(rig.hqDatabase, STORE.restored);
      // HQ kept the first copy of receipt 2, holds receipt 1 once, and took receipt 3.
      expect(hq.records.map((r) => [r.key, (r.payload as { totalMinor: number }).totalMinor])).toEqual([
        ['receipt:s-1', 100],
        ['receipt:s-2', 200],
        ['receipt:s-3', 300],
      ]);
      expect(hq.rejects).toMatchObject([{ epoch: restored.epoch, seq: 2, key: 'receipt:s-2', code: 'SYNC_ERR_UPLINK_CONFLICT' }]);
      // The refused seq is settled for good: the restored epoch's watermark passes it, no gap.
      expect(hq.summary?.epochs.find((e) => e.epoch === restored.epoch)).toMatchObject({ watermark: 3, maxSeq: 3, gaps: [] });
      expect(hq.duplicates).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('the store\'s link when the upstream broker drops it between CONNACK and SUBACK', () => {
  // Found by the Mosquitto fault above (killed while the agent was re-subscribing): the agent
  // ended its MQTT client there, which closes the client's message stores, then reconnected
  // handing over those closed stores — and the process died on the next CONNACK. A broker that
  // drops the first connections at their SUBSCRIBE makes it happen every time.
  it('reconnects and goes on uplinking, without crashing', async () => {
    let drops = 2;
    const broker = await Aedes.createBroker({
      authorizeSubscribe: (client, subscription, done) => {
        if (drops > 0) {
          drops -= 1;
          client.close(); // no SUBACK: the link goes down mid-subscribe
          return;
        }
        done(null, subscription);
      },
    });
    const batches: string[] = [];
    broker.on('publish', (packet) => {
      if (packet.topic.endsWith('/up/batch')) batches.push(packet.payload.toString());
    });
    const server = createServer(broker.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const ledger = Ledger.open(':memory:');
    const sync = new SyncService({
      storeId: 'store-flap',
      settings: syncSettingsSchema.parse({
        upstream: { url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`, protocolVersion: 4, reconnectMinMs: 20, reconnectMaxMs: 100 },
        uplink: { pollIntervalMs: 20 },
      }),
      ledger,
      prices: new PriceBook({ ledger }),
      storeNow: () => Date.now(),
      agentVersion: 'test',
      logger: silentLogger(),
    });
    try {
      sync.start();
      await waitFor('the store connected after two dropped links', () => (sync.connected ? true : undefined), { timeoutMs: 10_000 });
      expect(drops).toBe(0);
      ledger.append({ type: 'checkout.receipt.issued', stream: 'checkout', key: 'receipt:flap-1', payload: { receiptId: 'rc-flap-1' }, outbox: true });
      await waitFor('the receipt uplinked', () => (batches.some((b) => b.includes('receipt:flap-1')) ? true : undefined), { timeoutMs: 10_000 });
    } finally {
      await sync.stop();
      ledger.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

function parseBatch(payload: Buffer): UplinkBatch {
  const parsed = parseUplinkBatch(payload);
  if (!parsed.ok) throw new Error(`captured a malformed batch: ${parsed.reason}`);
  return parsed.batch;
}

/** A deterministic shuffle (Fisher–Yates on a small LCG), so a failure replays the same order. */
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed >>> 0;
  const next = () => ((state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Inclusive ranges of seqs missing between `prefix` and the highest seen. */
function holesAbove(prefix: number, seen: ReadonlySet<number>): Array<[number, number]> {
  const max = Math.max(prefix, ...seen);
  const holes: Array<[number, number]> = [];
  for (let seq = prefix + 1; seq <= max; seq++) {
    if (seen.has(seq)) continue;
    const last = holes.at(-1);
    if (last && last[1] === seq - 1) last[1] = seq;
    else holes.push([seq, seq]);
  }
  return holes;
}
