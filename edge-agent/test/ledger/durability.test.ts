import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.ts';
import { tallyProjection, tallySnapshot } from './fixtures/tally-projection.ts';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const childScript = 'edge-agent/test/ledger/fixtures/append-child.ts';
const acksBeforeKill = 200;

interface Ack {
  seq: number;
  key: string;
}

/**
 * Runs the append child until it has acknowledged at least `count` appends, then SIGKILLs it
 * (no exit handlers, no close, no checkpoint) and resolves with every ack it printed.
 */
function appendUntilKilled(file: string, count: number): Promise<{ acks: Ack[]; signal: NodeJS.Signals | null }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', childScript, file], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? ''; // a torn last line is not an ack
      for (const line of lines) {
        const match = /^ack (\d+) (\S+)$/.exec(line);
        if (!match) return reject(new Error(`unexpected child output: ${JSON.stringify(line)}`));
        acks.push({ seq: Number(match[1]), key: match[2]! });
      }
      if (acks.length >= count && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child ended with code ${code} before it was killed:\n${stderr}`));
      resolvePromise({ acks, signal });
    });
  });
}

describe('durability under kill -9', () => {
  let dir = '';
  let ledger: Ledger | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-kill9-'));
  });
  afterEach(() => {
    ledger?.close();
    ledger = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged append, with a valid chain and a projection equal to its replay', async () => {
    const file = join(dir, 'ledger.db');
    const { acks, signal } = await appendUntilKilled(file, acksBeforeKill);
    expect(signal).toBe('SIGKILL');
    expect(acks.length).toBeGreaterThanOrEqual(acksBeforeKill);

    ledger = Ledger.open(file, { projections: [tallyProjection] });
    for (const ack of acks) expect(ledger.getByKey(ack.key)?.seq, ack.key).toBe(ack.seq);
    expect(acks.map((a) => a.seq)).toEqual(acks.map((_, i) => i + 1));
    expect(ledger.head().seq).toBeGreaterThanOrEqual(acks.length);

    const verdict = ledger.verifyChain();
    expect(verdict).toEqual({ ok: true, checked: ledger.head().seq });

    const recovered = tallySnapshot(ledger.db);
    expect(ledger.replay()).toEqual({ events: ledger.head().seq });
    expect(tallySnapshot(ledger.db)).toEqual(recovered);
    // Outbox rows committed with their events: every tally.batch event has one.
    const batches = ledger.events({ type: 'tally.batch' }).map((e) => e.seq);
    expect(ledger.outboxPending({ stream: 'receipts' }).map((p) => p.seq)).toEqual(expect.arrayContaining(batches));
  });
});
