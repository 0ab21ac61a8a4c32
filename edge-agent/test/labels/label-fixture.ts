import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHashOf, type ShelfLabel, type TagDeliveryPayload, type TagImageCommand, type TagReportPayload } from '@storeedge/device-drivers';
import { SimClock } from '@storeedge/simulators';
import { inventorySettingsSchema } from '../../src/config/schema.ts';
import { EventBus } from '../../src/events.ts';
import { InventoryService } from '../../src/inventory/inventory-service.ts';
import { inventoryProjection } from '../../src/inventory/projection.ts';
import { LabelService } from '../../src/labels/label-service.ts';
import type { LabelSettingsInput } from '../../src/labels/settings.ts';
import type { CommandPublisher, LabelContent, LabelPriceChange, LabelPriceSource, LabelRendererPort, RenderedLabel } from '../../src/labels/types.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import { silentLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';

/**
 * A deterministic renderer: the "image" is the JSON of what a label draws (the price book's
 * version is not drawn, so a version bump alone renders the same bytes).
 */
export class FakeRenderer implements LabelRendererPort {
  renders = 0;
  async render(content: LabelContent, tagTypeId: string): Promise<RenderedLabel> {
    this.renders += 1;
    const { version: _version, ...drawn } = content;
    const encoded = Buffer.from(JSON.stringify({ tagTypeId, ...drawn }));
    return { encoded, encoding: 'raw', contentHash: contentHashOf(encoded) };
  }
  async toPng(encoded: Buffer): Promise<Buffer> {
    return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), encoded]);
  }
}

/** A price book in memory: `set` changes a SKU now and tells the listeners; `schedule` adds an effective-dated change. */
export class FakePrices implements LabelPriceSource {
  readonly #contents = new Map<string, LabelContent>();
  readonly #scheduled: Array<{ at: number; sku: string; patch: Partial<LabelContent> }> = [];
  readonly #listeners = new Set<(change: LabelPriceChange) => void>();

  constructor(skus: readonly string[], priceMinor = 199) {
    for (const sku of skus) this.#contents.set(sku, { sku, name: `Product ${sku}`, priceMinor, currency: 'EUR', version: 1 });
  }

  labelContentAt(sku: string, at: number): LabelContent | undefined {
    let content = this.#contents.get(sku);
    if (!content) return undefined;
    for (const change of this.#scheduled) if (change.sku === sku && change.at <= at) content = { ...content, ...change.patch };
    return content;
  }

  set(sku: string, patch: Partial<LabelContent>, notify = true): void {
    const content = this.#contents.get(sku)!;
    this.#contents.set(sku, { ...content, ...patch, version: Number(content.version) + 1 });
    if (notify) for (const listener of this.#listeners) listener({ skus: [sku] });
  }

  schedule(at: number, sku: string, patch: Partial<LabelContent>): void {
    this.#scheduled.push({ at, sku, patch });
  }

  onChange(listener: (change: LabelPriceChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  nextChangeAfter(at: number): number | null {
    const next = this.#scheduled.filter((c) => c.at > at).map((c) => c.at);
    return next.length === 0 ? null : Math.min(...next);
  }
}

export interface SentCommand {
  deviceId: string;
  type: string;
  payload: unknown;
}

export class RecordingPublisher implements CommandPublisher {
  readonly sent: SentCommand[] = [];
  fail = false;
  async publishCommand(deviceId: string, type: string, payload: unknown): Promise<void> {
    if (this.fail) throw new Error('broker down');
    this.sent.push({ deviceId, type, payload });
  }
  images(tagId?: string): TagImageCommand[] {
    return this.sent.filter((c) => c.type === 'tag.image').map((c) => c.payload as TagImageCommand).filter((c) => tagId === undefined || c.tagId === tagId);
  }
  clear(): void {
    this.sent.length = 0;
  }
}

export function labelsOf(count: number, options: { gateways?: number; skus?: number; tagType?: string } = {}): ShelfLabel[] {
  const gateways = options.gateways ?? 1;
  const skus = options.skus ?? count;
  return Array.from({ length: count }, (_, i) => ({
    tagId: `tag-${String(i).padStart(5, '0')}`,
    gateway: `gw-${i % gateways}`,
    tagType: options.tagType ?? 'oepl-29',
    sku: `sku-${i % skus}`,
  }));
}

export interface LabelRig {
  dir: string;
  file: string;
  clock: SimClock;
  ledger: Ledger;
  bus: EventBus;
  inventory: InventoryService;
  metrics: Metrics;
  renderer: FakeRenderer;
  prices: FakePrices;
  publisher: RecordingPublisher;
  labels: ShelfLabel[];
  service: LabelService;
  /** A gateway's tag.report, as the ingest puts it on the bus. */
  report(tagId: string, payload: Partial<TagReportPayload>, gateway?: string): void;
  /** A gateway's tag.delivery. */
  delivery(tagId: string, payload: Partial<TagDeliveryPayload> & Pick<TagDeliveryPayload, 'state'>, gateway?: string): void;
  /** The tag completed the transfer of `command` and reports it (delivery sent + report). */
  deliver(command: TagImageCommand): void;
  /** A new service on a fresh connection to the same ledger file (as after kill -9: the old one is not closed). */
  restart(settings?: LabelSettingsInput): LabelService;
  close(): void;
}

export async function labelRig(options: { labels: ShelfLabel[]; settings?: LabelSettingsInput; dir?: string; priceMinor?: number; start?: boolean }): Promise<LabelRig> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'storeedge-labels-'));
  const file = join(dir, 'ledger.sqlite');
  const clock = new SimClock();
  const renderer = new FakeRenderer();
  const prices = new FakePrices([...new Set(options.labels.map((l) => l.sku))], options.priceMinor);
  const publisher = new RecordingPublisher();
  const ledgers: Ledger[] = [];
  const services: LabelService[] = [];
  const make = (settings: LabelSettingsInput | undefined) => {
    const ledger = Ledger.open(file, { projections: [inventoryProjection], synchronous: 'normal', now: () => clock.now() });
    ledgers.push(ledger);
    const bus = new EventBus((_name, error) => {
      throw error;
    });
    const inventory = new InventoryService({ ledger, bus, storeId: 'store-test', settings: inventorySettingsSchema.parse({}), gln: null, timeZone: 'UTC', logger: silentLogger() });
    const metrics = new Metrics();
    const service = new LabelService({ ledger, bus, publisher, renderer, prices, labels: () => rig.labels, inventory, metrics, logger: silentLogger(), clock, ...(settings ? { settings } : {}) });
    services.push(service);
    return { ledger, bus, inventory, metrics, service };
  };
  const rig: LabelRig = {
    dir,
    file,
    clock,
    renderer,
    prices,
    publisher,
    labels: options.labels,
    ...make(options.settings),
    report(tagId, payload, gateway) {
      const label = rig.labels.find((l) => l.tagId === tagId)!;
      const at = clock.now();
      rig.bus.emit('esl.tag.report', {
        deviceId: gateway ?? label.gateway,
        kind: 'esl-gateway',
        deviceTime: at,
        receivedAt: at,
        payload: { at, tagId, reason: 'checkin', ...payload },
      });
    },
    delivery(tagId, payload, gateway) {
      const label = rig.labels.find((l) => l.tagId === tagId)!;
      const at = clock.now();
      rig.bus.emit('esl.tag.delivery', { deviceId: gateway ?? label.gateway, kind: 'esl-gateway', deviceTime: at, receivedAt: at, payload: { at, tagId, ...payload } });
    },
    deliver(command) {
      rig.delivery(command.tagId, { state: 'sent', version: command.version, contentHash: command.contentHash });
      rig.report(command.tagId, { contentHash: command.contentHash, version: command.version, batteryMv: 2_900, rssi: -60 });
    },
    restart(settings) {
      // kill -9: the old service's timers and subscriptions die with the process (stop() writes nothing); its ledger connection is never closed cleanly.
      rig.service.stop();
      const next = make(settings);
      Object.assign(rig, next);
      next.service.start();
      return next.service;
    },
    close() {
      for (const s of services) s.stop();
      for (const l of ledgers) l.close();
      rig.metrics.close();
      if (!options.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
  if (options.start !== false) {
    rig.service.start();
    await rig.service.idle();
  }
  return rig;
}

/** Lets promise callbacks (publish rejections, renders) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
