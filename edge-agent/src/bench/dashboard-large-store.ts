/**
 * The large-store part of `storeedge bench dashboard`: the manager's pages on a store of 20 000
 * SKUs with 20 000 shelf labels and 2 000 trays (50 gondolas × 10 bays × 4 shelves), beside the
 * same pages on a small store (200 SKUs and labels, 20 trays) measured in the same run — so the
 * ratio shows what the store's size costs. Each page is opened three times after the agent has
 * rendered every label; per page: choice → data on screen (app.js marks main[data-ready]), the
 * DOM nodes it built, and the long tasks while it loaded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { StoreModelInput } from '@storeedge/device-drivers';
import { generateLabelStore, labelStoreGeneration } from '@storeedge/simulators';
import { StoreAgent } from '../agent.ts';
import { loadConfig } from '../config/load.ts';
import { errors } from '../errors.ts';
import { hashPassword, newPassword } from '../http/auth/index.ts';
import { silentLogger } from '../log.ts';
import { median } from './stats.ts';

export interface StoreSize {
  skus: number;
  labels: number;
  gondolas: number;
  /** Trays = gondolas × 10 bays × 4 shelves. */
  trays: number;
}

export interface PageLoad {
  page: string;
  /** Median of the opens, ms. */
  loadMs: number;
  domNodes: number;
  longTaskMs: number;
}

export interface StorePagesRecord {
  size: StoreSize;
  /** Wall time until every label was rendered (before any page was opened). */
  labelsReadyMs: number;
  pages: PageLoad[];
}

const pages = ['shoppers', 'review', 'alerts', 'labels', 'devices', 'map', 'sync', 'ops'];
const opens = 3;

/** A store model of `gondolas` × 10 bays × 4 shelves of one tray each, and `skus` products with a label each. */
export function benchStoreModel(skus: number, gondolas: number): StoreModelInput {
  const generated = generateLabelStore(labelStoreGeneration.parse({ skus, gateways: Math.max(1, Math.round(skus / 1000)) }), 1);
  let next = 0;
  const trayOf = new Map<string, string>();
  const model: StoreModelInput = {
    catalog: generated.catalog,
    zones: [{ id: 'z1' }],
    gondolas: Array.from({ length: gondolas }, (_, g) => ({
      id: `g${g + 1}`,
      zone: 'z1',
      placement: { x: 2 + (g % 5) * 11, y: 3 + Math.floor(g / 5) * 3, axis: 'x' as const, side: (g % 2 === 0 ? -1 : 1) as -1 | 1, bayWidthM: 1 },
      bays: Array.from({ length: 10 }, (_, b) => ({
        id: `g${g + 1}b${b + 1}`,
        shelves: Array.from({ length: 4 }, (_, s) => {
          const sku = generated.catalog[next++ % generated.catalog.length]!.sku;
          const trayId = `g${g + 1}b${b + 1}s${s + 1}`;
          trayOf.set(sku, trayId);
          return { id: `${trayId}-shelf`, trays: [{ id: trayId, device: `shelf-g${g + 1}-b${b + 1}`, channel: s, facings: [{ sku, capacity: 10, minLevel: 2, initial: 8 }] }] };
        }),
      })),
    })),
    labels: generated.labels.map((l) => (trayOf.has(l.sku) ? { ...l, trayId: trayOf.get(l.sku)! } : l)),
  };
  return model;
}

/** Opens every page `opens` times on an agent of the given size; the agent and its files are gone after. */
export async function measureStorePages(browser: Browser, size: { skus: number; gondolas: number }, progress: (line: string) => void): Promise<StorePagesRecord> {
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-dashboard-'));
  const password = newPassword();
  const model = benchStoreModel(size.skus, size.gondolas);
  const config = loadConfig(
    {
      storeId: 'bench-store',
      dataDir: dir,
      broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
      http: { host: '127.0.0.1', port: 0, users: [{ name: 'bench-manager', role: 'manager', passwordHash: await hashPassword(password) }] },
      log: { level: 'warn' },
      ledger: { synchronous: 'normal' },
      vision: { enabled: false },
      store: { model },
    },
    dir,
  );
  const t0 = performance.now();
  const agent = await StoreAgent.start(config, { logger: silentLogger() });
  const context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
  try {
    await agent.labels.idle();
    const labelsReadyMs = performance.now() - t0;
    const trays = size.gondolas * 40;
    progress(`store of ${size.skus} SKUs, ${model.labels!.length} labels, ${trays} trays — labels rendered after ${(labelsReadyMs / 1000).toFixed(0)} s`);
    const page = await context.newPage();
    await page.addInitScript(`(() => { const b = window.__storeedgeBench = { longTasks: [] };
      try { new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true }); } catch {} })();`);
    const origin = agent.httpUrl;
    const login = await page.request.post(`${origin}/api/auth/login`, { data: { name: 'bench-manager', password }, headers: { origin } });
    if (!login.ok()) throw errors.EDGE_ERR_INTERNAL(`bench dashboard: login answered ${login.status()}`);
    await page.goto(`${origin}/#/shoppers`, { waitUntil: 'load' });
    await page.waitForSelector('main[data-ready="shoppers"]', { state: 'attached', timeout: 120_000 });
    const loads: PageLoad[] = [];
    for (const id of pages) {
      const times: number[] = [];
      let domNodes = 0;
      let longTaskMs = 0;
      for (let i = 0; i < opens; i++) {
        // Away and back, so each open builds the page anew.
        await page.evaluate(`location.hash = '#/${id === 'sync' ? 'ops' : 'sync'}'`);
        await page.waitForSelector(`main[data-ready="${id === 'sync' ? 'ops' : 'sync'}"]`, { state: 'attached', timeout: 120_000 });
        const before = (await page.evaluate('window.__storeedgeBench.longTasks.reduce((a, b) => a + b, 0)')) as number;
        const s0 = performance.now();
        await page.evaluate(`location.hash = '#/${id}'`);
        await page.waitForSelector(`main[data-ready="${id}"]`, { state: 'attached', timeout: 120_000 });
        times.push(performance.now() - s0);
        domNodes = (await page.evaluate("document.getElementById('main').getElementsByTagName('*').length")) as number;
        longTaskMs += ((await page.evaluate('window.__storeedgeBench.longTasks.reduce((a, b) => a + b, 0)')) as number) - before;
      }
      loads.push({ page: id, loadMs: median(times), domNodes, longTaskMs: longTaskMs / opens });
    }
    return { size: { skus: size.skus, labels: model.labels!.length, gondolas: size.gondolas, trays }, labelsReadyMs, pages: loads };
  } finally {
    await context.close();
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
