/**
 * The HQ thread of `storeedge bench sync` (protocol: sync-hq-protocol.ts): the reference HQ —
 * HqStore (its own SQLite file, WAL, synchronous FULL) and HqService on the upstream broker —
 * exactly as `storeedge hq serve` runs it, minus the HTTP API; or, for the transport reference,
 * a bare MQTT subscriber with nothing behind it.
 *
 * Instrumentation: the store's `ingestDetailed` is wrapped to time each batch's transaction
 * (commit and fsync included); nothing else is changed.
 */
import { parentPort } from 'node:worker_threads';
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { HQ_SUBSCRIPTIONS, parseSyncTopic, syncTopics } from '@storeedge/sync';
import { HqService, HqStore } from '@storeedge/sync/hq/index.ts';
import type { FromHq, HqReplyValue, HqRequest, ToHq } from './sync-hq-protocol.ts';
import { catalogBody, pricesBody } from './sync-workload.ts';

if (!parentPort) throw new Error('sync-hq-worker.ts runs in a worker thread');
const port = parentPort;

let store: HqStore | undefined;
let service: HqService | undefined;
let reference: { client: MqttClient; messages: number; bytes: number; firstAt: number; lastAt: number } | undefined;
let mark = { loop: performance.eventLoopUtilization(), at: performance.now(), ingestBatches: 0, ingestMs: 0 };
let ingest = { batches: 0, ms: 0 };

const now = () => performance.timeOrigin + performance.now();

async function handle(request: HqRequest): Promise<HqReplyValue> {
  switch (request.op) {
    case 'open': {
      if (store) throw new Error('HQ is already open');
      mkdirSync(dirname(request.file), { recursive: true });
      const opened = HqStore.open(request.file, { synchronous: 'full' });
      const ingestDetailed = opened.ingestDetailed.bind(opened);
      opened.ingestDetailed = (storeId, batch, at) => {
        const t0 = performance.now();
        try {
          return ingestDetailed(storeId, batch, at);
        } finally {
          ingest.batches += 1;
          ingest.ms += performance.now() - t0;
        }
      };
      store = opened;
      service = new HqService({
        store: opened,
        signingKey: request.signingKey,
        // Session expiry 0: each run's HQ starts without messages queued for an earlier one (the
        // transport reference subscribes as `hq` between runs; a persistent session would queue
        // every batch it sees for the next run's HQ).
        upstream: { url: request.url, username: 'hq', clientId: 'hq', password: request.password, sessionExpiryS: 0, reconnectMinMs: 100, reconnectMaxMs: 1_000 },
        stores: request.stores,
        ...(request.chunkBytes === undefined ? {} : { chunkBytes: request.chunkBytes }),
      }).start();
      await within(service.ready(), 15_000, 'HQ did not connect and subscribe to the upstream broker');
      return { op: 'open' };
    }
    case 'close': {
      await service?.stop();
      store?.close();
      service = undefined;
      store = undefined;
      return { op: 'close' };
    }
    case 'mark': {
      mark = { loop: performance.eventLoopUtilization(), at: performance.now(), ingestBatches: ingest.batches, ingestMs: ingest.ms };
      return { op: 'mark' };
    }
    case 'report': {
      if (!store || !service) throw new Error('HQ is not open');
      const heldByStore: Record<string, number> = {};
      let gaps = 0;
      for (const id of request.stores ?? []) {
        heldByStore[id] = store.count({ store: id });
        gaps += store.gaps(id).length;
      }
      return {
        op: 'report',
        loop: performance.eventLoopUtilization(mark.loop).utilization,
        windowMs: performance.now() - mark.at,
        ingestBatches: ingest.batches - mark.ingestBatches,
        ingestMs: ingest.ms - mark.ingestMs,
        counters: service.status().counters,
        held: store.count(),
        heldByStore,
        duplicates: store.duplicates(),
        gaps,
      };
    }
    case 'publish': {
      if (!store || !service) throw new Error('HQ is not open');
      const hq = service;
      const t0 = performance.now();
      const body = request.kind === 'catalog' ? catalogBody(request.skus) : pricesBody(request.skus);
      const t1 = performance.now();
      const sent: string[] = [];
      const onSent = (e: { docId: string; store: string }) => sent.push(`${e.docId}\u0000${e.store}`);
      hq.on('documentSent', onSent);
      try {
        const published = await hq.publishDocument({ kind: request.kind, stores: request.stores, body, effectiveFrom: request.effectiveFrom });
        const t2 = performance.now();
        await until(() => published.stores.every((id) => sent.includes(`${published.id}\u0000${id}`)), 120_000, `document ${published.id} was not handed to the broker for every store`);
        const t3 = performance.now();
        const doc = store.document(published.id)!;
        return {
          op: 'publish',
          docId: published.id,
          version: published.version,
          bodyBytes: doc.header.bodyBytes,
          chunks: doc.header.chunks,
          bodyMs: t1 - t0,
          signMs: t2 - t1,
          sendMs: t3 - t2,
          ...(request.withChunks ? { chunkMessages: store.documentChunks(published.id) } : {}),
        };
      } finally {
        hq.off('documentSent', onSent);
      }
    }
    case 'reference-start': {
      if (reference) throw new Error('the reference subscriber is already running');
      const client = mqtt.connect(request.url, { clientId: 'hq-reference', username: 'hq', password: request.password, clean: true, protocolVersion: 5, reconnectPeriod: 0 });
      const state = { client, messages: 0, bytes: 0, firstAt: Number.NaN, lastAt: Number.NaN };
      const echo = request.mode === 'echo';
      client.on('message', (topic, payload) => {
        const at = now();
        if (state.messages === 0) state.firstAt = at;
        state.lastAt = at;
        state.messages += 1;
        state.bytes += payload.length;
        const parsed = echo ? parseSyncTopic(topic) : undefined;
        if (parsed) client.publish(syncTopics(parsed.storeId).ack, `{"n":${state.messages}}`, { qos: 1 });
      });
      await within(client.subscribeAsync(HQ_SUBSCRIPTIONS[0], { qos: 1 }), 15_000, 'the reference subscriber did not subscribe');
      reference = state;
      mark = { loop: performance.eventLoopUtilization(), at: performance.now(), ingestBatches: ingest.batches, ingestMs: ingest.ms };
      return { op: 'reference-start' };
    }
    case 'reference-wait': {
      const state = reference;
      if (!state) throw new Error('no reference subscriber is running');
      await until(() => state.messages >= request.messages, request.timeoutMs, `the reference subscriber did not receive ${request.messages} messages`);
      return { op: 'reference-wait' };
    }
    case 'reference-stop': {
      const state = reference;
      if (!state) throw new Error('no reference subscriber is running');
      reference = undefined;
      const loop = performance.eventLoopUtilization(mark.loop).utilization;
      await state.client.endAsync(true).catch(() => undefined);
      return { op: 'reference-stop', messages: state.messages, bytes: state.bytes, firstAt: state.firstAt, lastAt: state.lastAt, loop };
    }
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// One request at a time, in arrival order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToHq) => {
  queue = queue.then(async () => {
    let reply: FromHq;
    try {
      reply = { id: message.id, ok: true, value: await handle(message) };
    } catch (error) {
      reply = { id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    port.postMessage(reply);
  });
});
