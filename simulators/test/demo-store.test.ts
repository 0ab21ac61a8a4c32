import { afterEach, describe, expect, it } from 'vitest';
import { deviceIdPattern, deviceKinds, statePayload, storeModel, tagType, topics } from '@storeedge/device-drivers';
import { SimClock } from '../src/clock.ts';
import { demoCatalog, gtinCheckDigit } from '../src/demo-catalog.ts';
import { demoStoreModel, demoTrayId, describeDemoStore, startDemoStore, type DemoStore } from '../src/demo-store.ts';
import { eventually, startTestBroker, type TestBroker } from './helpers/test-broker.ts';

const storeId = 'store-demo';

let broker: TestBroker | undefined;
let store: DemoStore | undefined;

afterEach(async () => {
  await store?.stop();
  store = undefined;
  await broker?.close();
  broker = undefined;
});

describe('describeDemoStore', () => {
  const devices = describeDemoStore(storeId);

  it('lists 3 shelves of 4 trays, a gate and an ESL gateway with a tag per tray', () => {
    expect(devices.map((d) => d.kind).sort()).toEqual(['esl-gateway', 'gate', 'shelf', 'shelf', 'shelf']);
    for (const device of devices) {
      expect(device.deviceId).toMatch(deviceIdPattern);
      expect(deviceKinds).toContain(device.kind);
      expect(device.storeId).toBe(storeId);
    }
    expect(new Set(devices.map((d) => d.deviceId)).size).toBe(devices.length);
    const trays = devices.flatMap((d) => (d.kind === 'shelf' ? d.trays.map((t) => ({ shelf: d.deviceId, ...t })) : []));
    expect(trays).toHaveLength(12);
    expect(new Set(trays.map((t) => t.sku.sku)).size).toBe(12);
    const esl = devices.find((d) => d.kind === 'esl-gateway');
    expect(esl?.kind === 'esl-gateway' && esl.tags).toHaveLength(12);
    if (esl?.kind !== 'esl-gateway') return;
    expect(new Set(esl.tags.map((t) => t.tagId)).size).toBe(12);
    for (const tag of esl.tags) {
      expect(trays.find((t) => t.shelf === tag.shelfDeviceId && t.ch === tag.ch)?.sku.sku).toBe(tag.sku);
      expect(tagType(tag.tagType), tag.tagType).toBeDefined();
    }
    expect(describeDemoStore(storeId)).toEqual(devices);
  });

  it("gives the agent's store model a shelf label for every SKU, on the gateway's tags", () => {
    const model = storeModel.parse(demoStoreModel(storeId));
    const esl = devices.find((d) => d.kind === 'esl-gateway');
    if (esl?.kind !== 'esl-gateway') throw new Error('no ESL gateway in the demo store');
    expect(model.labels.map((l) => l.sku).sort()).toEqual(model.catalog.map((c) => c.sku).sort());
    expect(model.labels).toEqual(
      esl.tags.map((tag) => ({ tagId: tag.tagId, gateway: esl.deviceId, tagType: tag.tagType, sku: tag.sku, trayId: demoTrayId(tag.shelfDeviceId, tag.ch) })),
    );
    const trayIds = new Set(model.gondolas.flatMap((g) => g.bays.flatMap((b) => b.shelves.flatMap((s) => s.trays.map((t) => t.id)))));
    for (const label of model.labels) expect(trayIds.has(label.trayId!), label.trayId).toBe(true);
  });

  it('has a catalog with valid GTIN-13s, unit weights of 100-900 g and prices', () => {
    expect(demoCatalog).toHaveLength(12);
    for (const sku of demoCatalog) {
      expect(sku.gtin).toMatch(/^\d{13}$/);
      expect(Number(sku.gtin[12])).toBe(gtinCheckDigit(sku.gtin.slice(0, 12)));
      expect(sku.unitGrams).toBeGreaterThanOrEqual(100);
      expect(sku.unitGrams).toBeLessThanOrEqual(900);
      expect(sku.priceCents).toBeGreaterThan(0);
      expect(sku.name.length).toBeGreaterThan(0);
    }
    // A published GTIN-13 (EAN of a well-known product) to pin the check-digit rule.
    expect(gtinCheckDigit('400638133393')).toBe(1);
  });
});

describe('startDemoStore', () => {
  const passwords = Object.fromEntries(describeDemoStore(storeId).map((d) => [d.deviceId, `${d.deviceId}-secret`]));

  it('starts every device and the shoppers, and takes everything offline on stop', async () => {
    broker = await startTestBroker(passwords);
    const clock = new SimClock();
    store = await startDemoStore({
      url: broker.url,
      storeId,
      credentials: new Map(Object.entries(passwords)),
      seed: 7,
      clock,
      shopperRatePerMin: 3,
      shelf: { sampleRateHz: 2 },
    });
    for (const device of store.devices) {
      expect(statePayload.parse(await broker.retained(topics.state(storeId, device.deviceId))), device.deviceId).toMatchObject({
        online: true,
        kind: device.kind,
      });
    }
    const esl = store.devices.find((d) => d.kind === 'esl-gateway');
    if (esl?.kind !== 'esl-gateway') throw new Error('no ESL gateway in the demo store');
    expect(store.eslGateway.tagIds()).toEqual(esl.tags.map((tag) => tag.tagId));
    for (const tag of esl.tags) expect(store.eslGateway.tagTruth(tag.tagId).tagType, tag.tagId).toBe(tag.tagType);
    const simulators = [...store.shelves, store.gate, store.eslGateway];
    for (let s = 0; s < 10 * 60; s++) {
      clock.advance(1_000);
      await Promise.all(simulators.map((sim) => sim.flush()));
    }
    const stats = store.stats();
    expect(stats.shoppers.arrivals).toBeGreaterThan(10);
    expect(stats.shoppers.picks).toBeGreaterThan(10);
    expect(stats.devices).toHaveLength(5);
    for (const device of stats.devices) expect(device, device.deviceId).toMatchObject({ status: 'online', failed: 0, errors: 0 });
    expect(store.groundTruth().visits).toHaveLength(stats.shoppers.arrivals);
    await eventually(
      () => broker!.on(topics.event(storeId, 'gate-1', 'scan')).length === store!.gate.scans().entry + store!.gate.scans().exit,
      'every gate scan at the broker',
    );

    await store.stop();
    for (const device of store.devices) {
      expect(statePayload.parse(await broker.retained(topics.state(storeId, device.deviceId))), device.deviceId).toMatchObject({
        online: false,
      });
    }
  });

  it('refuses to start without a credential for every device', async () => {
    const credentials = new Map(Object.entries(passwords));
    credentials.delete('gate-1');
    await expect(startDemoStore({ url: 'mqtt://127.0.0.1:1', storeId, credentials, seed: 1, clock: new SimClock() })).rejects.toMatchObject({
      code: 'SIM_ERR_CONFIG_INVALID',
      message: expect.stringContaining('gate-1'),
    });
  });

  it('stops the devices that did start when one is refused', async () => {
    broker = await startTestBroker({ ...passwords, 'esl-gw-1': 'another-secret' });
    const failure = await startDemoStore({
      url: broker.url,
      storeId,
      credentials: new Map(Object.entries(passwords)),
      seed: 1,
      clock: new SimClock(),
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'SIM_ERR_CONNECT_REFUSED', deviceId: 'esl-gw-1' });
    expect(statePayload.parse(await broker.retained(topics.state(storeId, 'shelf-1')))).toMatchObject({ online: false });
  });
});
