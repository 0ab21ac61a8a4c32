import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeCameraFrame, storeModel, topics, trayPlacements, type StoreModelInput } from '@storeedge/device-drivers';
import { Rng, ShelfLoadModel, weightPayloads } from '@storeedge/simulators';
import { SimulatedShelfCamera } from '@storeedge/simulators/vision/index.ts';
import { storeModelFixture } from '../inventory/store-fixture.ts';
import { closed, counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/** The inventory fixture with gondola g1 placed in the store and camera "cam-b1" over its bay b1. */
const model: StoreModelInput = {
  ...storeModelFixture,
  gondolas: (storeModelFixture.gondolas ?? []).map((g) =>
    g.id === 'g1' ? { ...g, placement: { x: 0, y: 2, axis: 'x', side: -1, bayWidthM: 1, depthM: 0.4 }, bays: g.bays.map((b) => ({ ...b, cameras: ['cam-b1'] })) } : g,
  ),
};

/** No randomness but sensor noise, so the frames are quick and steady. */
const steady = { occlusionRate: 0, lighting: { gain: [1, 1] as [number, number], colourCast: 0 }, blur: { defocusSigmaPx: [0, 0] as [number, number], motionPx: [0, 0] as [number, number] } };

describe('camera frames over MQTT (real agent, embedded broker, TCP)', () => {
  let t: TestAgent;
  afterEach(async () => t.close());

  it('buffers good frames byte for byte; rejects corrupt, wrong-size, malformed and foreign frames with counted codes; the agent keeps serving', async () => {
    t = await startTestAgent({ store: { model } });
    const parsed = storeModel.parse(model);
    // The same default placement the agent derives from the store model (bayCamera, 320 × 240).
    const camera = new SimulatedShelfCamera({ model: parsed, bayId: 'b1', seed: 7, vision: steady });
    expect(camera.id).toBe('cam-b1');
    expect(t.agent.frames.pinhole('cam-b1')?.calibration).toEqual(camera.camera.calibration);

    const cam = await t.connect('cam-b1', await t.addDevice('cam-b1', 'camera'));
    const frameTopic = topics.event(t.storeId, 'cam-b1', 'frame');
    const base = 1_700_000_000_000;
    const good = [];
    for (const dt of [0, 100, 200]) good.push(await camera.render({}, base + dt));
    // The retain flag of a frame is dropped by the broker (frames live only in the frame store).
    for (const frame of good) await cam.publishAsync(frameTopic, encodeCameraFrame(frame.timestampMs, frame.jpeg), { qos: 1, retain: frame === good[2] });

    // Corrupt: framing intact (SOI … EOI), entropy-coded data cut short.
    const cut = good[0]!.jpeg;
    const corrupt = Buffer.concat([cut.subarray(0, Math.floor(cut.length * 0.6)), Buffer.from([0xff, 0xd9])]);
    await cam.publishAsync(frameTopic, encodeCameraFrame(base + 300, corrupt), { qos: 1 });
    // Wrong size: a 160 × 120 frame from a camera calibrated for 320 × 240.
    const small = await new SimulatedShelfCamera({ model: parsed, bayId: 'b1', seed: 7, vision: { ...steady, width: 160, height: 120 } }).render({}, base + 400);
    await cam.publishAsync(frameTopic, encodeCameraFrame(small.timestampMs, small.jpeg), { qos: 1 });
    // Malformed: a bare JPEG without the frame header; stale: older than the window.
    await cam.publishAsync(frameTopic, good[1]!.jpeg, { qos: 1 });
    await t.agent.frames.idle();
    await cam.publishAsync(frameTopic, encodeCameraFrame(base - 10_000, good[0]!.jpeg), { qos: 1 });

    // A registered device of another kind: its own evt/frame is not a type it sends; another device's topic closes it.
    const shelf = await t.connect('shelf-1', await t.addDevice('shelf-1', 'shelf'));
    await shelf.publishAsync(topics.event(t.storeId, 'shelf-1', 'frame'), encodeCameraFrame(base, good[0]!.jpeg), { qos: 1 });
    shelf.publish(frameTopic, encodeCameraFrame(base + 500, good[0]!.jpeg), { qos: 1 });
    await closed(shelf);
    // An unregistered client cannot even connect.
    await expect(
      mqtt.connectAsync(t.agent.addresses.mqtt!, { clientId: 'cam-ghost', username: 'cam-ghost', password: 'guess', reconnectPeriod: 0, connectTimeout: 5_000 }),
    ).rejects.toThrow();

    await t.agent.frames.idle();
    const held = t.agent.frames.framesAround('cam-b1', base + 100, 100, 100);
    expect(held.map((f) => f.timestampMs)).toEqual(good.map((f) => f.timestampMs));
    for (const [i, frame] of held.entries()) expect(frame.jpeg.equals(good[i]!.jpeg), `frame ${i} byte for byte`).toBe(true);
    expect(t.agent.frames.nearest('cam-b1', base + 260)?.timestampMs).toBe(base + 200);

    const rejects = { device: 'cam-b1' };
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { ...rejects, code: 'DRV_ERR_CAMERA_JPEG_INVALID' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { ...rejects, code: 'DRV_ERR_CAMERA_FRAME_SIZE' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { ...rejects, code: 'DRV_ERR_CAMERA_FRAME_MALFORMED' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { ...rejects, code: 'DRV_ERR_CAMERA_FRAME_STALE' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'shelf-1', code: 'EDGE_ERR_INGEST_UNKNOWN_TYPE' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'shelf-1', code: 'EDGE_ERR_INGEST_TOPIC_DENIED' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'cam-ghost', code: 'EDGE_ERR_AUTH_BAD_CREDENTIALS' })).toBe(1);
    expect(await counter(t.agent, 'storeedge_messages_in_total', { type: 'camera.frame' })).toBe(3);
    expect(t.agent.frames.stats('cam-b1')).toMatchObject({ received: 7, accepted: 3, buffered: 3, queued: 0, lastTimestampMs: base + 200 });
    expect(t.agent.status.get('cam-b1')?.rejects).toEqual({
      DRV_ERR_CAMERA_JPEG_INVALID: 1,
      DRV_ERR_CAMERA_FRAME_SIZE: 1,
      DRV_ERR_CAMERA_FRAME_MALFORMED: 1,
      DRV_ERR_CAMERA_FRAME_STALE: 1,
    });

    // Still serving: the camera is connected, the HTTP API answers, /metrics shows the codes and buffers.
    expect(cam.connected).toBe(true);
    const next = await camera.render({}, base + 300);
    await cam.publishAsync(frameTopic, encodeCameraFrame(next.timestampMs, next.jpeg), { qos: 1 });
    await eventually(() => t.agent.frames.nearest('cam-b1', base + 300, 0) !== undefined, 'a later good frame is buffered');
    const health = await fetch(`${t.agent.httpUrl}/api/health`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`${t.agent.httpUrl}/metrics`, { headers: { authorization: t.authorization } })).text();
    expect(metrics).toContain('storeedge_device_rejects_total{device="cam-b1",code="DRV_ERR_CAMERA_JPEG_INVALID"} 1');
    expect(metrics).toContain('storeedge_camera_frames_buffered{camera="cam-b1"} 4');
    expect(metrics).toContain('storeedge_queue_depth{queue="camera.frames"} 0');
    const device = (await (await fetch(`${t.agent.httpUrl}/api/devices/cam-b1`, { headers: { authorization: t.authorization } })).json()) as { rejects: Record<string, number>; messages: number };
    expect(device.rejects.DRV_ERR_CAMERA_FRAME_SIZE).toBe(1);
  });

  it('keeps a camera’s frames past its 10 s window while a tray of its bay holds a shelf change undecided, and lets them go once it is decided', async () => {
    t = await startTestAgent({ store: { model } });
    const parsed = storeModel.parse(model);
    const frame = await new SimulatedShelfCamera({ model: parsed, bayId: 'b1', seed: 7, vision: steady }).render({}, 0);
    const cam = await t.connect('cam-b1', await t.addDevice('cam-b1', 'camera'));
    const shelf = await t.connect('shelf-1', await t.addDevice('shelf-1', 'shelf'));
    // Load cells at 10 Hz under tray t1 (cola) and t2 (chips); at 5 s a hand puts 158 g on t1, which no SKU of it explains:
    // the weight pipeline holds that change for unexplainedHoldMs (30 s) before it decides it.
    const catalog = new Map(parsed.catalog.map((c) => [c.sku, c.unitWeightG]));
    const placements = trayPlacements(parsed).filter((p) => p.tray.device === 'shelf-1');
    const cells = new ShelfLoadModel({
      trays: placements.map((p) => ({ id: p.tray.id, tareG: 400, loadG: p.tray.facings.reduce((g, f) => g + f.initial * catalog.get(f.sku)!, 0), neighbours: p.neighbours, burstGroup: p.shelf })),
      noise: { sampleRateHz: 10, noiseSigmaG: 2, driftGPerSqrtHour: 0, creepFraction: 0, bursts: null, crossTalk: null },
      random: new Rng(3),
    });
    cells.handle('t1', { startAt: 5_000, durationMs: 1_500, deltaG: 158, touchG: 200 });
    const channels = placements.map((p) => ({ trayId: p.tray.id, deviceId: p.tray.device, channel: p.tray.channel }));
    const base = 1_700_000_000_000;
    const changes: number[] = [];
    t.agent.bus.on('shelf.change', (c) => changes.push(c.settledAt));
    const heldAt = (ms: number) => t.agent.frames.nearest('cam-b1', base + ms, 0) !== undefined;
    const run = async (from: number, to: number) => {
      for (let ms = from; ms < to; ms += 100) {
        for (const { payload } of weightPayloads(cells.sample(ms), channels, base + ms, ms / 100)) await shelf.publishAsync(topics.event(t.storeId, 'shelf-1', 'weight'), JSON.stringify(payload), { qos: 1 });
        if (ms % 500 !== 0) continue;
        await cam.publishAsync(topics.event(t.storeId, 'cam-b1', 'frame'), encodeCameraFrame(base + ms, frame.jpeg), { qos: 1 });
        // Each frame validated before the next: a camera faster than the JPEG checks would have its oldest waiting frames dropped.
        await eventually(() => t.agent.frames.stats('cam-b1')?.lastTimestampMs === base + ms, `frame ${ms} buffered`);
      }
    };
    await run(0, 25_000);
    // 20 s after the put-down, still undecided: the frames from a little before it on are held (the hand coming in); older
    // ones went with the window, as did everything before 15 s on the old 10 s window alone.
    expect(changes).toEqual([]);
    expect([0, 1_000, 4_500, 5_000, 7_000, 14_000].map(heldAt)).toEqual([false, false, true, true, true, true]);
    await run(25_000, 45_000);
    // Decided (about 30 s after it settled): the window alone applies again.
    expect(changes).toHaveLength(1);
    expect([5_000, 34_000, 35_000, 44_500].map(heldAt)).toEqual([false, false, true, true]);
  });

  it('refuses frames from a camera with no calibration, counted, without decoding them', async () => {
    t = await startTestAgent();
    const cam = await t.connect('cam-loose', await t.addDevice('cam-loose', 'camera'));
    const frame = await new SimulatedShelfCamera({ model: storeModel.parse(model), bayId: 'b1', seed: 1, vision: steady }).render({}, 5);
    await cam.publishAsync(topics.event(t.storeId, 'cam-loose', 'frame'), encodeCameraFrame(5, frame.jpeg), { qos: 1 });
    expect(await counter(t.agent, 'storeedge_device_rejects_total', { device: 'cam-loose', code: 'DRV_ERR_CAMERA_UNCALIBRATED' })).toBe(1);
    expect(t.agent.frames.pending()).toBe(0);
    expect(cam.connected).toBe(true);
  });
});
