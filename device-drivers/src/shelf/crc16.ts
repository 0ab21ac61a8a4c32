/**
 * CRC-16/CCITT-FALSE, called CRC-16/IBM-3740 in the RevEng catalogue
 * (reveng.sourceforge.io/crc-catalogue/16.htm): width 16, poly 0x1021, init 0xFFFF,
 * refin false, refout false, xorout 0x0000, check ("123456789") 0x29B1.
 * Same as Python's `binascii.crc_hqx(data, 0xFFFF)`; a 512-byte table or the bitwise loop
 * fits any microcontroller. Hamming distance 4 for frames up to 32 751 bits, so every error
 * of up to 3 bits and every burst of up to 16 bits in a shelf frame is caught.
 */
export const CRC16_CCITT_FALSE = Object.freeze({ poly: 0x1021, init: 0xffff, refin: false, refout: false, xorout: 0x0000, check: 0x29b1 });

const table = (() => {
  const t = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ CRC16_CCITT_FALSE.poly) & 0xffff : (crc << 1) & 0xffff;
    t[byte] = crc;
  }
  return t;
})();

/** The CRC of `bytes[start, end)`. */
export function crc16CcittFalse(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc: number = CRC16_CCITT_FALSE.init;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ table[((crc >>> 8) ^ bytes[i]!) & 0xff]!;
  return crc ^ CRC16_CCITT_FALSE.xorout;
}
