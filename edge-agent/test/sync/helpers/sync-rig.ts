import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoreModelInput } from '@storeedge/device-drivers';
import type { SyncSettingsInput } from '../../../src/sync/settings.ts';
import { Ledger } from '../../../src/ledger/index.ts';
import { devicesProjection } from '../../../src/registry/devices-projection.ts';
import { DeviceRegistry } from '../../../src/registry/registry.ts';
import { freePort, startMosquitto, SYNC_BROKER_ACL, type Mosquitto } from '../../../../sync/test/helpers/mosquitto.ts';
import { managerApiToken } from './probes.ts';
import { runStoreedge, startStoreedge, type StoreedgeProcess } from './storeedge-process.ts';

/**
 * The three real processes of a store talking to head office, for the fault tests: a Mosquitto
 * upstream broker (persistence on, the ACL of docs/sync.md plus any extra users), the reference
 * HQ as `storeedge hq serve` with a key from `storeedge hq keygen`, and store agents as
 * `storeedge agent --config FILE`. Each keeps its data dir and ports across restarts, so a test
 * can kill one and start it again on the same state.
 */

const HQ_PASSWORD = 'hq-pw-0123456789';
const storePassword = (storeId: string) => `pw-${storeId}-0123456789`;

/** `storeedge agent` prints this once it is up (cli/agent-command.ts). */
const agentReady = /storeedge agent for \S+: API (http:\/\/\S+)\s+broker (\{.*\})\n/;
/** `storeedge hq serve` prints this once it is up (sync/src/hq/cli.ts). */
const hqReady = /storeedge hq: API (http:\/\/\S+)\s+upstream/;

export interface SyncRigOptions {
  /** Store ids the broker and HQ know. */
  stores: readonly string[];
  /** Further broker users (username → password) and ACL lines for them (e.g. a replaying client). */
  extraUsers?: Record<string, string>;
  extraAcl?: string;
}

export interface RunningHq {
  process: StoreedgeProcess;
  api: string;
}

export interface AgentSetup {
  storeId: string;
  configFile: string;
  ledgerFile: string;
  /** The agent's device broker, the same port on every start (simulated devices reconnect to it). */
  mqttUrl: string;
  /** Device id → secret, registered before the first start. */
  secrets: Record<string, string>;
}

export interface RunningAgent {
  process: StoreedgeProcess;
  api: string;
}

export class SyncRig {
  readonly dir: string;
  readonly broker: Mosquitto;
  readonly hqKey: { keyId: string; publicKey: string };
  readonly hqConfigFile: string;
  readonly hqDatabase: string;
  #hq: RunningHq | undefined;

  private constructor(dir: string, broker: Mosquitto, hqKey: { keyId: string; publicKey: string }, hqConfigFile: string, hqDatabase: string) {
    this.dir = dir;
    this.broker = broker;
    this.hqKey = hqKey;
    this.hqConfigFile = hqConfigFile;
    this.hqDatabase = hqDatabase;
  }

  /** Starts the broker and writes HQ's key and config (HQ itself starts with `startHq`). */
  static async create(options: SyncRigOptions): Promise<SyncRig> {
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-faults-'));
    try {
      const users: Record<string, string> = { hq: HQ_PASSWORD, ...options.extraUsers };
      for (const id of options.stores) users[id] = storePassword(id);
      const keyFile = join(dir, 'hq', 'hq-key.pem');
      mkdirSync(join(dir, 'hq'), { recursive: true });
      const [broker, keygen] = await Promise.all([
        // Persistence: HQ's session and the batches queued for it survive a broker restart.
        startMosquitto({ users, acl: SYNC_BROKER_ACL + (options.extraAcl ?? ''), persistence: true }),
        runStoreedge(['hq', 'keygen', '--out', keyFile]),
      ]);
      const hqKey = JSON.parse(keygen) as { keyId: string; publicKey: string };
      const hqConfigFile = join(dir, 'hq', 'hq.json');
      const hqDatabase = join(dir, 'hq', 'hq.db');
      writeFileSync(
        hqConfigFile,
        JSON.stringify({
          dataDir: '.',
          signingKey: { keyId: hqKey.keyId, file: keyFile },
          upstream: { url: broker.url, password: HQ_PASSWORD, reconnectMinMs: 100, reconnectMaxMs: 1_000, keepaliveS: 10 },
          stores: options.stores,
          http: { port: 0 },
          log: { level: 'warn' },
        }),
      );
      return new SyncRig(dir, broker, hqKey, hqConfigFile, hqDatabase);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** The store's password on the upstream broker (username = store id). */
  storePassword(storeId: string): string {
    return storePassword(storeId);
  }

  get hq(): RunningHq | undefined {
    return this.#hq?.process.running ? this.#hq : undefined;
  }

  /** `storeedge hq serve` on the rig's config and database (a restart continues where it stopped). */
  async startHq(): Promise<RunningHq> {
    if (this.hq) return this.hq;
    const child = await startStoreedge(['hq', 'serve', '--config', this.hqConfigFile], hqReady);
    this.#hq = { process: child, api: child.ready[1]! };
    return this.#hq;
  }

  /**
   * Writes a store agent's config (its data dir, a device broker port fixed across restarts, the
   * store model, `sync` to the rig's broker trusting HQ's key) and registers `devices` in its
   * ledger before the first start, as `storeedge device add` does.
   */
  async setUpAgent(
    storeId: string,
    options: { model: StoreModelInput; devices: ReadonlyArray<readonly [id: string, kind: string]> },
  ): Promise<AgentSetup> {
    const dir = join(this.dir, storeId);
    mkdirSync(dir, { recursive: true });
    const configFile = join(dir, 'storeedge.json');
    const ledgerFile = join(dir, 'data', 'ledger.db');
    const mqttPort = await freePort();
    const sync: SyncSettingsInput = {
      upstream: { url: this.broker.url, password: storePassword(storeId), reconnectMinMs: 100, reconnectMaxMs: 1_000, keepaliveS: 10 },
      trustedKeys: [this.hqKey],
      // Short timers so recovery is quick: an ack lost with a killed HQ costs 1.5 s, not 30.
      uplink: { batchRecords: 10, ackTimeoutMs: 1_500, retryBaseMs: 100, retryMaxMs: 1_000, pollIntervalMs: 50 },
      statusIntervalMs: 5_000,
    };
    writeFileSync(
      configFile,
      JSON.stringify({
        storeId,
        dataDir: join(dir, 'data'),
        broker: { host: '127.0.0.1', tcpPort: mqttPort, wsPort: null },
        http: { host: '127.0.0.1', port: 0, apiTokens: [{ name: 'test-manager', role: 'manager', tokenSha256: managerApiToken.tokenSha256 }] },
        log: { level: 'warn' },
        // Simulated device time runs faster than wall time: no per-device rate limit.
        ingest: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
        vision: { enabled: false },
        store: { model: options.model },
        sync,
      }),
    );
    const ledger = Ledger.open(ledgerFile, { projections: [devicesProjection] });
    const secrets: Record<string, string> = {};
    try {
      const registry = new DeviceRegistry(ledger);
      // Secrets are hashed (scrypt) off the main thread: all devices at once.
      const added = await Promise.all(options.devices.map(([id, kind]) => registry.add({ id, kind, actor: 'test' })));
      for (const { device, secret } of added) secrets[device.id] = secret;
    } finally {
      ledger.close();
    }
    return { storeId, configFile, ledgerFile, mqttUrl: `mqtt://127.0.0.1:${mqttPort}`, secrets };
  }

  /** `storeedge agent --config FILE` (again, on the same data dir and ports). */
  async startAgent(setup: AgentSetup): Promise<RunningAgent> {
    const child = await startStoreedge(['agent', '--config', setup.configFile], agentReady);
    return { process: child, api: child.ready[1]! };
  }

  async dispose(): Promise<void> {
    await this.#hq?.process.stop();
    await this.broker.dispose();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
