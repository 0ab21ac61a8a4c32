import { afterEach, expect, it } from 'vitest';
import { SerialShelfController, type WeightPayload } from '@storeedge/device-drivers';
import { createMockSerialPair, mockSerialBinding } from '../../src/shelf-serial/mock-serial-pair.ts';
import { SerialShelfSimulator } from '../../src/shelf-serial/serial-shelf-simulator.ts';
import { describeSerialShelfLink, until } from './serial-link.suite.ts';

describeSerialShelfLink('the mock binding (a crossed pair of binding-mock ports)', async () => {
  const pair = createMockSerialPair();
  return { hostPath: pair.paths[0], devicePath: pair.paths[1], binding: pair.binding, close: async () => mockSerialBinding.reset() };
});

afterEach(() => mockSerialBinding.reset());

it('the host reopens after its end of the cable is pulled, and samples flow again', async () => {
  const pair = createMockSerialPair();
  const simulator = new SerialShelfSimulator({ path: pair.paths[1], binding: pair.binding, channels: 2, sampleRateHz: 80, statusIntervalMs: null, onError: () => undefined });
  await simulator.start();
  const driver = new SerialShelfController({ deviceId: 'shelf-serial-2', path: pair.paths[0], binding: pair.binding, reopenInitialDelayMs: 20 });
  const weights: WeightPayload[] = [];
  let opens = 0;
  driver.on('weight', (w) => weights.push(w));
  driver.on('open', () => opens++);
  driver.start();
  try {
    await until(() => weights.length >= 3, 'samples');
    pair.unplug(pair.paths[0]);
    await until(() => opens === 2, 'the driver to reopen');
    const before = weights.length;
    await until(() => weights.length >= before + 3, 'samples after the reopen');
    expect(driver.stats()).toMatchObject({ opens: 2, rejects: { DRV_ERR_PORT: 1 } });
    expect(driver.stats().lostFrames).toBe(0);
  } finally {
    await driver.stop();
    await simulator.stop();
  }
});
