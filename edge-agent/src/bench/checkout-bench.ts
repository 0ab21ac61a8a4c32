/**
 * `storeedge bench checkout`: the walk-out checkout under a crowded store — pick→cart-line and
 * exit→receipt latency in simulated time (what a shopper sees: from the hand leaving the shelf,
 * and from leaving the store) and the process's CPU use while it runs.
 *
 * Each run is one `storeedge sim` of the scenario (default: checkout-crowded-short, 50
 * concurrent shoppers for 10 simulated minutes) against an in-process agent over real MQTT.
 * The simulated devices run in the same process as the agent, so the CPU figure is an upper
 * bound for the agent (it includes generating the devices' messages); "× real time" is how much
 * faster than the store's own clock the whole thing ran. Figures are medians over the runs.
 */
import { resolve } from 'node:path';
import { loadScenarioFile } from '@storeedge/simulators';
import { runScenario } from '../cli/sim-command.ts';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { median } from './stats.ts';
import { fixed, formatTable, percent, thousands } from './table.ts';

export interface CheckoutBenchOptions {
  scenario?: string;
  seed?: number;
  runs?: number;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface CheckoutRunRecord {
  run: number;
  seed: number;
  visits: number;
  wallMs: number;
  simulatedMs: number;
  messages: number;
  /** Process CPU time (user + system) / wall time: 1 = one core busy. */
  cpuCores: number;
  pickToCartMs: Percentiles;
  exitToReceiptMs: Percentiles;
  itemsF1: number;
  reviewRate: number;
}

export interface CheckoutBenchResult {
  suite: 'checkout';
  startedAt: string;
  finishedAt: string;
  params: { scenario: string; seed: number; runs: number };
  environment: BenchEnvironment;
  runs: CheckoutRunRecord[];
}

export async function runCheckoutBench(options: CheckoutBenchOptions = {}): Promise<CheckoutBenchResult> {
  const file = resolve(options.scenario ?? 'simulators/scenarios/checkout-crowded-short.json');
  const seed = options.seed ?? 1;
  const runs = options.runs ?? 3;
  const progress = options.progress ?? (() => {});
  const startedAt = new Date().toISOString();
  const records: CheckoutRunRecord[] = [];
  const scenario = { ...loadScenarioFile(file), seed };
  for (let run = 1; run <= runs; run++) {
    options.signal?.throwIfAborted();
    progress(`run ${run}/${runs}: ${scenario.scenario} seed ${seed}`);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const report = await runScenario(scenario);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const c = report.checkout as unknown as {
      visits: number;
      items: { f1: number };
      review: { rate: number };
      latency: { pickToCartMs: Percentiles; exitToReceiptMs: Percentiles };
    };
    const r = report.run as { simulatedMs?: number; messages?: Record<string, number> };
    records.push({
      run,
      seed,
      visits: c.visits,
      wallMs: Math.round(wallMs),
      simulatedMs: r.simulatedMs ?? 0,
      messages: Object.values(r.messages ?? {}).reduce((a, b) => a + b, 0),
      cpuCores: (cpu.user + cpu.system) / 1_000 / wallMs,
      pickToCartMs: c.latency.pickToCartMs,
      exitToReceiptMs: c.latency.exitToReceiptMs,
      itemsF1: c.items.f1,
      reviewRate: c.review.rate,
    });
  }
  return { suite: 'checkout', startedAt, finishedAt: new Date().toISOString(), params: { scenario: file, seed, runs }, environment: benchEnvironment(['mqtt', 'aedes', 'better-sqlite3']), runs: records };
}

export function formatCheckoutBench(result: CheckoutBenchResult): string {
  const m = (pick: (r: CheckoutRunRecord) => number | null) => median(result.runs.map(pick).filter((x): x is number => x !== null));
  const s = (ms: number) => (Number.isFinite(ms) ? `${fixed(ms / 1000, 2)} s` : '–');
  const header = `checkout · ${result.params.scenario.split('/').at(-1)} seed ${result.params.seed} · median of ${result.runs.length} run${result.runs.length === 1 ? '' : 's'} · node ${result.environment.node}`;
  const table = formatTable(
    [{ header: 'latency (simulated time)' }, { header: 'p50', align: 'right' }, { header: 'p95', align: 'right' }, { header: 'p99', align: 'right' }, { header: 'target', align: 'right' }],
    [
      ['pick → cart line (from hand out)', s(m((r) => r.pickToCartMs.p50)), s(m((r) => r.pickToCartMs.p95)), s(m((r) => r.pickToCartMs.p99)), 'p95 ≤ 1.5 s'],
      ['exit → receipt', s(m((r) => r.exitToReceiptMs.p50)), s(m((r) => r.exitToReceiptMs.p95)), s(m((r) => r.exitToReceiptMs.p99)), 'p95 ≤ 5 s'],
    ],
  );
  const load = formatTable(
    [{ header: 'run' }, { header: 'visits', align: 'right' }, { header: 'messages', align: 'right' }, { header: 'wall', align: 'right' }, { header: '× real time', align: 'right' }, { header: 'CPU (cores)', align: 'right' }, { header: 'item F1', align: 'right' }, { header: 'reviewed', align: 'right' }],
    result.runs.map((r) => [
      String(r.run),
      thousands(r.visits),
      thousands(r.messages),
      `${fixed(r.wallMs / 1000, 1)} s`,
      fixed(r.simulatedMs / r.wallMs, 1),
      fixed(r.cpuCores, 2),
      fixed(r.itemsF1, 3),
      percent(r.reviewRate),
    ]),
  );
  const notes = [
    `cpu: ${result.environment.cpuModel}; agent and simulated devices in one process (CPU is their sum, an upper bound for the agent); devices publish as fast as the agent acknowledges, so × real time is the headroom over the store's own clock`,
    'latencies are simulated device time: pick → cart from the hand leaving the tray to the cart line; exit → receipt from the last party member leaving to the receipt (reviewed visits excluded)',
  ];
  return [header, table, '', load, ...notes.map((n) => `  ${n}`)].join('\n');
}
