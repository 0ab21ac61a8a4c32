import { topics, type TagImageCommand } from '@storeedge/device-drivers';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { LabelService } from '../../src/labels/label-service.ts';
import { Metrics } from '../../src/metrics.ts';
import { eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';
import { FakePrices, FakeRenderer, labelsOf } from './label-fixture.ts';

let harness: TestAgent | undefined;
let service: LabelService | undefined;
afterEach(async () => {
  service?.stop();
  await harness?.close();
  harness = undefined;
  service = undefined;
});

/**
 * A minimal ESL gateway on the agent's real MQTT broker: it takes `cmd/tag.image`, answers
 * queued → sent and the tag's report of the new content; `reboot(tagId)` makes a tag report
 * a blank boot.
 */
async function fakeGateway(h: TestAgent, id: string) {
  const secret = await h.addDevice(id, 'esl-gateway');
  const client: MqttClient = await h.connect(id, secret);
  const images: TagImageCommand[] = [];
  const publish = (type: string, payload: object) => client.publishAsync(topics.event(h.storeId, id, type), JSON.stringify(payload), { qos: 1 });
  await client.subscribeAsync(topics.command(h.storeId, id, '#'), { qos: 1 });
  client.on('message', (topic, bytes) => {
    if (!topic.endsWith('/cmd/tag.image')) return;
    const command = JSON.parse(bytes.toString()) as TagImageCommand;
    images.push(command);
    const at = Date.now();
    void (async () => {
      await publish('tag.delivery', { at, tagId: command.tagId, version: command.version, contentHash: command.contentHash, state: 'queued' });
      await publish('tag.delivery', { at, tagId: command.tagId, version: command.version, contentHash: command.contentHash, state: 'sent' });
      await publish('tag.report', { at, tagId: command.tagId, contentHash: command.contentHash, version: command.version, batteryMv: 2_900, rssi: -61, reason: 'checkin' });
    })().catch(() => undefined); // the test's teardown may close the connection mid-answer

  });
  return {
    images,
    reboot: (tagId: string) => publish('tag.report', { at: Date.now(), tagId, batteryMv: 2_880, reason: 'boot' }),
  };
}

describe('labels over the agent\'s MQTT broker', () => {
  it('delivers, confirms from the gateway\'s report, and re-applies after a tag reboot', async () => {
    harness = await startTestAgent();
    const { agent } = harness;
    const gateway = await fakeGateway(harness, 'gw-0');
    const labels = labelsOf(3);
    const metrics = new Metrics();
    service = new LabelService({
      ledger: agent.ledger,
      bus: agent.bus,
      publisher: agent.plane,
      renderer: new FakeRenderer(),
      prices: new FakePrices(['sku-0', 'sku-1', 'sku-2']),
      labels: () => labels,
      inventory: agent.inventory,
      // Its own registry: the agent runs a label service of its own (with no labels in this store).
      metrics,
      logger: agent.logger,
    });
    service.start();
    await service.idle();
    await eventually(() => service!.report().confirmed === 3, 'all three labels confirmed');
    expect(gateway.images.map((c) => [c.tagId, c.version])).toEqual([
      ['tag-00000', 1],
      ['tag-00001', 1],
      ['tag-00002', 1],
    ]);
    expect(service.label('tag-00001')).toMatchObject({ state: 'confirmed', batteryMv: 2_900, rssi: -61 });

    await gateway.reboot('tag-00001');
    await eventually(() => gateway.images.length === 4 && service!.label('tag-00001').state === 'confirmed' && service!.label('tag-00001').batteryMv === 2_900, 're-applied after reboot');
    expect(gateway.images[3]).toMatchObject({ tagId: 'tag-00001', version: 1, image: gateway.images[1]!.image });
    expect(service.report()).toMatchObject({ total: 3, confirmed: 3, sends: 4, resends: 1, resentUnchanged: 0 });
    const metricsText = await metrics.text();
    expect(metricsText).toContain('storeedge_labels{state="confirmed"} 3');
    expect(metricsText).toContain('storeedge_label_resends_total{reason="reboot"} 1');
  });
});
