import { imageDataBytes, MAX_IMAGE_BYTES, paletteIds, tagType, tagTypes } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';

describe('tag types registry', () => {
  it('has the 1.54″, 2.13″, 2.9″, 4.2″ and 7.5″ sizes and uses every palette', () => {
    const sizes = new Set(tagTypes.map((t) => t.inches));
    for (const inches of [1.54, 2.13, 2.9, 4.2, 7.5]) expect(sizes.has(inches), `${inches}″`).toBe(true);
    const used = new Set(tagTypes.map((t) => t.palette.id));
    for (const id of paletteIds) expect(used.has(id), id).toBe(true);
  });

  it('gives each type an id of family-size-palette, index 0 white and 1 black, and bpp from the colour count', () => {
    for (const t of tagTypes) {
      expect(t.id).toMatch(new RegExp(`^[a-z0-9]+-${t.inches}-${t.palette.id}$`));
      expect(t.palette.colours[0]).toEqual([255, 255, 255]);
      expect(t.palette.colours[1]).toEqual([0, 0, 0]);
      expect(t.bpp).toBe(t.palette.colours.length === 2 ? 1 : 2);
      expect(tagType(t.id)).toBe(t);
    }
    expect(new Set(tagTypes.map((t) => t.id)).size).toBe(tagTypes.length);
    expect(tagType('nope')).toBeUndefined();
  });

  it('matches the raw image sizes OEPL lists (oepl-definitions.h) and stays under MAX_IMAGE_BYTES', () => {
    // RAW_2BPP: 5 776 B for 1.54″, 9 472 B for 2.9″ (M2), 30 000 B for 4.2″.
    expect(imageDataBytes(tagType('m2-1.54-bwr')!)).toBe(5776);
    expect(imageDataBytes(tagType('m2-2.9-bwr')!)).toBe(9472);
    expect(imageDataBytes(tagType('m2-4.2-bwr')!)).toBe(30_000);
    expect(imageDataBytes({ width: 152, height: 152, layout: 'planes-1' })).toBe(2888);
    for (const t of tagTypes) expect(6 + imageDataBytes(t)).toBeLessThanOrEqual(MAX_IMAGE_BYTES);
  });
});
