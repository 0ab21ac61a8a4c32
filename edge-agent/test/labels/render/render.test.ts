import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentHashOf, tagType, tagTypes, type TagType } from '@storeedge/device-drivers';
import jsQRModule from 'jsqr';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  decodeLabelImage,
  labelFonts,
  previewPng,
  rasteriseLabel,
  renderLabel,
  type LabelContent,
  type RenderOptions,
} from '../../../src/labels/render/index.ts';
import type { Box } from '../../../src/labels/render/text-fit.ts';
import { chineseContent, fullContent, longName, readEan13Row } from './fixtures.ts';

/**
 * Golden images: one PNG per tag type (and a few special labels) in goldens/, compared pixel for
 * pixel with the preview of the encoded bytes. After an intended change of the rendering, run
 *   UPDATE_LABEL_GOLDENS=1 npx vitest run edge-agent/test/labels/render
 * and look at every changed PNG before committing it (docs/labels-rendering.md#golden-images).
 */
/** jsqr is CommonJS with `exports.default`: depending on the interop the default import is the function or the module. */
const jsQR = ((jsQRModule as { default?: unknown }).default ?? jsQRModule) as (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;

const GOLDENS = new URL('./goldens/', import.meta.url);
const UPDATE = process.env.UPDATE_LABEL_GOLDENS === '1';

async function rgbOf(png: Buffer): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}

async function expectGolden(name: string, png: Buffer): Promise<void> {
  const file = new URL(`${name}.png`, GOLDENS);
  if (UPDATE) {
    mkdirSync(GOLDENS, { recursive: true });
    writeFileSync(file, png);
    return;
  }
  expect(existsSync(file), `golden ${name}.png is missing; run with UPDATE_LABEL_GOLDENS=1 to create it`).toBe(true);
  const [actual, golden] = await Promise.all([rgbOf(png), rgbOf(readFileSync(file))]);
  let differing = 0;
  for (let i = 0; i < Math.max(actual.length, golden.length); i += 3) if (actual[i] !== golden[i] || actual[i + 1] !== golden[i + 1] || actual[i + 2] !== golden[i + 2]) differing++;
  if (differing > 0) {
    const out = join(tmpdir(), `label-golden-${name}.actual.png`);
    writeFileSync(out, png);
    expect.fail(`${name}: ${differing} pixels differ from goldens/${name}.png (actual written to ${out})`);
  }
}

/** Palette indices of a rendered label, decoded from its bytes. */
async function pixelsOf(content: LabelContent, type: TagType, options: RenderOptions = {}) {
  const rendered = await renderLabel(content, type.id, options);
  return { rendered, pixels: decodeLabelImage(rendered.encoded, rendered.encoding, type) };
}

/** Pixels where two index images differ, as (x, y). */
function differences(a: Uint8Array, b: Uint8Array, width: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push([i % width, Math.floor(i / width)]);
  return out;
}

const inside = (box: Box) => ([x, y]: [number, number]) => x >= box.x && x < box.x + box.w && y >= box.y && y < box.y + box.h;

describe('label rendering', () => {
  for (const type of tagTypes) {
    it(`matches the golden image of ${type.id} (${type.palette.id})`, async () => {
      const rendered = await renderLabel(fullContent, type.id, { png: true });
      await expectGolden(type.id, rendered.png!);
    });
  }

  it('matches the golden images of a Chinese label and a long-name label', async () => {
    await expectGolden('m3-4.2-bwr-chinese', (await renderLabel(chineseContent, 'm3-4.2-bwr', { png: true })).png!);
    await expectGolden('m2-2.9-bwr-long-name', (await renderLabel({ ...fullContent, name: longName }, 'm2-2.9-bwr', { png: true })).png!);
  });

  it('covers all of GB2312 (682 symbols, 3 755 level-1 and 3 008 level-2 hanzi) with glyphs', () => {
    // TextDecoder('gb2312') is the WHATWG GBK decoder: it maps GB2312's empty cells to private-use
    // code points and adds GBK's small roman numerals, vertical forms and IPA letters in rows 2, 6 and 8; those are left out.
    const decoder = new TextDecoder('gb2312');
    const gbkOnly = (row: number, cell: number) => (row === 0xa2 && cell <= 0xaa) || (row === 0xa6 && cell >= 0xe0 && cell <= 0xf5) || (row === 0xa8 && cell >= 0xbb && cell <= 0xc0);
    const symbols: string[] = [];
    const hanzi: string[] = [];
    for (let row = 0xa1; row <= 0xf7; row++) {
      if (row >= 0xaa && row <= 0xaf) continue; // rows 10-15 are empty
      for (let cell = 0xa1; cell <= 0xfe; cell++) {
        if (row === 0xd7 && cell > 0xf9) continue; // row 55 ends at 0xF9
        const ch = decoder.decode(Uint8Array.of(row, cell));
        const cp = ch.codePointAt(0)!;
        if (ch === '\ufffd' || (cp >= 0xe000 && cp <= 0xf8ff) || gbkOnly(row, cell)) continue;
        (row >= 0xb0 ? hanzi : symbols).push(ch);
      }
    }
    expect(symbols.length).toBe(682);
    expect(hanzi.length).toBe(6763);
    expect(labelFonts().missing([...symbols, ...hanzi].join('')).map((cp) => String.fromCodePoint(cp))).toEqual([]);
  });

  it('covers European names, currency signs, arrows and the operators prices use', () => {
    const text = 'ÄÖÜäöüß ÉÈÊéèêçñ ŁłŒœŠšŽžĞğİı ØøÅå € £ ¥ ₩ ₹ ₽ ¢ ℃ № ™ ½ ¼ → ← ↑ ↓ − ± × ÷ ≤ ≥ … · • – — ‰ ° µ';
    expect(labelFonts().missing(text).map((cp) => String.fromCodePoint(cp))).toEqual([]);
    // Ł is not in the CJK font: it comes from the Latin fallback, as a real glyph.
    const fonts = labelFonts();
    expect(fonts.fontFor('Ł'.codePointAt(0)!)).toBeGreaterThan(0);
    const shaped = fonts.shape('Łódź', 20);
    expect(shaped.glyphs.length).toBe(4);
    expect(shaped.glyphs[0]!.font).toBe(1);
    expect(shaped.glyphs.every((g) => g.id !== 0)).toBe(true);
  });

  it('draws a Chinese name with no missing glyph (no tofu) and no ink outside the name box', async () => {
    const fonts = labelFonts();
    expect(fonts.missing(chineseContent.name)).toEqual([]);
    // One real glyph per character (spaces included): none is .notdef (id 0), none is dropped.
    const shaped = fonts.shape(chineseContent.name, 20);
    expect(shaped.glyphs.length).toBe([...chineseContent.name].length);
    expect(shaped.glyphs.every((g) => g.id !== 0)).toBe(true);
    for (const id of ['m2-1.54-bwr', 'm2-2.9-bwr', 'm3-4.2-bwr', 'hs-7.5-bwry']) {
      const type = tagType(id)!;
      const withName = await rasteriseLabel(chineseContent, type);
      const without = await rasteriseLabel({ ...chineseContent, name: '' }, type);
      const diff = differences(withName.pixels.indices, without.pixels.indices, type.width);
      expect(diff.length, id).toBeGreaterThan(100);
      expect(diff.filter((p) => !inside(withName.layout.name.box)(p)), id).toEqual([]);
      expect((await renderLabel(chineseContent, id)).missingGlyphs).toEqual([]);
    }
  });

  it('shrinks and then cuts a long Latin name: never any ink outside the name box', async () => {
    for (const type of tagTypes) {
      const content = { ...fullContent, name: longName };
      const withName = await rasteriseLabel(content, type);
      const without = await rasteriseLabel({ ...content, name: '' }, type);
      const diff = differences(withName.pixels.indices, without.pixels.indices, type.width);
      expect(diff.length, type.id).toBeGreaterThan(100);
      expect(diff.filter((p) => !inside(withName.layout.name.box)(p)), type.id).toEqual([]);
      expect(withName.nameTruncated, type.id).toBe(true);
    }
    // A short name is not cut.
    expect((await rasteriseLabel(fullContent, tagType('m3-4.2-bwr')!)).nameTruncated).toBe(false);
  });

  it('leaves out and reports a character no font has, or refuses it when asked', async () => {
    const content = { ...fullContent, name: 'Milk 🥛 1 L' };
    const rendered = await renderLabel(content, 'm2-2.9-bwr');
    expect(rendered.missingGlyphs).toEqual([0x1f95b]);
    await expect(renderLabel(content, 'm2-2.9-bwr', { missingGlyphs: 'error' })).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_GLYPH_MISSING' });
  });

  it('draws an EAN-13 that reads back as the GTIN, in whole modules', async () => {
    for (const id of ['hs-2.13-bw', 'm2-2.9-bwr', 'm3-2.9-bwry', 'm3-4.2-bwy', 'm3-7.5-bwr']) {
      const type = tagType(id)!;
      const { pixels } = await pixelsOf(fullContent, type);
      const layout = (await rasteriseLabel(fullContent, type)).layout;
      const b = layout.barcode!.box;
      for (const y of [b.y, b.y + Math.floor(b.h / 3)]) {
        const row = Array.from({ length: b.w }, (_, x) => pixels.indices[y * type.width + b.x + x] === 1);
        expect(readEan13Row(row), `${id} row ${y}`).toBe(fullContent.gtin.slice(1));
      }
    }
    // Indicator digit 1 (a case of units) is no EAN-13: no barcode, and the reason is reported.
    const caseGtin = await renderLabel({ ...fullContent, gtin: '14006040011917' }, 'm2-2.9-bwr');
    expect(caseGtin.omitted.join()).toMatch(/indicator digit 1/);
  });

  it('draws a QR code that a decoder reads back as the URL', async () => {
    for (const id of ['m3-4.2-bwr', 'm2-7.5-bw', 'hs-7.5-bwry']) {
      const rendered = await renderLabel(fullContent, id, { png: true });
      const { data, info } = await sharp(rendered.png!).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      const code = jsQR(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height);
      expect(code?.data, id).toBe(fullContent.qrUrl);
    }
  });

  it('uses the accent colour for the banner and the offer price only where the palette has one', async () => {
    const count = (indices: Uint8Array, value: number) => indices.reduce((n, v) => n + (v === value ? 1 : 0), 0);
    const bwr = (await pixelsOf(fullContent, tagType('m3-4.2-bwr')!)).pixels.indices;
    const bwy = (await pixelsOf(fullContent, tagType('m3-4.2-bwy')!)).pixels.indices;
    const bwry = (await pixelsOf(fullContent, tagType('hs-7.5-bwry')!)).pixels.indices;
    expect(count(bwr, 2)).toBeGreaterThan(5000); // red banner and red offer price
    expect(count(bwy, 2)).toBeGreaterThan(5000); // yellow banner
    expect(count(bwry, 2)).toBeGreaterThan(5000); // red banner and price
    expect(count(bwry, 3)).toBeGreaterThan(200); // yellow member badge
    const plain = { ...fullContent, promoText: undefined, wasPriceMinor: undefined, memberPriceMinor: undefined };
    expect(count((await pixelsOf(plain, tagType('m3-4.2-bwr')!)).pixels.indices, 2)).toBe(0);
  });

  it('is deterministic: the same content and tag type give the same bytes and hash', async () => {
    for (const id of ['m2-1.54-bwr', 'm3-2.9-bwry', 'm3-7.5-bwr']) {
      const a = await renderLabel(fullContent, id);
      const b = await renderLabel(structuredClone(fullContent), id);
      expect(a.encoded.equals(b.encoded), id).toBe(true);
      expect(a.contentHash).toBe(b.contentHash);
      expect(a.contentHash).toBe(contentHashOf(a.encoded));
      expect((await renderLabel({ ...fullContent, priceMinor: 150 }, id)).contentHash).not.toBe(a.contentHash);
    }
  });

  it('builds the preview from the encoded bytes', async () => {
    const rendered = await renderLabel(fullContent, 'm3-4.2-bwy', { png: true });
    expect(rendered.png!.equals(await previewPng(rendered.encoded, rendered.encoding, tagType('m3-4.2-bwy')!))).toBe(true);
  });

  it('dithers only the picture: text and codes are identical whatever the dithering', async () => {
    // A picture: a horizontal ramp white → red → black, 64 px high.
    const w = 256;
    const h = 64;
    const rgb = Buffer.alloc(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const t = (i % w) / (w - 1);
      const c = t < 0.5 ? [255, 255 * (1 - 2 * t), 255 * (1 - 2 * t)] : [255 * (2 - 2 * t), 0, 0];
      rgb.set(c.map(Math.round), i * 3);
    }
    const picture = await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const type = tagType('m3-7.5-bwr')!;
    const results = new Map<string, Uint8Array>();
    for (const dither of ['none', 'burkes', 'ordered'] as const) results.set(dither, (await pixelsOf(fullContent, type, { picture, dither })).pixels.indices);
    const layout = (await rasteriseLabel(fullContent, type, { picture })).layout;
    const slot = layout.picture!;
    expect(slot).toBeDefined();
    for (const dither of ['burkes', 'ordered']) {
      const diff = differences(results.get('none')!, results.get(dither)!, type.width);
      expect(diff.length, dither).toBeGreaterThan(500);
      expect(diff.filter((p) => !inside(slot)(p)), dither).toEqual([]);
    }
    // Dithered, the picture's middle columns mix red with white (error diffusion and ordered both).
    const mixed = (indices: Uint8Array) => {
      const seen = new Set<number>();
      const x = slot.x + Math.round(slot.w * 0.2);
      for (let y = slot.y + Math.round(slot.h * 0.4); y < slot.y + slot.h * 0.6; y++) for (let dx = 0; dx < 4; dx++) seen.add(indices[y * type.width + x + dx]!);
      return seen;
    };
    expect([...mixed(results.get('none')!)].length).toBe(1);
    expect(mixed(results.get('burkes')!)).toEqual(new Set([0, 2]));
    expect(mixed(results.get('ordered')!)).toEqual(new Set([0, 2]));
    await expectGolden('m3-7.5-bwr-picture-burkes', (await renderLabel(fullContent, type.id, { picture, dither: 'burkes', png: true })).png!);
  });

  it('refuses invalid content and unknown tag types with their codes', async () => {
    await expect(renderLabel({ ...fullContent, gtin: '04006040011919' }, 'm2-2.9-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_CONTENT_INVALID' });
    await expect(renderLabel({ ...fullContent, priceMinor: 1.5 }, 'm2-2.9-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_CONTENT_INVALID' });
    await expect(renderLabel({ ...fullContent, currency: 'XYZ' }, 'm2-2.9-bwr')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_CONTENT_INVALID' });
    await expect(renderLabel(fullContent, 'm9-9.9-bw')).rejects.toMatchObject({ code: 'EDGE_ERR_LABEL_TAG_TYPE_UNKNOWN' });
  });
});
