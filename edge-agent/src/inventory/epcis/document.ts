import type { LedgerEvent } from '../../ledger/types.ts';
import {
  inventoryEventTypes as types,
  type RestockDeclared,
  type RfidPresenceRecorded,
  type ShelfChanged,
} from '../ledger-events.ts';
import {
  bizLocationUri,
  epcisContext,
  eventIdUri,
  gtinClassUri,
  itemUri,
  readPointUri,
  timeZoneOffset,
  type EpcisLocation,
} from './identifiers.ts';

/** The subset of an EPCIS 2.0 ObjectEvent this exporter writes. */
export interface EpcisObjectEvent {
  type: 'ObjectEvent';
  eventID: string;
  eventTime: string;
  eventTimeZoneOffset: string;
  recordTime: string;
  epcList?: string[];
  quantityList?: Array<{ epcClass: string; quantity: number }>;
  action: 'OBSERVE';
  bizStep: string;
  disposition?: string;
  readPoint: { id: string };
  bizLocation: { id: string };
}

export interface EpcisDocument {
  '@context': string[];
  type: 'EPCISDocument';
  schemaVersion: '2.0';
  creationDate: string;
  epcisBody: { eventList: EpcisObjectEvent[] };
}

/**
 * The EPCIS events one inventory ledger event stands for (often none). All are ObjectEvents with
 * action OBSERVE: nothing here commissions or decommissions an item — a unit picked from a shelf
 * still exists — so ADD/DELETE would be wrong. [EPCIS 2.0 §7.4.2: OBSERVE = the objects were
 * observed, neither added nor deleted] Vocabulary is written as CBV bare words, the form the
 * JSON schema prefers. [CBV 2.0 §7.1 bizStep, §7.2 disposition]
 *
 * - a settled shelf change → the units now observed on that tray for the SKU (a continuous
 *   shelf count: `cycle_counting`, `sellable_accessible`, quantityList by GTIN class);
 * - a declared restock → `stocking` with the declared units;
 * - an RFID tag arriving in or moving to a zone → `cycle_counting` with the tag's EPC, readPoint
 *   the zone; a tag read at an exit portal → `entering_exiting` (sale or theft is for checkout
 *   to say, so no disposition); a tag merely no longer seen is not an observation and is left out.
 */
export function epcisEventsOf(event: LedgerEvent, location: EpcisLocation): EpcisObjectEvent[] {
  const recordTime = new Date(event.at).toISOString();
  const base = (index: number, eventTime: number) => ({
    type: 'ObjectEvent' as const,
    eventID: eventIdUri(event.key, index),
    eventTime: new Date(eventTime).toISOString(),
    eventTimeZoneOffset: timeZoneOffset(location.timeZone, eventTime),
    recordTime,
  });
  const bizLocation = { id: bizLocationUri(location) };
  switch (event.type) {
    case types.shelfChanged: {
      const p = event.payload as ShelfChanged;
      return p.effects
        .filter((e) => e.observed !== 0 && e.gtin !== '')
        .map((e, i) => ({
          ...base(i, p.change.settledAt),
          quantityList: [{ epcClass: gtinClassUri(e.gtin), quantity: Math.max(0, e.observedAfter) }],
          action: 'OBSERVE',
          bizStep: 'cycle_counting',
          disposition: 'sellable_accessible',
          readPoint: { id: readPointUri(location, 'tray', e.trayId) },
          bizLocation,
        }));
    }
    case types.restockDeclared: {
      const p = event.payload as RestockDeclared;
      if (p.gtin === '') return [];
      return [
        {
          ...base(0, event.at),
          quantityList: [{ epcClass: gtinClassUri(p.gtin), quantity: p.quantity }],
          action: 'OBSERVE',
          bizStep: 'stocking',
          disposition: 'sellable_accessible',
          readPoint: { id: readPointUri(location, 'tray', p.trayId) },
          bizLocation,
        },
      ];
    }
    case types.rfidPresence: {
      const p = event.payload as RfidPresenceRecorded;
      if (p.kind === 'departed') return [];
      const exited = p.kind === 'exited';
      return [
        {
          ...base(0, p.at),
          epcList: [itemUri(p)],
          action: 'OBSERVE',
          bizStep: exited ? 'entering_exiting' : 'cycle_counting',
          ...(exited ? {} : { disposition: 'sellable_accessible' }),
          readPoint: { id: readPointUri(location, 'zone', p.zone) },
          bizLocation,
        },
      ];
    }
    default:
      return [];
  }
}

export function epcisDocument(eventList: EpcisObjectEvent[], creationDate: number): EpcisDocument {
  return {
    '@context': [epcisContext],
    type: 'EPCISDocument',
    schemaVersion: '2.0',
    creationDate: new Date(creationDate).toISOString(),
    epcisBody: { eventList },
  };
}
