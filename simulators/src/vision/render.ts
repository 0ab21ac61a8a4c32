import sharp from 'sharp';
import type { StoreModel } from '@storeedge/device-drivers';
import { bayCamera, PinholeCamera, type CameraCalibration } from '@storeedge/device-drivers/camera/index.ts';
import { simulatorErrors } from '../errors.ts';
import { Rng } from '../random.ts';
import { catalogAppearance, hslToHex, type ProductAppearance } from './appearance.ts';
import { cropFrame, type CameraCrop, type CropTarget } from './crop.ts';
import { visionOptions, type VisionOptions, type VisionOptionsInput } from './options.ts';
import { SKIN_TONES, type ShelfScene } from './scene.ts';
import { exposeAndAddNoise, motionBlurKernel } from './sensor.ts';
import { GondolaLayout } from './shelf-layout.ts';
import { frameSvg, type Occluder } from './svg.ts';

/** One frame as a camera sends it: its id, its timestamp and JPEG bytes — no ground truth, no metadata. */
export interface CameraFrame {
  cameraId: string;
  timestampMs: number;
  jpeg: Buffer;
}

export interface SimulatedShelfCameraOptions {
  model: StoreModel;
  /** The bay the camera watches (its gondola must have a placement). */
  bayId: string;
  /** The scenario seed; a frame's randomness comes from it, the camera id and the frame's timestamp. */
  seed: number | string;
  /** The scenario's `vision` section. */
  vision?: VisionOptionsInput;
  /** Pose and intrinsics; default: device-drivers `bayCamera` with the options' resolution and placement. */
  calibration?: CameraCalibration;
}

/** sharp's blur needs σ ≥ 0.3; less than that would not show anyway. */
const MIN_DEFOCUS_SIGMA_PX = 0.3;
/** A streak shorter than this is no motion blur. */
const MIN_MOTION_PX = 2;
/** A passing shopper's body is this share of the frame's width, and the top of their shoulders this share of its height from the top. */
const OCCLUDER_WIDTH_SHARE: readonly [number, number] = [0.3, 0.6];
const OCCLUDER_TOP_SHARE: readonly [number, number] = [0.1, 0.5];
/** A tray crop looks this far behind the tray's front edge (at most half its depth), and reaches this far past the tray. */
const TRAY_CROP_BACK_M = 0.1;
const TRAY_CROP_MARGIN_M = 0.03;

/** Knobs drawn for one frame. */
interface FrameConditions {
  gains: [number, number, number];
  defocusSigmaPx: number;
  motionPx: number;
  motionAngleRad: number;
  occluder: Occluder | undefined;
}

/**
 * A simulated shelf camera over one bay: renders what it sees (the gondola, its stock, the
 * shoppers' arms) through its calibration, with lighting, blur, noise and occlusion as the
 * scenario's knobs, into JPEG frames that carry only the camera id and timestamp. A frame is a
 * pure function of (scene, timestamp, seed): the same inputs give the same bytes on one machine
 * (text rasterising depends on the installed fonts).
 */
export class SimulatedShelfCamera {
  readonly camera: PinholeCamera;
  readonly options: Readonly<VisionOptions>;
  readonly #layout: GondolaLayout;
  readonly #looks: ReadonlyMap<string, ProductAppearance>;
  readonly #rng: Rng;

  constructor(options: SimulatedShelfCameraOptions) {
    const parsed = visionOptions.safeParse(options.vision ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`vision: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    this.options = Object.freeze(parsed.data);
    const gondola = options.model.gondolas.find((g) => g.bays.some((b) => b.id === options.bayId));
    if (gondola === undefined) throw simulatorErrors.SIM_ERR_CONFIG_INVALID(`vision: bay "${options.bayId}" is not in the store model`);
    this.#looks = catalogAppearance(options.model.catalog, this.options.appearance);
    this.#layout = new GondolaLayout(options.model, gondola.id, this.#looks);
    const { width, height, placement } = this.options;
    this.camera = new PinholeCamera(options.calibration ?? bayCamera(gondola, options.bayId, { ...placement, width, height }));
    this.#rng = new Rng(options.seed).fork(`vision/${this.camera.id}`);
  }

  get id(): string {
    return this.camera.id;
  }

  /** The frame the camera takes at `timestampMs` of `scene`. */
  async render(scene: ShelfScene, timestampMs: number): Promise<CameraFrame> {
    if (!Number.isFinite(timestampMs)) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: timestamp must be a finite number of ms, got ${timestampMs}`);
    const rng = this.#rng.fork(String(timestampMs));
    const conditions = this.#conditions(rng);
    const svg = frameSvg({ camera: this.camera, layout: this.#layout, scene, looks: this.#looks, occluder: conditions.occluder });

    let image = sharp(Buffer.from(svg)).removeAlpha();
    if (conditions.defocusSigmaPx >= MIN_DEFOCUS_SIGMA_PX) image = image.blur(conditions.defocusSigmaPx);
    if (conditions.motionPx >= MIN_MOTION_PX) image = image.convolve(motionBlurKernel(conditions.motionPx, conditions.motionAngleRad));
    const pixels = await image.raw().toBuffer();
    exposeAndAddNoise(pixels, conditions.gains, this.options.noiseSigma, rng.fork('noise'));
    // sharp writes no EXIF, ICC, XMP or comment unless asked (withMetadata), so only pixels leave.
    const jpeg = await sharp(pixels, { raw: { width: this.camera.width, height: this.camera.height, channels: 3 } })
      .jpeg({ quality: this.options.jpegQuality })
      .toBuffer();
    return { cameraId: this.camera.id, timestampMs, jpeg };
  }

  /** Renders the frame at `timestampMs` and cuts the square around `target` from it, as `cropFrame` does for the agent. */
  async renderCrop(scene: ShelfScene, timestampMs: number, target: CropTarget, sizePx = 64): Promise<CameraCrop | undefined> {
    const frame = await this.render(scene, timestampMs);
    return cropFrame(frame.jpeg, this.camera, target, sizePx);
  }

  /** The crop target covering a tray of the watched gondola: its units from the front row back, and their height. */
  trayTarget(trayId: string): CropTarget {
    const tray = this.#layout.trays.get(trayId);
    if (tray === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`vision: tray "${trayId}" is not on gondola "${this.#layout.id}"`);
    const tallest = Math.max(...tray.facings.map((f) => f.look.heightM));
    const back = Math.min(TRAY_CROP_BACK_M, this.#layout.depthM / 2);
    return {
      point: this.#layout.at(this.#layout.alongOf(tray.front), back, tray.front.z + tallest / 2),
      radiusM: Math.max(tray.widthM, tallest) / 2 + TRAY_CROP_MARGIN_M,
    };
  }

  /** This frame's lighting, blur and occlusion, each from its own stream so changing one knob leaves the others' draws alone. */
  #conditions(rng: Rng): FrameConditions {
    const { lighting, blur, occlusionRate } = this.options;
    const light = rng.fork('lighting');
    const exposure = light.uniform(lighting.gain[0], lighting.gain[1]);
    const gains = [0, 1, 2].map(() => exposure * (1 + light.uniform(-lighting.colourCast, lighting.colourCast))) as [number, number, number];
    const optics = rng.fork('blur');
    const defocusSigmaPx = optics.uniform(blur.defocusSigmaPx[0], blur.defocusSigmaPx[1]);
    const motionPx = optics.uniform(blur.motionPx[0], blur.motionPx[1]);
    const motionAngleRad = optics.uniform(0, Math.PI);
    const passing = rng.fork('occlusion');
    let occluder: Occluder | undefined;
    if (passing.chance(occlusionRate)) {
      const { width, height } = this.camera;
      occluder = {
        centreU: passing.uniform(0, width),
        topV: passing.uniform(OCCLUDER_TOP_SHARE[0], OCCLUDER_TOP_SHARE[1]) * height,
        widthPx: passing.uniform(OCCLUDER_WIDTH_SHARE[0], OCCLUDER_WIDTH_SHARE[1]) * width,
        colour: hslToHex(passing.uniform(0, 360), passing.uniform(0.1, 0.7), passing.uniform(0.15, 0.6)),
        skin: passing.pick(SKIN_TONES),
      };
    }
    return { gains, defocusSigmaPx, motionPx, motionAngleRad, occluder };
  }
}
