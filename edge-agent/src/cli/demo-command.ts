import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoCatalog, demoStoreModel, demoTrayId, describeDemoStore, startDemoStore, type DemoStore } from '@storeedge/simulators';
import {
  loadHqConfigFile,
  newAdminToken,
  newStoreCredentials,
  startHq,
  writeNewSigningKey,
  type HqConfigInput,
  type RunningHq,
} from '@storeedge/sync/hq/index.ts';
import { StoreAgent } from '../agent.ts';
import { loadConfig } from '../config/load.ts';
import { errors } from '../errors.ts';
import { hashPassword, newApiToken, newPassword } from '../http/auth/index.ts';
import { parseCommandArgs, untilSignal } from './main.ts';

const help = 'storeedge demo [--port N] [--mqtt-port N] [--hq-port N] [--seed N] [--shoppers-per-min N] [--keep]';
const storeId = 'demo-store';

export interface DemoOptions {
  /** Where the agent's ledger and HQ's database live (the caller removes it). */
  dir: string;
  /** Dashboard / API port (0 picks a free one). */
  port: number;
  /** The store's device broker port (0 picks a free one). */
  mqttPort: number;
  /** HQ's API port (0 picks a free one). */
  hqPort: number;
  seed: number;
  shoppersPerMin: number;
  /** Log level of the agent and HQ. Default 'warn'. */
  logLevel?: 'warn' | 'silent';
}

export interface DemoLogin {
  readonly name: string;
  readonly password: string;
}

/** A running demo: the reference HQ, the store's agent syncing to it, and the simulated store. */
export interface RunningDemo {
  readonly agent: StoreAgent;
  readonly hq: RunningHq;
  readonly store: DemoStore;
  readonly storeId: string;
  /** HQ's config file (for `storeedge hq publish|status --config`). */
  readonly hqConfigFile: string;
  /** HQ's admin token (STOREEDGE_HQ_TOKEN for `storeedge hq publish`); only its sha256 is in the config. */
  readonly hqAdminToken: string;
  /** The dashboard logins made for this run (random passwords; only their hashes are in the agent's config). */
  readonly logins: { readonly manager: DemoLogin; readonly staff: DemoLogin };
  /** Stops the shoppers and devices, then the agent (its outbox stays in the ledger), then HQ. */
  stop(): Promise<void>;
}

/**
 * The demo store and its head office: a reference HQ (its own database, a fresh signing key, its
 * embedded broker on a free loopback port with credentials made for this run), the agent with a
 * fresh ledger syncing to it (trusting that key), the demo store's devices registered with
 * generated secrets, and simulated shelves, gate, labels and shoppers talking real MQTT to it.
 * Needs no Mosquitto: every broker is in this process.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const logLevel = options.logLevel ?? 'warn';
  const hqDir = join(options.dir, 'hq');
  mkdirSync(hqDir, { recursive: true });
  const signingKey = writeNewSigningKey(join(hqDir, 'hq-signing-key.pem'), 'hq-demo-1');
  const storeCredentials = newStoreCredentials(storeId);
  const adminToken = newAdminToken();
  const hqConfig: HqConfigInput = {
    dataDir: '.',
    signingKey: { keyId: signingKey.keyId, file: 'hq-signing-key.pem' },
    broker: { host: '127.0.0.1', tcpPort: 0, stores: [{ id: storeId, passwordSha256: storeCredentials.passwordSha256 }] },
    http: { host: '127.0.0.1', port: options.hqPort, adminTokenSha256: adminToken.sha256 },
    log: { level: logLevel },
  };
  const hqConfigFile = join(hqDir, 'hq.json');
  writeFileSync(hqConfigFile, `${JSON.stringify(hqConfig, null, 2)}\n`);
  const hq = await startHq(loadHqConfigFile(hqConfigFile));

  // No default passwords: the demo's manager and staff logins are made for this run and printed once.
  const logins = { manager: { name: 'manager', password: newPassword() }, staff: { name: 'staff', password: newPassword() } };
  const [managerHash, staffHash] = await Promise.all([hashPassword(logins.manager.password), hashPassword(logins.staff.password)]);
  // The simulated staff's restock announcements reach the API with a token of their own.
  const staffToken = newApiToken();
  let agent: StoreAgent | undefined;
  try {
    const config = loadConfig(
      {
        storeId,
        dataDir: options.dir,
        broker: { host: '127.0.0.1', tcpPort: options.mqttPort, wsPort: null },
        http: {
          host: '127.0.0.1',
          port: options.port,
          users: [
            { name: logins.manager.name, role: 'manager', passwordHash: managerHash },
            { name: logins.staff.name, role: 'staff', passwordHash: staffHash },
          ],
          apiTokens: [{ name: 'demo-staff', role: 'staff', tokenSha256: staffToken.tokenSha256 }],
        },
        log: { level: logLevel },
        store: { model: demoStoreModel(storeId) },
        sync: {
          // HQ's embedded broker (aedes) speaks MQTT 3.1.1.
          upstream: { url: hq.broker!.addresses.mqtt!, password: storeCredentials.password, protocolVersion: 4, reconnectMaxMs: 5_000 },
          trustedKeys: [signingKey],
        },
      },
      options.dir,
    );
    agent = await StoreAgent.start(config);
    const running = agent;
    const credentials = new Map<string, string>();
    for (const device of describeDemoStore(storeId)) {
      const { secret } = await running.registry.add({ id: device.deviceId, kind: device.kind, actor: 'demo' });
      credentials.set(device.deviceId, secret);
    }
    const store = await startDemoStore({
      url: running.addresses.mqtt!,
      storeId,
      credentials,
      seed: options.seed,
      shopperRatePerMin: options.shoppersPerMin,
      // Staff announce each restock through the public API before they stock the tray.
      onRestock: async ({ deviceId, ch, sku, units }) => {
        const response = await fetch(`${running.httpUrl}/api/stock/restock`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${staffToken.token}` },
          body: JSON.stringify({ trayId: demoTrayId(deviceId, ch), sku, quantity: units }),
        });
        if (!response.ok) throw new Error(`restock refused: ${response.status} ${await response.text()}`);
      },
    });
    let stopped: Promise<void> | undefined;
    return {
      agent: running,
      hq,
      store,
      storeId,
      hqConfigFile,
      hqAdminToken: adminToken.token,
      logins,
      stop() {
        stopped ??= (async () => {
          try {
            await store.stop();
            await running.stop();
          } finally {
            await hq.stop();
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    await agent?.stop();
    await hq.stop();
    throw error;
  }
}

export async function runDemoCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    {
      port: { type: 'string', default: '8080' },
      'mqtt-port': { type: 'string', default: '0' },
      'hq-port': { type: 'string', default: '0' },
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
  const options = {
    port: number('port', values.port!),
    mqttPort: number('mqtt-port', values['mqtt-port']!),
    hqPort: number('hq-port', values['hq-port']!),
    seed: number('seed', values.seed!),
    shoppersPerMin: number('shoppers-per-min', values['shoppers-per-min']!),
  };
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-demo-'));
  try {
    const demo = await startDemo({ dir, ...options });
    try {
      const { agent, hq, logins } = demo;
      const sku = demoCatalog[0]!.sku;
      process.stdout.write(
        [
          `storeedge demo store "${storeId}" is running (${describeDemoStore(storeId).length} simulated devices, seed ${options.seed}), syncing to a reference HQ.`,
          `  dashboard:  ${agent.httpUrl}/  log in as "${logins.manager.name}" / ${logins.manager.password}  (manager), or "${logins.staff.name}" / ${logins.staff.password}  (staff)`,
          '              (passwords made for this run; the config holds only their hashes — add your own users with `storeedge user hash`)',
          `  HQ:         ${hq.httpUrl}/api/stores/${storeId}  (the store's receipts and stock events as HQ holds them: …/records)`,
          `  API:        ${agent.httpUrl}/api/health  ${agent.httpUrl}/api/devices  ${agent.httpUrl}/api/events  (log in first: the session cookie of the dashboard, or POST /api/auth/login)`,
          `  inventory:  ${agent.httpUrl}/api/stock  ${agent.httpUrl}/api/alerts  ${agent.httpUrl}/api/epcis`,
          `  labels:     ${agent.httpUrl}/api/labels  (confirmed as each tag checks in, every 40 s)`,
          `  metrics:    ${agent.httpUrl}/metrics`,
          `  MQTT:       ${agent.addresses.mqtt}  (devices)   HQ broker: ${hq.broker!.addresses.mqtt}  (store ↔ HQ)`,
          `  ledger:     ${agent.config.ledgerFile}`,
          `  new price:  STOREEDGE_HQ_TOKEN=${demo.hqAdminToken} npx storeedge hq publish prices --config ${demo.hqConfigFile} --url ${hq.httpUrl} --store ${storeId} --sku ${sku} --price 99`,
          `  HQ status:  npx storeedge hq status --config ${demo.hqConfigFile}`,
          'Press Ctrl+C to stop.',
          '',
        ].join('\n'),
      );
      await untilSignal();
      process.stdout.write('stopping the demo store and HQ…\n');
    } finally {
      await demo.stop();
    }
  } finally {
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  }
  return 0;
}
