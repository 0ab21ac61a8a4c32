import QRCode from 'qrcode';

/** A QR code's modules: size × size, row-major, 1 = dark. */
export interface QrModules {
  size: number;
  dark: Uint8Array;
}

/** Quiet zone around a QR code, modules [ISO/IEC 18004 §9.1]. */
export const QR_QUIET_MODULES = 4;

/**
 * The modules of a QR code for `text`, error correction level M (15 %: a scuffed label still
 * reads). Deterministic: the library picks the smallest version and the mask by its penalty score.
 */
export function qrModules(text: string): QrModules {
  const code = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const size = code.modules.size;
  const dark = new Uint8Array(size * size);
  for (let i = 0; i < dark.length; i++) dark[i] = code.modules.data[i] ? 1 : 0;
  return { size, dark };
}
