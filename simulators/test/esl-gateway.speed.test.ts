import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHashOf, topics, type TagImageCommand } from '@storeedge/device-drivers';
import { SimClock } from '../src/clock.ts';
import { EslRadio } from '../src/esl/index.ts';
import { EslGatewaySimulator } from '../src/esl-gateway.ts';
import { Rng } from '../src/random.ts';
import { eventually, startTestBroker, type TestBroker } from './helpers/test-broker.ts';

/**
 * How fast a store of 20 000 tags on 20 gateways runs in virtual time, idle and during a
 * store-wide price update (docs/esl-gateway-sim.md "Speed"). The floors are far below what a
 * quiet machine does, so a busy CI runner passes; the measured numbers are printed.
 */
const GATEWAYS = 20;
const TAGS_PER_GATEWAY = 1_000;
const TAGS = GATEWAYS * TAGS_PER_GATEWAY;
const S = 1_000;
const MIN = 60 * S;
/** A zlib'd 2.9″ price label is about one block (research/esl.md §1.9: "block 0, len 2217"). */
const IMAGE_BYTES = 2_217;

const tagId = (g: number, i: number) => `g${g}-esl-${i}`;

function priceImage(g: number, i: number, version: number): TagImageCommand {
  const bytes = Buffer.alloc(IMAGE_BYTES, (g * 31 + i) & 0xff);
  bytes.writeUInt32LE(g * TAGS_PER_GATEWAY + i, 0);
  bytes.writeUInt32LE(version, 4);
  return {
    at: 0,
    tagId: tagId(g, i),
    version,
    contentHash: contentHashOf(bytes),
    tagType: 'm2-2.9-bwr',
    encoding: 'zlib',
    priority: 'price',
    image: bytes.toString('base64'),
  };
}

function measure(label: string, simMs: number, wallMs: number): number {
  const simPerWall = simMs / wallMs;
  process.stdout.write(
    `[esl speed] ${label}: ${(simMs / 1000).toFixed(0)} simulated s in ${(wallMs / 1000).toFixed(2)} wall s = ` +
      `${simPerWall.toFixed(0)} simulated s per wall s (${Math.round(simPerWall * TAGS).toLocaleString('en')} tag-seconds per wall s)\n`,
  );
  return simPerWall;
}

describe('ESL store of 20 000 tags on 20 gateways, in virtual time', () => {
  it('radio model alone: idle check-ins and a store-wide update', () => {
    const clock = new SimClock();
    let events = 0;
    const radios = Array.from(
      { length: GATEWAYS },
      (_, g) =>
        new EslRadio({
          deviceId: `esl-gw-${g}`,
          clock,
          rng: new Rng(`speed-${g}`),
          tags: Array.from({ length: TAGS_PER_GATEWAY }, (_, i) => tagId(g, i)),
          sink: { report: () => events++, delivery: () => events++ },
          onError: (error) => {
            throw error;
          },
        }),
    );
    for (const radio of radios) radio.start();
    let t0 = performance.now();
    clock.advance(20 * MIN);
    const idle = measure('radio idle', 20 * MIN, performance.now() - t0);
    const checkins = radios.reduce((n, r) => n + r.counters().checkins, 0);
    expect(checkins).toBeGreaterThan(TAGS * 29); // 20 min / 40 s = 30 check-ins each
    expect(idle).toBeGreaterThan(20);

    // The agent keeps each gateway's 250-tag queue topped up until every tag has its new price.
    const next = radios.map(() => 0);
    const topUp = () =>
      radios.forEach((radio, g) => {
        while (next[g]! < TAGS_PER_GATEWAY && radio.queueLength() < radio.options.pendingLimit) {
          expect(radio.submitImage(priceImage(g, next[g]!, 1)).state).toBe('queued');
          next[g]!++;
        }
      });
    const completed = () => radios.reduce((n, r) => n + r.counters().transfersCompleted, 0);
    const start = clock.now();
    t0 = performance.now();
    while (completed() < TAGS && clock.now() - start < 60 * MIN) {
      topUp();
      clock.advance(5 * S);
    }
    const updateSim = clock.now() - start;
    measure('radio store-wide update', updateSim, performance.now() - t0);
    expect(completed()).toBe(TAGS);
    // Air time bounds it: 1 000 × 2 217 bytes at 5 000 bytes/s = 443 s per gateway.
    expect(updateSim).toBeGreaterThanOrEqual(443 * S);
    expect(updateSim).toBeLessThan(15 * MIN);
    const totals = radios.map((r) => r.counters());
    expect(totals.reduce((n, c) => n + c.bytesOnAir, 0)).toBe(TAGS * IMAGE_BYTES);
    expect(totals.reduce((n, c) => n + c.resentUnchanged + c.failed.timeout + c.refused['queue-full'], 0)).toBe(0);
    process.stdout.write(`[esl speed] store-wide update of ${TAGS} tags took ${(updateSim / MIN).toFixed(1)} simulated min\n`);
    expect(events).toBeGreaterThan(2 * TAGS);
  }, 120_000);

  describe('over a real broker', () => {
    let broker: TestBroker | undefined;
    let agent: mqtt.MqttClient | undefined;
    const gateways: EslGatewaySimulator[] = [];

    afterAll(async () => {
      await agent?.endAsync();
      await Promise.all(gateways.map((gw) => gw.stop()));
      await broker?.close();
    });

    it('20 gateway simulators publish reports and deliveries for 20 000 tags', async () => {
      const storeId = 'store-speed';
      const passwords = Object.fromEntries(Array.from({ length: GATEWAYS }, (_, g) => [`esl-gw-${g}`, `secret-${g}`]));
      broker = await startTestBroker({ ...passwords, 'speed-agent': 'agent-secret' });
      // The agent's side is a real MQTT client too: 5 000 in-process publishes at once overflow aedes' emitter.
      agent = await mqtt.connectAsync(broker.url, { clientId: 'speed-agent', username: 'speed-agent', password: 'agent-secret', protocolVersion: 4 });
      const clock = new SimClock();
      for (let g = 0; g < GATEWAYS; g++) {
        gateways.push(
          new EslGatewaySimulator({
            url: broker.url,
            storeId,
            deviceId: `esl-gw-${g}`,
            password: `secret-${g}`,
            clock,
            tags: Array.from({ length: TAGS_PER_GATEWAY }, (_, i) => tagId(g, i)),
            healthIntervalMs: null,
          }),
        );
      }
      await Promise.all(gateways.map((gw) => gw.start()));
      const flushAll = () => Promise.all(gateways.map((gw) => gw.flush()));

      let t0 = performance.now();
      for (let step = 0; step < 20; step++) {
        clock.advance(30 * S);
        await flushAll();
      }
      measure('MQTT idle', 10 * MIN, performance.now() - t0);
      const heartbeats = gateways.reduce((n, gw) => n + gw.eslStats().reports.heartbeat, 0);
      expect(heartbeats).toBeGreaterThan(TAGS * 0.9); // one per tag per 10 min
      expect(heartbeats).toBeLessThan(TAGS * 1.1);

      // The agent's side: publish tag.image commands, keeping each gateway's queue under its limit.
      const next = gateways.map(() => 0);
      let published = 0;
      const topUp = async () => {
        const sends: Promise<void>[] = [];
        gateways.forEach((gw, g) => {
          let room = gw.radioOptions.pendingLimit - gw.queueLength();
          while (room-- > 0 && next[g]! < TAGS_PER_GATEWAY) {
            sends.push(agent!.publishAsync(topics.command(storeId, gw.deviceId, 'tag.image'), JSON.stringify(priceImage(g, next[g]!, 1)), { qos: 1 }).then(() => undefined));
            next[g]!++;
            published++;
          }
        });
        await Promise.all(sends);
        await eventually(() => gateways.reduce((n, gw) => n + gw.stats().commands, 0) === published, 'commands at the gateways', 3_000);
      };
      const completed = () => gateways.reduce((n, gw) => n + gw.eslStats().transfersCompleted, 0);
      const start = clock.now();
      t0 = performance.now();
      while (completed() < TAGS && clock.now() - start < 60 * MIN) {
        await topUp();
        clock.advance(5 * S);
        await flushAll();
      }
      measure('MQTT store-wide update', clock.now() - start, performance.now() - t0);
      expect(completed()).toBe(TAGS);
      const sent = (g: number) => broker!.on(topics.event(storeId, `esl-gw-${g}`, 'tag.delivery')).filter((m) => (m.body as { state: string }).state === 'sent').length;
      await eventually(() => gateways.every((_, g) => sent(g) === TAGS_PER_GATEWAY), 'every sent delivery at the broker');
      for (const gw of gateways) expect(gw.stats(), gw.deviceId).toMatchObject({ failed: 0, errors: 0, commandsInvalid: 0 });
    }, 300_000);
  });
});
