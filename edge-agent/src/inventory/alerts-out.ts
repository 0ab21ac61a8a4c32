import type { DevicePlane } from '../broker/device-plane.ts';
import type { EventBus, StoreAlert } from '../events.ts';
import type { Logger } from '../log.ts';

/** What `storeedge/v1/{storeId}/out/alerts` carries: one message per lifecycle step. */
export interface AlertMessage {
  event: 'raised' | 'acknowledged' | 'cleared';
  alert: StoreAlert;
}

export interface AlertPublisher {
  /** Call once the device plane runs: queued messages go out, later ones go straight out. */
  planeReady(): void;
  stop(): void;
}

/**
 * Publishes alert lifecycle steps from the bus on `out/alerts` (QoS 1, not retained). Alerts
 * raised while the agent starts (the store model is applied before the broker listens) wait
 * until the plane is ready. The ledger already holds every alert; a failed publish is logged,
 * not retried.
 */
export function publishAlerts(bus: EventBus, plane: Pick<DevicePlane, 'publishOut'>, logger: Logger): AlertPublisher {
  let queue: AlertMessage[] | null = [];
  const send = (message: AlertMessage) =>
    plane.publishOut('alerts', message).catch((err: unknown) => logger.warn({ err, alertId: message.alert.id }, 'publishing alert on out/alerts failed'));
  const forward = (event: AlertMessage['event']) =>
    bus.on(`alert.${event}`, (alert) => {
      const message: AlertMessage = { event, alert };
      if (queue) queue.push(message);
      else void send(message);
    });
  const offs = [forward('raised'), forward('acknowledged'), forward('cleared')];
  return {
    planeReady() {
      const waiting = queue ?? [];
      queue = null;
      for (const message of waiting) void send(message);
    },
    stop() {
      offs.forEach((off) => off());
      queue = null;
    },
  };
}
