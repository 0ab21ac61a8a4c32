import { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../metrics.ts';
import type { IntegritySummary } from './integrity.ts';

export const labelStates = ['confirmed', 'pending', 'queued', 'sent', 'failed', 'no-content'] as const;
export type LabelState = (typeof labelStates)[number];

/**
 * The label service's Prometheus series, on the agent's registry (docs/esl.md "Metrics"):
 * - storeedge_labels{state}: tags per delivery state;
 * - storeedge_labels_stale: tags whose desired content is unconfirmed past staleAfterMs;
 * - storeedge_label_sends_total{priority}: tag.image commands published (first sends and resends);
 * - storeedge_label_resends_total{reason}: of those, the same version again (retry, reboot, diverged, gateway-online);
 * - storeedge_label_unchanged_skipped_total{reason}: sends avoided ('same-hash': new content rendered to the desired bytes, 'already-shown': the tag showed the new content already; unchanged content is not even rendered);
 * - storeedge_label_confirm_latency_seconds: desired → confirmed;
 * - storeedge_label_delivery_ignored_total{reason}: tag.delivery/tag.report events ignored (stale-version, unknown-tag, wrong-gateway);
 * - storeedge_label_flashes_total{outcome}: LED flashes requested or refused by the budget;
 * - storeedge_label_integrity_*: mismatch windows open, longest lag, charges above the label price.
 */
export class LabelMetrics {
  readonly sends: Counter<'priority'>;
  readonly resends: Counter<'reason'>;
  readonly unchangedSkipped: Counter<'reason'>;
  readonly confirmLatency: Histogram;
  readonly ignored: Counter<'reason'>;
  readonly flashes: Counter<'outcome'>;
  readonly violations: Counter;

  constructor(metrics: Metrics, source: () => { states: Record<LabelState, number>; stale: number; integrity: IntegritySummary }) {
    const registers = [metrics.registry];
    const states = new Gauge({ name: 'storeedge_labels', help: 'Shelf labels by delivery state', labelNames: ['state'], registers });
    const stale = new Gauge({ name: 'storeedge_labels_stale', help: 'Labels whose desired content is not confirmed within staleAfterMs', registers });
    const windowsOpen = new Gauge({ name: 'storeedge_label_integrity_windows_open', help: 'SKUs whose current price differs from what a confirmed label shows', registers });
    const maxLag = new Gauge({ name: 'storeedge_label_integrity_max_lag_seconds', help: 'Longest price/label mismatch so far (open windows included)', registers });
    this.sends = new Counter({ name: 'storeedge_label_sends_total', help: 'tag.image commands published, by priority', labelNames: ['priority'], registers });
    this.resends = new Counter({ name: 'storeedge_label_resends_total', help: 'tag.image commands re-sending a version already sent, by reason', labelNames: ['reason'], registers });
    this.unchangedSkipped = new Counter({ name: 'storeedge_label_unchanged_skipped_total', help: 'Label sends avoided because the content was unchanged, by reason', labelNames: ['reason'], registers });
    this.confirmLatency = new Histogram({
      name: 'storeedge_label_confirm_latency_seconds',
      help: 'From new desired content to the tag reporting it',
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 3600],
      registers,
    });
    this.ignored = new Counter({ name: 'storeedge_label_delivery_ignored_total', help: 'Gateway events the label service ignored, by reason', labelNames: ['reason'], registers });
    this.flashes = new Counter({ name: 'storeedge_label_flashes_total', help: 'LED flash requests by outcome', labelNames: ['outcome'], registers });
    this.violations = new Counter({ name: 'storeedge_label_integrity_violations_total', help: 'Charges above the price the confirmed label showed', registers });
    for (const priority of ['price', 'cosmetic']) this.sends.inc({ priority }, 0);
    for (const reason of ['same-hash', 'already-shown']) this.unchangedSkipped.inc({ reason }, 0);
    metrics.onCollect(() => {
      const s = source();
      for (const state of labelStates) states.set({ state }, s.states[state]);
      stale.set(s.stale);
      windowsOpen.set(s.integrity.windowsOpen);
      maxLag.set(s.integrity.maxLagMs / 1_000);
    });
  }
}
