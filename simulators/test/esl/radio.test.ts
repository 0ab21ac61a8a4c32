import { describe, expect, it } from 'vitest';
import { isSimulatorError } from '../../src/errors.ts';
import { EslRadio, voltageAt } from '../../src/esl/index.ts';
import { SimClock } from '../../src/clock.ts';
import { Rng } from '../../src/random.ts';
import { image, imageCommand, ledCommand, radioRig, TAG_TYPE } from './helpers.ts';

const S = 1_000;
const MIN = 60 * S;

describe('ESL radio: check-ins and transfers', () => {
  it('hands an image over only at the tag check-in, and moves it at the air rate in 4 096-byte blocks', () => {
    const rig = radioRig([{ tagId: 'a', firstCheckinMs: 5 * S }]);
    rig.radio.start();
    const cmd = imageCommand('a', 1, 10_000);
    expect(rig.radio.submitImage(cmd)).toEqual({ state: 'queued' });
    expect(rig.states('a')).toEqual(['queued']);
    rig.clock.advance(5 * S - 1);
    expect(rig.radio.counters().transfersStarted).toBe(0);
    rig.clock.advance(1); // the check-in at 5 s starts the transfer
    expect(rig.radio.counters().transfersStarted).toBe(1);
    expect(rig.radio.tagTruth('a').pending).toMatchObject({ version: 1, inFlight: true });
    // 10 000 bytes at 5 000 bytes/s: 2 s on air, in blocks of 4 096 + 4 096 + 1 808.
    rig.clock.advance(2 * S - 1);
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 0, bytesOnAir: 8_192 });
    expect(rig.radio.shown('a').contentHash).toBeUndefined();
    rig.clock.advance(1);
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 1, bytesOnAir: 10_000 });
    expect(rig.radio.shown('a')).toEqual({ contentHash: cmd.contentHash, version: 1 });
    const sent = rig.deliveries.at(-1)!;
    expect(sent).toMatchObject({ tagId: 'a', version: 1, contentHash: cmd.contentHash, state: 'sent', at: rig.start + 7 * S });
    expect(rig.reports.at(-1)).toMatchObject({ tagId: 'a', contentHash: cmd.contentHash, version: 1, tagType: TAG_TYPE, reason: 'checkin', cause: 'transfer' });
    // Ground truth: blank until the transfer completed, the image from then on.
    expect(rig.radio.shownAt('a', rig.start + 7 * S - 1).contentHash).toBeUndefined();
    expect(rig.radio.shownAt('a', rig.start + 7 * S).contentHash).toBe(cmd.contentHash);
    expect(rig.radio.queueLength()).toBe(0);
  });

  it('checks every tag in on its own phase, every interval', () => {
    const rig = radioRig([{ tagId: 'a', firstCheckinMs: 1 * S }, { tagId: 'b', firstCheckinMs: 30 * S }], { checkinIntervalMs: 40 * S });
    rig.radio.start();
    rig.clock.advance(1 * S);
    expect(rig.radio.counters().checkins).toBe(1);
    rig.clock.advance(29 * S);
    expect(rig.radio.counters().checkins).toBe(2);
    rig.clock.advance(11 * S); // a again at 41 s
    expect(rig.radio.counters().checkins).toBe(3);
    rig.clock.advance(400 * S - 41 * S);
    // a: 1, 41, …, 361 (10); b: 30, 70, …, 390 (10).
    expect(rig.radio.counters().checkins).toBe(20);
  });

  it('runs one transfer at a time: a tag that checks in while the radio is busy comes back when it is free', () => {
    const rig = radioRig([{ tagId: 'a', firstCheckinMs: 0 }, { tagId: 'b', firstCheckinMs: 100 }]);
    rig.radio.start();
    rig.radio.submitImage(imageCommand('a', 1, 20_000));
    rig.radio.submitImage(imageCommand('b', 1, 20_000));
    rig.clock.advance(100);
    expect(rig.radio.counters()).toMatchObject({ transfersStarted: 1, busyDeferrals: 1 });
    rig.clock.advance(4 * S - 100); // a's 20 000 bytes take 4 s; b was told to come back 5 ms later
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 1, transfersStarted: 1 });
    rig.clock.advance(5);
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 1, transfersStarted: 2 });
    rig.clock.advance(4 * S);
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 2, bytesOnAir: 40_000, busyDeferrals: 1 });
    expect(rig.deliveries.filter((d) => d.state === 'sent').map((d) => [d.tagId, d.at - rig.start])).toEqual([
      ['a', 4 * S],
      ['b', 8 * S + 5],
    ]);
  });

  it('gives tags that find the radio busy successive slots, so a burst drains at the air rate without retry storms', () => {
    const tags = Array.from({ length: 10 }, (_, i) => ({ tagId: `t${i}`, firstCheckinMs: i * 100 }));
    const rig = radioRig(tags);
    rig.radio.start();
    for (const { tagId } of tags) rig.radio.submitImage(imageCommand(tagId, 1, 5_000)); // 1 s each
    rig.clock.advance(10 * S + 9 * 5 + 1);
    const c = rig.radio.counters();
    expect(c).toMatchObject({ transfersCompleted: 10, busyDeferrals: 9, bytesOnAir: 50_000 });
    const sentAt = rig.deliveries.filter((d) => d.state === 'sent').map((d) => d.at - rig.start);
    expect(sentAt).toEqual(Array.from({ length: 10 }, (_, i) => 1_000 * (i + 1) + 5 * i));
  });

  it('keeps one entry per tag: a newer image supersedes the waiting one', () => {
    const rig = radioRig([{ tagId: 'a', firstCheckinMs: 10 * S }]);
    rig.radio.start();
    const v1 = imageCommand('a', 1, 3_000);
    const v2 = imageCommand('a', 2, 3_000);
    rig.radio.submitImage(v1);
    rig.radio.submitImage(v2);
    expect(rig.deliveries.map((d) => [d.version, d.state])).toEqual([
      [1, 'queued'],
      [1, 'superseded'],
      [2, 'queued'],
    ]);
    rig.clock.advance(11 * S);
    expect(rig.radio.shown('a')).toEqual({ contentHash: v2.contentHash, version: 2 });
    expect(rig.radio.counters()).toMatchObject({ superseded: 1, transfersCompleted: 1, bytesOnAir: 3_000 });
  });

  it('refuses queue-full beyond the pending limit, but still lets a queued tag take a newer image', () => {
    const rig = radioRig(['a', 'b', 'c'], { pendingLimit: 2, checkinIntervalMs: null });
    rig.radio.start();
    expect(rig.radio.submitImage(imageCommand('a', 1, 100)).state).toBe('queued');
    expect(rig.radio.submitImage(imageCommand('b', 1, 100)).state).toBe('queued');
    expect(rig.radio.submitImage(imageCommand('c', 1, 100))).toEqual({ state: 'refused', reason: 'queue-full' });
    expect(rig.radio.submitImage(imageCommand('a', 2, 100)).state).toBe('queued');
    expect(rig.radio.submitLed(ledCommand('c', 'flash-1'))).toEqual({ state: 'refused', reason: 'queue-full' });
    expect(rig.radio.queueLength()).toBe(2);
    expect(rig.radio.counters().refused['queue-full']).toBe(2);
  });

  it('fails an item the tag does not fetch within its 20 housekeeping attempts (about 20 min) and drops it', () => {
    const rig = radioRig([{ tagId: 'a', outOfRange: true }]);
    rig.radio.start();
    rig.radio.submitImage(imageCommand('a', 1, 100));
    rig.radio.submitLed(ledCommand('a', 'flash-1'));
    rig.clock.advance(20 * MIN - 1);
    expect(rig.states('a')).toEqual(['queued', 'queued']);
    rig.clock.advance(1);
    expect(rig.states('a')).toEqual(['queued', 'queued', 'failed:timeout', 'failed:timeout']);
    expect(rig.radio.queueLength()).toBe(0);
    expect(rig.radio.counters().failed).toEqual({ timeout: 2, 'transfer-error': 0 });
    // Back in range, the tag is reached but there is nothing left to give it.
    rig.radio.setInRange('a', true);
    rig.clock.advance(3 * 60 * MIN);
    expect(rig.radio.shown('a').contentHash).toBeUndefined();
    expect(rig.radio.counters().transfersStarted).toBe(0);
  });

  it('breaks a transfer off when the tag leaves range, and finishes it at a check-in after it returns', () => {
    const rig = radioRig([{ tagId: 'a', firstCheckinMs: 0 }]);
    rig.radio.start();
    const cmd = imageCommand('a', 1, 12_288); // three blocks, 0.8192 s each
    rig.radio.submitImage(cmd);
    rig.clock.advance(1_000); // first block done, second on air
    rig.radio.setInRange('a', false);
    rig.clock.advance(1_000);
    expect(rig.radio.counters()).toMatchObject({ transfersBroken: 1, bytesOnAir: 8_192, transfersCompleted: 0 });
    expect(rig.radio.tagTruth('a').pending).toMatchObject({ version: 1, inFlight: false });
    rig.clock.advance(5 * MIN);
    rig.radio.setInRange('a', true);
    rig.clock.advance(1 * MIN);
    expect(rig.radio.shown('a').contentHash).toBe(cmd.contentHash);
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 1, bytesOnAir: 8_192 + 12_288 });
    expect(rig.states('a')).toEqual(['queued', 'sent']);
  });
});

describe('ESL radio: anti-replay and refusals', () => {
  it('restores a rebooted tag with the same version and content, and refuses a replayed old version', () => {
    const v3 = image(2_000, 3);
    const rig = radioRig([{ tagId: 'a', contentHash: v3.contentHash, version: 3, firstCheckinMs: 10 * S }]);
    rig.radio.start();
    rig.clock.advance(1 * S);
    rig.radio.rebootTag('a');
    expect(rig.radio.shown('a')).toEqual({ contentHash: undefined, version: undefined });
    const boot = rig.reports.at(-1)!;
    expect(boot).toMatchObject({ tagId: 'a', reason: 'boot', cause: 'boot' });
    expect(boot.contentHash).toBeUndefined();
    expect(boot.version).toBeUndefined();
    // The replay of an older price is refused; so is other content under the current version.
    expect(rig.radio.submitImage(imageCommand('a', 2, 2_000, 2))).toEqual({ state: 'refused', reason: 'stale-version' });
    expect(rig.radio.submitImage(imageCommand('a', 3, 2_000, 99))).toEqual({ state: 'refused', reason: 'stale-version' });
    // The same version with the same content is how the tag gets its content back.
    expect(rig.radio.submitImage(imageCommand('a', 3, 2_000, 3)).state).toBe('queued');
    rig.clock.advance(1 * MIN);
    expect(rig.radio.shown('a')).toEqual({ contentHash: v3.contentHash, version: 3 });
    expect(rig.radio.history('a').map((r) => r.version)).toEqual([3, undefined, 3]);
    expect(rig.radio.shownAt('a', rig.start + 2 * S).contentHash).toBeUndefined();
    expect(rig.radio.counters().refused['stale-version']).toBe(2);
    expect(rig.radio.counters().resentUnchanged).toBe(0);
  });

  it('keeps the anti-replay floor at the highest version accepted, even one that never arrived', () => {
    const rig = radioRig([{ tagId: 'a', outOfRange: true }]);
    rig.radio.start();
    rig.radio.submitImage(imageCommand('a', 5, 100));
    rig.clock.advance(21 * MIN); // v5 times out
    expect(rig.states('a')).toEqual(['queued', 'failed:timeout']);
    expect(rig.radio.submitImage(imageCommand('a', 4, 100))).toEqual({ state: 'refused', reason: 'stale-version' });
    expect(rig.radio.submitImage(imageCommand('a', 5, 100)).state).toBe('queued');
  });

  it('lets a caching (ZBS-style) tag redraw from flash after a reboot and report what it shows', () => {
    const v1 = image(500, 1);
    const rig = radioRig([{ tagId: 'a', contentHash: v1.contentHash, version: 1 }], { cachesContent: true });
    rig.radio.start();
    rig.radio.rebootTag('a');
    expect(rig.radio.shown('a')).toEqual({ contentHash: v1.contentHash, version: 1 });
    expect(rig.reports.at(-1)).toMatchObject({ reason: 'boot', contentHash: v1.contentHash, version: 1 });
    expect(rig.radio.history('a')).toHaveLength(1);
  });

  it('refuses hash-mismatch, wrong-type, unknown-tag and undecodable images', () => {
    const rig = radioRig(['a']);
    rig.radio.start();
    const good = imageCommand('a', 1, 256);
    expect(rig.radio.submitImage({ ...good, contentHash: image(256, 42).contentHash }).state).toBe('refused');
    expect(rig.radio.submitImage({ ...good, image: `${good.image.slice(0, -4)}AAAA` })).toEqual({ state: 'refused', reason: 'hash-mismatch' });
    expect(rig.radio.submitImage({ ...good, image: 'not base64!' })).toEqual({ state: 'refused', reason: 'hash-mismatch' });
    expect(rig.radio.submitImage({ ...good, tagType: 'm3-7.5-bwr' })).toEqual({ state: 'refused', reason: 'wrong-type' });
    expect(rig.radio.submitImage({ ...good, tagId: 'zz' })).toEqual({ state: 'refused', reason: 'unknown-tag' });
    expect(rig.radio.counters().refused).toMatchObject({ 'hash-mismatch': 3, 'wrong-type': 1, 'unknown-tag': 1 });
    expect(rig.deliveries.every((d) => d.state === 'refused')).toBe(true);
    expect(rig.radio.queueLength()).toBe(0);
    expect(rig.radio.submitImage(good).state).toBe('queued');
  });

  it('lets a tag that already shows the image cancel the transfer at once, and counts it as resentUnchanged', () => {
    const v1 = image(8_000, 1);
    const rig = radioRig([{ tagId: 'a', contentHash: v1.contentHash, version: 1, firstCheckinMs: 1 * S }]);
    rig.radio.start();
    rig.radio.submitImage(imageCommand('a', 1, 8_000, 1));
    rig.clock.advance(1 * S);
    expect(rig.states('a')).toEqual(['queued', 'sent']);
    expect(rig.radio.counters()).toMatchObject({ resentUnchanged: 1, transfersStarted: 0, bytesOnAir: 0 });
    expect(rig.reports.at(-1)).toMatchObject({ contentHash: v1.contentHash, version: 1, cause: 'transfer' });
  });
});

describe('ESL radio: LED, battery, reports, range, restart', () => {
  it('takes a tag\'s LED from its tag type unless the config says otherwise', () => {
    const rig = radioRig([{ tagId: 'm2', tagType: 'm2-2.9-bwr' }, { tagId: 'm3', tagType: 'm3-2.9-bwr' }, { tagId: 'x', tagType: 'vendor-x' }]);
    expect(['m2', 'm3', 'x'].map((t) => rig.radio.tagTruth(t).hasLed)).toEqual([false, true, true]);
  });

  it('flashes the LED at the next check-in and refuses a tag without an LED', () => {
    const rig = radioRig([{ tagId: 'a', firstCheckinMs: 7 * S }, { tagId: 'b', hasLed: false }]);
    rig.radio.start();
    expect(rig.radio.submitLed(ledCommand('b', 'flash-b'))).toEqual({ state: 'refused', reason: 'not-supported' });
    expect(rig.radio.submitLed(ledCommand('a', 'flash-a', { flashes: 4, repeats: 3 })).state).toBe('queued');
    rig.clock.advance(7 * S - 1);
    expect(rig.radio.counters().ledFlashes).toBe(0);
    rig.clock.advance(1);
    expect(rig.deliveries.filter((d) => d.tagId === 'a')).toEqual([
      { at: rig.start, tagId: 'a', requestId: 'flash-a', state: 'queued' },
      { at: rig.start + 7 * S, tagId: 'a', requestId: 'flash-a', state: 'sent' },
    ]);
    expect(rig.radio.counters()).toMatchObject({ ledFlashes: 1, ledBlinks: 12 });
    expect(rig.deliveries.find((d) => d.tagId === 'b')).toMatchObject({ requestId: 'flash-b', state: 'refused', reason: 'not-supported' });
  });

  it('drains the battery per check-in, redraw and LED flash; a tag below 2 450 mV stops but keeps its image', () => {
    // 1 mAh from 2 600 mV: the curve has 200 mV left over the last 5 % (50 µAh) of charge.
    const battery = { capacityMah: 1, checkinUah: 0.1, redrawUah: 5, ledFlashUah: 0.5, minimumMv: 2_450 };
    const rig = radioRig([{ tagId: 'a', batteryMv: 2_600, firstCheckinMs: 0 }], { battery, checkinIntervalMs: 10 * S });
    rig.radio.start();
    const startMv = rig.radio.tagTruth('a').batteryMv;
    expect(startMv).toBeCloseTo(2_600, 6);
    rig.clock.advance(5 * S); // one check-in
    const perUah = 200 / 50; // mV per µAh at this end of the curve
    expect(rig.radio.tagTruth('a').batteryMv).toBeCloseTo(2_600 - 0.1 * perUah, 6);
    const cmd = imageCommand('a', 1, 100);
    rig.radio.submitImage(cmd);
    rig.radio.submitLed(ledCommand('a', 'flash', { flashes: 2, repeats: 2 }));
    rig.clock.advance(10 * S); // check-in, 4 flashes, transfer, redraw
    expect(rig.radio.tagTruth('a').batteryMv).toBeCloseTo(2_600 - (0.2 + 4 * 0.5 + 5) * perUah, 6);
    // Redraws drain it to the minimum: 6 more images at 5 µAh take it below 2 450 mV.
    for (let v = 2; v <= 8; v++) {
      rig.radio.submitImage(imageCommand('a', v, 100));
      rig.clock.advance(10 * S);
    }
    const truth = rig.radio.tagTruth('a');
    expect(truth.dead).toBe(true);
    expect(rig.radio.counters().deadTags).toBe(1);
    const checkins = rig.radio.counters().checkins;
    rig.clock.advance(10 * MIN);
    expect(rig.radio.counters().checkins).toBe(checkins);
    // E-paper is bistable: the last image stays on the dead tag.
    expect(truth.shown.contentHash).toBeDefined();
    expect(rig.radio.shown('a')).toEqual(truth.shown);
    expect(voltageAt(1)).toBe(3_100);
  });

  it('sends a heartbeat per tag every reportEveryMs, not at every check-in', () => {
    const tags = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const rig = radioRig(tags, { checkinIntervalMs: 40 * S, reportEveryMs: 10 * MIN });
    rig.radio.start();
    rig.clock.advance(60 * MIN);
    const counters = rig.radio.counters();
    expect(counters.checkins).toBeGreaterThanOrEqual(50 * 89);
    // 6 heartbeats per tag per hour (a check-in is 40 s, so each can run up to 40 s late: 5 or 6).
    for (const tagId of tags) {
      const n = rig.reports.filter((r) => r.tagId === tagId && r.cause === 'heartbeat').length;
      expect(n, tagId).toBeGreaterThanOrEqual(5);
      expect(n, tagId).toBeLessThanOrEqual(6);
    }
    const first = rig.reports[0]!;
    expect(first.batteryMv).toBeGreaterThanOrEqual(2_900);
    expect(first.rssi).toBeLessThan(-30);
    expect(first.temperatureC).toBeTypeOf('number');
  });

  it('backs off an unanswered tag (14 misses, then hourly) and hears it at its next wake once back in range', () => {
    const rig = radioRig([{ tagId: 'a', outOfRange: true, firstCheckinMs: 0 }], { checkinIntervalMs: 40 * S });
    rig.radio.start();
    rig.clock.advance(13 * 40 * S);
    expect(rig.radio.counters().checkinsMissed).toBe(14);
    rig.clock.advance(59 * MIN); // the 15th wake is an hour after the 14th
    expect(rig.radio.counters().checkinsMissed).toBe(14);
    rig.clock.advance(1 * MIN);
    expect(rig.radio.counters().checkinsMissed).toBe(15);
    rig.radio.setInRange('a', true);
    rig.clock.advance(59 * MIN);
    expect(rig.radio.counters().checkins).toBe(0);
    rig.clock.advance(1 * MIN);
    expect(rig.radio.counters().checkins).toBe(1);
    rig.clock.advance(40 * S);
    expect(rig.radio.counters().checkins).toBe(2);
  });

  it('loses the pending queue and the transfer in flight on a gateway restart, silently; tags keep their content', () => {
    const old = image(1_000, 7);
    const rig = radioRig(
      [{ tagId: 'a', firstCheckinMs: 0 }, { tagId: 'b', contentHash: old.contentHash, version: 7, firstCheckinMs: 20 * S }],
      { restartDowntimeMs: 30 * S },
    );
    rig.radio.start();
    rig.radio.submitImage(imageCommand('a', 1, 20_000));
    rig.radio.submitImage(imageCommand('b', 8, 1_000));
    rig.radio.submitLed(ledCommand('b', 'flash-b'));
    rig.clock.advance(1 * S); // a's transfer on air
    const before = rig.deliveries.length;
    rig.radio.restart();
    expect(rig.radio.queueLength()).toBe(0);
    expect(rig.radio.counters()).toMatchObject({ restarts: 1, queueLostOnRestart: 3 });
    rig.clock.advance(10 * MIN);
    expect(rig.deliveries.length).toBe(before); // no word about the lost items
    expect(rig.radio.shown('a').contentHash).toBeUndefined();
    expect(rig.radio.shown('b')).toEqual({ contentHash: old.contentHash, version: 7 });
    expect(rig.radio.counters()).toMatchObject({ transfersCompleted: 0, ledFlashes: 0 });
    expect(rig.radio.counters().checkinsMissed).toBeGreaterThanOrEqual(1); // b's check-in at 20 s fell in the downtime
    // The tag database survives: the anti-replay floor is still v8.
    expect(rig.radio.submitImage(imageCommand('b', 7, 1_000, 7))).toEqual({ state: 'refused', reason: 'stale-version' });
    expect(rig.radio.submitImage(imageCommand('b', 8, 1_000)).state).toBe('queued');
    rig.clock.advance(1 * MIN);
    expect(rig.radio.shown('b').version).toBe(8);
  });

  it('moves tags out of and back into range over time, and reboots tags at the configured rate', () => {
    const tags = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const rig = radioRig(tags, { rangeChurn: { meanInRangeMs: 6 * 60 * MIN, meanOutOfRangeMs: 30 * MIN }, rebootsPerTagPerDay: 1, backoff: false });
    rig.radio.start();
    rig.clock.advance(24 * 60 * MIN);
    const c = rig.radio.counters();
    // 200 tags × 1/day: Poisson, mean 200.
    expect(c.reboots).toBeGreaterThan(150);
    expect(c.reboots).toBeLessThan(250);
    expect(c.rangeChanges).toBeGreaterThan(200 * 2 * 2);
    // In range about 6 h / 6.5 h of the time.
    const missShare = c.checkinsMissed / (c.checkins + c.checkinsMissed);
    expect(missShare).toBeGreaterThan(0.04);
    expect(missShare).toBeLessThan(0.12);
    expect(rig.reports.filter((r) => r.cause === 'boot').length).toBeLessThanOrEqual(c.reboots);
  });

  it('stops rebooting tags and moving them in and out of range when told, and keeps checking in', () => {
    const tags = Array.from({ length: 200 }, (_, i) => `t${i}`);
    const rig = radioRig(tags, { rangeChurn: { meanInRangeMs: 6 * 60 * MIN, meanOutOfRangeMs: 30 * MIN }, rebootsPerTagPerDay: 5, backoff: false });
    rig.radio.start();
    rig.clock.advance(6 * 60 * MIN);
    const before = rig.radio.counters();
    expect(before.reboots).toBeGreaterThan(50);
    const outOfRange = tags.filter((t) => !rig.radio.tagTruth(t).inRange);
    rig.radio.stopDisturbances();
    rig.clock.advance(24 * 60 * MIN);
    const after = rig.radio.counters();
    expect(after.reboots).toBe(before.reboots);
    expect(after.rangeChanges).toBe(before.rangeChanges);
    expect(tags.filter((t) => !rig.radio.tagTruth(t).inRange)).toEqual(outOfRange);
    expect(after.checkins).toBeGreaterThan(before.checkins);
  });

  it('draws a share of tags out of range at the start, and replays identically from the same seed', () => {
    const tags = Array.from({ length: 1_000 }, (_, i) => `t${i}`);
    const run = () => {
      const rig = radioRig(tags, { outOfRangeShare: 0.1, checkinJitter: 0.05 }, 'seed-1');
      rig.radio.start();
      rig.clock.advance(30 * MIN);
      return rig;
    };
    const a = run();
    const out = tags.filter((t) => !a.radio.tagTruth(t).inRange).length;
    expect(out).toBeGreaterThan(70);
    expect(out).toBeLessThan(130);
    const b = run();
    expect(b.radio.counters()).toEqual(a.radio.counters());
    expect(b.reports).toEqual(a.reports);
  });

  it('validates its options once and names the bad field', () => {
    const make = (options: object) =>
      new EslRadio({
        deviceId: 'gw',
        clock: new SimClock(),
        rng: new Rng(1),
        tags: ['a'],
        sink: { report: () => undefined, delivery: () => undefined },
        onError: () => undefined,
        ...options,
      });
    for (const bad of [{ radioBytesPerSecond: 0 }, { pendingLimit: 2.5 }, { checkinJitter: 2 }, { radioDelayMs: 5 }, { battery: { capacityMah: -1 } }]) {
      let error: unknown;
      try {
        make(bad);
      } catch (e) {
        error = e;
      }
      expect(isSimulatorError(error, 'SIM_ERR_CONFIG_INVALID'), JSON.stringify(bad)).toBe(true);
      expect((error as Error).message).toContain(Object.keys(bad)[0]);
    }
    expect(() => make({ tags: ['a', 'a'] })).toThrow(/listed twice/);
    expect(() => make({ tags: [{ tagId: 'a', version: 3 }] })).toThrow(/version needs a contentHash/);
    expect(make({}).options).toMatchObject({ checkinIntervalMs: 40_000, radioBytesPerSecond: 5_000, blockBytes: 4_096, pendingLimit: 250, pendingAttempts: 20 });
  });
});
