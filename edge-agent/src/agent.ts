import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { bayCameraIds, trayPlacements, type CameraCalibration, type FrameStore, type FrameStoreOptionsInput, type StoreModel } from '@storeedge/device-drivers';
import type { ResolvedConfig } from './config/load.ts';
import { inventorySettingsSchema, visionSettingsSchema } from './config/schema.ts';
import { CheckoutService } from './checkout/checkout-service.ts';
import { SimulatedPaymentService, type PaymentService } from './checkout/payment.ts';
import { checkoutSettingsSchema } from './checkout/settings.ts';
import { EmbeddedBroker } from './broker/embedded-broker.ts';
import { ExternalBroker } from './broker/external-broker.ts';
import type { BrokerAddresses, DevicePlane } from './broker/device-plane.ts';
import { errors } from './errors.ts';
import { EventBus } from './events.ts';
import type { AgentApi, DeviceView, HealthView } from './http/api.ts';
import { PriceBook } from './pricing/index.ts';
import { LabelService } from './labels/label-service.ts';
import { LabelRenderer, previewPng, requireTagType } from './labels/render/index.ts';
import { createHttpServer } from './http/server.ts';
import { ledgerAudit } from './http/auth/index.ts';
import { createCameraFrames } from './ingest/camera-frames.ts';
import { DeviceIngest } from './ingest/device-ingest.ts';
import { DeviceStatusBook } from './ingest/device-status.ts';
import { publishAlerts } from './inventory/alerts-out.ts';
import { InventoryService } from './inventory/inventory-service.ts';
import { inventoryProjection } from './inventory/projection.ts';
import { attachSensing, type Sensing } from './inventory/sensing.ts';
import { OrderService } from './orders/order-service.ts';
import { ordersProjection } from './orders/projection.ts';
import { SerialDevices } from './serial/serial-devices.ts';
import { Planograms } from './sync/planogram.ts';
import { latestRelease, ModelReleases } from './sync/model-release.ts';
import { SyncService } from './sync/sync-service.ts';
import { Ledger } from './ledger/ledger.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { devicesProjection } from './registry/devices-projection.ts';
import { recordDeviceLifecycle } from './registry/lifecycle-recorder.ts';
import { DeviceRegistry } from './registry/registry.ts';
import { VisionAlerts } from './vision/alerts.ts';
import { VisionService, type CatalogImages } from './vision/vision-service.ts';

export const version = '0.1.0';
/** How often registry changes made by another process (the CLI) are picked up. */
const registryRefreshMs = 2_000;
/** Frames kept from this long before a held shelf change started: the checkout looks at the hand up to 1.5 s before, with up to three frames each. */
const HELD_FRAMES_LEAD_MS = 3_000;

export interface AgentOptions {
  logger?: Logger;
  /** Where receipts are charged (token + amount). Default: a simulated service that approves everything (demo, tests). */
  payment?: PaymentService;
  /** Camera calibrations; a camera not listed gets its bay's default (`bayCamera`) from the store model. */
  cameras?: readonly CameraCalibration[];
  /** Ring buffer and ingest queue limits of the camera frame store (device-drivers `frameStoreOptions`). */
  frames?: FrameStoreOptionsInput;
  /**
   * Catalogue images per SKU (`{ width, height, rgb }`), from HQ with the catalogue or rendered
   * by the simulator: the recogniser's gallery (docs/vision-agent.md). Without them vision is off
   * until `agent.vision.setCatalogImages` gives some.
   */
  catalogImages?: CatalogImages;
  /**
   * The store's clock for prices and labels (effective times, delivery retries): real time by
   * default; a scenario passes its simulated clock so price changes and label deliveries run in
   * simulated time.
   */
  clock?: AgentClock;
}

/** Time as the price book and the label service see it. */
export interface AgentClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: AgentClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * One store's agent: ledger, device registry, MQTT device plane, ingest, bus and HTTP API,
 * started in dependency order and stopped in reverse.
 */
export class StoreAgent {
  readonly config: Readonly<ResolvedConfig>;
  readonly logger: Logger;
  readonly ledger: Ledger;
  readonly registry: DeviceRegistry;
  readonly bus: EventBus;
  readonly metrics: Metrics;
  readonly status = new DeviceStatusBook();
  readonly ingest: DeviceIngest;
  /** The last few seconds of every camera's validated frames, in memory only (docs/camera-driver.md). */
  readonly frames: FrameStore;
  readonly plane: DevicePlane;
  readonly inventory: InventoryService;
  /** Product recognition from camera frames (docs/vision-agent.md); started after the frame store, weight-only when unavailable. */
  readonly vision: VisionService;
  /** Effective-dated prices, promotions and markdowns (docs/pricing.md); the checkout and the labels price from it. */
  readonly prices: PriceBook;
  readonly clock: AgentClock;
  #checkout: CheckoutService | undefined;
  #labels: LabelService | undefined;
  #orders: OrderService | undefined;
  #renderer: LabelRenderer | undefined;
  #bayIndexModel: StoreModel | null = null;
  #catalogModel: StoreModel | null = null;
  #catalogBySku = new Map<string, StoreModel['catalog'][number]>();
  #bayOfTray = new Map<string, string>();
  #cameraTraysModel: StoreModel | null = null;
  #traysOfCamera = new Map<string, string[]>();
  readonly #payment: PaymentService;
  #sensing: Sensing | undefined;
  readonly #serial: SerialDevices;
  #sync: SyncService | undefined;
  #http: FastifyInstance | undefined;
  #addresses: BrokerAddresses | undefined;
  #httpUrl = '';
  readonly #startedAt = Date.now();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #cleanups: Array<() => void> = [];

  /** Walk-out checkout (sessions, carts, review queue, receipts); available once started. */
  get checkout(): CheckoutService {
    if (!this.#checkout) throw errors.EDGE_ERR_INTERNAL('agent is not started');
    return this.#checkout;
  }

  /** Shelf labels: desired content, delivery, price integrity (docs/esl.md); available once started. */
  get labels(): LabelService {
    if (!this.#labels) throw errors.EDGE_ERR_INTERNAL('agent is not started');
    return this.#labels;
  }

  /** Click & collect orders from HQ (docs/sync.md "Online orders"); available once started. */
  get orders(): OrderService {
    if (!this.#orders) throw errors.EDGE_ERR_INTERNAL('agent is not started');
    return this.#orders;
  }

  /** The weight pipeline and RFID presence tracker for the store model in force (none without one). */
  get sensing(): Sensing | undefined {
    return this.#sensing;
  }

  /** The link to HQ (docs/sync.md); undefined without a `sync` block in the config or before start. */
  get sync(): SyncService | undefined {
    return this.#sync;
  }
  #stopping: Promise<void> | undefined;

  private constructor(config: Readonly<ResolvedConfig>, options: AgentOptions) {
    this.config = config;
    this.logger = options.logger ?? createLogger(config.log.level);
    this.metrics = new Metrics();
    this.bus = new EventBus((name, error) => {
      this.metrics.handlerErrors.inc({ event: name });
      this.logger.error({ err: error, event: name }, 'bus handler failed');
    });
    if (config.ledgerFile !== ':memory:') mkdirSync(config.dataDir, { recursive: true });
    this.ledger = Ledger.open(config.ledgerFile, {
      projections: [devicesProjection, inventoryProjection, ordersProjection],
      synchronous: config.ledger.synchronous,
      ...(config.sync ? { maxClockSkewMs: config.sync.maxSkewMs } : {}),
    });
    this.registry = new DeviceRegistry(this.ledger);
    this.frames = createCameraFrames({
      ...(options.cameras ? { cameras: options.cameras } : {}),
      ...(options.frames ? { store: options.frames } : {}),
      model: () => this.inventory.model,
      metrics: this.metrics,
      logger: this.logger,
      recordReject: (deviceId, code, message) => this.ingest.recordDriverReject(deviceId, code, message),
      keepFrom: (cameraId) => this.#framesWantedFrom(cameraId),
    });
    this.ingest = new DeviceIngest({
      registry: this.registry,
      bus: this.bus,
      status: this.status,
      metrics: this.metrics,
      logger: this.logger,
      maxPayloadBytes: config.ingest.maxPayloadBytes,
      ratePerSecond: config.ingest.ratePerSecond,
      rateBurst: config.ingest.rateBurst,
      frames: this.frames,
    });
    this.inventory = new InventoryService({
      ledger: this.ledger,
      bus: this.bus,
      storeId: config.storeId,
      settings: config.store?.inventory ?? inventorySettingsSchema.parse({}),
      gln: config.store?.gln ?? null,
      timeZone: config.store?.timeZone ?? 'UTC',
      logger: this.logger,
    });
    this.clock = options.clock ?? realClock;
    this.prices = new PriceBook({
      ledger: this.ledger,
      logger: this.logger,
      now: () => this.clock.now(),
      timeZone: config.store?.timeZone ?? 'UTC',
      nameOf: (sku) => this.#catalog().get(sku)?.name,
      stockOf: (sku) => this.inventory.stock({ sku }).skus[0]?.observed ?? 0,
    });
    // A model HQ released (and the ledger recorded) serves after a restart too, while its files verify.
    const visionSettings = config.vision ?? visionSettingsSchema.parse({});
    const released = latestRelease(this.ledger, config.dataDir, this.logger);
    this.vision = new VisionService({
      settings: released === undefined ? visionSettings : { ...visionSettings, manifest: released },
      frames: this.frames,
      model: () => this.inventory.model,
      hasExplicitCameras: (options.cameras?.length ?? 0) > 0,
      ...(options.catalogImages ? { catalogImages: options.catalogImages } : {}),
      alerts: new VisionAlerts({ ledger: this.ledger, bus: this.bus, inventory: this.inventory }),
      metrics: this.metrics,
      logger: this.logger,
    });
    this.#payment = options.payment ?? new SimulatedPaymentService();
    this.#serial = new SerialDevices(config.serialDevices, { ingest: this.ingest, logger: this.logger });
    const planeOptions = { config, registry: this.registry, ingest: this.ingest, metrics: this.metrics, logger: this.logger };
    this.plane = config.broker.mode === 'embedded' ? new EmbeddedBroker(planeOptions) : new ExternalBroker(planeOptions);
  }

  /** Opens the ledger, starts the broker and the HTTP server. On failure, whatever started is stopped again. */
  static async start(config: Readonly<ResolvedConfig>, options: AgentOptions = {}): Promise<StoreAgent> {
    const agent = new StoreAgent(config, options);
    try {
      await agent.#start();
    } catch (error) {
      await agent.stop();
      throw error;
    }
    return agent;
  }

  get addresses(): BrokerAddresses {
    if (!this.#addresses) throw errors.EDGE_ERR_INTERNAL('agent is not started');
    return this.#addresses;
  }

  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080. */
  get httpUrl(): string {
    return this.#httpUrl;
  }

  async #start(): Promise<void> {
    const verdict = this.ledger.verifyChain();
    if (!verdict.ok) {
      throw errors.EDGE_ERR_LEDGER_CHAIN_BROKEN(
        `ledger ${this.config.ledgerFile} fails its hash chain at seq ${verdict.brokenAt} (${verdict.reason}); keep the file for investigation and restore from backup`,
      );
    }
    this.#cleanups.push(recordDeviceLifecycle(this.bus, this.ledger));
    const alertsOut = publishAlerts(this.bus, this.plane, this.logger);
    this.#cleanups.push(() => alertsOut.stop());
    // The model before the broker: shelves that publish at once find their trays.
    if (this.config.store) {
      // Once HQ sent a planogram, it is the store's model: the config's is where a store starts.
      const source = this.inventory.modelSource;
      if (source?.kind === 'planogram') {
        this.logger.info({ version: source.version }, 'store model from HQ planogram in force; the config\'s store.model is not applied');
      } else {
        this.inventory.applyModel(this.config.store.model, { kind: 'config', actor: 'config' });
        this.prices.applyCatalog(this.config.store.model.catalog);
      }
      this.prices.applyConfigPromotions(this.config.store.checkout.promotions);
    }
    this.#cleanups.push(this.inventory.attach());
    // A whileStock markdown shows on a label only while the SKU has stock.
    this.#cleanups.push(this.bus.on('shelf.change', (change) => {
      if (change.sku !== null) this.prices.stockChanged(change.sku);
    }));
    const sensing = attachSensing({
      bus: this.bus,
      metrics: this.metrics,
      logger: this.logger,
      model: () => this.inventory.model,
      declaredRestocks: (trayId) => this.inventory.pendingRestocks(trayId),
      // What the inventory saw put down by weight alone, and what the checkout placed from the putter's cart or the camera.
      misplacedUnits: (trayId) => mostOfEach(this.inventory.misplacedOnTray(trayId), checkout.misplacedOn(trayId)),
      ...(this.config.store ? { weight: this.config.store.weight, rfid: this.config.store.rfid } : {}),
    });
    this.#sensing = sensing;
    this.#cleanups.push(() => sensing.stop());
    let planeUp = false;
    // Receipts handed over again during the replay (payment not recorded before a crash) go out once the broker is up.
    const waiting: Array<Parameters<ConstructorParameters<typeof CheckoutService>[0]['publish']>[0]> = [];
    const publishReceipt = (receipt: (typeof waiting)[number]) =>
      this.plane.publishOut('receipts', receipt).catch((err: unknown) => this.logger.warn({ err, receiptId: receipt.receiptId }, 'publishing receipt on out/receipts failed'));
    const checkout = new CheckoutService({
      ledger: this.ledger,
      bus: this.bus,
      metrics: this.metrics,
      logger: this.logger,
      settings: this.config.store?.checkout ?? checkoutSettingsSchema.parse({}),
      model: () => this.inventory.model,
      pendingRestocks: (trayId) => this.inventory.pendingRestocks(trayId),
      restockUnitsOf: (changeId) => this.inventory.restockUnitsOf(changeId),
      unitsOnTray: (trayId) => this.inventory.unitsOnTray(trayId),
      busyTrays: () => new Map((sensing.weight()?.trays() ?? []).flatMap((t) => (t.busySince === null ? [] : [[t.trayId, t.busySince] as const]))),
      decideHeld: (trayIds) => {
        for (const change of sensing.weight()?.decideHeld(trayIds) ?? []) this.bus.emit('shelf.change', change);
      },
      payment: this.#payment,
      prices: this.prices,
      labels: {
        labelPriceFor: (sku, at) => this.#labels?.labelPriceFor(sku, at) ?? null,
        recordCharge: (line) => this.#labels?.recordCharge(line),
      },
      publish: (receipt) => {
        if (planeUp) void publishReceipt(receipt);
        else waiting.push(receipt);
      },
      vision: { available: () => this.vision.state === 'available', identify: ({ trayId, atMs, point }) => this.#identifyAtTray(trayId, atMs, point) },
    });
    this.#checkout = checkout;
    // After the inventory: a shelf change is booked in stock before it becomes a cart line.
    this.#cleanups.push(checkout.attach());
    this.metrics.onCollect(() => {
      const stats = this.ledger.stats();
      this.metrics.ledgerEvents.set(stats.events);
      this.metrics.ledgerBytes.set(stats.bytes);
      this.metrics.outboxPending.set(stats.outboxPending);
      this.metrics.brokerClients.set(this.plane.connectedClients());
      this.metrics.devicesOnline.set(this.status.onlineCount());
      this.#sync?.collectMetrics(this.metrics);
    });
    this.#addresses = await this.plane.start();
    planeUp = true;
    this.#startLabels();
    this.#startOrders();
    this.#startSync();
    for (const receipt of waiting.splice(0)) void publishReceipt(receipt);
    this.#serial.start();
    alertsOut.planeReady();
    // Vision after the frame store and the store model; it never fails the start (weight-only, with an alert).
    await this.vision.start();
    this.#cleanups.push(this.registry.onChange(() => this.plane.reconcile()));
    this.#every(registryRefreshMs, () => {
      if (this.registry.refresh()) this.plane.reconcile();
    });
    this.#every(this.config.ledger.checkpointIntervalMs, () => this.ledger.checkpoint());

    const { users, apiTokens, sessions, loginThrottle } = this.config.http;
    this.#http = await createHttpServer(this.#api(), this.logger, {
      users,
      apiTokens,
      sessions,
      loginThrottle,
      audit: ledgerAudit(this.ledger),
      countRefusal: (code) => this.metrics.httpAuthRefusals.inc({ code }),
    });
    if (users.length === 0) this.logger.warn('no dashboard users in http.users: nobody can log in (docs/dashboard.md "Access")');
    await this.#http.listen({ host: this.config.http.host, port: this.config.http.port });
    const address = this.#http.server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#httpUrl = `http://${host}:${address.port}`;
    this.logger.info({ http: this.#httpUrl, broker: this.#addresses, ledger: this.config.ledgerFile }, 'agent started');
  }

  /** Graceful stop: HTTP first (no new requests), then the broker, then checkpoint and close the ledger. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const timer of this.#timers) clearInterval(timer);
      if (this.#http) {
        const closing = this.#http.close();
        this.#http.server.closeAllConnections(); // event streams never end on their own
        await closing;
      }
      await this.#sync?.stop().catch((err: unknown) => this.logger.error({ err }, 'sync stop failed'));
      await this.#serial.stop().catch((err: unknown) => this.logger.error({ err }, 'serial devices stop failed'));
      await this.plane.close().catch((err: unknown) => this.logger.error({ err }, 'broker close failed'));
      await this.vision.close().catch((err: unknown) => this.logger.error({ err }, 'vision close failed'));
      for (const cleanup of this.#cleanups) cleanup();
      await this.#renderer?.close().catch((err: unknown) => this.logger.error({ err }, 'label renderer close failed'));
      this.frames.clear();
      this.ledger.close();
      this.metrics.close();
      this.logger.info('agent stopped');
    })();
    return this.#stopping;
  }

  /**
   * From when a camera's frames are still wanted although older than the frame store's window: a little before the oldest
   * change the weight pipeline holds undecided on a tray the camera watches. An unexplained change (a unit put on a wrong
   * tray) is held up to `unexplainedHoldMs` (30 s) and the checkout then looks at the hand that brought it — in frames the
   * 10 s window had let go (crowded store with cameras: they came 9–31 s late, most of them 31 s, and none got a verdict).
   */
  #framesWantedFrom(cameraId: string): number | undefined {
    const weight = this.#sensing?.weight();
    const model = this.inventory.model;
    if (weight === undefined || model === null) return undefined;
    if (model !== this.#cameraTraysModel) {
      this.#cameraTraysModel = model;
      this.#traysOfCamera = new Map();
      for (const gondola of model.gondolas) {
        for (const bay of gondola.bays) {
          const trays = bay.shelves.flatMap((shelf) => shelf.trays.map((t) => t.id));
          for (const camera of bayCameraIds(bay)) this.#traysOfCamera.set(camera, [...(this.#traysOfCamera.get(camera) ?? []), ...trays]);
        }
      }
    }
    let since = Number.POSITIVE_INFINITY;
    for (const trayId of this.#traysOfCamera.get(cameraId) ?? []) since = Math.min(since, weight.busySince(trayId) ?? Number.POSITIVE_INFINITY);
    return since === Number.POSITIVE_INFINITY ? undefined : since - HELD_FRAMES_LEAD_MS;
  }

  /** The checkout's question to the cameras: the product in the hand at `point` near a tray, at `atMs` (the bay's cameras; weight-only when they cannot say). */
  async #identifyAtTray(trayId: string, atMs: number, point: { x: number; y: number; z: number }) {
    const model = this.inventory.model;
    if (model === null) return undefined;
    if (model !== this.#bayIndexModel) {
      this.#bayIndexModel = model;
      this.#bayOfTray = new Map(trayPlacements(model).map((p) => [p.tray.id, p.bay]));
    }
    const bayId = this.#bayOfTray.get(trayId);
    return bayId === undefined ? undefined : this.vision.identify({ bayId, atMs, point });
  }

  #every(ms: number, fn: () => void): void {
    const timer = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.logger.error({ err }, 'periodic task failed');
      }
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  #deviceView(id: string): DeviceView | undefined {
    const d = this.registry.get(id);
    if (!d) return undefined;
    const s = this.status.get(id);
    return {
      id: d.id,
      kind: d.kind,
      driver: d.driver,
      enabled: d.enabled,
      createdAt: d.createdAt,
      online: s?.online ?? false,
      lastSeen: s?.lastSeen ?? null,
      connectedAt: s?.connectedAt ?? null,
      birth: s?.birth ?? null,
      health: s?.health ?? null,
      messages: s?.messages ?? 0,
      rejects: { ...(s?.rejects ?? {}) },
    };
  }

  /**
   * The price charged for one unit of `sku` taken at `at` at a till (the walk-out checkout applies
   * the same rule per receipt line): the price book's unit price, but never more than a confirmed
   * label of the SKU showed then; recorded for the price-integrity report.
   */
  tillPrice(sku: string, at: number): number {
    const unit = this.prices.unitPriceAt(sku, at).priceMinor;
    const shown = this.#labels?.labelPriceFor(sku, at) ?? null;
    const charged = shown !== null && shown < unit ? shown : unit;
    this.#labels?.recordCharge({ sku, unitPriceMinor: charged, at });
    return charged;
  }

  /** The catalogue of the store model in force, by SKU. */
  #catalog(): ReadonlyMap<string, StoreModel['catalog'][number]> {
    const model = this.inventory.model;
    if (model !== this.#catalogModel) {
      this.#catalogModel = model;
      this.#catalogBySku = new Map((model?.catalog ?? []).map((c) => [c.sku, c]));
    }
    return this.#catalogBySku;
  }

  /** The label service, after the broker (its first commands go out at once); rendering runs in worker threads. */
  #startLabels(): void {
    const renderer = new LabelRenderer(this.config.store?.esl?.renderWorkers === undefined ? {} : { workers: this.config.store.esl.renderWorkers });
    this.#renderer = renderer;
    const labels = new LabelService({
      ledger: this.ledger,
      bus: this.bus,
      publisher: this.plane,
      renderer: {
        // The price book's content plus what the label draws from the catalogue (the barcode's GTIN).
        render: async (content, tagType) => {
          const { version: _version, ...shown } = content;
          const gtin = this.#catalog().get(content.sku)?.gtin;
          if (gtin === undefined) throw errors.EDGE_ERR_LABEL_NO_PRICE(`SKU "${content.sku}" is not in the catalogue`);
          return renderer.render({ ...shown, gtin }, tagType);
        },
        toPng: (encoded, encoding, tagType) => previewPng(encoded, encoding, requireTagType(tagType)),
      },
      prices: {
        labelContentAt: (sku, at) => (this.prices.regularAt(sku, at) === undefined ? undefined : this.prices.labelContentAt(sku, at)),
        onChange: (listener) => this.prices.onChange((change) => listener(change)),
        nextChangeAfter: (at) => this.prices.nextChangeAfter(at),
      },
      labels: () => this.inventory.model?.labels ?? [],
      inventory: this.inventory,
      metrics: this.metrics,
      logger: this.logger,
      clock: this.clock,
      ...(this.config.store?.esl ? { settings: this.config.store.esl.delivery } : {}),
    });
    labels.start();
    this.#labels = labels;
    this.#cleanups.push(() => labels.stop());
  }

  /** Click & collect, after the labels (it flashes them) and before the link to HQ (an order document may arrive at once). */
  #startOrders(): void {
    const orders = new OrderService({ ledger: this.ledger, bus: this.bus, inventory: this.inventory, labels: this.#labels!, clock: this.clock, logger: this.logger });
    orders.start();
    this.#orders = orders;
    this.#cleanups.push(() => orders.stop());
  }

  /**
   * The link to HQ, after the price book has the config's catalogue and the label service listens
   * to it (a document applied at once reaches the labels). It never fails the start for a
   * missing upstream: the store sells without HQ and the outbox waits.
   */
  #startSync(): void {
    const settings = this.config.sync;
    if (!settings) return;
    const planograms = new Planograms({
      ledger: this.ledger,
      inventory: this.inventory,
      prices: this.prices,
      clock: this.clock,
      logger: this.logger,
      // The labels read the model's tags once per refresh: a new planogram's tags join at once.
      onApplied: () => void this.#labels?.refresh(),
    });
    planograms.start();
    this.#cleanups.push(() => planograms.stop());
    const models = new ModelReleases({
      ledger: this.ledger,
      dataDir: this.config.dataDir,
      vision: { enabled: () => this.vision.state !== 'disabled', swap: (manifestPath) => this.vision.swap(manifestPath) },
      logger: this.logger,
    });
    const sync = new SyncService({
      storeId: this.config.storeId,
      settings,
      ledger: this.ledger,
      prices: this.prices,
      parts: { orders: this.orders, planograms, models },
      storeNow: () => this.clock.now(),
      agentVersion: version,
      metrics: this.metrics,
      logger: this.logger.child({ component: 'sync' }),
    });
    this.#sync = sync;
    sync.start();
  }

  #api(): AgentApi {
    return {
      storeId: this.config.storeId,
      bus: this.bus,
      health: (): HealthView => {
        const stats = this.ledger.stats();
        const devices = this.registry.list();
        return {
          status: 'ok',
          storeId: this.config.storeId,
          version,
          uptimeS: Math.round((Date.now() - this.#startedAt) / 1000),
          broker: { ...this.addresses, clients: this.plane.connectedClients() },
          devices: { registered: devices.length, enabled: devices.filter((d) => d.enabled).length, online: this.status.onlineCount() },
          ledger: { events: stats.events, bytes: stats.bytes, headSeq: stats.head.seq, headHash: stats.head.hash, outboxPending: stats.outboxPending },
          eventLoopLagMs: this.metrics.loopLagMs(),
          sync: this.#sync?.health() ?? null,
        };
      },
      metricsText: () => this.metrics.text(),
      devices: () => this.registry.list().map((d) => this.#deviceView(d.id)!),
      device: (id) => {
        const view = this.#deviceView(id);
        if (!view) throw errors.EDGE_ERR_DEVICE_NOT_FOUND(`device "${id}" is not registered`);
        return view;
      },
      inventory: this.inventory,
      checkout: this.#checkout!,
      prices: this.prices,
      labels: this.#labels!,
      orders: this.#orders!,
      setQueueDepth: (queue, depth) => this.metrics.queueDepth.set({ queue }, depth),
      frames: this.frames,
      model: () => this.inventory.model,
    };
  }
}

/** Per key, the larger of two counts (two views of the same units, not units to add up). */
function mostOfEach(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map(a);
  for (const [key, n] of b) out.set(key, Math.max(n, out.get(key) ?? 0));
  return out;
}
