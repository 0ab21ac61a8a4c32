/**
 * The ESL tag types storeedge can render for: panel size, palette, bit depth, LED and compression,
 * taken from the OpenEPaperLink tag-type definitions (`resources/tagtypes/<hwType>.json`;
 * research/esl.md §1.4). A `tag.image` names one of these ids in `tagType` (protocol.ts), and the
 * gateway refuses an image rendered for another type.
 *
 * Images are always sent in reading orientation (width × height as the shopper sees the label);
 * `rotateBuffer` records the quarter turns an OEPL access point applies before the radio, for a
 * bridge to such an AP to apply in turn.
 */

/** An RGB colour of a palette. */
export type Rgb = readonly [r: number, g: number, b: number];

export const paletteIds = ['bw', 'bwr', 'bwy', 'bwry'] as const;
export type PaletteId = (typeof paletteIds)[number];

export interface Palette {
  id: PaletteId;
  /** Colours in index order, as the OEPL `colortable`: index 0 white, 1 black, then the accent colours. */
  colours: readonly Rgb[];
  /** Names in the same order ('white', 'black', 'red', 'yellow'). */
  names: readonly string[];
}

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];
const RED: Rgb = [255, 0, 0];
const YELLOW: Rgb = [255, 255, 0];

/** The palettes of the supported panels [OEPL tagtypes `colortable`]. */
export const palettes: Readonly<Record<PaletteId, Palette>> = Object.freeze({
  bw: Object.freeze({ id: 'bw', colours: Object.freeze([WHITE, BLACK]), names: Object.freeze(['white', 'black']) }),
  bwr: Object.freeze({ id: 'bwr', colours: Object.freeze([WHITE, BLACK, RED]), names: Object.freeze(['white', 'black', 'red']) }),
  bwy: Object.freeze({ id: 'bwy', colours: Object.freeze([WHITE, BLACK, YELLOW]), names: Object.freeze(['white', 'black', 'yellow']) }),
  bwry: Object.freeze({ id: 'bwry', colours: Object.freeze([WHITE, BLACK, RED, YELLOW]), names: Object.freeze(['white', 'black', 'red', 'yellow']) }),
}) as Readonly<Record<PaletteId, Palette>>;

/**
 * How the pixels are laid out in the image bytes (research/esl.md §1.3):
 * - `planes-1`: one 1-bit plane, 1 = black (BW).
 * - `planes-2`: a black plane then an accent plane (red or yellow), 1 bit each (BWR, BWY).
 * - `packed-2`: 2-bit palette indices, four pixels a byte, first pixel in the high bits (BWRY).
 */
export type PixelLayout = 'planes-1' | 'planes-2' | 'packed-2';

/** How a tag type's image bytes are compressed: raw bit planes, or zlib with a u32 length prefix. */
export type TagCompression = 'none' | 'zlib';

export interface TagType {
  /** `<family>-<diagonal>-<palette>`, e.g. `m2-2.9-bwr`. */
  id: string;
  name: string;
  /** OEPL `hwType` of the panel this entry follows. */
  hwType: number;
  /** Diagonal in inches. */
  inches: number;
  width: number;
  height: number;
  palette: Palette;
  /** Bits per pixel on the wire: 1 for BW, 2 for the 3- and 4-colour palettes. */
  bpp: 1 | 2;
  layout: PixelLayout;
  /** The tag has an LED (pick-to-light, `tag.led`). */
  led: boolean;
  /** The tag has a button. */
  button: boolean;
  /**
   * `zlib` when the tag firmware inflates (OEPL `zlib_compression`); `none` otherwise (M2 tags
   * take G5 in OEPL, which storeedge does not encode, so they get raw planes).
   */
  compression: TagCompression;
  /** Quarter turns an OEPL AP applies to the buffer (`rotatebuffer`); images here are in reading orientation. */
  rotateBuffer: 0 | 1 | 2 | 3;
}

interface Definition {
  id: string;
  name: string;
  hwType: number;
  inches: number;
  width: number;
  height: number;
  palette: PaletteId;
  led: boolean;
  button: boolean;
  compression: TagCompression;
  rotateBuffer: 0 | 1 | 2 | 3;
}

// [OEPL resources/tagtypes/<hwType>.json]: name, width, height, colortable, zlib_compression, options, rotatebuffer.
const definitions: readonly Definition[] = [
  { id: 'm2-1.54-bwr', name: 'SoluM M2 1.54″ BWR', hwType: 0x00, inches: 1.54, width: 152, height: 152, palette: 'bwr', led: false, button: true, compression: 'none', rotateBuffer: 0 },
  { id: 'hs-2.13-bw', name: 'Hanshow 2.13″ BW', hwType: 0x54, inches: 2.13, width: 256, height: 128, palette: 'bw', led: true, button: false, compression: 'zlib', rotateBuffer: 1 },
  { id: 'hs-2.13-bwr', name: 'Hanshow 2.13″ BWR', hwType: 0x55, inches: 2.13, width: 256, height: 128, palette: 'bwr', led: true, button: false, compression: 'none', rotateBuffer: 1 },
  { id: 'm2-2.9-bwr', name: 'SoluM M2 2.9″ BWR', hwType: 0x01, inches: 2.9, width: 296, height: 128, palette: 'bwr', led: false, button: true, compression: 'none', rotateBuffer: 1 },
  { id: 'm3-2.9-bwr', name: 'SoluM M3 2.9″ BWR', hwType: 0x33, inches: 2.9, width: 384, height: 168, palette: 'bwr', led: true, button: true, compression: 'zlib', rotateBuffer: 1 },
  { id: 'm3-2.9-bwry', name: 'SoluM M3 2.9″ BWRY', hwType: 0x2b, inches: 2.9, width: 384, height: 168, palette: 'bwry', led: true, button: false, compression: 'zlib', rotateBuffer: 3 },
  { id: 'm2-4.2-bwr', name: 'SoluM M2 4.2″ BWR', hwType: 0x02, inches: 4.2, width: 400, height: 300, palette: 'bwr', led: false, button: true, compression: 'none', rotateBuffer: 0 },
  { id: 'm3-4.2-bwr', name: 'SoluM M3 4.2″ BWR', hwType: 0x34, inches: 4.2, width: 400, height: 300, palette: 'bwr', led: true, button: true, compression: 'zlib', rotateBuffer: 0 },
  { id: 'm3-4.2-bwy', name: 'SoluM M3 4.2″ BWY', hwType: 0x3c, inches: 4.2, width: 400, height: 300, palette: 'bwy', led: true, button: true, compression: 'zlib', rotateBuffer: 0 },
  { id: 'm2-7.5-bw', name: 'SoluM M2 7.5″ BW', hwType: 0x26, inches: 7.5, width: 640, height: 384, palette: 'bw', led: false, button: false, compression: 'zlib', rotateBuffer: 0 },
  { id: 'm3-7.5-bwr', name: 'SoluM M3 7.5″ BWR', hwType: 0x36, inches: 7.5, width: 800, height: 480, palette: 'bwr', led: true, button: true, compression: 'zlib', rotateBuffer: 0 },
  { id: 'hs-7.5-bwry', name: 'Hanshow 7.5″ BWRY', hwType: 0x6b, inches: 7.5, width: 800, height: 480, palette: 'bwry', led: true, button: true, compression: 'zlib', rotateBuffer: 2 },
];

function tagTypeOf(definition: Definition): TagType {
  const palette = palettes[definition.palette];
  const bpp = palette.colours.length === 2 ? 1 : 2;
  const layout: PixelLayout = palette.colours.length === 2 ? 'planes-1' : palette.colours.length === 3 ? 'planes-2' : 'packed-2';
  return Object.freeze({ ...definition, palette, bpp, layout });
}

/** Every supported tag type, smallest panel first. */
export const tagTypes: readonly TagType[] = Object.freeze(definitions.map(tagTypeOf));

const byId = new Map(tagTypes.map((t) => [t.id, t]));

/** The tag type with this id, or undefined when storeedge does not know it. */
export function tagType(id: string): TagType | undefined {
  return byId.get(id);
}

/** Bytes of the pixel data (without header) of one image of this tag type, uncompressed. */
export function imageDataBytes(type: Pick<TagType, 'width' | 'height' | 'layout'>): number {
  const pixels = type.width * type.height;
  switch (type.layout) {
    case 'planes-1':
      return Math.ceil(pixels / 8);
    case 'planes-2':
      return 2 * Math.ceil(pixels / 8);
    case 'packed-2':
      return Math.ceil(pixels / 4);
  }
}
