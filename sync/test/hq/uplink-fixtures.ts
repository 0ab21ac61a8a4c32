import { formatHlc } from '../../src/hlc.ts';
import { contentHash, type UplinkBatch, type UplinkRecord } from '../../src/uplink.ts';

/** Test records and batches as a store's uplink relay would send them. */

export const T0 = 1_764_000_000_000;

export function record(seq: number, overrides: Partial<Omit<UplinkRecord, 'hash' | 'seq'>> = {}): UplinkRecord {
  const fields = {
    seq,
    stream: 'receipts',
    type: 'checkout.receipt.issued',
    key: `receipt:r${seq}`,
    at: T0 + seq * 1000,
    hlc: formatHlc(T0 + seq * 1000, 0),
    payload: { receiptId: `r${seq}`, totalMinor: seq * 100 },
    ...overrides,
  };
  return { ...fields, hash: contentHash(fields) };
}

export function batch(store: string, epoch: string, records: UplinkRecord[], id?: string): UplinkBatch {
  const seqs = records.map((r) => r.seq);
  return { v: 1, store, epoch, batch: id ?? `${epoch}:${Math.min(...seqs)}-${Math.max(...seqs)}`, records };
}

export function seqRange(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}
