import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { formatBrokerBench, runBrokerBench, type Qos } from '../bench/broker-bench.ts';
import { generatorClients, type GeneratorClient } from '../bench/generator-protocol.ts';
import { formatShelvesBench, runShelvesBench } from '../bench/shelves-bench.ts';
import { formatCheckoutBench, runCheckoutBench } from '../bench/checkout-bench.ts';
import { formatDashboardBench, runDashboardBench } from '../bench/dashboard-bench.ts';
import { formatVisionBench, runVisionBench } from '../bench/vision-bench.ts';
import { formatLabelsBench, runLabelsBench } from '../bench/labels-bench.ts';
import { formatSyncBench, runSyncBench } from '../bench/sync-bench.ts';
import { errors } from '../errors.ts';
import { parseCommandArgs } from './main.ts';

const help = `storeedge bench [broker] [--devices 500] [--messages 20] [--runs 3] [--warmup 1] [--qos 0,1]
                       [--client raw|mqtt.js] [--mosquitto PATH | --no-reference] [--out FILE]
       storeedge bench shelves [--trays 48] [--minutes 10] [--runs 5] [--warmup 1] [--out FILE]
       storeedge bench checkout [--scenario FILE] [--seed 1] [--runs 3] [--out FILE]
       storeedge bench dashboard [--scenario FILE] [--seed 1] [--runs 3] [--out FILE]
       storeedge bench vision [--runs 3] [--warmup 1] [--crops 512] [--matmul 1024] [--out FILE]
       storeedge bench labels [--runs 3] [--per-type 40] [--labels 20000] [--gateways 20] [--seed 1] [--out FILE]
       storeedge bench sync [--runs 3] [--stores 200] [--quick] [--mosquitto PATH] [--out FILE]`;

const suites = ['broker', 'shelves', 'checkout', 'dashboard', 'vision', 'labels', 'sync'] as const;
/** Flags only the broker suite takes. */
const brokerOnly = ['devices', 'messages', 'client', 'qos', 'mosquitto', 'no-reference'] as const;

/**
 * `storeedge bench [SUITE]`: runs a benchmark suite, prints a plain-text table on stdout
 * (progress on stderr) and writes every run's raw figures as JSON (default .bench/<suite>-<time>.json).
 */
export async function runBenchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      devices: { type: 'string' },
      messages: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      client: { type: 'string' },
      qos: { type: 'string' },
      out: { type: 'string', short: 'o' },
      mosquitto: { type: 'string' },
      'no-reference': { type: 'boolean', default: false },
      trays: { type: 'string' },
      minutes: { type: 'string' },
      scenario: { type: 'string' },
      seed: { type: 'string' },
      crops: { type: 'string' },
      matmul: { type: 'string' },
      'per-type': { type: 'string' },
      labels: { type: 'string' },
      gateways: { type: 'string' },
      stores: { type: 'string' },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    help,
  );
  if (values.help) {
    process.stdout.write(`usage: ${help}\n`);
    return 0;
  }
  const [suite = 'broker', ...extra] = positionals;
  if (!(suites as readonly string[]).includes(suite) || extra.length > 0) {
    throw errors.EDGE_ERR_CLI_USAGE(`unknown bench suite "${[suite, ...extra].join(' ')}"; suites: ${suites.join(', ')}\nusage: ${help}`);
  }
  if (suite === 'sync') return runSyncSuite(args, values);
  if (values.stores !== undefined || values.quick) {
    throw errors.EDGE_ERR_CLI_USAGE(`--stores and --quick are for the sync suite\nusage: ${help}`);
  }
  if (suite === 'labels') return runLabelsSuite(args, values);
  if (values['per-type'] !== undefined || values.labels !== undefined || values.gateways !== undefined) {
    throw errors.EDGE_ERR_CLI_USAGE(`--per-type, --labels and --gateways are for the labels suite\nusage: ${help}`);
  }
  if (suite === 'vision') return runVisionSuite(args, values);
  if (values.crops !== undefined || values.matmul !== undefined) {
    throw errors.EDGE_ERR_CLI_USAGE(`--crops and --matmul are for the vision suite\nusage: ${help}`);
  }
  if (suite === 'shelves') return runShelvesSuite(args, values);
  if (suite === 'checkout' || suite === 'dashboard') return runCheckoutSuite(suite, args, values);
  if (values.scenario !== undefined || values.seed !== undefined) {
    throw errors.EDGE_ERR_CLI_USAGE(`--scenario and --seed are for the checkout and dashboard suites\nusage: ${help}`);
  }
  if (values.trays !== undefined || values.minutes !== undefined) {
    throw errors.EDGE_ERR_CLI_USAGE(`--trays and --minutes are for the shelves suite\nusage: ${help}`);
  }
  if (values.mosquitto !== undefined && values['no-reference']) {
    throw errors.EDGE_ERR_CLI_USAGE(`--mosquitto and --no-reference exclude each other\nusage: ${help}`);
  }
  const devices = positiveInt('--devices', values.devices, 500, 20_000);
  const messages = positiveInt('--messages', values.messages, 20, 100_000);
  const runs = positiveInt('--runs', values.runs, 3, 100);
  const warmup = values.warmup === '0' ? 0 : positiveInt('--warmup', values.warmup, 1, 10);
  const qos = parseQos(values.qos ?? '0,1');
  const client = values.client ?? 'raw';
  if (!(generatorClients as readonly string[]).includes(client)) {
    throw errors.EDGE_ERR_CLI_USAGE(`--client takes ${generatorClients.join(' or ')}, got "${client}"\nusage: ${help}`);
  }

  return runSuite('broker', args, values.out, (signal) =>
    runBrokerBench({
      devices,
      messages,
      runs,
      warmup,
      qos,
      client: client as GeneratorClient,
      ...(values['no-reference'] ? { mosquitto: false as const } : values.mosquitto !== undefined ? { mosquitto: values.mosquitto } : {}),
      progress: (line) => process.stderr.write(`bench: ${line}\n`),
      signal,
    }),
    formatBrokerBench,
  );
}

/** `storeedge bench shelves`: the weight pipeline's throughput and per-change processing time (bench/shelves-bench.ts). */
async function runShelvesSuite(args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  for (const flag of brokerOnly) {
    if (values[flag] !== undefined && values[flag] !== false) throw errors.EDGE_ERR_CLI_USAGE(`--${flag} is for the broker suite\nusage: ${help}`);
  }
  const trays = positiveInt('--trays', values.trays as string | undefined, 48, 6_000);
  if (trays % 6 !== 0) throw errors.EDGE_ERR_CLI_USAGE(`--trays must be a multiple of 6 (whole shelves), got ${trays}\nusage: ${help}`);
  const minutes = positiveInt('--minutes', values.minutes as string | undefined, 10, 600);
  const runs = positiveInt('--runs', values.runs as string | undefined, 5, 100);
  const warmup = values.warmup === '0' ? 0 : positiveInt('--warmup', values.warmup as string | undefined, 1, 10);
  return runSuite(
    'shelves',
    args,
    values.out as string | undefined,
    (signal) => runShelvesBench({ trays, minutes, runs, warmup, progress: (line) => process.stderr.write(`bench: ${line}\n`), signal }),
    formatShelvesBench,
  );
}

/**
 * `storeedge bench checkout`: checkout latencies and CPU under the crowded scenario (bench/checkout-bench.ts);
 * `storeedge bench dashboard`: the manager's page in Chromium while that scenario runs (bench/dashboard-bench.ts).
 */
async function runCheckoutSuite(suite: 'checkout' | 'dashboard', args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  for (const flag of [...brokerOnly, 'trays', 'minutes', 'warmup'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) throw errors.EDGE_ERR_CLI_USAGE(`--${flag} is not a flag of the ${suite} suite\nusage: ${help}`);
  }
  const runs = positiveInt('--runs', values.runs as string | undefined, 3, 100);
  const seed = values.seed === undefined ? 1 : positiveInt('--seed', values.seed as string, 1, 1_000_000_000);
  const options = (signal: AbortSignal) => ({
    ...(values.scenario !== undefined ? { scenario: values.scenario as string } : {}),
    seed,
    runs,
    progress: (line: string) => process.stderr.write(`bench: ${line}\n`),
    signal,
  });
  if (suite === 'dashboard') return runSuite('dashboard', args, values.out as string | undefined, (signal) => runDashboardBench(options(signal)), formatDashboardBench);
  return runSuite('checkout', args, values.out as string | undefined, (signal) => runCheckoutBench(options(signal)), formatCheckoutBench);
}

/** `storeedge bench vision`: recogniser crops/s and GFLOP/s beside a MatMul peak measured in the same run (bench/vision-bench.ts). */
async function runVisionSuite(args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  for (const flag of [...brokerOnly, 'trays', 'minutes', 'scenario', 'seed'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) throw errors.EDGE_ERR_CLI_USAGE(`--${flag} is not a flag of the vision suite\nusage: ${help}`);
  }
  const runs = positiveInt('--runs', values.runs as string | undefined, 3, 100);
  const warmup = values.warmup === '0' ? 0 : positiveInt('--warmup', values.warmup as string | undefined, 1, 10);
  const crops = positiveInt('--crops', values.crops as string | undefined, 512, 100_000);
  const matmul = positiveInt('--matmul', values.matmul as string | undefined, 1024, 8192);
  return runSuite(
    'vision',
    args,
    values.out as string | undefined,
    (signal) => runVisionBench({ runs, warmup, crops, matmul, progress: (line) => process.stderr.write(`bench: ${line}\n`), signal }),
    formatVisionBench,
  );
}

/**
 * `storeedge bench labels`: labels rendered per second per tag type (one worker, one per core) and the
 * simulated time a store-wide price change takes over the radio, beside the radio's lower bound (bench/labels-bench.ts).
 */
async function runLabelsSuite(args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  for (const flag of [...brokerOnly, 'trays', 'minutes', 'scenario', 'warmup', 'crops', 'matmul'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) throw errors.EDGE_ERR_CLI_USAGE(`--${flag} is not a flag of the labels suite\nusage: ${help}`);
  }
  const runs = positiveInt('--runs', values.runs as string | undefined, 3, 100);
  const perType = positiveInt('--per-type', values['per-type'] as string | undefined, 40, 10_000);
  const labels = positiveInt('--labels', values.labels as string | undefined, 20_000, 100_000);
  const gateways = positiveInt('--gateways', values.gateways as string | undefined, 20, 500);
  if (gateways > labels) throw errors.EDGE_ERR_CLI_USAGE(`--gateways (${gateways}) must not exceed --labels (${labels})\nusage: ${help}`);
  const seed = values.seed === undefined ? 1 : positiveInt('--seed', values.seed as string, 1, 1_000_000_000);
  return runSuite(
    'labels',
    args,
    values.out as string | undefined,
    (signal) => runLabelsBench({ runs, perType, labels, gateways, seed, progress: (line) => process.stderr.write(`bench: ${line}\n`), signal }),
    formatLabelsBench,
  );
}

/**
 * `storeedge bench sync`: HQ sync with real parts — uplink events/s with durable acks beside the
 * transport's ceiling, a day's backlog drain, large signed documents, many stores against one HQ
 * (bench/sync-bench.ts).
 */
async function runSyncSuite(args: string[], values: Record<string, string | boolean | undefined>): Promise<number> {
  const notHere = [...brokerOnly.filter((flag) => flag !== 'mosquitto'), 'trays', 'minutes', 'scenario', 'seed', 'warmup', 'crops', 'matmul', 'per-type', 'labels', 'gateways'] as const;
  for (const flag of notHere) {
    if (values[flag] !== undefined && values[flag] !== false) throw errors.EDGE_ERR_CLI_USAGE(`--${flag} is not a flag of the sync suite\nusage: ${help}`);
  }
  const runs = positiveInt('--runs', values.runs as string | undefined, 3, 100);
  const quick = values.quick === true;
  const stores = positiveInt('--stores', values.stores as string | undefined, quick ? 5 : 200, 5_000);
  return runSuite(
    'sync',
    args,
    values.out as string | undefined,
    (signal) =>
      runSyncBench({
        runs,
        stores,
        quick,
        ...(values.mosquitto !== undefined ? { mosquitto: values.mosquitto as string } : {}),
        progress: (line) => process.stderr.write(`bench: ${line}\n`),
        signal,
      }),
    formatSyncBench,
  );
}

/**
 * Runs one suite: Ctrl-C stops it after the current run (everything it started is stopped), the
 * table goes to stdout and every run's figures to `.bench/<suite>-<time>.json` (or `--out`).
 */
async function runSuite<R extends { startedAt: string }>(
  suite: string,
  args: string[],
  outFlag: string | undefined,
  run: (signal: AbortSignal) => Promise<R>,
  format: (result: R) => string,
): Promise<number> {
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`storeedge bench: ${signal}, stopping after the current run…\n`);
    abort.abort(new Error(`interrupted by ${signal}`));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await run(abort.signal);
    const out = resolve(outFlag ?? `.bench/${suite}-${result.startedAt.replace(/[:.]/g, '-')}.json`);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ command: `storeedge bench ${args.join(' ')}`.trim(), ...result }, null, 2)}\n`);
    process.stdout.write(`${format(result)}\njson: ${relative(process.cwd(), out) || out}\n`);
    return 0;
  } catch (error) {
    if (!abort.signal.aborted) throw error;
    process.stderr.write(`storeedge bench: ${(abort.signal.reason as Error).message}; everything the bench started has been stopped\n`);
    return 130;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function positiveInt(flag: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw errors.EDGE_ERR_CLI_USAGE(`${flag} must be an integer from 1 to ${max}, got "${raw}"\nusage: ${help}`);
  }
  return value;
}

function parseQos(raw: string): Qos[] {
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p !== '0' && p !== '1') || new Set(parts).size !== parts.length) {
    throw errors.EDGE_ERR_CLI_USAGE(`--qos takes 0, 1 or 0,1, got "${raw}"\nusage: ${help}`);
  }
  return parts.map((p) => Number(p) as Qos);
}
