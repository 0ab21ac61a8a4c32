import { contentHashOf, type TagImageCommand } from '@storeedge/device-drivers';
import { afterEach, describe, expect, it } from 'vitest';
import { labelEventTypes } from '../../src/labels/ledger-events.ts';
import { labelRig, labelsOf, settle, type LabelRig } from './label-fixture.ts';

const min = 60_000;
let rig: LabelRig | undefined;
afterEach(() => {
  rig?.close();
  rig = undefined;
});

function only<T>(items: T[]): T {
  expect(items).toHaveLength(1);
  return items[0]!;
}

async function counter(r: LabelRig, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await r.metrics.text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe('label delivery', () => {
  it('sends each tag its desired content under version 1, and confirms it from the tag report', async () => {
    rig = await labelRig({ labels: labelsOf(3) });
    const commands = rig.publisher.images();
    expect(commands.map((c) => [c.tagId, c.version, c.priority])).toEqual([
      ['tag-00000', 1, 'price'],
      ['tag-00001', 1, 'price'],
      ['tag-00002', 1, 'price'],
    ]);
    for (const c of commands) expect(contentHashOf(Buffer.from(c.image, 'base64'))).toBe(c.contentHash);
    expect(rig.publisher.sent[0]!.deviceId).toBe('gw-0');
    expect(rig.service.label('tag-00000').state).toBe('queued');

    rig.delivery('tag-00000', { state: 'queued', version: 1 });
    rig.delivery('tag-00000', { state: 'sent', version: 1 });
    expect(rig.service.label('tag-00000').state).toBe('sent');
    rig.clock.advance(40_000);
    rig.report('tag-00000', { contentHash: commands[0]!.contentHash, version: 1, batteryMv: 2_950, rssi: -55 });
    const view = rig.service.label('tag-00000');
    expect(view).toMatchObject({ state: 'confirmed', desiredVersion: 1, confirmedVersion: 1, confirmedPriceMinor: 199, batteryMv: 2_950, rssi: -55 });
    const confirmed = rig.ledger.events({ type: labelEventTypes.confirmed });
    expect(only(confirmed).payload).toMatchObject({ tagId: 'tag-00000', version: 1, latencyMs: 40_000, priceMinor: 199 });
    expect(await counter(rig, 'storeedge_labels', { state: 'confirmed' })).toBe(1);
  });

  it('never re-sends unchanged content: same content, a re-render with the same hash, a tag already showing it', async () => {
    rig = await labelRig({ labels: labelsOf(2) });
    for (const c of rig.publisher.images()) rig.deliver(c);
    rig.publisher.clear();
    const rendersBefore = rig.renderer.renders;

    await rig.service.refresh();
    expect(rig.renderer.renders).toBe(rendersBefore); // same content: not even rendered
    rig.prices.set('sku-0', { version: 99 }); // price book version bump, nothing drawn changes
    await rig.service.idle();
    expect(rig.renderer.renders).toBe(rendersBefore + 1);
    expect(rig.publisher.images()).toEqual([]);
    expect(await counter(rig, 'storeedge_label_unchanged_skipped_total', { reason: 'same-hash' })).toBe(1);

    // Heartbeats with the desired hash send nothing and write nothing.
    const head = rig.ledger.head().seq;
    const hash = rig.service.label('tag-00001').desired!.contentHash!;
    rig.clock.advance(10 * min);
    rig.report('tag-00001', { contentHash: hash, version: 1 });
    rig.report('tag-00001', { contentHash: hash, version: 1, reason: 'boot' });
    expect(rig.publisher.images()).toEqual([]);
    expect(rig.ledger.head().seq).toBe(head);

    // A price goes up and back down before the tag got the new one: the tag shows the right content already.
    rig.publisher.fail = true; // the broker is down, the higher price never leaves
    rig.prices.set('sku-1', { priceMinor: 250 });
    await rig.service.idle();
    await settle();
    expect(rig.service.label('tag-00001').state).toBe('failed');
    rig.publisher.fail = false;
    rig.prices.set('sku-1', { priceMinor: 199 });
    await rig.service.idle();
    const view = rig.service.label('tag-00001');
    expect(view.state).toBe('confirmed');
    expect(view.desiredVersion).toBe(3);
    rig.clock.advance(30 * min);
    expect(rig.publisher.images()).toEqual([]);
    expect(await counter(rig, 'storeedge_label_unchanged_skipped_total', { reason: 'already-shown' })).toBe(1);
    expect(rig.service.report().resentUnchanged).toBe(0);
  });

  it('supersedes: a newer version goes out at once and waits for no older one; events for the older version are ignored', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    const v1 = only(rig.publisher.images());
    rig.delivery('tag-00000', { state: 'queued', version: 1 });
    rig.publisher.clear();

    rig.prices.set('sku-0', { priceMinor: 149 });
    await rig.service.idle();
    const v2 = only(rig.publisher.images());
    expect(v2.version).toBe(2);
    expect(v2.contentHash).not.toBe(v1.contentHash);

    // The gateway reports the old one superseded, then (late) failed: nothing is re-sent for it.
    rig.delivery('tag-00000', { state: 'superseded', version: 1 });
    rig.delivery('tag-00000', { state: 'failed', version: 1, reason: 'timeout' });
    rig.clock.advance(5 * min);
    expect(rig.publisher.images()).toHaveLength(1);
    expect(await counter(rig, 'storeedge_label_delivery_ignored_total', { reason: 'stale-version' })).toBe(2);

    // A report of the old content (the tag checked in before the new one reached it) is not a confirmation.
    rig.report('tag-00000', { contentHash: v1.contentHash, version: 1 });
    expect(rig.service.label('tag-00000').state).toBe('queued');
    rig.deliver(v2);
    expect(rig.service.label('tag-00000')).toMatchObject({ state: 'confirmed', confirmedVersion: 2, confirmedPriceMinor: 149 });
  });

  it('a tag waiting for a slot sends only its newest content', async () => {
    rig = await labelRig({ labels: labelsOf(3), settings: { inFlightPerGateway: 1 } });
    expect(rig.publisher.images().map((c) => c.tagId)).toEqual(['tag-00000']);
    rig.prices.set('sku-2', { priceMinor: 300 });
    rig.prices.set('sku-2', { priceMinor: 310 });
    await rig.service.idle();
    rig.deliver(rig.publisher.images('tag-00000')[0]!);
    rig.deliver(rig.publisher.images('tag-00001')[0]!);
    const sent = rig.publisher.images('tag-00002');
    expect(sent.map((c) => c.version)).toEqual([3]);
    expect(JSON.parse(Buffer.from(sent[0]!.image, 'base64').toString())).toMatchObject({ priceMinor: 310 });
  });

  it('backs off exponentially after a failure or refusal, and retries after a delivery timeout', async () => {
    rig = await labelRig({ labels: labelsOf(1), settings: { retryBaseMs: 30_000, retryMaxMs: 120_000, deliveryTimeoutMs: 25 * min } });
    rig.publisher.clear();
    rig.delivery('tag-00000', { state: 'refused', version: 1, reason: 'queue-full' });
    expect(rig.service.label('tag-00000')).toMatchObject({ state: 'failed', delivery: { attempts: 1, lastError: 'queue-full' } });
    rig.clock.advance(29_999);
    expect(rig.publisher.images()).toEqual([]);
    rig.clock.advance(1);
    expect(only(rig.publisher.images()).version).toBe(1);
    rig.delivery('tag-00000', { state: 'failed', version: 1, reason: 'timeout' });
    rig.clock.advance(59_999);
    expect(rig.publisher.images()).toHaveLength(1);
    rig.clock.advance(1);
    expect(rig.publisher.images()).toHaveLength(2);
    rig.delivery('tag-00000', { state: 'failed', version: 1, reason: 'transfer-error' });
    rig.clock.advance(120_000); // capped at retryMaxMs (not 120 s × 2)
    expect(rig.publisher.images()).toHaveLength(3);
    // No word from the gateway at all: after deliveryTimeoutMs it counts as failed and goes again.
    rig.clock.advance(25 * min);
    expect(rig.service.label('tag-00000').delivery.lastError).toBe('timeout');
    rig.clock.advance(120_000);
    expect(rig.publisher.images()).toHaveLength(4);
    expect(rig.publisher.images().every((c) => c.version === 1)).toBe(true);
    expect(await counter(rig, 'storeedge_label_resends_total', { reason: 'retry' })).toBe(4);
  });

  it('a publish that fails backs off like a refusal', async () => {
    rig = await labelRig({ labels: labelsOf(1), start: false });
    rig.publisher.fail = true;
    rig.service.start();
    await rig.service.idle();
    await settle();
    expect(rig.service.label('tag-00000')).toMatchObject({ state: 'failed', delivery: { lastError: 'publish' } });
    rig.publisher.fail = false;
    rig.clock.advance(30_000);
    expect(rig.publisher.images()).toHaveLength(1);
  });

  it('re-applies the desired content, same version and bytes, when a tag reboots blank or shows something else', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    const v1 = only(rig.publisher.images());
    rig.deliver(v1);
    rig.publisher.clear();

    rig.clock.advance(2 * min);
    rig.report('tag-00000', { reason: 'boot', batteryMv: 2_700 });
    const again = only(rig.publisher.images());
    expect({ version: again.version, contentHash: again.contentHash, image: again.image }).toEqual({ version: 1, contentHash: v1.contentHash, image: v1.image });
    const view = rig.service.label('tag-00000');
    expect(view.shown).toMatchObject({ shows: 'blank', contentHash: null });
    expect(view.confirmedPriceMinor).toBeNull();
    expect(only(rig.ledger.events({ type: labelEventTypes.diverged })).payload).toMatchObject({ shows: 'blank', wakeReason: 'boot' });
    expect(await counter(rig, 'storeedge_label_resends_total', { reason: 'reboot' })).toBe(1);
    rig.deliver(again);
    expect(rig.service.label('tag-00000').state).toBe('confirmed');

    // A tag that shows content the agent never rendered (a spoofed or replayed image) gets the desired one back.
    rig.publisher.clear();
    rig.report('tag-00000', { contentHash: 'deadbeefdeadbeef', version: 1 });
    expect(rig.service.label('tag-00000').shown!.shows).toBe('unknown');
    expect(only(rig.publisher.images()).version).toBe(1);
  });

  it('knows an older version of its own when a tag shows it again', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    const v1 = only(rig.publisher.images());
    rig.deliver(v1);
    rig.prices.set('sku-0', { priceMinor: 150 });
    await rig.service.idle();
    rig.deliver(rig.publisher.images().at(-1)!);
    rig.report('tag-00000', { contentHash: v1.contentHash, version: 1 });
    const view = rig.service.label('tag-00000');
    expect(view.shown).toMatchObject({ shows: 'confirmed', version: 1 });
    expect(view.confirmedPriceMinor).toBe(199);
    expect(rig.service.labelPriceFor('sku-0', rig.clock.now())).toBe(199);
  });

  it('sends price changes before cosmetic ones', async () => {
    rig = await labelRig({ labels: labelsOf(4), settings: { inFlightPerGateway: 1 } });
    // Provision all four (one slot: one after another).
    for (let i = 0; i < 4; i++) rig.deliver(rig.publisher.images().at(-1)!);
    expect(rig.service.report().confirmed).toBe(4);
    rig.publisher.clear();
    rig.prices.set('sku-0', { name: 'New name 0' }); // cosmetic: takes the slot
    rig.prices.set('sku-1', { name: 'New name 1' }); // cosmetic: waits
    rig.prices.set('sku-2', { promoText: 'Organic' }); // cosmetic: waits
    rig.prices.set('sku-3', { priceMinor: 99 }); // price: waits, but goes first
    await rig.service.idle();
    expect(rig.publisher.images().map((c) => [c.tagId, c.priority])).toEqual([['tag-00000', 'cosmetic']]);
    for (let i = 0; i < 3; i++) rig.deliver(rig.publisher.images().at(-1)!);
    expect(rig.publisher.images().map((c) => [c.tagId, c.priority])).toEqual([
      ['tag-00000', 'cosmetic'],
      ['tag-00003', 'price'],
      ['tag-00001', 'cosmetic'],
      ['tag-00002', 'cosmetic'],
    ]);
  });

  it('keeps each gateway within its in-flight budget; 2 000 labels through 4 gateways all confirm', async () => {
    rig = await labelRig({ labels: labelsOf(2_000, { gateways: 4 }), settings: { inFlightPerGateway: 50 } });
    const atGateway = new Map<string, TagImageCommand[]>();
    const drain = () => {
      for (const c of rig!.publisher.images()) {
        const label = rig!.labels.find((l) => l.tagId === c.tagId)!;
        atGateway.set(label.gateway, [...(atGateway.get(label.gateway) ?? []), c]);
      }
      rig!.publisher.clear();
    };
    drain();
    expect([...atGateway.values()].map((q) => q.length)).toEqual([50, 50, 50, 50]);
    let rounds = 0;
    while ([...atGateway.values()].some((q) => q.length > 0)) {
      rounds += 1;
      for (const [gateway, queue] of atGateway) {
        expect(queue.length, gateway).toBeLessThanOrEqual(50);
        const batch = queue.splice(0);
        rig.clock.advance(40_000);
        for (const c of batch) rig.deliver(c);
      }
      drain();
    }
    expect(rounds).toBe(10);
    expect(rig.service.report()).toMatchObject({ total: 2_000, confirmed: 2_000, resentUnchanged: 0, sends: 2_000, resends: 0 });
  });

  it('re-issues the content under a higher version when a gateway refuses the version as stale', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    const v1 = only(rig.publisher.images());
    rig.publisher.clear();
    rig.delivery('tag-00000', { state: 'refused', version: 1, reason: 'stale-version' });
    rig.clock.advance(30_000);
    const v2 = only(rig.publisher.images());
    expect(v2).toMatchObject({ version: 2, contentHash: v1.contentHash, image: v1.image });
    const desired = rig.ledger.events({ type: labelEventTypes.desired });
    expect(desired.map((e) => (e.payload as { reason: string }).reason)).toEqual(['content', 'reissue']);
  });

  it('takes a tag report or delivery only from the tag\'s own gateway', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    const v1 = only(rig.publisher.images());
    rig.report('tag-00000', { contentHash: v1.contentHash, version: 1 }, 'gw-rogue');
    rig.delivery('tag-00000', { state: 'refused', version: 1, reason: 'queue-full' }, 'gw-rogue');
    expect(rig.service.label('tag-00000').state).toBe('queued');
    expect(await counter(rig, 'storeedge_label_delivery_ignored_total', { reason: 'wrong-gateway' })).toBe(2);
  });

  it('re-sends what is waiting at a gateway when that gateway comes back online', async () => {
    rig = await labelRig({ labels: labelsOf(2) });
    rig.deliver(rig.publisher.images('tag-00000')[0]!);
    rig.publisher.clear();
    rig.bus.emit('device.listening', { deviceId: 'gw-0', kind: 'esl-gateway', at: rig.clock.now() });
    expect(rig.publisher.images().map((c) => [c.tagId, c.version])).toEqual([['tag-00001', 1]]);
  });

  it('applies an effective-dated price change at its instant', async () => {
    rig = await labelRig({ labels: labelsOf(1), start: false });
    const t = rig.clock.now() + 3_600_000;
    rig.prices.schedule(t, 'sku-0', { priceMinor: 129 });
    rig.service.start();
    await rig.service.idle();
    rig.deliver(only(rig.publisher.images()));
    rig.clock.runUntil(t);
    await rig.service.idle();
    const v2 = rig.publisher.images().at(-1)!;
    expect(v2.version).toBe(2);
    expect(rig.service.integrity().open).toEqual([{ sku: 'sku-0', start: t, end: null, lagMs: 0 }]);
  });
});
