import type { Rng } from '../random.ts';
import type { BurstOptions } from './noise-options.ts';

/**
 * Vibration and EMI bursts of one burst group (the trays that share a shelf or a controller):
 * a Poisson process in simulated time; each burst is zero-mean and ends where it began, so the
 * tray's level does not change. Research/checkout.md §5.3: 0.2–2 s, 10–50 g (AiFi FAQ: "nearby
 * vibrations and electrical noise").
 */
export interface Burst {
  startAt: number;
  endAt: number;
  /** 'vibration': a half-sine-enveloped oscillation; 'emi': enveloped white noise. */
  kind: 'vibration' | 'emi';
  amplitudeG: number;
  frequencyHz: number;
  phase: number;
  /** Per tray of the group (by position in the group): how much of the amplitude reaches it, 0.5–1. */
  trayScale: number[];
}

export class BurstSchedule {
  readonly #options: BurstOptions;
  readonly #rng: Rng;
  readonly #trays: number;
  readonly #maxFrequencyHz: number;
  #nextAt: number | undefined;
  /** Bursts that may still be running, oldest first. */
  #live: Burst[] = [];
  /** Every burst so far (ground truth for tests). */
  readonly history: Burst[] = [];

  constructor(options: BurstOptions, trays: number, sampleRateHz: number, rng: Rng) {
    this.#options = options;
    this.#rng = rng;
    this.#trays = trays;
    // Keep the oscillation below Nyquist so it shows up as what it is, not as an alias.
    this.#maxFrequencyHz = Math.max(1, Math.min(12, 0.45 * sampleRateHz));
  }

  /** The burst signal on tray `index` of the group at t (call with non-decreasing t). */
  valueAt(t: number, index: number): number {
    let sum = 0;
    for (const burst of this.#live) {
      if (t <= burst.startAt || t >= burst.endAt) continue;
      const x = (t - burst.startAt) / (burst.endAt - burst.startAt);
      const envelope = Math.sin(Math.PI * x);
      const a = burst.amplitudeG * burst.trayScale[index]! * envelope;
      sum +=
        burst.kind === 'vibration'
          ? a * Math.sin(2 * Math.PI * burst.frequencyHz * ((t - burst.startAt) / 1000) + burst.phase)
          : (a / 2) * this.#rng.normal();
    }
    return sum;
  }

  /** Starts the bursts due by t and forgets the finished ones. */
  advance(t: number): void {
    const { perMinute } = this.#options;
    if (perMinute <= 0) return;
    const meanGapMs = 60_000 / perMinute;
    let nextAt = (this.#nextAt ??= t + this.#rng.exponential(meanGapMs));
    while (nextAt <= t) {
      const startAt: number = nextAt;
      const o = this.#options;
      const burst: Burst = {
        startAt,
        endAt: startAt + this.#rng.uniform(o.minMs, o.maxMs),
        kind: this.#rng.chance(0.5) ? 'vibration' : 'emi',
        amplitudeG: this.#rng.uniform(o.minAmplitudeG, o.maxAmplitudeG),
        frequencyHz: this.#rng.uniform(1, this.#maxFrequencyHz),
        phase: this.#rng.uniform(0, 2 * Math.PI),
        trayScale: Array.from({ length: this.#trays }, () => this.#rng.uniform(0.5, 1)),
      };
      this.#live.push(burst);
      this.history.push(burst);
      nextAt = this.#nextAt = startAt + this.#rng.exponential(meanGapMs);
    }
    if (this.#live.length > 0 && this.#live[0]!.endAt < t) this.#live = this.#live.filter((b) => b.endAt >= t);
  }
}
