import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoStoreModel, demoTrayId, describeDemoStore, startDemoStore } from '@storeedge/simulators';
import { StoreAgent } from '../agent.ts';
import { loadConfig } from '../config/load.ts';
import { errors } from '../errors.ts';
import { parseCommandArgs, untilSignal } from './main.ts';

const help = 'storeedge demo [--port N] [--mqtt-port N] [--seed N] [--shoppers-per-min N] [--keep]';
const storeId = 'demo-store';

/**
 * The demo store: an agent with a fresh ledger, the demo store's devices registered with
 * generated secrets, and simulated shelves, gate, labels and shoppers talking real MQTT to it.
 */
export async function runDemoCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      port: { type: 'string', default: '8080' },
      'mqtt-port': { type: 'string', default: '0' },
      seed: { type: 'string', default: '7' },
      'shoppers-per-min': { type: 'string', default: '6' },
      keep: { type: 'boolean', default: false },
    },
    help,
  );
  const number = (name: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw errors.EDGE_ERR_CLI_USAGE(`--${name} must be a whole number\nusage: ${help}`);
    return n;
  };
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-demo-'));
  const config = loadConfig(
    {
      storeId,
      dataDir: dir,
      broker: { host: '127.0.0.1', tcpPort: number('mqtt-port', values['mqtt-port']!), wsPort: null },
      http: { host: '127.0.0.1', port: number('port', values.port!) },
      log: { level: 'warn' },
      store: { model: demoStoreModel(storeId) },
    },
    dir,
  );
  const agent = await StoreAgent.start(config);
  let store: Awaited<ReturnType<typeof startDemoStore>> | undefined;
  try {
    const credentials = new Map<string, string>();
    for (const device of describeDemoStore(storeId)) {
      const { secret } = await agent.registry.add({ id: device.deviceId, kind: device.kind, actor: 'demo' });
      credentials.set(device.deviceId, secret);
    }
    store = await startDemoStore({
      url: agent.addresses.mqtt!,
      storeId,
      credentials,
      seed: number('seed', values.seed!),
      shopperRatePerMin: number('shoppers-per-min', values['shoppers-per-min']!),
      // Staff announce each restock through the public API before they stock the tray.
      onRestock: async ({ deviceId, ch, sku, units }) => {
        const response = await fetch(`${agent.httpUrl}/api/stock/restock`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ trayId: demoTrayId(deviceId, ch), sku, quantity: units, actor: 'demo-staff' }),
        });
        if (!response.ok) throw new Error(`restock refused: ${response.status} ${await response.text()}`);
      },
    });
    process.stdout.write(
      [
        `storeedge demo store "${storeId}" is running (${credentials.size} simulated devices, seed ${values.seed}).`,
        `  dashboard:  ${agent.httpUrl}/`,
        `  API:        ${agent.httpUrl}/api/health  ${agent.httpUrl}/api/devices  ${agent.httpUrl}/api/events`,
        `  inventory:  ${agent.httpUrl}/api/stock  ${agent.httpUrl}/api/alerts  ${agent.httpUrl}/api/epcis`,
        `  labels:     ${agent.httpUrl}/api/labels  (confirmed as each tag checks in, every 40 s)`,
        `  metrics:    ${agent.httpUrl}/metrics`,
        `  MQTT:       ${agent.addresses.mqtt}`,
        `  ledger:     ${config.ledgerFile}`,
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
    await untilSignal();
    process.stdout.write('stopping the demo store…\n');
  } finally {
    await store?.stop();
    await agent.stop();
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
