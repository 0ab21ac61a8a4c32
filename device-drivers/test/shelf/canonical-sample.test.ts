import { describe, expect, it } from 'vitest';
import { weightPayload } from '../../src/payloads.ts';
import {
  countsToGrams,
  defaultChannelCalibration,
  gramsToCounts,
  HX711_5KG_GRAMS_PER_COUNT,
  sampleToWeightPayload,
} from '../../src/shelf/calibration.ts';
import { shelfChannelFlags, type ShelfSampleFrame } from '../../src/shelf/frame.ts';
import { decodeShelfJson } from '../../src/shelf/shelf-json.ts';

const calibration = (ch: number) => (ch === 1 ? { offsetCounts: 1_000, gramsPerCount: 0.01 } : defaultChannelCalibration);

describe('calibration', () => {
  it('the HX711 default span: 1 µV/g over 2.328 nV/count is 429.5 counts per gram', () => {
    expect(1 / HX711_5KG_GRAMS_PER_COUNT).toBeCloseTo(429.4967, 3);
    expect(countsToGrams(429_497, defaultChannelCalibration)).toBe(1_000);
  });

  it('grams = (raw − offsetCounts) × gramsPerCount, to 0.01 g, and gramsToCounts inverts it', () => {
    expect(countsToGrams(1_000, { offsetCounts: 1_000, gramsPerCount: 0.01 })).toBe(0);
    expect(countsToGrams(36_000, { offsetCounts: 1_000, gramsPerCount: 0.01 })).toBe(350);
    expect(countsToGrams(-9_000, { offsetCounts: 1_000, gramsPerCount: -0.01 })).toBe(100);
    for (const grams of [0, 0.5, 350, 4_999.99, -12.34]) {
      expect(countsToGrams(gramsToCounts(grams, defaultChannelCalibration), defaultChannelCalibration)).toBeCloseTo(grams, 2);
    }
  });
});

describe('sampleToWeightPayload', () => {
  const frame: ShelfSampleFrame = {
    type: 'sample',
    seq: 9,
    deviceTimeMs: 1_700_000_000_000,
    channels: [
      { raw: 429_497, flags: 0 },
      { raw: 36_000, flags: 0 },
      { raw: 2 ** 23 - 1, flags: shelfChannelFlags.saturated },
      { raw: 0, flags: shelfChannelFlags.adcError },
    ],
  };

  it('gives the canonical evt/weight shape and leaves faulty channels out, one DRV_ERR_CHANNEL_FAULT each', () => {
    const { payload, faults } = sampleToWeightPayload(frame, { at: 1_700_000_000_000, seq: 70_000, calibration });
    expect(payload).toEqual({
      at: 1_700_000_000_000,
      seq: 70_000,
      channels: [
        { ch: 0, grams: 1_000 },
        { ch: 1, grams: 350 },
      ],
    });
    expect(weightPayload.parse(payload)).toEqual(payload);
    expect(faults.map((f) => f.code)).toEqual(['DRV_ERR_CHANNEL_FAULT', 'DRV_ERR_CHANNEL_FAULT']);
    expect(faults[0]!.reason).toContain('channel 2 is saturated');
    expect(faults[1]!.reason).toContain('channel 3 reports an ADC error');
  });

  it('a calibration that puts a reading outside ±1 000 000 g is a channel fault, not a bad sample', () => {
    const { payload, faults } = sampleToWeightPayload(
      { ...frame, channels: [{ raw: 8_000_000, flags: 0 }, { raw: 1, flags: 0 }] },
      { at: 1, calibration: () => ({ offsetCounts: 0, gramsPerCount: 1 }) },
    );
    expect(payload).toEqual({ at: 1, channels: [{ ch: 1, grams: 1 }] });
    expect(faults).toEqual([{ code: 'DRV_ERR_CHANNEL_FAULT', reason: expect.stringContaining('outside ±1000000 g') }]);
  });

  it('no usable channel: no payload', () => {
    const { payload, faults } = sampleToWeightPayload({ ...frame, channels: [frame.channels[3]!] }, { at: 1, calibration });
    expect(payload).toBeUndefined();
    expect(faults).toHaveLength(1);
  });
});

describe('decodeShelfJson (the MQTT path)', () => {
  const utf8 = (text: string) => new TextEncoder().encode(text);

  it('decodes a native evt/weight payload to the same canonical shape as the serial path', () => {
    const serial = sampleToWeightPayload(
      { type: 'sample', seq: 4, deviceTimeMs: 1_700_000_000_000, channels: [{ raw: 429_497, flags: 0 }, { raw: 36_000, flags: 0 }] },
      { at: 1_700_000_000_000, seq: 4, calibration },
    ).payload;
    const json = decodeShelfJson(utf8('{"at":1700000000000,"seq":4,"channels":[{"ch":0,"grams":1000},{"ch":1,"grams":350}],"fw":"x"}'));
    expect(json).toEqual(serial);
    expect(decodeShelfJson('{"at":5,"channels":[{"ch":3,"grams":-1.5}]}')).toEqual({ at: 5, channels: [{ ch: 3, grams: -1.5 }] });
  });

  it('bad UTF-8 or not JSON: DRV_ERR_JSON_MALFORMED', () => {
    expect(decodeShelfJson(Uint8Array.of(0x7b, 0xff, 0x7d))).toMatchObject({ code: 'DRV_ERR_JSON_MALFORMED' });
    expect(decodeShelfJson(utf8('{"at":'))).toMatchObject({ code: 'DRV_ERR_JSON_MALFORMED' });
  });

  it('the wrong shape: DRV_ERR_JSON_SCHEMA naming the field', () => {
    expect(decodeShelfJson('{"at":5,"channels":[]}')).toMatchObject({ code: 'DRV_ERR_JSON_SCHEMA', reason: expect.stringMatching(/^channels: /) });
    expect(decodeShelfJson('{"at":5,"channels":[{"ch":300,"grams":1}]}')).toMatchObject({ code: 'DRV_ERR_JSON_SCHEMA', reason: expect.stringMatching(/^channels\.0\.ch: /) });
    expect(decodeShelfJson('{"at":-1,"channels":[{"ch":0,"grams":1}]}')).toMatchObject({ code: 'DRV_ERR_JSON_SCHEMA', reason: expect.stringMatching(/^at: /) });
    expect(decodeShelfJson('[1]')).toMatchObject({ code: 'DRV_ERR_JSON_SCHEMA', reason: expect.stringMatching(/^\(root\): /) });
  });
});
