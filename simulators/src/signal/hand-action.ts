import type { Rng } from '../random.ts';
import type { TouchOptions } from './noise-options.ts';

/** A hand action on one tray as the caller describes it. */
export interface HandAction {
  /** Simulated ms when the hand reaches the tray. */
  startAt: number;
  /** How long the hand stays (a quick pick ≈ 1–3 s; a long press or a hold 5–30 s). */
  durationMs: number;
  /** How much the load on the tray changes, grams: negative = items taken, positive = put back. 0 = a touch only. */
  deltaG: number;
  /** Hand force while the hand is on the tray, grams; default from the touch options. */
  touchG?: number;
}

/** One neighbour's share of an action (research/checkout.md §5.3, cross-talk). */
export interface Coupling {
  trayIndex: number;
  /** Share of the handled tray's deviation seen while the hand is there. */
  transientShare: number;
  /** Share of the load change that stays on this neighbour. */
  permanentShare: number;
}

/**
 * The time profile of one hand action. The load changes by Δ over `transferMs` at one moment
 * inside the action: late for a pick (reach, grasp, lift), early for a put-back (put down, let
 * go, withdraw). The hand presses on the tray only while it is in contact through the items:
 * for a pick from its arrival until the item is lifted (after that it holds the item in the
 * air), for a put-back from the moment the item lands until the hand leaves, for a touch with no
 * load change the whole time. While in contact the force builds up, wanders and releases.
 */
export class HandProfile {
  readonly trayIndex: number;
  readonly startAt: number;
  readonly endAt: number;
  readonly deltaG: number;
  readonly touchG: number;
  readonly transferAt: number;
  /** The hand presses on the tray from contactStart to contactEnd. */
  readonly contactStart: number;
  readonly contactEnd: number;
  readonly couplings: Coupling[];
  /** Σ permanent shares: the part of Δ the handled tray itself does not carry. */
  readonly permanentTotal: number;
  readonly #rampMs: number;
  readonly #transferMs: number;
  readonly #wanderSigma: number;
  readonly #wanderTauMs: number;
  readonly #tremorSigma: number;
  /** Ornstein–Uhlenbeck state: relative deviation of the force from touchG. */
  #wander = 0;
  #wanderAt: number;

  constructor(trayIndex: number, action: HandAction, touch: TouchOptions, couplings: Coupling[], rng: Rng) {
    this.trayIndex = trayIndex;
    this.startAt = action.startAt;
    this.endAt = action.startAt + action.durationMs;
    this.deltaG = action.deltaG;
    this.touchG = action.touchG ?? touch.defaultG;
    this.couplings = couplings;
    this.permanentTotal = couplings.reduce((sum, c) => sum + c.permanentShare, 0);
    // The ramps and the transfer must fit inside the action.
    this.#rampMs = Math.min(touch.rampMs, action.durationMs / 4);
    this.#transferMs = Math.min(touch.transferMs, action.durationMs / 4);
    const d = action.durationMs;
    const [lo, hi] = action.deltaG < 0 ? [0.35, 0.8] : [0.1, 0.55];
    this.transferAt = this.startAt + rng.uniform(lo, hi) * (d - this.#transferMs);
    if (action.deltaG < 0) [this.contactStart, this.contactEnd] = [this.startAt, this.transferAt + this.#transferMs];
    else if (action.deltaG > 0) [this.contactStart, this.contactEnd] = [this.transferAt, this.endAt];
    else [this.contactStart, this.contactEnd] = [this.startAt, this.endAt];
    this.#wanderSigma = touch.wanderFraction;
    this.#wanderTauMs = touch.wanderTauMs;
    this.#tremorSigma = touch.tremorFraction * this.touchG;
    this.#wanderAt = this.contactStart;
    this.#wander = rng.normal(0, this.#wanderSigma);
  }

  /** Advances the force's wander to `t` (exact OU update; call with non-decreasing t). */
  advance(t: number, rng: Rng): void {
    if (t <= this.#wanderAt || t < this.contactStart || t > this.contactEnd) return;
    const decay = Math.exp(-(t - this.#wanderAt) / this.#wanderTauMs);
    this.#wander = this.#wander * decay + rng.normal(0, this.#wanderSigma * Math.sqrt(1 - decay * decay));
    this.#wanderAt = t;
  }

  /** 0 out of contact, 1 in contact, with linear ramps at both ends. */
  envelope(t: number): number {
    if (t <= this.contactStart || t >= this.contactEnd) return 0;
    const ramp = this.#rampMs;
    if (ramp <= 0) return 1;
    return Math.min(1, (t - this.contactStart) / ramp, (this.contactEnd - t) / ramp);
  }

  /** Share of Δ that has moved by time t (0…1). */
  progress(t: number): number {
    if (t <= this.transferAt) return 0;
    if (this.#transferMs <= 0) return 1;
    return Math.min(1, (t - this.transferAt) / this.#transferMs);
  }

  /** Hand force at t, grams (never negative). */
  touch(t: number): number {
    const e = this.envelope(t);
    return e === 0 ? 0 : Math.max(0, this.touchG * e * (1 + this.#wander));
  }

  /** σ of the tremor at t, grams (white, added per sample). */
  tremorSigma(t: number): number {
    return this.#tremorSigma * this.envelope(t);
  }

  /** Hand still there or the load still moving at t. */
  activeAt(t: number): boolean {
    return t < this.endAt || t < this.transferAt + this.#transferMs;
  }
}
