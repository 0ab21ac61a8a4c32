import { mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  deviceMockBinding,
  M100Reader,
  mockSerialBinding,
  rfidReadsPayload,
  toRfidReadsPayloads,
  type DriverErrorCode,
  type RfidRead,
  type SerialBinding,
} from '@storeedge/device-drivers';
import { SimClock } from '../../src/clock.ts';
import { Rng } from '../../src/random.ts';
import { RfidField, type TagSighting } from '../../src/rfid/field.ts';
import { M100ReaderSimulator, type M100ReaderSimulatorOptions } from '../../src/rfid/m100-simulator.ts';
import { openSocatPtyPair, type PtyPair } from '../../src/shelf-serial/socat-pty-pair.ts';
import { eventually } from '../helpers/test-broker.ts';

/**
 * One suite, two lines between M100Reader and the simulated module: a real pseudo-terminal
 * pair made by socat (the real `@serialport/bindings-cpp` binding on both ends), and
 * binding-mock with the simulator behind the port. The module runs on simulated time: the test
 * advances its clock round by round; the assertions never depend on wall time.
 */
interface Line {
  /** What the reader opens. */
  readerPath: string;
  /** The reader's binding (undefined: the real one). */
  binding: SerialBinding | undefined;
  /** Pulls the cable: the reader's port goes down. */
  pull(): Promise<void>;
  /** Puts it back; the reader must find the module again by itself. */
  replug(): Promise<void>;
  close(): Promise<void>;
}

type LineFactory = (sim: M100ReaderSimulator) => Promise<Line>;

const lines: Record<string, LineFactory> = {
  async 'a socat pty pair (bindings-cpp)'(sim) {
    // The reader opens a symlink to its pty, so a new pair after a pulled cable keeps its path.
    const dir = await mkdtemp(path.join(tmpdir(), 'storeedge-m100-'));
    const readerPath = path.join(dir, 'reader');
    let pty: PtyPair | undefined;
    const plug = async () => {
      pty = await openSocatPtyPair();
      await unlink(readerPath).catch(() => undefined);
      await symlink(pty.paths[0], readerPath);
      await sim.open(pty.paths[1]);
    };
    await plug();
    return {
      readerPath,
      binding: undefined,
      async pull() {
        await pty?.close();
        await sim.close();
      },
      replug: plug,
      async close() {
        await sim.close();
        await pty?.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  async 'binding-mock with the simulator behind the port'(sim) {
    const readerPath = '/dev/mock-m100';
    mockSerialBinding.reset();
    mockSerialBinding.createPort(readerPath);
    return {
      readerPath,
      binding: deviceMockBinding(sim),
      pull: async () => sim.unplug(),
      replug: async () => undefined, // the port is still there: the reader's next open reconnects the module
      close: async () => mockSerialBinding.reset(),
    };
  },
};

const epc = (i: number) => `3074257BF7194E40${i.toString(16).toUpperCase().padStart(8, '0')}`;
const ROUND_MS = 50;

interface Rig {
  clock: SimClock;
  sim: M100ReaderSimulator;
  reader: M100Reader;
  line: Line;
  reads: RfidRead[];
  rejects: DriverErrorCode[];
  /** Tag notices the module sent, and whether the line left them intact (ground truth). */
  sent: Array<{ sighting: TagSighting; intact: boolean }>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rig(makeLine: LineFactory, options: Partial<M100ReaderSimulatorOptions> = {}): Promise<Rig> {
  const clock = new SimClock();
  const field = new RfidField({ readRate: 0.7, crossReadRate: 0.2 });
  for (let i = 0; i < 8; i++) field.place(epc(i), 'shelf-a');
  for (let i = 8; i < 12; i++) field.place(epc(i), 'shelf-b');
  const sent: Rig['sent'] = [];
  const sim = new M100ReaderSimulator({
    field,
    zone: 'shelf-a',
    neighbours: ['shelf-b'],
    clock,
    rng: new Rng('m100-integration'),
    roundMs: ROUND_MS,
    onTagSent: (sighting, intact) => sent.push({ sighting, intact }),
    ...options,
  });
  const line = await makeLine(sim);
  cleanups.push(() => line.close());
  const reader = new M100Reader({
    path: line.readerPath,
    binding: line.binding,
    now: () => clock.now(),
    pollCount: 0xffff,
    repollIntervalMs: null,
    initialBackoffMs: 20,
    maxBackoffMs: 100,
  });
  cleanups.push(() => reader.stop());
  const reads: RfidRead[] = [];
  const rejects: DriverErrorCode[] = [];
  reader.on('read', (read) => reads.push(read));
  reader.on('reject', (reject) => rejects.push(reject.code));
  return { clock, sim, reader, line, reads, rejects, sent };
}

/** Runs `rounds` inventory rounds on simulated time, letting the bytes flow between them. */
async function pump(r: Rig, rounds: number): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    r.clock.advance(ROUND_MS);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

const key = (epcHex: string, rssi: number | undefined) => `${epcHex}@${rssi}`;
const sorted = (xs: string[]) => [...xs].sort();

describe.each(Object.entries(lines))('M100Reader ↔ M100ReaderSimulator over %s', (_name, makeLine) => {
  it('reads every tag notice the module sends, as canonical reads stamped with the reader clock', async () => {
    const r = await rig(makeLine);
    await r.reader.start();
    await eventually(() => r.sim.inventoryRunning, 'the module to receive the multi-poll');
    await pump(r, 40);
    await eventually(() => r.reads.length === r.sent.length, `${r.sent.length} reads`);

    expect(r.sent.length).toBeGreaterThan(150);
    expect(r.sent.every((s) => s.intact)).toBe(true);
    expect(sorted(r.reads.map((x) => key(x.epc, x.rssi)))).toEqual(sorted(r.sent.map((s) => key(s.sighting.epc, s.sighting.rssi))));
    expect(r.reads.every((x) => x.antenna === 1 && x.pc === 0x3000)).toBe(true);
    const start = r.clock.now() - 40 * ROUND_MS;
    expect(r.reads.every((x) => x.at >= start && x.at <= r.clock.now())).toBe(true);
    for (const payload of toRfidReadsPayloads(r.reads)) expect(rfidReadsPayload.safeParse(payload).success).toBe(true);
    // Cross-reads from the neighbouring zone arrive, weaker.
    const crossEpcs = new Set([8, 9, 10, 11].map(epc));
    const cross = r.reads.filter((x) => crossEpcs.has(x.epc));
    const own = r.reads.filter((x) => !crossEpcs.has(x.epc));
    expect(cross.length).toBeGreaterThan(0);
    expect(cross.length).toBeLessThan(own.length / 3);
    const mean = (xs: RfidRead[]) => xs.reduce((a, x) => a + x.rssi!, 0) / xs.length;
    expect(mean(own) - mean(cross)).toBeGreaterThan(8);
    expect(r.rejects).toEqual([]);

    await r.reader.stop();
    await eventually(() => !r.sim.inventoryRunning, 'the module to receive the stop');
  });

  it('with a noisy line: every intact notice is read, every damaged one is counted', async () => {
    const r = await rig(makeLine, { corruptFrameRate: 0.1, noiseRate: 0.1 });
    await r.reader.start();
    await eventually(() => r.sim.inventoryRunning, 'the module to receive the multi-poll');
    await pump(r, 60);
    const intact = () => r.sent.filter((s) => s.intact);
    await eventually(() => r.reads.length === intact().length, `${intact().length} reads`);
    const damaged = r.sim.stats().corruptedFrames;
    expect(damaged).toBeGreaterThan(10);
    await eventually(() => r.rejects.length >= damaged, `at least ${damaged} rejects`);

    expect(sorted(r.reads.map((x) => key(x.epc, x.rssi)))).toEqual(sorted(intact().map((s) => key(s.sighting.epc, s.sighting.rssi))));
    const stats = r.reader.stats();
    expect(Object.keys(stats.rejects).every((code) => code.startsWith('DRV_ERR_FRAME_') || code === 'DRV_ERR_TAG_CRC')).toBe(true);
    expect(stats.reads).toBe(r.reads.length);
  });

  it('re-opens the port after the line drops and resumes inventory', async () => {
    const r = await rig(makeLine);
    const downs: DriverErrorCode[] = [];
    r.reader.on('down', (error) => downs.push(error.code));
    await r.reader.start();
    await eventually(() => r.sim.inventoryRunning, 'the module to receive the multi-poll');
    await pump(r, 5);
    await eventually(() => r.reads.length === r.sent.length && r.reads.length > 0, 'reads before the drop');

    await r.line.pull();
    await eventually(() => downs.length > 0, 'the reader to notice the drop');
    expect(downs[0]).toBe('DRV_ERR_PORT');
    expect(r.sim.inventoryRunning).toBe(false);
    const before = r.reads.length;

    await r.line.replug();
    await eventually(() => r.reader.state === 'open' && r.sim.inventoryRunning, 'the reader to re-open and restart inventory');
    await pump(r, 5);
    await eventually(() => r.reads.length === r.sent.length && r.reads.length > before, 'reads after the re-open');
    expect(r.reader.stats().opens).toBe(2);
  });
});
