import type { RfidReadsPayload } from '../payloads.ts';

/**
 * One tag read as every RFID driver reports it, whatever the reader: the serial M100 shell,
 * the Impinj R700 and Zebra IoT Connector JSON decoders. A list of these fits `rfidReadsPayload`
 * (payloads.ts) once grouped with `toRfidReadsPayloads` (which drops `pc` and per-read `at`).
 */
export interface RfidRead {
  /** The EPC, upper-case hex, 4-62 bytes (what a Gen2 PC word can announce). */
  epc: string;
  /** Antenna port, 1-based as the vendors number them (an M100 module has one: 1). */
  antenna: number;
  /** Peak RSSI in dBm, when the reader reports it. */
  rssi?: number;
  /** The tag's Gen2 protocol-control word, when the reader reports it. */
  pc?: number;
  /** When the tag was seen: the reader's timestamp when it sends one, else the receive time (ms since the epoch). */
  at: number;
}

/** Bounds of `rfidReadsPayload.reads[].epc`: 8-124 hex digits. */
export const EPC_MIN_BYTES = 4;
export const EPC_MAX_BYTES = 62;
/** Bounds of `rfidReadsPayload.reads[].antenna`. */
export const ANTENNA_MAX = 64;
/** `rfidReadsPayload` carries at most this many reads per message. */
export const READS_PER_PAYLOAD = 1_000;

/**
 * Why `hex` cannot be a canonical EPC, or undefined when it can. Callers turn the answer into
 * their own reject code (a frame, a JSON field).
 */
export function epcHexProblem(hex: string): string | undefined {
  if (!/^[0-9A-Fa-f]*$/.test(hex)) return 'is not hex';
  if (hex.length % 4 !== 0) return `has ${hex.length} hex digits; an EPC is whole 16-bit words`;
  if (hex.length < EPC_MIN_BYTES * 2 || hex.length > EPC_MAX_BYTES * 2) {
    return `has ${hex.length / 2} bytes; ${EPC_MIN_BYTES}-${EPC_MAX_BYTES} allowed`;
  }
  return undefined;
}

/**
 * Groups reads into `evt/reads` payloads (docs/mqtt.md): at most 1000 reads each, stamped with
 * `at` (default: the latest read's time).
 */
export function toRfidReadsPayloads(reads: readonly RfidRead[], at?: number): RfidReadsPayload[] {
  const out: RfidReadsPayload[] = [];
  for (let i = 0; i < reads.length; i += READS_PER_PAYLOAD) {
    const chunk = reads.slice(i, i + READS_PER_PAYLOAD);
    out.push({
      at: Math.round(at ?? Math.max(...chunk.map((r) => r.at))),
      reads: chunk.map((r) => (r.rssi === undefined ? { epc: r.epc, antenna: r.antenna } : { epc: r.epc, antenna: r.antenna, rssi: r.rssi })),
    });
  }
  return out;
}
