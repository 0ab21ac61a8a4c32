import { trayPlacements, type WeightPayload } from '@storeedge/device-drivers';
import { Rng } from '../random.ts';
import { ShelfLoadModel, loadCellNoiseOptions } from '../signal/load-cell-model.ts';
import type { ScenarioFile } from './scenario-file.ts';
import { evaluateInventory, evaluateShelfEvents, type InventoryReport, type ReportedShelfChange, type ShelfEventsReport } from './shelf-evaluation.ts';
import { ShelfScript } from './shelf-script.ts';

/** Where the simulated shelf controllers send their samples (MQTT clients in `storeedge sim`). */
export interface WeightSink {
  publish(deviceId: string, payload: WeightPayload): Promise<void>;
}

/**
 * What store staff tell the agent through its API before they act (a restock is announced, as
 * a delivery would be); the simulator calls it when the action starts in simulated time.
 */
export interface StaffActions {
  restock(trayId: string, sku: string, units: number): Promise<void>;
}

/** What the agent believed at the end, read from its public API by the caller. */
export interface AgentShelfOutcome {
  changes: readonly ReportedShelfChange[];
  /** Believed units per SKU on the shelves. */
  stockBySku: ReadonlyMap<string, number>;
  /** Units the agent holds as misplaced (lying on a tray that has no facing of their SKU). */
  misplacedUnits: number;
}

export interface ShelfRunSummary {
  /** Simulated time covered, and samples sent (one message per controller per sample). */
  simulatedMs: number;
  messages: number;
  actions: { picks: number; putBacks: number; misplacements: number; restocks: number; multiUnitPicks: number };
}

/**
 * Runs the shelf part of a scenario: generates the ground-truth script, drives the load-cell
 * model through it in simulated time and sends every controller's samples to the sink. The
 * ground truth stays inside this object; `evaluate` compares it with what the agent reported,
 * after the run.
 */
export class ShelfScenarioRun {
  readonly #scenario: ScenarioFile;
  readonly #script: ShelfScript;
  readonly #model: ShelfLoadModel;
  readonly #devices: Map<string, Array<{ trayId: string; channel: number }>>;
  readonly #sampleMs: number;
  readonly #epochMs: number;
  #end = 0;

  constructor(scenario: ScenarioFile, options: { epochMs: number }) {
    if (!scenario.shelfActivity) throw new Error('scenario has no shelfActivity section');
    this.#scenario = scenario;
    this.#epochMs = options.epochMs;
    const rng = new Rng(scenario.seed);
    const noise = loadCellNoiseOptions.parse(scenario.shelves.loadCells);
    this.#sampleMs = 1_000 / noise.sampleRateHz;
    const placements = trayPlacements(scenario.store);
    this.#script = new ShelfScript(scenario.store, scenario.shelfActivity, rng.fork('shelf-activity'));
    this.#model = new ShelfLoadModel({
      trays: placements.map((p) => ({
        id: p.tray.id,
        tareG: scenario.shelves.tareG,
        loadG: this.#script.initialLoadG(p.tray.id),
        neighbours: p.neighbours,
        // A controller's cells share a shelf, and so its vibration.
        burstGroup: p.tray.device,
      })),
      noise,
      random: rng.fork('load-cells'),
    });
    this.#devices = new Map();
    for (const p of placements) {
      const list = this.#devices.get(p.tray.device) ?? [];
      list.push({ trayId: p.tray.id, channel: p.tray.channel });
      this.#devices.set(p.tray.device, list);
    }
  }

  /** The shelf controllers' device ids (the caller registers them with the agent). */
  get deviceIds(): string[] {
    return [...this.#devices.keys()];
  }

  /**
   * Sends every sample of the scenario to the sink: controllers in parallel, samples in order,
   * with up to `window` samples in flight (each controller's messages stay in order).
   */
  async run(sink: WeightSink, options: { staff?: StaffActions; settleTailMs?: number; window?: number } = {}): Promise<ShelfRunSummary> {
    const window = options.window ?? 32;
    const inFlight: Promise<unknown>[] = [];
    const warmupMs = 3_000;
    this.#end = this.#script.generate(warmupMs) + (options.settleTailMs ?? 5_000);
    const actions = [...this.#script.actions].sort((a, b) => a.startAt - b.startAt);
    let next = 0;
    let messages = 0;
    let seq = 0;
    for (let t = 0; t <= this.#end; t += this.#sampleMs) {
      while (next < actions.length && actions[next]!.startAt <= t) {
        const a = actions[next++]!;
        if (a.kind === 'restock') await options.staff?.restock(a.trayId, a.sku, a.units);
        this.#model.handle(a.trayId, { startAt: a.startAt, durationMs: a.endAt - a.startAt, deltaG: a.deltaG });
      }
      const reading = this.#model.sample(t);
      const at = Math.round(this.#epochMs + t);
      const sends: Promise<void>[] = [];
      for (const [deviceId, trays] of this.#devices) {
        const channels = trays.map(({ trayId, channel }) => ({ ch: channel, grams: Math.round(reading[trayId]! * 100) / 100 }));
        sends.push(sink.publish(deviceId, { at, seq, channels }));
      }
      seq++;
      messages += sends.length;
      inFlight.push(Promise.all(sends));
      if (inFlight.length >= window) await inFlight.shift();
    }
    await Promise.all(inFlight);
    const count = (kind: string) => actions.filter((a) => a.kind === kind).length;
    return {
      simulatedMs: this.#end,
      messages,
      actions: {
        picks: count('pick'),
        putBacks: count('put-back'),
        misplacements: count('misplace'),
        restocks: count('restock'),
        multiUnitPicks: actions.filter((a) => a.kind === 'pick' && a.units > 1).length,
      },
    };
  }

  /** Compares what the agent reported with the ground truth (times in the agent's device-time frame). */
  evaluate(outcome: AgentShelfOutcome): { shelfEvents: ShelfEventsReport; inventory: InventoryReport } {
    const shifted = this.#script.actions.map((a) => ({ ...a, startAt: a.startAt + this.#epochMs, endAt: a.endAt + this.#epochMs }));
    const shelfEvents = evaluateShelfEvents(shifted, outcome.changes);
    const trueStock = new Map(this.#scenario.store.catalog.map((c) => [c.sku, this.#script.shelfUnits(c.sku)]));
    const misplacedTrue = this.#script.actions.filter((a) => a.kind === 'misplace').length;
    const inventory = evaluateInventory(trueStock, outcome.stockBySku, outcome.misplacedUnits, misplacedTrue);
    return { shelfEvents, inventory };
  }
}
