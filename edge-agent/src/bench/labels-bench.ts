/**
 * `storeedge bench labels` (issue 6): how fast shelf labels are rendered, and how long a
 * store-wide price change takes to reach every label over the simulated radio.
 *
 * 1. **Render throughput** per tag type with one worker and one worker per core
 *    (bench/labels-render-bench.ts: median of `runs` interleaved rounds); the all-cores figure is
 *    compared with the one-worker figure measured in the same rounds.
 * 2. **Store-wide update**: a labels scenario built here (`labels` SKUs with one label each on
 *    `gateways` ESL gateways, the default tag-type mix, the gateways' default radio model) run by
 *    `storeedge sim`'s runScenario: the real agent and gateway simulators in simulated time. Tags
 *    start blank, so the agent first installs every label; the store-wide change comes once that
 *    install has had twice its estimated air time. No reboots, no tags out of range, no gateway
 *    restarts, no other price changes, no purchases: the radio carries the change alone. The
 *    figure is simulated time, decided by the radio model and the agent's delivery logic, not by
 *    this machine's speed, so one run is enough.
 *
 * The radio's lower bound (labels-run.ts): bytes on air from the change until the last label
 * showed it / (gateways × air rate) + one check-in interval (a tag hears of its new image only
 * when it next wakes).
 */
import { loadavg } from 'node:os';
import { eslRadioOptionsSchema, generateLabelStore, labelStoreGeneration, parseScenario, type LabelsOutcome, type ScenarioFile } from '@storeedge/simulators';
import { runScenario } from '../cli/sim-command.ts';
import { measureLabelRender, type LabelRenderBenchResult, type LabelRenderRow } from './labels-render-bench.ts';
import { fixed, formatTable, thousands } from './table.ts';

export interface LabelsBenchOptions {
  /** Render: measured rounds (default 3), labels per tag type per round (default 40), worker counts (default [1, cores]). */
  runs?: number;
  perType?: number;
  workers?: readonly number[];
  /** Store-wide update: labels (= SKUs, default 20 000) on this many gateways (default 20). */
  labels?: number;
  gateways?: number;
  /** Seed of the generated store and of the price change (default 1). */
  seed?: number;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface StoreWideRecord {
  labels: number;
  gateways: number;
  /** Label count by tag type in the generated store. */
  tagTypes: Record<string, number>;
  radio: { bytesPerSecond: number; checkinIntervalMs: number; pendingLimit: number };
  /** Simulated ms after the start at which every SKU's price changed. */
  atMs: number;
  /** Air time the install was expected to need (labels per gateway × 8 kB / air rate + one check-in); atMs is twice that, rounded up to a minute. */
  installEstimateMs: number;
  /** Bytes on air before the change (the install). */
  installBytes: number;
  /** Images the gateways dropped for a newer one before sending it (> 0: the change overtook the install). */
  superseded: number;
  /** Simulated ms from the change until every label showed its new price (the simulators' truth); null if it never did. */
  confirmMs: number | null;
  /** Bytes on air from the change until then. */
  bytes: number;
  /** bytes / (gateways × air rate), ms: the pure air-time floor. */
  airTimeMs: number;
  /** airTimeMs + one check-in interval (labels-run.ts). */
  lowerBoundMs: number;
  /** confirmMs / lowerBoundMs. */
  ofLowerBound: number | null;
  /** confirmMs / airTimeMs. */
  ofAirTime: number | null;
  /** Labels showing the agent's wanted content, and labels showing a price other than the agent's, at the end. */
  converged: number;
  wrongPriceShown: number;
  /** Simulated ms the scenario ran, and the wall time it took (agent start to report, rendering every label twice included). */
  simulatedMs: number;
  wallMs: number;
  /** The scenario's labels outcome as `storeedge sim` reports it. */
  truth: LabelsOutcome;
}

export interface LabelsBenchResult {
  suite: 'labels';
  startedAt: string;
  finishedAt: string;
  params: { runs: number; perType: number; workers: number[]; labels: number; gateways: number; seed: number };
  environment: LabelRenderBenchResult['environment'];
  render: LabelRenderRow[];
  storeWide: StoreWideRecord;
}

/**
 * Air bytes per label assumed when placing the store-wide change after the install: a little above
 * the ≈ 7.2 kB the default tag-type mix puts on air per label (measured with this bench). A
 * constant, so the scenario depends only on --labels, --gateways and --seed.
 */
const ASSUMED_LABEL_BYTES = 8_000;

/** The gateways' radio: the defaults (research/esl.md), with nothing that would put other traffic on the air. */
const BENCH_RADIO = { rebootsPerTagPerDay: 0, outOfRangeShare: 0, rangeChurn: null } as const;

export async function runLabelsBench(options: LabelsBenchOptions = {}): Promise<LabelsBenchResult> {
  const labels = options.labels ?? 20_000;
  const gateways = options.gateways ?? 20;
  const seed = options.seed ?? 1;
  const progress = options.progress ?? (() => {});
  if (!Number.isInteger(labels) || !Number.isInteger(gateways) || gateways < 1 || labels < gateways) {
    throw new RangeError(`need whole numbers with 1 ≤ gateways ≤ labels, got ${labels} labels on ${gateways} gateways`);
  }
  const startedAt = new Date().toISOString();

  progress('render: labels per second per tag type, one worker and one per core');
  const render = await measureLabelRender({
    ...(options.runs !== undefined ? { runs: options.runs } : {}),
    ...(options.perType !== undefined ? { perType: options.perType } : {}),
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    progress,
    ...(options.signal ? { signal: options.signal } : {}),
  });

  // runScenario takes no signal: Ctrl-C during the simulation stops the bench when it ends.
  options.signal?.throwIfAborted();
  const storeWide = await measureStoreWide({ labels, gateways, seed, progress });
  return {
    suite: 'labels',
    startedAt,
    finishedAt: new Date().toISOString(),
    params: { runs: render.params.runs, perType: render.params.perType, workers: render.params.workers, labels, gateways, seed },
    environment: { ...render.environment, loadAverage: { start: render.environment.loadAverage.start, end: loadavg().map((x) => Math.round(x * 100) / 100) } },
    render: render.rows,
    storeWide,
  };
}

/** The store-wide scenario (see the file comment): built here, so `--labels` and `--gateways` scale it. */
export function storeWideScenario(p: { labels: number; gateways: number; seed: number; atMs: number; settleMs: number }): ScenarioFile {
  // One simulated step after the change the activity ends; the run then settles until every label converged.
  const durationMs = p.atMs + 1_000;
  return parseScenario(
    {
      scenario: `bench-labels-${p.labels}`,
      description: `storeedge bench labels: ${p.labels} labels on ${p.gateways} gateways, installed from blank, then every SKU re-priced at ${p.atMs / 60_000} simulated min; nothing else on the radio.`,
      seed: p.seed,
      store: { catalog: [], zones: [{ id: 'z1' }] },
      labels: {
        generate: { skus: p.labels, gateways: p.gateways },
        durationMs,
        settleMs: p.settleMs,
        priceChanges: { everyMs: durationMs, skus: [1, 1], reductionShare: 0.5, storeWideAtMs: [p.atMs] },
        radio: BENCH_RADIO,
        gatewayRestarts: [],
        purchases: { everyMs: durationMs },
      },
    },
    'storeedge bench labels',
  );
}

async function measureStoreWide(p: { labels: number; gateways: number; seed: number; progress: (line: string) => void }): Promise<StoreWideRecord> {
  const radio = eslRadioOptionsSchema.parse(BENCH_RADIO);
  const mix = labelStoreGeneration.parse({ skus: p.labels, gateways: p.gateways }).tagTypes;
  const installEstimateMs = (Math.ceil(p.labels / p.gateways) * ASSUMED_LABEL_BYTES * 1_000) / radio.radioBytesPerSecond + (radio.checkinIntervalMs ?? 0);
  const atMs = Math.ceil((2 * installEstimateMs) / 60_000) * 60_000;
  const settleMs = Math.min(24 * 3_600_000, Math.max(2 * 3_600_000, 4 * atMs));
  const scenario = storeWideScenario({ labels: p.labels, gateways: p.gateways, seed: p.seed, atMs, settleMs });
  p.progress(`store-wide: ${p.labels} labels on ${p.gateways} gateways; install estimated at ${fixed(installEstimateMs / 60_000, 1)} simulated min, every price changes at ${atMs / 60_000} min`);

  const t0 = performance.now();
  const report = await runScenario(scenario, { progress: p.progress });
  const wallMs = Math.round(performance.now() - t0);
  const truth = (report.labels as { truth: LabelsOutcome }).truth;
  const update = truth.storeWideUpdates[0];
  if (update === undefined) throw new Error('the labels run reported no store-wide update');
  // The same generation the run used (labels-activity.ts): the labels per tag type.
  const tagTypes: Record<string, number> = Object.fromEntries(Object.keys(mix).map((type) => [type, 0]));
  for (const label of generateLabelStore(scenario.labels!.generate!, scenario.seed).labels) tagTypes[label.tagType] = (tagTypes[label.tagType] ?? 0) + 1;

  const airTimeMs = (update.bytes / (truth.gateways * radio.radioBytesPerSecond)) * 1_000;
  return {
    labels: update.labels,
    gateways: truth.gateways,
    tagTypes,
    radio: { bytesPerSecond: radio.radioBytesPerSecond, checkinIntervalMs: radio.checkinIntervalMs ?? 0, pendingLimit: radio.pendingLimit },
    atMs: update.atMs,
    installEstimateMs: Math.round(installEstimateMs),
    installBytes: truth.radio.bytesOnAir - update.bytes,
    superseded: truth.radio.superseded,
    confirmMs: update.confirmMs,
    bytes: update.bytes,
    airTimeMs: Math.round(airTimeMs),
    lowerBoundMs: update.lowerBoundMs,
    ofLowerBound: update.confirmMs === null ? null : update.confirmMs / update.lowerBoundMs,
    ofAirTime: update.confirmMs === null ? null : update.confirmMs / airTimeMs,
    converged: truth.converged,
    wrongPriceShown: truth.wrongPriceShown,
    simulatedMs: truth.simulatedMs,
    wallMs,
    truth,
  };
}

/** The plain-text tables `storeedge bench labels` prints. */
export function formatLabelsBench(result: LabelsBenchResult): string {
  const env = result.environment;
  const [one, all] = [Math.min(...result.params.workers), Math.max(...result.params.workers)];
  const renderHeader = `labels · render · ${result.params.perType} labels per tag type per run · median of ${result.params.runs} run${result.params.runs === 1 ? '' : 's'} · ${env.cpus} cores (${env.cpuModel}) · node ${env.node} · sharp ${env.packages.sharp} · load ${env.loadAverage.start[0]} → ${env.loadAverage.end[0]} (1-min)`;
  const perWorkers = all === one ? [one] : [one, all];
  const render = formatTable(
    [
      { header: 'tag type' },
      { header: 'px', align: 'right' },
      { header: 'bytes', align: 'right' },
      ...perWorkers.flatMap((w) => [{ header: `${w} worker${w === 1 ? '' : 's'} labels/s`, align: 'right' as const }]),
      ...(perWorkers.length > 1 ? [{ header: `${all}w / ${one}w`, align: 'right' as const }] : []),
      { header: 'CPU cores', align: 'right' },
    ],
    [...new Set(result.render.map((r) => r.tagType))].map((type) => {
      const row = (w: number) => result.render.find((r) => r.tagType === type && r.workers === w)!;
      const first = row(one);
      return [
        type,
        `${first.width}×${first.height}`,
        thousands(first.median.encodedBytes),
        ...perWorkers.map((w) => fixed(row(w).median.labelsPerSec, 1)),
        ...(perWorkers.length > 1 ? [`${fixed(row(all).median.labelsPerSec / first.median.labelsPerSec, 2)}×`] : []),
        perWorkers.map((w) => fixed(row(w).median.cpuCores, 2)).join(' / '),
      ];
    }),
  );

  const s = result.storeWide;
  const min = (ms: number | null) => (ms === null ? 'never' : `${fixed(ms / 60_000, 1)} min`);
  const storeHeader = `store-wide price change · ${thousands(s.labels)} labels on ${s.gateways} gateways · radio ${thousands(s.radio.bytesPerSecond)} B/s per gateway, ${fixed(s.radio.checkinIntervalMs / 1000, 0)} s check-ins · simulated time, one run (deterministic for seed ${result.params.seed})`;
  const store = formatTable(
    [
      { header: 'labels' },
      { header: 'gateways', align: 'right' },
      { header: 'MB on air', align: 'right' },
      { header: 'confirmed after', align: 'right' },
      { header: 'lower bound', align: 'right' },
      { header: 'confirm / bound', align: 'right' },
      { header: 'air-time floor', align: 'right' },
      { header: 'confirm / floor', align: 'right' },
      { header: 'sim wall', align: 'right' },
    ],
    [
      [
        thousands(s.labels),
        String(s.gateways),
        fixed(s.bytes / 1e6, 1),
        min(s.confirmMs),
        min(s.lowerBoundMs),
        s.ofLowerBound === null ? '–' : `${fixed(s.ofLowerBound, 2)}×`,
        min(s.airTimeMs),
        s.ofAirTime === null ? '–' : `${fixed(s.ofAirTime, 2)}×`,
        `${fixed(s.wallMs / 60_000, 1)} min`,
      ],
    ],
  );
  const notes = [
    `lower bound = bytes on air / (${s.gateways} × ${thousands(s.radio.bytesPerSecond)} B/s) + one ${fixed(s.radio.checkinIntervalMs / 1000, 0)} s check-in (issue 6); air-time floor = bytes / aggregate rate alone. ` +
      'Tags check in while the radio is busy with others, so when the air time exceeds a check-in the wait overlaps it: confirm / bound can be below 1; confirm / floor cannot (at 1 s steps)',
    `change at ${min(s.atMs)} simulated, after the install of every label from blank (${fixed(s.installBytes / 1e6, 1)} MB; estimated ${min(s.installEstimateMs)} of air time)` +
      (s.superseded > 0 ? `; WARNING: ${s.superseded} images superseded, the change overtook the install` : ''),
    `end: ${thousands(s.converged)} of ${thousands(s.truth.inRange)} labels show the agent's content, ${s.wrongPriceShown} a wrong price; ${fixed(s.simulatedMs / 60_000, 1)} simulated min in ${fixed(s.wallMs / 60_000, 1)} min wall (the agent renders every label twice)`,
  ];
  return [renderHeader, render, '', storeHeader, store, ...notes.map((n) => `  ${n}`)].join('\n');
}
