import { contentHashOf, topics, type ShelfLabel, type StoreModelInput, type TagDeliveryPayload, type TagImageCommand } from '@storeedge/device-drivers';
import { EslGatewaySimulator, SimClock } from '@storeedge/simulators';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closed, counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/**
 * Issue 6 done-means: a device that is not the agent cannot command a tag, and an old (replayed)
 * image version is refused. A real agent (broker, label service, renderer) and a real gateway
 * simulator over TCP with its registered credentials; the simulator's ground truth says what the
 * tags show.
 */
const gatewayId = 'esl-gw-1';
const labels: ShelfLabel[] = [
  { tagId: 'esl-0001', gateway: gatewayId, tagType: 'm2-2.9-bwr', sku: 'oat-milk' },
  { tagId: 'esl-0002', gateway: gatewayId, tagType: 'm3-2.9-bwr', sku: 'rye-bread' },
];
const model: StoreModelInput = {
  catalog: [
    { sku: 'oat-milk', gtin: '04006381333931', name: 'Oat drink 1 l', unitWeightG: 1_040, unitWeightSigmaG: 8, priceMinor: 189 },
    { sku: 'rye-bread', gtin: '05901234123457', name: 'Rye bread 500 g', unitWeightG: 500, unitWeightSigmaG: 12, priceMinor: 249 },
  ],
  zones: [{ id: 'aisle-1' }],
};
const S = 1_000;
/** Renders run in worker threads on a shared machine: allow them time. */
const RENDER_POLLS = 3_000;

let t: TestAgent;
let clock: SimClock;
let gateway: EslGatewaySimulator;
/** Every `cmd/tag.image` the agent published (what an attacker on the wire could capture). */
let sentImages: TagImageCommand[];
/** Every `evt/tag.delivery` that reached the agent's bus. */
let deliveries: TagDeliveryPayload[];

beforeEach(async () => {
  t = await startTestAgent({ store: { model } });
  const gatewaySecret = await t.addDevice(gatewayId, 'esl-gateway');
  sentImages = [];
  deliveries = [];
  const publishCommand = t.agent.plane.publishCommand.bind(t.agent.plane);
  vi.spyOn(t.agent.plane, 'publishCommand').mockImplementation((deviceId, type, payload, options) => {
    if (type === 'tag.image') sentImages.push(structuredClone(payload as TagImageCommand));
    return publishCommand(deviceId, type, payload, options);
  });
  t.agent.bus.on('esl.tag.delivery', (event) => deliveries.push(event.payload));

  clock = new SimClock();
  gateway = new EslGatewaySimulator({
    url: t.agent.addresses.mqtt!,
    storeId: t.storeId,
    deviceId: gatewayId,
    password: gatewaySecret,
    clock,
    tags: [
      { tagId: 'esl-0001', tagType: 'm2-2.9-bwr', firstCheckinMs: 10 * S },
      { tagId: 'esl-0002', tagType: 'm3-2.9-bwr', firstCheckinMs: 20 * S },
    ],
    checkinJitter: 0,
    reportEveryMs: 3_600_000,
    healthIntervalMs: null,
    reconnectPeriodMs: 100,
  });
  await gateway.start(); // connected and subscribed to its cmd/#

  // The labels arrive with a planogram once the gateway listens (a command published before its SUBSCRIBE is lost).
  t.agent.inventory.applyModel({ ...model, labels }, { kind: 'planogram', actor: 'test' });
  await t.agent.labels.refresh();
  await eventually(() => gateway.stats().commands === 2, 'both version-1 images at the gateway', RENDER_POLLS);
  await checkIn();
  await eventually(() => labels.every((l) => t.agent.labels.label(l.tagId).state === 'confirmed'), 'both labels confirmed');
  expect(sentImages.map((c) => [c.tagId, c.version])).toEqual([
    ['esl-0001', 1],
    ['esl-0002', 1],
  ]);
});

afterEach(async () => {
  await gateway.stop();
  await t.close();
});

/** One check-in cycle (40 s) of virtual time at the gateway, and its events acknowledged by the broker. */
async function checkIn(): Promise<void> {
  clock.advance(40 * S);
  await gateway.flush();
}

/** A well-formed image command, as an attacker would forge it: a version above anything sent, a correct hash. */
function forgedImage(tagId: string): TagImageCommand {
  const bytes = Buffer.alloc(296 * 128 * 2 / 8, 0xff);
  return { at: Date.now(), tagId, version: 1_000, contentHash: contentHashOf(bytes), tagType: 'm2-2.9-bwr', encoding: 'raw', priority: 'price', image: bytes.toString('base64') };
}

describe('shelf-label commands: only the agent may give them', () => {
  it('refuses cmd/tag.image from a shelf and from another ESL gateway; the tags keep what they show', async () => {
    const before = labels.map((l) => gateway.shown(l.tagId));
    const radioBefore = gateway.eslStats();
    const commandTopic = topics.command(t.storeId, gatewayId, 'tag.image');

    const shelf = await t.connect('shelf-1', await t.addDevice('shelf-1', 'shelf'));
    shelf.publish(commandTopic, JSON.stringify(forgedImage('esl-0001')), { qos: 1 });
    await closed(shelf);

    const rogue = await t.connect('esl-gw-2', await t.addDevice('esl-gw-2', 'esl-gateway'));
    // It cannot listen to the real gateway's commands (to capture them for a replay) either.
    const suback = await rogue.subscribeAsync(topics.command(t.storeId, gatewayId, '#'), { qos: 1 }).then(
      () => undefined,
      (e: Error & { packet?: { granted?: number[] } }) => e.packet,
    );
    expect(suback?.granted).toEqual([0x80]);
    rogue.publish(commandTopic, JSON.stringify(forgedImage('esl-0001')), { qos: 1 });
    await closed(rogue);

    // Two full check-in cycles: anything that had reached the gateway would be on the tags by now.
    await checkIn();
    await checkIn();
    expect(gateway.stats()).toMatchObject({ commands: 2, commandsInvalid: 0 });
    expect(gateway.eslStats()).toMatchObject({ imagesReceived: radioBefore.imagesReceived, transfersCompleted: radioBefore.transfersCompleted });
    expect(labels.map((l) => gateway.shown(l.tagId))).toEqual(before);
    expect(before).toEqual(labels.map((l) => ({ contentHash: t.agent.labels.label(l.tagId).desired!.contentHash, version: 1 })));
    expect(deliveries.every((d) => d.version === 1)).toBe(true);

    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_INGEST_TOPIC_DENIED' })).toBe(3);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'shelf-1', code: 'EDGE_ERR_INGEST_TOPIC_DENIED' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'esl-gw-2', code: 'EDGE_ERR_INGEST_TOPIC_DENIED' })).toBe(2);
    expect(labels.map((l) => t.agent.labels.label(l.tagId))).toEqual(labels.map(() => expect.objectContaining({ state: 'confirmed', desiredVersion: 1, confirmedVersion: 1 })));
  });

  it('refuses a replayed old image version: the tag keeps the newer one and the agent does not re-issue', async () => {
    const v1 = sentImages.find((c) => c.tagId === 'esl-0001')!;
    t.agent.prices.setPrice({ sku: 'oat-milk', priceMinor: 169, source: 'manager', reason: 'test', actor: 'test' });
    await t.agent.labels.idle();
    await eventually(() => gateway.stats().commands === 3, 'version 2 at the gateway', RENDER_POLLS);
    const v2 = sentImages.at(-1)!;
    expect(v2).toMatchObject({ tagId: 'esl-0001', version: 2, priority: 'price' });
    expect(v2.contentHash).not.toBe(v1.contentHash);
    await checkIn();
    await eventually(() => t.agent.labels.label('esl-0001').confirmedVersion === 2, 'version 2 confirmed');
    expect(gateway.shown('esl-0001')).toEqual({ contentHash: v2.contentHash, version: 2 });

    // Someone who captured the valid version-1 command puts it on the wire again, exactly as the agent sent it.
    await t.agent.plane.publishCommand(gatewayId, 'tag.image', v1);
    await eventually(() => deliveries.some((d) => d.state === 'refused'), 'the refusal');
    expect(deliveries.filter((d) => d.state === 'refused')).toEqual([
      { at: expect.any(Number), tagId: 'esl-0001', version: 1, contentHash: v1.contentHash, state: 'refused', reason: 'stale-version' },
    ]);
    await checkIn();
    expect(gateway.shown('esl-0001')).toEqual({ contentHash: v2.contentHash, version: 2 });
    expect(gateway.history('esl-0001').map((h) => h.version)).toEqual([undefined, 1, 2]); // blank, then what the agent sent
    expect(gateway.queueLength()).toBe(0);

    // The agent ignores a delivery event for a version it no longer wants; it does not take the refusal
    // for a gateway holding a higher version than its own (which would re-issue the content).
    expect(await counter(t.agent, 'storeedge_label_delivery_ignored_total', { reason: 'stale-version' })).toBe(1);
    expect(t.agent.labels.label('esl-0001')).toMatchObject({ state: 'confirmed', desiredVersion: 2, confirmedVersion: 2, confirmedPriceMinor: 169 });
    expect(sentImages.filter((c) => c.tagId === 'esl-0001').map((c) => c.version)).toEqual([1, 2, 1]); // the last is the replay
  });
});
