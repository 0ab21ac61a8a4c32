import { HybridClock } from '@storeedge/sync';
import { errors } from '../errors.ts';
import type { Db } from './types.ts';

/**
 * The ledger's own tables, as numbered migrations. `PRAGMA user_version` holds how many have
 * run. Append new steps at the end; never edit a shipped one (files in stores already ran it).
 */
const migrations: ReadonlyArray<(db: Db) => void> = [
  // 1: the log, the outbox, and append-only guards.
  (db) => {
    db.exec(`
      CREATE TABLE events (
        seq       INTEGER PRIMARY KEY,
        type      TEXT    NOT NULL,
        stream    TEXT    NOT NULL,
        key       TEXT    NOT NULL UNIQUE,
        payload   TEXT    NOT NULL,   -- canonical JSON
        at        INTEGER NOT NULL,   -- ms since the epoch
        prev_hash TEXT    NOT NULL,
        hash      TEXT    NOT NULL
      );
      CREATE INDEX events_by_stream ON events (stream, seq);

      CREATE TABLE outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        seq        INTEGER NOT NULL REFERENCES events (seq),
        stream     TEXT    NOT NULL,
        created_at INTEGER NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        sent_at    INTEGER
      );
      -- Partial indexes: only pending rows are looked up, and they are few next to the sent ones.
      CREATE INDEX outbox_pending_by_stream ON outbox (stream, seq) WHERE sent_at IS NULL;
      CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_at IS NULL;

      -- Guards against bugs, not attackers (anyone with the file can drop these; the hash chain
      -- is what catches them): the log is append-only.
      CREATE TRIGGER events_no_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END;
      CREATE TRIGGER events_no_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'ledger events are append-only'); END;
    `);
  },
  // 2: uplink identity and order (docs/sync.md): the ledger file's epoch, a hybrid logical clock
  // stamp per outbox row, and rows HQ refused for good (kept, no longer pending).
  (db) => {
    db.exec(`
      CREATE TABLE ledger_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      INSERT INTO ledger_meta (key, value) VALUES ('epoch', lower(hex(randomblob(16))));
      ALTER TABLE outbox ADD COLUMN hlc TEXT;
      ALTER TABLE outbox ADD COLUMN rejected_at INTEGER;
      CREATE INDEX outbox_rejected ON outbox (id) WHERE rejected_at IS NOT NULL;
      -- The uplink pages pending rows by id: only those, not every row ever sent.
      CREATE INDEX outbox_pending_by_id ON outbox (id) WHERE sent_at IS NULL;
    `);
    // Rows queued before this step get stamps in id order, never going back (as the clock would have).
    const rows = db.prepare<[], { id: number; created_at: number }>('SELECT id, created_at FROM outbox ORDER BY id').all();
    const stamp = db.prepare<[string, number]>('UPDATE outbox SET hlc = ? WHERE id = ?');
    let createdAt = 0;
    const clock = new HybridClock({ now: () => createdAt });
    for (const row of rows) {
      createdAt = row.created_at;
      stamp.run(clock.tick(), row.id);
    }
  },
];

/** The schema version this code writes. */
export const LEDGER_SCHEMA_VERSION = migrations.length;

/**
 * Brings the file up to LEDGER_SCHEMA_VERSION. Each step runs in its own IMMEDIATE transaction
 * and re-reads the version inside it, so two processes opening a fresh file at once do not
 * both run step 1.
 */
export function migrateLedgerSchema(db: Db, file: string): void {
  for (;;) {
    const ranStep = db
      .transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > LEDGER_SCHEMA_VERSION) {
          throw errors.EDGE_ERR_LEDGER_SCHEMA_TOO_NEW(
            `ledger ${file} has schema version ${version}, this storeedge knows up to ${LEDGER_SCHEMA_VERSION}; run the newer storeedge or restore a backup`,
            { details: { file, version, known: LEDGER_SCHEMA_VERSION } },
          );
        }
        const step = migrations[version];
        if (!step) return false;
        step(db);
        db.pragma(`user_version = ${version + 1}`);
        return true;
      })
      .immediate();
    if (!ranStep) return;
  }
}
