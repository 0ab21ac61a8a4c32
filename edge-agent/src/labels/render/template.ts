import type { TagType } from '@storeedge/device-drivers';
import { EAN13_MODULES, EAN13_QUIET_LEFT, EAN13_QUIET_RIGHT } from './ean13.ts';
import type { Box } from './text-fit.ts';

/**
 * Where each part of a label goes on a tag type: one layout per panel shape, computed from the
 * panel's size so every tag type of a shape looks alike.
 *
 * - `small` (square, ≤ 200 px: 1.54″): banner, name (3 lines), was/member row, price, unit price.
 * - `strip` (landscape, ≤ 170 px high: 2.13″, 2.9″): banner, name (2 lines); below it the EAN-13
 *   on the left and the prices on the right.
 * - `panel` (4.2″, 7.5″): banner, name, prices on the left with the EAN-13 under them; a right
 *   column with the product picture (7.5″ only), the QR code and the SKU.
 * All boxes have whole-pixel edges; no two boxes overlap.
 */
export type TemplateKind = 'small' | 'strip' | 'panel';

export interface NameSlot {
  box: Box;
  maxLines: number;
  maxSize: number;
  minSize: number;
}

export interface LabelLayout {
  kind: TemplateKind;
  width: number;
  height: number;
  /** Full-width promo banner at the top (only when there is promo text). */
  banner?: Box;
  name: NameSlot;
  /** Was price (struck through) and member price. */
  was: Box;
  price: Box;
  /** Where the price sits in its box. */
  priceAlign: 'left' | 'right';
  unit: Box;
  sku?: Box;
  /** The EAN-13 with its quiet zones; `module` px a module. */
  barcode?: { box: Box; module: number };
  qr?: Box;
  picture?: Box;
}

export interface LayoutWants {
  promo: boolean;
  barcode: boolean;
  qr: boolean;
  picture: boolean;
}

const EAN13_WIDTH_MODULES = EAN13_QUIET_LEFT + EAN13_MODULES + EAN13_QUIET_RIGHT;

export function templateKind(type: Pick<TagType, 'width' | 'height'>): TemplateKind {
  if (type.height <= 170 && type.width >= 1.5 * type.height) return 'strip';
  if (type.width <= 200 && type.height <= 200) return 'small';
  return 'panel';
}

export function layoutLabel(type: Pick<TagType, 'width' | 'height'>, wants: LayoutWants): LabelLayout {
  switch (templateKind(type)) {
    case 'small':
      return small(type.width, type.height, wants);
    case 'strip':
      return strip(type.width, type.height, wants);
    case 'panel':
      return panel(type.width, type.height, wants);
  }
}

function box(x: number, y: number, w: number, h: number): Box {
  return { x: Math.round(x), y: Math.round(y), w: Math.max(0, Math.round(w)), h: Math.max(0, Math.round(h)) };
}

function small(width: number, height: number, wants: LayoutWants): LabelLayout {
  const m = 4;
  const bannerH = Math.round(height * 0.16);
  const top = wants.promo ? bannerH + 3 : m;
  const name = box(m, top, width - 2 * m, Math.round(height * 0.3));
  const rest = height - m - (name.y + name.h + 2);
  const was = box(m, name.y + name.h + 2, width - 2 * m, Math.round(rest * 0.22));
  const unit = box(m, height - m - Math.round(rest * 0.18), width - 2 * m, Math.round(rest * 0.18));
  const price = box(m, was.y + was.h, width - 2 * m, unit.y - (was.y + was.h) - 1);
  return {
    kind: 'small',
    width,
    height,
    ...(wants.promo ? { banner: box(0, 0, width, bannerH) } : {}),
    name: { box: name, maxLines: 3, maxSize: Math.round(height * 0.13), minSize: 11 },
    was,
    price,
    priceAlign: 'right',
    unit,
  };
}

function strip(width: number, height: number, wants: LayoutWants): LabelLayout {
  const m = Math.max(3, Math.round(height * 0.03));
  const bannerH = Math.round(height * 0.17);
  const top = wants.promo ? bannerH + 3 : m;
  const name = box(m, top, width - 2 * m, Math.round(height * 0.3));
  const lowerY = name.y + name.h + 2;
  const lowerH = height - m - lowerY;
  const module = Math.max(1, Math.floor((width * 0.4) / EAN13_WIDTH_MODULES));
  const barcode = wants.barcode ? { box: box(m, lowerY, EAN13_WIDTH_MODULES * module, lowerH), module } : undefined;
  const px = barcode ? barcode.box.x + barcode.box.w + m : m;
  const pw = width - m - px;
  const was = box(px, lowerY, pw, lowerH * 0.26);
  const unitH = Math.round(lowerH * 0.2);
  const unit = box(px, height - m - unitH, pw, unitH);
  const price = box(px, was.y + was.h, pw, unit.y - (was.y + was.h) - 1);
  return {
    kind: 'strip',
    width,
    height,
    ...(wants.promo ? { banner: box(0, 0, width, bannerH) } : {}),
    name: { box: name, maxLines: 2, maxSize: Math.round(height * 0.19), minSize: 11 },
    was,
    price,
    priceAlign: 'right',
    unit,
    ...(barcode ? { barcode } : {}),
  };
}

function panel(width: number, height: number, wants: LayoutWants): LabelLayout {
  const m = Math.max(6, Math.round(height * 0.027));
  const bannerH = Math.round(height * 0.13);
  const top = wants.promo ? bannerH + m : m;
  const picture = wants.picture && width >= 600;
  const right = wants.qr || picture;
  const rightW = right ? Math.round(width * 0.28) : 0;
  const rightX = width - m - rightW;
  const leftW = (right ? rightX - m : width - m) - m;

  const name = box(m, top, leftW, Math.round(height * 0.22));
  const bottomH = Math.round(height * 0.2);
  const module = Math.max(1, Math.min(3, Math.floor((leftW * 0.75) / EAN13_WIDTH_MODULES)));
  const barcode = wants.barcode ? { box: box(m, height - m - bottomH, EAN13_WIDTH_MODULES * module, bottomH), module } : undefined;
  const pricesY = name.y + name.h + Math.round(m / 2);
  const pricesBottom = barcode ? barcode.box.y - Math.round(m / 2) : height - m;
  const pricesH = pricesBottom - pricesY;
  const was = box(m, pricesY, leftW, pricesH * 0.22);
  const unitH = Math.round(pricesH * 0.17);
  const unit = box(m, pricesBottom - unitH, leftW, unitH);
  const price = box(m, was.y + was.h, leftW, unit.y - (was.y + was.h) - 1);

  const skuH = Math.max(12, Math.round(height * 0.05));
  let sku: Box | undefined;
  let qr: Box | undefined;
  let pictureBox: Box | undefined;
  if (right) {
    sku = box(rightX, height - m - skuH, rightW, skuH);
    let y = top;
    if (picture) {
      const side = Math.min(rightW, Math.round((sku.y - top) / 2) - m);
      pictureBox = box(rightX + (rightW - side) / 2, y, side, side);
      y += side + m;
    }
    if (wants.qr) {
      const side = Math.min(rightW, sku.y - m - y);
      qr = box(rightX + (rightW - side) / 2, y + (sku.y - m - y - side) / 2, side, side);
    }
  } else {
    const x = barcode ? barcode.box.x + barcode.box.w + m : m;
    if (width - m - x >= 60) sku = box(x, height - m - skuH, width - m - x, skuH);
  }
  return {
    kind: 'panel',
    width,
    height,
    ...(wants.promo ? { banner: box(0, 0, width, bannerH) } : {}),
    name: { box: name, maxLines: 2, maxSize: Math.round(height * 0.095), minSize: Math.max(12, Math.round(height * 0.04)) },
    was,
    price,
    priceAlign: 'left',
    unit,
    ...(sku ? { sku } : {}),
    ...(barcode ? { barcode } : {}),
    ...(qr ? { qr } : {}),
    ...(pictureBox ? { picture: pictureBox } : {}),
  };
}
