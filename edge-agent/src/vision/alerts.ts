import type { EventBus, StoreAlert } from '../events.ts';
import type { InventoryService } from '../inventory/inventory-service.ts';
import { inventoryEventTypes as types, inventoryStream, type AlertCleared } from '../inventory/ledger-events.ts';
import { alertIdOf } from '../inventory/projection.ts';
import type { Ledger } from '../ledger/ledger.ts';

/** The alert kind vision raises while product recognition is off (the agent runs weight-only). */
export const VISION_ALERT_KIND = 'vision-unavailable';

/** Why vision is off, as the alert's details carry it. */
export interface VisionAlertCondition {
  /** 'model': the recogniser was refused; 'no-catalog-images': nothing to compare crops with; 'gallery': the catalogue images could not be embedded. */
  reason: 'model' | 'no-catalog-images' | 'gallery';
  /** The catalogued error code (MDL_ERR_…) when there is one. */
  code: string | null;
  message: string;
  modelVersion: string | null;
}

/**
 * The 'vision-unavailable' alert: one open alert while vision is off, cleared when it works
 * again. Written like the inventory's alerts — `inventory.alert.raised` / `.cleared` ledger
 * events, so GET /api/alerts, acknowledgement, `out/alerts` and the bus treat it like any other
 * alert, and it survives a restart (an open one is kept when the condition is the same, cleared
 * when vision starts fine).
 */
export class VisionAlerts {
  readonly #ledger: Ledger;
  readonly #bus: EventBus;
  readonly #inventory: Pick<InventoryService, 'alerts' | 'alert'>;

  constructor(o: { ledger: Ledger; bus: EventBus; inventory: Pick<InventoryService, 'alerts' | 'alert'> }) {
    this.#ledger = o.ledger;
    this.#bus = o.bus;
    this.#inventory = o.inventory;
  }

  /** Open (or acknowledged) vision alerts, newest first. */
  active(): StoreAlert[] {
    return this.#inventory.alerts({ kind: VISION_ALERT_KIND }).filter((a) => a.state !== 'cleared');
  }

  /**
   * Makes the alerts match the condition: none while vision works (`undefined`: open ones are
   * cleared); exactly one open alert for the current reason otherwise (an alert for another
   * reason or code is cleared and a new one raised; the same one is left as it is).
   */
  sync(condition: VisionAlertCondition | undefined): void {
    const active = this.active();
    const same = condition && active.find((a) => a.details.reason === condition.reason && a.details.code === condition.code);
    const stale = active.filter((a) => a !== same);
    const notices: Array<{ event: 'alert.raised' | 'alert.cleared'; alertId: string }> = [];
    this.#ledger.transaction(() => {
      for (const alert of stale) {
        const payload: AlertCleared = { alertId: alert.id, reason: condition ? `superseded: ${condition.reason}` : 'vision available' };
        this.#ledger.append({ type: types.alertCleared, stream: inventoryStream, key: `alert-cleared:${alert.id}`, payload, outbox: true });
        notices.push({ event: 'alert.cleared', alertId: alert.id });
      }
      if (condition && !same) {
        const cause = `alert:${VISION_ALERT_KIND}:${condition.reason}:${condition.code ?? '-'}:${this.#ledger.head().seq}`;
        // AlertRaised's kind lists the inventory's kinds; the projection stores any kind as text.
        const payload = {
          kind: VISION_ALERT_KIND,
          trayId: null,
          sku: null,
          changeId: null,
          message: `Product recognition is off; checkout and inventory use weight only. ${condition.code ? `${condition.code}: ` : ''}${condition.message}`,
          details: { reason: condition.reason, code: condition.code, modelVersion: condition.modelVersion },
        };
        const { event } = this.#ledger.append({ type: types.alertRaised, stream: inventoryStream, key: cause, payload, outbox: true });
        notices.push({ event: 'alert.raised', alertId: alertIdOf(event.seq) });
      }
    });
    for (const notice of notices) this.#bus.emit(notice.event, this.#inventory.alert(notice.alertId));
  }
}
