import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/canonical.ts';
import { formatHlc } from '../src/hlc.ts';
import { contentHash, fromRanges, hasValidContentHash, parseUplinkAck, parseUplinkBatch, toRanges, type UplinkRecord } from '../src/uplink.ts';

function record(seq: number, payload: unknown = { total: 199, lines: [{ sku: 'A', qty: 1 }] }): UplinkRecord {
  const fields = { stream: 'receipts', type: 'checkout.receipt.issued', key: `receipt:${seq}`, at: 1_764_000_000_000 + seq, payload };
  return { seq, hlc: formatHlc(fields.at, 0), ...fields, hash: contentHash(fields) };
}

const batch = { v: 1, store: 's1', epoch: 'e9f', batch: 'e9f:1-3', records: [record(1), record(2), record(3)] };

describe('contentHash', () => {
  it('is sha256 of the canonical JSON of stream, type, key, at and payload', () => {
    const r = record(1);
    expect(contentHash(r)).toBe(
      sha256Hex('{"at":1764000000001,"key":"receipt:1","payload":{"lines":[{"qty":1,"sku":"A"}],"total":199},"stream":"receipts","type":"checkout.receipt.issued"}'),
    );
  });

  it('is stable: the same content in any key order hashes the same (pinned value)', () => {
    const a = contentHash({ stream: 's', type: 't', key: 'k', at: 1, payload: { b: 2, a: 1 } });
    const b = contentHash({ payload: { a: 1, b: 2 }, at: 1, key: 'k', type: 't', stream: 's' } as never);
    expect(a).toBe(b);
    expect(a).toBe(sha256Hex('{"at":1,"key":"k","payload":{"a":1,"b":2},"stream":"s","type":"t"}'));
  });

  it('ignores seq, hlc and hash (identity, not content) but sees every content change', () => {
    const r = record(1);
    const otherIdentity: UplinkRecord = { ...r, seq: 99, hlc: formatHlc(5, 5), hash: 'x' };
    expect(contentHash(otherIdentity)).toBe(r.hash);
    for (const change of [{ stream: 'stock' }, { type: 'x' }, { key: 'receipt:2' }, { at: r.at + 1 }, { payload: { total: 198, lines: [{ sku: 'A', qty: 1 }] } }]) {
      expect(contentHash({ ...r, ...change }), JSON.stringify(change)).not.toBe(r.hash);
    }
    expect(hasValidContentHash(r)).toBe(true);
    expect(hasValidContentHash({ ...r, payload: { total: 1 } })).toBe(false);
    expect(hasValidContentHash({ ...r, payload: { n: Number.NaN } })).toBe(false);
  });
});

describe('ranges', () => {
  it('merge, sort and deduplicate', () => {
    expect(toRanges([5, 1, 2, 3, 3, 9, 8, 10, 12])).toEqual([[1, 3], [5, 5], [8, 10], [12, 12]]);
    expect(toRanges([])).toEqual([]);
    expect(toRanges(new Set([7]))).toEqual([[7, 7]]);
  });

  it('round-trip through fromRanges', () => {
    const seqs = [1, 2, 3, 7, 9, 10, 11, 100];
    expect(fromRanges(toRanges(seqs))).toEqual(seqs);
    expect(fromRanges([[3, 5], [1, 4]])).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuse non-integers, inverted ranges and runaway spans', () => {
    expect(() => toRanges([1, 1.5])).toThrow(RangeError);
    expect(() => fromRanges([[5, 4]])).toThrow(RangeError);
    expect(() => fromRanges([[1, 1e15]])).toThrow(/more than/);
    expect(() => fromRanges([[1, 10]], 9)).toThrow(/more than 9/);
  });
});

describe('parseUplinkBatch', () => {
  it('accepts a batch as text or bytes', () => {
    const text = JSON.stringify(batch);
    expect(parseUplinkBatch(text)).toEqual({ ok: true, batch });
    expect(parseUplinkBatch(Buffer.from(text))).toEqual({ ok: true, batch });
  });

  it.each<[string, unknown]>([
    ['garbage JSON', '{"v":1,'],
    ['not UTF-8', Buffer.from([0x7b, 0xfe, 0x7d])],
    ['v 2', { ...batch, v: 2 }],
    ['an extra field', { ...batch, extra: true }],
    ['no records', { ...batch, records: [] }],
    ['a store id with a slash', { ...batch, store: 's1/up' }],
    ['records out of order', { ...batch, records: [record(2), record(1)] }],
    ['a repeated seq', { ...batch, records: [record(1), record(1)] }],
    ['seq 0', { ...batch, records: [record(0)] }],
    ['a fractional seq', { ...batch, records: [{ ...record(1), seq: 1.5 }] }],
    ['a bad hlc', { ...batch, records: [{ ...record(1), hlc: '2025-01-01' }] }],
    ['an uppercase hash', { ...batch, records: [{ ...record(1), hash: record(1).hash.toUpperCase() }] }],
    ['an extra record field', { ...batch, records: [{ ...record(1), device: 'x' }] }],
    ['too many records', { ...batch, records: Array.from({ length: 10_001 }, (_, i) => record(i + 1)) }],
  ])('refuses %s as SYNC_ERR_UPLINK_MALFORMED', (_name, input) => {
    const raw = typeof input === 'string' || Buffer.isBuffer(input) ? input : JSON.stringify(input);
    const result = parseUplinkBatch(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.code).toBe('SYNC_ERR_UPLINK_MALFORMED');
      expect(result.reason.length).toBeGreaterThan(0);
    }
  });

  it('leaves the hash check to HQ: a wrong but well-formed hash still parses', () => {
    const wrong = { ...batch, records: [{ ...record(1), hash: sha256Hex('other') }] };
    const result = parseUplinkBatch(JSON.stringify(wrong));
    expect(result.ok).toBe(true);
    if (result.ok) expect(hasValidContentHash(result.batch.records[0]!)).toBe(false);
  });
});

describe('parseUplinkAck', () => {
  const ack = { v: 1, epoch: 'e9f', batch: 'e9f:118-317', acked: [[118, 199], [201, 317]], watermark: 317, rejected: [{ seq: 200, code: 'SYNC_ERR_UPLINK_CONFLICT', reason: 'key reused' }] };

  it('accepts an ack', () => {
    expect(parseUplinkAck(JSON.stringify(ack))).toEqual({ ok: true, ack });
    expect(parseUplinkAck(Buffer.from(JSON.stringify({ ...ack, acked: [], rejected: [], watermark: 0 }))).ok).toBe(true);
  });

  it.each<[string, unknown]>([
    ['garbage', 'ack!'],
    ['an inverted range', { ...ack, acked: [[317, 118]] }],
    ['a three-element range', { ...ack, acked: [[1, 2, 3]] }],
    ['a negative watermark', { ...ack, watermark: -1 }],
    ['a missing rejected list', { ...ack, rejected: undefined }],
    ['an extra field', { ...ack, store: 's1' }],
    ['a rejected entry without reason', { ...ack, rejected: [{ seq: 1, code: 'SYNC_ERR_UPLINK_HASH' }] }],
  ])('refuses %s as SYNC_ERR_ACK_MALFORMED', (_name, input) => {
    const result = parseUplinkAck(typeof input === 'string' ? input : JSON.stringify(input));
    expect(result).toMatchObject({ ok: false, code: 'SYNC_ERR_ACK_MALFORMED' });
  });
});
