import { deflateSync, inflateSync } from 'node:zlib';
import { imageDataBytes, type ImageEncoding, type TagType } from '@storeedge/device-drivers';
import sharp from 'sharp';
import { errors } from '../../errors.ts';

/**
 * Label images on the wire, as OpenEPaperLink packs them (research/esl.md §1.3):
 *
 *   image   = header, pixel data
 *   header  = [0] 0x06 (header length), [1..2] width u16 LE, [3..4] height u16 LE, [5] bpp (1 or 2)
 *   data    = planes-1 (BW): ceil(w·h/8) bytes, 1 bit a pixel, 1 = black
 *           | planes-2 (BWR, BWY): the black plane, then the accent plane (1 = red/yellow), each ceil(w·h/8) bytes
 *           | packed-2 (BWRY): ceil(w·h/4) bytes, 2-bit palette indices (0 white, 1 black, 2 red, 3 yellow)
 *   Bits run row by row from the top-left pixel, most significant bit first, with no row padding.
 *
 *   encoding 'raw'  = image
 *   encoding 'zlib' = u32 LE length of image, zlib stream of image (OEPL data type 0x30)
 *
 * The bytes are what the tag gets and what `contentHashOf` hashes; `decodeLabelImage` reads them
 * back, and the preview PNG is made from the decoded indices, never from the render.
 */

export const IMAGE_HEADER_BYTES = 6;

/** The palette-index image a label's bytes decode to. */
export interface LabelPixels {
  width: number;
  height: number;
  /** One palette index a pixel, row-major. */
  indices: Uint8Array;
}

/** The encoding a tag type takes: zlib where its firmware inflates, raw otherwise. */
export function encodingFor(type: TagType): ImageEncoding {
  return type.compression === 'zlib' ? 'zlib' : 'raw';
}

/** Packs palette indices into the tag type's image bytes (header and planes), uncompressed. */
export function packLabelImage(pixels: LabelPixels, type: TagType): Buffer {
  const { width, height, indices } = pixels;
  if (width !== type.width || height !== type.height || indices.length !== width * height) {
    throw new RangeError(`a ${type.id} image is ${type.width} × ${type.height}; got ${width} × ${height} (${indices.length} pixels)`);
  }
  const out = Buffer.alloc(IMAGE_HEADER_BYTES + imageDataBytes(type));
  out[0] = IMAGE_HEADER_BYTES;
  out.writeUInt16LE(width, 1);
  out.writeUInt16LE(height, 3);
  out[5] = type.bpp;
  const colours = type.palette.colours.length;
  const count = width * height;
  if (type.layout === 'packed-2') {
    for (let i = 0; i < count; i++) {
      const index = indices[i]!;
      if (index >= colours) throw new RangeError(`pixel ${i} has index ${index}; ${type.palette.id} has ${colours} colours`);
      out[IMAGE_HEADER_BYTES + (i >> 2)]! |= index << (6 - 2 * (i & 3));
    }
    return out;
  }
  const planeBytes = Math.ceil(count / 8);
  for (let i = 0; i < count; i++) {
    const index = indices[i]!;
    if (index >= colours) throw new RangeError(`pixel ${i} has index ${index}; ${type.palette.id} has ${colours} colours`);
    if (index === 0) continue;
    // Index 1 (black) sets the black plane; index 2 (red or yellow) the accent plane.
    const plane = index === 1 ? 0 : planeBytes;
    out[IMAGE_HEADER_BYTES + plane + (i >> 3)]! |= 0x80 >> (i & 7);
  }
  return out;
}

/** The bytes a `tag.image` carries for these pixels, in the tag type's encoding. */
export function encodeLabelImage(pixels: LabelPixels, type: TagType): { encoded: Buffer; encoding: ImageEncoding } {
  const image = packLabelImage(pixels, type);
  const encoding = encodingFor(type);
  if (encoding === 'raw') return { encoded: image, encoding };
  const length = Buffer.alloc(4);
  length.writeUInt32LE(image.length, 0);
  // Level 9: the radio time and tag battery a byte costs outweigh the CPU (OEPL uses miniz's "level 10").
  return { encoded: Buffer.concat([length, deflateSync(image, { level: 9, memLevel: 9 })]), encoding };
}

/** Reads a tag's image bytes back into palette indices; EDGE_ERR_LABEL_IMAGE_INVALID when they are not a `type` image. */
export function decodeLabelImage(encoded: Uint8Array, encoding: ImageEncoding, type: TagType): LabelPixels {
  const invalid = (why: string) => errors.EDGE_ERR_LABEL_IMAGE_INVALID(`not a ${type.id} image: ${why}`);
  let image: Buffer;
  if (encoding === 'zlib') {
    if (encoded.length < 5) throw invalid(`${encoded.length} bytes is too short for a zlib image`);
    const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    const declared = bytes.readUInt32LE(0);
    try {
      image = inflateSync(bytes.subarray(4), { maxOutputLength: IMAGE_HEADER_BYTES + imageDataBytes(type) + 1 });
    } catch (error) {
      throw invalid(`the zlib stream does not inflate (${(error as Error).message})`);
    }
    if (image.length !== declared) throw invalid(`the length prefix says ${declared} bytes, the stream inflates to ${image.length}`);
  } else image = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);

  const expected = IMAGE_HEADER_BYTES + imageDataBytes(type);
  if (image.length !== expected) throw invalid(`${image.length} bytes, expected ${expected}`);
  if (image[0] !== IMAGE_HEADER_BYTES) throw invalid(`header length byte is ${image[0]}, expected ${IMAGE_HEADER_BYTES}`);
  const width = image.readUInt16LE(1);
  const height = image.readUInt16LE(3);
  if (width !== type.width || height !== type.height) throw invalid(`header says ${width} × ${height}, the tag is ${type.width} × ${type.height}`);
  if (image[5] !== type.bpp) throw invalid(`header says ${image[5]} bpp, the tag takes ${type.bpp}`);

  const count = width * height;
  const indices = new Uint8Array(count);
  if (type.layout === 'packed-2') {
    for (let i = 0; i < count; i++) indices[i] = (image[IMAGE_HEADER_BYTES + (i >> 2)]! >> (6 - 2 * (i & 3))) & 3;
    return { width, height, indices };
  }
  const planeBytes = Math.ceil(count / 8);
  for (let i = 0; i < count; i++) {
    const mask = 0x80 >> (i & 7);
    const black = (image[IMAGE_HEADER_BYTES + (i >> 3)]! & mask) !== 0;
    const accent = type.layout === 'planes-2' && (image[IMAGE_HEADER_BYTES + planeBytes + (i >> 3)]! & mask) !== 0;
    if (black && accent) throw invalid(`pixel (${i % width}, ${Math.floor(i / width)}) is set in both planes`);
    indices[i] = black ? 1 : accent ? 2 : 0;
  }
  return { width, height, indices };
}

/** The palette colours of an index image, RGB, 3 bytes a pixel. */
export function toRgb(pixels: LabelPixels, type: TagType): Buffer {
  const rgb = Buffer.alloc(pixels.width * pixels.height * 3);
  const colours = type.palette.colours;
  for (let i = 0; i < pixels.indices.length; i++) {
    const c = colours[pixels.indices[i]!]!;
    rgb[i * 3] = c[0];
    rgb[i * 3 + 1] = c[1];
    rgb[i * 3 + 2] = c[2];
  }
  return rgb;
}

/** A PNG preview of decoded label pixels in the tag's palette colours: exactly what the tag shows. */
export async function toPng(pixels: LabelPixels, type: TagType): Promise<Buffer> {
  return sharp(toRgb(pixels, type), { raw: { width: pixels.width, height: pixels.height, channels: 3 } })
    .png({ compressionLevel: 9, adaptiveFiltering: false })
    .toBuffer();
}
