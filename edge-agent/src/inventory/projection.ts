import type { Db, LedgerEvent, Projection } from '../ledger/types.ts';
import {
  inventoryEventTypes as types,
  type AlertAcknowledged,
  type AlertAssigned,
  type AlertCleared,
  type AlertRaised,
  type ModelApplied,
  type RestockDeclared,
  type RfidPresenceRecorded,
  type ShelfChanged,
  type StockReconciled,
} from './ledger-events.ts';

/** The alert id of a raise event: its ledger seq makes it unique and stable across replays. */
export function alertIdOf(raiseSeq: number): string {
  return `al-${raiseSeq}`;
}

const tables = ['inventory_model', 'inventory_trays', 'inventory_stock', 'inventory_changes', 'inventory_rfid_tags', 'inventory_alerts', 'inventory_alert_assignments'] as const;

/**
 * Read model of the inventory, rebuilt from the "inventory" stream on replay:
 * - inventory_model: the applied store model (one row);
 * - inventory_trays: where each tray is;
 * - inventory_stock: one row per (tray, SKU): facings from the model, and misplaced units
 *   (facing = 0) found by weight; book, observed and pending restock units;
 * - inventory_changes: every shelf change and how it was read;
 * - inventory_rfid_tags: tags present now, by zone;
 * - inventory_alerts: alert lifecycle (open → acknowledged → cleared).
 */
export const inventoryProjection: Projection = {
  name: 'inventory',
  migrate(db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS inventory_model (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hash TEXT NOT NULL,
        model TEXT NOT NULL,
        source TEXT NOT NULL,
        seq INTEGER NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS inventory_trays (
        tray_id TEXT PRIMARY KEY,
        zone TEXT NOT NULL,
        gondola TEXT NOT NULL,
        bay TEXT NOT NULL,
        shelf TEXT NOT NULL,
        device TEXT NOT NULL,
        channel INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS inventory_stock (
        tray_id TEXT NOT NULL,
        sku TEXT NOT NULL,
        gtin TEXT NOT NULL,
        facing INTEGER NOT NULL,
        capacity INTEGER,
        min_level INTEGER,
        book INTEGER NOT NULL,
        observed INTEGER NOT NULL,
        pending_restock INTEGER NOT NULL,
        updated_seq INTEGER NOT NULL,
        PRIMARY KEY (tray_id, sku)
      );
      CREATE INDEX IF NOT EXISTS inventory_stock_by_sku ON inventory_stock (sku);
      CREATE TABLE IF NOT EXISTS inventory_changes (
        change_id TEXT PRIMARY KEY,
        tray_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        sku TEXT,
        units INTEGER NOT NULL,
        delta_g REAL NOT NULL,
        settled_at INTEGER NOT NULL,
        seq INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS inventory_changes_by_outcome ON inventory_changes (outcome, seq);
      CREATE TABLE IF NOT EXISTS inventory_rfid_tags (
        epc TEXT PRIMARY KEY,
        gtin TEXT,
        sku TEXT,
        zone TEXT NOT NULL,
        since INTEGER NOT NULL,
        seq INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS inventory_rfid_by_sku ON inventory_rfid_tags (sku, zone);
      CREATE TABLE IF NOT EXISTS inventory_alerts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        tray_id TEXT,
        sku TEXT,
        change_id TEXT,
        message TEXT NOT NULL,
        details TEXT NOT NULL,
        raised_seq INTEGER NOT NULL,
        raised_at INTEGER NOT NULL,
        acknowledged_at INTEGER,
        acknowledged_by TEXT,
        cleared_at INTEGER,
        clear_reason TEXT
      );
      CREATE INDEX IF NOT EXISTS inventory_alerts_by_state ON inventory_alerts (state, raised_seq);
      CREATE INDEX IF NOT EXISTS inventory_alerts_by_subject ON inventory_alerts (kind, tray_id, sku, state);
      -- Who is to deal with an alert (a row only while someone is).
      CREATE TABLE IF NOT EXISTS inventory_alert_assignments (
        alert_id TEXT PRIMARY KEY,
        assigned_to TEXT NOT NULL,
        assigned_by TEXT NOT NULL,
        assigned_at INTEGER NOT NULL
      );
    `);
  },
  reset(db: Db) {
    for (const table of tables) db.exec(`DELETE FROM ${table}`);
  },
  apply(db: Db, event: LedgerEvent) {
    switch (event.type) {
      case types.modelApplied:
        return applyModel(db, event as LedgerEvent<ModelApplied>);
      case types.shelfChanged:
        return applyShelfChange(db, event as LedgerEvent<ShelfChanged>);
      case types.restockDeclared: {
        const p = event.payload as RestockDeclared;
        db.prepare('UPDATE inventory_stock SET book = book + ?, pending_restock = pending_restock + ?, updated_seq = ? WHERE tray_id = ? AND sku = ?').run(
          p.quantity,
          p.quantity,
          event.seq,
          p.trayId,
          p.sku,
        );
        return;
      }
      case types.stockReconciled: {
        const p = event.payload as StockReconciled;
        const adjust = db.prepare('UPDATE inventory_stock SET book = book + ?, pending_restock = pending_restock - ?, updated_seq = ? WHERE tray_id = ? AND sku = ?');
        for (const a of p.adjustments) adjust.run(a.observed - a.bookBefore, a.pendingBefore, event.seq, a.trayId, a.sku);
        return;
      }
      case types.rfidPresence:
        return applyRfidPresence(db, event as LedgerEvent<RfidPresenceRecorded>);
      case types.alertRaised: {
        const p = event.payload as AlertRaised;
        db.prepare(
          `INSERT INTO inventory_alerts (id, kind, state, tray_id, sku, change_id, message, details, raised_seq, raised_at)
           VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)`,
        ).run(alertIdOf(event.seq), p.kind, p.trayId, p.sku, p.changeId, p.message, JSON.stringify(p.details), event.seq, event.at);
        return;
      }
      case types.alertCleared: {
        const p = event.payload as AlertCleared;
        db.prepare("UPDATE inventory_alerts SET state = 'cleared', cleared_at = ?, clear_reason = ? WHERE id = ? AND state != 'cleared'").run(event.at, p.reason, p.alertId);
        return;
      }
      case types.alertAcknowledged: {
        const p = event.payload as AlertAcknowledged;
        db.prepare("UPDATE inventory_alerts SET state = 'acknowledged', acknowledged_at = ?, acknowledged_by = ? WHERE id = ? AND state = 'open'").run(event.at, p.actor, p.alertId);
        return;
      }
      case types.alertAssigned: {
        const p = event.payload as AlertAssigned;
        if (p.assignee === null) db.prepare('DELETE FROM inventory_alert_assignments WHERE alert_id = ?').run(p.alertId);
        else {
          db.prepare(
            `INSERT INTO inventory_alert_assignments (alert_id, assigned_to, assigned_by, assigned_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (alert_id) DO UPDATE SET assigned_to = excluded.assigned_to, assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at`,
          ).run(p.alertId, p.assignee, p.actor, event.at);
        }
        return;
      }
    }
  },
};

/**
 * A (new) store model: trays are replaced; facings that stay keep their stock; new facings
 * start at their `initial`; rows of trays or facings that are gone are dropped. A misplaced row
 * whose SKU becomes a facing of its tray is a facing from now on.
 */
function applyModel(db: Db, event: LedgerEvent<ModelApplied>): void {
  const p = event.payload;
  db.prepare(
    `INSERT INTO inventory_model (id, hash, model, source, seq, at) VALUES (1, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, model = excluded.model, source = excluded.source, seq = excluded.seq, at = excluded.at`,
  ).run(p.hash, JSON.stringify(p.model), JSON.stringify(p.source), event.seq, event.at);
  db.exec('DELETE FROM inventory_trays');
  const insertTray = db.prepare('INSERT INTO inventory_trays (tray_id, zone, gondola, bay, shelf, device, channel) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const gtinOf = new Map(p.model.catalog.map((item) => [item.sku, item.gtin]));
  const upsertFacing = db.prepare(
    `INSERT INTO inventory_stock (tray_id, sku, gtin, facing, capacity, min_level, book, observed, pending_restock, updated_seq)
     VALUES (@trayId, @sku, @gtin, 1, @capacity, @minLevel, @initial, @initial, 0, @seq)
     ON CONFLICT (tray_id, sku) DO UPDATE SET gtin = excluded.gtin, facing = 1, capacity = excluded.capacity, min_level = excluded.min_level, updated_seq = excluded.updated_seq`,
  );
  const keep = new Set<string>();
  for (const tray of p.trays) {
    insertTray.run(tray.trayId, tray.zone, tray.gondola, tray.bay, tray.shelf, tray.device, tray.channel);
    for (const f of tray.facings) {
      upsertFacing.run({ trayId: tray.trayId, sku: f.sku, gtin: gtinOf.get(f.sku) ?? '', capacity: f.capacity, minLevel: f.minLevel, initial: f.initial, seq: event.seq });
      keep.add(`${tray.trayId}\u0000${f.sku}`);
    }
  }
  const rows = db.prepare<[], { tray_id: string; sku: string; facing: number }>('SELECT tray_id, sku, facing FROM inventory_stock').all();
  const trayIds = new Set(p.trays.map((t) => t.trayId));
  const drop = db.prepare('DELETE FROM inventory_stock WHERE tray_id = ? AND sku = ?');
  const demote = db.prepare('UPDATE inventory_stock SET facing = 0, capacity = NULL, min_level = NULL, updated_seq = ? WHERE tray_id = ? AND sku = ?');
  for (const row of rows) {
    if (keep.has(`${row.tray_id}\u0000${row.sku}`)) continue;
    if (!trayIds.has(row.tray_id) || row.facing === 1) drop.run(row.tray_id, row.sku);
    else demote.run(event.seq, row.tray_id, row.sku);
  }
}

function applyShelfChange(db: Db, event: LedgerEvent<ShelfChanged>): void {
  const p = event.payload;
  const units = p.effects.reduce((sum, e) => sum + e.observed, 0);
  db.prepare('INSERT INTO inventory_changes (change_id, tray_id, outcome, sku, units, delta_g, settled_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
    p.change.id,
    p.change.trayId,
    p.outcome,
    p.effects[0]?.sku ?? p.change.sku,
    units,
    p.change.deltaG,
    p.change.settledAt,
    event.seq,
  );
  const update = db.prepare(
    `INSERT INTO inventory_stock (tray_id, sku, gtin, facing, capacity, min_level, book, observed, pending_restock, updated_seq)
     VALUES (@trayId, @sku, @gtin, 0, NULL, NULL, @book, @observed, 0, @seq)
     ON CONFLICT (tray_id, sku) DO UPDATE SET book = book + @book, observed = observed + @observed,
       pending_restock = pending_restock - @restockConsumed, updated_seq = @seq`,
  );
  for (const e of p.effects) {
    update.run({ trayId: e.trayId, sku: e.sku, gtin: e.gtin, book: e.book, observed: e.observed, restockConsumed: e.restockConsumed, seq: event.seq });
  }
  // A misplaced row that is empty again is gone (its alert is cleared by its own event).
  db.prepare('DELETE FROM inventory_stock WHERE facing = 0 AND observed = 0 AND book = 0 AND tray_id = ?').run(p.change.trayId);
}

function applyRfidPresence(db: Db, event: LedgerEvent<RfidPresenceRecorded>): void {
  const p = event.payload;
  switch (p.kind) {
    case 'arrived':
    case 'moved':
      db.prepare(
        `INSERT INTO inventory_rfid_tags (epc, gtin, sku, zone, since, seq) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (epc) DO UPDATE SET gtin = excluded.gtin, sku = excluded.sku, zone = excluded.zone, since = excluded.since, seq = excluded.seq`,
      ).run(p.epc, p.gtin ?? null, p.sku, p.zone, p.at, event.seq);
      return;
    case 'departed':
      // Absent from that zone; if it has been seen elsewhere since, that newer zone stands.
      db.prepare('DELETE FROM inventory_rfid_tags WHERE epc = ? AND zone = ?').run(p.epc, p.zone);
      return;
    case 'exited':
      db.prepare('DELETE FROM inventory_rfid_tags WHERE epc = ?').run(p.epc);
      return;
  }
}
