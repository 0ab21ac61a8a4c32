import sharp from 'sharp';
import type { PinholeCamera, PixelSquare, StorePoint } from './calibration.ts';

/** What to crop: a sphere around a store point (a hand from a track, or a tray), metres. */
export interface CropTarget {
  point: StorePoint;
  radiusM: number;
}

/** A square crop as a model consumes it: `sizePx` × `sizePx` interleaved 8-bit RGB, row by row. */
export interface CameraCrop {
  sizePx: number;
  rgb: Buffer;
  /** The frame's pixels it was cut from (may reach past the frame's edges; that part is black). */
  square: PixelSquare;
}

/**
 * Cuts the square around a target out of a JPEG frame and scales it to `sizePx`: decoded pixels
 * only, the calibration for where to look. Parts of the square outside the frame are black, so
 * the target stays centred. Undefined when the target is behind the camera or its square misses
 * the frame.
 *
 * One function for both sides: the agent crops live frames with it (hand positions from
 * tracks) and the simulators cut the models' training crops with it (simulators/src/vision/crop.ts
 * re-exports it), so a model sees the same pixels in the store as in training.
 */
export async function cropFrame(jpeg: Buffer, camera: PinholeCamera, target: CropTarget, sizePx = 64): Promise<CameraCrop | undefined> {
  const square = camera.squareAround(target.point, target.radiusM);
  const region = camera.regionAround(target.point, target.radiusM);
  if (square === undefined || region === undefined) return undefined;
  // sharp extends after it resizes, so pad first and scale in a second pass.
  const padded = await sharp(jpeg)
    .extract(region)
    .extend({
      top: region.top - square.top,
      left: region.left - square.left,
      bottom: square.top + square.size - (region.top + region.height),
      right: square.left + square.size - (region.left + region.width),
      background: { r: 0, g: 0, b: 0 },
    })
    .removeAlpha()
    .raw()
    .toBuffer();
  const rgb = await sharp(padded, { raw: { width: square.size, height: square.size, channels: 3 } })
    .resize(sizePx, sizePx)
    .raw()
    .toBuffer();
  return { sizePx, rgb, square };
}
