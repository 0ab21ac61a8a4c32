/**
 * Fixed-width bit fields over an EPC held as a bigint, most significant bit first, as the
 * TDS binary encodings number them (bit 0 is the first bit of the header).
 */
export class BitReader {
  readonly #value: bigint;
  readonly #length: number;

  /** `hex` must be validated hex; its length times 4 is the bit length. */
  constructor(hex: string) {
    this.#value = hex.length === 0 ? 0n : BigInt(`0x${hex}`);
    this.#length = hex.length * 4;
  }

  get length(): number {
    return this.#length;
  }

  /** The `width` bits starting at bit `start`, as an unsigned integer. */
  read(start: number, width: number): bigint {
    const shift = BigInt(this.#length - start - width);
    return (this.#value >> shift) & ((1n << BigInt(width)) - 1n);
  }

  /** True when every bit from `start` to the end is zero (padding, unused memory). */
  zeroFrom(start: number): boolean {
    if (start >= this.#length) return true;
    return this.read(start, this.#length - start) === 0n;
  }
}

/** Packs fields most significant first and returns upper-case hex of `totalBits` (a multiple of 4). */
export class BitWriter {
  #value = 0n;
  #length = 0;

  write(value: bigint, width: number): this {
    this.#value = (this.#value << BigInt(width)) | (value & ((1n << BigInt(width)) - 1n));
    this.#length += width;
    return this;
  }

  /** Zero-pads on the right to `totalBits` and returns the hex. */
  toHex(totalBits: number): string {
    const padded = this.#value << BigInt(totalBits - this.#length);
    return padded.toString(16).toUpperCase().padStart(totalBits / 4, '0');
  }
}
