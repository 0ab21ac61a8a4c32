import type { CatalogItem, ShelfLabel, StoreModel } from '@storeedge/device-drivers';
import { SimClock } from '../clock.ts';
import { EslGatewaySimulator } from '../esl-gateway.ts';
import { eslRadioOptionsSchema, type EslRadioOptions } from '../esl/index.ts';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';
import { generateLabelStore, type LabelsActivity } from './labels-activity.ts';
import type { ScenarioFile } from './scenario-file.ts';

/**
 * What a labels run needs from the store agent. Everything goes through the agent's public
 * parts: gateways are registered devices on its MQTT broker, prices are set in its price book as
 * HQ would, purchases are priced by its till rule; the run never tells it what a tag shows.
 */
export interface LabelsAgentPort {
  /** Registers an ESL gateway; returns the broker URL and the gateway's secret. */
  register(deviceId: string): Promise<{ url: string; password: string }>;
  /** Price changes effective at `effectiveFrom` (HQ's or the pricing team's). */
  setPrices(changes: ReadonlyArray<{ sku: string; priceMinor: number; effectiveFrom: number }>): void;
  /** The unit price the store charges for one unit of `sku` at `at` (and records for its integrity report). */
  charge(sku: string, at: number): number;
  /** The price the content with this hash shows, as the agent rendered it (its ledger), or undefined for a hash it never rendered. */
  priceOfContent(contentHash: string): number | undefined;
  /** The content hash the agent wants on a tag now. */
  desiredHash(tagId: string): string | undefined;
  /** The agent's own state for a tag ('confirmed', 'queued', …). */
  labelState(tagId: string): string | undefined;
  /** The agent's full view of a tag (its API view), for the report's list of labels that did not converge. */
  labelView?(tagId: string): unknown;
  /** The agent's current unit price of `sku` at `at` (what the labels must converge to). */
  currentPrice(sku: string, at: number): number;
  /** Resolves when the agent renders and sends nothing more for now; returns the image and LED commands it has published so far. */
  idle(): Promise<number>;
}

/** Ground truth and figures of a labels run (the report's `labels` block is built from it). */
export interface LabelsOutcome {
  total: number;
  gateways: number;
  /** Tags in range and alive at the end. */
  inRange: number;
  /** In-range tags whose shown hash is the agent's desired hash at the end (the simulator's truth). */
  converged: number;
  /** In-range tags the agent itself reports confirmed. */
  confirmedByAgent: number;
  /** In-range tags showing content priced differently from the agent's current price at the end. */
  wrongPriceShown: number;
  /** In-range labels not showing the agent's content at the end (up to 20): the agent's view beside the gateway's truth, to tell why. */
  notConverged: Array<{ tagId: string; gateway: string; agent: unknown; truth: unknown }>;
  /** Purchases charged above a price a label of that SKU showed at that instant (truth). */
  integrityViolations: number;
  purchases: number;
  /** Price changes, and how long until every in-range label of the SKU showed the new price (simulated ms). */
  priceChanges: number;
  lagMs: { p50: number; p95: number; max: number };
  /** Price changes whose labels had not all caught up by the end. */
  lagOpen: number;
  /** Transfers of content a tag already showed (the gateway's count; must stay 0). */
  resentUnchanged: number;
  radio: { imagesReceived: number; transfersCompleted: number; bytesOnAir: number; refused: Record<string, number>; superseded: number; failed: number; reboots: number };
  /**
   * Store-wide price changes: the time until every in-range label showed its new price (a tag in
   * the radio's back-off after being out of range checks in only hourly and can hold this up), the
   * time until half, 95 % and 99 % of the SKUs' labels did, and the bound the radio allows.
   */
  storeWideUpdates: Array<{ atMs: number; labels: number; confirmMs: number | null; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null; lowerBoundMs: number; bytes: number }>;
  commands: number;
  simulatedMs: number;
  wallMs: number;
}

interface Action {
  at: number;
  kind: 'prices' | 'store-wide' | 'restart' | 'purchase';
  gateway?: string;
}

/**
 * A labels scenario (docs/esl.md "The labels scenario"): ESL gateways with the radio model on
 * the agent's broker, price changes every few minutes and store-wide, gateway restarts, tag
 * reboots and tags out of range (radio knobs), and purchases at the till. Simulated time
 * advances in steps; after each step the run waits until every message has been handled on both
 * sides, so the outcome does not depend on the machine's speed. The truth (what each tag shows)
 * stays in the gateway simulators and is compared with the agent's outputs as the run goes.
 */
export class LabelsScenarioRun {
  readonly store: StoreModel;
  readonly clock: SimClock;
  readonly activity: LabelsActivity;
  readonly #scenario: ScenarioFile;
  readonly #radio: EslRadioOptions;
  readonly #stepMs: number;
  readonly #labelsBySku = new Map<string, ShelfLabel[]>();

  constructor(scenario: ScenarioFile, options: { epochMs: number; stepMs?: number }) {
    if (!scenario.labels) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${scenario.scenario}: no labels section`);
    this.#scenario = scenario;
    this.activity = scenario.labels;
    this.clock = new SimClock(options.epochMs);
    this.#stepMs = options.stepMs ?? 1_000;
    const parsed = eslRadioOptionsSchema.safeParse(this.activity.radio);
    if (!parsed.success) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`${scenario.scenario}: labels.radio: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    this.#radio = this.activity.radio as EslRadioOptions;
    let catalog: CatalogItem[] = scenario.store.catalog;
    let labels: ShelfLabel[] = scenario.store.labels;
    if (this.activity.generate) {
      const generated = generateLabelStore(this.activity.generate, scenario.seed);
      catalog = [...catalog, ...generated.catalog];
      labels = [...labels, ...generated.labels];
    }
    this.store = { ...scenario.store, catalog, labels };
    for (const label of labels) {
      const list = this.#labelsBySku.get(label.sku) ?? [];
      list.push(label);
      this.#labelsBySku.set(label.sku, list);
    }
  }

  get gatewayIds(): string[] {
    return [...new Set(this.store.labels.map((l) => l.gateway))].sort();
  }

  async run(agent: LabelsAgentPort, progress: (line: string) => void = () => {}): Promise<LabelsOutcome> {
    const wall0 = performance.now();
    const start = this.clock.now();
    const rng = new Rng(`labels-run:${this.#scenario.seed}`);
    const gateways = new Map<string, EslGatewaySimulator>();
    for (const id of this.gatewayIds) {
      const { url, password } = await agent.register(id);
      const tags = this.store.labels.filter((l) => l.gateway === id).map((l) => ({ tagId: l.tagId, tagType: l.tagType }));
      gateways.set(id, new EslGatewaySimulator({ url, password, storeId: 'sim-store', deviceId: id, clock: this.clock, rng: new Rng(`${this.#scenario.seed}:${id}`), healthIntervalMs: null, tags, ...this.#radio }));
    }
    for (const g of gateways.values()) await g.start();
    const gatewayOf = new Map(this.store.labels.map((l) => [l.tagId, gateways.get(l.gateway)!]));

    // The plan, in simulated time.
    const a = this.activity;
    const end = start + a.durationMs;
    const actions: Action[] = [];
    for (let t = start + a.priceChanges.everyMs; t < end; t += a.priceChanges.everyMs) actions.push({ at: t, kind: 'prices' });
    for (const offset of a.priceChanges.storeWideAtMs) actions.push({ at: start + offset, kind: 'store-wide' });
    for (const r of a.gatewayRestarts) {
      if (!gateways.has(r.gateway)) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`labels.gatewayRestarts: no gateway "${r.gateway}" (have ${this.gatewayIds.join(', ')})`);
      actions.push({ at: start + r.atMs, kind: 'restart', gateway: r.gateway });
    }
    for (let t = start + a.purchases.everyMs; t < end; t += a.purchases.everyMs) actions.push({ at: t, kind: 'purchase' });
    actions.sort((x, y) => x.at - y.at || order(x.kind) - order(y.kind));

    const skus = [...this.#labelsBySku.keys()];
    const prices = new Map<string, number>(this.store.catalog.filter((c) => this.#labelsBySku.has(c.sku)).map((c) => [c.sku, c.priceMinor]));
    const changes: Array<{ sku: string; at: number; priceMinor: number; caughtUp: number | null }> = [];
    const openChanges = new Map<string, (typeof changes)[number]>();
    const storeWide: LabelsOutcome['storeWideUpdates'] = [];
    let storeWideOpen: { entry: LabelsOutcome['storeWideUpdates'][number]; skus: Set<string> } | undefined;
    let purchases = 0;
    let violations = 0;
    let commands = 0;
    const bytesOnAir = () => [...gateways.values()].reduce((n, g) => n + g.eslStats().bytesOnAir, 0);

    // Every message of this step handled on both sides: the agent idle, the gateways' events acknowledged (the agent
    // handles an event before its PUBACK) and every command the agent published received. A command published while
    // its gateway was away (a restart) is never received: then the counts settle without meeting, and the step ends
    // once nothing has moved for a few polls.
    const snapshot = () => `${commands}:${[...gateways.values()].map((g) => `${g.stats().commands}/${g.stats().sent}`).join(',')}`;
    const settle = async () => {
      let last = '';
      let still = 0;
      for (let round = 0; ; round++) {
        commands = await agent.idle();
        await Promise.all([...gateways.values()].map((g) => g.flush()));
        const received = [...gateways.values()].reduce((n, g) => n + g.stats().commands, 0);
        if (received >= commands && (await agent.idle()) === commands) return;
        const now = snapshot();
        still = now === last ? still + 1 : 0;
        last = now;
        if (still >= 5) return;
        if (round > 100_000) throw simulatorErrors.SIM_ERR_TASK_FAILED('labels run: messages did not settle');
        await new Promise((resolve) => setTimeout(resolve, round < 3 ? 0 : 2));
      }
    };
    /** The price shown by a tag at `t` per the truth, or undefined when blank or content the agent never rendered. */
    const shownPrice = (tagId: string, t: number) => {
      const shown = gatewayOf.get(tagId)!.shownAt(tagId, t);
      return shown.contentHash === undefined ? undefined : agent.priceOfContent(shown.contentHash);
    };
    const inRange = (tagId: string) => {
      const truth = gatewayOf.get(tagId)!.tagTruth(tagId);
      return truth.inRange && !truth.dead;
    };
    const caughtUp = (sku: string, priceMinor: number, t: number) => this.#labelsBySku.get(sku)!.every((l) => !inRange(l.tagId) || shownPrice(l.tagId, t) === priceMinor);
    const checkChanges = (t: number) => {
      for (const [sku, change] of openChanges) {
        if (caughtUp(sku, change.priceMinor, t)) {
          change.caughtUp = t;
          openChanges.delete(sku);
        }
      }
      // A store-wide update is done when each of its SKUs caught up (or a later change of that SKU took over).
      const wide = storeWideOpen;
      if (wide && [...wide.skus].every((sku) => (openChanges.get(sku)?.at ?? Infinity) > start + wide.entry.atMs)) {
        wide.entry.confirmMs = t - (start + wide.entry.atMs);
        wide.entry.bytes += bytesOnAir();
        storeWideOpen = undefined;
      }
    };
    const reprice = (batch: string[], t: number) => {
      const list = batch.map((sku) => {
        const old = prices.get(sku)!;
        const down = rng.next() < a.priceChanges.reductionShare;
        const factor = down ? rng.uniform(0.6, 0.95) : rng.uniform(1.02, 1.3);
        let priceMinor = Math.max(9, Math.round((old * factor) / 10) * 10 + 9);
        if (priceMinor === old) priceMinor += 10;
        prices.set(sku, priceMinor);
        return { sku, priceMinor, effectiveFrom: t };
      });
      agent.setPrices(list);
      for (const c of list) {
        const entry = { sku: c.sku, at: t, priceMinor: agent.currentPrice(c.sku, t), caughtUp: null as number | null };
        changes.push(entry);
        openChanges.set(c.sku, entry);
      }
    };

    await settle();
    let t = start;
    let next = 0;
    let lastLog = performance.now();
    const stepTo = async (target: number) => {
      this.clock.runUntil(target);
      t = target;
      await settle();
      checkChanges(t);
    };
    while (t < end) {
      const target = Math.min(end, t + this.#stepMs);
      await stepTo(target);
      while (next < actions.length && actions[next]!.at <= t) {
        const action = actions[next++]!;
        switch (action.kind) {
          case 'prices': {
            const n = Math.min(skus.length, rng.int(a.priceChanges.skus[0], a.priceChanges.skus[1]));
            const batch = new Set<string>();
            while (batch.size < n) batch.add(skus[rng.int(0, skus.length - 1)]!);
            reprice([...batch], t);
            break;
          }
          case 'store-wide': {
            reprice(skus, t);
            storeWideOpen = { entry: { atMs: t - start, labels: this.store.labels.length, confirmMs: null, p50Ms: null, p95Ms: null, p99Ms: null, lowerBoundMs: 0, bytes: -bytesOnAir() }, skus: new Set(skus) };
            storeWide.push(storeWideOpen.entry);
            break;
          }
          case 'restart':
            await gateways.get(action.gateway!)!.restart();
            break;
          case 'purchase': {
            const sku = skus[rng.int(0, skus.length - 1)]!;
            const charged = agent.charge(sku, t);
            purchases++;
            for (const label of this.#labelsBySku.get(sku)!) {
              const shown = shownPrice(label.tagId, t);
              if (shown !== undefined && charged > shown) violations++;
            }
            break;
          }
        }
        await settle();
      }
      if (performance.now() - lastLog > 10_000) {
        lastLog = performance.now();
        progress(`labels: ${((t - start) / 60_000).toFixed(0)} of ${(a.durationMs / 60_000).toFixed(0)} simulated min, ${openChanges.size} price changes not yet on every label, ${commands} commands`);
      }
    }
    // Settling: the disturbances stop with the activity (a tag rebooting in the last second could
    // never have converged), then wait until every in-range label shows what the agent wants, or settleMs.
    for (const gateway of gateways.values()) gateway.stopDisturbances();
    const settleEnd = end + a.settleMs;
    const converged = () => this.store.labels.every((l) => !inRange(l.tagId) || gatewayOf.get(l.tagId)!.displayedHash(l.tagId) === agent.desiredHash(l.tagId));
    while (t < settleEnd && (openChanges.size > 0 || !converged())) await stepTo(Math.min(settleEnd, t + this.#stepMs));

    // The store-wide updates' lower bound the radio allows: bytes sent / aggregate air rate + one check-in interval.
    const totalBytes = bytesOnAir();
    const radio = gateways.values().next().value?.radioOptions;
    const rate = (radio?.radioBytesPerSecond ?? 5_000) * gateways.size;
    for (const entry of storeWide) {
      if (entry.confirmMs === null) entry.bytes += totalBytes;
      const own = changes.filter((c) => c.at === start + entry.atMs);
      const done = own.filter((c) => c.caughtUp !== null).map((c) => c.caughtUp! - c.at).sort((x, y) => x - y);
      const q = (f: number) => (done.length < Math.ceil(f * own.length) ? null : done[Math.max(0, Math.ceil(f * own.length) - 1)]!);
      entry.p50Ms = q(0.5);
      entry.p95Ms = q(0.95);
      entry.p99Ms = q(0.99);
      entry.lowerBoundMs = Math.round((entry.bytes / rate) * 1_000 + (radio?.checkinIntervalMs ?? 40_000));
    }

    const endTruth = { inRange: 0, converged: 0, confirmed: 0, wrongPrice: 0 };
    const notConverged: LabelsOutcome['notConverged'] = [];
    for (const label of this.store.labels) {
      if (!inRange(label.tagId)) continue;
      endTruth.inRange++;
      const gateway = gatewayOf.get(label.tagId)!;
      if (gateway.displayedHash(label.tagId) === agent.desiredHash(label.tagId)) endTruth.converged++;
      else if (notConverged.length < 20) notConverged.push({ tagId: label.tagId, gateway: label.gateway, agent: agent.labelView?.(label.tagId) ?? agent.labelState(label.tagId), truth: gateway.tagTruth(label.tagId) });
      if (agent.labelState(label.tagId) === 'confirmed') endTruth.confirmed++;
      if (shownPrice(label.tagId, t) !== agent.currentPrice(label.sku, t)) endTruth.wrongPrice++;
    }
    const lags = changes.filter((c) => c.caughtUp !== null).map((c) => c.caughtUp! - c.at).sort((x, y) => x - y);
    const pct = (q: number) => (lags.length === 0 ? 0 : lags[Math.min(lags.length - 1, Math.ceil(q * lags.length) - 1)]!);
    const stats = [...gateways.values()].map((g) => g.eslStats());
    const refused: Record<string, number> = {};
    for (const s of stats) for (const [reason, n] of Object.entries(s.refused)) refused[reason] = (refused[reason] ?? 0) + n;
    for (const g of gateways.values()) await g.stop();
    return {
      total: this.store.labels.length,
      gateways: gateways.size,
      inRange: endTruth.inRange,
      converged: endTruth.converged,
      confirmedByAgent: endTruth.confirmed,
      wrongPriceShown: endTruth.wrongPrice,
      notConverged,
      integrityViolations: violations,
      purchases,
      priceChanges: changes.length,
      lagMs: { p50: pct(0.5), p95: pct(0.95), max: lags.at(-1) ?? 0 },
      lagOpen: openChanges.size,
      resentUnchanged: stats.reduce((n, s) => n + s.resentUnchanged, 0),
      radio: {
        imagesReceived: stats.reduce((n, s) => n + s.imagesReceived, 0),
        transfersCompleted: stats.reduce((n, s) => n + s.transfersCompleted, 0),
        bytesOnAir: totalBytes,
        refused,
        superseded: stats.reduce((n, s) => n + s.superseded, 0),
        failed: stats.reduce((n, s) => n + s.failed.timeout + s.failed['transfer-error'], 0),
        reboots: stats.reduce((n, s) => n + s.reboots, 0),
      },
      storeWideUpdates: storeWide,
      commands,
      simulatedMs: t - start,
      wallMs: Math.round(performance.now() - wall0),
    };
  }
}

/** Same instant: prices first, then restarts, then purchases (a purchase sees the new price). */
function order(kind: Action['kind']): number {
  return { prices: 0, 'store-wide': 0, restart: 1, purchase: 2 }[kind];
}
