import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatShelvesBench, runShelvesBench } from '../../src/bench/shelves-bench.ts';
import { runBenchCommand } from '../../src/cli/bench-command.ts';

// Shape only: nothing here asserts on wall-clock figures.
describe('storeedge bench shelves (smoke: 6 trays × 1 simulated minute)', () => {
  it('measures every rate and prints one row per rate under the header', async () => {
    const result = await runShelvesBench({ trays: 6, minutes: 1, rates: [10, 60], runs: 2, warmup: 0 });
    expect(result.rows.map((r) => r.rateHz)).toEqual([10, 60]);
    for (const row of result.rows) {
      expect(row.runs).toHaveLength(2);
      expect(row.runs[0]!.traySamples).toBe(result.workload.find((w) => w.rateHz === row.rateHz)!.traySamples);
      expect(row.median.traySamplesPerSec).toBeGreaterThan(0);
      expect(row.changes).toBeGreaterThan(0);
      expect(row.runs[0]!.latencyUs.count).toBe(row.runs[0]!.changes);
    }
    const lines = formatShelvesBench(result).split('\n');
    expect(lines[0]).toMatch(/^shelves · weight pipeline · 6 trays × 1 simulated min · median of 2 runs · node v\d+/);
    expect(lines[2]!.split('|').map((c) => c.trim())).toEqual(['rate', 'trays', 'tray samples/s', 'trays in real time', 'p50 µs', 'p99 µs', 'changes']);
    expect(lines[3]).toMatch(/^-+(\|-+)+$/);
    expect(lines[4]).toMatch(/^10 Hz \|\s+6 \|/);
    expect(lines[5]).toMatch(/^60 Hz \|\s+6 \|/);
  });

  it('refuses a tray count that is not whole shelves', async () => {
    await expect(runShelvesBench({ trays: 7, minutes: 1, runs: 1, warmup: 0 })).rejects.toThrow(/multiple of 6/);
  });
});

describe('storeedge bench shelves (command)', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the broker suite\'s flags and bad numbers as usage errors', async () => {
    for (const args of [['shelves', '--devices', '5'], ['shelves', '--qos', '1'], ['shelves', '--trays', '7'], ['shelves', '--minutes', '0'], ['broker', '--trays', '6']]) {
      await expect(runBenchCommand(args), args.join(' ')).rejects.toMatchObject({ code: 'EDGE_ERR_CLI_USAGE' });
    }
  });

  it('prints the table and writes the JSON with every run', async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-shelves-'));
    const out = join(dir, 'shelves.json');
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runBenchCommand(['shelves', '--trays', '6', '--minutes', '1', '--runs', '1', '--warmup', '0', '--out', out])).toBe(0);
    expect(stdout.join('')).toContain('shelves · weight pipeline · 6 trays × 1 simulated min · median of 1 run');
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({ suite: 'shelves', command: expect.stringContaining('storeedge bench shelves'), params: { trays: 6, minutes: 1, runs: 1, rates: [10, 60] } });
    expect(json.rows).toHaveLength(2);
    expect(json.rows[0].runs[0]).toMatchObject({ rateHz: 10, latencyUs: { p50: expect.any(Number) } });
  });
});
