import { z } from 'zod';
import { ANTENNA_MAX, epcHexProblem, type RfidRead } from './read.ts';
import { decodeVendorMessage, fieldReject, parseVendorTime, schemaReject, type VendorDecodeOptions, type VendorDecodeResult, type VendorEventOutcome } from './vendor-json.ts';

/**
 * Zebra IoT Connector (FX9600, FXR90, ATR7000) tag data → canonical reads.
 *
 * The data endpoint publishes a JSON array of events, or one object, depending on the configured
 * format (research/rfid.md §1.5, which cites zebradevs.github.io/rfid-ziotc-docs):
 *
 *   [{ "data": { "CRC": "518e", "PC": "3000", "antenna": 1, "channel": 927.25, "eventNum": 194,
 *                "format": "epc", "idHex": "ad99…25", "peakRssi": -54, "phase": 0.0, "reads": 9 },
 *      "timestamp": "2023-02-24T10:14:42.851+0000", "type": "INVENTORY" }]
 *
 *   { "data": { "idHex": "aa0004ef55555555aa21bf43", "peakRssi": -34, "antenna": 4 },
 *     "timestamp": "2026-08-13T09:14:28.651+0000", "type": "CUSTOM" }
 *
 * (the second from an FXR90 mapper test in the public code index). One message ≠ one tag.
 * Events without `data.idHex` whose type is not a tag-data type are skipped (not reads). The
 * `CRC` field is passed by the connector unverified here: its coverage is not documented.
 */

const VENDOR = 'zebra-iot-connector';

/** Event types that carry tag data: the format names of the IoT Connector's data output. */
const TAG_DATA_TYPES = new Set(['INVENTORY', 'SIMPLE', 'CUSTOM']);

const tagData = z.object({
  idHex: z.string({ error: 'required' }),
  antenna: z.number({ error: 'required' }).int().min(0).max(ANTENNA_MAX),
  peakRssi: z.number().min(-150).max(20).optional(),
  PC: z.string().regex(/^[0-9A-Fa-f]{4}$/, 'expected 4 hex digits').optional(),
  format: z.string().optional(),
});

const zebraEvent = z.object({
  type: z.string().optional(),
  timestamp: z.string().optional(),
  data: z.record(z.string(), z.unknown(), { error: 'required: an object' }),
});

/** Decodes one message (an event or an array of events). */
export function decodeZebraIotConnector(payload: string | Uint8Array, options: VendorDecodeOptions = {}): VendorDecodeResult {
  return decodeVendorMessage(payload, options, decodeEvent);
}

function decodeEvent(value: unknown, at: string, receivedAt: number): VendorEventOutcome {
  const event = zebraEvent.safeParse(value);
  if (!event.success) return schemaReject(VENDOR, at, event.error);
  const dataPath = `${at}${at ? '.' : ''}data`;
  if (event.data.data.idHex === undefined && !TAG_DATA_TYPES.has(event.data.type ?? '')) return 'ignored';
  const tag = tagData.safeParse(event.data.data);
  if (!tag.success) return schemaReject(VENDOR, dataPath, tag.error);
  const { idHex, antenna, peakRssi, PC, format } = tag.data;
  // idHex holds the EPC only in the "epc" format; other formats would put another bank here.
  if (format !== undefined && format !== 'epc') return fieldReject(VENDOR, `${dataPath}.format`, `"${format}": only "epc" reads are supported`);
  const epcProblem = epcHexProblem(idHex);
  if (epcProblem !== undefined) return fieldReject(VENDOR, `${dataPath}.idHex`, `EPC ${epcProblem}`);

  const read: RfidRead = { epc: idHex.toUpperCase(), antenna, at: receivedAt };
  if (peakRssi !== undefined) read.rssi = peakRssi;
  if (PC !== undefined) read.pc = Number.parseInt(PC, 16);
  if (event.data.timestamp !== undefined) {
    const ms = parseVendorTime(event.data.timestamp);
    if (ms === undefined) return fieldReject(VENDOR, `${at}${at ? '.' : ''}timestamp`, `"${event.data.timestamp}" is not an ISO 8601 time`);
    read.at = ms;
  }
  return read;
}
