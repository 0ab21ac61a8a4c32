import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreEdgeError, errors } from '../../src/errors.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { LEDGER_SCHEMA_VERSION } from '../../src/ledger/schema.ts';
import { ledgerContract, steppingClock } from './ledger.contract.ts';

ledgerContract(':memory:', (options) => Ledger.open(':memory:', options));

describe('file-backed ledger', () => {
  let dir = '';
  let files = 0;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-ledger-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  ledgerContract('file', (options) => Ledger.open(join(dir, `ledger-${++files}.db`), options));

  describe('on disk', () => {
    const opened: Ledger[] = [];
    const open = (file: string, options: Parameters<typeof Ledger.open>[1] = {}) => {
      const ledger = Ledger.open(file, { now: steppingClock(), ...options });
      opened.push(ledger);
      return ledger;
    };
    afterEach(() => {
      for (const ledger of opened.splice(0)) ledger.close();
    });

    it('creates the parent folder and uses WAL, synchronous FULL and foreign keys', () => {
      const file = join(dir, 'nested', 'deeper', 'ledger.db');
      const ledger = open(file);
      expect(existsSync(file)).toBe(true);
      expect(ledger.db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(ledger.db.pragma('synchronous', { simple: true })).toBe(2); // FULL
      expect(ledger.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(ledger.db.pragma('user_version', { simple: true })).toBe(LEDGER_SCHEMA_VERSION);
      expect(open(join(dir, 'normal.db'), { synchronous: 'normal' }).db.pragma('synchronous', { simple: true })).toBe(1);
    });

    it('keeps events across close and reopen, and continues the chain', () => {
      const file = join(dir, 'ledger.db');
      const first = open(file);
      const a = first.append({ type: 't', stream: 's', key: 'a', payload: { v: 1 }, outbox: true }).event;
      first.close();

      const second = open(file);
      expect(second.get(1)).toEqual(a);
      expect(second.outboxPending().map((p) => p.seq)).toEqual([1]);
      const b = second.append({ type: 't', stream: 's', key: 'b', payload: { v: 2 } }).event;
      expect(b).toMatchObject({ seq: 2, prevHash: a.hash });
      expect(second.verifyChain()).toEqual({ ok: true, checked: 2 });
    });

    it('two connections on one file (agent and CLI) append to one unbroken chain', () => {
      const file = join(dir, 'shared.db');
      const agent = open(file);
      const cli = open(file);
      for (let i = 0; i < 20; i++) {
        (i % 3 === 0 ? cli : agent).append({ type: 't', stream: 's', key: `k${i}`, payload: { i } });
      }
      expect(agent.head()).toEqual(cli.head());
      expect(agent.head().seq).toBe(20);
      expect(cli.verifyChain()).toEqual({ ok: true, checked: 20 });
      // The idempotency check sees the other connection's commits too.
      expect(agent.append({ type: 't', stream: 's', key: 'k0', payload: { i: 0 } }).duplicate).toBe(true);
    });

    it('refuses a file written by a newer schema', () => {
      const file = join(dir, 'future.db');
      open(file).close();
      const raw = new Database(file);
      raw.pragma(`user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
      raw.close();

      let thrown: unknown;
      try {
        open(file);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(StoreEdgeError);
      expect((thrown as StoreEdgeError).code).toBe(errors.EDGE_ERR_LEDGER_SCHEMA_TOO_NEW.code);
    });

    it('refuses to update or delete events through SQL', () => {
      const ledger = open(join(dir, 'guarded.db'));
      ledger.append({ type: 't', stream: 's', key: 'a', payload: {} });
      expect(() => ledger.db.prepare("UPDATE events SET payload = '{}' WHERE seq = 1").run()).toThrow(/append-only/);
      expect(() => ledger.db.prepare('DELETE FROM events').run()).toThrow(/append-only/);
    });
  });
});
