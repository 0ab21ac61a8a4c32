import type { FontStack, ShapedText } from './fonts.ts';

/** A rectangle in px; edges are whole pixels so that no anti-aliased ink can fall outside it. */
export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface FitOptions {
  maxSize: number;
  minSize: number;
  maxLines: number;
  align?: 'left' | 'center' | 'right';
  /** Line pitch as a multiple of the size (default 1.15). */
  lineHeight?: number;
}

export interface FittedLine {
  shaped: ShapedText;
  x: number;
  baseline: number;
}

export interface FittedText {
  size: number;
  lines: FittedLine[];
  /** The text did not fit at minSize and was cut, ending in "…". */
  truncated: boolean;
}

const ELLIPSIS = '…';

/** Break opportunities: after a space, and before and after every CJK character (no spaces in Chinese). */
function segments(text: string): string[] {
  const out: string[] = [];
  let word = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (isCjk(cp)) {
      if (word) out.push(word);
      word = '';
      // Closing punctuation stays with the character before it [UAX #14, class CL].
      if (isClosingPunctuation(cp) && out.length > 0) out[out.length - 1] += ch;
      else out.push(ch);
    } else if (ch === ' ') {
      out.push(`${word} `);
      word = '';
    } else word += ch;
  }
  if (word) out.push(word);
  return out;
}

function isCjk(cp: number): boolean {
  return (cp >= 0x2e80 && cp <= 0x9fff) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xff00 && cp <= 0xffef) || (cp >= 0x20000 && cp <= 0x3ffff);
}

function isClosingPunctuation(cp: number): boolean {
  return [0x3001, 0x3002, 0xff0c, 0xff0e, 0xff1a, 0xff1b, 0xff01, 0xff1f, 0xff09, 0x300b, 0x300d, 0x300f, 0x3011].includes(cp);
}

/**
 * Lays `text` out in `box`: the largest size from maxSize down to minSize (1 px steps) at which it
 * wraps into at most maxLines lines; below that it is cut at minSize and ends in "…". Every line's
 * ink (glyph outlines, not just advances) lies inside the box, which is what keeps text from ever
 * running off a label or into the next element.
 */
export function fitText(fonts: FontStack, text: string, box: Box, options: FitOptions): FittedText {
  const clean = text.replace(/\s+/g, ' ').trim();
  const lineHeight = options.lineHeight ?? 1.15;
  if (clean === '') return { size: options.maxSize, lines: [], truncated: false };
  for (let size = Math.floor(options.maxSize); size >= options.minSize; size--) {
    const lines = wrap(fonts, clean, size, box.w, false);
    if (lines.length > options.maxLines) continue;
    const placed = place(fonts, lines, size, box, lineHeight, options.align ?? 'left');
    if (placed) return { size, lines: placed, truncated: false };
  }
  // Cut at minSize: fill maxLines lines (breaking inside words if need be), end the last in "…".
  const size = Math.max(1, Math.floor(options.minSize));
  const broken = wrap(fonts, clean, size, box.w, true);
  if (broken.length <= options.maxLines) {
    const placed = place(fonts, broken, size, box, lineHeight, options.align ?? 'left');
    if (placed) return { size, lines: placed, truncated: false };
  }
  for (let lineCount = options.maxLines; lineCount >= 1; lineCount--) {
    const lines = broken.slice(0, lineCount);
    let last = lines.at(-1) ?? '';
    while (last.length > 0) {
      const candidate = [...lines.slice(0, -1), `${last.trimEnd()}${ELLIPSIS}`];
      const placed = place(fonts, candidate, size, box, lineHeight, options.align ?? 'left');
      if (placed) return { size, lines: placed, truncated: true };
      last = [...last].slice(0, -1).join('');
    }
  }
  return { size, lines: [], truncated: true };
}

/** Greedy line filling; `breakWords` lets a word too wide for a line be split between characters. */
function wrap(fonts: FontStack, text: string, size: number, width: number, breakWords: boolean): string[] {
  const fits = (line: string) => {
    const shaped = fonts.shape(line.trimEnd(), size);
    return Math.max(shaped.advance, shaped.inkRight) - Math.min(0, shaped.inkLeft) <= width;
  };
  const lines: string[] = [];
  let line = '';
  const pieces = segments(text);
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    if (fits(line + piece)) {
      line += piece;
      continue;
    }
    if (line !== '') {
      lines.push(line.trimEnd());
      line = '';
    }
    if (fits(piece) || !breakWords) {
      line = piece;
      continue;
    }
    // A word wider than the line: as many characters as fit, the rest goes on.
    const chars = [...piece];
    let head = '';
    while (chars.length > 0 && fits(head + chars[0]!)) head += chars.shift()!;
    if (head === '') head = chars.shift()!;
    lines.push(head);
    if (chars.length > 0) pieces.splice(i + 1, 0, chars.join(''));
  }
  if (line.trim() !== '') lines.push(line.trimEnd());
  return lines;
}

/** Positions lines in the box, or undefined when any line's ink would leave it. */
function place(fonts: FontStack, lines: readonly string[], size: number, box: Box, lineHeight: number, align: 'left' | 'center' | 'right'): FittedLine[] | undefined {
  const { ascent, descent } = fonts.metrics(size);
  const pitch = size * lineHeight;
  const height = ascent + descent + (lines.length - 1) * pitch;
  if (height > box.h + 0.01) return undefined;
  const top = box.y + (lines.length === 1 ? (box.h - height) / 2 : 0);
  const out: FittedLine[] = [];
  for (const [i, text] of lines.entries()) {
    const shaped = fonts.shape(text, size);
    const baseline = top + ascent + i * pitch;
    const inkWidth = Math.max(shaped.advance, shaped.inkRight) - Math.min(0, shaped.inkLeft);
    if (inkWidth > box.w + 0.01) return undefined;
    const free = box.w - inkWidth;
    const offset = align === 'left' ? 0 : align === 'center' ? free / 2 : free;
    const x = box.x + offset - Math.min(0, shaped.inkLeft);
    if (baseline + shaped.inkTop < box.y - 0.01 || baseline + shaped.inkBottom > box.y + box.h + 0.01) return undefined;
    out.push({ shaped, x, baseline });
  }
  return out;
}

/** Shaped text of one line at the largest size ≤ maxSize whose ink fits `width` (no wrapping, no cut). */
export function fitLine(fonts: FontStack, text: string, width: number, maxSize: number, minSize: number): ShapedText | undefined {
  for (let size = Math.floor(maxSize); size >= minSize; size--) {
    const shaped = fonts.shape(text, size);
    if (Math.max(shaped.advance, shaped.inkRight) - Math.min(0, shaped.inkLeft) <= width) return shaped;
  }
  return undefined;
}
