import { contentHashOf, tagType as findTagType, type ImageEncoding, type TagType } from '@storeedge/device-drivers';
import sharp from 'sharp';
import { errors } from '../../errors.ts';
import { composeLabel } from './compose.ts';
import { parseLabelContent, type LabelContent } from './content.ts';
import { decodeLabelImage, encodeLabelImage, toPng, type LabelPixels } from './encode.ts';
import { labelFonts, type FontStack } from './fonts.ts';
import { quantiseInto, type DitherMode } from './quantise.ts';
import type { LabelLayout } from './template.ts';

/**
 * One label, start to end, on the calling thread: content → SVG (compose.ts) → sharp raster →
 * palette indices (text hard, the picture dithered) → the tag type's bytes (encode.ts) →
 * content hash; the preview PNG is decoded from those bytes. LabelRenderer runs this in workers.
 */

export interface RenderOptions {
  /** Dithering of the picture (default 'burkes'); text, prices and codes are never dithered. */
  dither?: DitherMode;
  /** A product picture (any format sharp reads), placed on labels with a picture slot (7.5″). */
  picture?: Uint8Array;
  /** Locale for price formatting (default 'en-GB'). */
  locale?: string;
  /** Word before the member price (default 'Member'). */
  memberLabel?: string;
  /** Characters no label font has: left out and listed in `missingGlyphs` (default), or EDGE_ERR_LABEL_GLYPH_MISSING. */
  missingGlyphs?: 'omit' | 'error';
  /** Also return the PNG preview (decoded from the encoded bytes). */
  png?: boolean;
}

export interface RenderedLabel {
  tagType: string;
  width: number;
  height: number;
  encoded: Buffer;
  encoding: ImageEncoding;
  /** contentHashOf(encoded): what the tag reports once it shows this image. */
  contentHash: string;
  png?: Buffer;
  /** Code points of the text no label font has (left out, never drawn as a box). */
  missingGlyphs: number[];
  nameTruncated: boolean;
  omitted: string[];
}

/** The tag type with this id, or EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN. */
export function requireTagType(id: string): TagType {
  const type = findTagType(id);
  if (!type) throw errors.EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN(`no tag type "${id}"; known: see docs/labels-rendering.md`);
  return type;
}

/** The label as palette indices, before encoding (tests and the pipeline below). Content is not validated here. */
export async function rasteriseLabel(
  content: LabelContent,
  type: TagType,
  options: RenderOptions = {},
  fonts: FontStack = labelFonts(),
): Promise<{ pixels: LabelPixels; layout: LabelLayout; omitted: string[]; nameTruncated: boolean }> {
  const composed = composeLabel(content, type, fonts, {
    locale: options.locale ?? 'en-GB',
    memberLabel: options.memberLabel ?? 'Member',
    picture: options.picture !== undefined,
  });
  const { width, height } = type;
  const rgba = await sharp(Buffer.from(composed.svg)).ensureAlpha().raw().toBuffer();
  if (rgba.length !== width * height * 4) throw new Error(`sharp rendered ${rgba.length} bytes for ${width} × ${height} RGBA`);
  const indices = new Uint8Array(width * height);
  // Everything drawn so far is text, lines, bars and fills: nearest colour, never dithered.
  quantiseInto(indices, rgba, 4, width, { x: 0, y: 0, w: width, h: height }, type.palette, 'none');
  const slot = composed.layout.picture;
  if (slot && options.picture) {
    const picture = await sharp(options.picture)
      .resize(slot.w, slot.h, { fit: 'contain', background: { r: 255, g: 255, b: 255, alpha: 1 } })
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .removeAlpha()
      .raw()
      .toBuffer();
    const canvas = Buffer.alloc(width * height * 3);
    for (let y = 0; y < slot.h; y++) picture.copy(canvas, ((slot.y + y) * width + slot.x) * 3, y * slot.w * 3, (y + 1) * slot.w * 3);
    quantiseInto(indices, canvas, 3, width, slot, type.palette, options.dither ?? 'burkes');
  }
  return { pixels: { width, height, indices }, layout: composed.layout, omitted: composed.omitted, nameTruncated: composed.nameTruncated };
}

/** Validates, renders and encodes one label for a tag type. Deterministic: the same arguments give the same bytes. */
export async function renderLabel(input: unknown, tagTypeId: string, options: RenderOptions = {}, fonts: FontStack = labelFonts()): Promise<RenderedLabel> {
  const content = parseLabelContent(input);
  const type = requireTagType(tagTypeId);
  const texts = [content.name, content.promoText, content.unitPriceText, content.sku].filter((t): t is string => t !== undefined);
  const missingGlyphs = [...new Set(texts.flatMap((t) => fonts.missing(t)))];
  if (missingGlyphs.length > 0 && options.missingGlyphs === 'error') {
    const list = missingGlyphs.map((cp) => `U+${cp.toString(16).toUpperCase().padStart(4, '0')} "${String.fromCodePoint(cp)}"`).join(', ');
    throw errors.EDGE_ERR_LABEL_GLYPH_MISSING(`label ${content.sku}: the label fonts have no glyph for ${list}`, { details: { missingGlyphs } });
  }
  const raster = await rasteriseLabel(content, type, options, fonts);
  const { encoded, encoding } = encodeLabelImage(raster.pixels, type);
  const rendered: RenderedLabel = {
    tagType: type.id,
    width: type.width,
    height: type.height,
    encoded,
    encoding,
    contentHash: contentHashOf(encoded),
    missingGlyphs,
    nameTruncated: raster.nameTruncated,
    omitted: raster.omitted,
  };
  if (options.png) rendered.png = await previewPng(encoded, encoding, type);
  return rendered;
}

/** The PNG of exactly these tag bytes (what `GET /api/labels/:id/image` returns). */
export async function previewPng(encoded: Uint8Array, encoding: ImageEncoding, type: TagType): Promise<Buffer> {
  return toPng(decodeLabelImage(encoded, encoding, type), type);
}
