import type { DeviceKind } from '@storeedge/device-drivers';
import type { DeviceStatus } from '../ingest/device-status.ts';
import type { BrokerAddresses } from '../broker/device-plane.ts';
import type { EventBus } from '../events.ts';

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
}

/** The facade the HTTP routes (and later the dashboard) call; nothing else of the agent is reachable. */
export interface AgentApi {
  readonly storeId: string;
  readonly bus: EventBus;
  health(): HealthView;
  metricsText(): Promise<string>;
  devices(): DeviceView[];
  /** Throws EDGE_ERR_DEVICE_NOT_FOUND for an unknown id. */
  device(id: string): DeviceView;
  /** Called by the event stream to publish its own queue depth. */
  setQueueDepth(queue: string, depth: number): void;
}
