import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import vectors from './fixtures/rfid-test-vectors.json' with { type: 'json' };
import { rfidReadsPayload } from '../../src/payloads.ts';
import {
  deviceMockBinding,
  M100Reader,
  m100Commands,
  m100Responses,
  mockSerialBinding,
  toRfidReadsPayloads,
  type DriverError,
  type RfidRead,
  type SerialBinding,
  type SerialDevice,
  type SerialLine,
} from '../../src/index.ts';
import { hexBytes } from './helpers/seeded.ts';

const PATH = '/dev/ttyM100-test';
const NOW = Date.UTC(2025, 0, 1, 9);
const notice = hexBytes(vectors.m100.find((v) => v.name.startsWith('tag notice'))!.hex);
const multiPoll = m100Commands.multiPoll(0xffff);

type MockPort = Awaited<ReturnType<typeof mockSerialBinding.open>>;

/** mockSerialBinding, keeping each port it opens so a test can feed bytes and read what was written. */
function capturingBinding(): { binding: SerialBinding; ports: MockPort[]; attempts: () => number } {
  const ports: MockPort[] = [];
  let attempts = 0;
  return {
    ports,
    attempts: () => attempts,
    binding: {
      list: () => mockSerialBinding.list(),
      async open(options) {
        attempts++;
        const port = await mockSerialBinding.open(options);
        ports.push(port);
        return port;
      },
    },
  };
}

/** A device on the other end of a mock port that records what the host wrote and can hang up. */
class ScriptedDevice implements SerialDevice {
  readonly received: Buffer[] = [];
  line: SerialLine | undefined;
  connects = 0;
  connect(line: SerialLine): void {
    this.line = line;
    this.connects++;
  }
  receive(bytes: Buffer): void {
    this.received.push(bytes);
  }
  disconnect(): void {
    this.line = undefined;
  }
  /** Frames written by the host, split back into frames (each write is one command here). */
  writes(): string[] {
    return this.received.map((b) => b.toString('hex').toUpperCase());
  }
}

/** Lets promise and nextTick chains run (the mock binding resolves on nextTick); setImmediate is never faked here. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

const readers: M100Reader[] = [];
function reader(options: Partial<ConstructorParameters<typeof M100Reader>[0]> & { binding: SerialBinding }): M100Reader {
  const r = new M100Reader({ path: PATH, now: () => NOW, ...options });
  readers.push(r);
  return r;
}

beforeEach(() => mockSerialBinding.reset());
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(readers.splice(0).map((r) => r.stop()));
});

describe('M100Reader on the mock binding', () => {
  it('opens, starts a multi-poll, and emits canonical reads that fit rfidReadsPayload', async () => {
    mockSerialBinding.createPort(PATH, { record: true });
    const { binding, ports } = capturingBinding();
    const r = reader({ binding, antenna: 2, repollIntervalMs: null });
    const reads: RfidRead[] = [];
    r.on('read', (read) => reads.push(read));
    await r.start();
    expect(r.state).toBe('open');
    await vi.waitFor(() => expect(ports[0]!.recording).toEqual(multiPoll));

    // Split across two reads of the port.
    ports[0]!.emitData(notice.subarray(0, 7));
    ports[0]!.emitData(notice.subarray(7));
    await vi.waitFor(() => expect(reads).toHaveLength(1));
    expect(reads[0]).toEqual({ epc: 'E28011704000021D35AE4008', antenna: 2, rssi: -42, pc: 0x3400, at: NOW });
    const [payload] = toRfidReadsPayloads(reads);
    expect(rfidReadsPayload.parse(payload)).toEqual({ at: NOW, reads: [{ epc: 'E28011704000021D35AE4008', antenna: 2, rssi: -42 }] });
  });

  it('counts every dropped thing by code and keeps reading', async () => {
    mockSerialBinding.createPort(PATH);
    const { binding, ports } = capturingBinding();
    const r = reader({ binding, repollIntervalMs: null });
    const reads: RfidRead[] = [];
    const rejects: string[] = [];
    r.on('read', (read) => reads.push(read));
    r.on('reject', (reject) => rejects.push(reject.code));
    await r.start();
    const badChecksum = Buffer.from(notice);
    badChecksum[22] = badChecksum[22]! ^ 0x55;
    ports[0]!.emitData(
      Buffer.concat([
        hexBytes('00 55 AA'),
        notice,
        badChecksum,
        m100Responses.tagNotice({ epc: 'E28011704000021D35AE4008', rssi: -40, crc: 0x1234 }),
        m100Responses.error(0x15),
        m100Responses.stopped(),
        notice,
      ]),
    );
    await vi.waitFor(() => expect(reads).toHaveLength(2));
    const messages: unknown[] = [];
    r.on('message', (m) => messages.push(m));
    ports[0]!.emitData(m100Responses.moduleInfo('software', 'M100 26dBm V1.0'));
    await vi.waitFor(() => expect(messages).toEqual([{ kind: 'module-info', info: 'software', text: 'M100 26dBm V1.0' }]));
    expect(rejects).toEqual(['DRV_ERR_FRAME_MALFORMED', 'DRV_ERR_FRAME_CHECKSUM', 'DRV_ERR_TAG_CRC', 'DRV_ERR_DEVICE_ERROR']);
    expect(r.stats()).toMatchObject({
      reads: 2,
      frames: 6,
      rejects: { DRV_ERR_FRAME_MALFORMED: 1, DRV_ERR_FRAME_CHECKSUM: 1, DRV_ERR_TAG_CRC: 1, DRV_ERR_DEVICE_ERROR: 1 },
      opens: 1,
      portFailures: 0,
    });
  });

  it('stop() ends the multi-poll and closes the port', async () => {
    mockSerialBinding.createPort(PATH, { record: true });
    const { binding, ports } = capturingBinding();
    const r = reader({ binding, repollIntervalMs: null });
    await r.start();
    await r.stop();
    expect(ports[0]!.recording).toEqual(Buffer.concat([multiPoll, m100Commands.stopMultiPoll()]));
    expect(ports[0]!.isOpen).toBe(false);
    expect(r.state).toBe('stopped');
    await expect(r.send(m100Commands.getTxPower())).rejects.toMatchObject({ code: 'DRV_ERR_PORT' });
  });
});

describe('M100Reader recovery (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
  });

  it('retries a port that will not open with a doubling back-off, then runs once it appears', async () => {
    const { binding, attempts } = capturingBinding();
    const r = reader({ binding, initialBackoffMs: 500, maxBackoffMs: 1_500 });
    const downs: Array<[string, number]> = [];
    r.on('down', (error: DriverError, retryInMs) => downs.push([error.code, retryInMs]));
    let started = false;
    void r.start().then(() => (started = true));
    await settle();
    expect(downs).toEqual([['DRV_ERR_PORT', 500]]);
    expect(r.state).toBe('backoff');

    await vi.advanceTimersByTimeAsync(499);
    await settle();
    expect(attempts()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(attempts()).toBe(2);
    expect(downs.map(([, ms]) => ms)).toEqual([500, 1_000]);
    await vi.advanceTimersByTimeAsync(1_000);
    await settle();
    expect(downs.map(([, ms]) => ms)).toEqual([500, 1_000, 1_500]); // capped

    mockSerialBinding.createPort(PATH);
    await vi.advanceTimersByTimeAsync(1_500);
    await settle();
    expect(started).toBe(true);
    expect(r.state).toBe('open');
    expect(r.stats()).toMatchObject({ opens: 1, portFailures: 3, rejects: { DRV_ERR_PORT: 3 } });
  });

  it('re-opens after the device hangs up, reports the frame cut off, and restarts inventory', async () => {
    mockSerialBinding.createPort(PATH);
    const device = new ScriptedDevice();
    const r = reader({ binding: deviceMockBinding(device), initialBackoffMs: 250 });
    const reads: RfidRead[] = [];
    const rejects: string[] = [];
    const downs: number[] = [];
    const downErrors: string[] = [];
    r.on('read', (read) => reads.push(read));
    r.on('reject', (reject) => rejects.push(`${reject.code}: ${reject.reason}`));
    r.on('down', (error, retryInMs) => {
      downs.push(retryInMs);
      downErrors.push(`${error.code}: ${error.message}`);
    });
    await r.start();
    await settle();
    expect(device.writes()).toEqual([multiPoll.toString('hex').toUpperCase()]);

    device.line!.send(notice);
    device.line!.send(notice.subarray(0, 10));
    await settle();
    expect(reads).toHaveLength(1);
    device.line!.hangUp();
    await settle();
    expect(r.state).toBe('backoff');
    expect(downs).toEqual([250]);
    expect(rejects).toEqual(['DRV_ERR_FRAME_MALFORMED: truncated frame: 10 of 24 bytes']);
    expect(downErrors).toEqual([`DRV_ERR_PORT: ${PATH} lost: the device hung up`]);
    expect(r.stats().rejects).toEqual({ DRV_ERR_FRAME_MALFORMED: 1, DRV_ERR_PORT: 1 });

    await vi.advanceTimersByTimeAsync(250);
    await settle();
    expect(r.state).toBe('open');
    expect(device.connects).toBe(2);
    expect(device.writes()).toEqual([multiPoll, multiPoll].map((b) => b.toString('hex').toUpperCase()));
    device.line!.send(notice);
    await settle();
    expect(reads).toHaveLength(2);
    // A successful open resets the back-off.
    device.line!.hangUp();
    await settle();
    expect(downs).toEqual([250, 250]);
  });

  it('after interByteTimeoutMs of silence, gives up a header that never completes and reads the frame held behind it', async () => {
    mockSerialBinding.createPort(PATH);
    const device = new ScriptedDevice();
    const r = reader({ binding: deviceMockBinding(device), repollIntervalMs: null, interByteTimeoutMs: 100 });
    const reads: RfidRead[] = [];
    const rejects: string[] = [];
    r.on('read', (read) => reads.push(read));
    r.on('reject', (reject) => rejects.push(reject.reason));
    await r.start();
    await settle();
    // Line noise that looks like a header announcing 64 parameter bytes, then a real notice.
    device.line!.send(Buffer.concat([hexBytes('BB 01 22 00 40'), notice]));
    await settle();
    await vi.advanceTimersByTimeAsync(99);
    await settle();
    expect(reads).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await settle();
    expect(reads).toHaveLength(1);
    expect(rejects).toEqual(['truncated frame: 29 of 71 bytes']);
  });

  it('re-sends the multi-poll every repollIntervalMs', async () => {
    mockSerialBinding.createPort(PATH);
    const device = new ScriptedDevice();
    const r = reader({ binding: deviceMockBinding(device), repollIntervalMs: 10_000, pollCount: 100 });
    await r.start();
    await settle();
    await vi.advanceTimersByTimeAsync(25_000);
    await settle();
    expect(device.writes()).toEqual(Array.from({ length: 3 }, () => m100Commands.multiPoll(100).toString('hex').toUpperCase()));
  });

  it('stop() during the back-off cancels the retries', async () => {
    const { binding, attempts } = capturingBinding();
    const r = reader({ binding, initialBackoffMs: 100 });
    const started = r.start();
    await settle();
    await r.stop();
    await started; // resolves on stop
    mockSerialBinding.createPort(PATH);
    await vi.advanceTimersByTimeAsync(60_000);
    await settle();
    expect(attempts()).toBe(1);
    expect(r.state).toBe('stopped');
  });

  it('refuses bad options', () => {
    const { binding } = capturingBinding();
    expect(() => new M100Reader({ path: '', binding })).toThrow(RangeError);
    expect(() => new M100Reader({ path: PATH, binding, antenna: 65 })).toThrow(/antenna 65/);
    expect(() => new M100Reader({ path: PATH, binding, pollCount: 0 })).toThrow(/pollCount 0/);
  });
});
