import { storeModel, type StoreModel } from '@storeedge/device-drivers';
import { gtinCheckDigit } from '../../src/demo-catalog.ts';

/** The SKUs of the vision test store: a crisps family of two flavours, and products of other families. */
export const PAPRIKA = 'crispo-paprika';
export const SALTED = 'crispo-salted';
export const COLA = 'fizz-cola';
export const HONEY = 'honey-jar';
export const PASTA = 'pasta-500';
export const WATER = 'water-1l';

const names: ReadonlyArray<readonly [string, string, number]> = [
  [PAPRIKA, 'Crispo crisps 150 g - paprika', 158],
  [SALTED, 'Crispo crisps 150 g - salted', 156],
  [COLA, 'Fizz cola 330 ml can', 350],
  [HONEY, 'Flower honey 250 g jar', 368],
  [PASTA, 'Spaghetti 500 g', 512],
  [WATER, 'Still water 1 l', 1_040],
];

/**
 * One placed gondola (front edge along x at y = 2, shoppers on the −y side) with two 1 m bays;
 * bay "b1" has two shelves of three trays: paprika, salted, cola below; honey, pasta, water
 * above.
 */
export function visionStore(): StoreModel {
  const tray = (id: string, channel: number, sku: string, capacity: number) => ({
    id,
    device: 'shelf-1',
    channel,
    facings: [{ sku, capacity, minLevel: 1, initial: capacity }],
  });
  return storeModel.parse({
    catalog: names.map(([sku, name, grams], i) => {
      const data = `200${String(i + 1).padStart(9, '0')}`;
      return { sku, gtin: `0${data}${gtinCheckDigit(data)}`, name, unitWeightG: grams, unitWeightSigmaG: grams * 0.01, priceMinor: 199 };
    }),
    zones: [{ id: 'z1' }],
    gondolas: [
      {
        id: 'g1',
        zone: 'z1',
        placement: { x: 0, y: 2, axis: 'x', side: -1, bayWidthM: 1, depthM: 0.4 },
        bays: [
          {
            id: 'b1',
            cameras: ['cam-b1'],
            shelves: [
              { id: 's0', trays: [tray('t-paprika', 0, PAPRIKA, 6), tray('t-salted', 1, SALTED, 6), tray('t-cola', 2, COLA, 12)] },
              { id: 's1', trays: [tray('t-honey', 3, HONEY, 8), tray('t-pasta', 4, PASTA, 6), tray('t-water', 5, WATER, 8)] },
            ],
          },
          { id: 'b2', shelves: [{ id: 's2', trays: [tray('t-more-cola', 6, COLA, 12)] }] },
        ],
      },
    ],
  });
}
