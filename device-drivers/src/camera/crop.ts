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

/**
 * A window next to a target's square: shifted by `dx`, `dy` times the square's side (right,
 * down in the image) and scaled by `scale` (default 1) about its own centre.
 */
export interface CropWindow {
  dx: number;
  dy: number;
  scale?: number;
}

/**
 * `cropFrame` for several windows around one target, decoding the frame once: crop i is the
 * square of `windows[i]` (undefined when it misses the frame; every one is undefined when the
 * target's own square does, as `cropFrame` is). A window { dx: 0, dy: 0 } gives exactly
 * `cropFrame`'s pixels. For looking around a hand whose tracked position is a few cm off: the
 * windows depend on the target and the calibration only.
 */
export async function cropFrameWindows(
  jpeg: Buffer,
  camera: PinholeCamera,
  target: CropTarget,
  windows: readonly CropWindow[],
  sizePx = 64,
): Promise<Array<CameraCrop | undefined>> {
  const base = camera.squareAround(target.point, target.radiusM);
  if (base === undefined || camera.regionAround(target.point, target.radiusM) === undefined) return windows.map(() => undefined);
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const frame = { width: info.width, height: info.height, channels: info.channels };
  const out: Array<CameraCrop | undefined> = [];
  for (const window of windows) {
    const size = Math.max(1, Math.round(base.size * (window.scale ?? 1)));
    const square = {
      left: base.left + Math.round(window.dx * base.size) + Math.round((base.size - size) / 2),
      top: base.top + Math.round(window.dy * base.size) + Math.round((base.size - size) / 2),
      size,
    };
    const left = Math.max(0, square.left);
    const top = Math.max(0, square.top);
    const right = Math.min(frame.width, square.left + square.size);
    const bottom = Math.min(frame.height, square.top + square.size);
    if (right <= left || bottom <= top) {
      out.push(undefined);
      continue;
    }
    const padded = await sharp(data, { raw: frame })
      .extract({ left, top, width: right - left, height: bottom - top })
      .extend({ top: top - square.top, left: left - square.left, bottom: square.top + square.size - bottom, right: square.left + square.size - right, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    const rgb = await sharp(padded, { raw: { width: square.size, height: square.size, channels: frame.channels } })
      .resize(sizePx, sizePx)
      .raw()
      .toBuffer();
    out.push({ sizePx, rgb, square });
  }
  return out;
}
