import { deltaSigma, returnedToLevel } from './burst-rejection.ts';
import type { Span } from './cross-talk.ts';
import type { WeightPipelineOptions } from './options.ts';
import { SettleDetector, type SettledSegment } from './settle-detector.ts';

/**
 * A settled change not yet emitted. Several segments of one tray merge into one change while
 * it is held (a hand resting mid-action makes a quiet plateau; a neighbour's handling is still
 * going on): Δ is always from the level before the first segment to the level after the last.
 * Several units picked in one go are one segment, so one change with quantity n.
 */
export interface PendingChange extends Span {
  /** When the last merged segment was confirmed, and when the first one was. */
  confirmedAt: number;
  firstConfirmedAt: number;
  beforeG: number;
  beforeN: number;
  afterG: number;
  afterN: number;
  sigmaG: number;
  /** Largest excursion over the merged segments (settle-detector.ts). */
  peakG: number;
  /** The last merged segment: its span, excursion and approach (settle-detector.ts). */
  last: Span & { confirmedAt: number; deltaG: number; peakG: number; approachG: number; approachSigmaG: number };
  /** Segments merged into this change. */
  parts: number;
  /** Cross-talk shares of neighbours' changes offered to this one (grams, same sign). */
  shares: number[];
  /**
   * Level shifts merged in while the change was held that a neighbour's handling drove (its
   * permanent cross-talk share, or its transient while its hand was still there), grams: not
   * part of this tray's Δ.
   */
  foreignG: number;
  /** When the last such shift was confirmed (undefined: none). */
  foreignAt: number | undefined;
}

/** A closed segment kept for the neighbours' checks. */
export interface RecentSegment extends Span {
  /** Its Δ was large enough to be an event on its own. */
  significant: boolean;
  peakG: number;
}

/** An emitted change kept for the neighbours' cross-talk checks. */
export interface RecentChange extends Span {
  deltaG: number;
}

/** Keep at most this many recent segments / changes per tray. */
const RECENT_LIMIT = 16;

/** Event segmentation for one tray: its settle detector, the change it holds and its recent history. */
export class TraySegmenter {
  readonly trayId: string;
  readonly detector: SettleDetector;
  pending: PendingChange | undefined;
  readonly recentSegments: RecentSegment[] = [];
  readonly recentChanges: RecentChange[] = [];
  readonly #options: WeightPipelineOptions;

  constructor(trayId: string, options: WeightPipelineOptions) {
    this.trayId = trayId;
    this.#options = options;
    this.detector = new SettleDetector(options);
  }

  /** Feeds one sample; returns the segment that closed, if one did (the caller holds or merges it). */
  push(t: number, grams: number): SettledSegment | undefined {
    const segment = this.detector.push(t, grams);
    if (segment === undefined) return undefined;
    this.#remember(this.recentSegments, {
      startAt: segment.startAt,
      settledAt: segment.settledAt,
      significant: !returnedToLevel(segment.afterG - segment.beforeG, deltaSigma(segment.sigmaG, segment.beforeN, segment.afterN, this.#options), this.#options),
      peakG: segment.peakG,
    });
    return segment;
  }

  /** Records an emitted change for the neighbours. */
  emitted(change: RecentChange): void {
    this.#remember(this.recentChanges, change);
  }

  /** Forgets history older than memoryMs before `now`. */
  prune(now: number): void {
    const horizon = now - this.#options.memoryMs;
    while (this.recentSegments.length > 0 && this.recentSegments[0]!.settledAt < horizon) this.recentSegments.shift();
    while (this.recentChanges.length > 0 && this.recentChanges[0]!.settledAt < horizon) this.recentChanges.shift();
  }

  #remember<T>(list: T[], item: T): void {
    list.push(item);
    if (list.length > RECENT_LIMIT) list.shift();
  }
}

/** Δ of a held change (settled after − settled before, less the neighbour-driven shifts), grams, without cross-talk shares. */
export function pendingDelta(change: PendingChange): number {
  return change.afterG - change.beforeG - change.foreignG;
}

/** σ of a held change's Δ. */
export function pendingSigma(change: PendingChange, options: Pick<WeightPipelineOptions, 'deltaSigmaFloorG'>): number {
  return deltaSigma(change.sigmaG, change.beforeN, change.afterN, options);
}

/** A held change made of one segment. */
export function fromSegment(segment: SettledSegment): PendingChange {
  return {
    startAt: segment.startAt,
    settledAt: segment.settledAt,
    confirmedAt: segment.confirmedAt,
    firstConfirmedAt: segment.confirmedAt,
    beforeG: segment.beforeG,
    beforeN: segment.beforeN,
    afterG: segment.afterG,
    afterN: segment.afterN,
    sigmaG: segment.sigmaG,
    peakG: segment.peakG,
    last: lastOf(segment),
    parts: 1,
    shares: [],
    foreignG: 0,
    foreignAt: undefined,
  };
}

/** The held change extended by the next segment: Δ runs from its level before to the segment's level after. */
export function mergeInto(change: PendingChange, segment: SettledSegment): PendingChange {
  return {
    ...change,
    settledAt: segment.settledAt,
    confirmedAt: segment.confirmedAt,
    afterG: segment.afterG,
    afterN: segment.afterN,
    sigmaG: segment.sigmaG,
    peakG: Math.max(change.peakG, segment.peakG),
    last: lastOf(segment),
    parts: change.parts + 1,
  };
}

function lastOf(segment: SettledSegment): PendingChange['last'] {
  const { startAt, settledAt, confirmedAt, peakG, approachG, approachSigmaG } = segment;
  return { startAt, settledAt, confirmedAt, deltaG: segment.afterG - segment.beforeG, peakG, approachG, approachSigmaG };
}

/**
 * The held change ended with the tray pressed down: its new level was reached from below by
 * more than pressZ standard errors. Handlings end with a release (a hand lets go of a put-back
 * item, or lifts a picked one), so this is a hand still resting on the tray.
 */
export function endsPressed(change: PendingChange, options: Pick<WeightPipelineOptions, 'pressZ'>): boolean {
  return change.last.approachG < -options.pressZ * change.last.approachSigmaG;
}
