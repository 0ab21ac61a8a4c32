import { describe, expect, it } from 'vitest';
import { isSimulatorError } from '../../src/errors.ts';
import { catalogAppearance, hslToHex, productAppearance, type ProductAppearance } from '../../src/vision/appearance.ts';
import { visionOptions } from '../../src/vision/options.ts';
import { COLA, HONEY, PAPRIKA, PASTA, SALTED, visionStore, WATER } from './vision-store.ts';

const item = (sku: string, name: string, unitWeightG = 300) => ({ sku, name, unitWeightG });
const variantKeys = ['sku', 'stripeColour', 'flavour'] as const;
const withoutVariant = (look: ProductAppearance) => Object.fromEntries(Object.entries(look).filter(([k]) => !(variantKeys as readonly string[]).includes(k)));

describe('productAppearance', () => {
  it('derives the same look from the same catalogue data, every time', () => {
    expect(productAppearance(item('a-1', 'Oat drink 1 l'))).toEqual(productAppearance(item('a-1', 'Oat drink 1 l')));
  });

  it('gives SKUs of a variant family one look but for the stripe and the flavour word', () => {
    const paprika = productAppearance(item('c-1', 'Crispo crisps - paprika', 158));
    const salted = productAppearance(item('c-2', 'Crispo crisps – salted', 156));
    expect(paprika.family).toBe('Crispo crisps');
    expect(paprika.flavour).toBe('paprika');
    expect(salted.flavour).toBe('salted');
    expect(withoutVariant(paprika)).toEqual(withoutVariant(salted));
    expect(paprika.stripeColour).not.toBe(salted.stripeColour);
  });

  it('gives products of different families different colours', () => {
    const looks = [...catalogAppearance(visionStore().catalog).values()];
    const bodies = new Set(looks.filter((l) => l.family !== 'Crispo crisps 150 g').map((l) => l.bodyColour));
    expect(bodies.size).toBe(looks.length - 2);
  });

  it('reads the package shape from the name, and falls back to one drawn from the family', () => {
    const looks = catalogAppearance(visionStore().catalog);
    expect(looks.get(PAPRIKA)!.shape).toBe('bag');
    expect(looks.get(COLA)!.shape).toBe('can');
    expect(looks.get(HONEY)!.shape).toBe('jar');
    expect(looks.get(PASTA)!.shape).toBe('box');
    expect(looks.get(WATER)!.shape).toBe('bottle');
    const unnamed = productAppearance(item('x-1', 'Zorblax'));
    expect(['box', 'bottle', 'can', 'bag', 'jar']).toContain(unnamed.shape);
    expect(productAppearance(item('x-2', 'Zorblax')).shape).toBe(unnamed.shape);
  });

  it('prints a short name: no sizes, units or package words, at most 14 characters', () => {
    expect(productAppearance(item('a', 'Cola 330 ml can')).label).toBe('Cola');
    expect(productAppearance(item('b', 'Dark chocolate 70% 100 g')).label).toBe('Dark chocolate');
    expect(productAppearance(item('c', 'Extra crunchy peanut butter')).label).toBe('Extra crunchy');
    expect(productAppearance(item('d', '500 g')).label).toBe('500 g');
  });

  it('sizes a unit by its weight, in steps, so flavours of near weights share a size', () => {
    const small = productAppearance(item('s', 'Tomato soup can', 200));
    const large = productAppearance(item('l', 'Tomato soup can', 800));
    expect(large.heightM).toBeGreaterThan(small.heightM);
    expect(productAppearance(item('a', 'Nuts bag', 150)).widthM).toBe(productAppearance(item('b', 'Nuts bag', 156)).widthM);
    expect(productAppearance(item('h', 'Huge box', 50_000)).heightM).toBeLessThanOrEqual(0.3);
  });

  it('renders SKUs it has never seen from their catalogue data alone', () => {
    const look = productAppearance(item('new-sku-9', 'Mango lassi - cardamom', 420));
    expect(look.flavour).toBe('cardamom');
    expect(look.bodyColour).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('lets an override pin any part of the look', () => {
    const look = productAppearance(item('p', 'Crispo crisps - paprika'), { shape: 'box', bodyColour: '#112233', flavour: 'hot', family: 'Other' });
    expect(look).toMatchObject({ shape: 'box', bodyColour: '#112233', flavour: 'hot', family: 'Other', label: 'Other' });
  });
});

describe('catalogAppearance', () => {
  it('spreads the stripe hues of a family round the colour wheel, so no two flavours share a colour', () => {
    const hue = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255) as [number, number, number];
      const max = Math.max(r, g, b);
      const d = max - Math.min(r, g, b);
      const h = max === r ? ((g - b) / d) % 6 : max === g ? (b - r) / d + 2 : (r - g) / d + 4;
      return (h * 60 + 360) % 360;
    };
    const flavours = ['a', 'b', 'c', 'd', 'e'].map((f, i) => item(`f-${i}`, `Fizz soda can - ${f}`));
    const looks = [...catalogAppearance(flavours).values()];
    for (const [i, a] of looks.entries()) {
      for (const b of looks.slice(i + 1)) {
        const apart = Math.abs(hue(a.stripeColour) - hue(b.stripeColour));
        expect(Math.min(apart, 360 - apart)).toBeGreaterThan((360 / 5) * (2 / 3) - 2); // rounding to 8 bits moves a hue by < 2°
      }
    }
    expect(new Set(looks.map((l) => l.bodyColour)).size).toBe(1);
  });

  it('applies overrides by SKU and refuses one for a SKU not in the catalogue', () => {
    const catalog = visionStore().catalog;
    expect(catalogAppearance(catalog, { [SALTED]: { stripeColour: '#00ff00' } }).get(SALTED)!.stripeColour).toBe('#00ff00');
    try {
      catalogAppearance(catalog, { 'no-such-sku': { shape: 'can' } });
      expect.unreachable();
    } catch (error) {
      expect(isSimulatorError(error, 'SIM_ERR_CONFIG_INVALID')).toBe(true);
      expect((error as Error).message).toMatch(/"no-such-sku" is not in the catalog/);
    }
  });
});

describe('hslToHex', () => {
  it('converts the primaries and greys', () => {
    expect(hslToHex(0, 1, 0.5)).toBe('#ff0000');
    expect(hslToHex(120, 1, 0.5)).toBe('#00ff00');
    expect(hslToHex(-120, 1, 0.5)).toBe('#0000ff');
    expect(hslToHex(42, 0, 0.5)).toBe('#808080');
  });
});

describe('visionOptions', () => {
  it('fills every default', () => {
    const options = visionOptions.parse({});
    expect(options).toMatchObject({ fps: 10, width: 320, height: 240, occlusionRate: 0.1, noiseSigma: 2, jpegQuality: 80 });
    expect(options.lighting).toEqual({ gain: [0.8, 1.2], colourCast: 0.05 });
    expect(options.placement).toMatchObject({ distanceM: 1.5 });
  });

  it('rejects unknown fields, reversed ranges and bad overrides', () => {
    expect(visionOptions.safeParse({ fsp: 10 }).success).toBe(false);
    expect(visionOptions.safeParse({ blur: { motionPx: [3, 1] } }).success).toBe(false);
    expect(visionOptions.safeParse({ appearance: { a: { bodyColour: 'red' } } }).success).toBe(false);
    expect(visionOptions.safeParse({ placement: { width: 640 } }).success).toBe(false);
  });
});
