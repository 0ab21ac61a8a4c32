import type { Point, Point3 } from './floor-plan.ts';

/** A point of a person's walk; `fx, fy` is the way they face until the next waypoint. */
interface Waypoint {
  t: number;
  x: number;
  y: number;
  fx: number;
  fy: number;
}

/** One hand moving to a target and staying there during [startAt, endAt] (a tray, or another person's hand). */
export interface Reach {
  hand: 0 | 1;
  startAt: number;
  endAt: number;
  target: Point3;
}

/** A hand hangs this far to the side of the torso and at this height when it is not reaching. */
export const HAND_SIDE_M = 0.25;
export const HAND_REST_Z_M = 0.9;
/** A hand takes this long to move out to its target before the reach and back after it. */
export const REACH_RAMP_MS = 300;
/** Hands are never further than this from the torso (the longest reach the script makes, with margin). */
export const MAX_HAND_FROM_TORSO_M = 1.2;

/**
 * The true motion of one person (simulator-internal; the tracker model adds the noise): a
 * walk as straight segments between timed waypoints, the way they face, and their hands —
 * hanging beside the torso, or reaching to a tray with a ramp of REACH_RAMP_MS either side.
 * The script appends to it in time order.
 */
export class PersonMotion {
  readonly id: string;
  /** When the person appears at the entry and when they vanish at the exit (Infinity until then). */
  readonly appearAt: number;
  goneAt = Infinity;
  readonly #waypoints: Waypoint[] = [];
  readonly #reaches: Reach[] = [];

  constructor(id: string, at: number, position: Point, facing: Point) {
    this.id = id;
    this.appearAt = at;
    const f = unit(facing);
    this.#waypoints.push({ t: at, x: position.x, y: position.y, fx: f.x, fy: f.y });
  }

  /** Where and when the motion planned so far ends. */
  get end(): { t: number; x: number; y: number } {
    const last = this.#waypoints[this.#waypoints.length - 1]!;
    return { t: last.t, x: last.x, y: last.y };
  }

  get reaches(): readonly Reach[] {
    return this.#reaches;
  }

  /** Walks through `path` at `speedMps` from the end of the motion; returns the arrival time. */
  walk(path: readonly Point[], speedMps: number): number {
    for (const p of path) {
      const last = this.#waypoints[this.#waypoints.length - 1]!;
      const d = Math.hypot(p.x - last.x, p.y - last.y);
      if (d < 1e-9) continue;
      last.fx = (p.x - last.x) / d;
      last.fy = (p.y - last.y) / d;
      this.#waypoints.push({ t: last.t + (d / speedMps) * 1_000, x: p.x, y: p.y, fx: last.fx, fy: last.fy });
    }
    return this.end.t;
  }

  /** Stands still until `until`, facing `facing` (default: as before). */
  stay(until: number, facing?: Point): void {
    const last = this.#waypoints[this.#waypoints.length - 1]!;
    if (facing) {
      const f = unit(facing);
      last.fx = f.x;
      last.fy = f.y;
    }
    if (until > last.t) this.#waypoints.push({ t: until, x: last.x, y: last.y, fx: last.fx, fy: last.fy });
  }

  /** Adds a reach (reaches of one person come in time order). */
  reach(reach: Reach): void {
    this.#reaches.push(reach);
  }

  /** Which hand is nearer a target (from where the person ends). */
  nearerHand(target: Point): 0 | 1 {
    const last = this.#waypoints[this.#waypoints.length - 1]!;
    // Hand 0 hangs on the left: +90° from the facing.
    const side = (target.x - last.x) * -last.fy + (target.y - last.y) * last.fx;
    return side >= 0 ? 0 : 1;
  }

  leave(at: number): void {
    this.goneAt = at;
  }

  present(t: number): boolean {
    return t >= this.appearAt && t < this.goneAt;
  }

  torsoAt(t: number): Point {
    const w = this.#waypoints;
    const i = this.#segment(t);
    const a = w[i]!;
    const b = w[i + 1];
    if (b === undefined || t <= a.t) return { x: a.x, y: a.y };
    const f = Math.min(1, (t - a.t) / (b.t - a.t));
    return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
  }

  /** The least distance between `spot` and the torso while the person is present between `from` and `to` (Infinity if never). */
  closestApproach(spot: Point, from: number, to: number): number {
    const lo = Math.max(from, this.appearAt);
    const hi = Math.min(to, this.goneAt);
    if (lo > hi) return Infinity;
    const w = this.#waypoints;
    let least = Infinity;
    let start = this.torsoAt(lo);
    for (let i = this.#segment(lo); i < w.length - 1 && w[i]!.t < hi; i++) {
      const end = this.torsoAt(Math.min(w[i + 1]!.t, hi));
      least = Math.min(least, toSegment(spot, start, end));
      start = end;
    }
    return Math.min(least, toSegment(spot, start, this.torsoAt(hi)));
  }

  facingAt(t: number): Point {
    const a = this.#waypoints[this.#segment(t)]!;
    return { x: a.fx, y: a.fy };
  }

  /** Both hands at t: [left, right]. */
  handsAt(t: number): [Point3, Point3] {
    const torso = this.torsoAt(t);
    const f = this.facingAt(t);
    const hands: [Point3, Point3] = [
      { x: torso.x - f.y * HAND_SIDE_M, y: torso.y + f.x * HAND_SIDE_M, z: HAND_REST_Z_M },
      { x: torso.x + f.y * HAND_SIDE_M, y: torso.y - f.x * HAND_SIDE_M, z: HAND_REST_Z_M },
    ];
    for (let i = this.#firstReachAfter(t - REACH_RAMP_MS); i < this.#reaches.length; i++) {
      const r = this.#reaches[i]!;
      if (r.startAt - REACH_RAMP_MS > t) break;
      const share = Math.min(1, (t - (r.startAt - REACH_RAMP_MS)) / REACH_RAMP_MS, (r.endAt + REACH_RAMP_MS - t) / REACH_RAMP_MS);
      if (share <= 0) continue;
      const rest = hands[r.hand];
      hands[r.hand] = {
        x: rest.x + (r.target.x - rest.x) * share,
        y: rest.y + (r.target.y - rest.y) * share,
        z: rest.z + (r.target.z - rest.z) * share,
      };
    }
    return hands;
  }

  /** Index of the waypoint whose segment holds t (binary search). */
  #segment(t: number): number {
    const w = this.#waypoints;
    let lo = 0;
    let hi = w.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (w[mid]!.t <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Index of the first reach that ends at or after t. */
  #firstReachAfter(t: number): number {
    const r = this.#reaches;
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r[mid]!.endAt < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

function unit(p: Point): Point {
  const d = Math.hypot(p.x, p.y);
  return d < 1e-12 ? { x: 1, y: 0 } : { x: p.x / d, y: p.y / d };
}

/** Distance from `p` to the segment a–b. */
function toSegment(p: Point, a: Point, b: Point): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len2 = dx * dx + dy * dy;
  const f = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2));
  return Math.hypot(p.x - (a.x + dx * f), p.y - (a.y + dy * f));
}
