import sharp from 'sharp';
import { driverErrors, type Reject } from '../errors.ts';

/**
 * The wire format of a camera frame on `…/dev/{cameraId}/evt/frame` (docs/mqtt.md): a 12-byte
 * header, then the JPEG bytes, nothing else. The camera id is the topic's device id; the only
 * other thing a frame carries is its capture time. No ground truth, no labels: models see only
 * pixels.
 *
 * ```
 * offset  size  field
 *      0     2  magic "SF" (0x53 0x46)
 *      2     1  version, 1
 *      3     1  flags, 0 (reserved)
 *      4     8  capture time, ms since the epoch, uint64 big-endian (at most 2^53 − 1)
 *     12     n  JPEG: starts with SOI (FF D8), ends with EOI (FF D9)
 * ```
 */
export const CAMERA_FRAME_MAGIC = Object.freeze([0x53, 0x46] as const);
export const CAMERA_FRAME_VERSION = 1;
export const CAMERA_FRAME_HEADER_BYTES = 12;
/** Default limit on a whole frame payload (header + JPEG): a 640 × 480 frame at quality 80 is ~40–80 KiB. */
export const DEFAULT_MAX_CAMERA_FRAME_BYTES = 512 * 1024;
/** SOI, one marker segment and EOI: anything shorter cannot hold an image. */
const MIN_JPEG_BYTES = 4;

// JPEG markers [ITU-T T.81 §B.1.1.3, Table B.1].
const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;

/** A decoded frame: the capture time and its JPEG (a copy, not a view into the message buffer). */
export interface DecodedCameraFrame {
  timestampMs: number;
  jpeg: Buffer;
}

export type CameraFrameDecodeResult = ({ ok: true } & DecodedCameraFrame) | { ok: false; reject: Reject };

export interface CameraFrameDecodeOptions {
  /** Largest payload accepted (header + JPEG), bytes. Default 512 KiB. */
  maxFrameBytes?: number;
}

const refuse = (code: Reject['code'], reason: string): CameraFrameDecodeResult => ({ ok: false, reject: { code, reason } });

/**
 * Header and framing checks of one frame message, synchronous and cheap (no pixel is decoded):
 * size limit, magic, version, flags, timestamp range, JPEG SOI and EOI. `verifyJpeg` decodes
 * the image; a frame must pass both before anything uses it.
 */
export function decodeCameraFrame(bytes: Uint8Array, options: CameraFrameDecodeOptions = {}): CameraFrameDecodeResult {
  const max = options.maxFrameBytes ?? DEFAULT_MAX_CAMERA_FRAME_BYTES;
  if (bytes.length > max) return refuse('DRV_ERR_CAMERA_FRAME_TOO_LARGE', `frame of ${bytes.length} bytes exceeds ${max}`);
  if (bytes.length < CAMERA_FRAME_HEADER_BYTES) return refuse('DRV_ERR_CAMERA_FRAME_MALFORMED', `frame of ${bytes.length} bytes is shorter than its ${CAMERA_FRAME_HEADER_BYTES}-byte header`);
  if (bytes[0] !== CAMERA_FRAME_MAGIC[0] || bytes[1] !== CAMERA_FRAME_MAGIC[1]) {
    return refuse('DRV_ERR_CAMERA_FRAME_MALFORMED', `frame does not start with the magic "SF" (53 46), got ${hex(bytes, 0, 2)}`);
  }
  if (bytes[2] !== CAMERA_FRAME_VERSION) return refuse('DRV_ERR_CAMERA_FRAME_MALFORMED', `frame version ${bytes[2]} is not supported (expected ${CAMERA_FRAME_VERSION})`);
  if (bytes[3] !== 0) return refuse('DRV_ERR_CAMERA_FRAME_MALFORMED', `frame flags ${bytes[3]} are reserved and must be 0`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const timestamp = view.getBigUint64(4, false);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return refuse('DRV_ERR_CAMERA_FRAME_MALFORMED', `frame timestamp ${timestamp} ms is past 2^53 − 1`);
  const jpegLength = bytes.length - CAMERA_FRAME_HEADER_BYTES;
  if (jpegLength < MIN_JPEG_BYTES) return refuse('DRV_ERR_CAMERA_JPEG_INVALID', `frame carries ${jpegLength} JPEG bytes`);
  const jpeg = bytes.subarray(CAMERA_FRAME_HEADER_BYTES);
  if (jpeg[0] !== MARKER || jpeg[1] !== SOI) return refuse('DRV_ERR_CAMERA_JPEG_INVALID', `JPEG does not start with SOI (FF D8), got ${hex(jpeg, 0, 2)}`);
  if (jpeg[jpegLength - 2] !== MARKER || jpeg[jpegLength - 1] !== EOI) {
    return refuse('DRV_ERR_CAMERA_JPEG_INVALID', `JPEG does not end with EOI (FF D9), got ${hex(jpeg, jpegLength - 2, 2)} (truncated?)`);
  }
  return { ok: true, timestampMs: Number(timestamp), jpeg: Buffer.from(jpeg) };
}

/**
 * A frame message for a JPEG captured at `timestampMs`. Throws DRV_ERR_CONFIG_INVALID for a
 * timestamp that is not a safe non-negative integer or bytes that are not framed as a JPEG (the
 * camera's own bug, not bad input from the network).
 */
export function encodeCameraFrame(timestampMs: number, jpeg: Uint8Array): Buffer {
  if (!Number.isSafeInteger(timestampMs) || timestampMs < 0) throw driverErrors.DRV_ERR_CONFIG_INVALID(`frame timestamp ${timestampMs} is not a non-negative integer of ms`);
  const n = jpeg.length;
  if (n < MIN_JPEG_BYTES || jpeg[0] !== MARKER || jpeg[1] !== SOI || jpeg[n - 2] !== MARKER || jpeg[n - 1] !== EOI) {
    throw driverErrors.DRV_ERR_CONFIG_INVALID('frame body must be a JPEG from SOI (FF D8) to EOI (FF D9)');
  }
  const out = Buffer.allocUnsafe(CAMERA_FRAME_HEADER_BYTES + n);
  out[0] = CAMERA_FRAME_MAGIC[0];
  out[1] = CAMERA_FRAME_MAGIC[1];
  out[2] = CAMERA_FRAME_VERSION;
  out[3] = 0;
  out.writeBigUInt64BE(BigInt(timestampMs), 4);
  out.set(jpeg, CAMERA_FRAME_HEADER_BYTES);
  return out;
}

/** The image size a frame must have: the camera's calibrated width and height. */
export interface FrameSize {
  width: number;
  height: number;
}

/**
 * Decodes a frame's JPEG fully (in libuv's thread pool, off the event loop) and checks it is a
 * baseline/progressive JPEG of exactly `expected` size. The size is read from the header first,
 * so a frame claiming a huge image is refused before any pixel is decoded. Undefined when the
 * frame is good.
 *
 * What decoding catches: a corrupt header, truncated or garbled entropy-coded data (libjpeg's
 * "premature end of data segment", "extraneous bytes before marker" and the like — sharp's
 * `failOn: 'warning'` turns those into errors). What it cannot: a flipped bit inside the
 * entropy-coded data that still decodes (JPEG has no checksum); that frame shows a smear.
 */
export async function verifyJpeg(jpeg: Buffer, expected: FrameSize): Promise<Reject | undefined> {
  let width: number | undefined;
  let height: number | undefined;
  try {
    const meta = await sharp(jpeg, { failOn: 'warning' }).metadata();
    if (meta.format !== 'jpeg') return { code: 'DRV_ERR_CAMERA_JPEG_INVALID', reason: `frame body is ${meta.format}, not JPEG` };
    width = meta.width;
    height = meta.height;
  } catch (error) {
    return { code: 'DRV_ERR_CAMERA_JPEG_INVALID', reason: `JPEG header cannot be read: ${firstLine(error)}` };
  }
  if (width !== expected.width || height !== expected.height) {
    return { code: 'DRV_ERR_CAMERA_FRAME_SIZE', reason: `frame is ${width} × ${height} px, the camera is calibrated for ${expected.width} × ${expected.height}` };
  }
  try {
    await sharp(jpeg, { failOn: 'warning', limitInputPixels: expected.width * expected.height }).raw().toBuffer();
  } catch (error) {
    return { code: 'DRV_ERR_CAMERA_JPEG_INVALID', reason: `JPEG cannot be decoded: ${firstLine(error)}` };
  }
  return undefined;
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split('\n')[0]!;
}

function hex(bytes: Uint8Array, from: number, length: number): string {
  return [...bytes.subarray(Math.max(0, from), from + length)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}
