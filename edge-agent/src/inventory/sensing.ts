import { decodeEpc, type StoreModel } from '@storeedge/device-drivers';
import type { EventBus } from '../events.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { RfidPresenceTracker, type EpcDecoder, type RfidPresenceOptionsInput } from './rfid/index.ts';
import { WeightPipeline, type WeightPipelineOptionsInput } from './weight/index.ts';

export interface SensingOptions {
  bus: EventBus;
  metrics: Metrics;
  logger: Logger;
  /** The store model in force; read on every message, so a planogram swap takes effect at once. */
  model: () => StoreModel | null;
  weight?: WeightPipelineOptionsInput;
  /** Declared restock units not yet arrived, per SKU of a tray (the weight pipeline reads them; see WeightPipelineInit). */
  declaredRestocks?: (trayId: string) => ReadonlyMap<string, number>;
  /** Units of other SKUs known to lie on a tray by mistake, per SKU (the weight pipeline reads them; see WeightPipelineInit). */
  misplacedUnits?: (trayId: string) => ReadonlyMap<string, number>;
  rfid?: RfidPresenceOptionsInput;
  /** How often absence timeouts are checked. */
  rfidTickMs?: number;
  now?: () => number;
}

export interface Sensing {
  weight(): WeightPipeline | undefined;
  rfid(): RfidPresenceTracker | undefined;
  stop(): void;
}

/**
 * Turns raw sensor events into the inventory's inputs: `shelf.weight` samples through the
 * weight pipeline into `shelf.change`, and `rfid.reads` through the presence tracker into
 * `rfid.presence`. Both are built for the store model in force and rebuilt when it changes
 * (a tray's in-progress segment is dropped then; the next settled level starts afresh).
 * Rejects (unknown channels or antennas, invalid EPCs) are counted per device and code.
 */
export function attachSensing(o: SensingOptions): Sensing {
  let model: StoreModel | null = null;
  let pipeline: WeightPipeline | undefined;
  let tracker: RfidPresenceTracker | undefined;
  const reject = (deviceId: string, code: string, message: string) => {
    o.metrics.reject(deviceId, code);
    o.logger.warn({ deviceId, code }, message);
  };
  const epc: EpcDecoder = (hex) => {
    const decoded = decodeEpc(hex);
    if (!decoded.ok) {
      o.metrics.rejects.inc({ code: decoded.reject.code });
      return undefined;
    }
    return decoded.epc.scheme === 'opaque' ? undefined : { gtin: decoded.epc.gtin, serial: decoded.epc.serial };
  };

  const current = (): boolean => {
    const next = o.model();
    if (next === model) return next !== null;
    model = next;
    pipeline = undefined;
    tracker = undefined;
    if (!model) return false;
    pipeline = new WeightPipeline({
      model,
      ...(o.weight ? { options: o.weight } : {}),
      ...(o.declaredRestocks ? { declaredRestocks: o.declaredRestocks } : {}),
      ...(o.misplacedUnits ? { misplacedUnits: o.misplacedUnits } : {}),
      onReject: (r) => reject(r.deviceId, r.code, r.message),
    });
    tracker = new RfidPresenceTracker({
      model,
      ...(o.rfid ? { options: o.rfid } : {}),
      decodeEpc: epc,
      onPresence: (event) => o.bus.emit('rfid.presence', event),
      onReject: (r) => reject(r.deviceId, r.code, r.message),
    });
    return true;
  };

  const offWeight = o.bus.on('shelf.weight', (event) => {
    if (!current()) return;
    for (const change of pipeline!.push(event.deviceId, event.payload)) o.bus.emit('shelf.change', change);
  });
  const offReads = o.bus.on('rfid.reads', (event) => {
    if (current()) tracker!.ingest(event);
  });
  const now = o.now ?? Date.now;
  const timer = setInterval(() => {
    if (model && tracker) tracker.tick(now());
  }, o.rfidTickMs ?? 1_000);
  timer.unref();

  return {
    weight: () => (current() ? pipeline : undefined),
    rfid: () => (current() ? tracker : undefined),
    stop() {
      clearInterval(timer);
      offWeight();
      offReads();
    },
  };
}
