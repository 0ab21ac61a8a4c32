import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { parseUplinkBatch } from '@storeedge/sync';
import { HqStore, type IngestResult } from '@storeedge/sync/hq/index.ts';
import { eventHash } from '../../src/ledger/chain.ts';
import { Ledger } from '../../src/ledger/index.ts';
import { syncSettingsSchema } from '../../src/sync/settings.ts';
import { UplinkRelay } from '../../src/sync/uplink-relay.ts';
import { FakeClock, flush } from './fake-clock.ts';

/**
 * Tamper evidence (research/sync.md G9, T10 on HQ's side): every uplink batch carries the store
 * ledger's checkpoint — its head and the chain hash at earlier seqs — and HQ keeps every mark.
 * Someone who rewrites a receipt in the store's ledger file and recomputes the hash chain from
 * there passes the agent's own chain check at start; HQ sees the fork at the next batch.
 */

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Store {
  ledger: Ledger;
  relay: UplinkRelay;
  clock: FakeClock;
  append(n: number): void;
  /** Lets the relay send everything pending and HQ ack it. */
  sync(): Promise<void>;
  close(): void;
}

let receipts = 0;

function openStore(file: string, hq: HqStore, results: IngestResult[], clock = new FakeClock()): Store {
  const ledger = Ledger.open(file, { now: () => clock.now() });
  const settings = syncSettingsSchema.parse({ upstream: { url: 'mqtt://hq.invalid' }, uplink: { pollIntervalMs: 50, batchRecords: 60 } }).uplink;
  const relay: UplinkRelay = new UplinkRelay({
    ledger,
    storeId: 's1',
    settings,
    clock,
    random: () => 1,
    publish: async (payload) => {
      const parsed = parseUplinkBatch(payload);
      if (!parsed.ok) throw new Error(parsed.reason);
      const result = hq.ingestDetailed('s1', parsed.batch, clock.now());
      results.push(result);
      queueMicrotask(() => relay.handleAck(JSON.stringify(result.ack)));
    },
  });
  relay.start();
  relay.connected();
  return {
    ledger,
    relay,
    clock,
    append(n) {
      for (let i = 0; i < n; i++) {
        receipts += 1;
        // Store-only events between the outbox rows: the chain covers them too.
        ledger.append({ type: 'device.seen', stream: 'devices', key: `seen:${receipts}`, payload: { device: 'shelf-1' } });
        ledger.append({ type: 'checkout.receipt.issued', stream: 'checkout', key: `receipt:${receipts}`, payload: { receiptId: `rc-${receipts}`, totalMinor: 100 + receipts }, outbox: true });
      }
    },
    async sync() {
      for (let i = 0; i < 50 && ledger.outboxPending({}).length > 0; i++) {
        clock.advance(100);
        await flush();
      }
      expect(ledger.outboxPending({})).toEqual([]);
    },
    close() {
      relay.stop();
      ledger.close();
    },
  };
}

/** The append-only guard is a trigger in the file: whoever holds the file can drop it, edit, and put it back. */
function withoutGuard(db: Database.Database, edit: () => void): void {
  const triggers = db.prepare<[], { sql: string }>("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'").all();
  db.transaction(() => {
    db.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
    edit();
    for (const t of triggers) db.exec(t.sql);
  })();
}

/** What someone with the file and the code can do: change a receipt and recompute every hash after it, so the chain is consistent again. */
function rewriteReceipt(file: string, receiptId: string, totalMinor: number): number {
  const db = new Database(file);
  const rows = db.prepare<[], { seq: number; type: string; stream: string; key: string; payload: string; at: number; prev_hash: string; hash: string }>('SELECT * FROM events ORDER BY seq').all();
  const target = rows.find((r) => (JSON.parse(r.payload) as { receiptId?: string }).receiptId === receiptId)!;
  const update = db.prepare('UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?');
  let prevHash = rows.find((r) => r.seq === target.seq)!.prev_hash;
  withoutGuard(db, () => {
    for (const row of rows.filter((r) => r.seq >= target.seq)) {
      const payload = row.seq === target.seq ? { ...(JSON.parse(row.payload) as object), totalMinor } : JSON.parse(row.payload);
      const hash = eventHash({ seq: row.seq, type: row.type, stream: row.stream, key: row.key, payload, at: row.at, prevHash });
      update.run(JSON.stringify(payload), prevHash, hash, row.seq);
      prevHash = hash;
    }
  });
  db.close();
  return target.seq;
}

describe('ledger checkpoints (G9)', () => {
  it('HQ keeps the marks of every checkpoint and finds consistent ones consistent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-checkpoint-'));
    dirs.push(dir);
    const hq = HqStore.open(':memory:');
    const results: IngestResult[] = [];
    const store = openStore(join(dir, 'ledger.db'), hq, results);
    store.append(130);
    await store.sync();
    store.append(70);
    await store.sync();
    expect(results.every((r) => r.checkpoint !== null)).toBe(true);
    // Later checkpoints re-prove marks HQ kept (the last acked head, the milestones 100, 200 …), all agreeing.
    expect(results.reduce((n, r) => n + r.checkpoint!.checked, 0)).toBeGreaterThan(results.length);
    expect(results.flatMap((r) => r.checkpoint!.forks)).toEqual([]);
    expect(hq.store('s1')).toMatchObject({ forks: 0, epochs: [{ checkpoint: { seq: store.ledger.head().seq } }] });
    store.close();
    hq.close();
  });

  it('a receipt rewritten in the store\'s file with the chain recomputed passes the agent\'s own check, and HQ sees the fork at the next batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-checkpoint-'));
    dirs.push(dir);
    const file = join(dir, 'ledger.db');
    const hq = HqStore.open(':memory:');
    const results: IngestResult[] = [];
    const store = openStore(file, hq, results);
    store.append(120);
    await store.sync();
    const { receiptId } = store.ledger.events({ type: 'checkout.receipt.issued', limit: 100 }).at(40)!.payload as { receiptId: string };
    store.close();

    const seq = rewriteReceipt(file, receiptId, 1);
    const reopened = openStore(file, hq, results, store.clock);
    // The file is self-consistent: the agent's chain check at start cannot see the rewrite…
    expect(reopened.ledger.verifyChain()).toEqual({ ok: true, checked: reopened.ledger.head().seq });
    const before = results.length;
    reopened.append(1);
    await reopened.sync();
    // …HQ can: the chain hash at a mark it kept (a milestone at or after the rewritten seq) changed.
    const forks = results.slice(before).flatMap((r) => r.checkpoint!.forks);
    expect(forks.length).toBeGreaterThan(0);
    expect(forks[0]).toMatchObject({ store: 's1', epoch: reopened.ledger.epoch });
    expect(forks.every((f) => f.seq >= seq && f.heldHash !== f.claimedHash)).toBe(true);
    expect(hq.store('s1')!.forks).toBe(forks.length);
    expect(hq.checkpointForks('s1')).toHaveLength(forks.length);
    reopened.close();
    hq.close();
  });

  it('an edit without recomputing the chain is caught by the agent itself at the exact seq', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-checkpoint-'));
    dirs.push(dir);
    const file = join(dir, 'ledger.db');
    const ledger = Ledger.open(file);
    ledger.append({ type: 'checkout.receipt.issued', stream: 'checkout', key: 'r1', payload: { receiptId: 'r1', totalMinor: 500 }, outbox: true });
    ledger.append({ type: 'checkout.receipt.issued', stream: 'checkout', key: 'r2', payload: { receiptId: 'r2', totalMinor: 700 }, outbox: true });
    ledger.close();
    const db = new Database(file);
    withoutGuard(db, () => db.prepare("UPDATE events SET payload = json_set(payload, '$.totalMinor', 1) WHERE key = 'r1'").run());
    db.close();
    const again = Ledger.open(file, { projections: [] });
    expect(again.verifyChain()).toMatchObject({ ok: false, brokenAt: 1 });
    again.close();
  });
});
