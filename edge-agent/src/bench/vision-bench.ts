/**
 * `storeedge bench vision`: how fast the product recogniser embeds crops — preprocessing alone,
 * ProductRecogniser.embed on the main thread (batch 1 and batch 64), onnxruntime alone, and the
 * InferenceService with one worker and with one per core — and how far that is from what this
 * machine's onnxruntime can do: the model's FLOPs per crop (counted from the ONNX graph) × crops/s
 * beside the GFLOP/s of a large float32 MatMul measured in the same run, at the same thread count.
 *
 * Crops: query crops rendered once by the simulator (simulators/src/vision/dataset.ts: a hand
 * holding a unit in front of a stocked bay, cut around the tracked hand), at the manifest's
 * input size, then cycled. The work per crop does not depend on the pixels (dense convolutions).
 *
 * Runs are interleaved: each round measures every row once (the MatMul peaks first), so a change
 * in the machine's load during the bench hits all rows alike; each row reports the median over
 * the measured rounds. The 1-minute load average at the start and end is recorded and printed.
 */
import { availableParallelism, loadavg } from 'node:os';
import {
  InferenceService,
  loadVerifiedModel,
  preprocessCrop,
  ProductRecogniser,
  RECOGNISER_MANIFEST,
  recogniserManifest,
  type RecogniserImage,
  type RecogniserManifest,
} from '@storeedge/models';
import { RECOGNISER_CROP_PX, recogniserQueryCrops } from '@storeedge/simulators/vision/dataset.ts';
import { recogniserCatalog } from '@storeedge/simulators/vision/recogniser-catalog.ts';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import sharp from 'sharp';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { countMacs, matMulModel, readOnnxGraph, withExtraOutputs, type MacCount } from './onnx-graph.ts';
import { median, percentile } from './stats.ts';
import { fixed, formatTable, ms, percent, thousands } from './table.ts';

export interface VisionBenchOptions {
  /** Default: the committed models/recogniser/manifest.json. */
  manifestPath?: string;
  /** Measured rounds (default 3) and unreported warm-up rounds before them (default 1). */
  runs?: number;
  warmup?: number;
  /** Crops per measured run of an inference row (default 512). */
  crops?: number;
  /** Distinct crops rendered by the simulator and cycled (default 32). */
  distinct?: number;
  /** Crops per batch of the batched rows, and the service's maxBatch (default 64). */
  batch?: number;
  /** Worker counts of the InferenceService rows (default [1, availableParallelism()]). */
  workers?: readonly number[];
  /** Side of the square MatMul of the peak reference (default 1024). */
  matmul?: number;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export type VisionRowKind = 'preprocess' | 'embed' | 'session' | 'service';

export interface VisionRunRecord {
  run: number;
  crops: number;
  wallMs: number;
  cropsPerSec: number;
  /** Wall time / crops: with several cores busy this is the inverse of throughput, not a crop's latency. */
  msPerCrop: number;
  /** Process CPU time (all threads, user + system) / wall time: 1 = one core busy. */
  cpuCores: number;
  /** Process CPU time / crops: what a crop costs whatever else runs on the machine. */
  cpuMsPerCrop: number;
  /** Request latency (service rows: enqueue to result of single-crop requests), ms. */
  requestMs?: { p50: number; p95: number; count: number };
  /** Service rows: mean crops per batch the service sent to its workers in this run. */
  meanBatch?: number;
}

export interface VisionRow {
  id: string;
  kind: VisionRowKind;
  label: string;
  /** onnxruntime intra-op threads per session; 0 for preprocessing. */
  threads: number;
  /** Sessions running side by side: the service's workers; 1 otherwise. */
  sessions: number;
  /** Crops per onnxruntime run; for service rows the configured maxBatch. */
  batch: number;
  median: { cropsPerSec: number; msPerCrop: number; cpuCores: number; cpuMsPerCrop: number; p95RequestMs: number | null; meanBatch: number | null };
  /** Model FLOPs × crops/s, GFLOP/s (null for preprocessing). */
  gflops: number | null;
  /**
   * The MatMul figures this row is compared with: the MatMul at the row's intra-op threads, times
   * min(sessions, cores) for the wall figure (the service's W one-thread workers: W × the one-thread
   * MatMul, linear scaling assumed); null for preprocessing or when that peak was not measured.
   */
  reference: { gflops: number; gflopsPerCpuSec: number } | null;
  /** gflops / reference.gflops. */
  ofPeak: number | null;
  /** Model FLOPs / process CPU time per crop, GFLOP per CPU-second: the wall figure with the other processes' share of the cores taken out. */
  gflopsPerCpuSec: number | null;
  /** gflopsPerCpuSec / reference.gflopsPerCpuSec. */
  ofPeakCpu: number | null;
  runs: VisionRunRecord[];
}

export interface PeakRunRecord {
  run: number;
  iterations: number;
  wallMs: number;
  gflops: number;
  cpuCores: number;
  /** GFLOP per second of this process's CPU time (all threads). */
  gflopsPerCpuSec: number;
}

export interface PeakRow {
  threads: number;
  size: number;
  median: { gflops: number; msPerMatMul: number; cpuCores: number; gflopsPerCpuSec: number };
  /** Best run, for reference (the table shows the median). */
  max: number;
  runs: PeakRunRecord[];
}

export interface VisionBenchResult {
  suite: 'vision';
  startedAt: string;
  finishedAt: string;
  params: { manifest: string; runs: number; warmup: number; crops: number; distinct: number; batch: number; workers: number[]; matmul: number };
  environment: BenchEnvironment & { loadAverage: { start: number[]; end: number[] } };
  model: {
    name: string;
    version: string;
    sha256: string;
    inputShape: [number, number, number, number];
    macsPerCrop: number;
    flopsPerCrop: number;
    byOp: Array<{ opType: string; nodes: number; macs: number }>;
    notCounted: Record<string, number>;
    layers: MacCount['counted'];
  };
  cropsRendered: { count: number; sizePx: number; renderMs: number; jpegBytesMean: number };
  peaks: PeakRow[];
  rows: VisionRow[];
  warmupRuns: Array<{ id: string; record: VisionRunRecord | PeakRunRecord }>;
}

/** A measured row: `measure(run)` does one run; `close` releases what it holds. */
interface Case {
  id: string;
  kind: VisionRowKind;
  label: string;
  threads: number;
  sessions: number;
  batch: number;
  measure: (run: number) => Promise<VisionRunRecord>;
}

/** Minimum wall time of a preprocessing run and of a MatMul run (whole passes are repeated until it is reached). */
const MIN_PASS_MS = 300;

export async function runVisionBench(options: VisionBenchOptions = {}): Promise<VisionBenchResult> {
  const manifestPath = options.manifestPath ?? RECOGNISER_MANIFEST;
  const runs = options.runs ?? 3;
  const warmup = options.warmup ?? 1;
  const crops = options.crops ?? 512;
  const distinct = options.distinct ?? 32;
  const batch = options.batch ?? 64;
  const cores = availableParallelism();
  const workers = [...new Set(options.workers ?? [1, cores])];
  const matmul = options.matmul ?? 1024;
  const progress = options.progress ?? (() => undefined);
  for (const [name, value] of Object.entries({ runs, warmup: warmup + 1, crops, distinct, batch, matmul, ...Object.fromEntries(workers.map((w, i) => [`workers[${i}]`, w])) })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const threadCounts = [...new Set([1, cores])];
  const startedAt = new Date().toISOString();
  const loadStart = loadavg().map(round2);

  // ---- the model and its FLOPs ----
  const verified = loadVerifiedModel(manifestPath, recogniserManifest);
  const manifest = verified.manifest;
  const size = manifest.input.shape[2];
  const inputShape: [number, number, number, number] = [1, 3, size, size];
  progress(`counting multiply-adds of ${manifest.name} ${manifest.version} (${inputShape.join('×')})…`);
  const macs = await modelMacs(verified.model, manifest, inputShape);
  const flopsPerCrop = 2 * macs.totalMacs;

  // ---- crops ----
  progress(`rendering ${distinct} query crops with the simulator…`);
  const rendered = await renderCrops(distinct, size);
  const jpegs = await Promise.all(rendered.images.map((c) => sharp(c.rgb, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 90 }).toBuffer()));
  const cycle = (n: number): RecogniserImage[] => Array.from({ length: n }, (_, i) => rendered.images[i % rendered.images.length]!);
  const work = cycle(crops);

  // ---- what is measured ----
  const closers: Array<() => Promise<void>> = [];
  const cases: Case[] = [];
  const peakSessions: Array<{ threads: number; session: InferenceSession }> = [];
  try {
    progress('loading sessions and starting inference services…');
    const a = new Float32Array(matmul * matmul).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    const b = new Float32Array(matmul * matmul).map((_, i) => ((i * 104_729) % 1000) / 1000 - 0.5);
    const peakFeeds = { A: new Tensor('float32', a, [matmul, matmul]), B: new Tensor('float32', b, [matmul, matmul]) };
    for (const threads of threadCounts) {
      const session = await InferenceSession.create(matMulModel(matmul, matmul, matmul), { intraOpNumThreads: threads, interOpNumThreads: 1 });
      closers.push(() => session.release());
      peakSessions.push({ threads, session });
    }

    cases.push(
      preprocessCase('preprocess-raw', `preprocess raw ${size}×${size} RGB (JS)`, rendered.images, manifest),
      preprocessCase('preprocess-jpeg', `preprocess JPEG ${size}×${size} (sharp + JS)`, jpegs, manifest),
    );
    for (const [threads, batchSize] of [[1, 1], [1, batch], ...(cores > 1 ? [[cores, batch]] : [])] as const) {
      const recogniser = await ProductRecogniser.load({ manifestPath, threads, batchSize });
      closers.push(() => recogniser.close());
      cases.push(timedCase(`embed-t${threads}-b${batchSize}`, 'embed', 'ProductRecogniser.embed', threads, batchSize, work.length, () => recogniser.embed(work).then(() => undefined)));
      if (batchSize === 1) continue;
      const session = await InferenceSession.create(verified.model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
      closers.push(() => session.release());
      const input = new Float32Array(batchSize * 3 * size * size);
      for (let i = 0; i < batchSize; i++) input.set(await preprocessCrop(rendered.images[i % rendered.images.length]!, manifest.input), i * 3 * size * size);
      const feeds = { [manifest.input.name]: new Tensor('float32', input, [batchSize, 3, size, size]) };
      const passes = Math.max(1, Math.round(crops / batchSize));
      cases.push(
        timedCase(`session-t${threads}-b${batchSize}`, 'session', 'session.run only', threads, batchSize, passes * batchSize, async () => {
          for (let p = 0; p < passes; p++) await session.run(feeds);
        }),
      );
    }
    for (const count of workers) {
      const service = new InferenceService({ manifestPath, workers: count, threads: 1, maxBatch: batch, queueLimit: 4 * batch * count + 16 });
      closers.push(() => service.close());
      const status = await service.start();
      if (status.state !== 'available') throw new Error(`inference service did not start: ${status.error?.code}: ${status.error?.message}`);
      cases.push(serviceCase(service, count, batch, work));
    }

    // ---- rounds ----
    const records = new Map<string, VisionRunRecord[]>(cases.map((c) => [c.id, []]));
    const peakRecords = new Map<number, PeakRunRecord[]>(threadCounts.map((t) => [t, []]));
    const warmupRuns: VisionBenchResult['warmupRuns'] = [];
    for (let run = 1 - warmup; run <= runs; run++) {
      const label = run >= 1 ? `run ${run}/${runs}` : 'warm-up';
      for (const { threads, session } of peakSessions) {
        options.signal?.throwIfAborted();
        const record = await measurePeak(session, peakFeeds, matmul, run);
        if (run >= 1) peakRecords.get(threads)!.push(record);
        else warmupRuns.push({ id: `matmul-t${threads}`, record });
        progress(`${label} · MatMul ${matmul}³, ${threads} thread${threads === 1 ? '' : 's'}: ${fixed(record.gflops, 1)} GFLOP/s`);
      }
      for (const c of cases) {
        options.signal?.throwIfAborted();
        const record = await c.measure(run);
        if (run >= 1) records.get(c.id)!.push(record);
        else warmupRuns.push({ id: c.id, record });
        progress(`${label} · ${c.id}: ${thousands(record.cropsPerSec)} crops/s, ${ms(record.msPerCrop)} ms/crop, ${fixed(record.cpuCores, 2)} cores`);
      }
    }

    const peaks: PeakRow[] = threadCounts.map((threads) => {
      const list = peakRecords.get(threads)!;
      const gflops = median(list.map((r) => r.gflops));
      return {
        threads,
        size: matmul,
        median: { gflops, msPerMatMul: (2 * matmul ** 3) / gflops / 1e6, cpuCores: median(list.map((r) => r.cpuCores)), gflopsPerCpuSec: median(list.map((r) => r.gflopsPerCpuSec)) },
        max: Math.max(...list.map((r) => r.gflops)),
        runs: list,
      };
    });
    const rows: VisionRow[] = cases.map((c) => {
      const list = records.get(c.id)!;
      const cropsPerSec = median(list.map((r) => r.cropsPerSec));
      const p95 = list.every((r) => r.requestMs) ? median(list.map((r) => r.requestMs!.p95)) : null;
      const meanBatch = list.every((r) => r.meanBatch !== undefined) ? median(list.map((r) => r.meanBatch!)) : null;
      const gflops = c.kind === 'preprocess' ? null : (flopsPerCrop * cropsPerSec) / 1e9;
      const peak = peaks.find((p) => p.threads === c.threads)?.median;
      const reference = c.kind === 'preprocess' || peak === undefined ? null : { gflops: peak.gflops * Math.min(c.sessions, cores), gflopsPerCpuSec: peak.gflopsPerCpuSec };
      const cpuMsPerCrop = median(list.map((r) => r.cpuMsPerCrop));
      const gflopsPerCpuSec = c.kind === 'preprocess' ? null : flopsPerCrop / cpuMsPerCrop / 1e6;
      return {
        id: c.id,
        kind: c.kind,
        label: c.label,
        threads: c.threads,
        sessions: c.sessions,
        batch: c.batch,
        median: { cropsPerSec, msPerCrop: median(list.map((r) => r.msPerCrop)), cpuCores: median(list.map((r) => r.cpuCores)), cpuMsPerCrop, p95RequestMs: p95, meanBatch },
        gflops,
        reference,
        ofPeak: gflops !== null && reference ? gflops / reference.gflops : null,
        gflopsPerCpuSec,
        ofPeakCpu: gflopsPerCpuSec !== null && reference ? gflopsPerCpuSec / reference.gflopsPerCpuSec : null,
        runs: list,
      };
    });

    const byOp = new Map<string, { opType: string; nodes: number; macs: number }>();
    for (const op of macs.counted) {
      const entry = byOp.get(op.opType) ?? { opType: op.opType, nodes: 0, macs: 0 };
      entry.nodes++;
      entry.macs += op.macs;
      byOp.set(op.opType, entry);
    }
    return {
      suite: 'vision',
      startedAt,
      finishedAt: new Date().toISOString(),
      params: { manifest: manifestPath, runs, warmup, crops, distinct, batch, workers, matmul },
      environment: { ...benchEnvironment(['onnxruntime-node', 'sharp']), loadAverage: { start: loadStart, end: loadavg().map(round2) } },
      model: {
        name: manifest.name,
        version: manifest.version,
        sha256: manifest.sha256,
        inputShape,
        macsPerCrop: macs.totalMacs,
        flopsPerCrop,
        byOp: [...byOp.values()],
        notCounted: macs.notCounted,
        layers: macs.counted,
      },
      cropsRendered: {
        count: rendered.images.length,
        sizePx: size,
        renderMs: Math.round(rendered.renderMs),
        jpegBytesMean: Math.round(jpegs.reduce((n, j) => n + j.length, 0) / jpegs.length),
      },
      peaks,
      rows,
      warmupRuns,
    };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  }
}

/** Multiply-adds of one crop: the graph's nodes, with every tensor's shape from one onnxruntime run of a zero crop. */
async function modelMacs(model: Uint8Array, manifest: RecogniserManifest, inputShape: readonly number[]): Promise<MacCount> {
  const graph = readOnnxGraph(model);
  const intermediate = [...new Set(graph.nodes.flatMap((n) => n.outputs))].filter((name) => name !== '' && !graph.outputs.includes(name));
  const session = await InferenceSession.create(withExtraOutputs(model, intermediate), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const elements = inputShape.reduce((a, b) => a * b, 1);
    const result = await session.run({ [manifest.input.name]: new Tensor('float32', new Float32Array(elements), [...inputShape]) });
    const shapes = new Map<string, readonly number[]>(Object.entries(result).map(([name, tensor]) => [name, tensor.dims]));
    shapes.set(manifest.input.name, inputShape);
    return countMacs(graph, shapes);
  } finally {
    await session.release();
  }
}

/** `count` query crops of different SKUs rendered by the simulator, at `size` px (resized by sharp if the simulator's crop size differs). */
async function renderCrops(count: number, size: number): Promise<{ images: Array<{ width: number; height: number; rgb: Uint8Array }>; renderMs: number }> {
  const started = performance.now();
  const catalog = recogniserCatalog();
  const counts = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const sku = catalog[i % catalog.length]!.sku;
    counts.set(sku, (counts.get(sku) ?? 0) + 1);
  }
  const images: Array<{ width: number; height: number; rgb: Uint8Array }> = [];
  for await (const crop of recogniserQueryCrops({ catalog, counts, seed: 'bench-vision', conditions: 'heldout' })) {
    const rgb =
      size === RECOGNISER_CROP_PX
        ? crop.rgb
        : await sharp(crop.rgb, { raw: { width: RECOGNISER_CROP_PX, height: RECOGNISER_CROP_PX, channels: 3 } }).resize(size, size).raw().toBuffer();
    // Own buffers (not views into a pool), so the service need not copy them.
    images.push({ width: size, height: size, rgb: new Uint8Array(rgb) });
  }
  return { images, renderMs: performance.now() - started };
}

/** Times `pass` (which handles `cropsPerPass` crops) once, with the process's CPU time. */
function timedCase(id: string, kind: VisionRowKind, label: string, threads: number, batch: number, cropsPerPass: number, pass: () => Promise<void>): Case {
  return {
    id,
    kind,
    label,
    threads,
    sessions: 1,
    batch,
    measure: async (run) => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await pass();
      return record(run, cropsPerPass, performance.now() - t0, process.cpuUsage(cpu0));
    },
  };
}

/** preprocessCrop on each image in turn (one at a time: a crop's cost on one core), repeated until MIN_PASS_MS. */
function preprocessCase(id: string, label: string, images: readonly RecogniserImage[], manifest: RecogniserManifest): Case {
  return {
    id,
    kind: 'preprocess',
    label,
    threads: 0,
    sessions: 1,
    batch: 1,
    measure: async (run) => {
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let done = 0;
      while (performance.now() - t0 < MIN_PASS_MS) {
        for (const image of images) await preprocessCrop(image, manifest.input);
        done += images.length;
      }
      return record(run, done, performance.now() - t0, process.cpuUsage(cpu0));
    },
  };
}

/**
 * The service under load: single-crop requests kept `2 × maxBatch × workers` in flight (a new
 * one as each is answered) until `work` is done, so every worker always finds a full batch
 * waiting. Request latency is from embed() to its result, as a caller sees it.
 */
function serviceCase(service: InferenceService, workers: number, maxBatch: number, work: readonly RecogniserImage[]): Case {
  const inFlight = 2 * maxBatch * workers;
  return {
    id: `service-w${workers}`,
    kind: 'service',
    label: `InferenceService, ${workers} worker${workers === 1 ? '' : 's'}`,
    threads: 1,
    sessions: workers,
    batch: maxBatch,
    measure: async (run) => {
      const before = service.metrics();
      const latencies: number[] = [];
      let next = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const lane = async () => {
        while (next < work.length) {
          const crop = work[next++]!;
          const sent = performance.now();
          await service.embed([crop]);
          latencies.push(performance.now() - sent);
        }
      };
      await Promise.all(Array.from({ length: Math.min(inFlight, work.length) }, lane));
      const out = record(run, work.length, performance.now() - t0, process.cpuUsage(cpu0));
      const after = service.metrics();
      const batches = after.batches - before.batches;
      out.requestMs = { p50: percentile(latencies, 50), p95: percentile(latencies, 95), count: latencies.length };
      out.meanBatch = batches > 0 ? (after.crops - before.crops) / batches : Number.NaN;
      return out;
    },
  };
}

/** Repeats the MatMul until MIN_PASS_MS (at least twice): GFLOP/s = 2·n³ per MatMul / time. */
async function measurePeak(session: InferenceSession, feeds: Record<string, Tensor>, n: number, run: number): Promise<PeakRunRecord> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let iterations = 0;
  while (iterations < 2 || performance.now() - t0 < MIN_PASS_MS) {
    await session.run(feeds);
    iterations++;
  }
  const wallMs = performance.now() - t0;
  const cpuMs = cpuMsOf(process.cpuUsage(cpu0));
  const gflop = (2 * n ** 3 * iterations) / 1e9;
  return { run, iterations, wallMs, gflops: (gflop * 1_000) / wallMs, cpuCores: cpuMs / wallMs, gflopsPerCpuSec: (gflop * 1_000) / cpuMs };
}

function record(run: number, crops: number, wallMs: number, cpu: NodeJS.CpuUsage): VisionRunRecord {
  const cpuMs = cpuMsOf(cpu);
  return { run, crops, wallMs, cropsPerSec: (crops * 1_000) / wallMs, msPerCrop: wallMs / crops, cpuCores: cpuMs / wallMs, cpuMsPerCrop: cpuMs / crops };
}

const cpuMsOf = (cpu: NodeJS.CpuUsage) => (cpu.user + cpu.system) / 1_000;

const round2 = (x: number) => Math.round(x * 100) / 100;

/** Milliseconds with more decimals below 0.1 ms (preprocessing). */
const fine = (value: number) => (Number.isFinite(value) && Math.abs(value) < 0.1 ? value.toFixed(4) : ms(value));

/** The plain-text report: header, model FLOPs, the MatMul peaks, the crop rows and notes. */
export function formatVisionBench(result: VisionBenchResult): string {
  const { params, environment, model } = result;
  const [, , s] = model.inputShape;
  const load = `load ${environment.loadAverage.start[0]!.toFixed(2)} → ${environment.loadAverage.end[0]!.toFixed(2)} (1-min)`;
  const header =
    `vision · ${model.name} ${model.version} · ${s}×${s} crops · ${fixed(model.flopsPerCrop / 1e6, 1)} MFLOP/crop · median of ${params.runs} run${params.runs === 1 ? '' : 's'} · ` +
    `node ${environment.node} · ${environment.cpus} cpus · ${load}`;

  const flops = formatTable(
    [{ header: 'model op (1 crop)' }, { header: 'nodes', align: 'right' }, { header: 'MMAC', align: 'right' }, { header: 'share', align: 'right' }],
    [
      ...model.byOp.map((op) => [op.opType, String(op.nodes), fixed(op.macs / 1e6, 2), percent(op.macs / model.macsPerCrop)]),
      ['total (FLOPs = 2 × MACs)', String(model.byOp.reduce((n, op) => n + op.nodes, 0)), fixed(model.macsPerCrop / 1e6, 2), `${fixed(model.flopsPerCrop / 1e6, 1)} MFLOP`],
    ],
  );

  const peaks = formatTable(
    [
      { header: `peak: float32 MatMul ${params.matmul}×${params.matmul} · ${params.matmul}×${params.matmul}` },
      { header: 'threads', align: 'right' },
      { header: 'ms', align: 'right' },
      { header: 'GFLOP/s', align: 'right' },
      { header: 'CPU cores', align: 'right' },
      { header: 'GFLOP/CPU-s', align: 'right' },
    ],
    result.peaks.map((p) => ['onnxruntime MatMul', String(p.threads), ms(p.median.msPerMatMul), fixed(p.median.gflops, 1), fixed(p.median.cpuCores, 2), fixed(p.median.gflopsPerCpuSec, 1)]),
  );

  const rows = formatTable(
    [
      { header: 'path' },
      { header: 'threads', align: 'right' },
      { header: 'batch', align: 'right' },
      { header: 'crops/s', align: 'right' },
      { header: 'ms/crop', align: 'right' },
      { header: 'p95 req ms', align: 'right' },
      { header: 'GFLOP/s', align: 'right' },
      { header: 'of peak', align: 'right' },
      { header: 'CPU cores', align: 'right' },
      { header: 'CPU ms/crop', align: 'right' },
      { header: 'GFLOP/CPU-s', align: 'right' },
      { header: 'of peak', align: 'right' },
    ],
    result.rows.map((r) => [
      r.label,
      r.kind === 'preprocess' ? '–' : r.kind === 'service' ? `${r.sessions}×${r.threads}` : String(r.threads),
      r.kind === 'service' ? `≤${r.batch} (${fixed(r.median.meanBatch ?? Number.NaN, 0)})` : String(r.batch),
      thousands(r.median.cropsPerSec),
      fine(r.median.msPerCrop),
      r.median.p95RequestMs === null ? '' : ms(r.median.p95RequestMs),
      r.gflops === null ? '' : fixed(r.gflops, 1),
      r.ofPeak === null ? '' : percent(r.ofPeak),
      fixed(r.median.cpuCores, 2),
      fine(r.median.cpuMsPerCrop),
      r.gflopsPerCpuSec === null ? '' : fixed(r.gflopsPerCpuSec, 1),
      r.ofPeakCpu === null ? '' : percent(r.ofPeakCpu),
    ]),
  );

  const notes = [
    `cpu: ${environment.cpuModel}; onnxruntime-node ${environment.packages['onnxruntime-node']}, sharp ${environment.packages.sharp}; model sha256 ${model.sha256.slice(0, 12)}…`,
    `crops: ${result.cropsRendered.count} simulator query crops (a hand holding a unit, ${s}×${s}) cycled; ${thousands(params.crops)} crops per run of an inference row, preprocessing rows one crop at a time for ≥ ${MIN_PASS_MS} ms`,
    'ms/crop = wall time / crops (the inverse of crops/s: with several threads it is not one crop\'s latency); p95 req = a single-crop request, embed() to result, with 2 × maxBatch × workers of them in flight',
    'GFLOP/s = model FLOPs × crops/s (multiply-adds of Conv, MatMul, Gemm counted from the ONNX graph; Relu, Softmax, reshapes, L2 norm not); of peak = that / the MatMul at the same threads (service: W workers × the 1-thread MatMul)',
    'CPU cores = process CPU time (all threads) / wall time; CPU ms/crop and GFLOP/CPU-s use CPU time instead of wall time, so they leave out the share of the cores other processes took; of peak (2nd) = GFLOP/CPU-s / the MatMul\'s at the same threads per session',
    'embed rows include preprocessing and copying into the batch tensor; session.run rows are onnxruntime alone on a prebuilt batch; service rows include the worker hand-off',
    `runs interleaved (each row once per round); ${params.warmup} warm-up round${params.warmup === 1 ? '' : 's'} not counted; other processes share the cores: see the load average in the header`,
  ];
  return [header, '', flops, '', peaks, '', rows, '', ...notes.map((n) => `  ${n}`)].join('\n');
}
