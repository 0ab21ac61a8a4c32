import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as fontkit from 'fontkit';

/**
 * Label text as glyph outlines: fonts are read with fontkit (pure JS) and every glyph is drawn as
 * an SVG path, so what a label shows never depends on the fonts or fontconfig of the machine
 * that rasterises it. A FontStack is an ordered list of fonts; each code point is drawn with the
 * first font that has a glyph for it, and a code point no font has is reported, never drawn as
 * a box (research/esl.md §3, HA#258).
 *
 * The shipped stack (docs/labels-rendering.md#fonts): fonts/StoreEdgeLabelSansSC-Bold.otf, a
 * subset of Noto Sans CJK SC Bold (Latin, currency signs, arrows and all of GB2312), then Noto
 * Sans Bold from @fontsource/noto-sans for the Latin letters the CJK font lacks (Ł Š Ž Ğ ı Ő Ș …
 * and ₹ ₽): its latin-ext subset, then its latin subset.
 */

export const LABEL_FONT_FILE = new URL('./fonts/StoreEdgeLabelSansSC-Bold.otf', import.meta.url);

const require = createRequire(import.meta.url);

/** The shipped stack's files, in fallback order. */
export function labelFontFiles(): Array<string | URL> {
  return [
    LABEL_FONT_FILE,
    require.resolve('@fontsource/noto-sans/files/noto-sans-latin-ext-700-normal.woff'),
    require.resolve('@fontsource/noto-sans/files/noto-sans-latin-700-normal.woff'),
  ];
}

/** A glyph placed on a line: x in px from the line's origin. */
export interface PlacedGlyph {
  font: number;
  id: number;
  x: number;
}

/** Shaped text at one size, in px, relative to its origin on the baseline (y grows downwards). */
export interface ShapedText {
  text: string;
  size: number;
  glyphs: PlacedGlyph[];
  /** Sum of the advances. */
  advance: number;
  /** Ink extents: left and right of the origin, above (negative) and below the baseline. */
  inkLeft: number;
  inkRight: number;
  inkTop: number;
  inkBottom: number;
}

interface UnitGlyph {
  font: number;
  id: number;
  /** Font units (per 1 000 em after normalising), from the run's origin. */
  x: number;
}

interface UnitRun {
  glyphs: UnitGlyph[];
  advance: number;
  inkLeft: number;
  inkRight: number;
  inkTop: number;
  inkBottom: number;
}

const isWhitespace = (cp: number) => cp === 0x20 || cp === 0x3000 || cp === 0xa0 || (cp >= 0x2000 && cp <= 0x200b);
/** Code points nothing needs to draw (controls, joiners, variation selectors). */
const isInvisible = (cp: number) => cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp === 0x200c || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f);

export class FontStack {
  readonly fonts: readonly fontkit.Font[];
  /** Shaped runs in font units, by text (shaping does not depend on the size: no hinting). */
  readonly #runs = new Map<string, UnitRun>();
  readonly #paths = new Map<string, string>();

  constructor(fonts: readonly fontkit.Font[]) {
    if (fonts.length === 0) throw new RangeError('a font stack needs at least one font');
    this.fonts = fonts;
  }

  /** Reads font files (OTF/TTF) into a stack, in fallback order. */
  static fromFiles(files: ReadonlyArray<string | URL>): FontStack {
    return new FontStack(
      files.map((file) => {
        const font = fontkit.create(readFileSync(file));
        if (!('unitsPerEm' in font) || 'fonts' in font) throw new TypeError(`${String(file)} is a font collection; name one font`);
        return font;
      }),
    );
  }

  /** The index of the first font with a glyph for the code point, or -1. */
  fontFor(codePoint: number): number {
    for (let i = 0; i < this.fonts.length; i++) if (this.fonts[i]!.hasGlyphForCodePoint(codePoint)) return i;
    return -1;
  }

  /** Code points of `text` that no font of the stack has a glyph for (whitespace and controls aside). */
  missing(text: string): number[] {
    const out: number[] = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (isInvisible(cp) || isWhitespace(cp)) continue;
      if (this.fontFor(cp) < 0 && !out.includes(cp)) out.push(cp);
    }
    return out;
  }

  /** Shapes `text` at `size` px: glyphs with kerning, advance and ink box. Missing code points are left out. */
  shape(text: string, size: number): ShapedText {
    const run = this.#unitRun(text);
    const scale = size / 1000;
    return {
      text,
      size,
      glyphs: run.glyphs.map((g) => ({ font: g.font, id: g.id, x: g.x * scale })),
      advance: run.advance * scale,
      inkLeft: run.inkLeft * scale,
      inkRight: run.inkRight * scale,
      inkTop: run.inkTop * scale,
      inkBottom: run.inkBottom * scale,
    };
  }

  /** Ascent and descent of the first font, px at `size` (descent positive, below the baseline). */
  metrics(size: number): { ascent: number; descent: number; capHeight: number } {
    const font = this.fonts[0]!;
    const scale = size / font.unitsPerEm;
    return { ascent: font.ascent * scale, descent: -font.descent * scale, capHeight: font.capHeight * scale };
  }

  /**
   * SVG for shaped text with its origin at (x, baseline), filled with `fill`: one path per glyph
   * outline, in font units under a scale transform (y flipped: fonts grow upwards).
   */
  svg(shaped: ShapedText, x: number, baseline: number, fill: string): string {
    if (shaped.glyphs.length === 0) return '';
    const parts: string[] = [];
    for (const g of shaped.glyphs) {
      const d = this.#path(g.font, g.id);
      if (d === '') continue;
      const font = this.fonts[g.font]!;
      const s = shaped.size / font.unitsPerEm;
      parts.push(`<path transform="translate(${num(x + g.x)} ${num(baseline)}) scale(${num(s)} ${num(-s)})" d="${d}"/>`);
    }
    return `<g fill="${fill}">${parts.join('')}</g>`;
  }

  #path(font: number, id: number): string {
    const key = `${font}:${id}`;
    let d = this.#paths.get(key);
    if (d === undefined) {
      d = this.fonts[font]!.getGlyph(id).path.toSVG();
      this.#paths.set(key, d);
    }
    return d;
  }

  #unitRun(text: string): UnitRun {
    const cached = this.#runs.get(text);
    if (cached) return cached;
    // Split into runs of one font each; every run is laid out (kerning, ligatures) by its font.
    const pieces: Array<{ font: number; text: string }> = [];
    for (const ch of text) {
      const cp = ch.codePointAt(0)!;
      if (isInvisible(cp)) continue;
      const font = isWhitespace(cp) ? (pieces.at(-1)?.font ?? 0) : this.fontFor(cp);
      if (font < 0) continue; // reported by missing(); never drawn as .notdef
      const last = pieces.at(-1);
      if (last && last.font === font) last.text += ch;
      else pieces.push({ font, text: ch });
    }
    const glyphs: UnitGlyph[] = [];
    let x = 0;
    let inkLeft = Infinity;
    let inkRight = -Infinity;
    let inkTop = Infinity;
    let inkBottom = -Infinity;
    for (const piece of pieces) {
      const font = this.fonts[piece.font]!;
      const unit = 1000 / font.unitsPerEm;
      const laid = font.layout(piece.text);
      laid.glyphs.forEach((glyph, i) => {
        const position = laid.positions[i]!;
        const gx = x + position.xOffset * unit;
        if (glyph.id !== 0) {
          glyphs.push({ font: piece.font, id: glyph.id, x: gx });
          const box = glyph.bbox;
          if (Number.isFinite(box.minX) && box.maxX > box.minX) {
            inkLeft = Math.min(inkLeft, gx + box.minX * unit);
            inkRight = Math.max(inkRight, gx + box.maxX * unit);
            inkTop = Math.min(inkTop, -box.maxY * unit - position.yOffset * unit);
            inkBottom = Math.max(inkBottom, -box.minY * unit - position.yOffset * unit);
          }
        }
        x += position.xAdvance * unit;
      });
    }
    const run: UnitRun =
      inkLeft === Infinity
        ? { glyphs, advance: x, inkLeft: 0, inkRight: 0, inkTop: 0, inkBottom: 0 }
        : { glyphs, advance: x, inkLeft, inkRight, inkTop, inkBottom };
    if (this.#runs.size > 20_000) this.#runs.clear();
    this.#runs.set(text, run);
    return run;
  }
}

let shipped: FontStack | undefined;

/** The shipped label font stack, read once per thread. */
export function labelFonts(): FontStack {
  shipped ??= FontStack.fromFiles(labelFontFiles());
  return shipped;
}

/** A number for SVG: at most 3 decimals, no exponent, no "-0". */
export function num(value: number): string {
  const rounded = Math.round(value * 1000) / 1000;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}
