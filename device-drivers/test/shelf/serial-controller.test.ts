import { createRequire } from 'node:module';
import type { SerialPortMock } from 'serialport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DriverError } from '../../src/errors.ts';
import type { HealthPayload, WeightPayload } from '../../src/payloads.ts';
import { ShelfFrameParser } from '../../src/shelf/frame-parser.ts';
import { encodeFrame, shelfNakErrors, type ShelfCommandFrame, type ShelfFrame, type ShelfFrameBody, type ShelfReject } from '../../src/shelf/frame.ts';
import {
  SerialShelfController,
  type SerialShelfControllerOptions,
  type ShelfSerialBinding,
} from '../../src/shelf/serial-controller.ts';

/** binding-mock as `serialport` loads it (CommonJS): one registry of mock ports per process. */
const MockBinding = (createRequire(import.meta.url)('@serialport/binding-mock') as { MockBinding: typeof SerialPortMock.binding }).MockBinding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;

const PATH = '/dev/ttySHELF0';
const T0 = Date.UTC(2025, 0, 1);

/** Lets the stream, the mock binding (process.nextTick) and promise callbacks run; not faked. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** The mock binding, remembering each port it opens; `unplug()` fails the current port's reads like a pulled USB cable. */
function recordingBinding() {
  const ports: MockPort[] = [];
  let pull: ((error: Error) => void) | undefined;
  const binding: ShelfSerialBinding = {
    list: () => MockBinding.list(),
    async open(options) {
      const port = await MockBinding.open(options);
      ports.push(port);
      const unplugged = new Promise<never>((_resolve, reject) => (pull = reject));
      unplugged.catch(() => undefined);
      return new Proxy(port, {
        get(target, prop) {
          if (prop === 'read') return (...args: Parameters<MockPort['read']>) => Promise.race([target.read(...args), unplugged]);
          const value: unknown = Reflect.get(target, prop);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
  return {
    binding,
    ports,
    get port(): MockPort {
      return ports.at(-1)!;
    },
    unplug: () => pull?.(new Error('device unplugged')),
  };
}

/** The command frames the driver wrote so far on a port. */
function commandsWritten(port: MockPort): ShelfCommandFrame[] {
  return new ShelfFrameParser({ trackSequence: false })
    .push(port.recording)
    .flatMap((o) => (o.kind === 'frame' && o.frame.type === 'command' ? [o.frame] : []));
}

let controllerSeq = 0x100;
/** Frames from the controller, numbered in order. */
function fromController(...frames: ShelfFrameBody[]): Buffer {
  return Buffer.concat(frames.map((f) => Buffer.from(encodeFrame({ ...f, seq: controllerSeq++ } as ShelfFrame))));
}

const running: SerialShelfController[] = [];

function controller(binding: ShelfSerialBinding, overrides: Partial<SerialShelfControllerOptions> = {}) {
  const c = new SerialShelfController({ deviceId: 'shelf-7', path: PATH, binding, syncClock: false, ...overrides });
  running.push(c);
  const events = { weight: [] as WeightPayload[], health: [] as HealthPayload[], reject: [] as ShelfReject[], portError: [] as DriverError[], open: 0, close: [] as (DriverError | undefined)[] };
  c.on('weight', (w) => events.weight.push(w));
  c.on('health', (h) => events.health.push(h));
  c.on('reject', (r) => events.reject.push(r));
  c.on('portError', (e) => events.portError.push(e));
  c.on('open', () => events.open++);
  c.on('close', (e) => events.close.push(e));
  return { c, events };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(T0);
  controllerSeq = 0x100;
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((c) => c.stop()));
  MockBinding.reset();
  vi.useRealTimers();
});

describe('SerialShelfController on the mock binding', () => {
  it('opens the named path and turns sample frames into canonical weight samples, calibrated per channel', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding, { calibration: { 1: { offsetCounts: 1_000, gramsPerCount: 0.01 } } });
    c.start();
    await settle();
    expect(events.open).toBe(1);
    expect(c.isOpen).toBe(true);
    mock.port.emitData(
      fromController(
        { type: 'sample', deviceTimeMs: T0 + 5, channels: [{ raw: 429_497, flags: 0 }, { raw: 36_000, flags: 0 }] },
        { type: 'sample', deviceTimeMs: T0 + 105, channels: [{ raw: 0, flags: 0 }, { raw: 1_000, flags: 0 }] },
      ),
    );
    await settle();
    expect(events.weight).toEqual([
      { at: T0 + 5, seq: 0x100, channels: [{ ch: 0, grams: 1_000 }, { ch: 1, grams: 350 }] },
      { at: T0 + 105, seq: 0x101, channels: [{ ch: 0, grams: 0 }, { ch: 1, grams: 0 }] },
    ]);
    expect(c.stats()).toMatchObject({ open: true, opens: 1, frames: 2, samples: 2, rejects: {} });
  });

  it('sets the controller clock on open, and anchors device time to host time until it is set', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding, { syncClock: true });
    c.start();
    await settle();
    const [setTime] = commandsWritten(mock.port);
    expect(setTime).toEqual({ type: 'command', seq: 0, command: { op: 'setTime', epochMs: T0 } });
    // Frames stamped before the controller handled it: ms since power-up, anchored at arrival.
    mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: 5_000, channels: [{ raw: 0, flags: 0 }] }));
    await settle();
    vi.advanceTimersByTime(100);
    mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: 5_100, channels: [{ raw: 0, flags: 0 }] }));
    await settle();
    expect(events.weight.map((w) => w.at)).toEqual([T0, T0 + 100]);
    // Still one SET_TIME: the one in flight covers the unset clock the samples showed.
    expect(commandsWritten(mock.port)).toHaveLength(1);
    mock.port.emitData(fromController({ type: 'ack', ackSeq: 0, result: { op: 'setTime' } }, { type: 'sample', deviceTimeMs: T0 + 150, channels: [{ raw: 0, flags: 0 }] }));
    await settle();
    expect(events.weight.at(-1)!.at).toBe(T0 + 150);
    // The controller restarts: its clock is back at power-up time, so the driver anchors again and resets it.
    vi.advanceTimersByTime(1_000);
    mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: 20, channels: [{ raw: 0, flags: 0 }] }));
    await settle();
    expect(events.weight.at(-1)!.at).toBe(T0 + 1_100);
    expect(commandsWritten(mock.port).map((f) => f.command)).toEqual([
      { op: 'setTime', epochMs: T0 },
      { op: 'setTime', epochMs: T0 + 1_100 },
    ]);
    expect(c.stats()).toMatchObject({ commandsSent: 2, commandsAcked: 1 });
  });

  it('tries SET_TIME again (at most every clockSyncRetryMs) while frames show the clock unset', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c } = controller(mock.binding, { syncClock: true, commandTimeoutMs: 1_000, clockSyncRetryMs: 5_000 });
    c.start();
    await settle();
    vi.advanceTimersByTime(1_000); // the SET_TIME sent on open times out: nobody was listening yet
    await settle();
    for (let t = 1_000; t <= 7_000; t += 1_000) {
      mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: t, channels: [{ raw: 0, flags: 0 }] }));
      await settle();
      vi.advanceTimersByTime(1_000);
      await settle();
    }
    // On open; on the first unset-clock frame (a new anchor); then once per retry period. Each times out.
    expect(commandsWritten(mock.port).map((f) => f.command)).toEqual([
      { op: 'setTime', epochMs: T0 },
      { op: 'setTime', epochMs: T0 + 1_000 },
      { op: 'setTime', epochMs: T0 + 6_000 },
    ]);
    expect(c.stats().rejects.DRV_ERR_COMMAND_TIMEOUT).toBe(3);
  });

  it('tares a channel: sends TARE, applies the zero the ack reports', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding);
    c.start();
    await settle();
    const tare = c.tare(1);
    await settle();
    const [command] = commandsWritten(mock.port);
    expect(command).toEqual({ type: 'command', seq: 0, command: { op: 'tare', ch: 1 } });
    mock.port.emitData(fromController({ type: 'ack', ackSeq: command!.seq, result: { op: 'tare', ch: 1, zeroCounts: 150_000 } }));
    await expect(tare).resolves.toEqual({ ch: 1, zeroCounts: 150_000 });
    expect(c.calibrationOf(1).offsetCounts).toBe(150_000);
    mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: T0, channels: [{ raw: 150_000, flags: 0 }, { raw: 150_000, flags: 0 }] }));
    await settle();
    expect(events.weight[0]!.channels).toEqual([
      { ch: 0, grams: 349.25 },
      { ch: 1, grams: 0 },
    ]);
  });

  it('sets the rate and requests status; the status frame that follows the ack answers, also as health', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding);
    c.start();
    await settle();
    const rate = c.setSampleRate(80);
    await settle();
    mock.port.emitData(fromController({ type: 'ack', ackSeq: 0, result: { op: 'setRate', hz: 80 } }));
    await expect(rate).resolves.toBe(80);
    const status = c.requestStatus();
    await settle();
    expect(commandsWritten(mock.port).map((f) => f.command)).toEqual([{ op: 'setRate', hz: 80 }, { op: 'requestStatus' }]);
    const statusFrame: ShelfFrameBody = {
      type: 'status',
      deviceTimeMs: T0 + 9,
      uptimeS: 42,
      sampleRateHz: 80,
      firmwareMajor: 1,
      firmwareMinor: 3,
      flags: 1,
      rxErrors: 0,
      temperatureDeciC: 215,
      channelFlags: [0, 0],
    };
    // Ack and status in one read: the status must not slip past the waiting request.
    mock.port.emitData(fromController({ type: 'ack', ackSeq: 1, result: { op: 'requestStatus' } }, statusFrame));
    await expect(status).resolves.toMatchObject({ ...statusFrame, seq: 0x102 });
    expect(events.health).toEqual([{ at: T0 + 9, uptimeS: 42, temperatureC: 21.5 }]);
    expect(c.stats()).toMatchObject({ commandsSent: 2, commandsAcked: 2, commandsFailed: 0 });
  });

  it('a nak rejects the command with DRV_ERR_DEVICE_ERROR naming the reason', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c } = controller(mock.binding);
    c.start();
    await settle();
    const rate = c.setSampleRate(25);
    await settle();
    mock.port.emitData(fromController({ type: 'nak', ackSeq: 0, opcode: 0x02, error: shelfNakErrors.unsupportedRate }));
    await expect(rate).rejects.toMatchObject({ code: 'DRV_ERR_DEVICE_ERROR', message: expect.stringContaining('setRate 25 Hz refused: unsupportedRate') });
    expect(c.stats().rejects).toEqual({ DRV_ERR_DEVICE_ERROR: 1 });
  });

  it('a command nobody answers rejects with DRV_ERR_COMMAND_TIMEOUT after commandTimeoutMs; a late ack is ignored', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c } = controller(mock.binding, { commandTimeoutMs: 1_500 });
    c.start();
    await settle();
    const tare = c.tare(0);
    const outcome = tare.then(
      () => 'resolved',
      (error: DriverError) => error.code,
    );
    await settle();
    vi.advanceTimersByTime(1_499);
    await settle();
    expect(c.stats().commandsFailed).toBe(0);
    vi.advanceTimersByTime(1);
    expect(await outcome).toBe('DRV_ERR_COMMAND_TIMEOUT');
    mock.port.emitData(fromController({ type: 'ack', ackSeq: 0, result: { op: 'tare', ch: 0, zeroCounts: 5 } }));
    await settle();
    expect(c.calibrationOf(0).offsetCounts).toBe(0);
    expect(c.stats()).toMatchObject({ commandsSent: 1, commandsAcked: 0, commandsFailed: 1, rejects: { DRV_ERR_COMMAND_TIMEOUT: 1 } });
  });

  it('counts every reject by code: bad CRC, garbage, sequence gaps, faulty channels, stray command frames', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding);
    c.start();
    await settle();
    const first = fromController({ type: 'sample', deviceTimeMs: T0, channels: [{ raw: 1, flags: 0 }] });
    const corrupted = fromController({ type: 'sample', deviceTimeMs: T0, channels: [{ raw: 1, flags: 0 }] });
    corrupted[10]! ^= 0x40;
    controllerSeq += 2; // two frames the line lost entirely
    mock.port.emitData(
      Buffer.concat([
        first,
        corrupted,
        fromController({ type: 'sample', deviceTimeMs: T0 + 1, channels: [{ raw: 1, flags: 0x01 }, { raw: 2, flags: 0 }] }),
        Buffer.from([1, 2, 3]),
        fromController({ type: 'command', command: { op: 'requestStatus' } }),
      ]),
    );
    await settle();
    expect(events.reject.map((r) => r.code)).toEqual([
      'DRV_ERR_FRAME_CHECKSUM',
      'DRV_ERR_FRAME_SEQUENCE_GAP',
      'DRV_ERR_CHANNEL_FAULT',
      'DRV_ERR_FRAME_MALFORMED',
      'DRV_ERR_FRAME_MALFORMED',
    ]);
    expect(events.reject[1]!.lost).toBe(3);
    expect(events.weight.map((w) => w.channels)).toEqual([[{ ch: 0, grams: 0 }], [{ ch: 1, grams: 0 }]]);
    expect(c.stats()).toMatchObject({
      frames: 3,
      samples: 2,
      lostFrames: 3,
      rejects: { DRV_ERR_FRAME_CHECKSUM: 1, DRV_ERR_FRAME_SEQUENCE_GAP: 1, DRV_ERR_CHANNEL_FAULT: 1, DRV_ERR_FRAME_MALFORMED: 2 },
    });
  });

  it('retries a port that will not open with a doubling back-off, capped, until it opens', async () => {
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding, { reopenInitialDelayMs: 500, reopenMaxDelayMs: 1_500 });
    c.start();
    await settle();
    expect(events.portError.map((e) => e.code)).toEqual(['DRV_ERR_PORT']);
    expect(events.portError[0]!.message).toContain(`cannot open ${PATH}`);
    const failuresAfter = async (ms: number) => {
      vi.advanceTimersByTime(ms);
      await settle();
      return c.stats().openFailures;
    };
    expect(await failuresAfter(499)).toBe(1);
    expect(await failuresAfter(1)).toBe(2); // after 500 ms
    expect(await failuresAfter(999)).toBe(2);
    expect(await failuresAfter(1)).toBe(3); // after 1 000 ms more
    expect(await failuresAfter(1_499)).toBe(3); // 2 000 ms capped at 1 500
    expect(await failuresAfter(1)).toBe(4);
    MockBinding.createPort(PATH);
    expect(await failuresAfter(1_500)).toBe(4);
    expect(events.open).toBe(1);
    expect(c.stats()).toMatchObject({ open: true, opens: 1, openFailures: 4, rejects: { DRV_ERR_PORT: 4 } });
  });

  it('reopens after the device goes away, failing pending commands, and decodes again on the new connection', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding);
    c.start();
    await settle();
    mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: T0, channels: [{ raw: 0, flags: 0 }] }));
    await settle();
    const pending = c.tare(0).then(() => undefined, (error: DriverError) => error);
    await settle();
    mock.unplug();
    await settle();
    expect((await pending)?.code).toBe('DRV_ERR_PORT');
    expect(events.close).toHaveLength(1);
    expect(events.close[0]).toMatchObject({ code: 'DRV_ERR_PORT', message: expect.stringContaining('device unplugged') });
    expect(c.isOpen).toBe(false);
    await expect(c.setSampleRate(10)).rejects.toMatchObject({ code: 'DRV_ERR_PORT' });
    vi.advanceTimersByTime(500);
    await settle();
    expect(events.open).toBe(2);
    // A new connection starts a new sequence: no gap is reported across the reconnect.
    controllerSeq = 0;
    mock.port.emitData(fromController({ type: 'sample', deviceTimeMs: T0 + 1_000, channels: [{ raw: 0, flags: 0 }] }));
    await settle();
    expect(events.weight.map((w) => [w.at, w.seq])).toEqual([
      [T0, 0x100],
      [T0 + 1_000, 0x101],
    ]);
    expect(c.stats()).toMatchObject({ opens: 2, lostFrames: 0, rejects: { DRV_ERR_PORT: 1 } });
  });

  it('stop() closes the port, rejects pending commands and does not reopen', async () => {
    MockBinding.createPort(PATH, { record: true });
    const mock = recordingBinding();
    const { c, events } = controller(mock.binding);
    c.start();
    await settle();
    const pending = c.requestStatus().then(() => undefined, (error: DriverError) => error);
    await c.stop();
    expect((await pending)?.code).toBe('DRV_ERR_PORT');
    expect(mock.port.isOpen).toBe(false);
    vi.advanceTimersByTime(60_000);
    await settle();
    expect(events.open).toBe(1);
    expect(mock.ports).toHaveLength(1);
  });

  it('refuses bad options with DRV_ERR_CONFIG_INVALID naming the option', () => {
    const binding = recordingBinding().binding;
    const bad: Partial<SerialShelfControllerOptions>[] = [
      { deviceId: 'Shelf 7' },
      { path: '' },
      { baudRate: 0 },
      { calibration: { 0: { gramsPerCount: 0 } } },
      { calibration: { 64: { offsetCounts: 1 } } },
    ];
    for (const options of bad) {
      expect(() => new SerialShelfController({ deviceId: 'shelf-7', path: PATH, binding, ...options })).toThrow(
        expect.objectContaining({ code: 'DRV_ERR_CONFIG_INVALID' }),
      );
    }
  });
});
