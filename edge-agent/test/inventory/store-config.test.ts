import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { storeModelFixture } from './store-fixture.ts';
import { errorOf } from '../helpers/error-of.ts';

describe('config: store section', () => {
  it('is optional; with a model it fills the inventory defaults and freezes the model', () => {
    expect(loadConfig({ storeId: 's1' }).store).toBeUndefined();
    const config = loadConfig({ storeId: 's1', store: { model: storeModelFixture } });
    expect(config.store?.inventory).toEqual({ alertHysteresisUnits: 2, minConfidence: 0.8, weightNoiseG: 2, weightRelativeNoise: 0.01, misplacedMaxZ: 3, misplacedMaxUnits: 3, putBackMaxUnits: 1 });
    expect(config.store?.timeZone).toBe('UTC');
    expect(config.store?.model.catalog[0]).toMatchObject({ sku: 'cola-330', currency: 'EUR', rfidTagged: false });
    expect(Object.isFrozen(config.store?.model.gondolas[0]?.bays[0]?.shelves[0]?.trays[0])).toBe(true);
    const tuned = loadConfig({ storeId: 's1', store: { model: storeModelFixture, gln: '4299990000107', timeZone: 'Europe/Berlin', inventory: { alertHysteresisUnits: 0 } } });
    expect(tuned.store).toMatchObject({ gln: '4299990000107', timeZone: 'Europe/Berlin', inventory: { alertHysteresisUnits: 0, minConfidence: 0.8 } });
  });

  it('names every field to fix: model references, GLN, time zone, unknown settings', () => {
    const model = structuredClone(storeModelFixture);
    model.gondolas![0]!.bays[0]!.shelves[0]!.trays[0]!.facings[0]!.sku = 'fanta-330';
    model.gondolas![0]!.bays[0]!.shelves[0]!.trays[1]!.channel = 0;
    // Devices the model names connect under device ids (lowercase): "Shelf-2" or "Cam:1" could never report.
    model.gondolas![1]!.bays[0]!.shelves[0]!.trays[0]!.device = 'Shelf-2';
    model.gondolas![0]!.bays[0]!.cameras = ['Cam:1'];
    const error = errorOf(() =>
      loadConfig({ storeId: 's1', store: { model, gln: '4299990000100', timeZone: 'Mars/Olympus', inventory: { minConfidence: 2, hysteresis: 1 } } }),
    );
    expect(error.code).toBe('EDGE_ERR_CONFIG_INVALID');
    expect(error.message).toContain('store.model.gondolas.0.bays.0.shelves.0.trays.0.facings.0.sku: SKU "fanta-330" is not in the catalog');
    expect(error.message).toContain('store.model.gondolas.0.bays.0.shelves.0.trays.1.channel: load-cell channel shelf-1#0 is used by two trays');
    expect(error.message).toContain('store.model.gondolas.1.bays.0.shelves.0.trays.0.device: device ids are lowercase');
    expect(error.message).toContain('store.model.gondolas.0.bays.0.cameras.0: device ids are lowercase');
    expect(error.message).toContain('store.gln: GLN check digit is wrong');
    expect(error.message).toContain('store.timeZone: use an IANA time zone');
    expect(error.message).toContain('store.inventory.minConfidence');
    expect(error.message).toContain('hysteresis');
    expect(errorOf(() => loadConfig({ storeId: 's1', store: {} })).message).toContain('store.model');
  });
});
