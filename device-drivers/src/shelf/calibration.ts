import { weightPayload, type WeightPayload } from '../payloads.ts';
import { shelfChannelFlags, type ShelfSampleFrame, type ShelfReject } from './frame.ts';

/**
 * Raw ADC counts → grams, per channel: grams = (raw − offsetCounts) × gramsPerCount.
 * The controller sends raw counts and knows nothing of grams; calibration lives on the host
 * (driver options), and a tare command only measures a new `offsetCounts`.
 */
export interface ChannelCalibration {
  /** Counts the empty channel reads (its zero). */
  offsetCounts: number;
  /** Grams per count (the span), from weighing a reference mass: mass / (raw − offsetCounts). */
  gramsPerCount: number;
}

/**
 * The span of a 5 kg, 1 mV/V cell excited at 5 V on an HX711 at gain 128: the ADC's full
 * scale ±0.5·AVDD/gain = ±19.53 mV spans ±2^23 counts (2.328 nV/count) [HX711 datasheet,
 * "Analog Inputs"], and the cell gives 5 mV at 5 kg = 1 µV/g (research/checkout.md §5.3), so
 * one gram is 429.5 counts. Only a starting point: calibrate each cell.
 */
export const HX711_5KG_GRAMS_PER_COUNT = (0.5 * 5) / 128 / 2 ** 23 / (1e-3 / 1_000);

export const defaultChannelCalibration: Readonly<ChannelCalibration> = Object.freeze({ offsetCounts: 0, gramsPerCount: HX711_5KG_GRAMS_PER_COUNT });

/** The canonical payload's range for one reading (payloads.ts). */
const MAX_ABS_GRAMS = 1_000_000;

/** Grams to 0.01 g: well under the cell's ~0.05 g electrical floor, so rounding loses nothing real. */
export function countsToGrams(raw: number, calibration: ChannelCalibration): number {
  return Math.round((raw - calibration.offsetCounts) * calibration.gramsPerCount * 100) / 100;
}

/** The inverse, for simulators and tests: the raw reading of `grams` (not clamped to 24 bits). */
export function gramsToCounts(grams: number, calibration: ChannelCalibration): number {
  return Math.round(grams / calibration.gramsPerCount + calibration.offsetCounts);
}

export interface SampleConversion {
  /** The canonical sample, or undefined when no channel had a usable reading. */
  payload: WeightPayload | undefined;
  /** One DRV_ERR_CHANNEL_FAULT per channel left out (saturated, ADC error, out of range). */
  faults: ShelfReject[];
}

/**
 * A decoded sample frame as the canonical `evt/weight` shape the MQTT shelves send
 * (`{ at, seq, channels: [{ ch, grams }] }`), so both paths feed the agent the same thing.
 * Channels flagged saturated or ADC error are left out: a clipped or missing conversion is
 * not a weight, and inventory works on settled deltas, where a missing sample is harmless.
 */
export function sampleToWeightPayload(
  frame: ShelfSampleFrame,
  options: { at: number; seq?: number; calibration: (ch: number) => ChannelCalibration },
): SampleConversion {
  const faults: ShelfReject[] = [];
  const channels: WeightPayload['channels'] = [];
  frame.channels.forEach(({ raw, flags }, ch) => {
    const fault = (what: string) => faults.push({ code: 'DRV_ERR_CHANNEL_FAULT', reason: `channel ${ch} ${what} (sample seq ${frame.seq})` });
    if (flags & shelfChannelFlags.adcError) return fault('reports an ADC error');
    if (flags & shelfChannelFlags.saturated) return fault(`is saturated (raw ${raw})`);
    const grams = countsToGrams(raw, options.calibration(ch));
    if (!(Math.abs(grams) <= MAX_ABS_GRAMS)) return fault(`reads ${grams} g, outside ±${MAX_ABS_GRAMS} g: check its calibration`);
    channels.push({ ch, grams });
  });
  if (channels.length === 0) return { payload: undefined, faults };
  const candidate = { at: options.at, ...(options.seq === undefined ? {} : { seq: options.seq }), channels };
  // Same schema as the MQTT path. It holds by construction; checked so a bad `at` cannot slip through.
  const parsed = weightPayload.safeParse(candidate);
  if (parsed.success) return { payload: parsed.data, faults };
  const issue = parsed.error.issues[0];
  faults.push({ code: 'DRV_ERR_FRAME_MALFORMED', reason: `sample seq ${frame.seq}: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` });
  return { payload: undefined, faults };
}
