import { afterEach, describe, expect, it } from 'vitest';
import { decodeImpinjR700, rfidReadsPayload, topics, type RfidReadsPayload } from '@storeedge/device-drivers';
import { SimClock } from '../../src/clock.ts';
import { Rng } from '../../src/random.ts';
import { RfidField, type TagSighting } from '../../src/rfid/field.ts';
import { IMPINJ_EVENTS_TYPE, RfidJsonReaderSimulator, type RfidJsonReaderSimulatorOptions } from '../../src/rfid/json-reader-simulator.ts';
import { eventually, startTestBroker, type TestBroker } from '../helpers/test-broker.ts';

const storeId = 'store-test';
const deviceId = 'rfid-1';
const readsTopic = topics.event(storeId, deviceId, 'reads');
const epc = (i: number) => `3074257BF7194E40${i.toString(16).toUpperCase().padStart(8, '0')}`;

let broker: TestBroker | undefined;
const running: RfidJsonReaderSimulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.stop()));
  await broker?.close();
  broker = undefined;
});

function setup(url: string, overrides: Partial<RfidJsonReaderSimulatorOptions> = {}) {
  const clock = new SimClock();
  const field = new RfidField({ readRate: 0.9, crossReadRate: 0.1 });
  for (let i = 0; i < 6; i++) field.place(epc(i), 'shelf-a');
  for (let i = 6; i < 10; i++) field.place(epc(i), 'shelf-b');
  for (let i = 10; i < 14; i++) field.place(epc(i), 'backroom');
  const sightings: TagSighting[] = [];
  const sim = new RfidJsonReaderSimulator({
    url,
    storeId,
    deviceId,
    password: 'reader-secret',
    clock,
    rng: new Rng('json-reader-test'),
    field,
    antennas: [
      { antenna: 1, zone: 'shelf-a', neighbours: ['shelf-b'] },
      { antenna: 2, zone: 'shelf-b', neighbours: ['shelf-a'] },
    ],
    roundMs: 500,
    readsQos: 1,
    healthIntervalMs: null,
    onSighting: (s) => sightings.push(s),
    ...overrides,
  });
  running.push(sim);
  return { clock, field, sim, sightings };
}

describe('RfidJsonReaderSimulator over MQTT', () => {
  it('native mode: one evt/reads per round that matches rfidReadsPayload, own-zone reads strong, cross-reads weak', async () => {
    broker = await startTestBroker({ [deviceId]: 'reader-secret' });
    const { clock, sim, sightings } = setup(broker.url);
    await sim.start();
    clock.advance(20 * 500);
    await sim.flush();
    await eventually(() => broker!.on(readsTopic).length === 20, '20 reads messages');

    const payloads = broker.on(readsTopic).map((m) => rfidReadsPayload.parse(m.body) as RfidReadsPayload);
    const reads = payloads.flatMap((p) => p.reads);
    expect(reads).toHaveLength(sightings.length);
    expect(sim.stats().rfid).toEqual({ rounds: 20, reads: sightings.length, crossReads: sightings.filter((s) => s.crossRead).length, messages: 20 });
    expect(new Set(payloads.map((p) => p.at)).size).toBe(20);
    // The backroom has no antenna and is nobody's neighbour.
    expect(reads.some((r) => [10, 11, 12, 13].map(epc).includes(r.epc))).toBe(false);
    const ownA = reads.filter((r) => r.antenna === 1 && [0, 1, 2, 3, 4, 5].map(epc).includes(r.epc));
    const crossA = reads.filter((r) => r.antenna === 1 && [6, 7, 8, 9].map(epc).includes(r.epc));
    // 6 tags × 20 rounds × 0.9 ≈ 108; 4 × 20 × 0.1 ≈ 8.
    expect(ownA.length).toBeGreaterThan(95);
    expect(crossA.length).toBeGreaterThan(1);
    expect(crossA.length).toBeLessThan(20);
    const mean = (xs: { rssi?: number }[]) => xs.reduce((a, r) => a + r.rssi!, 0) / xs.length;
    expect(mean(ownA) - mean(crossA)).toBeGreaterThan(8);
  });

  it('stops and restarts inventory on cmd/inventory, and rejects a bad one', async () => {
    broker = await startTestBroker({ [deviceId]: 'reader-secret' });
    const errors: string[] = [];
    const { clock, sim } = setup(broker.url, { onError: (e) => errors.push(e.code) });
    await sim.start();
    await broker.publish(topics.command(storeId, deviceId, 'inventory'), { action: 'stop' });
    await eventually(() => !sim.inventoryRunning, 'inventory to stop');
    clock.advance(5_000);
    await sim.flush();
    expect(sim.stats().rfid.rounds).toBe(0);
    await broker.publish(topics.command(storeId, deviceId, 'inventory'), { action: 'pause' });
    await eventually(() => errors.length === 1, 'the bad command to be reported');
    expect(errors).toEqual(['SIM_ERR_COMMAND_INVALID']);
    await broker.publish(topics.command(storeId, deviceId, 'inventory'), { action: 'start' });
    await eventually(() => sim.inventoryRunning, 'inventory to start');
    clock.advance(1_000);
    expect(sim.stats().rfid.rounds).toBe(2);
  });

  it('impinj-r700 mode: one tagInventory event per message, which decodeImpinjR700 turns back into the same reads', async () => {
    broker = await startTestBroker({ [deviceId]: 'reader-secret' });
    const { clock, sim, sightings } = setup(broker.url, { format: 'impinj-r700', hostname: 'impinj-14-46-36' });
    await sim.start();
    clock.advance(4 * 500);
    await sim.flush();
    const topic = topics.event(storeId, deviceId, IMPINJ_EVENTS_TYPE);
    await eventually(() => broker!.on(topic).length === sightings.length, `${sightings.length} events`);

    const decoded = broker.on(topic).map((m) => decodeImpinjR700(JSON.stringify(m.body)));
    expect(decoded.every((d) => d.rejects.length === 0 && d.reads.length === 1)).toBe(true);
    const reads = decoded.flatMap((d) => d.reads);
    const key = (x: { epc: string; antenna: number; rssi?: number }) => `${x.epc}/${x.antenna}/${x.rssi}`;
    expect(reads.map(key).sort()).toEqual(sightings.map(key).sort());
    expect(reads.every((r) => r.pc === 0x3000 && r.at >= clock.now() - 2_000 && r.at <= clock.now())).toBe(true);
    expect(broker.on(topic)[0]!.body).toMatchObject({ hostname: 'impinj-14-46-36', eventType: 'tagInventory' });
  });

  it('refuses bad options', () => {
    const field = new RfidField();
    const base = { url: 'mqtt://127.0.0.1:1', storeId, deviceId, password: 'x', field };
    expect(() => new RfidJsonReaderSimulator({ ...base, antennas: [] })).toThrow(/antennas: 0 given/);
    expect(() => new RfidJsonReaderSimulator({ ...base, antennas: [{ antenna: 1, zone: 'a' }, { antenna: 1, zone: 'b' }] })).toThrow(/listed twice/);
    expect(() => new RfidJsonReaderSimulator({ ...base, antennas: [{ antenna: 1, zone: 'a' }], roundMs: 1 })).toThrow(/roundMs 1/);
  });
});
