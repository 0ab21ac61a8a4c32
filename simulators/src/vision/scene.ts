import type { StorePoint } from '@storeedge/device-drivers/camera/index.ts';
import type { PersonMotion } from '../checkout/motion.ts';
import { Rng } from '../random.ts';
import { hslToHex } from './appearance.ts';

/**
 * What a shelf camera sees at one instant besides the fixed shelf: the units on each facing
 * and the shoppers' arms in front of it. Simulator-internal truth — it goes into the renderer,
 * and only pixels come out.
 */
export interface ShelfScene {
  /**
   * Units on each facing: tray id → units per facing, in facing order. A tray not listed shows
   * its facings' `initial` stock; more units than a facing's capacity show as a full facing.
   */
  stock?: ReadonlyMap<string, readonly number[]>;
  arms?: readonly ArmPose[];
  /**
   * Units standing on a tray that are not its facings' — a unit put back on the wrong tray:
   * tray id → their SKUs, in the order they were put there. Each stands in the front row
   * (printed side out) in the first slot its tray leaves free there, or, when the front row is
   * full, in front of the facing's front units (`extraUnitSlots`, shelf-layout.ts). Absent or
   * empty: the frame is exactly as without the field.
   */
  extra?: ReadonlyMap<string, readonly string[]>;
}

/** One arm: a sleeve from the shoulder to the wrist, a hand, and the SKU the hand holds, if any. Store metres. */
export interface ArmPose {
  shoulder: StorePoint;
  hand: StorePoint;
  look: ShopperLook;
  holding?: string | undefined;
}

/** How a shopper looks to a camera. Colours are #rrggbb. */
export interface ShopperLook {
  skin: string;
  sleeve: string;
}

/** Skin tones from light to dark, roughly the six Fitzpatrick types. */
export const SKIN_TONES: readonly string[] = Object.freeze(['#f3d6c1', '#e5b898', '#c99872', '#a56f4b', '#7a4c31', '#4b2f22']);

/** Shoulders sit this far either side of the torso's centre, at this height. */
const SHOULDER_HALF_WIDTH_M = 0.19;
const SHOULDER_Z_M = 1.4;

/** A look drawn from `key` (a person id, prefixed with the scenario seed to vary it between runs): a skin tone and a sleeve colour. */
export function shopperLook(key: string): ShopperLook {
  const rng = new Rng(`look/${key}`);
  return {
    skin: rng.pick(SKIN_TONES),
    sleeve: hslToHex(rng.uniform(0, 360), rng.uniform(0.1, 0.8), rng.uniform(0.15, 0.7)),
  };
}

/** A simulated person's two arms at time t, [left, right], with what each hand holds. */
export function armsAt(
  motion: PersonMotion,
  t: number,
  look: ShopperLook,
  holding: readonly [string | undefined, string | undefined] = [undefined, undefined],
): ArmPose[] {
  const torso = motion.torsoAt(t);
  const facing = motion.facingAt(t);
  const hands = motion.handsAt(t);
  // Left is +90° from the way the person faces (as in PersonMotion).
  const side = { x: -facing.y * SHOULDER_HALF_WIDTH_M, y: facing.x * SHOULDER_HALF_WIDTH_M };
  const shoulders: [StorePoint, StorePoint] = [
    { x: torso.x + side.x, y: torso.y + side.y, z: SHOULDER_Z_M },
    { x: torso.x - side.x, y: torso.y - side.y, z: SHOULDER_Z_M },
  ];
  return ([0, 1] as const).map((i) => ({ shoulder: shoulders[i], hand: hands[i], look, holding: holding[i] }));
}
