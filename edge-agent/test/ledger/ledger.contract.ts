import { afterEach, describe, expect, it } from 'vitest';
import { StoreEdgeError, errors } from '../../src/errors.ts';
import { canonicalJson, sha256Hex } from '../../src/ledger/canonical.ts';
import { GENESIS_HASH } from '../../src/ledger/chain.ts';
import type { Ledger, LedgerOptions } from '../../src/ledger/ledger.ts';
import type { Db, LedgerEvent, Projection } from '../../src/ledger/types.ts';

/** Opens a fresh, empty ledger each call. */
export type LedgerFactory = (options?: LedgerOptions) => Ledger;

/** A clock that ticks 1 ms per reading, from a fixed start: no real time in these tests. */
export function steppingClock(start = 1_700_000_000_000): () => number {
  let now = start - 1;
  return () => (now += 1);
}

/**
 * Records every event it is given in `contract_applied`; throws (after writing) for events
 * whose payload has `explode: true`, so a rollback must undo its own write too.
 */
function recordingProjection(): Projection {
  return {
    name: 'contract-recorder',
    migrate: (db: Db) => db.exec('CREATE TABLE IF NOT EXISTS contract_applied (seq INTEGER PRIMARY KEY, key TEXT NOT NULL)'),
    reset: (db: Db) => db.exec('DELETE FROM contract_applied'),
    apply(db: Db, event: LedgerEvent) {
      db.prepare('INSERT INTO contract_applied (seq, key) VALUES (?, ?)').run(event.seq, event.key);
      if ((event.payload as { explode?: boolean }).explode) throw new Error(`projection refuses ${event.key}`);
    },
  };
}

const appliedKeys = (ledger: Ledger) => ledger.db.prepare('SELECT key FROM contract_applied ORDER BY seq').pluck().all();

function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(StoreEdgeError);
  expect((thrown as StoreEdgeError).code).toBe(code);
}

/**
 * The behaviour every ledger backend must have. Run by ledger.test.ts against ':memory:' and
 * a file; a new storage backend runs it too.
 */
export function ledgerContract(name: string, makeLedger: LedgerFactory): void {
  describe(`ledger contract: ${name}`, () => {
    const opened: Ledger[] = [];
    const open = (options: LedgerOptions = {}) => {
      const ledger = makeLedger({ now: steppingClock(), projections: [recordingProjection()], ...options });
      opened.push(ledger);
      return ledger;
    };
    afterEach(() => {
      for (const ledger of opened.splice(0)) ledger.close();
    });

    it('starts empty', () => {
      const ledger = open();
      expect(ledger.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(ledger.stats()).toMatchObject({ events: 0, outboxPending: 0, head: { seq: 0, hash: GENESIS_HASH } });
      expect(ledger.events()).toEqual([]);
      expect(ledger.verifyChain()).toEqual({ ok: true, checked: 0 });
    });

    it('assigns consecutive seqs and chains each hash to the one before', () => {
      const ledger = open({ now: steppingClock(1000) });
      const events = ['a', 'b', 'c'].map((key, i) => ledger.append({ type: 'test.added', stream: 's', key, payload: { i } }).event);

      expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(events.map((e) => e.at)).toEqual([1000, 1001, 1002]);
      expect(events[0]!.prevHash).toBe(GENESIS_HASH);
      expect(events[1]!.prevHash).toBe(events[0]!.hash);
      expect(events[2]!.prevHash).toBe(events[1]!.hash);
      // The documented definition, byte for byte.
      expect(events[0]!.hash).toBe(
        sha256Hex(`{"at":1000,"key":"a","payload":{"i":0},"prevHash":"${GENESIS_HASH}","seq":1,"stream":"s","type":"test.added"}`),
      );
      for (const e of events) {
        const { hash, ...fields } = e;
        expect(hash).toBe(sha256Hex(canonicalJson(fields)));
      }
      expect(ledger.head()).toEqual({ seq: 3, hash: events[2]!.hash });
      expect(ledger.get(2)).toEqual(events[1]);
      expect(ledger.getByKey('c')).toEqual(events[2]);
      expect(ledger.get(4)).toBeUndefined();
      expect(ledger.getByKey('nope')).toBeUndefined();
      expect(appliedKeys(ledger)).toEqual(['a', 'b', 'c']);
    });

    it('stores payloads in canonical form and returns them as stored', () => {
      const ledger = open();
      const { event } = ledger.append({
        type: 't',
        stream: 's',
        key: 'k',
        payload: { b: 1, a: { d: [1, { z: 1, y: 2 }], c: null }, gone: undefined },
      });
      const stored = { a: { c: null, d: [1, { y: 2, z: 1 }] }, b: 1 };
      expect(event.payload).toEqual(stored);
      expect(ledger.get(1)!.payload).toEqual(stored);
      expect(ledger.db.prepare('SELECT payload FROM events WHERE seq = 1').pluck().get()).toBe('{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}');
    });

    it('refuses a payload without a JSON form and writes nothing', () => {
      const ledger = open();
      expect(() => ledger.append({ type: 't', stream: 's', key: 'k', payload: { weight: Number.NaN } })).toThrow(TypeError);
      expect(() => ledger.append({ type: 't', stream: 's', key: 'k', payload: [1, undefined] })).toThrow(/undefined/);
      expect(() => ledger.append({ type: '', stream: 's', key: 'k', payload: {} })).toThrow(TypeError);
      expect(ledger.head().seq).toBe(0);
    });

    it('returns the stored event when a key is appended again with the same content', () => {
      const ledger = open();
      const first = ledger.append({ type: 't', stream: 's', key: 'k', payload: { a: 1, b: [2, 3] }, outbox: true });
      const again = ledger.append({ type: 't', stream: 's', key: 'k', payload: { b: [2, 3], a: 1 }, outbox: true });

      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ event: first.event, duplicate: true });
      expect(ledger.head()).toEqual({ seq: 1, hash: first.event.hash });
      expect(ledger.outboxPending()).toHaveLength(1);
      expect(appliedKeys(ledger)).toEqual(['k']);
    });

    it('refuses a key reused with a different type, stream or payload', () => {
      const ledger = open();
      ledger.append({ type: 't', stream: 's', key: 'k', payload: { a: 1 } });
      const code = errors.EDGE_ERR_LEDGER_IDEMPOTENCY_CONFLICT.code;
      expectCode(() => ledger.append({ type: 't', stream: 's', key: 'k', payload: { a: 2 } }), code);
      expectCode(() => ledger.append({ type: 'u', stream: 's', key: 'k', payload: { a: 1 } }), code);
      expectCode(() => ledger.append({ type: 't', stream: 'r', key: 'k', payload: { a: 1 } }), code);
      expect(ledger.head().seq).toBe(1);
      expect(ledger.verifyChain()).toEqual({ ok: true, checked: 1 });
    });

    it('appendMany writes every event or none', () => {
      const ledger = open();
      const batch = [1, 2, 3, 4, 5].map((n) => ({ type: 't', stream: 's', key: `k${n}`, payload: { n, explode: n === 3 }, outbox: true }));

      expect(() => ledger.appendMany(batch)).toThrow('projection refuses k3');
      expect(ledger.head()).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(ledger.events()).toEqual([]);
      expect(ledger.outboxPending()).toEqual([]);
      expect(appliedKeys(ledger)).toEqual([]);

      const results = ledger.appendMany(batch.map((input) => ({ ...input, payload: { n: input.payload.n } })));
      expect(results.map((r) => [r.event.seq, r.duplicate])).toEqual([[1, false], [2, false], [3, false], [4, false], [5, false]]);
      const mixed = ledger.appendMany([
        { type: 't', stream: 's', key: 'k2', payload: { n: 2 } },
        { type: 't', stream: 's', key: 'k6', payload: { n: 6 } },
      ]);
      expect(mixed.map((r) => [r.event.seq, r.duplicate])).toEqual([[2, true], [6, false]]);
      expect(ledger.outboxPending().map((p) => p.seq)).toEqual([1, 2, 3, 4, 5]);
    });

    it('a projection that throws rolls back a single append', () => {
      const ledger = open();
      expect(() => ledger.append({ type: 't', stream: 's', key: 'bad', payload: { explode: true }, outbox: true })).toThrow('projection refuses bad');
      expect(ledger.head().seq).toBe(0);
      expect(ledger.stats().outboxPending).toBe(0);
      expect(appliedKeys(ledger)).toEqual([]);
      expect(ledger.append({ type: 't', stream: 's', key: 'good', payload: {} }).event.seq).toBe(1);
    });

    it('transaction() commits appends and the caller’s own writes together, or neither', () => {
      const ledger = open();
      ledger.db.exec('CREATE TABLE contract_notes (note TEXT)');
      const note = ledger.db.prepare('INSERT INTO contract_notes (note) VALUES (?)');
      const notes = () => ledger.db.prepare('SELECT note FROM contract_notes ORDER BY rowid').pluck().all();

      expect(() =>
        ledger.transaction(() => {
          ledger.append({ type: 't', stream: 's', key: 'x1', payload: {} });
          note.run('x1');
          throw new Error('caller changed its mind');
        }),
      ).toThrow('caller changed its mind');
      expect(ledger.head().seq).toBe(0);
      expect(notes()).toEqual([]);

      const value = ledger.transaction(() => {
        ledger.append({ type: 't', stream: 's', key: 'a', payload: {} });
        note.run('a');
        try {
          // A failing inner unit (savepoint) is undone alone; the outer one carries on.
          ledger.transaction(() => {
            ledger.append({ type: 't', stream: 's', key: 'b', payload: {} });
            note.run('b');
            throw new Error('inner fails');
          });
        } catch {
          /* expected */
        }
        ledger.append({ type: 't', stream: 's', key: 'c', payload: {} });
        return 'done';
      });
      expect(value).toBe('done');
      expect(ledger.events().map((e) => [e.seq, e.key])).toEqual([[1, 'a'], [2, 'c']]);
      expect(notes()).toEqual(['a']);
      expect(ledger.verifyChain()).toEqual({ ok: true, checked: 2 });
    });

    it('outbox: pending rows in seq order per stream; a failure keeps its place; sent rows leave', () => {
      const ledger = open({ now: steppingClock(5000) });
      const add = (key: string, stream: string, outbox: boolean) => ledger.append({ type: 't', stream, key, payload: { key }, outbox }).event;
      add('e1', 'carts', true);
      add('e2', 'receipts', true);
      add('e3', 'carts', false);
      add('e4', 'carts', true);
      add('e5', 'receipts', true);

      const all = ledger.outboxPending();
      expect(all.map((p) => p.seq)).toEqual([1, 2, 4, 5]);
      expect(all[0]).toMatchObject({ seq: 1, stream: 'carts', createdAt: 5000, attempts: 0, lastError: null });
      expect(all[0]!.event).toEqual(ledger.get(1));
      expect(ledger.outboxPending({ stream: 'carts' }).map((p) => p.seq)).toEqual([1, 4]);
      expect(ledger.outboxPending({ stream: 'receipts', limit: 1 }).map((p) => p.seq)).toEqual([2]);
      expect(ledger.stats().outboxPending).toBe(4);

      const [first, second] = all;
      ledger.markFailed(first!.id, 'hq unreachable');
      ledger.markFailed(first!.id, 'timeout');
      const carts = ledger.outboxPending({ stream: 'carts' });
      expect(carts.map((p) => p.seq)).toEqual([1, 4]);
      expect(carts[0]).toMatchObject({ attempts: 2, lastError: 'timeout' });

      ledger.markSent([first!.id, second!.id]);
      ledger.markSent([first!.id, 9999]); // repeated and unknown acks are harmless
      expect(ledger.outboxPending().map((p) => p.seq)).toEqual([4, 5]);
      expect(ledger.outboxPending({ stream: 'carts' }).map((p) => p.seq)).toEqual([4]);
      expect(ledger.stats().outboxPending).toBe(2);
    });

    it('events() filters by fromSeq, stream, type and limit, in ascending seq', () => {
      const ledger = open();
      for (let i = 1; i <= 12; i++) {
        ledger.append({ type: i % 3 === 0 ? 'b.type' : 'a.type', stream: i % 2 === 0 ? 'even' : 'odd', key: `k${i}`, payload: { i } });
      }
      const seqs = (events: LedgerEvent[]) => events.map((e) => e.seq);
      expect(seqs(ledger.events())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      expect(seqs(ledger.events({ fromSeq: 10 }))).toEqual([10, 11, 12]);
      expect(seqs(ledger.events({ limit: 2 }))).toEqual([1, 2]);
      expect(seqs(ledger.events({ stream: 'even' }))).toEqual([2, 4, 6, 8, 10, 12]);
      expect(seqs(ledger.events({ type: 'b.type' }))).toEqual([3, 6, 9, 12]);
      expect(seqs(ledger.events({ stream: 'even', type: 'b.type' }))).toEqual([6, 12]);
      expect(seqs(ledger.events({ stream: 'odd', fromSeq: 4, limit: 2 }))).toEqual([5, 7]);
      expect(ledger.events({ stream: 'none' })).toEqual([]);
      expect(ledger.events({ fromSeq: 3, limit: 1 })[0]).toEqual(ledger.get(3));
    });

    it('verifyChain checks every event', () => {
      const ledger = open();
      for (let i = 0; i < 25; i++) ledger.append({ type: 't', stream: `s${i % 4}`, key: `k${i}`, payload: { i, text: 'é ✓ "q"' } });
      expect(ledger.verifyChain()).toEqual({ ok: true, checked: 25 });
    });

    it('replay rebuilds projections from the log', () => {
      const ledger = open();
      for (let i = 0; i < 7; i++) ledger.append({ type: 't', stream: 's', key: `k${i}`, payload: { i } });
      ledger.db.exec("DELETE FROM contract_applied WHERE seq > 2; INSERT INTO contract_applied VALUES (99, 'stray')");
      expect(ledger.replay()).toEqual({ events: 7 });
      expect(appliedKeys(ledger)).toEqual(['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6']);
    });

    it('stats() reports head, size and pending outbox', () => {
      const ledger = open();
      const { event } = ledger.append({ type: 't', stream: 's', key: 'k', payload: {}, outbox: true });
      const stats = ledger.stats();
      const pageCount = ledger.db.pragma('page_count', { simple: true }) as number;
      const pageSize = ledger.db.pragma('page_size', { simple: true }) as number;
      expect(stats).toEqual({ events: 1, bytes: pageCount * pageSize, head: { seq: 1, hash: event.hash }, outboxPending: 1, outboxRejected: 0 });
      expect(stats.bytes).toBeGreaterThan(0);
    });

    it('close() can be called twice', () => {
      const ledger = open();
      ledger.close();
      expect(() => ledger.close()).not.toThrow();
      expect(ledger.db.open).toBe(false);
    });
  });
}
