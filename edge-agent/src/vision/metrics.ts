import { Counter, Gauge } from 'prom-client';
import type { InferenceMetrics } from '@storeedge/models';
import type { Metrics } from '../metrics.ts';

export const visionStates = ['disabled', 'idle', 'starting', 'available', 'unavailable', 'closed'] as const;
export type VisionState = (typeof visionStates)[number];

export const identifyOutcomes = ['ok', 'no-frame', 'out-of-view', 'unavailable', 'error'] as const;
export type IdentifyOutcome = (typeof identifyOutcomes)[number];

/**
 * Vision's Prometheus series, on the agent's registry (docs/vision-agent.md):
 * - storeedge_vision_state{state}: 1 for the current state, 0 for the others;
 * - storeedge_queue_depth{queue="vision.inference"}: inference requests waiting for a worker;
 * - storeedge_vision_inference_latency_seconds{quantile="0.5"|"0.95"}: enqueue to result, recent requests;
 * - storeedge_vision_inference_dropped_total, storeedge_vision_inference_errors_total: requests dropped from a full queue / failed otherwise;
 * - storeedge_vision_inference_workers: worker threads up;
 * - storeedge_vision_identify_total{outcome}: identify calls (identifyBest included) by outcome;
 * - storeedge_vision_gallery_skus: SKUs in the gallery.
 */
export class VisionMetrics {
  readonly identify: Counter<'outcome'>;
  readonly #state: Gauge<'state'>;
  readonly #latency: Gauge<'quantile'>;
  readonly #dropped: Counter;
  readonly #errors: Counter;
  readonly #workers: Gauge;
  readonly #gallery: Gauge;
  #seen = { dropped: 0, errors: 0 };

  constructor(
    metrics: Metrics,
    source: () => { state: VisionState; inference: InferenceMetrics | undefined; gallerySkus: number },
  ) {
    const registers = [metrics.registry];
    this.#state = new Gauge({ name: 'storeedge_vision_state', help: 'Product recognition state: 1 for the current one', labelNames: ['state'], registers });
    this.#latency = new Gauge({ name: 'storeedge_vision_inference_latency_seconds', help: 'Recogniser inference latency, enqueue to result, over recent requests', labelNames: ['quantile'], registers });
    this.#dropped = new Counter({ name: 'storeedge_vision_inference_dropped_total', help: 'Inference requests dropped from a full queue', registers });
    this.#errors = new Counter({ name: 'storeedge_vision_inference_errors_total', help: 'Inference requests rejected for another reason (unavailable, bad input, crashed worker)', registers });
    this.#workers = new Gauge({ name: 'storeedge_vision_inference_workers', help: 'Inference worker threads up', registers });
    this.#gallery = new Gauge({ name: 'storeedge_vision_gallery_skus', help: 'SKUs in the recognition gallery', registers });
    this.identify = new Counter({ name: 'storeedge_vision_identify_total', help: 'Vision identify calls by outcome', labelNames: ['outcome'], registers });
    for (const outcome of identifyOutcomes) this.identify.inc({ outcome }, 0);
    metrics.onCollect(() => {
      const s = source();
      for (const state of visionStates) this.#state.set({ state }, state === s.state ? 1 : 0);
      const m = s.inference;
      metrics.queueDepth.set({ queue: 'vision.inference' }, m?.queueDepth ?? 0);
      this.#latency.set({ quantile: '0.5' }, (m?.latencyMs.p50 ?? 0) / 1_000);
      this.#latency.set({ quantile: '0.95' }, (m?.latencyMs.p95 ?? 0) / 1_000);
      this.#workers.set(m?.workers ?? 0);
      this.#gallery.set(s.gallerySkus);
      // The service counts since it started; the counters move by the difference.
      if (m) {
        if (m.dropped > this.#seen.dropped) this.#dropped.inc(m.dropped - this.#seen.dropped);
        if (m.errors > this.#seen.errors) this.#errors.inc(m.errors - this.#seen.errors);
        this.#seen = { dropped: m.dropped, errors: m.errors };
      }
    });
  }
}
