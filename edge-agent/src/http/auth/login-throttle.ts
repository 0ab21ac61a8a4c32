import type { LoginThrottleSettings } from './settings.ts';

/** Addresses × names remembered at most; beyond it the oldest are forgotten (memory stays bounded under a spray of names). */
const maxKeys = 10_000;
/** An address alone may fail this many times more than one name from it (several staff behind one tablet). */
const perAddressFactor = 10;

/**
 * Slows password guessing: after `maxFailures` failed logins for one name from one address
 * within `windowMs` (or ten times that from one address for any names), further tries from
 * there are refused until the oldest failure leaves the window. Refused tries are not checked
 * and do not extend the wait. A successful login clears its name's failures.
 */
export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();

  constructor(
    private readonly settings: LoginThrottleSettings,
    private readonly now: () => number,
  ) {}

  /** ms until `name` may be tried again from `address`; 0 when it may now. */
  retryAfterMs(name: string, address: string): number {
    const at = this.now();
    return Math.max(
      this.#wait(nameKey(name, address), this.settings.maxFailures, at),
      this.#wait(addressKey(address), this.settings.maxFailures * perAddressFactor, at),
    );
  }

  failed(name: string, address: string): void {
    const at = this.now();
    this.#add(nameKey(name, address), this.settings.maxFailures, at);
    this.#add(addressKey(address), this.settings.maxFailures * perAddressFactor, at);
  }

  succeeded(name: string, address: string): void {
    this.#failures.delete(nameKey(name, address));
  }

  #recent(key: string, at: number): number[] {
    const times = (this.#failures.get(key) ?? []).filter((t) => at - t < this.settings.windowMs);
    if (times.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, times);
    return times;
  }

  #wait(key: string, limit: number, at: number): number {
    const times = this.#recent(key, at);
    return times.length < limit ? 0 : times[times.length - limit]! + this.settings.windowMs - at;
  }

  #add(key: string, limit: number, at: number): void {
    const times = [...this.#recent(key, at), at].slice(-limit);
    this.#failures.delete(key);
    this.#failures.set(key, times);
    while (this.#failures.size > maxKeys) this.#failures.delete(this.#failures.keys().next().value!);
  }
}

const nameKey = (name: string, address: string) => `${address}\u0000${name}`;
const addressKey = (address: string) => address;
