import { z } from 'zod';
import { ANTENNA_MAX, epcHexProblem, type RfidRead } from './read.ts';
import { decodeVendorMessage, fieldReject, parseVendorTime, schemaReject, type VendorDecodeOptions, type VendorDecodeResult, type VendorEventOutcome } from './vendor-json.ts';

/**
 * Impinj R700 "IoT device interface" events → canonical reads.
 *
 * The reader sends one JSON event per MQTT message or HTTP-stream line, and arrays of them to a
 * webhook [research/rfid.md §1.5; reelyactive/barnowl-impinj `lib/impinjdecoder.js` takes the
 * array form]. A tag read is
 *
 *   { "timestamp": "…Z", "hostname": "impinj-14-46-36", "eventType": "tagInventory",
 *     "tagInventoryEvent": { "epc": <base64>, "epcHex": "…", "pc": <base64>, "antennaPort": 1,
 *                            "antennaName": "…", "peakRssiCdbm": -5325, "lastSeenTime": "…Z", … } }
 *
 * Which fields are present is set by the reader's `eventConfig.tagInventory` flags (epc, epcHex,
 * pc, antennaPort, peakRssiCdbm, lastSeenTime, …) [ghpascon-rust R700 examples on docs.rs;
 * Impinj Reader Configuration REST API, platform.impinj.com]. Other `eventType`s
 * (antennaConnected, inventoryStatus, diagnostic, …) are not reads and are skipped.
 */

const VENDOR = 'impinj-r700';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');

const tagInventoryEvent = z.object({
  epcHex: z.string().optional(),
  epc: base64.optional(),
  pc: base64.optional(),
  antennaPort: z.number({ error: 'required: enable antennaPort in eventConfig.tagInventory' }).int().min(0).max(ANTENNA_MAX),
  peakRssiCdbm: z.number().int().min(-15_000).max(2_000).optional(),
  lastSeenTime: z.string().optional(),
});

const impinjEvent = z.object({
  timestamp: z.string().optional(),
  hostname: z.string().optional(),
  eventType: z.string({ error: 'required' }),
  tagInventoryEvent: z.unknown().optional(),
});

/** Decodes one message (an event, an array of events, or NDJSON lines). */
export function decodeImpinjR700(payload: string | Uint8Array, options: VendorDecodeOptions = {}): VendorDecodeResult {
  return decodeVendorMessage(payload, options, decodeEvent);
}

function decodeEvent(value: unknown, at: string, receivedAt: number): VendorEventOutcome {
  const event = impinjEvent.safeParse(value);
  if (!event.success) return schemaReject(VENDOR, at, event.error);
  if (event.data.eventType !== 'tagInventory') return 'ignored';
  const path = `${at}${at ? '.' : ''}tagInventoryEvent`;
  if (event.data.tagInventoryEvent === undefined) return fieldReject(VENDOR, path, 'required for eventType "tagInventory"');
  const tag = tagInventoryEvent.safeParse(event.data.tagInventoryEvent);
  if (!tag.success) return schemaReject(VENDOR, path, tag.error);
  const { epcHex, epc: epcBase64, pc: pcBase64, antennaPort, peakRssiCdbm, lastSeenTime } = tag.data;

  // epcHex when enabled, else the base64 `epc`.
  const epc = epcHex ?? (epcBase64 === undefined ? undefined : Buffer.from(epcBase64, 'base64').toString('hex'));
  const epcField = epcHex === undefined ? `${path}.epc` : `${path}.epcHex`;
  if (epc === undefined) return fieldReject(VENDOR, `${path}.epcHex`, 'required: enable epcHex or epc in eventConfig.tagInventory');
  const epcProblem = epcHexProblem(epc);
  if (epcProblem !== undefined) return fieldReject(VENDOR, epcField, `EPC ${epcProblem}`);

  const read: RfidRead = { epc: epc.toUpperCase(), antenna: antennaPort, at: receivedAt };
  // Centi-dBm: -5325 is -53.25 dBm.
  if (peakRssiCdbm !== undefined) read.rssi = peakRssiCdbm / 100;
  if (pcBase64 !== undefined) {
    const pc = Buffer.from(pcBase64, 'base64');
    if (pc.length !== 2) return fieldReject(VENDOR, `${path}.pc`, `PC is ${pc.length} bytes, expected 2`);
    read.pc = pc.readUInt16BE(0);
  }
  // The tag's last-seen time is the read's time; the event's timestamp is when it was sent.
  const timeField = lastSeenTime !== undefined ? `${path}.lastSeenTime` : `${at}${at ? '.' : ''}timestamp`;
  const time = lastSeenTime ?? event.data.timestamp;
  if (time !== undefined) {
    const ms = parseVendorTime(time);
    if (ms === undefined) return fieldReject(VENDOR, timeField, `"${time}" is not an ISO 8601 time`);
    read.at = ms;
  }
  return read;
}
