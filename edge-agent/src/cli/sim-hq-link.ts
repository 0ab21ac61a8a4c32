import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { contentHash, generateSigningKey, scanForPii, type PiiKind } from '@storeedge/sync';
import { HqService, HqStore, type HeldRecord } from '@storeedge/sync/hq/index.ts';
import type { HqOutage, ScenarioNetwork } from '@storeedge/simulators';
import type { StoreAgent } from '../agent.ts';
import { checkoutEventTypes, type SessionOpened } from '../checkout/ledger-events.ts';
import type { SyncSettingsInput } from '../sync/settings.ts';
import { uplinkPayload } from '../sync/uplink-relay.ts';
import { errors } from '../errors.ts';
import { UpstreamMosquitto } from './upstream-mosquitto.ts';

/** Egress kept for the PII scan at the end, at most (the counts go on past it). */
const EGRESS_KEEP_BYTES = 256 * 1024 * 1024;

/** What the store sent up, as HQ received it (every message on the store's `up/*` topics). */
interface EgressLog {
  messages: number;
  bytes: number;
  kept: string[];
  keptBytes: number;
}

/** The backlog is sampled once per simulated minute. */
const BACKLOG_SAMPLE_MS = 60_000;
/** How long the end of a run waits (real time) for the outbox to drain before it compares anyway. */
const FINAL_DRAIN_TIMEOUT_MS = 300_000;

/** One outage as it went: simulated times from the scenario's start, wall times in real ms. */
export interface OutageReport {
  startMs: number;
  lengthMs: number;
  /** Real time the broker was down (SIGTERM to the restart's spawn). */
  downWallMs: number | null;
  /** Outbox rows pending when the broker stopped, and when it came back (the backlog the outage built). */
  pendingAtStart: number | null;
  pendingAtEnd: number | null;
  /** Simulated time the store was connected again, and the real ms from the broker's restart (the spawn) to that. */
  reconnectedAtMs: number | null;
  reconnectWallMs: number | null;
  /** Pending rows when the store reconnected. */
  backlogAtReconnect: number | null;
  /** The first moment after the reconnect with nothing pending: simulated time, and real ms since the reconnect. */
  drainedAtMs: number | null;
  drainWallMs: number | null;
}

/** `sync` of the scenario report (ARCHITECTURE.md "Scenario file and report"; docs/sync.md "The HQ-outage scenario"). */
export interface SyncScenarioReport {
  /** Outbox rows in the store's ledger at the end (after the final drain wait). */
  uplinkEvents: number;
  /** Records HQ holds for the store. */
  hqReceived: number;
  /** Records HQ holds more than once (by key, or by epoch and seq). */
  duplicates: number;
  /** Deliveries HQ received again and acknowledged without storing them twice (its own count). */
  duplicateDeliveries: number;
  /** Store outbox rows HQ does not hold, or holds with other content, seq or epoch. */
  missing: number;
  /** The first few missing keys, for a look at the ledger. */
  missingKeys: string[];
  /** Records HQ holds that are no outbox row of the store. */
  unexpected: number;
  /** Outbox rows still pending and rows HQ refused for good, at the end. */
  pendingAtEnd: number;
  rejected: number;
  /** Outbox rows by stream, at the store and at HQ. */
  streams: Record<string, { store: number; hq: number }>;
  /** Receipts (issued, less corrections) in the store's checkout and at HQ. */
  receipts: { store: number; hq: number; storeTotalMinor: number; hqTotalMinor: number; mismatched: number };
  outages: OutageReport[];
  /** Outbox rows pending at each simulated minute (index = minute from the start). */
  backlog: { everyMs: number; pending: number[] };
  /** Times the store's link came up (the first connection included). */
  connects: number;
  /** Real ms the end of the run waited for the outbox to drain, and whether it did. */
  finalDrain: { wallMs: number; drained: boolean };
  /** HQ's counters (batches ingested, records new and duplicate, acks sent). */
  hq: { batches: number; recordsNew: number; recordsDuplicate: number; recordsRejected: number; acksSent: number };
  /**
   * Everything the store sent up (HQ's tap on every `up/*` message), scanned for personal data
   * (research/sync.md G12, T12): e-mail, phone, card (Luhn), IBAN (mod 97), and every shopper
   * token the store's ledger holds (opened visits). `hits` should be 0.
   */
  egress: { messages: number; bytes: number; scannedBytes: number; shopperTokens: number; hits: number; byKind: Partial<Record<PiiKind, number>>; first: Array<{ message: number; kind: PiiKind; preview: string }> };
}

/** An outage while the run goes: pending → down (broker stopped) → restarted → reconnected (the store's link is up) → drained. */
interface OutageState extends OutageReport {
  state: 'pending' | 'down' | 'restarted' | 'reconnected' | 'drained';
  /** performance.now() of each step. */
  stoppedAt?: number;
  restartedAt?: number;
  reconnectedAt?: number;
}

/**
 * The store's head office for a scenario with a `network` section: a real Mosquitto as the
 * upstream broker (persistence on), the reference HQ in process (its own SQLite file and a fresh
 * signing key the agent trusts), and the outages. Sync runs on real time — it talks to a real
 * broker — while the scenario runs on simulated device time, faster than real time: outages are
 * placed in simulated time (`onTime`, from the checkout run's device clock), and the link's
 * reconnects, acks and backlog rate happen in real time meanwhile. What it observes goes into
 * the report; the store's ledger and HQ's records are compared only at the end.
 */
export class SimHqLink {
  readonly #broker: UpstreamMosquitto;
  readonly #hqStore: HqStore;
  readonly #hq: HqService;
  readonly #storeId: string;
  readonly #storePassword: string;
  readonly #keyId: string;
  readonly #publicKey: string;
  readonly #outages: OutageState[];
  readonly #backlog: number[] = [];
  readonly #progress: (line: string) => void;
  #agent: StoreAgent | undefined;
  readonly #egress: EgressLog;
  #simMs = 0;
  #nextSampleMs = 0;
  #connects = 0;

  private constructor(
    broker: UpstreamMosquitto,
    hqStore: HqStore,
    hq: HqService,
    options: { storeId: string; storePassword: string; key: { keyId: string; publicKey: string }; network: ScenarioNetwork; progress: (line: string) => void; egress: EgressLog },
  ) {
    const { storeId, storePassword, key, network } = options;
    this.#egress = options.egress;
    this.#progress = options.progress;
    this.#broker = broker;
    this.#hqStore = hqStore;
    this.#hq = hq;
    this.#storeId = storeId;
    this.#storePassword = storePassword;
    this.#keyId = key.keyId;
    this.#publicKey = key.publicKey;
    this.#outages = network.hqOutages.map((o: HqOutage) => ({
      startMs: o.startMs,
      lengthMs: o.lengthMs,
      downWallMs: null,
      pendingAtStart: null,
      pendingAtEnd: null,
      reconnectedAtMs: null,
      reconnectWallMs: null,
      backlogAtReconnect: null,
      drainedAtMs: null,
      drainWallMs: null,
      state: 'pending',
    }));
  }

  /** Starts Mosquitto in `dir`/upstream and HQ on it (connected before this returns). */
  static async start(options: { dir: string; storeId: string; network: ScenarioNetwork; progress?: (line: string) => void }): Promise<SimHqLink> {
    const storePassword = randomBytes(18).toString('base64url');
    const hqPassword = randomBytes(18).toString('base64url');
    const broker = await UpstreamMosquitto.start({ dir: join(options.dir, 'upstream'), users: { [options.storeId]: storePassword, hq: hqPassword } });
    let hqStore: HqStore | undefined;
    let hq: HqService | undefined;
    const egress: EgressLog = { messages: 0, bytes: 0, kept: [], keptBytes: 0 };
    try {
      const signingKey = generateSigningKey('hq-sim-1');
      hqStore = HqStore.open(join(options.dir, 'hq', 'hq.db'));
      hq = new HqService({
        store: hqStore,
        signingKey,
        // Real-time reconnects kept short: the run goes many times faster than the store's clock.
        upstream: { url: broker.url, username: 'hq', clientId: 'hq', password: hqPassword, reconnectMinMs: 100, reconnectMaxMs: 1_000 },
        stores: [options.storeId],
        tap: (_topic, payload) => {
          egress.messages += 1;
          egress.bytes += payload.length;
          if (egress.keptBytes + payload.length > EGRESS_KEEP_BYTES) return;
          egress.kept.push(payload.toString('utf8'));
          egress.keptBytes += payload.length;
        },
      }).start();
      await withTimeout(hq.ready(), 10_000, 'HQ did not connect to the upstream broker');
      const progress = options.progress ?? (() => {});
      progress(`sim: upstream broker ${broker.url} (mosquitto, persistence on), reference HQ connected; ${options.network.hqOutages.length} HQ outage(s) scheduled`);
      return new SimHqLink(broker, hqStore, hq, { storeId: options.storeId, storePassword, key: signingKey, network: options.network, progress, egress });
    } catch (error) {
      await hq?.stop();
      hqStore?.close();
      await broker.stop();
      throw error;
    }
  }

  /** The agent's `sync` block: this broker, HQ's public key, short real-time reconnects; uplink defaults. */
  get agentSettings(): SyncSettingsInput {
    return {
      upstream: { url: this.#broker.url, password: this.#storePassword, reconnectMinMs: 100, reconnectMaxMs: 1_000 },
      trustedKeys: [{ keyId: this.#keyId, publicKey: this.#publicKey }],
    };
  }

  /** Watches the agent's link; resolves once it is connected. */
  async attach(agent: StoreAgent): Promise<void> {
    const sync = agent.sync;
    if (!sync) throw errors.EDGE_ERR_INTERNAL('the agent was started without its sync block');
    this.#agent = agent;
    sync.on('connected', () => this.#onConnected());
    sync.on('ack', () => this.#checkDrained());
    if (sync.connected) this.#connects += 1;
    else await withTimeout(new Promise<void>((resolve) => sync.once('connected', () => resolve())), 10_000, 'the store did not connect to the upstream broker');
  }

  /** The checkout run's device time advanced (at most once per simulated second): outages start and end here. */
  async onTime(simMs: number): Promise<void> {
    this.#simMs = simMs;
    for (const outage of this.#outages) {
      if (outage.state === 'pending' && simMs >= outage.startMs) {
        outage.pendingAtStart = this.#pending();
        outage.stoppedAt = performance.now();
        outage.state = 'down';
        await this.#broker.stop();
        this.#progress(`sim: ${clock(simMs)} HQ outage: upstream broker stopped for ${clock(outage.lengthMs)} (${outage.pendingAtStart} outbox rows pending)`);
      }
      if (outage.state === 'down' && simMs >= outage.startMs + outage.lengthMs) await this.#endOutage(outage);
    }
    while (simMs >= this.#nextSampleMs) {
      this.#backlog.push(this.#pending());
      this.#nextSampleMs += BACKLOG_SAMPLE_MS;
    }
    this.#checkDrained();
  }

  /**
   * After the run: ends an outage still going, waits (real time) until the store is connected and
   * its outbox is empty, then compares the store's ledger with what HQ holds.
   */
  async finish(): Promise<SyncScenarioReport> {
    const agent = this.#agent!;
    for (const outage of this.#outages) if (outage.state === 'down') await this.#endOutage(outage);
    const waitFrom = performance.now();
    let drained = false;
    while (performance.now() - waitFrom < FINAL_DRAIN_TIMEOUT_MS) {
      this.#checkDrained();
      if (agent.sync!.connected && this.#pending() === 0) {
        drained = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const finalDrain = { wallMs: Math.round(performance.now() - waitFrom), drained };
    return {
      ...this.#compare(agent),
      outages: this.#outages.map(outageReport),
      backlog: { everyMs: BACKLOG_SAMPLE_MS, pending: this.#backlog },
      connects: this.#connects,
      finalDrain,
      hq: this.#hqCounters(),
      egress: this.#scanEgress(agent),
    };
  }

  /** The PII scan of everything the store sent up, with the store's own shopper tokens as secrets. */
  #scanEgress(agent: StoreAgent): SyncScenarioReport['egress'] {
    const tokens = new Set<string>();
    for (let from = 1; ; ) {
      const batch = agent.ledger.events({ type: checkoutEventTypes.sessionOpened, fromSeq: from, limit: 10_000 });
      for (const event of batch) tokens.add((event.payload as SessionOpened).token);
      if (batch.length < 10_000) break;
      from = batch.at(-1)!.seq + 1;
    }
    const byKind: Partial<Record<PiiKind, number>> = {};
    const first: SyncScenarioReport['egress']['first'] = [];
    let hits = 0;
    for (const [message, text] of this.#egress.kept.entries()) {
      for (const hit of scanForPii(text, { secrets: tokens })) {
        hits += 1;
        byKind[hit.kind] = (byKind[hit.kind] ?? 0) + 1;
        if (first.length < 10) first.push({ message, kind: hit.kind, preview: hit.preview });
      }
    }
    return { messages: this.#egress.messages, bytes: this.#egress.bytes, scannedBytes: this.#egress.keptBytes, shopperTokens: tokens.size, hits, byKind, first };
  }

  /** Stops HQ and the broker (after the agent stopped). */
  async stop(): Promise<void> {
    await this.#hq.stop().catch(() => undefined);
    this.#hqStore.close();
    await this.#broker.stop();
  }

  async #endOutage(outage: OutageState): Promise<void> {
    outage.pendingAtEnd = this.#pending();
    // 'restarted' before the broker is up: the store may reconnect before `start` has seen the port open.
    outage.restartedAt = performance.now();
    outage.downWallMs = Math.round(outage.restartedAt - outage.stoppedAt!);
    outage.state = 'restarted';
    this.#progress(`sim: ${clock(this.#simMs)} HQ outage over: upstream broker restarting after ${(outage.downWallMs / 1000).toFixed(1)} s real (${outage.pendingAtEnd} outbox rows pending)`);
    await this.#broker.start();
  }

  #onConnected(): void {
    this.#connects += 1;
    const outage = this.#outages.find((o) => o.state === 'restarted');
    if (!outage) return;
    outage.reconnectedAt = performance.now();
    outage.reconnectWallMs = Math.round(outage.reconnectedAt - outage.restartedAt!);
    outage.reconnectedAtMs = this.#simMs;
    outage.backlogAtReconnect = this.#pending();
    outage.state = 'reconnected';
    this.#progress(`sim: ${clock(this.#simMs)} store reconnected ${outage.reconnectWallMs} ms after the restart, backlog ${outage.backlogAtReconnect}`);
    this.#checkDrained();
  }

  #checkDrained(): void {
    const outage = this.#outages.find((o) => o.state === 'reconnected');
    if (!outage || this.#pending() !== 0) return;
    outage.drainWallMs = Math.round(performance.now() - outage.reconnectedAt!);
    outage.drainedAtMs = this.#simMs;
    outage.state = 'drained';
    this.#progress(`sim: ${clock(this.#simMs)} backlog drained ${outage.drainWallMs} ms (real) after the reconnect`);
  }

  #pending(): number {
    return this.#agent?.ledger.stats().outboxPending ?? 0;
  }

  #hqCounters(): SyncScenarioReport['hq'] {
    const c = this.#hq.status().counters;
    return { batches: c.batches, recordsNew: c.recordsNew, recordsDuplicate: c.recordsDuplicate, recordsRejected: c.recordsRejected, acksSent: c.acksSent };
  }

  /** The store's outbox (every row, sent or not) against HQ's records: identity, content hash, payload as it travels. */
  #compare(agent: StoreAgent): Omit<SyncScenarioReport, 'outages' | 'backlog' | 'connects' | 'finalDrain' | 'hq' | 'egress'> {
    const ledger = agent.ledger;
    const rows = ledger.db.prepare<[], { id: number; seq: number }>('SELECT id, seq FROM outbox ORDER BY id').all();
    const held = this.#hqStore.records(this.#storeId);
    const byKey = new Map<string, HeldRecord>();
    const seqs = new Set<string>();
    let duplicates = 0;
    for (const record of held) {
      const seqId = `${record.epoch}:${record.seq}`;
      if (byKey.has(record.key) || seqs.has(seqId)) duplicates += 1;
      byKey.set(record.key, record);
      seqs.add(seqId);
    }
    const streams: Record<string, { store: number; hq: number }> = {};
    const missingKeys: string[] = [];
    const matched = new Set<string>();
    for (const row of rows) {
      const event = ledger.get(row.seq)!;
      const { stream, type, key, at } = event;
      (streams[stream] ??= { store: 0, hq: 0 }).store += 1;
      const record = byKey.get(key);
      const hash = contentHash({ stream, type, key, at, payload: uplinkPayload(event.payload) });
      if (record && record.hash === hash && record.seq === row.id && record.epoch === ledger.epoch) matched.add(key);
      else missingKeys.push(key);
    }
    for (const record of held) (streams[record.stream] ??= { store: 0, hq: 0 }).hq += 1;

    // Receipts: the checkout's own view against the receipt records HQ holds (issued, less corrections).
    const storeReceipts = agent.checkout.receipts({ limit: 1_000_000 });
    const netOf = (r: { totalMinor: number; corrections: ReadonlyArray<{ amountMinor: number }> }) => r.totalMinor - r.corrections.reduce((s, c) => s + c.amountMinor, 0);
    const hqReceipts = new Map<string, number>();
    for (const record of held) {
      const p = record.payload as { receiptId: string; totalMinor?: number; amountMinor?: number };
      if (record.type === checkoutEventTypes.receiptIssued) hqReceipts.set(p.receiptId, (hqReceipts.get(p.receiptId) ?? 0) + p.totalMinor!);
    }
    for (const record of held) {
      const p = record.payload as { receiptId: string; amountMinor: number };
      if (record.type === checkoutEventTypes.receiptCorrected && hqReceipts.has(p.receiptId)) hqReceipts.set(p.receiptId, hqReceipts.get(p.receiptId)! - p.amountMinor);
    }
    const mismatched = storeReceipts.filter((r) => hqReceipts.get(r.receiptId) !== netOf(r)).length;
    const stats = ledger.stats();
    return {
      uplinkEvents: rows.length,
      hqReceived: held.length,
      duplicates,
      duplicateDeliveries: this.#hqStore.duplicates(this.#storeId),
      missing: missingKeys.length,
      missingKeys: missingKeys.slice(0, 10),
      unexpected: held.filter((r) => !matched.has(r.key)).length,
      pendingAtEnd: stats.outboxPending,
      rejected: stats.outboxRejected,
      streams,
      receipts: {
        store: storeReceipts.length,
        hq: hqReceipts.size,
        storeTotalMinor: storeReceipts.reduce((s, r) => s + netOf(r), 0),
        hqTotalMinor: [...hqReceipts.values()].reduce((s, t) => s + t, 0),
        mismatched,
      },
    };
  }
}

/** What the report shows of an outage: its figures, not the run's bookkeeping. */
function outageReport({ state, stoppedAt, restartedAt, reconnectedAt, ...report }: OutageState): OutageReport {
  return report;
}

/** Simulated ms as h:mm:ss. */
function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(errors.EDGE_ERR_SIM_UPSTREAM_BROKER(`${message} within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
