import { afterEach, describe, expect, it } from 'vitest';
import { trayPlacements, type StoreModelInput } from '@storeedge/device-drivers';
import { Rng, ShelfLoadModel, weightPayloads } from '@storeedge/simulators';
import type { ShelfChange } from '../../src/events.ts';
import { startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';
import { checkoutModelInput, ENTRY, gateScan, misplacedChange, Scene, skuChange, standAt, T0 } from './checkout-fixture.ts';

/**
 * The weight pipeline reads what lies on a tray by mistake from the agent's inventory and its
 * checkout (real agent, real SQLite). A 160 g unit put on the cola tray fits chips and a second
 * 161 g SKU: the inventory cannot name it by weight, the checkout can (the putter held chips).
 * Taking it away again is then a pick of chips, decided at once — not a change held 30 s as
 * unexplained, into which the next handling of the tray would merge.
 */
const model: StoreModelInput = {
  ...checkoutModelInput,
  catalog: [...checkoutModelInput.catalog, { sku: 'crisps', gtin: '04006381333986', name: 'Crisps 150 g', unitWeightG: 161, unitWeightSigmaG: 3, priceMinor: 189 }],
};

describe('misplaced units reach the weight pipeline', () => {
  let t: TestAgent;
  afterEach(async () => t?.close());

  it('a unit the checkout placed from the putter\'s cart, taken away again, is named by the pipeline', async () => {
    t = await startTestAgent({ store: { model } });
    const bus = t.agent.bus;
    const scene = new Scene((e) => bus.emit('tracker.tracks', e), T0);
    bus.emit('gate.scan', gateScan('gate-in', 'entry', 'tok-alice-secret-0001', scene.t));
    scene.put('a', ENTRY.x, ENTRY.y).advance(100);
    scene.walk({ a: standAt('t2') });
    bus.emit('shelf.change', skuChange('c1', 't2', 'chips', -1, scene.reach('a', 't2')));
    scene.walk({ a: standAt('t1') });
    const put: ShelfChange = misplacedChange('c2', 't1', 160.4, scene.reach('a', 't1'));
    bus.emit('shelf.change', put);
    await t.agent.checkout.settled();
    expect(t.agent.checkout.misplacedOn('t1')).toEqual(new Map([['chips', 1]]));
    expect(t.agent.inventory.misplacedOnTray('t1')).toEqual(new Map());

    // The shelf's load cells as the agent's weight pipeline hears them: 160 g leaves the cola tray.
    const pipeline = t.agent.sensing!.weight()!;
    const placements = trayPlacements(t.agent.inventory.model!);
    const catalog = new Map(model.catalog.map((c) => [c.sku, c.unitWeightG]));
    const cells = new ShelfLoadModel({
      trays: placements.map((p) => ({
        id: p.tray.id,
        tareG: 400,
        loadG: p.tray.facings.reduce((sum, f) => sum + f.initial * catalog.get(f.sku)!, 0) + (p.tray.id === 't1' ? 160 : 0),
        neighbours: p.neighbours,
        burstGroup: p.shelf,
      })),
      noise: { noiseSigmaG: 2, driftGPerSqrtHour: 0, creepFraction: 0, bursts: null, crossTalk: null },
      random: new Rng('misplaced-units'),
    });
    cells.handle('t1', { startAt: 5_000, durationMs: 1_500, deltaG: -160, touchG: 200 });
    const changes: Array<ShelfChange & { emittedAt: number }> = [];
    const channels = placements.map((p) => ({ trayId: p.tray.id, deviceId: p.tray.device, channel: p.tray.channel }));
    for (let ms = 0, seq = 0; ms <= 20_000; ms += 1_000 / 60) {
      for (const { deviceId, payload } of weightPayloads(cells.sample(ms), channels, T0 + ms, seq++)) {
        for (const change of pipeline.push(deviceId, payload)) changes.push({ ...change, emittedAt: ms });
      }
    }
    expect(changes.map((c) => [c.trayId, c.sku, c.quantity, c.misplaced])).toEqual([['t1', 'chips', -1, false]]);
    expect(changes[0]!.emittedAt).toBeLessThan(10_000);
  });
});
