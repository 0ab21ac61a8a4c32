import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreModelInput } from '@storeedge/device-drivers';
import { buildDocument, generateSigningKey } from '@storeedge/sync';
import { inventorySettingsSchema } from '../../src/config/schema.ts';
import { EventBus, type StoreAlert } from '../../src/events.ts';
import { InventoryService } from '../../src/inventory/inventory-service.ts';
import { inventoryProjection } from '../../src/inventory/projection.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { PriceBook } from '../../src/pricing/index.ts';
import { DownlinkApplier, type ChunkOutcome } from '../../src/sync/downlink-applier.ts';
import { syncEventTypes } from '../../src/sync/ledger-events.ts';
import { Planograms } from '../../src/sync/planogram.ts';
import { storeModelFixture } from '../inventory/store-fixture.ts';
import { FakeClock } from './fake-clock.ts';

const T0 = 1_764_000_000_000;
const HOUR = 3_600_000;
const hq = generateSigningKey('hq-1');

/** The fixture store after a reset: shampoo's tray t4 now holds mints, a new tray t5 takes a new SKU, soap's capacity grows, and a label joins. */
function resetModel(): StoreModelInput {
  const model = structuredClone(storeModelFixture);
  model.catalog.push({ sku: 'gum-10', gtin: '04012345000023', name: 'Gum 10 pieces', unitWeightG: 25, unitWeightSigmaG: 0.5, priceMinor: 149 });
  const trays = model.gondolas![1]!.bays[0]!.shelves[0]!.trays;
  trays[0]!.facings[0]!.capacity = 30;
  trays[1]!.facings = [{ sku: 'mints', capacity: 40, minLevel: 5, initial: 40 }];
  trays.push({ id: 't5', device: 'shelf-2', channel: 2, facings: [{ sku: 'gum-10', capacity: 20, minLevel: 4, initial: 20 }] });
  model.labels = [{ tagId: 'esl-gum', gateway: 'esl-gw-1', tagType: 'm3-2.9-bwr', sku: 'gum-10', trayId: 't5' }];
  return model;
}

interface Rig {
  dir: string;
  clock: FakeClock;
  ledger: Ledger;
  inventory: InventoryService;
  prices: PriceBook;
  planograms: Planograms;
  applier: DownlinkApplier;
  applied: number;
  alerts: StoreAlert[];
  send(body: unknown, options?: { version?: number; effectiveFrom?: number | null }): ChunkOutcome;
  restart(): Rig;
  close(): void;
}

let nextVersion = 1;
const rigs: Rig[] = [];

function rig(shared?: { dir: string; clock: FakeClock }): Rig {
  const dir = shared?.dir ?? mkdtempSync(join(tmpdir(), 'storeedge-planogram-'));
  const clock = shared?.clock ?? new FakeClock(T0);
  const ledger = Ledger.open(join(dir, 'ledger.db'), { projections: [inventoryProjection], synchronous: 'normal', now: () => clock.now() });
  const bus = new EventBus((name, error) => {
    throw new Error(`bus handler for ${name} failed: ${String(error)}`);
  });
  const alerts: StoreAlert[] = [];
  bus.on('alert.raised', (alert) => alerts.push(alert));
  const inventory = new InventoryService({ ledger, bus, storeId: 's1', settings: inventorySettingsSchema.parse({}), now: () => clock.now() });
  const prices = new PriceBook({ ledger, now: () => clock.now() });
  if (shared === undefined) {
    inventory.applyModel(storeModelFixture, { kind: 'config' });
    prices.applyCatalog(inventory.model!.catalog);
  }
  const r: Rig = {
    dir,
    clock,
    ledger,
    inventory,
    prices,
    applied: 0,
    alerts,
    planograms: undefined as unknown as Planograms,
    applier: undefined as unknown as DownlinkApplier,
    send(body, options = {}) {
      const { messages } = buildDocument(
        { kind: 'planogram', version: options.version ?? nextVersion++, stores: ['s1'], issuedAt: clock.now(), effectiveFrom: options.effectiveFrom ?? null, body: body as never },
        hq,
      );
      let outcome: ChunkOutcome | undefined;
      for (const message of messages) outcome = r.applier.accept(JSON.stringify(message));
      return outcome!;
    },
    restart() {
      r.planograms.stop();
      return track(rig({ dir, clock }));
    },
    close() {
      r.planograms.stop();
      ledger.close();
    },
  };
  r.planograms = new Planograms({ ledger, inventory, prices, clock, onApplied: () => (r.applied += 1) });
  r.planograms.start();
  r.applier = new DownlinkApplier({ ledger, prices, parts: { planograms: r.planograms }, storeId: 's1', trustedKeys: [{ keyId: hq.keyId, publicKey: hq.publicKey }], now: () => clock.now() });
  return r;
}

function track(r: Rig): Rig {
  rigs.push(r);
  return r;
}

afterEach(() => {
  const dirs = new Set(rigs.map((r) => r.dir));
  for (const r of rigs.splice(0)) r.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const stockOf = (r: Rig, trayId: string) =>
  r.inventory
    .stock()
    .trays.filter((t) => t.trayId === trayId)
    .map((t) => `${t.sku}:${t.observed}/${t.capacity}`)
    .sort();

describe('planogram documents', () => {
  it('a planogram due now replaces the store model in one transaction: stock kept where facings stay, new SKUs priced, the labels told', () => {
    const r = track(rig());
    const seqBefore = r.ledger.head().seq;
    expect(r.send({ model: resetModel() })).toMatchObject({ status: 'applied', kind: 'planogram' });
    expect(r.inventory.model!.labels.map((l) => l.tagId)).toEqual(['esl-gum']);
    expect(r.inventory.modelSource).toMatchObject({ kind: 'planogram', actor: 'hq' });
    expect(stockOf(r, 't3')).toEqual(['soap-tag:3/30']); // the facing stays: its stock with it, the new capacity
    expect(stockOf(r, 't4')).toEqual(['mints:40/40']); // shampoo's facing is gone, mints start at initial
    expect(stockOf(r, 't5')).toEqual(['gum-10:20/20']);
    expect(r.prices.history('gum-10').at(-1)).toMatchObject({ priceMinor: 149, currency: 'EUR' });
    expect(r.applied).toBe(1);
    // One transaction: the model event, the catalogue price and the outcome, nothing in between from elsewhere.
    const written = r.ledger.events({ fromSeq: seqBefore + 1 });
    expect(written.map((e) => e.type)).toContain('inventory.model.applied');
    expect(written.at(-1)!.type).toBe(syncEventTypes.documentApplied);
    expect(written.at(-1)!.payload).toMatchObject({ kind: 'planogram', summary: { skus: 6, trays: 5, labels: 1, gates: 0, changed: 1 } });
  });

  it('refuses an invalid model or a currency change whole, and the model in force stays', () => {
    const r = track(rig());
    const before = { hash: r.inventory.modelHash, seq: r.ledger.head().seq };
    const badLabel = resetModel();
    badLabel.labels = [{ tagId: 'esl-x', gateway: 'esl-gw-1', tagType: 'm3-2.9-bwr', sku: 'not-in-catalog' }];
    const usd = resetModel();
    usd.catalog[0]!.currency = 'USD';
    const twoTraysOneChannel = resetModel();
    twoTraysOneChannel.gondolas![1]!.bays[0]!.shelves[0]!.trays[2]!.channel = 1;
    for (const [model, reason] of [
      [badLabel, /labels\.0\.sku: SKU "not-in-catalog" is not in the catalog/],
      [usd, /SKU "cola-330" is priced in EUR, not USD/],
      [twoTraysOneChannel, /load-cell channel shelf-2#1 is used by two trays/],
      [{ zones: [] }, /model: store model is invalid/],
    ] as const) {
      expect(r.send({ model })).toMatchObject({ status: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID', reason: expect.stringMatching(reason) });
      expect(r.inventory.modelHash).toBe(before.hash);
    }
    // Only the refusals were written (for HQ), nothing of the models.
    expect(r.ledger.events({ fromSeq: before.seq + 1 }).map((e) => e.type)).toEqual(Array(4).fill(syncEventTypes.documentRefused));
    expect(r.applied).toBe(0);
  });

  it('a planogram with a later effective time waits for it on the store clock, across a restart', () => {
    const r = track(rig());
    const hash = r.inventory.modelHash;
    const at = T0 + 8 * HOUR;
    expect(r.send({ model: resetModel() }, { effectiveFrom: at })).toMatchObject({ status: 'applied' });
    expect(r.planograms.pending()).toMatchObject({ effectiveFrom: at });
    r.clock.advance(4 * HOUR);
    expect(r.inventory.modelHash).toBe(hash);
    // Killed and started again before the time: the ledger still knows the planogram waits.
    const r2 = r.restart();
    expect(r2.inventory.modelHash).toBe(hash);
    expect(r2.planograms.pending()).toMatchObject({ effectiveFrom: at });
    r2.clock.advance(4 * HOUR - 1);
    expect(r2.inventory.modelHash).toBe(hash);
    r2.clock.advance(1);
    expect(r2.inventory.model!.labels.map((l) => l.tagId)).toEqual(['esl-gum']);
    expect(r2.prices.history('gum-10')).toHaveLength(1);
    expect(r2.planograms.pending()).toBeNull();
    expect(r2.applied).toBe(1);
    // And once applied, a restart does not apply it again.
    const seq = r2.ledger.head().seq;
    const r3 = r2.restart();
    r3.clock.advance(HOUR);
    expect(r3.planograms.pending()).toBeNull();
    expect(r3.ledger.head().seq).toBe(seq);
  });

  it('a planogram whose time passed while the agent was down applies at start', () => {
    const r = track(rig());
    expect(r.send({ model: resetModel() }, { effectiveFrom: T0 + HOUR })).toMatchObject({ status: 'applied' });
    r.planograms.stop(); // down …
    r.clock.advance(2 * HOUR); // … past the time (no timer runs)
    expect(r.inventory.model!.labels).toEqual([]);
    const r2 = r.restart();
    expect(r2.inventory.model!.labels.map((l) => l.tagId)).toEqual(['esl-gum']);
    expect(r2.inventory.modelSource).toMatchObject({ kind: 'planogram' });
  });

  it('a later planogram replaces one still waiting', () => {
    const r = track(rig());
    const later = resetModel();
    later.labels = [];
    expect(r.send({ model: resetModel() }, { effectiveFrom: T0 + 2 * HOUR })).toMatchObject({ status: 'applied' });
    expect(r.send({ model: later })).toMatchObject({ status: 'applied' });
    const hash = r.inventory.modelHash;
    r.clock.advance(3 * HOUR);
    expect(r.inventory.modelHash).toBe(hash);
    expect(r.inventory.model!.labels).toEqual([]);
    expect(r.restart().planograms.pending()).toBeNull();
  });

  it('the same planogram again is a duplicate, not re-applied; the model in force again is applied with nothing changed', () => {
    const r = track(rig());
    const { messages } = buildDocument({ kind: 'planogram', version: nextVersion++, stores: ['s1'], issuedAt: T0, body: { model: resetModel() as never } }, hq);
    for (const m of messages) r.applier.accept(JSON.stringify(m));
    const seq = r.ledger.head().seq;
    for (const m of messages) expect(r.applier.accept(JSON.stringify(m))).toMatchObject({ status: 'duplicate' });
    expect(r.ledger.head().seq).toBe(seq);
    expect(r.send({ model: resetModel() })).toMatchObject({ status: 'applied' });
    expect(r.ledger.events({ fromSeq: seq + 1 }).map((e) => e.type)).toEqual([syncEventTypes.documentApplied]);
  });
});
