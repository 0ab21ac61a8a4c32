import { createHash, timingSafeEqual } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { deviceIdPattern, deviceKinds, type DeviceKind } from '@storeedge/device-drivers';
import { errors } from '../errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { driverProblem, nativeDriver } from './drivers.ts';
import { generateSecret, hashSecret, verifySecret } from './secrets.ts';
import { toRecord, type DeviceRecord, type DeviceRow } from './devices-projection.ts';

export type AuthOutcome = 'ok' | 'unknown' | 'disabled' | 'bad_secret';


/**
 * The device registry: devices, their kinds and hashed secrets, kept as events in the ledger
 * (stream "devices") with the `devices` projection as read model. Reads go to SQLite each time,
 * so changes made by another process (the CLI while the agent runs) are seen at once.
 */
export class DeviceRegistry {
  readonly #ledger: Ledger;
  /**
   * Secrets already verified, by device, so a reconnect storm does not cost one scrypt each.
   * Keyed by the registry revision: rotating or disabling a device invalidates its entry.
   */
  readonly #verified = new Map<string, { revision: number; digest: Buffer }>();
  #getStatement: Statement | undefined;
  #cache: Map<string, DeviceRecord> | undefined;
  #dataVersion = -1;
  readonly #listeners = new Set<(id: string) => void>();

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  get(id: string): DeviceRecord | undefined {
    const statement = (this.#getStatement ??= this.#ledger.db.prepare('SELECT * FROM devices WHERE id = ?'));
    const row = statement.get(id) as DeviceRow | undefined;
    return row && toRecord(row);
  }

  list(): DeviceRecord[] {
    return (this.#ledger.db.prepare('SELECT * FROM devices ORDER BY id').all() as DeviceRow[]).map(toRecord);
  }

  /**
   * The device as of the last `refresh()` — the hot path for every message. The agent calls
   * `refresh()` on a timer so registry changes made by another process are seen within it.
   */
  cached(id: string): DeviceRecord | undefined {
    if (!this.#cache) this.#cache = new Map(this.list().map((d) => [d.id, d]));
    return this.#cache.get(id);
  }

  /** Called after this process changes a device (other processes' changes are found by `refresh()`). */
  onChange(listener: (id: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Drops the cache when the ledger file changed (PRAGMA data_version counts other connections' commits). */
  refresh(): boolean {
    const version = this.#ledger.db.pragma('data_version', { simple: true }) as number;
    if (version === this.#dataVersion) return false;
    this.#dataVersion = version;
    this.#cache = undefined;
    return true;
  }

  // Registry events stay in the store: secret hashes never go into the outbox to HQ.

  /** Registers a device and returns its secret; the secret is shown this once and stored only hashed. */
  async add(input: { id: string; kind: string; driver?: string; actor: string }): Promise<{ device: DeviceRecord; secret: string }> {
    if (!deviceIdPattern.test(input.id)) {
      throw errors.EDGE_ERR_DEVICE_ID_INVALID(
        `device id "${input.id}" is not valid: use 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit`,
      );
    }
    if (!(deviceKinds as readonly string[]).includes(input.kind)) {
      throw errors.EDGE_ERR_DEVICE_KIND_INVALID(`device kind "${input.kind}" is not known; use one of: ${deviceKinds.join(', ')}`);
    }
    const problem = driverProblem(input.driver ?? nativeDriver, input.kind as DeviceKind);
    if (problem) throw errors.EDGE_ERR_DEVICE_DRIVER_INVALID(problem);
    if (this.get(input.id)) throw errors.EDGE_ERR_DEVICE_EXISTS(`device "${input.id}" is already registered`);
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    this.#ledger.transaction(() => {
      // Checked again inside the write transaction: another process may have added it meanwhile.
      if (this.get(input.id)) throw errors.EDGE_ERR_DEVICE_EXISTS(`device "${input.id}" is already registered`);
      this.#ledger.append({
        type: 'device.registered',
        stream: 'devices',
        key: `device.registered:${input.id}`,
        payload: { id: input.id, kind: input.kind as DeviceKind, driver: input.driver ?? nativeDriver, secretHash, actor: input.actor },
      });
    });
    this.#cache = undefined;
    return { device: this.#require(input.id), secret };
  }

  disable(id: string, actor: string, reason = 'disabled by operator'): DeviceRecord {
    return this.#change(id, (device) =>
      device.enabled ? { type: 'device.disabled', payload: { id, reason, actor } } : undefined,
    );
  }

  enable(id: string, actor: string): DeviceRecord {
    return this.#change(id, (device) => (device.enabled ? undefined : { type: 'device.enabled', payload: { id, actor } }));
  }

  /** Replaces a device's secret; the old one stops working for new connections at once. */
  async rotateSecret(id: string, actor: string): Promise<{ device: DeviceRecord; secret: string }> {
    this.#require(id);
    const secret = generateSecret();
    const secretHash = await hashSecret(secret);
    const device = this.#change(id, () => ({ type: 'device.secret.rotated', payload: { id, secretHash, actor } }));
    return { device, secret };
  }

  /** Checks CONNECT credentials. Never throws for bad input; unknown and disabled devices are refused. */
  async authenticate(id: string, secret: string): Promise<AuthOutcome> {
    const device = this.get(id);
    if (!device) return 'unknown';
    if (!device.enabled) return 'disabled';
    const digest = createHash('sha256').update(secret).digest();
    const cached = this.#verified.get(id);
    if (cached && cached.revision === device.revision && timingSafeEqual(cached.digest, digest)) return 'ok';
    if (!(await verifySecret(secret, device.secretHash))) return 'bad_secret';
    this.#verified.set(id, { revision: device.revision, digest });
    return 'ok';
  }

  #require(id: string): DeviceRecord {
    const device = this.get(id);
    if (!device) throw errors.EDGE_ERR_DEVICE_NOT_FOUND(`device "${id}" is not registered; see \`storeedge device list\``);
    return device;
  }

  #change(id: string, decide: (device: DeviceRecord) => { type: string; payload: object } | undefined): DeviceRecord {
    this.#ledger.transaction(() => {
      const device = this.#require(id);
      const change = decide(device);
      if (!change) return;
      // The key names the revision it changes, so a retried command is stored once.
      this.#ledger.append({ type: change.type, stream: 'devices', key: `${change.type}:${id}:${device.revision}`, payload: change.payload });
    });
    this.#verified.delete(id);
    this.#cache = undefined;
    for (const listener of this.#listeners) listener(id);
    return this.#require(id);
  }
}
