import type { LabelsApi } from '../labels/api.ts';
import type { PricingApi } from '../pricing/routes.ts';
import type { CheckoutService } from '../checkout/checkout-service.ts';
import type { DeviceKind, FrameStore, StoreModel } from '@storeedge/device-drivers';
import type { DeviceStatus } from '../ingest/device-status.ts';
import type { BrokerAddresses } from '../broker/device-plane.ts';
import type { EventBus, StoreAlert } from '../events.ts';
import type { EpcisDocument } from '../inventory/epcis/document.ts';
import type { AlertFilter, ReconcileInput, RestockInput } from '../inventory/inventory-service.ts';
import type { StockReconciled } from '../inventory/ledger-events.ts';
import type { StockFilter, StockView, TrayStockView } from '../inventory/stock-view.ts';
import type { OrdersApi } from '../orders/api.ts';
import type { SyncHealth } from '../sync/sync-service.ts';

/** A device as the API shows it: registry facts and live status; never its secret hash. */
export interface DeviceView extends DeviceStatus {
  id: string;
  kind: DeviceKind;
  driver: string;
  enabled: boolean;
  createdAt: number;
}

export interface HealthView {
  status: 'ok' | 'degraded';
  storeId: string;
  version: string;
  uptimeS: number;
  broker: BrokerAddresses & { clients: number };
  devices: { registered: number; enabled: number; online: number };
  ledger: { events: number; bytes: number; headSeq: number; headHash: string; outboxPending: number };
  eventLoopLagMs: { p50: number; p99: number; max: number };
  /** HQ sync (docs/sync.md): link, backlog per stream, oldest unsent age, last ack, last documents; null when not configured. */
  sync: SyncHealth | null;
}

/** Inventory as the API sees it (implemented by InventoryService; docs/inventory.md). */
export interface InventoryApi {
  /** Throws EDGE_ERR_INVENTORY_NO_MODEL without a store model. */
  stock(filter: StockFilter): StockView;
  alerts(filter: AlertFilter): StoreAlert[];
  /** Throws EDGE_ERR_ALERT_NOT_FOUND or EDGE_ERR_ALERT_CLEARED. */
  acknowledgeAlert(id: string, actor: string): StoreAlert;
  assignAlert(id: string, assignee: string | null, actor: string): StoreAlert;
  /** Throws EDGE_ERR_INVENTORY_UNKNOWN_TRAY or EDGE_ERR_INVENTORY_NOT_ON_TRAY. */
  restock(input: RestockInput): TrayStockView;
  reconcile(input: ReconcileInput): StockReconciled;
  epcis(query: { since?: number; limit?: number }): { document: EpcisDocument; nextSince: number };
}

/** Walk-out checkout as the API sees it (implemented by CheckoutService; docs/checkout.md). */
export type CheckoutApi = Pick<CheckoutService, 'sessions' | 'session' | 'receipts' | 'receipt' | 'reviews' | 'review' | 'resolveReview' | 'correctReceipt'>;

/** The facade the HTTP routes (and later the dashboard) call; nothing else of the agent is reachable. */
export interface AgentApi {
  readonly storeId: string;
  readonly bus: EventBus;
  health(): HealthView;
  metricsText(): Promise<string>;
  devices(): DeviceView[];
  /** Throws EDGE_ERR_DEVICE_NOT_FOUND for an unknown id. */
  device(id: string): DeviceView;
  readonly inventory: InventoryApi;
  readonly checkout: CheckoutApi;
  readonly prices: PricingApi;
  readonly labels: LabelsApi;
  /** Click & collect orders (docs/sync.md "Online orders"). */
  readonly orders: OrdersApi;
  /** Called by the event stream to publish its own queue depth. */
  setQueueDepth(queue: string, depth: number): void;
  /** The cameras' recent frames (the review page's crops) and the store model in force. */
  readonly frames: Pick<FrameStore, 'nearest' | 'pinhole'>;
  model(): StoreModel | null;
}
