import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildDocument } from '../../src/documents.ts';
import { generateSigningKey } from '../../src/keys.ts';
import { formatHlc } from '../../src/hlc.ts';
import { HqStore } from '../../src/hq/hq-store.ts';
import { HQ_SCHEMA_VERSION } from '../../src/hq/schema.ts';
import { batch, record, seqRange, T0 } from './uplink-fixtures.ts';

const signer = generateSigningKey('hq-test');
const E1 = 'epoch-one';
const E2 = 'epoch-two';

describe('HqStore', () => {
  let dir: string;
  let file: string;
  let store: HqStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-hq-store-'));
    file = join(dir, 'hq.db');
    store = HqStore.open(file);
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const reopen = () => {
    store.close();
    store = HqStore.open(file);
  };

  it('opens in WAL with synchronous FULL and the current schema version', () => {
    const db = new Database(file, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(HQ_SCHEMA_VERSION);
    db.close();
  });

  it('stores new records and acks them with a contiguous watermark', () => {
    const ack = store.ingest('s1', batch('s1', E1, [record(1), record(2), record(3)]), T0);
    expect(ack).toEqual({ v: 1, epoch: E1, batch: `${E1}:1-3`, acked: [[1, 3]], watermark: 3, rejected: [] });
    expect(store.count({ store: 's1' })).toBe(3);
    expect(store.records('s1').map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(store.recordByKey('s1', 'receipt:r2')).toMatchObject({ store: 's1', epoch: E1, seq: 2, payload: { receiptId: 'r2', totalMinor: 200 }, receivedAt: T0 });
    expect(store.store('s1')).toMatchObject({ held: 3, lastBatchAt: T0, counters: { batches: 1, recordsNew: 3, recordsDuplicate: 0, recordsRejected: 0 } });
  });

  it('a re-sent batch (same store, epoch, seq and hash) is acked again and not stored twice', () => {
    const b = batch('s1', E1, [record(1), record(2)]);
    store.ingest('s1', b, T0);
    const again = store.ingestDetailed('s1', b, T0 + 1);
    expect(again.ack).toMatchObject({ acked: [[1, 2]], watermark: 2, rejected: [] });
    expect(again).toMatchObject({ stored: 0, duplicates: 2 });
    expect(store.count({ store: 's1' })).toBe(2);
    expect(store.duplicates('s1')).toBe(2);
    expect(store.duplicates()).toBe(2);
  });

  it('the same key and hash under a new epoch (a restored store) is a duplicate, and the new epoch\'s watermark passes it', () => {
    store.ingest('s1', batch('s1', E1, [record(1), record(2)]), T0);
    // The restored store re-sends receipt r2 as seq 1 of its new epoch, then a new receipt.
    const r2 = record(2);
    const ack = store.ingestDetailed('s1', batch('s1', E2, [{ ...r2, seq: 1 }, { ...record(3), seq: 2 }]), T0);
    expect(ack.ack).toMatchObject({ epoch: E2, acked: [[1, 2]], watermark: 2, rejected: [] });
    expect(ack).toMatchObject({ stored: 1, duplicates: 1 });
    expect(store.count({ store: 's1' })).toBe(3);
    expect(store.recordByKey('s1', 'receipt:r2')).toMatchObject({ epoch: E1, seq: 2 });
    // The alias is an identity of its own: the same content again is a duplicate, other content a conflict.
    expect(store.ingest('s1', batch('s1', E2, [{ ...r2, seq: 1 }]), T0).acked).toEqual([[1, 1]]);
    const other = record(9);
    const conflict = store.ingest('s1', batch('s1', E2, [{ ...other, seq: 1 }]), T0);
    expect(conflict.acked).toEqual([]);
    expect(conflict.rejected).toEqual([{ seq: 1, code: 'SYNC_ERR_UPLINK_CONFLICT', reason: expect.stringContaining('already held') }]);
  });

  it('a different content under a held (store, epoch, seq) is a conflict: refused, logged, the first copy kept', () => {
    store.ingest('s1', batch('s1', E1, [record(1), record(2)]), T0);
    const forged = record(2, { payload: { receiptId: 'r2', totalMinor: 1 } });
    const result = store.ingestDetailed('s1', batch('s1', E1, [forged, record(3)]), T0 + 5);
    expect(result.ack.acked).toEqual([[3, 3]]);
    expect(result.ack.rejected).toEqual([{ seq: 2, code: 'SYNC_ERR_UPLINK_CONFLICT', reason: expect.stringContaining('seq 2') }]);
    expect(result.ack.watermark).toBe(3);
    expect(store.recordBySeq('s1', E1, 2)?.payload).toEqual({ receiptId: 'r2', totalMinor: 200 });
    const [logged] = store.rejects({ store: 's1' });
    expect(logged).toMatchObject({ store: 's1', epoch: E1, seq: 2, code: 'SYNC_ERR_UPLINK_CONFLICT', hash: forged.hash, times: 1, record: { payload: { totalMinor: 1 } } });
    // The same refusal again is counted on its log row, not logged twice.
    store.ingest('s1', batch('s1', E1, [forged]), T0 + 9);
    expect(store.rejects({ store: 's1' })).toEqual([expect.objectContaining({ seq: 2, times: 2, firstAt: T0 + 5, lastAt: T0 + 9 })]);
    expect(store.store('s1')?.counters.recordsRejected).toBe(2);
  });

  it('a held key with a different content under a new seq is a conflict', () => {
    store.ingest('s1', batch('s1', E1, [record(1)]), T0);
    const reused = { ...record(1, { payload: { receiptId: 'r1', totalMinor: 5 } }), seq: 2 };
    const ack = store.ingest('s1', batch('s1', E1, [reused]), T0);
    expect(ack.rejected).toEqual([{ seq: 2, code: 'SYNC_ERR_UPLINK_CONFLICT', reason: expect.stringContaining('key receipt:r1') }]);
    expect(store.count({ store: 's1' })).toBe(1);
    expect(store.recordByKey('s1', 'receipt:r1')?.payload).toEqual({ receiptId: 'r1', totalMinor: 100 });
  });

  it('a record whose hash is not its content hash is refused as corrupt and not stored', () => {
    const corrupt = { ...record(1), payload: { receiptId: 'r1', totalMinor: 999 } };
    const ack = store.ingest('s1', batch('s1', E1, [corrupt, record(2)]), T0);
    expect(ack.acked).toEqual([[2, 2]]);
    expect(ack.rejected).toEqual([{ seq: 1, code: 'SYNC_ERR_UPLINK_HASH', reason: expect.stringContaining('content hash is') }]);
    expect(store.recordBySeq('s1', E1, 1)).toBeUndefined();
    // Refused for good is settled: the store will not re-send it, so the watermark does not wait for it.
    expect(ack.watermark).toBe(2);
    expect(store.gaps('s1')).toEqual([]);
  });

  it('keeps stores apart: the same key and seq in two stores are two records', () => {
    store.ingest('s1', batch('s1', E1, [record(1)]), T0);
    store.ingest('s2', batch('s2', E1, [record(1, { payload: { other: true } })]), T0);
    expect(store.count()).toBe(2);
    expect(store.storeIds()).toEqual(['s1', 's2']);
  });

  it('refuses to ingest a batch under another store id', () => {
    expect(() => store.ingest('s2', batch('s1', E1, [record(1)]), T0)).toThrow(TypeError);
    expect(store.count()).toBe(0);
  });

  it('advances the watermark only over contiguous seqs and reports the gaps of out-of-order batches', () => {
    expect(store.ingest('s1', batch('s1', E1, [record(7), record(8)]), T0).watermark).toBe(0);
    expect(store.gaps('s1')).toEqual([{ epoch: E1, from: 1, to: 6 }]);
    expect(store.ingest('s1', batch('s1', E1, [record(3), record(4)]), T0).watermark).toBe(0);
    expect(store.gaps('s1')).toEqual([
      { epoch: E1, from: 1, to: 2 },
      { epoch: E1, from: 5, to: 6 },
    ]);
    expect(store.ingest('s1', batch('s1', E1, [record(1), record(2)]), T0).watermark).toBe(4);
    expect(store.gaps('s1')).toEqual([{ epoch: E1, from: 5, to: 6 }]);
    const ack = store.ingest('s1', batch('s1', E1, [record(5), record(6)]), T0);
    expect(ack.watermark).toBe(8);
    expect(store.gaps('s1')).toEqual([]);
    expect(store.store('s1')?.epochs).toEqual([expect.objectContaining({ epoch: E1, watermark: 8, maxSeq: 8, held: 8, gaps: [] })]);
    expect(store.records('s1').map((r) => r.seq)).toEqual(seqRange(1, 8));
  });

  it('advances a watermark across more settled seqs than one page', () => {
    store.ingest('s1', batch('s1', E1, seqRange(2, 2600).map((seq) => record(seq))), T0);
    expect(store.ingest('s1', batch('s1', E1, [record(1)]), T0).watermark).toBe(2600);
  });

  it('keeps watermarks per epoch', () => {
    store.ingest('s1', batch('s1', E1, [record(1), record(2)]), T0);
    const ack = store.ingest('s1', batch('s1', E2, [{ ...record(10), seq: 2 }]), T0 + 1);
    expect(ack.watermark).toBe(0);
    expect(store.gaps('s1')).toEqual([{ epoch: E2, from: 1, to: 1 }]);
    expect(store.store('s1')?.epochs.map((e) => [e.epoch, e.watermark, e.maxSeq])).toEqual([
      [E2, 0, 2],
      [E1, 2, 2],
    ]);
  });

  it('keeps everything across a restart of the file', () => {
    store.ingest('s1', batch('s1', E1, [record(1), record(2), record(5)]), T0);
    store.ingest('s1', batch('s1', E1, [record(2)]), T0);
    store.ingest('s1', batch('s1', E1, [record(1, { payload: { forged: true } })]), T0);
    store.recordStatus('s1', { online: true }, T0);
    const doc = store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (version) => pricesDoc(version, ['s1']), T0);
    reopen();
    expect(store.count({ store: 's1' })).toBe(3);
    expect(store.gaps('s1')).toEqual([{ epoch: E1, from: 3, to: 4 }]);
    expect(store.store('s1')).toMatchObject({ status: { online: true }, held: 3, counters: { batches: 3, recordsNew: 3, recordsDuplicate: 1, recordsRejected: 1 } });
    expect(store.rejects({ store: 's1' })).toHaveLength(1);
    expect(store.document(doc.id)?.version).toBe(1);
    // Dedupe survives: the same records again are duplicates, the next version follows on.
    expect(store.ingestDetailed('s1', batch('s1', E1, [record(1), record(2)]), T0)).toMatchObject({ stored: 0, duplicates: 2 });
    expect(store.ingest('s1', batch('s1', E1, [record(3), record(4)]), T0).watermark).toBe(5);
    expect(store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (version) => pricesDoc(version, ['s1']), T0).version).toBe(2);
  });

  it('lists records by stream and type in causal (hlc) order, with a keyset cursor', () => {
    store.ingest(
      's1',
      batch('s1', E1, [
        record(1, { hlc: formatHlc(T0 + 50, 0) }),
        record(2, { stream: 'stock', type: 'inventory.stock.adjusted', key: 'stock:1', hlc: formatHlc(T0 + 10, 0) }),
        record(3, { hlc: formatHlc(T0 + 20, 0) }),
      ]),
      T0,
    );
    expect(store.records('s1').map((r) => r.seq)).toEqual([2, 3, 1]);
    expect(store.records('s1', { stream: 'receipts' }).map((r) => r.seq)).toEqual([3, 1]);
    expect(store.records('s1', { type: 'inventory.stock.adjusted' }).map((r) => r.key)).toEqual(['stock:1']);
    const [first] = store.records('s1', { limit: 1 });
    expect(store.records('s1', { after: { hlc: first!.hlc, epoch: first!.epoch, seq: first!.seq } }).map((r) => r.seq)).toEqual([3, 1]);
    expect(store.countsByStream('s1')).toEqual({ receipts: 2, stock: 1 });
    expect(store.count({ stream: 'stock' })).toBe(1);
  });

  it('takes document versions per kind, strictly increasing, and records chunks and targets', () => {
    const a = store.createDocument({ kind: 'prices', stores: ['*'], targets: ['s1', 's2'] }, (v) => pricesDoc(v, ['*']), T0);
    const b = store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (v) => pricesDoc(v, ['s1']), T0 + 1);
    const c = store.createDocument({ kind: 'keys', stores: ['*'], targets: ['s1'] }, (v) => keysDoc(v), T0 + 2);
    expect([a.version, b.version, c.version]).toEqual([1, 2, 1]);
    expect(a).toMatchObject({ kind: 'prices', stores: ['*'], targets: [{ store: 's1', sends: 0, sentAt: null, outcome: null }, { store: 's2' }] });
    expect(store.documentChunks(a.id).map((m) => JSON.parse(m) as { header: { id: string } })).toEqual([expect.objectContaining({ index: 0, header: expect.objectContaining({ id: a.id }) })]);
    expect(store.documents({ kind: 'prices' }).map((d) => d.version)).toEqual([2, 1]);
    expect(store.unsentTargets('s1').map((t) => t.docId)).toEqual([a.id, b.id, c.id]);
  });

  it('a store HQ did not know gets the unexpired chain-wide documents published before, once, in publishing order', () => {
    const keys = store.createDocument({ kind: 'keys', stores: ['*'], targets: ['s1'] }, (v) => keysDoc(v), T0);
    store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (v) => pricesDoc(v, ['s1']), T0 + 1);
    store.createDocument({ kind: 'prices', stores: ['*'], targets: ['s1'] }, (v) => pricesDoc(v, ['*'], T0 + 10), T0 + 2);
    const prices = store.createDocument({ kind: 'prices', stores: ['*'], targets: ['s1'] }, (v) => pricesDoc(v, ['*']), T0 + 3);
    expect(store.targetChainWide('s9', T0 + 20)).toBe(2); // not s1's own document, not the expired one
    expect(store.unsentTargets('s9').map((t) => t.docId)).toEqual([keys.id, prices.id]);
    expect(store.targetChainWide('s9', T0 + 30)).toBe(0);
    expect(store.targetChainWide('s1', T0 + 30)).toBe(0);
  });

  it('a build that throws takes no version', () => {
    expect(() =>
      store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, () => { throw new Error('bad body'); }, T0),
    ).toThrow('bad body');
    expect(store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (v) => pricesDoc(v, ['s1']), T0).version).toBe(1);
    expect(store.documents()).toHaveLength(1);
  });

  it('tracks document outcomes from the store\'s applied/refused records, latest report winning', () => {
    const doc = store.createDocument({ kind: 'prices', stores: ['s1', 's2'], targets: ['s1', 's2'] }, (v) => pricesDoc(v, ['s1', 's2']), T0);
    store.markDocumentSent(doc.id, 's1', T0 + 1);
    store.markDocumentSent(doc.id, 's2', T0 + 1);
    expect(store.unsentTargets()).toEqual([]);

    const refused = outcomeRecord(1, 'sync.document.refused', { docId: doc.id, kind: 'prices', version: 1, code: 'SYNC_ERR_DOC_BODY_INVALID', reason: 'bad' }, 100);
    const result = store.ingestDetailed('s1', batch('s1', E1, [refused]), T0 + 2);
    expect(result.documentOutcomes).toEqual([expect.objectContaining({ docId: doc.id, store: 's1', outcome: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID' })]);
    // A re-sent report is a duplicate record and changes nothing.
    expect(store.ingestDetailed('s1', batch('s1', E1, [refused]), T0 + 3).documentOutcomes).toEqual([]);
    const applied = outcomeRecord(2, 'sync.document.applied', { docId: doc.id, kind: 'prices', version: 1, bodySha256: doc.header.bodySha256 }, 200);
    store.ingest('s1', batch('s1', E1, [applied]), T0 + 4);
    // An older report arriving late does not overwrite the newer one.
    const late = outcomeRecord(3, 'sync.document.refused', { docId: doc.id, code: 'SYNC_ERR_DOC_STALE', reason: 'late' }, 150);
    store.ingest('s1', batch('s1', E1, [late]), T0 + 5);

    expect(store.documentOutcome(doc.id, 's1')).toMatchObject({ outcome: 'applied', kind: 'prices', version: 1, code: null, at: T0 + 200 });
    expect(store.document(doc.id)?.targets).toEqual([
      expect.objectContaining({ store: 's1', sends: 1, outcome: expect.objectContaining({ outcome: 'applied' }) }),
      expect.objectContaining({ store: 's2', sends: 1, outcome: null }),
    ]);
    expect(store.storeDocuments('s1')).toEqual([expect.objectContaining({ id: doc.id, version: 1, outcome: expect.objectContaining({ outcome: 'applied' }) })]);

    // What s2 has not answered is queued again (and an expired document would not be).
    expect(store.requeueDocuments({ unansweredOf: 's2', now: T0 + 6 })).toBe(1);
    expect(store.requeueDocuments({ unansweredOf: 's1', now: T0 + 6 })).toBe(0);
    expect(store.unsentTargets()).toEqual([{ docId: doc.id, store: 's2' }]);
  });

  it('keeps an applied document applied when a later refusal comes under its id (a tampered copy the store refused)', () => {
    const doc = store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (v) => pricesDoc(v, ['s1']), T0);
    const applied = outcomeRecord(1, 'sync.document.applied', { docId: doc.id, kind: 'prices', version: 1, bodySha256: doc.header.bodySha256 }, 100);
    store.ingest('s1', batch('s1', E1, [applied]), T0 + 1);
    const tampered = outcomeRecord(2, 'sync.document.refused', { docId: doc.id, kind: 'prices', version: 1, code: 'SYNC_ERR_DOC_BODY_HASH', reason: 'body altered' }, 200);
    const ack = store.ingest('s1', batch('s1', E1, [tampered]), T0 + 2);
    expect(ack.acked).toEqual([[2, 2]]); // held as a record
    expect(store.recordBySeq('s1', E1, 2)).toBeDefined();
    expect(store.documentOutcome(doc.id, 's1')).toMatchObject({ outcome: 'applied', code: null });
  });

  it('keeps outcomes a store reports for documents HQ never signed (a forged one it refused)', () => {
    const forged = outcomeRecord(1, 'sync.document.refused', { docId: 'doc-forged', kind: 'prices', version: 99, code: 'SYNC_ERR_DOC_SIGNATURE', reason: 'signature does not verify' }, 1);
    store.ingest('s1', batch('s1', E1, [forged]), T0);
    expect(store.foreignDocumentOutcomes('s1')).toEqual([expect.objectContaining({ docId: 'doc-forged', outcome: 'refused', code: 'SYNC_ERR_DOC_SIGNATURE' })]);
    // A malformed report is still held as a record; it just names no document.
    const odd = outcomeRecord(2, 'sync.document.applied', { nope: true }, 2);
    expect(store.ingestDetailed('s1', batch('s1', E1, [odd]), T0)).toMatchObject({ stored: 1, documentOutcomes: [] });
  });

  it('does not re-queue expired documents', () => {
    const doc = store.createDocument({ kind: 'prices', stores: ['s1'], targets: ['s1'] }, (v) => pricesDoc(v, ['s1'], T0 + 10), T0);
    store.markDocumentSent(doc.id, 's1', T0);
    expect(store.requeueDocuments({ unansweredOf: 's1', now: T0 + 11 })).toBe(0);
    expect(store.requeueDocuments({ unansweredOf: 's1', now: T0 + 9 })).toBe(1);
  });

  it('opens read-only beside a writer, and refuses a file that was never migrated', () => {
    store.ingest('s1', batch('s1', E1, [record(1)]), T0);
    const reader = HqStore.open(file, { readonly: true });
    expect(reader.count()).toBe(1);
    reader.close();
    expect(() => HqStore.open(join(dir, 'missing.db'), { readonly: true })).toThrow();
    const blank = join(dir, 'blank.db');
    new Database(blank).close();
    expect(() => HqStore.open(blank, { readonly: true })).toThrow(expect.objectContaining({ code: 'SYNC_ERR_HQ_SCHEMA_OLD' }));
  });

  it('refuses a file written by a newer schema', () => {
    store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${HQ_SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => HqStore.open(file)).toThrow(expect.objectContaining({ code: 'SYNC_ERR_HQ_SCHEMA_TOO_NEW' }));
    store = HqStore.open(':memory:');
  });
});

function pricesDoc(version: number, stores: string[], expiresAt?: number) {
  return buildDocument({ kind: 'prices', version, stores, issuedAt: T0, ...(expiresAt ? { expiresAt } : {}), body: { prices: [{ sku: 'A', priceMinor: 100 }] } }, signer);
}

function keysDoc(version: number) {
  return buildDocument({ kind: 'keys', version, stores: ['*'], issuedAt: T0, body: { add: [], revoke: [] } }, signer);
}

function outcomeRecord(seq: number, type: string, payload: Record<string, unknown>, atOffset: number) {
  return record(seq, { stream: 'sync', type, key: `${type}:${String(payload.docId)}:${seq}`, payload, at: T0 + atOffset, hlc: formatHlc(T0 + atOffset, 0) });
}
