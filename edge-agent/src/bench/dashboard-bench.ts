/**
 * `storeedge bench dashboard`: is the manager's page still usable while the store is busy?
 * Each run is one `storeedge sim` of a crowded scenario (default checkout-crowded-short: 50
 * shoppers, devices publishing as fast as the agent acknowledges — several times the store's own
 * pace) with headless Chromium (Debian's, /usr/bin/chromium) logged in to the agent's dashboard
 * the whole time, moving between pages every few seconds. In the page: server-sent events
 * delivered, long tasks (PerformanceObserver 'longtask': main-thread work ≥ 50 ms), gaps between
 * animation frames, and a probe every 500 ms that times a round trip to the page's main thread
 * (what a click waits for), beside the same probe to a blank page in the same browser at the same
 * moments (the reference: what the busy machine alone costs). Full document loads after the first
 * are counted (none expected).
 * Figures are per run and their median.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadScenarioFile } from '@storeedge/simulators';
import type { StoreAgent } from '../agent.ts';
import { runScenario } from '../cli/sim-command.ts';
import { errors } from '../errors.ts';
import { chromiumPath, launchChromium } from '../dashboard/chromium.ts';
import { hashPassword, newPassword } from '../http/auth/index.ts';
import { measureStorePages, type StorePagesRecord } from './dashboard-large-store.ts';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { median, percentile } from './stats.ts';
import { fixed, formatTable, thousands } from './table.ts';


export interface DashboardBenchOptions {
  scenario?: string;
  seed?: number;
  runs?: number;
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface DashboardRunRecord {
  run: number;
  wallMs: number;
  visits: number;
  /** Device messages the simulated store sent the agent. */
  messages: number;
  /** Server-sent events the page received, and how many times it rendered a batch of them. */
  events: number;
  pages: number;
  longTasks: { count: number; totalMs: number; maxMs: number };
  /** Gaps between animation frames, ms (16.7 at 60 Hz). */
  frameGapMs: { p50: number; p95: number; max: number };
  /** Round trip of a no-op to the page's main thread, ms. */
  probeMs: { p50: number; p95: number; max: number; samples: number };
  /** The same round trip to a blank page in the same browser at the same moments (the reference). */
  referenceProbeMs: { p50: number; p95: number; max: number; samples: number };
  /** From choosing another page (hash change) to its data on screen, ms. */
  pageSwitchMs: { p50: number; p95: number; max: number; samples: number };
  reloads: number;
  domNodes: number;
  heapMb: number | null;
  pageErrors: number;
}

export interface DashboardBenchResult {
  suite: 'dashboard';
  startedAt: string;
  finishedAt: string;
  params: { scenario: string; seed: number; runs: number };
  environment: BenchEnvironment;
  runs: DashboardRunRecord[];
  /** Every page opened on a small store and on a large one (20 000 labels, 2 000 trays), same run. */
  stores: { small: StorePagesRecord; large: StorePagesRecord } | null;
}

/** Installed in the page before its scripts: counters the bench reads at the end. */
const instrument = `(() => {
  const bench = { events: 0, longTasks: [], frames: [] };
  window.__storeedgeBench = bench;
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) bench.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  } catch {}
  let last = 0;
  const tick = (t) => { if (last > 0) bench.frames.push(t - last); last = t; requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    addEventListener(type, listener, options) {
      const counted = typeof listener === 'function' ? (event) => { bench.events += 1; return listener.call(this, event); } : listener;
      return super.addEventListener(type, counted, options);
    }
  };
})();`;

const pageCycle = ['shoppers', 'map', 'review', 'alerts', 'labels', 'devices', 'ops', 'sync'];

export async function runDashboardBench(options: DashboardBenchOptions = {}): Promise<DashboardBenchResult> {
  if (!existsSync(chromiumPath)) throw errors.EDGE_ERR_CLI_USAGE(`bench dashboard needs Chromium at ${chromiumPath}: apt-get install -y chromium`);
  const file = resolve(options.scenario ?? 'simulators/scenarios/checkout-crowded-short.json');
  const seed = options.seed ?? 1;
  const runs = options.runs ?? 3;
  const progress = options.progress ?? (() => {});
  const startedAt = new Date().toISOString();
  const scenario = { ...loadScenarioFile(file), seed };
  const records: DashboardRunRecord[] = [];
  for (let run = 1; run <= runs; run++) {
    options.signal?.throwIfAborted();
    progress(`run ${run}/${runs}: ${scenario.scenario} seed ${seed} with the dashboard open in Chromium`);
    const password = newPassword();
    const passwordHash = await hashPassword(password);
    const browser = await launchChromium();
    try {
      const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
      const page = await context.newPage();
      await page.addInitScript(instrument);
      // The reference: a blank page in the same browser, probed the same way — what the machine
      // alone costs a round trip while the store and Chromium share its cores.
      const blank = await context.newPage();
      // The dashboard is the tab in front (a background tab's animation frames and timers are throttled).
      await page.bringToFront();
      let pageErrors = 0;
      let loads = 0;
      page.on('pageerror', () => (pageErrors += 1));
      page.on('load', () => (loads += 1));
      const probes: number[] = [];
      const reference: number[] = [];
      const switches: number[] = [];
      let pages = 0;
      let stop = false;
      let watching: Promise<void> = Promise.resolve();
      let record: Omit<DashboardRunRecord, 'run' | 'wallMs' | 'visits' | 'messages'> | undefined;
      const t0 = performance.now();
      const report = await runScenario(scenario, {
        vision: false,
        users: [{ name: 'bench-manager', role: 'manager', passwordHash }],
        onAgentStarted: async (agent: StoreAgent) => {
          const origin = agent.httpUrl;
          const login = await page.request.post(`${origin}/api/auth/login`, { data: { name: 'bench-manager', password }, headers: { origin } });
          if (!login.ok()) throw errors.EDGE_ERR_INTERNAL(`bench dashboard: login answered ${login.status()}: ${await login.text()}`);
          await page.goto(`${origin}/#/shoppers`, { waitUntil: 'load' });
          await page.waitForSelector('main[data-ready="shoppers"]', { state: 'attached', timeout: 60_000 });
          pages = 1;
          // While the store runs: a probe every 500 ms, another page every 5 s.
          watching = (async () => {
            let next = performance.now() + 5_000;
            while (!stop) {
              const p0 = performance.now();
              await page.evaluate(() => 0);
              probes.push(performance.now() - p0);
              const r0 = performance.now();
              await blank.evaluate(() => 0);
              reference.push(performance.now() - r0);
              if (performance.now() >= next) {
                // Another page: from the click (a hash change) to its data on screen (app.js marks main[data-ready]).
                const id = pageCycle[pages % pageCycle.length]!;
                const s0 = performance.now();
                await page.evaluate(`location.hash = '#/${id}'`);
                await page.waitForSelector(`main[data-ready="${id}"]`, { state: 'attached', timeout: 60_000 });
                switches.push(performance.now() - s0);
                pages += 1;
                next = performance.now() + 5_000;
              }
              await new Promise((r) => setTimeout(r, 500));
            }
          })();
        },
        beforeAgentStops: async () => {
          stop = true;
          await watching;
          const stats = (await page.evaluate(`(() => {
            const b = window.__storeedgeBench;
            return { events: b.events, longTasks: b.longTasks, frames: b.frames, domNodes: document.getElementsByTagName('*').length,
              heap: performance.memory ? performance.memory.usedJSHeapSize : null };
          })()`)) as { events: number; longTasks: number[]; frames: number[]; domNodes: number; heap: number | null };
          const frames = stats.frames.slice(10);
          record = {
            events: stats.events,
            pages,
            longTasks: { count: stats.longTasks.length, totalMs: stats.longTasks.reduce((a, b) => a + b, 0), maxMs: Math.max(0, ...stats.longTasks) },
            frameGapMs: { p50: percentile(frames, 50), p95: percentile(frames, 95), max: Math.max(0, ...frames) },
            probeMs: { p50: percentile(probes, 50), p95: percentile(probes, 95), max: Math.max(0, ...probes), samples: probes.length },
            referenceProbeMs: { p50: percentile(reference, 50), p95: percentile(reference, 95), max: Math.max(0, ...reference), samples: reference.length },
            pageSwitchMs: { p50: percentile(switches, 50), p95: percentile(switches, 95), max: Math.max(0, ...switches), samples: switches.length },
            // Document loads after the first (a hash change between pages is not one).
            reloads: loads - 1,
            domNodes: stats.domNodes,
            heapMb: stats.heap === null ? null : stats.heap / 1024 / 1024,
            pageErrors,
          };
        },
      });
      const wallMs = performance.now() - t0;
      const c = report.checkout as unknown as { visits: number } | undefined;
      const r = report.run as { messages?: Record<string, number> };
      if (!record) throw errors.EDGE_ERR_INTERNAL('bench dashboard: the run ended before the page was read');
      records.push({ run, wallMs: Math.round(wallMs), visits: c?.visits ?? 0, messages: Object.values(r.messages ?? {}).reduce((a, b) => a + b, 0), ...record });
    } finally {
      await browser.close();
    }
  }
  options.signal?.throwIfAborted();
  progress('pages on a small store, then on a large one (20 000 labels, 2 000 trays)');
  const browser = await launchChromium();
  let stores: DashboardBenchResult['stores'];
  try {
    const small = await measureStorePages(browser, { skus: 200, gondolas: 1 }, progress);
    const large = await measureStorePages(browser, { skus: 20_000, gondolas: 50 }, progress);
    stores = { small, large };
  } finally {
    await browser.close();
  }
  return { suite: 'dashboard', startedAt, finishedAt: new Date().toISOString(), params: { scenario: file, seed, runs }, environment: benchEnvironment(['playwright-core', 'fastify']), runs: records, stores };
}

export function formatDashboardBench(result: DashboardBenchResult): string {
  const m = (pick: (r: DashboardRunRecord) => number) => median(result.runs.map(pick));
  const ms = (x: number) => `${fixed(x, 1)} ms`;
  const header = `dashboard · ${result.params.scenario.split('/').at(-1)} seed ${result.params.seed} · median of ${result.runs.length} run${result.runs.length === 1 ? '' : 's'} · node ${result.environment.node} · Chromium ${chromiumPath}`;
  const table = formatTable(
    [{ header: 'the page while the store runs' }, { header: 'p50', align: 'right' }, { header: 'p95', align: 'right' }, { header: 'max', align: 'right' }],
    [
      ['main-thread round trip (what a click waits for)', ms(m((r) => r.probeMs.p50)), ms(m((r) => r.probeMs.p95)), ms(m((r) => r.probeMs.max))],
      ['… to a blank page in the same browser (reference)', ms(m((r) => r.referenceProbeMs.p50)), ms(m((r) => r.referenceProbeMs.p95)), ms(m((r) => r.referenceProbeMs.max))],
      ['… ratio, dashboard / blank', `${fixed(m((r) => r.probeMs.p50 / r.referenceProbeMs.p50), 2)} ×`, `${fixed(m((r) => r.probeMs.p95 / r.referenceProbeMs.p95), 2)} ×`, ''],
      ['another page: choice → its data on screen', ms(m((r) => r.pageSwitchMs.p50)), ms(m((r) => r.pageSwitchMs.p95)), ms(m((r) => r.pageSwitchMs.max))],
      ['gap between animation frames (16.7 ms = 60 Hz)', ms(m((r) => r.frameGapMs.p50)), ms(m((r) => r.frameGapMs.p95)), ms(m((r) => r.frameGapMs.max))],
    ],
  );
  const runs = formatTable(
    [
      { header: 'run' },
      { header: 'wall', align: 'right' },
      { header: 'visits', align: 'right' },
      { header: 'device msgs', align: 'right' },
      { header: 'events to page', align: 'right' },
      { header: 'events/s', align: 'right' },
      { header: 'page changes', align: 'right' },
      { header: 'long tasks', align: 'right' },
      { header: 'longest', align: 'right' },
      { header: 'reloads', align: 'right' },
      { header: 'DOM nodes', align: 'right' },
      { header: 'JS heap', align: 'right' },
      { header: 'errors', align: 'right' },
    ],
    result.runs.map((r) => [
      String(r.run),
      `${fixed(r.wallMs / 1000, 1)} s`,
      thousands(r.visits),
      thousands(r.messages),
      thousands(r.events),
      fixed(r.events / (r.wallMs / 1000), 0),
      String(r.pages),
      `${r.longTasks.count} (${fixed(r.longTasks.totalMs / 1000, 1)} s)`,
      ms(r.longTasks.maxMs),
      String(r.reloads),
      thousands(r.domNodes),
      r.heapMb === null ? '–' : `${fixed(r.heapMb, 1)} MB`,
      String(r.pageErrors),
    ]),
  );
  const stores = result.stores;
  const sizes = stores
    ? formatTable(
        [
          { header: 'page (median of 3 opens)' },
          { header: `small: ${stores.small.size.labels} labels, ${stores.small.size.trays} trays`, align: 'right' },
          { header: `large: ${thousands(stores.large.size.labels)} labels, ${thousands(stores.large.size.trays)} trays`, align: 'right' },
          { header: 'large / small', align: 'right' },
          { header: 'DOM nodes (large)', align: 'right' },
          { header: 'long tasks (large)', align: 'right' },
        ],
        stores.large.pages.map((large) => {
          const small = stores.small.pages.find((p) => p.page === large.page)!;
          return [large.page, ms(small.loadMs), ms(large.loadMs), `${fixed(large.loadMs / small.loadMs, 1)} ×`, thousands(large.domNodes), ms(large.longTaskMs)];
        }),
      )
    : '';
  const notes = [
    `cpu: ${result.environment.cpuModel}; agent, simulated devices and Chromium share the machine; the simulated store runs faster than real time, so the event rate is above a real store's`,
    ...(stores ? [`store sizes: choice of a page → its data on screen, opened after every label was rendered (large store: ${fixed(stores.large.labelsReadyMs / 1000, 0)} s after start)`] : []),
    'long tasks: main-thread work of 50 ms or more (PerformanceObserver); reloads: document loads after the first (0 = the page only ever updated in place)',
  ];
  return [header, table, '', runs, ...(sizes ? ['', sizes] : []), ...notes.map((n) => `  ${n}`)].join('\n');
}
