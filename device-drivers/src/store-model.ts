import { z } from 'zod';
import { deviceIdPattern } from './topics.ts';

/**
 * The store model shared by the agent, the simulators and (later) HQ planogram documents:
 * the catalog and the physical layout zones → gondolas → bays → shelves → trays → facings.
 * A tray is one load-cell channel of one shelf controller; a facing is a run of one SKU on a
 * tray. Cameras cover bays; RFID antennas cover zones.
 */

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'ids are letters, digits and . _ : -');
/** A device the model names (a tray's shelf controller, a bay's camera): a device id, as it connects over MQTT. */
const deviceId = z.string().regex(deviceIdPattern, 'device ids are lowercase letters, digits, ".", "_" and "-" (as the device connects)');

/** GTIN-8/12/13/14 written as 14 digits, with a valid GS1 check digit. [GS1 General Specifications §7.9.1] */
export const gtin14 = z
  .string()
  .regex(/^\d{14}$/, 'a GTIN is written as 14 digits (pad GTIN-8/12/13 with leading zeros)')
  .refine(gtinCheckDigitValid, 'GTIN check digit is wrong');

export function gtinCheckDigitValid(gtin: string): boolean {
  if (!/^\d{8,14}$/.test(gtin)) return false;
  const digits = [...gtin].map(Number);
  const check = digits.pop()!;
  // From the right, excluding the check digit, weights alternate 3, 1, 3, …
  let sum = 0;
  for (let i = digits.length - 1, w = 3; i >= 0; i--, w = w === 3 ? 1 : 3) sum += digits[i]! * w;
  return (10 - (sum % 10)) % 10 === check;
}

export const catalogItem = z.object({
  sku: id,
  gtin: gtin14,
  name: z.string().min(1).max(200),
  /** Mean weight of one unit, grams. */
  unitWeightG: z.number().positive().max(50_000),
  /** Standard deviation of one unit's weight, grams (per-SKU spread; research/checkout.md §5.3). */
  unitWeightSigmaG: z.number().nonnegative().max(5_000),
  /** Price in minor units (cents) of `currency`. */
  priceMinor: z.number().int().nonnegative(),
  currency: z.string().regex(/^[A-Z]{3}$/).default('EUR'),
  /** Whether units carry an RFID tag (SGTIN) the store can read. */
  rfidTagged: z.boolean().default(false),
});

export const facing = z.object({
  sku: id,
  /** Units the facing holds when full. */
  capacity: z.number().int().positive().max(10_000),
  /** At or below this many units the facing is low on stock. */
  minLevel: z.number().int().nonnegative(),
  /** Units on the facing when the store model is loaded (book stock starts here). */
  initial: z.number().int().nonnegative().default(0),
});

export const tray = z.object({
  id,
  /** The shelf controller (device id) and its load-cell channel that weigh this tray. */
  device: deviceId,
  channel: z.number().int().min(0).max(255),
  facings: z.array(facing).min(1).max(16),
});

export const shelf = z.object({
  id,
  /** Height of the shelf's surface above the floor, metres (default: 0.3 m + 0.4 m per shelf below it). */
  heightM: z.number().min(0).max(5).optional(),
  /** Trays left to right; neighbours in this order share cross-talk. */
  trays: z.array(tray).min(1).max(64),
});

export const bay = z.object({
  id,
  /** Camera device ids that see this bay. */
  cameras: z.array(deviceId).default([]),
  /** Shelves bottom to top. */
  shelves: z.array(shelf).min(1).max(16),
});

/**
 * Where a gondola stands on the store floor (metres, the tracker's coordinate frame): its
 * shopper-facing front edge starts at (x, y) and runs along `axis` (bays left to right, each
 * `bayWidthM` wide, trays evenly across a bay); shoppers stand on the `side` (+1 or −1) of that
 * edge, `depthM` is how far the shelves reach back from it. Without it the checkout cannot tell
 * by position who took an item.
 */
export const gondolaPlacement = z.object({
  x: z.number().finite(),
  y: z.number().finite(),
  axis: z.enum(['x', 'y']),
  side: z.union([z.literal(1), z.literal(-1)]),
  bayWidthM: z.number().positive().max(10).default(1),
  depthM: z.number().positive().max(3).default(0.4),
});

export const gondola = z.object({
  id,
  zone: id,
  placement: gondolaPlacement.optional(),
  bays: z.array(bay).min(1).max(64),
});

/** An entry or exit lane: the gate device that scans tokens there, and where it is (metres). */
export const gate = z.object({
  device: deviceId,
  lane: z.enum(['entry', 'exit']),
  x: z.number().finite(),
  y: z.number().finite(),
  /** Tracks within this distance of the lane are passing through it. */
  radiusM: z.number().positive().max(10).default(1),
});

export const zone = z.object({
  id,
  name: z.string().min(1).max(200).optional(),
  /** RFID antennas (reader device id + antenna port) that cover this zone. */
  antennas: z.array(z.object({ reader: id, antenna: z.number().int().min(0).max(64) })).default([]),
  /** Zones whose antennas can cross-read tags lying in this one. */
  neighbours: z.array(id).default([]),
  /** An exit portal: tagged items read here are leaving the store. */
  exit: z.boolean().default(false),
});

/**
 * An electronic shelf label: the tag, the ESL gateway (device id) that serves it, its tag type
 * (esl/tag-types.ts) and the SKU whose price it shows. A tray may carry one (`trayId`).
 */
export const shelfLabel = z.object({
  tagId: id,
  gateway: id,
  tagType: z.string().min(1).max(64),
  sku: id,
  trayId: id.optional(),
});

export const storeModel = z
  .object({
    catalog: z.array(catalogItem).max(100_000),
    zones: z.array(zone).min(1),
    gondolas: z.array(gondola).default([]),
    gates: z.array(gate).default([]),
    labels: z.array(shelfLabel).max(200_000).default([]),
  })
  .superRefine((model, ctx) => {
    const skus = new Set<string>();
    for (const [i, item] of model.catalog.entries()) {
      if (skus.has(item.sku)) ctx.addIssue({ code: 'custom', path: ['catalog', i, 'sku'], message: `duplicate SKU "${item.sku}"` });
      skus.add(item.sku);
    }
    const zoneIds = new Set(model.zones.map((z) => z.id));
    for (const [i, z] of model.zones.entries()) {
      for (const [j, n] of z.neighbours.entries()) {
        if (!zoneIds.has(n)) ctx.addIssue({ code: 'custom', path: ['zones', i, 'neighbours', j], message: `unknown zone "${n}"` });
      }
    }
    const tagIds = new Set<string>();
    for (const [i, label] of model.labels.entries()) {
      if (tagIds.has(label.tagId)) ctx.addIssue({ code: 'custom', path: ['labels', i, 'tagId'], message: `duplicate tag "${label.tagId}"` });
      tagIds.add(label.tagId);
      if (!skus.has(label.sku)) ctx.addIssue({ code: 'custom', path: ['labels', i, 'sku'], message: `SKU "${label.sku}" is not in the catalog` });
    }
    const ids = new Set<string>();
    const channels = new Set<string>();
    const unique = (value: string, path: (string | number)[], what: string) => {
      if (ids.has(value)) ctx.addIssue({ code: 'custom', path, message: `duplicate ${what} id "${value}"` });
      ids.add(value);
    };
    for (const [g, gondola] of model.gondolas.entries()) {
      if (!zoneIds.has(gondola.zone)) ctx.addIssue({ code: 'custom', path: ['gondolas', g, 'zone'], message: `unknown zone "${gondola.zone}"` });
      for (const [b, bay] of gondola.bays.entries()) {
        for (const [s, shelf] of bay.shelves.entries()) {
          for (const [t, tray] of shelf.trays.entries()) {
            const path = ['gondolas', g, 'bays', b, 'shelves', s, 'trays', t];
            unique(tray.id, path, 'tray');
            const channel = `${tray.device}#${tray.channel}`;
            if (channels.has(channel)) ctx.addIssue({ code: 'custom', path: [...path, 'channel'], message: `load-cell channel ${channel} is used by two trays` });
            channels.add(channel);
            for (const [f, facing] of tray.facings.entries()) {
              if (!skus.has(facing.sku)) ctx.addIssue({ code: 'custom', path: [...path, 'facings', f, 'sku'], message: `SKU "${facing.sku}" is not in the catalog` });
              if (facing.minLevel >= facing.capacity) ctx.addIssue({ code: 'custom', path: [...path, 'facings', f, 'minLevel'], message: 'minLevel must be below capacity' });
              if (facing.initial > facing.capacity) ctx.addIssue({ code: 'custom', path: [...path, 'facings', f, 'initial'], message: 'initial stock exceeds capacity' });
            }
          }
        }
      }
    }
  });

export type CatalogItem = z.infer<typeof catalogItem>;
export type Facing = z.infer<typeof facing>;
export type Tray = z.infer<typeof tray>;
export type Shelf = z.infer<typeof shelf>;
export type Bay = z.infer<typeof bay>;
export type Gondola = z.infer<typeof gondola>;
export type GondolaPlacement = z.infer<typeof gondolaPlacement>;
export type Gate = z.infer<typeof gate>;
export type ShelfLabel = z.infer<typeof shelfLabel>;
export type Zone = z.infer<typeof zone>;
export type StoreModel = z.infer<typeof storeModel>;
export type StoreModelInput = z.input<typeof storeModel>;

/** A tray with where it sits and who its neighbours are, for code that works tray by tray. */
export interface TrayPlacement {
  tray: Tray;
  zone: string;
  gondola: string;
  bay: string;
  shelf: string;
  /** Index of the tray on its shelf, left to right. */
  position: number;
  /** Tray ids directly left and right on the same shelf (cross-talk neighbours). */
  neighbours: string[];
}

/** Every tray of the model, in layout order. */
export function trayPlacements(model: StoreModel): TrayPlacement[] {
  const out: TrayPlacement[] = [];
  for (const gondola of model.gondolas) {
    for (const bay of gondola.bays) {
      for (const shelf of bay.shelves) {
        shelf.trays.forEach((tray, position) => {
          const neighbours = [shelf.trays[position - 1]?.id, shelf.trays[position + 1]?.id].filter((x): x is string => x !== undefined);
          out.push({ tray, zone: gondola.zone, gondola: gondola.id, bay: bay.id, shelf: shelf.id, position, neighbours });
        });
      }
    }
  }
  return out;
}

/** Where a tray's front edge centre is on the store floor and how high it is (metres). */
export interface TrayPoint {
  trayId: string;
  x: number;
  y: number;
  /** Height of the shelf surface. */
  z: number;
  /** Width of the tray along the gondola. */
  widthM: number;
}

/** Default shelf height: 0.3 m for the bottom shelf, 0.4 m more for each one above. */
export function defaultShelfHeightM(index: number): number {
  return 0.3 + 0.4 * index;
}

/**
 * The floor position of every tray whose gondola has a placement (trays of unplaced gondolas
 * are left out): the centre of the tray's front edge, at its shelf's height.
 */
export function trayPoints(model: StoreModel): Map<string, TrayPoint> {
  const out = new Map<string, TrayPoint>();
  for (const gondola of model.gondolas) {
    const p = gondola.placement;
    if (p === undefined) continue;
    gondola.bays.forEach((bay, b) => {
      bay.shelves.forEach((shelf, s) => {
        const widthM = p.bayWidthM / shelf.trays.length;
        shelf.trays.forEach((tray, t) => {
          const along = b * p.bayWidthM + (t + 0.5) * widthM;
          out.set(tray.id, {
            trayId: tray.id,
            x: p.axis === 'x' ? p.x + along : p.x,
            y: p.axis === 'y' ? p.y + along : p.y,
            z: shelf.heightM ?? defaultShelfHeightM(s),
            widthM,
          });
        });
      });
    });
  }
  return out;
}
