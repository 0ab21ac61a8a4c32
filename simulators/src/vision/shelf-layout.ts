import { defaultShelfHeightM, trayPoints, type StoreModel } from '@storeedge/device-drivers';
import type { StorePoint } from '@storeedge/device-drivers/camera/index.ts';
import { simulatorErrors } from '../errors.ts';
import type { ProductAppearance } from './appearance.ts';

/** A shelf's front lip (the tray fronts, where the labels sit) reaches this far below its surface. */
export const LIP_M = 0.04;
/** The front row of units stands this far behind the front edge. */
const FRONT_INSET_M = 0.01;
/** Units of a facing stand this much of their size apart. */
const UNIT_GAP_SHARE = 0.04;
/** The back panel reaches this far above the tallest view of the bay. */
const PANEL_ABOVE_M = 0.15;

/** A direction on the floor (unit length). */
export interface FloorDirection {
  x: number;
  y: number;
}

/** Where one unit stands: the bottom centre of its front face, and its row (0 at the front). */
export interface UnitSlot {
  base: StorePoint;
  row: number;
}

/** One facing: its SKU's look and where its units stand, in fill order (front row first, left to right). */
export interface FacingLayout {
  sku: string;
  initial: number;
  look: ProductAppearance;
  slots: UnitSlot[];
}

export interface TrayLayout {
  trayId: string;
  /** Centre of the tray's front edge at the shelf's height (device-drivers `trayPoints`), and its width. */
  front: StorePoint;
  widthM: number;
  facings: FacingLayout[];
}

export interface ShelfLayout {
  z: number;
  trays: TrayLayout[];
}

export interface BayLayout {
  /** The bay's span along the gondola, metres from its start. */
  fromAlong: number;
  toAlong: number;
  /** Shelves bottom to top. */
  shelves: ShelfLayout[];
  /** Top of the back panel. */
  topZ: number;
}

/**
 * The physical shelf one camera looks at: a placed gondola's bays, shelf boards, trays and the
 * slots its units stand in, in store metres. Built once per camera; frames only add stock and
 * arms.
 */
export class GondolaLayout {
  readonly id: string;
  /** Towards the shoppers, and to a shopper's right as they face the shelf (so printed text reads left to right). */
  readonly normal: FloorDirection;
  readonly right: FloorDirection;
  readonly depthM: number;
  readonly bays: BayLayout[] = [];
  readonly trays = new Map<string, TrayLayout>();
  readonly #origin: { x: number; y: number };
  readonly #axis: FloorDirection;

  constructor(model: StoreModel, gondolaId: string, looks: ReadonlyMap<string, ProductAppearance>) {
    const gondola = model.gondolas.find((g) => g.id === gondolaId);
    const p = gondola?.placement;
    if (gondola === undefined || p === undefined) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`vision: gondola "${gondolaId}" is not in the store model or has no placement`);
    this.id = gondola.id;
    this.#origin = { x: p.x, y: p.y };
    this.#axis = p.axis === 'x' ? { x: 1, y: 0 } : { x: 0, y: 1 };
    this.normal = p.axis === 'x' ? { x: 0, y: p.side } : { x: p.side, y: 0 };
    this.right = { x: -this.normal.y, y: this.normal.x };
    this.depthM = p.depthM;

    const points = trayPoints(model);
    gondola.bays.forEach((bay, b) => {
      const shelves = bay.shelves.map((shelf, s): ShelfLayout => {
        const z = shelf.heightM ?? defaultShelfHeightM(s);
        const trays = shelf.trays.map((tray): TrayLayout => {
          const point = points.get(tray.id)!;
          const front = { x: point.x, y: point.y, z: point.z };
          const width = point.widthM;
          const start = this.alongOf(front) - width / 2;
          const facingWidth = width / tray.facings.length;
          const facings = tray.facings.map((facing, f): FacingLayout => {
            const look = looks.get(facing.sku);
            if (look === undefined) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`vision: no appearance for SKU "${facing.sku}" on tray "${tray.id}"`);
            const slots = this.#slots(look, facing.capacity, start + f * facingWidth, facingWidth, z);
            return { sku: facing.sku, initial: facing.initial, look, slots };
          });
          const layout = { trayId: tray.id, front, widthM: width, facings };
          this.trays.set(tray.id, layout);
          return layout;
        });
        return { z, trays };
      });
      const tallest = Math.max(...shelves.map((s) => s.z + Math.max(...s.trays.flatMap((t) => t.facings.map((f) => f.look.heightM)))));
      this.bays.push({ fromAlong: b * p.bayWidthM, toAlong: (b + 1) * p.bayWidthM, shelves, topZ: tallest + PANEL_ABOVE_M });
    });
  }

  /** The store point `along` metres from the gondola's start, `back` metres behind its front edge, at height z. */
  at(along: number, back: number, z: number): StorePoint {
    return {
      x: this.#origin.x + this.#axis.x * along - this.normal.x * back,
      y: this.#origin.y + this.#axis.y * along - this.normal.y * back,
      z,
    };
  }

  /** How far along the gondola a point is (its projection onto the front edge). */
  alongOf(point: { x: number; y: number }): number {
    return (point.x - this.#origin.x) * this.#axis.x + (point.y - this.#origin.y) * this.#axis.y;
  }

  /**
   * Where `n` units that are not the tray's facings' stand (`ShelfScene.extra`), given the units
   * on each facing now (`counts`, in facing order): each in the first front-row slot the
   * facings leave free, left to right; once the front row is full, in front of the front units
   * (flush with the tray's front edge, slot by slot from the left). Row 0: their print shows.
   */
  extraSlots(trayId: string, counts: readonly number[], n: number): UnitSlot[] {
    const tray = this.trays.get(trayId);
    if (tray === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: tray "${trayId}" is not on gondola "${this.id}"`);
    const front = tray.facings.flatMap((facing) => facing.slots.filter((slot) => slot.row === 0));
    const free = tray.facings.flatMap((facing, f) => facing.slots.filter((slot, i) => slot.row === 0 && i >= (counts[f] ?? 0)));
    const out: UnitSlot[] = [];
    for (let k = 0; k < n; k++) {
      if (k < free.length) {
        out.push(free[k]!);
      } else {
        const base = front[(k - free.length) % front.length]!.base;
        out.push({ base: { x: base.x + this.normal.x * FRONT_INSET_M, y: base.y + this.normal.y * FRONT_INSET_M, z: base.z }, row: 0 });
      }
    }
    return out;
  }

  /**
   * Slots for `capacity` units across a facing: as many columns as fit side by side, then rows
   * behind them (pressed closer together when the shelf is not deep enough). Filled front row
   * first, as on a tray with a pusher.
   */
  #slots(look: ProductAppearance, capacity: number, from: number, width: number, z: number): UnitSlot[] {
    const columns = Math.max(1, Math.floor(width / (look.widthM * (1 + UNIT_GAP_SHARE))));
    const rows = Math.ceil(capacity / columns);
    const room = this.depthM - FRONT_INSET_M - look.depthM;
    const pitch = rows > 1 ? Math.max(0, Math.min(look.depthM * (1 + UNIT_GAP_SHARE), room / (rows - 1))) : 0;
    const slots: UnitSlot[] = [];
    for (let i = 0; i < capacity; i++) {
      const row = Math.floor(i / columns);
      const column = i % columns;
      slots.push({ base: this.at(from + ((column + 0.5) * width) / columns, FRONT_INSET_M + row * pitch, z), row });
    }
    return slots;
  }
}
