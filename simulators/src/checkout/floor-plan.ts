import { trayPlacements, trayPoints, type Gate, type StoreModel } from '@storeedge/device-drivers';
import { simulatorErrors } from '../errors.ts';

/** A point on the store floor, metres (the tracker's frame). */
export interface Point {
  x: number;
  y: number;
}

export interface Point3 extends Point {
  z: number;
}

/** A tray the shoppers can reach: where it is, which way its gondola faces and what it holds. */
export interface TraySite {
  trayId: string;
  gondola: string;
  bay: string;
  /** The SKU of the tray's first facing (the tray's own SKU) and its capacity. */
  sku: string;
  capacity: number;
  /** Front-edge centre at shelf height (device-drivers `trayPoints`). */
  point: Point3;
  widthM: number;
  /** Distance of the tray's centre along its gondola from the gondola's start. */
  along: number;
  /** Unit vector along the gondola, and the unit normal pointing to the side shoppers stand on. */
  axis: Point;
  normal: Point;
  /** Trays left and right on the same shelf (cross-talk neighbours). */
  neighbours: string[];
}

/** Shoppers stand this far in front of a gondola's front edge when they reach into it. */
export const STAND_OFF_M = 0.35;
/** A walking person keeps this clear of a gondola's footprint. */
const CLEARANCE_M = 0.2;
/** Detour points sit this far out from a gondola's corners (outside the clearance). */
const CORNER_OFFSET_M = 0.3;

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * The store floor as shoppers use it: every placed tray with its stand point and reach
 * target, the entry and exit gates, and walking routes that go around the gondolas (a
 * visibility graph over the corners of their footprints; straight lines where nothing is in
 * the way).
 */
export class FloorPlan {
  readonly trays = new Map<string, TraySite>();
  readonly entry: Gate;
  readonly exit: Gate;
  readonly #boxes: Box[] = [];
  readonly #corners: Point[] = [];
  /** Corner-to-corner visibility and distance (Infinity when blocked). */
  readonly #cornerDistance: number[][];

  constructor(model: StoreModel) {
    const entry = model.gates.find((g) => g.lane === 'entry');
    const exit = model.gates.find((g) => g.lane === 'exit');
    if (!entry || !exit) throw simulatorErrors.SIM_ERR_CONFIG_INVALID('checkout: the store model needs a gate with lane "entry" and one with lane "exit"');
    this.entry = entry;
    this.exit = exit;

    const points = trayPoints(model);
    const neighbours = new Map(trayPlacements(model).map((p) => [p.tray.id, p.neighbours]));
    for (const gondola of model.gondolas) {
      const p = gondola.placement;
      if (p === undefined) continue;
      const axis = p.axis === 'x' ? { x: 1, y: 0 } : { x: 0, y: 1 };
      const normal = p.axis === 'x' ? { x: 0, y: p.side } : { x: p.side, y: 0 };
      const length = gondola.bays.length * p.bayWidthM;
      // The footprint reaches back from the front edge, away from the shoppers' side.
      const far = { x: p.x + axis.x * length - normal.x * p.depthM, y: p.y + axis.y * length - normal.y * p.depthM };
      this.#boxes.push({ x0: Math.min(p.x, far.x), y0: Math.min(p.y, far.y), x1: Math.max(p.x, far.x), y1: Math.max(p.y, far.y) });
      for (const bay of gondola.bays) {
        for (const shelf of bay.shelves) {
          for (const tray of shelf.trays) {
            const point = points.get(tray.id)!;
            const facing = tray.facings[0]!;
            const along = (point.x - p.x) * axis.x + (point.y - p.y) * axis.y;
            this.trays.set(tray.id, {
              trayId: tray.id,
              gondola: gondola.id,
              bay: bay.id,
              sku: facing.sku,
              capacity: facing.capacity,
              point: { x: point.x, y: point.y, z: point.z },
              widthM: point.widthM,
              along,
              axis,
              normal,
              neighbours: neighbours.get(tray.id) ?? [],
            });
          }
        }
      }
    }
    if (this.trays.size === 0) throw simulatorErrors.SIM_ERR_CONFIG_INVALID('checkout: no gondola of the store model has a placement, so shoppers have nowhere to go');

    for (const box of this.#boxes) {
      const o = CLEARANCE_M + CORNER_OFFSET_M;
      for (const corner of [
        { x: box.x0 - o, y: box.y0 - o },
        { x: box.x1 + o, y: box.y0 - o },
        { x: box.x0 - o, y: box.y1 + o },
        { x: box.x1 + o, y: box.y1 + o },
      ]) {
        if (!this.#boxes.some((b) => inside(corner, inflate(b)))) this.#corners.push(corner);
      }
    }
    this.#cornerDistance = this.#corners.map((a) => this.#corners.map((b) => (this.#clear(a, b) ? distance(a, b) : Infinity)));
  }

  /** Where a person stands to reach a tray: STAND_OFF_M in front of its front edge, `lateral` metres along the gondola from the tray's centre. */
  standPoint(trayId: string, lateral = 0): Point {
    const site = this.site(trayId);
    return {
      x: site.point.x + site.normal.x * STAND_OFF_M + site.axis.x * lateral,
      y: site.point.y + site.normal.y * STAND_OFF_M + site.axis.y * lateral,
    };
  }

  /** Where a hand goes on a tray: its front-edge centre, `depth` metres into the shelf and `lateral` metres along it. */
  reachPoint(trayId: string, depth: number, lateral = 0): Point3 {
    const site = this.site(trayId);
    return {
      x: site.point.x - site.normal.x * depth + site.axis.x * lateral,
      y: site.point.y - site.normal.y * depth + site.axis.y * lateral,
      z: site.point.z,
    };
  }

  /** The direction a person at the tray faces (towards the shelf). */
  facingOf(trayId: string): Point {
    const n = this.site(trayId).normal;
    return { x: -n.x, y: -n.y };
  }

  site(trayId: string): TraySite {
    const site = this.trays.get(trayId);
    if (site === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`checkout: tray "${trayId}" has no placed gondola`);
    return site;
  }

  /** Whether the straight walk from a to b crosses no gondola footprint (footprints a or b stand in are left out). */
  clear(a: Point, b: Point): boolean {
    return this.#clear(a, b);
  }

  /** Whether a point is clear of every gondola footprint (with the walking clearance). */
  walkable(p: Point): boolean {
    return !this.#boxes.some((b) => inside(p, inflate(b)));
  }

  /**
   * The points a person walks through from `from` to `to` (the last one is `to`), going round
   * gondolas: the shortest path over the visibility graph of the footprints' corners, or the
   * straight line when that is clear or no detour exists.
   */
  route(from: Point, to: Point): Point[] {
    if (this.#clear(from, to)) return [to];
    const n = this.#corners.length;
    // Dijkstra over: corners 0..n-1, target n.
    const dist = new Array<number>(n + 1).fill(Infinity);
    const prev = new Array<number>(n + 1).fill(-1);
    const done = new Array<boolean>(n + 1).fill(false);
    for (let i = 0; i < n; i++) if (this.#clear(from, this.#corners[i]!)) dist[i] = distance(from, this.#corners[i]!);
    const toTarget = this.#corners.map((c) => (this.#clear(c, to) ? distance(c, to) : Infinity));
    for (;;) {
      let u = -1;
      for (let i = 0; i <= n; i++) if (!done[i] && dist[i]! < Infinity && (u < 0 || dist[i]! < dist[u]!)) u = i;
      if (u < 0 || u === n) break;
      done[u] = true;
      for (let v = 0; v < n; v++) {
        const d = dist[u]! + this.#cornerDistance[u]![v]!;
        if (d < dist[v]!) {
          dist[v] = d;
          prev[v] = u;
        }
      }
      const d = dist[u]! + toTarget[u]!;
      if (d < dist[n]!) {
        dist[n] = d;
        prev[n] = u;
      }
    }
    if (dist[n] === Infinity) return [to];
    const path: Point[] = [to];
    for (let i = prev[n]!; i >= 0; i = prev[i]!) path.unshift(this.#corners[i]!);
    return path;
  }

  /** No footprint (with clearance) lies across the segment; footprints that contain an end are ignored so a person can always step out. */
  #clear(a: Point, b: Point): boolean {
    for (const box of this.#boxes) {
      const c = inflate(box);
      if (inside(a, c) || inside(b, c)) continue;
      if (segmentCrossesBox(a, b, c)) return false;
    }
    return true;
  }
}

export function distance(a: Point, b: Point): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}

/** Length of a walk from `from` through `path`. */
export function pathLength(from: Point, path: readonly Point[]): number {
  let length = 0;
  let at = from;
  for (const p of path) {
    length += distance(at, p);
    at = p;
  }
  return length;
}

function inflate(b: Box): Box {
  return { x0: b.x0 - CLEARANCE_M, y0: b.y0 - CLEARANCE_M, x1: b.x1 + CLEARANCE_M, y1: b.y1 + CLEARANCE_M };
}

function inside(p: Point, b: Box): boolean {
  return p.x > b.x0 && p.x < b.x1 && p.y > b.y0 && p.y < b.y1;
}

/** Liang–Barsky: does the segment run through the box's interior for a positive length? */
function segmentCrossesBox(a: Point, b: Point, box: Box): boolean {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  let t0 = 0;
  let t1 = 1;
  const edges: Array<[number, number]> = [
    [-dx, a.x - box.x0],
    [dx, box.x1 - a.x],
    [-dy, a.y - box.y0],
    [dy, box.y1 - a.y],
  ];
  for (const [p, q] of edges) {
    if (p === 0) {
      if (q <= 0) return false;
      continue;
    }
    const r = q / p;
    if (p < 0) t0 = Math.max(t0, r);
    else t1 = Math.min(t1, r);
    if (t0 >= t1) return false;
  }
  return t1 - t0 > 1e-9;
}
