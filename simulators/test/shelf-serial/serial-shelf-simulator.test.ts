import { SerialPortStream } from '@serialport/stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultChannelCalibration,
  encodeFrame,
  gramsToCounts,
  SHELF_RAW_MAX,
  shelfChannelFlags,
  shelfControllerFlags,
  ShelfFrameParser,
  shelfNakErrors,
  type ShelfCommand,
  type ShelfFrame,
  type ShelfReject,
} from '@storeedge/device-drivers';
import { SimClock } from '../../src/clock.ts';
import type { SimulatorError } from '../../src/errors.ts';
import { Rng } from '../../src/random.ts';
import { createMockSerialPair, mockSerialBinding } from '../../src/shelf-serial/mock-serial-pair.ts';
import { SerialShelfSimulator, type SerialShelfSimulatorOptions } from '../../src/shelf-serial/serial-shelf-simulator.ts';

/** Lets the mock ports and streams move the bytes (process.nextTick and promises). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const running: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  for (const item of running.splice(0).reverse()) await item.stop();
  mockSerialBinding.reset();
});

/** A simulator on virtual time, and a bare host end that records what arrives and can send commands. */
async function bench(options: Partial<SerialShelfSimulatorOptions> = {}) {
  const pair = createMockSerialPair();
  const clock = new SimClock();
  const errors: SimulatorError[] = [];
  const sim = new SerialShelfSimulator({ path: pair.paths[1], binding: pair.binding, clock, statusIntervalMs: null, onError: (e) => errors.push(e), ...options });
  const host = new SerialPortStream({ binding: pair.binding, path: pair.paths[0], baudRate: 115_200, autoOpen: false });
  await new Promise<void>((resolve, reject) => host.open((error) => (error ? reject(error) : resolve())));
  running.push({ stop: () => new Promise<void>((resolve) => (host.isOpen ? host.close(() => resolve()) : resolve())) });
  await sim.start();
  running.push(sim);
  const parser = new ShelfFrameParser();
  const frames: ShelfFrame[] = [];
  const rejects: ShelfReject[] = [];
  const raw: Buffer[] = [];
  host.on('data', (chunk: Buffer) => {
    raw.push(chunk);
    for (const item of parser.push(chunk)) {
      if (item.kind === 'frame') frames.push(item.frame);
      else rejects.push(item.reject);
    }
  });
  let seq = 0;
  const send = async (command: ShelfCommand) => {
    const frameSeq = seq++;
    host.write(Buffer.from(encodeFrame({ type: 'command', seq: frameSeq, command })));
    await settle();
    return frameSeq;
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
  };
  return { sim, clock, host, frames, rejects, raw, errors, send, advance };
}

const samplesOf = (frames: ShelfFrame[]) => frames.filter((f) => f.type === 'sample');

describe('SerialShelfSimulator', () => {
  it('sends a sample frame per period, in device time since power-up, as the ADC counts of the source grams', async () => {
    const seen: number[] = [];
    const b = await bench({ channels: 3, sampleRateHz: 10, source: (t) => (seen.push(t), [350, 0.25 * t, -20]) });
    await b.advance(1_000);
    const samples = samplesOf(b.frames);
    expect(samples.map((s) => s.deviceTimeMs)).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]);
    expect(seen).toEqual(samples.map((s) => s.deviceTimeMs));
    expect(samples.map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(samples[4]!.channels).toEqual([350, 125, -20].map((g) => ({ raw: gramsToCounts(g, defaultChannelCalibration), flags: 0 })));
    expect(b.rejects).toEqual([]);
    expect(b.sim.stats()).toMatchObject({ framesSent: 10, samples: 10 });
  });

  it('by default sends a constant tare with seeded Gaussian noise, the same for the same seed', async () => {
    const collect = async (seed: string) => {
      const b = await bench({ channels: 2, tareGrams: 400, noiseSdGrams: 2, rng: new Rng(seed), sampleRateHz: 80 });
      await b.advance(5_000);
      const grams = samplesOf(b.frames).map((s) => s.channels[0]!.raw * defaultChannelCalibration.gramsPerCount);
      await Promise.all(running.splice(0).reverse().map((r) => r.stop()));
      mockSerialBinding.reset();
      return grams;
    };
    const a = await collect('seed-a');
    expect(a).toHaveLength(400);
    expect(await collect('seed-a')).toEqual(a);
    expect(await collect('seed-b')).not.toEqual(a);
    const mean = a.reduce((x, y) => x + y, 0) / a.length;
    const sd = Math.sqrt(a.reduce((x, y) => x + (y - mean) ** 2, 0) / a.length);
    expect(mean).toBeGreaterThan(399.5);
    expect(mean).toBeLessThan(400.5);
    expect(sd).toBeGreaterThan(1.7);
    expect(sd).toBeLessThan(2.3);
  });

  it('pins over-range readings at the rail as saturated, and flags a NaN reading as an ADC error', async () => {
    const b = await bench({ channels: 3, source: () => [1e9, Number.NaN, -1e9] });
    await b.advance(100);
    expect(samplesOf(b.frames)[0]!.channels).toEqual([
      { raw: SHELF_RAW_MAX, flags: shelfChannelFlags.saturated },
      { raw: 0, flags: shelfChannelFlags.adcError },
      { raw: -(2 ** 23), flags: shelfChannelFlags.saturated },
    ]);
  });

  it('reports a source that returns the wrong number of channels as SIM_ERR_TASK_FAILED and keeps sampling', async () => {
    let calls = 0;
    const b = await bench({ channels: 2, source: () => (++calls === 2 ? [1] : [1, 2]) });
    await b.advance(300);
    expect(b.errors.map((e) => e.code)).toEqual(['SIM_ERR_TASK_FAILED']);
    expect(b.errors[0]!.message).toContain('returned 1 values for 2 channels');
    expect(samplesOf(b.frames)).toHaveLength(2);
  });

  it('SET_TIME: acks, then stamps frames in epoch time and reports the clock set', async () => {
    const b = await bench({ channels: 1 });
    await b.advance(250);
    const epoch = Date.UTC(2026, 5, 1);
    const seq = await b.send({ op: 'setTime', epochMs: epoch });
    expect(b.frames.at(-1)).toMatchObject({ type: 'ack', ackSeq: seq, result: { op: 'setTime' } });
    expect(b.sim.clockSet).toBe(true);
    await b.advance(100);
    expect(samplesOf(b.frames).at(-1)!.deviceTimeMs).toBe(epoch + 50);
    await b.send({ op: 'requestStatus' });
    const status = b.frames.at(-1);
    expect(status).toMatchObject({ type: 'status', deviceTimeMs: epoch + 100, flags: shelfControllerFlags.clockSet, sampleRateHz: 10, channelFlags: [0] });
  });

  it('SET_RATE: acks a supported rate and samples at it; naks another', async () => {
    const b = await bench({ channels: 1, sampleRateHz: 10, supportedRatesHz: [10, 80] });
    const seq = await b.send({ op: 'setRate', hz: 80 });
    expect(b.frames.at(-1)).toEqual({ type: 'ack', seq: 0, ackSeq: seq, result: { op: 'setRate', hz: 80 } });
    await b.advance(1_000);
    expect(samplesOf(b.frames)).toHaveLength(80);
    const refused = await b.send({ op: 'setRate', hz: 60 });
    expect(b.frames.at(-1)).toMatchObject({ type: 'nak', ackSeq: refused, opcode: 0x02, error: shelfNakErrors.unsupportedRate });
    expect(b.sim.sampleRateHz).toBe(80);
  });

  it('TARE: averages the next tareSamples conversions and acks them as the zero; naks a bad channel, a busy one, a faulty one', async () => {
    let n = 0;
    const b = await bench({ channels: 3, tareSamples: 4, source: () => [100 + n++, 5, Number.NaN] });
    await b.advance(100);
    const seq = await b.send({ op: 'tare', ch: 0 });
    const busy = await b.send({ op: 'tare', ch: 0 });
    const bad = await b.send({ op: 'tare', ch: 3 });
    const faulty = await b.send({ op: 'tare', ch: 2 });
    expect(b.frames.filter((f) => f.type === 'nak')).toMatchObject([
      { ackSeq: busy, error: shelfNakErrors.busy },
      { ackSeq: bad, error: shelfNakErrors.badChannel },
      { ackSeq: faulty, error: shelfNakErrors.channelFault },
    ]);
    await b.advance(300);
    expect(b.frames.some((f) => f.type === 'ack')).toBe(false);
    await b.advance(100);
    const expected = Math.round([101, 102, 103, 104].reduce((sum, g) => sum + gramsToCounts(g, defaultChannelCalibration), 0) / 4);
    expect(b.frames.filter((f) => f.type === 'ack')).toEqual([{ type: 'ack', seq: expect.any(Number), ackSeq: seq, result: { op: 'tare', ch: 0, zeroCounts: expected } }]);
    expect(b.sim.stats()).toMatchObject({ commands: 4, naks: 3 });
  });

  it('naks commands it cannot understand, and counts host frames it cannot read as rx errors', async () => {
    const b = await bench({ channels: 1 });
    const unknown = await b.send({ op: 'invalid', opcode: 0x42, args: new Uint8Array(0) });
    const badArgs = await b.send({ op: 'invalid', opcode: 0x01, args: Uint8Array.of(0, 0) });
    expect(b.frames.filter((f) => f.type === 'nak')).toMatchObject([
      { ackSeq: unknown, opcode: 0x42, error: shelfNakErrors.unknownOpcode },
      { ackSeq: badArgs, opcode: 0x01, error: shelfNakErrors.badArgument },
    ]);
    const corrupted = encodeFrame({ type: 'command', seq: 9, command: { op: 'requestStatus' } });
    corrupted[8]! ^= 0xff;
    b.host.write(Buffer.from(corrupted));
    b.host.write(Buffer.from(encodeFrame({ type: 'ack', seq: 10, ackSeq: 0, result: { op: 'setTime' } })));
    await settle();
    await b.send({ op: 'requestStatus' });
    expect(b.frames.at(-1)).toMatchObject({ type: 'status', rxErrors: 2 });
    expect(b.sim.stats().rxErrors).toBe(2);
  });

  it('sends unsolicited status frames every statusIntervalMs', async () => {
    const b = await bench({ channels: 2, statusIntervalMs: 1_000, temperatureC: null, firmware: { major: 2, minor: 7 } });
    await b.advance(3_000);
    const statuses = b.frames.filter((f) => f.type === 'status');
    expect(statuses.map((s) => s.uptimeS)).toEqual([1, 2, 3]);
    expect(statuses[0]).toMatchObject({ temperatureDeciC: null, firmwareMajor: 2, firmwareMinor: 7, channelFlags: [0, 0] });
  });

  describe('line faults', () => {
    it('drop: the frame never goes out, but its sequence number is used (the host sees a gap)', async () => {
      const b = await bench({ channels: 1, faults: { dropProbability: 1 } });
      await b.advance(500);
      b.sim.setFaults({});
      await b.advance(100);
      expect(samplesOf(b.frames).map((s) => s.seq)).toEqual([5]);
      expect(b.sim.stats()).toMatchObject({ framesDropped: 5, framesSent: 1 });
    });

    it('corrupt: every frame has one flipped byte, and the host rejects every one', async () => {
      const b = await bench({ channels: 4, faults: { corruptProbability: 1 } });
      await b.advance(2_000);
      expect(b.frames).toEqual([]);
      expect(b.rejects.length).toBeGreaterThanOrEqual(1);
      expect(b.sim.stats()).toMatchObject({ framesCorrupted: 20, framesSent: 20 });
      b.sim.setFaults({});
      await b.advance(100);
      expect(samplesOf(b.frames).map((s) => s.seq)).toEqual([20]);
      expect(b.rejects.filter((r) => r.code === 'DRV_ERR_FRAME_SEQUENCE_GAP')).toEqual([]); // nothing before it to count from
    });

    it('garbage: random bytes go out between frames, and the frames still decode', async () => {
      const b = await bench({ channels: 2, faults: { garbageProbability: 1, garbageMaxBytes: 8 } });
      await b.advance(1_000);
      const stats = b.sim.stats();
      expect(stats.garbageBursts).toBe(10);
      expect(Buffer.concat(b.raw).length).toBe(stats.garbageBytes + 10 * encodeFrame(samplesOf(b.frames)[0]!).length);
      expect(samplesOf(b.frames).map((s) => s.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });

  it('refuses bad options, a second start, and a port that does not exist', async () => {
    const pair = createMockSerialPair();
    const make = (options: Partial<SerialShelfSimulatorOptions>) => new SerialShelfSimulator({ path: pair.paths[1], binding: pair.binding, ...options });
    for (const options of [{ channels: 0 }, { channels: 65 }, { sampleRateHz: 25 }, { faults: { dropProbability: 2 } }, { tareSamples: 0 }, { path: '' }]) {
      expect(() => make(options)).toThrow(expect.objectContaining({ code: 'SIM_ERR_CONFIG_INVALID' }));
    }
    const sim = make({ clock: new SimClock() });
    await sim.start();
    running.push(sim);
    await expect(sim.start()).rejects.toMatchObject({ code: 'SIM_ERR_ALREADY_STARTED' });
    await expect(make({ path: '/dev/mock-nowhere' }).start()).rejects.toMatchObject({ code: 'SIM_ERR_CONNECT_FAILED', message: expect.stringContaining('/dev/mock-nowhere') });
  });
});
