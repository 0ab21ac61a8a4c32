import { driverErrors, type Reject } from '../errors.ts';
import { crc16CcittFalse } from './crc16.ts';

/**
 * The storeedge shelf-controller serial frame, version 1 (docs/shelf-controller.md). All
 * multi-byte fields are little-endian, the native order of the Cortex-M and AVR parts such a
 * controller is built on.
 *
 *   0  2  sync 0xA5 0x5A
 *   2  1  protocol version (1)
 *   3  1  frame type
 *   4  2  sequence number (per sender, wraps at 65536)
 *   6  2  payload length N
 *   8  N  payload
 *   8+N 2 CRC-16/CCITT-FALSE over bytes 2 … 7+N (version through payload)
 *
 * Pure functions only: the stream parser (frame-parser.ts) and the serial shell use them.
 */
export const SHELF_SYNC = Object.freeze([0xa5, 0x5a] as const);
export const SHELF_PROTOCOL_VERSION = 1;
export const SHELF_HEADER_BYTES = 8;
export const SHELF_CRC_BYTES = 2;
/** Channels one controller reports; also the canonical weightPayload's limit. */
export const SHELF_MAX_CHANNELS = 64;
/** A device time fits in 48 bits: ms since the Unix epoch until the year 10889. */
export const SHELF_MAX_DEVICE_TIME_MS = 2 ** 48 - 1;
/** Raw readings are the ADC's signed 24-bit two's-complement output (HX711: 0x800000 … 0x7FFFFF). */
export const SHELF_RAW_MIN = -(2 ** 23);
export const SHELF_RAW_MAX = 2 ** 23 - 1;

const SAMPLE_FIXED_BYTES = 7; // time (6) + channel count (1)
const SAMPLE_CHANNEL_BYTES = 4; // raw i24 (3) + flags (1)
const STATUS_FIXED_BYTES = 20;

/** Payload length bounds per frame type; a header outside them is refused before its payload arrives. */
const frameLayouts = {
  sample: { code: 0x01, minPayload: SAMPLE_FIXED_BYTES + SAMPLE_CHANNEL_BYTES, maxPayload: SAMPLE_FIXED_BYTES + SAMPLE_CHANNEL_BYTES * SHELF_MAX_CHANNELS },
  status: { code: 0x02, minPayload: STATUS_FIXED_BYTES + 1, maxPayload: STATUS_FIXED_BYTES + SHELF_MAX_CHANNELS },
  command: { code: 0x10, minPayload: 1, maxPayload: 16 },
  ack: { code: 0x11, minPayload: 3, maxPayload: 16 },
  nak: { code: 0x12, minPayload: 4, maxPayload: 16 },
} as const;

export type ShelfFrameType = keyof typeof frameLayouts;
export const shelfFrameTypeCodes = Object.freeze(
  Object.fromEntries(Object.entries(frameLayouts).map(([type, layout]) => [type, layout.code])) as { readonly [T in ShelfFrameType]: number },
);
const layoutByCode = new Map<number, { type: ShelfFrameType; minPayload: number; maxPayload: number }>(
  Object.entries(frameLayouts).map(([type, layout]) => [layout.code, { type: type as ShelfFrameType, ...layout }]),
);

export const SHELF_MAX_PAYLOAD_BYTES = Math.max(...Object.values(frameLayouts).map((l) => l.maxPayload));
export const SHELF_MAX_FRAME_BYTES = SHELF_HEADER_BYTES + SHELF_MAX_PAYLOAD_BYTES + SHELF_CRC_BYTES;

/** Per-channel status bits of a sample (and of a status frame). Bits 2-7 are reserved: sent as 0, ignored. */
export const shelfChannelFlags = Object.freeze({
  /** The ADC output sits at a rail (0x7FFFFF or 0x800000): input over range, the cell is overloaded. */
  saturated: 0x01,
  /** No conversion arrived (HX711 DOUT did not go low within two periods): cell or ADC disconnected; the raw value means nothing. */
  adcError: 0x02,
});

/** Controller status bits of a status frame. Bits 3-7 reserved. */
export const shelfControllerFlags = Object.freeze({
  /** The host set the clock (SET_TIME): device times are ms since the Unix epoch, not since power-up. */
  clockSet: 0x01,
  /** A tare is being averaged. */
  tareBusy: 0x02,
  /** The last reset was the watchdog's. */
  watchdogReset: 0x04,
});

/** Command opcodes (first payload byte of a command frame; echoed in its ack or nak). */
export const shelfOpcodes = Object.freeze({ tare: 0x01, setRate: 0x02, requestStatus: 0x03, setTime: 0x04 });
export type ShelfOpcodeName = keyof typeof shelfOpcodes;

/** Why a controller refused a command (a nak's error byte). */
export const shelfNakErrors = Object.freeze({
  unknownOpcode: 0x01,
  badArgument: 0x02,
  badChannel: 0x03,
  unsupportedRate: 0x04,
  channelFault: 0x05,
  busy: 0x06,
});

export function shelfNakErrorName(error: number): string {
  const entry = Object.entries(shelfNakErrors).find(([, code]) => code === error);
  return entry === undefined ? `error 0x${hex2(error)}` : entry[0];
}

export interface ShelfChannelReading {
  /** ADC counts, signed 24-bit. Grams = (raw − offsetCounts) × gramsPerCount (calibration.ts). */
  raw: number;
  /** `shelfChannelFlags` bits. */
  flags: number;
}

/** One conversion of every channel; channel numbers are the array index. */
export interface ShelfSampleFrame {
  type: 'sample';
  seq: number;
  deviceTimeMs: number;
  channels: ShelfChannelReading[];
}

export interface ShelfStatusFrame {
  type: 'status';
  seq: number;
  deviceTimeMs: number;
  uptimeS: number;
  sampleRateHz: number;
  firmwareMajor: number;
  firmwareMinor: number;
  /** `shelfControllerFlags` bits. */
  flags: number;
  /** Host frames the controller dropped (bad sync, CRC, version or length); stops at 65535. */
  rxErrors: number;
  /** Board temperature in 0.1 °C, null when the board has no sensor (sent as 0x8000). */
  temperatureDeciC: number | null;
  /** `shelfChannelFlags` of each channel as of its last conversion. */
  channelFlags: number[];
}

export type ShelfCommand =
  /** Average the next conversions of one channel and report them as its zero (the host applies it). */
  | { op: 'tare'; ch: number }
  | { op: 'setRate'; hz: number }
  /** Answered by an ack and then a status frame. */
  | { op: 'requestStatus' }
  /** Set the device clock to ms since the Unix epoch; later frames carry epoch times. */
  | { op: 'setTime'; epochMs: number }
  /** A well-framed command the decoder does not understand (unknown opcode or wrong argument length): the controller naks it. */
  | { op: 'invalid'; opcode: number; args: Uint8Array };

export interface ShelfCommandFrame {
  type: 'command';
  seq: number;
  command: ShelfCommand;
}

export type ShelfAckResult =
  | { op: 'tare'; ch: number; zeroCounts: number }
  | { op: 'setRate'; hz: number }
  | { op: 'requestStatus' }
  | { op: 'setTime' };

export interface ShelfAckFrame {
  type: 'ack';
  seq: number;
  /** The sequence number of the command frame this answers. */
  ackSeq: number;
  result: ShelfAckResult;
}

export interface ShelfNakFrame {
  type: 'nak';
  seq: number;
  ackSeq: number;
  /** The refused command's opcode, as sent (it may be one the controller does not know). */
  opcode: number;
  /** `shelfNakErrors` code. */
  error: number;
}

export type ShelfFrame = ShelfSampleFrame | ShelfStatusFrame | ShelfCommandFrame | ShelfAckFrame | ShelfNakFrame;

/** A frame before its sender numbers it. */
export type ShelfFrameBody = ShelfFrame extends infer F ? (F extends ShelfFrame ? Omit<F, 'seq'> : never) : never;

/** A reject of the shelf protocol; `lost` is set on DRV_ERR_FRAME_SEQUENCE_GAP. */
export interface ShelfReject extends Reject {
  lost?: number;
}

export function isShelfReject(value: ShelfFrame | ShelfReject): value is ShelfReject {
  return 'code' in value;
}

// ── encoding ───────────────────────────────────────────────────────────────────────────────

/**
 * The bytes of one frame. Throws DriverError DRV_ERR_FRAME_MALFORMED when a field is out of
 * range: encoding runs on our own values, so a bad one is a caller bug, not device input.
 */
export function encodeFrame(frame: ShelfFrame): Uint8Array {
  checkInt('seq', frame.seq, 0, 0xffff);
  const payload = encodePayload(frame);
  const bytes = new Uint8Array(SHELF_HEADER_BYTES + payload.length + SHELF_CRC_BYTES);
  const view = new DataView(bytes.buffer);
  bytes[0] = SHELF_SYNC[0];
  bytes[1] = SHELF_SYNC[1];
  bytes[2] = SHELF_PROTOCOL_VERSION;
  bytes[3] = frameLayouts[frame.type].code;
  view.setUint16(4, frame.seq, true);
  view.setUint16(6, payload.length, true);
  bytes.set(payload, SHELF_HEADER_BYTES);
  const crcAt = SHELF_HEADER_BYTES + payload.length;
  view.setUint16(crcAt, crc16CcittFalse(bytes, 2, crcAt), true);
  return bytes;
}

function encodePayload(frame: ShelfFrame): Uint8Array {
  switch (frame.type) {
    case 'sample': {
      const n = frame.channels.length;
      checkInt('channel count', n, 1, SHELF_MAX_CHANNELS);
      const out = new Uint8Array(SAMPLE_FIXED_BYTES + SAMPLE_CHANNEL_BYTES * n);
      const view = new DataView(out.buffer);
      writeU48(view, 0, checkInt('deviceTimeMs', frame.deviceTimeMs, 0, SHELF_MAX_DEVICE_TIME_MS));
      out[6] = n;
      frame.channels.forEach(({ raw, flags }, ch) => {
        const at = SAMPLE_FIXED_BYTES + SAMPLE_CHANNEL_BYTES * ch;
        writeI24(view, at, checkInt(`channel ${ch} raw`, raw, SHELF_RAW_MIN, SHELF_RAW_MAX));
        out[at + 3] = checkInt(`channel ${ch} flags`, flags, 0, 0xff);
      });
      return out;
    }
    case 'status': {
      const n = frame.channelFlags.length;
      checkInt('channel count', n, 1, SHELF_MAX_CHANNELS);
      const out = new Uint8Array(STATUS_FIXED_BYTES + n);
      const view = new DataView(out.buffer);
      writeU48(view, 0, checkInt('deviceTimeMs', frame.deviceTimeMs, 0, SHELF_MAX_DEVICE_TIME_MS));
      view.setUint32(6, checkInt('uptimeS', frame.uptimeS, 0, 0xffff_ffff), true);
      view.setUint16(10, checkInt('sampleRateHz', frame.sampleRateHz, 0, 0xffff), true);
      out[12] = checkInt('firmwareMajor', frame.firmwareMajor, 0, 0xff);
      out[13] = checkInt('firmwareMinor', frame.firmwareMinor, 0, 0xff);
      out[14] = checkInt('flags', frame.flags, 0, 0xff);
      view.setUint16(15, checkInt('rxErrors', frame.rxErrors, 0, 0xffff), true);
      // 0x8000 (−32768) is "no sensor", so a real reading stops one above it.
      view.setInt16(17, frame.temperatureDeciC === null ? -0x8000 : checkInt('temperatureDeciC', frame.temperatureDeciC, -0x7fff, 0x7fff), true);
      out[19] = n;
      frame.channelFlags.forEach((flags, ch) => (out[STATUS_FIXED_BYTES + ch] = checkInt(`channel ${ch} flags`, flags, 0, 0xff)));
      return out;
    }
    case 'command':
      return encodeCommand(frame.command);
    case 'ack': {
      const data = encodeAckData(frame.result);
      const out = new Uint8Array(3 + data.length);
      new DataView(out.buffer).setUint16(0, checkInt('ackSeq', frame.ackSeq, 0, 0xffff), true);
      out[2] = shelfOpcodes[frame.result.op];
      out.set(data, 3);
      return out;
    }
    case 'nak': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint16(0, checkInt('ackSeq', frame.ackSeq, 0, 0xffff), true);
      out[2] = checkInt('opcode', frame.opcode, 0, 0xff);
      out[3] = checkInt('error', frame.error, 0, 0xff);
      return out;
    }
  }
}

function encodeCommand(command: ShelfCommand): Uint8Array {
  switch (command.op) {
    case 'tare':
      return Uint8Array.of(shelfOpcodes.tare, checkInt('tare channel', command.ch, 0, SHELF_MAX_CHANNELS - 1));
    case 'setRate': {
      const out = Uint8Array.of(shelfOpcodes.setRate, 0, 0);
      new DataView(out.buffer).setUint16(1, checkInt('sample rate', command.hz, 1, 0xffff), true);
      return out;
    }
    case 'requestStatus':
      return Uint8Array.of(shelfOpcodes.requestStatus);
    case 'setTime': {
      const out = new Uint8Array(7);
      out[0] = shelfOpcodes.setTime;
      writeU48(new DataView(out.buffer), 1, checkInt('epochMs', command.epochMs, 0, SHELF_MAX_DEVICE_TIME_MS));
      return out;
    }
    case 'invalid': {
      checkInt('opcode', command.opcode, 0, 0xff);
      checkInt('argument bytes', command.args.length, 0, frameLayouts.command.maxPayload - 1);
      return Uint8Array.of(command.opcode, ...command.args);
    }
  }
}

function encodeAckData(result: ShelfAckResult): Uint8Array {
  switch (result.op) {
    case 'tare': {
      const out = new Uint8Array(5);
      out[0] = checkInt('tare channel', result.ch, 0, SHELF_MAX_CHANNELS - 1);
      new DataView(out.buffer).setInt32(1, checkInt('zeroCounts', result.zeroCounts, SHELF_RAW_MIN, SHELF_RAW_MAX), true);
      return out;
    }
    case 'setRate': {
      const out = new Uint8Array(2);
      new DataView(out.buffer).setUint16(0, checkInt('sample rate', result.hz, 1, 0xffff), true);
      return out;
    }
    case 'requestStatus':
    case 'setTime':
      return new Uint8Array(0);
  }
}

// ── decoding ───────────────────────────────────────────────────────────────────────────────

export type ShelfScanResult =
  | { status: 'incomplete' }
  | { status: 'frame'; frame: ShelfFrame; size: number }
  /** `size`: bytes to drop — 1 (the sync byte, to resync) unless the CRC proved the frame's bounds. */
  | { status: 'reject'; reject: ShelfReject; size: number };

/**
 * Reads the frame that starts at `bytes[at]` (where the caller found the sync). Never throws.
 * The header is checked before waiting for the payload, so a corrupted length does not stall
 * the stream behind it longer than the largest frame its type allows.
 */
export function scanFrame(bytes: Uint8Array, at = 0): ShelfScanResult {
  const available = bytes.length - at;
  if (available < SHELF_HEADER_BYTES) return { status: 'incomplete' };
  const resync = (code: ShelfReject['code'], reason: string): ShelfScanResult => ({ status: 'reject', reject: { code, reason }, size: 1 });
  if (bytes[at] !== SHELF_SYNC[0] || bytes[at + 1] !== SHELF_SYNC[1]) return resync('DRV_ERR_FRAME_MALFORMED', 'no sync bytes A5 5A');
  const version = bytes[at + 2]!;
  if (version !== SHELF_PROTOCOL_VERSION) {
    return resync('DRV_ERR_FRAME_MALFORMED', `protocol version ${version}, this driver speaks ${SHELF_PROTOCOL_VERSION}`);
  }
  const typeCode = bytes[at + 3]!;
  const layout = layoutByCode.get(typeCode);
  if (layout === undefined) return resync('DRV_ERR_FRAME_MALFORMED', `unknown frame type 0x${hex2(typeCode)}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, available);
  const length = view.getUint16(6, true);
  if (length > layout.maxPayload) {
    return resync('DRV_ERR_FRAME_TOO_LONG', `${layout.type} frame announces ${length} payload bytes, at most ${layout.maxPayload} allowed`);
  }
  if (length < layout.minPayload) {
    return resync('DRV_ERR_FRAME_MALFORMED', `${layout.type} frame announces ${length} payload bytes, at least ${layout.minPayload} needed`);
  }
  if (layout.type === 'sample' && (length - SAMPLE_FIXED_BYTES) % SAMPLE_CHANNEL_BYTES !== 0) {
    return resync('DRV_ERR_FRAME_MALFORMED', `sample frame length ${length} is not 7 + 4 × channels`);
  }
  const size = SHELF_HEADER_BYTES + length + SHELF_CRC_BYTES;
  if (available < size) return { status: 'incomplete' };
  const sent = view.getUint16(SHELF_HEADER_BYTES + length, true);
  const computed = crc16CcittFalse(bytes, at + 2, at + SHELF_HEADER_BYTES + length);
  if (sent !== computed) {
    return resync('DRV_ERR_FRAME_CHECKSUM', `CRC 0x${hex4(sent)} sent, 0x${hex4(computed)} computed over ${layout.type} frame seq ${view.getUint16(4, true)}`);
  }
  const seq = view.getUint16(4, true);
  const payload = new DataView(bytes.buffer, bytes.byteOffset + at + SHELF_HEADER_BYTES, length);
  const decoded = decodePayload(layout.type, seq, payload);
  // The CRC vouches for the frame's bounds: a payload that is still wrong is dropped whole.
  return 'code' in decoded ? { status: 'reject', reject: decoded, size } : { status: 'frame', frame: decoded, size };
}

/** Decodes exactly one frame (no leading or trailing bytes). Never throws on any input. */
export function decodeFrame(bytes: Uint8Array): ShelfFrame | ShelfReject {
  const result = scanFrame(bytes, 0);
  if (result.status === 'incomplete') {
    return { code: 'DRV_ERR_FRAME_MALFORMED', reason: `truncated: ${bytes.length} bytes do not hold a whole frame` };
  }
  if (result.status === 'reject') return result.reject;
  if (result.size !== bytes.length) return { code: 'DRV_ERR_FRAME_MALFORMED', reason: `${bytes.length - result.size} bytes after the frame` };
  return result.frame;
}

function decodePayload(type: ShelfFrameType, seq: number, p: DataView): ShelfFrame | ShelfReject {
  const malformed = (reason: string): ShelfReject => ({ code: 'DRV_ERR_FRAME_MALFORMED', reason: `${type} frame seq ${seq}: ${reason}` });
  switch (type) {
    case 'sample': {
      const n = p.getUint8(6);
      if (n < 1 || n > SHELF_MAX_CHANNELS || p.byteLength !== SAMPLE_FIXED_BYTES + SAMPLE_CHANNEL_BYTES * n) {
        return malformed(`${n} channels do not fit ${p.byteLength} payload bytes`);
      }
      const channels: ShelfChannelReading[] = [];
      for (let ch = 0; ch < n; ch++) {
        const at = SAMPLE_FIXED_BYTES + SAMPLE_CHANNEL_BYTES * ch;
        channels.push({ raw: readI24(p, at), flags: p.getUint8(at + 3) });
      }
      return { type, seq, deviceTimeMs: readU48(p, 0), channels };
    }
    case 'status': {
      const n = p.getUint8(19);
      if (n < 1 || n > SHELF_MAX_CHANNELS || p.byteLength !== STATUS_FIXED_BYTES + n) {
        return malformed(`${n} channels do not fit ${p.byteLength} payload bytes`);
      }
      const temperature = p.getInt16(17, true);
      const channelFlags: number[] = [];
      for (let ch = 0; ch < n; ch++) channelFlags.push(p.getUint8(STATUS_FIXED_BYTES + ch));
      return {
        type,
        seq,
        deviceTimeMs: readU48(p, 0),
        uptimeS: p.getUint32(6, true),
        sampleRateHz: p.getUint16(10, true),
        firmwareMajor: p.getUint8(12),
        firmwareMinor: p.getUint8(13),
        flags: p.getUint8(14),
        rxErrors: p.getUint16(15, true),
        temperatureDeciC: temperature === -0x8000 ? null : temperature,
        channelFlags,
      };
    }
    case 'command':
      return { type, seq, command: decodeCommand(p) };
    case 'ack': {
      const ackSeq = p.getUint16(0, true);
      const opcode = p.getUint8(2);
      const data = p.byteLength - 3;
      switch (opcode) {
        case shelfOpcodes.tare:
          if (data !== 5) return malformed(`tare ack carries ${data} data bytes, 5 expected`);
          return { type, seq, ackSeq, result: { op: 'tare', ch: p.getUint8(3), zeroCounts: p.getInt32(4, true) } };
        case shelfOpcodes.setRate:
          if (data !== 2) return malformed(`setRate ack carries ${data} data bytes, 2 expected`);
          return { type, seq, ackSeq, result: { op: 'setRate', hz: p.getUint16(3, true) } };
        case shelfOpcodes.requestStatus:
        case shelfOpcodes.setTime:
          if (data !== 0) return malformed(`ack of opcode 0x${hex2(opcode)} carries ${data} data bytes, none expected`);
          return { type, seq, ackSeq, result: { op: opcode === shelfOpcodes.setTime ? 'setTime' : 'requestStatus' } };
        default:
          return malformed(`ack of unknown opcode 0x${hex2(opcode)}`);
      }
    }
    case 'nak':
      if (p.byteLength !== 4) return malformed(`nak carries ${p.byteLength} payload bytes, 4 expected`);
      return { type, seq, ackSeq: p.getUint16(0, true), opcode: p.getUint8(2), error: p.getUint8(3) };
  }
}

function decodeCommand(p: DataView): ShelfCommand {
  const opcode = p.getUint8(0);
  const args = p.byteLength - 1;
  if (opcode === shelfOpcodes.tare && args === 1) return { op: 'tare', ch: p.getUint8(1) };
  if (opcode === shelfOpcodes.setRate && args === 2) return { op: 'setRate', hz: p.getUint16(1, true) };
  if (opcode === shelfOpcodes.requestStatus && args === 0) return { op: 'requestStatus' };
  if (opcode === shelfOpcodes.setTime && args === 6) return { op: 'setTime', epochMs: readU48(p, 1) };
  return { op: 'invalid', opcode, args: new Uint8Array(p.buffer.slice(p.byteOffset + 1, p.byteOffset + p.byteLength)) };
}

// ── field helpers ──────────────────────────────────────────────────────────────────────────

function checkInt(name: string, value: number, lo: number, hi: number): number {
  if (!Number.isInteger(value) || value < lo || value > hi) {
    throw driverErrors.DRV_ERR_FRAME_MALFORMED(`cannot encode shelf frame: ${name} ${value} is not an integer in [${lo}, ${hi}]`);
  }
  return value;
}

function writeU48(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint16(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

function readU48(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint16(at + 4, true) * 0x1_0000_0000;
}

function writeI24(view: DataView, at: number, value: number): void {
  const u = value < 0 ? value + 0x100_0000 : value;
  view.setUint8(at, u & 0xff);
  view.setUint8(at + 1, (u >>> 8) & 0xff);
  view.setUint8(at + 2, (u >>> 16) & 0xff);
}

function readI24(view: DataView, at: number): number {
  const u = view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getUint8(at + 2) << 16);
  return u & 0x80_0000 ? u - 0x100_0000 : u;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}
