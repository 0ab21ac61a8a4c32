import { DriftTracker } from './drift-tracker.ts';
import { NoiseEstimator } from './noise-estimator.ts';
import type { WeightPipelineOptions } from './options.ts';
import { RollingWindow } from './rolling-window.ts';

/** A tray went from one settled level to another (or back to the same one). Times are device time, ms. */
export interface SettledSegment {
  /** The sample that left the previous level. */
  startAt: number;
  /** The first sample of the quiet window that defines the new level. */
  settledAt: number;
  /** The sample that completed that window (the earliest moment the change can be known). */
  confirmedAt: number;
  /** The level before (drift-tracked mean) and after (mean of the quiet window), grams, and the samples behind each. */
  beforeG: number;
  beforeN: number;
  afterG: number;
  afterN: number;
  /** The tray's noise σ when the segment closed, grams. */
  sigmaG: number;
  /** Largest |sample − level before| during the segment: how hard the tray was pushed (the hand, or a neighbour's cross-talk). */
  peakG: number;
  /**
   * Mean of the half-window of samples just before the quiet window, minus the new level: > 0
   * when the level was reached from above (a hand let go, an item was lifted), < 0 when from
   * below (a hand pressing down, which does not end a handling).
   */
  approachG: number;
  /** Standard error of approachG from noise alone, grams. */
  approachSigmaG: number;
}

export type SettleState = 'warmup' | 'settled' | 'active';

/** Samples used to measure the sample rate when it is not configured. */
const RATE_SAMPLES = 9;
/** After this many windows without settling, the active samples count towards the noise again. */
const NOISE_STUCK_WINDOWS = 20;
/** The drift tracker follows the level this many samples late, so the onset of a change is not folded into the "before" level. */
const TRACK_LAG = 2;

/**
 * One tray's settle detector, driven only by sample timestamps (device time), so it behaves
 * the same in simulated time. States:
 * - warmup: measuring the sample rate, then waiting for a first quiet window (no event: the
 *   absolute level is never trusted);
 * - settled: the level is tracked (drift, creep); a sample more than triggerZ·σ away, or a
 *   half-window mean shifted by meanShiftZ standard errors, makes the tray active;
 * - active: waits for a window of settleWindowMs whose SD is that of noise alone and which
 *   shows no ramp; its mean is the new level, and the segment closes.
 * MPS does the same with a 60-sample (1 s at 60 Hz) moving mean and SD (research/checkout.md §1.5).
 */
export class SettleDetector {
  readonly #options: WeightPipelineOptions;
  readonly #tracker: DriftTracker;
  #periodMs: number | undefined;
  #rateTimes: number[] = [];
  #window: RollingWindow | undefined;
  /** The samples just before the window (they left it), for the approach direction. */
  #lead: Float64Array | undefined;
  #leadHead = 0;
  #leadCount = 0;
  #noise: NoiseEstimator | undefined;
  #state: SettleState = 'warmup';
  #lastAt: number | undefined;
  #activeSince: number | undefined;
  #sinceTrigger = 0;
  #beforeG = Number.NaN;
  #beforeN = 0;
  #peakG = 0;
  #skipTrack = 0;
  /** Thresholds that depend only on the window size. */
  #quietFactor = 0;
  #trendFactor = 0;
  #recentInverse = 0;

  constructor(options: WeightPipelineOptions) {
    this.#options = options;
    this.#tracker = new DriftTracker(options.driftTauMs);
    if (options.sampleRateHz !== undefined) this.#configure(1_000 / options.sampleRateHz);
  }

  get state(): SettleState {
    return this.#state;
  }

  /** Device time the current active period began, or undefined when not active. */
  get activeSince(): number | undefined {
    return this.#activeSince;
  }

  /** The tracked level while settled (NaN before the first settle). */
  get levelG(): number {
    return this.#tracker.level;
  }

  get sigmaG(): number {
    return this.#noise?.sigma ?? Math.max(this.#options.minNoiseSigmaG, this.#options.initialNoiseSigmaG);
  }

  get periodMs(): number | undefined {
    return this.#periodMs;
  }

  get windowSamples(): number | undefined {
    return this.#window?.size;
  }

  /** While active: the largest excursion from the level before so far, grams (0 otherwise). */
  get activePeakG(): number {
    return this.#state === 'active' ? this.#peakG : 0;
  }

  /** Drift and creep absorbed into the level so far (sum over settled periods), grams. */
  get driftAbsorbedG(): number {
    return this.#tracker.absorbedG;
  }

  /** Last sample time seen. */
  get lastAt(): number | undefined {
    return this.#lastAt;
  }

  /** Feeds one sample (t non-decreasing; the caller drops the rest). Returns a segment when one closes. */
  push(t: number, grams: number): SettledSegment | undefined {
    const previousAt = this.#lastAt;
    this.#lastAt = t;
    if (this.#periodMs === undefined) {
      this.#rateTimes.push(t);
      if (this.#rateTimes.length < RATE_SAMPLES) return undefined;
      const gaps = this.#rateTimes.slice(1).map((x, i) => x - this.#rateTimes[i]!).sort((a, b) => a - b);
      this.#configure(Math.max(1, gaps[gaps.length >> 1]!));
      this.#rateTimes = [];
    }
    const period = this.#periodMs!;
    const window = this.#window!;
    const noise = this.#noise!;
    const continuous = previousAt !== undefined && t - previousAt <= Math.max(5 * period, 1_000);
    // Handling does not count towards the noise, unless the tray never settles (σ was too low to let it).
    const counts = this.#state !== 'active' || t - this.#activeSince! > NOISE_STUCK_WINDOWS * window.size * period;
    noise.push(grams, continuous, counts);
    if (window.full) this.#pushLead(window.valueBack(window.size - 1));
    window.push(t, grams);
    const sigma = noise.sigma;

    switch (this.#state) {
      case 'warmup':
        if (window.full && this.#quiet(sigma)) this.#settle(window.mean(), window.size);
        return undefined;
      case 'settled': {
        const level = this.#tracker.level;
        const n = this.#tracker.samples;
        if (Math.abs(grams - level) > this.#options.triggerZ * sigma) {
          this.#activate(t, level, n);
          return undefined;
        }
        if (window.full && Math.abs(window.recentMean() - level) > this.#options.meanShiftZ * sigma * Math.sqrt(this.#recentInverse + 1 / n)) {
          // A slow change: it began about half a window ago.
          this.#activate(t - (window.recentSize - 1) * period, level, n);
          return undefined;
        }
        if (this.#skipTrack > 0) this.#skipTrack--;
        else this.#tracker.track(window.valueBack(TRACK_LAG), period);
        return undefined;
      }
      case 'active': {
        const excursion = Math.abs(grams - this.#beforeG);
        if (excursion > this.#peakG) this.#peakG = excursion;
        if (++this.#sinceTrigger < window.size || !this.#quiet(sigma)) return undefined;
        const segment: SettledSegment = {
          startAt: this.#activeSince!,
          settledAt: window.oldestTime(),
          confirmedAt: t,
          beforeG: this.#beforeG,
          beforeN: this.#beforeN,
          afterG: window.mean(),
          afterN: window.size,
          sigmaG: sigma,
          peakG: this.#peakG,
          approachG: this.#leadMean() - window.mean(),
          approachSigmaG: sigma * Math.sqrt(1 / Math.max(1, this.#leadCount) + 1 / window.size),
        };
        this.#settle(segment.afterG, window.size);
        return segment;
      }
    }
  }

  #configure(periodMs: number): void {
    const o = this.#options;
    this.#periodMs = periodMs;
    const size = Math.max(o.minWindowSamples, Math.round(o.settleWindowMs / periodMs));
    this.#window = new RollingWindow(size);
    this.#lead = new Float64Array(this.#window.recentSize);
    this.#noise = new NoiseEstimator({ blockSize: size, priorSigmaG: o.initialNoiseSigmaG, minSigmaG: o.minNoiseSigmaG });
    // The SD of n normal samples has a standard error of about σ/√(2(n−1)).
    this.#quietFactor = 1 + o.quietZ / Math.sqrt(2 * (size - 1));
    const recent = this.#window.recentSize;
    this.#trendFactor = o.trendZ * Math.sqrt(1 / recent + 1 / (size - recent));
    this.#recentInverse = 1 / recent;
  }

  #pushLead(value: number): void {
    const lead = this.#lead!;
    lead[this.#leadHead] = value;
    this.#leadHead = (this.#leadHead + 1) % lead.length;
    if (this.#leadCount < lead.length) this.#leadCount++;
  }

  #leadMean(): number {
    const lead = this.#lead!;
    let sum = 0;
    for (let i = 0; i < this.#leadCount; i++) sum += lead[i]!;
    return this.#leadCount === 0 ? Number.NaN : sum / this.#leadCount;
  }

  #quiet(sigma: number): boolean {
    const window = this.#window!;
    return window.std() <= sigma * this.#quietFactor && Math.abs(window.recentMean() - window.olderMean()) <= sigma * this.#trendFactor;
  }

  #activate(startAt: number, level: number, n: number): void {
    this.#tracker.close();
    this.#state = 'active';
    this.#activeSince = startAt;
    this.#sinceTrigger = 0;
    this.#beforeG = level;
    this.#beforeN = n;
    this.#peakG = Math.abs(this.#window!.valueBack(0) - level);
  }

  #settle(level: number, n: number): void {
    this.#tracker.reset(level, n);
    this.#state = 'settled';
    this.#activeSince = undefined;
    this.#skipTrack = TRACK_LAG;
  }
}
