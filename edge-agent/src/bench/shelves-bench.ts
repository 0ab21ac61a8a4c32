/**
 * `storeedge bench shelves`: how many trays one core keeps up with through the full weight
 * pipeline (edge-agent/src/inventory/weight/), at 10 Hz (HX711) and 60 Hz (AiFi's plates), and
 * how long the push that completes a change takes.
 *
 * The input is pre-generated (shelves-workload.ts: the simulators' ShelfLoadModel with σ = 5 g,
 * drift, bursts, cross-talk, and shoppers handling each tray about once a minute), so only the
 * pipeline is timed. Throughput = tray samples / wall time of one pass over all the payloads;
 * "trays in real time" = that rate / the sample rate. Latency = processing time of each push
 * that returned a shelf.change (performance.now() around push), in a second pass so the timer
 * calls do not slow the throughput pass. Figures per rate are medians over the runs.
 */
import { WeightPipeline } from '../inventory/weight/index.ts';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { buildShelvesWorkload, type ShelvesWorkload } from './shelves-workload.ts';
import { median, summarizeLatencies, type LatencySummary } from './stats.ts';
import { fixed, formatTable, thousands } from './table.ts';

export interface ShelvesBenchOptions {
  /** Trays (6 per shelf, 12 per controller). Default 48. */
  trays?: number;
  /** Simulated minutes of samples per rate. Default 10. */
  minutes?: number;
  /** Sample rates to measure. Default [10, 60]. */
  rates?: readonly number[];
  /** Measured runs per rate (default 5) and unreported warm-up runs before them (default 1). */
  runs?: number;
  warmup?: number;
  progress?: (line: string) => void;
  /** Stops the bench between runs. */
  signal?: AbortSignal;
}

export interface ShelvesRunRecord {
  rateHz: number;
  run: number;
  traySamples: number;
  pushes: number;
  wallMs: number;
  traySamplesPerSec: number;
  /** Trays whose samples one core processes as fast as they arrive: traySamplesPerSec / rate. */
  traysRealTime: number;
  changes: number;
  /** Processing time of the pushes that emitted a change, µs. */
  latencyUs: LatencySummary;
}

export interface ShelvesBenchRow {
  rateHz: number;
  median: { traySamplesPerSec: number; traysRealTime: number; p50Us: number; p99Us: number };
  changes: number;
  runs: ShelvesRunRecord[];
}

export interface ShelvesBenchResult {
  suite: 'shelves';
  startedAt: string;
  finishedAt: string;
  params: { trays: number; minutes: number; rates: number[]; runs: number; warmup: number };
  environment: BenchEnvironment;
  workload: Array<{ rateHz: number; trays: number; controllers: number; events: number; traySamples: number; payloads: number; generateMs: number }>;
  rows: ShelvesBenchRow[];
  warmupRuns: ShelvesRunRecord[];
}

const TRAYS_PER_SHELF = 6;

export async function runShelvesBench(options: ShelvesBenchOptions = {}): Promise<ShelvesBenchResult> {
  const trays = options.trays ?? 48;
  const minutes = options.minutes ?? 10;
  const rates = [...(options.rates ?? [10, 60])];
  const runs = options.runs ?? 5;
  const warmup = options.warmup ?? 1;
  const progress = options.progress ?? (() => undefined);
  for (const [name, value] of Object.entries({ trays, minutes, runs, warmup: warmup + 1 })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (trays % TRAYS_PER_SHELF !== 0) throw new RangeError(`trays must be a multiple of ${TRAYS_PER_SHELF} (whole shelves), got ${trays}`);
  const startedAt = new Date().toISOString();
  const environment = benchEnvironment(['zod']);
  const rows: ShelvesBenchRow[] = [];
  const warmupRuns: ShelvesRunRecord[] = [];
  const workloads: ShelvesBenchResult['workload'] = [];
  for (const rateHz of rates) {
    options.signal?.throwIfAborted();
    progress(`generating ${minutes} simulated minutes of ${trays} trays at ${rateHz} Hz…`);
    const generated = performance.now();
    const workload = buildShelvesWorkload({
      seed: `bench-${rateHz}`,
      shelves: trays / TRAYS_PER_SHELF,
      traysPerShelf: TRAYS_PER_SHELF,
      durationMs: minutes * 60_000,
      meanGapMs: 60_000,
      noise: { sampleRateHz: rateHz, noiseSigmaG: 5, bursts: { perMinute: 1 } },
    });
    const payloads = workload.frames.reduce((sum, f) => sum + f.messages.length, 0);
    workloads.push({
      rateHz,
      trays,
      controllers: new Set(workload.channels.map((c) => c.deviceId)).size,
      events: workload.truth.length,
      traySamples: workload.traySamples,
      payloads,
      generateMs: Math.round(performance.now() - generated),
    });
    const records: ShelvesRunRecord[] = [];
    for (let run = 1 - warmup; run <= runs; run++) {
      options.signal?.throwIfAborted();
      const record = runOnce(workload, rateHz, run);
      (run >= 1 ? records : warmupRuns).push(record);
      progress(
        `${rateHz} Hz ${run >= 1 ? `run ${run}/${runs}` : 'warm-up'}: ${thousands(record.traySamplesPerSec)} tray samples/s ` +
          `(${thousands(record.traysRealTime)} trays in real time), p50 ${fixed(record.latencyUs.p50, 1)} µs, p99 ${fixed(record.latencyUs.p99, 1)} µs`,
      );
      // Let a Ctrl-C in.
      await new Promise((resolve) => setImmediate(resolve));
    }
    rows.push({
      rateHz,
      median: {
        traySamplesPerSec: median(records.map((r) => r.traySamplesPerSec)),
        traysRealTime: median(records.map((r) => r.traysRealTime)),
        p50Us: median(records.map((r) => r.latencyUs.p50)),
        p99Us: median(records.map((r) => r.latencyUs.p99)),
      },
      changes: records[0]?.changes ?? 0,
      runs: records,
    });
  }
  return { suite: 'shelves', startedAt, finishedAt: new Date().toISOString(), params: { trays, minutes, rates, runs, warmup }, environment, workload: workloads, rows, warmupRuns };
}

function runOnce(workload: ShelvesWorkload, rateHz: number, run: number): ShelvesRunRecord {
  // Pass 1, throughput: nothing but the pushes inside the timed loop.
  let pipeline = new WeightPipeline({ model: workload.model });
  let changes = 0;
  let pushes = 0;
  const started = performance.now();
  for (const frame of workload.frames) {
    for (const { deviceId, payload } of frame.messages) {
      changes += pipeline.push(deviceId, payload).length;
      pushes++;
    }
  }
  const wallMs = performance.now() - started;
  // Pass 2, latency: the processing time of each push that completes a change.
  pipeline = new WeightPipeline({ model: workload.model });
  const latencies: number[] = [];
  for (const frame of workload.frames) {
    for (const { deviceId, payload } of frame.messages) {
      const t0 = performance.now();
      const emitted = pipeline.push(deviceId, payload);
      const t1 = performance.now();
      if (emitted.length > 0) latencies.push((t1 - t0) * 1_000);
    }
  }
  const traySamplesPerSec = (workload.traySamples * 1_000) / wallMs;
  return {
    rateHz,
    run,
    traySamples: workload.traySamples,
    pushes,
    wallMs,
    traySamplesPerSec,
    traysRealTime: traySamplesPerSec / rateHz,
    changes,
    latencyUs: summarizeLatencies(latencies),
  };
}

/** The plain-text report: a header line, the table and notes. */
export function formatShelvesBench(result: ShelvesBenchResult): string {
  const { params, environment } = result;
  const header =
    `shelves · weight pipeline · ${params.trays} trays × ${params.minutes} simulated min · median of ${params.runs} run${params.runs === 1 ? '' : 's'} · ` +
    `node ${environment.node} · one core`;
  const table = formatTable(
    [
      { header: 'rate' },
      { header: 'trays', align: 'right' },
      { header: 'tray samples/s', align: 'right' },
      { header: 'trays in real time', align: 'right' },
      { header: 'p50 µs', align: 'right' },
      { header: 'p99 µs', align: 'right' },
      { header: 'changes', align: 'right' },
    ],
    result.rows.map((row) => [
      `${row.rateHz} Hz`,
      thousands(params.trays),
      thousands(row.median.traySamplesPerSec),
      thousands(row.median.traysRealTime),
      fixed(row.median.p50Us, 1),
      fixed(row.median.p99Us, 1),
      thousands(row.changes),
    ]),
  );
  const notes = [
    `cpu: ${environment.cpuModel}; input pre-generated (ShelfLoadModel: σ 5 g, drift, creep, 1 burst/min per shelf, cross-talk 5–40 %; each tray handled about once a minute), not timed`,
    'tray samples/s = tray samples / wall time of one pass through WeightPipeline.push (one controller payload of 12 channels per push); trays in real time = that / the sample rate',
    'p50/p99 = processing time of the push that completes a shelf.change (performance.now() around push, second pass); the settle window itself (≈1 s of samples) is not in it',
    `${params.warmup} warm-up run${params.warmup === 1 ? '' : 's'} per rate not counted`,
  ];
  return [header, '', table, '', ...notes].join('\n');
}
