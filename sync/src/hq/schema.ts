import type BetterSqlite3 from 'better-sqlite3';
import { HqError } from './hq-errors.ts';

export type Db = BetterSqlite3.Database;

/**
 * The reference HQ's tables, as numbered migrations. `PRAGMA user_version` holds how many have
 * run. Append new steps at the end; never edit a shipped one (HQ files in the field ran it).
 */
const migrations: ReadonlyArray<(db: Db) => void> = [
  // 1: stores, the uplink inbox and its bookkeeping, documents and their outcomes.
  (db) => {
    db.exec(`
      CREATE TABLE stores (
        id                TEXT    PRIMARY KEY,
        first_seen_at     INTEGER NOT NULL,
        last_seen_at      INTEGER NOT NULL,
        last_batch_at     INTEGER,
        status            TEXT,              -- last retained up/status payload, canonical JSON
        status_at         INTEGER,
        batches           INTEGER NOT NULL DEFAULT 0,
        records_new       INTEGER NOT NULL DEFAULT 0,   -- = inbox rows of this store
        records_duplicate INTEGER NOT NULL DEFAULT 0,
        records_rejected  INTEGER NOT NULL DEFAULT 0
      );

      -- One row per record HQ holds: identity (store, epoch, seq) and, for good, (store, key) [G3].
      -- Never pruned: a store offline for days re-sends after any TTL would have expired.
      CREATE TABLE inbox (
        store       TEXT    NOT NULL,
        epoch       TEXT    NOT NULL,
        seq         INTEGER NOT NULL,
        stream      TEXT    NOT NULL,
        type        TEXT    NOT NULL,
        key         TEXT    NOT NULL,
        at          INTEGER NOT NULL,
        hlc         TEXT    NOT NULL,
        hash        TEXT    NOT NULL,
        payload     TEXT    NOT NULL,        -- canonical JSON
        received_at INTEGER NOT NULL,
        PRIMARY KEY (store, epoch, seq),
        UNIQUE (store, key)
      );
      CREATE INDEX inbox_by_stream ON inbox (store, stream, hlc);
      CREATE INDEX inbox_by_type ON inbox (store, type, hlc);
      CREATE INDEX inbox_by_hlc ON inbox (store, hlc);

      -- A (store, epoch, seq) whose record HQ already held under another identity: the same key and
      -- hash sent again under a new epoch (a restored store, G13) or seq. Acked, not stored twice;
      -- kept so a later copy of that seq is checked against it and the watermark can pass it.
      CREATE TABLE inbox_aliases (
        store       TEXT    NOT NULL,
        epoch       TEXT    NOT NULL,
        seq         INTEGER NOT NULL,
        key         TEXT    NOT NULL,
        hash        TEXT    NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (store, epoch, seq)
      );

      -- Per (store, epoch): every seq <= watermark is settled at HQ (held, or rejected for good).
      CREATE TABLE epochs (
        store         TEXT    NOT NULL,
        epoch         TEXT    NOT NULL,
        watermark     INTEGER NOT NULL DEFAULT 0,
        max_seq       INTEGER NOT NULL DEFAULT 0,
        held          INTEGER NOT NULL DEFAULT 0,   -- inbox rows of this epoch
        first_seen_at INTEGER NOT NULL,
        last_batch_at INTEGER NOT NULL,
        PRIMARY KEY (store, epoch)
      );

      -- Records refused for good, with the refused copy (the first copy stays in the inbox).
      -- A re-sent refusal bumps times/last_at instead of adding a row.
      CREATE TABLE rejects (
        id        INTEGER PRIMARY KEY,
        store     TEXT    NOT NULL,
        epoch     TEXT    NOT NULL,
        seq       INTEGER NOT NULL,
        batch     TEXT    NOT NULL,
        key       TEXT    NOT NULL,
        code      TEXT    NOT NULL,
        reason    TEXT    NOT NULL,
        hash      TEXT    NOT NULL,      -- the hash the record carried
        record    TEXT    NOT NULL,      -- the refused record, canonical JSON
        first_at  INTEGER NOT NULL,
        last_at   INTEGER NOT NULL,
        times     INTEGER NOT NULL DEFAULT 1,
        UNIQUE (store, epoch, seq, code, hash)
      );
      CREATE INDEX rejects_by_store ON rejects (store, id);

      -- Documents HQ signed. Versions strictly increase per kind across the chain.
      CREATE TABLE document_versions (
        kind    TEXT    PRIMARY KEY,
        version INTEGER NOT NULL
      );
      CREATE TABLE documents (
        id           TEXT    PRIMARY KEY,
        kind         TEXT    NOT NULL,
        version      INTEGER NOT NULL,
        header       TEXT    NOT NULL,   -- the signed header, canonical JSON
        stores       TEXT    NOT NULL,   -- as addressed: JSON array of ids, or ["*"]
        published_at INTEGER NOT NULL,
        expires_at   INTEGER,
        UNIQUE (kind, version)
      );
      CREATE TABLE document_chunks (
        doc_id  TEXT    NOT NULL REFERENCES documents (id),
        idx     INTEGER NOT NULL,
        message TEXT    NOT NULL,        -- the chunk message as published (JSON)
        PRIMARY KEY (doc_id, idx)
      );
      -- Per target store: HQ's own downlink outbox. sent_at stays NULL until the broker took
      -- every chunk (PUBACK), so a document published while the broker is down goes out later.
      CREATE TABLE document_targets (
        doc_id     TEXT    NOT NULL REFERENCES documents (id),
        store      TEXT    NOT NULL,
        sends      INTEGER NOT NULL DEFAULT 0,
        sent_at    INTEGER,
        PRIMARY KEY (doc_id, store)
      );
      CREATE INDEX document_targets_unsent ON document_targets (store) WHERE sent_at IS NULL;
      -- What each store reported (sync.document.applied / .refused records), also for documents
      -- HQ never signed (a forged document a store refused). The latest report (by hlc) wins.
      CREATE TABLE document_outcomes (
        doc_id      TEXT    NOT NULL,
        store       TEXT    NOT NULL,
        outcome     TEXT    NOT NULL CHECK (outcome IN ('applied', 'refused')),
        kind        TEXT,
        version     INTEGER,
        code        TEXT,
        reason      TEXT,
        at          INTEGER NOT NULL,    -- store wall clock of the report
        hlc         TEXT    NOT NULL,
        record_key  TEXT    NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (doc_id, store)
      );
      CREATE INDEX document_outcomes_by_store ON document_outcomes (store, hlc);
    `);
  },
  // 2: tamper evidence (G9) — every ledger mark a store's checkpoints named, and the forks found.
  (db) => {
    db.exec(`
      -- (store, epoch, seq) → the chain hash the store first said its ledger has there.
      CREATE TABLE checkpoint_marks (
        store       TEXT    NOT NULL,
        epoch       TEXT    NOT NULL,
        seq         INTEGER NOT NULL,
        hash        TEXT    NOT NULL,
        received_at INTEGER NOT NULL,
        PRIMARY KEY (store, epoch, seq)
      );
      -- A later checkpoint that named another hash at a kept mark: history rewritten after HQ saw it.
      CREATE TABLE checkpoint_forks (
        id           INTEGER PRIMARY KEY,
        store        TEXT    NOT NULL,
        epoch        TEXT    NOT NULL,
        seq          INTEGER NOT NULL,
        held_hash    TEXT    NOT NULL,
        claimed_hash TEXT    NOT NULL,
        batch        TEXT    NOT NULL,
        at           INTEGER NOT NULL,
        UNIQUE (store, epoch, seq, claimed_hash)
      );
      ALTER TABLE epochs ADD COLUMN checkpoint_seq INTEGER;
      ALTER TABLE epochs ADD COLUMN checkpoint_at INTEGER;
    `);
  },
];

/** The schema version this code writes. */
export const HQ_SCHEMA_VERSION = migrations.length;

/**
 * Brings the file up to HQ_SCHEMA_VERSION, one IMMEDIATE transaction per step that re-reads the
 * version inside it (two processes opening a fresh file at once do not both run step 1).
 */
export function migrateHqSchema(db: Db, file: string): void {
  for (;;) {
    const ranStep = db
      .transaction(() => {
        const version = db.pragma('user_version', { simple: true }) as number;
        if (version > HQ_SCHEMA_VERSION) {
          throw new HqError(
            'SYNC_ERR_HQ_SCHEMA_TOO_NEW',
            `HQ database ${file} has schema version ${version}, this storeedge knows up to ${HQ_SCHEMA_VERSION}; run the newer storeedge or restore a backup`,
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

/** Throws unless the file is at HQ_SCHEMA_VERSION (a read-only open cannot migrate). */
export function requireCurrentHqSchema(db: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === HQ_SCHEMA_VERSION) return;
  throw new HqError(
    version > HQ_SCHEMA_VERSION ? 'SYNC_ERR_HQ_SCHEMA_TOO_NEW' : 'SYNC_ERR_HQ_SCHEMA_OLD',
    `HQ database ${file} has schema version ${version}, this storeedge reads ${HQ_SCHEMA_VERSION}; ${version > HQ_SCHEMA_VERSION ? 'run the newer storeedge' : 'start `storeedge hq serve` once to migrate it'}`,
  );
}
