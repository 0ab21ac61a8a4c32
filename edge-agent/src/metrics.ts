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
  readonly handlerErrors = new Counter({ name: 'storeedge_handler_errors_total', help: 'Bus handlers that threw, by event name', labelNames: ['event'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'storeedge_queue_depth', help: 'Items waiting per queue', labelNames: ['queue'], registers: [this.registry] });
  readonly brokerClients = new Gauge({ name: 'storeedge_broker_clients', help: 'Connected MQTT clients', registers: [this.registry] });
  readonly devicesOnline = new Gauge({ name: 'storeedge_devices_online', help: 'Registered devices currently online', registers: [this.registry] });
  readonly ledgerEvents = new Gauge({ name: 'storeedge_ledger_events', help: 'Events in the ledger', registers: [this.registry] });
  readonly ledgerBytes = new Gauge({ name: 'storeedge_ledger_bytes', help: 'Size of the ledger file', registers: [this.registry] });
  readonly outboxPending = new Gauge({ name: 'storeedge_outbox_pending', help: 'Ledger events waiting for uplink to HQ', registers: [this.registry] });
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
