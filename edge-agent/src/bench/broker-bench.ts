/**
 * `storeedge bench broker`: device → agent ingest throughput and latency for N simulated shelf
 * controllers, at QoS 0 and QoS 1, through the store agent (embedded aedes with device auth,
 * topic ACL, payload validation and the ledger-backed registry) and — in the same invocation —
 * through Mosquitto with an mqtt.js subscriber as the sink, the reference to beat.
 *
 * The devices run in a worker thread (generator.ts) so the agent's event loop is what is
 * measured. Latency = receive time at the sink − send time at the generator, both absolute
 * (performance.timeOrigin + performance.now()), matched by (device, seq). Throughput = messages
 * received / (last receive − first send). Figures per (path, qos) are medians over the runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@storeedge/device-drivers';
import { StoreAgent } from '../agent.ts';
import { loadConfig } from '../config/load.ts';
import { silentLogger } from '../log.ts';
import { ReceiptCollector } from './collector.ts';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { LoadGenerator } from './generator.ts';
import { weightMessage, type GeneratorClient, type GeneratorDevice } from './generator-protocol.ts';
import { findMosquitto, mosquittoConfig, MosquittoProcess } from './mosquitto.ts';
import { deliveryFigures, median, type DeliveryFigures } from './stats.ts';
import { fixed, formatTable, ms, percent, thousands } from './table.ts';

export type BrokerPath = 'storeedge' | 'mosquitto';
export type Qos = 0 | 1;

export interface BrokerBenchOptions {
  /** Simulated devices (default 500). */
  devices?: number;
  /** Messages per device per run (default 20). */
  messages?: number;
  /** Runs per (path, qos) (default 3). */
  runs?: number;
  qos?: readonly Qos[];
  /** Path of the mosquitto binary; false skips the reference; undefined looks in the usual places. */
  mosquitto?: string | false;
  /** Load-cell channels per weight message (default 4). */
  channels?: number;
  /** Device client in the generator (default 'raw', see raw-client.ts). */
  client?: GeneratorClient;
  /** Unreported warm-up runs per (path, qos) before the measured ones (default 1). */
  warmup?: number;
  /** Progress lines (e.g. to stderr). */
  progress?: (line: string) => void;
  /** Stops the bench between runs (everything started is still stopped). */
  signal?: AbortSignal;
}

export interface RunRecord extends DeliveryFigures {
  path: BrokerPath;
  qos: Qos;
  run: number;
  /** Time for all devices to connect (the first storeedge run includes one scrypt check per device). */
  connectMs: number;
  /** First publish call to last publish callback in the generator. */
  publishMs: number;
  /** Event-loop utilisation (0–1) of the generator thread during publishing. */
  generatorLoop: number;
  /** Event-loop utilisation (0–1) of the main thread (agent or mqtt.js sink) from first publish until all arrived. */
  sinkLoop: number;
  /** Share of one core the broker used over that window: the agent's event loop (storeedge) or the mosquitto process's CPU time. */
  brokerBusy: number;
  /** CPU seconds over the same window: this Node process (all threads) and the mosquitto process. */
  cpuSeconds: { node: number; mosquitto?: number };
  /** Worker clock − main clock (ms) and the round trip it was measured with; latencies are not corrected by it. */
  clockOffsetMs: number;
  clockRttMs: number;
  publishErrors: number;
  disconnects: number;
  unmatched: number;
  /** The generator hit its publish time limit. */
  timedOut: boolean;
}

export interface RowMedians {
  msgPerSec: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  generatorLoop: number;
  brokerBusy: number;
}

export interface BrokerBenchRow {
  path: BrokerPath;
  label: string;
  qos: Qos;
  median: RowMedians;
  /** Most messages lost in one run. */
  maxLost: number;
  runs: RunRecord[];
}

export interface BrokerBenchResult {
  suite: 'broker';
  startedAt: string;
  finishedAt: string;
  params: { devices: number; messages: number; runs: number; warmup: number; qos: Qos[]; channels: number; payloadBytes: number; client: GeneratorClient };
  environment: BenchEnvironment & { mosquitto: { path: string; version: string } | { skipped: string } };
  setup: {
    storeedge: { ingest: { ratePerSecond: number; rateBurst: number }; ledgerSynchronous: string; registerMs: number };
    mosquitto?: { config: string };
  };
  rows: BrokerBenchRow[];
  /** Warm-up runs (not in the medians). */
  warmupRuns: RunRecord[];
  ratios: Array<{ qos: Qos; msgPerSec: number }>;
  referenceSkipped?: string;
}

/** Ingest limits for the bench: high enough that the token bucket never drops a message. */
export const benchIngest = { ratePerSecond: 1_000_000, rateBurst: 1_000_000 };
const storeId = 'bench-store';
const registerConcurrency = 4; // libuv's default thread pool runs 4 scrypt hashes at once
const connectConcurrency = 50;

export function pathLabel(path: BrokerPath, versions: { aedes?: string; mosquitto?: string } = {}): string {
  return path === 'storeedge'
    ? `storeedge (aedes${versions.aedes ? ` ${versions.aedes}` : ''}, auth + ACL + validation + ledger-backed registry)`
    : `mosquitto${versions.mosquitto ? ` ${versions.mosquitto}` : ''} + mqtt.js sink`;
}

export function deviceId(i: number): string {
  return `shelf-${String(i).padStart(4, '0')}`;
}

/** Runs the broker ingest benchmark; stops everything it started, also on error. */
export async function runBrokerBench(options: BrokerBenchOptions = {}): Promise<BrokerBenchResult> {
  const devices = options.devices ?? 500;
  const messages = options.messages ?? 20;
  const runs = options.runs ?? 3;
  const qosList = [...(options.qos ?? [0, 1])];
  const channels = options.channels ?? 4;
  const client = options.client ?? 'raw';
  const warmup = options.warmup ?? 1;
  const progress = options.progress ?? (() => undefined);
  for (const [name, value] of Object.entries({ devices, messages, runs, channels, warmup: warmup + 1 })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  const startedAt = new Date().toISOString();
  const environment = benchEnvironment(['aedes', 'mqtt', 'better-sqlite3']);
  const lookup = options.mosquitto === false ? ({ found: false, reason: 'disabled (--no-reference)' } as const) : findMosquitto(options.mosquitto);

  const dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-'));
  let agent: StoreAgent | undefined;
  let mosquitto: MosquittoProcess | undefined;
  const cleanups: Array<() => void> = [];
  try {
    const config = loadConfig(
      {
        storeId,
        dataDir: dir,
        broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null, maxConnections: Math.max(5_000, devices + 100) },
        http: { host: '127.0.0.1', port: 0 },
        ingest: benchIngest,
        log: { level: 'silent' },
      },
      dir,
    );
    agent = await StoreAgent.start(config, { logger: silentLogger() });
    const agentUrl = agent.addresses.mqtt;
    if (!agentUrl) throw new Error('the agent has no MQTT TCP address');

    // Register once per invocation; every run reuses the devices (scrypt makes this the slow part).
    progress(`registering ${devices} devices (scrypt-hashed secrets)…`);
    const registerStarted = Date.now();
    const secrets = new Array<string>(devices);
    await pool(devices, registerConcurrency, async (i) => {
      secrets[i] = (await agent!.registry.add({ id: deviceId(i), kind: 'shelf', actor: 'bench' })).secret;
    });
    const registerMs = Date.now() - registerStarted;
    progress(`registered ${devices} devices in ${(registerMs / 1000).toFixed(1)} s`);

    const index = new Map<string, number>(Array.from({ length: devices }, (_, i) => [deviceId(i), i]));
    const fleet = (withSecrets: boolean): GeneratorDevice[] =>
      Array.from({ length: devices }, (_, i) => ({
        id: deviceId(i),
        topic: topics.event(storeId, deviceId(i), 'weight'),
        ...(withSecrets ? { password: secrets[i]! } : {}),
      }));

    if (lookup.found) {
      mosquitto = await MosquittoProcess.start(lookup.path, lookup.version);
      progress(`mosquitto ${lookup.version} listening on ${mosquitto.url}`);
    } else {
      progress(`reference skipped: ${lookup.reason}`);
    }

    let collector: ReceiptCollector | undefined;
    cleanups.push(agent.bus.on('shelf.weight', (e) => collector?.receive(e.deviceId, e.payload.seq)));

    const paths: BrokerPath[] = mosquitto ? ['storeedge', 'mosquitto'] : ['storeedge'];
    const records: RunRecord[] = [];
    const warmupRuns: RunRecord[] = [];
    for (const qos of qosList) {
      for (let run = 1 - warmup; run <= runs; run++) {
        for (const path of paths) {
          options.signal?.throwIfAborted();
          const c = new ReceiptCollector(index, messages);
          let sink: MqttClient | undefined;
          if (path === 'mosquitto') {
            sink = await connectSink(mosquitto!.url, qos, c);
          }
          collector = c;
          try {
            const record = await runOnce({
              path,
              qos,
              run,
              collector: c,
              url: path === 'storeedge' ? agentUrl : mosquitto!.url,
              devices: fleet(path === 'storeedge'),
              messages,
              channels,
              client,
              mosquitto: path === 'mosquitto' ? mosquitto : undefined,
            });
            (run >= 1 ? records : warmupRuns).push(record);
            progress(
              `${path} qos ${qos} ${run >= 1 ? `run ${run}/${runs}` : 'warm-up'}: ${thousands(record.msgPerSec)} msg/s, ` +
                `p50 ${ms(record.latencyMs.p50)} ms, p99 ${ms(record.latencyMs.p99)} ms, lost ${record.lost}, ` +
                `generator ${percent(record.generatorLoop)}, broker ${percent(record.brokerBusy)}, connect ${(record.connectMs / 1000).toFixed(1)} s`,
            );
          } finally {
            collector = undefined;
            await sink?.endAsync(true).catch(() => undefined);
          }
          if (path === 'storeedge') await until(() => agent!.plane.connectedClients() === 0, 30_000);
        }
      }
    }

    const versions = { aedes: environment.packages.aedes, mosquitto: lookup.found ? lookup.version : undefined };
    const rows: BrokerBenchRow[] = [];
    for (const qos of qosList) {
      for (const path of paths) {
        const mine = records.filter((r) => r.path === path && r.qos === qos);
        rows.push({
          path,
          label: pathLabel(path, versions),
          qos,
          median: {
            msgPerSec: median(mine.map((r) => r.msgPerSec)),
            p50Ms: median(mine.map((r) => r.latencyMs.p50)),
            p99Ms: median(mine.map((r) => r.latencyMs.p99)),
            lost: median(mine.map((r) => r.lost)),
            generatorLoop: median(mine.map((r) => r.generatorLoop)),
            brokerBusy: median(mine.map((r) => r.brokerBusy)),
          },
          maxLost: Math.max(...mine.map((r) => r.lost)),
          runs: mine,
        });
      }
    }
    const ratios = paths.includes('mosquitto')
      ? qosList.map((qos) => {
          const own = rows.find((r) => r.path === 'storeedge' && r.qos === qos)!;
          const ref = rows.find((r) => r.path === 'mosquitto' && r.qos === qos)!;
          return { qos, msgPerSec: own.median.msgPerSec / ref.median.msgPerSec };
        })
      : [];

    return {
      suite: 'broker',
      startedAt,
      finishedAt: new Date().toISOString(),
      params: { devices, messages, runs, warmup, qos: qosList, channels, payloadBytes: Buffer.byteLength(weightMessage(0, channels, Date.now())), client },
      environment: { ...environment, mosquitto: lookup.found ? { path: lookup.path, version: lookup.version } : { skipped: lookup.reason } },
      setup: {
        storeedge: { ingest: benchIngest, ledgerSynchronous: config.ledger.synchronous, registerMs },
        ...(mosquitto ? { mosquitto: { config: mosquittoConfig(Number(new URL(mosquitto.url).port)) } } : {}),
      },
      rows,
      warmupRuns,
      ratios,
      ...(lookup.found ? {} : { referenceSkipped: lookup.reason }),
    };
  } finally {
    for (const cleanup of cleanups) cleanup();
    await mosquitto?.stop().catch(() => undefined);
    await agent?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface RunSpec {
  path: BrokerPath;
  qos: Qos;
  run: number;
  collector: ReceiptCollector;
  url: string;
  devices: GeneratorDevice[];
  messages: number;
  channels: number;
  client: GeneratorClient;
  mosquitto: MosquittoProcess | undefined;
}

async function runOnce(spec: RunSpec): Promise<RunRecord> {
  const total = spec.devices.length * spec.messages;
  const publishTimeoutMs = Math.max(60_000, total * 2);
  const generator = await LoadGenerator.start({
    url: spec.url,
    devices: spec.devices,
    messages: spec.messages,
    qos: spec.qos,
    connectConcurrency,
    connectTimeoutMs: 60_000,
    publishTimeoutMs,
    channels: spec.channels,
    client: spec.client,
  });
  try {
    const clock = await generator.clockOffset();
    const connectMs = await generator.connect(Math.max(120_000, spec.devices.length * 250));
    const cpu0 = process.cpuUsage();
    const mosquittoCpu0 = spec.mosquitto?.cpuSeconds();
    const loop0 = performance.eventLoopUtilization();
    const window0 = performance.now();
    const report = await generator.publish(publishTimeoutMs + 10_000);
    let sent = 0;
    for (const t of report.sentAt) if (!Number.isNaN(t)) sent++;
    await spec.collector.settle(sent, 1_000, 30_000);
    const sinkLoop = performance.eventLoopUtilization(loop0).utilization;
    const windowS = (performance.now() - window0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const mosquittoCpu = spec.mosquitto && mosquittoCpu0 !== undefined ? spec.mosquitto.cpuSeconds() - mosquittoCpu0 : undefined;
    const figures = deliveryFigures(report.sentAt, spec.collector.receivedAt, spec.collector.duplicates);
    return {
      path: spec.path,
      qos: spec.qos,
      run: spec.run,
      ...figures,
      connectMs,
      publishMs: report.publishMs,
      generatorLoop: report.loopUtilization,
      sinkLoop,
      brokerBusy: mosquittoCpu === undefined ? sinkLoop : mosquittoCpu / windowS,
      cpuSeconds: { node: (cpu.user + cpu.system) / 1e6, ...(mosquittoCpu === undefined ? {} : { mosquitto: mosquittoCpu }) },
      clockOffsetMs: clock.offsetMs,
      clockRttMs: clock.rttMs,
      publishErrors: report.errors,
      disconnects: report.disconnects,
      unmatched: spec.collector.unmatched,
      timedOut: report.timedOut,
    };
  } finally {
    await generator.close();
  }
}

/** The reference sink: an mqtt.js client subscribed to every device event, parsing each payload. */
async function connectSink(url: string, qos: Qos, collector: ReceiptCollector): Promise<MqttClient> {
  const sink = await mqtt.connectAsync(url, {
    clientId: `bench-sink-${process.pid}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  (sink.stream as Partial<Socket>).setNoDelay?.(true); // prompt PUBACKs at QoS 1
  sink.on('error', () => undefined); // a broken sink shows up as lost messages
  sink.on('message', (topic, payload) => {
    // Same work as the agent's sink needs at least: find the device, parse the JSON.
    let body: { seq?: unknown };
    try {
      body = JSON.parse(payload.toString('utf8')) as { seq?: unknown };
    } catch {
      body = {};
    }
    collector.receive(topic.split('/')[4] ?? '', body.seq);
  });
  await sink.subscribeAsync(topics.allDeviceEvents(storeId), { qos });
  return sink;
}

/** Runs fn(0..count-1) with at most `concurrency` at a time; the first failure rejects. */
async function pool(count: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

async function until(predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** The plain-text report: a header line, the table and notes. */
export function formatBrokerBench(result: BrokerBenchResult): string {
  const { params, environment } = result;
  const header =
    `broker ingest · ${params.devices} devices × ${params.messages} msgs · median of ${params.runs} run${params.runs === 1 ? '' : 's'} · ` +
    `node ${environment.node} · ${environment.cpus} cpus`;
  const rows: string[][] = result.rows.map((row) => [
    row.label,
    String(row.qos),
    thousands(row.median.msgPerSec),
    ms(row.median.p50Ms),
    ms(row.median.p99Ms),
    row.maxLost > row.median.lost ? `${thousands(row.median.lost)} (max ${thousands(row.maxLost)})` : thousands(row.median.lost),
    percent(row.median.generatorLoop),
    percent(row.median.brokerBusy),
  ]);
  for (const ratio of result.ratios) rows.push(['ratio storeedge/mosquitto', String(ratio.qos), `${fixed(ratio.msgPerSec, 2)}×`, '', '', '', '', '']);
  const table = formatTable(
    [
      { header: 'path' },
      { header: 'qos', align: 'right' },
      { header: 'msg/s', align: 'right' },
      { header: 'p50 ms', align: 'right' },
      { header: 'p99 ms', align: 'right' },
      { header: 'lost', align: 'right' },
      { header: 'gen busy', align: 'right' },
      { header: 'broker busy', align: 'right' },
    ],
    rows,
  );
  const ingest = result.setup.storeedge.ingest;
  const notes = [
    `cpu: ${environment.cpuModel}; payload ${params.payloadBytes} B (${params.channels} load-cell channels); ` +
      `devices: ${params.client === 'raw' ? 'minimal raw MQTT 3.1.1 publishers' : 'mqtt.js clients'} in one worker thread; ` +
      `${params.warmup} warm-up run${params.warmup === 1 ? '' : 's'} per row not counted`,
    `storeedge: ingest rate limit raised to ${thousands(ingest.ratePerSecond)} msg/s, burst ${thousands(ingest.rateBurst)} per device for the bench ` +
      `(production default 100/s, burst 200); ledger synchronous=${result.setup.storeedge.ledgerSynchronous} (production default)`,
    'latency = sink receive − generator send (absolute clocks, matched by device and seq); msg/s = received / (last receive − first send)',
    'gen busy = generator thread event-loop utilisation; broker busy = agent event loop (storeedge) or mosquitto CPU time (share of one core)',
  ];
  if (result.referenceSkipped) notes.push(`reference skipped: ${result.referenceSkipped}`);
  else notes.push('mosquitto: loopback, anonymous, persistence false, set_tcp_nodelay true, max_queued_messages 0 (no cap); sink = mqtt.js + JSON.parse in the main thread');
  return [header, '', table, '', ...notes].join('\n');
}
