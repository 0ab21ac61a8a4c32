import { deltaSigma, eventThresholdG } from './burst-rejection.ts';
import type { WeightPipelineOptions } from './options.ts';
import type { ShareRange } from './quantity.ts';
import { pendingDelta, type PendingChange, type TraySegmenter } from './segmenter.ts';

/**
 * Cross-talk between neighbouring trays (research/checkout.md §5.3: 5–40 % of a pick's Δ shows
 * on the neighbouring plates; MPS only counts plates with ≥ 20 % of the shelf Δ, §1.5).
 *
 * - Transient: while a hand is on a tray its neighbours move too, and come back when it
 *   leaves. A tray whose neighbour was pushed much harder while its own new level was being
 *   measured is *passive* (dominantNeighbours); its held change waits until that neighbour is
 *   decided, merging what follows, so the transient comes back and is rejected like a burst.
 * - Permanent: a small share of a change may stay on a neighbour for good (an item resting
 *   partly on the neighbouring plate). A change within `maxShare` of a simultaneous larger
 *   neighbour change (a *host*) is cross-talk when no SKU of its own tray explains it, and a
 *   change that its SKUs explain only once such a share is taken off keeps the rest: the share
 *   goes back to the host (quantity.ts, shareRange).
 */

/** A time span of activity on a tray, device time. */
export interface Span {
  startAt: number;
  settledAt: number;
}

/** A tray as the neighbourhood rules see it. */
export interface TrayNode {
  readonly segmenter: TraySegmenter;
  readonly neighbours: readonly TrayNode[];
}

/** A neighbour's change whose cross-talk share may be in this tray's Δ. */
export interface Host<T extends TrayNode = TrayNode> {
  tray: T;
  deltaG: number;
  /** Its change while still held (the share can be given back to it), undefined once emitted. */
  pending: PendingChange | undefined;
}

/** Tolerance when comparing spans of two trays (their triggers differ by a sample or two). */
export const SPAN_SLACK_MS = 250;

/** The two spans overlap (with the slack). */
export function spansOverlap(a: Span, b: Span, slackMs = SPAN_SLACK_MS): boolean {
  return a.startAt <= b.settledAt + slackMs && b.startAt <= a.settledAt + slackMs;
}

/**
 * Neighbours that drove this tray's last segment: pushed at least `dominance` times harder,
 * and still moving — or holding a change of their own that may be a hand resting there —
 * while this tray's new level was being measured (its quiet window).
 */
export function dominantNeighbours<T extends TrayNode>(neighbours: readonly T[], change: PendingChange, options: Pick<WeightPipelineOptions, 'crossTalk'>): T[] {
  const own = change.last;
  // How hard this tray was pushed itself (its new level, and its own excursion: a tray handled
  // by a hand moves more than the ≤ 40 % its neighbours see), against how hard the neighbour was.
  const threshold = options.crossTalk.dominance * Math.max(Math.abs(own.deltaG), own.peakG, change.sigmaG * 3);
  const beganBefore = own.confirmedAt - SPAN_SLACK_MS;
  return neighbours.filter((n) => {
    const d = n.segmenter.detector;
    const q = n.segmenter.pending;
    return (
      (d.state === 'active' && d.activePeakG >= threshold && d.activeSince! < beganBefore) ||
      n.segmenter.recentSegments.some((s) => s.peakG >= threshold && s.startAt < beganBefore && s.settledAt > own.settledAt) ||
      (q !== undefined && q.last.peakG >= threshold && q.last.startAt < beganBefore && q.last.settledAt >= own.startAt - SPAN_SLACK_MS)
    );
  });
}

/**
 * Neighbours handled while this tray's last segment ran and pushed at least `dominance` times
 * harder than it: the segment is their cross-talk (a transient, or its permanent share). Looser
 * in time than dominantNeighbours (any overlap will do); the pipeline asks it only about a
 * segment that follows a held change of the tray's own.
 */
export function drivingNeighbours<T extends TrayNode>(
  neighbours: readonly T[],
  change: PendingChange,
  held: Pick<PendingChange, 'settledAt' | 'peakG'>,
  options: Pick<WeightPipelineOptions, 'crossTalk'>,
): T[] {
  const own = change.last;
  const dominance = options.crossTalk.dominance;
  // Pushed harder than this segment, and not just this tray's own cross-talk on them: that
  // began before the held change settled, or is less than 1/dominance of the held change's push
  // (a neighbour coming back from a plateau it reached while this tray was handled).
  const threshold = Math.max(dominance * Math.max(Math.abs(own.deltaG), own.peakG, change.sigmaG * 3), held.peakG / dominance);
  return neighbours.filter((n) => {
    const d = n.segmenter.detector;
    if (d.state === 'active' && d.activePeakG >= threshold && d.activeSince! > held.settledAt && d.activeSince! <= own.settledAt + SPAN_SLACK_MS) return true;
    return n.segmenter.recentSegments.some((s) => s.peakG >= threshold && s.startAt > held.settledAt && spansOverlap(own, s));
  });
}

/**
 * Simultaneous changes on neighbours larger than this one (held there, or emitted), whose
 * permanent share could be part of this Δ (up to maxShare of them).
 */
export function concurrentHosts<T extends TrayNode>(
  neighbours: readonly T[],
  change: PendingChange,
  deltaG: number,
  sigmaG: number,
  options: Pick<WeightPipelineOptions, 'crossTalk'>,
): Host<T>[] {
  const hosts: Host<T>[] = [];
  const minHost = Math.max(Math.abs(deltaG), sigmaG / options.crossTalk.maxShare);
  for (const n of neighbours) {
    const q = n.segmenter.pending;
    if (q !== undefined && spansOverlap(change, q)) {
      const d = pendingDelta(q) + sum(q.shares);
      if (Math.abs(d) > minHost) hosts.push({ tray: n, deltaG: d, pending: q });
      continue;
    }
    const recent = n.segmenter.recentChanges;
    for (let i = recent.length - 1; i >= 0; i--) {
      const c = recent[i]!;
      if (!spansOverlap(change, c)) continue;
      if (Math.abs(c.deltaG) > minHost) hosts.push({ tray: n, deltaG: c.deltaG, pending: undefined });
      break;
    }
  }
  return hosts;
}

/**
 * The share range for explaining a tray's Δ: what its hosts may have left here, and what the
 * tray may have left on its neighbours too small to show there (below their event threshold).
 */
export function shareRange(tray: TrayNode, hosts: readonly Host[], options: WeightPipelineOptions): ShareRange {
  const maxShare = options.crossTalk.maxShare;
  let lo = 0;
  let hi = 0;
  for (const host of hosts) {
    lo += Math.min(0, maxShare * host.deltaG);
    hi += Math.max(0, maxShare * host.deltaG);
  }
  let lostCapG = 0;
  for (const n of tray.neighbours) {
    const d = n.segmenter.detector;
    const window = d.windowSamples ?? 1;
    lostCapG += eventThresholdG(deltaSigma(d.sigmaG, window, window, options), options);
  }
  return { lo, hi, lostShare: maxShare * tray.neighbours.length, lostCapG };
}

/** Splits a share among hosts in proportion to their changes. */
export function splitShare<T extends TrayNode>(shareG: number, hosts: readonly Host<T>[]): Array<{ host: Host<T>; grams: number }> {
  if (shareG === 0 || hosts.length === 0) return [];
  const total = hosts.reduce((acc, h) => acc + Math.abs(h.deltaG), 0);
  return hosts.map((host) => ({ host, grams: (shareG * Math.abs(host.deltaG)) / total }));
}

/**
 * Had the neighbour settled, by `by`, from the activity that began before `began`? (Not active
 * since before `began`, and its segment that began before then settled before `by`.)
 */
export function neighbourSettledBy(n: TrayNode, began: number, by: number): boolean {
  const d = n.segmenter.detector;
  if (d.state === 'active' && d.activeSince! < began) return false;
  return n.segmenter.recentSegments.every((s) => s.startAt >= began || s.settledAt < by - SPAN_SLACK_MS);
}

/** Did a neighbour change (or is it still moving) during this change's span? Tells cross-talk from a burst for a transient. */
export function neighbourChanged(neighbours: readonly TrayNode[], change: PendingChange): boolean {
  return neighbours.some((n) => {
    const d = n.segmenter.detector;
    if (d.state === 'active' && d.activeSince! <= change.settledAt + SPAN_SLACK_MS) return true;
    return n.segmenter.recentSegments.some((s) => s.significant && spansOverlap(change, s));
  });
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}
