import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { storeModel, trayPoints, type StoreModel, type StoreModelInput, type TrayPoint } from '@storeedge/device-drivers';
import { gtinCheckDigit } from '@storeedge/simulators';
import { newApiToken } from '../../../src/http/auth/index.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { devicesProjection } from '../../../src/registry/devices-projection.ts';
import { DeviceRegistry } from '../../../src/registry/registry.ts';

export const storeId = 'store-kill9';

/** Device ids of the test store. */
export const devices = {
  shelf: 'shelf-1',
  gateIn: 'gate-in',
  gateOut: 'gate-out',
  tracker: 'tracker-1',
} as const;

export interface TrayFixture {
  trayId: string;
  channel: number;
  sku: string;
  unitWeightG: number;
  priceMinor: number;
  units: number;
  /** Load-cell reading of the full tray (tare + units), grams. */
  levelG: number;
}

const tareG = 400;
/** One gondola, one bay, one shelf at 1.1 m: three single-SKU trays on channels 0–2 of shelf-1. */
export const trays: TrayFixture[] = [
  { trayId: 'tray-a', channel: 0, sku: 'cola-330', unitWeightG: 350, priceMinor: 199, units: 10 },
  { trayId: 'tray-b', channel: 1, sku: 'chips-150', unitWeightG: 150, priceMinor: 249, units: 12 },
  { trayId: 'tray-c', channel: 2, sku: 'water-500', unitWeightG: 520, priceMinor: 99, units: 8 },
].map((t) => ({ ...t, levelG: tareG + t.units * t.unitWeightG }));

export const gates = {
  entry: { device: devices.gateIn, lane: 'entry' as const, x: 0.5, y: 0.5, radiusM: 1 },
  exit: { device: devices.gateOut, lane: 'exit' as const, x: 5, y: 0.5, radiusM: 1 },
};

export const modelInput: StoreModelInput = {
  catalog: trays.map((t, i) => {
    const data = `400${String(i + 1).padStart(10, '0')}`;
    return { sku: t.sku, gtin: `${data}${gtinCheckDigit(data)}`, name: t.sku, unitWeightG: t.unitWeightG, unitWeightSigmaG: 3, priceMinor: t.priceMinor, currency: 'EUR' };
  }),
  zones: [{ id: 'z1' }],
  gondolas: [
    {
      id: 'g1',
      zone: 'z1',
      // Front edge along x from (2, 4); shoppers stand on the −y side.
      placement: { x: 2, y: 4, axis: 'x', side: -1, bayWidthM: 1.2, depthM: 0.4 },
      bays: [
        {
          id: 'b1',
          shelves: [
            {
              id: 's1',
              heightM: 1.1,
              trays: trays.map((t) => ({ id: t.trayId, device: devices.shelf, channel: t.channel, facings: [{ sku: t.sku, capacity: 20, minLevel: 1, initial: t.units }] })),
            },
          ],
        },
      ],
    },
  ],
  gates: [gates.entry, gates.exit],
};

export const model: StoreModel = storeModel.parse(modelInput);

/** Front-edge centre of a tray (where a hand picking from it is). */
export function trayPoint(trayId: string): TrayPoint {
  const point = trayPoints(model).get(trayId);
  if (!point) throw new Error(`tray ${trayId} has no floor position`);
  return point;
}

const apiToken = newApiToken();
/** The Authorization header the agent's config accepts (a service token named "test"). */
export const authorization = `Bearer ${apiToken.token}`;

/** Writes the agent's config file into `dir` (data in `dir`/data, free ports, warn logs); returns its path. */
export function writeConfig(dir: string): { configFile: string; ledgerFile: string } {
  const configFile = join(dir, 'storeedge.json');
  const dataDir = join(dir, 'data');
  writeFileSync(
    configFile,
    JSON.stringify(
      {
        storeId,
        dataDir,
        broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
        http: { host: '127.0.0.1', port: 0, apiTokens: [{ name: 'test', role: 'service', tokenSha256: apiToken.tokenSha256 }] },
        log: { level: 'warn' },
        // Device time runs faster than wall time here: 10 Hz of device time is sent in a burst.
        ingest: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
        store: { model: modelInput },
      },
      null,
      2,
    ),
  );
  return { configFile, ledgerFile: join(dataDir, 'ledger.db') };
}

/**
 * Registers the store's devices in the ledger file before the agent starts, the way
 * `storeedge device add` does (cli/device-command.ts: the registry on the ledger file);
 * returns id → secret.
 */
export async function registerDevices(ledgerFile: string): Promise<Record<string, string>> {
  const ledger = Ledger.open(ledgerFile, { projections: [devicesProjection] });
  try {
    const registry = new DeviceRegistry(ledger);
    const kinds: Array<[string, string]> = [
      [devices.shelf, 'shelf'],
      [devices.gateIn, 'gate'],
      [devices.gateOut, 'gate'],
      [devices.tracker, 'tracker'],
    ];
    const secrets: Record<string, string> = {};
    for (const [id, kind] of kinds) secrets[id] = (await registry.add({ id, kind, actor: 'test' })).secret;
    return secrets;
  } finally {
    ledger.close();
  }
}
