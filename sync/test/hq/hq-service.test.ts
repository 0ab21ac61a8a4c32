import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../../src/canonical.ts';
import { DocumentAssembler, type DocChunkMessage } from '../../src/documents.ts';
import { formatHlc } from '../../src/hlc.ts';
import { generateSigningKey, KeyRing, verifyBytes } from '../../src/keys.ts';
import { syncTopics } from '../../src/topics.ts';
import type { UplinkAck } from '../../src/uplink.ts';
import { newAdminToken } from '../../src/hq/admin-token.ts';
import { HqService, type HqServiceEvents } from '../../src/hq/hq-service.ts';
import { HqStore } from '../../src/hq/hq-store.ts';
import { createHqHttpServer, type StoreView } from '../../src/hq/http.ts';
import { silentLogger } from '../../src/hq/log.ts';
import { skipWithoutMosquitto, startMosquitto, type Mosquitto } from '../helpers/mosquitto.ts';
import { batch, record, T0 } from './uplink-fixtures.ts';

const passwords = { hq: 'hq-secret', s1: 's1-secret', s2: 's2-secret' };
const signer = generateSigningKey('hq-1');
const EPOCH = 'e-s1-1';
const s1Topics = syncTopics('s1');

interface Message {
  topic: string;
  payload: Buffer;
}

/** Every message a client received; `next` hands out the first unclaimed one that matches, waiting if none has come yet. */
class Mailbox {
  readonly messages: Message[] = [];
  readonly #claimed = new Set<Message>();
  readonly #waiters: Array<{ match: (m: Message) => boolean; resolve: (m: Message) => void }> = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, payload) => {
      const message = { topic, payload };
      this.messages.push(message);
      const waiter = this.#waiters.find((w) => w.match(message));
      if (!waiter) return;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      this.#claimed.add(message);
      waiter.resolve(message);
    });
  }

  next(match: (m: Message) => boolean): Promise<Message> {
    const waiting = this.messages.find((m) => !this.#claimed.has(m) && match(m));
    if (waiting) {
      this.#claimed.add(waiting);
      return Promise.resolve(waiting);
    }
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  async ack(batchId: string): Promise<UplinkAck> {
    const m = await this.next((m) => m.topic === s1Topics.ack && (JSON.parse(m.payload.toString()) as UplinkAck).batch === batchId);
    return JSON.parse(m.payload.toString()) as UplinkAck;
  }

  async doc(match: (m: DocChunkMessage) => boolean = () => true): Promise<DocChunkMessage> {
    const m = await this.next((m) => m.topic === s1Topics.doc && match(JSON.parse(m.payload.toString()) as DocChunkMessage));
    return JSON.parse(m.payload.toString()) as DocChunkMessage;
  }
}

/** Resolves with the first event `name` whose argument matches. */
function nextEvent<K extends keyof HqServiceEvents>(service: HqService, name: K, match: (...args: HqServiceEvents[K]) => boolean = () => true): Promise<HqServiceEvents[K]> {
  return new Promise((resolve) => {
    const on = (...args: HqServiceEvents[K]) => {
      if (!match(...args)) return;
      (service.off as (n: K, l: (...a: HqServiceEvents[K]) => void) => void)(name, on);
      resolve(args);
    };
    (service.on as (n: K, l: (...a: HqServiceEvents[K]) => void) => void)(name, on);
  });
}

describe.skipIf(skipWithoutMosquitto)('HqService against a real Mosquitto', () => {
  let broker: Mosquitto;
  let dir: string;
  let store: HqStore;
  let service: HqService;
  let s1: MqttClient;
  let mailbox: Mailbox;

  const startService = async () => {
    service = new HqService({
      store,
      signingKey: signer,
      upstream: { url: broker.url, username: 'hq', clientId: 'hq', password: passwords.hq, reconnectMinMs: 50, reconnectMaxMs: 200 },
      stores: ['s1', 's2'],
      logger: silentLogger(),
    }).start();
    await service.ready();
  };

  const publishBatch = async (b: ReturnType<typeof batch>) => {
    await s1.publishAsync(s1Topics.batch, JSON.stringify(b), { qos: 1 });
    return mailbox.ack(b.batch);
  };

  beforeAll(async () => {
    broker = await startMosquitto({ users: passwords, persistence: true });
    dir = mkdtempSync(join(tmpdir(), 'storeedge-hq-service-'));
    store = HqStore.open(join(dir, 'hq.db'));
    await startService();
    s1 = await mqtt.connectAsync(broker.url, {
      clientId: 's1',
      username: 's1',
      password: passwords.s1,
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 50,
    });
    mailbox = new Mailbox(s1);
    await s1.subscribeAsync('storeedge/v1/s1/down/#', { qos: 1 });
  });

  afterAll(async () => {
    await s1?.endAsync();
    await service?.stop();
    store?.close();
    await broker?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('stores a batch, then acks it on down/ack', async () => {
    const ack = await publishBatch(batch('s1', EPOCH, [record(1), record(2), record(3)]));
    expect(ack).toEqual({ v: 1, epoch: EPOCH, batch: `${EPOCH}:1-3`, acked: [[1, 3]], watermark: 3, rejected: [] });
    expect(store.count({ store: 's1' })).toBe(3);
  });

  it('acks a duplicated batch again without storing it twice', async () => {
    const before = service.status().counters.recordsDuplicate;
    const ack = await publishBatch(batch('s1', EPOCH, [record(2), record(3)], `${EPOCH}:2-3:retry`));
    expect(ack).toMatchObject({ acked: [[2, 3]], watermark: 3, rejected: [] });
    expect(store.count({ store: 's1' })).toBe(3);
    expect(service.status().counters.recordsDuplicate - before).toBe(2);
  });

  it('holds an out-of-order batch, reports the gap, and closes it when the missing batch comes', async () => {
    const later = await publishBatch(batch('s1', EPOCH, [record(7), record(8), record(9)]));
    expect(later).toMatchObject({ acked: [[7, 9]], watermark: 3 });
    expect(store.gaps('s1')).toEqual([{ epoch: EPOCH, from: 4, to: 6 }]);
    const missing = await publishBatch(batch('s1', EPOCH, [record(4), record(5), record(6)]));
    expect(missing).toMatchObject({ acked: [[4, 6]], watermark: 9 });
    expect(store.gaps('s1')).toEqual([]);
  });

  it('rejects a record that conflicts with one already held, keeping the first', async () => {
    const conflicting = { ...record(10, { key: 'receipt:r1', payload: { receiptId: 'r1', totalMinor: 1 } }) };
    const ack = await publishBatch(batch('s1', EPOCH, [conflicting, record(11)]));
    expect(ack.acked).toEqual([[11, 11]]);
    expect(ack.rejected).toEqual([{ seq: 10, code: 'SYNC_ERR_UPLINK_CONFLICT', reason: expect.any(String) }]);
    expect(ack.watermark).toBe(11);
    expect(store.recordByKey('s1', 'receipt:r1')).toMatchObject({ seq: 1, payload: { totalMinor: 100 } });
    expect(store.rejects({ store: 's1' })).toHaveLength(1);
  });

  it('counts and does not ack a malformed batch, nor one that names another store', async () => {
    const malformed = nextEvent(service, 'batchRefused', (r) => r.code === 'SYNC_ERR_UPLINK_MALFORMED');
    await s1.publishAsync(s1Topics.batch, '{"v":1,"store":"s1"', { qos: 1 });
    expect((await malformed)[0]).toMatchObject({ store: 's1', reason: expect.stringContaining('not JSON') });

    const mismatch = nextEvent(service, 'batchRefused', (r) => r.code === 'SYNC_ERR_HQ_STORE_MISMATCH');
    await s1.publishAsync(s1Topics.batch, JSON.stringify(batch('s2', 'e-s2', [record(1)])), { qos: 1 });
    await mismatch;
    expect(store.count({ store: 's2' })).toBe(0);

    // The next good batch is acked; none of the two above was (acks are matched by batch id).
    const ack = await publishBatch(batch('s1', EPOCH, [record(12)]));
    expect(ack.watermark).toBe(12);
    expect(mailbox.messages.filter((m) => m.topic === s1Topics.ack).map((m) => (JSON.parse(m.payload.toString()) as UplinkAck).batch)).not.toContain('e-s2:1-1');
    expect(service.status().counters).toMatchObject({ batchesMalformed: 1, batchesStoreMismatch: 1 });
  });

  it('the broker ACL keeps s1 out of s2\'s topics', async () => {
    // Publishing into s2's uplink is refused by the broker (MQTT 5 PUBACK 0x87)…
    await expect(s1.publishAsync(syncTopics('s2').batch, JSON.stringify(batch('s2', 'e-s2', [record(1)])), { qos: 1 })).rejects.toThrow(/not authorized/i);
    // …and a later batch of s1's own, acked after it, shows HQ never saw one for s2.
    await publishBatch(batch('s1', EPOCH, [record(13)]));
    expect(store.count({ store: 's2' })).toBe(0);

    // Reading: a wildcard subscription is accepted, but the broker delivers only s1's own documents.
    await s1.subscribeAsync('storeedge/v1/+/down/doc', { qos: 1 });
    const forS2 = await service.publishDocument({ kind: 'prices', stores: ['s2'], body: { prices: [{ sku: 'S2ONLY', priceMinor: 1 }] } });
    const forS1 = await service.publishDocument({ kind: 'prices', stores: ['s1'], body: { prices: [{ sku: 'S1ONLY', priceMinor: 2 }] } });
    const received = await mailbox.doc((m) => m.header.id === forS1.id);
    expect(received.header.stores).toEqual(['s1']);
    await service.deliveriesSettled();
    expect(store.document(forS2.id)?.targets).toEqual([expect.objectContaining({ store: 's2', sends: 1 })]);
    expect(mailbox.messages.filter((m) => m.topic === syncTopics('s2').doc)).toEqual([]);
    await s1.unsubscribeAsync('storeedge/v1/+/down/doc');
  });

  it('publishes a chain-wide document to s1, signed so that it verifies, and records s1\'s outcome', async () => {
    const published = await service.publishDocument({ kind: 'prices', stores: ['*'], body: { prices: [{ sku: 'A-1', priceMinor: 199, currency: 'EUR' }] }, effectiveFrom: T0 });
    expect(published.stores).toEqual(['s1', 's2']);
    const chunk = await mailbox.doc((m) => m.header.id === published.id);
    expect(chunk.header).toMatchObject({ kind: 'prices', version: published.version, stores: ['*'], effectiveFrom: T0 });
    expect(chunk).toMatchObject({ keyId: 'hq-1', alg: 'Ed25519' });
    expect(verifyBytes(signer.publicKey, canonicalBytes(chunk.header), chunk.sig)).toBe(true);
    const assembled = new DocumentAssembler({ storeId: 's1', keyRing: new KeyRing([{ keyId: 'hq-1', publicKey: signer.publicKey }]) }).accept(chunk);
    expect(assembled).toMatchObject({ status: 'complete', body: { prices: [{ sku: 'A-1', priceMinor: 199, currency: 'EUR' }] } });

    const outcome = nextEvent(service, 'documentOutcome', (o) => o.docId === published.id);
    const applied = record(14, {
      stream: 'sync',
      type: 'sync.document.applied',
      key: `sync.document.applied:${published.id}`,
      payload: { docId: published.id, kind: 'prices', version: published.version },
      hlc: formatHlc(T0 + 14_000, 1),
    });
    await publishBatch(batch('s1', EPOCH, [applied]));
    expect((await outcome)[0]).toMatchObject({ store: 's1', outcome: 'applied' });
    expect(store.documentOutcome(published.id, 's1')).toMatchObject({ outcome: 'applied', version: published.version });
    expect(store.documentOutcome(published.id, 's2')).toBeUndefined();
  });

  it('tracks the retained status and re-sends unanswered documents when a store comes back online', async () => {
    const unanswered = await service.publishDocument({ kind: 'prices', stores: ['s1'], body: { prices: [{ sku: 'B-2', priceMinor: 50 }] } });
    await mailbox.doc((m) => m.header.id === unanswered.id);

    const offline = nextEvent(service, 'status', (s) => s.store === 's1' && !s.connected);
    await s1.publishAsync(s1Topics.status, JSON.stringify({ online: false }), { qos: 1, retain: true });
    await offline;
    expect(service.storeConnected('s1')).toBe(false);

    const online = nextEvent(service, 'status', (s) => s.store === 's1' && s.connected);
    await s1.publishAsync(s1Topics.status, JSON.stringify({ online: true }), { qos: 1, retain: true });
    await online;
    // The document s1 never answered comes again; the one it applied does not.
    const again = await mailbox.doc((m) => m.header.id === unanswered.id);
    expect(again.header.version).toBe(unanswered.version);
    await service.deliveriesSettled();
    expect(store.document(unanswered.id)?.targets[0]).toMatchObject({ store: 's1', sends: 2 });
    expect(store.store('s1')?.status).toEqual({ online: true });
  });

  it('serves per-store status and guards publishing with the admin token', async () => {
    const { token, sha256 } = newAdminToken();
    const app = await createHqHttpServer(service, { adminTokenSha256: sha256, logger: silentLogger() });
    try {
      const stores = (await app.inject({ method: 'GET', url: '/api/stores' })).json<{ stores: StoreView[] }>().stores;
      expect(stores.map((s) => s.id)).toEqual(['s1', 's2']);
      expect(stores[0]).toMatchObject({
        id: 's1',
        configured: true,
        seen: true,
        connected: true,
        held: 13,
        missingSeqs: 0,
        epochs: [expect.objectContaining({ epoch: EPOCH, watermark: 14, maxSeq: 14 })],
        documents: expect.arrayContaining([expect.objectContaining({ outcome: expect.objectContaining({ outcome: 'applied' }) })]),
      });
      expect(stores[1]).toMatchObject({ id: 's2', configured: true, seen: false, connected: null, held: 0 });

      const records = (await app.inject({ method: 'GET', url: '/api/stores/s1/records?stream=receipts&limit=5' })).json<{ records: Array<{ seq: number }>; next: string }>();
      expect(records.records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      const page2 = (await app.inject({ method: 'GET', url: `/api/stores/s1/records?stream=receipts&limit=5&after=${records.next}` })).json<{ records: Array<{ seq: number }> }>();
      expect(page2.records.map((r) => r.seq)).toEqual([6, 7, 8, 9, 11]);
      expect((await app.inject({ method: 'GET', url: '/api/stores/nope/records' })).statusCode).toBe(404);

      const body = { kind: 'prices', stores: ['s1'], body: { prices: [{ sku: 'C-3', priceMinor: 75 }] }, effectiveFrom: '2026-03-01T06:00:00+01:00' };
      const anonymous = await app.inject({ method: 'POST', url: '/api/documents', payload: body });
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json()).toEqual({ error: { code: 'SYNC_ERR_HQ_UNAUTHORIZED', message: expect.any(String) } });
      const wrong = await app.inject({ method: 'POST', url: '/api/documents', payload: body, headers: { authorization: 'Bearer not-the-token' } });
      expect(wrong.statusCode).toBe(401);

      const invalid = await app.inject({ method: 'POST', url: '/api/documents', payload: { ...body, body: { prices: [] } }, headers: { authorization: `Bearer ${token}` } });
      expect(invalid.statusCode).toBe(400);
      expect(invalid.json()).toMatchObject({ error: { code: 'SYNC_ERR_DOC_BODY_INVALID' } });
      const unknownStore = await app.inject({ method: 'POST', url: '/api/documents', payload: { ...body, stores: ['s9'] }, headers: { authorization: `Bearer ${token}` } });
      expect(unknownStore.json()).toMatchObject({ error: { code: 'SYNC_ERR_HQ_UNKNOWN_STORE' } });

      const ok = await app.inject({ method: 'POST', url: '/api/documents', payload: body, headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(201);
      const published = ok.json<{ id: string; version: number; stores: string[] }>();
      expect(published.stores).toEqual(['s1']);
      const chunk = await mailbox.doc((m) => m.header.id === published.id);
      expect(chunk.header.effectiveFrom).toBe(Date.parse('2026-03-01T05:00:00Z'));

      const health = (await app.inject({ method: 'GET', url: '/api/health' })).json<{ status: string; signingKey: { keyId: string } }>();
      expect(health).toMatchObject({ status: 'ok', signingKey: { keyId: 'hq-1', publicKey: signer.publicKey } });
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain('storeedge_hq_store_records{store="s1"} 13');
      expect(metrics).toContain('storeedge_hq_upstream_connected 1');
    } finally {
      await app.close();
    }
  });

  it('a batch published while HQ is down survives a broker restart in HQ\'s persistent session and is acked when HQ is back', async () => {
    await service.stop();
    const queued = batch('s1', EPOCH, [record(15), record(16)]);
    await s1.publishAsync(s1Topics.batch, JSON.stringify(queued), { qos: 1 });
    await broker.stop();
    await broker.start();
    // s1 reconnects on its own (its session, with its subscription, survived too).
    if (!s1.connected) await new Promise<void>((resolve) => s1.once('connect', () => resolve()));
    await startService();
    const ack = await mailbox.ack(queued.batch);
    expect(ack).toMatchObject({ acked: [[15, 16]], watermark: 16 });
    expect(store.count({ store: 's1' })).toBe(15);
  });

  it('stores records stamped ahead of its clock and flags them (G8): the store\'s clock is off, the sale still happened', async () => {
    const before = service.status().counters.recordsClockAhead;
    const ahead = Date.now() + 3_600_000;
    const ack = await publishBatch(batch('s1', 'epoch-skewed', [record(1, { key: 'receipt:skewed-1', hlc: formatHlc(ahead, 0) }), record(2, { key: 'receipt:skewed-2' })]));
    expect(ack).toMatchObject({ acked: [[1, 2]], rejected: [] });
    expect(service.status().counters.recordsClockAhead - before).toBe(1);
  });
});
