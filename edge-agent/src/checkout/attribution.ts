import type { TrayPoint } from '@storeedge/device-drivers';
import { firstAtOrAfter, type Person, type PersonSample } from './track-book.ts';

/**
 * Who handled a tray: each person's hands are scored over the change's time window by how
 * close they came to the tray's front edge, summed per session. A hand on the tray sits within
 * a few centimetres of that point (plus tracker noise σ ≈ 5 cm); the neighbouring tray's point
 * is a tray width (≈ 0.3 m) away and a hand hanging at the torso ≥ 0.35 m, so a Gaussian
 * kernel of `kernelM` separates them. MPS assigns the item to the shopper whose nearest
 * confident keypoint is closest (research/checkout.md §1.5); this is that, over time.
 */

export interface AttributionOptions {
  /** Width of the closeness kernel, metres. */
  kernelM: number;
  /** The window around the change: from `leadMs` before its start to `lagMs` after it settled. */
  leadMs: number;
  lagMs: number;
}

export const defaultAttributionOptions: AttributionOptions = { kernelM: 0.1, leadMs: 500, lagMs: 300 };

export interface Candidate {
  sessionId: string;
  /** Σ over the window's samples of the closest hand's kernel weight (≈ samples with a hand on the tray). */
  score: number;
  /** Closest any hand of the session came to the tray point, metres. */
  closestM: number;
  /** Persons of the session that touched it (score > 0.5 sample). */
  persons: string[];
}

/** Sessions whose hands were at the tray in [startAt − lead, settledAt + lag], best first; unbound persons are left out. */
export function candidatesAt(
  persons: Iterable<Person>,
  tray: TrayPoint,
  window: { startAt: number; settledAt: number },
  options: AttributionOptions = defaultAttributionOptions,
): Candidate[] {
  const from = window.startAt - options.leadMs;
  const to = window.settledAt + options.lagMs;
  const twoS2 = 2 * options.kernelM * options.kernelM;
  const bySession = new Map<string, Candidate>();
  for (const person of persons) {
    if (person.sessionId === null) continue;
    let score = 0;
    let closest = Number.POSITIVE_INFINITY;
    const samples = person.samples;
    for (let k = firstAtOrAfter(samples, from); k < samples.length; k++) {
      const sample = samples[k]!;
      if (sample.at > to) break;
      let best = Number.POSITIVE_INFINITY;
      for (const hand of sample.hands) {
        const d = Math.hypot(hand.x - tray.x, hand.y - tray.y, hand.z - tray.z);
        if (d < best) best = d;
      }
      if (best === Number.POSITIVE_INFINITY) continue;
      score += Math.exp(-(best * best) / twoS2);
      if (best < closest) closest = best;
    }
    if (score <= 0) continue;
    const c = bySession.get(person.sessionId) ?? { sessionId: person.sessionId, score: 0, closestM: Number.POSITIVE_INFINITY, persons: [] };
    c.score += score;
    c.closestM = Math.min(c.closestM, closest);
    if (score > 0.5) c.persons.push(person.id);
    bySession.set(person.sessionId, c);
  }
  return [...bySession.values()].sort((a, b) => b.score - a.score);
}

export interface UnseenOptions {
  /** A lost person counts when their torso was this close (horizontally) to the tray where last seen and, if back in view, where seen again. */
  reachM: number;
  /** …lost for at least this long (the tracker's frames come every 0.1 s)… */
  minGapMs: number;
  /** …last seen at most this long before the window (and, if back, seen again at most this long after it). */
  maxGapMs: number;
}

export const defaultUnseenOptions: UnseenOptions = { reachM: 1, minGapMs: 400, maxGapMs: 5_000 };

export interface Unseen {
  sessionId: string;
  personId: string;
  /** Seen again (near the tray) after the gap, not only before it. */
  back: boolean;
}

/**
 * Bound persons the tracker lost while the tray changed: a gap in their frames that overlaps the
 * change (from `leadMs` before it began until it settled), last seen before it within arm's reach
 * of the tray, and — if back in view — seen again within reach again. A change no visible hand
 * explains may be theirs (a track dropout hides a person, hands and all, for a second or three).
 */
export function unseenAt(
  persons: Iterable<Person>,
  tray: TrayPoint,
  window: { startAt: number; settledAt: number },
  options: AttributionOptions = defaultAttributionOptions,
  unseen: UnseenOptions = defaultUnseenOptions,
): Unseen[] {
  const from = window.startAt - options.leadMs;
  const to = window.settledAt;
  const near = (s: { x: number; y: number }) => Math.hypot(s.x - tray.x, s.y - tray.y) <= unseen.reachM;
  const out: Unseen[] = [];
  for (const person of persons) {
    if (person.sessionId === null) continue;
    const samples = person.samples;
    for (let k = 0; k < samples.length; k++) {
      const before = samples[k]!;
      if (before.at >= to) break;
      const after: PersonSample | undefined = samples[k + 1];
      const end = after?.at ?? Number.POSITIVE_INFINITY;
      // The gap (before, end) must overlap [from, to], be long enough, and start no longer than maxGapMs before the window.
      if (end <= from || end - before.at < unseen.minGapMs || from - before.at > unseen.maxGapMs) continue;
      if (after === undefined && !person.gone) continue;
      if (!near(before) || (after !== undefined && (after.at - to > unseen.maxGapMs || !near(after)))) continue;
      out.push({ sessionId: person.sessionId, personId: person.id, back: after !== undefined });
      break;
    }
  }
  return out;
}
