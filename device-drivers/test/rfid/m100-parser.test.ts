import { describe, expect, it } from 'vitest';
import vectors from './fixtures/rfid-test-vectors.json' with { type: 'json' };
import { encodeM100Frame, M100FrameParser, m100Commands, m100Responses, type M100ParseEvent } from '../../src/rfid/index.ts';
import { hexBytes, SeededRandom } from './helpers/seeded.ts';

const notice = hexBytes(vectors.m100.find((v) => v.name.startsWith('tag notice'))!.hex);
const stopped = m100Responses.stopped();
const noTag = m100Responses.error(0x15);

/** Feeds `chunks` then flushes; returns every event. */
function parseAll(chunks: readonly Uint8Array[], parser = new M100FrameParser()): M100ParseEvent[] {
  const events = chunks.flatMap((chunk) => parser.push(chunk));
  return [...events, ...parser.flush()];
}

const framesOf = (events: M100ParseEvent[]) => events.filter((e) => e.kind === 'frame').map((e) => encodeM100Frame(e.frame));
const rejectsOf = (events: M100ParseEvent[]) => events.flatMap((e) => (e.kind === 'reject' ? [e.reject] : []));

/** Every byte is in exactly one event, in order. */
function expectContiguous(events: M100ParseEvent[], totalBytes: number): void {
  let offset = 0;
  for (const event of events) {
    expect(event.offset).toBe(offset);
    expect(event.length).toBeGreaterThan(0);
    offset += event.length;
  }
  expect(offset).toBe(totalBytes);
}

/** All ways of cutting `bytes` into chunks at every single split point, plus byte by byte. */
function chunkings(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.of(b))];
  for (let cut = 1; cut < bytes.length; cut++) out.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return out;
}

describe('M100FrameParser', () => {
  it('cuts several frames out of one chunk', () => {
    const stream = Buffer.concat([notice, stopped, noTag]);
    const events = parseAll([stream]);
    expect(framesOf(events)).toEqual([notice, stopped, noTag]);
    expect(rejectsOf(events)).toEqual([]);
    expectContiguous(events, stream.length);
  });

  it('finds the same frames however the stream is chunked (every split point, byte by byte)', () => {
    const stream = Buffer.concat([notice, stopped, m100Commands.multiPoll(0xffff), noTag]);
    for (const chunks of chunkings(stream)) {
      const events = parseAll(chunks);
      expect(framesOf(events)).toEqual([notice, stopped, m100Commands.multiPoll(0xffff), noTag]);
      expect(rejectsOf(events)).toEqual([]);
    }
  });

  it('holds back only the frame still arriving', () => {
    const parser = new M100FrameParser();
    expect(parser.push(notice.subarray(0, 9))).toEqual([]);
    expect(parser.buffered).toBe(9);
    const events = parser.push(Buffer.concat([notice.subarray(9), stopped.subarray(0, 3)]));
    expect(framesOf(events)).toEqual([notice]);
    expect(parser.buffered).toBe(3);
  });

  it('reads 0xBB and 0x7E inside an EPC as data: frames are cut by PL', () => {
    const tricky = m100Responses.tagNotice({ epc: 'BB7EBB7E7EBBBB027E7E0000', rssi: -66 });
    const stream = Buffer.concat([tricky, notice]);
    for (const chunks of chunkings(stream)) expect(framesOf(parseAll(chunks))).toEqual([tricky, notice]);
  });

  it('accepts a frame of exactly the maximum PL, and drops a longer one at once without waiting for its bytes', () => {
    const parser = new M100FrameParser({ maxParamLength: 40 });
    const largest = encodeM100Frame({ type: 1, command: 0x03, params: Buffer.alloc(40, 0x41) });
    expect(framesOf(parser.push(largest))).toEqual([largest]);
    // PL 0x0100 > 40: rejected as soon as the header is in; the next frame is not held back.
    const events = parser.push(Buffer.concat([hexBytes('BB 01 03 01 00'), notice]));
    expect(rejectsOf(events)).toEqual([{ code: 'DRV_ERR_FRAME_TOO_LONG', reason: 'PL 256 exceeds the 40-byte limit' }]);
    expect(framesOf(events)).toEqual([notice]);
  });

  it('drops leading garbage (00 55), a bad checksum and a bad end byte, and keeps the frames around them', () => {
    const badChecksum = Buffer.from(notice);
    badChecksum[badChecksum.length - 2] = badChecksum[badChecksum.length - 2]! ^ 0xff;
    const badEnd = Buffer.from(stopped);
    badEnd[badEnd.length - 1] = 0x00;
    const stream = Buffer.concat([hexBytes('00 55'), notice, badChecksum, stopped, badEnd, noTag]);
    for (const chunks of chunkings(stream)) {
      const events = parseAll(chunks);
      expect(framesOf(events)).toEqual([notice, stopped, noTag]);
      expect(rejectsOf(events).map((r) => r.code)).toEqual(['DRV_ERR_FRAME_MALFORMED', 'DRV_ERR_FRAME_CHECKSUM', 'DRV_ERR_FRAME_MALFORMED']);
      expectContiguous(events, stream.length);
    }
  });

  it('finds a frame that starts inside a bad candidate (the resync goes to the next 0xBB, not past the bad length)', () => {
    // A stray 0xBB announcing PL 20 swallows the start of the real frame behind it.
    const stray = hexBytes('BB 01 22 00 14');
    const events = parseAll([Buffer.concat([stray, notice, stopped])]);
    expect(framesOf(events)).toEqual([notice, stopped]);
    expect(rejectsOf(events)).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'reject', offset: 0, length: stray.length });
  });

  it('flush() reports a frame cut off by the end of the stream, and still decodes frames behind its header', () => {
    const parser = new M100FrameParser();
    // A header announcing 17 parameter bytes, then a complete short frame, then silence.
    const events = [...parser.push(Buffer.concat([hexBytes('BB 02 22 00 11 D6'), stopped])), ...parser.flush()];
    expect(framesOf(events)).toEqual([stopped]);
    expect(rejectsOf(events)).toEqual([{ code: 'DRV_ERR_FRAME_MALFORMED', reason: 'truncated frame: 14 of 24 bytes' }]);
    expect(parser.buffered).toBe(0);
    expect(parseAll([hexBytes('BB 02')])).toMatchObject([{ kind: 'reject', reject: { reason: 'truncated frame: 2 bytes, the header alone needs 5' } }]);
  });

  it('rejects the other framings of the vector file (Chafon, R2000 A0, LLRP) without decoding a frame, and loses no M100 frame around them', () => {
    const foreign = [...vectors.chafon, ...vectors.r2000, ...vectors.llrp].map((v) => hexBytes(v.hex));
    for (const bytes of foreign) {
      const events = parseAll([bytes]);
      expect(framesOf(events)).toEqual([]);
      expect(rejectsOf(events).length).toBeGreaterThan(0);
      expectContiguous(events, bytes.length);
    }
    const stream = Buffer.concat(foreign.flatMap((bytes) => [notice, bytes]).concat([notice]));
    expect(framesOf(parseAll([stream]))).toEqual(Array.from({ length: foreign.length + 1 }, () => notice));
  });
});

describe('M100FrameParser under random noise (seeded, property style)', () => {
  interface Planted {
    bytes: Buffer;
    offset: number;
    corrupted: boolean;
  }

  function randomFrame(random: SeededRandom): Buffer {
    switch (random.int(0, 4)) {
      case 0:
      case 1: {
        // EPC bytes drawn with extra 0xBB / 0x7E to stress the framing.
        const words = random.int(2, 8);
        const epc = Buffer.from(Array.from({ length: words * 2 }, () => (random.chance(0.2) ? random.pick([0xbb, 0x7e]) : random.int(0, 255))));
        return m100Responses.tagNotice({ epc: epc.toString('hex'), rssi: random.int(-90, -20) });
      }
      case 2:
        return m100Responses.stopped();
      case 3:
        return m100Responses.error(random.pick([0x15, 0x17, 0x0e]));
      default:
        return m100Commands.multiPoll(random.int(1, 0xffff));
    }
  }

  function noise(random: SeededRandom): Buffer {
    return Buffer.from(Array.from({ length: random.int(1, 12) }, () => (random.chance(0.25) ? random.pick([0xbb, 0x7e, 0x00, 0x02]) : random.int(0, 255))));
  }

  /** Damages a frame: a byte changed, inserted or removed (never a no-op). */
  function corrupt(random: SeededRandom, frame: Buffer): Buffer {
    // Inserting before the header would leave the frame intact behind the noise: start at 1.
    const at = random.int(1, frame.length - 1);
    switch (random.int(0, 2)) {
      case 0: {
        const out = Buffer.from(frame);
        out[at] = (out[at]! + random.int(1, 255)) & 0xff;
        return out;
      }
      case 1:
        return Buffer.concat([frame.subarray(0, at), random.bytes(random.int(1, 3)), frame.subarray(at)]);
      default:
        return Buffer.concat([frame.subarray(0, at), frame.subarray(at + 1)]);
    }
  }

  function randomChunks(random: SeededRandom, stream: Buffer): Buffer[] {
    const chunks: Buffer[] = [];
    for (let at = 0; at < stream.length; ) {
      const size = random.int(1, 40);
      chunks.push(stream.subarray(at, at + size));
      at += size;
    }
    return chunks;
  }

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('seed %i: every intact frame is decoded at its offset, every corrupted one is counted, every byte accounted for', (seed) => {
    const random = new SeededRandom(seed);
    const parts: Buffer[] = [];
    const planted: Planted[] = [];
    let length = 0;
    for (let i = 0; i < 400; i++) {
      if (random.chance(0.3)) {
        const bytes = noise(random);
        parts.push(bytes);
        length += bytes.length;
      }
      const original = randomFrame(random);
      const corrupted = random.chance(0.15);
      const bytes = corrupted ? corrupt(random, original) : original;
      planted.push({ bytes, offset: length, corrupted });
      parts.push(bytes);
      length += bytes.length;
    }
    const stream = Buffer.concat(parts);
    const events = parseAll(randomChunks(random, stream));

    expectContiguous(events, stream.length);
    const frameAt = new Map(events.filter((e) => e.kind === 'frame').map((e) => [e.offset, e]));
    const intact = planted.filter((p) => !p.corrupted);
    for (const p of intact) {
      const event = frameAt.get(p.offset);
      expect(event, `intact frame at offset ${p.offset}`).toBeDefined();
      expect(event!.length).toBe(p.bytes.length);
    }
    const rejects = events.filter((e) => e.kind === 'reject');
    const damaged = planted.filter((p) => p.corrupted);
    expect(damaged.length).toBeGreaterThan(30);
    for (const p of damaged) {
      // No frame is decoded at a damaged frame's start, and a reject covers some of its bytes.
      expect(frameAt.get(p.offset)?.length === p.bytes.length && frameAt.get(p.offset)).toBeFalsy();
      const overlaps = rejects.some((r) => r.offset < p.offset + p.bytes.length && r.offset + r.length > p.offset);
      expect(overlaps, `a reject over the damaged frame at ${p.offset}`).toBe(true);
    }
    // Frames found in noise by chance (a random header, length, end byte and checksum all lining up) are rare.
    expect(frameAt.size - intact.length).toBeLessThanOrEqual(1);
    // Chunking changes nothing: the same events as from one big chunk.
    expect(parseAll([stream])).toEqual(events);
  });
});
