import { Transform, type TransformCallback } from 'node:stream';

/**
 * Reads MQTT fixed headers as bytes stream past and fails the stream when a packet announces a
 * Remaining Length above `maxPacketBytes` — before the broker buffers it whole ([MQTT-2.2.3]:
 * the length is a variable byte integer of up to 4 bytes). Bytes pass through unchanged.
 * Used by the agent's device broker and by the reference HQ's embedded broker.
 */
export class PacketSizeGuard extends Transform {
  /** Bytes of the current packet's body still to pass; -1 while reading a header. */
  #bodyLeft = -1;
  #headerBytes = 0;
  #length = 0;
  #multiplier = 1;

  constructor(
    private readonly maxPacketBytes: number,
    private readonly onTooLarge: (announced: number) => void,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= take;
        i += take;
        continue;
      }
      if (this.#bodyLeft === 0) this.#startHeader();
      const byte = chunk[i++]!;
      this.#headerBytes += 1;
      if (this.#headerBytes === 1) continue; // packet type and flags
      this.#length += (byte & 0x7f) * this.#multiplier;
      this.#multiplier *= 128;
      if (byte & 0x80) {
        if (this.#headerBytes > 5) return callback(new Error('malformed MQTT remaining length'));
        continue;
      }
      if (this.#length > this.maxPacketBytes) {
        this.onTooLarge(this.#length);
        return callback(new Error(`MQTT packet of ${this.#length} bytes exceeds ${this.maxPacketBytes}`));
      }
      this.#bodyLeft = this.#length;
      if (this.#bodyLeft === 0) this.#startHeader();
    }
    callback(null, chunk);
  }

  #startHeader(): void {
    this.#bodyLeft = -1;
    this.#headerBytes = 0;
    this.#length = 0;
    this.#multiplier = 1;
  }
}
