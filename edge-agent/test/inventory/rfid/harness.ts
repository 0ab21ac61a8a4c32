import { storeModel, type RfidReadsPayload, type StoreModel } from '@storeedge/device-drivers';
import type { DeviceEvent, RfidPresence } from '../../../src/events.ts';
import type { RfidPresenceOptionsInput } from '../../../src/inventory/rfid/options.ts';
import { RfidPresenceTracker, type EpcDecoder, type RfidIngestResult, type RfidReadReject } from '../../../src/inventory/rfid/presence-tracker.ts';

/**
 * A small store for the hand-made presence cases:
 *   A (reader r1, antenna 1) ─ neighbour ─ B (r1/2) ─ neighbour ─ X (exit portal, gate/1)
 *   C (r2/1) stands alone.
 */
export function handModel(): StoreModel {
  return storeModel.parse({
    catalog: [{ sku: 'SKU-1', gtin: GTIN, name: 'Tagged jeans', unitWeightG: 600, unitWeightSigmaG: 5, priceMinor: 4999, rfidTagged: true }],
    zones: [
      { id: 'A', antennas: [{ reader: 'r1', antenna: 1 }], neighbours: ['B'] },
      { id: 'B', antennas: [{ reader: 'r1', antenna: 2 }], neighbours: [] },
      { id: 'C', antennas: [{ reader: 'r2', antenna: 1 }] },
      { id: 'X', exit: true, antennas: [{ reader: 'gate', antenna: 1 }], neighbours: ['B'] },
    ],
  });
}

/** GTIN of the SGTIN-96 `30…` EPCs below [research/rfid.md §2.5: 3034257BF7194E4000000001 → 80614141123458]. */
export const GTIN = '80614141123458';
export const SGTIN_1 = '3034257BF7194E4000000001';
export const SGTIN_2 = '3034257BF7194E4000000002';
export const OPAQUE = 'E28011704000021D35AE4008';
/** The test decoder throws on this one. */
export const BROKEN = '30FFFFFFFFFFFFFFFFFFFFFF';

/** Stand-in for the real SGTIN decoder: `3034…` EPCs decode, `30FF…` throws, others are opaque. */
export const testDecoder: EpcDecoder = (hex) => {
  if (hex === BROKEN) throw new Error('partition out of range');
  if (hex.startsWith('3034')) return { gtin: GTIN, serial: String(Number.parseInt(hex.slice(-8), 16)) };
  return undefined;
};

export type Read = [epc: string, antenna: number, rssi?: number];

export function readsEvent(deviceId: string, at: number, reads: Read[]): DeviceEvent<RfidReadsPayload> {
  return {
    deviceId,
    kind: 'rfid-reader',
    deviceTime: at,
    receivedAt: at,
    payload: { at, reads: reads.map(([epc, antenna, rssi]) => ({ epc, antenna, ...(rssi === undefined ? {} : { rssi }) })) },
  };
}

export interface Harness {
  tracker: RfidPresenceTracker;
  events: RfidPresence[];
  rejects: RfidReadReject[];
  feed(deviceId: string, at: number, reads: Read[]): RfidIngestResult;
  tick(now: number): void;
  kinds(): string[];
}

export function harness(options: RfidPresenceOptionsInput = {}, model: StoreModel = handModel()): Harness {
  const events: RfidPresence[] = [];
  const rejects: RfidReadReject[] = [];
  const tracker = new RfidPresenceTracker({
    model,
    options,
    decodeEpc: testDecoder,
    onPresence: (event) => events.push(event),
    onReject: (reject) => rejects.push(reject),
  });
  return {
    tracker,
    events,
    rejects,
    feed: (deviceId, at, reads) => tracker.ingest(readsEvent(deviceId, at, reads)),
    tick: (now) => tracker.tick(now),
    kinds: () => events.map((e) => `${e.kind}:${e.zone}${e.previousZone ? `<${e.previousZone}` : ''}`),
  };
}

/** Antenna (reader, port) of each zone in handModel(). */
export const antennaOf = { A: ['r1', 1], B: ['r1', 2], C: ['r2', 1], X: ['gate', 1] } as const;

/**
 * Reads `epc` in `zone` once at `offsetMs` into every cycle from `fromCycle` to `toCycle`
 * (inclusive), `reads` times in distinct 250 ms slots, then ticks so the last cycle is decided.
 */
export function readEveryCycle(
  h: Harness,
  zone: keyof typeof antennaOf,
  epc: string,
  fromCycle: number,
  toCycle: number,
  { rssi, reads = 1, offsetMs = 100 }: { rssi?: number; reads?: number; offsetMs?: number } = {},
): void {
  const [reader, antenna] = antennaOf[zone];
  for (let cycle = fromCycle; cycle <= toCycle; cycle++) {
    for (let i = 0; i < reads; i++) h.feed(reader, cycle * 1000 + offsetMs + i * 250, [[epc, antenna, rssi]]);
  }
}
