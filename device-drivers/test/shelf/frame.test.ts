import { describe, expect, it } from 'vitest';
import { DriverError } from '../../src/errors.ts';
import { CRC16_CCITT_FALSE, crc16CcittFalse } from '../../src/shelf/crc16.ts';
import {
  decodeFrame,
  encodeFrame,
  isShelfReject,
  SHELF_MAX_FRAME_BYTES,
  SHELF_RAW_MAX,
  SHELF_RAW_MIN,
  scanFrame,
  shelfNakErrorName,
  type ShelfAckResult,
  type ShelfCommand,
  type ShelfFrame,
} from '../../src/shelf/frame.ts';
import { hex, seeded, vectors } from './vectors.ts';

/** The textbook bit-at-a-time CRC-16/CCITT-FALSE, to check the table-driven one against. */
function bitwiseCrc(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Rebuilds a frame's CRC after a test edited its bytes. */
function withCrc(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const crc = crc16CcittFalse(out, 2, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >>> 8;
  return out;
}

describe('CRC-16/CCITT-FALSE', () => {
  it('gives the catalogue check value 0x29B1 for "123456789"', () => {
    expect(crc16CcittFalse(new TextEncoder().encode('123456789'))).toBe(0x29b1);
    expect(CRC16_CCITT_FALSE.check).toBe(0x29b1);
  });

  it('is the init value for no bytes, and covers only [start, end)', () => {
    expect(crc16CcittFalse(new Uint8Array(0))).toBe(0xffff);
    const padded = new TextEncoder().encode('xx123456789yy');
    expect(crc16CcittFalse(padded, 2, 11)).toBe(0x29b1);
  });

  it('matches the bitwise definition on random data', () => {
    const rng = seeded(16);
    for (let n = 0; n < 200; n++) {
      const bytes = Uint8Array.from({ length: rng.int(0, 300) }, () => rng.int(0, 255));
      expect(crc16CcittFalse(bytes)).toBe(bitwiseCrc(bytes));
    }
  });

  it('checks the tare vector by hand: CRC of 01 10 10 00 02 00 01 03 is 0xB528, sent as 28 B5', () => {
    expect(crc16CcittFalse(hex('01 10 10 00 02 00 01 03'))).toBe(0xb528);
  });
});

describe('shelf frame vectors', () => {
  for (const vector of vectors) {
    it(`${vector.name}: encodes to the vector and decodes back`, () => {
      const bytes = hex(vector.bytes);
      expect([...encodeFrame(vector.frame)]).toEqual([...bytes]);
      expect(decodeFrame(bytes)).toEqual(vector.frame);
    });
  }
});

describe('encodeFrame / decodeFrame round trips', () => {
  it('round-trips random frames of every type, including field extremes', () => {
    const rng = seeded(7);
    const frames: ShelfFrame[] = [
      { type: 'sample', seq: 0xffff, deviceTimeMs: 2 ** 48 - 1, channels: Array.from({ length: 64 }, (_, ch) => ({ raw: ch % 2 ? SHELF_RAW_MAX : SHELF_RAW_MIN, flags: 0xff })) },
      { type: 'status', seq: 0, deviceTimeMs: 0, uptimeS: 0xffff_ffff, sampleRateHz: 0xffff, firmwareMajor: 255, firmwareMinor: 0, flags: 7, rxErrors: 0xffff, temperatureDeciC: -0x7fff, channelFlags: Array(64).fill(3) },
      { type: 'command', seq: 1, command: { op: 'invalid', opcode: 0x7f, args: Uint8Array.of(1, 2, 3) } },
    ];
    for (let n = 0; n < 300; n++) {
      const seq = rng.int(0, 0xffff);
      switch (n % 5) {
        case 0:
          frames.push({
            type: 'sample',
            seq,
            deviceTimeMs: rng.int(0, 2 ** 40),
            channels: Array.from({ length: rng.int(1, 64) }, () => ({ raw: rng.int(SHELF_RAW_MIN, SHELF_RAW_MAX), flags: rng.int(0, 3) })),
          });
          break;
        case 1:
          frames.push({
            type: 'status',
            seq,
            deviceTimeMs: rng.int(0, 2 ** 40),
            uptimeS: rng.int(0, 2 ** 31),
            sampleRateHz: rng.pick([10, 60, 80]),
            firmwareMajor: rng.int(0, 9),
            firmwareMinor: rng.int(0, 99),
            flags: rng.int(0, 7),
            rxErrors: rng.int(0, 0xffff),
            temperatureDeciC: rng.chance(0.2) ? null : rng.int(-400, 850),
            channelFlags: Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 3)),
          });
          break;
        case 2:
          frames.push({
            type: 'command',
            seq,
            command: rng.pick<ShelfCommand>([
              { op: 'tare', ch: rng.int(0, 63) },
              { op: 'setRate', hz: rng.int(1, 0xffff) },
              { op: 'requestStatus' },
              { op: 'setTime', epochMs: rng.int(0, 2 ** 44) },
            ]),
          });
          break;
        case 3:
          frames.push({
            type: 'ack',
            seq,
            ackSeq: rng.int(0, 0xffff),
            result: rng.pick<ShelfAckResult>([
              { op: 'tare', ch: rng.int(0, 63), zeroCounts: rng.int(SHELF_RAW_MIN, SHELF_RAW_MAX) },
              { op: 'setRate', hz: rng.int(1, 0xffff) },
              { op: 'requestStatus' },
              { op: 'setTime' },
            ]),
          });
          break;
        default:
          frames.push({ type: 'nak', seq, ackSeq: rng.int(0, 0xffff), opcode: rng.int(0, 255), error: rng.int(1, 6) });
      }
    }
    for (const frame of frames) {
      const bytes = encodeFrame(frame);
      expect(bytes.length).toBeLessThanOrEqual(SHELF_MAX_FRAME_BYTES);
      expect(decodeFrame(bytes)).toEqual(frame);
    }
  });

  it('refuses to encode out-of-range fields with DRV_ERR_FRAME_MALFORMED', () => {
    const bad: ShelfFrame[] = [
      { type: 'sample', seq: 0x1_0000, deviceTimeMs: 0, channels: [{ raw: 0, flags: 0 }] },
      { type: 'sample', seq: 0, deviceTimeMs: 0, channels: [] },
      { type: 'sample', seq: 0, deviceTimeMs: 0, channels: [{ raw: SHELF_RAW_MAX + 1, flags: 0 }] },
      { type: 'sample', seq: 0, deviceTimeMs: 2 ** 48, channels: [{ raw: 0, flags: 0 }] },
      { type: 'sample', seq: 0, deviceTimeMs: 1.5, channels: [{ raw: 0, flags: 0 }] },
      { type: 'command', seq: 0, command: { op: 'tare', ch: 64 } },
      { type: 'command', seq: 0, command: { op: 'setRate', hz: 0 } },
      { type: 'status', seq: 0, deviceTimeMs: 0, uptimeS: 0, sampleRateHz: 10, firmwareMajor: 1, firmwareMinor: 0, flags: 0, rxErrors: 0, temperatureDeciC: -0x8000, channelFlags: [0] },
    ];
    for (const frame of bad) {
      expect(() => encodeFrame(frame)).toThrow(DriverError);
      try {
        encodeFrame(frame);
      } catch (error) {
        expect((error as DriverError).code).toBe('DRV_ERR_FRAME_MALFORMED');
      }
    }
  });
});

describe('decodeFrame rejects (never throws)', () => {
  const tare = hex('A5 5A 01 10 10 00 02 00 01 03 28 B5');

  it('a flipped payload byte is DRV_ERR_FRAME_CHECKSUM', () => {
    const bytes = tare.slice();
    bytes[9]! ^= 0x01;
    expect(decodeFrame(bytes)).toMatchObject({ code: 'DRV_ERR_FRAME_CHECKSUM' });
  });

  it('every single-byte error in every vector is caught', () => {
    for (const vector of vectors) {
      const bytes = hex(vector.bytes);
      for (let i = 0; i < bytes.length; i++) {
        for (const mask of [0x01, 0x80, 0xff, 0x5a]) {
          const bad = bytes.slice();
          bad[i]! ^= mask;
          const result = decodeFrame(bad);
          expect(isShelfReject(result), `${vector.name}, byte ${i} ^ ${mask}`).toBe(true);
        }
      }
    }
  });

  it('another protocol version, an unknown type and a short length are DRV_ERR_FRAME_MALFORMED', () => {
    const version = withCrc(tare);
    version[2] = 2;
    expect(decodeFrame(withCrc(version))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('version 2') });
    const type = tare.slice();
    type[3] = 0x33;
    expect(decodeFrame(withCrc(type))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('unknown frame type 0x33') });
    expect(decodeFrame(hex('A5 5A 01 11 00 00 02 00 01 02 00 00'))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('at least 3') });
  });

  it('a length over the type maximum is DRV_ERR_FRAME_TOO_LONG before the payload arrives', () => {
    // A command may carry at most 16 payload bytes; this header announces 0x0400.
    expect(scanFrame(hex('A5 5A 01 10 00 00 00 04'), 0)).toMatchObject({ status: 'reject', size: 1, reject: { code: 'DRV_ERR_FRAME_TOO_LONG' } });
    expect(decodeFrame(hex('A5 5A 01 01 00 00 08 01 00 00'))).toMatchObject({ code: 'DRV_ERR_FRAME_TOO_LONG' });
  });

  it('truncated input, trailing bytes and missing sync are DRV_ERR_FRAME_MALFORMED', () => {
    expect(decodeFrame(tare.subarray(0, 11))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('truncated') });
    expect(decodeFrame(new Uint8Array(0))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED' });
    expect(decodeFrame(Uint8Array.of(...tare, 0))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: '1 bytes after the frame' });
    expect(decodeFrame(Uint8Array.of(0, ...tare.subarray(1)))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('sync') });
  });

  it('a CRC-valid frame whose payload does not add up is dropped whole as DRV_ERR_FRAME_MALFORMED', () => {
    // A sample of length 11 (one channel) that claims 2 channels.
    const sample = encodeFrame({ type: 'sample', seq: 1, deviceTimeMs: 5, channels: [{ raw: 1, flags: 0 }] });
    sample[8 + 6] = 2;
    const result = scanFrame(withCrc(sample), 0);
    expect(result).toMatchObject({ status: 'reject', size: sample.length, reject: { code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('2 channels') } });
    // An ack for an opcode the host never sends.
    expect(decodeFrame(withCrc(hex('A5 5A 01 11 00 00 03 00 01 00 09 00 00')))).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('unknown opcode 0x09') });
  });

  it('a framed command the controller cannot understand decodes as op "invalid" (so it can nak it)', () => {
    const unknownOp = withCrc(hex('A5 5A 01 10 05 00 02 00 09 01 00 00'));
    expect(decodeFrame(unknownOp)).toEqual({ type: 'command', seq: 5, command: { op: 'invalid', opcode: 9, args: Uint8Array.of(1) } });
    const tareWithoutChannel = withCrc(hex('A5 5A 01 10 06 00 01 00 01 00 00'));
    expect(decodeFrame(tareWithoutChannel)).toMatchObject({ command: { op: 'invalid', opcode: 1 } });
  });

  it('names nak errors', () => {
    expect(shelfNakErrorName(4)).toBe('unsupportedRate');
    expect(shelfNakErrorName(0x42)).toBe('error 0x42');
  });
});
