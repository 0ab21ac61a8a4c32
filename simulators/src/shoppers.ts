import type { Clock, TimerHandle } from './clock.ts';
import { logSimulatorError, SimulatorError, simulatorErrors } from './errors.ts';
import type { GateSimulator } from './gate.ts';
import type { Rng } from './random.ts';
import type { LoadCellShelfSimulator } from './shelf.ts';

/** One tray a shopper can take from: a shelf channel holding one SKU. */
export interface ShopperTray {
  shelf: LoadCellShelfSimulator;
  ch: number;
  sku: string;
  unitGrams: number;
  /** Units on the tray at start; must match the shelf's load on that channel. */
  units: number;
  /** Units after a restock. */
  capacity: number;
}

export interface ShopperSimulationOptions {
  trays: readonly ShopperTray[];
  gate: GateSimulator;
  rng: Rng;
  clock: Clock;
  /** Mean arrivals per minute of a Poisson process. Default 2. */
  arrivalRatePerMin?: number;
  /** No arrivals after this many. Default: no limit. */
  maxVisits?: number;
  /** Trays visited per shopper, inclusive. Default 1-4. */
  traysPerVisit?: { min: number; max: number };
  /** Units picked at a tray, inclusive. Default 1-2. */
  unitsPerPick?: { min: number; max: number };
  /** Chance, per pick, that the shopper puts one unit back after holding it. Default 0.1. */
  putBackChance?: number;
  /** Chance that a token admits a group (2-3 people, one cart). Default 0.1. */
  groupChance?: number;
  /** Walking time between the gate and a tray or between trays. Default 5-20 s. */
  walkMs?: { min: number; max: number };
  /** How long a shopper holds an item before putting it back. Default 2-8 s. */
  holdMs?: { min: number; max: number };
  /** A tray at or below this many units is restocked. Default 2. */
  restockBelowUnits?: number;
  /** Time from running low to the restock. Default 2 min. */
  restockDelayMs?: number;
  /** Where failures of simulation steps go. Default: one JSON line on stderr. */
  onError?: (error: SimulatorError) => void;
  /**
   * Staff announce a restock before they stock the tray (as a delivery note would), e.g. through
   * the agent's `POST /api/stock/restock`. Awaited; a failure is reported and the restock still happens.
   */
  onRestock?: (restock: { deviceId: string; ch: number; sku: string; units: number }) => Promise<void> | void;
}

export type ShelfActionKind = 'pick' | 'putback' | 'restock';

/** One change the simulation made to a tray: what the shelf's weight should show. */
export interface ShelfAction {
  at: number;
  kind: ShelfActionKind;
  /** The shopper's token; absent for staff restocks. */
  token?: string;
  deviceId: string;
  ch: number;
  sku: string;
  units: number;
  /** Signed change of the tray's load: negative for a pick. */
  deltaGrams: number;
}

export interface VisitTruth {
  token: string;
  party: number;
  enteredAt: number;
  /** Null while the shopper is still in the store. */
  exitedAt: number | null;
  /** Net units per SKU the shopper walked out with (or holds now). */
  basket: Record<string, number>;
}

export interface GroundTruth {
  visits: VisitTruth[];
  actions: ShelfAction[];
}

export interface ShopperStats {
  arrivals: number;
  exits: number;
  inStore: number;
  picks: number;
  putbacks: number;
  restocks: number;
  /** Tray visits that found the tray empty. */
  emptyTrays: number;
}

interface TrayState {
  readonly tray: ShopperTray;
  units: number;
  restockPending: boolean;
}

interface Shopper {
  readonly visit: VisitTruth;
  readonly plan: TrayState[];
  next: number;
}

type Range = { min: number; max: number };

/**
 * Shoppers walking through the demo store: they arrive (Poisson), scan in with a fresh
 * pseudonymous token, take 1-2 units from a few trays (now and then putting one back), and scan
 * out. The simulation keeps the ground truth of who took what to itself; the system under test
 * sees only the devices, and groundTruth() is for comparing afterwards.
 */
export class ShopperSimulation {
  readonly #trays: TrayState[];
  readonly #gate: GateSimulator;
  readonly #clock: Clock;
  readonly #arrivalRng: Rng;
  readonly #behaviourRng: Rng;
  readonly #tokenRng: Rng;
  readonly #meanGapMs: number;
  readonly #maxVisits: number;
  readonly #traysPerVisit: Range;
  readonly #unitsPerPick: Range;
  readonly #putBackChance: number;
  readonly #groupChance: number;
  readonly #walkMs: Range;
  readonly #holdMs: Range;
  readonly #restockBelowUnits: number;
  readonly #restockDelayMs: number;
  readonly #onError: (error: SimulatorError) => void;
  readonly #onRestock: ShopperSimulationOptions['onRestock'];

  readonly #visits: VisitTruth[] = [];
  readonly #actions: ShelfAction[] = [];
  readonly #timers = new Set<TimerHandle>();
  readonly #stats: Omit<ShopperStats, 'inStore'> = { arrivals: 0, exits: 0, picks: 0, putbacks: 0, restocks: 0, emptyTrays: 0 };
  #running = false;

  constructor(options: ShopperSimulationOptions) {
    const invalid = (message: string) => simulatorErrors.SIM_ERR_CONFIG_INVALID(`shopper simulation: ${message}`);
    if (options.trays.length === 0) throw invalid('no trays');
    for (const tray of options.trays) {
      if (!(tray.unitGrams > 0)) throw invalid(`${tray.shelf.deviceId} ch ${tray.ch}: unitGrams must be > 0`);
      if (!Number.isInteger(tray.units) || !Number.isInteger(tray.capacity) || tray.units < 0 || tray.capacity < tray.units) {
        throw invalid(`${tray.shelf.deviceId} ch ${tray.ch}: needs integers 0 <= units <= capacity`);
      }
      tray.shelf.loadGrams(tray.ch); // throws SIM_ERR_ARGUMENT_INVALID for a channel the shelf lacks
    }
    const rate = options.arrivalRatePerMin ?? 2;
    if (!(rate > 0)) throw invalid('arrivalRatePerMin must be > 0');
    this.#trays = options.trays.map((tray) => ({ tray, units: tray.units, restockPending: false }));
    this.#gate = options.gate;
    this.#clock = options.clock;
    this.#arrivalRng = options.rng.fork('arrivals');
    this.#behaviourRng = options.rng.fork('behaviour');
    this.#tokenRng = options.rng.fork('tokens');
    this.#meanGapMs = 60_000 / rate;
    this.#maxVisits = options.maxVisits ?? Number.POSITIVE_INFINITY;
    this.#traysPerVisit = checkRange(options.traysPerVisit ?? { min: 1, max: 4 }, 'traysPerVisit', invalid, true);
    this.#unitsPerPick = checkRange(options.unitsPerPick ?? { min: 1, max: 2 }, 'unitsPerPick', invalid, true);
    this.#walkMs = checkRange(options.walkMs ?? { min: 5_000, max: 20_000 }, 'walkMs', invalid);
    this.#holdMs = checkRange(options.holdMs ?? { min: 2_000, max: 8_000 }, 'holdMs', invalid);
    this.#putBackChance = options.putBackChance ?? 0.1;
    this.#groupChance = options.groupChance ?? 0.1;
    this.#restockBelowUnits = options.restockBelowUnits ?? 2;
    this.#restockDelayMs = options.restockDelayMs ?? 120_000;
    this.#onError = options.onError ?? logSimulatorError;
    this.#onRestock = options.onRestock;
  }

  /** Starts arrivals. The devices must be started already (or their publishes fail and are reported). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#scheduleArrival();
  }

  /** Stops arrivals and every shopper in mid-visit (they stay "in store" in the ground truth). */
  stop(): void {
    this.#running = false;
    for (const handle of this.#timers) this.#clock.clearTimeout(handle);
    this.#timers.clear();
  }

  stats(): ShopperStats {
    return { ...this.#stats, inStore: this.#stats.arrivals - this.#stats.exits };
  }

  /** Units on each tray as the simulation knows them, keyed `deviceId/ch`. */
  stock(): Record<string, number> {
    return Object.fromEntries(this.#trays.map((t) => [`${t.tray.shelf.deviceId}/${t.tray.ch}`, t.units]));
  }

  /** Who took what, and every tray change: a deep copy, for comparing with what the system saw. */
  groundTruth(): GroundTruth {
    return structuredClone({ visits: this.#visits, actions: this.#actions });
  }

  #scheduleArrival(): void {
    if (this.#stats.arrivals >= this.#maxVisits) return;
    const gap = Math.max(1, Math.round(this.#arrivalRng.exponential(this.#meanGapMs)));
    this.#after(gap, 'arrival', () => {
      this.#arrive();
      this.#scheduleArrival();
    });
  }

  #arrive(): void {
    const rng = this.#behaviourRng;
    this.#stats.arrivals++;
    const party = rng.chance(this.#groupChance) ? rng.int(2, 3) : 1;
    // 22 base64url characters: 132 random bits, fresh per visit, so it names nobody.
    const visit: VisitTruth = { token: this.#tokenRng.token(22), party, enteredAt: this.#clock.now(), exitedAt: null, basket: {} };
    this.#visits.push(visit);
    void this.#gate.scan('entry', visit.token, party);
    const most = Math.min(this.#traysPerVisit.max, this.#trays.length);
    const count = rng.int(Math.min(this.#traysPerVisit.min, most), most);
    const shopper: Shopper = { visit, plan: rng.sample(this.#trays, count), next: 0 };
    this.#after(this.#walk(), 'walk to tray', () => this.#atTray(shopper));
  }

  #atTray(shopper: Shopper): void {
    const state = shopper.plan[shopper.next++];
    if (state === undefined) {
      this.#leave(shopper);
      return;
    }
    const rng = this.#behaviourRng;
    const units = Math.min(rng.int(this.#unitsPerPick.min, this.#unitsPerPick.max), state.units);
    if (units === 0) {
      this.#stats.emptyTrays++;
      this.#after(this.#walk(), 'walk to tray', () => this.#atTray(shopper));
      return;
    }
    this.#change(state, 'pick', -units, shopper.visit);
    if (rng.chance(this.#putBackChance)) {
      const hold = this.#range(this.#holdMs);
      this.#after(hold, 'put back', () => {
        this.#change(state, 'putback', 1, shopper.visit);
        this.#after(this.#walk(), 'walk to tray', () => this.#atTray(shopper));
      });
      return;
    }
    this.#after(this.#walk(), 'walk to tray', () => this.#atTray(shopper));
  }

  #leave(shopper: Shopper): void {
    shopper.visit.exitedAt = this.#clock.now();
    this.#stats.exits++;
    void this.#gate.scan('exit', shopper.visit.token, shopper.visit.party);
  }

  /** Moves units on or off a tray: the shelf's true load, the stock and the ground truth together. */
  #change(state: TrayState, kind: ShelfActionKind, units: number, visit?: VisitTruth): void {
    const { tray } = state;
    const deltaGrams = units * tray.unitGrams;
    if (deltaGrams < 0) tray.shelf.removeItems(tray.ch, -deltaGrams);
    else tray.shelf.addItems(tray.ch, deltaGrams);
    state.units += units;
    const action: ShelfAction = {
      at: this.#clock.now(),
      kind,
      deviceId: tray.shelf.deviceId,
      ch: tray.ch,
      sku: tray.sku,
      units: Math.abs(units),
      deltaGrams,
    };
    if (visit !== undefined) {
      action.token = visit.token;
      const held = (visit.basket[tray.sku] ?? 0) - units;
      if (held === 0) delete visit.basket[tray.sku];
      else visit.basket[tray.sku] = held;
    }
    this.#actions.push(action);
    if (kind === 'pick') this.#stats.picks++;
    else if (kind === 'putback') this.#stats.putbacks++;
    else this.#stats.restocks++;
    if (kind === 'pick') this.#restockIfLow(state);
  }

  #restockIfLow(state: TrayState): void {
    if (state.restockPending || state.units > this.#restockBelowUnits) return;
    state.restockPending = true;
    this.#after(this.#restockDelayMs, 'restock', () => {
      state.restockPending = false;
      const missing = state.tray.capacity - state.units;
      if (missing <= 0) return;
      const { shelf, ch, sku } = state.tray;
      const restock = () => {
        if (this.#running) this.#change(state, 'restock', missing);
      };
      if (!this.#onRestock) return restock();
      Promise.resolve()
        .then(() => this.#onRestock!({ deviceId: shelf.deviceId, ch, sku, units: missing }))
        .catch((error: unknown) => this.#report('restock announcement', error))
        .finally(restock);
    });
  }

  /** A one-shot step on the clock; a step that throws is reported and ends only itself. */
  #after(ms: number, label: string, step: () => void): void {
    const handle = this.#clock.setTimeout(() => {
      this.#timers.delete(handle);
      if (!this.#running) return;
      try {
        step();
      } catch (error) {
        this.#report(label, error);
      }
    }, ms);
    this.#timers.add(handle);
  }

  #report(label: string, error: unknown): void {
    const cause = error instanceof Error ? error.message : String(error);
    try {
      this.#onError(simulatorErrors.SIM_ERR_TASK_FAILED(`shopper simulation: ${label} failed: ${cause}`, { cause: error }));
    } catch {
      // The error path must never throw into a timer.
    }
  }

  #walk(): number {
    return this.#range(this.#walkMs);
  }

  #range({ min, max }: Range): number {
    return Math.round(this.#behaviourRng.uniform(min, max));
  }
}

function checkRange(range: Range, name: string, invalid: (message: string) => SimulatorError, integers = false): Range {
  if (!(range.min >= 0) || !(range.max >= range.min)) throw invalid(`${name} needs 0 <= min <= max`);
  if (integers && (!Number.isInteger(range.min) || !Number.isInteger(range.max))) throw invalid(`${name} needs integers`);
  return range;
}
