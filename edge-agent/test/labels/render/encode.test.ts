import { deflateSync } from 'node:zlib';
import { imageDataBytes, tagType, tagTypes } from '@storeedge/device-drivers';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeLabelImage, encodeLabelImage, packLabelImage, toPng } from '../../../src/labels/render/index.ts';

/** Deterministic pseudo-random palette indices. */
function randomPixels(width: number, height: number, colours: number, seed: number) {
  let s = seed;
  const indices = new Uint8Array(width * height).map(() => {
    s = (s * 1_103_515_245 + 12_345) >>> 0;
    return (s >>> 16) % colours;
  });
  return { width, height, indices };
}

describe('label image encoding', () => {
  it('round-trips every tag type through encode and decode', () => {
    for (const type of tagTypes) {
      const pixels = randomPixels(type.width, type.height, type.palette.colours.length, type.width);
      const { encoded, encoding } = encodeLabelImage(pixels, type);
      expect(encoding).toBe(type.compression === 'zlib' ? 'zlib' : 'raw');
      const decoded = decodeLabelImage(encoded, encoding, type);
      expect(decoded.width).toBe(type.width);
      expect(Buffer.from(decoded.indices).equals(Buffer.from(pixels.indices))).toBe(true);
    }
  });

  it('writes the header and planes byte by byte (BWR: black plane, then red plane, MSB first)', () => {
    const type = tagType('m2-2.9-bwr')!;
    const pixels = { width: 296, height: 128, indices: new Uint8Array(296 * 128) };
    pixels.indices[0] = 1; // black at (0, 0)
    pixels.indices[9] = 2; // red at (9, 0)
    pixels.indices[296] = 1; // black at (0, 1): bit 296 = byte 37, MSB
    const image = packLabelImage(pixels, type);
    expect([...image.subarray(0, 6)]).toEqual([6, 296 & 0xff, 296 >> 8, 128, 0, 2]);
    const plane = 296 * 128 / 8;
    expect(image.length).toBe(6 + 2 * plane);
    expect(image[6]).toBe(0x80);
    expect(image[6 + 37]).toBe(0x80);
    expect(image[6 + plane + 1]).toBe(0x40);
    expect(image.subarray(6).reduce((n, b) => n + (b ? 1 : 0), 0)).toBe(3);
  });

  it('packs BWRY as 2-bit indices, first pixel in the high bits', () => {
    const type = tagType('m3-2.9-bwry')!;
    const pixels = { width: type.width, height: type.height, indices: new Uint8Array(type.width * type.height) };
    pixels.indices.set([1, 2, 3, 0]);
    const image = packLabelImage(pixels, type);
    expect(image[5]).toBe(2);
    expect(image.length).toBe(6 + type.width * type.height / 4);
    expect(image[6]).toBe(0b01101100);
  });

  it('prefixes zlib images with the u32 LE length of the uncompressed image', () => {
    const type = tagType('m3-4.2-bwr')!;
    const { encoded } = encodeLabelImage(randomPixels(400, 300, 3, 7), type);
    expect(encoded.readUInt32LE(0)).toBe(6 + imageDataBytes(type));
  });

  it('refuses bytes that are not an image of the tag type', () => {
    const type = tagType('m3-4.2-bwr')!;
    const pixels = randomPixels(400, 300, 3, 1);
    const { encoded } = encodeLabelImage(pixels, type);
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'no error';
    };
    expect(code(() => decodeLabelImage(encoded, 'zlib', tagType('m3-4.2-bwy')!))).toBe('no error'); // same geometry and bpp decodes
    expect(code(() => decodeLabelImage(encoded, 'zlib', tagType('m2-7.5-bw')!))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
    expect(code(() => decodeLabelImage(encoded.subarray(0, 100), 'zlib', type))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
    const wrongLength = Buffer.from(encoded);
    wrongLength.writeUInt32LE(12, 0);
    expect(code(() => decodeLabelImage(wrongLength, 'zlib', type))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
    const raw = packLabelImage(pixels, type);
    expect(code(() => decodeLabelImage(raw, 'raw', type))).toBe('no error');
    expect(code(() => decodeLabelImage(raw.subarray(1), 'raw', type))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
    const both = Buffer.from(raw);
    both[6] = 0x80;
    both[6 + 15_000] = 0x80;
    expect(code(() => decodeLabelImage(both, 'raw', type))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
    const header = Buffer.from(raw);
    header[5] = 1;
    expect(code(() => decodeLabelImage(header, 'raw', type))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
    const bomb = Buffer.concat([Buffer.from([0, 0, 1, 0]), deflateSync(Buffer.alloc(1 << 20))]);
    expect(code(() => decodeLabelImage(bomb, 'zlib', type))).toBe('EDGE_ERR_LABEL_IMAGE_INVALID');
  });

  it('previews exactly the decoded palette colours', async () => {
    const type = tagType('hs-7.5-bwry')!;
    const pixels = randomPixels(type.width, type.height, 4, 3);
    const png = await toPng(pixels, type);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([800, 480, 3]);
    for (const i of [0, 1, 2, 3, 4_000, 383_999]) {
      expect([data[i * 3], data[i * 3 + 1], data[i * 3 + 2]]).toEqual(type.palette.colours[pixels.indices[i]!]);
    }
  });
});
