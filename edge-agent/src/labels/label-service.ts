import { randomUUID } from 'node:crypto';
import type { LabelPriority, ShelfLabel, TagDeliveryPayload, TagImageCommand, TagLedCommand, TagReportPayload } from '@storeedge/device-drivers';
import { errors } from '../errors.ts';
import type { DeviceEvent, DeviceLifecycle, EventBus } from '../events.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import { canonicalJson } from '../ledger/canonical.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { AppendInput, LedgerEvent } from '../ledger/types.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { FlashInput, FlashView, LabelDetailView, LabelListQuery, LabelsApi, LabelSummaryView } from './api.ts';
import { DeliveryScheduler } from './delivery-scheduler.ts';
import { FlashLimiter } from './flash-limiter.ts';
import { LabelImageStore, type StoredImage } from './image-store.ts';
import { PriceIntegrity, type ChargedLine, type ChargeVerdict, type IntegritySummary, type ShownPrice } from './integrity.ts';
import { LabelAlerts, type LabelAlertCondition, type LabelAlertKind } from './label-alerts.ts';
import {
  desiredKey,
  labelEventTypes as types,
  labelStream,
  type LabelChargeAboveLabel,
  type LabelConfirmed,
  type LabelDesired,
  type LabelDiverged,
  type LabelFlashRequested,
} from './ledger-events.ts';
import { LabelMetrics, labelStates, type LabelState } from './metrics.ts';
import { labelSettings, type LabelSettings, type LabelSettingsInput } from './settings.ts';
import { realLabelClock, type CommandPublisher, type LabelClock, type LabelContent, type LabelPriceChange, type LabelPriceSource, type LabelRendererPort, type RenderedLabel } from './types.ts';

export interface LabelServiceOptions {
  ledger: Ledger;
  bus: EventBus;
  /** Publishes `cmd/tag.image` and `cmd/tag.led` (the agent's device plane). */
  publisher: CommandPublisher;
  renderer: LabelRendererPort;
  prices: LabelPriceSource;
  /** The store model's labels in force (`store.model.labels`); re-read when the array changes. */
  labels: () => readonly ShelfLabel[];
  /** Where alerts live (GET /api/alerts): the inventory's alert table. */
  inventory: Pick<InventoryService, 'alerts' | 'alert'>;
  metrics: Metrics;
  logger: Logger;
  clock?: LabelClock;
  settings?: LabelSettingsInput;
}

interface Desired {
  version: number;
  contentHash: string;
  encoding: LabelDesired['encoding'];
  priority: LabelPriority;
  content: LabelContent;
  tagType: string;
  sku: string;
  since: number;
}

interface Shown {
  version: number | null;
  contentHash: string | null;
  /** The content when the agent rendered it (confirmed, or an older version of ours). */
  content: LabelContent | null;
  shows: 'confirmed' | 'blank' | 'unknown';
  since: number;
}

interface Tag {
  label: ShelfLabel;
  desired: Desired | null;
  shown: Shown | null;
  /** Highest version ever desired for the tag or reported by it: the next one is above it. */
  highestVersion: number;
  /** Since when the desired content has not been shown (null: confirmed or nothing desired). */
  unconfirmedSince: number | null;
  /** The version a command last carried, so a second send of it is counted as a resend. */
  lastSentVersion: number | null;
  /** Why the next send is a resend. */
  resendReason: string | null;
  /** Content key of the last render whose hash equalled the desired hash (no need to render it again). */
  renderedKey: string | null;
  health: LabelDetailView['health'];
  lastFlash: FlashView | null;
}

/** The labels part of a scenario report (ARCHITECTURE "Scenario file and report"). */
export interface LabelReport {
  total: number;
  confirmed: number;
  integrityViolations: number;
  maxLagMs: number;
  /** Sends of content the tag already showed (should stay 0). */
  resentUnchanged: number;
  windowsOpen: number;
  sends: number;
  resends: number;
  unchangedSkipped: number;
}

const appendBatch = 500;

/**
 * The agent's label service (docs/esl.md): desired content per tag in the ledger, delivery
 * through the ESL gateways until the tag's own report proves it, re-apply after a reboot,
 * price integrity bookkeeping for the checkout, health alerts, LED flashes and the labels API.
 */
export class LabelService implements LabelsApi {
  readonly settings: LabelSettings;
  readonly #o: LabelServiceOptions;
  readonly #clock: LabelClock;
  readonly #log: Logger;
  readonly #tags = new Map<string, Tag>();
  readonly #tagsBySku = new Map<string, Set<string>>();
  #sortedIds: string[] = [];
  #labelsInForce: readonly ShelfLabel[] | null = null;
  readonly #images: LabelImageStore;
  readonly #scheduler: DeliveryScheduler;
  readonly #integrity: PriceIntegrity;
  readonly #alerts: LabelAlerts;
  readonly #flashLimiter: FlashLimiter;
  readonly #metrics: LabelMetrics;
  readonly #flashes = new Map<string, FlashView>();
  readonly #cleanups: Array<() => void> = [];
  #healthTimer: unknown;
  #priceTimer: unknown;
  readonly #changeTimers = new Set<unknown>();
  #startedAt = 0;
  #started = false;
  /** Image references are counted (after the rebuild); from then on a tag leaving releases its images. */
  #refsCounted = false;
  #stopped = false;
  /** Refresh requests not yet run: SKUs, or null for all. */
  #refreshWanted: Set<string> | null | undefined;
  #refreshing: Promise<void> | undefined;
  readonly #counts = { sends: 0, resends: 0, unchangedSkipped: 0, resentUnchanged: 0 };

  constructor(options: LabelServiceOptions) {
    this.#o = options;
    this.settings = labelSettings(options.settings);
    this.#clock = options.clock ?? realLabelClock;
    this.#log = options.logger.child({ part: 'labels' });
    this.#images = new LabelImageStore(options.ledger);
    this.#integrity = new PriceIntegrity({ historyMs: this.settings.priceHistoryMs, windowsKept: this.settings.windowsKept });
    this.#alerts = new LabelAlerts({ ledger: options.ledger, bus: options.bus, inventory: options.inventory });
    this.#flashLimiter = new FlashLimiter({ minIntervalMs: this.settings.flashMinIntervalMs, dailyBudget: this.settings.flashDailyBudget });
    this.#scheduler = new DeliveryScheduler({
      clock: this.#clock,
      inFlightPerGateway: this.settings.inFlightPerGateway,
      retryBaseMs: this.settings.retryBaseMs,
      retryMaxMs: this.settings.retryMaxMs,
      deliveryTimeoutMs: this.settings.deliveryTimeoutMs,
      send: (tagId) => this.#send(tagId),
    });
    this.#metrics = new LabelMetrics(options.metrics, () => ({ states: this.#stateCounts(), stale: this.#staleCount(), integrity: this.integrity() }));
  }

  /**
   * Rebuilds desired and shown state from the ledger (after a restart or kill -9), takes the
   * store model's labels, resumes every unconfirmed delivery, subscribes to the gateways'
   * events and the price source, and refreshes all content (in the background; `idle()` waits).
   */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#startedAt = this.#clock.now();
    this.#rebuild();
    this.#syncLabels();
    for (const tag of this.#tags.values()) {
      this.#images.ref(tag.desired?.contentHash ?? null);
      this.#images.ref(tag.shown?.contentHash ?? null);
    }
    this.#refsCounted = true;
    const dropped = this.#images.collect();
    if (dropped > 0) this.#log.info({ dropped }, 'dropped label images no tag desires or shows');
    const bus = this.#o.bus;
    this.#cleanups.push(
      bus.on('esl.tag.report', (event) => this.#onReport(event)),
      bus.on('esl.tag.delivery', (event) => this.#onDelivery(event)),
      // On the gateway's birth, not its connection: the birth comes after it subscribed to its commands.
      bus.on('device.listening', (event) => this.#onGatewayOnline(event)),
    );
    const offPrices = this.#o.prices.onChange?.((change) => this.#onPriceChange(change));
    if (offPrices) this.#cleanups.push(offPrices);
    // Resume: whatever was not confirmed goes out again under its version (the gateway accepts the same version with the same content).
    for (const [tagId, tag] of this.#tags) {
      if (tag.desired && tag.shown?.contentHash !== tag.desired.contentHash) {
        tag.resendReason = 'restart';
        tag.lastSentVersion = tag.desired.version;
        this.#scheduler.want(tagId, tag.label.gateway, tag.desired.priority, true);
      }
    }
    void this.refresh();
    this.#scheduleHealth();
    this.#log.info({ tags: this.#tags.size }, 'label service started');
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const cleanup of this.#cleanups.splice(0)) cleanup();
    this.#scheduler.close();
    if (this.#healthTimer !== undefined) this.#clock.clearTimeout(this.#healthTimer);
    if (this.#priceTimer !== undefined) this.#clock.clearTimeout(this.#priceTimer);
    for (const timer of this.#changeTimers) this.#clock.clearTimeout(timer);
    this.#changeTimers.clear();
  }

  /** Resolves once every requested refresh (render and desired-state update) is done. */
  async idle(): Promise<void> {
    while (this.#refreshing) await this.#refreshing;
  }

  /**
   * Re-reads the content of the given SKUs' labels (all without an argument) from the price
   * source at the clock's now, renders what changed and sends what renders differently.
   * Requests coalesce; they run one at a time.
   */
  refresh(skus?: readonly string[]): Promise<void> {
    if (skus === undefined) this.#refreshWanted = null;
    else if (this.#refreshWanted !== null) {
      this.#refreshWanted ??= new Set();
      for (const sku of skus) this.#refreshWanted.add(sku);
    }
    this.#refreshing ??= this.#drainRefreshes();
    return this.#refreshing;
  }

  // ---------------------------------------------------------------- integrity

  /** The lowest price a confirmed label of `sku` showed at `at`, or null: the checkout charges min(current price, this). */
  labelPriceFor(sku: string, at: number): number | null {
    return this.#integrity.labelPriceFor(sku, at);
  }

  /** Judges one charged line; a charge above the label price at that instant is a violation (counted, and written to the ledger for audit). */
  recordCharge(line: ChargedLine): ChargeVerdict {
    const verdict = this.#integrity.recordCharge(line);
    if (verdict.violation) {
      this.#metrics.violations.inc();
      const payload: LabelChargeAboveLabel = { sku: line.sku, at: line.at, unitPriceMinor: line.unitPriceMinor, labelPriceMinor: verdict.labelPriceMinor! };
      this.#o.ledger.append({ type: types.chargeAboveLabel, stream: labelStream, key: `label.violation:${randomUUID()}`, payload });
      this.#log.warn(payload, 'charge above the confirmed label price');
    }
    return verdict;
  }

  integrity(): IntegritySummary {
    return this.#integrity.summary(this.#clock.now());
  }

  /** Image commands published so far (the report's `sends`, without counting every tag's state). */
  get sends(): number {
    return this.#counts.sends;
  }

  report(): LabelReport {
    const integrity = this.integrity();
    return {
      total: this.#tags.size,
      confirmed: this.#stateCounts().confirmed,
      integrityViolations: integrity.violations,
      maxLagMs: integrity.maxLagMs,
      resentUnchanged: this.#counts.resentUnchanged,
      windowsOpen: integrity.windowsOpen,
      sends: this.#counts.sends,
      resends: this.#counts.resends,
      unchangedSkipped: this.#counts.unchangedSkipped,
    };
  }

  // ---------------------------------------------------------------- API

  list(query: LabelListQuery): { labels: LabelSummaryView[]; next: string | null; total: number } {
    const limit = query.limit ?? 100;
    const labels: LabelSummaryView[] = [];
    let total = 0;
    let next: string | null = null;
    for (const id of this.#sortedIds) {
      const tag = this.#tags.get(id)!;
      if (query.sku !== undefined && tag.label.sku !== query.sku) continue;
      if (query.gateway !== undefined && tag.label.gateway !== query.gateway) continue;
      const view = this.#summary(id, tag);
      if (query.state !== undefined && view.state !== query.state) continue;
      if (query.stale !== undefined && view.stale !== query.stale) continue;
      total += 1;
      if (query.after !== undefined && id <= query.after) continue;
      if (labels.length < limit) labels.push(view);
      else next ??= labels.at(-1)!.id;
    }
    return { labels, next, total };
  }

  label(id: string): LabelDetailView {
    const tag = this.#tag(id);
    const { desired, shown } = tag;
    return {
      ...this.#summary(id, tag),
      desired: desired && { version: desired.version, contentHash: desired.contentHash, content: desired.content, since: desired.since, priority: desired.priority },
      shown: shown && { version: shown.version, contentHash: shown.contentHash, content: shown.content, since: shown.since, shows: shown.shows },
      delivery: this.#scheduler.view(id),
      health: { ...tag.health },
      lastFlash: tag.lastFlash && { ...tag.lastFlash },
    };
  }

  async image(id: string): Promise<Buffer> {
    const tag = this.#tag(id);
    const hash = tag.shown?.shows === 'confirmed' ? tag.shown.contentHash : null;
    const stored = hash === null ? undefined : this.#images.get(hash);
    if (!stored) {
      throw errors.EDGE_ERR_LABEL_NOT_CONFIRMED(
        tag.shown === null ? `tag "${id}" has not reported any content yet` : `tag "${id}" shows ${tag.shown.shows === 'blank' ? 'nothing' : 'content the agent did not render'} (since ${new Date(tag.shown.since).toISOString()})`,
      );
    }
    return this.#o.renderer.toPng(stored.encoded, stored.encoding, stored.tagType);
  }

  async flash(id: string, input: FlashInput): Promise<FlashView> {
    const tag = this.#tag(id);
    const now = this.#clock.now();
    try {
      this.#flashLimiter.check(id, now);
    } catch (error) {
      this.#metrics.flashes.inc({ outcome: 'limited' });
      throw error;
    }
    const requestId = `led-${randomUUID()}`;
    const audit: LabelFlashRequested & { at: number } = { tagId: id, requestId, colour: input.colour, flashes: input.flashes, repeats: input.repeats, actor: input.actor, at: now };
    this.#o.ledger.append({ type: types.flashRequested, stream: labelStream, key: `label.flash:${requestId}`, payload: audit });
    this.#flashLimiter.record(id, now);
    const view: FlashView = { tagId: id, requestId, colour: input.colour, flashes: input.flashes, repeats: input.repeats, requestedAt: now, state: 'requested' };
    tag.lastFlash = view;
    this.#flashes.set(requestId, view);
    if (this.#flashes.size > 10_000) this.#flashes.delete(this.#flashes.keys().next().value!);
    const command: TagLedCommand = { at: now, tagId: id, requestId, colour: input.colour, flashes: input.flashes, repeats: input.repeats };
    this.#metrics.flashes.inc({ outcome: 'requested' });
    await this.#o.publisher.publishCommand(tag.label.gateway, 'tag.led', command);
    return { ...view };
  }

  // ---------------------------------------------------------------- state

  /** Desired and shown state per tag from the "labels" stream, in seq order. */
  #rebuild(): void {
    let fromSeq = 1;
    for (;;) {
      const page = this.#o.ledger.events({ stream: labelStream, fromSeq, limit: 5_000 });
      for (const event of page) this.#replay(event);
      if (page.length < 5_000) return;
      fromSeq = page.at(-1)!.seq + 1;
    }
  }

  #replay(event: LedgerEvent): void {
    switch (event.type) {
      case types.desired: {
        const p = event.payload as LabelDesired & { at: number };
        const tag = this.#ensureTag({ tagId: p.tagId, gateway: p.gateway, tagType: p.tagType, sku: p.sku });
        tag.desired = { version: p.version, contentHash: p.contentHash, encoding: p.encoding, priority: p.priority, content: p.content, tagType: p.tagType, sku: p.sku, since: p.at };
        tag.highestVersion = Math.max(tag.highestVersion, p.version);
        tag.unconfirmedSince = tag.shown?.contentHash === p.contentHash ? null : p.at;
        return;
      }
      case types.confirmed: {
        const p = event.payload as LabelConfirmed & { at: number };
        const tag = this.#tags.get(p.tagId);
        if (!tag) return;
        const content = tag.desired?.version === p.version ? tag.desired.content : this.#contentOfVersion(p.tagId, p.version, p.contentHash);
        tag.shown = { version: p.version, contentHash: p.contentHash, content, shows: 'confirmed', since: p.at };
        if (tag.desired?.contentHash === p.contentHash) tag.unconfirmedSince = null;
        return;
      }
      case types.diverged: {
        const p = event.payload as LabelDiverged & { at: number };
        const tag = this.#tags.get(p.tagId);
        if (!tag) return;
        tag.shown = { version: p.version, contentHash: p.contentHash, content: p.content, shows: p.shows === 'known' ? 'confirmed' : p.shows, since: p.at };
        if (p.version !== null) tag.highestVersion = Math.max(tag.highestVersion, p.version);
        if (tag.desired && tag.desired.contentHash !== p.contentHash) tag.unconfirmedSince ??= p.at;
        return;
      }
      case types.flashRequested: {
        const p = event.payload as LabelFlashRequested & { at: number };
        this.#flashLimiter.record(p.tagId, p.at);
        return;
      }
    }
  }

  #ensureTag(label: ShelfLabel): Tag {
    let tag = this.#tags.get(label.tagId);
    if (!tag) {
      tag = {
        label,
        desired: null,
        shown: null,
        highestVersion: 0,
        unconfirmedSince: null,
        lastSentVersion: null,
        resendReason: null,
        renderedKey: null,
        health: { batteryMv: null, rssi: null, temperatureC: null, lastSeen: null, wakeReason: null, reports: 0 },
        lastFlash: null,
      };
      this.#tags.set(label.tagId, tag);
    }
    return tag;
  }

  /** Takes the store model's labels: new tags join, removed ones leave (their history stays in the ledger). */
  #syncLabels(): boolean {
    const labels = this.#o.labels();
    if (labels === this.#labelsInForce) return false;
    this.#labelsInForce = labels;
    const now = this.#clock.now();
    const inModel = new Set(labels.map((l) => l.tagId));
    for (const [tagId, tag] of this.#tags) {
      if (inModel.has(tagId)) continue;
      this.#scheduler.cancel(tagId);
      this.#integrity.removeTag(tagId, now);
      if (this.#refsCounted) {
        this.#images.unref(tag.desired?.contentHash ?? null);
        this.#images.unref(tag.shown?.contentHash ?? null);
      }
      this.#tags.delete(tagId);
    }
    this.#tagsBySku.clear();
    for (const label of labels) {
      const known = this.#tags.has(label.tagId);
      const tag = this.#ensureTag(label);
      if (known && tag.label.gateway !== label.gateway) this.#scheduler.cancel(label.tagId);
      tag.label = label;
      let skuTags = this.#tagsBySku.get(label.sku);
      if (!skuTags) this.#tagsBySku.set(label.sku, (skuTags = new Set()));
      skuTags.add(label.tagId);
      this.#integrity.setShown(label.tagId, label.sku, shownPrice(tag.shown), tag.shown?.since ?? now);
    }
    this.#sortedIds = [...this.#tags.keys()].sort();
    return true;
  }

  #tag(id: string): Tag {
    const tag = this.#tags.get(id);
    if (!tag) throw errors.EDGE_ERR_LABEL_NOT_FOUND(`no shelf label "${id}" in the store model`);
    return tag;
  }

  #state(tagId: string, tag: Tag): LabelState {
    if (!tag.desired) return 'no-content';
    if (tag.shown?.contentHash === tag.desired.contentHash) return 'confirmed';
    const phase = this.#scheduler.phase(tagId);
    if (phase === 'backoff') return 'failed';
    if (phase === 'queued' || phase === 'sent') return phase;
    return 'pending';
  }

  #isStale(tag: Tag, now: number): boolean {
    return tag.unconfirmedSince !== null && now - tag.unconfirmedSince > this.settings.staleAfterMs;
  }

  #summary(id: string, tag: Tag): LabelSummaryView {
    const confirmed = tag.shown?.shows === 'confirmed' ? tag.shown : null;
    return {
      id,
      sku: tag.label.sku,
      gateway: tag.label.gateway,
      tagType: tag.label.tagType,
      trayId: tag.label.trayId ?? null,
      state: this.#state(id, tag),
      stale: this.#isStale(tag, this.#clock.now()),
      currency: tag.desired?.content.currency ?? confirmed?.content?.currency ?? null,
      desiredPriceMinor: tag.desired?.content.priceMinor ?? null,
      confirmedPriceMinor: confirmed?.content?.priceMinor ?? null,
      desiredVersion: tag.desired?.version ?? null,
      confirmedVersion: confirmed?.version ?? null,
      batteryMv: tag.health.batteryMv,
      rssi: tag.health.rssi,
      lastSeen: tag.health.lastSeen,
    };
  }

  #stateCounts(): Record<LabelState, number> {
    const counts = Object.fromEntries(labelStates.map((s) => [s, 0])) as Record<LabelState, number>;
    for (const [id, tag] of this.#tags) counts[this.#state(id, tag)] += 1;
    return counts;
  }

  #staleCount(): number {
    const now = this.#clock.now();
    let n = 0;
    for (const tag of this.#tags.values()) if (this.#isStale(tag, now)) n += 1;
    return n;
  }

  /** The content of a version the agent rendered for the tag, when its hash matches (looked up by the desired event's key). */
  #contentOfVersion(tagId: string, version: number, contentHash: string | null): LabelContent | null {
    const event = this.#o.ledger.getByKey(desiredKey(tagId, version));
    const p = event?.payload as LabelDesired | undefined;
    return p && p.contentHash === contentHash ? p.content : null;
  }

  // ---------------------------------------------------------------- desired content

  async #drainRefreshes(): Promise<void> {
    try {
      while (this.#refreshWanted !== undefined && !this.#stopped) {
        const wanted = this.#refreshWanted;
        this.#refreshWanted = undefined;
        try {
          await this.#refreshOnce(wanted);
        } catch (err) {
          this.#log.error({ err }, 'label refresh failed');
        }
      }
    } finally {
      // In the same step as the last check of #refreshWanted: a request made after it starts a new drain.
      this.#refreshing = undefined;
    }
  }

  async #refreshOnce(skus: Set<string> | null): Promise<void> {
    if (this.#syncLabels()) skus = null;
    const now = this.#clock.now();
    this.#schedulePriceChange(now);
    const skuList = skus === null ? [...this.#tagsBySku.keys()] : [...skus].filter((sku) => this.#tagsBySku.has(sku));
    // Current prices first, synchronously at `now`: an integrity window opens when the price changes, not when the render is done.
    const contents = new Map<string, LabelContent>();
    for (const sku of skuList) {
      const content = this.#contentAt(sku, now);
      this.#integrity.setCurrentPrice(sku, content?.priceMinor ?? null, now);
      if (content) contents.set(sku, content);
      else this.#log.warn({ sku, code: errors.EDGE_ERR_LABEL_NO_PRICE.code }, 'label SKU has no price; nothing rendered');
    }
    const work: Array<{ tagId: string; content: LabelContent; key: string }> = [];
    for (const sku of skuList) {
      const content = contents.get(sku);
      if (!content) continue;
      for (const tagId of this.#tagsBySku.get(sku) ?? []) {
        const tag = this.#tags.get(tagId)!;
        const key = `${tag.label.tagType}|${canonicalJson(content)}`;
        const d = tag.desired;
        if (d && d.tagType === tag.label.tagType && d.sku === sku && (tag.renderedKey === key || `${d.tagType}|${canonicalJson(d.content)}` === key)) {
          continue; // same content as desired: nothing to render, nothing to send
        }
        work.push({ tagId, content, key });
      }
    }
    if (work.length === 0) return;
    // Render each distinct (tag type, content) once, a few at a time; apply in batches (one ledger transaction each).
    const renders = new Map<string, Promise<RenderedLabel>>();
    const renderOf = (item: (typeof work)[number]) => {
      let promise = renders.get(item.key);
      if (!promise) renders.set(item.key, (promise = this.#o.renderer.render(item.content, this.#tags.get(item.tagId)!.label.tagType)));
      return promise;
    };
    for (let i = 0; i < work.length; i += appendBatch) {
      const batch = work.slice(i, i + appendBatch);
      const rendered = await mapLimit(batch, this.settings.renderConcurrency, async (item) => {
        try {
          return await renderOf(item);
        } catch (err) {
          this.#log.error({ err, tagId: item.tagId, code: errors.EDGE_ERR_LABEL_RENDER_FAILED.code }, 'rendering a label failed');
          return undefined;
        }
      });
      if (this.#stopped) return;
      this.#applyRendered(batch.flatMap((item, j) => (rendered[j] ? [{ ...item, rendered: rendered[j] }] : [])));
    }
  }

  /** The price source's content, or undefined when it has none for the SKU (returned or thrown). */
  #contentAt(sku: string, at: number): LabelContent | undefined {
    try {
      return this.#o.prices.labelContentAt(sku, at);
    } catch (err) {
      this.#log.debug({ err, sku }, 'price source has no label content for the SKU');
      return undefined;
    }
  }

  /** New desired content: appended with its image in one transaction, then handed to the scheduler. */
  #applyRendered(items: Array<{ tagId: string; content: LabelContent; key: string; rendered: RenderedLabel }>): void {
    const now = this.#clock.now();
    const appends: Array<{ tag: Tag; desired: Desired; input: AppendInput<LabelDesired & { at: number }> }> = [];
    const images = new Map<string, StoredImage>();
    for (const { tagId, content, key, rendered } of items) {
      const tag = this.#tags.get(tagId);
      if (!tag) continue;
      if (tag.desired?.contentHash === rendered.contentHash && tag.desired.tagType === tag.label.tagType) {
        tag.renderedKey = key;
        this.#skip('same-hash');
        continue;
      }
      const priority = pricePriority(content, tag.shown);
      const desired: Desired = { version: tag.highestVersion + 1, contentHash: rendered.contentHash, encoding: rendered.encoding, priority, content, tagType: tag.label.tagType, sku: tag.label.sku, since: now };
      const payload = { ...toDesiredPayload(tagId, tag.label.gateway, desired, 'content'), at: now };
      appends.push({ tag, desired, input: { type: types.desired, stream: labelStream, key: desiredKey(tagId, desired.version), payload } });
      tag.highestVersion = desired.version;
      tag.renderedKey = key;
      images.set(rendered.contentHash, { contentHash: rendered.contentHash, tagType: tag.label.tagType, encoding: rendered.encoding, encoded: rendered.encoded });
    }
    if (appends.length === 0) return;
    // A desired version never exists without its bytes: images and events commit together.
    this.#o.ledger.transaction(() => {
      for (const image of images.values()) this.#images.put(image, now);
      this.#o.ledger.appendMany(appends.map((a) => a.input));
    });
    for (const { tag, desired } of appends) this.#setDesired(tag, desired);
  }

  #setDesired(tag: Tag, desired: Desired): void {
    const tagId = tag.label.tagId;
    const previous = tag.desired;
    this.#images.ref(desired.contentHash);
    tag.desired = desired;
    if (previous) this.#images.unref(previous.contentHash);
    const inFlight = ['queued', 'sent'].includes(this.#scheduler.phase(tagId));
    if (tag.shown?.contentHash === desired.contentHash && !inFlight) {
      // The tag shows it already (e.g. a price went back before the newer one went out): nothing to send.
      tag.unconfirmedSince = null;
      this.#scheduler.cancel(tagId);
      this.#skip('already-shown');
      return;
    }
    tag.unconfirmedSince ??= desired.since;
    tag.resendReason = null;
    this.#scheduler.want(tagId, tag.label.gateway, desired.priority, true);
  }

  #skip(reason: 'same-hash' | 'already-shown'): void {
    this.#counts.unchangedSkipped += 1;
    this.#metrics.unchangedSkipped.inc({ reason });
  }

  /** Content changes now (refresh those SKUs), or later (refresh them at that instant). */
  #onPriceChange(change: LabelPriceChange): void {
    const skus = [...change.skus];
    const delay = (change.effectiveFrom ?? 0) - this.#clock.now();
    if (delay <= 0) return void this.refresh(skus);
    const timer = this.#clock.setTimeout(() => {
      this.#changeTimers.delete(timer);
      void this.refresh(skus);
    }, delay);
    this.#changeTimers.add(timer);
  }

  /** The price source's next effective-dated change: refresh all at that instant. */
  #schedulePriceChange(now: number): void {
    const next = this.#o.prices.nextChangeAfter?.(now) ?? null;
    if (this.#priceTimer !== undefined) this.#clock.clearTimeout(this.#priceTimer);
    this.#priceTimer = undefined;
    if (next === null || this.#stopped) return;
    this.#priceTimer = this.#clock.setTimeout(() => {
      this.#priceTimer = undefined;
      void this.refresh();
    }, Math.max(0, next - now));
  }

  // ---------------------------------------------------------------- delivery

  #send(tagId: string): void {
    const tag = this.#tags.get(tagId);
    const desired = tag?.desired;
    if (!tag || !desired) {
      this.#scheduler.cancel(tagId);
      return;
    }
    const image = this.#images.get(desired.contentHash);
    if (!image) {
      // Cannot happen while images are written with their desired event; recover by rendering the desired content again.
      queueMicrotask(() => this.#scheduler.failed(tagId, 'image-missing'));
      void this.#restoreImage(tag, desired);
      return;
    }
    const now = this.#clock.now();
    const command: TagImageCommand = {
      at: now,
      tagId,
      version: desired.version,
      contentHash: desired.contentHash,
      tagType: image.tagType,
      encoding: image.encoding,
      priority: desired.priority,
      image: image.encoded.toString('base64'),
    };
    const resend = tag.lastSentVersion === desired.version;
    tag.lastSentVersion = desired.version;
    this.#counts.sends += 1;
    this.#metrics.sends.inc({ priority: desired.priority });
    if (resend) {
      this.#counts.resends += 1;
      this.#metrics.resends.inc({ reason: tag.resendReason ?? 'retry' });
      if (tag.shown?.contentHash === desired.contentHash) this.#counts.resentUnchanged += 1;
    }
    tag.resendReason = null;
    this.#o.publisher.publishCommand(tag.label.gateway, 'tag.image', command).catch((err: unknown) => {
      this.#log.warn({ err, tagId, version: desired.version, code: errors.EDGE_ERR_LABEL_REFUSED.code }, 'publishing tag.image failed');
      if (tag.desired === desired && this.#scheduler.phase(tagId) === 'queued') this.#scheduler.failed(tagId, 'publish');
    });
  }

  async #restoreImage(tag: Tag, desired: Desired): Promise<void> {
    try {
      const rendered = await this.#o.renderer.render(desired.content, desired.tagType);
      if (rendered.contentHash === desired.contentHash) {
        this.#o.ledger.transaction(() => this.#images.put({ contentHash: rendered.contentHash, tagType: desired.tagType, encoding: rendered.encoding, encoded: rendered.encoded }, this.#clock.now()));
      } else if (tag.desired === desired) {
        // The renderer gives other bytes now: that is new content, under a new version.
        this.#log.warn({ tagId: tag.label.tagId }, 'label image missing and the renderer now gives other bytes; sending them as new content');
        this.#applyRendered([{ tagId: tag.label.tagId, content: desired.content, key: `${desired.tagType}|${canonicalJson(desired.content)}`, rendered }]);
      }
    } catch (err) {
      this.#log.error({ err, tagId: tag.label.tagId, code: errors.EDGE_ERR_LABEL_RENDER_FAILED.code }, 'restoring a label image failed');
    }
  }

  #onDelivery(event: DeviceEvent<TagDeliveryPayload>): void {
    const p = event.payload;
    if (p.requestId !== undefined) return this.#onFlashDelivery(p);
    const tag = this.#tags.get(p.tagId);
    if (!tag) return void this.#metrics.ignored.inc({ reason: 'unknown-tag' });
    if (event.deviceId !== tag.label.gateway) return void this.#metrics.ignored.inc({ reason: 'wrong-gateway' });
    const desired = tag.desired;
    if (!desired || p.version !== desired.version || (p.contentHash !== undefined && p.contentHash !== desired.contentHash)) {
      return void this.#metrics.ignored.inc({ reason: 'stale-version' });
    }
    switch (p.state) {
      case 'queued':
      case 'superseded':
        return;
      case 'sent':
        this.#scheduler.sent(p.tagId);
        return;
      case 'failed':
      case 'refused': {
        const reason = p.reason ?? p.state;
        this.#log.warn({ tagId: p.tagId, gateway: event.deviceId, version: p.version, state: p.state, reason, code: errors.EDGE_ERR_LABEL_REFUSED.code }, 'label image not delivered');
        if (reason === 'stale-version') return this.#reissue(tag, desired);
        tag.resendReason = 'retry';
        this.#scheduler.failed(p.tagId, reason);
        return;
      }
    }
  }

  /**
   * The gateway holds a higher version for the tag than ours (a restored ledger, another agent):
   * the same content goes out again under a version above everything seen, after the back-off.
   */
  #reissue(tag: Tag, desired: Desired): void {
    const now = this.#clock.now();
    const version = tag.highestVersion + 1;
    const next: Desired = { ...desired, version, since: desired.since };
    this.#o.ledger.append({ type: types.desired, stream: labelStream, key: desiredKey(tag.label.tagId, version), payload: { ...toDesiredPayload(tag.label.tagId, tag.label.gateway, next, 'reissue'), at: now } });
    tag.highestVersion = version;
    tag.desired = next;
    this.#scheduler.failed(tag.label.tagId, 'stale-version');
  }

  #onFlashDelivery(p: TagDeliveryPayload): void {
    const flash = this.#flashes.get(p.requestId!);
    if (!flash || flash.tagId !== p.tagId) return void this.#metrics.ignored.inc({ reason: 'unknown-tag' });
    if (p.state !== 'superseded') flash.state = p.state;
  }

  #onGatewayOnline(event: DeviceLifecycle): void {
    if (event.kind !== 'esl-gateway') return;
    // A gateway that restarted may have lost its pending queue: what we believe is waiting there goes again (same version, same bytes).
    for (const tagId of this.#scheduler.inFlight(event.deviceId)) {
      const tag = this.#tags.get(tagId);
      if (!tag?.desired) continue;
      tag.resendReason = 'gateway-online';
      this.#send(tagId);
    }
  }

  #onReport(event: DeviceEvent<TagReportPayload>): void {
    const p = event.payload;
    const tag = this.#tags.get(p.tagId);
    if (!tag) return void this.#metrics.ignored.inc({ reason: 'unknown-tag' });
    // Only the tag's own gateway speaks for it: another gateway's word would let it confirm (or deface) tags it does not serve.
    if (event.deviceId !== tag.label.gateway) return void this.#metrics.ignored.inc({ reason: 'wrong-gateway' });
    const now = this.#clock.now();
    const h = tag.health;
    h.lastSeen = now;
    h.reports += 1;
    h.wakeReason = p.reason;
    if (p.batteryMv !== undefined) h.batteryMv = p.batteryMv;
    if (p.rssi !== undefined) h.rssi = p.rssi;
    if (p.temperatureC !== undefined) h.temperatureC = p.temperatureC;
    if (p.version !== undefined) tag.highestVersion = Math.max(tag.highestVersion, p.version);
    const hash = p.contentHash ?? null;
    const desired = tag.desired;
    if (desired && hash === desired.contentHash) {
      if (tag.shown?.contentHash !== hash) this.#confirm(tag, desired, p, now);
      else this.#scheduler.cancel(p.tagId);
      return;
    }
    if (tag.shown?.contentHash !== hash) this.#diverge(tag, p, now);
    if (!desired) return;
    // Not the desired content: send it (again). Unless it is waiting at the gateway already — a tag reboot does not empty the gateway's queue.
    const phase = this.#scheduler.phase(p.tagId);
    if (phase === 'queued' || phase === 'pending' || phase === 'backoff') return;
    tag.unconfirmedSince ??= now;
    tag.resendReason = p.reason === 'boot' ? 'reboot' : phase === 'sent' ? 'not-shown-after-transfer' : 'diverged';
    this.#scheduler.want(p.tagId, tag.label.gateway, desired.priority, false);
  }

  #confirm(tag: Tag, desired: Desired, p: TagReportPayload, now: number): void {
    const latencyMs = Math.max(0, now - desired.since);
    const payload: LabelConfirmed & { at: number } = {
      tagId: p.tagId,
      version: desired.version,
      contentHash: desired.contentHash,
      sku: desired.sku,
      priceMinor: desired.content.priceMinor,
      currency: desired.content.currency,
      latencyMs,
      reportAt: p.at,
      at: now,
    };
    this.#o.ledger.append({ type: types.confirmed, stream: labelStream, key: `label.confirmed:${p.tagId}:${desired.version}:${p.at}`, payload });
    this.#setShown(tag, { version: desired.version, contentHash: desired.contentHash, content: desired.content, shows: 'confirmed', since: now });
    if (tag.unconfirmedSince !== null) this.#metrics.confirmLatency.observe(latencyMs / 1_000);
    tag.unconfirmedSince = null;
    this.#scheduler.cancel(p.tagId);
  }

  #diverge(tag: Tag, p: TagReportPayload, now: number): void {
    const hash = p.contentHash ?? null;
    const content = hash === null || p.version === undefined ? null : this.#contentOfVersion(p.tagId, p.version, hash);
    const shows: LabelDiverged['shows'] = hash === null ? 'blank' : content ? 'known' : 'unknown';
    const payload: LabelDiverged & { at: number } = { tagId: p.tagId, version: p.version ?? null, contentHash: hash, content, shows, wakeReason: p.reason, reportAt: p.at, at: now };
    this.#o.ledger.append({ type: types.diverged, stream: labelStream, key: `label.diverged:${p.tagId}:${p.at}:${hash ?? 'blank'}`, payload });
    if (shows === 'unknown') this.#log.warn({ tagId: p.tagId, gateway: tag.label.gateway, contentHash: hash, version: p.version }, 'tag shows content the agent never rendered for it');
    this.#setShown(tag, { version: p.version ?? null, contentHash: hash, content, shows: shows === 'known' ? 'confirmed' : shows, since: now });
  }

  #setShown(tag: Tag, shown: Shown): void {
    const previous = tag.shown;
    this.#images.ref(shown.contentHash);
    tag.shown = shown;
    this.#images.unref(previous?.contentHash ?? null);
    this.#integrity.setShown(tag.label.tagId, tag.label.sku, shownPrice(shown), shown.since);
  }

  // ---------------------------------------------------------------- health

  #scheduleHealth(): void {
    if (this.#stopped) return;
    this.#healthTimer = this.#clock.setTimeout(() => {
      this.#healthTimer = undefined;
      try {
        this.checkHealth();
      } catch (err) {
        this.#log.error({ err }, 'label health check failed');
      }
      this.#scheduleHealth();
    }, this.settings.healthCheckIntervalMs);
  }

  /** Raises and clears label alerts for the present state (runs every healthCheckIntervalMs). */
  checkHealth(): void {
    if (this.#syncLabels()) void this.refresh();
    const now = this.#clock.now();
    const s = this.settings;
    const raise: LabelAlertCondition[] = [];
    const clear: Array<{ kind: LabelAlertKind; tagId: string; reason: string }> = [];
    for (const [tagId, tag] of this.#tags) {
      const base = { tagId, sku: tag.label.sku, trayId: tag.label.trayId ?? null };
      if (this.#isStale(tag, now)) {
        const forMs = now - tag.unconfirmedSince!;
        raise.push({
          ...base,
          kind: 'label-stale',
          message: `Label ${tagId} (${tag.label.sku}) has not confirmed its content for ${Math.round(forMs / 60_000)} min; it may show an old price.`,
          details: { gateway: tag.label.gateway, desiredVersion: tag.desired?.version ?? null, shownVersion: tag.shown?.version ?? null, delivery: this.#scheduler.view(tagId) },
        });
      } else if (tag.unconfirmedSince === null) clear.push({ kind: 'label-stale', tagId, reason: 'confirmed' });
      const lastSeen = tag.health.lastSeen ?? this.#startedAt;
      if (now - lastSeen > s.unseenAfterMs) {
        raise.push({
          ...base,
          kind: 'label-unseen',
          message: `Label ${tagId} (${tag.label.sku}) has not been heard from for ${Math.round((now - lastSeen) / 60_000)} min (gateway ${tag.label.gateway}).`,
          details: { gateway: tag.label.gateway, lastSeen: tag.health.lastSeen },
        });
      } else clear.push({ kind: 'label-unseen', tagId, reason: 'seen' });
      const mv = tag.health.batteryMv;
      if (mv !== null && mv < s.lowBatteryMv) {
        raise.push({ ...base, kind: 'label-low-battery', message: `Label ${tagId} (${tag.label.sku}) battery at ${mv} mV (below ${s.lowBatteryMv} mV): replace it.`, details: { batteryMv: mv } });
      } else if (mv !== null && mv >= s.lowBatteryMv + s.batteryHysteresisMv) clear.push({ kind: 'label-low-battery', tagId, reason: 'battery ok' });
    }
    for (const kind of ['label-stale', 'label-unseen', 'label-low-battery'] as const) {
      for (const tagId of this.#alerts.activeTags(kind)) if (!this.#tags.has(tagId)) clear.push({ kind, tagId, reason: 'label removed' });
    }
    this.#alerts.apply(raise, clear);
  }
}

function shownPrice(shown: Shown | null): ShownPrice {
  if (shown === null || shown.shows === 'blank') return null;
  if (shown.shows === 'unknown' || shown.content === null) return 'unknown';
  return shown.content.priceMinor;
}

/** 'price' when the price the shelf shows changes (or it shows none yet); 'cosmetic' otherwise. */
function pricePriority(next: LabelContent, shown: Shown | null): LabelPriority {
  const shownContent = shown?.content ?? null;
  if (shownContent === null) return 'price';
  const same =
    next.priceMinor === shownContent.priceMinor &&
    next.currency === shownContent.currency &&
    next.wasPriceMinor === shownContent.wasPriceMinor &&
    next.memberPriceMinor === shownContent.memberPriceMinor;
  return same ? 'cosmetic' : 'price';
}

function toDesiredPayload(tagId: string, gateway: string, d: Desired, reason: LabelDesired['reason']): LabelDesired {
  return { tagId, gateway, tagType: d.tagType, sku: d.sku, version: d.version, contentHash: d.contentHash, encoding: d.encoding, priority: d.priority, content: d.content, reason };
}

/** Maps with at most `limit` calls in flight, results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
