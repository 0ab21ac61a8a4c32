import { epcHexProblem, pcForEpcLength, type Zone } from '@storeedge/device-drivers';
import { simulatorErrors } from '../errors.ts';
import type { Rng } from '../random.ts';

/**
 * Where tagged items are, as RFID antennas see them: tags lie in zones, an antenna covers one
 * zone and may cross-read tags in neighbouring ones. One field can be shared by several
 * simulated readers, so the same tag shows up (weakly) on a neighbour's antenna.
 */

export interface RfidFieldOptions {
  /** Probability that a tag in an antenna's own zone answers one inventory round. Default 0.9. */
  readRate?: number;
  /** Probability that a tag in a neighbouring zone answers (a cross-read). Default 0.05. */
  crossReadRate?: number;
  /** RSSI of a tag in the antenna's own zone: mean and standard deviation, dBm. Default −50 ± 4. */
  rssiMeanDbm?: number;
  rssiSdDb?: number;
  /** How much weaker a cross-read arrives. Default 15 dB. */
  crossReadAttenuationDb?: number;
}

export interface FieldTag {
  /** Upper-case hex. */
  epc: string;
  zone: string;
  /** This tag's read rate in its own zone (a badly placed or detuned tag), overriding the field's. */
  readRate?: number;
}

/** One antenna's view: the zone it covers and the zones it can cross-read into. */
export interface AntennaView {
  antenna: number;
  zone: string;
  neighbours?: readonly string[];
}

/** One tag answering one inventory round; `crossRead` is ground truth for tests and scoring. */
export interface TagSighting {
  epc: string;
  pc: number;
  antenna: number;
  /** dBm, whole numbers as readers report them. */
  rssi: number;
  zone: string;
  crossRead: boolean;
}

/** RSSI a reader can report: an M100 sends one signed byte. */
const RSSI_MIN = -100;
const RSSI_MAX = -20;

export class RfidField {
  readonly readRate: number;
  readonly crossReadRate: number;
  readonly #rssiMeanDbm: number;
  readonly #rssiSdDb: number;
  readonly #crossReadAttenuationDb: number;
  readonly #tags = new Map<string, FieldTag>();

  constructor(options: RfidFieldOptions = {}) {
    this.readRate = probability('readRate', options.readRate ?? 0.9);
    this.crossReadRate = probability('crossReadRate', options.crossReadRate ?? 0.05);
    this.#rssiMeanDbm = options.rssiMeanDbm ?? -50;
    this.#rssiSdDb = options.rssiSdDb ?? 4;
    this.#crossReadAttenuationDb = options.crossReadAttenuationDb ?? 15;
  }

  /** Puts a tag in a zone (or moves it there). */
  place(epc: string, zone: string, options: { readRate?: number } = {}): void {
    const problem = epcHexProblem(epc);
    if (problem !== undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`EPC "${epc}" ${problem}`);
    const tag: FieldTag = { epc: epc.toUpperCase(), zone };
    if (options.readRate !== undefined) tag.readRate = probability('readRate', options.readRate);
    this.#tags.set(tag.epc, tag);
  }

  /** Takes a tag out of every zone (sold, carried out); false when it was not there. */
  remove(epc: string): boolean {
    return this.#tags.delete(epc.toUpperCase());
  }

  zoneOf(epc: string): string | undefined {
    return this.#tags.get(epc.toUpperCase())?.zone;
  }

  /** Tags in `zone`, or all of them. */
  tags(zone?: string): FieldTag[] {
    const all = [...this.#tags.values()];
    return zone === undefined ? all : all.filter((t) => t.zone === zone);
  }

  /** One inventory round as `view` sees it: which tags answer, with what RSSI. */
  inventory(view: AntennaView, rng: Rng): TagSighting[] {
    const neighbours = new Set(view.neighbours ?? []);
    const out: TagSighting[] = [];
    for (const tag of this.#tags.values()) {
      const own = tag.zone === view.zone;
      if (!own && !neighbours.has(tag.zone)) continue;
      const rate = own ? (tag.readRate ?? this.readRate) : this.crossReadRate;
      if (!rng.chance(rate)) continue;
      const mean = this.#rssiMeanDbm - (own ? 0 : this.#crossReadAttenuationDb);
      const rssi = Math.round(Math.min(RSSI_MAX, Math.max(RSSI_MIN, rng.normal(mean, this.#rssiSdDb))));
      out.push({ epc: tag.epc, pc: pcForEpcLength(tag.epc.length / 2), antenna: view.antenna, rssi, zone: tag.zone, crossRead: !own });
    }
    return out;
  }
}

/**
 * The antennas of `readerId` in a store model, each with the zones it can cross-read: a zone
 * lists the zones whose antennas can cross-read its tags (store-model.ts `neighbours`), so
 * antenna A (covering zone a) cross-reads zone z when z lists a.
 */
export function antennaViews(zones: readonly Zone[], readerId: string): AntennaView[] {
  const views: AntennaView[] = [];
  for (const zone of zones) {
    for (const antenna of zone.antennas) {
      if (antenna.reader !== readerId) continue;
      const neighbours = zones.filter((z) => z.id !== zone.id && z.neighbours.includes(zone.id)).map((z) => z.id);
      views.push({ antenna: antenna.antenna, zone: zone.id, neighbours });
    }
  }
  return views;
}

function probability(name: string, value: number): number {
  if (!(value >= 0 && value <= 1)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${name} ${value} must be a probability in [0, 1]`);
  return value;
}
