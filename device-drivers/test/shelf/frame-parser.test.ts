import { describe, expect, it } from 'vitest';
import { ShelfFrameParser, type ShelfParserOutput } from '../../src/shelf/frame-parser.ts';
import { encodeFrame, SHELF_MAX_FRAME_BYTES, type ShelfFrame, type ShelfSampleFrame } from '../../src/shelf/frame.ts';
import { hex, seeded, vectors } from './vectors.ts';

function sample(seq: number, raw = seq * 10): ShelfSampleFrame {
  return { type: 'sample', seq, deviceTimeMs: 1_000 + seq * 100, channels: [{ raw, flags: 0 }, { raw: -raw, flags: 0 }] };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function parseAll(chunks: Uint8Array[], options?: ConstructorParameters<typeof ShelfFrameParser>[0]): ShelfParserOutput[] {
  const parser = new ShelfFrameParser(options);
  return chunks.flatMap((chunk) => parser.push(chunk));
}

const frames = (out: ShelfParserOutput[]) => out.filter((o) => o.kind === 'frame').map((o) => o.frame);
const rejects = (out: ShelfParserOutput[]) => out.filter((o) => o.kind === 'reject').map((o) => o.reject);

describe('ShelfFrameParser', () => {
  it('decodes back-to-back frames of every type from one chunk', () => {
    const out = parseAll([concat(...vectors.map((v) => hex(v.bytes)))], { trackSequence: false });
    expect(frames(out)).toEqual(vectors.map((v) => v.frame));
    expect(rejects(out)).toEqual([]);
  });

  it('gives the same output however the stream is split: at every boundary, and byte by byte', () => {
    const bad = encodeFrame(sample(3));
    bad[10]! ^= 0xff;
    const stream = concat(
      encodeFrame(sample(1)),
      encodeFrame(sample(2)),
      Uint8Array.of(0x00, 0xa5, 0x13, 0xa5), // garbage with a lone half-sync
      bad,
      encodeFrame(sample(4)),
      Uint8Array.of(0xa5), // a sync byte right before the next sync
      encodeFrame(sample(5)),
      ...vectors.slice(1, 4).map((v) => hex(v.bytes)),
    );
    const whole = parseAll([stream]);
    expect(frames(whole).map((f) => f.seq)).toEqual([1, 2, 4, 5, 7, 8, 0x10]);
    expect(rejects(whole).length).toBeGreaterThan(0);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(parseAll([stream.subarray(0, cut), stream.subarray(cut)]), `split at ${cut}`).toEqual(whole);
    }
    expect(parseAll([...stream].map((b) => Uint8Array.of(b)))).toEqual(whole);
  });

  it('drops a frame with a bad CRC, resyncs, keeps the next frame and reports the gap', () => {
    const bad = encodeFrame(sample(11));
    bad[bad.length - 1]! ^= 0x01;
    const out = parseAll([concat(encodeFrame(sample(10)), bad, encodeFrame(sample(12)))]);
    expect(out.map((o) => (o.kind === 'frame' ? `frame ${o.frame.seq}` : o.reject.code))).toEqual([
      'frame 10',
      'DRV_ERR_FRAME_CHECKSUM',
      'DRV_ERR_FRAME_SEQUENCE_GAP',
      'frame 12',
    ]);
    expect(rejects(out)[1]).toEqual({ code: 'DRV_ERR_FRAME_SEQUENCE_GAP', reason: '1 frame missing between seq 10 and 12', lost: 1 });
  });

  it('a corrupted length field does not take the frames behind it down', () => {
    const bad = encodeFrame(sample(21));
    bad[6] = 0xff; // sample length 255 (a valid sample length): the parser waits for 265 bytes, then the CRC fails
    bad[7] = 0x00;
    const tailSeqs = Array.from({ length: 12 }, (_, i) => 22 + i);
    const parser = new ShelfFrameParser();
    const out = parser.push(concat(encodeFrame(sample(20)), bad, ...tailSeqs.slice(0, 4).map((seq) => encodeFrame(sample(seq)))));
    // Held, not lost: the frames behind the bad header wait in the buffer…
    expect(frames(out).map((f) => f.seq)).toEqual([20]);
    // …until the announced length has arrived and its CRC fails; then the scan restarts one byte in.
    out.push(...parser.push(concat(...tailSeqs.slice(4).map((seq) => encodeFrame(sample(seq))))));
    expect(frames(out).map((f) => f.seq)).toEqual([20, ...tailSeqs]);
    expect(rejects(out).map((r) => r.code)).toEqual(['DRV_ERR_FRAME_CHECKSUM', 'DRV_ERR_FRAME_SEQUENCE_GAP']);
  });

  it('refuses an over-long length at once (DRV_ERR_FRAME_TOO_LONG) and never buffers more than one frame', () => {
    const bad = encodeFrame(sample(31));
    bad[6] = 0x00;
    bad[7] = 0x10; // 4096 bytes
    const parser = new ShelfFrameParser();
    const out = parser.push(concat(encodeFrame(sample(30)), bad, encodeFrame(sample(32))));
    expect(rejects(out).map((r) => r.code)).toEqual(['DRV_ERR_FRAME_TOO_LONG', 'DRV_ERR_FRAME_SEQUENCE_GAP']);
    expect(frames(out).map((f) => f.seq)).toEqual([30, 32]);
    // A header that promises the largest frame: held until it completes, never more.
    parser.push(encodeFrame({ ...sample(33), channels: Array(64).fill({ raw: 1, flags: 0 }) }).subarray(0, SHELF_MAX_FRAME_BYTES - 1));
    expect(parser.bufferedBytes).toBe(SHELF_MAX_FRAME_BYTES - 1);
  });

  it('a frame of another protocol version is DRV_ERR_FRAME_MALFORMED and skipped', () => {
    const v2 = encodeFrame(sample(41));
    v2[2] = 2;
    const out = parseAll([concat(encodeFrame(sample(40)), v2, encodeFrame(sample(42)))]);
    expect(rejects(out)[0]).toMatchObject({ code: 'DRV_ERR_FRAME_MALFORMED', reason: expect.stringContaining('version 2') });
    expect(frames(out).map((f) => f.seq)).toEqual([40, 42]);
  });

  it('counts one run of garbage between good frames as one DRV_ERR_FRAME_MALFORMED', () => {
    const garbage = Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff).map((b) => (b === 0xa5 ? 0 : b));
    const out = parseAll([concat(encodeFrame(sample(50)), garbage, encodeFrame(sample(51)))]);
    expect(rejects(out)).toEqual([{ code: 'DRV_ERR_FRAME_MALFORMED', reason: 'skipped 40 bytes that are not a frame' }]);
    expect(frames(out).map((f) => f.seq)).toEqual([50, 51]);
  });

  it('reports how many frames a sequence gap lost, across the 16-bit wrap', () => {
    const gaps = (seqs: number[]) => rejects(parseAll([concat(...seqs.map((s) => encodeFrame(sample(s, 1))))])).map((r) => r.lost);
    expect(gaps([5, 9])).toEqual([3]);
    expect(gaps([0xfffe, 0xffff, 0, 1])).toEqual([]);
    expect(gaps([0xfffe, 1])).toEqual([2]);
    // Back in sequence: a controller restart, not 65 000 lost frames.
    expect(gaps([700, 0, 1])).toEqual([]);
    expect(rejects(parseAll([concat(encodeFrame(sample(5)), encodeFrame(sample(9)))], { trackSequence: false }))).toEqual([]);
  });

  it('reset() forgets the partial frame and the sequence', () => {
    const parser = new ShelfFrameParser();
    parser.push(encodeFrame(sample(1)));
    parser.push(encodeFrame(sample(2)).subarray(0, 5));
    parser.reset();
    expect(parser.bufferedBytes).toBe(0);
    expect(parser.push(encodeFrame(sample(60)))).toEqual([{ kind: 'frame', frame: sample(60) }]);
  });

  it('random line noise (seeded): every intact frame decodes, nothing else does, and every loss is counted', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const rng = seeded(seed);
      const sent: ShelfFrame[] = [];
      const intact: ShelfFrame[] = [];
      const parts: Uint8Array[] = [];
      /** Per run of damaged frames between two intact ones: did it put bad bytes on the line? */
      const runs: { damaged: number; dirty: boolean }[] = [];
      let run = { damaged: 0, dirty: false };
      const total = 1_500;
      for (let seq = 0; seq < total; seq++) {
        const frame: ShelfFrame =
          seq % 10 === 9
            ? { type: 'status', seq, deviceTimeMs: seq, uptimeS: seq, sampleRateHz: 80, firmwareMajor: 1, firmwareMinor: 0, flags: 1, rxErrors: 0, temperatureDeciC: 200, channelFlags: [0, 0, 0, 0] }
            : { type: 'sample', seq, deviceTimeMs: 1_000 * seq, channels: Array.from({ length: rng.int(1, 8) }, () => ({ raw: rng.int(-(2 ** 23), 2 ** 23 - 1), flags: 0 })) };
        sent.push(frame);
        const last = seq === total - 1;
        if (!last && rng.chance(0.05)) {
          const garbage = Uint8Array.from({ length: rng.int(1, 24) }, () => rng.int(0, 255));
          parts.push(garbage);
          run.dirty = true;
        }
        if (!last && rng.chance(0.05)) {
          run.damaged++; // dropped: its seq is never seen
          continue;
        }
        const bytes = encodeFrame(frame);
        if (!last && rng.chance(0.1)) {
          bytes[rng.int(0, bytes.length - 1)]! ^= rng.int(1, 255);
          parts.push(bytes);
          run.damaged++;
          run.dirty = true;
          continue;
        }
        parts.push(bytes);
        intact.push(frame);
        runs.push(run);
        run = { damaged: 0, dirty: false };
      }
      const stream = concat(...parts);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length; ) {
        const n = rng.int(1, 64);
        chunks.push(stream.subarray(at, at + n));
        at += n;
      }
      const parser = new ShelfFrameParser();
      const got: ShelfFrame[] = [];
      let lost = 0;
      let errorsSinceFrame = 0;
      const errorsPerRun: number[] = [];
      for (const chunk of chunks) {
        for (const item of parser.push(chunk)) {
          if (item.kind === 'frame') {
            got.push(item.frame);
            errorsPerRun.push(errorsSinceFrame);
            errorsSinceFrame = 0;
          } else if (item.reject.code === 'DRV_ERR_FRAME_SEQUENCE_GAP') {
            lost += item.reject.lost!;
          } else {
            errorsSinceFrame++;
          }
        }
      }
      expect(got, `seed ${seed}`).toEqual(intact);
      expect(lost, `seed ${seed}: frames lost`).toBe(total - intact.length);
      // Every run that put damaged bytes on the line was counted as at least one reject; a run of clean drops as none.
      runs.forEach((r, i) => {
        if (r.dirty) expect(errorsPerRun[i], `seed ${seed}, before frame ${intact[i]!.seq}`).toBeGreaterThan(0);
        else expect(errorsPerRun[i], `seed ${seed}, before frame ${intact[i]!.seq}`).toBe(0);
      });
      expect(runs.some((r) => r.damaged > 0)).toBe(true);
    }
  });
});
