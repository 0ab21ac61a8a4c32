/**
 * Part 2 of `storeedge bench sync`: a store that was offline for a day reconnects.
 *
 * The ledger is filled with a busy store's day (sync-workload.ts) at the events' own times while
 * the store has no link (one ledger transaction per simulated minute), so every row is backlog.
 * Then the SyncService connects: timed from its `connected` event until every backlog row is
 * acknowledged (HQ committed it, the store marked it sent). Meanwhile a live receipt is sold every
 * `liveEveryMs`; each one's latency is from its append until its ack was applied — the relay sends
 * live rows at once, beside the rate-limited backlog.
 */
import { BenchStore } from './sync-bench-store.ts';
import { password, runDir, within, type SyncBenchContext } from './sync-bench-context.ts';
import type { TimedEvent } from './sync-workload.ts';

export interface BacklogSetting {
  name: string;
  /** sync.uplink.backlogRecordsPerSec; null: unlimited. */
  recordsPerSec: number | null;
}

/** The bench's stand-in for "unlimited": no store has this many rows. */
const UNLIMITED = 1e12;

export interface BacklogRun {
  setting: string;
  recordsPerSec: number | null;
  run: number;
  /** Backlog rows queued while offline, and the span of store time they cover. */
  backlog: number;
  backlogSpanH: number;
  /** ms to write the backlog (one transaction per simulated minute; before the window). */
  fillMs: number;
  /** From `connected` until the last backlog row's ack was applied. */
  drainMs: number;
  /** Backlog records per second over the drain. */
  drainRecordsPerSec: number;
  /**
   * What the rate limit alone allows: the bucket's first second (max(batchRecords, rate) rows)
   * goes at once, the rest at the rate; null when unlimited.
   */
  rateFloorMs: number | null;
  /** Live receipts sold during the drain, and their latency append → ack applied (ms). */
  live: number;
  liveLatencyMs: number[];
  /** Records HQ holds after the run (backlog + live), and duplicates it acked. */
  held: number;
  duplicates: number;
  storeLoop: number;
  hqLoop: number;
  brokerCores: number;
  /** Backlog rows still pending over time: [ms since connected, pending], one point per ack. */
  progress: Array<[number, number]>;
}

export async function measureBacklogDrain(
  ctx: SyncBenchContext,
  p: { backlog: readonly TimedEvent[]; live: readonly TimedEvent[]; setting: BacklogSetting; run: number; liveEveryMs: number; batchRecords: number },
): Promise<BacklogRun> {
  const dir = runDir(ctx, `backlog-${p.setting.name}-${p.run}`);
  let storeClock: number | undefined;
  const store = BenchStore.open({ dir, storeId: ctx.storeId, now: () => storeClock ?? Date.now() });
  let liveTimer: NodeJS.Timeout | undefined;
  try {
    // Offline for a day: each simulated minute's events in one transaction, at that minute.
    const f0 = performance.now();
    for (let i = 0; i < p.backlog.length; ) {
      const minute = Math.floor(p.backlog[i]!.at / 60_000);
      let j = i;
      while (j < p.backlog.length && Math.floor(p.backlog[j]!.at / 60_000) === minute) j++;
      storeClock = p.backlog[i]!.at;
      store.ledger.appendMany(p.backlog.slice(i, j).map((e) => e.input));
      i = j;
    }
    storeClock = undefined;
    const fillMs = performance.now() - f0;
    const ledgerDb = store.ledger.db;
    const ceiling = ledgerDb.prepare<[], number>('SELECT coalesce(max(id), 0) FROM outbox').pluck().get() ?? 0;
    const backlogPending = ledgerDb.prepare<[number], number>('SELECT count(*) FROM outbox WHERE id <= ? AND sent_at IS NULL').pluck();
    const outboxIdOf = ledgerDb.prepare<[number], number>('SELECT id FROM outbox WHERE seq = ?').pluck();
    const sentAt = ledgerDb.prepare<[number], number | null>('SELECT sent_at FROM outbox WHERE id = ?').pluck();

    await ctx.hq.request({ op: 'open', file: `${dir}/hq.db`, url: ctx.upstream.url, password: password(ctx, 'hq'), stores: [ctx.storeId], signingKey: ctx.signingKey });
    await ctx.hq.request({ op: 'mark' });
    const broker0 = ctx.upstream.cpuSeconds();
    const loop0 = performance.eventLoopUtilization();

    const liveSent: Array<{ id: number; at: number }> = [];
    const liveLatencyMs: number[] = [];
    const progress: Array<[number, number]> = [];
    let drainedAt = Number.NaN;
    let t0 = Number.NaN;
    let resolveDrained!: () => void;
    let resolveLive!: () => void;
    const drained = new Promise<void>((resolve) => (resolveDrained = resolve));
    const liveDone = new Promise<void>((resolve) => (resolveLive = resolve));
    let pendingLive = 0;
    const onAck = () => {
      const now = performance.now();
      if (Number.isNaN(drainedAt)) {
        const pending = backlogPending.get(ceiling) ?? 0;
        progress.push([Math.round(now - t0), pending]);
        if (pending === 0) {
          drainedAt = now;
          clearInterval(liveTimer);
          resolveDrained();
        }
      }
      for (const row of liveSent) {
        if (row.at < 0 || sentAt.get(row.id) === null) continue;
        liveLatencyMs.push(now - row.at);
        row.at = -1;
        pendingLive -= 1;
      }
      if (!Number.isNaN(drainedAt) && pendingLive === 0) resolveLive();
    };

    t0 = await store.connect({
      url: ctx.upstream.url,
      password: password(ctx, ctx.storeId),
      uplink: { backlogRecordsPerSec: p.setting.recordsPerSec ?? UNLIMITED },
    });
    store.sync.on('ack', onAck);
    let nextLive = 0;
    liveTimer = setInterval(() => {
      const event = p.live[nextLive++ % p.live.length]!;
      const { event: appended } = store.ledger.append({ ...event.input, key: `${event.input.key}:${p.setting.name}:${p.run}:${nextLive}` });
      liveSent.push({ id: outboxIdOf.get(appended.seq)!, at: performance.now() });
      pendingLive += 1;
    }, p.liveEveryMs);
    const expectedMs = p.setting.recordsPerSec === null ? 60_000 : (p.backlog.length / p.setting.recordsPerSec) * 1000;
    await within(drained, Math.max(120_000, expectedMs * 3), `the backlog of ${p.backlog.length} rows did not drain`);
    await within(liveDone, 60_000, 'the live receipts sold during the drain were not all acknowledged');
    const storeLoop = performance.eventLoopUtilization(loop0).utilization;
    const brokerCores = (ctx.upstream.cpuSeconds() - broker0) / ((performance.now() - t0) / 1000);
    const hq = await ctx.hq.request({ op: 'report', stores: [ctx.storeId] });
    const drainMs = drainedAt - t0;
    const rate = p.setting.recordsPerSec;
    const bucket = rate === null ? 0 : Math.max(p.batchRecords, rate);
    return {
      setting: p.setting.name,
      recordsPerSec: rate,
      run: p.run,
      backlog: p.backlog.length,
      backlogSpanH: p.backlog.length === 0 ? 0 : (p.backlog.at(-1)!.at - p.backlog[0]!.at) / 3_600_000,
      fillMs,
      drainMs,
      drainRecordsPerSec: (p.backlog.length * 1000) / drainMs,
      rateFloorMs: rate === null ? null : (Math.max(0, p.backlog.length - bucket) / rate) * 1000,
      live: liveSent.length,
      liveLatencyMs,
      held: hq.heldByStore[ctx.storeId] ?? 0,
      duplicates: hq.duplicates,
      storeLoop,
      hqLoop: hq.loop,
      brokerCores,
      progress,
    };
  } finally {
    clearInterval(liveTimer);
    await store.close();
    await ctx.hq.request({ op: 'close' });
  }
}
