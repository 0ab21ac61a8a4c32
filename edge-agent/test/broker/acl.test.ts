import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '@storeedge/device-drivers';
import { closed, counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

describe('topic ACL (real TCP, mqtt.js clients)', () => {
  let t: TestAgent;
  let a: MqttClient;
  let secretB: string;
  const received: string[] = [];

  beforeEach(async () => {
    t = await startTestAgent();
    const secretA = await t.addDevice('shelf-a');
    secretB = await t.addDevice('shelf-b');
    a = await t.connect('shelf-a', secretA);
    received.length = 0;
    t.agent.bus.on('shelf.weight', (e) => received.push(e.deviceId));
  });
  afterEach(async () => t.close());

  const weight = JSON.stringify({ at: 1, channels: [{ ch: 0, grams: 500 }] });

  it('lets a device publish on its own evt topic', async () => {
    await a.publishAsync(topics.event(t.storeId, 'shelf-a', 'weight'), weight, { qos: 1 });
    expect(received).toEqual(['shelf-a']);
  });

  it.each([
    ["another device's event topic", (s: string) => topics.event(s, 'shelf-b', 'weight')],
    ["another device's state topic", (s: string) => topics.state(s, 'shelf-b')],
    ['its own command topic', (s: string) => topics.command(s, 'shelf-a', 'tare')],
    ["another device's command topic", (s: string) => topics.command(s, 'shelf-b', 'tare')],
    ['an out/ stream', (s: string) => topics.out(s, 'receipts')],
    ["another store's topic", () => topics.event('store-other', 'shelf-a', 'weight')],
    ['a $SYS topic', () => '$SYS/broker/clients'],
    ['a topic outside the contract', () => 'anything/else'],
  ])('closes the connection of a device publishing to %s, and nothing reaches the agent', async (_what, topicOf) => {
    const topic = topicOf(t.storeId);
    a.publish(topic, weight, { qos: 1 });
    await closed(a);
    expect(received).toEqual([]);
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_INGEST_TOPIC_DENIED' })).toBe(1);
  });

  it("refuses subscriptions to other devices' commands, to wildcards across devices and to device events", async () => {
    const denied = [
      topics.command(t.storeId, 'shelf-b', '#'),
      `storeedge/v1/${t.storeId}/dev/+/cmd/#`,
      '#',
      `storeedge/v1/${t.storeId}/dev/shelf-b/evt/#`,
      `storeedge/v1/${t.storeId}/out/#`,
      `storeedge/v1/${t.storeId}/dev/shelf-a/#`,
    ];
    for (const filter of denied) {
      // mqtt.js rejects a SUBACK with a failure code, carrying the packet.
      const suback = await a.subscribeAsync(filter, { qos: 1 }).then(
        () => undefined,
        (e: Error & { packet?: { granted?: number[] } }) => e.packet,
      );
      expect(suback?.granted, filter).toEqual([0x80]);
      expect(a.connected, 'a refused subscription keeps the connection').toBe(true);
    }
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_INGEST_TOPIC_DENIED' })).toBe(denied.length);
  });

  it('lets a device subscribe to its own commands and delivers the agent\'s command only to it', async () => {
    const b = await t.connect('shelf-b', secretB);
    const gotA: string[] = [];
    const gotB: string[] = [];
    a.on('message', (topic) => gotA.push(topic));
    b.on('message', (topic) => gotB.push(topic));
    expect((await a.subscribeAsync(topics.command(t.storeId, 'shelf-a', '#'), { qos: 1 }))[0]?.qos).toBe(1);
    expect((await b.subscribeAsync(topics.command(t.storeId, 'shelf-b', '+'), { qos: 1 }))[0]?.qos).toBe(1);
    await t.agent.plane.publishCommand('shelf-a', 'tare', { channel: 0 });
    await eventually(() => gotA.length === 1, 'command delivered to shelf-a');
    expect(gotA).toEqual([topics.command(t.storeId, 'shelf-a', 'tare')]);
    expect(gotB).toEqual([]);
  });
});
