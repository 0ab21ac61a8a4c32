import { describe, expect, it } from 'vitest';
import {
  decodeM100Message,
  M100FrameParser,
  m100Commands,
  type M100MessageResult,
  type SerialLine,
} from '@storeedge/device-drivers';
import { SimClock } from '../../src/clock.ts';
import { Rng } from '../../src/random.ts';
import { RfidField, type TagSighting } from '../../src/rfid/field.ts';
import { M100ReaderSimulator, type M100ReaderSimulatorOptions } from '../../src/rfid/m100-simulator.ts';

const epc = (i: number) => `3074257BF7194E40${i.toString(16).toUpperCase().padStart(8, '0')}`;

/** The host side of a line, decoding whatever the module sends. */
class Host {
  readonly parser = new M100FrameParser();
  readonly results: M100MessageResult[] = [];
  readonly rejects: string[] = [];
  hungUp = false;
  readonly line: SerialLine = {
    send: (bytes) => {
      for (const event of this.parser.push(bytes)) {
        if (event.kind === 'reject') this.rejects.push(event.reject.code);
        else this.results.push(decodeM100Message(event.frame));
      }
    },
    hangUp: () => {
      this.hungUp = true;
    },
  };

  tags(): string[] {
    return this.results.flatMap((r) => (r.ok && r.message.kind === 'tag' ? [r.message.epc] : []));
  }

  others(): unknown[] {
    return this.results.filter((r) => !(r.ok && r.message.kind === 'tag')).map((r) => (r.ok ? r.message : r.reject));
  }

  rejectCodes(): string[] {
    return [...this.rejects, ...this.results.flatMap((r) => (r.ok ? [] : [r.reject.code]))];
  }
}

function setup(overrides: Partial<M100ReaderSimulatorOptions> = {}, tags = 5) {
  const clock = new SimClock();
  const field = new RfidField({ readRate: 1, crossReadRate: 0 });
  for (let i = 0; i < tags; i++) field.place(epc(i), 'shelf-a');
  const sim = new M100ReaderSimulator({ field, zone: 'shelf-a', clock, rng: new Rng('m100-test'), roundMs: 50, ...overrides });
  const host = new Host();
  sim.connect(host.line);
  return { clock, field, sim, host };
}

describe('M100ReaderSimulator (as a SerialDevice)', () => {
  it('runs exactly the requested number of multi-poll rounds on its clock', () => {
    const { clock, sim, host } = setup();
    sim.receive(m100Commands.multiPoll(3));
    expect(sim.inventoryRunning).toBe(true);
    clock.advance(49);
    expect(host.tags()).toEqual([]);
    clock.advance(1);
    expect(host.tags()).toHaveLength(5);
    clock.advance(1_000);
    expect(host.tags()).toHaveLength(15);
    expect(sim.inventoryRunning).toBe(false);
    expect(sim.stats()).toMatchObject({ commands: 1, rounds: 3, tagNotices: 15, crossReads: 0 });
    expect(new Set(host.tags())).toEqual(new Set([0, 1, 2, 3, 4].map(epc)));
  });

  it('stops on 0x28 and answers it; a new multi-poll restarts the count', () => {
    const { clock, sim, host } = setup({}, 1);
    sim.receive(m100Commands.multiPoll(100));
    clock.advance(100);
    sim.receive(m100Commands.stopMultiPoll());
    clock.advance(1_000);
    expect(host.tags()).toHaveLength(2);
    expect(host.others()).toEqual([{ kind: 'ack', command: 0x28, status: 0 }]);
    sim.receive(m100Commands.multiPoll(2));
    sim.receive(m100Commands.multiPoll(2));
    clock.advance(1_000);
    expect(host.tags()).toHaveLength(4);
  });

  it('a single poll with no tag in the field answers "no tag" (0x15)', () => {
    const { clock, sim, host } = setup({}, 0);
    sim.receive(m100Commands.singlePoll());
    clock.advance(50);
    expect(host.rejectCodes()).toEqual(['DRV_ERR_DEVICE_ERROR']);
    expect(host.results[0]).toMatchObject({ ok: false, reject: { deviceError: 0x15 } });
  });

  it('answers module info, TX power and region, and refuses unknown commands and bad parameters', () => {
    const { sim, host } = setup({ info: { software: 'V9.9' } }, 0);
    sim.receive(Buffer.concat([m100Commands.getModuleInfo('software'), m100Commands.setTxPower(20.5), m100Commands.getTxPower()]));
    sim.receive(Buffer.concat([m100Commands.setRegion('US'), m100Commands.getRegion()]));
    expect(host.others()).toEqual([
      { kind: 'module-info', info: 'software', text: 'V9.9' },
      { kind: 'ack', command: 0xb6, status: 0 },
      { kind: 'tx-power', dBm: 20.5 },
      { kind: 'ack', command: 0x07, status: 0 },
      { kind: 'region', region: 'US' },
    ]);
    expect(sim.txPowerDbm).toBe(20.5);
    host.results.length = 0;
    sim.receive(Buffer.from('BB00AA0000AA7E', 'hex')); // unknown command 0xAA
    sim.receive(Buffer.from('BB0027000100287E', 'hex')); // multi-poll with 1 parameter byte
    expect(host.results.map((r) => !r.ok && r.reject.deviceError)).toEqual([0x17, 0x0e]);
    expect(sim.stats().errors).toBe(2);
  });

  it('ignores (and counts) bad frames and non-command frames from the host', () => {
    const { sim, host } = setup();
    const bad = Buffer.from(m100Commands.multiPoll(5));
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 1;
    sim.receive(Buffer.concat([Buffer.from([0x00, 0x13]), bad, Buffer.from('BB01280001002A7E', 'hex')]));
    expect(sim.stats()).toMatchObject({ commands: 0, badFrames: 3 });
    expect(sim.inventoryRunning).toBe(false);
    expect(host.results).toEqual([]);
  });

  it('damages frames and adds noise at the configured rates; the host still decodes every intact notice', () => {
    const sent: Array<[TagSighting, boolean]> = [];
    const { clock, sim, host } = setup({ corruptFrameRate: 0.2, noiseRate: 0.2, onTagSent: (s, intact) => sent.push([s, intact]) }, 10);
    sim.receive(m100Commands.multiPoll(100));
    clock.advance(100 * 50);
    host.parser.flush();
    const intact = sent.filter(([, ok]) => ok).map(([s]) => s.epc);
    const stats = sim.stats();
    expect(stats.tagNotices).toBe(1_000);
    expect(stats.corruptedFrames).toBeGreaterThan(150);
    expect(stats.corruptedFrames).toBeLessThan(250);
    expect(stats.noiseBytes).toBeGreaterThan(0);
    expect(host.tags()).toEqual(intact);
    expect(host.rejectCodes().length).toBeGreaterThan(150);
  });

  it('sends nothing and stops its inventory once disconnected', () => {
    const { clock, sim, host } = setup();
    sim.receive(m100Commands.multiPoll(10));
    sim.disconnect();
    clock.advance(1_000);
    expect(host.results).toEqual([]);
    expect(sim.inventoryRunning).toBe(false);
    sim.connect(host.line);
    sim.unplug();
    expect(host.hungUp).toBe(true);
  });
});
