import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { syncTopics } from '../../src/topics.ts';
import type { UplinkAck, UplinkRecord } from '../../src/uplink.ts';
import { runHqCommand } from '../../src/hq/cli.ts';
import { loadHqConfig, type HqConfigInput } from '../../src/hq/config.ts';
import { filterWithin, syncAclAllows } from '../../src/hq/embedded-broker.ts';
import { startHq, type RunningHq } from '../../src/hq/hq-runtime.ts';
import { silentLogger } from '../../src/hq/log.ts';
import { writeNewSigningKey } from '../../src/hq/signing-key.ts';
import { newStoreCredentials, storePasswordSha256 } from '../../src/hq/store-credentials.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { batch, record } from './uplink-fixtures.ts';

const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
const s1Topics = syncTopics('s1');
const s2Topics = syncTopics('s2');

/** Resolves once `condition()` holds; polls (no wall-clock assertions). */
async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the sync ACL (docs/sync.md) as the embedded broker applies it', () => {
  it('filterWithin: a filter is allowed only when every topic it matches is within the ACL pattern', () => {
    expect(filterWithin('storeedge/v1/s1/down/#', 'storeedge/v1/s1/down/#')).toBe(true);
    expect(filterWithin('storeedge/v1/s1/down/ack', 'storeedge/v1/s1/down/#')).toBe(true);
    expect(filterWithin('storeedge/v1/s1/down', 'storeedge/v1/s1/down/#')).toBe(true); // `#` matches its parent
    expect(filterWithin('storeedge/v1/s1/down/+', 'storeedge/v1/s1/down/#')).toBe(true);
    expect(filterWithin('storeedge/v1/+/down/#', 'storeedge/v1/s1/down/#')).toBe(false);
    expect(filterWithin('storeedge/v1/s1/#', 'storeedge/v1/s1/down/#')).toBe(false);
    expect(filterWithin('#', 'storeedge/v1/s1/down/#')).toBe(false);
    expect(filterWithin('storeedge/v1/s2/up/batch', 'storeedge/v1/+/up/#')).toBe(true);
    expect(filterWithin('storeedge/v1/+/up/batch', 'storeedge/v1/+/up/#')).toBe(true);
    expect(filterWithin('storeedge/v1/#', 'storeedge/v1/+/up/#')).toBe(false);
    expect(filterWithin('storeedge/v1/s1/up', 'storeedge/v1/+/up/batch')).toBe(false);
    expect(filterWithin('storeedge/v1/s1/up/batch/x', 'storeedge/v1/+/up/batch')).toBe(false);
  });

  it('a store writes only its up/ and reads only its down/; HQ reads every up/ and writes every down/', () => {
    const s1 = { kind: 'store', storeId: 's1' } as const;
    const hq = { kind: 'hq' } as const;
    expect(syncAclAllows(s1, 'write', s1Topics.batch)).toBe(true);
    expect(syncAclAllows(s1, 'write', s1Topics.status)).toBe(true);
    expect(syncAclAllows(s1, 'write', s2Topics.batch)).toBe(false);
    expect(syncAclAllows(s1, 'write', s1Topics.ack)).toBe(false);
    expect(syncAclAllows(s1, 'write', s2Topics.doc)).toBe(false);
    expect(syncAclAllows(s1, 'write', 'storeedge/v1/s1/up/+')).toBe(false); // no wildcards in a topic name
    expect(syncAclAllows(s1, 'read', 'storeedge/v1/s1/down/#')).toBe(true);
    expect(syncAclAllows(s1, 'read', 'storeedge/v1/s2/down/#')).toBe(false);
    expect(syncAclAllows(s1, 'read', 'storeedge/v1/s1/up/#')).toBe(false);
    expect(syncAclAllows(hq, 'read', 'storeedge/v1/+/up/batch')).toBe(true);
    expect(syncAclAllows(hq, 'read', 'storeedge/v1/+/down/#')).toBe(false);
    expect(syncAclAllows(hq, 'write', s2Topics.doc)).toBe(true);
    expect(syncAclAllows(hq, 'write', s2Topics.batch)).toBe(false);
  });
});

describe('HQ with its embedded broker', () => {
  let dir: string;
  const running: RunningHq[] = [];
  const clients: MqttClient[] = [];
  const passwords = { s1: '', s2: '' };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-hq-broker-'));
    writeNewSigningKey(join(dir, 'keys', 'hq.pem'), 'hq-1');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
    for (const hq of running.splice(0)) await hq.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const configInput = (broker: Partial<NonNullable<HqConfigInput['broker']>> = {}, extra: Partial<HqConfigInput> = {}): HqConfigInput => {
    const s1 = newStoreCredentials('s1');
    const s2 = newStoreCredentials('s2');
    passwords.s1 = s1.password;
    passwords.s2 = s2.password;
    return {
      signingKey: { keyId: 'hq-1', file: 'keys/hq.pem' },
      broker: {
        tcpPort: 0,
        stores: [
          { id: 's1', passwordSha256: s1.passwordSha256 },
          { id: 's2', passwordSha256: s2.passwordSha256 },
        ],
        ...broker,
      },
      http: { port: 0 },
      log: { level: 'silent' },
      ...extra,
    };
  };

  const start = async (input: HqConfigInput): Promise<RunningHq> => {
    const hq = await startHq(loadHqConfig(input, dir), { logger: silentLogger() });
    running.push(hq);
    return hq;
  };

  const storeOptions = (id: string, password: string, extra: IClientOptions = {}): IClientOptions => ({
    clientId: id,
    username: id,
    password,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
    ...extra,
  });

  const connect = async (url: string, options: IClientOptions): Promise<MqttClient> => {
    const client = await mqtt.connectAsync(url, options);
    clients.push(client);
    return client;
  };

  /** The CONNACK return code a CONNECT gets (0 = accepted). */
  const connackCode = async (url: string, options: IClientOptions): Promise<number> => {
    try {
      const client = await connect(url, options);
      await client.endAsync(true);
      return 0;
    } catch (error) {
      return (error as { code?: number }).code ?? -1;
    }
  };

  /** Publishes and resolves when the broker has closed the connection. */
  const publishAndExpectClose = async (client: MqttClient, topic: string, payload: string): Promise<void> => {
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.publish(topic, payload, { qos: 1 });
    await closed;
  };

  it('store-credentials prints a random password and the hash line HQ\'s config takes', async () => {
    let stdout = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    let code: number;
    let refused: number;
    try {
      code = await runHqCommand(['store-credentials', 's1']);
      refused = await runHqCommand(['store-credentials', 'hq']);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect(code).toBe(0);
    expect(refused).toBe(2);
    const printed = JSON.parse(stdout.split('\n')[0]!) as { id: string; password: string; passwordSha256: string };
    expect(printed.id).toBe('s1');
    expect(printed.password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(printed.passwordSha256).toBe(storePasswordSha256(printed.password));

    const hq = await start(configInput({ stores: [{ id: 's1', passwordSha256: printed.passwordSha256 }] }));
    expect(await connackCode(hq.broker!.addresses.mqtt!, storeOptions('s1', printed.password))).toBe(0);
  });

  it('the config takes upstream or broker, not both; no store may be called hq; hashes only', () => {
    const input = configInput();
    expect(() => loadHqConfig({ ...input, broker: undefined }, dir)).toThrow(/upstream: give upstream .* or broker/);
    expect(() => loadHqConfig({ ...input, upstream: { url: 'mqtt://127.0.0.1:1' } }, dir)).toThrow(/broker: give upstream .* not both/);
    expect(() => loadHqConfig(configInput({ stores: [{ id: 'hq', passwordSha256: 'a'.repeat(64) }] }), dir)).toThrow(/HQ's own user/);
    expect(() => loadHqConfig(configInput({ stores: [{ id: 's1', passwordSha256: 'hunter2' }] }), dir)).toThrow(/store-credentials/);
    expect(() => loadHqConfig(configInput({ stores: [{ id: 's1', passwordSha256: 'a'.repeat(64) }, { id: 's1', passwordSha256: 'b'.repeat(64) }] }), dir)).toThrow(/each store id once/);
    expect(() => loadHqConfig(configInput({ maxPacketBytes: 64 * 1024 }), dir)).toThrow(/broker\.maxPacketBytes/);
    const config = loadHqConfig(configInput({ stores: [{ id: 's1', passwordSha256: ['a'.repeat(64), 'b'.repeat(64)] }] }), dir);
    expect(config.broker).toMatchObject({ host: '127.0.0.1', stores: [{ id: 's1', passwordSha256: ['a'.repeat(64), 'b'.repeat(64)] }] });
    expect(config.upstream).toBeUndefined();
  });

  it('refuses a wrong password, an unknown store, a borrowed client id, user hq from outside and MQTT 5', async () => {
    const hq = await start(configInput());
    const url = hq.broker!.addresses.mqtt!;
    expect(await connackCode(url, storeOptions('s1', passwords.s1))).toBe(0);
    expect(await connackCode(url, storeOptions('s1', 'wrong-password'))).toBe(4);
    expect(await connackCode(url, storeOptions('s1', passwords.s2))).toBe(4); // s2's password is not s1's
    expect(await connackCode(url, storeOptions('s3', passwords.s1))).toBe(4);
    expect(await connackCode(url, { ...storeOptions('s1', passwords.s1), password: undefined })).toBe(4);
    // s2's credentials under s1's client id would take over s1's session.
    expect(await connackCode(url, { ...storeOptions('s2', passwords.s2), clientId: 's1' })).toBe(2);
    // HQ's own user exists only on the loopback listener, with a password made at start.
    expect(await connackCode(url, storeOptions('hq', hq.broker!.hqConnection.password!))).toBe(4);
    expect(await connackCode(url, storeOptions('s1', passwords.s1, { protocolVersion: 5 }))).not.toBe(0);
    expect(hq.broker!.status().counters.connectsRefused).toBe(7);
    expect(hq.broker!.status().hqConnected).toBe(true);
  });

  it('ACL matrix: s1 cannot publish to s2\'s up/ or to any down/, nor subscribe beyond its own down/', async () => {
    const hq = await start(configInput());
    const url = hq.broker!.addresses.mqtt!;
    const s1 = await connect(url, storeOptions('s1', passwords.s1));
    /** The SUBACK return code for one filter (mqtt.js rejects on 0x80, with the SUBACK attached). */
    const suback = async (filter: string): Promise<[string, number]> => {
      try {
        const [granted] = await s1.subscribeAsync(filter, { qos: 1 });
        return [filter, granted!.qos];
      } catch (error) {
        return [filter, (error as { packet: { granted: number[] } }).packet.granted[0]!];
      }
    };
    const filters = ['storeedge/v1/s1/down/#', 'storeedge/v1/s2/down/#', 'storeedge/v1/+/down/#', 'storeedge/v1/s1/up/#', '#'];
    const granted = [];
    for (const filter of filters) granted.push(await suback(filter));
    expect(hq.broker!.status().counters.subscriptionsDenied).toBe(4);
    expect(granted).toEqual([
      ['storeedge/v1/s1/down/#', 1],
      ['storeedge/v1/s2/down/#', 128],
      ['storeedge/v1/+/down/#', 128],
      ['storeedge/v1/s1/up/#', 128],
      ['#', 128],
    ]);

    const s2 = await connect(url, storeOptions('s2', passwords.s2));
    await s2.subscribeAsync(s2Topics.ack, { qos: 1 });
    await s2.subscribeAsync(s2Topics.doc, { qos: 1 });
    const s2Got: string[] = [];
    s2.on('message', (topic, payload) => s2Got.push(`${topic} ${payload.toString().slice(0, 40)}`));

    const forged = (to: string) => JSON.stringify(batch('s2', 'e-forged', [record(1)], `forged:${to}`));
    for (const topic of [s2Topics.batch, s2Topics.status, s1Topics.ack, s2Topics.ack, s2Topics.doc]) {
      const attacker = await connect(url, storeOptions('s1', passwords.s1));
      await publishAndExpectClose(attacker, topic, forged(topic));
    }
    expect(hq.broker!.status().counters.publishesDenied).toBe(5);

    // A barrier through the broker: s1's own batch is acked, and HQ's document reaches s2.
    const s1Again = await connect(url, storeOptions('s1', passwords.s1));
    const acked = new Promise<UplinkAck>((resolve) => s1Again.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as UplinkAck)));
    await s1Again.subscribeAsync(s1Topics.ack, { qos: 1 });
    await s1Again.publishAsync(s1Topics.batch, JSON.stringify(batch('s1', 'e1', [record(1)])), { qos: 1 });
    expect((await acked).acked).toEqual([[1, 1]]);
    await hq.service.publishDocument({ kind: 'prices', stores: ['s2'], body: { prices: [{ sku: 'A-1', priceMinor: 100, currency: 'EUR' }] } });
    await eventually(() => s2Got.length > 0, 's2 got HQ\'s document');
    expect(s2Got).toEqual([expect.stringMatching(/^storeedge\/v1\/s2\/down\/doc /)]);
    expect(hq.store.storeIds()).toEqual(['s1']); // nothing ingested for s2
    expect(hq.store.records('s1').map((r) => r.key)).toEqual(['receipt:r1']);
    expect(hq.service.status().counters.batches).toBe(1);
  });

  it('a batch from s1 is acked by HQ through the embedded broker, and HQ knows both configured stores', async () => {
    const hq = await start(configInput());
    const s1 = await connect(hq.broker!.addresses.mqtt!, storeOptions('s1', passwords.s1));
    const acks: UplinkAck[] = [];
    s1.on('message', (topic, payload) => topic === s1Topics.ack && acks.push(JSON.parse(payload.toString()) as UplinkAck));
    await s1.subscribeAsync('storeedge/v1/s1/down/#', { qos: 1 });
    await s1.publishAsync(s1Topics.batch, JSON.stringify(batch('s1', 'e1', [record(1), record(2), record(3)])), { qos: 1 });
    await eventually(() => acks.length === 1, 'the ack');
    expect(acks[0]).toMatchObject({ batch: 'e1:1-3', acked: [[1, 3]], watermark: 3, rejected: [] });
    expect(hq.store.records('s1')).toHaveLength(3);
    expect(hq.service.knownStores()).toEqual(['s1', 's2']);
    expect(hq.broker!.status()).toMatchObject({ storesConnected: ['s1'], hqConnected: true });
  });

  it('sets TCP_NODELAY on the stores\' sockets (Nagle + delayed ACK would add ~40 ms per QoS 1 round trip)', async () => {
    const setNoDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    try {
      const hq = await start(configInput());
      const s1 = await connect(hq.broker!.addresses.mqtt!, storeOptions('s1', passwords.s1));
      const storePort = (s1.stream as Socket).localPort;
      const serverSide = setNoDelay.mock.contexts.find((socket) => (socket as Socket).remotePort === storePort);
      expect(serverSide).toBeDefined();
      expect(setNoDelay.mock.calls[setNoDelay.mock.contexts.indexOf(serverSide)]).toEqual([true]);
    } finally {
      setNoDelay.mockRestore();
    }
  });

  it.skipIf(!hasOpenssl)('serves the stores over TLS only when tcpPort is null', async () => {
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost']);
    expect(made.status).toBe(0);
    const hq = await start(configInput({ tcpPort: null, tls: { certFile: 'cert.pem', keyFile: 'key.pem', port: 0 } }));
    expect(hq.broker!.addresses.mqtt).toBeUndefined();
    const s1 = await connect(hq.broker!.addresses.mqtts!, storeOptions('s1', passwords.s1, { rejectUnauthorized: false }));
    const acked = new Promise<UplinkAck>((resolve) => s1.on('message', (_t, p) => resolve(JSON.parse(p.toString()) as UplinkAck)));
    await s1.subscribeAsync(s1Topics.ack, { qos: 1 });
    await s1.publishAsync(s1Topics.batch, JSON.stringify(batch('s1', 'e1', [record(1)])), { qos: 1 });
    expect((await acked).watermark).toBe(1);
    expect(() => loadHqConfig(configInput({ tcpPort: null }), dir)).toThrow(/tcpPort: with tcpPort null, give tls/);
  });

  it('closes a connection whose packet is above maxPacketBytes, before buffering it', async () => {
    const hq = await start(configInput({ maxPacketBytes: 64 * 1024 }, { documents: { chunkBytes: 1024 } }));
    const s1 = await connect(hq.broker!.addresses.mqtt!, storeOptions('s1', passwords.s1));
    await publishAndExpectClose(s1, s1Topics.batch, 'x'.repeat(100 * 1024));
    expect(hq.broker!.status().counters.packetsTooLarge).toBe(1);
    expect(hq.service.status().counters.batches).toBe(0);
  });

  it('keeps a disconnected store\'s session (subscriptions, queued messages) up to the queue limit', async () => {
    const hq = await start(configInput({ maxQueuedMessages: 2 }));
    const url = hq.broker!.addresses.mqtt!;
    const first = await connect(url, storeOptions('s1', passwords.s1));
    await first.subscribeAsync('storeedge/v1/s1/down/#', { qos: 1 });
    await first.endAsync();

    const prices = (priceMinor: number) => ({ kind: 'prices' as const, stores: ['s1'], body: { prices: [{ sku: 'A-1', priceMinor, currency: 'EUR' }] } });
    for (let i = 1; i <= 5; i++) await hq.service.publishDocument(prices(100 + i));
    await hq.service.deliveriesSettled();
    expect(hq.broker!.status().counters.queuedDropped).toBe(3);

    const versions: number[] = [];
    const back = mqtt.connect(url, storeOptions('s1', passwords.s1));
    clients.push(back);
    back.on('message', (_topic, payload) => versions.push((JSON.parse(payload.toString()) as { header: { version: number } }).header.version));
    const [connack] = (await new Promise((resolve) => back.once('connect', (packet) => resolve([packet])))) as [{ sessionPresent: boolean }];
    expect(connack.sessionPresent).toBe(true); // no SUBSCRIBE: the session kept it
    await hq.service.publishDocument(prices(200)); // connected now: not capped
    await eventually(() => versions.includes(6), 'the live document');
    expect(versions).toEqual([1, 2, 6]);
  });

  it('an HQ restart loses the broker\'s sessions, not data: the store\'s outbox re-sends what HQ has not acked', async () => {
    const input = configInput({ tcpPort: await freePort() });
    let hq = await start(input);
    const url = hq.broker!.addresses.mqtt!;

    /** A store as the agent's relay behaves: subscribes on every connect, sends its whole unacked outbox, marks acked ranges. */
    const outbox: UplinkRecord[] = [];
    const acked = new Set<number>();
    const sessions: boolean[] = [];
    const store = mqtt.connect(url, storeOptions('s1', passwords.s1, { reconnectPeriod: 50 }));
    clients.push(store);
    const sendUnacked = () => {
      const unacked = outbox.filter((r) => !acked.has(r.seq));
      if (unacked.length > 0 && store.connected) store.publish(s1Topics.batch, JSON.stringify(batch('s1', 'e1', unacked)), { qos: 1 });
    };
    store.on('connect', (connack) => {
      sessions.push(connack.sessionPresent);
      store.subscribe(s1Topics.ack, { qos: 1 }, () => sendUnacked());
    });
    store.on('message', (_topic, payload) => {
      for (const [from, to] of (JSON.parse(payload.toString()) as UplinkAck).acked) for (let seq = from; seq <= to; seq++) acked.add(seq);
    });
    const sell = (from: number, to: number) => {
      for (let seq = from; seq <= to; seq++) outbox.push(record(seq));
    };

    sell(1, 3); // sent on connect
    await eventually(() => acked.size === 3, 'records 1-3 acked');

    await hq.stop();
    await eventually(() => !store.connected, 'store saw HQ go');
    sell(4, 6); // the store keeps selling; its outbox holds the rows
    expect(outbox.filter((r) => !acked.has(r.seq)).map((r) => r.seq)).toEqual([4, 5, 6]);

    running.splice(running.indexOf(hq), 1);
    hq = await start(input);
    await eventually(() => acked.size === 6, 'records 4-6 acked after the restart');
    expect(sessions).toEqual([false, false]); // the in-memory session did not survive the restart
    expect(hq.store.records('s1').map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);

    // An ack lost on the way: the store sends 1-3 again; HQ acks them as duplicates, holds each once.
    acked.delete(1);
    acked.delete(2);
    acked.delete(3);
    expect(hq.store.duplicates('s1')).toBe(0);
    sendUnacked();
    await eventually(() => acked.size === 6, 'the re-sent records acked');
    expect(hq.store.records('s1')).toHaveLength(6);
    expect(hq.store.duplicates('s1')).toBe(3);
  });
});
