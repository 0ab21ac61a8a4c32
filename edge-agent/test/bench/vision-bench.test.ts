import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { countMacs, matMulModel, readOnnxGraph, withExtraOutputs } from '../../src/bench/onnx-graph.ts';
import { formatVisionBench, runVisionBench } from '../../src/bench/vision-bench.ts';
import { runBenchCommand } from '../../src/cli/bench-command.ts';

// Shape only: nothing here asserts on wall-clock figures.
describe('onnx graph reading (vision bench FLOPs)', () => {
  it('writes a MatMul model onnxruntime runs, reads it back and counts m·n·k multiply-adds', async () => {
    const model = matMulModel(3, 4, 5);
    const graph = readOnnxGraph(model);
    expect(graph.nodes).toMatchObject([{ opType: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] }]);
    expect(graph.inputs).toEqual(['A', 'B']);
    expect(graph.outputs).toEqual(['Y']);
    const session = await InferenceSession.create(model);
    const ones = (n: number) => new Float32Array(n).fill(1);
    const result = await session.run({ A: new Tensor('float32', ones(12), [3, 4]), B: new Tensor('float32', ones(20), [4, 5]) });
    await session.release();
    expect(result.Y!.dims).toEqual([3, 5]);
    expect([...(result.Y!.data as Float32Array)]).toEqual(new Array(15).fill(4));
    const shapes = new Map([['A', [3, 4]], ['B', [4, 5]], ['Y', [...result.Y!.dims]]]);
    expect(countMacs(graph, shapes).totalMacs).toBe(3 * 5 * 4);
  });

  it('re-encodes a model without changing it when no outputs are added', async () => {
    const model = matMulModel(2, 2, 2);
    const rewritten = withExtraOutputs(model, []);
    expect(readOnnxGraph(rewritten)).toEqual(readOnnxGraph(model));
    const session = await InferenceSession.create(rewritten);
    await session.release();
  });
});

describe('storeedge bench vision (smoke: 4 crops, 1 worker, MatMul 64)', () => {
  it('counts the model FLOPs and prints one row per path under the header', { timeout: 120_000 }, async () => {
    const result = await runVisionBench({ runs: 2, warmup: 0, crops: 8, distinct: 4, batch: 4, workers: [1], matmul: 64 });
    const [n, c, h, w] = result.model.inputShape;
    expect([n, c, h]).toEqual([1, 3, w]);
    expect(result.model.flopsPerCrop).toBe(2 * result.model.macsPerCrop);
    expect(result.model.byOp.find((op) => op.opType === 'Conv')!.nodes).toBeGreaterThan(0);
    // The first convolution sees the 3 colour channels.
    expect(result.model.layers[0]).toMatchObject({ opType: 'Conv', weight: [expect.any(Number), 3, expect.any(Number), expect.any(Number)] });
    expect(result.cropsRendered).toMatchObject({ count: 4, sizePx: w });
    expect(result.peaks.map((p) => p.threads)[0]).toBe(1);
    const ids = result.rows.map((r) => r.id);
    expect(ids.slice(0, 5)).toEqual(['preprocess-raw', 'preprocess-jpeg', 'embed-t1-b1', 'embed-t1-b4', 'session-t1-b4']);
    expect(ids.at(-1)).toBe('service-w1');
    for (const row of result.rows) {
      expect(row.runs).toHaveLength(2);
      expect(row.median.cropsPerSec).toBeGreaterThan(0);
      expect(row.gflops === null).toBe(row.kind === 'preprocess');
    }
    const service = result.rows.at(-1)!;
    expect(service.runs[0]!.requestMs!.count).toBe(8);
    expect(service.median.p95RequestMs).toBeGreaterThan(0);

    const lines = formatVisionBench(result).split('\n');
    expect(lines[0]).toMatch(new RegExp(`^vision · ${result.model.name} ${result.model.version} · ${w}×${w} crops · [\\d.]+ MFLOP/crop · median of 2 runs · node v\\d+.* · load [\\d.]+ → [\\d.]+ \\(1-min\\)$`));
    const table = lines.indexOf(lines.find((l) => l.startsWith('path '))!);
    expect(lines[table]!.split('|').map((x) => x.trim())).toEqual([
      'path', 'threads', 'batch', 'crops/s', 'ms/crop', 'p95 req ms', 'GFLOP/s', 'of peak', 'CPU cores', 'CPU ms/crop', 'GFLOP/CPU-s', 'of peak',
    ]);
    expect(lines[table + 1]).toMatch(/^-+(\|-+)+$/);
    expect(lines.slice(table + 2, table + 2 + result.rows.length).map((l) => l.split('|').length)).toEqual(result.rows.map(() => 12));
    expect(lines.find((l) => l.startsWith('peak: float32 MatMul 64×64 · 64×64'))).toBeDefined();
    expect(lines.find((l) => l.startsWith('total (FLOPs = 2 × MACs)'))).toBeDefined();
  });
});

describe('storeedge bench vision (command)', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses other suites\' flags and bad numbers as usage errors', async () => {
    for (const args of [['vision', '--devices', '5'], ['vision', '--trays', '6'], ['vision', '--seed', '2'], ['vision', '--crops', '0'], ['vision', '--matmul', 'x'], ['shelves', '--crops', '8']]) {
      await expect(runBenchCommand(args), args.join(' ')).rejects.toMatchObject({ code: 'EDGE_ERR_CLI_USAGE' });
    }
  });

  it('prints the table and writes the JSON with every run', { timeout: 180_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-vision-'));
    const out = join(dir, 'vision.json');
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runBenchCommand(['vision', '--runs', '1', '--warmup', '0', '--crops', '8', '--matmul', '64', '--out', out])).toBe(0);
    expect(stdout.join('')).toMatch(/^vision · .* · median of 1 run · /);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({ suite: 'vision', command: expect.stringContaining('storeedge bench vision'), params: { runs: 1, crops: 8, matmul: 64 } });
    expect(json.rows.length).toBeGreaterThanOrEqual(6);
    expect(json.environment.loadAverage.start).toHaveLength(3);
  });
});
