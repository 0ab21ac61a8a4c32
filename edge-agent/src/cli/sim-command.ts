import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { topics, type WeightPayload } from '@storeedge/device-drivers';
import { loadScenarioFile, ShelfScenarioRun, type ScenarioFile } from '@storeedge/simulators';
import { StoreAgent } from '../agent.ts';
import { loadConfig } from '../config/load.ts';
import { errors } from '../errors.ts';
import type { ShelfChange } from '../events.ts';
import { parseCommandArgs } from './main.ts';

const help = 'storeedge sim --scenario FILE [--seed N] [--report FILE]';
const storeId = 'sim-store';
/** Simulated device time starts here, so reports are the same on every run of a seed. */
const epochMs = Date.UTC(2026, 0, 5, 8, 0, 0);

/** The report of a scenario run; fields as in ARCHITECTURE.md ("Scenario file and report"). */
export interface ScenarioReport {
  scenario: string;
  seed: number;
  shelfEvents?: Record<string, unknown>;
  inventory?: Record<string, unknown>;
  run: Record<string, unknown>;
}

/**
 * `storeedge sim`: runs a scenario against an in-process agent over real MQTT. The simulated
 * devices publish with device timestamps in simulated time, as fast as the agent acknowledges;
 * the agent works from device time, so the outcome does not depend on the machine's speed.
 * Ground truth stays in the simulator and is compared with the agent's public outputs at the end.
 */
export async function runSimCommand(args: string[]): Promise<number> {
  const { values } = parseCommandArgs(
    args,
    { scenario: { type: 'string' }, seed: { type: 'string' }, report: { type: 'string' }, 'no-vision': { type: 'boolean', default: false } },
    help,
  );
  if (!values.scenario) throw errors.EDGE_ERR_CLI_USAGE(`--scenario FILE is required\nusage: ${help}`);
  let scenario = loadScenarioFile(values.scenario);
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) throw errors.EDGE_ERR_CLI_USAGE(`--seed must be a whole number\nusage: ${help}`);
    scenario = { ...scenario, seed };
  }
  const report = await runScenario(scenario, { progress: (line) => process.stderr.write(`${line}\n`) });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.report) writeFileSync(values.report, json);
  process.stdout.write(formatScenarioReport(report));
  if (values.report) process.stdout.write(`report: ${values.report}\n`);
  return 0;
}

export async function runScenario(scenario: ScenarioFile, options: { progress?: (line: string) => void } = {}): Promise<ScenarioReport> {
  const progress = options.progress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-sim-'));
  const clients: MqttClient[] = [];
  let agent: StoreAgent | undefined;
  try {
    const shelfRun = scenario.shelfActivity ? new ShelfScenarioRun(scenario, { epochMs }) : undefined;
    const config = loadConfig(
      {
        storeId,
        dataDir: dir,
        broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
        http: { host: '127.0.0.1', port: 0 },
        log: { level: 'warn' },
        // Simulated time runs faster than real time: the per-device rate limit (100 msg/s in a
        // store) would drop samples that are 100 ms apart in device time but 1 ms apart here.
        ingest: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
        store: { model: scenario.store },
      },
      dir,
    );
    agent = await StoreAgent.start(config);
    const changes: ShelfChange[] = [];
    agent.bus.on('shelf.change', (change) => changes.push(change));

    const started = performance.now();
    let summary: Awaited<ReturnType<ShelfScenarioRun['run']>> | undefined;
    if (shelfRun) {
      const byDevice = new Map<string, MqttClient>();
      for (const deviceId of shelfRun.deviceIds) {
        const { secret } = await agent.registry.add({ id: deviceId, kind: 'shelf', actor: 'sim' });
        const client = await mqtt.connectAsync(agent.addresses.mqtt!, {
          clientId: deviceId,
          username: deviceId,
          password: secret,
          reconnectPeriod: 0,
        });
        clients.push(client);
        byDevice.set(deviceId, client);
      }
      progress(`sim: ${scenario.scenario} seed ${scenario.seed}: ${byDevice.size} shelf controllers connected`);
      const api = agent.httpUrl;
      summary = await shelfRun.run(
        {
          publish: async (deviceId: string, payload: WeightPayload) => {
            await byDevice.get(deviceId)!.publishAsync(topics.event(storeId, deviceId, 'weight'), JSON.stringify(payload), { qos: 1 });
          },
        },
        {
          // The shelves stay on after the last action for longer than the weight pipeline holds an unexplained change
          // (unexplainedHoldMs, 30 s), so the report reads what the agent decided, not what it was still holding.
          settleTailMs: 35_000,
          staff: {
            async restock(trayId, sku, units) {
              const response = await fetch(`${api}/api/stock/restock`, {
                method: 'POST',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ trayId, sku, quantity: units, actor: 'sim-staff' }),
              });
              if (!response.ok) throw new Error(`restock refused: ${response.status} ${await response.text()}`);
            },
          },
        },
      );
    }
    const wallMs = performance.now() - started;
    progress(`sim: ${summary?.messages ?? 0} messages, ${Math.round((summary?.simulatedMs ?? 0) / 1000)} s simulated in ${(wallMs / 1000).toFixed(1)} s`);

    const report: ScenarioReport = { scenario: scenario.scenario, seed: scenario.seed, run: { wallMs: Math.round(wallMs), ...summary } };
    if (shelfRun) {
      const stock = (await (await fetch(`${agent.httpUrl}/api/stock`)).json()) as {
        skus: Array<{ sku: string; book: number; misplacedUnits: number }>;
        trays: Array<{ trayId: string; sku: string; facing: boolean; observed: number }>;
      };
      const { alerts } = (await (await fetch(`${agent.httpUrl}/api/alerts?state=open&kind=misplaced-item&limit=10000`)).json()) as {
        alerts: Array<{ trayId: string; sku: string | null }>;
      };
      const { shelfEvents, inventory } = shelfRun.evaluate({
        changes,
        stockBySku: new Map(stock.skus.map((s) => [s.sku, s.book])),
        misplacedUnits: stock.skus.reduce((sum, s) => sum + s.misplacedUnits, 0),
      });
      // Misplaced units the store manager is told about: those on a (tray, SKU) row with an open misplaced-item alert.
      const alerted = new Set(alerts.map((a) => `${a.trayId}\u0000${a.sku}`));
      const misplacedRows = stock.trays.filter((t) => !t.facing && t.observed > 0);
      const misplacedAlerted = misplacedRows.filter((t) => alerted.has(`${t.trayId}\u0000${t.sku}`)).reduce((sum, t) => sum + t.observed, 0);
      report.shelfEvents = shelfEvents as unknown as Record<string, unknown>;
      report.inventory = { ...inventory, misplacedAlerted, misplacedAlerts: alerts.length } as unknown as Record<string, unknown>;
    }
    return report;
  } catch (error) {
    progress(`sim: failed: ${(error as Error).stack ?? String(error)}`);
    throw error;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(2)} %` : '—');

export function formatScenarioReport(report: ScenarioReport): string {
  const lines = [`scenario ${report.scenario} · seed ${report.seed}`];
  const e = report.shelfEvents as Record<string, number> | undefined;
  if (e) {
    lines.push(
      `shelf events   precision ${pct(e.precision)}  recall ${pct(e.recall)}  quantity exact ${pct(e.quantityExactRate)}` +
        `  (${e.matched} matched of ${e.trueEvents} true, ${e.detectedEvents} detected; multi-unit picks exact ${e.multiUnitExact}/${e.multiUnitPicks}; sign errors ${e.signErrors})`,
    );
  }
  const i = report.inventory as Record<string, number> | undefined;
  if (i) {
    lines.push(
      `inventory      drift ${i.driftUnits} units  accuracy ${pct(i.accuracy)}  misplaced flagged ${i.misplacedFlagged} of ${i.misplacedTrue} (${i.misplacedAlerted} under ${i.misplacedAlerts} open misplaced-item alerts)`,
    );
  }
  return `${lines.join('\n')}\n`;
}
