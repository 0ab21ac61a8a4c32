import { z } from 'zod';

/**
 * The load-cell noise model's knobs, schema and defaults side by side (research/checkout.md
 * §5.3; docs/weight-pipeline.md explains each one). A scenario's `loadCells` section parses
 * with this schema; every field is optional.
 */

const grams = z.number().finite().nonnegative();

export const burstOptions = z
  .strictObject({
    /** Mean bursts per minute (Poisson) per burst group (a shelf shares its vibration). Default 0.5. */
    perMinute: z.number().nonnegative().max(600).default(0.5),
    /** Burst length, uniform in [minMs, maxMs]. Default 200–2000 ms. */
    minMs: z.number().positive().default(200),
    maxMs: z.number().positive().default(2_000),
    /** Peak amplitude on the most affected tray of the group, uniform in [min, max]. Default 10–50 g. */
    minAmplitudeG: grams.default(10),
    maxAmplitudeG: grams.default(50),
  })
  .refine((b) => b.minMs <= b.maxMs, { message: 'bursts: minMs must be <= maxMs', path: ['minMs'] })
  .refine((b) => b.minAmplitudeG <= b.maxAmplitudeG, { message: 'bursts: minAmplitudeG must be <= maxAmplitudeG', path: ['minAmplitudeG'] });

export const crossTalkOptions = z
  .strictObject({
    /** Share of a handled tray's deviation (touch + load change) seen on each neighbour while the hand is there, uniform in [min, max]. Default 5–40 %. */
    min: z.number().min(0).max(1).default(0.05),
    max: z.number().min(0).max(1).default(0.4),
    /**
     * Share of the load change that stays on a neighbour for good (an item resting partly on the
     * neighbouring plate), uniform in [0, permanentMax]; it is taken off the handled tray, so the
     * shelf total is right. Default 2 %; 0 turns it off.
     */
    permanentMax: z.number().min(0).max(0.5).default(0.02),
  })
  .refine((c) => c.min <= c.max, { message: 'crossTalk: min must be <= max', path: ['min'] });

export const touchOptions = z.strictObject({
  /** Hand force on the tray when handle() gives no touchG. Default 300 g (≈3 N). */
  defaultG: grams.default(300),
  /** The force wanders around touchG (a hand does not hold still): Ornstein–Uhlenbeck, σ as a share of touchG. Default 10 %. */
  wanderFraction: z.number().min(0).max(1).default(0.1),
  /** Correlation time of the wander. Default 400 ms. */
  wanderTauMs: z.number().positive().default(400),
  /** Physiological tremor, white, σ as a share of touchG. Default 2 %. */
  tremorFraction: z.number().min(0).max(1).default(0.02),
  /** Time the hand force takes to build up and to release. Default 120 ms. */
  rampMs: z.number().nonnegative().default(120),
  /** Time an item takes to leave (or land on) the tray once lifted (put down). Default 200 ms. */
  transferMs: z.number().nonnegative().default(200),
});

export const loadCellNoiseOptions = z
  .strictObject({
    /** Samples per second per tray: 10 or 80 for an HX711, 60 like AiFi's plates. Default 10. */
    sampleRateHz: z.number().positive().max(1_000).default(10),
    /** White noise of each sample, σ in grams; sweep 0.5–10 g. Default 2 g. */
    noiseSigmaG: grams.max(1_000).default(2),
    /** Electrical noise floor, σ in grams (≈0.05 g for a 5 kg, 1 mV/V cell on an HX711 at gain 128). Default 0.05 g. */
    electricalNoiseG: grams.max(100).default(0.05),
    /** Zero drift as a random walk: RMS grams after one hour (grows with √t). Default 5 g/√h. */
    driftGPerSqrtHour: grams.max(10_000).default(5),
    /** Creep: share of the cell's load (tare included) the reading creeps by in 30 min under constant load. Default 0.0003 (0.03 %). */
    creepFraction: z.number().min(0).max(0.05).default(0.0003),
    /** Time for the reading to follow a load step (ADC filter). Default four conversions: 400 ms at 10 SPS, 50 ms at 80 SPS. */
    settleMs: grams.max(10_000).optional(),
    /** Vibration / EMI bursts; null turns them off. */
    bursts: burstOptions.nullable().prefault({}),
    /** Cross-talk to the neighbouring trays; null turns it off. */
    crossTalk: crossTalkOptions.nullable().prefault({}),
    /** Hand force while a hand is on a tray. */
    touch: touchOptions.prefault({}),
  })
  // HX711 datasheet, "output settling time": 400 ms at 10 SPS, 50 ms at 80 SPS — four conversions.
  .transform(({ settleMs, ...rest }) => ({ ...rest, settleMs: settleMs ?? 4_000 / rest.sampleRateHz }));

/** What a caller passes: every field optional. */
export type LoadCellNoiseOptions = z.input<typeof loadCellNoiseOptions>;
/** The options with every default filled in. */
export type LoadCellNoise = z.output<typeof loadCellNoiseOptions>;
export type BurstOptions = z.output<typeof burstOptions>;
export type CrossTalkOptions = z.output<typeof crossTalkOptions>;
export type TouchOptions = z.output<typeof touchOptions>;
