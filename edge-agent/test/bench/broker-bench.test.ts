import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatBrokerBench, runBrokerBench } from '../../src/bench/broker-bench.ts';
import { findMosquitto } from '../../src/bench/mosquitto.ts';
import { runBenchCommand } from '../../src/cli/bench-command.ts';

// Smoke runs only: nothing here asserts on wall-clock figures (msg/s, latency), only on counts and shape.
const mosquitto = findMosquitto();

describe('storeedge bench broker (smoke: 5 devices × 2 messages)', () => {
  it('delivers every message on every path and qos, and prints one row per path and qos plus the ratio', async () => {
    const result = await runBrokerBench({ devices: 5, messages: 2, runs: 1, warmup: 0 });
    const paths = mosquitto.found ? ['storeedge', 'mosquitto'] : ['storeedge'];
    expect(result.rows.map((r) => `${r.path}/${r.qos}`)).toEqual(
      [0, 1].flatMap((qos) => paths.map((p) => `${p}/${qos}`)),
    );
    for (const row of result.rows) {
      expect(row.runs).toHaveLength(1);
      expect(row.runs[0]).toMatchObject({ sent: 10, received: 10, lost: 0, duplicates: 0, unmatched: 0, publishErrors: 0, timedOut: false });
      expect(row.median.lost).toBe(0);
    }
    const lines = formatBrokerBench(result).split('\n');
    expect(lines[0]).toMatch(/^broker ingest · 5 devices × 2 msgs · median of 1 run · node v\d+/);
    const tableRows = lines.filter((l) => /^(storeedge|mosquitto|ratio)/.test(l) && l.includes(' | '));
    expect(tableRows.map((l) => l.split('|').slice(0, 2).map((c) => c.trim()).join('/'))).toEqual([
      ...[0, 1].flatMap((qos) => paths.map((p) => `${result.rows.find((r) => r.path === p)!.label}/${qos}`)),
      ...(mosquitto.found ? ['ratio storeedge/mosquitto/0', 'ratio storeedge/mosquitto/1'] : []),
    ]);
    expect(lines.some((l) => l.includes('ingest rate limit raised'))).toBe(true);
    if (!mosquitto.found) expect(lines.some((l) => l.startsWith('reference skipped:'))).toBe(true);
  });

  it('skips the reference on request and says why', async () => {
    const result = await runBrokerBench({ devices: 2, messages: 1, runs: 1, warmup: 0, qos: [1], mosquitto: false });
    expect(result.rows.map((r) => r.path)).toEqual(['storeedge']);
    expect(result.ratios).toEqual([]);
    expect(formatBrokerBench(result)).toContain('reference skipped: disabled');
  });
});

describe('storeedge bench (command)', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses bad arguments as usage errors before starting anything', async () => {
    for (const args of [['nope'], ['--devices', '0'], ['--runs', 'x'], ['--qos', '2'], ['--client', 'paho'], ['--mosquitto', '/x', '--no-reference']]) {
      await expect(runBenchCommand(args), args.join(' ')).rejects.toMatchObject({ code: 'EDGE_ERR_CLI_USAGE' });
    }
  });

  it('prints the table and writes the JSON with every run, the environment and the medians', async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-test-'));
    const out = join(dir, 'nested', 'broker.json');
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = await runBenchCommand(['broker', '--devices', '3', '--messages', '2', '--runs', '2', '--warmup', '0', '--qos', '0', '--no-reference', '--out', out]);
    expect(code).toBe(0);
    const text = stdout.join('');
    expect(text).toContain('broker ingest · 3 devices × 2 msgs · median of 2 runs');
    expect(text).toMatch(/json: .*broker\.json/);
    const json = JSON.parse(readFileSync(out, 'utf8'));
    expect(json).toMatchObject({
      suite: 'broker',
      command: expect.stringContaining('storeedge bench broker'),
      params: { devices: 3, messages: 2, runs: 2, qos: [0] },
      environment: { node: process.version, mosquitto: { skipped: expect.any(String) } },
      setup: { storeedge: { ledgerSynchronous: 'full' } },
    });
    expect(json.rows).toHaveLength(1);
    expect(json.rows[0].runs).toHaveLength(2);
    expect(json.rows[0].runs.every((r: { received: number }) => r.received === 6)).toBe(true);
    expect(Object.keys(json.rows[0].median).sort()).toEqual(['brokerBusy', 'generatorLoop', 'lost', 'msgPerSec', 'p50Ms', 'p99Ms']);
  });
});
