import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { encodeCameraFrame, storeModel, topics, trayPoints, type StoreModel, type StoreModelInput, type StorePoint } from '@storeedge/device-drivers';
import { RECOGNISER_HAND_CROP_RADIUS_M, RECOGNISER_MANIFEST } from '@storeedge/models';
import { HAND_CROP_RADIUS_M, recogniserGalleryCrops } from '@storeedge/simulators/vision/dataset.ts';
import { recogniserCatalog } from '@storeedge/simulators/vision/recogniser-catalog.ts';
import { SimulatedShelfCamera, shopperLook, type ArmPose } from '@storeedge/simulators/vision/index.ts';
import { StoreAgent } from '../../src/agent.ts';
import { loadConfig, type ConfigInput } from '../../src/config/load.ts';
import { newApiToken } from '../../src/http/auth/index.ts';
import type { StoreAlert } from '../../src/events.ts';
import { silentLogger } from '../../src/log.ts';
import type { CatalogImage, CatalogImages } from '../../src/vision/vision-service.ts';
import { softmaxOver } from '../../src/vision/hints.ts';
import { counter, eventually, startTestAgent, type TestAgent } from '../helpers/agent-harness.ts';

/**
 * The agent's vision service wired end to end: a real agent (embedded broker, temp ledger), a
 * simulated bay camera publishing frames over MQTT, catalogue images rendered by the simulator,
 * the committed recogniser in a worker thread. A wiring test with clearly different products;
 * the recogniser's accuracy is measured in models/test/recogniser.test.ts.
 */

/** Clearly different products (crisps, soda can, juice carton, jam jar, tea box); `ADDED` (an oat bar range never seen in training) comes later, as a SKU HQ adds. */
const SKUS = ['range-01-1', 'range-02-1', 'range-03-1', 'range-04-1', 'range-05-1'] as const;
const ADDED = 'range-06-1';
const HELD = 'range-03-1';

/** No randomness but sensor noise, so the frames are steady. */
const steady = { occlusionRate: 0, lighting: { gain: [1, 1] as [number, number], colourCast: 0 }, blur: { defocusSigmaPx: [0, 0] as [number, number], motionPx: [0, 0] as [number, number] } };

const catalog = recogniserCatalog();

/** One placed gondola, bay b1 (camera cam-b1): 3 shelves of the products above. */
const modelInput: StoreModelInput = {
  catalog,
  zones: [{ id: 'floor' }],
  gondolas: [
    {
      id: 'g1',
      zone: 'floor',
      placement: { x: 0, y: 2, axis: 'x', side: -1, bayWidthM: 1, depthM: 0.4 },
      bays: [
        {
          id: 'b1',
          cameras: ['cam-b1'],
          shelves: [
            [SKUS[0], SKUS[1]],
            [SKUS[2], SKUS[3], SKUS[4]],
            [ADDED, SKUS[0]],
          ].map((skus, s) => ({
            id: `s${s + 1}`,
            trays: skus.map((sku, t) => ({ id: `t${s + 1}-${t + 1}`, device: `shelf-${s + 1}`, channel: t, facings: [{ sku, capacity: 6, minLevel: 0, initial: 0 }] })),
          })),
        },
      ],
    },
  ],
};
const model: StoreModel = storeModel.parse(modelInput);

/** A shopper's hand 12 cm in front of the middle tray of the middle shelf, 8 cm above it, holding `sku`. */
function handAt(sku: string): { arm: ArmPose; hand: StorePoint } {
  const tray = trayPoints(model).get('t2-2')!;
  const hand = { x: tray.x, y: tray.y - 0.12, z: tray.z + 0.08 };
  return { hand, arm: { shoulder: { x: tray.x + 0.2, y: tray.y - 0.35, z: 1.4 }, hand, look: shopperLook('vision-test'), holding: sku } };
}

/** Every tray empty: the held unit is the only product in the crop. */
const emptyShelves = new Map(model.gondolas.flatMap((g) => g.bays.flatMap((b) => b.shelves.flatMap((s) => s.trays.map((t) => [t.id, [0]] as const)))));

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A copy of the committed model; `tamper` flips one byte of the .onnx. */
function modelCopy(tamper: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), 'vision-model-'));
  dirs.push(dir);
  const manifest = JSON.parse(readFileSync(RECOGNISER_MANIFEST, 'utf8')) as { file: string };
  copyFileSync(RECOGNISER_MANIFEST, join(dir, 'manifest.json'));
  const bytes = readFileSync(join(dirname(RECOGNISER_MANIFEST), manifest.file));
  if (tamper) bytes[bytes.length - 100]! ^= 0x01;
  writeFileSync(join(dir, manifest.file), bytes);
  return join(dir, 'manifest.json');
}

async function catalogImages(skus: readonly string[]): Promise<Map<string, CatalogImage[]>> {
  const out = new Map<string, CatalogImage[]>();
  for (const crop of await recogniserGalleryCrops(catalog, skus)) out.set(crop.sku, [...(out.get(crop.sku) ?? []), { width: 64, height: 64, rgb: crop.rgb }]);
  return out;
}

/** The API token these agents accept (a service token named "test"). */
const apiToken = newApiToken();
const auth = { headers: { authorization: `Bearer ${apiToken.token}` } };

interface Running {
  agent: StoreAgent;
  dir: string;
  clients: MqttClient[];
}

/** An agent on loopback (free ports, temp ledger) with the store model above and the given vision config and catalogue images. */
async function startAgent(vision: ConfigInput['vision'], images: CatalogImages | undefined, dir = mkdtempSync(join(tmpdir(), 'storeedge-vision-'))): Promise<Running> {
  const config = loadConfig(
    {
      storeId: 'store-test',
      dataDir: dir,
      broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
      http: { host: '127.0.0.1', port: 0, apiTokens: [{ name: 'test', role: 'service', tokenSha256: apiToken.tokenSha256 }] },
      log: { level: 'silent' },
      store: { model: modelInput },
      ...(vision ? { vision } : {}),
    },
    dir,
  );
  const agent = await StoreAgent.start(config, { logger: silentLogger(), ...(images ? { catalogImages: images } : {}) });
  return { agent, dir, clients: [] };
}

async function stopAgent(r: Running | undefined, keepDir = false): Promise<void> {
  if (!r) return;
  await Promise.all(r.clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await r.agent.stop();
  if (!keepDir) rmSync(r.dir, { recursive: true, force: true });
}

async function json<T>(agent: StoreAgent, path: string): Promise<T> {
  const response = await fetch(`${agent.httpUrl}${path}`, auth);
  expect(response.status, path).toBe(200);
  return (await response.json()) as T;
}

describe('vision service in the agent', () => {
  let running: Running | undefined;
  let harness: TestAgent | undefined;
  afterEach(async () => {
    await stopAgent(running);
    await harness?.close();
    running = undefined;
    harness = undefined;
  });

  it('names the product in a hand from camera frames over MQTT; a SKU added later is recognised from its images; no frame near the time → undefined', { timeout: 120_000 }, async () => {
    // The agent crops with the radius the recogniser was trained with (one value, checked against the simulator's).
    expect(RECOGNISER_HAND_CROP_RADIUS_M).toBe(HAND_CROP_RADIUS_M);
    const images = await catalogImages([...SKUS, ADDED]);
    const added = images.get(ADDED)!;
    images.delete(ADDED);
    running = await startAgent(undefined, images);
    const { agent } = running;
    expect(agent.vision.status()).toMatchObject({ state: 'available', gallerySkus: SKUS.length, version: '1.0.0', galleryVersion: '1.0.0' });

    // The camera: registered, connected over TCP, publishing evt/frame.
    const camera = new SimulatedShelfCamera({ model, bayId: 'b1', seed: 11, vision: steady });
    expect(camera.id).toBe('cam-b1');
    const secret = (await agent.registry.add({ id: 'cam-b1', kind: 'camera', actor: 'test' })).secret;
    const cam = await mqtt.connectAsync(agent.addresses.mqtt!, { clientId: 'cam-b1', username: 'cam-b1', password: secret, reconnectPeriod: 0, connectTimeout: 5_000 });
    running.clients.push(cam);
    const base = 1_700_000_000_000;
    const held = handAt(HELD);
    const addedHand = handAt(ADDED);
    const shots = [
      { t: base, arm: held.arm },
      { t: base + 100, arm: held.arm },
      { t: base + 1_000, arm: addedHand.arm },
    ];
    for (const shot of shots) {
      const frame = await camera.render({ stock: emptyShelves, arms: [shot.arm] }, shot.t);
      await cam.publishAsync(topics.event('store-test', 'cam-b1', 'frame'), encodeCameraFrame(frame.timestampMs, frame.jpeg), { qos: 1 });
    }
    await eventually(() => agent.frames.stats('cam-b1')?.accepted === shots.length, 'frames buffered');

    // identify at the hand point, by bay: the held product ranks first.
    const evidence = await agent.vision.identify({ bayId: 'b1', atMs: base + 100, point: held.hand });
    expect(evidence).toBeDefined();
    expect(evidence!).toMatchObject({ cameraId: 'cam-b1', frameAtMs: base + 100, framesAtMs: [base + 100], modelVersion: '1.0.0', radiusM: HAND_CROP_RADIUS_M, temperature: 20 });
    expect(evidence!.scores.map((s) => s.sku).sort()).toEqual([...SKUS].sort());
    expect(evidence!.scores[0]!.sku).toBe(HELD);
    expect(evidence!.margin).toBeGreaterThan(0);
    // Probabilities over a candidate set: softmax of 20 × cosine; a candidate without catalogue images is left out.
    const p = evidence!.probabilities([HELD, SKUS[0], SKUS[4], 'no-such-sku']);
    expect([...p.keys()].sort()).toEqual([HELD, SKUS[0], SKUS[4]].sort());
    expect([...p.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(Math.max(...p.values())).toBe(p.get(HELD));
    const score = (sku: string) => evidence!.scores.find((s) => s.sku === sku)!.score;
    expect(p.get(HELD)! / p.get(SKUS[0])!).toBeCloseTo(Math.exp(20 * (score(HELD) - score(SKUS[0]))), 6);
    // top-k, and by camera id.
    const top2 = await agent.vision.identify({ cameraId: 'cam-b1', atMs: base + 120, point: held.hand, k: 2 });
    expect(top2!.scores).toHaveLength(2);
    expect(top2!.scores[0]!.sku).toBe(HELD);

    // identifyBest: the frames at or before atMs, embeddings averaged.
    const best = await agent.vision.identifyBest({ bayId: 'b1', atMs: base + 100, point: held.hand });
    expect(best!.framesAtMs).toEqual([base, base + 100]);
    expect(best!.scores[0]!.sku).toBe(HELD);

    // No frame within 150 ms of the time, an unknown bay, a hand out of view: undefined, counted.
    expect(await agent.vision.identify({ bayId: 'b1', atMs: base + 500, point: held.hand })).toBeUndefined();
    expect(await agent.vision.identify({ bayId: 'b9', atMs: base + 100, point: held.hand })).toBeUndefined();
    expect(await agent.vision.identify({ bayId: 'b1', atMs: base + 100, point: { x: 40, y: -30, z: 1 } })).toBeUndefined();

    // A SKU HQ adds, never seen in training: its catalogue images alone make it recognisable.
    await agent.vision.setCatalogImages(ADDED, added);
    expect(agent.vision.status().gallerySkus).toBe(SKUS.length + 1);
    const newcomer = await agent.vision.identify({ bayId: 'b1', atMs: base + 1_000, point: addedHand.hand });
    expect(newcomer!.scores[0]!.sku).toBe(ADDED);

    // A hot swap (another copy of the model): the gallery is rebuilt with it — every catalogue image embedded again — and identify still answers.
    const inference = agent.vision.inference!;
    const cropsBefore = inference.metrics().crops;
    expect(await agent.vision.swap(modelCopy(false))).toMatchObject({ state: 'available', galleryVersion: '1.0.0', gallerySkus: SKUS.length + 1 });
    expect(inference.metrics()).toMatchObject({ swaps: 1, state: 'available' });
    const galleryImages = [...images.values()].reduce((n, list) => n + list.length, added.length);
    expect(inference.metrics().crops - cropsBefore).toBe(galleryImages);
    const again = await agent.vision.identify({ bayId: 'b1', atMs: base + 100, point: held.hand });
    expect(again!.scores[0]!.sku).toBe(HELD);
    expect(again!.scores[0]!.score).toBeCloseTo(evidence!.scores[0]!.score, 4);

    // Metrics on GET /metrics.
    const text = await (await fetch(`${agent.httpUrl}/metrics`, auth)).text();
    expect(text).toContain('storeedge_vision_state{state="available"} 1');
    expect(text).toContain('storeedge_vision_state{state="unavailable"} 0');
    expect(text).toContain('storeedge_vision_identify_total{outcome="ok"} 5');
    expect(text).toContain('storeedge_vision_identify_total{outcome="no-frame"} 2');
    expect(text).toContain('storeedge_vision_identify_total{outcome="out-of-view"} 1');
    expect(text).toContain('storeedge_vision_identify_total{outcome="unavailable"} 0');
    expect(text).toContain('storeedge_queue_depth{queue="vision.inference"} 0');
    expect(text).toMatch(/storeedge_vision_inference_latency_seconds\{quantile="0.95"\} [\d.e-]+/);
    expect(text).toContain('storeedge_vision_inference_dropped_total 0');
    expect(text).toContain(`storeedge_vision_gallery_skus ${SKUS.length + 1}`);
    expect(text).toContain('storeedge_vision_inference_workers 1');
    // Vision working: no vision alert.
    expect((await json<{ alerts: StoreAlert[] }>(agent, '/api/alerts?kind=vision-unavailable')).alerts).toEqual([]);
  });

  it('tells the hand that holds a unit from a hand beside it: its crops look more like the unit (what the checkout charges a pick by when two visits reached in)', { timeout: 180_000 }, async () => {
    // A stocked bay at the scenario's default camera knobs (lighting, blur, noise, passing shoppers); one hand holds the
    // tray's product on its way out, another comes out beside it, empty or holding another product (checkout-service.ts
    // `#takerSeen`: odds × exp(10 × (cos_holder − cos_other))).
    running = await startAgent(undefined, await catalogImages([...SKUS, ADDED]));
    const { agent } = running;
    const camera = new SimulatedShelfCamera({ model, bayId: 'b1', seed: 12 });
    const secret = (await agent.registry.add({ id: 'cam-b1', kind: 'camera', actor: 'test' })).secret;
    const cam = await mqtt.connectAsync(agent.addresses.mqtt!, { clientId: 'cam-b1', username: 'cam-b1', password: secret, reconnectPeriod: 0, connectTimeout: 5_000 });
    running.clients.push(cam);
    const stocked = new Map(model.gondolas.flatMap((g) => g.bays.flatMap((b) => b.shelves.flatMap((s) => s.trays.map((t) => [t.id, [5]] as const)))));
    const points = trayPoints(model);
    let t = 1_700_000_000_000;
    const margins: Array<{ other: 'empty' | 'holding'; margin: number }> = [];
    for (const [trayId, sku] of [['t2-1', SKUS[2]], ['t2-2', SKUS[3]], ['t2-3', SKUS[4]], ['t3-2', SKUS[0]]] as const) {
      const tray = points.get(trayId)!;
      for (const back of [0.1, 0.25]) {
        for (const [dx, other] of [[0.15, 'empty'], [-0.2, 'empty'], [0.12, 'holding']] as const) {
          const holder = { x: tray.x, y: tray.y - back, z: tray.z + 0.08 };
          const beside = { x: tray.x + dx, y: tray.y - back - 0.05, z: tray.z + 0.05 };
          const arms: ArmPose[] = [
            { shoulder: { x: tray.x - 0.2, y: tray.y - 0.45, z: 1.4 }, hand: holder, look: shopperLook(`holder-${t}`), holding: sku },
            { shoulder: { x: beside.x + 0.2, y: tray.y - 0.45, z: 1.4 }, hand: beside, look: shopperLook(`beside-${t}`), holding: other === 'holding' ? SKUS[(SKUS.indexOf(sku) + 2) % SKUS.length] : undefined },
          ];
          const frame = await camera.render({ stock: stocked, arms }, t);
          await cam.publishAsync(topics.event('store-test', 'cam-b1', 'frame'), encodeCameraFrame(frame.timestampMs, frame.jpeg), { qos: 1 });
          const at = t;
          await eventually(() => agent.frames.nearest('cam-b1', at, 0) !== undefined, 'frame buffered');
          const cos = async (point: StorePoint) => (await agent.vision.identify({ bayId: 'b1', atMs: at, point }))?.scores.find((m) => m.sku === sku)?.score;
          const [a, b] = [await cos(holder), await cos(beside)];
          expect(a, `${trayId} ${back} ${other}`).toBeDefined();
          expect(b, `${trayId} ${back} ${other}`).toBeDefined();
          margins.push({ other, margin: a! - b! });
          t += 10_000;
        }
      }
    }
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    const empty = margins.filter((m) => m.other === 'empty').map((m) => m.margin);
    const holding = margins.filter((m) => m.other === 'holding').map((m) => m.margin);
    console.log(`holder's cosine minus the other hand's, ${margins.length} frames: beside an empty hand min ${Math.min(...empty).toFixed(3)} mean ${mean(empty).toFixed(3)}; beside a hand holding another product min ${Math.min(...holding).toFixed(3)} mean ${mean(holding).toFixed(3)}`);
    // The holder's crops look more like the unit in every frame, clearly so beside an empty hand.
    expect(Math.min(...margins.map((m) => m.margin))).toBeGreaterThan(0);
    expect(mean(empty)).toBeGreaterThan(0.15);
  });

  it('a tampered model leaves vision off with an alert while the agent serves; a swap to a good model and catalogue images clear it', { timeout: 120_000 }, async () => {
    running = await startAgent({ manifest: modelCopy(true) }, undefined);
    const { agent } = running;
    const raised: StoreAlert[] = [];
    const cleared: StoreAlert[] = [];
    agent.bus.on('alert.raised', (a) => raised.push(a));
    agent.bus.on('alert.cleared', (a) => cleared.push(a));

    expect(agent.vision.status()).toMatchObject({ state: 'unavailable', unavailable: { reason: 'model', code: 'MDL_ERR_MODEL_INTEGRITY' } });
    let alerts = (await json<{ alerts: StoreAlert[] }>(agent, '/api/alerts?kind=vision-unavailable')).alerts;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'vision-unavailable', state: 'open', details: { reason: 'model', code: 'MDL_ERR_MODEL_INTEGRITY' } });
    expect(alerts[0]!.message).toMatch(/weight only.*MDL_ERR_MODEL_INTEGRITY.*sha256/);
    // Weight-only: identify answers undefined, counted as unavailable; the agent serves.
    expect(await agent.vision.identify({ bayId: 'b1', atMs: 1, point: handAt(HELD).hand })).toBeUndefined();
    expect(await counter(agent, 'storeedge_vision_identify_total', { outcome: 'unavailable' })).toBe(1);
    expect((await json<{ status: string }>(agent, '/api/health')).status).toBe('ok');
    expect(await (await fetch(`${agent.httpUrl}/metrics`, auth)).text()).toContain('storeedge_vision_state{state="unavailable"} 1');
    // A second refused swap keeps it off (the same alert, not a second one).
    await expect(agent.vision.swap(modelCopy(true))).rejects.toMatchObject({ code: 'MDL_ERR_MODEL_INTEGRITY' });
    expect(agent.vision.status().state).toBe('unavailable');
    expect(agent.inventory.alerts({ kind: 'vision-unavailable', state: 'open' })).toHaveLength(1);

    // A good model, but no catalogue images yet: still off, for that reason now.
    const status = await agent.vision.swap(modelCopy(false));
    expect(status).toMatchObject({ state: 'unavailable', unavailable: { reason: 'no-catalog-images' } });
    alerts = agent.inventory.alerts({ kind: 'vision-unavailable' });
    expect(alerts.map((a) => [a.state, a.details.reason])).toEqual([
      ['open', 'no-catalog-images'],
      ['cleared', 'model'],
    ]);

    // HQ sends catalogue images: vision is on, the alert cleared (ledger, bus).
    const images = await catalogImages([SKUS[0], SKUS[1]]);
    for (const [sku, list] of images) await agent.vision.setCatalogImages(sku, list);
    expect(agent.vision.status()).toMatchObject({ state: 'available', gallerySkus: 2, unavailable: undefined });
    expect(agent.inventory.alerts({ kind: 'vision-unavailable' }).map((a) => a.state)).toEqual(['cleared', 'cleared']);
    expect(raised.map((a) => a.details.reason)).toEqual(['no-catalog-images']);
    expect(cleared.map((a) => a.details.reason)).toEqual(['model', 'no-catalog-images']);
    expect(await (await fetch(`${agent.httpUrl}/metrics`, auth)).text()).toContain('storeedge_vision_state{state="available"} 1');
    // No frames: no evidence, no error.
    expect(await agent.vision.identify({ bayId: 'b1', atMs: 1, point: handAt(HELD).hand })).toBeUndefined();
    expect(await counter(agent, 'storeedge_vision_identify_total', { outcome: 'no-frame' })).toBe(1);
  });

  it('an open vision alert survives a restart with the same fault (not raised twice) and is cleared by a start that works', { timeout: 120_000 }, async () => {
    const tampered = modelCopy(true);
    running = await startAgent({ manifest: tampered }, undefined);
    const dir = running.dir;
    const [first] = running.agent.inventory.alerts({ kind: 'vision-unavailable', state: 'open' });
    expect(first).toMatchObject({ details: { reason: 'model', code: 'MDL_ERR_MODEL_INTEGRITY' } });
    await stopAgent(running, true);
    running = await startAgent({ manifest: tampered }, undefined, dir);
    expect(running.agent.inventory.alerts({ kind: 'vision-unavailable' }).map((a) => [a.id, a.state])).toEqual([[first!.id, 'open']]);
    await stopAgent(running, true);
    running = await startAgent(undefined, await catalogImages([SKUS[0]]), dir);
    expect(running.agent.vision.status().state).toBe('available');
    expect(running.agent.inventory.alerts({ kind: 'vision-unavailable' }).map((a) => [a.id, a.state, a.clearReason])).toEqual([[first!.id, 'cleared', 'vision available']]);
  });

  it('vision.enabled false: no model is loaded, no alert, identify undefined', async () => {
    harness = await startTestAgent({ vision: { enabled: false }, store: { model: modelInput } });
    const { agent } = harness;
    expect(agent.vision.status().state).toBe('disabled');
    expect(agent.vision.inference).toBeUndefined();
    expect(await agent.vision.identify({ bayId: 'b1', atMs: 1, point: handAt(HELD).hand })).toBeUndefined();
    expect(agent.inventory.alerts({ kind: 'vision-unavailable' })).toEqual([]);
    expect(await (await fetch(`${agent.httpUrl}/metrics`, { headers: { authorization: harness.authorization } })).text()).toContain('storeedge_vision_state{state="disabled"} 1');
  });

  it('a store without cameras or catalogue images leaves vision idle, without an alert', async () => {
    harness = await startTestAgent();
    expect(harness.agent.vision.status().state).toBe('idle');
    expect(harness.agent.vision.inference).toBeUndefined();
    expect(harness.agent.inventory.alerts({ kind: 'vision-unavailable' })).toEqual([]);
  });
});

describe('softmaxOver', () => {
  it('is a softmax of temperature × cosine over the known candidates', () => {
    const p = softmaxOver(new Map([['a', 0.9], ['b', 0.5], ['c', -0.2]]), ['a', 'b', 'x', 'a'], 20);
    expect([...p.keys()]).toEqual(['a', 'b']);
    expect(p.get('a')! + p.get('b')!).toBeCloseTo(1, 12);
    expect(p.get('a')! / p.get('b')!).toBeCloseTo(Math.exp(8), 6);
    expect(softmaxOver(new Map(), ['a'], 20).size).toBe(0);
  });
});
