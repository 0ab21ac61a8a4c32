import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Aedes } from 'aedes';
import { weightPayload } from '@storeedge/device-drivers';
import { ReceiptCollector } from '../../src/bench/collector.ts';
import { LoadGenerator } from '../../src/bench/generator.ts';
import { generatorClients, messageIndex } from '../../src/bench/generator-protocol.ts';
import { connectPacket, encodeRemainingLength, publishPacket, RawPublisher } from '../../src/bench/raw-client.ts';
import { deliveryFigures } from '../../src/bench/stats.ts';

/** A bare aedes broker on loopback (no storeedge): the generator's and raw client's counterpart. */
async function startBroker(options: { password?: string } = {}) {
  const broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) =>
      done(null, options.password === undefined || (username !== undefined && password?.toString() === options.password)),
  });
  const server: Server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const received: Array<{ clientId: string; topic: string; payload: string; qos: number }> = [];
  broker.on('publish', (packet, client) => {
    if (client) received.push({ clientId: client.id, topic: packet.topic, payload: packet.payload.toString(), qos: packet.qos });
  });
  return {
    broker,
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    port: (server.address() as AddressInfo).port,
    received,
    async close() {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      server.close();
    },
  };
}

describe('MQTT encoding of the raw publisher', () => {
  it('encodes the remaining length as MQTT variable-length bytes', () => {
    expect([...encodeRemainingLength(0)]).toEqual([0x00]);
    expect([...encodeRemainingLength(127)]).toEqual([0x7f]);
    expect([...encodeRemainingLength(128)]).toEqual([0x80, 0x01]);
    expect([...encodeRemainingLength(16_383)]).toEqual([0xff, 0x7f]);
    expect([...encodeRemainingLength(16_384)]).toEqual([0x80, 0x80, 0x01]);
    expect([...encodeRemainingLength(268_435_455)]).toEqual([0xff, 0xff, 0xff, 0x7f]);
    expect(() => encodeRemainingLength(268_435_456)).toThrow(RangeError);
  });

  it('builds CONNECT and PUBLISH packets byte for byte (MQTT 3.1.1)', () => {
    expect([...connectPacket({ clientId: 'a', keepaliveS: 60 })]).toEqual([
      0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60, 0, 1, 0x61,
    ]);
    const withLogin = connectPacket({ clientId: 'a', username: 'u', password: 'p', keepaliveS: 60 });
    expect(withLogin[9]).toBe(0xc2); // username + password + clean session
    const topic = Buffer.from([0, 3, 0x61, 0x2f, 0x62]); // "a/b"
    expect([...publishPacket(topic, 'hi', 0, 0)]).toEqual([0x30, 7, 0, 3, 0x61, 0x2f, 0x62, 0x68, 0x69]);
    expect([...publishPacket(topic, 'hi', 1, 258)]).toEqual([0x32, 9, 0, 3, 0x61, 0x2f, 0x62, 1, 2, 0x68, 0x69]);
  });
});

describe('RawPublisher against aedes', () => {
  let b: Awaited<ReturnType<typeof startBroker>>;
  afterEach(async () => b.close());

  it('connects with credentials, publishes at QoS 0 and 1 (callback on PUBACK) and disconnects', async () => {
    b = await startBroker({ password: 'secret' });
    const client = await RawPublisher.connect({ host: '127.0.0.1', port: b.port, clientId: 'dev-1', username: 'dev-1', password: 'secret' });
    await new Promise<void>((resolve, reject) => client.publish('t/0', 'zero', 0, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => client.publish('t/1', 'one', 1, (err) => (err ? reject(err) : resolve())));
    expect(b.received).toEqual([
      { clientId: 'dev-1', topic: 't/0', payload: 'zero', qos: 0 },
      { clientId: 'dev-1', topic: 't/1', payload: 'one', qos: 1 },
    ]);
    await client.end();
    expect(client.connected).toBe(false);
  });

  it('rejects a refused CONNECT', async () => {
    b = await startBroker({ password: 'secret' });
    await expect(RawPublisher.connect({ host: '127.0.0.1', port: b.port, clientId: 'dev-1', username: 'dev-1', password: 'wrong' })).rejects.toThrow(
      /CONNACK return code 5|closed before CONNACK/,
    );
  });
});

describe('LoadGenerator (worker thread)', () => {
  let b: Awaited<ReturnType<typeof startBroker>>;
  afterEach(async () => b.close());

  for (const client of generatorClients) {
    for (const qos of [0, 1] as const) {
      it(`${client} clients at QoS ${qos}: every device sends every seq once, with valid weight payloads and send times`, async () => {
        b = await startBroker({ password: 'pw' });
        const ids = ['shelf-0000', 'shelf-0001', 'shelf-0002'];
        const messages = 4;
        const collector = new ReceiptCollector(new Map(ids.map((id, i) => [id, i])), messages);
        b.broker.on('publish', (packet, c) => {
          if (c) collector.receive(c.id, (JSON.parse(packet.payload.toString()) as { seq: number }).seq);
        });
        const generator = await LoadGenerator.start({
          url: b.url,
          devices: ids.map((id) => ({ id, password: 'pw', topic: `storeedge/v1/s/dev/${id}/evt/weight` })),
          messages,
          qos,
          connectConcurrency: 2,
          connectTimeoutMs: 5_000,
          publishTimeoutMs: 10_000,
          channels: 2,
          client,
        });
        try {
          const clock = await generator.clockOffset(3);
          expect(Number.isFinite(clock.offsetMs)).toBe(true);
          await generator.connect(10_000);
          const report = await generator.publish(15_000);
          expect(report).toMatchObject({ errors: 0, disconnects: 0, timedOut: false });
          expect(await collector.settle(ids.length * messages, 2_000, 10_000)).toBe(true);
          const figures = deliveryFigures(report.sentAt, collector.receivedAt, collector.duplicates);
          expect(figures).toMatchObject({ sent: 12, received: 12, lost: 0, duplicates: 0 });
          expect(Number.isNaN(report.sentAt[messageIndex(2, 3, messages)]!)).toBe(false);
        } finally {
          await generator.close();
        }
        const sent = b.received.filter((r) => r.topic.endsWith('/evt/weight'));
        expect(sent).toHaveLength(12);
        for (const r of sent) {
          expect(r.qos).toBe(qos);
          expect(r.topic).toBe(`storeedge/v1/s/dev/${r.clientId}/evt/weight`);
          expect(weightPayload.safeParse(JSON.parse(r.payload)).success).toBe(true);
        }
      });
    }
  }

  it('fails connect with the device named when the broker refuses it, and still closes', async () => {
    b = await startBroker({ password: 'pw' });
    const generator = await LoadGenerator.start({
      url: b.url,
      devices: [{ id: 'shelf-x', password: 'nope', topic: 't' }],
      messages: 1,
      qos: 0,
      connectConcurrency: 1,
      connectTimeoutMs: 2_000,
      publishTimeoutMs: 2_000,
      channels: 1,
      client: 'raw',
    });
    try {
      await expect(generator.connect(5_000)).rejects.toThrow(/shelf-x/);
    } finally {
      await generator.close();
    }
  });
});
