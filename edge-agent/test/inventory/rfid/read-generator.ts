import { storeModel, type RfidReadsPayload, type StoreModel } from '@storeedge/device-drivers';
import { Rng } from '@storeedge/simulators/random.ts';
import type { DeviceEvent } from '../../../src/events.ts';

/**
 * A simple seeded RFID read generator for the presence statistics: four shelf zones in a row
 * (each a neighbour of the next) and an exit portal next to the last one. Tags sit in zones,
 * move between zones at known times, and some leave through the portal. Every second each tag
 * is read by its zone with probability p (its read rate) in bursts of duplicates, and cross-read
 * by each neighbouring zone with probability q at an RSSI 10–20 dB lower. Readers report every
 * 200 ms and their messages reach the tracker up to 300 ms late and out of order.
 *
 * Nothing here is taken from the tracker: it only produces reads and the ground truth.
 */

export interface ScenarioOptions {
  seed: string;
  durationMs: number;
  tags: number;
  /** Per-tag read rate per 1 s cycle, uniform in [min, max]. */
  readRate: [number, number];
  /** Per-tag cross-read probability per cycle into each neighbouring zone, uniform in [min, max]. */
  crossReadRate: [number, number];
  /** How much weaker a cross-read is than a direct read, dB, uniform in [min, max]. */
  crossReadDropDb: [number, number];
  /** Share of tags that move (1–3 times). */
  moverShare: number;
  /** Share of tags that leave through the exit. */
  exiterShare: number;
  /** Share of tags that are put out after the start (arrive mid-run). */
  lateArrivalShare: number;
  /** Readers report RSSI. */
  withRssi: boolean;
  /** Reads per second from an antenna the store model does not have (rejects). */
  unknownAntennaReadsPerSecond: number;
}

export const defaultScenario: ScenarioOptions = {
  seed: 'rfid-presence-statistics',
  durationMs: 30 * 60_000,
  tags: 100,
  readRate: [0.6, 0.9],
  crossReadRate: [0.1, 0.3],
  crossReadDropDb: [10, 20],
  moverShare: 0.4,
  exiterShare: 0.2,
  lateArrivalShare: 0.1,
  withRssi: true,
  unknownAntennaReadsPerSecond: 2,
};

export const shelfZones = ['Z1', 'Z2', 'Z3', 'Z4'] as const;
export const exitZone = 'EXIT';

/** The layout: Z1–Z2–Z3–Z4 in a row, EXIT beside Z4. Two antennas per zone. */
export function scenarioModel(): StoreModel {
  return storeModel.parse({
    catalog: [],
    zones: [
      { id: 'Z1', antennas: [{ reader: 'rfid-a', antenna: 1 }, { reader: 'rfid-a', antenna: 2 }], neighbours: ['Z2'] },
      { id: 'Z2', antennas: [{ reader: 'rfid-a', antenna: 3 }, { reader: 'rfid-a', antenna: 4 }], neighbours: ['Z1', 'Z3'] },
      { id: 'Z3', antennas: [{ reader: 'rfid-b', antenna: 1 }, { reader: 'rfid-b', antenna: 2 }], neighbours: ['Z2', 'Z4'] },
      { id: 'Z4', antennas: [{ reader: 'rfid-b', antenna: 3 }, { reader: 'rfid-b', antenna: 4 }], neighbours: ['Z3', exitZone] },
      { id: exitZone, exit: true, antennas: [{ reader: 'rfid-portal', antenna: 1 }, { reader: 'rfid-portal', antenna: 2 }], neighbours: ['Z4'] },
    ],
  });
}

/** Where a tag truly is from `at` on: a zone, walking to the portal, in the portal, or gone. */
export type TruthState = { kind: 'zone'; zone: string } | { kind: 'walking' } | { kind: 'portal' } | { kind: 'gone' };

export interface TruthChange {
  at: number;
  state: TruthState;
}

export interface GeneratedTag {
  epc: string;
  readRate: number;
  crossReadRate: number;
  crossReadDropDb: number;
  /** Direct-read RSSI of this tag (dBm), before per-read noise. */
  baseRssi: number;
  /** Ground truth, in time order; the first entry is at the tag's arrival (state 'gone' before). */
  timeline: TruthChange[];
}

export function truthAt(tag: GeneratedTag, at: number): TruthState {
  let state: TruthState = { kind: 'gone' };
  for (const change of tag.timeline) {
    if (change.at > at) break;
    state = change.state;
  }
  return state;
}

/** The latest ground-truth change at or before `at`, if any. */
export function lastChangeAt(tag: GeneratedTag, at: number): number | undefined {
  let last: number | undefined;
  for (const change of tag.timeline) {
    if (change.at > at) break;
    last = change.at;
  }
  return last;
}

const readers: Record<string, { reader: string; antennas: number[] }> = {
  Z1: { reader: 'rfid-a', antennas: [1, 2] },
  Z2: { reader: 'rfid-a', antennas: [3, 4] },
  Z3: { reader: 'rfid-b', antennas: [1, 2] },
  Z4: { reader: 'rfid-b', antennas: [3, 4] },
  [exitZone]: { reader: 'rfid-portal', antennas: [1, 2] },
};
const neighbours: Record<string, string[]> = { Z1: ['Z2'], Z2: ['Z1', 'Z3'], Z3: ['Z2', 'Z4'], Z4: ['Z3', exitZone], [exitZone]: ['Z4'] };
/** Reader report phase (ms) within each 200 ms report period. */
const reportPhase: Record<string, number> = { 'rfid-a': 0, 'rfid-b': 70, 'rfid-portal': 130 };
const REPORT_MS = 200;
const MAX_DELIVERY_DELAY_MS = 300;

export function generateTags(options: ScenarioOptions): GeneratedTag[] {
  const rng = new Rng(options.seed).fork('tags');
  const tags: GeneratedTag[] = [];
  for (let i = 0; i < options.tags; i++) {
    const r = rng.fork(`tag-${i}`);
    const epc = `3074257BF7194E40${(0x10000000 + i).toString(16).toUpperCase()}`;
    const arrival = r.chance(options.lateArrivalShare) ? Math.round(r.uniform(60_000, options.durationMs / 2)) : 0;
    let zone: string = r.pick(shelfZones);
    const timeline: TruthChange[] = [{ at: arrival, state: { kind: 'zone', zone } }];
    let t = arrival;
    if (r.chance(options.moverShare)) {
      const moves = r.int(1, 3);
      for (let m = 0; m < moves; m++) {
        t += Math.round(r.uniform(60_000, 300_000));
        if (t > options.durationMs - 120_000) break;
        zone = r.pick(shelfZones.filter((z) => z !== zone));
        timeline.push({ at: t, state: { kind: 'zone', zone } });
      }
    }
    if (r.chance(options.exiterShare)) {
      const leave = Math.round(Math.max(t + 60_000, r.uniform(t + 60_000, options.durationMs - 60_000)));
      if (leave < options.durationMs - 30_000) {
        const walk = Math.round(r.uniform(1_000, 5_000));
        const pass = Math.round(r.uniform(1_000, 2_500));
        timeline.push({ at: leave, state: { kind: 'walking' } });
        timeline.push({ at: leave + walk, state: { kind: 'portal' } });
        timeline.push({ at: leave + walk + pass, state: { kind: 'gone' } });
      }
    }
    tags.push({
      epc,
      readRate: r.uniform(options.readRate[0], options.readRate[1]),
      crossReadRate: r.uniform(options.crossReadRate[0], options.crossReadRate[1]),
      crossReadDropDb: r.uniform(options.crossReadDropDb[0], options.crossReadDropDb[1]),
      baseRssi: r.uniform(-62, -45),
      timeline,
    });
  }
  return tags;
}

interface RawRead {
  at: number;
  reader: string;
  antenna: number;
  epc: string;
  rssi: number;
}

export interface Delivery {
  /** Agent-side arrival time (device clock domain) of the message. */
  deliverAt: number;
  event: DeviceEvent<RfidReadsPayload>;
}

/**
 * The reader messages of one second [second·1000, second·1000 + 1000), each with a delivery
 * time. Deterministic per (seed, second).
 */
export function generateSecond(options: ScenarioOptions, tags: readonly GeneratedTag[], second: number): Delivery[] {
  const rng = new Rng(options.seed).fork(`second-${second}`);
  const start = second * 1_000;
  const raw: RawRead[] = [];
  const burst = (zone: string, tag: GeneratedTag, rssiMean: number, from: number, spanMs: number, count: number, antennaCount: 'some' | 'one') => {
    const { reader, antennas } = readers[zone]!;
    const chosen = antennaCount === 'one' ? [rng.pick(antennas)] : antennas.filter(() => rng.chance(0.7));
    if (chosen.length === 0) chosen.push(rng.pick(antennas));
    for (const antenna of chosen) {
      for (let i = 0; i < count; i++) {
        raw.push({ at: Math.floor(from + rng.uniform(0, spanMs)), reader, antenna, epc: tag.epc, rssi: rssiMean + rng.normal(0, 2) });
      }
    }
  };
  for (const tag of tags) {
    const state = truthAt(tag, start);
    if (state.kind === 'zone') {
      if (rng.chance(tag.readRate)) burst(state.zone, tag, tag.baseRssi, start, 1_000, rng.int(1, 6), 'some');
      for (const neighbour of neighbours[state.zone]!) {
        if (rng.chance(tag.crossReadRate)) {
          burst(neighbour, tag, tag.baseRssi - tag.crossReadDropDb, start + rng.uniform(0, 900), 100, rng.int(1, 2), 'one');
        }
      }
    }
    // Items pass the portal in about a second: each antenna reads it in 70 % of the 250 ms slots,
    // and the zone beside the portal sometimes cross-reads it.
    let inPortal = false;
    for (let slot = 0; slot < 4; slot++) {
      const from = start + slot * 250;
      if (truthAt(tag, from).kind !== 'portal') continue;
      inPortal = true;
      for (const antenna of readers[exitZone]!.antennas) {
        if (rng.chance(0.7)) raw.push({ at: Math.floor(from + rng.uniform(0, 250)), reader: 'rfid-portal', antenna, epc: tag.epc, rssi: tag.baseRssi + rng.normal(0, 2) });
      }
    }
    if (inPortal && rng.chance(tag.crossReadRate)) burst('Z4', tag, tag.baseRssi - tag.crossReadDropDb, start + rng.uniform(0, 900), 100, 1, 'one');
  }
  // Noise from an antenna that is not in the store model.
  for (let i = 0; i < options.unknownAntennaReadsPerSecond; i++) {
    raw.push({ at: start + rng.int(0, 999), reader: 'rfid-a', antenna: 9, epc: 'E28011704000021D35AE4008', rssi: -70 });
  }

  // Group into reader reports (every 200 ms, per-reader phase), then give each a delivery delay.
  const reports = new Map<string, { reader: string; at: number; reads: RawRead[] }>();
  for (const read of raw) {
    const phase = reportPhase[read.reader]!;
    const at = Math.ceil((read.at - phase + 1) / REPORT_MS) * REPORT_MS + phase;
    const key = `${read.reader}@${at}`;
    let report = reports.get(key);
    if (!report) reports.set(key, (report = { reader: read.reader, at, reads: [] }));
    report.reads.push(read);
  }
  const deliveries: Delivery[] = [];
  for (const report of [...reports.values()].sort((a, b) => a.at - b.at || a.reader.localeCompare(b.reader))) {
    for (let i = 0; i < report.reads.length; i += 1000) {
      const reads = report.reads.slice(i, i + 1000).map((r) => ({
        epc: r.epc,
        antenna: r.antenna,
        ...(options.withRssi ? { rssi: Math.round(r.rssi) } : {}),
      }));
      const deliverAt = report.at + Math.floor(rng.uniform(0, MAX_DELIVERY_DELAY_MS));
      deliveries.push({
        deliverAt,
        event: { deviceId: report.reader, kind: 'rfid-reader', deviceTime: report.at, receivedAt: deliverAt, payload: { at: report.at, reads } },
      });
    }
  }
  return deliveries;
}
