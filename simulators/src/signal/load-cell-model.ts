import { simulatorErrors } from '../errors.ts';
import type { Rng } from '../random.ts';
import { BurstSchedule, type Burst } from './burst-schedule.ts';
import { HandProfile, type Coupling, type HandAction } from './hand-action.ts';
import { loadCellNoiseOptions, type LoadCellNoise, type LoadCellNoiseOptions } from './noise-options.ts';

export { loadCellNoiseOptions, type LoadCellNoise, type LoadCellNoiseOptions } from './noise-options.ts';
export type { HandAction } from './hand-action.ts';

/** One tray's load cell as the model sees it. */
export interface ShelfLoadTray {
  id: string;
  /** Weight of the empty tray on the cell, grams. */
  tareG: number;
  /** Weight of the items on it at the start, grams. */
  loadG: number;
  /** Tray ids that share cross-talk with this one (left and right on the shelf; trayPlacements() gives them). */
  neighbours: string[];
  /** Trays of one group share vibration / EMI bursts (e.g. the shelf or its controller). Default: the tray alone. */
  burstGroup?: string;
}

export interface ShelfLoadModelOptions {
  trays: readonly ShelfLoadTray[];
  noise?: LoadCellNoiseOptions;
  /** Everything random draws from forks of this stream, so a seed replays exactly. */
  random: Rng;
}

/**
 * The ADC's output is (close to) a moving average of the input over its settling time: the
 * mean of the input one to four conversion times ago reproduces the HX711's four-conversion
 * step response — the first sample after a step moves a quarter of the way, the fourth is
 * settled [HX711 datasheet, "output settling time": 400 ms at 10 SPS, 50 ms at 80 SPS].
 */
const ADC_POINTS = 4;
/** Creep is first order with this time constant; creepFraction is what it reaches after it. */
const CREEP_TAU_MS = 30 * 60_000;
const CREEP_SCALE = 1 / (1 - Math.exp(-1));
const MS_PER_HOUR = 3_600_000;

interface TrayState {
  readonly id: string;
  readonly index: number;
  readonly tareG: number;
  /** Items' weight the cell carries when no action is in progress (actions fold in when done). */
  baseG: number;
  /** Items that belong to this tray (ground truth: the full Δ of its own actions). */
  trueLoadG: number;
  /** Zero offset (random walk) and creep, grams. */
  driftG: number;
  creepG: number;
  readonly neighbours: number[];
  readonly noiseRng: Rng;
  readonly bursts: BurstSchedule | undefined;
  readonly burstIndex: number;
  /** Actions on this tray or its neighbours that touch its reading, while they last. */
  readonly live: HandProfile[];
}

/**
 * The load cells of one or more shelf controllers, sample by sample in simulated time, with
 * the noise model of research/checkout.md §5.3: white noise and an electrical floor, zero
 * drift as a random walk, creep under load, Poisson vibration/EMI bursts per burst group,
 * cross-talk to neighbouring trays (transient while handled, plus a small permanent share),
 * the hand's force while it is on the tray (with wander and tremor) and ADC settling.
 *
 * Deterministic for a given seed and call sequence; nothing here reads a clock.
 */
export class ShelfLoadModel {
  readonly noise: LoadCellNoise;
  readonly #trays: TrayState[];
  readonly #byId = new Map<string, TrayState>();
  readonly #actionRng: Rng;
  /** Actions not started yet, by start time. */
  #future: HandProfile[] = [];
  readonly #groups: BurstSchedule[] = [];
  #lastT: number | undefined;
  readonly #noiseSigma: number;

  constructor(options: ShelfLoadModelOptions) {
    const parsed = loadCellNoiseOptions.safeParse(options.noise ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`load-cell noise: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    this.noise = parsed.data;
    this.#noiseSigma = Math.hypot(this.noise.noiseSigmaG, this.noise.electricalNoiseG);
    const random = options.random;
    this.#actionRng = random.fork('load-cell/actions');

    const ids = new Set<string>();
    for (const tray of options.trays) {
      if (ids.has(tray.id)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`load-cell model: tray "${tray.id}" is listed twice`);
      if (!(tray.tareG >= 0) || !(tray.loadG >= 0)) {
        throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`load-cell model: tray "${tray.id}": tareG and loadG must be >= 0`);
      }
      ids.add(tray.id);
    }
    const index = new Map(options.trays.map((t, i) => [t.id, i]));
    const groupMembers = new Map<string, string[]>();
    for (const tray of options.trays) {
      const group = tray.burstGroup ?? tray.id;
      groupMembers.set(group, [...(groupMembers.get(group) ?? []), tray.id]);
    }
    const groupSchedules = new Map<string, BurstSchedule>();
    if (this.noise.bursts !== null) {
      for (const [group, members] of groupMembers) {
        const schedule = new BurstSchedule(this.noise.bursts, members.length, this.noise.sampleRateHz, random.fork(`load-cell/bursts/${group}`));
        groupSchedules.set(group, schedule);
        this.#groups.push(schedule);
      }
    }
    this.#trays = options.trays.map((tray, i) => {
      const neighbours = tray.neighbours.map((n) => {
        const j = index.get(n);
        if (j === undefined) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`load-cell model: tray "${tray.id}" names unknown neighbour "${n}"`);
        return j;
      });
      const group = tray.burstGroup ?? tray.id;
      const state: TrayState = {
        id: tray.id,
        index: i,
        tareG: tray.tareG,
        baseG: tray.loadG,
        trueLoadG: tray.loadG,
        driftG: 0,
        // A cell that has carried its load for long has crept already.
        creepG: this.noise.creepFraction * CREEP_SCALE * (tray.tareG + tray.loadG),
        neighbours,
        noiseRng: random.fork(`load-cell/noise/${tray.id}`),
        bursts: groupSchedules.get(group),
        burstIndex: groupMembers.get(group)!.indexOf(tray.id),
        live: [],
      };
      this.#byId.set(tray.id, state);
      return state;
    });
  }

  /** Tray ids in the order they were given. */
  trayIds(): string[] {
    return this.#trays.map((t) => t.id);
  }

  /**
   * A hand action on a tray: the hand force while the hand is there and the load changing by
   * `deltaG` at one moment inside it. Actions may overlap (on one tray or several) and may be
   * scheduled ahead, but not before the last sampled time.
   */
  handle(trayId: string, action: HandAction): void {
    const tray = this.#tray(trayId);
    const bad = (message: string) => simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`load-cell model: handle(${trayId}): ${message}`);
    if (!Number.isFinite(action.startAt)) throw bad('startAt must be a finite time');
    if (this.#lastT !== undefined && action.startAt < this.#lastT) throw bad(`startAt ${action.startAt} is before the last sample (${this.#lastT})`);
    if (!(action.durationMs > 0) || !Number.isFinite(action.durationMs)) throw bad('durationMs must be positive');
    if (!Number.isFinite(action.deltaG)) throw bad('deltaG must be finite');
    if (action.touchG !== undefined && !(action.touchG >= 0)) throw bad('touchG must be >= 0');
    if (tray.trueLoadG + action.deltaG < -1e-9) throw bad(`cannot take ${-action.deltaG} g from a tray that will hold ${tray.trueLoadG} g`);
    const crossTalk = this.noise.crossTalk;
    const couplings: Coupling[] =
      crossTalk === null
        ? []
        : tray.neighbours.map((n) => ({
            trayIndex: n,
            transientShare: this.#actionRng.uniform(crossTalk.min, crossTalk.max),
            permanentShare: this.#actionRng.uniform(0, crossTalk.permanentMax),
          }));
    const profile = new HandProfile(tray.index, action, this.noise.touch, couplings, this.#actionRng);
    tray.trueLoadG += action.deltaG;
    // Keep #future sorted by start; actions usually arrive in time order.
    let i = this.#future.length;
    while (i > 0 && this.#future[i - 1]!.startAt > profile.startAt) i--;
    this.#future.splice(i, 0, profile);
  }

  /** Every tray's reading at simulated time t, grams (tare, drift and noise included). Call with non-decreasing t. */
  sample(t: number): Record<string, number> {
    if (!Number.isFinite(t)) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`load-cell model: sample(${t}): t must be finite`);
    const dt = this.#lastT === undefined ? 0 : t - this.#lastT;
    if (dt < 0) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`load-cell model: sample(${t}) is before the last sample (${this.#lastT})`);
    this.#lastT = t;
    this.#startDue(t);
    for (const group of this.#groups) group.advance(t);

    const { settleMs, driftGPerSqrtHour, creepFraction } = this.noise;
    const driftStep = driftGPerSqrtHour * Math.sqrt(dt / MS_PER_HOUR);
    const creepStep = 1 - Math.exp(-dt / CREEP_TAU_MS);
    const out: Record<string, number> = {};
    for (const tray of this.#trays) {
      for (const action of tray.live) if (action.trayIndex === tray.index) action.advance(t, this.#actionRng);
    }
    for (const tray of this.#trays) {
      // ADC settling: the output averages the input over the last settleMs.
      let analog = 0;
      if (settleMs > 0) {
        for (let k = 1; k <= ADC_POINTS; k++) analog += this.#analog(tray, t - (settleMs * k) / ADC_POINTS);
        analog /= ADC_POINTS;
      } else {
        analog = this.#analog(tray, t);
      }
      const steady = tray.tareG + this.#steadyLoad(tray, t);
      tray.creepG += (creepFraction * CREEP_SCALE * steady - tray.creepG) * creepStep;
      if (driftStep > 0) tray.driftG += tray.noiseRng.normal(0, driftStep);
      let tremor = 0;
      for (const action of tray.live) if (action.trayIndex === tray.index) tremor += action.tremorSigma(t) ** 2;
      const sigma = tremor > 0 ? Math.sqrt(this.#noiseSigma ** 2 + tremor) : this.#noiseSigma;
      const burst = tray.bursts === undefined ? 0 : tray.bursts.valueAt(t, tray.burstIndex);
      out[tray.id] = tray.tareG + analog + tray.creepG + tray.driftG + burst + (sigma > 0 ? tray.noiseRng.normal(0, sigma) : 0);
    }
    this.#retireDone(t);
    return out;
  }

  /** The items' weight that belongs to a tray after every action handled so far: ground truth for end-of-run comparisons. */
  trueLoad(trayId: string): number {
    return this.#tray(trayId).trueLoadG;
  }

  /** Every vibration/EMI burst started so far (ground truth for tests). */
  bursts(): Burst[] {
    return this.#groups.flatMap((g) => g.history).sort((a, b) => a.startAt - b.startAt);
  }

  /** Load, hand force and cross-talk the cell carries at t (before ADC, drift and noise). */
  #analog(tray: TrayState, t: number): number {
    let g = tray.baseG;
    for (const action of tray.live) {
      const p = action.progress(t);
      if (action.trayIndex === tray.index) {
        g += (1 - action.permanentTotal) * action.deltaG * p + action.touch(t);
      } else {
        const coupling = action.couplings.find((c) => c.trayIndex === tray.index)!;
        const e = action.envelope(t);
        g += coupling.permanentShare * action.deltaG * p;
        if (e > 0) g += coupling.transientShare * e * (action.touch(t) + action.deltaG * p);
      }
    }
    return g;
  }

  /** The items' weight on the cell at t without the hand (for creep). */
  #steadyLoad(tray: TrayState, t: number): number {
    let g = tray.baseG;
    for (const action of tray.live) {
      const p = action.progress(t);
      if (action.trayIndex === tray.index) g += (1 - action.permanentTotal) * action.deltaG * p;
      else g += action.couplings.find((c) => c.trayIndex === tray.index)!.permanentShare * action.deltaG * p;
    }
    return g;
  }

  #startDue(t: number): void {
    let n = 0;
    while (n < this.#future.length && this.#future[n]!.startAt <= t) n++;
    if (n === 0) return;
    for (const action of this.#future.splice(0, n)) {
      this.#trays[action.trayIndex]!.live.push(action);
      for (const c of action.couplings) this.#trays[c.trayIndex]!.live.push(action);
    }
  }

  /** Folds actions whose effect is complete (also through the ADC window) into the trays' base loads. */
  #retireDone(t: number): void {
    const horizon = t - this.noise.settleMs;
    for (const tray of this.#trays) {
      if (tray.live.length === 0) continue;
      const keep: HandProfile[] = [];
      for (const action of tray.live) {
        if (action.activeAt(horizon)) {
          keep.push(action);
          continue;
        }
        if (action.trayIndex === tray.index) tray.baseG += (1 - action.permanentTotal) * action.deltaG;
        else tray.baseG += action.couplings.find((c) => c.trayIndex === tray.index)!.permanentShare * action.deltaG;
      }
      if (keep.length !== tray.live.length) tray.live.splice(0, tray.live.length, ...keep);
    }
  }

  #tray(trayId: string): TrayState {
    const tray = this.#byId.get(trayId);
    if (tray === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`load-cell model: no tray "${trayId}"`);
    return tray;
  }
}
