import { encodeCameraFrame, trayPlacements, type CameraCalibration, type GateScanPayload, type TracksPayload, type WeightPayload } from '@storeedge/device-drivers';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';
import type { ScenarioFile } from '../scenario/scenario-file.ts';
import type { StaffActions } from '../scenario/shelf-run.ts';
import { loadCellNoiseOptions, ShelfLoadModel } from '../signal/load-cell-model.ts';
import type { CameraFrame } from '../vision/render.ts';
import { CheckoutCameras, RENDER_AHEAD } from './cameras.ts';
import type { CheckoutActivity } from './checkout-options.ts';
import { CheckoutScript } from './checkout-script.ts';
import { evaluateCheckout, type CheckoutOutcome, type CheckoutReport } from './evaluation.ts';
import { evaluateTrackIdentity, type IdentityBook, type TrackIdentityReport } from './track-identity.ts';
import { TrackerModel } from './tracker-model.ts';

/** A review answer counts hands on the tray this long before the change started and after it settled. */
const REVIEW_SLACK_MS = 1_000;

export type CheckoutMessageType = 'weight' | 'scan' | 'tracks' | 'frame';

/**
 * Where the simulated devices send their messages (MQTT clients in `storeedge sim`): shelf
 * weights, gate scans and tracker frames as JSON payloads; camera frames ('frame') as the
 * binary wire format (`encodeCameraFrame`: header + JPEG), a Buffer.
 */
export interface CheckoutSink {
  publish(deviceId: string, type: CheckoutMessageType, payload: WeightPayload | GateScanPayload | TracksPayload | Buffer): Promise<void>;
}

/** The shelf cameras' part of a run. */
export interface CheckoutVisionSummary {
  enabled: boolean;
  cameras: number;
  /** Frames sent. */
  frames: number;
  /** Wall time the run waited for frames to render (RENDER_AHEAD render while the other messages go out), ms. */
  renderMs: number;
}

export interface CheckoutRunSummary {
  /** Simulated time covered. */
  simulatedMs: number;
  /** Messages sent by kind; `frame` (camera frames) only when the run has cameras. */
  messages: { weight: number; scan: number; tracks: number; frame?: number };
  vision: CheckoutVisionSummary;
  visits: number;
  persons: number;
  actions: { picks: number; putBacks: number; misplacements: number; restocks: number; handOffs: number; multiUnitPicks: number; longHolds: number };
}

/**
 * Runs the checkout part of a scenario: generates the ground truth (CheckoutScript), then
 * sends, in device-time order, every gate scan, every tracker frame and every shelf
 * controller's weight samples (the load-cell model driven by the true hand actions, long holds
 * as hand force). The truth stays inside this object: the agent sees only the messages, and
 * `evaluate` compares what the agent charged with the truth after the run.
 */
export class CheckoutScenarioRun {
  readonly #scenario: ScenarioFile;
  readonly #options: CheckoutActivity;
  readonly #script: CheckoutScript;
  readonly #epochMs: number;
  readonly #devices = new Map<string, Array<{ trayId: string; channel: number }>>();

  readonly #cameras: CheckoutCameras | undefined;

  #tracker: TrackerModel | undefined;
  /**
   * `vision: false` turns the scenario's cameras off (`storeedge sim --no-vision`); by default
   * they are on when the scenario's `vision.enabled` is.
   */
  constructor(scenario: ScenarioFile, options: { epochMs: number; vision?: boolean }) {
    if (!scenario.checkout) throw simulatorErrors.SIM_ERR_CONFIG_INVALID('scenario has no checkout section');
    this.#scenario = scenario;
    this.#options = scenario.checkout;
    this.#epochMs = options.epochMs;
    this.#script = new CheckoutScript(scenario.store, scenario.checkout, new Rng(scenario.seed).fork('checkout'));
    for (const p of trayPlacements(scenario.store)) {
      const list = this.#devices.get(p.tray.device) ?? [];
      list.push({ trayId: p.tray.id, channel: p.tray.channel });
      this.#devices.set(p.tray.device, list);
    }
    if (scenario.vision?.enabled && options.vision !== false) this.#cameras = new CheckoutCameras(scenario.store, scenario.seed, scenario.vision, this.#script);
  }

  /** Whether this run renders and sends camera frames. */
  get visionEnabled(): boolean {
    return this.#cameras !== undefined;
  }

  /** The shelf cameras' device ids (kind 'camera'; empty without vision). */
  get cameraDeviceIds(): string[] {
    return this.#cameras?.deviceIds ?? [];
  }

  /** The cameras' calibrations, as installed (the agent must use the same; empty without vision). */
  get cameraCalibrations(): CameraCalibration[] {
    return this.#cameras?.calibrations ?? [];
  }

  /** The shelf controllers' device ids (the caller registers them with the agent). */
  get shelfDeviceIds(): string[] {
    return [...this.#devices.keys()];
  }

  /** The gates' device ids (entry and exit). */
  get gateDeviceIds(): string[] {
    return [...new Set(this.#scenario.store.gates.map((g) => g.device))];
  }

  get trackerDeviceIds(): string[] {
    return [this.#options.tracker.deviceId];
  }

  /** What the gate scans tell anyone: visits, persons admitted, visits that were groups. */
  visitsSummary(): { visits: number; persons: number; groupVisits: number } {
    return this.#script.counts();
  }

  /**
   * Sends every message of the scenario to the sink in device-time order (`at` = epoch +
   * simulated ms), with up to `window` messages in flight; each device's messages stay in order.
   * Staff restocks are announced through `staff` when they start. After the last person has
   * left, the shelves keep sampling for `settleTailMs`. `onTime` is told the device time (ms
   * from the start) as it advances, at most once per simulated second, before the messages of
   * that instant go out; the run waits for it (e.g. `storeedge sim` stops the HQ broker there).
   */
  async run(
    sink: CheckoutSink,
    options: { staff?: StaffActions; settleTailMs?: number; window?: number; onTime?: (simMs: number) => Promise<void> | void } = {},
  ): Promise<CheckoutRunSummary> {
    const window = options.window ?? 32;
    const end = Math.ceil(this.#script.end + (options.settleTailMs ?? 5_000));
    const root = new Rng(this.#scenario.seed);
    const noise = loadCellNoiseOptions.parse(this.#scenario.shelves.loadCells);
    const model = new ShelfLoadModel({
      trays: trayPlacements(this.#scenario.store).map((p) => ({
        id: p.tray.id,
        tareG: this.#scenario.shelves.tareG,
        loadG: this.#script.initialLoadG(p.tray.id),
        neighbours: p.neighbours,
        // A controller's cells share a shelf, and so its vibration.
        burstGroup: p.tray.device,
      })),
      noise,
      random: root.fork('load-cells'),
    });
    const tracker = this.#newTracker();
    this.#tracker = tracker;
    const trackerId = this.#options.tracker.deviceId;
    const sampleMs = 1_000 / noise.sampleRateHz;
    const frameMs = 1_000 / this.#options.tracker.fps;
    const actions = this.#script.loadCellActions();
    const scans = this.#script.scans;
    const messages = { weight: 0, scan: 0, tracks: 0 };
    let framesSent = 0;
    const inFlight: Promise<unknown>[] = [];
    const send = async (p: Promise<unknown>) => {
      inFlight.push(p);
      if (inFlight.length >= window) await inFlight.shift();
    };
    // Camera frames: scheduled up front (motion-triggered), rendered RENDER_AHEAD ahead of sending, sent in time order.
    const cameras = this.#cameras;
    const shots = cameras?.schedule(end) ?? [];
    const renders: Array<Promise<CameraFrame>> = [];
    let rendered = 0;
    let renderMs = 0;
    const renderAhead = (from: number) => {
      while (cameras !== undefined && rendered < shots.length && rendered < from + RENDER_AHEAD) {
        const p = cameras.render(shots[rendered]!, this.#at(shots[rendered]!.t));
        // Awaited in order below; this keeps a failure ahead of its turn from being reported as unhandled.
        p.catch(() => {});
        renders.push(p);
        rendered++;
      }
    };
    let sample = 0;
    let frame = 0;
    let scan = 0;
    let shot = 0;
    let nextAction = 0;
    let nextTimeMs = 0;
    for (;;) {
      const tw = sample * sampleMs;
      const tf = frame * frameMs;
      const ts = scans[scan]?.at ?? Infinity;
      const tc = shots[shot]?.t ?? Infinity;
      if (tw > end && tf > end && ts === Infinity && tc === Infinity) break;
      const now = Math.min(tw, tf, ts, tc);
      if (options.onTime !== undefined && now >= nextTimeMs) {
        await options.onTime(now);
        nextTimeMs = (Math.floor(now / 1_000) + 1) * 1_000;
      }
      // Actions (and the staff's restock announcements) go in before any message stamped at or after their start.
      while (nextAction < actions.length && actions[nextAction]!.action.startAt <= Math.min(tw, tf, ts, tc)) {
        const a = actions[nextAction++]!;
        if (a.restock) await options.staff?.restock(a.trayId, a.restock.sku, a.restock.units);
        model.handle(a.trayId, a.action);
      }
      if (tc < tw && tc < tf && tc < ts) {
        // A camera frame goes after the other devices' messages of the same instant.
        renderAhead(shot);
        const waitFrom = performance.now();
        const { cameraId, timestampMs, jpeg } = await renders.shift()!;
        renderMs += performance.now() - waitFrom;
        shot++;
        renderAhead(shot);
        framesSent++;
        // A frame goes alone: everything before it is delivered first, and nothing after it is sent until it is
        // (in `storeedge sim`: until the agent has validated it), so what the agent holds at a device time does not
        // depend on the machine's speed.
        await Promise.all(inFlight.splice(0));
        await sink.publish(cameraId, 'frame', encodeCameraFrame(timestampMs, jpeg));
      } else if (ts <= tw && ts <= tf) {
        const s = scans[scan++]!;
        messages.scan++;
        await send(sink.publish(s.deviceId, 'scan', { at: this.#at(s.at), lane: s.lane, token: s.token, party: s.party }));
      } else if (tw <= tf) {
        const reading = model.sample(tw);
        const at = this.#at(tw);
        const sends: Promise<void>[] = [];
        for (const [deviceId, trays] of this.#devices) {
          const channels = trays.map(({ trayId, channel }) => ({ ch: channel, grams: Math.round(reading[trayId]! * 100) / 100 }));
          sends.push(sink.publish(deviceId, 'weight', { at, seq: sample, channels }));
        }
        messages.weight += sends.length;
        sample++;
        await send(Promise.all(sends));
      } else {
        const { tracks } = tracker.frame(tf);
        frame++;
        messages.tracks++;
        await send(sink.publish(trackerId, 'tracks', { at: this.#at(tf), tracks }));
      }
    }
    await Promise.all(inFlight);
    const truth = this.#script.truth();
    const count = (kind: string) => truth.actions.filter((a) => a.kind === kind).length;
    const visits = this.#script.counts();
    return {
      simulatedMs: end,
      messages: cameras === undefined ? messages : { ...messages, frame: framesSent },
      vision: { enabled: cameras !== undefined, cameras: cameras?.deviceIds.length ?? 0, frames: framesSent, renderMs: Math.round(renderMs) },
      visits: visits.visits,
      persons: visits.persons,
      actions: {
        picks: count('pick'),
        putBacks: count('put-back'),
        misplacements: count('misplace'),
        restocks: this.#script.restocks.length,
        handOffs: truth.handOffs.length,
        multiUnitPicks: truth.actions.filter((a) => a.kind === 'pick' && a.units > 1).length,
        longHolds: truth.actions.filter((a) => a.cases.includes('long-hold')).length,
      },
    };
  }

  /**
   * The store manager reviewing a weight change with the video: which visits' carts really
   * changed by what at this tray between `startAt` and `settledAt` (device ms; hands on the tray
   * up to REVIEW_SLACK_MS either side count). Quantities are signed cart changes: + for a pick,
   * − for a put-back or a unit put on this tray by mistake. Only for resolving review items;
   * nothing else of the truth leaves this object before `evaluate`.
   */
  /** The overhead tracker over the scenario's persons (the same frames on every call). */
  #newTracker(): TrackerModel {
    return new TrackerModel(this.#script.persons, this.#options.tracker, new Rng(this.#scenario.seed).fork('checkout').fork('tracker'));
  }

  /**
   * The tracker's part alone against a person book (`storeedge sim --tracks-only`): its frames
   * and the entry scans go to `book` in device-time order, no agent and no MQTT; the truth stays
   * here and scores the book's persons after the fact.
   */
  evaluateTrackIdentity(book: IdentityBook): TrackIdentityReport {
    const truth = this.#script.truth();
    return evaluateTrackIdentity(
      { tracker: this.#newTracker(), frameMs: 1_000 / this.#options.tracker.fps, endMs: this.#script.end, epochMs: this.#epochMs, scans: this.#script.scans, visits: truth.visits, actions: truth.actions },
      book,
    );
  }

  /** The simulated tracker's own counts (dropouts, encounters, swaps): what the noise did, not what happened in the store. */
  trackerStats(): TrackerModel['stats'] | null {
    return this.#tracker?.stats ?? null;
  }

  reviewAnswer(trayId: string, startAt: number, settledAt: number): Array<{ token: string; sku: string; quantity: number }> {
    const from = startAt - this.#epochMs - REVIEW_SLACK_MS;
    const to = settledAt - this.#epochMs + REVIEW_SLACK_MS;
    const byKey = new Map<string, { token: string; sku: string; quantity: number }>();
    for (const a of this.#script.truth().actions) {
      if (a.trayId !== trayId || a.endAt < from || a.startAt > to) continue;
      const key = `${a.chargedTo}\u0000${a.sku}`;
      const line = byKey.get(key) ?? { token: a.chargedTo, sku: a.sku, quantity: 0 };
      line.quantity += a.kind === 'pick' ? a.units : -a.units;
      byKey.set(key, line);
    }
    return [...byKey.values()].filter((l) => l.quantity !== 0);
  }

  /** Compares what the agent charged with the ground truth (the outcome's times are device time). */
  evaluate(outcome: CheckoutOutcome): CheckoutReport {
    return evaluateCheckout(this.#script.truth(), outcome, { epochMs: this.#epochMs, catalog: this.#scenario.store.catalog });
  }

  #at(t: number): number {
    return Math.round(this.#epochMs + t);
  }
}
