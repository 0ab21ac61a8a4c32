import type { VisionEvidenceSource } from '../../src/checkout/vision-evidence.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeModel, trayPoints, type GateScanPayload, type StoreModel, type StoreModelInput, type TrayPoint, type TracksPayload } from '@storeedge/device-drivers';
import { CheckoutService } from '../../src/checkout/checkout-service.ts';
import { SimulatedPaymentService, type PaymentService } from '../../src/checkout/payment.ts';
import { checkoutSettingsSchema, type CheckoutSettings } from '../../src/checkout/settings.ts';
import type { Point3 } from '../../src/checkout/track-book.ts';
import type { ReceiptView } from '../../src/checkout/checkout-service.ts';
import { EventBus, type DeviceEvent, type ShelfChange } from '../../src/events.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';

/** 2025-01-15T10:00:00Z: device time of the first frame. */
export const T0 = 1_736_935_200_000;

/**
 * A small walk-out store: one placed gondola whose front edge runs along x from (2, 5), one bay
 * 1 m wide, one shelf at 1.1 m with three trays 0.333 m wide (cola, chips, water; 350 g, 160 g,
 * 500 g); shoppers stand at y < 5. The entry lane is at (0, 0), the exit lane at (6, 0), both
 * 1 m in radius.
 */
export const checkoutModelInput: StoreModelInput = {
  catalog: [
    { sku: 'cola', gtin: '04006381333931', name: 'Cola 330 ml', unitWeightG: 350, unitWeightSigmaG: 2, priceMinor: 129 },
    { sku: 'chips', gtin: '04006381333948', name: 'Chips 150 g', unitWeightG: 160, unitWeightSigmaG: 3, priceMinor: 199 },
    { sku: 'water', gtin: '04006381333955', name: 'Water 500 ml', unitWeightG: 500, unitWeightSigmaG: 3, priceMinor: 89 },
  ],
  zones: [{ id: 'z1' }],
  gondolas: [
    {
      id: 'g1',
      zone: 'z1',
      placement: { x: 2, y: 5, axis: 'x', side: -1, bayWidthM: 1 },
      bays: [
        {
          id: 'b1',
          shelves: [
            {
              id: 's1',
              heightM: 1.1,
              trays: [
                { id: 't1', device: 'shelf-1', channel: 0, facings: [{ sku: 'cola', capacity: 20, minLevel: 2, initial: 15 }] },
                { id: 't2', device: 'shelf-1', channel: 1, facings: [{ sku: 'chips', capacity: 20, minLevel: 2, initial: 15 }] },
                { id: 't3', device: 'shelf-1', channel: 2, facings: [{ sku: 'water', capacity: 20, minLevel: 2, initial: 15 }] },
              ],
            },
          ],
        },
      ],
    },
  ],
  gates: [
    { device: 'gate-in', lane: 'entry', x: 0, y: 0, radiusM: 1 },
    { device: 'gate-out', lane: 'exit', x: 6, y: 0, radiusM: 1 },
  ],
};

export const checkoutModel: StoreModel = storeModel.parse(checkoutModelInput);
export const trays: Map<string, TrayPoint> = trayPoints(checkoutModel);
export const gates = checkoutModel.gates;
export const ENTRY = { x: 0, y: 0 };
export const EXIT = { x: 6, y: 0 };

export function tray(id: string): TrayPoint {
  const t = trays.get(id);
  if (t === undefined) throw new Error(`no tray ${id}`);
  return t;
}

const unitWeight: Record<string, number> = { cola: 350, chips: 160, water: 500, lemon: 350, jar: 700, iced: 365, nuts: 150 };
const channelOf: Record<string, number> = { t1: 0, t2: 1, t3: 2 };

// ── device events ─────────────────────────────────────────────────────────────────────────

export function gateScan(deviceId: string, lane: 'entry' | 'exit', token: string, at: number, party = 1): DeviceEvent<GateScanPayload> {
  return { deviceId, kind: 'gate', deviceTime: at, receivedAt: at, payload: { at, lane, token, party } };
}

export interface TrackInput {
  id: string;
  x: number;
  y: number;
  hands?: Point3[];
  look?: number[];
}

export function tracksPayload(at: number, tracks: TrackInput[]): TracksPayload {
  return { at, tracks: tracks.map((t) => ({ id: t.id, x: t.x, y: t.y, ...(t.hands ? { hands: t.hands.map((h) => ({ ...h })) } : {}), ...(t.look ? { look: [...t.look] } : {}) })) };
}

export function tracksEvent(at: number, tracks: TrackInput[], deviceId = 'tracker-1'): DeviceEvent<TracksPayload> {
  return { deviceId, kind: 'tracker', deviceTime: at, receivedAt: at, payload: tracksPayload(at, tracks) };
}

/** A settled pick (units < 0) or put-back (units > 0) of the tray's own SKU. */
export function skuChange(id: string, trayId: string, sku: string, units: number, window: { startAt: number; settledAt: number }, confidence = 0.97): ShelfChange {
  return {
    id,
    trayId,
    deviceId: 'shelf-1',
    channel: channelOf[trayId] ?? 9,
    deltaG: units * unitWeight[sku]!,
    startAt: window.startAt,
    settledAt: window.settledAt,
    sku,
    quantity: units,
    confidence,
    alternatives: [],
    misplaced: false,
  };
}

/** A settled change no SKU of the tray explains (something put on or taken from the wrong tray). */
export function misplacedChange(id: string, trayId: string, grams: number, window: { startAt: number; settledAt: number }): ShelfChange {
  return {
    id,
    trayId,
    deviceId: 'shelf-1',
    channel: channelOf[trayId] ?? 9,
    deltaG: grams,
    startAt: window.startAt,
    settledAt: window.settledAt,
    sku: null,
    quantity: 0,
    confidence: 0,
    alternatives: [],
    misplaced: true,
  };
}

// ── a tracker scene ──────────────────────────────────────────────────────────────────────

/**
 * The overhead tracker's view, frame by frame (10 fps): tracks are placed, moved and dropped,
 * and every step emits one frame with all current tracks.
 */
export class Scene {
  t: number;
  readonly tracks = new Map<string, { x: number; y: number; hands: Point3[] }>();
  readonly frames: TracksPayload[] = [];
  /** The appearance descriptor the tracker sends with a track id (re-identification); none unless set. */
  readonly looks = new Map<string, number[]>();

  constructor(
    readonly emit: (event: DeviceEvent<TracksPayload>) => void,
    start = T0,
    readonly device = 'tracker-1',
    readonly dtMs = 100,
  ) {
    this.t = start;
  }

  put(id: string, x: number, y: number, hands: Point3[] = []): this {
    this.tracks.set(id, { x, y, hands });
    return this;
  }

  drop(id: string): this {
    this.tracks.delete(id);
    return this;
  }

  /** Emits one frame at the current time. */
  frame(): void {
    const payload = tracksPayload(
      this.t,
      [...this.tracks].map(([id, s]) => ({ id, x: s.x, y: s.y, hands: s.hands, ...(this.looks.has(id) ? { look: this.looks.get(id)! } : {}) })),
    );
    this.frames.push(payload);
    this.emit({ deviceId: this.device, kind: 'tracker', deviceTime: this.t, receivedAt: this.t, payload });
  }

  /** `ms` of frames, one every dtMs, time first advanced. */
  advance(ms: number): this {
    for (let i = 0; i < Math.round(ms / this.dtMs); i++) {
      this.t += this.dtMs;
      this.frame();
    }
    return this;
  }

  /** Walks the tracks to their targets in a straight line at `speedMps`, one frame per step (hands down). */
  walk(moves: Record<string, { x: number; y: number }>, speedMps = 1): this {
    const step = (speedMps * this.dtMs) / 1_000;
    for (let guard = 0; guard < 10_000; guard++) {
      let moving = false;
      for (const [id, to] of Object.entries(moves)) {
        const s = this.tracks.get(id)!;
        s.hands = [];
        const d = Math.hypot(to.x - s.x, to.y - s.y);
        if (d < 1e-9) continue;
        moving = true;
        const k = Math.min(1, step / d);
        s.x += (to.x - s.x) * k;
        s.y += (to.y - s.y) * k;
      }
      if (!moving) return this;
      this.t += this.dtMs;
      this.frame();
    }
    throw new Error('walk did not end');
  }

  /**
   * The track stands 0.6 m in front of the tray and holds a hand on its front edge for `ms`
   * (offset by `offsetM` along the gondola); returns a shelf-change window inside that time.
   */
  reach(id: string, trayId: string, ms = 1_000, offsetM = 0): { startAt: number; settledAt: number } {
    return this.reachAll([{ id, trayId, offsetM }], ms);
  }

  /** Several tracks reach at once (see `reach`). */
  reachAll(who: Array<{ id: string; trayId: string; offsetM?: number }>, ms = 1_000): { startAt: number; settledAt: number } {
    const from = this.t;
    for (const { id, trayId, offsetM = 0 } of who) {
      const p = tray(trayId);
      const s = this.tracks.get(id)!;
      s.x = p.x + offsetM;
      s.y = p.y - 0.6;
      s.hands = [{ x: p.x + offsetM, y: p.y, z: p.z }];
    }
    this.advance(ms);
    for (const { id } of who) this.tracks.get(id)!.hands = [];
    return { startAt: from + 200, settledAt: from + ms - 100 };
  }
}

/** Where a shopper stands to reach a tray. */
export function standAt(trayId: string, offsetM = 0): { x: number; y: number } {
  const p = tray(trayId);
  return { x: p.x + offsetM, y: p.y - 0.6 };
}

// ── a checkout rig ───────────────────────────────────────────────────────────────────────

export type CheckoutSettingsInput = Parameters<typeof checkoutSettingsSchema.parse>[0];

export interface CheckoutRig {
  dir: string;
  file: string;
  ledger: Ledger;
  bus: EventBus;
  metrics: Metrics;
  settings: CheckoutSettings;
  payment: PaymentService;
  service: CheckoutService;
  published: ReceiptView[];
  scene: Scene;
  /** Reject counter value for a code. */
  rejects(code: string): Promise<number>;
  /** Closes the ledger and builds a new service (new bus, metrics and payment) on the same file: a restart. */
  restart(payment?: PaymentService): CheckoutRig;
  close(): void;
}

export interface CheckoutRigOptions {
  settings?: Record<string, unknown>;
  payment?: PaymentService;
  model?: StoreModel | null;
  /** Trays the weight pipeline reports as still moving (mutable: tests change it as time goes). */
  /** Trays whose weight is moving or held undecided, each with since when. */
  busy?: Map<string, number>;
  /** Declared restocks not yet arrived, per tray: SKU → units. */
  restocks?: Map<string, Map<string, number>>;
  /** The shelf cameras the checkout may ask (agent.vision in the agent). */
  vision?: VisionEvidenceSource;
  /** Units of each SKU on each tray, as the shelf book counts them (unknown when absent). */
  stock?: Map<string, Map<string, number>>;
}

/** A CheckoutService on a SQLite ledger in a temp folder, attached to its own bus, with a Scene driving its tracker. */
export function checkoutRig(options: CheckoutRigOptions = {}): CheckoutRig {
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-checkout-'));
  const file = join(dir, 'ledger.db');
  const rig = buildRig(dir, file, options, T0);
  return rig;
}

function buildRig(dir: string, file: string, options: CheckoutRigOptions, sceneStart: number): CheckoutRig {
  let t = 1_000;
  const ledger = Ledger.open(file, { synchronous: 'normal', now: () => (t += 1) });
  const bus = new EventBus((name, error) => {
    throw new Error(`bus handler for ${name} failed: ${String(error)}`);
  });
  const metrics = new Metrics();
  const settings = checkoutSettingsSchema.parse(options.settings ?? {});
  const payment = options.payment ?? new SimulatedPaymentService();
  const published: ReceiptView[] = [];
  const model = options.model === undefined ? checkoutModel : options.model;
  const service = new CheckoutService({
    ledger,
    bus,
    metrics,
    logger: silentLogger(),
    settings,
    model: () => model,
    pendingRestocks: (trayId) => options.restocks?.get(trayId) ?? new Map(),
    busyTrays: () => options.busy ?? new Map(),
    payment,
    publish: (r) => published.push(r),
    ...(options.vision ? { vision: options.vision } : {}),
    ...(options.stock ? { unitsOnTray: (trayId: string) => options.stock!.get(trayId) ?? new Map() } : {}),
  });
  const detach = service.attach();
  const scene = new Scene((e) => bus.emit('tracker.tracks', e), sceneStart);
  let closed = false;
  const rig: CheckoutRig = {
    dir,
    file,
    ledger,
    bus,
    metrics,
    settings,
    payment,
    service,
    published,
    scene,
    rejects: (code) => rejectCount(metrics, code),
    restart(next) {
      detach();
      metrics.close();
      ledger.close();
      closed = true;
      const again = buildRig(dir, file, { ...options, ...(next ? { payment: next } : { payment: new SimulatedPaymentService() }) }, scene.t);
      for (const [id, s] of scene.tracks) again.scene.put(id, s.x, s.y, s.hands);
      return again;
    },
    close() {
      if (!closed) {
        detach();
        metrics.close();
        ledger.close();
        closed = true;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

/** The value of storeedge_rejects_total{code}. */
export async function rejectCount(metrics: Metrics, code: string): Promise<number> {
  const metric = await metrics.rejects.get();
  return metric.values.find((v) => v.labels.code === code)?.value ?? 0;
}

/** Lets pending promise callbacks (payment hand-offs) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A payment service that never answers (the process "dies" before the result is recorded). */
export class HangingPaymentService implements PaymentService {
  calls = 0;
  charge(): Promise<never> {
    this.calls++;
    return new Promise(() => {});
  }
  refund(): Promise<never> {
    this.calls++;
    return new Promise(() => {});
  }
}
