import { afterEach, describe, expect, it } from 'vitest';
import {
  statePayload,
  tagDeliveryPayload,
  tagReportPayload,
  topics,
  type TagDeliveryPayload,
  type TagReportPayload,
} from '@storeedge/device-drivers';
import { SimClock } from '../src/clock.ts';
import type { SimulatorError } from '../src/errors.ts';
import { EslGatewaySimulator, type EslGatewayOptions } from '../src/esl-gateway.ts';
import { image, imageCommand, ledCommand, TAG_TYPE } from './esl/helpers.ts';
import { eventually, startTestBroker, type TestBroker } from './helpers/test-broker.ts';

const storeId = 'store-test';
const deviceId = 'esl-gw-1';
const reportTopic = topics.event(storeId, deviceId, 'tag.report');
const deliveryTopic = topics.event(storeId, deviceId, 'tag.delivery');
const stateTopic = topics.state(storeId, deviceId);
const command = (type: string) => topics.command(storeId, deviceId, type);
const S = 1_000;
const MIN = 60 * S;
const shownImage = image(3_000, 42);

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
    tags: [
      { tagId: 'esl-0001', firstCheckinMs: 10 * S },
      { tagId: 'esl-0002', firstCheckinMs: 20 * S, hasLed: false },
      { tagId: 'esl-0003', firstCheckinMs: 30 * S, contentHash: shownImage.contentHash, version: 42, batteryMv: 2_950 },
    ],
    checkinJitter: 0,
    defaultTagType: TAG_TYPE,
    healthIntervalMs: null,
    reconnectPeriodMs: 100,
    ...overrides,
  });
  await gateway.start();
  return { b: broker, gw: gateway };
}

/** Events in device-time order (the broker may hand on one socket read's messages concurrently). */
function reports(b: TestBroker): TagReportPayload[] {
  return b.on(reportTopic).map((m) => tagReportPayload.parse(m.body)).sort((x, y) => x.at - y.at);
}
function deliveries(b: TestBroker): TagDeliveryPayload[] {
  return b.on(deliveryTopic).map((m) => tagDeliveryPayload.parse(m.body)).sort((x, y) => x.at - y.at);
}

/** Advances virtual time and waits until the gateway's publishes are acknowledged. */
async function advance(clock: SimClock, gw: EslGatewaySimulator, ms: number): Promise<void> {
  clock.advance(ms);
  await gw.flush();
}

describe('EslGatewaySimulator over MQTT', () => {
  it('queues a tag.image, hands it over at the tag check-in and confirms it with tag.delivery and tag.report', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock, { reportEveryMs: 60 * MIN });
    const cmd = imageCommand('esl-0001', 1, 9_000);
    await b.publish(command('tag.image'), cmd);
    await eventually(() => b.on(deliveryTopic).length === 1, 'the queued delivery');
    expect(deliveries(b)[0]).toMatchObject({ tagId: 'esl-0001', version: 1, contentHash: cmd.contentHash, state: 'queued' });
    expect(gw.displayedHash('esl-0001')).toBeUndefined();
    // The tag wakes at 10 s; 9 000 bytes at 5 000 bytes/s take 1.8 s.
    await advance(clock, gw, 11_799);
    expect(gw.displayedHash('esl-0001')).toBeUndefined();
    await advance(clock, gw, 1);
    await eventually(() => b.on(deliveryTopic).length === 2 && b.on(reportTopic).length === 1, 'the sent delivery and the report');
    const start = clock.now() - 11_800;
    expect(deliveries(b)[1]).toEqual({ at: start + 11_800, tagId: 'esl-0001', version: 1, contentHash: cmd.contentHash, state: 'sent' });
    expect(reports(b)[0]).toMatchObject({ tagId: 'esl-0001', contentHash: cmd.contentHash, version: 1, tagType: TAG_TYPE, reason: 'checkin' });
    expect(gw.shownAt('esl-0001', start + 11_799).contentHash).toBeUndefined();
    expect(gw.shownAt('esl-0001', start + 11_800)).toEqual({ contentHash: cmd.contentHash, version: 1 });
    expect(gw.eslStats()).toMatchObject({ imagesReceived: 1, transfersCompleted: 1, bytesOnAir: 9_000, resentUnchanged: 0 });
    expect(gw.stats()).toMatchObject({ commands: 1, commandsInvalid: 0, failed: 0, errors: 0 });
  });

  it('refuses replays, bad hashes, other tag types and unknown tags with tag.delivery, and drops malformed commands', async () => {
    const clock = new SimClock();
    const errors: SimulatorError[] = [];
    const { b, gw } = await startGateway(clock, { onError: (e) => errors.push(e) });
    await b.publish(command('tag.image'), imageCommand('esl-0003', 41, 3_000)); // below the v42 it shows
    await b.publish(command('tag.image'), { ...imageCommand('esl-0001', 1, 500), contentHash: '0123456789abcdef' });
    await b.publish(command('tag.image'), imageCommand('esl-0001', 1, 500, 1, { tagType: 'm3-7.5-bwr' }));
    await b.publish(command('tag.image'), imageCommand('esl-9999', 1, 500));
    await b.publish(command('tag.image'), { tagId: 'esl-0001', version: 'one' });
    await b.publish(command('tag.dance'), { tagId: 'esl-0001' });
    await eventually(() => gw.stats().commands === 6 && b.on(deliveryTopic).length === 4, 'six commands and four refusals');
    expect(deliveries(b).map((d) => [d.tagId, d.state, d.reason])).toEqual(
      expect.arrayContaining([
        ['esl-0003', 'refused', 'stale-version'],
        ['esl-0001', 'refused', 'hash-mismatch'],
        ['esl-0001', 'refused', 'wrong-type'],
        ['esl-9999', 'refused', 'unknown-tag'],
      ]),
    );
    expect(gw.stats()).toMatchObject({ commands: 6, commandsIgnored: 1, commandsInvalid: 1 });
    expect(errors.map((e) => e.code)).toEqual(['SIM_ERR_COMMAND_INVALID']);
    expect(gw.queueLength()).toBe(0);
  });

  it('flashes an LED at the next check-in, and refuses a tag without one', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock);
    await b.publish(command('tag.led'), ledCommand('esl-0001', 'find-1'));
    await b.publish(command('tag.led'), ledCommand('esl-0002', 'find-2'));
    await eventually(() => b.on(deliveryTopic).length === 2, 'queued and refused');
    await advance(clock, gw, 10 * S);
    await eventually(() => b.on(deliveryTopic).length === 3, 'the flash');
    expect(deliveries(b).map((d) => [d.requestId, d.state, d.reason])).toEqual(
      expect.arrayContaining([
        ['find-1', 'queued', undefined],
        ['find-2', 'refused', 'not-supported'],
        ['find-1', 'sent', undefined],
      ]),
    );
    expect(gw.eslStats()).toMatchObject({ ledFlashes: 1, ledBlinks: 6 });
  });

  it('reports a rebooted tag blank, and lets the agent restore it with the same version', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock, { reportEveryMs: 60 * MIN });
    gw.rebootTag('esl-0003');
    await gw.flush();
    await eventually(() => b.on(reportTopic).length === 1, 'the boot report');
    const boot = reports(b)[0]!;
    expect(boot).toMatchObject({ tagId: 'esl-0003', reason: 'boot', batteryMv: expect.any(Number) });
    expect(boot.contentHash).toBeUndefined();
    expect(gw.displayedHash('esl-0003')).toBeUndefined();
    await b.publish(command('tag.image'), imageCommand('esl-0003', 42, 3_000, 42));
    await eventually(() => b.on(deliveryTopic).length === 1, 'queued');
    await advance(clock, gw, 45 * S); // the reboot restarted its 40 s cycle
    await eventually(() => b.on(deliveryTopic).length === 2 && b.on(reportTopic).length === 2, 'restored');
    expect(reports(b)[1]).toMatchObject({ tagId: 'esl-0003', contentHash: shownImage.contentHash, version: 42 });
    expect(gw.shown('esl-0003')).toEqual({ contentHash: shownImage.contentHash, version: 42 });
  });

  it('sends a heartbeat per tag about every 10 minutes, carrying what the tag shows', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock);
    for (let m = 0; m < 30; m++) await advance(clock, gw, MIN);
    const made = gw.eslStats().reports.heartbeat;
    await eventually(() => b.on(reportTopic).length === made, 'every heartbeat at the broker');
    const all = reports(b);
    // Heartbeat phases are random; in 30 min each tag sends 2 or 3 (not one per 40 s check-in).
    for (const tagId of gw.tagIds()) {
      const n = all.filter((r) => r.tagId === tagId).length;
      expect(n, tagId).toBeGreaterThanOrEqual(2);
      expect(n, tagId).toBeLessThanOrEqual(3);
    }
    expect(all.filter((r) => r.tagId === 'esl-0003').every((r) => r.contentHash === shownImage.contentHash && r.version === 42)).toBe(true);
    expect(all.find((r) => r.tagId === 'esl-0003')!.batteryMv).toBeLessThanOrEqual(2_950);
    expect(gw.eslStats().checkins).toBeGreaterThanOrEqual(3 * 44);
  });

  it('loses its queue on restart(), drops off and reconnects to the broker; tags keep their content', async () => {
    const clock = new SimClock();
    const { b, gw } = await startGateway(clock, { restartDowntimeMs: 5 * S });
    await b.publish(command('tag.image'), imageCommand('esl-0001', 1, 2_000));
    await eventually(() => b.on(deliveryTopic).length === 1, 'queued');
    await gw.restart();
    await eventually(() => b.on(stateTopic).some((m) => (m.body as { online: boolean }).online === false), 'the will');
    await eventually(() => gw.stats().reconnects === 1 && gw.online, 'the reconnect');
    await eventually(() => b.on(stateTopic).filter((m) => (m.body as { online: boolean }).online).length === 2, 'the second birth');
    expect(statePayload.parse(await b.retained(stateTopic))).toMatchObject({ online: true });
    expect(gw.eslStats()).toMatchObject({ restarts: 1, queueLostOnRestart: 1 });
    expect(gw.stats()).toMatchObject({ failed: 0, errors: 0 });
    await advance(clock, gw, 2 * MIN);
    expect(gw.displayedHash('esl-0001')).toBeUndefined();
    expect(gw.displayedHash('esl-0003')).toBe(shownImage.contentHash);
    expect(b.on(deliveryTopic)).toHaveLength(1); // nothing said about the lost image
    // The agent re-sends; the restarted gateway delivers.
    await b.publish(command('tag.image'), imageCommand('esl-0001', 1, 2_000));
    await eventually(() => b.on(deliveryTopic).length === 2, 'queued again');
    await advance(clock, gw, 1 * MIN);
    await eventually(() => b.on(deliveryTopic).length === 3, 'sent');
    expect(deliveries(b).at(-1)).toMatchObject({ tagId: 'esl-0001', version: 1, state: 'sent' });
  });
});
