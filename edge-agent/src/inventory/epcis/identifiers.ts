import { createHash } from 'node:crypto';

/** Where the store's EPCIS events happen, and the store's clock. */
export interface EpcisLocation {
  storeId: string;
  /** The store's GLN, if configured; otherwise a private URN names the store. */
  gln: string | null;
  /** IANA time zone for eventTimeZoneOffset. */
  timeZone: string;
}

// [EPCIS 2.0 §9.2] the JSON-LD context every EPCIS 2.0 JSON document names.
export const epcisContext = 'https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld';

/**
 * A product class (non-serialised items, quantityList.epcClass) as a GS1 Digital Link URI with
 * the canonical id.gs1.org host. [EPCIS 2.0 §6.3.2: Digital Link URIs are allowed wherever an
 * EPC URI is] [GS1 Digital Link 1.2: AI 01 = GTIN-14]
 */
export function gtinClassUri(gtin: string): string {
  return `https://id.gs1.org/01/${gtin}`;
}

/**
 * One tagged item: an SGTIN as a Digital Link URI (AI 01 GTIN + AI 21 serial, percent-encoded),
 * or — for EPCs that are not SGTINs — the raw EPC URI `urn:epc:raw:<bits>.x<hex>`.
 * [GS1 TDS 2.0 §12.4: EPC Raw URI]
 */
export function itemUri(tag: { epc: string; gtin?: string; serial?: string }): string {
  if (tag.gtin && tag.serial !== undefined) return `https://id.gs1.org/01/${tag.gtin}/21/${encodeURIComponent(tag.serial)}`;
  const hex = tag.epc.toUpperCase().replace(/[^0-9A-F]/g, '');
  return `urn:epc:raw:${hex.length * 4}.x${hex}`;
}

/**
 * The store as bizLocation: its GLN as a Digital Link location URI (AI 414) when configured,
 * else a private URN. [CBV 2.0 §8.4: location identifiers may be GS1 keys or private URIs]
 */
export function bizLocationUri(location: EpcisLocation): string {
  return location.gln ? `https://id.gs1.org/414/${location.gln}` : `urn:storeedge:${location.storeId}`;
}

/** A tray or an RFID zone as readPoint: private URNs under the store (HQ maps them with master data). */
export function readPointUri(location: EpcisLocation, kind: 'tray' | 'zone', id: string): string {
  return `urn:storeedge:${location.storeId}:${kind}:${encodeURIComponent(id)}`;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset at that instant as ±HH:MM (DST-aware). [EPCIS 2.0 §7.4.1 eventTimeZoneOffset] */
export function timeZoneOffset(timeZone: string, at: number): string {
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(new Date(at)).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name);
  return match ? `${match[1]}${match[2]}:${match[3]}` : '+00:00';
}

/**
 * A stable eventID for the i-th EPCIS event derived from one ledger event: a name-based UUID
 * (version 8) over the ledger key, so every export of the same fact carries the same id and a
 * capturing repository can drop repeats. [EPCIS 2.0 §7.4.1 eventID] [RFC 9562 §5.8]
 */
export function eventIdUri(ledgerKey: string, index: number): string {
  const bytes = createHash('sha256').update(`${ledgerKey}#${index}`, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
