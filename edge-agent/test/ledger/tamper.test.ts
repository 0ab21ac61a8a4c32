import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreEdgeError, errors } from '../../src/errors.ts';
import { canonicalJson } from '../../src/ledger/canonical.ts';
import { eventHash } from '../../src/ledger/chain.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { steppingClock } from './ledger.contract.ts';
import { tallyProjection, tallySnapshot } from './fixtures/tally-projection.ts';

/**
 * Someone with the file and the sqlite3 shell: they edit rows directly (after dropping the
 * append-only triggers, which only guard against bugs). The hash chain must name the first
 * seq that no longer verifies.
 */
describe('tamper detection', () => {
  let dir = '';
  let file = '';
  let ledger: Ledger | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-tamper-'));
    file = join(dir, 'ledger.db');
    const writer = Ledger.open(file, { now: steppingClock(), projections: [tallyProjection] });
    for (let i = 1; i <= 10; i++) {
      writer.append({ type: 'tally.add', stream: 'receipts', key: `receipt-${i}`, payload: { amount: i * 100 } });
    }
    writer.close();
  });
  afterEach(() => {
    ledger?.close();
    ledger = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const tamper = (sql: string, ...params: unknown[]) => {
    const raw = new Database(file);
    raw.exec('DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;');
    raw.prepare(sql).run(...params);
    raw.close();
  };
  const reopen = () => (ledger = Ledger.open(file, { projections: [tallyProjection] }));

  it('an untouched file verifies', () => {
    expect(reopen().verifyChain()).toEqual({ ok: true, checked: 10 });
  });

  it('finds an edited payload', () => {
    tamper(`UPDATE events SET payload = '{"amount":1}' WHERE seq = 5`);
    expect(reopen().verifyChain()).toMatchObject({ ok: false, brokenAt: 5, reason: expect.stringMatching(/hash/) });
  });

  it('finds a payload edit that keeps the JSON meaning but not the canonical bytes', () => {
    tamper(`UPDATE events SET payload = '{ "amount": 500 }' WHERE seq = 5`);
    expect(reopen().verifyChain()).toMatchObject({ ok: false, brokenAt: 5, reason: expect.stringMatching(/canonical/) });
  });

  it('finds a deleted middle row', () => {
    tamper('DELETE FROM events WHERE seq = 6');
    expect(reopen().verifyChain()).toMatchObject({ ok: false, brokenAt: 6, reason: expect.stringMatching(/missing/) });
  });

  it('finds a deleted first row', () => {
    tamper('DELETE FROM events WHERE seq = 1');
    expect(reopen().verifyChain()).toMatchObject({ ok: false, brokenAt: 1 });
  });

  it('finds an edited hash', () => {
    tamper(`UPDATE events SET hash = ? WHERE seq = 7`, 'f'.repeat(64));
    expect(reopen().verifyChain()).toMatchObject({ ok: false, brokenAt: 7 });
  });

  it('finds a rewritten event whose own hash was recomputed, at the next link', () => {
    const raw = new Database(file, { readonly: true });
    const row = raw.prepare('SELECT * FROM events WHERE seq = 4').get() as { type: string; stream: string; key: string; at: number; prev_hash: string };
    raw.close();
    const payload = { amount: 1 };
    const forged = eventHash({ seq: 4, type: row.type, stream: row.stream, key: row.key, payload, at: row.at, prevHash: row.prev_hash });
    tamper('UPDATE events SET payload = ?, hash = ? WHERE seq = 4', canonicalJson(payload), forged);
    expect(reopen().verifyChain()).toMatchObject({ ok: false, brokenAt: 5, reason: expect.stringMatching(/prev_hash/) });
  });

  it('refuses to replay a broken chain and leaves the projection as it was', () => {
    tamper(`UPDATE events SET payload = '{"amount":1}' WHERE seq = 3`);
    const opened = reopen();
    const before = tallySnapshot(opened.db);
    let thrown: unknown;
    try {
      opened.replay();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StoreEdgeError);
    expect((thrown as StoreEdgeError).code).toBe(errors.EDGE_ERR_LEDGER_CHAIN_BROKEN.code);
    expect(tallySnapshot(opened.db)).toEqual(before);
  });
});
