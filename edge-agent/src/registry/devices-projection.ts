import type { Db, LedgerEvent, Projection } from '../ledger/types.ts';
import type { DeviceKind } from '@storeedge/device-drivers';

/** Ledger events that change the device registry (stream "devices"). */
export interface DeviceRegistered { id: string; kind: DeviceKind; driver: string; secretHash: string; actor: string }
export interface DeviceDisabled { id: string; reason: string; actor: string }
export interface DeviceEnabled { id: string; actor: string }
export interface DeviceSecretRotated { id: string; secretHash: string; actor: string }

export interface DeviceRecord {
  id: string;
  kind: DeviceKind;
  driver: string;
  enabled: boolean;
  secretHash: string;
  createdAt: number;
  updatedAt: number;
  /** Seq of the last registry event for this device; changes whenever its credentials or state change. */
  revision: number;
}

interface DeviceRow {
  id: string;
  kind: DeviceKind;
  driver: string;
  enabled: number;
  secret_hash: string;
  created_at: number;
  updated_at: number;
  revision: number;
}

export function toRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    kind: row.kind,
    driver: row.driver,
    enabled: row.enabled === 1,
    secretHash: row.secret_hash,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    revision: row.revision,
  };
}

export type { DeviceRow };

/** Read model of the registry: one row per device, rebuilt from the "devices" stream on replay. */
export const devicesProjection: Projection = {
  name: 'devices',
  migrate(db: Db) {
    db.exec(`CREATE TABLE IF NOT EXISTS devices (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      driver TEXT NOT NULL,
      enabled INTEGER NOT NULL,
      secret_hash TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      revision INTEGER NOT NULL
    )`);
  },
  reset(db: Db) {
    db.exec('DELETE FROM devices');
  },
  apply(db: Db, event: LedgerEvent) {
    switch (event.type) {
      case 'device.registered': {
        const p = event.payload as DeviceRegistered;
        db.prepare(
          `INSERT INTO devices (id, kind, driver, enabled, secret_hash, created_at, updated_at, revision)
           VALUES (?, ?, ?, 1, ?, ?, ?, ?)`,
        ).run(p.id, p.kind, p.driver, p.secretHash, event.at, event.at, event.seq);
        break;
      }
      case 'device.disabled':
      case 'device.enabled': {
        const p = event.payload as DeviceDisabled | DeviceEnabled;
        db.prepare('UPDATE devices SET enabled = ?, updated_at = ?, revision = ? WHERE id = ?').run(
          event.type === 'device.enabled' ? 1 : 0,
          event.at,
          event.seq,
          p.id,
        );
        break;
      }
      case 'device.secret.rotated': {
        const p = event.payload as DeviceSecretRotated;
        db.prepare('UPDATE devices SET secret_hash = ?, updated_at = ?, revision = ? WHERE id = ?').run(
          p.secretHash,
          event.at,
          event.seq,
          p.id,
        );
        break;
      }
    }
  },
};
