/**
 * The benchmark's sink-side record: the absolute receive time of every (device, seq), with
 * duplicates and unmatched messages counted, and a wait for "everything sent has arrived".
 */
export class ReceiptCollector {
  readonly receivedAt: Float64Array;
  received = 0;
  duplicates = 0;
  /** Messages from an unknown device or with a seq outside 0..messages-1. */
  unmatched = 0;
  /** Time of the latest receipt (absolute ms), NaN before the first. */
  lastAt = Number.NaN;
  readonly #index: ReadonlyMap<string, number>;
  readonly #messages: number;
  #target = Number.POSITIVE_INFINITY;
  #onTarget: (() => void) | undefined;

  /** deviceIndex maps a device id to its position 0..n-1; each device sends seq 0..messages-1. */
  constructor(deviceIndex: ReadonlyMap<string, number>, messages: number) {
    this.#index = deviceIndex;
    this.#messages = messages;
    this.receivedAt = new Float64Array(deviceIndex.size * messages).fill(Number.NaN);
  }

  /** Records one receipt at absolute time t (defaults to now). */
  receive(deviceId: string, seq: unknown, t = performance.timeOrigin + performance.now()): void {
    const device = this.#index.get(deviceId);
    if (device === undefined || typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0 || seq >= this.#messages) {
      this.unmatched++;
      return;
    }
    const i = device * this.#messages + seq;
    if (!Number.isNaN(this.receivedAt[i]!)) {
      this.duplicates++;
      return;
    }
    this.receivedAt[i] = t;
    this.received++;
    this.lastAt = t;
    if (this.received >= this.#target) this.#onTarget?.();
  }

  /**
   * Resolves once `target` messages have arrived, or no message has arrived for `quietMs`
   * (the rest is lost), or after `capMs` at most. Resolves with whether the target was reached.
   */
  settle(target: number, quietMs: number, capMs: number): Promise<boolean> {
    if (this.received >= target) return Promise.resolve(true);
    return new Promise((resolve) => {
      const started = Date.now();
      let lastCount = this.received;
      let lastChange = started;
      const finish = (reached: boolean) => {
        clearInterval(poll);
        this.#onTarget = undefined;
        this.#target = Number.POSITIVE_INFINITY;
        resolve(reached);
      };
      this.#target = target;
      this.#onTarget = () => finish(true);
      const poll = setInterval(() => {
        const now = Date.now();
        if (this.received !== lastCount) {
          lastCount = this.received;
          lastChange = now;
        }
        if (now - lastChange >= quietMs || now - started >= capMs) finish(false);
      }, Math.max(5, Math.min(50, quietMs / 4)));
    });
  }
}
