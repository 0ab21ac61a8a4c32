import { afterEach, describe, expect, it } from 'vitest';
import { labelEventTypes } from '../../src/labels/ledger-events.ts';
import { StoreEdgeError } from '../../src/errors.ts';
import { labelRig, labelsOf, type LabelRig } from './label-fixture.ts';

const min = 60_000;
let rig: LabelRig | undefined;

async function rejectionOf(promise: Promise<unknown>): Promise<StoreEdgeError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StoreEdgeError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}
afterEach(() => {
  rig?.close();
  rig = undefined;
});

describe('label state across a restart (kill -9)', () => {
  it('rebuilds desired and shown state from the ledger, resumes what was unconfirmed, never reuses a version', async () => {
    rig = await labelRig({ labels: labelsOf(3) });
    const [c0, c1] = rig.publisher.images();
    rig.deliver(c0!); // tag 0 confirmed at v1
    rig.prices.set('sku-1', { priceMinor: 150 }); // tag 1: v2 desired, v1 and v2 never confirmed
    await rig.service.idle();
    rig.deliver(rig.publisher.images('tag-00001').at(-1)!);
    rig.prices.set('sku-1', { priceMinor: 160 }); // tag 1: v3 desired, unconfirmed
    await rig.service.idle();
    const v3 = rig.publisher.images('tag-00001').at(-1)!;
    expect(v3.version).toBe(3);
    rig.publisher.clear();

    const service = rig.restart();
    await service.idle();
    // Unconfirmed ones go again under the same version and bytes; the confirmed one does not.
    const resent = rig.publisher.images();
    expect(resent.map((c) => [c.tagId, c.version])).toEqual([
      ['tag-00001', 3],
      ['tag-00002', 1],
    ]);
    expect(resent[0]!.image).toBe(v3.image);
    expect(service.label('tag-00000')).toMatchObject({ state: 'confirmed', confirmedVersion: 1, confirmedPriceMinor: 199 });
    expect(service.label('tag-00001')).toMatchObject({ desiredVersion: 3, confirmedVersion: 2, confirmedPriceMinor: 150, desiredPriceMinor: 160 });
    expect(service.labelPriceFor('sku-1', rig.clock.now())).toBe(150);
    // The confirmed image survived, by hash.
    expect((await service.image('tag-00000')).subarray(4).toString()).toBe(Buffer.from(c0!.image, 'base64').toString());

    // New content after the restart: version 4, never 1, 2 or 3 again.
    rig.prices.set('sku-1', { priceMinor: 170 });
    await service.idle();
    expect(rig.publisher.images('tag-00001').at(-1)!.version).toBe(4);
    expect(c1!.version).toBe(1);
    const versions = rig.ledger.events({ type: labelEventTypes.desired }).filter((e) => (e.payload as { tagId: string }).tagId === 'tag-00001').map((e) => (e.payload as { version: number }).version);
    expect(versions).toEqual([1, 2, 3, 4]);
  });

  it('keeps only the images some tag desires or shows', async () => {
    rig = await labelRig({ labels: labelsOf(2, { skus: 1 }) });
    const count = () => rig!.ledger.db.prepare('SELECT count(*) AS n FROM label_images').get() as { n: number };
    expect(count().n).toBe(1); // two tags of one SKU and type share one image
    for (const c of rig.publisher.images()) rig.deliver(c);
    rig.prices.set('sku-0', { priceMinor: 120 });
    await rig.service.idle();
    expect(count().n).toBe(2); // desired (new) + shown (old)
    for (const c of rig.publisher.images().slice(2)) rig.deliver(c);
    expect(count().n).toBe(1); // the old one is gone once no tag shows it
    rig.prices.set('sku-0', { priceMinor: 110 });
    await rig.service.idle();
    rig.prices.set('sku-0', { priceMinor: 100 });
    await rig.service.idle();
    expect(count().n).toBe(2); // the 110 one was superseded before anyone showed it
  });

  it('rebuilds the LED budget from the ledger', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    await rig.service.flash('tag-00000', { colour: 'red', flashes: 3, repeats: 2, actor: 'test' });
    const service = rig.restart();
    await service.idle();
    const error = await rejectionOf(service.flash('tag-00000', { colour: 'red', flashes: 3, repeats: 2, actor: 'test' }));
    expect(error).toMatchObject({ code: 'EDGE_ERR_LABEL_FLASH_LIMITED', statusCode: 429 });
  });
});

describe('health alerts', () => {
  it('raises label-stale when desired content is not confirmed in time, and clears it on confirmation', async () => {
    rig = await labelRig({ labels: labelsOf(2), settings: { staleAfterMs: 10 * min, healthCheckIntervalMs: min } });
    rig.deliver(rig.publisher.images('tag-00000')[0]!);
    rig.clock.advance(11 * min);
    const stale = rig.inventory.alerts({ kind: 'label-stale' });
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({ state: 'open', sku: 'sku-1', details: { tagId: 'tag-00001', desiredVersion: 1 } });
    expect(rig.service.label('tag-00001').stale).toBe(true);
    expect(rig.service.list({ stale: true }).labels.map((l) => l.id)).toEqual(['tag-00001']);
    rig.deliver(rig.publisher.images('tag-00001')[0]!);
    rig.clock.advance(min);
    expect(rig.inventory.alerts({ kind: 'label-stale' })[0]).toMatchObject({ state: 'cleared', clearReason: 'confirmed' });
  });

  it('raises label-unseen for a silent tag and label-low-battery below 2 450 mV, with hysteresis', async () => {
    rig = await labelRig({ labels: labelsOf(2), settings: { unseenAfterMs: 30 * min, healthCheckIntervalMs: min } });
    const raised: string[] = [];
    rig.bus.on('alert.raised', (a) => a.kind !== 'label-stale' && raised.push(`${a.kind}:${String(a.details.tagId)}`));
    for (let t = 0; t < 31; t += 10) {
      rig.report('tag-00000', { batteryMv: 2_440 });
      rig.clock.advance(10 * min);
    }
    expect(raised.sort()).toEqual(['label-low-battery:tag-00000', 'label-unseen:tag-00001']);
    rig.report('tag-00000', { batteryMv: 2_460 }); // above the threshold, inside the hysteresis: stays
    rig.report('tag-00001', {});
    rig.clock.advance(min);
    expect(rig.inventory.alerts({ kind: 'label-low-battery' })[0]!.state).toBe('open');
    expect(rig.inventory.alerts({ kind: 'label-unseen' })[0]!.state).toBe('cleared');
    rig.report('tag-00000', { batteryMv: 3_000 });
    rig.clock.advance(min);
    expect(rig.inventory.alerts({ kind: 'label-low-battery' })[0]!.state).toBe('cleared');
  });
});

describe('LED flash', () => {
  it('publishes tag.led, tracks its delivery and limits flashes per tag', async () => {
    rig = await labelRig({ labels: labelsOf(2), settings: { flashMinIntervalMs: min, flashDailyBudget: 3 } });
    rig.publisher.clear();
    const flash = await rig.service.flash('tag-00000', { colour: 'blue', flashes: 5, repeats: 1, actor: 'picker-7' });
    expect(rig.publisher.sent).toEqual([{ deviceId: 'gw-0', type: 'tag.led', payload: { at: rig.clock.now(), tagId: 'tag-00000', requestId: flash.requestId, colour: 'blue', flashes: 5, repeats: 1 } }]);
    rig.delivery('tag-00000', { state: 'sent', requestId: flash.requestId });
    expect(rig.service.label('tag-00000').lastFlash).toMatchObject({ requestId: flash.requestId, state: 'sent' });
    expect(rig.ledger.events({ type: labelEventTypes.flashRequested })[0]!.payload).toMatchObject({ tagId: 'tag-00000', actor: 'picker-7' });

    const tooSoon = await rejectionOf(rig.service.flash('tag-00000', { colour: 'blue', flashes: 5, repeats: 1, actor: 'x' }));
    expect(tooSoon).toMatchObject({ code: 'EDGE_ERR_LABEL_FLASH_LIMITED', details: { limit: 'interval', retryAfterMs: min } });
    await rig.service.flash('tag-00001', { colour: 'blue', flashes: 5, repeats: 1, actor: 'x' }); // another tag is not limited
    rig.clock.advance(min);
    await rig.service.flash('tag-00000', { colour: 'green', flashes: 1, repeats: 1, actor: 'x' });
    rig.clock.advance(min);
    await rig.service.flash('tag-00000', { colour: 'green', flashes: 1, repeats: 1, actor: 'x' });
    rig.clock.advance(min);
    const daily = await rejectionOf(rig.service.flash('tag-00000', { colour: 'green', flashes: 1, repeats: 1, actor: 'x' }));
    expect(daily).toMatchObject({ code: 'EDGE_ERR_LABEL_FLASH_LIMITED', details: { limit: 'daily' } });
    rig.clock.advance(24 * 60 * min);
    await rig.service.flash('tag-00000', { colour: 'green', flashes: 1, repeats: 1, actor: 'x' });
    expect(await rejectionOf(rig.service.flash('nope', { colour: 'green', flashes: 1, repeats: 1, actor: 'x' }))).toMatchObject({ code: 'EDGE_ERR_LABEL_NOT_FOUND' });
  });
});

describe('price integrity', () => {
  it('measures the window in which a SKU\'s price and its confirmed labels differ, and judges charges against the label price', async () => {
    rig = await labelRig({ labels: labelsOf(2, { skus: 1 }), priceMinor: 100 });
    const t0 = rig.clock.now();
    for (const c of rig.publisher.images()) rig.deliver(c);
    expect(rig.service.labelPriceFor('sku-0', t0)).toBe(100);
    expect(rig.service.integrity().windowsOpen).toBe(0);

    rig.clock.advance(min);
    const tUp = rig.clock.now();
    rig.prices.set('sku-0', { priceMinor: 120 });
    await rig.service.idle();
    expect(rig.service.integrity().open).toEqual([{ sku: 'sku-0', start: tUp, end: null, lagMs: 0 }]);
    // The shelf still says 1.00: the checkout must charge at most that.
    expect(rig.service.labelPriceFor('sku-0', tUp + 1)).toBe(100);
    expect(rig.service.recordCharge({ sku: 'sku-0', unitPriceMinor: 100, at: tUp + 1 })).toEqual({ labelPriceMinor: 100, violation: false });
    expect(rig.service.recordCharge({ sku: 'sku-0', unitPriceMinor: 120, at: tUp + 1 })).toEqual({ labelPriceMinor: 100, violation: true });
    expect(rig.ledger.events({ type: labelEventTypes.chargeAboveLabel })[0]!.payload).toMatchObject({ sku: 'sku-0', unitPriceMinor: 120, labelPriceMinor: 100 });

    const [a, b] = rig.publisher.images().slice(2);
    rig.clock.advance(40_000);
    rig.deliver(a!); // one label shows 1.20, the other still 1.00: still a mismatch, the lowest shown is 1.00
    expect(rig.service.labelPriceFor('sku-0', rig.clock.now())).toBe(100);
    expect(rig.service.integrity().windowsOpen).toBe(1);
    rig.clock.advance(20_000);
    rig.deliver(b!);
    const tDone = rig.clock.now();
    const summary = rig.service.integrity();
    expect(summary).toMatchObject({ windowsOpen: 0, windowsClosed: 1, maxLagMs: 60_000, violations: 1, charges: 2 });
    expect(summary.recent).toEqual([{ sku: 'sku-0', start: tUp, end: tDone, lagMs: 60_000 }]);
    expect(rig.service.labelPriceFor('sku-0', tDone)).toBe(120);
    // A past instant is answered from the history.
    expect(rig.service.labelPriceFor('sku-0', tUp + 30_000)).toBe(100);
    expect(rig.service.report()).toMatchObject({ total: 2, confirmed: 2, integrityViolations: 1, maxLagMs: 60_000, resentUnchanged: 0 });
    expect(rig.service.labelPriceFor('sku-unknown', tDone)).toBeNull();
  });

  it('a blank label bounds nothing; content the agent never rendered opens a window', async () => {
    rig = await labelRig({ labels: labelsOf(1), priceMinor: 100 });
    rig.deliver(rig.publisher.images()[0]!);
    rig.report('tag-00000', { reason: 'boot' });
    expect(rig.service.labelPriceFor('sku-0', rig.clock.now())).toBeNull();
    expect(rig.service.integrity().windowsOpen).toBe(0);
    rig.report('tag-00000', { contentHash: '0123456789abcdef', version: 7 });
    expect(rig.service.integrity().windowsOpen).toBe(1);
    // A version above ours, seen on the tag, is never reused: the next content goes out above it.
    rig.prices.set('sku-0', { priceMinor: 90 });
    await rig.service.idle();
    expect(rig.publisher.images().at(-1)!.version).toBe(8);
  });
});
