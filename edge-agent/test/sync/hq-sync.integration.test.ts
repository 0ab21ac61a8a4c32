import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contentHash, generateSigningKey } from '@storeedge/sync';
import { HqService, HqStore, type DocumentOutcome } from '@storeedge/sync/hq/index.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { silentLogger } from '../../src/log.ts';
import { PriceBook } from '../../src/pricing/index.ts';
import { syncSettingsSchema, type SyncSettingsInput } from '../../src/sync/settings.ts';
import { SyncService } from '../../src/sync/sync-service.ts';
import { eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';
import { skipWithoutMosquitto, startMosquitto, type Mosquitto } from '../../../sync/test/helpers/mosquitto.ts';

const STORE = 'store-test';
const STORE_PASSWORD = 'store-pw-0123456789';
const HQ_PASSWORD = 'hq-pw-0123456789';

interface Hq {
  service: HqService;
  store: HqStore;
  outcomes: DocumentOutcome[];
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function upstream(): Promise<Mosquitto> {
  const broker = await startMosquitto({ users: { [STORE]: STORE_PASSWORD, hq: HQ_PASSWORD } });
  cleanups.push(() => broker.dispose());
  return broker;
}

async function startHqService(broker: Mosquitto): Promise<Hq> {
  const store = HqStore.open(':memory:');
  const service = new HqService({
    store,
    signingKey: hqKey,
    upstream: { url: broker.url, username: 'hq', clientId: 'hq', password: HQ_PASSWORD, reconnectMinMs: 100 },
    stores: [STORE],
  });
  const outcomes: DocumentOutcome[] = [];
  service.on('documentOutcome', (outcome) => outcomes.push(outcome));
  service.start();
  cleanups.push(async () => {
    await service.stop();
    store.close();
  });
  await service.ready();
  return { service, store, outcomes };
}

const hqKey = generateSigningKey('hq-1');

function settings(broker: Mosquitto, overrides: Partial<SyncSettingsInput> = {}): SyncSettingsInput {
  return {
    upstream: { url: broker.url, password: STORE_PASSWORD, reconnectMinMs: 100, reconnectMaxMs: 1_000 },
    trustedKeys: [{ keyId: hqKey.keyId, publicKey: hqKey.publicKey }],
    uplink: { pollIntervalMs: 20, ackTimeoutMs: 3_000, retryBaseMs: 100, retryMaxMs: 1_000, batchRecords: 25 },
    ...overrides,
  };
}

// Needs Debian's mosquitto; CI installs it and requires it (STOREEDGE_REQUIRE_MOSQUITTO=1).
describe.skipIf(skipWithoutMosquitto)('HQ sync against a real Mosquitto and the reference HQ (skipped: mosquitto not installed)', () => {
  it('uplinks receipts and stock events exactly once, and applies a price document HQ publishes', async () => {
    const broker = await upstream();
    const hq = await startHqService(broker);

    const dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-it-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ledger = Ledger.open(join(dir, 'ledger.db'));
    cleanups.push(() => ledger.close());
    const prices = new PriceBook({ ledger });
    prices.applyCatalog([{ sku: 'apple', name: 'Apple', priceMinor: 100, currency: 'EUR' }]);
    // Sold while HQ was out of reach: the backlog.
    const append = (i: number) => {
      ledger.append({ type: 'checkout.receipt.issued', stream: 'receipts', key: `receipt:${i}`, payload: { receiptId: `rc-${i}`, totalMinor: 100 * i }, outbox: true });
      ledger.append({ type: 'inventory.shelf.changed', stream: 'inventory', key: `shelf-change:${i}`, payload: { changeId: `c-${i}`, units: -i }, outbox: true });
    };
    for (let i = 1; i <= 60; i++) append(i);

    const sync = new SyncService({
      storeId: STORE,
      settings: syncSettingsSchema.parse(settings(broker)),
      ledger,
      prices,
      storeNow: () => Date.now(),
      agentVersion: 'test',
      logger: silentLogger(),
    });
    const documents: unknown[] = [];
    sync.on('document', (outcome) => documents.push(outcome));
    sync.start();
    cleanups.push(() => sync.stop());
    await eventually(() => sync.connected, 'store connected upstream');
    for (let i = 61; i <= 70; i++) append(i); // sold since
    await eventually(() => ledger.stats().outboxPending === 0, 'outbox drained', 1_000);

    // HQ holds exactly the store's outbox: same records, same content, once each.
    const ours = ledger.events().filter((e) => e.stream === 'receipts' || e.stream === 'inventory');
    const held = hq.store.records(STORE, { limit: 1_000 }).filter((r) => r.stream === 'receipts' || r.stream === 'inventory');
    expect(held).toHaveLength(140);
    expect(new Set(held.map((r) => r.key)).size).toBe(140);
    const byKey = new Map(held.map((r) => [r.key, r]));
    for (const event of ours) {
      const record = byKey.get(event.key);
      expect(record, event.key).toBeDefined();
      expect(record!.hash).toBe(contentHash(event));
      expect(record!.payload).toEqual(event.payload);
      expect(record!.epoch).toBe(ledger.epoch);
    }
    expect(hq.store.duplicates(STORE)).toBe(0);

    // A price change from HQ, effective in an hour: verified, applied, and reported back.
    const effectiveFrom = Date.now() + 3_600_000;
    const published = await hq.service.publishDocument({ kind: 'prices', stores: [STORE], effectiveFrom, body: { prices: [{ sku: 'apple', priceMinor: 89 }] } });
    await eventually(() => prices.regularAt('apple', effectiveFrom)?.priceMinor === 89, 'price applied');
    expect(prices.regularAt('apple', Date.now())?.priceMinor).toBe(100);
    expect(documents).toEqual([{ status: 'applied', docId: published.id, kind: 'prices', version: published.version }]);
    await eventually(() => hq.outcomes.some((o) => o.docId === published.id), 'HQ heard the outcome', 1_000);
    expect(hq.outcomes.find((o) => o.docId === published.id)).toMatchObject({ outcome: 'applied', kind: 'prices', version: published.version, store: STORE });
    await eventually(() => ledger.stats().outboxPending === 0, 'the outcome acknowledged');
    expect(sync.health()).toMatchObject({ connected: true, pending: 0, rejected: 0, documents: { lastApplied: { docId: published.id } } });
  });

  it('keeps queueing while the upstream broker is down and drains after it returns, with no duplicates', async () => {
    const broker = await upstream();
    const hq = await startHqService(broker);
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-it-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const ledger = Ledger.open(join(dir, 'ledger.db'));
    cleanups.push(() => ledger.close());
    const sync = new SyncService({
      storeId: STORE,
      settings: syncSettingsSchema.parse(settings(broker)),
      ledger,
      prices: new PriceBook({ ledger }),
      storeNow: () => Date.now(),
      agentVersion: 'test',
      logger: silentLogger(),
    });
    sync.start();
    cleanups.push(() => sync.stop());
    let n = 0;
    const sell = (count: number) => {
      for (let i = 0; i < count; i++) {
        n += 1;
        ledger.append({ type: 'checkout.receipt.issued', stream: 'receipts', key: `receipt:${n}`, payload: { receiptId: `rc-${n}` }, outbox: true });
      }
    };
    await eventually(() => sync.connected, 'connected');
    sell(10);
    await eventually(() => ledger.stats().outboxPending === 0, 'first sales up');

    await broker.stop();
    await eventually(() => !sync.connected, 'link down');
    sell(30); // the store keeps selling: appends never wait on sync
    expect(ledger.stats().outboxPending).toBe(30);
    expect(sync.health()).toMatchObject({ connected: false, pending: 30, backlog: [{ stream: 'receipts', pending: 30 }] });

    await broker.start();
    await eventually(() => ledger.stats().outboxPending === 0, 'backlog drained after reconnect', 1_500);
    const held = hq.store.records(STORE, { stream: 'receipts', limit: 1_000 });
    expect(held.map((r) => r.key).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `receipt:${i + 1}`).sort());
  });

  it('an agent configured with `sync` reports it in GET /api/health and uplinks its outbox', async () => {
    const broker = await upstream();
    const hq = await startHqService(broker);
    const t: TestAgent = await startTestAgent({ sync: settings(broker) });
    cleanups.push(() => t.close());
    t.agent.ledger.append({ type: 'replenishment.requested', stream: 'replenishment', key: 'replenishment:1', payload: { requestId: 'r1' }, outbox: true });
    await eventually(() => hq.store.count({ store: STORE, stream: 'replenishment' }) === 1, 'HQ holds the request', 1_000);
    await eventually(() => t.agent.ledger.stats().outboxPending === 0, 'marked sent');
    const health = (await (await fetch(`${t.agent.httpUrl}/api/health`)).json()) as { sync: Record<string, unknown> };
    expect(health.sync).toMatchObject({ connected: true, epoch: t.agent.ledger.epoch, pending: 0, backlog: [], oldestUnsentAgeS: null, rejected: 0 });
    const metrics = await (await fetch(`${t.agent.httpUrl}/metrics`, { headers: { authorization: t.authorization } })).text();
    expect(metrics).toMatch(/^storeedge_sync_connected 1$/m);
    expect(metrics).toMatch(/storeedge_sync_uplink_records_total\{outcome="acked"\} 1/);
    // The retained up/status: online while connected, offline after a clean stop (the last will covers a crash).
    await eventually(() => hq.service.storeConnected(STORE) === true, 'HQ sees the store online');
    await t.agent.sync!.stop();
    await eventually(() => hq.service.storeConnected(STORE) === false, 'HQ sees the store offline');
  });
});
