import { z } from 'zod';

/**
 * The weight pipeline's options: schema and defaults side by side. docs/weight-pipeline.md
 * explains each one and where its default comes from; change both together. Every threshold
 * that depends on noise is in units of the noise σ the pipeline measures per tray, so the same
 * defaults work from 0.5 g to 10 g of noise.
 */
export const weightPipelineOptions = z.strictObject({
  /** Samples per second per tray. Default: measured per tray from its first samples (median interval). */
  sampleRateHz: z.number().positive().max(1_000).optional(),
  /** Length of the window whose quiet makes a level "settled" (MPS: 60 samples at 60 Hz = 1 s). Default 1000 ms. */
  settleWindowMs: z.number().positive().max(60_000).default(1_000),
  /** The window never has fewer samples than this (at 10 SPS, 1 s is 10 samples). Default 8. */
  minWindowSamples: z.number().int().min(4).max(1_000).default(8),
  /** A window is quiet when its standard deviation is ≤ σ·(1 + quietZ/√(2(n−1))), i.e. quietZ standard errors of a sample SD above σ. Default 3. */
  quietZ: z.number().positive().default(3),
  /** …and its two halves' means differ by ≤ trendZ standard errors (no ramp still going on). Default 3.5. */
  trendZ: z.number().positive().default(3.5),
  /** A settled tray becomes active when one sample is more than triggerZ·σ from the level. Default 4.5. */
  triggerZ: z.number().positive().default(4.5),
  /** …or when the newest half-window's mean is more than meanShiftZ standard errors from the level (slow changes). Default 4. */
  meanShiftZ: z.number().positive().default(4),
  /** Noise σ assumed until a tray has enough quiet history to measure its own (grams). Default 2. */
  initialNoiseSigmaG: z.number().positive().max(1_000).default(2),
  /** The measured σ never goes below this (a perfectly quiet or quantised input would make every threshold zero). Default 0.2 g. */
  minNoiseSigmaG: z.number().positive().max(100).default(0.2),
  /** Time constant of the drift tracker: while settled, the level follows slow changes (zero drift, creep, temperature) with this EMA. Default 30 s. */
  driftTauMs: z.number().positive().default(30_000),
  /** A settled change is an event only when |Δ| ≥ eventZ · σ(Δ) … Default 5. */
  eventZ: z.number().positive().default(5),
  /** … and |Δ| ≥ minEventG grams. Default 8 g. */
  minEventG: z.number().nonnegative().default(8),
  /** Added in quadrature to σ(Δ) for what the noise of the means does not cover (ADC tails, creep during the event). Default 0.5 g. */
  deltaSigmaFloorG: z.number().nonnegative().default(0.5),
  /** A SKU explains Δ when Δ is within about misplacedZ σ of an integer multiple of its unit weight; when none does, the change is `misplaced`. Default 4. */
  misplacedZ: z.number().positive().default(4),
  /** Prior weight of each extra unit in one handling (n units: decay^(n−1)); decides between SKUs whose multiples both fit. Default 0.5. */
  unitPriorDecay: z.number().positive().max(1).default(0.5),
  /**
   * Most units one shopper handling may be (more is not an explanation: a heavy foreign item on a tray of light SKUs,
   * e.g. one 240 g jar put on a tray of 30 g bars is not 8 bars). Larger changes are staff work: a restock arrives as an
   * unexplained (`misplaced`) change and the inventory explains it from the declared restock. Default 6.
   */
  maxUnits: z.number().int().min(1).max(1_000).default(6),
  /**
   * A positive change is held this long before it is emitted: a hand grasping an item presses on the tray before it lifts, and
   * until the lift that looks like a put-back (the press before a lift lasts ≈1–2 s). Picks are not delayed. Default 1 s.
   */
  putBackConfirmMs: z.number().nonnegative().max(60_000).default(1_000),
  /**
   * A settled level reached from below by more than pressZ standard errors (a hand pressing down, not letting go) is held for
   * unexplainedHoldMs: handlings end with a release. Default 5.
   */
  pressZ: z.number().positive().default(5),
  /**
   * A change no SKU of the tray explains (even with the shares its neighbours offer it), or whose new level was reached by pressing,
   * is held this long, so that a hand resting still on the tray (a quiet plateau; research: presses of 5–30 s) and what follows merge
   * into one change. A misplaced item is reported after it, or as soon as a handling of the tray's own follows. Default 30 s.
   */
  unexplainedHoldMs: z.number().nonnegative().max(600_000).default(30_000),
  crossTalk: z
    .strictObject({
      /**
       * Largest share of a simultaneous neighbour change that may stay on a tray for good (an item resting partly on the neighbouring
       * plate). A change within that share of a larger neighbour change is cross-talk, and a change explained by its SKUs only once
       * such a share is taken off gives it back to the neighbour. Default 0.025 (the simulator's permanent share is at most 0.02).
       */
      maxShare: z.number().min(0).max(1).default(0.025),
      /**
       * A tray is passive during a neighbour's handling when that neighbour's excursion (hand force + load change) is at least
       * this many times its own: what it shows is the neighbour's cross-talk (research: up to 40 %). Default 2.
       */
      dominance: z.number().min(1).default(2),
      /** Longest a passive tray's settled change waits for the neighbour that dominates it to be decided (a hand may rest there 5–30 s). Default 60 s. */
      holdMs: z.number().nonnegative().max(600_000).default(60_000),
    })
    .prefault({}),
  /** How long a tray remembers its segments and changes for its neighbours' cross-talk checks. Default 30 s. */
  memoryMs: z.number().positive().max(3_600_000).default(30_000),
});

export type WeightPipelineOptionsInput = z.input<typeof weightPipelineOptions>;
export type WeightPipelineOptions = z.output<typeof weightPipelineOptions>;

/** Parses and freezes options (throws the zod error on bad input; the caller names the source). */
export function resolveWeightPipelineOptions(input: WeightPipelineOptionsInput = {}): Readonly<WeightPipelineOptions> {
  const options = weightPipelineOptions.parse(input);
  Object.freeze(options.crossTalk);
  return Object.freeze(options);
}
