import { describe, expect, it } from 'vitest';
import { bayCamera, bayCameraIds, bayCameras, PinholeCamera, type CameraCalibration, type StorePoint } from '../../src/camera/calibration.ts';
import { DriverError } from '../../src/errors.ts';
import { storeModel, trayPoints, type StoreModelInput } from '../../src/store-model.ts';

/** A 320 × 240 camera 2 m up at the origin, looking along +y and a little down. */
const level: CameraCalibration = {
  camera: 'cam-1',
  position: { x: 0, y: 0, z: 2 },
  lookAt: { x: 0, y: 3, z: 1.5 },
  width: 320,
  height: 240,
  fx: 300,
  fy: 310,
  cx: 160,
  cy: 120,
};

function tray(id: string, channel: number) {
  return { id, device: 'shelf-1', channel, facings: [{ sku: 'sku-1', capacity: 8, minLevel: 1, initial: 8 }] };
}

/** Two placed gondolas (one along x facing −y, one along y facing +x with its own shelf heights) and an unplaced one. */
const layout: StoreModelInput = {
  catalog: [{ sku: 'sku-1', gtin: '02000000000015', name: 'Mints tin', unitWeightG: 40, unitWeightSigmaG: 0.5, priceMinor: 79 }],
  zones: [{ id: 'z1' }],
  gondolas: [
    {
      id: 'g1',
      zone: 'z1',
      placement: { x: 3, y: 2.5, axis: 'x', side: -1, bayWidthM: 1, depthM: 0.4 },
      bays: [
        { id: 'g1b1', shelves: [0, 1, 2].map((s) => ({ id: `g1b1s${s}`, trays: [0, 1, 2].map((t) => tray(`g1b1s${s}t${t}`, s * 3 + t)) })) },
        { id: 'g1b2', cameras: ['cam-left-7'], shelves: [{ id: 'g1b2s0', trays: [tray('g1b2s0t0', 9)] }] },
      ],
    },
    {
      id: 'g2',
      zone: 'z1',
      placement: { x: 8, y: 1, axis: 'y', side: 1, bayWidthM: 1.2, depthM: 0.5 },
      bays: [
        {
          id: 'g2b1',
          shelves: [0.2, 0.9, 1.5, 1.9].map((heightM, s) => ({ id: `g2b1s${s}`, heightM, trays: [0, 1, 2, 3].map((t) => tray(`g2b1s${s}t${t}`, 20 + s * 4 + t)) })),
        },
      ],
    },
    { id: 'g3', zone: 'z1', bays: [{ id: 'g3b1', shelves: [{ id: 'g3b1s0', trays: [tray('g3b1s0t0', 40)] }] }] },
  ],
};

const close = (a: number, b: number) => expect(a).toBeCloseTo(b, 6);

describe('PinholeCamera', () => {
  const camera = new PinholeCamera(level);

  it('maps the point it looks at to the principal point, right to larger u and up to smaller v', () => {
    const centre = camera.project(level.lookAt)!;
    close(centre.u, 160);
    close(centre.v, 120);
    expect(camera.project({ x: 0.5, y: 3, z: 1.5 })!.u).toBeGreaterThan(160);
    expect(camera.project({ x: 0, y: 3, z: 1.8 })!.v).toBeLessThan(120);
  });

  it('round-trips pixels through store points and back', () => {
    for (const [u, v, depth] of [
      [0, 0, 0.5],
      [160, 120, 1],
      [319.5, 12.25, 2.7],
      [40, 239, 6],
    ] as const) {
      const point = camera.unproject(u, v, depth);
      const back = camera.project(point)!;
      close(back.u, u);
      close(back.v, v);
      close(back.depthM, depth);
    }
  });

  it('round-trips store points through pixels and back', () => {
    for (const point of [
      { x: 0.3, y: 1.5, z: 0.4 },
      { x: -1, y: 4, z: 2.5 },
      { x: 0, y: 0.2, z: 2 },
    ]) {
      const pixel = camera.project(point)!;
      const back = camera.unproject(pixel.u, pixel.v, pixel.depthM);
      close(back.x, point.x);
      close(back.y, point.y);
      close(back.z, point.z);
    }
  });

  it('sees nothing behind it', () => {
    expect(camera.project({ x: 0, y: -1, z: 2 })).toBeUndefined();
    expect(camera.sees({ x: 0, y: -1, z: 2 })).toBe(false);
    expect(camera.squareAround({ x: 0, y: -1, z: 2 }, 0.1)).toBeUndefined();
    expect(camera.regionAround({ x: 0, y: -1, z: 2 }, 0.1)).toBeUndefined();
  });

  it('tells whether a point lands in the image', () => {
    expect(camera.sees(level.lookAt)).toBe(true);
    expect(camera.sees({ x: 5, y: 1, z: 1.5 })).toBe(false);
  });

  it('sizes the square around a point by its distance', () => {
    const near = camera.squareAround(camera.unproject(160.5, 120.5, 1), 0.1)!;
    const far = camera.squareAround(camera.unproject(160.5, 120.5, 4), 0.1)!;
    // 2 × 0.1 m × the mean focal length (305 px) at 1 m, a quarter of that at 4 m; centred on the point's pixel.
    expect(near).toEqual({ left: 130, top: 90, size: 61 });
    expect(far.size).toBe(15);
  });

  it('clips the region to the image and drops regions that miss it', () => {
    const corner = camera.unproject(2.5, 3.5, 1);
    expect(camera.squareAround(corner, 0.1)).toEqual({ left: -28, top: -27, size: 61 });
    expect(camera.regionAround(corner, 0.1)).toEqual({ left: 0, top: 0, width: 33, height: 34 });
    expect(camera.regionAround(camera.unproject(-100, 120, 1), 0.1)).toBeUndefined();
    const inside = camera.regionAround(level.lookAt, 0.05)!;
    expect(inside.width).toBe(inside.height);
  });

  it('freezes its calibration', () => {
    expect(Object.isFrozen(camera.calibration)).toBe(true);
  });

  it('refuses calibrations it cannot use, naming the field', () => {
    const refused = (patch: Partial<CameraCalibration>, message: RegExp) => {
      try {
        new PinholeCamera({ ...level, ...patch });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(DriverError);
        expect((error as DriverError).code).toBe('DRV_ERR_CONFIG_INVALID');
        expect((error as Error).message).toMatch(message);
      }
    };
    refused({ lookAt: level.position }, /lookAt: lookAt must differ from position/);
    refused({ lookAt: { x: 0.0001, y: 0, z: 0 } }, /lookAt: .*straight up or down/);
    refused({ cx: 400 }, /cx: the principal point must lie in the image/);
    refused({ fy: 0 }, /fy:/);
    refused({ camera: 'Cam 1' }, /camera: camera ids are lowercase/);
    refused({ width: 320.5 }, /width:/);
  });
});

describe('bayCamera', () => {
  const model = storeModel.parse(layout);
  const points = trayPoints(model);

  it('places one camera per bay of every placed gondola', () => {
    expect([...bayCameras(model).keys()]).toEqual(['g1b1', 'g1b2', 'g2b1']);
  });

  it('names the camera after the bay unless the bay lists one', () => {
    const cameras = bayCameras(model);
    expect(cameras.get('g1b1')!.camera).toBe('cam-g1b1');
    expect(cameras.get('g1b2')!.camera).toBe('cam-left-7');
  });

  it('names a bay’s cameras as every part looks them up (bayCameraIds): its list, else the placed camera’s device id', () => {
    const bays = model.gondolas.filter((g) => g.placement !== undefined).flatMap((g) => g.bays);
    expect(bays).toHaveLength(3);
    for (const bay of bays) expect(bayCameraIds(bay)[0]).toBe(bayCameras(model).get(bay.id)!.camera);
    // A bay id may have capitals and ":"; a device id may not.
    expect(bayCameraIds({ id: 'Aisle:3.B', cameras: [] })).toEqual(['cam-aisle-3.b']);
    expect(bayCameraIds({ id: 'Aisle:3.B', cameras: ['cam-x', 'cam-y'] })).toEqual(['cam-x', 'cam-y']);
  });

  it('hangs the camera across the aisle on the shoppers’ side, above the shelves, centred on the bay', () => {
    const g1 = bayCameras(model).get('g1b1')!;
    expect(g1.position).toEqual({ x: 3.5, y: 1, z: expect.closeTo(1.1 + 0.35 + 0.4, 9) });
    const g2 = bayCamera(model.gondolas[1]!, 'g2b1', { distanceM: 2, heightM: 2.4 });
    expect(g2.position).toEqual({ x: 10, y: 1.6, z: 2.4 });
    // Aimed straight at the bay (its middle along the gondola), down from the camera.
    expect(g2.lookAt.y).toBeCloseTo(1.6, 9);
    expect(g2.lookAt.x).toBeLessThan(10);
    expect(g2.lookAt.z).toBeLessThan(2.4);
  });

  it('keeps every tray of the bay in view, from its shelf up to the headroom, at any resolution', () => {
    for (const options of [{}, { width: 640, height: 480 }, { width: 160, height: 320, distanceM: 1 }]) {
      for (const calibration of bayCameras(model, options).values()) {
        const camera = new PinholeCamera(calibration);
        expect(camera.width).toBe(options.width ?? 320);
        const bay = model.gondolas.flatMap((g) => g.bays).find((b) => b.id === calibration.camera.replace(/^cam-/, '') || b.cameras.includes(calibration.camera))!;
        for (const tray of bay.shelves.flatMap((s) => s.trays)) {
          const p = points.get(tray.id)!;
          const half = p.widthM / 2 - 1e-6;
          const gondola = model.gondolas.find((g) => g.bays.includes(bay))!;
          const along = gondola.placement!.axis === 'x' ? { x: half, y: 0 } : { x: 0, y: half };
          for (const side of [-1, 1]) {
            for (const dz of [0, 0.35]) {
              const corner: StorePoint = { x: p.x + side * along.x, y: p.y + side * along.y, z: p.z + dz };
              expect(camera.sees(corner), `${tray.id} ${side} ${dz}`).toBe(true);
            }
          }
        }
      }
    }
  });

  it('fills the image: the bay spans nearly its full height, centred', () => {
    const camera = new PinholeCamera(bayCameras(model).get('g1b1')!);
    // The bottom shelf's front edge and the top shelf's back edge at the headroom.
    const bottom = camera.project({ x: 3.5, y: 2.5, z: 0.3 })!;
    const top = camera.project({ x: 3, y: 2.9, z: 1.1 + 0.35 })!;
    expect((bottom.v - top.v) / camera.height).toBeGreaterThan(0.9);
    expect(bottom.v + top.v).toBeCloseTo(camera.height, 0);
  });

  it('refuses a gondola without a placement, an unknown bay and bad options', () => {
    expect(() => bayCamera(model.gondolas[2]!, 'g3b1')).toThrow(/has no placement/);
    expect(() => bayCamera(model.gondolas[0]!, 'nope')).toThrow(/has no bay "nope"/);
    expect(() => bayCamera(model.gondolas[0]!, 'g1b1', { distanceM: -1 })).toThrow(/distanceM/);
  });
});
