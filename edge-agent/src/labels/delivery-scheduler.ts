import type { LabelPriority } from '@storeedge/device-drivers';
import type { LabelClock } from './types.ts';

/**
 * Where one tag's delivery stands:
 * - idle: nothing to send (confirmed, or no desired content);
 * - pending: waiting for a slot in its gateway's in-flight budget;
 * - queued: a tag.image is at the gateway (holds a slot) until it reports sent or failed;
 * - sent: the tag completed the transfer; its tag.report decides (confirmed or re-send);
 * - backoff: the last attempt failed; it becomes pending again at `retryAt`.
 */
export type DeliveryPhase = 'idle' | 'pending' | 'queued' | 'sent' | 'backoff';

export interface DeliveryView {
  phase: DeliveryPhase;
  /** Failed attempts in a row for the current content. */
  attempts: number;
  retryAt: number | null;
  lastError: string | null;
  /** Agent clock of the last publish. */
  lastSentAt: number | null;
}

interface Delivery extends DeliveryView {
  gateway: string;
  priority: LabelPriority;
  timer: unknown;
}

interface GatewayQueues {
  price: Set<string>;
  cosmetic: Set<string>;
  inFlight: Set<string>;
}

export interface SchedulerOptions {
  clock: LabelClock;
  inFlightPerGateway: number;
  retryBaseMs: number;
  retryMaxMs: number;
  deliveryTimeoutMs: number;
  /** Publish the tag's desired content now (the scheduler has counted it in flight). */
  send(tagId: string): void;
}

/**
 * Which tag's image goes to which gateway when (docs/esl.md "Delivery"):
 * - per gateway at most `inFlightPerGateway` images waiting at the gateway, below its pending
 *   limit (OEPL: 250, research/esl.md §1.7), so 20 000 labels flow through 20 gateways
 *   without a queue-full refusal;
 * - price changes before cosmetic ones, each in arrival order;
 * - supersession: new content for a tag already at its gateway goes out at once, on the
 *   tag's own slot (the gateway keeps one entry per tag and drops the older); new content for a
 *   tag waiting or backing off just replaces what it would have sent;
 * - exponential back-off after a failure, refusal or timeout.
 * Pure bookkeeping on an injected clock; what is sent is the service's business.
 */
export class DeliveryScheduler {
  readonly #o: SchedulerOptions;
  readonly #tags = new Map<string, Delivery>();
  readonly #gateways = new Map<string, GatewayQueues>();

  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  view(tagId: string): DeliveryView {
    const d = this.#tags.get(tagId);
    return d
      ? { phase: d.phase, attempts: d.attempts, retryAt: d.retryAt, lastError: d.lastError, lastSentAt: d.lastSentAt }
      : { phase: 'idle', attempts: 0, retryAt: null, lastError: null, lastSentAt: null };
  }

  phase(tagId: string): DeliveryPhase {
    return this.#tags.get(tagId)?.phase ?? 'idle';
  }

  /** Tags with an image at `gateway` now. */
  inFlight(gateway: string): string[] {
    return [...(this.#gateways.get(gateway)?.inFlight ?? [])];
  }

  /** Tags waiting for a slot at `gateway`, price first. */
  waiting(gateway: string): string[] {
    const g = this.#gateways.get(gateway);
    return g ? [...g.price, ...g.cosmetic] : [];
  }

  /**
   * The tag's desired content must reach it. `fresh`: it is new content (attempts start again;
   * a back-off for older content is dropped). A tag whose image is at the gateway is sent again
   * at once (a newer version supersedes the waiting one there).
   */
  want(tagId: string, gateway: string, priority: LabelPriority, fresh: boolean): void {
    let d = this.#tags.get(tagId);
    if (d && d.gateway !== gateway) {
      this.cancel(tagId);
      d = undefined;
    }
    if (!d) {
      d = { phase: 'idle', attempts: 0, retryAt: null, lastError: null, lastSentAt: null, gateway, priority, timer: undefined };
      this.#tags.set(tagId, d);
    }
    if (fresh) d.attempts = 0;
    d.priority = priority;
    const g = this.#queues(gateway);
    switch (d.phase) {
      case 'queued':
        if (fresh) this.#publish(tagId, d);
        return;
      case 'backoff':
        if (!fresh) return;
        this.#clearTimer(d);
        d.retryAt = null;
        break;
      case 'pending':
        g.price.delete(tagId);
        g.cosmetic.delete(tagId);
        break;
      case 'idle':
      case 'sent':
        break;
    }
    d.phase = 'pending';
    g[priority].add(tagId);
    this.pump(gateway);
  }

  /** Nothing more to send for the tag (confirmed, or it left the store model). */
  cancel(tagId: string): void {
    const d = this.#tags.get(tagId);
    if (!d) return;
    this.#clearTimer(d);
    const g = this.#queues(d.gateway);
    g.price.delete(tagId);
    g.cosmetic.delete(tagId);
    const freed = g.inFlight.delete(tagId);
    this.#tags.delete(tagId);
    if (freed) this.pump(d.gateway);
  }

  /** The gateway handed the image to the tag: the slot is free; the tag's report decides. */
  sent(tagId: string): void {
    const d = this.#tags.get(tagId);
    if (!d || d.phase !== 'queued') return;
    this.#clearTimer(d);
    d.phase = 'sent';
    d.attempts = 0;
    d.lastError = null;
    this.#queues(d.gateway).inFlight.delete(tagId);
    this.pump(d.gateway);
  }

  /** The attempt failed (refused, failed, timed out, not published): back off, then try again. */
  failed(tagId: string, reason: string): void {
    const d = this.#tags.get(tagId);
    if (!d || d.phase === 'idle' || d.phase === 'backoff') return;
    this.#clearTimer(d);
    const g = this.#queues(d.gateway);
    g.price.delete(tagId);
    g.cosmetic.delete(tagId);
    g.inFlight.delete(tagId);
    d.attempts += 1;
    d.lastError = reason;
    const delay = Math.min(this.#o.retryMaxMs, this.#o.retryBaseMs * 2 ** Math.min(d.attempts - 1, 30));
    d.phase = 'backoff';
    d.retryAt = this.#o.clock.now() + delay;
    d.timer = this.#o.clock.setTimeout(() => {
      d.timer = undefined;
      if (this.#tags.get(tagId) !== d || d.phase !== 'backoff') return;
      d.retryAt = null;
      d.phase = 'pending';
      this.#queues(d.gateway)[d.priority].add(tagId);
      this.pump(d.gateway);
    }, delay);
    this.pump(d.gateway);
  }

  /** Sends what fits in the gateway's budget, price changes first. */
  pump(gateway: string): void {
    const g = this.#queues(gateway);
    while (g.inFlight.size < this.#o.inFlightPerGateway) {
      const next = first(g.price) ?? first(g.cosmetic);
      if (next === undefined) return;
      g.price.delete(next);
      g.cosmetic.delete(next);
      const d = this.#tags.get(next)!;
      d.phase = 'queued';
      g.inFlight.add(next);
      this.#publish(next, d);
    }
  }

  /** Cancels every timer (the service stops). */
  close(): void {
    for (const d of this.#tags.values()) this.#clearTimer(d);
  }

  #publish(tagId: string, d: Delivery): void {
    this.#clearTimer(d);
    d.lastSentAt = this.#o.clock.now();
    d.timer = this.#o.clock.setTimeout(() => {
      d.timer = undefined;
      if (this.#tags.get(tagId) === d && d.phase === 'queued') this.failed(tagId, 'timeout');
    }, this.#o.deliveryTimeoutMs);
    this.#o.send(tagId);
  }

  #clearTimer(d: Delivery): void {
    if (d.timer !== undefined) this.#o.clock.clearTimeout(d.timer);
    d.timer = undefined;
  }

  #queues(gateway: string): GatewayQueues {
    let g = this.#gateways.get(gateway);
    if (!g) this.#gateways.set(gateway, (g = { price: new Set(), cosmetic: new Set(), inFlight: new Set() }));
    return g;
  }
}

function first(set: Set<string>): string | undefined {
  for (const value of set) return value;
  return undefined;
}
