import { describe, expect, it } from 'vitest';
import { storeModel } from '@storeedge/device-drivers';
import { isSimulatorError } from '../../src/errors.ts';
import { Rng } from '../../src/random.ts';
import { antennaViews, RfidField, type AntennaView, type TagSighting } from '../../src/rfid/field.ts';

const epc = (i: number) => `3074257BF7194E40${i.toString(16).toUpperCase().padStart(8, '0')}`;

function rounds(field: RfidField, view: AntennaView, n: number, seed = 'field-test'): TagSighting[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => field.inventory(view, rng)).flat();
}

describe('RfidField', () => {
  it('reads tags of the own zone at the read rate, neighbours at the cross-read rate and ~15 dB weaker, others never', () => {
    const field = new RfidField({ readRate: 0.8, crossReadRate: 0.1 });
    for (let i = 0; i < 10; i++) field.place(epc(i), 'shelf-a');
    for (let i = 10; i < 20; i++) field.place(epc(i), 'shelf-b');
    for (let i = 20; i < 30; i++) field.place(epc(i), 'backroom');
    const sightings = rounds(field, { antenna: 1, zone: 'shelf-a', neighbours: ['shelf-b'] }, 1_000);

    const own = sightings.filter((s) => !s.crossRead);
    const cross = sightings.filter((s) => s.crossRead);
    expect(own.every((s) => s.zone === 'shelf-a')).toBe(true);
    expect(cross.every((s) => s.zone === 'shelf-b')).toBe(true);
    expect(sightings.some((s) => s.zone === 'backroom')).toBe(false);
    // 10 tags × 1000 rounds: binomial, σ ≈ 40 around 8000 and ≈ 30 around 1000.
    expect(own.length).toBeGreaterThan(7_800);
    expect(own.length).toBeLessThan(8_200);
    expect(cross.length).toBeGreaterThan(880);
    expect(cross.length).toBeLessThan(1_120);
    const mean = (xs: TagSighting[]) => xs.reduce((a, s) => a + s.rssi, 0) / xs.length;
    expect(mean(own)).toBeGreaterThan(-51);
    expect(mean(own)).toBeLessThan(-49);
    expect(mean(own) - mean(cross)).toBeGreaterThan(14);
    expect(mean(own) - mean(cross)).toBeLessThan(16);
    expect(sightings.every((s) => Number.isInteger(s.rssi) && s.antenna === 1 && s.pc === 0x3000)).toBe(true);
  });

  it('honours a per-tag read rate, moves and removals', () => {
    const field = new RfidField({ readRate: 1, crossReadRate: 0 });
    field.place(epc(1), 'a');
    field.place(epc(2), 'a', { readRate: 0 });
    field.place(epc(3), 'a');
    field.place(epc(3).toLowerCase(), 'b'); // moved
    expect(field.zoneOf(epc(3))).toBe('b');
    expect(field.remove(epc(1))).toBe(true);
    expect(field.remove(epc(1))).toBe(false);
    expect(rounds(field, { antenna: 2, zone: 'a' }, 50)).toEqual([]);
    expect(rounds(field, { antenna: 2, zone: 'b' }, 3).map((s) => s.epc)).toEqual([epc(3), epc(3), epc(3)]);
    expect(field.tags('a').map((t) => t.epc)).toEqual([epc(2)]);
  });

  it('replays exactly for the same seed and differs for another', () => {
    const field = new RfidField();
    for (let i = 0; i < 20; i++) field.place(epc(i), i % 2 === 0 ? 'a' : 'b');
    const view = { antenna: 1, zone: 'a', neighbours: ['b'] };
    expect(rounds(field, view, 50, 'seed-1')).toEqual(rounds(field, view, 50, 'seed-1'));
    expect(rounds(field, view, 50, 'seed-1')).not.toEqual(rounds(field, view, 50, 'seed-2'));
  });

  it('refuses bad EPCs and rates', () => {
    const field = new RfidField();
    for (const bad of ['30', 'XYZ0XYZ0', '3074257BF7194E4000001A8']) {
      expect(() => field.place(bad, 'a')).toThrow(expect.objectContaining({ code: 'SIM_ERR_ARGUMENT_INVALID' }));
    }
    try {
      new RfidField({ readRate: 1.5 });
      throw new Error('expected a throw');
    } catch (error) {
      expect(isSimulatorError(error, 'SIM_ERR_CONFIG_INVALID')).toBe(true);
    }
  });

  it('antennaViews: a reader antenna cross-reads the zones that list its zone as a neighbour', () => {
    const model = storeModel.parse({
      catalog: [],
      zones: [
        { id: 'a', antennas: [{ reader: 'rfid-1', antenna: 1 }], neighbours: ['b'] },
        { id: 'b', antennas: [{ reader: 'rfid-1', antenna: 2 }], neighbours: ['a', 'c'] },
        { id: 'c', antennas: [{ reader: 'rfid-2', antenna: 1 }], neighbours: ['b'] },
      ],
    });
    expect(antennaViews(model.zones, 'rfid-1')).toEqual([
      { antenna: 1, zone: 'a', neighbours: ['b'] },
      { antenna: 2, zone: 'b', neighbours: ['a', 'c'] },
    ]);
    expect(antennaViews(model.zones, 'rfid-2')).toEqual([{ antenna: 1, zone: 'c', neighbours: ['b'] }]);
  });
});
