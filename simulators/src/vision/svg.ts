import type { PinholeCamera, PixelPoint, StorePoint } from '@storeedge/device-drivers/camera/index.ts';
import { simulatorErrors } from '../errors.ts';
import type { PackageShape, ProductAppearance } from './appearance.ts';
import type { ArmPose, ShelfScene } from './scene.ts';
import { LIP_M, type FloorDirection, type GondolaLayout, type ShelfLayout, type TrayLayout } from './shelf-layout.ts';

/**
 * A frame as SVG: the gondola the camera looks at in perspective (back panels, shelf boards,
 * tray fronts with their labels, every unit on every facing), the shoppers' arms and hands,
 * and a passing shopper's body when one blocks the view. Drawn back to front (painter's
 * order), which is right for a camera above the shelves looking down, as bay cameras hang.
 * Product fronts are parallel to the gondola, so each is drawn in its own millimetre frame
 * under the affine map of its projected corners.
 */

const FONT = 'DejaVu Sans';
/** Text smaller than this many pixels is drawn as a smudge of ink: a camera cannot resolve it, and rasterising text is the slowest part of a frame. */
const MIN_TEXT_PX = 3;
/** Glyph advance as a share of the font size (DejaVu Sans, bold, mixed case), for fitting text to a width. */
const ADVANCE = 0.65;

const fixture = {
  surroundings: '#8c877d',
  panel: '#dcdad3',
  upright: '#6d6f73',
  base: '#55575b',
  board: '#b9bbbe',
  trayFront: '#3c3f44',
  label: '#f4f4f0',
  labelInk: '#222222',
  metal: '#b5b9bd',
} as const;
/** Gaps between tray fronts, and the shelf-edge labels (one per facing), metres. */
const TRAY_GAP_M = 0.006;
const LABEL_W_M = 0.06;
const LABEL_H_M = 0.028;
const UPRIGHT_M = 0.03;
/** Arm and hand sizes, metres: sleeve width, wrist to hand centre, hand radius. */
const SLEEVE_M = 0.1;
const WRIST_M = 0.07;
const HAND_M = 0.045;

/** Band (top, bottom) and the drawing of each package shape, as shares of its front's height and width. */
const bands: Readonly<Record<PackageShape, readonly [number, number]>> = {
  box: [0.16, 0.42],
  bottle: [0.5, 0.72],
  can: [0.3, 0.56],
  bag: [0.22, 0.46],
  jar: [0.38, 0.62],
};
/** Radius of the top disc of round packages, as a share of the width. */
const topDisc: Readonly<Partial<Record<PackageShape, number>>> = { can: 0.5, jar: 0.45, bottle: 0.17 };

/** A passing shopper close to the camera, in pixels: the body's centre line, the top of the shoulders and its width. */
export interface Occluder {
  centreU: number;
  topV: number;
  widthPx: number;
  colour: string;
  skin: string;
}

export interface SvgFrameInput {
  camera: PinholeCamera;
  layout: GondolaLayout;
  scene: ShelfScene;
  /** Looks of SKUs held in hands (facings carry their own). */
  looks: ReadonlyMap<string, ProductAppearance>;
  occluder?: Occluder | undefined;
}

export function frameSvg({ camera, layout, scene, looks, occluder }: SvgFrameInput): string {
  const { width, height } = camera;
  const draw = new Drawing(camera, layout.right);
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="${fixture.surroundings}"/>`];

  for (const bay of layout.bays) {
    const bottom = Math.min(...bay.shelves.map((s) => s.z));
    parts.push(
      draw.polygon(upright(layout, bay.fromAlong, bay.toAlong, layout.depthM, 0, bay.topZ), fixture.panel),
      draw.polygon(upright(layout, bay.fromAlong, bay.toAlong, 0, 0, bottom - LIP_M), fixture.base),
    );
    for (const along of [bay.fromAlong, bay.toAlong - UPRIGHT_M]) parts.push(draw.polygon(upright(layout, along, along + UPRIGHT_M, layout.depthM, 0, bay.topZ), fixture.upright));
  }

  // Shelf by shelf from the floor up; shelves of neighbouring bays at one height together
  // (boards, then units, then fronts), so a board never covers a unit standing on its neighbour.
  const heights = [...new Set(layout.bays.flatMap((bay) => bay.shelves.map((shelf) => shelf.z)))].sort((a, b) => a - b);
  for (const z of heights) {
    const level = layout.bays.flatMap((bay) => bay.shelves.filter((shelf) => shelf.z === z).map((shelf) => ({ bay, shelf })));
    for (const { bay } of level) {
      parts.push(draw.polygon([layout.at(bay.fromAlong, 0, z), layout.at(bay.toAlong, 0, z), layout.at(bay.toAlong, layout.depthM, z), layout.at(bay.fromAlong, layout.depthM, z)], fixture.board));
    }
    // Back rows first; only the front row shows its print (the rows behind show their tops).
    const units = level.flatMap(({ shelf }) => unitsOn(shelf, scene, layout, looks)).sort((a, b) => b.row - a.row);
    for (const unit of units) parts.push(draw.product(unit.look, unit.base, layout.normal, unit.row === 0));
    for (const { shelf } of level) parts.push(...shelf.trays.map((tray) => trayFront(draw, layout, tray, z)));
  }

  const arms = (scene.arms ?? [])
    .map((arm) => ({ arm, depth: camera.project(arm.hand)?.depthM }))
    .filter((a): a is { arm: ArmPose; depth: number } => a.depth !== undefined)
    .sort((a, b) => b.depth - a.depth);
  for (const { arm } of arms) {
    let held: ProductAppearance | undefined;
    if (arm.holding !== undefined) {
      held = looks.get(arm.holding);
      if (held === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: a hand holds SKU "${arm.holding}", which is not in the catalog`);
    }
    parts.push(draw.arm(arm, held, layout.normal));
  }
  if (occluder !== undefined) parts.push(occluderSvg(occluder, height));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/**
 * The units standing on a shelf now: the first `stock` slots of each facing (its initial stock
 * when the scene gives none), then the units put on a tray that are not its facings'
 * (`scene.extra`, placed by `GondolaLayout.extraSlots`).
 */
function unitsOn(shelf: ShelfLayout, scene: ShelfScene, layout: GondolaLayout, looks: ReadonlyMap<string, ProductAppearance>): Array<{ look: ProductAppearance; base: StorePoint; row: number }> {
  return shelf.trays.flatMap((tray) => {
    const stock = scene.stock?.get(tray.trayId);
    const counts = tray.facings.map((facing, f) => {
      const count = stock === undefined ? facing.initial : stock[f];
      if (count === undefined || !Number.isInteger(count) || count < 0) {
        throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: stock of tray "${tray.trayId}" facing ${f} must be a whole number of units ≥ 0, got ${count}`);
      }
      return count;
    });
    const units = tray.facings.flatMap((facing, f) => facing.slots.slice(0, counts[f]).map((slot) => ({ look: facing.look, base: slot.base, row: slot.row })));
    const extra = scene.extra?.get(tray.trayId);
    if (extra === undefined || extra.length === 0) return units;
    const slots = layout.extraSlots(tray.trayId, counts.map((c, f) => Math.min(c, tray.facings[f]!.slots.length)), extra.length);
    return [
      ...units,
      ...extra.map((sku, k) => {
        const look = looks.get(sku);
        if (look === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: tray "${tray.trayId}" has an extra unit of SKU "${sku}", which is not in the catalog`);
        return { look, base: slots[k]!.base, row: slots[k]!.row };
      }),
    ];
  });
}

/** A tray's front on the shelf's lip, with one shelf-edge label per facing. */
function trayFront(draw: Drawing, layout: GondolaLayout, tray: TrayLayout, z: number): string {
  const along = layout.alongOf(tray.front);
  const from = along - tray.widthM / 2 + TRAY_GAP_M / 2;
  const to = along + tray.widthM / 2 - TRAY_GAP_M / 2;
  let out = draw.polygon(upright(layout, from, to, 0, z - LIP_M, z), fixture.trayFront);
  const top = z - (LIP_M - LABEL_H_M) / 2;
  tray.facings.forEach((_, f) => {
    const centre = from + ((f + 0.5) * (to - from)) / tray.facings.length;
    out += draw.polygon(upright(layout, centre - LABEL_W_M / 2, centre + LABEL_W_M / 2, 0, top - LABEL_H_M, top), fixture.label);
    // The price digits, too small to read: a dark bar on the label.
    out += draw.polygon(upright(layout, centre - LABEL_W_M / 4, centre + LABEL_W_M / 3, 0, top - LABEL_H_M * 0.75, top - LABEL_H_M * 0.35), fixture.labelInk);
  });
  return out;
}

/** The corners of an upright rectangle parallel to the gondola's front: [from, to] along it, `back` behind the front edge, [low, high] in height. */
function upright(layout: GondolaLayout, from: number, to: number, back: number, low: number, high: number): StorePoint[] {
  return [layout.at(from, back, low), layout.at(to, back, low), layout.at(to, back, high), layout.at(from, back, high)];
}

/** Projects store geometry into SVG elements for one camera. */
class Drawing {
  readonly #camera: PinholeCamera;
  readonly #right: FloorDirection;

  constructor(camera: PinholeCamera, right: FloorDirection) {
    this.#camera = camera;
    this.#right = right;
  }

  /** A filled polygon through store points; nothing when a point is behind the camera or all of it is outside the image. */
  polygon(points: readonly StorePoint[], fill: string): string {
    const pixels = this.#projectAll(points);
    if (pixels === undefined) return '';
    return `<polygon points="${pixels.map((p) => `${n(p.u)},${n(p.v)}`).join(' ')}" fill="${fill}"/>`;
  }

  /** One unit standing on `base` (the bottom centre of its front face), its front towards `normal`: top, then front. */
  product(look: ProductAppearance, base: StorePoint, normal: FloorDirection, printed: boolean): string {
    const face = this.#face(base, look.widthM, look.heightM);
    if (face === undefined) return '';
    return this.#top(look, base, normal) + face.open + productFront(look, face.pxPerMm, printed) + '</g>';
  }

  /** A sleeve from the shoulder to the wrist, the hand, and the unit it holds (with the thumb over it). */
  arm(arm: ArmPose, held: ProductAppearance | undefined, normal: FloorDirection): string {
    const hand = this.#camera.project(arm.hand);
    const shoulder = this.#camera.project(arm.shoulder);
    if (hand === undefined || shoulder === undefined) return '';
    const toShoulder = { x: arm.shoulder.x - arm.hand.x, y: arm.shoulder.y - arm.hand.y, z: arm.shoulder.z - arm.hand.z };
    const length = Math.hypot(toShoulder.x, toShoulder.y, toShoulder.z) || 1;
    const wrist = this.#camera.project({
      x: arm.hand.x + (toShoulder.x / length) * WRIST_M,
      y: arm.hand.y + (toShoulder.y / length) * WRIST_M,
      z: arm.hand.z + (toShoulder.z / length) * WRIST_M,
    });
    if (wrist === undefined) return '';
    const focal = this.#camera.calibration.fx;
    const sleeve = (SLEEVE_M * focal) / ((shoulder.depthM + wrist.depthM) / 2);
    const radius = (HAND_M * focal) / hand.depthM;
    const line = (colour: string, widthPx: number) =>
      `<line x1="${n(shoulder.u)}" y1="${n(shoulder.v)}" x2="${n(wrist.u)}" y2="${n(wrist.v)}" stroke="${colour}" stroke-width="${n(widthPx)}" stroke-linecap="round"/>`;
    let out = line(shade(arm.look.sleeve, 0.7), sleeve * 1.12) + line(arm.look.sleeve, sleeve);
    out += `<ellipse cx="${n(hand.u)}" cy="${n(hand.v)}" rx="${n(radius)}" ry="${n(radius * 1.2)}" fill="${arm.look.skin}" stroke="${shade(arm.look.skin, 0.75)}" stroke-width="${n(radius * 0.15)}"/>`;
    if (held !== undefined) {
      out += this.product(held, { ...arm.hand, z: arm.hand.z - held.heightM / 2 }, normal, true);
      const thumb = this.#camera.project({ x: arm.hand.x - this.#right.x * (held.widthM / 2), y: arm.hand.y - this.#right.y * (held.widthM / 2), z: arm.hand.z });
      if (thumb !== undefined) out += `<ellipse cx="${n(thumb.u)}" cy="${n(thumb.v)}" rx="${n(radius * 0.45)}" ry="${n(radius * 0.7)}" fill="${arm.look.skin}"/>`;
    }
    return out;
  }

  /** The top of a unit: a disc for round packages, the lid of a box or bag. */
  #top(look: ProductAppearance, base: StorePoint, normal: FloorDirection): string {
    const z = base.z + look.heightM;
    const disc = topDisc[look.shape];
    if (disc === undefined) {
      const depth = look.shape === 'bag' ? look.depthM / 2 : look.depthM;
      const half = look.widthM / 2;
      const corner = (side: number, back: number): StorePoint => ({
        x: base.x + this.#right.x * side * half - normal.x * back,
        y: base.y + this.#right.y * side * half - normal.y * back,
        z,
      });
      return this.polygon([corner(-1, 0), corner(1, 0), corner(1, depth), corner(-1, depth)], shade(look.bodyColour, 1.2));
    }
    const radius = look.widthM * disc;
    const centre = { x: base.x - normal.x * (look.depthM / 2), y: base.y - normal.y * (look.depthM / 2) };
    const ring = Array.from({ length: 8 }, (_, i): StorePoint => {
      const a = (i * Math.PI) / 4;
      return {
        x: centre.x + this.#right.x * Math.cos(a) * radius - normal.x * Math.sin(a) * radius,
        y: centre.y + this.#right.y * Math.cos(a) * radius - normal.y * Math.sin(a) * radius,
        z,
      };
    });
    return this.polygon(ring, look.shape === 'can' ? fixture.metal : look.capColour);
  }

  /** Opens a group whose millimetre frame (x right, y down from the top-left corner) is a front face of `widthM` × `heightM` standing on `base`. */
  #face(base: StorePoint, widthM: number, heightM: number): { open: string; pxPerMm: number } | undefined {
    const half = widthM / 2;
    const left = { x: base.x - this.#right.x * half, y: base.y - this.#right.y * half };
    const right = { x: base.x + this.#right.x * half, y: base.y + this.#right.y * half };
    const corners = this.#projectAll([
      { ...left, z: base.z + heightM },
      { ...right, z: base.z + heightM },
      { ...right, z: base.z },
      { ...left, z: base.z },
    ]);
    if (corners === undefined) return undefined;
    const [topLeft, topRight, , bottomLeft] = corners as [PixelPoint, PixelPoint, PixelPoint, PixelPoint];
    const wMm = widthM * 1_000;
    const hMm = heightM * 1_000;
    const a = (topRight.u - topLeft.u) / wMm;
    const b = (topRight.v - topLeft.v) / wMm;
    const c = (bottomLeft.u - topLeft.u) / hMm;
    const d = (bottomLeft.v - topLeft.v) / hMm;
    return {
      open: `<g transform="matrix(${m(a)} ${m(b)} ${m(c)} ${m(d)} ${n(topLeft.u)} ${n(topLeft.v)})">`,
      pxPerMm: Math.sqrt(Math.abs(a * d - b * c)),
    };
  }

  #projectAll(points: readonly StorePoint[]): PixelPoint[] | undefined {
    const pixels: PixelPoint[] = [];
    for (const point of points) {
      const p = this.#camera.project(point);
      if (p === undefined) return undefined;
      pixels.push(p);
    }
    const outside =
      pixels.every((p) => p.u < 0) || pixels.every((p) => p.v < 0) || pixels.every((p) => p.u > this.#camera.width) || pixels.every((p) => p.v > this.#camera.height);
    return outside ? undefined : pixels;
  }
}

/** A unit's front in its millimetre frame: the package outline, and when `printed`, the band with the label, the variant stripe and the flavour word. */
function productFront(look: ProductAppearance, pxPerMm: number, printed: boolean): string {
  const w = look.widthM * 1_000;
  const h = look.heightM * 1_000;
  const edge = shade(look.bodyColour, 0.6);
  let out = outline(look, w, h, edge);
  if (!printed) return out;
  const [bandTop, bandBottom] = bands[look.shape];
  const bandHeight = (bandBottom - bandTop) * h;
  out += `<rect y="${n(bandTop * h)}" width="${n(w)}" height="${n(bandHeight)}" fill="${look.bandColour}"/>`;
  const labelSize = Math.min(bandHeight * 0.7, (w * 0.92) / (Math.max(1, look.label.length) * ADVANCE));
  out += text(look.label, w / 2, bandTop * h + bandHeight / 2 + labelSize * 0.36, labelSize, ink(look.bandColour), pxPerMm);
  const stripeTop = (bandBottom + 0.03) * h;
  const stripeHeight = 0.07 * h;
  out += `<rect x="${n(w * 0.1)}" y="${n(stripeTop)}" width="${n(w * 0.8)}" height="${n(stripeHeight)}" fill="${look.stripeColour}"/>`;
  if (look.flavour !== '') {
    const flavourSize = Math.min(0.1 * h, (w * 0.85) / (look.flavour.length * ADVANCE));
    out += text(look.flavour, w / 2, stripeTop + stripeHeight + flavourSize * 1.05, flavourSize, ink(look.bodyColour), pxPerMm);
  }
  return out;
}

/** The package's silhouette, with its fixed parts (caps, lids, rims), in the millimetre frame. */
function outline(look: ProductAppearance, w: number, h: number, edge: string): string {
  const body = `fill="${look.bodyColour}" stroke="${edge}" stroke-width="${n(Math.max(w, h) * 0.015)}"`;
  switch (look.shape) {
    case 'box':
      return `<rect width="${n(w)}" height="${n(h)}" ${body}/>`;
    case 'can': {
      const rim = h * 0.05;
      return `<rect width="${n(w)}" height="${n(h)}" rx="${n(w * 0.12)}" ${body}/><rect width="${n(w)}" height="${n(rim)}" fill="${fixture.metal}"/><rect y="${n(h - rim)}" width="${n(w)}" height="${n(rim)}" fill="${fixture.metal}"/>`;
    }
    case 'bottle': {
      const neck = `M${n(w * 0.35)},${n(h * 0.08)} L${n(w * 0.65)},${n(h * 0.08)} L${n(w * 0.65)},${n(h * 0.22)} Q${n(w)},${n(h * 0.28)} ${n(w)},${n(h * 0.4)} L${n(w)},${n(h)} L0,${n(h)} L0,${n(h * 0.4)} Q0,${n(h * 0.28)} ${n(w * 0.35)},${n(h * 0.22)} Z`;
      return `<path d="${neck}" ${body}/><rect x="${n(w * 0.33)}" width="${n(w * 0.34)}" height="${n(h * 0.09)}" fill="${look.capColour}"/>`;
    }
    case 'jar':
      return `<rect y="${n(h * 0.14)}" width="${n(w)}" height="${n(h * 0.86)}" rx="${n(w * 0.12)}" ${body}/><rect x="${n(w * 0.05)}" width="${n(w * 0.9)}" height="${n(h * 0.17)}" rx="${n(w * 0.03)}" fill="${look.capColour}"/>`;
    case 'bag': {
      // Crimped seams top and bottom: a zigzag of eight teeth.
      const teeth = 8;
      const seam = h * 0.06;
      const top = Array.from({ length: teeth + 1 }, (_, i) => `${n((i * w) / teeth)},${n(i % 2 === 0 ? seam : 0)}`);
      const bottom = Array.from({ length: teeth + 1 }, (_, i) => `${n(w - (i * w) / teeth)},${n(i % 2 === 0 ? h - seam : h)}`);
      return `<polygon points="${[...top, ...bottom].join(' ')}" ${body}/>`;
    }
  }
}

/** Text centred on x with its baseline at y, or a smudge of its ink where it would be too small to resolve. */
function text(value: string, x: number, y: number, size: number, colour: string, pxPerMm: number): string {
  if (size * pxPerMm < MIN_TEXT_PX) {
    const width = value.length * ADVANCE * size;
    return `<rect x="${n(x - width / 2)}" y="${n(y - size * 0.6)}" width="${n(width)}" height="${n(size * 0.5)}" fill="${colour}" fill-opacity="0.55"/>`;
  }
  return `<text x="${n(x)}" y="${n(y)}" font-family="${FONT}" font-weight="bold" font-size="${n(size)}" text-anchor="middle" fill="${colour}">${escapeXml(value)}</text>`;
}

function occluderSvg(o: Occluder, height: number): string {
  const left = o.centreU - o.widthPx / 2;
  const head = o.widthPx * 0.28;
  return (
    `<circle cx="${n(o.centreU)}" cy="${n(o.topV - head * 0.9)}" r="${n(head)}" fill="${o.skin}"/>` +
    `<rect x="${n(left)}" y="${n(o.topV)}" width="${n(o.widthPx)}" height="${n(height - o.topV + o.widthPx)}" rx="${n(o.widthPx * 0.3)}" fill="${o.colour}"/>`
  );
}

/** Black or white, whichever reads better on `background` (WCAG relative luminance). */
function ink(background: string): string {
  const [r, g, b] = rgb(background).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.18 ? '#111111' : '#f5f5f5';
}

/** A colour scaled by `factor` (< 1 darker, > 1 lighter), clamped. */
function shade(colour: string, factor: number): string {
  return `#${rgb(colour)
    .map((c) => Math.min(255, Math.round(c * factor)).toString(16).padStart(2, '0'))
    .join('')}`;
}

function rgb(colour: string): [number, number, number] {
  const v = Number.parseInt(colour.slice(1), 16);
  return [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
}

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Pixel coordinates to 0.01 px: below what anti-aliasing shows, and it keeps the SVG short. */
function n(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** Matrix terms (pixels per millimetre) need more digits. */
function m(value: number): string {
  return String(Math.round(value * 1e5) / 1e5);
}
