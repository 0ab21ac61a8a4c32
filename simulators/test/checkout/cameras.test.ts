import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { bayCameras, CAMERA_FRAME_HEADER_BYTES, decodeCameraFrame, verifyJpeg } from '@storeedge/device-drivers';
import { describe, expect, it } from 'vitest';
import { CAMERA_ROLL_MS, CAMERA_TRIGGER_M } from '../../src/checkout/cameras.ts';
import { CheckoutScenarioRun, type CheckoutMessageType, type CheckoutRunSummary } from '../../src/checkout/checkout-run.ts';
import { parseScenario, type ScenarioFile } from '../../src/scenario/scenario-file.ts';
import { scriptOf, suiteScenario, withCheckout } from './checkout-helpers.ts';

const EPOCH = 1_700_000_000_000;

interface Message {
  deviceId: string;
  type: CheckoutMessageType;
  payload: unknown;
}

async function collect(scenario: ScenarioFile, vision?: boolean): Promise<{ run: CheckoutScenarioRun; messages: Message[]; summary: CheckoutRunSummary }> {
  const run = new CheckoutScenarioRun(scenario, { epochMs: EPOCH, ...(vision === undefined ? {} : { vision }) });
  const messages: Message[] = [];
  const summary = await run.run({
    async publish(deviceId, type, payload) {
      messages.push({ deviceId, type, payload });
    },
  });
  return { run, messages, summary };
}

/** A short same-weight-swap run (cameras on every bay, vision on): two visits, one or two actions each. */
const base = suiteScenario('same-weight-swap');
const short: ScenarioFile = withCheckout(base, { shoppers: { visits: 2, arrivalPerMin: 6, durationMs: 40_000 }, actionsPerPerson: [1, 2] }, 3);

/** Distance on the floor from a point to a bay's front edge (0 inside the shelf, Infinity behind the gondola). */
function frontDistance(scenario: ScenarioFile, bayId: string, point: { x: number; y: number }): number {
  const gondola = scenario.store.gondolas.find((g) => g.bays.some((b) => b.id === bayId))!;
  const p = gondola.placement!;
  const index = gondola.bays.findIndex((b) => b.id === bayId);
  const axis = p.axis === 'x' ? { x: 1, y: 0 } : { x: 0, y: 1 };
  const normal = p.axis === 'x' ? { x: 0, y: p.side } : { x: p.side, y: 0 };
  const along = (point.x - p.x) * axis.x + (point.y - p.y) * axis.y;
  const out = (point.x - p.x) * normal.x + (point.y - p.y) * normal.y;
  if (out < -p.depthM) return Infinity;
  const beside = Math.max(0, index * p.bayWidthM - along, along - (index + 1) * p.bayWidthM);
  return Math.hypot(beside, Math.max(0, out));
}

let visionRun: ReturnType<typeof collect> | undefined;
/** The short run with vision, made once for the tests that read it. */
const withVision = () => (visionRun ??= collect(short));

describe('checkout run with shelf cameras', () => {
  it('the scenario `vision` section: off by default, strict (a typo is rejected), absent from scenarios without it', () => {
    expect(base.vision?.enabled).toBe(true);
    expect(base.vision?.fps).toBe(10);
    const plain = suiteScenario('put-back');
    expect('vision' in plain).toBe(false);
    const json = JSON.parse(JSON.stringify({ ...plain, store: plain.store }));
    expect(parseScenario({ ...json, vision: {} }).vision?.enabled).toBe(false);
    expect(() => parseScenario({ ...json, vision: { enabled: true, fsp: 5 } })).toThrow(/vision: Unrecognized key: "fsp"/);
    expect(() => parseScenario({ ...json, vision: { enabeld: true } })).toThrow(/enabeld/);
    expect(() => parseScenario({ ...json, vision: { enabled: true, placement: { distanceMM: 2 } } })).toThrow(/vision\.placement/);
    // Vision on in a store whose bays list no camera: refused, not silently camera-less.
    expect(() => new CheckoutScenarioRun({ ...plain, vision: parseScenario({ ...json, vision: { enabled: true } }).vision }, { epochMs: EPOCH })).toThrow(/no bay .* lists a camera/);
  });

  it('renders with the calibration the agent derives from the store model (defaults), one camera per bay', () => {
    const run = new CheckoutScenarioRun(short, { epochMs: EPOCH });
    const agentSide = [...bayCameras(short.store).values()];
    expect(run.cameraDeviceIds).toEqual(short.store.gondolas.flatMap((g) => g.bays.map((b) => `cam-${b.id}`)));
    expect(run.cameraCalibrations).toEqual(agentSide);
    expect(new CheckoutScenarioRun(short, { epochMs: EPOCH, vision: false }).cameraDeviceIds).toEqual([]);
  });

  it('sends frames only around hand activity at the bay, at fps, in device-time order, header + JPEG only, calibrated size', async () => {
    const { run, messages, summary } = await withVision();
    const frames = messages.filter((m) => m.type === 'frame');
    expect(summary.vision).toMatchObject({ enabled: true, cameras: 6, frames: frames.length });
    expect(summary.messages.frame).toBe(frames.length);
    expect(frames.length).toBeGreaterThan(20);

    // Device-time order over all devices, frames included.
    let last = 0;
    for (const m of messages) {
      const at = m.type === 'frame' ? (decodeCameraFrame(m.payload as Buffer) as { timestampMs: number }).timestampMs : (m.payload as { at: number }).at;
      expect(at).toBeGreaterThanOrEqual(last);
      last = at;
    }

    const script = scriptOf(short);
    const bayOf = new Map<string, string>(short.store.gondolas.flatMap((g) => g.bays.map((b) => [`cam-${b.id}`, b.id] as const)));
    const calibration = new Map(run.cameraCalibrations.map((c) => [c.camera, c]));
    const times = new Map<string, number[]>();
    for (const [i, m] of frames.entries()) {
      const payload = m.payload as Buffer;
      expect(Buffer.isBuffer(payload)).toBe(true);
      const decoded = decodeCameraFrame(payload);
      if (!decoded.ok) throw new Error(decoded.reject.reason);
      // Nothing but the 12-byte header and the JPEG, which carries no metadata segment.
      expect(payload.length).toBe(CAMERA_FRAME_HEADER_BYTES + decoded.jpeg.length);
      const t = decoded.timestampMs - EPOCH;
      expect(t % 100).toBe(0); // 10 fps ticks
      times.set(m.deviceId, [...(times.get(m.deviceId) ?? []), t]);
      // A hand of someone present came within CAMERA_TRIGGER_M of the bay's front within CAMERA_ROLL_MS of the frame.
      const bayId = bayOf.get(m.deviceId)!;
      const near = script.persons.some((p) => {
        for (let d = -CAMERA_ROLL_MS; d <= CAMERA_ROLL_MS; d += 50) {
          const at = t + d;
          if (p.present(at) && p.handsAt(at).some((h) => frontDistance(short, bayId, h) <= CAMERA_TRIGGER_M + 1e-9)) return true;
        }
        return false;
      });
      expect(near, `${m.deviceId} @ ${t}`).toBe(true);
      if (i % 15 === 0) {
        const c = calibration.get(m.deviceId)!;
        expect(await verifyJpeg(decoded.jpeg, { width: c.width, height: c.height })).toBeUndefined();
        const meta = await sharp(decoded.jpeg).metadata();
        expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 240]);
        expect([meta.exif, meta.icc, meta.xmp, meta.comments?.length ?? 0]).toEqual([undefined, undefined, undefined, 0]);
        const raw = await sharp(decoded.jpeg).raw().toBuffer({ resolveWithObject: true });
        expect([raw.info.width, raw.info.height, raw.info.channels]).toEqual([320, 240, 3]);
      }
    }
    // One frame per tick per camera, never twice.
    for (const ts of times.values()) expect(new Set(ts).size).toBe(ts.length);

    // Every hand on a tray is filmed by its bay's camera, every 100 ms of it.
    for (const a of script.truth().actions) {
      const bayId = script.plan.site(a.trayId).bay;
      const filmed = new Set(times.get(`cam-${bayId}`) ?? []);
      for (let t = Math.ceil(a.startAt / 100) * 100; t <= a.endAt; t += 100) expect(filmed.has(t), `${a.trayId} ${a.kind} @ ${t}`).toBe(true);
    }
    // Motion-triggered: most of the run is dark (far fewer frames than ticks × cameras).
    expect(frames.length).toBeLessThan(0.25 * (summary.simulatedMs / 100) * 6);
  }, 60_000);

  it('without vision (`vision: false`) sends no frame and the other devices\' messages are byte for byte the same', async () => {
    const on = await withVision();
    const off = await collect(short, false);
    expect(off.summary.vision).toEqual({ enabled: false, cameras: 0, frames: 0, renderMs: 0 });
    expect(off.messages.some((m) => m.type === 'frame')).toBe(false);
    const digest = (ms: Message[]) => createHash('sha256').update(JSON.stringify(ms.filter((m) => m.type !== 'frame'))).digest('hex');
    expect(digest(on.messages)).toBe(digest(off.messages));
  }, 60_000);
});
