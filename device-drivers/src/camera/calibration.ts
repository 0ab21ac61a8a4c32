import { z } from 'zod';
import { driverErrors } from '../errors.ts';
import { defaultShelfHeightM, type Bay, type Gondola, type StoreModel } from '../store-model.ts';
import { deviceIdPattern } from '../topics.ts';

/**
 * Shelf-camera calibration: where a camera hangs in the store and how it maps store points to
 * pixels, so a tracked hand position (store metres) becomes the pixel region a model looks at.
 * The camera is an ideal pinhole (no lens distortion) with no roll: the image's up is the
 * store's up.
 *
 * Frames: store points are metres in the tracker's frame with z up from the floor; camera
 * coordinates are OpenCV's (x right, y down, z along the optical axis); pixels are (u, v)
 * from the top-left corner, u to the right, v down.
 */

/** A point in the store, metres; z is the height above the floor. */
export interface StorePoint {
  x: number;
  y: number;
  z: number;
}

/** Where a store point lands in the image, and how far in front of the camera it is (along the optical axis). */
export interface PixelPoint {
  u: number;
  v: number;
  depthM: number;
}

/** A square of pixels; it may reach past the image's edges. */
export interface PixelSquare {
  left: number;
  top: number;
  size: number;
}

/** A rectangle of pixels inside the image (sharp's `extract` region). */
export interface PixelRegion {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Points closer to the camera plane than this are treated as behind it. */
const NEAR_M = 0.01;
/** |forward.z| above this is (nearly) straight up or down, where "no roll" does not fix the image's up. */
const MAX_VERTICAL = 0.999;
/** Re-aiming a bay camera at the middle of its view converges to well under a pixel in this many steps. */
const AIM_ITERATIONS = 4;

const finite = z.number().finite();
const storePoint = z.strictObject({ x: finite, y: finite, z: finite });

export const cameraCalibration = z
  .strictObject({
    /** The camera's device id. */
    camera: z.string().regex(deviceIdPattern, 'camera ids are lowercase letters, digits, ".", "_" and "-" (a device id)'),
    /** The optical centre, store metres. */
    position: storePoint,
    /** A store point on the optical axis: the camera looks at it. */
    lookAt: storePoint,
    /** Image size, pixels. */
    width: z.number().int().min(8).max(8192),
    height: z.number().int().min(8).max(8192),
    /** Focal lengths and principal point, pixels. */
    fx: z.number().finite().positive(),
    fy: z.number().finite().positive(),
    cx: finite,
    cy: finite,
  })
  .superRefine((c, ctx) => {
    const d = { x: c.lookAt.x - c.position.x, y: c.lookAt.y - c.position.y, z: c.lookAt.z - c.position.z };
    const length = Math.hypot(d.x, d.y, d.z);
    if (length < 1e-6) ctx.addIssue({ code: 'custom', path: ['lookAt'], message: 'lookAt must differ from position (it sets the looking direction)' });
    else if (Math.abs(d.z / length) > MAX_VERTICAL) {
      ctx.addIssue({ code: 'custom', path: ['lookAt'], message: 'the camera looks straight up or down, so the image has no "up"; move lookAt sideways a little' });
    }
    if (c.cx < 0 || c.cx > c.width) ctx.addIssue({ code: 'custom', path: ['cx'], message: `the principal point must lie in the image (0..${c.width})` });
    if (c.cy < 0 || c.cy > c.height) ctx.addIssue({ code: 'custom', path: ['cy'], message: `the principal point must lie in the image (0..${c.height})` });
  });

export type CameraCalibration = z.output<typeof cameraCalibration>;

interface Basis {
  right: StorePoint;
  down: StorePoint;
  forward: StorePoint;
}

/**
 * A calibrated camera: store points to pixels and back. Built from a calibration that is
 * validated once and frozen; invalid calibrations throw DRV_ERR_CONFIG_INVALID naming the field.
 */
export class PinholeCamera {
  readonly calibration: Readonly<CameraCalibration>;
  readonly #basis: Basis;

  constructor(calibration: CameraCalibration) {
    const parsed = cameraCalibration.safeParse(calibration);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw driverErrors.DRV_ERR_CONFIG_INVALID(`camera calibration ${String(calibration.camera)}: ${issues}`);
    }
    this.calibration = Object.freeze(parsed.data);
    this.#basis = basisOf(parsed.data.position, parsed.data.lookAt);
  }

  get id(): string {
    return this.calibration.camera;
  }

  get width(): number {
    return this.calibration.width;
  }

  get height(): number {
    return this.calibration.height;
  }

  /** Where a store point lands in the image (possibly outside it), or undefined when it is behind the camera. */
  project(point: StorePoint): PixelPoint | undefined {
    const { fx, fy, cx, cy } = this.calibration;
    const c = toCamera(this.#basis, this.calibration.position, point);
    if (c.z < NEAR_M) return undefined;
    return { u: cx + (fx * c.x) / c.z, v: cy + (fy * c.y) / c.z, depthM: c.z };
  }

  /** The store point at `depthM` along the optical axis that lands on pixel (u, v): the inverse of `project`. */
  unproject(u: number, v: number, depthM: number): StorePoint {
    const { fx, fy, cx, cy, position } = this.calibration;
    const x = ((u - cx) / fx) * depthM;
    const y = ((v - cy) / fy) * depthM;
    const { right, down, forward } = this.#basis;
    return {
      x: position.x + right.x * x + down.x * y + forward.x * depthM,
      y: position.y + right.y * x + down.y * y + forward.y * depthM,
      z: position.z + right.z * x + down.z * y + forward.z * depthM,
    };
  }

  /** Whether a store point is in front of the camera and lands inside the image. */
  sees(point: StorePoint): boolean {
    const p = this.project(point);
    return p !== undefined && p.u >= 0 && p.u < this.width && p.v >= 0 && p.v < this.height;
  }

  /**
   * The square of pixels a sphere of `radiusM` around a store point covers (at least one
   * pixel), not clipped to the image; undefined when the point is behind the camera.
   */
  squareAround(point: StorePoint, radiusM: number): PixelSquare | undefined {
    const p = this.project(point);
    if (p === undefined) return undefined;
    const focal = (this.calibration.fx + this.calibration.fy) / 2;
    const size = Math.max(1, Math.round((2 * radiusM * focal) / p.depthM));
    return { left: Math.round(p.u - size / 2), top: Math.round(p.v - size / 2), size };
  }

  /** `squareAround` clipped to the image; undefined when the point is behind the camera or the square misses the image. */
  regionAround(point: StorePoint, radiusM: number): PixelRegion | undefined {
    const square = this.squareAround(point, radiusM);
    if (square === undefined) return undefined;
    const left = Math.max(0, square.left);
    const top = Math.max(0, square.top);
    const right = Math.min(this.width, square.left + square.size);
    const bottom = Math.min(this.height, square.top + square.size);
    if (right <= left || bottom <= top) return undefined;
    return { left, top, width: right - left, height: bottom - top };
  }
}

/** Camera axes in store coordinates, for a camera at `position` looking at `lookAt` with no roll. */
function basisOf(position: StorePoint, lookAt: StorePoint): Basis {
  const forward = unit({ x: lookAt.x - position.x, y: lookAt.y - position.y, z: lookAt.z - position.z });
  // right = forward × up (up = +z); down = forward × right, so right × down = forward.
  const right = unit({ x: forward.y, y: -forward.x, z: 0 });
  const down = {
    x: forward.y * right.z - forward.z * right.y,
    y: forward.z * right.x - forward.x * right.z,
    z: forward.x * right.y - forward.y * right.x,
  };
  return { right, down, forward };
}

function toCamera(basis: Basis, origin: StorePoint, p: StorePoint): StorePoint {
  const d = { x: p.x - origin.x, y: p.y - origin.y, z: p.z - origin.z };
  return { x: dot(d, basis.right), y: dot(d, basis.down), z: dot(d, basis.forward) };
}

function dot(a: StorePoint, b: StorePoint): number {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}

function unit(p: StorePoint): StorePoint {
  const length = Math.hypot(p.x, p.y, p.z);
  return { x: p.x / length, y: p.y / length, z: p.z / length };
}

export const bayCameraOptions = z.strictObject({
  /** How far out from the bay's front edge the camera hangs (across the aisle), metres. Default 1.5. */
  distanceM: z.number().positive().max(20).default(1.5),
  /** Mount height above the floor, metres. Default: `aboveM` over the top of the bay's view, so the camera looks down on every shelf. */
  heightM: z.number().positive().max(20).optional(),
  aboveM: z.number().nonnegative().max(10).default(0.4),
  /** Headroom above the top shelf for the products standing on it, metres. Default 0.35. */
  headroomM: z.number().nonnegative().max(3).default(0.35),
  /** Image size, pixels. Default 320 × 240. */
  width: z.number().int().min(8).max(8192).default(320),
  height: z.number().int().min(8).max(8192).default(240),
  /** Share of the image left around the bay on its tighter side. Default 0.05. */
  marginShare: z.number().min(0).max(0.9).default(0.05),
});

export type BayCameraOptions = z.input<typeof bayCameraOptions>;

/**
 * The cameras that see a bay: its own list, else the one camera `bayCamera` places for it,
 * `cam-{bay id}` made a device id (lowercase; other characters "-"). Every part that looks for a
 * bay's frames names its cameras this way: a bay id may have capitals, a camera's device id may not.
 */
export function bayCameraIds(bay: Pick<Bay, 'id' | 'cameras'>): string[] {
  return bay.cameras.length > 0 ? [...bay.cameras] : [`cam-${bay.id.toLowerCase().replace(/[^a-z0-9._-]/g, '-')}`];
}

/**
 * A camera facing one bay of a placed gondola from across the aisle: centred on the bay, out
 * `distanceM` on the shoppers' side, aimed so the bay's face sits in the middle of the image,
 * with a focal length that fits the bay's front edge from the lowest shelf to `headroomM` above
 * the top one (and the top shelf's back edge) into the image. The id is the bay's first listed camera, or
 * `cam-{bay id}` (`bayCameraIds`).
 */
export function bayCamera(gondola: Gondola, bayId: string, options: BayCameraOptions = {}): CameraCalibration {
  const o = parseBayCameraOptions(options);
  const p = gondola.placement;
  if (p === undefined) throw driverErrors.DRV_ERR_CONFIG_INVALID(`bay camera: gondola "${gondola.id}" has no placement`);
  const index = gondola.bays.findIndex((b) => b.id === bayId);
  const bay = gondola.bays[index];
  if (bay === undefined) throw driverErrors.DRV_ERR_CONFIG_INVALID(`bay camera: gondola "${gondola.id}" has no bay "${bayId}"`);

  const heights = bay.shelves.map((shelf, s) => shelf.heightM ?? defaultShelfHeightM(s));
  const bottom = Math.min(...heights);
  const top = Math.max(...heights) + o.headroomM;
  const axis = p.axis === 'x' ? { x: 1, y: 0 } : { x: 0, y: 1 };
  const normal = p.axis === 'x' ? { x: 0, y: p.side } : { x: p.side, y: 0 };
  /** A point of the bay: `along` metres from the gondola's start, `back` metres behind its front edge, at height z. */
  const at = (along: number, back: number, z: number): StorePoint => ({
    x: p.x + axis.x * along - normal.x * back,
    y: p.y + axis.y * along - normal.y * back,
    z,
  });
  const start = index * p.bayWidthM;
  const middle = start + p.bayWidthM / 2;
  const position = { ...at(middle, -o.distanceM, 0), z: o.heightM ?? top + o.aboveM };
  const mustSee = [start, start + p.bayWidthM].flatMap((along) => [at(along, 0, bottom), at(along, 0, top), at(along, p.depthM, top)]);

  // Aim at the middle of the bay's face, then re-aim at the middle of its image (perspective
  // shrinks the far, lower shelves, so the face's middle sits below the image's middle).
  let lookAt = at(middle, 0, (bottom + top) / 2);
  for (let i = 0; i < AIM_ITERATIONS; i++) {
    const basis = basisOf(position, lookAt);
    const seen = mustSee.map((point) => toCamera(basis, position, point)).map((c) => ({ x: c.x / c.z, y: c.y / c.z }));
    const mx = (Math.min(...seen.map((s) => s.x)) + Math.max(...seen.map((s) => s.x))) / 2;
    const my = (Math.min(...seen.map((s) => s.y)) + Math.max(...seen.map((s) => s.y))) / 2;
    const depth = toCamera(basis, position, lookAt).z;
    const { right, down, forward } = basis;
    lookAt = {
      x: position.x + (right.x * mx + down.x * my + forward.x) * depth,
      y: position.y + (right.y * mx + down.y * my + forward.y) * depth,
      z: position.z + (right.z * mx + down.z * my + forward.z) * depth,
    };
  }
  const basis = basisOf(position, lookAt);
  let focal = Infinity;
  for (const point of mustSee) {
    const c = toCamera(basis, position, point);
    focal = Math.min(focal, o.width / 2 / Math.abs(c.x / c.z), o.height / 2 / Math.abs(c.y / c.z));
  }
  focal *= 1 - o.marginShare;
  return {
    camera: bayCameraIds(bay)[0]!,
    position,
    lookAt,
    width: o.width,
    height: o.height,
    fx: focal,
    fy: focal,
    cx: o.width / 2,
    cy: o.height / 2,
  };
}

/** One `bayCamera` per bay of every placed gondola, by bay id (bays of unplaced gondolas are left out). */
export function bayCameras(model: StoreModel, options: BayCameraOptions = {}): Map<string, CameraCalibration> {
  const out = new Map<string, CameraCalibration>();
  for (const gondola of model.gondolas) {
    if (gondola.placement === undefined) continue;
    for (const bay of gondola.bays) out.set(bay.id, bayCamera(gondola, bay.id, options));
  }
  return out;
}

function parseBayCameraOptions(options: BayCameraOptions): z.output<typeof bayCameraOptions> {
  const parsed = bayCameraOptions.safeParse(options);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw driverErrors.DRV_ERR_CONFIG_INVALID(`bay camera options: ${issues}`);
  }
  return parsed.data;
}
