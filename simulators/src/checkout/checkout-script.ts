import { trayPlacements, type StoreModel } from '@storeedge/device-drivers';
import type { Rng } from '../random.ts';
import type { HandAction } from '../signal/hand-action.ts';
import type { CheckoutActivity, CheckoutMix } from './checkout-options.ts';
import { distance, FloorPlan, pathLength, type Point } from './floor-plan.ts';
import { MAX_HAND_FROM_TORSO_M, PersonMotion } from './motion.ts';
import { TrayBook, type SlotRequest } from './tray-book.ts';
import { cartsFromActions, type CheckoutCase, type CheckoutTruth, type TrueHandOff, type TrueShelfAction, type TrueVisit } from './truth.ts';

/** The load cells run this long before the first visit, so their levels are settled. */
export const CHECKOUT_WARMUP_MS = 3_000;
/** SKUs whose unit weights are this close cannot be told apart by weight (a same-weight swap). */
export const SAME_WEIGHT_G = 5;
/** Crowding counts other persons whose torso or hand comes this close to the tray (research/checkout.md §5.1, metric 3). */
export const CROWDING_RADIUS_M = 1;

/** The entry admits one party at a time: its persons appear one by one within this long after the scan… */
const ENTRY_SPREAD_MS = 2_000;
/** …and the next scan comes at least this long after the last of them appeared (up to twice that when keeping a head count). */
const ENTRY_GAP_MS = 1_000;
/** Persons appear, and vanish, within this distance of the gate's position. */
const GATE_SCATTER_M = 0.3;
/** Another shopper joins a two- or four-person episode when they are free within this long. */
const RECRUIT_WINDOW_MS = 20_000;
/** Trays considered for one pick; the one whose slot comes first wins. */
const CANDIDATE_TRAYS = 4;
/** After the hand leaves the tray, the person stands this long before walking on. */
const WITHDRAW_MS: readonly [number, number] = [300, 800];
/** A single shopper stands up to this far left or right of the tray's centre. */
const STAND_JITTER_M = 0.15;
/**
 * Persons standing still keep at least this far apart, torso to torso (shoulder width: people
 * do not stand inside each other). Where the spot in front of a tray is taken, a shopper stands
 * at the first of STAND_ALTERNATIVES_M beside it (along the gondola) that is free.
 */
const PERSONAL_SPACE_M = 0.45;
const STAND_ALTERNATIVES_M: readonly number[] = [0.45, -0.45, 0.6, -0.6];
/** Someone who moves less than this while another walks past is standing still. */
const STILL_M = 0.05;
/** A hand reaches up to this far into the shelf past the front edge. */
const REACH_DEPTH_M = 0.1;
/** Hand-off: the receiver stands this far from the giver; their hands meet for this long, at this height. */
const HAND_OFF_GAP_M = 0.6;
const HAND_OFF_MS = 700;
const HAND_OFF_Z_M = 1.0;
/** Two persons at one bay start within this long of each other (and while the first hand is there); two at one tray within 0.5 s (§5.2 "same time"); four close within 3 s. */
const SAME_BAY_SPREAD_MS = 1_500;
const SAME_TRAY_SPREAD_MS = 500;
const FOUR_CLOSE_SPREAD_MS = 3_000;
/** Four close: trays within this distance (along the gondola) of the first; persons shoulder to shoulder (PERSONAL_SPACE_M apart), all within 1 m of the trays. */
const FOUR_CLOSE_TRAY_SPAN_M = 0.35;
const FOUR_CLOSE_SPACING_M = PERSONAL_SPACE_M;
/** A long hold's rest and its lift overlap by this much, so the hand's force does not drop between them. */
const HOLD_OVERLAP_MS = 150;
/** A step that finds nothing to do costs the person this long. */
const IDLE_MS = 3_000;

/** A token shown at a gate, in simulated time. */
export interface ScriptedScan {
  at: number;
  deviceId: string;
  lane: 'entry' | 'exit';
  token: string;
  party: number;
}

/** A staff restock (not a shopper action; announced to the agent through its API before it starts). */
export interface ScriptedRestock {
  trayId: string;
  sku: string;
  units: number;
  deltaG: number;
  startAt: number;
  endAt: number;
}

/** One load-cell hand action for the run to feed to the ShelfLoadModel, in start order. */
export interface LoadCellAction {
  trayId: string;
  action: HandAction;
  /** Set when the action is a staff restock (the run announces it first). */
  restock?: ScriptedRestock;
}

type Behaviour = keyof CheckoutMix;

interface Visit {
  index: number;
  token: string;
  party: number;
  enterAt: number;
  persons: Shopper[];
}

interface Shopper {
  motion: PersonMotion;
  visit: Visit;
  speedMps: number;
  stepsLeft: number;
  held: Held[];
  /** The person's motion is planned up to here; they decide what to do next then. */
  freeAt: number;
  /** A unit handed to this person that they put back as their next step. */
  returnFirst: Held | undefined;
}

/** A unit in someone's hands: where it came from and which visit was charged for it. */
interface Held {
  id: number;
  sku: string;
  fromTray: string;
  chargedTo: string;
  pick: ScriptAction;
  handedOff: boolean;
}

interface ScriptAction {
  kind: TrueShelfAction['kind'];
  person: Shopper;
  chargedTo: string;
  trayId: string;
  sku: string;
  unitIds: number[];
  startAt: number;
  endAt: number;
  /** Long hold: the hand rests on the tray this long before the lift, with this force. */
  holdMs: number;
  touchG: number | undefined;
  tags: Set<CheckoutCase>;
  /** Filled in when the script is finished. */
  deltaG: number;
  crowding: number;
}

/** Where one person goes and when their hand is on the tray. */
interface Plan {
  trayId: string;
  path: Point[];
  startAt: number;
  durationMs: number;
  /** Where along the tray the hand goes, from its centre (0: anywhere on the middle of it). */
  reachLateral: number;
}

/** One person's part in a several-person episode at the shelves. */
interface Member {
  who: Shopper;
  trayId: string;
  lateral: number;
  reachLateral: number;
  offsetMs: number;
  durationMs: number;
}

interface Unit {
  sku: string;
  grams: number;
}

/**
 * The ground truth of a checkout scenario (research/checkout.md §5.2): visits that come in
 * through the entry gate (a token per visit, groups under one token), persons who walk to
 * trays and pick, put back, put on a wrong tray (same-weight SKUs among them), rest a hand on
 * a tray, hand units to other shoppers, pick side by side at one bay or one tray, or stand four
 * within a metre — and then walk out through the exit. It keeps every person's true motion (for
 * the tracker model), the trays' true contents, and the truth the evaluation compares with.
 *
 * Deterministic for a seed: every random draw comes from a named fork of the given stream.
 * A tray never gives more units than it holds, a person only puts back what they hold, and a
 * tray and its neighbours stay untouched for `trayQuietMs` around every action except inside
 * the deliberate same-bay, same-tray and four-close episodes.
 */
export class CheckoutScript {
  readonly plan: FloorPlan;
  readonly scans: ScriptedScan[] = [];
  readonly restocks: ScriptedRestock[] = [];
  readonly #o: CheckoutActivity;
  readonly #arrivalRng: Rng;
  readonly #tokenRng: Rng;
  readonly #behaviourRng: Rng;
  readonly #motionRng: Rng;
  readonly #unitRng: Rng;
  /** Its own stream, so scenarios that never buy a misplaced unit draw exactly what they drew before. */
  readonly #misplacedRng: Rng;
  readonly #book: TrayBook;
  readonly #unitWeight = new Map<string, number>();
  readonly #unitSigma = new Map<string, number>();
  /** Trays (placed) whose own SKU has a same-weight twin, and per SKU the trays of its twins. */
  readonly #twinTrays: string[] = [];
  readonly #twinTraysOf = new Map<string, string[]>();
  readonly #trayIds: string[];
  readonly #bays = new Map<string, string[]>();
  readonly #initialUnits = new Map<string, Unit[]>();
  readonly #centre: Point;
  readonly #visits: Visit[] = [];
  readonly #shoppers: Shopper[] = [];
  #active: Shopper[] = [];
  #leaving: Shopper[] = [];
  readonly #actions: ScriptAction[] = [];
  readonly #handOffs: TrueHandOff[] = [];
  readonly #restockUntil = new Map<string, number>();
  #poissonArrivals: number[] = [];
  #gateFreeAt = CHECKOUT_WARMUP_MS;
  #nextUnitId = 1;
  #end = CHECKOUT_WARMUP_MS;
  #truth!: CheckoutTruth;

  constructor(model: StoreModel, options: CheckoutActivity, rng: Rng) {
    this.#o = options;
    this.plan = new FloorPlan(model);
    this.#arrivalRng = rng.fork('arrivals');
    this.#tokenRng = rng.fork('tokens');
    this.#behaviourRng = rng.fork('behaviour');
    this.#motionRng = rng.fork('motion');
    this.#unitRng = rng.fork('units');
    this.#misplacedRng = rng.fork('misplaced-picks');
    for (const item of model.catalog) {
      this.#unitWeight.set(item.sku, item.unitWeightG);
      this.#unitSigma.set(item.sku, item.unitWeightSigmaG);
    }

    const placements = trayPlacements(model);
    this.#book = new TrayBook(
      placements.map((p) => ({ trayId: p.tray.id, neighbours: p.neighbours, stock: new Map(p.tray.facings.map((f) => [f.sku, f.initial])) })),
      options.trayQuietMs,
    );
    for (const p of placements) {
      const units = p.tray.facings.flatMap((f) => Array.from({ length: f.initial }, () => this.#drawUnit(f.sku)));
      this.#initialUnits.set(p.tray.id, units);
    }
    this.#trayIds = [...this.plan.trays.keys()];
    for (const site of this.plan.trays.values()) {
      this.#bays.set(site.bay, [...(this.#bays.get(site.bay) ?? []), site.trayId]);
    }
    for (const site of this.plan.trays.values()) {
      const w = this.#unitWeight.get(site.sku)!;
      for (const other of this.plan.trays.values()) {
        if (other.sku === site.sku || Math.abs(this.#unitWeight.get(other.sku)! - w) > SAME_WEIGHT_G) continue;
        this.#twinTraysOf.set(site.sku, [...(this.#twinTraysOf.get(site.sku) ?? []), other.trayId]);
      }
      if (this.#twinTraysOf.has(site.sku)) this.#twinTrays.push(site.trayId);
    }
    const sites = [...this.plan.trays.values()];
    this.#centre = { x: sites.reduce((s, t) => s + t.point.x, 0) / sites.length, y: sites.reduce((s, t) => s + t.point.y, 0) / sites.length };

    this.#generate();
  }

  /** Weight of the units on a tray before the script starts (the load-cell model starts there). */
  initialLoadG(trayId: string): number {
    return (this.#initialUnits.get(trayId) ?? []).reduce((sum, u) => sum + u.grams, 0);
  }

  /** Simulated time the last person leaves or the last action ends. */
  get end(): number {
    return this.#end;
  }

  /** Every person's true motion, in order of appearance (for the tracker model). */
  get persons(): PersonMotion[] {
    return this.#shoppers.map((s) => s.motion);
  }

  /** The ground truth (simulator-internal: only the evaluation and tests read it). */
  truth(): CheckoutTruth {
    return this.#truth;
  }

  /** Visits, persons and group visits: what the gate scans tell anyone. */
  counts(): { visits: number; persons: number; groupVisits: number } {
    return {
      visits: this.#visits.length,
      persons: this.#shoppers.length,
      groupVisits: this.#visits.filter((v) => v.party > 1).length,
    };
  }

  /** The hand actions for the load-cell model, in start order: a long hold is a touch followed by the lift. */
  loadCellActions(): LoadCellAction[] {
    const out: LoadCellAction[] = [];
    for (const a of this.#actions) {
      if (a.holdMs > 0) {
        out.push({ trayId: a.trayId, action: { startAt: a.startAt, durationMs: a.holdMs + HOLD_OVERLAP_MS, deltaG: 0, ...(a.touchG === undefined ? {} : { touchG: a.touchG }) } });
        out.push({ trayId: a.trayId, action: { startAt: a.startAt + a.holdMs, durationMs: a.endAt - a.startAt - a.holdMs, deltaG: a.deltaG } });
      } else {
        out.push({ trayId: a.trayId, action: { startAt: a.startAt, durationMs: a.endAt - a.startAt, deltaG: a.deltaG } });
      }
    }
    for (const r of this.restocks) out.push({ trayId: r.trayId, action: { startAt: r.startAt, durationMs: r.endAt - r.startAt, deltaG: r.deltaG }, restock: r });
    return out.sort((a, b) => a.action.startAt - b.action.startAt);
  }

  // --- Generation ---------------------------------------------------------------------------

  #generate(): void {
    const { shoppers } = this.#o;
    if (shoppers.concurrent === undefined) {
      let t = CHECKOUT_WARMUP_MS;
      for (let i = 0; i < (shoppers.visits ?? 20); i++) {
        t += this.#arrivalRng.exponential(60_000 / shoppers.arrivalPerMin);
        if (t >= shoppers.durationMs) break;
        this.#poissonArrivals.push(t);
      }
    }
    let now = 0;
    for (;;) {
      const arrival = this.#nextArrival(now);
      let next: Shopper | undefined;
      for (const s of this.#active) if (next === undefined || s.freeAt < next.freeAt) next = s;
      if (next === undefined && arrival === Infinity) break;
      if (next === undefined || arrival <= next.freeAt) {
        now = arrival;
        this.#book.prune(now);
        this.#admit(arrival);
      } else {
        now = next.freeAt;
        this.#book.prune(now);
        this.#step(next, now);
      }
    }
    this.#finish();
  }

  /** When the next visit comes in (Infinity when none will). */
  #nextArrival(now: number): number {
    const { visits, concurrent, durationMs } = this.#o.shoppers;
    const earliest = Math.max(now, this.#gateFreeAt);
    let at: number;
    if (concurrent === undefined) {
      const planned = this.#poissonArrivals[this.#visits.length];
      if (planned === undefined) return Infinity;
      at = Math.max(earliest, planned);
    } else {
      if (visits !== undefined && this.#visits.length >= visits) return Infinity;
      this.#leaving = this.#leaving.filter((s) => s.motion.goneAt > now);
      const leavingAt = this.#leaving.map((s) => s.motion.goneAt).sort((a, b) => a - b);
      const inside = this.#active.length + leavingAt.filter((g) => g > earliest).length;
      if (inside < concurrent) at = earliest;
      else {
        // Wait until enough of those on their way out have left.
        const free = leavingAt.filter((g) => g > earliest);
        const k = inside - concurrent;
        if (k >= free.length) return Infinity;
        at = free[k]!;
      }
    }
    return at < durationMs ? at : Infinity;
  }

  /** A visit comes in: the entry gate scans its token, then its persons appear one by one. */
  #admit(at: number): void {
    const o = this.#o;
    const party = this.#arrivalRng.chance(o.party.groupShare) ? this.#arrivalRng.int(o.party.sizes[0], o.party.sizes[1]) : 1;
    const visit: Visit = { index: this.#visits.length + 1, token: this.#tokenRng.token(22), party, enterAt: at, persons: [] };
    this.#visits.push(visit);
    this.scans.push({ at, deviceId: this.plan.entry.device, lane: 'entry', token: visit.token, party });
    const slot = ENTRY_SPREAD_MS / party;
    let last = at;
    for (let k = 0; k < party; k++) {
      const appearAt = at + slot * (k + this.#arrivalRng.uniform(0.1, 0.9));
      const position = this.#scatter(this.plan.entry);
      const facing = { x: this.#centre.x - position.x, y: this.#centre.y - position.y };
      const shopper: Shopper = {
        motion: new PersonMotion(`person-${visit.index}-${k + 1}`, appearAt, position, facing),
        visit,
        speedMps: this.#motionRng.uniform(o.walkSpeedMps[0], o.walkSpeedMps[1]),
        stepsLeft: this.#behaviourRng.int(o.actionsPerPerson[0], o.actionsPerPerson[1]),
        held: [],
        freeAt: appearAt,
        returnFirst: undefined,
      };
      visit.persons.push(shopper);
      this.#shoppers.push(shopper);
      this.#active.push(shopper);
      last = appearAt;
    }
    this.#gateFreeAt = last + ENTRY_GAP_MS + (o.shoppers.concurrent === undefined ? 0 : this.#arrivalRng.uniform(0, ENTRY_GAP_MS));
  }

  /** One decision of one person at t (they are free and standing where their motion ends). */
  #step(p: Shopper, t: number): void {
    if (t >= this.#o.shoppers.durationMs) return this.#exit(p, t);
    const handed = p.returnFirst;
    if (handed !== undefined) {
      p.returnFirst = undefined;
      if (p.held.includes(handed) && this.#putBack(p, t, handed)) return;
    }
    if (p.stepsLeft <= 0) return this.#exit(p, t);
    p.stepsLeft--;
    const done = this.#behave(this.#roll(), p, t) || this.#pick(p, t, false);
    if (!done) {
      p.motion.stay(t + IDLE_MS);
      p.freeAt = t + IDLE_MS;
    }
  }

  #roll(): Behaviour {
    const weights = Object.entries(this.#o.mix) as Array<[Behaviour, number]>;
    let roll = this.#behaviourRng.uniform(0, weights.reduce((sum, [, w]) => sum + w, 0));
    for (const [kind, w] of weights) if ((roll -= w) < 0) return kind;
    return 'pick';
  }

  #behave(kind: Behaviour, p: Shopper, t: number): boolean {
    switch (kind) {
      case 'pick':
        return this.#pick(p, t, false);
      case 'longHold':
        return this.#pick(p, t, true);
      case 'putBack':
        return p.held.length > 0 && this.#putBack(p, t, this.#behaviourRng.pick(p.held));
      case 'wrongTray':
        return p.held.length > 0 && this.#misplace(p, t);
      case 'handOff':
        return p.held.length > 0 && this.#handOff(p, t);
      case 'sameBay':
        return this.#sameBay(p, t);
      case 'sameTraySameTime':
        return this.#sameTray(p, t);
      case 'fourClose':
        return this.#fourClose(p, t);
    }
  }

  #pick(p: Shopper, t: number, longHold: boolean): boolean {
    const o = this.#o;
    const inStock = (ids: readonly string[]) => ids.filter((id) => this.#book.available(id, this.#skuOf(id), t) > 0);
    let pool = this.#twinTrays.length > 0 && this.#behaviourRng.chance(o.sameWeightPickShare) ? inStock(this.#twinTrays) : [];
    if (pool.length === 0) pool = inStock(this.#trayIds);
    if (pool.length === 0) return false;
    const holdMs = longHold ? this.#behaviourRng.uniform(o.longHoldMs[0], o.longHoldMs[1]) : 0;
    const durationMs = holdMs + this.#handleMs();
    const dwellMs = this.#dwellMs();
    const plans = this.#behaviourRng
      .sample(pool, CANDIDATE_TRAYS)
      .map((id) => this.#soloPlan(p, t, id, durationMs, dwellMs))
      .sort((a, b) => a.startAt - b.startAt);
    const plan = plans.find((pl) => this.#book.available(pl.trayId, this.#skuOf(pl.trayId), pl.startAt) > 0);
    if (plan === undefined) return false;
    const most = Math.min(o.maxUnits, this.#book.available(plan.trayId, this.#skuOf(plan.trayId), plan.startAt));
    const units = most > 1 && this.#behaviourRng.chance(o.multiUnitShare) ? this.#behaviourRng.int(2, most) : 1;
    const touchG = longHold ? this.#behaviourRng.uniform(o.longHoldTouchG[0], o.longHoldTouchG[1]) : undefined;
    // Now and then the unit someone put here by mistake goes into this shopper's basket instead.
    const misplaced = this.#misplacedOn(plan.trayId, plan.startAt);
    const taken = misplaced.length > 0 && this.#misplacedRng.chance(o.misplacedPickShare) ? this.#misplacedRng.pick(misplaced) : undefined;
    const action = this.#act(p, plan, 'pick', taken ?? this.#skuOf(plan.trayId), taken === undefined ? units : 1, { holdMs, touchG });
    if (longHold) action.tags.add('long-hold');
    return true;
  }

  /** SKUs of units put on the tray by mistake that a pick starting at `at` can take (none unless misplaced picks are on). */
  #misplacedOn(trayId: string, at: number): string[] {
    if (this.#o.misplacedPickShare === 0) return [];
    const own = this.#skuOf(trayId);
    return this.#book.skus(trayId).filter((sku) => sku !== own && this.#book.available(trayId, sku, at) > 0);
  }

  /** Puts `unit` (and, now and then, more units of the same pick) back on the tray it came from. */
  #putBack(p: Shopper, t: number, unit: Held): boolean {
    const o = this.#o;
    const same = p.held.filter((h) => h !== unit && h.sku === unit.sku && h.fromTray === unit.fromTray && h.chargedTo === unit.chargedTo);
    const extra = same.length > 0 && this.#behaviourRng.chance(o.multiUnitShare) ? this.#behaviourRng.int(1, Math.min(same.length, o.maxUnits - 1)) : 0;
    const returned = [unit, ...same.slice(0, extra)];
    const plan = this.#soloPlan(p, t, unit.fromTray, this.#handleMs(), this.#dwellMs());
    this.#act(p, plan, 'put-back', unit.sku, returned.length, { returned });
    return true;
  }

  /** Puts a held unit on a tray of another SKU: a same-weight twin's tray for `sameWeightShare` of them, else one near by. */
  #misplace(p: Shopper, t: number): boolean {
    const withTwin = p.held.filter((h) => this.#twinTraysOf.has(h.sku));
    let unit: Held;
    let pool: string[];
    if (withTwin.length > 0 && this.#behaviourRng.chance(this.#o.sameWeightShare)) {
      unit = this.#behaviourRng.pick(withTwin);
      pool = this.#twinTraysOf.get(unit.sku)!;
    } else {
      unit = this.#behaviourRng.pick(p.held);
      const here = p.motion.end;
      pool = this.#trayIds
        .filter((id) => this.#skuOf(id) !== unit.sku)
        .map((id) => ({ id, d: distance(here, this.plan.site(id).point) }))
        .sort((a, b) => a.d - b.d)
        .slice(0, 6)
        .map((c) => c.id);
    }
    if (pool.length === 0) return false;
    const durationMs = this.#handleMs();
    const dwellMs = this.#dwellMs();
    const plan = this.#behaviourRng
      .sample(pool, 3)
      .map((id) => this.#soloPlan(p, t, id, durationMs, dwellMs))
      .sort((a, b) => a.startAt - b.startAt)[0]!;
    this.#act(p, plan, 'misplace', unit.sku, 1, { returned: [unit] });
    return true;
  }

  /** Gives a held unit to a person of another visit, who comes to stand HAND_OFF_GAP_M away. */
  #handOff(p: Shopper, t: number): boolean {
    const [q] = this.#recruit(p, t, 1);
    if (q === undefined) return false;
    const here = p.motion.end;
    const spot = this.#behaviourRng
      .sample(
        [
          { x: HAND_OFF_GAP_M, y: 0 },
          { x: -HAND_OFF_GAP_M, y: 0 },
          { x: 0, y: HAND_OFF_GAP_M },
          { x: 0, y: -HAND_OFF_GAP_M },
        ],
        4,
      )
      .map((d) => ({ x: here.x + d.x, y: here.y + d.y }))
      .find((s) => this.plan.walkable(s));
    if (spot === undefined) return false;
    const unit = this.#behaviourRng.pick(p.held);
    const path = this.plan.route(q.motion.end, spot);
    const arriveAt = q.freeAt + (pathLength(q.motion.end, path) / q.speedMps) * 1_000;
    const at = Math.max(t + 500, arriveAt + this.#behaviourRng.uniform(300, 1_200));
    q.motion.walk(this.#aroundOthers(q, path), q.speedMps);
    p.motion.stay(at, { x: spot.x - here.x, y: spot.y - here.y });
    q.motion.stay(at, { x: here.x - spot.x, y: here.y - spot.y });
    const middle = { x: (here.x + spot.x) / 2, y: (here.y + spot.y) / 2, z: HAND_OFF_Z_M };
    for (const who of [p, q]) {
      who.motion.reach({ hand: who.motion.nearerHand(middle), startAt: at, endAt: at + HAND_OFF_MS, target: middle });
      who.freeAt = at + HAND_OFF_MS + this.#withdrawMs();
      who.motion.stay(who.freeAt);
    }
    p.held.splice(p.held.indexOf(unit), 1);
    q.held.push(unit);
    unit.handedOff = true;
    unit.pick.tags.add('hand-off');
    this.#handOffs.push({ at: at + HAND_OFF_MS / 2, from: p.motion.id, to: q.motion.id, sku: unit.sku, units: 1 });
    if (this.#behaviourRng.chance(this.#o.handOffReturnShare)) q.returnFirst = unit;
    q.stepsLeft = Math.max(0, q.stepsLeft - 1);
    return true;
  }

  /** Two persons of different visits pick from two trays of one bay at the same time. */
  #sameBay(p: Shopper, t: number): boolean {
    const [q] = this.#recruit(p, t, 1);
    if (q === undefined) return false;
    for (const bay of this.#behaviourRng.sample([...this.#bays.keys()], 5)) {
      const trays = this.#bays.get(bay)!.filter((id) => this.#book.available(id, this.#skuOf(id), t) > 0);
      if (trays.length < 2) continue;
      const [a, b] = this.#behaviourRng.sample(trays, 2) as [string, string];
      // Two persons in front of one column stand apart.
      const gap = this.plan.site(b).along - this.plan.site(a).along;
      const push = Math.max(0, (0.5 - Math.abs(gap)) / 2) * (gap >= 0 ? 1 : -1);
      const first = this.#handleMs();
      // The second hand comes while the first is still on the shelf.
      const offsetMs = this.#behaviourRng.uniform(0, Math.min(SAME_BAY_SPREAD_MS, 0.7 * first));
      const members: Member[] = [
        { who: p, trayId: a, lateral: -push, reachLateral: 0, offsetMs: 0, durationMs: first },
        { who: q, trayId: b, lateral: push, reachLateral: 0, offsetMs, durationMs: this.#handleMs() },
      ];
      if (this.#episode(members, 'same-bay')) return true;
    }
    return false;
  }

  /** Two persons of different visits pick one unit each from one tray within 0.5 s. */
  #sameTray(p: Shopper, t: number): boolean {
    const [q] = this.#recruit(p, t, 1);
    if (q === undefined) return false;
    const trays = this.#trayIds.filter((id) => this.#book.available(id, this.#skuOf(id), t) >= 2);
    for (const trayId of this.#behaviourRng.sample(trays, 3)) {
      const side = this.#behaviourRng.chance(0.5) ? 1 : -1;
      const members: Member[] = [
        { who: p, trayId, lateral: -0.25 * side, reachLateral: -0.05 * side, offsetMs: 0, durationMs: this.#handleMs() },
        { who: q, trayId, lateral: 0.25 * side, reachLateral: 0.05 * side, offsetMs: this.#behaviourRng.uniform(0, SAME_TRAY_SPREAD_MS), durationMs: this.#handleMs() },
      ];
      if (this.#episode(members, 'same-tray-same-time')) return true;
    }
    return false;
  }

  /** Four persons of different visits stand shoulder to shoulder in front of one stretch of gondola and each pick from a tray there. */
  #fourClose(p: Shopper, t: number): boolean {
    const others = this.#recruit(p, t, 3);
    if (others.length < 3) return false;
    const inStock = this.#trayIds.filter((id) => this.#book.available(id, this.#skuOf(id), t) > 0);
    for (const anchor of this.#behaviourRng.sample(inStock, 5)) {
      const site = this.plan.site(anchor);
      const near = inStock.filter((id) => {
        const s = this.plan.site(id);
        return s.gondola === site.gondola && Math.abs(s.along - site.along) <= FOUR_CLOSE_TRAY_SPAN_M;
      });
      if (near.length < 4) continue;
      const trays = this.#behaviourRng.sample(near, 4).sort((a, b) => this.plan.site(a).along - this.plan.site(b).along);
      const centre = trays.reduce((sum, id) => sum + this.plan.site(id).along, 0) / 4;
      const people = this.#behaviourRng.sample([p, ...others], 4);
      const members = trays.map((trayId, i): Member => ({
        who: people[i]!,
        trayId,
        lateral: centre + (i - 1.5) * FOUR_CLOSE_SPACING_M - this.plan.site(trayId).along,
        reachLateral: 0,
        offsetMs: i === 0 ? 0 : this.#behaviourRng.uniform(0, FOUR_CLOSE_SPREAD_MS),
        durationMs: this.#handleMs(),
      }));
      if (this.#episode(members, 'four-close')) return true;
    }
    return false;
  }

  /**
   * A several-person episode: everyone walks to their stand point, and once the last has come
   * (and browsed) each picks one unit at the episode's start plus their offset. Their hands may
   * overlap each other but keep `trayQuietMs` from every other action. Nothing is committed when
   * the trays cannot give the units.
   */
  #episode(members: readonly Member[], tag: CheckoutCase): boolean {
    const dwellMs = this.#dwellMs();
    let ready = 0;
    const paths = members.map((m) => {
      const from = m.who.motion.end;
      const path = this.plan.route(from, this.plan.standPoint(m.trayId, m.lateral));
      ready = Math.max(ready, m.who.freeAt + (pathLength(from, path) / m.who.speedMps) * 1_000);
      return path;
    });
    const requests: SlotRequest[] = members.map((m) => ({ trayId: m.trayId, offsetMs: m.offsetMs, durationMs: m.durationMs }));
    const start = this.#book.earliestSlot(requests, ready + dwellMs);
    const wanted = new Map<string, number>();
    for (const m of members) wanted.set(m.trayId, (wanted.get(m.trayId) ?? 0) + 1);
    for (const [trayId, units] of wanted) {
      const first = Math.min(...members.filter((m) => m.trayId === trayId).map((m) => m.offsetMs));
      if (this.#book.available(trayId, this.#skuOf(trayId), start + first) < units) return false;
    }
    members.forEach((m, i) => {
      const plan: Plan = { trayId: m.trayId, path: paths[i]!, startAt: start + m.offsetMs, durationMs: m.durationMs, reachLateral: m.reachLateral };
      const action = this.#act(m.who, plan, 'pick', this.#skuOf(m.trayId), 1, {});
      action.tags.add(tag);
      if (i > 0) m.who.stepsLeft = Math.max(0, m.who.stepsLeft - 1);
    });
    return true;
  }

  /** `n` shoppers of other visits (one each) who are free within RECRUIT_WINDOW_MS; none when there are not enough. */
  #recruit(p: Shopper, t: number, n: number): Shopper[] {
    const pool = this.#active.filter(
      (q) => q !== p && q.visit !== p.visit && q.stepsLeft > 0 && q.returnFirst === undefined && q.freeAt <= t + RECRUIT_WINDOW_MS && q.freeAt < this.#o.shoppers.durationMs,
    );
    const chosen: Shopper[] = [];
    const visits = new Set([p.visit]);
    for (const q of this.#behaviourRng.sample(pool, pool.length)) {
      if (visits.has(q.visit)) continue;
      chosen.push(q);
      visits.add(q.visit);
      if (chosen.length === n) return chosen;
    }
    return [];
  }

  /** Walks to the exit gate and vanishes there. */
  #exit(p: Shopper, t: number): void {
    const from = p.motion.end;
    const goneAt = p.motion.walk(this.#aroundOthers(p, this.plan.route(from, this.#scatter(this.plan.exit))), p.speedMps);
    p.motion.leave(goneAt);
    p.freeAt = goneAt;
    this.#active = this.#active.filter((s) => s !== p);
    if (this.#o.shoppers.concurrent !== undefined) this.#leaving.push(p);
    this.#end = Math.max(this.#end, goneAt, t);
  }

  /** Where a single person goes for a tray action, and the earliest slot after walking there and browsing. */
  #soloPlan(p: Shopper, t: number, trayId: string, durationMs: number, dwellMs: number): Plan {
    const jitter = this.#motionRng.uniform(-STAND_JITTER_M, STAND_JITTER_M);
    const from = p.motion.end;
    const planTo = (lateral: number): Plan => {
      const path = this.plan.route(from, this.plan.standPoint(trayId, lateral));
      const arriveAt = t + (pathLength(from, path) / p.speedMps) * 1_000;
      const startAt = this.#book.earliestSlot([{ trayId, offsetMs: 0, durationMs }], arriveAt + dwellMs);
      return { trayId, path, startAt, durationMs, reachLateral: 0 };
    };
    const first = planTo(jitter);
    // Where someone already stands, the next person stands beside them, still within reach of the tray
    // (checked over the first spot's stay: the others are a few tenths of a metre from it).
    const arriveAt = t + (pathLength(from, first.path) / p.speedMps) * 1_000;
    const until = first.startAt + durationMs + WITHDRAW_MS[1];
    let best = jitter;
    let bestRoom = -Infinity;
    for (const lateral of [jitter, ...STAND_ALTERNATIVES_M.map((d) => jitter + d)]) {
      const room = this.#room(p, this.plan.standPoint(trayId, lateral), arriveAt, until);
      if (room > bestRoom) [best, bestRoom] = [lateral, room];
      if (room >= PERSONAL_SPACE_M) break;
    }
    return best === jitter ? first : planTo(best);
  }

  /**
   * The path with a step aside wherever a leg would pass through someone standing still (people
   * walk round each other; they still pass close enough for the tracker to confuse them): the
   * leg bends at PERSONAL_SPACE_M beside them, on whichever side has room.
   */
  #aroundOthers(p: Shopper, path: readonly Point[]): Point[] {
    const out: Point[] = [];
    let from: Point = p.motion.end;
    let t = p.motion.end.t;
    for (const to of path) {
      const legMs = (distance(from, to) / p.speedMps) * 1_000;
      const block = this.#standingOnLeg(p, from, to, t, t + legMs);
      if (block !== undefined) {
        const dx = to.x - from.x;
        const dy = to.y - from.y;
        const len = Math.hypot(dx, dy);
        const side = Math.sign((block.at.x - block.who.x) * -dy + (block.at.y - block.who.y) * dx) || 1;
        for (const s of [side, -side]) {
          const aside = { x: block.who.x + (-dy / len) * s * PERSONAL_SPACE_M, y: block.who.y + (dx / len) * s * PERSONAL_SPACE_M };
          if (this.plan.walkable(aside) && this.plan.clear(from, aside) && this.plan.clear(aside, to)) {
            out.push(aside);
            t += ((distance(from, aside) + distance(aside, to) - distance(from, to)) / p.speedMps) * 1_000;
            break;
          }
        }
      }
      out.push(to);
      t += legMs;
      from = to;
    }
    return out;
  }

  /** The first person standing still within PERSONAL_SPACE_M of the leg from → to (not at its ends) while it is walked, and the leg's nearest point to them. */
  #standingOnLeg(p: Shopper, from: Point, to: Point, t0: number, t1: number): { who: Point; at: Point } | undefined {
    const dx = to.x - from.x;
    const dy = to.y - from.y;
    const len2 = dx * dx + dy * dy;
    if (len2 < 1e-12) return undefined;
    for (const q of this.#active) {
      if (q === p || !q.motion.present(t0) || !q.motion.present(t1)) continue;
      const who = q.motion.torsoAt(t0);
      if (distance(who, q.motion.torsoAt(t1)) > STILL_M || distance(who, q.motion.torsoAt((t0 + t1) / 2)) > STILL_M) continue;
      if (distance(who, from) < PERSONAL_SPACE_M || distance(who, to) < PERSONAL_SPACE_M) continue;
      const f = ((who.x - from.x) * dx + (who.y - from.y) * dy) / len2;
      if (f <= 0 || f >= 1) continue;
      const at = { x: from.x + dx * f, y: from.y + dy * f };
      if (distance(at, who) < PERSONAL_SPACE_M) return { who, at };
    }
    return undefined;
  }

  /** The least distance between `spot` and any other person present while `p` would stand there from `from` to `to`. */
  #room(p: Shopper, spot: Point, from: number, to: number): number {
    let least = Infinity;
    for (const q of this.#active) if (q !== p) least = Math.min(least, q.motion.closestApproach(spot, from, to));
    return least;
  }

  /** Carries out a planned tray action: the walk, the wait, the reach, the booking, the stock and the units in hand. */
  #act(
    p: Shopper,
    plan: Plan,
    kind: ScriptAction['kind'],
    sku: string,
    units: number,
    more: { holdMs?: number; touchG?: number | undefined; returned?: Held[] },
  ): ScriptAction {
    const endAt = plan.startAt + plan.durationMs;
    p.motion.walk(this.#aroundOthers(p, plan.path), p.speedMps);
    p.motion.stay(plan.startAt, this.plan.facingOf(plan.trayId));
    // Side by side at one tray the two hands stay on their own halves.
    const spread = plan.reachLateral === 0 ? this.plan.site(plan.trayId).widthM * 0.3 : 0.03;
    const target = this.plan.reachPoint(plan.trayId, this.#motionRng.uniform(0, REACH_DEPTH_M), plan.reachLateral + this.#motionRng.uniform(-spread, spread));
    p.motion.reach({ hand: p.motion.nearerHand(target), startAt: plan.startAt, endAt, target });
    p.freeAt = endAt + this.#withdrawMs();
    p.motion.stay(p.freeAt);
    this.#book.book(plan.trayId, plan.startAt, endAt);
    const returned = more.returned ?? [];
    const action: ScriptAction = {
      kind,
      person: p,
      chargedTo: kind === 'pick' ? p.visit.token : returned[0]!.chargedTo,
      trayId: plan.trayId,
      sku,
      unitIds: kind === 'pick' ? Array.from({ length: units }, () => this.#nextUnitId++) : returned.map((h) => h.id),
      startAt: plan.startAt,
      endAt,
      holdMs: more.holdMs ?? 0,
      touchG: more.touchG,
      tags: new Set(),
      deltaG: 0,
      crowding: 0,
    };
    this.#actions.push(action);
    this.#end = Math.max(this.#end, endAt);
    if (kind === 'pick') {
      this.#book.change(plan.trayId, sku, plan.startAt, -units);
      for (const id of action.unitIds) p.held.push({ id, sku, fromTray: plan.trayId, chargedTo: p.visit.token, pick: action, handedOff: false });
      this.#restockIfLow(plan.trayId, sku, endAt);
    } else {
      this.#book.change(plan.trayId, sku, plan.startAt, returned.length);
      for (const h of returned) {
        p.held.splice(p.held.indexOf(h), 1);
        if (h.handedOff) action.tags.add('hand-off');
      }
    }
    return action;
  }

  #restockIfLow(trayId: string, sku: string, after: number): void {
    const restocks = this.#o.restocks;
    const site = this.plan.site(trayId);
    if (restocks === null || sku !== site.sku || (this.#restockUntil.get(trayId) ?? -Infinity) > after) return;
    if (this.#book.unitsAt(trayId, sku, after) > site.capacity * restocks.belowShare) return;
    const durationMs = this.#behaviourRng.uniform(restocks.handleMs[0], restocks.handleMs[1]);
    const startAt = this.#book.earliestSlot([{ trayId, offsetMs: 0, durationMs }], after + this.#behaviourRng.uniform(restocks.delayMs[0], restocks.delayMs[1]));
    const units = site.capacity - this.#book.unitsAt(trayId, sku, startAt);
    if (units <= 0) return;
    this.#book.book(trayId, startAt, startAt + durationMs);
    this.#book.change(trayId, sku, startAt, units);
    this.restocks.push({ trayId, sku, units, deltaG: 0, startAt, endAt: startAt + durationMs });
    this.#restockUntil.set(trayId, startAt + durationMs);
    this.#end = Math.max(this.#end, startAt + durationMs);
  }

  // --- Finishing: unit weights, crowding, case tags, truth ------------------------------------

  #finish(): void {
    this.#actions.sort((a, b) => a.startAt - b.startAt);
    this.restocks.sort((a, b) => a.startAt - b.startAt);
    this.#weighUnits();
    this.#countCrowding();

    const exitScans: ScriptedScan[] = [];
    const visits: TrueVisit[] = this.#visits.map((v) => {
      const gone = v.persons.map((s) => s.motion.goneAt);
      if (this.#o.exitScan) exitScans.push({ at: Math.min(...gone), deviceId: this.plan.exit.device, lane: 'exit', token: v.token, party: v.party });
      return { token: v.token, party: v.party, persons: v.persons.map((s) => s.motion.id), enterAt: v.enterAt, exitAt: Math.max(...gone) };
    });
    this.scans.push(...exitScans);
    this.scans.sort((a, b) => a.at - b.at);

    const actions: TrueShelfAction[] = this.#actions.map((a, i) => ({
      n: i + 1,
      kind: a.kind,
      person: a.person.motion.id,
      chargedTo: a.chargedTo,
      trayId: a.trayId,
      sku: a.sku,
      units: a.unitIds.length,
      deltaG: a.deltaG,
      startAt: a.startAt,
      endAt: a.endAt,
      cases: this.#cases(a),
      crowding: a.crowding,
    }));
    const handOffs = [...this.#handOffs].sort((a, b) => a.at - b.at);
    this.#truth = { visits, actions, handOffs, carts: cartsFromActions(visits, actions) };
  }

  #cases(a: ScriptAction): CheckoutCase[] {
    const tags = new Set(a.tags);
    if (a.unitIds.length > 1) tags.add('multi-unit');
    if (a.kind === 'put-back') tags.add('put-back');
    // A unit put on the wrong tray, or bought from there later: both are the wrong-tray case (§5.2).
    if (a.kind === 'misplace' || a.sku !== this.#skuOf(a.trayId)) {
      tags.add('wrong-tray');
      const onTray = this.#skuOf(a.trayId);
      if (Math.abs(this.#unitWeight.get(onTray)! - this.#unitWeight.get(a.sku)!) <= SAME_WEIGHT_G) tags.add('same-weight-swap');
    }
    if (a.person.visit.party > 1) tags.add('group');
    if (a.crowding >= 2) tags.add('crowded');
    if (tags.size === 0) tags.add('single');
    return [...tags];
  }

  /** Gives every unit its own weight in time order: a pick takes units that are really on the tray. */
  #weighUnits(): void {
    const onTray = new Map([...this.#initialUnits].map(([id, units]) => [id, [...units]]));
    const grams = new Map<number, number>();
    const steps = [...this.#actions.map((a) => ({ at: a.startAt, action: a })), ...this.restocks.map((r) => ({ at: r.startAt, restock: r }))].sort((a, b) => a.at - b.at);
    for (const step of steps) {
      if ('restock' in step && step.restock) {
        const r = step.restock;
        const units = Array.from({ length: r.units }, () => this.#drawUnit(r.sku));
        onTray.get(r.trayId)!.push(...units);
        r.deltaG = units.reduce((sum, u) => sum + u.grams, 0);
        continue;
      }
      const a = (step as { action: ScriptAction }).action;
      const tray = onTray.get(a.trayId)!;
      if (a.kind === 'pick') {
        let total = 0;
        for (const id of a.unitIds) {
          const own = tray.flatMap((u, index) => (u.sku === a.sku ? [index] : []));
          if (own.length === 0) throw new Error(`checkout script: tray ${a.trayId} has no unit of ${a.sku} left at ${a.startAt} (internal error)`);
          const unit = tray.splice(this.#unitRng.pick(own), 1)[0]!;
          grams.set(id, unit.grams);
          total += unit.grams;
        }
        a.deltaG = -total;
      } else {
        let total = 0;
        for (const id of a.unitIds) {
          const g = grams.get(id)!;
          tray.push({ sku: a.sku, grams: g });
          total += g;
        }
        a.deltaG = total;
      }
    }
  }

  /** Per action: other persons whose torso or a hand comes within CROWDING_RADIUS_M of the tray (on the floor plane) while the hand is there. */
  #countCrowding(): void {
    const stepMs = 100;
    const reach = CROWDING_RADIUS_M + MAX_HAND_FROM_TORSO_M;
    const speed = this.#o.walkSpeedMps[1] / 1_000;
    const persons = this.#shoppers.map((s) => s.motion);
    let pending = 0;
    let live: PersonMotion[] = [];
    for (const a of this.#actions) {
      while (pending < persons.length && persons[pending]!.appearAt <= a.endAt) live.push(persons[pending++]!);
      live = live.filter((m) => m.goneAt >= a.startAt);
      const tray = this.plan.site(a.trayId).point;
      let count = 0;
      for (const m of live) {
        if (m === a.person.motion || m.appearAt > a.endAt) continue;
        const until = Math.min(a.endAt, m.goneAt);
        for (let t = Math.max(a.startAt, m.appearAt); t <= until; ) {
          const d = distance(m.torsoAt(t), tray);
          if (d <= CROWDING_RADIUS_M || (d <= reach && m.handsAt(t).some((h) => distance(h, tray) <= CROWDING_RADIUS_M))) {
            count++;
            break;
          }
          // Too far for a hand to come close before this much time has passed.
          t += d > reach ? Math.max(stepMs, (d - reach) / speed) : stepMs;
        }
      }
      a.crowding = count;
    }
  }

  // --- Small helpers --------------------------------------------------------------------------

  #skuOf(trayId: string): string {
    return this.plan.site(trayId).sku;
  }

  #handleMs(): number {
    return this.#behaviourRng.uniform(this.#o.handleMs[0], this.#o.handleMs[1]);
  }

  #dwellMs(): number {
    return this.#behaviourRng.uniform(this.#o.dwellMs[0], this.#o.dwellMs[1]);
  }

  #withdrawMs(): number {
    return this.#motionRng.uniform(WITHDRAW_MS[0], WITHDRAW_MS[1]);
  }

  /** A point within GATE_SCATTER_M of a gate. */
  #scatter(gate: Point): Point {
    const r = GATE_SCATTER_M * Math.sqrt(this.#motionRng.next());
    const angle = 2 * Math.PI * this.#motionRng.next();
    return { x: gate.x + r * Math.cos(angle), y: gate.y + r * Math.sin(angle) };
  }

  #drawUnit(sku: string): Unit {
    return { sku, grams: Math.max(1, this.#unitRng.normal(this.#unitWeight.get(sku)!, this.#unitSigma.get(sku)!)) };
  }
}
