import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { statePayload, topics, weightPayload, healthPayload, type WeightPayload } from '@storeedge/device-drivers';
import { SimClock } from '../src/clock.ts';
import { isSimulatorError, type SimulatorError } from '../src/errors.ts';
import { LoadCellShelfSimulator, type LoadCellShelfOptions } from '../src/shelf.ts';
import { eventually, startTestBroker, type TestBroker } from './helpers/test-broker.ts';

const storeId = 'store-test';
const deviceId = 'shelf-1';
const stateTopic = topics.state(storeId, deviceId);
const weightTopic = topics.event(storeId, deviceId, 'weight');

let broker: TestBroker | undefined;
const running: LoadCellShelfSimulator[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.stop()));
  await broker?.close();
  broker = undefined;
});

function shelf(url: string, clock: SimClock, overrides: Partial<LoadCellShelfOptions> = {}): LoadCellShelfSimulator {
  const sim = new LoadCellShelfSimulator({
    url,
    storeId,
    deviceId,
    password: 'right-secret',
    clock,
    channels: [
      { ch: 0, tareGrams: 350, loadGrams: 2_000 },
      { ch: 1, tareGrams: 400, loadGrams: 1_000 },
    ],
    sampleRateHz: 10,
    weightQos: 1,
    healthIntervalMs: null,
    ...overrides,
  });
  running.push(sim);
  return sim;
}

/** Samples in device order (the broker may hand on one socket read's messages concurrently). */
function weights(b: TestBroker): WeightPayload[] {
  return b.on(weightTopic).map((m) => weightPayload.parse(m.body)).sort((x, y) => x.seq! - y.seq!);
}

function meanGrams(samples: WeightPayload[], ch: number): number {
  const values = samples.map((s) => s.channels.find((c) => c.ch === ch)!.grams);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

describe('LoadCellShelfSimulator over MQTT', () => {
  it('publishes a retained birth, weight samples that match the contract, and offline on stop', async () => {
    broker = await startTestBroker({ [deviceId]: 'right-secret' });
    const clock = new SimClock();
    const sim = shelf(broker.url, clock);
    await sim.start();

    const birth = statePayload.parse(await broker.retained(stateTopic));
    expect(birth).toMatchObject({ online: true, kind: 'shelf', fw: sim.fw, model: sim.model, at: clock.now() });

    clock.advance(1_000);
    await sim.flush();
    await eventually(() => broker!.on(weightTopic).length === 10, '10 weight samples');
    const samples = weights(broker);
    expect(samples.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(samples.map((s) => s.at)).toEqual(Array.from({ length: 10 }, (_, i) => clock.now() - 900 + i * 100));
    // All channels in one message per sample.
    for (const s of samples) expect(s.channels.map((c) => c.ch)).toEqual([0, 1]);
    expect(meanGrams(samples, 0)).toBeGreaterThan(2_350 - 5);
    expect(meanGrams(samples, 0)).toBeLessThan(2_350 + 5);
    expect(meanGrams(samples, 1)).toBeGreaterThan(1_400 - 5);
    expect(meanGrams(samples, 1)).toBeLessThan(1_400 + 5);
    // Noise is there: the readings are not all the same.
    expect(new Set(samples.map((s) => s.channels[0]!.grams)).size).toBeGreaterThan(3);

    sim.removeItems(0, 512);
    expect(sim.loadGrams(0)).toBe(1_488);
    clock.advance(2_000);
    await sim.flush();
    await eventually(() => broker!.on(weightTopic).length === 30, '30 weight samples');
    const settled = weights(broker).filter((s) => s.at >= clock.now() - 1_000);
    expect(meanGrams(settled, 0)).toBeGreaterThan(1_838 - 5);
    expect(meanGrams(settled, 0)).toBeLessThan(1_838 + 5);
    expect(sim.stats()).toMatchObject({ status: 'online', failed: 0, errors: 0 });

    await sim.stop();
    expect(sim.status).toBe('stopped');
    expect(statePayload.parse(await broker.retained(stateTopic))).toMatchObject({ online: false });
    const last = broker.on(stateTopic).at(-1)!;
    expect(last).toMatchObject({ retain: true, clientId: deviceId, body: { online: false } });
    // Stopping cancels sampling: time passing sends nothing more.
    const count = broker.on(weightTopic).length;
    clock.advance(5_000);
    expect(broker.on(weightTopic).length).toBe(count);
    expect(sim.stats().acked).toBe(sim.stats().sent);
  });

  it('sends health reports on the clock', async () => {
    broker = await startTestBroker({ [deviceId]: 'right-secret' });
    const clock = new SimClock();
    const sim = shelf(broker.url, clock, { healthIntervalMs: 30_000, sampleRateHz: 1 });
    await sim.start();
    clock.advance(60_000);
    await sim.flush();
    const healthTopic = topics.event(storeId, deviceId, 'health');
    await eventually(() => broker!.on(healthTopic).length === 2, 'two health reports');
    const reports = broker.on(healthTopic).map((m) => healthPayload.parse(m.body));
    expect(reports.map((r) => r.uptimeS)).toEqual([30, 60]);
  });

  it('leaves the broker to publish its last will when the connection drops', async () => {
    broker = await startTestBroker({ [deviceId]: 'right-secret' });
    const sim = shelf(broker.url, new SimClock());
    await sim.start();
    await sim.crash();
    await eventually(() => broker!.on(stateTopic).some((m) => (m.body as { online: boolean }).online === false), 'the last will');
    expect(broker.on(stateTopic).at(-1)).toMatchObject({ retain: true, body: { online: false } });
    expect(statePayload.parse(await broker.retained(stateTopic))).toEqual({ online: false });
  });

  it('reconnects after the broker drops it, announcing itself again', async () => {
    broker = await startTestBroker({ [deviceId]: 'right-secret' });
    const clock = new SimClock();
    // Long enough that the poll below sees the offline window before the retry.
    const sim = shelf(broker.url, clock, { reconnectPeriodMs: 500 });
    await sim.start();
    const connection = broker.clients.get(deviceId)!;
    connection.close();
    await eventually(() => sim.status === 'offline', 'the simulator to notice');
    // Samples taken while offline are lost, as on a real device, and counted.
    clock.advance(500);
    expect(sim.stats().droppedOffline).toBe(5);
    await eventually(() => sim.status === 'online', 'the reconnect');
    expect(sim.stats().reconnects).toBe(1);
    // Last will on the drop, then a fresh birth on the reconnect.
    await eventually(() => broker!.on(stateTopic).length === 3, 'birth, will, birth');
    expect(broker.on(stateTopic).map((m) => (m.body as { online: boolean }).online)).toEqual([true, false, true]);
    clock.advance(500);
    await sim.flush();
    await eventually(() => broker!.on(weightTopic).length === 5, 'samples after the reconnect');
    // The sequence counts on through the outage, so a receiver can see the gap.
    expect(weights(broker).map((s) => s.seq)).toEqual([5, 6, 7, 8, 9]);
  });

  it('rejects start() with SIM_ERR_CONNECT_REFUSED on a wrong password, without retrying', async () => {
    broker = await startTestBroker({ [deviceId]: 'right-secret' });
    const errors: SimulatorError[] = [];
    const sim = shelf(broker.url, new SimClock(), { password: 'wrong-secret', reconnectPeriodMs: 5, onError: (e) => errors.push(e) });
    const failure = await sim.start().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isSimulatorError(failure, 'SIM_ERR_CONNECT_REFUSED')).toBe(true);
    expect((failure as Error).message).toContain('CONNACK 4');
    expect((failure as Error).message).toContain(deviceId);
    expect(sim.status).toBe('stopped');
    // With a 5 ms reconnect period a retrying client would have tried again many times by now.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(broker.connectAttempts.get(deviceId)).toBe(1);
    expect(errors).toEqual([]);
    await expect(sim.publishEvent('weight', { channels: [{ ch: 0, grams: 1 }] })).rejects.toMatchObject({ code: 'SIM_ERR_NOT_STARTED' });
  });

  it('rejects start() with SIM_ERR_CONNECT_FAILED when nothing listens', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const sim = shelf(`mqtt://127.0.0.1:${port}`, new SimClock());
    await expect(sim.start()).rejects.toMatchObject({ code: 'SIM_ERR_CONNECT_FAILED' });
    expect(sim.status).toBe('stopped');
  });

  it('refuses events that break the contract and a second start', async () => {
    broker = await startTestBroker({ [deviceId]: 'right-secret' });
    const errors: SimulatorError[] = [];
    const sim = shelf(broker.url, new SimClock(), { onError: (e) => errors.push(e) });
    await sim.start();
    await expect(sim.start()).rejects.toMatchObject({ code: 'SIM_ERR_ALREADY_STARTED' });
    await expect(sim.publishEvent('scan', { lane: 'entry', token: 'abcdefgh12' })).rejects.toMatchObject({ code: 'SIM_ERR_PAYLOAD_INVALID' });
    await expect(sim.publishEvent('weight', { channels: [] })).rejects.toMatchObject({ code: 'SIM_ERR_PAYLOAD_INVALID' });
    expect(errors.map((e) => e.code)).toEqual(['SIM_ERR_PAYLOAD_INVALID', 'SIM_ERR_PAYLOAD_INVALID']);
    expect(sim.stats().failed).toBe(2);
    expect(() => sim.removeItems(1, 5_000)).toThrow(expect.objectContaining({ code: 'SIM_ERR_ARGUMENT_INVALID' }));
    expect(() => sim.addItems(7, 10)).toThrow(expect.objectContaining({ code: 'SIM_ERR_ARGUMENT_INVALID' }));
  });

  it('refuses a sample rate above what the broker allows', () => {
    expect(() => shelf('mqtt://127.0.0.1:1', new SimClock(), { sampleRateHz: 100 })).toThrow(
      expect.objectContaining({ code: 'SIM_ERR_CONFIG_INVALID' }),
    );
    expect(() => shelf('mqtt://127.0.0.1:1', new SimClock(), { sampleRateHz: 20, messagePerChannel: true, channels: 4 })).toThrow(
      expect.objectContaining({ code: 'SIM_ERR_CONFIG_INVALID' }),
    );
    expect(() => shelf('mqtt://127.0.0.1:1', new SimClock(), { deviceId: 'Shelf/1' })).toThrow(
      expect.objectContaining({ code: 'SIM_ERR_CONFIG_INVALID' }),
    );
  });
});
