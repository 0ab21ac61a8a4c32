import { storeModel, trayPoints, type StoreModelInput, type TracksPayload } from '@storeedge/device-drivers';
import { DeviceSimulator, EslGatewaySimulator, GateSimulator, LoadCellShelfSimulator, type DeviceSimulatorBaseOptions, type SimulatorError } from '@storeedge/simulators';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadHqConfig, newStoreCredentials, startHq, writeNewSigningKey, type RunningHq } from '@storeedge/sync/hq/index.ts';
import { hashPassword } from '../../src/http/auth/index.ts';
import { startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/**
 * A small walk-out store for the dashboard's browser tests, run in real time over the agent's
 * real MQTT broker: one placed gondola with three trays on one load-cell controller, a two-lane
 * gate, an overhead tracker, and an ESL gateway with a label (LED tags) on every tray. Two
 * dashboard users: a manager and a member of staff.
 */
export const users = {
  manager: { name: 'anna', password: 'anna-manager-pass-1', role: 'manager' as const },
  staff: { name: 'sam', password: 'sam-staff-password-2', role: 'staff' as const },
};

const catalog = [
  { sku: 'cola', gtin: '04006381333931', name: 'Cola 330 ml', unitWeightG: 350, unitWeightSigmaG: 2, priceMinor: 129 },
  { sku: 'chips', gtin: '04006381333948', name: 'Chips 150 g', unitWeightG: 160, unitWeightSigmaG: 2, priceMinor: 199 },
  { sku: 'water', gtin: '04006381333955', name: 'Water 500 ml', unitWeightG: 500, unitWeightSigmaG: 2, priceMinor: 89 },
];
/** Units per tray at the start; water starts one above its low level, so one pick raises a low-stock alert. */
const initial: Record<string, number> = { cola: 15, chips: 15, water: 3 };
const channelOf: Record<string, number> = { t1: 0, t2: 1, t3: 2 };
const skuOf: Record<string, string> = { t1: 'cola', t2: 'chips', t3: 'water' };

export const modelInput: StoreModelInput = {
  catalog,
  zones: [{ id: 'z1', name: 'Drinks & snacks' }],
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
              trays: (['t1', 't2', 't3'] as const).map((id) => ({
                id,
                device: 'shelf-1',
                channel: channelOf[id]!,
                facings: [{ sku: skuOf[id]!, capacity: 20, minLevel: 2, initial: initial[skuOf[id]!]! }],
              })),
            },
          ],
        },
      ],
    },
  ],
  gates: [
    { device: 'gate-1', lane: 'entry', x: 0, y: 0, radiusM: 1 },
    { device: 'gate-1', lane: 'exit', x: 6, y: 0, radiusM: 1 },
  ],
  labels: (['t1', 't2', 't3'] as const).map((trayId, i) => ({
    tagId: `esl-000${i + 1}`,
    gateway: 'esl-gw-1',
    tagType: 'm3-2.9-bwr',
    sku: skuOf[trayId]!,
    trayId,
  })),
};

const trays = trayPoints(storeModel.parse(modelInput));
const ENTRY = { x: 0, y: 0 };
const EXIT = { x: 6, y: 0 };
const FRAME_MS = 100;

interface Person {
  x: number;
  y: number;
  hand: { x: number; y: number; z: number } | null;
}

/** An overhead person tracker: 10 frames a second of whoever `put` placed, until `drop`. */
class TrackerSimulator extends DeviceSimulator {
  readonly persons = new Map<string, Person>();

  constructor(options: DeviceSimulatorBaseOptions) {
    super({ ...options, kind: 'tracker', model: 'storeedge-test-tracker' });
  }

  protected override onStart(): void {
    this.every(FRAME_MS, () => this.#frame(), 'tracker frame');
  }

  #frame(): void {
    if (!this.online) return;
    const payload: TracksPayload = {
      at: Math.round(this.clock.now()),
      tracks: [...this.persons].map(([id, p]) => ({ id, x: p.x, y: p.y, ...(p.hand ? { hands: [p.hand] } : {}) })),
    };
    void this.publishEvent('tracks', payload, { qos: 0 });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One simulated shopper: scans in, walks, reaches into trays (the shelf loses the units), walks out. */
export class Shopper {
  constructor(
    readonly store: LiveStore,
    readonly track: string,
    readonly token: string,
  ) {}

  async enter(): Promise<void> {
    await this.store.gate.scan('entry', this.token);
    this.store.tracker.persons.set(this.track, { ...ENTRY, hand: null });
    await sleep(500);
  }

  /** Walks to a point at 2.5 m/s, one tracker frame per step. */
  async walkTo(to: { x: number; y: number }): Promise<void> {
    const p = this.store.tracker.persons.get(this.track)!;
    p.hand = null;
    const steps = Math.max(1, Math.ceil(Math.hypot(to.x - p.x, to.y - p.y) / 0.25));
    const from = { x: p.x, y: p.y };
    for (let i = 1; i <= steps; i++) {
      p.x = from.x + ((to.x - from.x) * i) / steps;
      p.y = from.y + ((to.y - from.y) * i) / steps;
      await sleep(FRAME_MS);
    }
  }

  /** Stands in front of the tray; `offsetM` along the gondola so two people can share a tray. */
  async goTo(trayId: string, offsetM = 0): Promise<void> {
    const tray = trays.get(trayId)!;
    await this.walkTo({ x: tray.x + offsetM, y: tray.y - 0.6 });
  }

  handOn(trayId: string, offsetM = 0): void {
    const tray = trays.get(trayId)!;
    this.store.tracker.persons.get(this.track)!.hand = { x: tray.x + offsetM, y: tray.y, z: tray.z };
  }

  handOff(): void {
    this.store.tracker.persons.get(this.track)!.hand = null;
  }

  async leave(): Promise<void> {
    await this.walkTo(EXIT);
    await sleep(300);
    this.store.tracker.persons.delete(this.track);
  }
}

export interface LiveStore {
  harness: TestAgent;
  /** The reference HQ the store syncs to (its embedded broker on a free loopback port). */
  hq: RunningHq;
  url: string;
  shelf: LoadCellShelfSimulator;
  gate: GateSimulator;
  tracker: TrackerSimulator;
  esl: EslGatewaySimulator;
  errors: SimulatorError[];
  shopper(track: string, token: string): Shopper;
  /** Hands on the tray for about 1.5 s while `units` of its SKU leave it (the hands of everyone given). */
  pick(trayId: string, units: number, who: Array<{ shopper: Shopper; offsetM?: number }>): Promise<void>;
  close(): Promise<void>;
}

/** The reference HQ, as `storeedge demo` runs it: a fresh signing key, the store's broker credentials. */
async function startReferenceHq(storeId: string) {
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-dashboard-hq-'));
  const signingKey = writeNewSigningKey(join(dir, 'hq-signing-key.pem'), 'hq-test-1');
  const credentials = newStoreCredentials(storeId);
  const hq = await startHq(
    loadHqConfig(
      {
        dataDir: '.',
        signingKey: { keyId: signingKey.keyId, file: 'hq-signing-key.pem' },
        broker: { host: '127.0.0.1', tcpPort: 0, stores: [{ id: storeId, passwordSha256: credentials.passwordSha256 }] },
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'silent' },
      },
      dir,
    ),
  );
  return {
    hq,
    // HQ's embedded broker (aedes) speaks MQTT 3.1.1.
    sync: { upstream: { url: hq.broker!.addresses.mqtt!, password: credentials.password, protocolVersion: 4 as const, reconnectMaxMs: 5_000 }, trustedKeys: [signingKey] },
    async stop() {
      await hq.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startLiveStore(): Promise<LiveStore> {
  const reference = await startReferenceHq('store-test');
  const harness = await startTestAgent({
    store: { model: modelInput },
    sync: reference.sync,
    http: {
      users: await Promise.all(
        Object.values(users).map(async (u) => ({ name: u.name, role: u.role, passwordHash: await hashPassword(u.password) })),
      ),
    },
  });
  const url = harness.agent.addresses.mqtt!;
  const errors: SimulatorError[] = [];
  const common = async (deviceId: string, kind: string) => ({
    url,
    storeId: harness.storeId,
    deviceId,
    password: await harness.addDevice(deviceId, kind),
    onError: (error: SimulatorError) => void errors.push(error),
    healthIntervalMs: 5_000,
  });
  const unitG = (sku: string) => catalog.find((c) => c.sku === sku)!.unitWeightG;
  const shelf = new LoadCellShelfSimulator({
    ...(await common('shelf-1', 'shelf')),
    channels: (['t1', 't2', 't3'] as const).map((id) => ({ ch: channelOf[id]!, tareGrams: 340, loadGrams: initial[skuOf[id]!]! * unitG(skuOf[id]!) })),
    noiseSdGrams: 1,
    driftGramsPerHour: 0,
  });
  const gate = new GateSimulator(await common('gate-1', 'gate'));
  const tracker = new TrackerSimulator(await common('tracker-1', 'tracker'));
  const esl = new EslGatewaySimulator({
    ...(await common('esl-gw-1', 'esl-gateway')),
    tags: (modelInput.labels ?? []).map((l) => ({ tagId: l.tagId, tagType: l.tagType })),
    checkinIntervalMs: 1_000,
    radioBytesPerSecond: 50_000,
  });
  const devices = [shelf, gate, tracker, esl];
  await Promise.all(devices.map((d) => d.start()));

  const store: LiveStore = {
    harness,
    hq: reference.hq,
    url: harness.agent.httpUrl,
    shelf,
    gate,
    tracker,
    esl,
    errors,
    shopper: (track, token) => new Shopper(store, track, token),
    async pick(trayId, units, who) {
      for (const { shopper, offsetM = 0 } of who) shopper.handOn(trayId, offsetM);
      await sleep(600);
      shelf.removeItems(channelOf[trayId]!, units * unitG(skuOf[trayId]!));
      await sleep(1_200);
      for (const { shopper } of who) shopper.handOff();
      await sleep(300);
    },
    async close() {
      await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
      await harness.close();
      await reference.stop();
    },
  };
  return store;
}
