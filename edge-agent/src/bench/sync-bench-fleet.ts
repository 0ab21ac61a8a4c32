/**
 * Part 4 of `storeedge bench sync`: many stores against one HQ.
 *
 * Each simulated store is one mqtt.js client — its own credentials (username = store id), a
 * persistent MQTT 5 session, QoS 1 — holding pre-built uplink batches of its own epoch, seq 1, 2,
 * 3 … with correct content hashes (sync-workload.ts), as a store's relay would send them: at most
 * `inFlight` batches unacknowledged, the next one going when HQ's ack for one arrives. No ledger
 * and no relay behind them, so HQ and Mosquitto are what is measured. All stores start together.
 *
 * - records/s and batches/s: everything acknowledged / (last ack − first publish);
 * - ack latency: publish → that batch's ack received, per batch (queueing at HQ included);
 * - HQ busy: its thread's event-loop use, and the time inside ingest transactions.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { syncTopics } from '@storeedge/sync';
import { password, runDir, within, type SyncBenchContext } from './sync-bench-context.ts';
import { uplinkBatches, type TimedEvent } from './sync-workload.ts';
import type { PreparedBatch } from './sync-bench-uplink.ts';
import { percentileOfSorted } from './stats.ts';

export interface FleetShape {
  name: string;
  /** Records per batch, batches per store, batches in flight per store. */
  batchRecords: number;
  batchesPerStore: number;
  inFlight: number;
}

export interface FleetRun {
  shape: string;
  run: number;
  stores: number;
  batches: number;
  records: number;
  ms: number;
  recordsPerSec: number;
  batchesPerSec: number;
  ackLatencyMs: { p50: number; p95: number; p99: number; max: number };
  hqLoop: number;
  /** ms HQ spent inside its ingest transactions per batch, and as a share of the window. */
  hqIngestMsPerBatch: number;
  hqIngestShare: number;
  brokerCores: number;
  /** Event-loop use of this thread, where the simulated stores run. */
  clientsLoop: number;
  /** What HQ holds afterwards: all records, per store (min and max), duplicates acked, gaps. */
  held: number;
  heldPerStore: { min: number; max: number };
  duplicates: number;
  gaps: number;
}

export interface FleetStore {
  id: string;
  client: MqttClient;
  /** Per shape: the batches this store sends. */
  batches: Map<string, PreparedBatch[]>;
}

export function fleetStoreId(i: number): string {
  return `store-${String(i + 1).padStart(4, '0')}`;
}

/**
 * Every store's batches for every shape, from the same events with the store's id in each key
 * (so each store's records are its own) under a fresh epoch per store and shape.
 */
export function buildFleetBatches(storeIds: readonly string[], events: readonly TimedEvent[], shapes: readonly FleetShape[]): Map<string, Map<string, PreparedBatch[]>> {
  const out = new Map<string, Map<string, PreparedBatch[]>>();
  for (const id of storeIds) {
    const perShape = new Map<string, PreparedBatch[]>();
    for (const shape of shapes) {
      const count = shape.batchRecords * shape.batchesPerStore;
      const own = events.slice(0, count).map((e) => ({ at: e.at, input: { ...e.input, key: `${id}:${shape.name}:${e.input.key}` } }));
      perShape.set(shape.name, uplinkBatches(own, { store: id, epoch: randomBytes(16).toString('hex'), batchRecords: shape.batchRecords, batchBytes: 64 * 1024 * 1024 }));
    }
    out.set(id, perShape);
  }
  return out;
}

/** Connects every store (a few at a time) and subscribes it to its down/ack. */
export async function connectFleet(ctx: SyncBenchContext, storeIds: readonly string[], batches: Map<string, Map<string, PreparedBatch[]>>): Promise<FleetStore[]> {
  const stores: FleetStore[] = [];
  const concurrency = 20;
  try {
    for (let i = 0; i < storeIds.length; i += concurrency) {
      const group = await Promise.all(
        storeIds.slice(i, i + concurrency).map(async (id) => {
          const client = await mqtt.connectAsync(ctx.upstream.url, {
            clientId: id,
            username: id,
            password: password(ctx, id),
            clean: false,
            protocolVersion: 5,
            properties: { sessionExpiryInterval: 600 },
            reconnectPeriod: 0,
            connectTimeout: 30_000,
          });
          await client.subscribeAsync(syncTopics(id).ack, { qos: 1 });
          return { id, client, batches: batches.get(id)! };
        }),
      );
      stores.push(...group);
    }
  } catch (error) {
    await disconnectFleet(stores);
    throw error;
  }
  return stores;
}

export async function disconnectFleet(stores: readonly FleetStore[]): Promise<void> {
  await Promise.all(stores.map((s) => s.client.endAsync(true).catch(() => undefined)));
}

/** One run of one shape on a fresh HQ file: every store sends its batches; returns when all are acknowledged. */
export async function measureFleet(ctx: SyncBenchContext, stores: readonly FleetStore[], shape: FleetShape, run: number): Promise<FleetRun> {
  const dir = runDir(ctx, `fleet-${shape.name}-${run}`);
  const ids = stores.map((s) => s.id);
  await ctx.hq.request({ op: 'open', file: `${dir}/hq.db`, url: ctx.upstream.url, password: password(ctx, 'hq'), stores: ids, signingKey: ctx.signingKey });
  const latencies: number[] = [];
  const cleanups: Array<() => void> = [];
  try {
    let outstanding = 0;
    for (const s of stores) outstanding += s.batches.get(shape.name)!.length;
    const totalBatches = outstanding;
    const records = stores.reduce((sum, s) => sum + s.batches.get(shape.name)!.reduce((n, b) => n + b.records, 0), 0);
    let lastAckAt = Number.NaN;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const starters: Array<() => void> = [];
    for (const s of stores) {
      const batches = s.batches.get(shape.name)!;
      const topic = syncTopics(s.id).batch;
      const sentAt = new Map<string, number>();
      let next = 0;
      const send = () => {
        const b = batches[next++]!;
        sentAt.set(b.id, performance.now());
        s.client.publish(topic, b.json, { qos: 1 });
      };
      const onMessage = (_topic: string, payload: Buffer) => {
        const now = performance.now();
        const ack = JSON.parse(payload.toString('utf8')) as { batch: string };
        const at = sentAt.get(ack.batch);
        if (at === undefined) return; // a duplicate ack, or one from an earlier run's session
        sentAt.delete(ack.batch);
        latencies.push(now - at);
        if (next < batches.length) send();
        outstanding -= 1;
        if (outstanding === 0) {
          lastAckAt = now;
          resolveDone();
        }
      };
      s.client.on('message', onMessage);
      cleanups.push(() => s.client.off('message', onMessage));
      starters.push(() => {
        while (next < Math.min(shape.inFlight, batches.length)) send();
      });
    }
    await ctx.hq.request({ op: 'mark' });
    const broker0 = ctx.upstream.cpuSeconds();
    const loop0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    for (const start of starters) start();
    await within(done, Math.max(180_000, records * 2), `HQ did not acknowledge all ${totalBatches} batches of ${stores.length} stores`);
    const ms = lastAckAt - t0;
    const clientsLoop = performance.eventLoopUtilization(loop0).utilization;
    const brokerCores = (ctx.upstream.cpuSeconds() - broker0) / (ms / 1000);
    const hq = await ctx.hq.request({ op: 'report', stores: ids }, 120_000);
    const perStore = Object.values(hq.heldByStore);
    const sorted = Float64Array.from(latencies).sort();
    return {
      shape: shape.name,
      run,
      stores: stores.length,
      batches: totalBatches,
      records,
      ms,
      recordsPerSec: (records * 1000) / ms,
      batchesPerSec: (totalBatches * 1000) / ms,
      ackLatencyMs: { p50: percentileOfSorted(sorted, 50), p95: percentileOfSorted(sorted, 95), p99: percentileOfSorted(sorted, 99), max: sorted[sorted.length - 1]! },
      hqLoop: hq.loop,
      hqIngestMsPerBatch: hq.ingestBatches > 0 ? hq.ingestMs / hq.ingestBatches : Number.NaN,
      hqIngestShare: hq.ingestMs / ms,
      brokerCores,
      clientsLoop,
      held: hq.held,
      heldPerStore: { min: Math.min(...perStore), max: Math.max(...perStore) },
      duplicates: hq.duplicates,
      gaps: hq.gaps,
    };
  } finally {
    for (const cleanup of cleanups) cleanup();
    await ctx.hq.request({ op: 'close' });
  }
}
