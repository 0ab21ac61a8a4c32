import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { hasValidContentHash, parseUplinkBatch } from '@storeedge/sync';
import { runSyncBench, type SyncBenchResult } from '../../src/bench/sync-bench.ts';
import { mosquittoPasswordLine } from '../../src/bench/sync-upstream.ts';
import { catalogBody, pricesBody, storeDay, uplinkBatches } from '../../src/bench/sync-workload.ts';
import { runBenchCommand } from '../../src/cli/bench-command.ts';
import { skipWithoutMosquitto } from '../helpers/mosquitto.ts';

// Nothing here asserts on wall-clock figures (events/s, latency): only on counts, identities and shape.

describe('sync bench workload', () => {
  it("models a busy store's day deterministically, every key once, in time order, within 24 h", () => {
    const a = storeDay({ startAt: 1_000_000, model: { receipts: 120 }, keyPrefix: 's1' });
    const b = storeDay({ startAt: 1_000_000, model: { receipts: 120 }, keyPrefix: 's1' });
    expect(a.events).toEqual(b.events);
    expect(a.byType['checkout.receipt.issued']).toBe(120);
    expect(a.byType['checkout.payment.result']).toBe(120);
    expect(a.byType['inventory.shelf.changed']).toBeGreaterThanOrEqual(120);
    expect(new Set(a.events.map((e) => e.input.key)).size).toBe(a.events.length);
    expect(a.events.every((e) => e.input.outbox === true && e.input.key.includes('s1'))).toBe(true);
    expect(a.events.every((e, i) => i === 0 || e.at >= a.events[i - 1]!.at)).toBe(true);
    expect(a.events[0]!.at).toBeGreaterThanOrEqual(1_000_000);
    expect(a.events.at(-1)!.at).toBeLessThan(1_000_000 + 86_400_000);
  });

  it('cuts uplink batches as the relay does: valid batches, seq 1… without gaps, hashes over what is sent (no shopper token)', () => {
    const day = storeDay({ startAt: 1_000_000, model: { receipts: 30 } });
    const batches = uplinkBatches(day.events, { store: 's1', epoch: 'e'.repeat(32), batchRecords: 25, batchBytes: 16 * 1024 });
    const seqs: number[] = [];
    for (const b of batches) {
      const parsed = parseUplinkBatch(b.json);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.batch.records).toHaveLength(b.records);
      expect(b.records).toBeLessThanOrEqual(25);
      expect(b.records === 1 || Buffer.byteLength(b.json) <= 16 * 1024).toBe(true);
      expect(parsed.batch.records.every(hasValidContentHash)).toBe(true);
      seqs.push(...parsed.batch.records.map((r) => r.seq));
    }
    expect(seqs).toEqual(Array.from({ length: day.events.length }, (_, i) => i + 1));
    expect(batches.some((b) => b.json.includes('"token"'))).toBe(false);
  });

  it('documents: a catalog and a price list of n distinct SKUs', () => {
    const catalog = catalogBody(300);
    expect(new Set(catalog.items.map((i) => i.sku)).size).toBe(300);
    expect(catalog.items.every((i) => /^\d{13}$/.test(i.gtin!))).toBe(true);
    expect(pricesBody(300).prices.map((p) => p.sku)).toEqual(catalog.items.map((i) => i.sku));
  });

  it("writes Mosquitto 2 password lines as mosquitto_passwd does ($7$, PBKDF2-SHA512, 101 rounds)", () => {
    // Made with `mosquitto_passwd -b FILE s1 secret` (Mosquitto 2.0.11).
    expect(mosquittoPasswordLine('s1', 'secret', Buffer.from('AMeUHwJHDSTerzi/', 'base64'))).toBe(
      's1:$7$101$AMeUHwJHDSTerzi/$nTXtl58s9m7ts/MqE4dvMQ9AjnEZn3aAUQ71d1eWzZJtU1MHLk8W76ugT5yyjURrloaxVcaRJkTu3MkgGDyKKA==',
    );
  });
});

describe('storeedge bench sync (command)', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('refuses bad arguments as usage errors before starting anything', async () => {
    for (const args of [['sync', '--stores', '0'], ['sync', '--runs', 'x'], ['sync', '--devices', '5'], ['sync', '--labels', '5'], ['broker', '--quick'], ['shelves', '--stores', '3']]) {
      await expect(runBenchCommand(args), args.join(' ')).rejects.toMatchObject({ code: 'EDGE_ERR_CLI_USAGE' });
    }
  });

  it('fails clearly, starting nothing, when Mosquitto is not there', async () => {
    await expect(runSyncBench({ quick: true, runs: 1, mosquitto: '/nonexistent/mosquitto' })).rejects.toMatchObject({
      code: 'EDGE_ERR_UPSTREAM_BROKER',
      message: expect.stringContaining('real Mosquitto'),
    });
  });

  it.skipIf(skipWithoutMosquitto)('runs --quick end to end through a real Mosquitto: every part, every record once, tables and JSON', { timeout: 240_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-sync-test-'));
    const out = join(dir, 'sync.json');
    const stdout: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (stdout.push(String(chunk)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runBenchCommand(['sync', '--quick', '--runs', '1', '--stores', '3', '--out', out])).toBe(0);

    const json = JSON.parse(readFileSync(out, 'utf8')) as SyncBenchResult & { command: string };
    expect(json).toMatchObject({ suite: 'sync', command: 'storeedge bench sync --quick --runs 1 --stores 3 --out ' + out, params: { runs: 1, stores: 3, quick: true } });
    expect(json.environment.mosquitto.config).toContain('allow_anonymous false');
    expect(Object.keys(json.environment.loadAverage).sort()).toEqual(['backlog', 'downlink', 'fleet', 'start', 'uplink']);
    const events = json.params.day.events;
    expect(events).toBeGreaterThan(0);

    // 1. every setting × path; durable runs: HQ holds exactly the store's rows, once.
    expect(json.uplink.rows.map((r) => `${r.setting}/${r.path}`)).toEqual(['default/durable', 'default/echo', 'default/stream', 'large/durable', 'large/echo', 'large/stream']);
    for (const run of json.uplink.runs) {
      expect(run.events).toBe(events * run.repeat);
      expect(run.batches).toBeGreaterThan(0);
      if (run.path === 'durable') expect(run).toMatchObject({ repeat: 1, held: events, duplicates: 0 });
      else expect(run.repeat).toBeGreaterThanOrEqual(1);
    }
    expect(json.uplink.rows.filter((r) => r.path === 'echo').every((r) => r.ofEcho === 1)).toBe(true);

    // 2. both rates; HQ holds the backlog and every live receipt, once.
    expect(json.backlog.rows.map((r) => r.recordsPerSec)).toEqual([500, null]);
    for (const run of json.backlog.runs) {
      expect(run.backlog).toBe(events);
      expect(run.held).toBe(run.backlog + run.live);
      expect(run.duplicates).toBe(0);
      expect(run.liveLatencyMs).toHaveLength(run.live);
    }

    // 3. both documents applied, end to end and in-process; one ledger event per entry plus the outcome.
    expect(json.downlink.runs.map((r) => `${r.kind}:${r.outcome}`)).toEqual(['catalog:applied', 'prices:applied']);
    for (const run of json.downlink.runs) {
      expect(run.chunks).toBeGreaterThan(1);
      expect(run.ledgerEvents).toBe(run.entries + 1);
    }

    // 4. each shape; HQ holds each simulated store's records once, without gaps.
    expect(json.fleet.rows.map((r) => r.shape.name)).toEqual(['backlog', 'live']);
    for (const run of json.fleet.runs) {
      expect(run.stores).toBe(3);
      expect(run.held).toBe(run.records);
      expect(run.heldPerStore).toEqual({ min: run.records / 3, max: run.records / 3 });
      expect(run).toMatchObject({ duplicates: 0, gaps: 0 });
    }
    expect(json.fleet.rows.every((r) => r.exact)).toBe(true);

    const text = stdout.join('');
    expect(text).toMatch(/^sync · median of 1 run · QUICK sizes/);
    for (const title of ['1. uplink throughput with durable acknowledgement', '2. backlog drain after 24 h offline', '3. downlink: signed, chunked documents', '4. 3 stores against one HQ']) {
      expect(text).toContain(title);
    }
    expect(text).not.toContain('(NO)');
    expect(text).toMatch(/json: .*sync\.json/);
  });
});
