import type { ShelfFrame } from '../../src/shelf/frame.ts';

/** Hex bytes → Uint8Array ("A5 5A 01 …"). */
export function hex(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (b) => Number.parseInt(b, 16));
}

/**
 * One vector per frame type (docs/shelf-controller.md "Test vectors"). The bytes were laid out
 * by hand with Python's struct.pack and the CRC taken from binascii.crc_hqx(body, 0xFFFF),
 * which is CRC-16/CCITT-FALSE — independent of the code under test.
 */
export const vectors: readonly { name: string; bytes: string; frame: ShelfFrame }[] = [
  {
    name: 'sample: 2 channels, epoch time, ch 1 with an ADC error',
    // time 1 700 000 000 123 = 0x018B_CFE5_687B; ch0 raw 429 497 = 0x068DB9; ch1 raw −1 = 0xFFFFFF, flags 0x02
    bytes: 'A5 5A 01 01 02 01 0F 00 7B 68 E5 CF 8B 01 02 B9 8D 06 00 FF FF FF 02 F3 8B',
    frame: {
      type: 'sample',
      seq: 0x0102,
      deviceTimeMs: 1_700_000_000_123,
      channels: [
        { raw: 429_497, flags: 0 },
        { raw: -1, flags: 0x02 },
      ],
    },
  },
  {
    name: 'status: 21.5 °C, clock set, 3 rx errors',
    bytes: 'A5 5A 01 02 07 00 16 00 D2 04 00 00 00 00 01 00 00 00 0A 00 01 02 01 03 00 D7 00 02 00 01 3A E6',
    frame: {
      type: 'status',
      seq: 7,
      deviceTimeMs: 1_234,
      uptimeS: 1,
      sampleRateHz: 10,
      firmwareMajor: 1,
      firmwareMinor: 2,
      flags: 0x01,
      rxErrors: 3,
      temperatureDeciC: 215,
      channelFlags: [0, 1],
    },
  },
  {
    name: 'status: no temperature sensor (0x8000)',
    bytes: 'A5 5A 01 02 08 00 15 00 D2 04 00 00 00 00 01 00 00 00 0A 00 01 02 00 00 00 00 80 01 00 3D F7',
    frame: {
      type: 'status',
      seq: 8,
      deviceTimeMs: 1_234,
      uptimeS: 1,
      sampleRateHz: 10,
      firmwareMajor: 1,
      firmwareMinor: 2,
      flags: 0,
      rxErrors: 0,
      temperatureDeciC: null,
      channelFlags: [0],
    },
  },
  { name: 'command: tare channel 3', bytes: 'A5 5A 01 10 10 00 02 00 01 03 28 B5', frame: { type: 'command', seq: 0x10, command: { op: 'tare', ch: 3 } } },
  { name: 'command: set rate 80 Hz', bytes: 'A5 5A 01 10 11 00 03 00 02 50 00 F2 CF', frame: { type: 'command', seq: 0x11, command: { op: 'setRate', hz: 80 } } },
  { name: 'command: request status', bytes: 'A5 5A 01 10 12 00 01 00 03 A1 14', frame: { type: 'command', seq: 0x12, command: { op: 'requestStatus' } } },
  {
    name: 'command: set time',
    bytes: 'A5 5A 01 10 13 00 07 00 04 7B 68 E5 CF 8B 01 70 7F',
    frame: { type: 'command', seq: 0x13, command: { op: 'setTime', epochMs: 1_700_000_000_123 } },
  },
  {
    name: 'ack: tare channel 3, zero −12 345 counts',
    bytes: 'A5 5A 01 11 00 02 08 00 10 00 01 03 C7 CF FF FF A2 08',
    frame: { type: 'ack', seq: 0x0200, ackSeq: 0x10, result: { op: 'tare', ch: 3, zeroCounts: -12_345 } },
  },
  { name: 'ack: set rate 80 Hz', bytes: 'A5 5A 01 11 01 02 05 00 11 00 02 50 00 63 24', frame: { type: 'ack', seq: 0x0201, ackSeq: 0x11, result: { op: 'setRate', hz: 80 } } },
  { name: 'ack: request status', bytes: 'A5 5A 01 11 02 02 03 00 12 00 03 27 91', frame: { type: 'ack', seq: 0x0202, ackSeq: 0x12, result: { op: 'requestStatus' } } },
  { name: 'nak: set rate, unsupported rate', bytes: 'A5 5A 01 12 03 02 04 00 11 00 02 04 27 FE', frame: { type: 'nak', seq: 0x0203, ackSeq: 0x11, opcode: 2, error: 4 } },
];

/** A small seeded PRNG (mulberry32) for the noise tests; the simulators' Rng lives above this package. */
export interface SeededRandom {
  next(): number;
  int(lo: number, hi: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

export function seeded(seed: number): SeededRandom {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return { next, int, chance: (p) => next() < p, pick: (items) => items[int(0, items.length - 1)]! };
}
