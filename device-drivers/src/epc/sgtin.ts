import { driverErrors, type Reject } from '../errors.ts';
import { gtinCheckDigitValid } from '../store-model.ts';
import { BitReader, BitWriter } from './bits.ts';

/**
 * GS1 EPC Tag Data Standard (TDS): SGTIN-96 and SGTIN-198 binary encodings, decoded to the
 * GTIN-14, serial and URIs, and encoded back (the simulators write SGTIN-96 tags).
 * Section numbers are those of TDS 1.6; the binary encoding chapter (§14) keeps its numbers in
 * later versions, other chapters may have moved. research/rfid.md §2 has the worked examples.
 */

export type SgtinScheme = 'sgtin-96' | 'sgtin-198';

export interface Sgtin {
  scheme: SgtinScheme;
  /** The EPC as read, upper-case hex. */
  hex: string;
  /** 0 all others, 1 point-of-sale trade item, 2 full case, … [GS1 TDS §10.1] */
  filter: number;
  partition: number;
  /** The GS1 Company Prefix, 6-12 digits (leading zeros kept). */
  companyPrefix: string;
  /** Indicator digit + item reference, 13 minus the company prefix length digits. */
  itemReference: string;
  /** The GTIN-14 with its check digit. */
  gtin: string;
  /** The serial as the GS1 element string has it (AI 21), not URI-escaped. */
  serial: string;
  /** `urn:epc:id:sgtin:CompanyPrefix.ItemRefAndIndicator.Serial`, what EPCIS carries. */
  pureIdentityUri: string;
  /** `urn:epc:tag:sgtin-96:Filter.CompanyPrefix.ItemRefAndIndicator.Serial`, which keeps the filter. */
  tagUri: string;
}

/** An EPC whose header is not one this module decodes (factory `E2…` EPCs, other GS1 schemes). */
export interface OpaqueEpc {
  scheme: 'opaque';
  hex: string;
}

export type DecodedEpc = Sgtin | OpaqueEpc;

export type EpcDecodeResult = { ok: true; epc: DecodedEpc } | { ok: false; reject: Reject };

/** EPC headers [GS1 TDS §14.2, Table 14-1]. */
export const SGTIN_96_HEADER = 0x30;
export const SGTIN_198_HEADER = 0x36;

export interface SgtinPartition {
  partition: number;
  companyPrefixBits: number;
  companyPrefixDigits: number;
  itemReferenceBits: number;
  itemReferenceDigits: number;
}

/** The SGTIN partition table [GS1 TDS §14.5.1, Table 14-2]: company prefix and item reference split 44 bits. */
export const sgtinPartitions: readonly SgtinPartition[] = Object.freeze(
  [
    [40, 12, 4, 1],
    [37, 11, 7, 2],
    [34, 10, 10, 3],
    [30, 9, 14, 4],
    [27, 8, 17, 5],
    [24, 7, 20, 6],
    [20, 6, 24, 7],
  ].map(([companyPrefixBits, companyPrefixDigits, itemReferenceBits, itemReferenceDigits], partition) =>
    Object.freeze({ partition, companyPrefixBits: companyPrefixBits!, companyPrefixDigits: companyPrefixDigits!, itemReferenceBits: itemReferenceBits!, itemReferenceDigits: itemReferenceDigits! }),
  ),
);

interface SchemeLayout {
  scheme: SgtinScheme;
  header: number;
  /** The scheme's bit length [GS1 TDS §14.5.1.1, §14.5.1.2]. */
  bits: number;
  serialBits: number;
}

const SGTIN_96: SchemeLayout = { scheme: 'sgtin-96', header: SGTIN_96_HEADER, bits: 96, serialBits: 38 };
const SGTIN_198: SchemeLayout = { scheme: 'sgtin-198', header: SGTIN_198_HEADER, bits: 198, serialBits: 140 };

// Bit positions shared by both layouts: header 8, filter 3, partition 3, then 44 bits of
// company prefix + item reference, then the serial [GS1 TDS §14.5.1.1, §14.5.1.2].
const FILTER_AT = 8;
const PARTITION_AT = 11;
const PREFIX_AT = 14;
const SERIAL_AT = 58;

/** Largest SGTIN-96 serial: 38 bits [GS1 TDS §14.5.1.1]. */
export const SGTIN_96_MAX_SERIAL = (1n << 38n) - 1n;
/** SGTIN-198 serials: up to 20 characters of 7 bits [GS1 TDS §14.5.1.2]. */
export const SGTIN_198_MAX_SERIAL_LENGTH = 20;

/**
 * The 82 characters a GS1 alphanumeric serial may use, and the seven that the URI form
 * percent-escapes [GS1 TDS Appendix A, Table A-1].
 */
const SERIAL_CHARACTERS = new Set(`!"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz`);
const URI_ESCAPED = new Set(`"%&/<>?`);

/**
 * Decodes an EPC given as hex. SGTIN-96 and SGTIN-198 are decoded; any other header is kept as
 * opaque hex (not an error). Never throws: an SGTIN whose fields break the TDS rules, or input
 * that is not hex, comes back as a DRV_ERR_EPC_INVALID reject.
 */
export function decodeEpc(hex: string): EpcDecodeResult {
  if (typeof hex !== 'string' || !/^(?:[0-9A-Fa-f]{2})+$/.test(hex)) {
    return invalid(`EPC ${preview(hex)} is not whole bytes of hex`);
  }
  const upper = hex.toUpperCase();
  const header = Number.parseInt(upper.slice(0, 2), 16);
  if (header === SGTIN_96_HEADER) return decodeSgtin(upper, SGTIN_96);
  if (header === SGTIN_198_HEADER) return decodeSgtin(upper, SGTIN_198);
  // Non-GS1 headers (e.g. E2… factory EPCs) and schemes we do not decode stay raw [research/rfid.md §2.2].
  return { ok: true, epc: { scheme: 'opaque', hex: upper } };
}

function decodeSgtin(hex: string, layout: SchemeLayout): EpcDecodeResult {
  const bits = new BitReader(hex);
  const name = layout.scheme.toUpperCase();
  if (bits.length < layout.bits) return invalid(`${name} needs ${layout.bits} bits, EPC ${hex} has ${bits.length}`);
  // The EPC bank is word-aligned: bits past the scheme's length can only be zero padding.
  if (!bits.zeroFrom(layout.bits)) return invalid(`${name} EPC ${hex} has non-zero bits after bit ${layout.bits}`);

  const filter = Number(bits.read(FILTER_AT, 3));
  const partition = Number(bits.read(PARTITION_AT, 3));
  // "Partition Table" decoding: a partition value outside the table fails [GS1 TDS §14.4.3].
  const row = sgtinPartitions[partition];
  if (row === undefined) return invalid(`${name} EPC ${hex} has partition ${partition}; only 0-6 exist`);
  const prefixValue = bits.read(PREFIX_AT, row.companyPrefixBits);
  const itemValue = bits.read(PREFIX_AT + row.companyPrefixBits, row.itemReferenceBits);
  // Each value must fit its digit count, e.g. a 24-bit field may not hold 10^7 or more [GS1 TDS §14.4.3].
  if (prefixValue >= 10n ** BigInt(row.companyPrefixDigits)) {
    return invalid(`${name} EPC ${hex}: company prefix ${prefixValue} has more than ${row.companyPrefixDigits} digits`);
  }
  if (itemValue >= 10n ** BigInt(row.itemReferenceDigits)) {
    return invalid(`${name} EPC ${hex}: item reference ${itemValue} has more than ${row.itemReferenceDigits} digits`);
  }
  // Both are written with leading zeros to their full digit counts [GS1 TDS §14.4.3].
  const companyPrefix = prefixValue.toString().padStart(row.companyPrefixDigits, '0');
  const itemReference = itemValue.toString().padStart(row.itemReferenceDigits, '0');

  let serial: string;
  if (layout.serialBits === SGTIN_96.serialBits) {
    // "Integer" decoding: the 38 bits as a decimal number, no leading zeros [GS1 TDS §14.4.1].
    serial = bits.read(SERIAL_AT, layout.serialBits).toString();
  } else {
    const decoded = decodeSerialString(bits, SERIAL_AT, layout.serialBits);
    if (typeof decoded !== 'string') return invalid(`${name} EPC ${hex}: ${decoded.problem}`);
    serial = decoded;
  }

  const gtin = gtinOf(companyPrefix, itemReference);
  const uriSerial = escapeSerial(serial);
  return {
    ok: true,
    epc: {
      scheme: layout.scheme,
      hex,
      filter,
      partition,
      companyPrefix,
      itemReference,
      gtin,
      serial,
      // [GS1 TDS §6.3.1] urn:epc:id:sgtin:CompanyPrefix.ItemRefAndIndicator.SerialNumber
      pureIdentityUri: `urn:epc:id:sgtin:${companyPrefix}.${itemReference}.${uriSerial}`,
      // [GS1 TDS §12.3] the tag URI adds the scheme (bit length) and the filter
      tagUri: `urn:epc:tag:${layout.scheme}:${filter}.${companyPrefix}.${itemReference}.${uriSerial}`,
    },
  };
}

/**
 * "String" decoding [GS1 TDS §14.4.2]: 7-bit characters up to the first all-zero one; every
 * bit after it must be zero, and each character must be one of Table A-1's 82.
 */
function decodeSerialString(bits: BitReader, start: number, width: number): string | { problem: string } {
  let serial = '';
  for (let at = start; at + 7 <= start + width; at += 7) {
    const code = Number(bits.read(at, 7));
    if (code === 0) {
      if (bits.read(at, start + width - at) !== 0n) return { problem: `serial has non-zero bits after its terminating NUL (bit ${at})` };
      break;
    }
    const char = String.fromCharCode(code);
    if (!SERIAL_CHARACTERS.has(char)) return { problem: `serial character 0x${code.toString(16).padStart(2, '0')} is not allowed in a GS1 serial (TDS Table A-1)` };
    serial += char;
  }
  // A GS1 serial (AI 21) has 1-20 characters.
  if (serial.length === 0) return { problem: 'serial is empty' };
  return serial;
}

/** Percent-escapes the seven reserved characters of Table A-1 [GS1 TDS Appendix A]. */
function escapeSerial(serial: string): string {
  let out = '';
  for (const char of serial) out += URI_ESCAPED.has(char) ? `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : char;
  return out;
}

/**
 * GTIN-14 from an SGTIN: indicator digit, company prefix, rest of the item reference, then the
 * check digit [GS1 TDS §7.1; GS1 General Specifications §7.9.1].
 */
function gtinOf(companyPrefix: string, itemReference: string): string {
  const body = itemReference.slice(0, 1) + companyPrefix + itemReference.slice(1);
  return body + gs1CheckDigit(body);
}

/** The GS1 check digit of `body`: weights 3, 1, 3, … from the rightmost digit [GS1 General Specifications §7.9.1]. */
export function gs1CheckDigit(body: string): string {
  let sum = 0;
  for (let i = body.length - 1, weight = 3; i >= 0; i--, weight = weight === 3 ? 1 : 3) sum += Number(body[i]) * weight;
  return String((10 - (sum % 10)) % 10);
}

// ─── encoding ────────────────────────────────────────────────────────────────────────────

/** The SGTIN as its parts. */
export interface SgtinParts {
  /** 0-7 [GS1 TDS §10.1]. Default 1 (point-of-sale trade item). */
  filter?: number;
  /** 6-12 digits. */
  companyPrefix: string;
  /** Indicator digit + item reference: 13 minus the company prefix length digits. */
  itemReference: string;
}

/** The SGTIN as a GTIN and where its company prefix ends. */
export interface SgtinFromGtin {
  filter?: number;
  /** GTIN-14 with a valid check digit (GTIN-8/12/13 padded to 14 digits). */
  gtin: string;
  /** Digits of the GS1 Company Prefix inside the GTIN, 6-12. */
  companyPrefixLength: number;
}

export type Sgtin96Input = (SgtinParts | SgtinFromGtin) & {
  /** A decimal integer 0 … 2^38-1 without leading zeros [GS1 TDS §14.5.1.1]. */
  serial: string | number | bigint;
};

export type Sgtin198Input = (SgtinParts | SgtinFromGtin) & {
  /** 1-20 characters of GS1 Table A-1, unescaped (e.g. `32a/b`). */
  serial: string;
};

/** Encodes an SGTIN-96 EPC as 24 upper-case hex digits. Throws DRV_ERR_EPC_INVALID for input the TDS does not allow. */
export function encodeSgtin96(input: Sgtin96Input): string {
  const { filter, row, companyPrefix, itemReference } = sgtinFields(input);
  const serial = integerSerial(input.serial);
  return new BitWriter()
    .write(BigInt(SGTIN_96_HEADER), 8)
    .write(BigInt(filter), 3)
    .write(BigInt(row.partition), 3)
    .write(BigInt(companyPrefix), row.companyPrefixBits)
    .write(BigInt(itemReference), row.itemReferenceBits)
    .write(serial, SGTIN_96.serialBits)
    .toHex(96);
}

/** Encodes an SGTIN-198 EPC as 50 upper-case hex digits (198 bits, zero-padded to 200). */
export function encodeSgtin198(input: Sgtin198Input): string {
  const { filter, row, companyPrefix, itemReference } = sgtinFields(input);
  const serial = input.serial;
  if (typeof serial !== 'string' || serial.length < 1 || serial.length > SGTIN_198_MAX_SERIAL_LENGTH) {
    throw driverErrors.DRV_ERR_EPC_INVALID(`SGTIN-198 serial must be 1-${SGTIN_198_MAX_SERIAL_LENGTH} characters`);
  }
  const writer = new BitWriter()
    .write(BigInt(SGTIN_198_HEADER), 8)
    .write(BigInt(filter), 3)
    .write(BigInt(row.partition), 3)
    .write(BigInt(companyPrefix), row.companyPrefixBits)
    .write(BigInt(itemReference), row.itemReferenceBits);
  // "String" encoding: 7 bits per character, zero-padded to 140 bits [GS1 TDS §14.3.2].
  for (const char of serial) {
    if (!SERIAL_CHARACTERS.has(char)) throw driverErrors.DRV_ERR_EPC_INVALID(`SGTIN-198 serial character "${char}" is not in GS1 TDS Table A-1`);
    writer.write(BigInt(char.charCodeAt(0)), 7);
  }
  writer.write(0n, 7 * (SGTIN_198_MAX_SERIAL_LENGTH - serial.length));
  return writer.toHex(200);
}

function sgtinFields(input: SgtinParts | SgtinFromGtin): { filter: number; row: SgtinPartition; companyPrefix: string; itemReference: string } {
  const filter = input.filter ?? 1;
  if (!Number.isInteger(filter) || filter < 0 || filter > 7) throw driverErrors.DRV_ERR_EPC_INVALID(`filter ${filter} must be an integer 0-7`);
  let companyPrefix: string;
  let itemReference: string;
  if ('gtin' in input) {
    if (!/^\d{14}$/.test(input.gtin) || !gtinCheckDigitValid(input.gtin)) {
      throw driverErrors.DRV_ERR_EPC_INVALID(`GTIN "${input.gtin}" must be 14 digits with a valid check digit`);
    }
    const length = input.companyPrefixLength;
    if (!Number.isInteger(length) || length < 6 || length > 12) {
      throw driverErrors.DRV_ERR_EPC_INVALID(`companyPrefixLength ${length} must be 6-12`);
    }
    // The inverse of the GTIN correspondence [GS1 TDS §7.1]: the indicator digit moves in front of the item reference.
    companyPrefix = input.gtin.slice(1, 1 + length);
    itemReference = input.gtin[0]! + input.gtin.slice(1 + length, 13);
  } else {
    companyPrefix = input.companyPrefix;
    itemReference = input.itemReference;
  }
  if (!/^\d{6,12}$/.test(companyPrefix)) throw driverErrors.DRV_ERR_EPC_INVALID(`company prefix "${companyPrefix}" must be 6-12 digits`);
  // The company prefix length picks the partition; both parts always total 13 digits [GS1 TDS §14.5.1, Table 14-2].
  const row = sgtinPartitions.find((r) => r.companyPrefixDigits === companyPrefix.length)!;
  if (!new RegExp(`^\\d{${row.itemReferenceDigits}}$`).test(itemReference)) {
    throw driverErrors.DRV_ERR_EPC_INVALID(
      `item reference "${itemReference}" must be ${row.itemReferenceDigits} digits with a ${companyPrefix.length}-digit company prefix`,
    );
  }
  return { filter, row, companyPrefix, itemReference };
}

/** "Integer" encoding input: a decimal number without leading zeros, in range [GS1 TDS §14.3.1]. */
function integerSerial(serial: string | number | bigint): bigint {
  let value: bigint;
  if (typeof serial === 'bigint') value = serial;
  else if (typeof serial === 'number' && Number.isSafeInteger(serial)) value = BigInt(serial);
  else if (typeof serial === 'string' && /^(?:0|[1-9]\d*)$/.test(serial)) value = BigInt(serial);
  else {
    throw driverErrors.DRV_ERR_EPC_INVALID(
      `SGTIN-96 serial ${JSON.stringify(String(serial))} must be a decimal integer without leading zeros (use SGTIN-198 for other serials)`,
    );
  }
  if (value < 0n || value > SGTIN_96_MAX_SERIAL) {
    throw driverErrors.DRV_ERR_EPC_INVALID(`SGTIN-96 serial ${value} is outside 0-${SGTIN_96_MAX_SERIAL} (38 bits)`);
  }
  return value;
}

function invalid(reason: string): EpcDecodeResult {
  return { ok: false, reject: { code: 'DRV_ERR_EPC_INVALID', reason } };
}

function preview(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
