import { afterEach, describe, expect, it } from 'vitest';
import { topics, type StoreModelInput } from '@storeedge/device-drivers';
import { M100ReaderSimulator, openSocatPtyPair, RfidField, RfidJsonReaderSimulator, Rng, SerialShelfSimulator, SimClock, type PtyPair } from '@storeedge/simulators';
import type { DeviceEvent } from '../../src/events.ts';
import { counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/**
 * Devices wired to the agent's host: a shelf controller and an M100 RFID module, each on a real
 * pseudo-terminal pair (socat), opened by the agent from its config and fed into the same ingest
 * as MQTT devices. Plus an RFID reader speaking Impinj R700 JSON over MQTT.
 */
const epc = (i: number) => `3074257BF7194E40${i.toString(16).toUpperCase().padStart(8, '0')}`;

const model: StoreModelInput = {
  catalog: [{ sku: 'soap', gtin: '00012345600012', name: 'Soap', unitWeightG: 95, unitWeightSigmaG: 1, priceMinor: 199 }],
  zones: [
    { id: 'zone-a', antennas: [{ reader: 'rfid-serial', antenna: 1 }, { reader: 'rfid-impinj', antenna: 1 }] },
    { id: 'zone-b', antennas: [{ reader: 'rfid-impinj', antenna: 2 }] },
  ],
  gondolas: [
    {
      id: 'g1',
      zone: 'zone-a',
      bays: [{ id: 'b1', shelves: [{ id: 's1', trays: [{ id: 't1', device: 'shelf-serial', channel: 0, facings: [{ sku: 'soap', capacity: 20, minLevel: 3, initial: 10 }] }] }] }],
    },
  ],
};

describe('serial devices and vendor JSON through the agent', () => {
  let t: TestAgent | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
    await t?.close();
    t = undefined;
  });

  it('reads a serial shelf controller and an M100 module over pty pairs, counting line noise, and keeps serving', async () => {
    const shelfLine: PtyPair = await openSocatPtyPair();
    closers.push(() => shelfLine.close());
    const rfidLine: PtyPair = await openSocatPtyPair();
    closers.push(() => rfidLine.close());

    // The devices are powered and on their lines before the agent opens its ends.
    const shelf = new SerialShelfSimulator({ path: shelfLine.paths[0], channels: 1, tareGrams: 1_300, noiseSdGrams: 0.5, sampleRateHz: 10, onError: () => {} });
    await shelf.start();
    closers.push(() => shelf.stop());
    const field = new RfidField({ readRate: 0.9, crossReadRate: 0 });
    for (let i = 0; i < 3; i++) field.place(epc(i), 'zone-a');
    const module = new M100ReaderSimulator({ field, zone: 'zone-a', rng: new Rng('agent-serial') });
    await module.open(rfidLine.paths[0]);
    closers.push(() => module.close());

    t = await startTestAgent({
      store: { model },
      serialDevices: [
        { device: 'shelf-serial', driver: 'storeedge-shelf-serial', path: shelfLine.paths[1] },
        { device: 'rfid-serial', driver: 'm100-serial', path: rfidLine.paths[1] },
      ],
    });
    // Registered like any device (with a serial driver); their events are refused until then.
    await t.agent.registry.add({ id: 'shelf-serial', kind: 'shelf', driver: 'storeedge-shelf-serial', actor: 'test' });
    await t.agent.registry.add({ id: 'rfid-serial', kind: 'rfid-reader', driver: 'm100-serial', actor: 'test' });
    const weights: DeviceEvent<{ channels: Array<{ ch: number; grams: number }> }>[] = [];
    const reads: string[] = [];
    t.agent.bus.on('shelf.weight', (e) => weights.push(e));
    t.agent.bus.on('rfid.reads', (e) => reads.push(...e.payload.reads.map((r) => r.epc)));

    await eventually(() => weights.length >= 5 && new Set(reads).size === 3, 'samples and tag reads over serial', 1_000);
    expect(weights[0]!.deviceId).toBe('shelf-serial');
    expect(weights.at(-1)!.payload.channels[0]!.grams).toBeGreaterThan(1_290);
    expect(new Set(reads)).toEqual(new Set([epc(0), epc(1), epc(2)]));
    expect(((await (await fetch(`${t.agent.httpUrl}/api/devices/shelf-serial`, { headers: { authorization: t.authorization } })).json()) as { online: boolean }).online).toBe(true);

    // Line noise: damaged and stray bytes are dropped and counted, and samples keep coming.
    shelf.setFaults({ corruptProbability: 0.3, garbageProbability: 0.3 });
    await eventually(async () => (await counter(t!.agent, 'storeedge_rejects_total', { code: 'DRV_ERR_FRAME_CHECKSUM' })) > 0, 'a counted CRC reject', 1_000);
    shelf.setFaults({});
    const before = weights.length;
    await eventually(() => weights.length > before + 5, 'samples after the noise', 1_000);
  });

  it('decodes an Impinj R700 reader publishing its own JSON over MQTT into rfid.reads and presence', async () => {
    t = await startTestAgent({ store: { model } });
    const { secret } = await t.agent.registry.add({ id: 'rfid-impinj', kind: 'rfid-reader', driver: 'impinj-r700', actor: 'test' });
    const reads: Array<{ epc: string; antenna: number }> = [];
    const presence: string[] = [];
    t.agent.bus.on('rfid.reads', (e) => reads.push(...e.payload.reads));
    t.agent.bus.on('rfid.presence', (p) => presence.push(`${p.kind}:${p.epc}:${p.zone}`));
    const field = new RfidField({ readRate: 1, crossReadRate: 0 });
    field.place(epc(7), 'zone-b');
    const clock = new SimClock(Date.now());
    const reader = new RfidJsonReaderSimulator({
      url: t.agent.addresses.mqtt!,
      storeId: t.storeId,
      deviceId: 'rfid-impinj',
      password: secret,
      clock,
      rng: new Rng('impinj'),
      field,
      antennas: [{ antenna: 2, zone: 'zone-b', neighbours: [] }],
      roundMs: 500,
      readsQos: 1,
      healthIntervalMs: null,
      format: 'impinj-r700',
    });
    await reader.start();
    closers.push(() => reader.stop());
    for (let i = 0; i < 12 && presence.length === 0; i++) {
      clock.advance(500);
      await eventually(() => reads.length > i, 'an Impinj read', 500);
    }
    expect(reads[0]).toMatchObject({ epc: epc(7), antenna: 2 });
    await eventually(() => presence.includes(`arrived:${epc(7)}:zone-b`), 'presence in zone-b from Impinj reads');

    // Broken vendor JSON is counted per device and code; nothing reaches the bus.
    await reader.stop();
    const raw = await t.connect('rfid-impinj', secret);
    const before = reads.length;
    await raw.publishAsync(topics.event(t.storeId, 'rfid-impinj', 'impinj.events'), '{"timestamp": ', { qos: 1 });
    await raw.publishAsync(topics.event(t.storeId, 'rfid-impinj', 'impinj.events'), JSON.stringify({ eventType: 'tagInventory', tagInventoryEvent: { epcHex: 'zz' } }), { qos: 1 });
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'DRV_ERR_JSON_MALFORMED' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'DRV_ERR_JSON_SCHEMA' })).toBe(1);
    expect(reads.length).toBe(before);
  });
});
