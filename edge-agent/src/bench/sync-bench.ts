/**
 * `storeedge bench sync` (issue 7): HQ sync measured with real parts — a Mosquitto started by the
 * bench as the upstream broker (per-store passwords and the docs' ACL, sync-upstream.ts), the
 * reference HQ (HqStore on its own SQLite file, synchronous FULL, and HqService) in a thread of its
 * own, and the store's SyncService on a ledger file with the agent's durability (synchronous FULL).
 *
 * 1. Uplink throughput with durable acknowledgement, default and larger batch/window, beside the
 *    same batches through the same broker with no storage (sync-bench-uplink.ts).
 * 2. Backlog drain after 24 h offline, at the default backlog rate and unlimited, with live
 *    receipts sold during the drain (sync-bench-backlog.ts).
 * 3. Downlink: a signed, chunked catalog and a full price list, HQ side, end to end and store side
 *    alone (sync-bench-downlink.ts).
 * 4. Many stores (mqtt.js clients with pre-built batches) against one HQ (sync-bench-fleet.ts).
 *
 * Each figure is the median over `runs` runs on fresh files; every run is in the JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSigningKey } from '@storeedge/sync';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { median, percentile } from './stats.ts';
import { fixed, formatTable, ms as msText, percent, thousands } from './table.ts';
import { measureBacklogDrain, type BacklogRun, type BacklogSetting } from './sync-bench-backlog.ts';
import type { SyncBenchContext } from './sync-bench-context.ts';
import { measureDocuments, type DocKind, type DocumentRun } from './sync-bench-downlink.ts';
import { buildFleetBatches, connectFleet, disconnectFleet, fleetStoreId, measureFleet, type FleetRun, type FleetShape } from './sync-bench-fleet.ts';
import { DEFAULT_UPLINK } from './sync-bench-store.ts';
import { measureDurableUplink, measureReferenceUplink, referenceBatches, UPLINK_SETTINGS, type UplinkPath, type UplinkRun, type UplinkSetting } from './sync-bench-uplink.ts';
import { HqThread } from './sync-hq-thread.ts';
import { startSyncUpstream } from './sync-upstream.ts';
import { BUSY_STORE_DAY, storeDay, type StoreDayModel } from './sync-workload.ts';

export interface SyncBenchOptions {
  /** Runs per row (default 3); each figure is their median. */
  runs?: number;
  /** Simulated stores against one HQ in part 4 (default 200; 5 with `quick`). */
  stores?: number;
  /** Small sizes everywhere: a smoke test of the whole bench in well under a minute. */
  quick?: boolean;
  /** Path of the mosquitto binary (default: the usual places, then $PATH). */
  mosquitto?: string;
  progress?: (line: string) => void;
  /** Stops the bench between runs (everything started is still stopped). */
  signal?: AbortSignal;
}

export interface SyncBenchSizes {
  /** The store day of parts 1 and 2. */
  receipts: number;
  /** Catalog SKUs and price entries of part 3; document chunk size (HQ's default unless quick). */
  skus: number;
  chunkBytes: number | null;
  fleetShapes: FleetShape[];
  backlogSettings: BacklogSetting[];
  liveEveryMs: number;
  /** Bytes each transport reference run moves, at least (the day's batches repeated). */
  referenceBytes: number;
}

const FULL: SyncBenchSizes = {
  receipts: BUSY_STORE_DAY.receipts,
  skus: 50_000,
  chunkBytes: null,
  fleetShapes: [
    { name: 'backlog', batchRecords: DEFAULT_UPLINK.batchRecords, batchesPerStore: 3, inFlight: DEFAULT_UPLINK.maxInFlightBatches },
    { name: 'live', batchRecords: 10, batchesPerStore: 10, inFlight: 1 },
  ],
  backlogSettings: [
    { name: 'default', recordsPerSec: DEFAULT_UPLINK.backlogRecordsPerSec },
    { name: 'unlimited', recordsPerSec: null },
  ],
  liveEveryMs: 500,
  referenceBytes: 60e6,
};

const QUICK: SyncBenchSizes = {
  receipts: 40,
  skus: 500,
  chunkBytes: 8 * 1024,
  fleetShapes: [
    { name: 'backlog', batchRecords: 20, batchesPerStore: 2, inFlight: 2 },
    { name: 'live', batchRecords: 5, batchesPerStore: 3, inFlight: 1 },
  ],
  backlogSettings: [
    { name: 'default', recordsPerSec: DEFAULT_UPLINK.backlogRecordsPerSec },
    { name: 'unlimited', recordsPerSec: null },
  ],
  liveEveryMs: 50,
  referenceBytes: 1e6,
};

export interface UplinkRow {
  setting: string;
  batchRecords: number;
  maxInFlightBatches: number;
  path: UplinkPath;
  median: { eventsPerSec: number; megabytesPerSec: number; storeLoop: number; hqLoop: number; hqIngestMsPerBatch: number | null; brokerCores: number };
  /**
   * This row's events/s over the echo reference's, same setting: the same batches, window and
   * round trips with nothing stored, so durable / echo is what durability (and validation) costs.
   */
  ofEcho: number;
}

export interface BacklogRow {
  setting: string;
  recordsPerSec: number | null;
  median: { drainMs: number; drainRecordsPerSec: number; rateFloorMs: number | null; liveP50Ms: number; liveP95Ms: number };
  liveMaxMs: number;
  live: number;
}

export interface DocumentRow {
  kind: DocKind;
  entries: number;
  bodyBytes: number;
  chunks: number;
  median: { hqSignMs: number; hqSendMs: number; storeVerifyMs: number; storeApplyMs: number; endToEndMs: number };
  ledgerEvents: number;
}

export interface FleetRow {
  shape: FleetShape;
  stores: number;
  batches: number;
  records: number;
  median: { recordsPerSec: number; batchesPerSec: number; p50Ms: number; p95Ms: number; p99Ms: number; hqLoop: number; hqIngestShare: number; hqIngestMsPerBatch: number; brokerCores: number; clientsLoop: number };
  /** Every run held exactly what was sent, once. */
  exact: boolean;
}

type LoadAverage = [number, number, number];

export interface SyncBenchResult {
  suite: 'sync';
  startedAt: string;
  finishedAt: string;
  params: {
    runs: number;
    stores: number;
    quick: boolean;
    sizes: SyncBenchSizes;
    uplinkSettings: UplinkSetting[];
    day: { model: StoreDayModel; events: number; byType: Record<string, number>; meanPayloadBytes: number; spanH: number };
  };
  environment: BenchEnvironment & {
    mosquitto: { path: string; version: string; config: string };
    /** os.loadavg() (1, 5, 15 min) at the start and end of each part: the machine may be shared. */
    loadAverage: Record<'start' | 'uplink' | 'backlog' | 'downlink' | 'fleet', LoadAverage>;
  };
  uplink: { rows: UplinkRow[]; runs: UplinkRun[] };
  backlog: { rows: BacklogRow[]; runs: BacklogRun[] };
  downlink: { rows: DocumentRow[]; runs: DocumentRun[] };
  fleet: { rows: FleetRow[]; runs: FleetRun[] };
}

const STORE_ID = 'store-bench';
const load = (): LoadAverage => loadavg().map((x) => Math.round(x * 100) / 100) as LoadAverage;

/** Runs `storeedge bench sync`; stops everything it started, also on error or abort. */
export async function runSyncBench(options: SyncBenchOptions = {}): Promise<SyncBenchResult> {
  const quick = options.quick ?? false;
  const sizes = quick ? QUICK : FULL;
  const runs = options.runs ?? 3;
  const storeCount = options.stores ?? (quick ? 5 : 200);
  for (const [name, value] of Object.entries({ runs, stores: storeCount })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const progress = options.progress ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const loadAverage = { start: load() } as SyncBenchResult['environment']['loadAverage'];
  const fleetIds = Array.from({ length: storeCount }, (_, i) => fleetStoreId(i));

  const upstream = await startSyncUpstream([STORE_ID, ...fleetIds], options.mosquitto);
  const workDir = mkdtempSync(join(tmpdir(), 'storeedge-bench-sync-'));
  const hq = HqThread.start();
  const ctx: SyncBenchContext = { hq, upstream, signingKey: generateSigningKey('hq-bench'), storeId: STORE_ID, workDir, progress, ...(options.signal ? { signal: options.signal } : {}) };
  try {
    progress(`mosquitto ${upstream.version} on ${upstream.url} (passwords + ACL); HQ in a worker thread; ${runs} run${runs === 1 ? '' : 's'} per row`);
    const dayStart = Date.now() - 86_400_000;
    const day = storeDay({ startAt: dayStart, model: { receipts: sizes.receipts }, keyPrefix: STORE_ID });
    const spanH = day.events.length === 0 ? 0 : (day.events.at(-1)!.at - day.events[0]!.at) / 3_600_000;
    progress(`a busy store's day: ${thousands(day.events.length)} outbox events from ${thousands(sizes.receipts)} receipts, ${Math.round(day.meanPayloadBytes)} B a payload on average`);

    // 1. uplink
    const uplinkRuns: UplinkRun[] = [];
    const batchesBySetting = new Map(UPLINK_SETTINGS.map((s) => [s.name, referenceBatches(ctx, day.events, s)]));
    for (let run = 1; run <= runs; run++) {
      for (const setting of UPLINK_SETTINGS) {
        const batches = batchesBySetting.get(setting.name)!;
        for (const path of ['durable', 'echo', 'stream'] as const) {
          options.signal?.throwIfAborted();
          const r =
            path === 'durable'
              ? await measureDurableUplink(ctx, { events: day.events, batches, setting, run })
              : await measureReferenceUplink(ctx, { events: day.events, batches, setting, path, run, referenceBytes: sizes.referenceBytes });
          uplinkRuns.push(r);
          progress(`uplink ${setting.name} ${path} run ${run}/${runs}: ${thousands(r.eventsPerSec)} events/s, ${fixed(r.megabytesPerSec, 1)} MB/s${r.held === null ? '' : `, HQ holds ${thousands(r.held)}, duplicates ${r.duplicates}`}`);
        }
      }
    }
    loadAverage.uplink = load();

    // 2. backlog
    const backlogRuns: BacklogRun[] = [];
    const liveDay = storeDay({ startAt: Date.now(), model: { receipts: 200 }, seed: 'live', keyPrefix: `${STORE_ID}-live` });
    const liveReceipts = liveDay.events.filter((e) => e.input.type === 'checkout.receipt.issued');
    for (let run = 1; run <= runs; run++) {
      for (const setting of sizes.backlogSettings) {
        options.signal?.throwIfAborted();
        const r = await measureBacklogDrain(ctx, { backlog: day.events, live: liveReceipts, setting, run, liveEveryMs: sizes.liveEveryMs, batchRecords: DEFAULT_UPLINK.batchRecords });
        backlogRuns.push(r);
        progress(
          `backlog ${setting.name} run ${run}/${runs}: ${thousands(r.backlog)} rows drained in ${fixed(r.drainMs / 1000, 1)} s (${thousands(r.drainRecordsPerSec)}/s); ` +
            `${r.live} live receipts, p50 ${msText(percentile(r.liveLatencyMs, 50))} ms; HQ holds ${thousands(r.held)}, duplicates ${r.duplicates}`,
        );
      }
    }
    loadAverage.backlog = load();

    // 3. downlink
    const documentRuns: DocumentRun[] = [];
    for (let run = 1; run <= runs; run++) {
      options.signal?.throwIfAborted();
      const rs = await measureDocuments(ctx, { skus: sizes.skus, run, ...(sizes.chunkBytes === null ? {} : { chunkBytes: sizes.chunkBytes }) });
      documentRuns.push(...rs);
      for (const r of rs) {
        progress(
          `downlink ${r.kind} run ${run}/${runs}: ${fixed(r.bodyBytes / 1e6, 1)} MB in ${r.chunks} chunks; HQ ${msText(r.hqSignMs)} + ${msText(r.hqSendMs)} ms; ` +
            `store ${msText(r.storeVerifyMs)} + ${msText(r.storeApplyMs)} ms; end to end ${msText(r.endToEndMs)} ms`,
        );
      }
    }
    loadAverage.downlink = load();

    // 4. fleet
    const fleetRuns: FleetRun[] = [];
    progress(`${storeCount} stores: building their batches…`);
    const fleetBatches = buildFleetBatches(fleetIds, day.events, sizes.fleetShapes);
    const fleet = await connectFleet(ctx, fleetIds, fleetBatches);
    progress(`${storeCount} stores connected`);
    try {
      for (let run = 1; run <= runs; run++) {
        for (const shape of sizes.fleetShapes) {
          options.signal?.throwIfAborted();
          const r = await measureFleet(ctx, fleet, shape, run);
          fleetRuns.push(r);
          progress(
            `fleet ${shape.name} run ${run}/${runs}: ${thousands(r.recordsPerSec)} records/s, ${thousands(r.batchesPerSec)} batches/s, ack p50 ${msText(r.ackLatencyMs.p50)} / p99 ${msText(r.ackLatencyMs.p99)} ms; ` +
              `HQ holds ${thousands(r.held)}, duplicates ${r.duplicates}, gaps ${r.gaps}`,
          );
        }
      }
    } finally {
      await disconnectFleet(fleet);
    }
    loadAverage.fleet = load();

    return {
      suite: 'sync',
      startedAt,
      finishedAt: new Date().toISOString(),
      params: {
        runs,
        stores: storeCount,
        quick,
        sizes,
        uplinkSettings: [...UPLINK_SETTINGS],
        day: { model: day.model, events: day.events.length, byType: day.byType, meanPayloadBytes: Math.round(day.meanPayloadBytes), spanH },
      },
      environment: {
        ...benchEnvironment(['mqtt', 'better-sqlite3', 'zod']),
        mosquitto: { path: upstream.path, version: upstream.version, config: upstream.config },
        loadAverage,
      },
      uplink: { rows: uplinkRows(uplinkRuns), runs: uplinkRuns },
      backlog: { rows: backlogRows(backlogRuns, sizes.backlogSettings), runs: backlogRuns },
      downlink: { rows: documentRows(documentRuns), runs: documentRuns },
      fleet: { rows: fleetRows(fleetRuns, sizes.fleetShapes, storeCount), runs: fleetRuns },
    };
  } finally {
    await hq.stop().catch(() => undefined);
    await upstream.stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
  }
}

// ── medians ─────────────────────────────────────────────────────────────────────────────────

function uplinkRows(runs: readonly UplinkRun[]): UplinkRow[] {
  const rows: UplinkRow[] = [];
  for (const setting of UPLINK_SETTINGS) {
    const of = (path: UplinkPath) => runs.filter((r) => r.setting === setting.name && r.path === path);
    const echo = median(of('echo').map((r) => r.eventsPerSec));
    for (const path of ['durable', 'echo', 'stream'] as const) {
      const mine = of(path);
      if (mine.length === 0) continue;
      const ingest = mine.map((r) => r.hqIngestMsPerBatch).filter((v): v is number => v !== null);
      const eventsPerSec = median(mine.map((r) => r.eventsPerSec));
      rows.push({
        setting: setting.name,
        batchRecords: setting.batchRecords,
        maxInFlightBatches: setting.maxInFlightBatches,
        path,
        median: {
          eventsPerSec,
          megabytesPerSec: median(mine.map((r) => r.megabytesPerSec)),
          storeLoop: median(mine.map((r) => r.storeLoop)),
          hqLoop: median(mine.map((r) => r.hqLoop)),
          hqIngestMsPerBatch: ingest.length > 0 ? median(ingest) : null,
          brokerCores: median(mine.map((r) => r.brokerCores)),
        },
        ofEcho: eventsPerSec / echo,
      });
    }
  }
  return rows;
}

function backlogRows(runs: readonly BacklogRun[], settings: readonly BacklogSetting[]): BacklogRow[] {
  return settings.map((setting) => {
    const mine = runs.filter((r) => r.setting === setting.name);
    const floors = mine.map((r) => r.rateFloorMs).filter((v): v is number => v !== null);
    const withLive = mine.filter((r) => r.liveLatencyMs.length > 0);
    return {
      setting: setting.name,
      recordsPerSec: setting.recordsPerSec,
      median: {
        drainMs: median(mine.map((r) => r.drainMs)),
        drainRecordsPerSec: median(mine.map((r) => r.drainRecordsPerSec)),
        rateFloorMs: floors.length > 0 ? median(floors) : null,
        liveP50Ms: median(withLive.map((r) => percentile(r.liveLatencyMs, 50))),
        liveP95Ms: median(withLive.map((r) => percentile(r.liveLatencyMs, 95))),
      },
      liveMaxMs: withLive.length > 0 ? Math.max(...withLive.flatMap((r) => r.liveLatencyMs)) : Number.NaN,
      live: mine.reduce((sum, r) => sum + r.live, 0),
    };
  });
}

function documentRows(runs: readonly DocumentRun[]): DocumentRow[] {
  return (['catalog', 'prices'] as const).flatMap((kind) => {
    const mine = runs.filter((r) => r.kind === kind);
    if (mine.length === 0) return [];
    const first = mine[0]!;
    return [
      {
        kind,
        entries: first.entries,
        bodyBytes: first.bodyBytes,
        chunks: first.chunks,
        median: {
          hqSignMs: median(mine.map((r) => r.hqSignMs)),
          hqSendMs: median(mine.map((r) => r.hqSendMs)),
          storeVerifyMs: median(mine.map((r) => r.storeVerifyMs)),
          storeApplyMs: median(mine.map((r) => r.storeApplyMs)),
          endToEndMs: median(mine.map((r) => r.endToEndMs)),
        },
        ledgerEvents: first.ledgerEvents,
      },
    ];
  });
}

function fleetRows(runs: readonly FleetRun[], shapes: readonly FleetShape[], stores: number): FleetRow[] {
  return shapes.map((shape) => {
    const mine = runs.filter((r) => r.shape === shape.name);
    const first = mine[0]!;
    return {
      shape,
      stores,
      batches: first.batches,
      records: first.records,
      median: {
        recordsPerSec: median(mine.map((r) => r.recordsPerSec)),
        batchesPerSec: median(mine.map((r) => r.batchesPerSec)),
        p50Ms: median(mine.map((r) => r.ackLatencyMs.p50)),
        p95Ms: median(mine.map((r) => r.ackLatencyMs.p95)),
        p99Ms: median(mine.map((r) => r.ackLatencyMs.p99)),
        hqLoop: median(mine.map((r) => r.hqLoop)),
        hqIngestShare: median(mine.map((r) => r.hqIngestShare)),
        hqIngestMsPerBatch: median(mine.map((r) => r.hqIngestMsPerBatch)),
        brokerCores: median(mine.map((r) => r.brokerCores)),
        clientsLoop: median(mine.map((r) => r.clientsLoop)),
      },
      exact: mine.every((r) => r.held === r.records && r.heldPerStore.min === r.heldPerStore.max && r.duplicates === 0 && r.gaps === 0),
    };
  });
}

// ── output ──────────────────────────────────────────────────────────────────────────────────

const seconds = (ms: number) => (Number.isFinite(ms) ? `${fixed(ms / 1000, ms < 10_000 ? 2 : 1)} s` : '–');
const ratio = (x: number) => (Number.isFinite(x) ? `${fixed(x, x < 0.1 ? 3 : 2)}×` : '–');
const loadText = (l: LoadAverage) => fixed(l[0], 2);

/** The plain-text tables `storeedge bench sync` prints. */
export function formatSyncBench(result: SyncBenchResult): string {
  const env = result.environment;
  const p = result.params;
  const la = env.loadAverage;
  const header =
    `sync · median of ${p.runs} run${p.runs === 1 ? '' : 's'}${p.quick ? ' · QUICK sizes (a smoke test, not a measurement)' : ''} · node ${env.node} · ${env.cpus} cpus (${env.cpuModel}) · ` +
    `mosquitto ${env.mosquitto.version} · better-sqlite3 ${env.packages['better-sqlite3']} · load average (1 min) ${loadText(la.start)} at start, ` +
    `${loadText(la.uplink)} / ${loadText(la.backlog)} / ${loadText(la.downlink)} / ${loadText(la.fleet)} after parts 1–4`;
  const dayText = `${thousands(p.day.events)} outbox events of a busy store's day (${thousands(p.day.model.receipts)} receipts, ${thousands(p.day.byType['inventory.shelf.changed'] ?? 0)} shelf changes, alerts, restocks…; ${p.day.meanPayloadBytes} B a payload on average)`;

  const pathLabel: Record<UplinkPath, string> = {
    durable: 'durable: ledger FULL → relay → Mosquitto → HQ FULL → ack → ledger',
    echo: 'reference echo: same batches and window, ack without storage',
    stream: 'reference stream: same batches, QoS 1 back to back, no window',
  };
  const uplink = formatTable(
    [
      { header: 'setting' },
      { header: 'batch × in flight', align: 'right' },
      { header: 'path' },
      { header: 'events/s', align: 'right' },
      { header: 'MB/s', align: 'right' },
      { header: '/ echo', align: 'right' },
      { header: 'store busy', align: 'right' },
      { header: 'HQ busy', align: 'right' },
      { header: 'HQ ms/batch', align: 'right' },
      { header: 'broker CPU', align: 'right' },
    ],
    result.uplink.rows.map((r) => [
      r.setting,
      `${r.batchRecords} × ${r.maxInFlightBatches}`,
      pathLabel[r.path],
      thousands(r.median.eventsPerSec),
      fixed(r.median.megabytesPerSec, 1),
      ratio(r.ofEcho),
      percent(r.median.storeLoop),
      percent(r.median.hqLoop),
      r.median.hqIngestMsPerBatch === null ? '–' : msText(r.median.hqIngestMsPerBatch),
      percent(r.median.brokerCores),
    ]),
  );
  const durable = result.uplink.runs.filter((r) => r.path === 'durable');
  const uplinkNotes = [
    `durable = ${thousands(p.day.events)} rows appended in one ledger transaction while connected (live rows, sent at once), timed from that commit until the store applied the last ack; ` +
      'HQ ingests each batch in one transaction (synchronous FULL) and acks after its commit; the store marks rows sent in one transaction per ack',
    `every durable run: HQ held exactly the rows sent (${durable.every((r) => r.held === r.events) ? 'yes' : 'NO'}), duplicates ${Math.max(0, ...durable.map((r) => r.duplicates ?? 0))}`,
    `references send the day's batches ${Math.max(1, ...result.uplink.runs.map((r) => r.repeat))} times over (≥ ${fixed(p.sizes.referenceBytes / 1e6, 0)} MB, a window long enough to time); / echo = events/s over the echo reference's, same setting: ` +
      'what storing and validating costs at the same window. The stream reference floods mqtt.js with every batch at once; its publisher, not the broker, tends to be its limit (store busy)',
    'busy = event-loop utilisation of the store thread (main) and the HQ thread; HQ ms/batch = time inside HqStore.ingest per batch (commit included); broker CPU = Mosquitto CPU time / wall (one core = 100%)',
  ];

  const backlog = formatTable(
    [
      { header: 'backlogRecordsPerSec' },
      { header: 'drain', align: 'right' },
      { header: 'records/s', align: 'right' },
      { header: 'rate floor', align: 'right' },
      { header: 'drain / floor', align: 'right' },
      { header: 'live sold', align: 'right' },
      { header: 'live p50 ms', align: 'right' },
      { header: 'live p95 ms', align: 'right' },
      { header: 'live max ms', align: 'right' },
    ],
    result.backlog.rows.map((r) => [
      r.recordsPerSec === null ? 'unlimited' : `${thousands(r.recordsPerSec)}${r.setting === 'default' ? ' (default)' : ''}`,
      seconds(r.median.drainMs),
      thousands(r.median.drainRecordsPerSec),
      r.median.rateFloorMs === null ? '–' : seconds(r.median.rateFloorMs),
      r.median.rateFloorMs === null ? '–' : ratio(r.median.drainMs / r.median.rateFloorMs),
      String(r.live),
      msText(r.median.liveP50Ms),
      msText(r.median.liveP95Ms),
      msText(r.liveMaxMs),
    ]),
  );
  const backlogRuns = result.backlog.runs;
  const backlogNotes = [
    `backlog = the same day queued while offline over ${fixed(p.day.spanH, 1)} h of store time (one ledger transaction per simulated minute); drain = SyncService connected → the last backlog row's ack applied`,
    `rate floor = what backlogRecordsPerSec alone allows (the bucket's first max(batchRecords, rate) rows at once, the rest at the rate); live = a receipt sold every ${p.sizes.liveEveryMs} ms during the drain, latency = append → its ack applied (the relay polls every ${DEFAULT_UPLINK.pollIntervalMs} ms)`,
    `every run: HQ held backlog + live exactly (${backlogRuns.every((r) => r.held === r.backlog + r.live) ? 'yes' : 'NO'}), duplicates ${Math.max(0, ...backlogRuns.map((r) => r.duplicates))}`,
  ];

  const downlink = formatTable(
    [
      { header: 'document' },
      { header: 'entries', align: 'right' },
      { header: 'body MB', align: 'right' },
      { header: 'chunks', align: 'right' },
      { header: 'HQ sign + record', align: 'right' },
      { header: 'HQ → broker', align: 'right' },
      { header: 'store: verify chunks', align: 'right' },
      { header: 'store: assemble + apply (1 txn)', align: 'right' },
      { header: 'end to end', align: 'right' },
    ],
    result.downlink.rows.map((r) => [
      r.kind === 'catalog' ? 'catalog' : 'prices (effective in 1 h)',
      thousands(r.entries),
      fixed(r.bodyBytes / 1e6, 2),
      String(r.chunks),
      seconds(r.median.hqSignMs),
      seconds(r.median.hqSendMs),
      seconds(r.median.storeVerifyMs),
      seconds(r.median.storeApplyMs),
      seconds(r.median.endToEndMs),
    ]),
  );
  const downlinkNotes = [
    'HQ sign + record = publishDocument (schema check, canonical JSON, sha256, Ed25519, one transaction with the chunks); HQ → broker = every chunk PUBACKed',
    'store columns = the same chunk messages fed to a DownlinkApplier on a fresh ledger file in-process (no network); end to end = publishDocument → the store\'s SyncService reported it applied, through Mosquitto',
    `ledger events written by each document's transaction: ${result.downlink.rows.map((r) => `${r.kind} ${thousands(r.ledgerEvents)}`).join(', ')}`,
  ];

  const fleet = formatTable(
    [
      { header: 'batches' },
      { header: 'stores', align: 'right' },
      { header: 'records × batches × in flight', align: 'right' },
      { header: 'records', align: 'right' },
      { header: 'records/s', align: 'right' },
      { header: 'batches/s', align: 'right' },
      { header: 'ack p50 ms', align: 'right' },
      { header: 'p95 ms', align: 'right' },
      { header: 'p99 ms', align: 'right' },
      { header: 'HQ busy', align: 'right' },
      { header: 'in ingest', align: 'right' },
      { header: 'HQ ms/batch', align: 'right' },
      { header: 'broker CPU', align: 'right' },
      { header: 'clients busy', align: 'right' },
    ],
    result.fleet.rows.map((r) => [
      r.shape.name,
      thousands(r.stores),
      `${r.shape.batchRecords} × ${r.shape.batchesPerStore} × ${r.shape.inFlight}`,
      thousands(r.records),
      thousands(r.median.recordsPerSec),
      thousands(r.median.batchesPerSec),
      msText(r.median.p50Ms),
      msText(r.median.p95Ms),
      msText(r.median.p99Ms),
      percent(r.median.hqLoop),
      percent(r.median.hqIngestShare),
      msText(r.median.hqIngestMsPerBatch),
      percent(r.median.brokerCores),
      percent(r.median.clientsLoop),
    ]),
  );
  const fleetNotes = [
    'each store = one mqtt.js client (own password, persistent MQTT 5 session, QoS 1) with pre-built batches of its own epoch and seqs; the next batch goes when an ack frees a slot; all stores start together',
    'records/s and batches/s = all acknowledged / (first publish → last ack); ack latency = publish → ack received, per batch; in ingest = time inside HqStore.ingest / wall',
    `every run: HQ held each store's records exactly once, no gaps (${result.fleet.rows.every((r) => r.exact) ? 'yes' : 'NO'})`,
  ];

  const section = (title: string, table: string, notes: string[]) => [title, table, ...notes.map((n) => `  ${n}`)].join('\n');
  return [
    header,
    '',
    section(`1. uplink throughput with durable acknowledgement · ${dayText}`, uplink, uplinkNotes),
    '',
    section(`2. backlog drain after 24 h offline · ${thousands(p.day.events)} rows queued`, backlog, backlogNotes),
    '',
    section(`3. downlink: signed, chunked documents to one store`, downlink, downlinkNotes),
    '',
    section(`4. ${thousands(p.stores)} stores against one HQ`, fleet, fleetNotes),
  ].join('\n');
}
