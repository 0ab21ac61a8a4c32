import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { StoreAgent } from '../../src/agent.ts';
import { loadConfig, type ConfigInput } from '../../src/config/load.ts';
import { newApiToken } from '../../src/http/auth/index.ts';
import { silentLogger } from '../../src/log.ts';

export interface TestAgent {
  agent: StoreAgent;
  dir: string;
  storeId: string;
  /** `Bearer <token>` of the service token the harness adds (`test`): send it as the Authorization header. */
  authorization: string;
  /** Registers a device and returns its secret. */
  addDevice(id: string, kind?: string): Promise<string>;
  /** Connects as a device (clientId = username = id) over real TCP; rejects on a refused CONNECT. */
  connect(id: string, secret: string, options?: IClientOptions): Promise<MqttClient>;
  close(): Promise<void>;
}

type Overrides = Partial<Omit<ConfigInput, 'storeId'>>;

/** An agent on loopback with free ports and a ledger in a fresh temp folder. */
export async function startTestAgent(overrides: Overrides = {}): Promise<TestAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-test-'));
  const storeId = 'store-test';
  const service = newApiToken();
  const config = loadConfig(
    {
      storeId,
      dataDir: dir,
      ...overrides,
      broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null, ...overrides.broker },
      http: {
        host: '127.0.0.1',
        port: 0,
        ...overrides.http,
        apiTokens: [{ name: 'test', role: 'service', tokenSha256: service.tokenSha256 }, ...(overrides.http?.apiTokens ?? [])],
      },
      log: { level: 'silent' },
    },
    dir,
  );
  const agent = await StoreAgent.start(config, { logger: silentLogger() });
  const clients: MqttClient[] = [];
  return {
    agent,
    dir,
    storeId,
    authorization: `Bearer ${service.token}`,
    async addDevice(id, kind = 'shelf') {
      return (await agent.registry.add({ id, kind, actor: 'test' })).secret;
    },
    async connect(id, secret, options = {}) {
      const client = await mqtt.connectAsync(agent.addresses.mqtt!, {
        clientId: id,
        username: id,
        password: secret,
        reconnectPeriod: 0,
        connectTimeout: 5_000,
        ...options,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves when `predicate` holds, polling on the event loop; rejects after `limit` polls. */
export async function eventually(predicate: () => boolean | Promise<boolean>, what: string, limit = 500): Promise<void> {
  for (let i = 0; i < limit; i++) {
    if (await predicate()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/** Resolves once the client's connection has closed. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => {
    if (!client.connected) return resolve();
    client.once('close', () => resolve());
  });
}

/** Reads one counter value from the agent's Prometheus text. */
export async function counter(agent: StoreAgent, name: string, labels: Record<string, string>): Promise<number> {
  const text = await agent.metrics.text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (wanted.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}
