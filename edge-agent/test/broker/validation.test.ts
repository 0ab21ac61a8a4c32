import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '@storeedge/device-drivers';
import { closed, counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

const weight = (grams: number, seq = 0) => JSON.stringify({ at: 1_700_000_000_000, seq, channels: [{ ch: 0, grams }] });

describe('boundary validation of device payloads (real TCP)', () => {
  let t: TestAgent;
  afterEach(async () => t.close());

  it('rejects malformed JSON, wrong types, unknown types and a 1 MB payload with counted codes; the connection and a good device keep flowing', async () => {
    t = await startTestAgent();
    const bad = await t.connect('shelf-bad', await t.addDevice('shelf-bad'));
    const good = await t.connect('shelf-good', await t.addDevice('shelf-good'));
    const accepted: Array<{ deviceId: string; grams: number }> = [];
    t.agent.bus.on('shelf.weight', (e) => accepted.push({ deviceId: e.deviceId, grams: e.payload.channels[0]!.grams }));
    const badTopic = topics.event(t.storeId, 'shelf-bad', 'weight');
    const goodTopic = topics.event(t.storeId, 'shelf-good', 'weight');

    const attacks: Array<[string, string | Buffer, string]> = [
      [badTopic, '{"at": 1, "channels": [', 'EDGE_ERR_INGEST_MALFORMED_JSON'],
      [badTopic, Buffer.from([0xff, 0xfe, 0x7b, 0x7d]), 'EDGE_ERR_INGEST_MALFORMED_JSON'],
      [badTopic, JSON.stringify({ at: 'yesterday', channels: [{ ch: 0, grams: 1 }] }), 'EDGE_ERR_INGEST_SCHEMA_MISMATCH'],
      [badTopic, JSON.stringify({ at: 1, channels: [{ ch: 0, grams: 'heavy' }] }), 'EDGE_ERR_INGEST_SCHEMA_MISMATCH'],
      [badTopic, JSON.stringify({ at: 1, channels: [] }), 'EDGE_ERR_INGEST_SCHEMA_MISMATCH'],
      [badTopic, JSON.stringify(null), 'EDGE_ERR_INGEST_SCHEMA_MISMATCH'],
      [topics.event(t.storeId, 'shelf-bad', 'scan'), JSON.stringify({ at: 1, lane: 'entry', token: 'abcdefgh12' }), 'EDGE_ERR_INGEST_UNKNOWN_TYPE'],
      [badTopic, Buffer.alloc(1024 * 1024, 0x20), 'EDGE_ERR_INGEST_PAYLOAD_TOO_LARGE'],
      [topics.state(t.storeId, 'shelf-bad'), JSON.stringify({ online: 'yes' }), 'EDGE_ERR_INGEST_SCHEMA_MISMATCH'],
    ];
    let seq = 0;
    for (const [topic, payload] of attacks) {
      await bad.publishAsync(topic, payload, { qos: 1 }); // acknowledged: resending a bad payload cannot help
      await good.publishAsync(goodTopic, weight(500, seq++), { qos: 1 });
    }
    expect(bad.connected).toBe(true);
    expect(accepted.filter((a) => a.deviceId === 'shelf-bad')).toEqual([]);
    expect(accepted.filter((a) => a.deviceId === 'shelf-good')).toHaveLength(attacks.length);

    const expected = new Map<string, number>();
    for (const [, , code] of attacks) expected.set(code, (expected.get(code) ?? 0) + 1);
    for (const [code, n] of expected) {
      expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'shelf-bad', code }), code).toBe(n);
    }
    expect(t.agent.status.get('shelf-bad')?.rejects).toEqual(Object.fromEntries(expected));
    // After all that, the bad device's well-formed message is still accepted.
    await bad.publishAsync(badTopic, weight(123), { qos: 1 });
    expect(accepted.at(-1)).toEqual({ deviceId: 'shelf-bad', grams: 123 });
  });

  it('rate-limits a flooding device without starving a well-behaved one', async () => {
    t = await startTestAgent({ ingest: { ratePerSecond: 1, rateBurst: 20 } });
    const flood = await t.connect('shelf-flood', await t.addDevice('shelf-flood'));
    const calm = await t.connect('shelf-calm', await t.addDevice('shelf-calm'));
    const accepted = new Map<string, number>();
    t.agent.bus.on('shelf.weight', (e) => accepted.set(e.deviceId, (accepted.get(e.deviceId) ?? 0) + 1));
    const floodTopic = topics.event(t.storeId, 'shelf-flood', 'weight');
    const calmTopic = topics.event(t.storeId, 'shelf-calm', 'weight');
    const floodCount = 5_000;
    for (let i = 0; i < floodCount; i++) flood.publish(floodTopic, weight(1, i), { qos: 0 });
    const calmSends: Promise<unknown>[] = [];
    for (let i = 0; i < 15; i++) calmSends.push(calm.publishAsync(calmTopic, weight(2, i), { qos: 1 }));
    await Promise.all(calmSends);
    const limited = () => counter(t.agent, 'storeedge_device_rejects_total', { device: 'shelf-flood', code: 'EDGE_ERR_INGEST_RATE_LIMITED' });
    await eventually(async () => (accepted.get('shelf-flood') ?? 0) + (await limited()) === floodCount, 'every flood message counted', 2_000);
    const rejected = await limited();
    expect(accepted.get('shelf-calm')).toBe(15);
    expect((accepted.get('shelf-flood') ?? 0) + rejected).toBe(floodCount);
    // The bucket holds 20 and refills at 1/s, and this test is bounded by its 30 s timeout.
    expect(accepted.get('shelf-flood')).toBeLessThanOrEqual(20 + 30);
    expect(rejected).toBeGreaterThanOrEqual(floodCount - 50);
  });

  it('closes a connection whose packet exceeds broker.maxPacketBytes before buffering it', async () => {
    t = await startTestAgent({ broker: { maxPacketBytes: 64 * 1024 } });
    const big = await t.connect('shelf-big', await t.addDevice('shelf-big'));
    const good = await t.connect('shelf-ok', await t.addDevice('shelf-ok'));
    let goodCount = 0;
    t.agent.bus.on('shelf.weight', (e) => {
      if (e.deviceId === 'shelf-ok') goodCount += 1;
    });
    big.publish(topics.event(t.storeId, 'shelf-big', 'weight'), Buffer.alloc(1024 * 1024, 0x20), { qos: 1 });
    await closed(big);
    expect(await counter(t.agent, 'storeedge_rejects_total', { code: 'EDGE_ERR_INGEST_PACKET_TOO_LARGE' })).toBe(1);
    await good.publishAsync(topics.event(t.storeId, 'shelf-ok', 'weight'), weight(7), { qos: 1 });
    expect(goodCount).toBe(1);
  });
});
