import { afterEach, describe, expect, it } from 'vitest';
import { tagReportPayload, topics, type TagReportPayload } from '@storeedge/device-drivers';
import { SimClock } from '../src/clock.ts';
import type { SimulatorError } from '../src/errors.ts';
import { EslGatewaySimulator, type EslGatewayOptions } from '../src/esl-gateway.ts';
import { eventually, startTestBroker, type TestBroker } from './helpers/test-broker.ts';

const storeId = 'store-test';
const deviceId = 'esl-gw-1';
const reportTopic = topics.event(storeId, deviceId, 'tag.report');
const command = (type: string) => topics.command(storeId, deviceId, type);
const HASH_A = '0123456789abcdef0123456789abcdef';
const HASH_B = 'fedcba9876543210fedcba9876543210';

let broker: TestBroker | undefined;
let gateway: EslGatewaySimulator | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await broker?.close();
  broker = undefined;
});

async function startGateway(clock: SimClock, overrides: Partial<EslGatewayOptions> = {}): Promise<{ b: TestBroker; gw: EslGatewaySimulator }> {
  broker = await startTestBroker({ [deviceId]: 'gw-secret' });
  gateway = new EslGatewaySimulator({
    url: broker.url,
    storeId,
    deviceId,
    password: 'gw-secret',
    clock,
    tags: ['esl-0001', 'esl-0002', { tagId: 'esl-0003', contentHash: HASH_B, batteryMv: 2_950 }],
    radioDelayMs: { min: 200, max: 800 },
    checkinIntervalMs: null,
    healthIntervalMs: null,
    ...overrides,
  });
  await gateway.start();
  return { b: broker, gw: gateway };
}

/** Reports in device-time order (the broker may hand on one socket read's messages concurrently). */
function reports(b: TestBroker): TagReportPayload[] {
  return b.on(reportTopic).map((m) => tagReportPayload.parse(m.body)).sort((x, y) => x.at - y.at);
}

describe('EslGatewaySimulator over MQTT', () => {
  it('obeys label.show from the broker and reports the new hash after the radio delay', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock);
    await b.publish(command('label.show'), { tagId: 'esl-0002', contentHash: HASH_A, template: 'price-2.9in' });
    await eventually(() => gw.stats().commands === 1, 'the command to arrive');
    // Nothing changes before the radio has done its work.
    expect(gw.displayedHash('esl-0002')).toBeUndefined();
    clock.advance(199);
    expect(reports(b)).toEqual([]);
    clock.advance(601);
    await gw.flush();
    await eventually(() => b.on(reportTopic).length === 1, 'the tag report');
    const [report] = reports(b);
    expect(report).toMatchObject({ tagId: 'esl-0002', contentHash: HASH_A, reason: 'checkin' });
    expect(report!.batteryMv).toBeGreaterThanOrEqual(2_900);
    expect(report!.batteryMv).toBeLessThanOrEqual(3_100);
    expect(gw.displayedHash('esl-0002')).toBe(HASH_A);
    expect(gw.eslStats()).toMatchObject({ labelsShown: 1, reports: 1 });
  });

  it('applies updates to one tag in command order', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock, { radioDelayMs: { min: 0, max: 5_000 } });
    const hashes = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(16));
    for (const contentHash of hashes) await b.publish(command('label.show'), { tagId: 'esl-0001', contentHash });
    await eventually(() => gw.stats().commands === hashes.length, 'all commands');
    clock.advance(60_000);
    await gw.flush();
    await eventually(() => b.on(reportTopic).length === hashes.length, 'all reports');
    expect(reports(b).map((r) => r.contentHash)).toEqual(hashes);
    expect(gw.displayedHash('esl-0001')).toBe(hashes.at(-1));
  });

  it('counts unknown commands and reports invalid ones without acting on them', async () => {
    const clock = new SimClock();
    const errors: SimulatorError[] = [];
    const { b, gw } = await startGateway(clock, { onError: (e) => errors.push(e) });
    await b.publish(command('tag.dance'), { tagId: 'esl-0001' });
    await b.publish(command('label.show'), { tagId: 'esl-0001', contentHash: 'NOT-HEX' });
    await b.publish(command('label.show'), { tagId: 'esl-9999', contentHash: HASH_A });
    await eventually(() => gw.stats().commands === 3, 'three commands');
    clock.advance(10_000);
    await gw.flush();
    expect(gw.stats()).toMatchObject({ commands: 3, commandsIgnored: 1, commandsInvalid: 2 });
    expect(errors.map((e) => e.code)).toEqual(['SIM_ERR_COMMAND_INVALID', 'SIM_ERR_COMMAND_INVALID']);
    expect(errors[1]!.message).toContain('esl-9999');
    expect(b.on(reportTopic)).toEqual([]);
    expect(gw.displayedHash('esl-0001')).toBeUndefined();
  });

  it('checks every tag in once per interval, spread over it', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock, { checkinIntervalMs: 30_000 });
    clock.advance(30_000);
    await gw.flush();
    await eventually(() => b.on(reportTopic).length === 3, 'three check-ins');
    const first = reports(b);
    expect(first.map((r) => r.tagId)).toEqual(['esl-0001', 'esl-0002', 'esl-0003']);
    expect(first.map((r) => r.at - (clock.now() - 30_000))).toEqual([10_000, 20_000, 30_000]);
    expect(first[2]).toMatchObject({ contentHash: HASH_B, batteryMv: 2_950, reason: 'checkin' });
    expect(first[0]!.contentHash).toBeUndefined();
    clock.advance(30_000);
    await gw.flush();
    await eventually(() => b.on(reportTopic).length === 6, 'a second round');
  });

  it('reports a rebooted tag as blank', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock);
    await gw.rebootTag('esl-0003');
    await eventually(() => b.on(reportTopic).length === 1, 'the boot report');
    expect(reports(b)[0]).toMatchObject({ tagId: 'esl-0003', reason: 'boot' });
    expect(reports(b)[0]!.contentHash).toBeUndefined();
    expect(gw.displayedHash('esl-0003')).toBeUndefined();
  });
});
