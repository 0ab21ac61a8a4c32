/**
 * The EPC Gen2 CRC-16 a tag stores after its PC word and EPC ("StoredCRC"): polynomial 0x1021,
 * preset 0xFFFF, not reflected, result complemented — the CRC-16/GENIBUS parameters. A reader
 * passes it through so the host can reject a corrupted EPC. Checked against the YRM100 vector
 * in research/rfid.md §1.1 (PC 3400 + EPC E280…4008 → D444).
 */
export function gen2Crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return ~crc & 0xffff;
}
