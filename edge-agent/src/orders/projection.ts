import type { Db, LedgerEvent, Projection } from '../ledger/types.ts';
import {
  orderEventTypes as types,
  type OrderCancelled,
  type OrderCollected,
  type OrderExpired,
  type OrderPicked,
  type OrderReceived,
  type OrderReserved,
} from './ledger-events.ts';

const tables = ['orders', 'order_lines'] as const;

/**
 * Read model of click & collect orders, rebuilt from the `orders` stream on replay:
 * - orders: one row per order with its state and who moved it when;
 * - order_lines: per line the ordered, reserved and picked units.
 * A line's reservation holds while its order is `open`; the state alone releases it, so the
 * reserved figure stays as a record of what was set aside.
 */
export const ordersProjection: Projection = {
  name: 'orders',
  migrate(db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS orders (
        order_id TEXT PRIMARY KEY,
        doc_id TEXT NOT NULL,
        doc_version INTEGER NOT NULL,
        customer_ref TEXT NOT NULL,
        collect_by INTEGER NOT NULL,
        note TEXT,
        state TEXT NOT NULL,
        received_seq INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        picked_at INTEGER,
        picked_by TEXT,
        closed_at INTEGER,
        closed_by TEXT,
        close_reason TEXT,
        alert_id TEXT,
        updated_seq INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state, collect_by);
      CREATE TABLE IF NOT EXISTS order_lines (
        order_id TEXT NOT NULL,
        line INTEGER NOT NULL,
        sku TEXT NOT NULL,
        qty INTEGER NOT NULL,
        reserved INTEGER NOT NULL,
        picked INTEGER,
        PRIMARY KEY (order_id, line)
      );
      CREATE INDEX IF NOT EXISTS order_lines_by_sku ON order_lines (sku);
    `);
  },
  reset(db: Db) {
    for (const table of tables) db.exec(`DELETE FROM ${table}`);
  },
  apply(db: Db, event: LedgerEvent) {
    switch (event.type) {
      case types.received: {
        const p = event.payload as OrderReceived;
        db.prepare(
          `INSERT INTO orders (order_id, doc_id, doc_version, customer_ref, collect_by, note, state, received_seq, received_at, updated_seq)
           VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
        ).run(p.orderId, p.docId, p.docVersion, p.customerRef, p.collectBy, p.note, event.seq, p.at, event.seq);
        const line = db.prepare('INSERT INTO order_lines (order_id, line, sku, qty, reserved) VALUES (?, ?, ?, ?, 0)');
        p.lines.forEach((l, index) => line.run(p.orderId, index, l.sku, l.qty));
        return;
      }
      case types.reserved: {
        const p = event.payload as OrderReserved;
        const line = db.prepare('UPDATE order_lines SET reserved = ? WHERE order_id = ? AND line = ?');
        p.lines.forEach((l, index) => line.run(l.reserved, p.orderId, index));
        touch(db, p.orderId, event.seq);
        return;
      }
      case types.picked: {
        const p = event.payload as OrderPicked;
        const line = db.prepare('UPDATE order_lines SET picked = ? WHERE order_id = ? AND line = ?');
        p.lines.forEach((l, index) => line.run(l.picked, p.orderId, index));
        db.prepare("UPDATE orders SET state = 'picked', picked_at = ?, picked_by = ?, updated_seq = ? WHERE order_id = ?").run(p.at, p.actor, event.seq, p.orderId);
        return;
      }
      case types.collected: {
        const p = event.payload as OrderCollected;
        close(db, p.orderId, 'collected', p.at, p.actor, null, null, event.seq);
        return;
      }
      case types.cancelled: {
        const p = event.payload as OrderCancelled;
        close(db, p.orderId, 'cancelled', p.at, p.actor, p.reason, null, event.seq);
        return;
      }
      case types.expired: {
        const p = event.payload as OrderExpired;
        close(db, p.orderId, 'expired', p.at, 'store', 'not collected by collectBy', p.alertId, event.seq);
        return;
      }
      default:
        return;
    }
  },
};

function touch(db: Db, orderId: string, seq: number): void {
  db.prepare('UPDATE orders SET updated_seq = ? WHERE order_id = ?').run(seq, orderId);
}

function close(db: Db, orderId: string, state: string, at: number, actor: string, reason: string | null, alertId: string | null, seq: number): void {
  db.prepare('UPDATE orders SET state = ?, closed_at = ?, closed_by = ?, close_reason = ?, alert_id = ?, updated_seq = ? WHERE order_id = ?').run(
    state,
    at,
    actor,
    reason,
    alertId,
    seq,
    orderId,
  );
}
