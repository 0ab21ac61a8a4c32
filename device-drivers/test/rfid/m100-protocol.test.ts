import { describe, expect, it } from 'vitest';
import vectors from './fixtures/rfid-test-vectors.json' with { type: 'json' };
import {
  decodeM100Frame,
  decodeM100Message,
  encodeM100Frame,
  gen2Crc16,
  m100Commands,
  m100Responses,
  M100FrameType,
  type M100Frame,
  type M100MessageResult,
} from '../../src/rfid/index.ts';
import { hexBytes } from './helpers/seeded.ts';

const vector = (name: string): Buffer => hexBytes(vectors.m100.find((v) => v.name.startsWith(name))!.hex);

function frameOf(bytes: Uint8Array): M100Frame {
  const result = decodeM100Frame(bytes);
  if (!result.ok) throw new Error(`expected a frame: ${result.reject.reason}`);
  return result.frame;
}

function messageOf(bytes: Uint8Array): M100MessageResult {
  return decodeM100Message(frameOf(bytes));
}

describe('M100 frame: every byte vector of research/rfid-test-vectors.json', () => {
  it.each(vectors.m100.map((v) => [v.name, v.hex] as const))('%s decodes and re-encodes to the same bytes', (_name, hex) => {
    const bytes = hexBytes(hex);
    const frame = frameOf(bytes);
    expect(frame.params).toHaveLength(bytes.length - 7);
    expect(encodeM100Frame(frame)).toEqual(bytes);
  });

  it('command builders produce the vector bytes', () => {
    expect(m100Commands.singlePoll()).toEqual(vector('single inventory cmd'));
    expect(m100Commands.multiPoll(65_535)).toEqual(vector('multi inventory cmd, 65535'));
    expect(m100Commands.multiPoll(10_000)).toEqual(vector('multi inventory cmd, 10000'));
    expect(m100Commands.stopMultiPoll()).toEqual(vector('stop multi inventory cmd'));
    expect(m100Commands.setTxPower(26)).toEqual(vector('set tx power 26.00'));
    // research/rfid.md §1.1 "get HW version" (not in the JSON file).
    expect(m100Commands.getModuleInfo('hardware')).toEqual(hexBytes('BB 00 03 00 01 00 04 7E'));
  });

  it('response builders produce the vector bytes', () => {
    expect(m100Responses.stopped()).toEqual(vector('stop multi response ok'));
    expect(m100Responses.error(0x15)).toEqual(vector('error response: no tag'));
    expect(m100Responses.tagNotice({ epc: 'E28011704000021D35AE4008', rssi: -42, pc: 0x3400 })).toEqual(vector('tag notice'));
  });

  it('decodes the tag notice: signed RSSI, PC, EPC, and a Gen2 CRC-16 that matches', () => {
    expect(messageOf(vector('tag notice'))).toEqual({
      ok: true,
      message: { kind: 'tag', rssi: -42, pc: 0x3400, epc: 'E28011704000021D35AE4008', crc: 0xd444 },
    });
    expect(gen2Crc16(hexBytes('3400E28011704000021D35AE4008'))).toBe(0xd444);
  });

  it('decodes responses: stop acknowledged, module info, TX power, region, and commands for the module side', () => {
    expect(messageOf(vector('stop multi response ok'))).toEqual({ ok: true, message: { kind: 'ack', command: 0x28, status: 0 } });
    expect(messageOf(m100Responses.moduleInfo('software', 'V2.3.5'))).toEqual({ ok: true, message: { kind: 'module-info', info: 'software', text: 'V2.3.5' } });
    expect(messageOf(m100Responses.txPower(20))).toEqual({ ok: true, message: { kind: 'tx-power', dBm: 20 } });
    expect(messageOf(m100Responses.region('EU'))).toEqual({ ok: true, message: { kind: 'region', region: 'EU' } });
    expect(messageOf(m100Commands.setRegion('US'))).toEqual({ ok: true, message: { kind: 'command', command: 0x07, params: Buffer.of(0x02) } });
    expect(messageOf(vector('multi inventory cmd, 65535'))).toEqual({ ok: true, message: { kind: 'command', command: 0x27, params: Buffer.of(0x22, 0xff, 0xff) } });
  });

  it('an 0xFF error response is a DRV_ERR_DEVICE_ERROR reject with the module error code', () => {
    expect(messageOf(vector('error response: no tag'))).toEqual({
      ok: false,
      reject: { code: 'DRV_ERR_DEVICE_ERROR', reason: 'module error 0x15: inventory failed: no tag answered', deviceError: 0x15 },
    });
    const readError = messageOf(m100Responses.error(0xa3));
    expect(readError.ok || readError.reject).toMatchObject({ code: 'DRV_ERR_DEVICE_ERROR', deviceError: 0xa3, reason: expect.stringContaining('read error') });
  });
});

describe('M100 frame and message rejects', () => {
  const notice = vector('tag notice');

  it('a wrong checksum is DRV_ERR_FRAME_CHECKSUM', () => {
    const bad = Buffer.from(notice);
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 0x01;
    expect(decodeM100Frame(bad)).toEqual({ ok: false, reject: { code: 'DRV_ERR_FRAME_CHECKSUM', reason: 'checksum 0xC5, expected 0xC4' } });
  });

  it('a wrong end byte, header, type or length is DRV_ERR_FRAME_MALFORMED', () => {
    const end = Buffer.from(notice);
    end[end.length - 1] = 0x7f;
    expect(decodeM100Frame(end)).toMatchObject({ ok: false, reject: { code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('end byte is 0x7F') } });
    expect(decodeM100Frame(hexBytes('AA00220000227E'))).toMatchObject({ ok: false, reject: { reason: expect.stringContaining('not the header 0xBB') } });
    expect(decodeM100Frame(hexBytes('BB03220000257E'))).toMatchObject({ ok: false, reject: { reason: expect.stringContaining('unknown frame type 0x03') } });
    expect(decodeM100Frame(notice.subarray(0, 10))).toMatchObject({ ok: false, reject: { reason: 'truncated frame: 10 of 24 bytes' } });
    expect(decodeM100Frame(Buffer.concat([notice, Buffer.of(0)]))).toMatchObject({ ok: false, reject: { reason: expect.stringContaining('1 bytes after the end') } });
    expect(decodeM100Frame(Buffer.alloc(0))).toMatchObject({ ok: false, reject: { code: 'DRV_ERR_FRAME_MALFORMED', reason: 'no bytes' } });
  });

  it('a tag notice whose CRC does not match PC+EPC is DRV_ERR_TAG_CRC', () => {
    const corrupted = m100Responses.tagNotice({ epc: 'E28011704000021D35AE4008', rssi: -42, pc: 0x3400, crc: 0xd445 });
    expect(messageOf(corrupted)).toEqual({ ok: false, reject: { code: 'DRV_ERR_TAG_CRC', reason: 'tag CRC 0xd445, PC+EPC give 0xd444' } });
    // A flipped EPC bit with a recomputed frame checksum: the frame is sound, the tag data is not.
    const params = Buffer.from(frameOf(notice).params);
    params[5] = params[5]! ^ 0x10;
    expect(decodeM100Message({ type: M100FrameType.notice, command: 0x22, params })).toMatchObject({ ok: false, reject: { code: 'DRV_ERR_TAG_CRC' } });
  });

  it('a tag notice whose PC length disagrees with the frame, or with too short an EPC, is malformed', () => {
    const params = Buffer.from(frameOf(notice).params);
    params.writeUInt16BE(0x3000 + 0x0800, 1); // 7 words announced, 6 carried
    expect(decodeM100Message({ type: M100FrameType.notice, command: 0x22, params })).toMatchObject({
      ok: false,
      reject: { code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('announces 14 EPC bytes, the frame carries 12') },
    });
    expect(messageOf(m100Responses.tagNotice({ epc: 'ABCD', rssi: -60 }))).toMatchObject({ ok: false, reject: { reason: expect.stringContaining('EPC of 2 bytes') } });
    expect(decodeM100Message({ type: M100FrameType.notice, command: 0x22, params: Buffer.of(0xd6, 0x30) })).toMatchObject({ ok: false, reject: { code: 'DRV_ERR_FRAME_MALFORMED' } });
  });

  it('builders refuse arguments out of range', () => {
    expect(() => m100Commands.multiPoll(0)).toThrow(RangeError);
    expect(() => m100Commands.multiPoll(65_536)).toThrow(RangeError);
    expect(() => m100Commands.setTxPower(-1)).toThrow(RangeError);
    expect(() => encodeM100Frame({ type: 0, command: 0x22, params: new Uint8Array(65_536) })).toThrow(/exceed PL/);
  });
});
