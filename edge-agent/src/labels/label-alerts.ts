import type { EventBus, StoreAlert } from '../events.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import { inventoryEventTypes as types, inventoryStream, type AlertCleared } from '../inventory/ledger-events.ts';
import { alertIdOf } from '../inventory/projection.ts';
import type { Ledger } from '../ledger/ledger.ts';

/** Alert kinds the label service raises (docs/esl.md "Alerts"). */
export const labelAlertKinds = ['label-stale', 'label-unseen', 'label-low-battery'] as const;
export type LabelAlertKind = (typeof labelAlertKinds)[number];

export interface LabelAlertCondition {
  kind: LabelAlertKind;
  tagId: string;
  sku: string;
  trayId: string | null;
  message: string;
  details: Record<string, unknown>;
}

/**
 * Per-tag label alerts, written like the inventory's and vision's (`inventory.alert.raised` /
 * `.cleared` ledger events), so GET /api/alerts, acknowledgement, `out/alerts` and the bus
 * treat them like any other alert and they survive a restart. One open alert per (kind, tag);
 * `apply` takes a whole batch of raises and clears in one transaction (a gateway going dark
 * makes hundreds of tags unseen at once: one commit, not hundreds).
 */
export class LabelAlerts {
  readonly #ledger: Ledger;
  readonly #bus: EventBus;
  readonly #inventory: Pick<InventoryService, 'alerts' | 'alert'>;
  /** Active (open or acknowledged) alert ids by `${kind}|${tagId}`. */
  readonly #active = new Map<string, string>();

  constructor(o: { ledger: Ledger; bus: EventBus; inventory: Pick<InventoryService, 'alerts' | 'alert'> }) {
    this.#ledger = o.ledger;
    this.#bus = o.bus;
    this.#inventory = o.inventory;
    for (const kind of labelAlertKinds) {
      for (const state of ['open', 'acknowledged'] as const) {
        for (const alert of this.#inventory.alerts({ kind, state, limit: 1_000_000 })) {
          const tagId = alert.details.tagId;
          if (typeof tagId === 'string') this.#active.set(`${kind}|${tagId}`, alert.id);
        }
      }
    }
  }

  isActive(kind: LabelAlertKind, tagId: string): boolean {
    return this.#active.has(`${kind}|${tagId}`);
  }

  /** Tags with an active alert of `kind`. */
  activeTags(kind: LabelAlertKind): string[] {
    const prefix = `${kind}|`;
    return [...this.#active.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** Raises the conditions not yet active and clears the given active ones, in one transaction. */
  apply(raise: readonly LabelAlertCondition[], clear: ReadonlyArray<{ kind: LabelAlertKind; tagId: string; reason: string }>): void {
    const notices: Array<{ event: 'alert.raised' | 'alert.cleared'; alertId: string }> = [];
    const toRaise = raise.filter((c) => !this.isActive(c.kind, c.tagId));
    const toClear = clear.filter((c) => this.isActive(c.kind, c.tagId));
    if (toRaise.length === 0 && toClear.length === 0) return;
    this.#ledger.transaction(() => {
      for (const c of toClear) {
        const alertId = this.#active.get(`${c.kind}|${c.tagId}`)!;
        const payload: AlertCleared = { alertId, reason: c.reason };
        this.#ledger.append({ type: types.alertCleared, stream: inventoryStream, key: `alert-cleared:${alertId}`, payload, outbox: true });
        notices.push({ event: 'alert.cleared', alertId });
      }
      for (const c of toRaise) {
        // AlertRaised's kind lists the inventory's kinds; the projection stores any kind as text (as vision does).
        const payload = { kind: c.kind, trayId: c.trayId, sku: c.sku, changeId: null, message: c.message, details: { ...c.details, tagId: c.tagId } };
        const { event } = this.#ledger.append({ type: types.alertRaised, stream: inventoryStream, key: `alert:${c.kind}:${c.tagId}:${this.#ledger.head().seq}`, payload, outbox: true });
        notices.push({ event: 'alert.raised', alertId: alertIdOf(event.seq) });
      }
    });
    for (const c of toClear) this.#active.delete(`${c.kind}|${c.tagId}`);
    for (const notice of notices) {
      const alert: StoreAlert = this.#inventory.alert(notice.alertId);
      if (notice.event === 'alert.raised') this.#active.set(`${alert.kind}|${String(alert.details.tagId)}`, alert.id);
      this.#bus.emit(notice.event, alert);
    }
  }
}
