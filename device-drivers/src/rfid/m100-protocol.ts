import { driverErrors, type Reject } from '../errors.ts';
import { gen2Crc16 } from './gen2-crc.ts';
import { encodeM100Frame, M100FrameType, type M100Frame } from './m100-frame.ts';
import { EPC_MAX_BYTES, EPC_MIN_BYTES } from './read.ts';

/**
 * M100 commands and the messages they produce, over the frame of m100-frame.ts. Codes, vectors
 * and error codes: research/rfid.md §1.1 (Loopack-Systems/YMR100 `Reader_Cmds.py`, MagicRF
 * M100 command set). Responses echo the command code; command 0xFF is the error response.
 */
export const M100Command = {
  moduleInfo: 0x03,
  setRegion: 0x07,
  getRegion: 0x08,
  singlePoll: 0x22,
  multiPoll: 0x27,
  stopMultiPoll: 0x28,
  setTxPower: 0xb6,
  getTxPower: 0xb7,
  error: 0xff,
} as const;

/** Module info selectors of command 0x03. */
export const m100InfoKinds = ['hardware', 'software', 'manufacturer'] as const;
export type M100InfoKind = (typeof m100InfoKinds)[number];

/** Region codes of commands 0x07/0x08. */
export const M100Region = { CN2: 0x01, US: 0x02, EU: 0x03, CN1: 0x04, JP: 0x05, KR: 0x06 } as const;
export type M100RegionName = keyof typeof M100Region;

/** Error codes carried by an 0xFF response [research/rfid.md §1.1]. */
export const m100ErrorMeanings: Readonly<Record<number, string>> = Object.freeze({
  0x09: 'read with no tag',
  0x0e: 'invalid parameter',
  0x10: 'write with no tag',
  0x15: 'inventory failed: no tag answered',
  0x16: 'access password error',
  0x17: 'invalid command',
  0x20: 'frequency hopping failed',
});

/** The "no tag" error a single poll answers when its round found nothing. */
export const M100_ERROR_NO_TAG = 0x15;
export const M100_ERROR_INVALID_COMMAND = 0x17;
export const M100_ERROR_INVALID_PARAMETER = 0x0e;

/** Multi-poll's first parameter byte, reserved and always 0x22. */
const MULTI_POLL_RESERVED = 0x22;

const command = (code: number, params?: Uint8Array) => encodeM100Frame({ type: M100FrameType.command, command: code, params });

/** Host → module command frames. Arguments out of range throw (they come from code, not devices). */
export const m100Commands = {
  /** One inventory round: tag notices, or the "no tag" error. `BB 00 22 00 00 22 7E` */
  singlePoll: () => command(M100Command.singlePoll),
  /** `count` inventory rounds (1-65535), tag notices as tags answer. `BB 00 27 00 03 22 CNT CS 7E` */
  multiPoll(count: number): Buffer {
    if (!Number.isInteger(count) || count < 1 || count > 0xffff) throw new RangeError(`multi-poll count ${count} must be 1-65535`);
    return command(M100Command.multiPoll, Uint8Array.of(MULTI_POLL_RESERVED, count >> 8, count & 0xff));
  },
  /** Ends a multi-poll; answered by `BB 01 28 00 01 00 2A 7E`. */
  stopMultiPoll: () => command(M100Command.stopMultiPoll),
  getModuleInfo: (kind: M100InfoKind) => command(M100Command.moduleInfo, Uint8Array.of(m100InfoKinds.indexOf(kind))),
  /** Transmit power in dBm, sent as centi-dBm (u16 BE): 26 dBm → `0A 28`. */
  setTxPower(dBm: number): Buffer {
    const centi = Math.round(dBm * 100);
    if (!Number.isFinite(dBm) || centi < 0 || centi > 0xffff) throw new RangeError(`TX power ${dBm} dBm is out of range`);
    return command(M100Command.setTxPower, Uint8Array.of(centi >> 8, centi & 0xff));
  },
  getTxPower: () => command(M100Command.getTxPower),
  setRegion: (region: M100RegionName) => command(M100Command.setRegion, Uint8Array.of(M100Region[region])),
  getRegion: () => command(M100Command.getRegion),
} as const;

const response = (code: number, params?: Uint8Array) => encodeM100Frame({ type: M100FrameType.response, command: code, params });

/** Module → host frames, for simulators and tests. */
export const m100Responses = {
  /**
   * A tag notice `BB 02 22 PL | RSSI | PC | EPC | CRC | CS 7E`. The PC defaults to one announcing
   * the EPC's length; the CRC is computed unless given (give a wrong one to simulate a bad read).
   */
  tagNotice(tag: { epc: string; rssi: number; pc?: number; crc?: number }): Buffer {
    const epc = Buffer.from(tag.epc, 'hex');
    if (epc.length * 2 !== tag.epc.length || epc.length % 2 !== 0) throw driverErrors.DRV_ERR_EPC_INVALID(`EPC "${tag.epc}" is not whole 16-bit words of hex`);
    const pc = tag.pc ?? pcForEpcLength(epc.length);
    const pcAndEpc = Buffer.concat([Buffer.from([pc >> 8, pc & 0xff]), epc]);
    const crc = tag.crc ?? gen2Crc16(pcAndEpc);
    const rssi = Math.max(-128, Math.min(127, Math.round(tag.rssi)));
    const params = Buffer.concat([Buffer.from([rssi & 0xff]), pcAndEpc, Buffer.from([crc >> 8, crc & 0xff])]);
    return encodeM100Frame({ type: M100FrameType.notice, command: M100Command.singlePoll, params });
  },
  /** A set command's answer: one status byte, 0x00 = success. */
  ack: (code: number, status = 0) => response(code, Uint8Array.of(status)),
  stopped: () => response(M100Command.stopMultiPoll, Uint8Array.of(0)),
  moduleInfo: (kind: M100InfoKind, text: string) =>
    response(M100Command.moduleInfo, Buffer.concat([Buffer.from([m100InfoKinds.indexOf(kind)]), Buffer.from(text, 'latin1')])),
  txPower(dBm: number): Buffer {
    const centi = Math.round(dBm * 100);
    return response(M100Command.getTxPower, Uint8Array.of(centi >> 8, centi & 0xff));
  },
  region: (region: M100RegionName) => response(M100Command.getRegion, Uint8Array.of(M100Region[region])),
  error: (errorCode: number) => response(M100Command.error, Uint8Array.of(errorCode)),
} as const;

/** A PC word announcing `bytes` of EPC: length in words in bits 15-11, other bits zero. */
export function pcForEpcLength(bytes: number): number {
  return ((bytes / 2) & 0x1f) << 11;
}

/** EPC length in bytes announced by a PC word (bits 15-11, in 16-bit words; bit 10, UMI, is not length). */
export function epcLengthFromPc(pc: number): number {
  return ((pc >> 11) & 0x1f) * 2;
}

export type M100Message =
  /** A tag answered an inventory round. RSSI is a signed byte, dBm. */
  | { kind: 'tag'; rssi: number; pc: number; epc: string; crc: number }
  /** A set command (or stop) succeeded: status 0. */
  | { kind: 'ack'; command: number; status: number }
  | { kind: 'module-info'; info: M100InfoKind; text: string }
  | { kind: 'tx-power'; dBm: number }
  | { kind: 'region'; region: M100RegionName }
  /** A host → module command (what a module, or its simulator, receives). */
  | { kind: 'command'; command: number; params: Buffer }
  /** Any other response or notice, passed through raw. */
  | { kind: 'other'; type: number; command: number; params: Buffer };

export type M100Reject = Reject & { deviceError?: number };

export type M100MessageResult = { ok: true; message: M100Message } | { ok: false; reject: M100Reject };

/**
 * Interprets a sound frame. Never throws: a tag notice whose PC, length or Gen2 CRC is wrong
 * is a reject (DRV_ERR_FRAME_MALFORMED, DRV_ERR_TAG_CRC), and an 0xFF error response is a
 * DRV_ERR_DEVICE_ERROR reject carrying the module's error code.
 */
export function decodeM100Message(frame: M100Frame): M100MessageResult {
  const { type, command: code, params } = frame;
  if (type === M100FrameType.command) return { ok: true, message: { kind: 'command', command: code, params } };
  if (type === M100FrameType.notice && code === M100Command.singlePoll) return decodeTagNotice(params);
  if (type === M100FrameType.notice) return { ok: true, message: { kind: 'other', type, command: code, params } };

  switch (code) {
    case M100Command.error: {
      const errorCode = params[0];
      if (errorCode === undefined) return malformed('error response without an error code');
      const meaning = m100ErrorMeanings[errorCode] ?? (errorCode >= 0xb0 ? 'write error' : errorCode >= 0xa0 ? 'read error' : 'unknown error');
      return {
        ok: false,
        reject: { code: 'DRV_ERR_DEVICE_ERROR', reason: `module error 0x${hex(errorCode)}: ${meaning}`, deviceError: errorCode },
      };
    }
    case M100Command.moduleInfo: {
      const kind = m100InfoKinds[params[0] ?? 0xff];
      if (kind === undefined) return malformed(`module info response with selector 0x${hex(params[0])}`);
      return { ok: true, message: { kind: 'module-info', info: kind, text: params.subarray(1).toString('latin1') } };
    }
    case M100Command.getTxPower:
      if (params.length !== 2) return malformed(`TX power response with ${params.length} parameter bytes, expected 2`);
      return { ok: true, message: { kind: 'tx-power', dBm: params.readUInt16BE(0) / 100 } };
    case M100Command.getRegion: {
      const region = (Object.keys(M100Region) as M100RegionName[]).find((name) => M100Region[name] === params[0]);
      if (params.length !== 1 || region === undefined) return malformed(`region response 0x${params.toString('hex')} is not a known region`);
      return { ok: true, message: { kind: 'region', region } };
    }
    case M100Command.stopMultiPoll:
    case M100Command.setTxPower:
    case M100Command.setRegion:
      if (params.length !== 1) return malformed(`response to 0x${hex(code)} with ${params.length} parameter bytes, expected a status byte`);
      return { ok: true, message: { kind: 'ack', command: code, status: params[0]! } };
    default:
      return { ok: true, message: { kind: 'other', type, command: code, params } };
  }
}

/** `RSSI(1) | PC(2) | EPC(n) | CRC(2)`, n from the PC [research/rfid.md §1.1]. */
function decodeTagNotice(params: Buffer): M100MessageResult {
  if (params.length < 5) return malformed(`tag notice with ${params.length} parameter bytes; RSSI, PC and CRC alone need 5`);
  const pc = params.readUInt16BE(1);
  const epcLength = epcLengthFromPc(pc);
  if (params.length !== 5 + epcLength) {
    return malformed(`tag notice PC 0x${pc.toString(16).padStart(4, '0')} announces ${epcLength} EPC bytes, the frame carries ${params.length - 5}`);
  }
  if (epcLength < EPC_MIN_BYTES || epcLength > EPC_MAX_BYTES) return malformed(`tag notice EPC of ${epcLength} bytes; ${EPC_MIN_BYTES}-${EPC_MAX_BYTES} allowed`);
  const crc = params.readUInt16BE(3 + epcLength);
  const computed = gen2Crc16(params.subarray(1, 3 + epcLength));
  if (crc !== computed) {
    return { ok: false, reject: { code: 'DRV_ERR_TAG_CRC', reason: `tag CRC 0x${crc.toString(16).padStart(4, '0')}, PC+EPC give 0x${computed.toString(16).padStart(4, '0')}` } };
  }
  return {
    ok: true,
    message: { kind: 'tag', rssi: params.readInt8(0), pc, epc: params.subarray(3, 3 + epcLength).toString('hex').toUpperCase(), crc },
  };
}

function malformed(reason: string): M100MessageResult {
  return { ok: false, reject: { code: 'DRV_ERR_FRAME_MALFORMED', reason } };
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).toUpperCase().padStart(2, '0');
}
