import type { Logger } from '../log.ts';

/**
 * Logs rejects without letting a flood flood the log: the first reject per device and code is
 * logged, then at most one summary line per window with the number suppressed.
 */
export class RejectLog {
  readonly #windows = new Map<string, { openedAt: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  log(deviceId: string, code: string, message: string): void {
    const key = `${deviceId}\u0000${code}`;
    const now = this.now();
    const window = this.#windows.get(key);
    if (window && now - window.openedAt < this.windowMs) {
      window.suppressed += 1;
      return;
    }
    this.logger.warn({ deviceId, code, suppressed: window?.suppressed ?? 0 }, `device message rejected: ${message}`);
    this.#windows.set(key, { openedAt: now, suppressed: 0 });
  }
}
