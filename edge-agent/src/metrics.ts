import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The agent's Prometheus metrics, on a registry of its own (several agents can live in one
 * test process). Names follow Prometheus conventions: *_total counters, base units.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly messagesIn = new Counter({ name: 'storeedge_messages_in_total', help: 'Device messages accepted, by event type', labelNames: ['type'], registers: [this.registry] });
  readonly messagesOut = new Counter({ name: 'storeedge_messages_out_total', help: 'Messages the agent published, by type', labelNames: ['type'], registers: [this.registry] });
  readonly rejects = new Counter({ name: 'storeedge_rejects_total', help: 'Device messages and connections rejected, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly deviceRejects = new Counter({ name: 'storeedge_device_rejects_total', help: 'Rejects by device and error code', labelNames: ['device', 'code'], registers: [this.registry] });
  readonly httpAuthRefusals = new Counter({ name: 'storeedge_http_auth_refusals_total', help: 'HTTP requests and logins refused by access control, by error code', labelNames: ['code'], registers: [this.registry] });
  readonly handlerErrors = new Counter({ name: 'storeedge_handler_errors_total', help: 'Bus handlers that threw, by event name', labelNames: ['event'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'storeedge_queue_depth', help: 'Items waiting per queue', labelNames: ['queue'], registers: [this.registry] });
  readonly brokerClients = new Gauge({ name: 'storeedge_broker_clients', help: 'Connected MQTT clients', registers: [this.registry] });
  readonly devicesOnline = new Gauge({ name: 'storeedge_devices_online', help: 'Registered devices currently online', registers: [this.registry] });
  readonly ledgerEvents = new Gauge({ name: 'storeedge_ledger_events', help: 'Events in the ledger', registers: [this.registry] });
  readonly ledgerBytes = new Gauge({ name: 'storeedge_ledger_bytes', help: 'Size of the ledger file', registers: [this.registry] });
  readonly outboxPending = new Gauge({ name: 'storeedge_outbox_pending', help: 'Ledger events waiting for uplink to HQ', registers: [this.registry] });
  // HQ sync (docs/sync.md)
  readonly syncConnected = new Gauge({ name: 'storeedge_sync_connected', help: 'Connected to the upstream broker (1) or not (0)', registers: [this.registry] });
  readonly syncBacklog = new Gauge({ name: 'storeedge_sync_backlog_records', help: 'Outbox rows HQ has not acknowledged yet, by stream', labelNames: ['stream'], registers: [this.registry] });
  readonly syncOldestUnsentAge = new Gauge({ name: 'storeedge_sync_oldest_unsent_age_seconds', help: 'Age of the oldest outbox row HQ has not acknowledged (0: none)', registers: [this.registry] });
  readonly syncUplinkRecords = new Counter({ name: 'storeedge_sync_uplink_records_total', help: 'Uplink records by outcome: sent (published, re-sends included), acked, rejected (refused by HQ for good)', labelNames: ['outcome'], registers: [this.registry] });
  readonly syncUplinkBatches = new Counter({ name: 'storeedge_sync_uplink_batches_total', help: 'Uplink batches by outcome: sent, acked, timeout, failed', labelNames: ['outcome'], registers: [this.registry] });
  readonly syncAcksIgnored = new Counter({ name: 'storeedge_sync_acks_ignored_total', help: 'Acks from HQ ignored, by reason (malformed, other-epoch)', labelNames: ['reason'], registers: [this.registry] });
  readonly syncDocuments = new Counter({ name: 'storeedge_sync_documents_total', help: 'HQ documents by kind and outcome: applied, refused, duplicate', labelNames: ['kind', 'outcome'], registers: [this.registry] });
  readonly syncDocumentRefusals = new Counter({ name: 'storeedge_sync_document_refusals_total', help: 'HQ documents refused, by SYNC_ERR code', labelNames: ['code'], registers: [this.registry] });
  readonly syncClockSkew = new Counter({ name: 'storeedge_sync_clock_skew_total', help: 'Remote times (document issuedAt) too far ahead of the store clock: flagged, not adopted', registers: [this.registry] });
  readonly loopLag = new Gauge({ name: 'storeedge_event_loop_lag_seconds', help: 'Event loop delay over the last interval', labelNames: ['quantile'], registers: [this.registry] });

  readonly #loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });
  /** Hooks that refresh gauges just before a scrape or a health read. */
  readonly #collectors: Array<() => void> = [];

  constructor() {
    this.#loop.enable();
    this.#collectors.push(() => {
      const ns = 1e9;
      this.loopLag.set({ quantile: '0.5' }, this.#loop.percentile(50) / ns);
      this.loopLag.set({ quantile: '0.99' }, this.#loop.percentile(99) / ns);
      this.loopLag.set({ quantile: '1' }, this.#loop.max / ns);
    });
  }

  reject(deviceId: string, code: string): void {
    this.rejects.inc({ code });
    this.deviceRejects.inc({ device: deviceId, code });
  }

  onCollect(fn: () => void): void {
    this.#collectors.push(fn);
  }

  collect(): void {
    for (const fn of this.#collectors) fn();
  }

  /** Event-loop delay in ms (p50, p99, max) since the last reset. */
  loopLagMs(): { p50: number; p99: number; max: number } {
    const ms = 1e6;
    return { p50: this.#loop.percentile(50) / ms, p99: this.#loop.percentile(99) / ms, max: this.#loop.max / ms };
  }

  async text(): Promise<string> {
    this.collect();
    return this.registry.metrics();
  }

  close(): void {
    this.#loop.disable();
  }
}
