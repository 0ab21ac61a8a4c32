import { contentHash } from '@storeedge/sync';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/index.ts';
import { toRecord, uplinkPayload } from '../../src/sync/uplink-relay.ts';

// G12: shopper identifiers stay in the store. A receipt's payment token is for the payment
// hand-off only; what goes up is the pseudonymous session id, the lines and the amounts.
describe('uplink payload', () => {
  it('drops store-only members at any depth and keeps everything else', () => {
    const payload = { receiptId: 'r1', sessionId: 'v-9', token: 'qr:alice-phone', lines: [{ sku: 'cola', qty: 2, token: 'x' }], totalMinor: 200 };
    expect(uplinkPayload(payload)).toEqual({ receiptId: 'r1', sessionId: 'v-9', lines: [{ sku: 'cola', qty: 2 }], totalMinor: 200 });
    expect(uplinkPayload([1, 'a', null])).toEqual([1, 'a', null]);
  });

  it('sends a receipt without its token, hashed as sent, the same on every re-send', () => {
    const ledger = Ledger.open(':memory:', { now: () => 1_000 });
    ledger.append({ type: 'checkout.receipt.issued', stream: 'receipts', key: 'receipt:r1', payload: { receiptId: 'r1', token: 'pay:4111', totalMinor: 350 }, outbox: true });
    const row = ledger.outboxPending()[0]!;
    const first = toRecord(row);
    expect(JSON.stringify(first)).not.toContain('pay:4111');
    expect(first.payload).toEqual({ receiptId: 'r1', totalMinor: 350 });
    expect(first.hash).toBe(contentHash({ stream: 'receipts', type: 'checkout.receipt.issued', key: 'receipt:r1', at: 1_000, payload: first.payload }));
    expect(toRecord(ledger.outboxPending()[0]!)).toEqual(first);
    ledger.close();
  });
});
