import type { Palette, TagType } from '@storeedge/device-drivers';
import { formatPrice, priceParts, type LabelContent } from './content.ts';
import { ean13Modules, EAN13_QUIET_LEFT, gtin14ToEan13, isGuardModule } from './ean13.ts';
import type { FontStack, ShapedText } from './fonts.ts';
import { QR_QUIET_MODULES, qrModules } from './qr.ts';
import { layoutLabel, type LabelLayout } from './template.ts';
import { fitLine, fitText, type Box } from './text-fit.ts';

/**
 * A label as SVG: every element is drawn in a hard palette colour (text as glyph outlines,
 * bars and QR modules as whole-pixel rectangles), so quantising the raster with `none` gives
 * exactly the palette's colours and nothing of the text is ever dithered.
 */

export interface ComposeOptions {
  /** Locale of price formatting (Intl): "en-GB" gives "£2.49", "de-DE" "2,49 €". */
  locale: string;
  /** The word before the member price. */
  memberLabel: string;
  /** A picture is placed (the caller rasterises and dithers it into `layout.picture`). */
  picture: boolean;
}

export interface ComposedLabel {
  svg: string;
  layout: LabelLayout;
  /** Parts the label has no room or no data for ("barcode: …", "qr: …"). */
  omitted: string[];
  /** The name did not fit at the minimum size and ends in "…". */
  nameTruncated: boolean;
}

interface Colours {
  white: string;
  black: string;
  /** Red where the palette has it, else yellow, else black. */
  banner: string;
  /** Text on the banner. */
  onBanner: string;
  /** Discounted price: red where the palette has it (yellow text on white does not read), else black. */
  offer: string;
  /** Member price badge background and its text. */
  badge: string;
  onBadge: string;
}

function hex(c: readonly [number, number, number]): string {
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function coloursOf(palette: Palette): Colours {
  const byName = (name: string) => {
    const i = palette.names.indexOf(name);
    return i < 0 ? undefined : hex(palette.colours[i]!);
  };
  const white = byName('white')!;
  const black = byName('black')!;
  const red = byName('red');
  const yellow = byName('yellow');
  return {
    white,
    black,
    banner: red ?? yellow ?? black,
    onBanner: red || !yellow ? white : black,
    offer: red ?? black,
    badge: yellow ?? red ?? black,
    onBadge: yellow ? black : white,
  };
}

export function composeLabel(content: LabelContent, type: TagType, fonts: FontStack, options: ComposeOptions): ComposedLabel {
  const omitted: string[] = [];
  const ean13 = gtin14ToEan13(content.gtin);
  if (!ean13) omitted.push(`barcode: GTIN ${content.gtin} has indicator digit ${content.gtin[0]}; only indicator 0 is an EAN-13`);
  const layout = layoutLabel(type, { promo: content.promoText !== undefined, barcode: ean13 !== undefined, qr: content.qrUrl !== undefined, picture: options.picture });
  if (ean13 && !layout.barcode) omitted.push(`barcode: a ${type.id} label has no room for an EAN-13`);
  if (content.qrUrl !== undefined && !layout.qr) omitted.push(`qr: a ${type.id} label has no room for a QR code`);
  const colours = coloursOf(type.palette);
  const parts: string[] = [`<rect width="${type.width}" height="${type.height}" fill="${colours.white}"/>`];

  if (layout.banner && content.promoText) {
    const b = layout.banner;
    parts.push(rect(b, colours.banner));
    const inner = { x: b.x + 4, y: b.y + 2, w: b.w - 8, h: b.h - 4 };
    const fitted = fitText(fonts, content.promoText, inner, { maxSize: Math.round(b.h * 0.72), minSize: 9, maxLines: 1, align: 'center' });
    for (const line of fitted.lines) parts.push(fonts.svg(line.shaped, line.x, line.baseline, colours.onBanner));
  }

  const name = fitText(fonts, content.name, layout.name.box, { maxSize: layout.name.maxSize, minSize: layout.name.minSize, maxLines: layout.name.maxLines });
  for (const line of name.lines) parts.push(fonts.svg(line.shaped, line.x, line.baseline, colours.black));

  const discounted = content.wasPriceMinor !== undefined && content.wasPriceMinor > content.priceMinor;
  parts.push(priceSvg(fonts, content, options.locale, layout.price, layout.priceAlign, discounted ? colours.offer : colours.black));
  parts.push(wasRowSvg(fonts, content, options, layout, colours));
  if (content.unitPriceText) parts.push(lineSvg(fonts, content.unitPriceText, layout.unit, layout.priceAlign, colours.black));
  if (layout.sku) parts.push(lineSvg(fonts, content.sku, layout.sku, layout.kind === 'panel' && layout.qr ? 'center' : 'left', colours.black));
  if (layout.barcode && ean13) parts.push(barcodeSvg(fonts, ean13, layout.barcode.box, layout.barcode.module, colours.black));
  if (layout.qr && content.qrUrl) {
    const qr = qrSvg(content.qrUrl, layout.qr, colours.black);
    if (qr) parts.push(qr);
    else omitted.push(`qr: the URL needs more modules than fit ${layout.qr.w} px at 2 px a module`);
  }

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${type.width}" height="${type.height}" viewBox="0 0 ${type.width} ${type.height}">${parts.join('')}</svg>`;
  return { svg, layout, omitted, nameTruncated: name.truncated };
}

function rect(b: Box, fill: string): string {
  return `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" fill="${fill}"/>`;
}

/** One line of small text fitted to its box (shrunk to 8 px at least, then left out). */
function lineSvg(fonts: FontStack, text: string, b: Box, align: 'left' | 'center' | 'right', fill: string): string {
  const fitted = fitText(fonts, text, b, { maxSize: Math.round(b.h * 0.8), minSize: 8, maxLines: 1, align });
  return fitted.lines.map((line) => fonts.svg(line.shaped, line.x, line.baseline, fill)).join('');
}

/**
 * The price in large digits: currency sign at 45 % and the minor digits at 50 % of the major
 * digits' size, raised to their top (the shelf-label convention). The size is the largest whose
 * ink fits the box.
 */
function priceSvg(fonts: FontStack, content: LabelContent, locale: string, b: Box, align: 'left' | 'right', fill: string): string {
  const p = priceParts(content.priceMinor, content.currency, locale);
  const gap = (size: number) => Math.max(1, Math.round(size * 0.04));
  for (let size = Math.floor(b.h * 1.3); size >= 8; size--) {
    const symbol = fonts.shape(p.symbol, Math.round(size * 0.45));
    const major = fonts.shape(p.major, size);
    const minor = p.minor ? fonts.shape(p.minor, Math.round(size * 0.5)) : undefined;
    const pieces: ShapedText[] = p.symbolAfter ? [major, ...(minor ? [minor] : []), symbol] : [symbol, major, ...(minor ? [minor] : [])];
    const width = pieces.reduce((sum, s) => sum + inkWidth(s), 0) + gap(size) * (pieces.length - 1);
    const bottom = major.inkBottom;
    // The major digits sit on the baseline; the others align to their top.
    if (width > b.w || bottom - major.inkTop > b.h) continue;
    const baseline = b.y + b.h - bottom;
    const raised = (s: ShapedText) => (s === major ? baseline : baseline + major.inkTop - s.inkTop);
    if (Math.min(...pieces.map((s) => raised(s) + s.inkTop)) < b.y) continue;
    let x = align === 'left' ? b.x : b.x + b.w - width;
    const out: string[] = [];
    for (const s of pieces) {
      out.push(fonts.svg(s, x - Math.min(0, s.inkLeft), raised(s), fill));
      x += inkWidth(s) + gap(size);
    }
    return out.join('');
  }
  return '';
}

function inkWidth(s: ShapedText): number {
  return Math.max(s.advance, s.inkRight) - Math.min(0, s.inkLeft);
}

/** The was price struck through, and the member price on a badge. */
function wasRowSvg(fonts: FontStack, content: LabelContent, options: ComposeOptions, layout: LabelLayout, colours: Colours): string {
  const b = layout.was;
  const out: string[] = [];
  let memberRight = b.x;
  if (content.memberPriceMinor !== undefined) {
    const text = `${options.memberLabel} ${formatPrice(content.memberPriceMinor, content.currency, options.locale)}`;
    const shaped = fitLine(fonts, text, Math.floor(b.w * 0.6) - 6, Math.round(b.h * 0.72), 8);
    if (shaped) {
      const badge = { x: b.x, y: b.y, w: Math.ceil(inkWidth(shaped)) + 6, h: b.h };
      out.push(rect(badge, colours.badge));
      const baseline = b.y + (b.h - (shaped.inkBottom - shaped.inkTop)) / 2 - shaped.inkTop;
      out.push(fonts.svg(shaped, badge.x + 3 - Math.min(0, shaped.inkLeft), baseline, colours.onBadge));
      memberRight = badge.x + badge.w + 4;
    }
  }
  if (content.wasPriceMinor !== undefined && content.wasPriceMinor > content.priceMinor) {
    const text = formatPrice(content.wasPriceMinor, content.currency, options.locale);
    const room = b.x + b.w - memberRight;
    const shaped = fitLine(fonts, text, room, Math.round(b.h * 0.8), 8);
    if (shaped) {
      const w = inkWidth(shaped);
      const x = layout.priceAlign === 'right' || content.memberPriceMinor !== undefined ? b.x + b.w - w : b.x;
      const baseline = b.y + (b.h - (shaped.inkBottom - shaped.inkTop)) / 2 - shaped.inkTop;
      out.push(fonts.svg(shaped, x - Math.min(0, shaped.inkLeft), baseline, colours.black));
      // The strike: across the ink, at the middle of the digits' height.
      const thickness = Math.max(1, Math.round(shaped.size * 0.08));
      const y = Math.round(baseline + (shaped.inkTop + shaped.inkBottom) / 2 - thickness / 2);
      out.push(rect({ x: Math.floor(x), y, w: Math.ceil(w), h: thickness }, colours.black));
    }
  }
  return out.join('');
}

/**
 * EAN-13 bars as whole-pixel rectangles (`module` px each; a bar is never anti-aliased), the
 * guards longer, with the human-readable digits under them: the first digit in the left quiet
 * zone, then 6 under each half [ISO/IEC 15420].
 */
function barcodeSvg(fonts: FontStack, ean13: string, b: Box, module: number, fill: string): string {
  const modules = ean13Modules(ean13);
  const digitSize = Math.max(8, Math.min(Math.round(b.h * 0.2), module * 10));
  const digitRow = digitSize + 2;
  const barsTop = b.y;
  const barsH = b.h - digitRow;
  const guardH = barsH + Math.round(digitRow / 2);
  const left = b.x + EAN13_QUIET_LEFT * module;
  const out: string[] = [];
  // Runs of bars as one rectangle each.
  for (let i = 0; i < modules.length; ) {
    if (modules[i] === 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < modules.length && modules[j] === 1 && isGuardModule(j) === isGuardModule(i)) j++;
    out.push(`<rect x="${left + i * module}" y="${barsTop}" width="${(j - i) * module}" height="${isGuardModule(i) ? guardH : barsH}" fill="${fill}"/>`);
    i = j;
  }
  const digitBox = (from: number, to: number): Box => ({ x: left + from * module, y: b.y + barsH + 1, w: (to - from) * module, h: b.y + b.h - (b.y + barsH + 1) });
  const groups: Array<[string, Box]> = [
    [ean13[0]!, { x: b.x, y: b.y + barsH + 1, w: left - b.x - module, h: b.h - barsH - 1 }],
    [ean13.slice(1, 7), digitBox(4, 45)],
    [ean13.slice(7), digitBox(50, 91)],
  ];
  for (const [text, box] of groups) {
    const fitted = fitText(fonts, text, box, { maxSize: digitSize, minSize: 6, maxLines: 1, align: 'center' });
    for (const line of fitted.lines) out.push(fonts.svg(line.shaped, line.x, line.baseline, fill));
  }
  return out.join('');
}

/** QR modules as whole-pixel rectangles centred in the box with a 4-module quiet zone; undefined when modules would be under 2 px. */
function qrSvg(url: string, b: Box, fill: string): string | undefined {
  const qr = qrModules(url);
  const px = Math.floor(Math.min(b.w, b.h) / (qr.size + 2 * QR_QUIET_MODULES));
  if (px < 2) return undefined;
  const side = qr.size * px;
  const x0 = b.x + Math.floor((b.w - side) / 2);
  const y0 = b.y + Math.floor((b.h - side) / 2);
  const out: string[] = [];
  for (let row = 0; row < qr.size; row++) {
    for (let col = 0; col < qr.size; ) {
      if (!qr.dark[row * qr.size + col]) {
        col++;
        continue;
      }
      let end = col;
      while (end < qr.size && qr.dark[row * qr.size + end]) end++;
      out.push(`<rect x="${x0 + col * px}" y="${y0 + row * px}" width="${(end - col) * px}" height="${px}"/>`);
      col = end;
    }
  }
  return `<g fill="${fill}">${out.join('')}</g>`;
}

