import { afterEach, describe, expect, it } from 'vitest';
import {
  defaultChannelCalibration,
  DriverError,
  gramsToCounts,
  SerialShelfController,
  SHELF_CLOCK_SET_AFTER_MS,
  shelfControllerFlags,
  type HealthPayload,
  type SerialShelfControllerOptions,
  type ShelfReject,
  type ShelfSerialBinding,
  type WeightPayload,
} from '@storeedge/device-drivers';
import { Rng } from '../../src/random.ts';
import { SerialShelfSimulator, type SerialShelfSimulatorOptions } from '../../src/shelf-serial/serial-shelf-simulator.ts';
import type { SimulatorError } from '../../src/errors.ts';

/** A serial line with two ends: the host driver opens `hostPath`, the simulator `devicePath`. */
export interface SerialLink {
  hostPath: string;
  devicePath: string;
  /** Undefined: the real binding. */
  binding: ShelfSerialBinding | undefined;
  close(): Promise<void>;
}

/** Waits (polling) until `check` holds. Only a bound on how long to wait, never asserted on. */
export async function until(check: () => boolean, what: string, limitMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Grams the source reports on each of the four channels: no noise, so every reading is known. */
const GRAMS = [350, 1_000.5, 0, 2_500] as const;

/**
 * The shelf-controller serial contract, run over any serial line: a simulated controller on one
 * end, `SerialShelfController` on the other, on real time. Assertions are about bytes, frames
 * and counts; waits are bounded, never measured.
 */
export function describeSerialShelfLink(name: string, openLink: () => Promise<SerialLink>): void {
  describe(`serial shelf controller over ${name}`, () => {
    let link: SerialLink | undefined;
    const cleanups: (() => Promise<void>)[] = [];

    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      await link?.close();
      link = undefined;
    });

    async function connect(sim: Partial<SerialShelfSimulatorOptions> = {}, host: Partial<SerialShelfControllerOptions> = {}) {
      link = await openLink();
      const simErrors: SimulatorError[] = [];
      const simulator = new SerialShelfSimulator({
        path: link.devicePath,
        binding: link.binding,
        channels: 4,
        sampleRateHz: 60,
        source: () => GRAMS,
        statusIntervalMs: null,
        rng: new Rng('serial-link'),
        onError: (error) => simErrors.push(error),
        ...sim,
      });
      // The controller is powered first; the host attaches to a line that is already talking.
      await simulator.start();
      cleanups.push(() => simulator.stop());
      const driver = new SerialShelfController({ deviceId: 'shelf-serial-1', path: link.hostPath, binding: link.binding, ...host });
      const events = { weight: [] as WeightPayload[], health: [] as HealthPayload[], reject: [] as ShelfReject[], portError: [] as DriverError[] };
      driver.on('weight', (w) => events.weight.push(w));
      driver.on('health', (h) => events.health.push(h));
      driver.on('reject', (r) => events.reject.push(r));
      driver.on('portError', (e) => events.portError.push(e));
      const opened = new Promise<void>((resolve) => driver.once('open', resolve));
      driver.start();
      cleanups.push(() => driver.stop());
      await opened;
      return { simulator, driver, events, simErrors };
    }

    it('carries samples from the controller as canonical weights, with the clock the host set', async () => {
      const { simulator, driver, events, simErrors } = await connect();
      await until(() => simulator.clockSet, 'the host to set the controller clock');
      // Frames numbered from here on carry epoch time (earlier ones were anchored at arrival, which may step).
      const firstEpochSeq = simulator.stats().framesSent + simulator.stats().framesDropped;
      const epochSamples = () => events.weight.filter((w) => w.seq! >= firstEpochSeq);
      await until(() => epochSamples().length >= 20, '20 samples after the clock was set');
      const samples = epochSamples();
      for (const sample of samples) {
        expect(sample.at).toBeGreaterThanOrEqual(SHELF_CLOCK_SET_AFTER_MS);
        expect(sample.channels.map((c) => c.ch)).toEqual([0, 1, 2, 3]);
        // Counts are whole, so a reading is the source's grams to within half a count and the 0.01 g rounding.
        sample.channels.forEach((c, ch) => expect(Math.abs(c.grams - GRAMS[ch]!)).toBeLessThanOrEqual(0.01));
      }
      for (let i = 1; i < samples.length; i++) {
        expect(samples[i]!.seq!).toBeGreaterThan(samples[i - 1]!.seq!);
        expect(samples[i]!.at).toBeGreaterThanOrEqual(samples[i - 1]!.at);
      }
      expect(driver.stats().rejects).toEqual({});
      expect(simErrors).toEqual([]);
    });

    it('sends commands to the controller and gets their answers: tare, set rate (and a refused rate), status', async () => {
      const { simulator, driver, events } = await connect({ tareSamples: 3 });
      await until(() => events.weight.length >= 2, 'the first samples');

      const tare = await driver.tare(1);
      expect(tare).toEqual({ ch: 1, zeroCounts: gramsToCounts(GRAMS[1], defaultChannelCalibration) });
      const afterTare = events.weight.length;
      await until(() => events.weight.length >= afterTare + 3, 'samples after the tare');
      for (const sample of events.weight.slice(afterTare)) {
        expect(sample.channels[1]!.grams).toBe(0);
        expect(Math.abs(sample.channels[0]!.grams - GRAMS[0])).toBeLessThanOrEqual(0.01);
      }

      await expect(driver.setSampleRate(80)).resolves.toBe(80);
      expect(simulator.sampleRateHz).toBe(80);
      await expect(driver.setSampleRate(25)).rejects.toMatchObject({ code: 'DRV_ERR_DEVICE_ERROR', message: expect.stringContaining('unsupportedRate') });
      expect(simulator.sampleRateHz).toBe(80);

      await until(() => simulator.clockSet, 'the clock to be set');
      const status = await driver.requestStatus();
      expect(status).toMatchObject({ type: 'status', sampleRateHz: 80, firmwareMajor: 1, rxErrors: 0, temperatureDeciC: 215, channelFlags: [0, 0, 0, 0] });
      expect(status.flags & shelfControllerFlags.clockSet).toBe(shelfControllerFlags.clockSet);
      expect(events.health.at(-1)).toEqual({ at: status.deviceTimeMs, uptimeS: status.uptimeS, temperatureC: 21.5 });
      expect(simulator.stats()).toMatchObject({ naks: 1 });
      expect(driver.stats()).toMatchObject({ commandsFailed: 1, rejects: { DRV_ERR_DEVICE_ERROR: 1 } });
    });

    it('sends unsolicited status from the controller as health reports', async () => {
      const { events } = await connect({ statusIntervalMs: 100, temperatureC: 30.2 });
      await until(() => events.health.length >= 3, 'three status frames');
      expect(events.health.every((h) => h.temperatureC === 30.2)).toBe(true);
    });

    it('counts every frame the noisy line loses, and decodes every one it does not', async () => {
      const { simulator, driver, events } = await connect({ sampleRateHz: 320, supportedRatesHz: [320] });
      // Noise starts once the host has a frame to count from (losses before that are not losses to it).
      await until(() => events.weight.length >= 1, 'the first sample');
      simulator.setFaults({ corruptProbability: 0.1, dropProbability: 0.05, garbageProbability: 0.05 });
      await until(() => simulator.stats().framesSent + simulator.stats().framesDropped >= 300, '300 frames through the noise');
      simulator.setFaults({});
      // One clean frame after the noise accounts for every loss before it.
      const clean = simulator.stats().framesSent + simulator.stats().framesDropped;
      await until(() => events.weight.some((w) => w.seq! >= clean + 3), 'clean samples after the noise');
      const sim = simulator.stats();
      const host = driver.stats();
      expect(sim.framesCorrupted).toBeGreaterThan(0);
      expect(sim.framesDropped).toBeGreaterThan(0);
      expect(host.lostFrames).toBe(sim.framesDropped + sim.framesCorrupted);
      const lineErrors = (host.rejects.DRV_ERR_FRAME_CHECKSUM ?? 0) + (host.rejects.DRV_ERR_FRAME_MALFORMED ?? 0) + (host.rejects.DRV_ERR_FRAME_TOO_LONG ?? 0);
      expect(lineErrors).toBeGreaterThan(0);
      expect(host.rejects.DRV_ERR_CHANNEL_FAULT ?? 0).toBe(0);
      // Whatever got through is exactly what was sent.
      for (const sample of events.weight) sample.channels.forEach((c, ch) => expect(Math.abs(c.grams - GRAMS[ch]!)).toBeLessThanOrEqual(0.01));
      expect(events.reject.filter((r) => r.code === 'DRV_ERR_FRAME_SEQUENCE_GAP').reduce((n, r) => n + r.lost!, 0)).toBe(host.lostFrames);
    });

    it('reports a saturated and a failed channel as channel faults and keeps the others', async () => {
      const { driver, events } = await connect({ source: () => [350, 1e9, Number.NaN, 10] });
      await until(() => events.weight.length >= 3, 'three samples');
      expect(events.weight.at(-1)!.channels.map((c) => c.ch)).toEqual([0, 3]);
      const faults = events.reject.filter((r) => r.code === 'DRV_ERR_CHANNEL_FAULT').map((r) => r.reason);
      expect(faults.some((r) => r.includes('channel 1 is saturated'))).toBe(true);
      expect(faults.some((r) => r.includes('channel 2 reports an ADC error'))).toBe(true);
      await expect(driver.tare(2)).rejects.toMatchObject({ code: 'DRV_ERR_DEVICE_ERROR', message: expect.stringContaining('channelFault') });
    });
  });
}
