/**
 * `storeedge bench labels`: how many shelf labels the renderer makes per second, per tag type,
 * through LabelRenderer with one worker and with one worker per core — the whole pipeline a
 * price change takes: validation, layout, SVG, sharp raster, quantising, bit planes, zlib and
 * content hash (no PNG preview).
 *
 * Labels: `perType` different contents per run (names cycled from a Latin and Chinese list, every
 * price different), so no two labels of a run are the same bytes. Runs are interleaved: each round
 * measures every (tag type, workers) row once, so a change in the machine's load hits all rows
 * alike; a row reports the median over the measured rounds. The 1-minute load average at the start
 * and end is recorded.
 */
import { availableParallelism, loadavg } from 'node:os';
import { tagTypes } from '@storeedge/device-drivers';
import type { LabelContent } from '../labels/render/content.ts';
import { LabelRenderer } from '../labels/render/renderer.ts';
import { benchEnvironment, type BenchEnvironment } from './environment.ts';
import { median } from './stats.ts';
import { fixed } from './table.ts';

export interface LabelRenderBenchOptions {
  /** Worker counts to measure (default [1, availableParallelism()]). */
  workers?: readonly number[];
  /** Measured rounds (default 3), after one unreported warm-up round. */
  runs?: number;
  /** Labels rendered per tag type per run (default 40). */
  perType?: number;
  /** Tag type ids (default every registered type). */
  tagTypes?: readonly string[];
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

export interface LabelRenderRunRecord {
  run: number;
  labels: number;
  wallMs: number;
  labelsPerSec: number;
  /** Process CPU time (all threads) / wall time: 1 = one core busy. */
  cpuCores: number;
  encodedBytesMean: number;
}

export interface LabelRenderRow {
  tagType: string;
  width: number;
  height: number;
  palette: string;
  workers: number;
  median: { labelsPerSec: number; msPerLabel: number; cpuCores: number; encodedBytes: number };
  runs: LabelRenderRunRecord[];
}

export interface LabelRenderBenchResult {
  suite: 'labels';
  startedAt: string;
  finishedAt: string;
  params: { workers: number[]; runs: number; perType: number; tagTypes: string[] };
  environment: BenchEnvironment & { loadAverage: { start: number[]; end: number[] } };
  rows: LabelRenderRow[];
}

const NAMES = [
  'Bio-Vollmilch 3,5% Fett, frisch 1 L',
  '蒙牛纯牛奶 250毫升×24盒 整箱装',
  'Extra-virgin Cold-pressed Olive Oil from Single-estate Koroneiki Olives, 750 ml',
  '农夫山泉 饮用天然水 550ml',
  'Sourdough Rye Loaf, sliced',
  '康师傅红烧牛肉面 五连包',
  'Granny Smith Apples, loose, per kg',
  '金龙鱼 黄金比例食用调和油 5L',
];

/** The i-th bench label: every one different (price), names cycled, half of them on promotion. */
export function benchLabel(i: number): LabelContent {
  const promo = i % 2 === 0;
  return {
    sku: `SKU-${10_000 + i}`,
    name: NAMES[i % NAMES.length]!,
    priceMinor: 99 + i * 7,
    currency: i % NAMES.length % 2 === 1 ? 'CNY' : 'EUR',
    ...(promo ? { wasPriceMinor: 199 + i * 7, promoText: i % 4 === 0 ? '25% OFF' : '特价' } : {}),
    unitPriceText: `${(0.99 + i / 100).toFixed(2)} / kg`,
    gtin: '04006040011910',
    qrUrl: `https://shop.example.com/p/${10_000 + i}`,
    ...(i % 3 === 0 ? { memberPriceMinor: 89 + i * 7 } : {}),
  };
}

export async function measureLabelRender(options: LabelRenderBenchOptions = {}): Promise<LabelRenderBenchResult> {
  const cores = availableParallelism();
  const workers = [...new Set(options.workers ?? [1, cores])];
  const runs = options.runs ?? 3;
  const perType = options.perType ?? 40;
  const types = tagTypes.filter((t) => !options.tagTypes || options.tagTypes.includes(t.id));
  const progress = options.progress ?? (() => undefined);
  for (const [name, value] of Object.entries({ runs, perType, ...Object.fromEntries(workers.map((w, i) => [`workers[${i}]`, w])) })) {
    if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  if (types.length === 0) throw new RangeError(`no known tag type among ${options.tagTypes?.join(', ')}`);
  const startedAt = new Date().toISOString();
  const loadStart = loadavg().map(round2);

  const renderers = new Map<number, LabelRenderer>();
  try {
    for (const count of workers) renderers.set(count, new LabelRenderer({ workers: count, queueLimit: perType + 16 }));
    const records = new Map<string, LabelRenderRunRecord[]>();
    let serial = 0;
    for (let run = 0; run <= runs; run++) {
      for (const type of types) {
        for (const count of workers) {
          options.signal?.throwIfAborted();
          const renderer = renderers.get(count)!;
          const labels = Array.from({ length: perType }, () => benchLabel(serial++));
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          const rendered = await Promise.all(labels.map((content) => renderer.render(content, type.id)));
          const wallMs = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          const record: LabelRenderRunRecord = {
            run,
            labels: perType,
            wallMs: round2(wallMs),
            labelsPerSec: (perType * 1000) / wallMs,
            cpuCores: (cpu.user + cpu.system) / 1000 / wallMs,
            encodedBytesMean: Math.round(rendered.reduce((n, r) => n + r.encoded.length, 0) / perType),
          };
          const key = `${type.id}|${count}`;
          if (run >= 1) records.set(key, [...(records.get(key) ?? []), record]);
          progress(`${run >= 1 ? `run ${run}/${runs}` : 'warm-up'} · ${type.id} · ${count} worker${count === 1 ? '' : 's'}: ${fixed(record.labelsPerSec, 1)} labels/s`);
        }
      }
    }
    const rows: LabelRenderRow[] = types.flatMap((type) =>
      workers.map((count) => {
        const list = records.get(`${type.id}|${count}`)!;
        const labelsPerSec = median(list.map((r) => r.labelsPerSec));
        return {
          tagType: type.id,
          width: type.width,
          height: type.height,
          palette: type.palette.id,
          workers: count,
          median: { labelsPerSec, msPerLabel: 1000 / labelsPerSec, cpuCores: median(list.map((r) => r.cpuCores)), encodedBytes: median(list.map((r) => r.encodedBytesMean)) },
          runs: list,
        };
      }),
    );
    return {
      suite: 'labels',
      startedAt,
      finishedAt: new Date().toISOString(),
      params: { workers, runs, perType, tagTypes: types.map((t) => t.id) },
      environment: { ...benchEnvironment(['sharp', 'fontkit', 'qrcode']), loadAverage: { start: loadStart, end: loadavg().map(round2) } },
      rows,
    };
  } finally {
    for (const renderer of renderers.values()) await renderer.close();
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
