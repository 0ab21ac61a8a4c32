/**
 * A tag's coin cell: charge drawn per event, voltage read off a discharge curve. The costs
 * are derived in docs/esl-gateway-sim.md from research/esl.md §1.5 and §2; the curve's shape
 * is an assumption (no discharge curve was found in the research).
 */
export interface BatteryCosts {
  /** Cell capacity per tag, mAh. Default 620 (one CR2450; research/esl.md §2 vendor FAQ). */
  capacityMah: number;
  /** One check-in including the sleep before it, µAh. Default 0.1 (9 µA average over a 40 s cycle; §1.5). */
  checkinUah: number;
  /** One e-paper redraw including its transfer, µAh. Default 22 (computed from the §2 vendor FAQ, see the docs). */
  redrawUah: number;
  /** One LED flash, µAh. Default 0.05 (assumed: about 10 mA for 20 ms; not found in the research). */
  ledFlashUah: number;
  /** Below this the tag stops working, mV. Default 2 450 (OEPL `BATTERY_VOLTAGE_MINIMUM`; §1.5). */
  minimumMv: number;
}

export const defaultBatteryCosts: Readonly<BatteryCosts> = Object.freeze({
  capacityMah: 620,
  checkinUah: 0.1,
  redrawUah: 22,
  ledFlashUah: 0.05,
  minimumMv: 2_450,
});

/**
 * Remaining charge (fraction of capacity) → terminal voltage under a light load, mV: the flat
 * plateau and late knee of a lithium coin cell. Assumed shape; ordered from full to empty.
 */
const dischargeCurve: ReadonlyArray<readonly [fraction: number, mv: number]> = [
  [1, 3_100],
  [0.9, 3_000],
  [0.5, 2_900],
  [0.2, 2_800],
  [0.1, 2_700],
  [0.05, 2_600],
  [0, 2_400],
];

/** The voltage of a cell with this fraction of its charge left. */
export function voltageAt(fraction: number): number {
  const f = Math.min(1, Math.max(0, fraction));
  for (let i = 1; i < dischargeCurve.length; i++) {
    const [hiF, hiMv] = dischargeCurve[i - 1]!;
    const [loF, loMv] = dischargeCurve[i]!;
    if (f >= loF) return loMv + ((f - loF) / (hiF - loF)) * (hiMv - loMv);
  }
  return dischargeCurve.at(-1)![1];
}

/** The charge fraction at which a cell shows `mv` (the inverse of voltageAt, clamped to the curve). */
export function fractionAt(mv: number): number {
  if (mv >= dischargeCurve[0]![1]) return 1;
  for (let i = 1; i < dischargeCurve.length; i++) {
    const [hiF, hiMv] = dischargeCurve[i - 1]!;
    const [loF, loMv] = dischargeCurve[i]!;
    if (mv >= loMv) return loF + ((mv - loMv) / (hiMv - loMv)) * (hiF - loF);
  }
  return 0;
}

/** One tag's cell. */
export class Battery {
  readonly #capacityUah: number;
  #chargeUah: number;

  constructor(capacityMah: number, startMv: number) {
    this.#capacityUah = capacityMah * 1_000;
    this.#chargeUah = fractionAt(startMv) * this.#capacityUah;
  }

  get mv(): number {
    return voltageAt(this.#chargeUah / this.#capacityUah);
  }

  /** Charge drawn so far is gone; an empty cell stays empty. */
  draw(uah: number): void {
    this.#chargeUah = Math.max(0, this.#chargeUah - uah);
  }
}
