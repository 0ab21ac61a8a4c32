import { realClock, type Clock } from './clock.ts';
import { demoCatalog, type DemoSku } from './demo-catalog.ts';
import type { DeviceSimulator, DeviceStats } from './device-simulator.ts';
import { logSimulatorError, SimulatorError, simulatorErrors } from './errors.ts';
import { EslGatewaySimulator } from './esl-gateway.ts';
import { GateSimulator } from './gate.ts';
import { Rng } from './random.ts';
import { LoadCellShelfSimulator, type LoadCellShelfOptions } from './shelf.ts';
import { ShopperSimulation, type GroundTruth, type ShopperSimulationOptions, type ShopperStats, type ShopperTray } from './shoppers.ts';
import type { StoreModelInput } from '@storeedge/device-drivers';

export interface DemoTray {
  ch: number;
  tareGrams: number;
  sku: DemoSku;
  /** Units a full tray holds; the demo starts with full trays. */
  capacity: number;
}

interface DemoDeviceBase {
  storeId: string;
  deviceId: string;
  model: string;
  fw: string;
}

export interface DemoShelfDevice extends DemoDeviceBase {
  kind: 'shelf';
  trays: DemoTray[];
}

export interface DemoGateDevice extends DemoDeviceBase {
  kind: 'gate';
  lanes: Array<'entry' | 'exit'>;
}

export interface DemoEslTag {
  tagId: string;
  /** The panel (device-drivers esl/tag-types.ts id); the agent renders for it and the gateway checks it. */
  tagType: string;
  sku: string;
  /** The tray the label sits on. */
  shelfDeviceId: string;
  ch: number;
}

export interface DemoEslGatewayDevice extends DemoDeviceBase {
  kind: 'esl-gateway';
  tags: DemoEslTag[];
}

export type DemoDevice = DemoShelfDevice | DemoGateDevice | DemoEslGatewayDevice;

const SHELF_COUNT = 3;
const TRAYS_PER_SHELF = 4;
const FW = 'sim-1.0.0';
/** A demo tray takes about 6 kg of product; capacity in units follows from the unit weight. */
const TRAY_LOAD_LIMIT_GRAMS = 6_000;
/**
 * The shelf labels' panel per shelf: 2.9″ tags, mostly M3 with an LED (a "find this label"
 * flash works on them), one shelf of older M2 tags without one.
 */
const TAG_TYPE_PER_SHELF = ['m3-2.9-bwr', 'm2-2.9-bwr', 'm3-2.9-bwr'] as const;

/**
 * The devices of the small demo store, as plain data (ids, kinds, what is on each tray, which
 * label sits where): 3 shelves × 4 trays over a 12-SKU catalog, one two-lane gate and one ESL
 * gateway with one shelf label per tray (so one per SKU). Register these ids to run the demo
 * against an agent.
 */
export function describeDemoStore(storeId: string): DemoDevice[] {
  const shelves: DemoShelfDevice[] = Array.from({ length: SHELF_COUNT }, (_, s) => ({
    storeId,
    deviceId: `shelf-${s + 1}`,
    kind: 'shelf',
    model: 'storeedge-sim-loadcell-4',
    fw: FW,
    trays: Array.from({ length: TRAYS_PER_SHELF }, (_, ch) => {
      const sku = demoCatalog[s * TRAYS_PER_SHELF + ch]!;
      return {
        ch,
        // Trays differ a little, as real ones do; only deltas are ever trusted.
        tareGrams: 340 + ((s * 7 + ch * 13) % 25),
        sku,
        capacity: Math.max(4, Math.min(24, Math.floor(TRAY_LOAD_LIMIT_GRAMS / sku.unitGrams))),
      };
    }),
  }));
  const gate: DemoGateDevice = { storeId, deviceId: 'gate-1', kind: 'gate', model: 'storeedge-sim-gate-2lane', fw: FW, lanes: ['entry', 'exit'] };
  const esl: DemoEslGatewayDevice = {
    storeId,
    deviceId: 'esl-gw-1',
    kind: 'esl-gateway',
    model: 'storeedge-sim-esl-gw',
    fw: FW,
    tags: shelves.flatMap((shelf, s) =>
      shelf.trays.map((tray) => ({
        tagId: `esl-${String(s * TRAYS_PER_SHELF + tray.ch + 1).padStart(4, '0')}`,
        tagType: TAG_TYPE_PER_SHELF[s % TAG_TYPE_PER_SHELF.length]!,
        sku: tray.sku.sku,
        shelfDeviceId: shelf.deviceId,
        ch: tray.ch,
      })),
    ),
  };
  return [...shelves, gate, esl];
}

export interface DemoStoreOptions {
  url: string;
  storeId: string;
  /** Password per device id; every device of describeDemoStore() needs one. */
  credentials: ReadonlyMap<string, string>;
  seed: number | string;
  /** Default wall time. */
  clock?: Clock;
  /** Default 2 per minute. */
  shopperRatePerMin?: number;
  /** Failures of any device or shopper step. Default: JSON lines on stderr. */
  onError?: (error: SimulatorError) => void;
  /** Shelf tuning (tests lower the sample rate or raise QoS). */
  shelf?: Pick<LoadCellShelfOptions, 'sampleRateHz' | 'noiseSdGrams' | 'driftGramsPerHour' | 'weightQos'>;
  /** ESL check-in interval per tag. Default: the gateway simulator's (40 s). */
  eslCheckinIntervalMs?: number | null;
  /** Staff announce restocks through this before stocking (ShopperSimulationOptions.onRestock). */
  onRestock?: ShopperSimulationOptions['onRestock'];
}

export interface DemoStoreStats {
  devices: DeviceStats[];
  shoppers: ShopperStats;
}

export interface DemoStore {
  devices: readonly DemoDevice[];
  shelves: readonly LoadCellShelfSimulator[];
  gate: GateSimulator;
  eslGateway: EslGatewaySimulator;
  shoppers: ShopperSimulation;
  /** Stops shoppers, then every device (retained offline state, clean disconnect). */
  stop(): Promise<void>;
  stats(): DemoStoreStats;
  groundTruth(): GroundTruth;
}

/**
 * Starts every device of the demo store and the shoppers. Rejects (after stopping whatever did
 * start) when a credential is missing or any device cannot connect.
 */
export async function startDemoStore(options: DemoStoreOptions): Promise<DemoStore> {
  const devices = describeDemoStore(options.storeId);
  const missing = devices.filter((d) => !options.credentials.has(d.deviceId)).map((d) => d.deviceId);
  if (missing.length > 0) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`demo store: no credentials for ${missing.join(', ')}`);
  const clock = options.clock ?? realClock;
  const rng = new Rng(options.seed);
  const onError = options.onError ?? logSimulatorError;
  const common = (device: DemoDevice) => ({
    url: options.url,
    storeId: options.storeId,
    deviceId: device.deviceId,
    password: options.credentials.get(device.deviceId)!,
    clock,
    rng: rng.fork(device.deviceId),
    fw: device.fw,
    model: device.model,
    onError,
  });

  const shelfDevices = devices.filter((d): d is DemoShelfDevice => d.kind === 'shelf');
  const shelves = shelfDevices.map(
    (device) =>
      new LoadCellShelfSimulator({
        ...common(device),
        ...options.shelf,
        channels: device.trays.map((tray) => ({ ch: tray.ch, tareGrams: tray.tareGrams, loadGrams: tray.capacity * tray.sku.unitGrams })),
      }),
  );
  const gateDevice = devices.find((d): d is DemoGateDevice => d.kind === 'gate')!;
  const gate = new GateSimulator(common(gateDevice));
  const eslDevice = devices.find((d): d is DemoEslGatewayDevice => d.kind === 'esl-gateway')!;
  const eslGateway = new EslGatewaySimulator({
    ...common(eslDevice),
    tags: eslDevice.tags.map((tag) => ({ tagId: tag.tagId, tagType: tag.tagType })),
    ...(options.eslCheckinIntervalMs === undefined ? {} : { checkinIntervalMs: options.eslCheckinIntervalMs }),
  });
  const simulators: DeviceSimulator[] = [...shelves, gate, eslGateway];

  const started = await Promise.allSettled(simulators.map((sim) => sim.start()));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.all(simulators.map((sim) => sim.stop()));
    throw failure.reason;
  }

  const trays: ShopperTray[] = shelfDevices.flatMap((device, s) =>
    device.trays.map((tray) => ({
      shelf: shelves[s]!,
      ch: tray.ch,
      sku: tray.sku.sku,
      unitGrams: tray.sku.unitGrams,
      units: tray.capacity,
      capacity: tray.capacity,
    })),
  );
  const shoppers = new ShopperSimulation({
    trays,
    gate,
    rng: rng.fork('shoppers'),
    clock,
    onError,
    ...(options.shopperRatePerMin === undefined ? {} : { arrivalRatePerMin: options.shopperRatePerMin }),
    ...(options.onRestock === undefined ? {} : { onRestock: options.onRestock }),
  });
  shoppers.start();

  return {
    devices,
    shelves,
    gate,
    eslGateway,
    shoppers,
    async stop() {
      shoppers.stop();
      await Promise.all(simulators.map((sim) => sim.stop()));
    },
    stats: () => ({ devices: simulators.map((sim) => sim.stats()), shoppers: shoppers.stats() }),
    groundTruth: () => shoppers.groundTruth(),
  };
}

/** The tray id the demo store model gives a shelf controller's channel. */
export function demoTrayId(deviceId: string, ch: number): string {
  return `tray-${deviceId}-${ch}`;
}

/**
 * The demo store as the agent's store model (config `store.model`): the 12-SKU catalog, one
 * aisle, one gondola with a bay per shelf controller and a tray per channel, full at the start,
 * and the ESL gateway's shelf label on every tray.
 */
export function demoStoreModel(storeId: string): StoreModelInput {
  const devices = describeDemoStore(storeId);
  const shelves = devices.filter((d): d is DemoShelfDevice => d.kind === 'shelf');
  const eslGateways = devices.filter((d): d is DemoEslGatewayDevice => d.kind === 'esl-gateway');
  return {
    catalog: demoCatalog.map((item) => ({
      sku: item.sku,
      gtin: item.gtin.padStart(14, '0'),
      name: item.name,
      unitWeightG: item.unitGrams,
      unitWeightSigmaG: Math.max(0.5, Math.round(item.unitGrams) / 100),
      priceMinor: item.priceCents,
      currency: item.currency,
    })),
    zones: [{ id: 'aisle-1', name: 'Aisle 1' }],
    gondolas: [
      {
        id: 'gondola-1',
        zone: 'aisle-1',
        bays: shelves.map((shelf, b) => ({
          id: `bay-${b + 1}`,
          shelves: [
            {
              id: shelf.deviceId,
              trays: shelf.trays.map((tray) => ({
                id: demoTrayId(shelf.deviceId, tray.ch),
                device: shelf.deviceId,
                channel: tray.ch,
                facings: [{ sku: tray.sku.sku, capacity: tray.capacity, minLevel: Math.max(1, Math.floor(tray.capacity / 4)), initial: tray.capacity }],
              })),
            },
          ],
        })),
      },
    ],
    // The demo's two-lane gate: shoppers scan in and out (the demo has no person tracker, so the
    // checkout opens and closes visits by scans; picks are not attributed to anyone).
    gates: [
      { device: 'gate-1', lane: 'entry', x: 0, y: 0 },
      { device: 'gate-1', lane: 'exit', x: 2, y: 0 },
    ],
    labels: eslGateways.flatMap((gateway) =>
      gateway.tags.map((tag) => ({
        tagId: tag.tagId,
        gateway: gateway.deviceId,
        tagType: tag.tagType,
        sku: tag.sku,
        trayId: demoTrayId(tag.shelfDeviceId, tag.ch),
      })),
    ),
  };
}
