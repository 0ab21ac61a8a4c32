import { randomUUID } from 'node:crypto';
import type { EventBus } from '../events.ts';
import type { Ledger } from '../ledger/ledger.ts';

/**
 * Writes device online/offline transitions to the ledger (stream "device-lifecycle", queued for
 * HQ), so a device's availability history survives restarts and reaches head office.
 */
export function recordDeviceLifecycle(bus: EventBus, ledger: Ledger): () => void {
  const record = (type: 'device.online' | 'device.offline') =>
    bus.on(type, (event) => {
      ledger.append({
        type,
        stream: 'device-lifecycle',
        // Transitions are never retried, so a fresh key each time is right.
        key: `${type}:${event.deviceId}:${randomUUID()}`,
        payload: { deviceId: event.deviceId, kind: event.kind, at: event.at, fw: event.state?.fw ?? null },
        outbox: true,
      });
    });
  const offs = [record('device.online'), record('device.offline')];
  return () => offs.forEach((off) => off());
}
