import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeCameraFrame, DEFAULT_MAX_CAMERA_FRAME_BYTES, encodeCameraFrame, CAMERA_FRAME_HEADER_BYTES, verifyJpeg } from '../../src/camera/frame.ts';
import { DriverError } from '../../src/errors.ts';

/** A small real JPEG: a coloured field with a disc, `width` × `height`. */
async function jpegOf(width = 32, height = 24, hue = 0): Promise<Buffer> {
  const disc = `<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${height / 3}" fill="rgb(20,${hue},200)"/></svg>`;
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: hue } } })
    .composite([{ input: Buffer.from(disc) }])
    .jpeg({ quality: 80 })
    .toBuffer();
}

/** A minimal body with JPEG framing only (SOI … EOI): enough for the synchronous checks. */
const framed = Buffer.from([0xff, 0xd8, 0xff, 0xd9]);

function codeOf(bytes: Uint8Array, maxFrameBytes?: number): string {
  const result = decodeCameraFrame(bytes, maxFrameBytes === undefined ? {} : { maxFrameBytes });
  return result.ok ? 'ok' : result.reject.code;
}

describe('camera frame wire format', () => {
  it('encodes the header as magic "SF", version 1, flags 0, uint64 BE capture time, then the JPEG', () => {
    const frame = encodeCameraFrame(0x01_0203_0405, framed);
    expect([...frame]).toEqual([0x53, 0x46, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0xff, 0xd8, 0xff, 0xd9]);
    expect(CAMERA_FRAME_HEADER_BYTES).toBe(12);
  });

  it('round-trips a real JPEG byte for byte, at ms timestamps up to 2^53 − 1', async () => {
    const jpeg = await jpegOf();
    for (const t of [0, 1_700_000_000_123, Number.MAX_SAFE_INTEGER]) {
      const decoded = decodeCameraFrame(encodeCameraFrame(t, jpeg));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) continue;
      expect(decoded.timestampMs).toBe(t);
      expect(decoded.jpeg.equals(jpeg)).toBe(true);
    }
  });

  it('returns a copy of the JPEG, not a view into the message buffer', async () => {
    const message = encodeCameraFrame(5, await jpegOf());
    const decoded = decodeCameraFrame(message);
    if (!decoded.ok) throw new Error('expected ok');
    message.fill(0, CAMERA_FRAME_HEADER_BYTES);
    expect(decoded.jpeg[0]).toBe(0xff);
    expect(decoded.jpeg.at(-1)).toBe(0xd9);
  });

  it('decodes a frame inside a larger buffer (a subarray, as MQTT payloads are)', () => {
    const frame = encodeCameraFrame(77, framed);
    const pool = Buffer.concat([Buffer.alloc(3, 0xaa), frame, Buffer.alloc(5, 0xbb)]);
    const decoded = decodeCameraFrame(pool.subarray(3, 3 + frame.length));
    expect(decoded).toEqual({ ok: true, timestampMs: 77, jpeg: framed });
  });

  it('refuses malformed headers with DRV_ERR_CAMERA_FRAME_MALFORMED', () => {
    const good = encodeCameraFrame(1_000, framed);
    const edit = (at: number, value: number) => {
      const copy = Buffer.from(good);
      copy[at] = value;
      return copy;
    };
    expect(codeOf(good)).toBe('ok');
    expect(codeOf(Buffer.alloc(0))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED');
    expect(codeOf(good.subarray(0, 11))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED');
    expect(codeOf(edit(0, 0x54))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED'); // magic
    expect(codeOf(edit(1, 0x00))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED');
    expect(codeOf(edit(2, 2))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED'); // version
    expect(codeOf(edit(3, 1))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED'); // reserved flags
    const late = Buffer.from(good);
    late.writeBigUInt64BE(2n ** 53n, 4);
    expect(codeOf(late)).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED');
    // A bare JPEG (a camera that forgot the header) starts FF D8, not "SF".
    expect(codeOf(Buffer.concat([Buffer.alloc(12, 0xff), framed]))).toBe('DRV_ERR_CAMERA_FRAME_MALFORMED');
  });

  it('refuses bodies without JPEG framing with DRV_ERR_CAMERA_JPEG_INVALID', () => {
    const header = encodeCameraFrame(1, framed).subarray(0, CAMERA_FRAME_HEADER_BYTES);
    const withBody = (body: number[]) => Buffer.concat([header, Buffer.from(body)]);
    expect(codeOf(header)).toBe('DRV_ERR_CAMERA_JPEG_INVALID'); // no body
    expect(codeOf(withBody([0xff, 0xd8, 0xd9]))).toBe('DRV_ERR_CAMERA_JPEG_INVALID'); // too short
    expect(codeOf(withBody([0x89, 0x50, 0x4e, 0x47, 0xff, 0xd9]))).toBe('DRV_ERR_CAMERA_JPEG_INVALID'); // PNG signature, no SOI
    expect(codeOf(withBody([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]))).toBe('DRV_ERR_CAMERA_JPEG_INVALID'); // truncated: no EOI
    expect(codeOf(withBody([0xff, 0xd8, 0xff, 0xd9, 0x00]))).toBe('DRV_ERR_CAMERA_JPEG_INVALID'); // trailing bytes after EOI
  });

  it('refuses frames over the size limit (512 KiB by default) before reading them, with DRV_ERR_CAMERA_FRAME_TOO_LARGE', () => {
    const body = Buffer.alloc(DEFAULT_MAX_CAMERA_FRAME_BYTES - CAMERA_FRAME_HEADER_BYTES, 0);
    body.set([0xff, 0xd8]);
    body.set([0xff, 0xd9], body.length - 2);
    const atLimit = encodeCameraFrame(1, body);
    expect(atLimit.length).toBe(DEFAULT_MAX_CAMERA_FRAME_BYTES);
    expect(codeOf(atLimit)).toBe('ok');
    expect(codeOf(Buffer.concat([atLimit, Buffer.alloc(1)]))).toBe('DRV_ERR_CAMERA_FRAME_TOO_LARGE');
    expect(codeOf(encodeCameraFrame(1, framed), 15)).toBe('DRV_ERR_CAMERA_FRAME_TOO_LARGE');
    expect(codeOf(encodeCameraFrame(1, framed), 16)).toBe('ok');
  });

  it('encodeCameraFrame refuses what no camera should send: bad timestamps and bodies that are not JPEG', () => {
    for (const t of [-1, 1.5, Number.NaN, 2 ** 53]) expect(() => encodeCameraFrame(t, framed)).toThrow(DriverError);
    expect(() => encodeCameraFrame(1, Buffer.from([1, 2, 3, 4]))).toThrow(/SOI/);
    expect(() => encodeCameraFrame(1, Buffer.from([0xff, 0xd8, 0xff]))).toThrow(DriverError);
  });
});

describe('verifyJpeg (sharp decode against the calibrated size)', () => {
  it('accepts a decodable JPEG of the calibrated size', async () => {
    expect(await verifyJpeg(await jpegOf(32, 24), { width: 32, height: 24 })).toBeUndefined();
  });

  it('refuses a JPEG of another size with DRV_ERR_CAMERA_FRAME_SIZE, naming both sizes', async () => {
    const reject = await verifyJpeg(await jpegOf(32, 24), { width: 320, height: 240 });
    expect(reject?.code).toBe('DRV_ERR_CAMERA_FRAME_SIZE');
    expect(reject?.reason).toContain('32 × 24');
    expect(reject?.reason).toContain('320 × 240');
    expect((await verifyJpeg(await jpegOf(24, 32), { width: 32, height: 24 }))?.code).toBe('DRV_ERR_CAMERA_FRAME_SIZE');
  });

  it('refuses corrupt JPEGs whose framing is intact with DRV_ERR_CAMERA_JPEG_INVALID', async () => {
    const jpeg = await jpegOf(64, 48, 90);
    const size = { width: 64, height: 48 };
    // Truncated entropy-coded data, EOI re-appended: the header reads, the decode fails.
    const truncated = Buffer.concat([jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), Buffer.from([0xff, 0xd9])]);
    // Garbage after the first segments.
    const garbled = Buffer.from(jpeg);
    for (let i = 300; i < garbled.length - 2; i++) garbled[i] = (i * 37) & 0xff;
    // SOI, junk, EOI.
    const junk = Buffer.concat([Buffer.from([0xff, 0xd8]), Buffer.alloc(500, 7), Buffer.from([0xff, 0xd9])]);
    for (const [name, bytes] of [['truncated', truncated], ['garbled', garbled], ['junk', junk]] as const) {
      const reject = await verifyJpeg(bytes, size);
      expect(reject?.code, name).toBe('DRV_ERR_CAMERA_JPEG_INVALID');
      expect(reject?.reason, name).not.toContain('\n');
    }
  });

  it('refuses another image format behind JPEG framing', async () => {
    const png = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#808080' } }).png().toBuffer();
    const disguised = Buffer.concat([Buffer.from([0xff, 0xd8]), png, Buffer.from([0xff, 0xd9])]);
    expect((await verifyJpeg(disguised, { width: 32, height: 24 }))?.code).toBe('DRV_ERR_CAMERA_JPEG_INVALID');
  });
});
