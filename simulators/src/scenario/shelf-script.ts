import { trayPlacements, type StoreModel } from '@storeedge/device-drivers';
import type { Rng } from '../random.ts';

/** What happened at a tray, as the simulator knows it (ground truth; never sent to the agent). */
export type ScriptedActionKind = 'pick' | 'put-back' | 'misplace' | 'restock';

export interface ScriptedShelfAction {
  /** 1-based order of the action in the script. */
  n: number;
  kind: ScriptedActionKind;
  trayId: string;
  sku: string;
  /** Units moved: taken for a pick, added otherwise. */
  units: number;
  /** Signed change of the tray's load, grams (each unit drawn from the SKU's weight spread). */
  deltaG: number;
  /** Simulated time the hand reaches the tray and the time it leaves. */
  startAt: number;
  endAt: number;
  /** For put-backs and misplacements: the tray the unit was taken from. */
  fromTray?: string;
}

export interface ShelfActivityOptions {
  /** Shopper actions to generate (picks, put-backs, misplacements); staff restocks come on top. */
  events: number;
  /** Mean time between the starts of two shopper actions anywhere in the store. */
  meanGapMs: number;
  /** Relative weights of the shopper actions. A put-back or misplacement needs a held unit. */
  mix: { pick: number; putBack: number; misplace: number };
  /** Largest number of units picked at once, and the share of picks that take more than one. */
  maxUnitsPerPick: number;
  multiUnitShare: number;
  /** How long a hand is on the tray. */
  handleMs: readonly [number, number];
  /** A tray and its neighbours stay untouched this long after an action on them ends. */
  trayQuietMs: number;
  /** Staff refill a facing to capacity once it is at or below this share of capacity. */
  restockBelowShare: number;
  restockHandleMs: readonly [number, number];
}

/** One physical unit: its SKU and its own weight (drawn once from the SKU's spread). */
interface Unit {
  sku: string;
  grams: number;
}

interface Held extends Unit {
  fromTray: string;
}

/**
 * Generates the ground-truth script of a shelf scenario: shopper picks, put-backs to the right
 * tray, put-backs to a wrong tray (misplacements) and staff restocks, in simulated time, never
 * making a tray's stock negative. It also keeps the true stock per tray and SKU.
 */
export class ShelfScript {
  readonly actions: ScriptedShelfAction[] = [];
  /** True units per tray and SKU, as the script leaves them. Misplaced units sit on other trays. */
  readonly stock = new Map<string, Map<string, number>>();
  /** Units that left the shelves with shoppers (picked and never put back). */
  readonly carried = new Map<string, number>();
  readonly #model: StoreModel;
  readonly #rng: Rng;
  readonly #o: ShelfActivityOptions;
  readonly #unitWeight = new Map<string, { mean: number; sigma: number }>();
  readonly #facing = new Map<string, { sku: string; capacity: number }>();
  readonly #neighbours = new Map<string, string[]>();
  readonly #busyUntil = new Map<string, number>();
  readonly #held: Held[] = [];
  /** The units lying on each tray, so a pick takes the weight that is really there. */
  readonly #units = new Map<string, Unit[]>();
  readonly #initialLoad = new Map<string, number>();

  constructor(model: StoreModel, options: ShelfActivityOptions, rng: Rng) {
    this.#model = model;
    this.#o = options;
    this.#rng = rng;
    for (const item of model.catalog) this.#unitWeight.set(item.sku, { mean: item.unitWeightG, sigma: item.unitWeightSigmaG });
    for (const placement of trayPlacements(model)) {
      const facing = placement.tray.facings[0]!;
      this.#facing.set(placement.tray.id, { sku: facing.sku, capacity: facing.capacity });
      this.#neighbours.set(placement.tray.id, placement.neighbours);
      this.stock.set(placement.tray.id, new Map(placement.tray.facings.map((f) => [f.sku, f.initial])));
      const units = placement.tray.facings.flatMap((f) => Array.from({ length: f.initial }, () => this.#drawUnit(f.sku)));
      this.#units.set(placement.tray.id, units);
      this.#initialLoad.set(placement.tray.id, units.reduce((sum, u) => sum + u.grams, 0));
    }
  }

  /** Weight of the units on a tray before the script starts (the load-cell model starts there). */
  initialLoadG(trayId: string): number {
    return this.#initialLoad.get(trayId) ?? 0;
  }

  /** Builds the whole script starting at simulated time `startAt`; returns the time the last action ends. */
  generate(startAt: number): number {
    let t = startAt;
    let last = startAt;
    for (let made = 0; made < this.#o.events; ) {
      t += Math.max(50, this.#rng.exponential(this.#o.meanGapMs));
      const action = this.#shopperAction(t);
      if (!action) continue;
      made++;
      last = Math.max(last, action.endAt);
      const restock = this.#restockIfLow(action.trayId, action.endAt);
      if (restock) last = Math.max(last, restock.endAt);
    }
    return last;
  }

  /** Units of a SKU on the shelves (on any tray) after the script. */
  shelfUnits(sku: string): number {
    let units = 0;
    for (const bySku of this.stock.values()) units += bySku.get(sku) ?? 0;
    return units;
  }

  #shopperAction(t: number): ScriptedShelfAction | undefined {
    const { pick, putBack, misplace } = this.#o.mix;
    let roll = this.#rng.uniform(0, pick + putBack + misplace);
    const wanted: ScriptedActionKind = (roll -= pick) < 0 ? 'pick' : (roll -= putBack) < 0 ? 'put-back' : 'misplace';
    if (wanted !== 'pick' && this.#held.length > 0) {
      const held = this.#held.splice(this.#rng.int(0, this.#held.length - 1), 1)[0]!;
      const tray = wanted === 'put-back' ? held.fromTray : this.#wrongTray(held, t);
      if (tray && this.#idle(tray, t)) return this.#act(wanted, tray, held.sku, 1, t, held);
      this.#held.push(held);
      return undefined;
    }
    const trays = [...this.#facing.keys()].filter((id) => this.#idle(id, t) && this.#count(id, this.#facing.get(id)!.sku) > 0);
    if (trays.length === 0) return undefined;
    const trayId = trays[this.#rng.int(0, trays.length - 1)]!;
    const sku = this.#facing.get(trayId)!.sku;
    const most = Math.min(this.#o.maxUnitsPerPick, this.#count(trayId, sku));
    const units = most > 1 && this.#rng.chance(this.#o.multiUnitShare) ? this.#rng.int(2, most) : 1;
    return this.#act('pick', trayId, sku, units, t);
  }

  /** A tray whose own SKU differs from the held one (a wrong tray), idle at t. */
  #wrongTray(held: Held, t: number): string | undefined {
    const candidates = [...this.#facing.entries()].filter(([id, f]) => f.sku !== held.sku && this.#idle(id, t)).map(([id]) => id);
    return candidates.length ? candidates[this.#rng.int(0, candidates.length - 1)] : undefined;
  }

  #restockIfLow(trayId: string, after: number): ScriptedShelfAction | undefined {
    const facing = this.#facing.get(trayId)!;
    const units = this.#count(trayId, facing.sku);
    if (units > facing.capacity * this.#o.restockBelowShare) return undefined;
    const start = Math.max(after, this.#busyUntil.get(trayId) ?? 0) + this.#rng.uniform(5_000, 20_000);
    const action = this.#act('restock', trayId, facing.sku, facing.capacity - units, start, undefined, this.#o.restockHandleMs);
    return action;
  }

  #act(kind: ScriptedActionKind, trayId: string, sku: string, units: number, t: number, held?: Held, handle = this.#o.handleMs): ScriptedShelfAction {
    const onTray = this.#units.get(trayId)!;
    let moved: Unit[];
    if (kind === 'pick') {
      moved = [];
      for (let i = 0; i < units; i++) {
        const own = onTray.flatMap((u, index) => (u.sku === sku ? [index] : []));
        moved.push(...onTray.splice(own[this.#rng.int(0, own.length - 1)]!, 1));
      }
      for (const unit of moved) this.#held.push({ ...unit, fromTray: trayId });
    } else {
      moved = held ? [held] : Array.from({ length: units }, () => this.#drawUnit(sku));
      onTray.push(...moved.map((u) => ({ sku: u.sku, grams: u.grams })));
    }
    const grams = moved.reduce((sum, u) => sum + u.grams, 0);
    const fromTray = held?.fromTray;
    const sign = kind === 'pick' ? -1 : 1;
    const durationMs = this.#rng.uniform(handle[0], handle[1]);
    const action: ScriptedShelfAction = {
      n: this.actions.length + 1,
      kind,
      trayId,
      sku,
      units,
      deltaG: sign * grams,
      startAt: t,
      endAt: t + durationMs,
      ...(fromTray === undefined ? {} : { fromTray }),
    };
    this.actions.push(action);
    const bySku = this.stock.get(trayId)!;
    bySku.set(sku, (bySku.get(sku) ?? 0) + sign * units);
    if (kind === 'pick') this.carried.set(sku, (this.carried.get(sku) ?? 0) + units);
    if (kind === 'put-back' || kind === 'misplace') this.carried.set(sku, (this.carried.get(sku) ?? 0) - units);
    const quietUntil = action.endAt + this.#o.trayQuietMs;
    for (const id of [trayId, ...(this.#neighbours.get(trayId) ?? [])]) {
      this.#busyUntil.set(id, Math.max(this.#busyUntil.get(id) ?? 0, quietUntil));
    }
    return action;
  }

  #idle(trayId: string, t: number): boolean {
    return (this.#busyUntil.get(trayId) ?? 0) <= t;
  }

  #count(trayId: string, sku: string): number {
    return this.stock.get(trayId)?.get(sku) ?? 0;
  }

  #drawUnit(sku: string): Unit {
    const weight = this.#unitWeight.get(sku)!;
    return { sku, grams: Math.max(1, this.#rng.normal(weight.mean, weight.sigma)) };
  }
}
