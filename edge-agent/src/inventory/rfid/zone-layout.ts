import type { StoreModel } from '@storeedge/device-drivers';
import { errors } from '../../errors.ts';
import type { RfidPresenceOptions } from './options.ts';

/** One zone as the tracker uses it: the store model's zone with the options resolved for it. */
export interface ZoneSettings {
  id: string;
  exit: boolean;
  /** Zones that can cross-read this one's tags or whose tags this one can cross-read (the model's `neighbours`, made symmetric). */
  neighbours: ReadonlySet<string>;
  absenceTimeoutMs: number;
  minRssi: number | undefined;
  exitReads: number;
  exitWindowMs: number;
}

/** The RFID view of the store model: which zones each antenna covers, and each zone's settings. */
export interface ZoneLayout {
  zones: ReadonlyMap<string, ZoneSettings>;
  /** `reader#antenna` → the zones that antenna covers (usually one). */
  antennas: ReadonlyMap<string, readonly ZoneSettings[]>;
  /** The longest exit window, for how long per-tag read history must be kept. */
  longestExitWindowMs: number;
}

export function antennaKey(reader: string, antenna: number): string {
  return `${reader}#${antenna}`;
}

/** Builds the layout; throws EDGE_ERR_CONFIG_INVALID when the options name a zone the model lacks. */
export function zoneLayout(model: StoreModel, options: RfidPresenceOptions): ZoneLayout {
  const known = new Set(model.zones.map((zone) => zone.id));
  const unknown = Object.keys(options.zones).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw errors.EDGE_ERR_CONFIG_INVALID(
      `rfid presence options name zones the store model does not have: ${unknown.join(', ')}; use one of ${[...known].join(', ')}`,
    );
  }
  const neighbours = new Map<string, Set<string>>(model.zones.map((zone) => [zone.id, new Set<string>()]));
  for (const zone of model.zones) {
    for (const other of zone.neighbours) {
      if (other === zone.id) continue;
      neighbours.get(zone.id)?.add(other);
      neighbours.get(other)?.add(zone.id);
    }
  }
  const zones = new Map<string, ZoneSettings>();
  const antennas = new Map<string, ZoneSettings[]>();
  let longestExitWindowMs = options.exit.windowMs;
  for (const zone of model.zones) {
    const override = options.zones[zone.id] ?? {};
    const settings: ZoneSettings = {
      id: zone.id,
      exit: zone.exit,
      neighbours: neighbours.get(zone.id) ?? new Set(),
      absenceTimeoutMs: override.absenceTimeoutMs ?? options.absenceTimeoutMs,
      minRssi: override.minRssi,
      exitReads: override.exitReads ?? options.exit.reads,
      exitWindowMs: override.exitWindowMs ?? options.exit.windowMs,
    };
    longestExitWindowMs = Math.max(longestExitWindowMs, settings.exitWindowMs);
    zones.set(zone.id, settings);
    for (const { reader, antenna } of zone.antennas) {
      const key = antennaKey(reader, antenna);
      const list = antennas.get(key) ?? [];
      if (!list.includes(settings)) list.push(settings);
      antennas.set(key, list);
    }
  }
  return { zones, antennas, longestExitWindowMs };
}
