/**
 * Part 1 of `storeedge bench sync`: uplink throughput with durable acknowledgement, beside the
 * transport's ceiling measured through the same Mosquitto in the same run.
 *
 * - durable: a day of outbox events is appended to the store's ledger (one transaction) while the
 *   store is connected, so every row is live and goes at once; timed from that commit until the
 *   store has applied the ack of the last row — HQ ingested every batch in its own committed
 *   transaction and the store marked the rows sent in its own. Ledger → UplinkRelay → Mosquitto →
 *   HqService/HqStore → ack → Mosquitto → relay → ledger, with real files (synchronous FULL).
 * - echo (reference): the same batches (same records and cut, so the same bytes) published by a
 *   bare mqtt.js client with the same window of unacknowledged batches, answered by a bare HQ-side
 *   client with a tiny ack and nothing stored: the protocol's round trips without durability.
 * - stream (reference): the same batches published back to back at QoS 1 (no application ack),
 *   until the HQ-side client received the last: the transport's ceiling for these bytes.
 *
 * The references move a day's batches in a fraction of a second, so they send them
 * `referenceBytes` / (a day's bytes) times over (at least once): a window long enough to time.
 */
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { syncTopics } from '@storeedge/sync';
import { BenchStore, DEFAULT_UPLINK } from './sync-bench-store.ts';
import { absoluteNow, password, runDir, within, type SyncBenchContext } from './sync-bench-context.ts';
import { uplinkBatches, type TimedEvent } from './sync-workload.ts';

export type UplinkPath = 'durable' | 'echo' | 'stream';


export interface UplinkSetting {
  name: string;
  batchRecords: number;
  batchBytes: number;
  maxInFlightBatches: number;
}

/** The agent's defaults, and a larger batch and window. */
export const UPLINK_SETTINGS: readonly UplinkSetting[] = [
  { name: 'default', batchRecords: DEFAULT_UPLINK.batchRecords, batchBytes: DEFAULT_UPLINK.batchBytes, maxInFlightBatches: DEFAULT_UPLINK.maxInFlightBatches },
  { name: 'large', batchRecords: 1_000, batchBytes: 1024 * 1024, maxInFlightBatches: 16 },
];

export interface UplinkRun {
  path: UplinkPath;
  setting: string;
  run: number;
  /** Times the day's batches were sent (references: enough for `referenceBytes`; durable: 1). */
  repeat: number;
  events: number;
  batches: number;
  /** Batch payload bytes sent (JSON). */
  bytes: number;
  /** Commit of the events (durable) or first publish (references) → last ack applied (durable, echo) or last batch received (stream). */
  ms: number;
  eventsPerSec: number;
  megabytesPerSec: number;
  /** Event-loop utilisation over the window: the store's thread (main) and HQ's. */
  storeLoop: number;
  hqLoop: number;
  /** Durable only: ms HQ spent inside its ingest transactions, per batch (commit included). */
  hqIngestMsPerBatch: number | null;
  /** Mosquitto's CPU time over the window as a share of one core. */
  brokerCores: number;
  /** Durable only: records HQ holds after the run, and duplicates it acked (re-sent batches). */
  held: number | null;
  duplicates: number | null;
  /** Durable only: ms to append the events in one ledger transaction (before the window). */
  appendMs: number | null;
}

/** An uplink batch as JSON text, with its id and record count (sync-workload.ts `uplinkBatches`). */
export type PreparedBatch = ReturnType<typeof uplinkBatches>[number];

/** `events` cut into batches as the relay cuts them with `setting`, under a random epoch of a ledger's length. */
export function referenceBatches(ctx: Pick<SyncBenchContext, 'storeId'>, events: readonly TimedEvent[], setting: UplinkSetting): PreparedBatch[] {
  return uplinkBatches(events, { store: ctx.storeId, epoch: randomBytes(16).toString('hex'), ...setting });
}

/**
 * Durable uplink of `events` with `setting`, one run on fresh files. `batches` (the same events
 * cut the same way) only gives the bytes sent: the relay builds its own.
 */
export async function measureDurableUplink(
  ctx: SyncBenchContext,
  p: { events: readonly TimedEvent[]; batches: readonly PreparedBatch[]; setting: UplinkSetting; run: number },
): Promise<UplinkRun> {
  const { events, batches, setting, run } = p;
  const dir = runDir(ctx, `uplink-${setting.name}-${run}`);
  await ctx.hq.request({ op: 'open', file: `${dir}/hq.db`, url: ctx.upstream.url, password: password(ctx, 'hq'), stores: [ctx.storeId], signingKey: ctx.signingKey });
  const store = BenchStore.open({ dir, storeId: ctx.storeId });
  try {
    await store.connect({
      url: ctx.upstream.url,
      password: password(ctx, ctx.storeId),
      uplink: { batchRecords: setting.batchRecords, batchBytes: setting.batchBytes, maxInFlightBatches: setting.maxInFlightBatches },
    });
    const total = events.length;
    let acked = 0;
    let acks = 0;
    let doneAt = Number.NaN;
    const done = new Promise<void>((resolve) =>
      store.sync.on('ack', (ack) => {
        acked += ack.acked;
        acks += 1;
        if (acked >= total && Number.isNaN(doneAt)) {
          doneAt = performance.now();
          resolve();
        }
      }),
    );
    const a0 = performance.now();
    store.ledger.appendMany(events.map((e) => e.input));
    const appendMs = performance.now() - a0;
    // Posted before this thread yields, so HQ's window opens before the first batch can reach it.
    const marked = ctx.hq.request({ op: 'mark' });
    const broker0 = ctx.upstream.cpuSeconds();
    const loop0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await marked;
    await within(done, Math.max(120_000, total * 20), `the store's ${total} rows were not all acknowledged by HQ`);
    const ms = doneAt - t0;
    const storeLoop = performance.eventLoopUtilization(loop0).utilization;
    const brokerCores = (ctx.upstream.cpuSeconds() - broker0) / (ms / 1000);
    const hq = await ctx.hq.request({ op: 'report', stores: [ctx.storeId] });
    const bytes = batches.reduce((sum, b) => sum + Buffer.byteLength(b.json), 0);
    return {
      path: 'durable',
      setting: setting.name,
      run,
      repeat: 1,
      events: total,
      batches: acks,
      bytes,
      ms,
      eventsPerSec: (total * 1000) / ms,
      megabytesPerSec: bytes / 1e6 / (ms / 1000),
      storeLoop,
      hqLoop: hq.loop,
      hqIngestMsPerBatch: hq.ingestBatches > 0 ? hq.ingestMs / hq.ingestBatches : null,
      brokerCores,
      held: hq.heldByStore[ctx.storeId] ?? 0,
      duplicates: hq.duplicates,
      appendMs,
    };
  } finally {
    await store.close();
    await ctx.hq.request({ op: 'close' });
  }
}

/** The transport reference with the same batches, repeated to at least `referenceBytes`: `echo` (same window, tiny acks) or `stream` (no application ack). */
export async function measureReferenceUplink(
  ctx: SyncBenchContext,
  p: { events: readonly TimedEvent[]; batches: readonly PreparedBatch[]; setting: UplinkSetting; path: 'echo' | 'stream'; run: number; referenceBytes: number },
): Promise<UplinkRun> {
  const { batches, setting, path, run } = p;
  const dayBytes = batches.reduce((sum, b) => sum + Buffer.byteLength(b.json), 0);
  const repeat = Math.max(1, Math.ceil(p.referenceBytes / dayBytes));
  const sent = Array.from({ length: repeat }, () => batches).flat();
  const bytes = dayBytes * repeat;
  const events = p.events.length * repeat;
  const topics = syncTopics(ctx.storeId);
  await ctx.hq.request({ op: 'reference-start', url: ctx.upstream.url, password: password(ctx, 'hq'), mode: path === 'echo' ? 'echo' : 'sink' });
  let client: MqttClient | undefined;
  try {
    client = await mqtt.connectAsync(ctx.upstream.url, { clientId: `${ctx.storeId}-reference`, username: ctx.storeId, password: password(ctx, ctx.storeId), clean: true, protocolVersion: 5, reconnectPeriod: 0 });
    const c = client;
    if (path === 'echo') await c.subscribeAsync(topics.ack, { qos: 1 });
    await ctx.hq.request({ op: 'mark' });
    const broker0 = ctx.upstream.cpuSeconds();
    const loop0 = performance.eventLoopUtilization();
    const t0 = absoluteNow();
    let end: number;
    if (path === 'echo') {
      let next = 0;
      let acked = 0;
      let doneAt = Number.NaN;
      const done = new Promise<void>((resolve) => {
        const send = () => c.publish(topics.batch, sent[next++]!.json, { qos: 1 });
        c.on('message', () => {
          acked += 1;
          if (next < sent.length) send();
          if (acked === sent.length) {
            doneAt = absoluteNow();
            resolve();
          }
        });
        while (next < Math.min(setting.maxInFlightBatches, sent.length)) send();
      });
      await within(done, 120_000, `the echo reference did not answer ${sent.length} batches`);
      end = doneAt;
    } else {
      for (const b of sent) c.publish(topics.batch, b.json, { qos: 1 });
      await ctx.hq.request({ op: 'reference-wait', messages: sent.length, timeoutMs: 120_000 }, 130_000);
      end = Number.NaN;
    }
    const storeLoop = performance.eventLoopUtilization(loop0).utilization;
    const report = await ctx.hq.request({ op: 'reference-stop' });
    if (path === 'stream') end = report.lastAt;
    const ms = end - t0;
    const brokerCores = (ctx.upstream.cpuSeconds() - broker0) / (ms / 1000);
    return {
      path,
      setting: setting.name,
      run,
      repeat,
      events,
      batches: sent.length,
      bytes,
      ms,
      eventsPerSec: (events * 1000) / ms,
      megabytesPerSec: bytes / 1e6 / (ms / 1000),
      storeLoop,
      hqLoop: report.loop,
      hqIngestMsPerBatch: null,
      brokerCores,
      held: null,
      duplicates: null,
      appendMs: null,
    };
  } finally {
    await client?.endAsync(true).catch(() => undefined);
    await ctx.hq.request({ op: 'reference-stop' }).catch(() => undefined);
  }
}
