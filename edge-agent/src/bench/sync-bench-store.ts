/**
 * One store's sync side for `storeedge bench sync`, as the agent wires it (agent.ts): a ledger
 * file with the production durability (WAL, synchronous FULL), a price book on it, and a
 * SyncService on the upstream broker — per-store credentials, persistent MQTT 5 session, QoS 1.
 * Only the uplink flow-control settings a part asks for differ from the defaults.
 */
import { join } from 'node:path';
import type { TrustedKey } from '@storeedge/sync';
import { Ledger } from '../ledger/index.ts';
import { silentLogger } from '../log.ts';
import { PriceBook } from '../pricing/index.ts';
import { syncSettingsSchema, type SyncSettingsInput, type UplinkSettings } from '../sync/settings.ts';
import { SyncService } from '../sync/sync-service.ts';

/** The agent's uplink defaults (sync.uplink in docs/configuration.md). */
export const DEFAULT_UPLINK: UplinkSettings = syncSettingsSchema.parse({ upstream: { url: 'mqtt://127.0.0.1' } }).uplink;

export interface BenchStoreOptions {
  dir: string;
  storeId: string;
  /** The ledger's clock (default Date.now): the backlog part fills yesterday's events at their own times. */
  now?: () => number;
}

export class BenchStore {
  readonly storeId: string;
  readonly ledger: Ledger;
  readonly prices: PriceBook;
  #sync: SyncService | undefined;

  private constructor(storeId: string, ledger: Ledger) {
    this.storeId = storeId;
    this.ledger = ledger;
    this.prices = new PriceBook({ ledger });
  }

  static open(options: BenchStoreOptions): BenchStore {
    const ledger = Ledger.open(join(options.dir, 'ledger.db'), { synchronous: 'full', ...(options.now ? { now: options.now } : {}) });
    return new BenchStore(options.storeId, ledger);
  }

  get sync(): SyncService {
    if (!this.#sync) throw new Error('the store is not connected');
    return this.#sync;
  }

  /**
   * Starts the store's SyncService and resolves once it is connected and subscribed, with the
   * time (performance.now()) the link came up. By then the relay has taken its backlog ceiling:
   * rows appended after this resolves are live rows.
   */
  async connect(p: { url: string; password: string; trustedKeys?: TrustedKey[]; uplink?: Partial<UplinkSettings>; timeoutMs?: number }): Promise<number> {
    const settings: SyncSettingsInput = {
      upstream: { url: p.url, password: p.password, reconnectMinMs: 100, reconnectMaxMs: 1_000 },
      trustedKeys: p.trustedKeys ?? [],
      uplink: { ...p.uplink },
    };
    const sync = new SyncService({
      storeId: this.storeId,
      settings: syncSettingsSchema.parse(settings),
      ledger: this.ledger,
      prices: this.prices,
      storeNow: () => Date.now(),
      agentVersion: 'bench',
      logger: silentLogger(),
    });
    this.#sync = sync;
    const connected = new Promise<number>((resolve) => sync.once('connected', () => resolve(performance.now())));
    sync.start();
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = p.timeoutMs ?? 15_000;
    try {
      return await Promise.race([
        connected,
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`store ${this.storeId} did not connect to the upstream broker within ${timeoutMs} ms`)), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the link (pending rows stay in the outbox) and closes the ledger. */
  async close(): Promise<void> {
    await this.#sync?.stop().catch(() => undefined);
    this.#sync = undefined;
    this.ledger.close();
  }
}
