import { driverErrors, type Reject } from '../errors.ts';

/**
 * The MagicRF M100 / YRM100 / JRD-4035 serial frame [research/rfid.md §1.1]:
 *
 *   BB | Type | Command | PL (u16 BE) | Parameters (PL bytes) | Checksum | 7E
 *
 * Checksum = low byte of the sum of Type, Command, both PL bytes and the parameters (the header
 * is not summed). No byte is escaped: BB and 7E may appear inside, so frames are cut by PL.
 */
export const M100_HEADER = 0xbb;
export const M100_END = 0x7e;
/** Bytes around the parameters: header, type, command, PL (2), checksum, end. */
export const M100_FRAME_OVERHEAD = 7;

/** Frame types: host → module commands, module → host responses, and unsolicited notices (tag reports). */
export const M100FrameType = {
  command: 0x00,
  response: 0x01,
  notice: 0x02,
} as const;
export type M100FrameTypeCode = (typeof M100FrameType)[keyof typeof M100FrameType];

export interface M100Frame {
  type: M100FrameTypeCode;
  command: number;
  params: Buffer;
}

export type M100FrameResult = { ok: true; frame: M100Frame } | { ok: false; reject: Reject };

export function isM100FrameType(value: number): value is M100FrameTypeCode {
  return value === M100FrameType.command || value === M100FrameType.response || value === M100FrameType.notice;
}

/** Low byte of the sum of `bytes[start…end)`. */
export function m100Checksum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i++) sum += bytes[i]!;
  return sum & 0xff;
}

/** Builds one frame. Throws DRV_ERR_FRAME_TOO_LONG when the parameters do not fit PL (u16). */
export function encodeM100Frame(frame: { type: M100FrameTypeCode; command: number; params?: Uint8Array }): Buffer {
  const params = frame.params ?? new Uint8Array(0);
  if (params.length > 0xffff) throw driverErrors.DRV_ERR_FRAME_TOO_LONG(`M100 parameters of ${params.length} bytes exceed PL's 65535`);
  const out = Buffer.alloc(params.length + M100_FRAME_OVERHEAD);
  out[0] = M100_HEADER;
  out[1] = frame.type;
  out[2] = frame.command & 0xff;
  out.writeUInt16BE(params.length, 3);
  out.set(params, 5);
  out[5 + params.length] = m100Checksum(out, 1, 5 + params.length);
  out[6 + params.length] = M100_END;
  return out;
}

/**
 * Checks one complete frame (exactly its bytes). The stream parser (m100-parser.ts) cuts frames
 * out of a byte stream with the same rules; this is for callers holding a single frame.
 */
export function decodeM100Frame(bytes: Uint8Array): M100FrameResult {
  const problem = m100FrameProblem(bytes, 0, bytes.length, true);
  if (problem !== undefined) return { ok: false, reject: problem };
  return { ok: true, frame: frameAt(bytes, 0) };
}

/**
 * What is wrong with the frame that starts at `start`, given `available` bytes from there, or
 * undefined when it is complete and sound. With `complete` false a frame still arriving is not a
 * problem (the parser waits for it); the header fields are judged as soon as they are in.
 */
export function m100FrameProblem(bytes: Uint8Array, start: number, available: number, complete: boolean, maxParamLength = 0xffff): Reject | undefined {
  if (available <= 0) return complete ? malformed('no bytes') : undefined;
  if (bytes[start] !== M100_HEADER) return malformed(`frame starts with 0x${hex(bytes[start])}, not the header 0xBB`);
  if (available < 5) return complete ? malformed(`truncated frame: ${available} bytes, the header alone needs 5`) : undefined;
  const type = bytes[start + 1]!;
  if (!isM100FrameType(type)) return malformed(`unknown frame type 0x${hex(type)} (0x00 command, 0x01 response, 0x02 notice)`);
  const paramLength = (bytes[start + 3]! << 8) | bytes[start + 4]!;
  if (paramLength > maxParamLength) {
    return { code: 'DRV_ERR_FRAME_TOO_LONG', reason: `PL ${paramLength} exceeds the ${maxParamLength}-byte limit` };
  }
  const total = paramLength + M100_FRAME_OVERHEAD;
  if (available < total) return complete ? malformed(`truncated frame: ${available} of ${total} bytes`) : undefined;
  if (complete && available > total) return malformed(`${available - total} bytes after the end of a ${total}-byte frame`);
  const end = bytes[start + total - 1]!;
  if (end !== M100_END) return malformed(`end byte is 0x${hex(end)}, not 0x7E (PL ${paramLength})`);
  const expected = m100Checksum(bytes, start + 1, start + total - 2);
  const actual = bytes[start + total - 2]!;
  if (expected !== actual) return { code: 'DRV_ERR_FRAME_CHECKSUM', reason: `checksum 0x${hex(actual)}, expected 0x${hex(expected)}` };
  return undefined;
}

/** The frame at `start`, already checked by m100FrameProblem. Copies the parameters. */
export function frameAt(bytes: Uint8Array, start: number): M100Frame {
  const paramLength = (bytes[start + 3]! << 8) | bytes[start + 4]!;
  return {
    type: bytes[start + 1]! as M100FrameTypeCode,
    command: bytes[start + 2]!,
    params: Buffer.from(bytes.subarray(start + 5, start + 5 + paramLength)),
  };
}

/** Total length of the frame at `start` (its PL must be in). */
export function frameLengthAt(bytes: Uint8Array, start: number): number {
  return ((bytes[start + 3]! << 8) | bytes[start + 4]!) + M100_FRAME_OVERHEAD;
}

function malformed(reason: string): Reject {
  return { code: 'DRV_ERR_FRAME_MALFORMED', reason };
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).toUpperCase().padStart(2, '0');
}
