import { describe, expect, it } from 'vitest';
import vectors from '../rfid/fixtures/rfid-test-vectors.json' with { type: 'json' };
import { DriverError } from '../../src/errors.ts';
import { gtinCheckDigitValid } from '../../src/store-model.ts';
import { decodeEpc, encodeSgtin198, encodeSgtin96, sgtinPartitions, type DecodedEpc, type Sgtin } from '../../src/epc/index.ts';
import { SeededRandom } from '../rfid/helpers/seeded.ts';

function sgtin(hex: string): Sgtin {
  const result = decodeEpc(hex);
  if (!result.ok) throw new Error(`expected ${hex} to decode: ${result.reject.reason}`);
  if (result.epc.scheme === 'opaque') throw new Error(`expected an SGTIN, got opaque ${hex}`);
  return result.epc;
}

function rejectOf(hex: string): string {
  const result = decodeEpc(hex);
  if (result.ok) throw new Error(`expected ${hex} to be rejected, got ${JSON.stringify(result.epc)}`);
  expect(result.reject.code).toBe('DRV_ERR_EPC_INVALID');
  return result.reject.reason;
}

/** Replaces `width` bits at `start` (MSB-first bit numbering) of an EPC given as hex. */
function setBits(hex: string, start: number, width: number, value: number): string {
  const total = hex.length * 4;
  const shift = BigInt(total - start - width);
  const mask = ((1n << BigInt(width)) - 1n) << shift;
  const next = (BigInt(`0x${hex}`) & ~mask) | (BigInt(value) << shift);
  return next.toString(16).toUpperCase().padStart(hex.length, '0');
}

function expectEpcError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DriverError);
    expect((error as DriverError).code).toBe('DRV_ERR_EPC_INVALID');
    expect((error as DriverError).message).toMatch(message);
    return;
  }
  throw new Error('expected a DRV_ERR_EPC_INVALID throw');
}

describe('decodeEpc: GS1 TDS test vectors (research/rfid-test-vectors.json)', () => {
  it.each(vectors.sgtin.map((v) => [v.tagUri, v] as const))('%s', (_name, vector) => {
    const epc = sgtin(vector.hex);
    expect(epc.tagUri).toBe(vector.tagUri);
    expect(epc.pureIdentityUri).toBe(vector.pureUri);
    expect(epc.gtin).toBe(vector.gtin);
    expect(epc.serial).toBe(vector.serial);
    expect(epc.hex).toBe(vector.hex.toUpperCase());
    expect(gtinCheckDigitValid(epc.gtin)).toBe(true);
    // The tag URI carries filter, company prefix and item reference in their own fields.
    const [scheme, fields] = vector.tagUri.replace('urn:epc:tag:', '').split(':') as [string, string];
    const [filter, companyPrefix, itemReference] = fields.split('.');
    expect(epc.scheme).toBe(scheme);
    expect(epc.filter).toBe(Number(filter));
    expect(epc.companyPrefix).toBe(companyPrefix);
    expect(epc.itemReference).toBe(itemReference);
    expect(epc.partition).toBe(12 - companyPrefix!.length);
  });

  it('re-encodes every vector to the same hex, from its parts and from its GTIN', () => {
    for (const vector of vectors.sgtin) {
      const epc = sgtin(vector.hex);
      if (epc.scheme === 'sgtin-96') {
        expect(encodeSgtin96({ filter: epc.filter, companyPrefix: epc.companyPrefix, itemReference: epc.itemReference, serial: epc.serial })).toBe(vector.hex);
        expect(encodeSgtin96({ filter: epc.filter, gtin: epc.gtin, companyPrefixLength: epc.companyPrefix.length, serial: BigInt(epc.serial) })).toBe(vector.hex);
      } else {
        expect(encodeSgtin198({ filter: epc.filter, gtin: epc.gtin, companyPrefixLength: epc.companyPrefix.length, serial: epc.serial })).toBe(vector.hex);
      }
    }
  });

  it('accepts lower-case hex and word-aligned zero padding (a 198-bit EPC read as 13 words)', () => {
    expect(sgtin(vectors.sgtin[0]!.hex.toLowerCase()).gtin).toBe('80614141123458');
    const padded = sgtin(`${vectors.sgtin[1]!.hex}00`);
    expect(padded.serial).toBe('32a/b');
    expect(padded.scheme).toBe('sgtin-198');
  });
});

describe('decodeEpc: other headers stay opaque', () => {
  it.each([
    ['E28011704000021D35AE4008', 'factory EPC (the YRM100 vector)'],
    ['7EDA9038051002710002C0AE', 'the Impinj test listener EPC'],
    ['3114257BF7194E4000001A85', 'SSCC-96 header 0x31, not decoded here'],
    ['000000000000000000000313', 'all-zero Chafon test tag'],
  ])('%s (%s)', (hex) => {
    const result = decodeEpc(hex);
    expect(result).toEqual({ ok: true, epc: { scheme: 'opaque', hex } satisfies DecodedEpc });
  });
});

describe('decodeEpc: invalid SGTINs are DRV_ERR_EPC_INVALID rejects, never throws', () => {
  const sgtin96 = vectors.sgtin[0]!.hex;
  const sgtin198 = vectors.sgtin[1]!.hex;

  it('partition 7 [TDS §14.4.3]', () => {
    expect(rejectOf(setBits(sgtin96, 11, 3, 7))).toMatch(/partition 7/);
    expect(rejectOf(setBits(sgtin198, 11, 3, 7))).toMatch(/partition 7/);
  });

  it('company prefix or item reference with more digits than the partition allows', () => {
    // Partition 0: a 40-bit company prefix field, which can hold more than 12 digits.
    const p0 = setBits(setBits(sgtin96, 11, 3, 0), 14, 40, 0xff_ffff_ffff);
    expect(rejectOf(p0)).toMatch(/company prefix 1099511627775 has more than 12 digits/);
    // Partition 5: a 20-bit item reference field, up to 1 048 575 > 999 999.
    expect(rejectOf(setBits(sgtin96, 38, 20, 0xf_ffff))).toMatch(/item reference 1048575 has more than 6 digits/);
  });

  it('SGTIN-198 serial characters outside GS1 Table A-1', () => {
    // '#' (0x23) and '@' (0x40) are ISO 646 but not in the 82-character set; 0x7F is DEL.
    for (const code of [0x23, 0x40, 0x7f, 0x20]) {
      expect(rejectOf(setBits(sgtin198, 58 + 7 * 2, 7, code))).toMatch(/serial character 0x[0-9a-f]{2} is not allowed/);
    }
  });

  it('SGTIN-198 with characters after the NUL terminator, or an empty serial', () => {
    expect(rejectOf(setBits(sgtin198, 58 + 7 * 7, 7, 0x41))).toMatch(/non-zero bits after its terminating NUL/);
    expect(rejectOf(setBits(sgtin198, 58, 7 * 5, 0))).toMatch(/serial is empty/);
  });

  it('too short, non-zero padding, not hex', () => {
    expect(rejectOf(sgtin96.slice(0, 20))).toMatch(/needs 96 bits/);
    expect(rejectOf(`${sgtin96}0001`)).toMatch(/non-zero bits after bit 96/);
    expect(rejectOf(sgtin198.slice(0, 48))).toMatch(/needs 198 bits/);
    expect(rejectOf('30zz')).toMatch(/not whole bytes of hex/);
    expect(rejectOf('307')).toMatch(/not whole bytes of hex/);
    expect(rejectOf('')).toMatch(/not whole bytes of hex/);
    expect(rejectOf(undefined as unknown as string)).toMatch(/not whole bytes of hex/);
  });
});

describe('encodeSgtin96 / encodeSgtin198 input rules', () => {
  const base = { companyPrefix: '0614141', itemReference: '812345' };

  it('SGTIN-96 serials are decimal integers without leading zeros, 0 … 2^38-1 [TDS §14.3.1]', () => {
    expect(encodeSgtin96({ ...base, serial: 0 })).toBe('3034257BF7194E4000000000');
    expect(encodeSgtin96({ ...base, serial: '274877906943' })).toBe('3034257BF7194E7FFFFFFFFF');
    expectEpcError(() => encodeSgtin96({ ...base, serial: '0123' }), /without leading zeros/);
    expectEpcError(() => encodeSgtin96({ ...base, serial: '32a/b' }), /decimal integer/);
    expectEpcError(() => encodeSgtin96({ ...base, serial: -1 }), /outside/);
    expectEpcError(() => encodeSgtin96({ ...base, serial: 274877906944n }), /outside 0-274877906943/);
    expectEpcError(() => encodeSgtin96({ ...base, serial: 1.5 }), /decimal integer/);
  });

  it('filter, company prefix, item reference and GTIN are checked', () => {
    expectEpcError(() => encodeSgtin96({ ...base, filter: 8, serial: 1 }), /filter 8/);
    expectEpcError(() => encodeSgtin96({ companyPrefix: '12345', itemReference: '12345678', serial: 1 }), /6-12 digits/);
    expectEpcError(() => encodeSgtin96({ companyPrefix: '0614141', itemReference: '81234', serial: 1 }), /must be 6 digits/);
    expectEpcError(() => encodeSgtin96({ gtin: '80614141123457', companyPrefixLength: 7, serial: 1 }), /check digit/);
    expectEpcError(() => encodeSgtin96({ gtin: '80614141123458', companyPrefixLength: 13, serial: 1 }), /companyPrefixLength 13/);
  });

  it('SGTIN-198 serials are 1-20 characters of Table A-1', () => {
    expectEpcError(() => encodeSgtin198({ ...base, serial: '' }), /1-20 characters/);
    expectEpcError(() => encodeSgtin198({ ...base, serial: 'x'.repeat(21) }), /1-20 characters/);
    expectEpcError(() => encodeSgtin198({ ...base, serial: 'a#b' }), /"#" is not in GS1 TDS Table A-1/);
  });
});

describe('round trips (seeded)', () => {
  const alphabet = `!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`;

  it('SGTIN-96: every partition, random fields, encode → decode gives the fields back', () => {
    const random = new SeededRandom(96);
    for (let i = 0; i < 2_000; i++) {
      const row = random.pick(sgtinPartitions);
      const companyPrefix = random.digits(row.companyPrefixDigits);
      const itemReference = random.digits(row.itemReferenceDigits);
      const filter = random.int(0, 7);
      const serial = String(random.int(0, 2 ** 31) * random.int(0, 127));
      const hex = encodeSgtin96({ filter, companyPrefix, itemReference, serial });
      const epc = sgtin(hex);
      expect(epc).toMatchObject({ scheme: 'sgtin-96', filter, partition: row.partition, companyPrefix, itemReference, serial });
      expect(gtinCheckDigitValid(epc.gtin)).toBe(true);
      expect(epc.tagUri).toBe(`urn:epc:tag:sgtin-96:${filter}.${companyPrefix}.${itemReference}.${serial}`);
      // And back again from the GTIN.
      expect(encodeSgtin96({ filter, gtin: epc.gtin, companyPrefixLength: companyPrefix.length, serial })).toBe(hex);
    }
  });

  it('SGTIN-198: random serials with every Table A-1 character; the URIs percent-escape the reserved seven', () => {
    const random = new SeededRandom(198);
    for (let i = 0; i < 1_000; i++) {
      const row = random.pick(sgtinPartitions);
      const companyPrefix = random.digits(row.companyPrefixDigits);
      const itemReference = random.digits(row.itemReferenceDigits);
      const serial = Array.from({ length: random.int(1, 20) }, () => random.pick([...alphabet])).join('');
      const hex = encodeSgtin198({ filter: 3, companyPrefix, itemReference, serial });
      expect(hex).toHaveLength(50);
      const epc = sgtin(hex);
      expect(epc).toMatchObject({ scheme: 'sgtin-198', companyPrefix, itemReference, serial });
      const uriSerial = epc.pureIdentityUri.split('.').slice(2).join('.');
      expect(uriSerial).not.toMatch(/["&/<>?]/);
      expect(decodeURIComponent(uriSerial)).toBe(serial);
    }
  });
});
