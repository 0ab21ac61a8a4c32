import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical.ts';
import { ibanValid, luhnValid, scanForPii } from '../src/pii-scan.ts';

const kinds = (text: string, secrets?: string[]) => scanForPii(text, secrets ? { secrets } : {}).map((h) => h.kind);

describe('scanForPii (research/sync.md T12)', () => {
  it('finds e-mail addresses, phone numbers, card numbers, IBANs and the store\'s shopper tokens', () => {
    expect(kinds('{"note":"call anna.schmidt@example.de"}')).toEqual(['email']);
    for (const number of ['+49 30 1234567', '+4915123456789', '0049 151 2345 6789', '(030) 123-4567', '+1 (415) 555-0132']) {
      expect({ number, kinds: kinds(`{"customer":"${number}"}`) }).toEqual({ number, kinds: ['phone'] });
    }
    for (const card of ['4111111111111111', '4111 1111 1111 1111', '5500-0000-0000-0004', '378282246310005']) {
      expect({ card, kinds: kinds(`{"pan":"${card}"}`) }).toEqual({ card, kinds: ['card'] });
    }
    expect(kinds('{"iban":"DE89370400440532013000"}')).toEqual(['iban']);
    expect(kinds('{"iban":"GB29 NWBK 6016 1331 9268 19"}')).toEqual(['iban']);
    expect(kinds('{"t":"qTz81LmZpAa0b4c5d6e7f8"}', ['qTz81LmZpAa0b4c5d6e7f8'])).toEqual(['shopper-token']);
  });

  it('masks what it found', () => {
    expect(scanForPii('x anna@example.de')).toEqual([{ kind: 'email', at: 2, preview: 'an***********de' }]);
  });

  it('stays quiet on what the sync contract sends: times, HLC stamps, hashes, ids, amounts', () => {
    const record = {
      v: 1,
      storeId: 'store-1',
      epoch: 'e-0f3c2a9b7d1e4f60',
      records: [
        {
          seq: 1_234_567,
          hlc: '001764000000000.00042',
          at: 1_764_000_000_000,
          key: 'checkout.receipt:rcpt-8f2e1c:1',
          type: 'checkout.receipt.issued',
          sha256: 'a3f1c9e07b2d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789ab',
          payload: { receiptId: 'rcpt-8f2e1c', sessionId: 's-20261206-0042', totalMinor: 1_299, lines: [{ sku: 'cola-330', gtin: '04006381333931', qty: 2 }], sgtin: 'urn:epc:id:sgtin:4006381.033393.1234567890' },
        },
      ],
    };
    expect(scanForPii(canonicalJson(record), { secrets: ['not-in-there-at-all'] })).toEqual([]);
    // Digit runs that fail the checksums are not cards or IBANs.
    expect(kinds('{"n":"4111111111111112","i":"DE89370400440532013001"}')).toEqual([]);
  });

  it('checks Luhn and IBAN check digits', () => {
    expect(luhnValid('79927398713')).toBe(false); // valid Luhn, but shorter than a card
    expect(luhnValid('4012888888881881')).toBe(true);
    expect(luhnValid('4012888888881882')).toBe(false);
    expect(ibanValid('FR1420041010050500013M02606')).toBe(true);
    expect(ibanValid('FR1420041010050500013M02607')).toBe(false);
  });
});
