import { describe, expect, it } from 'vitest';
import { eventSchema } from '../../src/payloads.ts';

/** The tracker's frame as it crosses the MQTT boundary (docs/mqtt.md `evt/tracks`). */
describe('tracker tracks payload', () => {
  const schema = eventSchema('tracker', 'tracks')!;
  const frame = (track: Record<string, unknown>) => ({ at: 1_736_935_200_000, tracks: [{ id: 'trk-1', x: 1, y: 2, ...track }] });

  it('takes a track with hands and an appearance descriptor of 4-64 finite numbers, or none', () => {
    expect(schema.safeParse(frame({})).success).toBe(true);
    expect(schema.safeParse(frame({ hands: [{ x: 1, y: 2, z: 1 }], look: Array.from({ length: 16 }, (_, i) => i / 16) })).success).toBe(true);
    expect(schema.safeParse(frame({ look: [1, 0, 0, 0] })).success).toBe(true);
    expect(schema.safeParse(frame({ look: new Array(64).fill(0.125) })).success).toBe(true);
  });

  it('rejects a descriptor that is too short, too long, not numbers or not finite', () => {
    for (const look of [[1, 0, 0], new Array(65).fill(0), ['a', 0, 0, 0], [Number.NaN, 0, 0, 0], [Number.POSITIVE_INFINITY, 0, 0, 0], 'abcd', {}]) {
      expect(schema.safeParse(frame({ look })).success).toBe(false);
    }
  });
});
