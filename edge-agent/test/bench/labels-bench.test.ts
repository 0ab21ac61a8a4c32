import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatLabelsBench, storeWideScenario, type LabelsBenchResult } from '../../src/bench/labels-bench.ts';
import { runBenchCommand } from '../../src/cli/bench-command.ts';

// Shape only: nothing here asserts on wall-clock figures. The store-wide figures are simulated time.
describe('storeedge bench labels (scenario)', () => {
  it('builds a store-wide change with nothing else on the radio', () => {
    const scenario = storeWideScenario({ labels: 40, gateways: 2, seed: 3, atMs: 180_000, settleMs: 7_200_000 });
    expect(scenario.seed).toBe(3);
    expect(scenario.labels).toMatchObject({
      generate: { skus: 40, gateways: 2 },
      durationMs: 181_000,
      settleMs: 7_200_000,
      priceChanges: { storeWideAtMs: [180_000] },
      radio: { rebootsPerTagPerDay: 0, outOfRangeShare: 0, rangeChurn: null },
      gatewayRestarts: [],
    });
    // No batch of price changes and no purchase falls inside the run.
    expect(scenario.labels!.priceChanges.everyMs).toBeGreaterThanOrEqual(scenario.labels!.durationMs);
    expect(scenario.labels!.purchases.everyMs).toBeGreaterThanOrEqual(scenario.labels!.durationMs);
  });
});

describe('storeedge bench labels (command)', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("refuses other suites' flags and bad numbers as usage errors", async () => {
    for (const args of [
      ['labels', '--devices', '5'],
      ['labels', '--crops', '8'],
      ['labels', '--warmup', '1'],
      ['labels', '--labels', '0'],
      ['labels', '--gateways', '501'],
      ['labels', '--labels', '10', '--gateways', '11'],
      ['labels', '--per-type', 'x'],
      ['vision', '--labels', '500'],
      ['broker', '--gateways', '5'],
    ]) {
      await expect(runBenchCommand(args), args.join(' ')).rejects.toMatchObject({ code: 'EDGE_ERR_CLI_USAGE' });
    }
  });

  it('prints both tables and writes the JSON with every run (40 labels on 2 gateways)', { timeout: 240_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-labels-'));
    const out = join(dir, 'labels.json');
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runBenchCommand(['labels', '--runs', '1', '--per-type', '1', '--labels', '40', '--gateways', '2', '--out', out])).toBe(0);

    const json = JSON.parse(readFileSync(out, 'utf8')) as LabelsBenchResult & { command: string };
    expect(json).toMatchObject({ suite: 'labels', command: expect.stringContaining('storeedge bench labels'), params: { runs: 1, perType: 1, labels: 40, gateways: 2, seed: 1 } });
    const types = [...new Set(json.render.map((r) => r.tagType))];
    expect(json.render).toHaveLength(types.length * json.params.workers.length);
    for (const row of json.render) expect(row.runs).toHaveLength(1);

    const s = json.storeWide;
    expect(Object.values(s.tagTypes).reduce((a, b) => a + b, 0)).toBe(40);
    expect(s).toMatchObject({ labels: 40, gateways: 2, superseded: 0, converged: 40, wrongPriceShown: 0 });
    // The install and the change each put every label on the air once; the change waited for the install.
    expect(s.installBytes).toBeGreaterThan(0);
    expect(s.bytes).toBeGreaterThan(0);
    expect(s.confirmMs).not.toBeNull();
    expect(s.confirmMs!).toBeLessThan(s.atMs);
    // No label can show its new price faster than the radio carries the bytes.
    expect(s.confirmMs!).toBeGreaterThanOrEqual(s.airTimeMs - 1_000);
    expect(s.lowerBoundMs).toBe(Math.round(s.airTimeMs + s.radio.checkinIntervalMs));

    const lines = stdout.join('').split('\n');
    expect(lines[0]).toMatch(/^labels · render · 1 labels per tag type per run · median of 1 run · \d+ cores /);
    expect(lines[1]!.split('|').map((c) => c.trim()).slice(0, 4)).toEqual(['tag type', 'px', 'bytes', '1 worker labels/s']);
    expect(lines.slice(3, 3 + types.length).map((l) => l.split('|')[0]!.trim())).toEqual(types);
    const store = lines.findIndex((l) => l.startsWith('store-wide price change · 40 labels on 2 gateways'));
    expect(store).toBeGreaterThan(0);
    expect(lines[store + 1]!.split('|').map((c) => c.trim())).toEqual([
      'labels', 'gateways', 'MB on air', 'confirmed after', 'lower bound', 'confirm / bound', 'air-time floor', 'confirm / floor', 'sim wall',
    ]);
    expect(lines[store + 3]).toMatch(/^40 +\| +2 \|/);
    expect(formatLabelsBench(json)).toBe(lines.slice(0, lines.findIndex((l) => l.startsWith('json: '))).join('\n'));
  });
});
