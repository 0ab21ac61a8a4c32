import type { EventBus, ShelfChange } from '../events.ts';

/** One tray's weight around a settled change: device time (ms) and grams, oldest first. */
export interface WeightTrace {
  t: number[];
  grams: number[];
}

/** What the review page shows of a shelf change besides the review item itself: where and when (the change's own fields), and more. */
export interface ChangeEvidence extends Pick<ShelfChange, 'trayId' | 'deviceId' | 'channel' | 'deltaG' | 'startAt' | 'settledAt'> {
  changeId: string;
  /** Every explanation the weight pipeline gave, best first. */
  candidates: Array<{ sku: string; quantity: number; confidence: number }>;
  misplaced: boolean;
  trace: WeightTrace;
}

export interface WeightTraceRecorderOptions {
  /** How much recent weight each channel keeps (device time). Default 30 s: a change settles within seconds. */
  keepMs?: number;
  /** Margin kept before a change starts and after it settles. Default 2 s. */
  marginMs?: number;
  /** Changes whose evidence is kept, newest first. Default 1,000. */
  maxChanges?: number;
  /** At most this many samples per trace (evenly thinned). Default 400. */
  maxPoints?: number;
}

/**
 * Keeps the recent weight of every load-cell channel and, when the weight pipeline reports a
 * settled change, a copy of that channel's trace around it, so the review page can plot the
 * evidence of an uncertain pick. Memory only: after a restart older changes have no trace.
 */
export class WeightTraceRecorder {
  readonly #keepMs: number;
  readonly #marginMs: number;
  readonly #maxChanges: number;
  readonly #maxPoints: number;
  /** deviceId/channel → samples, oldest first, trimmed lazily. */
  readonly #recent = new Map<string, { t: number[]; grams: number[] }>();
  readonly #changes = new Map<string, ChangeEvidence>();

  constructor(options: WeightTraceRecorderOptions = {}) {
    this.#keepMs = options.keepMs ?? 30_000;
    this.#marginMs = options.marginMs ?? 2_000;
    this.#maxChanges = options.maxChanges ?? 1_000;
    this.#maxPoints = options.maxPoints ?? 400;
  }

  /** Subscribes to the bus; returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    const offWeight = bus.on('shelf.weight', (event) => {
      for (const { ch, grams } of event.payload.channels) this.#push(`${event.deviceId}/${ch}`, event.deviceTime, grams);
    });
    const offChange = bus.on('shelf.change', (change) => this.#record(change));
    return () => {
      offWeight();
      offChange();
    };
  }

  /** The change's evidence; its trace re-cut from the recent weight while that still covers it (samples after the settle arrive later). */
  evidence(changeId: string): ChangeEvidence | undefined {
    const kept = this.#changes.get(changeId);
    if (kept === undefined) return undefined;
    const ring = this.#recent.get(`${kept.deviceId}/${kept.channel}`);
    const from = kept.startAt - this.#marginMs;
    if (ring === undefined || ring.t.length === 0 || ring.t[0]! > from) return kept;
    return { ...kept, trace: this.#slice(ring, from, kept.settledAt + this.#marginMs) };
  }

  #push(key: string, t: number, grams: number): void {
    let ring = this.#recent.get(key);
    if (ring === undefined) {
      ring = { t: [], grams: [] };
      this.#recent.set(key, ring);
    }
    ring.t.push(t);
    ring.grams.push(grams);
    // Trim in chunks so the arrays are not shifted on every sample.
    if (ring.t.length > 64 && ring.t[0]! < t - this.#keepMs * 1.5) {
      const from = ring.t.findIndex((x) => x >= t - this.#keepMs);
      ring.t.splice(0, from);
      ring.grams.splice(0, from);
    }
  }

  #record(change: ShelfChange): void {
    const ring = this.#recent.get(`${change.deviceId}/${change.channel}`);
    const trace = ring === undefined ? { t: [], grams: [] } : this.#slice(ring, change.startAt - this.#marginMs, change.settledAt + this.#marginMs);
    this.#changes.delete(change.id);
    this.#changes.set(change.id, {
      changeId: change.id,
      trayId: change.trayId,
      deviceId: change.deviceId,
      channel: change.channel,
      deltaG: change.deltaG,
      startAt: change.startAt,
      settledAt: change.settledAt,
      candidates: [...(change.sku === null ? [] : [{ sku: change.sku, quantity: change.quantity, confidence: change.confidence }]), ...change.alternatives],
      misplaced: change.misplaced,
      trace,
    });
    while (this.#changes.size > this.#maxChanges) this.#changes.delete(this.#changes.keys().next().value!);
  }

  /** Samples in [from, to], evenly thinned to at most maxPoints. */
  #slice(ring: WeightTrace, from: number, to: number): WeightTrace {
    const trace: WeightTrace = { t: [], grams: [] };
    for (let i = 0; i < ring.t.length; i++) {
      const t = ring.t[i]!;
      if (t < from || t > to) continue;
      trace.t.push(t);
      trace.grams.push(ring.grams[i]!);
    }
    const step = Math.ceil(trace.t.length / this.#maxPoints);
    if (step <= 1) return trace;
    return { t: trace.t.filter((_, i) => i % step === 0), grams: trace.grams.filter((_, i) => i % step === 0) };
  }
}
