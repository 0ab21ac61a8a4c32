import type { CatalogItem, Gondola, StoreModel } from '@storeedge/device-drivers';
import type { CameraCalibration } from '@storeedge/device-drivers/camera/index.ts';
import { simulatorErrors } from '../errors.ts';
import type { ScenarioVision } from '../scenario/scenario-file.ts';
import { recogniserGalleryCrops, RECOGNISER_CROP_PX } from '../vision/dataset.ts';
import { SimulatedShelfCamera, type CameraFrame } from '../vision/render.ts';
import { armsAt, shopperLook, type ArmPose, type ShelfScene, type ShopperLook } from '../vision/scene.ts';
import type { CheckoutScript } from './checkout-script.ts';
import type { Point, Point3 } from './floor-plan.ts';
import { HAND_REST_Z_M, HAND_SIDE_M, MAX_HAND_FROM_TORSO_M, REACH_RAMP_MS, type PersonMotion, type Reach } from './motion.ts';

/**
 * A shelf camera sends frames while a raised hand (not hanging by the body) is this close to its
 * bay's front (on the floor plane; a hand inside the shelf counts as 0): real shelf cameras send
 * on motion in a zone drawn round the shelf.
 */
export const CAMERA_TRIGGER_M = 0.6;
/** …and this long before the first and after the last moment a hand is that close (pre- and post-roll). */
export const CAMERA_ROLL_MS = 500;
/** Persons whose torso is within this of the bay's front are drawn (their arms; a torso further out has no hand in view). */
const ARMS_RANGE_M = CAMERA_TRIGGER_M + MAX_HAND_FROM_TORSO_M;
/**
 * When a unit changes place inside an action, as a share of the hand's time on the tray: the
 * load-cell model (signal/hand-action.ts) moves the load late in a pick (lift at 35–80 %) and
 * early in a put-back (10–55 %); the camera uses the middle of those ranges. For a long hold the
 * share is of the lift that follows the rest.
 */
const PICK_TRANSFER_SHARE = 0.575;
const PUT_TRANSFER_SHARE = 0.325;
/** Render this many frames ahead of the one being sent (sharp rasterises and encodes in libuv's pool). */
export const RENDER_AHEAD = 3;

/** One camera frame the run will send: simulated ms and the camera's index in `CheckoutCameras.deviceIds`. */
export interface ScheduledFrame {
  t: number;
  camera: number;
}

/** The catalogue images HQ would send with the catalogue: per SKU, RGB crops (the agent's gallery). */
export type CatalogImages = Map<string, Array<{ width: number; height: number; rgb: Uint8Array }>>;

/** A bay's front edge: the gondola's front line between `start` and `end` (metres along), shoppers on the `normal` side. */
interface BayFront {
  origin: Point;
  axis: Point;
  normal: Point;
  start: number;
  end: number;
  depthM: number;
}

/** A unit in a person's hands. */
interface HeldUnit {
  sku: string;
  hand: 0 | 1;
}

/** A change of what a person holds (simulated ms; applied in time order). */
type HandEvent =
  | { t: number; person: string; kind: 'free'; hand: 0 | 1 }
  | { t: number; person: string; kind: 'bring'; hand: 0 | 1; sku: string; units: number }
  | { t: number; person: string; kind: 'take'; hand: 0 | 1; sku: string; units: number }
  | { t: number; person: string; kind: 'give'; hand: 0 | 1; sku: string; units: number };

/** A change of a tray's contents (simulated ms). */
interface StockEvent {
  t: number;
  trayId: string;
  sku: string;
  units: number;
}

interface Camera {
  bayId: string;
  front: BayFront;
  renderer: SimulatedShelfCamera;
  trays: string[];
}

/**
 * The shelf cameras of a checkout run (docs/vision-sim.md "Cameras in checkout runs"): one per
 * bay that lists a camera in the store model (its first), rendered by SimulatedShelfCamera with
 * the scenario's `vision` knobs. Frames are motion-triggered: a camera sends at `fps` while a
 * hand is within CAMERA_TRIGGER_M of its bay's front, CAMERA_ROLL_MS either side, else nothing.
 * A frame shows the script's truth at its instant — the units on every facing, units put on a
 * wrong tray (`ShelfScene.extra`), every nearby shopper's arms and what each hand holds — and
 * leaves as pixels only (camera id, timestamp, JPEG).
 *
 * What a hand holds: a picked unit goes into the picking hand when it leaves the tray; a hand
 * about to pick first passes what it holds to the other hand; a unit being put back (or handed
 * over) moves into the reaching hand as the reach starts and leaves it as it lands. A hand shows
 * the last unit it took. Staff restocks change the stock and trigger the camera, but staff are
 * not drawn (they have no motion in the script).
 */
export class CheckoutCameras {
  readonly calibrations: CameraCalibration[];
  readonly deviceIds: string[];
  readonly fps: number;
  readonly #cameras: Camera[];
  readonly #persons: PersonMotion[];
  readonly #restocks: ReadonlyArray<{ trayId: string; startAt: number; endAt: number }>;
  readonly #capacity = new Map<string, readonly number[]>();
  readonly #looks = new Map<string, ShopperLook>();
  readonly #facings = new Map<string, string[]>();
  readonly #stockEvents: StockEvent[];
  readonly #handEvents: HandEvent[];
  // Cursors: scenes are built in time order.
  #lastSceneAt = -Infinity;
  #nextStock = 0;
  #nextHand = 0;
  readonly #trayState = new Map<string, { counts: Map<string, number>; foreign: string[] }>();
  #stock = new Map<string, readonly number[]>();
  #extra = new Map<string, readonly string[]>();
  readonly #held = new Map<string, HeldUnit[]>();

  constructor(model: StoreModel, seed: number, vision: ScenarioVision, script: CheckoutScript) {
    const { enabled: _enabled, ...options } = vision;
    this.fps = options.fps;
    this.#cameras = [];
    for (const gondola of model.gondolas) {
      gondola.bays.forEach((bay, index) => {
        if (bay.cameras.length === 0) return;
        if (gondola.placement === undefined) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`vision: bay "${bay.id}" lists a camera but gondola "${gondola.id}" has no placement`);
        const renderer = new SimulatedShelfCamera({ model, bayId: bay.id, seed, vision: options });
        this.#cameras.push({ bayId: bay.id, front: bayFront(gondola, index), renderer, trays: bay.shelves.flatMap((s) => s.trays.map((t) => t.id)) });
      });
    }
    if (this.#cameras.length === 0) throw simulatorErrors.SIM_ERR_CONFIG_INVALID('vision: enabled, but no bay of the store model lists a camera (bay.cameras)');
    this.calibrations = this.#cameras.map((c) => c.renderer.camera.calibration as CameraCalibration);
    this.deviceIds = this.#cameras.map((c) => c.renderer.id);
    this.#persons = script.persons;
    this.#restocks = script.restocks;
    for (const p of this.#persons) this.#looks.set(p.id, shopperLook(`${seed}/${p.id}`));

    for (const gondola of model.gondolas) {
      for (const bay of gondola.bays) {
        for (const shelf of bay.shelves) {
          for (const tray of shelf.trays) {
            this.#facings.set(tray.id, tray.facings.map((f) => f.sku));
            this.#capacity.set(tray.id, tray.facings.map((f) => f.capacity));
            this.#trayState.set(tray.id, { counts: new Map(tray.facings.map((f) => [f.sku, 0])), foreign: [] });
            for (const f of tray.facings) {
              const state = this.#trayState.get(tray.id)!;
              state.counts.set(f.sku, state.counts.get(f.sku)! + f.initial);
            }
          }
        }
      }
    }
    for (const trayId of this.#trayState.keys()) this.#refreshTray(trayId);
    ({ stock: this.#stockEvents, hands: this.#handEvents } = timelines(script));
  }

  /**
   * Every frame the cameras send up to `end` (simulated ms), in time order (cameras in
   * `deviceIds` order at one instant): ticks of 1000/fps ms while a hand is near the bay, with
   * CAMERA_ROLL_MS either side.
   */
  schedule(end: number): ScheduledFrame[] {
    const frameMs = 1_000 / this.fps;
    const ticks = Math.floor(end / frameMs) + 1;
    const near = this.#cameras.map(() => new Uint8Array(ticks));
    const persons = [...this.#persons].sort((a, b) => a.appearAt - b.appearAt);
    let pending = 0;
    let live: PersonMotion[] = [];
    for (let k = 0; k < ticks; k++) {
      const t = k * frameMs;
      while (pending < persons.length && persons[pending]!.appearAt <= t) live.push(persons[pending++]!);
      live = live.filter((m) => m.goneAt > t);
      for (const m of live) {
        if (!m.present(t)) continue;
        const torso = m.torsoAt(t);
        let hands: Point3[] | undefined;
        this.#cameras.forEach((camera, c) => {
          if (near[c]![k] || frontDistance(camera.front, torso) > CAMERA_TRIGGER_M + MAX_HAND_FROM_TORSO_M) return;
          hands ??= raisedHands(m, t);
          if (hands.some((h) => frontDistance(camera.front, h) <= CAMERA_TRIGGER_M)) near[c]![k] = 1;
        });
      }
    }
    // Staff restocking a tray of the bay move in front of it too.
    for (const r of this.#restocks) {
      this.#cameras.forEach((camera, c) => {
        if (!camera.trays.includes(r.trayId)) return;
        for (let k = Math.max(0, Math.ceil(r.startAt / frameMs)); k < ticks && k * frameMs <= r.endAt; k++) near[c]![k] = 1;
      });
    }
    // Pre- and post-roll: a tick is sent when a near tick is within CAMERA_ROLL_MS of it.
    const roll = Math.floor(CAMERA_ROLL_MS / frameMs + 1e-9);
    const active = near.map((n) => {
      const sums = new Uint32Array(ticks + 1);
      for (let k = 0; k < ticks; k++) sums[k + 1] = sums[k]! + n[k]!;
      return Uint8Array.from({ length: ticks }, (_, k) => (sums[Math.min(ticks, k + roll + 1)]! - sums[Math.max(0, k - roll)]! > 0 ? 1 : 0));
    });
    const frames: ScheduledFrame[] = [];
    for (let k = 0; k < ticks; k++) {
      for (let c = 0; c < active.length; c++) if (active[c]![k]) frames.push({ t: k * frameMs, camera: c });
    }
    return frames;
  }

  /**
   * Starts rendering a scheduled frame (call in schedule order: the scene is the truth at the
   * frame's instant, tracked with cursors). `timestampMs` is the device time the frame carries.
   */
  render(frame: ScheduledFrame, timestampMs: number): Promise<CameraFrame> {
    const camera = this.#cameras[frame.camera]!;
    return camera.renderer.render(this.#sceneAt(frame.t, camera), timestampMs);
  }

  #sceneAt(t: number, camera: Camera): ShelfScene {
    if (t < this.#lastSceneAt) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: frames must be rendered in time order (${t} after ${this.#lastSceneAt})`);
    this.#lastSceneAt = t;
    while (this.#nextStock < this.#stockEvents.length && this.#stockEvents[this.#nextStock]!.t <= t) this.#applyStock(this.#stockEvents[this.#nextStock++]!);
    while (this.#nextHand < this.#handEvents.length && this.#handEvents[this.#nextHand]!.t <= t) this.#applyHand(this.#handEvents[this.#nextHand++]!);
    const arms: ArmPose[] = [];
    for (const m of this.#persons) {
      if (!m.present(t) || frontDistance(camera.front, m.torsoAt(t)) > ARMS_RANGE_M) continue;
      arms.push(...armsAt(m, t, this.#looks.get(m.id)!, this.#holding(m.id)));
    }
    return { stock: this.#stock, extra: this.#extra, arms };
  }

  #holding(person: string): [string | undefined, string | undefined] {
    const units = this.#held.get(person) ?? [];
    const last = (hand: 0 | 1) => units.findLast((u) => u.hand === hand)?.sku;
    return [last(0), last(1)];
  }

  #applyStock(e: StockEvent): void {
    const state = this.#trayState.get(e.trayId);
    if (state === undefined) return;
    if (state.counts.has(e.sku)) state.counts.set(e.sku, Math.max(0, state.counts.get(e.sku)! + e.units));
    else if (e.units > 0) for (let i = 0; i < e.units; i++) state.foreign.push(e.sku);
    else {
      for (let i = 0; i < -e.units; i++) {
        const at = state.foreign.lastIndexOf(e.sku);
        if (at >= 0) state.foreign.splice(at, 1);
      }
    }
    this.#refreshTray(e.trayId);
  }

  /** New snapshot maps for the changed tray (scenes already handed to the renderer keep theirs). */
  #refreshTray(trayId: string): void {
    const state = this.#trayState.get(trayId)!;
    const skus = this.#facings.get(trayId)!;
    const capacity = this.#capacity.get(trayId) ?? [];
    const left = new Map(state.counts);
    const perFacing = skus.map((sku, f) => {
      const more = skus.indexOf(sku, f + 1) >= 0;
      const units = left.get(sku) ?? 0;
      const here = more ? Math.min(units, capacity[f] ?? units) : units;
      left.set(sku, units - here);
      return here;
    });
    this.#stock = new Map(this.#stock).set(trayId, perFacing);
    const extra = new Map(this.#extra);
    if (state.foreign.length > 0) extra.set(trayId, [...state.foreign]);
    else extra.delete(trayId);
    this.#extra = extra;
  }

  #applyHand(e: HandEvent): void {
    const units = this.#held.get(e.person) ?? [];
    this.#held.set(e.person, units);
    const other = (1 - e.hand) as 0 | 1;
    switch (e.kind) {
      case 'free':
        for (const u of units) if (u.hand === e.hand) u.hand = other;
        return;
      case 'bring': {
        for (const u of units) if (u.hand === e.hand) u.hand = other;
        // The units about to go: the most recently taken of that SKU.
        let n = e.units;
        for (let i = units.length - 1; i >= 0 && n > 0; i--) {
          if (units[i]!.sku !== e.sku) continue;
          const [u] = units.splice(i, 1);
          u!.hand = e.hand;
          units.push(u!);
          n--;
        }
        return;
      }
      case 'take':
        for (let i = 0; i < e.units; i++) units.push({ sku: e.sku, hand: e.hand });
        return;
      case 'give':
        for (let n = 0; n < e.units; n++) {
          let at = units.findLastIndex((u) => u.sku === e.sku && u.hand === e.hand);
          if (at < 0) at = units.findLastIndex((u) => u.sku === e.sku);
          if (at >= 0) units.splice(at, 1);
        }
        return;
    }
  }
}

/**
 * The catalogue images of every SKU of the catalogue — what HQ sends with the catalogue for the
 * agent's gallery — as `recogniserGalleryCrops` renders them (clean bay camera, one unit alone on
 * a shelf, several views per SKU; `RECOGNISER_CROP_PX` square RGB).
 */
export async function catalogImages(catalog: readonly CatalogItem[]): Promise<CatalogImages> {
  const out: CatalogImages = new Map(catalog.map((item) => [item.sku, []]));
  for (const crop of await recogniserGalleryCrops(catalog, catalog.map((item) => item.sku))) {
    out.get(crop.sku)!.push({ width: RECOGNISER_CROP_PX, height: RECOGNISER_CROP_PX, rgb: new Uint8Array(crop.rgb.buffer, crop.rgb.byteOffset, crop.rgb.byteLength) });
  }
  return out;
}

/** The front edge of bay `index` of a placed gondola (as device-drivers `bayCamera` places it). */
function bayFront(gondola: Gondola, index: number): BayFront {
  const p = gondola.placement!;
  const axis = p.axis === 'x' ? { x: 1, y: 0 } : { x: 0, y: 1 };
  const normal = p.axis === 'x' ? { x: 0, y: p.side } : { x: p.side, y: 0 };
  return { origin: { x: p.x, y: p.y }, axis, normal, start: index * p.bayWidthM, end: (index + 1) * p.bayWidthM, depthM: p.depthM };
}

/** Floor-plane distance from a point to a bay's front edge; 0 inside the shelf, Infinity behind the gondola. */
function frontDistance(front: BayFront, point: Point): number {
  const dx = point.x - front.origin.x;
  const dy = point.y - front.origin.y;
  const along = dx * front.axis.x + dy * front.axis.y;
  const out = dx * front.normal.x + dy * front.normal.y;
  if (out < -front.depthM) return Infinity;
  const beside = along < front.start ? front.start - along : along > front.end ? along - front.end : 0;
  return Math.hypot(beside, Math.max(0, out));
}

/** A hand counts as raised when it is this far from its rest pose. */
const STILL_HAND_M = 0.005;

/**
 * The hands of a person that are raised at t: away from their rest pose by the body (reaching,
 * on a tray, at a hand-off). The cameras watch the shelf front for hands, like a shelf camera
 * whose motion zone is drawn round the shelf: a shopper walking past or standing with both
 * hands hanging does not trigger it (that would triple the frames and show no product moving).
 */
function raisedHands(m: PersonMotion, t: number): Point3[] {
  const hands = m.handsAt(t);
  const torso = m.torsoAt(t);
  const f = m.facingAt(t);
  const rest = [
    { x: torso.x - f.y * HAND_SIDE_M, y: torso.y + f.x * HAND_SIDE_M, z: HAND_REST_Z_M },
    { x: torso.x + f.y * HAND_SIDE_M, y: torso.y - f.x * HAND_SIDE_M, z: HAND_REST_Z_M },
  ];
  return hands.filter((h, i) => dist3(h, rest[i]!) > STILL_HAND_M);
}

function dist3(a: Point3, b: Point3): number {
  return Math.hypot(a.x - b.x, a.y - b.y, a.z - b.z);
}

/** The reach of `person` that covers `at` (the action's or hand-off's own reach). */
function reachAt(motion: PersonMotion | undefined, startAt: number, endAt: number): Reach | undefined {
  if (motion === undefined) return undefined;
  return motion.reaches.find((r) => r.startAt === startAt && r.endAt === endAt) ?? motion.reaches.find((r) => r.startAt <= startAt && r.endAt >= endAt);
}

/**
 * The trays' contents and the hands' contents over time, from the script's truth: when each
 * unit leaves or lands on a tray (PICK_/PUT_TRANSFER_SHARE of the hand's time there) and where
 * it is in between.
 */
function timelines(script: CheckoutScript): { stock: StockEvent[]; hands: HandEvent[] } {
  const truth = script.truth();
  const motions = new Map(script.persons.map((m) => [m.id, m]));
  // A long hold's lift starts after the rest: the load-cell action with the load change ends with the true action.
  const liftStart = new Map<string, number>();
  for (const a of script.loadCellActions()) {
    if (a.restock === undefined && a.action.deltaG !== 0) liftStart.set(`${a.trayId}\u0000${a.action.startAt + a.action.durationMs}`, a.action.startAt);
  }
  const stock: StockEvent[] = [];
  const hands: HandEvent[] = [];
  for (const a of truth.actions) {
    const reach = reachAt(motions.get(a.person), a.startAt, a.endAt);
    const hand = reach?.hand ?? 1;
    const reachFrom = (reach?.startAt ?? a.startAt) - REACH_RAMP_MS;
    if (a.kind === 'pick') {
      const lift = liftStart.get(`${a.trayId}\u0000${a.endAt}`) ?? a.startAt;
      const t = lift + PICK_TRANSFER_SHARE * (a.endAt - lift);
      stock.push({ t, trayId: a.trayId, sku: a.sku, units: -a.units });
      hands.push({ t: reachFrom, person: a.person, kind: 'free', hand });
      hands.push({ t, person: a.person, kind: 'take', hand, sku: a.sku, units: a.units });
    } else {
      const t = a.startAt + PUT_TRANSFER_SHARE * (a.endAt - a.startAt);
      stock.push({ t, trayId: a.trayId, sku: a.sku, units: a.units });
      hands.push({ t: reachFrom, person: a.person, kind: 'bring', hand, sku: a.sku, units: a.units });
      hands.push({ t, person: a.person, kind: 'give', hand, sku: a.sku, units: a.units });
    }
  }
  for (const h of truth.handOffs) {
    const from = reachAt(motions.get(h.from), h.at, h.at);
    const to = reachAt(motions.get(h.to), h.at, h.at);
    const fromHand = from?.hand ?? 1;
    const toHand = to?.hand ?? 1;
    hands.push({ t: (from?.startAt ?? h.at) - REACH_RAMP_MS, person: h.from, kind: 'bring', hand: fromHand, sku: h.sku, units: h.units });
    hands.push({ t: (to?.startAt ?? h.at) - REACH_RAMP_MS, person: h.to, kind: 'free', hand: toHand });
    hands.push({ t: h.at, person: h.from, kind: 'give', hand: fromHand, sku: h.sku, units: h.units });
    hands.push({ t: h.at, person: h.to, kind: 'take', hand: toHand, sku: h.sku, units: h.units });
  }
  for (const r of script.restocks) stock.push({ t: (r.startAt + r.endAt) / 2, trayId: r.trayId, sku: r.sku, units: r.units });
  // Stable sorts: at one instant, events keep the order they were made in.
  stock.sort((a, b) => a.t - b.t);
  hands.sort((a, b) => a.t - b.t);
  return { stock, hands };
}
