import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { topics, type DeviceKind, type WeightPayload } from '@storeedge/device-drivers';
import {
  catalogImages,
  CheckoutScenarioRun,
  LabelsScenarioRun,
  loadScenarioFile,
  ShelfScenarioRun,
  SimClock,
  type CatalogImages,
  type CheckoutOutcome,
  type LabelsAgentPort,
  type LabelsOutcome,
  type ScenarioFile,
  type StaffActions,
  type TrackIdentityReport,
} from '@storeedge/simulators';
import { labelEventTypes, labelStream, type LabelDesired } from '../labels/ledger-events.ts';
import { SimulatedPaymentService } from '../checkout/payment.ts';
import { checkoutSettingsSchema } from '../checkout/settings.ts';
import { TrackBook } from '../checkout/track-book.ts';
import { StoreAgent } from '../agent.ts';
import { loadConfig } from '../config/load.ts';
import { errors } from '../errors.ts';
import { newApiToken, type UserConfig } from '../http/auth/index.ts';
import type { ShelfChange } from '../events.ts';
import { parseCommandArgs } from './main.ts';
import { SimHqLink, type SyncScenarioReport } from './sim-hq-link.ts';

const help = 'storeedge sim --scenario FILE [--seed N] [--report FILE] [--no-vision | --tracks-only]';
const storeId = 'sim-store';
/** Simulated device time starts here, so reports are the same on every run of a seed. */
const epochMs = Date.UTC(2026, 0, 5, 8, 0, 0);

/** The report of a scenario run; fields as in ARCHITECTURE.md ("Scenario file and report"). */
export interface ScenarioReport {
  scenario: string;
  seed: number;
  visits?: number;
  checkout?: Record<string, unknown>;
  shelfEvents?: Record<string, unknown>;
  inventory?: Record<string, unknown>;
  /**
   * The shelf cameras (checkout runs): whether they were on (the scenario's `vision.enabled`,
   * unless `--no-vision`), how many frames they sent, the wall time the run waited for frames to
   * render, and the time rendering the catalogue images for the agent took.
   */
  vision?: {
    enabled: boolean;
    cameras: number;
    frames: number;
    renderMs: number;
    catalogImagesMs: number;
    /** What the agent's frame store made of the frames (its own counters): accepted, and rejected by code. */
    agent?: { received: number; accepted: number; rejected: Record<string, number> };
  };
  /** Shelf labels (labels scenarios): the truth kept by the gateway simulators against the agent's outputs (docs/esl.md). */
  labels?: Record<string, unknown>;
  /** HQ sync (scenarios with a `network` section): the store's outbox against what the reference HQ holds, the outages, the backlog (sim-hq-link.ts). */
  sync?: SyncScenarioReport;
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
    { scenario: { type: 'string' }, seed: { type: 'string' }, report: { type: 'string' }, 'no-vision': { type: 'boolean', default: false }, 'tracks-only': { type: 'boolean', default: false } },
    help,
  );
  if (!values.scenario) throw errors.EDGE_ERR_CLI_USAGE(`--scenario FILE is required\nusage: ${help}`);
  let scenario = loadScenarioFile(values.scenario);
  if (values.seed !== undefined) {
    const seed = Number(values.seed);
    if (!Number.isInteger(seed)) throw errors.EDGE_ERR_CLI_USAGE(`--seed must be a whole number\nusage: ${help}`);
    scenario = { ...scenario, seed };
  }
  if (values['tracks-only']) return runTracksOnly(scenario, values.report);
  const report = await runScenario(scenario, { progress: (line) => process.stderr.write(`${line}\n`), vision: !values['no-vision'] });
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (values.report) writeFileSync(values.report, json);
  process.stdout.write(formatScenarioReport(report));
  if (values.report) process.stdout.write(`report: ${values.report}\n`);
  return 0;
}

/**
 * `storeedge sim --tracks-only`: the checkout scenario's tracker frames and entry scans straight
 * into the agent's person book (TrackBook, default settings) — no agent, no MQTT, seconds for the
 * crowded store — and how well it kept who is who (docs/checkout.md "Identity in a crowd").
 */
function runTracksOnly(scenario: ScenarioFile, reportPath: string | undefined): number {
  if (!scenario.checkout) throw errors.EDGE_ERR_CLI_USAGE(`--tracks-only needs a scenario with a checkout section\nusage: ${help}`);
  const run = new CheckoutScenarioRun(scenario, { epochMs, vision: false });
  const book = new TrackBook(scenario.store.gates, checkoutSettingsSchema.parse({}).tracks);
  const identity = run.evaluateTrackIdentity(book);
  if (reportPath) writeFileSync(reportPath, `${JSON.stringify({ scenario: scenario.scenario, seed: scenario.seed, identity }, null, 2)}\n`);
  process.stdout.write(formatTrackIdentity(scenario, identity));
  if (reportPath) process.stdout.write(`report: ${reportPath}\n`);
  return 0;
}

export function formatTrackIdentity(scenario: ScenarioFile, r: TrackIdentityReport): string {
  const pct = (n: number, of: number) => `${of === 0 ? '0.00' : ((100 * n) / of).toFixed(2)} %`;
  const { tracker: t, swaps: w, stitches: st, samples: sa, actions: a, persons: p } = r;
  return [
    `scenario ${scenario.scenario} · seed ${scenario.seed} · tracks only`,
    `tracker        ${t.tracks} track ids  ${t.dropouts} dropouts  ${t.encounters} close encounters  ${t.swaps} id swaps`,
    `swaps          ${w.tracker} (${w.fresh} as a track appeared, ${w.acrossVisits} across visits)  repaired right ${w.right}  false ${w.false}  missed ${w.missed} (${w.missedAcrossVisits} across visits)`,
    `stitches       right ${st.right + st.rightInDoubt} (${st.rightInDoubt} in doubt)  wrong ${st.wrong + st.wrongInDoubt} (${st.wrongInDoubt} in doubt)`,
    `samples        ${sa.total}  on another visit ${pct(sa.wrongVisit, sa.total)} (in doubt ${pct(sa.wrongVisitInDoubt, sa.total)})`,
    `actions        ${a.total}  actor on another visit ${a.wrongVisit} (${a.wrongVisit - a.wrongVisitInDoubt} not in doubt)  actor in doubt ${a.inDoubt} (a review each)`,
    `persons        ${p.total}  ever on another visit ${p.everWrong}`,
    '',
  ].join('\n');
}

/** What a caller may add to a scenario run (the dashboard bench: a user, and a browser watching while it runs). */
export interface ScenarioRunOptions {
  progress?: (line: string) => void;
  /** `false` turns the scenario's shelf cameras off (`--no-vision`): no frame is rendered or sent, no catalogue image made. */
  vision?: boolean;
  /** Dashboard users for the agent's config (`http.users`). */
  users?: UserConfig[];
  /** Called once the agent is up, before the devices connect. */
  onAgentStarted?: (agent: StoreAgent) => Promise<void>;
  /** Called after the run, before the agent stops. */
  beforeAgentStops?: (agent: StoreAgent) => Promise<void>;
}

export async function runScenario(scenario: ScenarioFile, options: ScenarioRunOptions = {}): Promise<ScenarioReport> {
  const progress = options.progress ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-sim-'));
  const clients: MqttClient[] = [];
  let agent: StoreAgent | undefined;
  let hqLink: SimHqLink | undefined;
  try {
    if (scenario.network) {
      // A real Mosquitto as HQ's upstream broker keeps its files under the run's dir; run as root it
      // drops to the `mosquitto` user, which must be able to pass through (the dir stays unlistable).
      chmodSync(dir, 0o711);
      hqLink = await SimHqLink.start({ dir, storeId, network: scenario.network, progress });
    }
    const shelfRun = scenario.shelfActivity ? new ShelfScenarioRun(scenario, { epochMs }) : undefined;
    const checkoutRun = scenario.checkout ? new CheckoutScenarioRun(scenario, { epochMs, vision: options.vision ?? true }) : undefined;
    const labelsRun = scenario.labels ? new LabelsScenarioRun(scenario, { epochMs }) : undefined;
    // The agent's clock for prices and labels: the labels run drives it; other runs leave it at the start (prices are in force from there).
    const clock = labelsRun?.clock ?? new SimClock(epochMs);
    // The catalogue images HQ sends with the catalogue: the agent names a held product by the nearest of them.
    let images: CatalogImages | undefined;
    let catalogImagesMs = 0;
    if (checkoutRun?.visionEnabled) {
      const t0 = performance.now();
      images = await catalogImages(scenario.store.catalog);
      catalogImagesMs = performance.now() - t0;
      progress(`sim: ${images.size} SKUs' catalogue images rendered in ${(catalogImagesMs / 1000).toFixed(1)} s`);
    }
    const payment = new SimulatedPaymentService();
    // The simulated staff reach the agent's API as any client does: with a token made for this run (only its hash in the config).
    const staffToken = newApiToken();
    const staffAuth = { authorization: `Bearer ${staffToken.token}` };
    const config = loadConfig(
      {
        storeId,
        dataDir: dir,
        broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
        http: { host: '127.0.0.1', port: 0, apiTokens: [{ name: 'sim-staff', role: 'staff', tokenSha256: staffToken.tokenSha256 }], ...(options.users ? { users: options.users } : {}) },
        log: { level: 'warn' },
        // A scenario's ledger is thrown away at the end: crash-safe commits (no fsync per commit) are enough, and the
        // outcome does not depend on them (kill -9 durability has its own tests with the default 'full').
        ledger: { synchronous: 'normal' },
        // Simulated time runs faster than real time: the per-device rate limit (100 msg/s in a
        // store) would drop samples that are 100 ms apart in device time but 1 ms apart here.
        ingest: { ratePerSecond: 1_000_000, rateBurst: 1_000_000 },
        store: { model: labelsRun?.store ?? scenario.store },
        ...(hqLink ? { sync: hqLink.agentSettings } : {}),
      },
      dir,
    );
    // The cameras' calibrations as the simulator renders them (the scenario's vision.placement/width/height included), so both sides agree.
    const cameras = checkoutRun?.cameraCalibrations ?? [];
    agent = await StoreAgent.start(config, { payment, clock, ...(cameras.length > 0 ? { cameras } : {}), ...(images ? { catalogImages: images } : {}) });
    const changes: ShelfChange[] = [];
    agent.bus.on('shelf.change', (change) => changes.push(change));
    await hqLink?.attach(agent);
    await options.onAgentStarted?.(agent);

    const started = performance.now();
    let summary: Awaited<ReturnType<ShelfScenarioRun['run']>> | undefined;
    if (shelfRun) {
      const byDevice = await connectDevices(agent, clients, shelfRun.deviceIds.map((id) => [id, 'shelf'] as const));
      progress(`sim: ${scenario.scenario} seed ${scenario.seed}: ${byDevice.size} shelf controllers connected`);
      summary = await shelfRun.run(
        {
          publish: async (deviceId: string, payload: WeightPayload) => {
            await byDevice.get(deviceId)!.publishAsync(topics.event(storeId, deviceId, 'weight'), JSON.stringify(payload), { qos: 1 });
          },
        },
        // The shelves stay on after the last action for longer than the weight pipeline holds an unexplained change
        // (unexplainedHoldMs, 30 s), so the report reads what the agent decided, not what it was still holding.
        { settleTailMs: 35_000, staff: staffThroughApi(agent.httpUrl, staffAuth) },
      );
    }
    let checkoutSummary: Record<string, unknown> | undefined;
    let reviewReasons: ReviewReasons = {};
    if (checkoutRun) {
      const byDevice = await connectDevices(agent, clients, [
        ...checkoutRun.shelfDeviceIds.map((id) => [id, 'shelf'] as const),
        ...checkoutRun.gateDeviceIds.map((id) => [id, 'gate'] as const),
        ...checkoutRun.trackerDeviceIds.map((id) => [id, 'tracker'] as const),
        ...checkoutRun.cameraDeviceIds.map((id) => [id, 'camera'] as const),
      ]);
      progress(`sim: ${scenario.scenario} seed ${scenario.seed}: ${byDevice.size} devices connected`);
      checkoutSummary = (await checkoutRun.run(
        {
          publish: async (deviceId: string, type: string, payload: object) => {
            // Camera frames are binary (header + JPEG, docs/mqtt.md); everything else is JSON.
            const body = Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
            await byDevice.get(deviceId)!.publishAsync(topics.event(storeId, deviceId, type), body, { qos: 1 });
            // The agent validates a frame after the PUBACK; the run sends nothing more until it has (simulated time
            // runs faster than real time: without this, frames would pile up in the agent's validation queue and be dropped).
            if (type === 'frame') await agent!.frames.idle();
            // Likewise a shelf change waiting for the cameras' answer: simulated time would run on while the
            // inference runs in real time, and a few milliseconds of work would show as seconds of latency.
            // (What inference costs per crop is `storeedge bench vision`'s to measure.)
            else if (type === 'weight') await agent!.checkout.settled();
          },
        },
        // Longer than the weight pipeline's unexplained hold and the checkout's settle limit, so every visit is decided.
        // HQ outages (scenario `network`) start and end as the device time passes them.
        { settleTailMs: 45_000, staff: staffThroughApi(agent.httpUrl, staffAuth), ...(hqLink ? { onTime: (simMs: number) => hqLink!.onTime(simMs) } : {}) },
      )) as unknown as Record<string, unknown>;
      reviewReasons = await resolveReviews(agent, checkoutRun);
    }
    let labelsOutcome: LabelsOutcome | undefined;
    if (labelsRun) {
      progress(`sim: ${scenario.scenario} seed ${scenario.seed}: ${labelsRun.store.labels.length} labels on ${labelsRun.gatewayIds.length} gateways`);
      labelsOutcome = await labelsRun.run(labelsPort(agent), progress);
    }
    const wallMs = performance.now() - started;
    const checkoutMessages = checkoutSummary ? Object.values(checkoutSummary.messages as Record<string, number>).reduce((a, b) => a + b, 0) : 0;
    const messages = (summary?.messages ?? 0) + checkoutMessages + (labelsOutcome ? labelsOutcome.commands : 0);
    const simulatedMs = Math.max(summary?.simulatedMs ?? 0, (checkoutSummary?.simulatedMs as number | undefined) ?? 0, labelsOutcome?.simulatedMs ?? 0);
    progress(`sim: ${messages} messages, ${Math.round(simulatedMs / 1000)} s simulated in ${(wallMs / 1000).toFixed(1)} s`);

    const { vision, ...checkoutRunSummary } = checkoutSummary ?? {};
    const report: ScenarioReport = { scenario: scenario.scenario, seed: scenario.seed, run: { wallMs: Math.round(wallMs), ...summary, ...checkoutRunSummary } };
    if (vision) {
      report.vision = { ...(vision as { enabled: boolean; cameras: number; frames: number; renderMs: number }), catalogImagesMs: Math.round(catalogImagesMs) };
      if (report.vision.enabled) {
        const stats = checkoutRun!.cameraDeviceIds.map((id) => agent!.frames.stats(id)).filter((x) => x !== undefined);
        const rejected: Record<string, number> = {};
        for (const st of stats) for (const [code, n] of Object.entries(st.rejected)) rejected[code] = (rejected[code] ?? 0) + (n ?? 0);
        report.vision.agent = { received: stats.reduce((a, st) => a + st.received, 0), accepted: stats.reduce((a, st) => a + st.accepted, 0), rejected };
      }
      if (report.vision.enabled) progress(`sim: ${report.vision.frames} camera frames from ${report.vision.cameras} cameras, ${(report.vision.renderMs / 1000).toFixed(1)} s rendering`);
    }
    if (labelsOutcome) report.labels = { ...agent.labels.report(), truth: labelsOutcome, alerts: labelAlerts(agent) };
    if (checkoutRun) {
      const checkout = checkoutRun.evaluate(checkoutOutcome(agent, payment));
      report.visits = checkout.visits;
      report.checkout = { ...checkout, review: { ...checkout.review, byReason: reviewReasons } } as unknown as Record<string, unknown>;
    }
    if (shelfRun) {
      const stock = (await (await fetch(`${agent.httpUrl}/api/stock`, { headers: staffAuth })).json()) as {
        skus: Array<{ sku: string; book: number; misplacedUnits: number }>;
        trays: Array<{ trayId: string; sku: string; facing: boolean; observed: number }>;
      };
      const { alerts } = (await (await fetch(`${agent.httpUrl}/api/alerts?state=open&kind=misplaced-item&limit=10000`, { headers: staffAuth })).json()) as {
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
    // Last: every outbox row the run made (reviews resolved included) has had its chance to reach HQ.
    if (hqLink) {
      report.sync = await hqLink.finish();
      progress(`sim: sync: ${report.sync.uplinkEvents} outbox rows, HQ holds ${report.sync.hqReceived}, missing ${report.sync.missing}, duplicates ${report.sync.duplicates}`);
    }
    await options.beforeAgentStops?.(agent);
    return report;
  } catch (error) {
    progress(`sim: failed: ${(error as Error).stack ?? String(error)}`);
    throw error;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await agent?.stop();
    await hqLink?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The labels run's view of the agent: its registry, price book, till rule, label service and ledger. */
function labelsPort(agent: StoreAgent): LabelsAgentPort {
  const contentPrice = new Map<string, number>();
  let fromSeq = 1;
  return {
    async register(deviceId) {
      const { secret } = await agent.registry.add({ id: deviceId, kind: 'esl-gateway', actor: 'sim' });
      return { url: agent.addresses.mqtt!, password: secret };
    },
    setPrices(changes) {
      agent.prices.setPrices(changes.map((c) => ({ sku: c.sku, priceMinor: c.priceMinor, effectiveFrom: c.effectiveFrom, source: 'hq', reason: 'scenario price change', actor: 'sim-hq' })));
    },
    charge: (sku, at) => agent.tillPrice(sku, at),
    priceOfContent: (hash) => contentPrice.get(hash),
    desiredHash: (tagId) => agent.labels.label(tagId).desired?.contentHash ?? undefined,
    labelState: (tagId) => agent.labels.label(tagId).state,
    labelView: (tagId) => agent.labels.label(tagId),
    currentPrice: (sku, at) => agent.prices.unitPriceAt(sku, at).priceMinor,
    async idle() {
      await agent.labels.idle();
      // What the agent rendered into each hash, from its ledger (label.desired), read as it grows.
      for (;;) {
        const batch = agent.ledger.events({ stream: labelStream, fromSeq, limit: 10_000 });
        for (const event of batch) {
          if (event.type === labelEventTypes.desired) {
            const p = event.payload as LabelDesired;
            contentPrice.set(p.contentHash, p.content.priceMinor);
          }
          fromSeq = event.seq + 1;
        }
        if (batch.length < 10_000) break;
      }
      return agent.labels.sends; // the run sends no LED flashes
    },
  };
}

/** Open label alerts by kind (stale, unseen, low battery). */
function labelAlerts(agent: StoreAgent): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of agent.inventory.alerts({ state: 'open', limit: 1_000_000 })) if (a.kind.startsWith('label-')) out[a.kind] = (out[a.kind] ?? 0) + 1;
  return out;
}

/** Registers each simulated device with the agent and connects it over MQTT with its new secret. */
async function connectDevices(agent: StoreAgent, clients: MqttClient[], devices: ReadonlyArray<readonly [string, DeviceKind]>): Promise<Map<string, MqttClient>> {
  const byDevice = new Map<string, MqttClient>();
  for (const [deviceId, kind] of devices) {
    const { secret } = await agent.registry.add({ id: deviceId, kind, actor: 'sim' });
    const client = await mqtt.connectAsync(agent.addresses.mqtt!, { clientId: deviceId, username: deviceId, password: secret, reconnectPeriod: 0 });
    clients.push(client);
    byDevice.set(deviceId, client);
  }
  return byDevice;
}

/** Staff announce restocks through the agent's API before they stock the shelf. */
function staffThroughApi(api: string, auth: { authorization: string }): StaffActions {
  return {
    async restock(trayId, sku, units) {
      const response = await fetch(`${api}/api/stock/restock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ trayId, sku, quantity: units }),
      });
      if (!response.ok) throw new Error(`restock refused: ${response.status} ${await response.text()}`);
    },
  };
}

/** Review items by the checkout's reason: how many, and how many the checkout's own proposal got right. */
type ReviewReasons = Record<string, { items: number; proposalRight: number }>;

/**
 * The store manager at the end of the run: every open review item is decided from what the
 * clip shows — the simulator answers which visits really took or put back what at that tray
 * then (a human with the video) — restricted to the item's candidate sessions. Returns the
 * items by reason, and whether the checkout's proposal matched the decision (the report's
 * `checkout.review.byReason`: where reviews come from and which of them were needless).
 */
async function resolveReviews(agent: StoreAgent, run: CheckoutScenarioRun): Promise<ReviewReasons> {
  const tokens = agent.checkout.visitTokens();
  const sessionOf = new Map([...tokens].map(([sessionId, token]) => [token, sessionId]));
  const byReason: ReviewReasons = {};
  for (const item of agent.checkout.reviews({ state: 'open' })) {
    const review = agent.checkout.review(item.id);
    const change = (agent.ledger.getByKey(`review:${review.changeId}`)?.payload as { change: { startAt: number; settledAt: number } } | undefined)?.change;
    if (change === undefined) continue;
    const lines = run
      .reviewAnswer(review.trayId, change.startAt, change.settledAt)
      .flatMap((a) => {
        const sessionId = sessionOf.get(a.token);
        return sessionId !== undefined && review.sessionIds.includes(sessionId) ? [{ sessionId, sku: a.sku, quantity: a.quantity }] : [];
      });
    const key = (l: { sessionId: string; sku: string; quantity: number }) => `${l.sessionId} ${l.sku} ${l.quantity}`;
    const right = [...lines.map(key)].sort().join('|') === [...review.proposal.map(key)].sort().join('|');
    const stats = (byReason[review.reason] ??= { items: 0, proposalRight: 0 });
    stats.items++;
    if (right) stats.proposalRight++;
    agent.checkout.resolveReview(review.id, { lines, actor: 'sim-manager' });
  }
  return byReason;
}

/** What the agent charged, in the evaluation's terms: receipts by payment token, cart additions with their store-clock time. */
function checkoutOutcome(agent: StoreAgent, payment: SimulatedPaymentService): CheckoutOutcome {
  const tokens = agent.checkout.visitTokens();
  const reviews = agent.checkout.reviews();
  const receipts = agent.checkout.receipts({ limit: 1_000_000 }).map((receipt) => {
    const session = agent!.checkout.session(receipt.sessionId);
    const own = reviews.filter((r) => r.sessionIds.includes(session.id));
    // Without review: the lines the agent was sure of, plus its guesses for the items it sent to review.
    const guessed = new Map<string, number>();
    for (const line of session.lines) if (line.reason !== 'review') guessed.set(line.sku, (guessed.get(line.sku) ?? 0) + line.quantity);
    for (const r of own) for (const p of r.proposal) if (p.sessionId === session.id) guessed.set(p.sku, (guessed.get(p.sku) ?? 0) + p.quantity);
    // What the shopper pays in the end: the receipt less its refunds (a unit handed over and put back after the picker left).
    const refunded = new Map<string, number>();
    for (const c of receipt.corrections) for (const l of c.lines) refunded.set(l.sku, (refunded.get(l.sku) ?? 0) + l.quantity);
    return {
      token: payment.charges.get(receipt.receiptId)?.token ?? tokens.get(receipt.sessionId)!,
      lines: receipt.lines.map((l) => ({ sku: l.sku, quantity: l.quantity - (refunded.get(l.sku) ?? 0) })).filter((l) => l.quantity > 0),
      totalMinor: receipt.totalMinor - receipt.corrections.reduce((sum, c) => sum + c.amountMinor, 0),
      issuedAt: receipt.issuedAt,
      reviewed: receipt.reviewed,
      minConfidence: Math.min(receipt.minConfidence, ...own.map((r) => r.confidence)),
      unreviewedLines: [...guessed].map(([sku, n]) => ({ sku, quantity: n - (refunded.get(sku) ?? 0) })).filter((l) => l.quantity > 0),
    };
  });
  const cartEvents = agent.checkout.sessions({ limit: 1_000_000 }).flatMap((session) =>
    session.lines.filter((l) => l.quantity > 0 && l.reason !== 'review').map((l) => ({ token: tokens.get(session.id)!, sku: l.sku, quantity: l.quantity, addedAt: l.addedAt })),
  );
  return { receipts, cartEvents };
}

const pct = (x: unknown) => (typeof x === 'number' ? `${(x * 100).toFixed(2)} %` : '—');

export function formatScenarioReport(report: ScenarioReport): string {
  const lines = [`scenario ${report.scenario} · seed ${report.seed}`];
  const c = report.checkout as CheckoutReportView | undefined;
  if (c) lines.push(...formatCheckout(c));
  const v = report.vision;
  if (v) lines.push(v.enabled ? `vision         on: ${v.frames} frames from ${v.cameras} cameras (render ${(v.renderMs / 1000).toFixed(1)} s, catalogue images ${(v.catalogImagesMs / 1000).toFixed(1)} s)` : 'vision         off');
  const l = report.labels as (Record<string, unknown> & { truth: LabelsOutcome; alerts: Record<string, number> }) | undefined;
  if (l) {
    const t = l.truth;
    const s = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(0)} s`);
    lines.push(
      `labels         ${t.total} on ${t.gateways} gateways; in range ${t.inRange}, showing the desired content ${t.converged} (agent: ${t.confirmedByAgent} confirmed), wrong price shown ${t.wrongPriceShown}`,
      `integrity      ${t.purchases} purchases, ${t.integrityViolations} charged above a label's price (agent's own count ${String(l.integrityViolations)}); resent unchanged ${t.resentUnchanged}`,
      `label lag      ${t.priceChanges} price changes: p50 ${s(t.lagMs.p50)} p95 ${s(t.lagMs.p95)} max ${s(t.lagMs.max)}, ${t.lagOpen} not caught up; alerts ${Object.entries(l.alerts).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      ...t.storeWideUpdates.map(
        (u) =>
          `store-wide     ${u.labels} labels at ${s(u.atMs)}: shown on half the SKUs after ${s(u.p50Ms)}, 95 % ${s(u.p95Ms)}, 99 % ${s(u.p99Ms)}, all ${s(u.confirmMs)} (radio bound ${s(u.lowerBoundMs)}, ${(u.bytes / 1e6).toFixed(1)} MB on air)`,
      ),
    );
  }
  if (report.sync) lines.push(...formatSync(report.sync));
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

function formatSync(y: SyncScenarioReport): string[] {
  const hms = (ms: number | null) => {
    if (ms === null) return '—';
    const t = Math.round(ms / 1000);
    return `${Math.floor(t / 3600)}:${String(Math.floor(t / 60) % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`;
  };
  const real = (ms: number | null) => (ms === null ? '—' : ms < 10_000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`);
  const money = (minor: number) => (minor / 100).toFixed(2);
  const tenMinutes = y.backlog.pending.filter((_, i) => i % 10 === 0);
  return [
    `sync           ${y.uplinkEvents} outbox rows, HQ holds ${y.hqReceived}: missing ${y.missing}  duplicates ${y.duplicates} (re-deliveries HQ deduplicated ${y.duplicateDeliveries})  unexpected ${y.unexpected}  pending ${y.pendingAtEnd}  rejected ${y.rejected}`,
    `sync receipts  store ${y.receipts.store} (${money(y.receipts.storeTotalMinor)})  HQ ${y.receipts.hq} (${money(y.receipts.hqTotalMinor)})  mismatched ${y.receipts.mismatched}`,
    `sync egress    ${y.egress.messages} messages (${(y.egress.bytes / 1024).toFixed(0)} KiB) scanned for personal data and ${y.egress.shopperTokens} shopper tokens: ${y.egress.hits} hits${y.egress.hits > 0 ? ` ${JSON.stringify(y.egress.byKind)}` : ''}`,
    ...y.outages.map(
      (o) =>
        `sync outage    ${hms(o.startMs)} for ${hms(o.lengthMs)} (${real(o.downWallMs)} real): backlog ${o.pendingAtStart ?? '—'} → ${o.pendingAtEnd ?? '—'}; reconnected ${real(o.reconnectWallMs)} after the restart with ${o.backlogAtReconnect ?? '—'} pending; empty ${real(o.drainWallMs)} later (at ${hms(o.drainedAtMs)})`,
    ),
    `sync backlog   pending every 10 simulated min: ${tenMinutes.join(' ')} (max ${Math.max(0, ...y.backlog.pending)}); final drain ${y.finalDrain.drained ? real(y.finalDrain.wallMs) : `not drained after ${real(y.finalDrain.wallMs)}`}`,
  ];
}

interface CheckoutReportView {
  visits: number;
  receipts: { exactMatchRate: number; overcharge: number; undercharge: number; missing: number; wrong: number };
  items: { precision: number; recall: number; f1: number };
  attribution: { byCrowding: Record<string, number | null> };
  review: { rate: number; unreviewedErrorRate: number; tradeOff: Array<{ threshold: number; reviewRate: number; unreviewedErrorRate: number }>; byReason?: ReviewReasons };
  latency: { pickToCartMs: { p50: number | null; p95: number | null; p99: number | null }; exitToReceiptMs: { p50: number | null; p95: number | null; p99: number | null } };
  cases: Record<string, { units: number; f1: number }>;
}

function formatCheckout(c: CheckoutReportView): string[] {
  const ms = (x: number | null) => (x === null ? '—' : `${(x / 1000).toFixed(2)} s`);
  const crowd = Object.entries(c.attribution.byCrowding)
    .map(([k, v]) => `${k}: ${v === null ? '—' : pct(v)}`)
    .join('  ');
  const cases = Object.entries(c.cases)
    .filter(([, v]) => v.units > 0)
    .map(([k, v]) => `${k} ${v.f1.toFixed(3)} (${v.units})`)
    .join(', ');
  return [
    `visits         ${c.visits}  receipts exact ${pct(c.receipts.exactMatchRate)}  wrong ${c.receipts.wrong}  missing ${c.receipts.missing}  overcharge ${c.receipts.overcharge.toFixed(2)}  undercharge ${c.receipts.undercharge.toFixed(2)}`,
    `items          precision ${pct(c.items.precision)}  recall ${pct(c.items.recall)}  F1 ${c.items.f1.toFixed(4)}`,
    `attribution    by crowding  ${crowd}`,
    `review         reviewed ${pct(c.review.rate)}  unreviewed wrong ${pct(c.review.unreviewedErrorRate)}  trade-off ${c.review.tradeOff.map((t) => `${t.threshold}: ${pct(t.reviewRate)}/${pct(t.unreviewedErrorRate)}`).join('  ')}`,
    `review items   ${Object.entries(c.review.byReason ?? {}).map(([reason, r]) => `${reason} ${r.items} (proposal right ${r.proposalRight})`).join(', ') || 'none'}`,
    `latency        pick→cart p50 ${ms(c.latency.pickToCartMs.p50)} p95 ${ms(c.latency.pickToCartMs.p95)} p99 ${ms(c.latency.pickToCartMs.p99)}  exit→receipt p50 ${ms(c.latency.exitToReceiptMs.p50)} p95 ${ms(c.latency.exitToReceiptMs.p95)} p99 ${ms(c.latency.exitToReceiptMs.p99)}`,
    `cases (F1)     ${cases}`,
  ];
}
