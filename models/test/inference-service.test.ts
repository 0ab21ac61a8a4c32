import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import sharp from 'sharp';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { InferenceService, type InferenceServiceOptions, type InferenceStatusChange } from '../src/inference/service.ts';
import { ModelError, type ModelErrorCode } from '../src/manifest.ts';
import { ProductRecogniser, RECOGNISER_MANIFEST, type RecogniserImage } from '../src/recogniser.ts';

/**
 * The inference service with real worker threads, real onnxruntime sessions (one intra-op
 * thread each) and the committed recogniser model, or copies of it in temporary directories.
 * Nothing here depends on how long anything takes: batches and drops follow from requests
 * being queued in one synchronous turn while the only worker is busy.
 */

const committed = JSON.parse(readFileSync(RECOGNISER_MANIFEST, 'utf8')) as { file: string; version: string; input: { shape: [string, number, number, number] } };
const SIZE = committed.input.shape[2];

const dirs: string[] = [];
const services: InferenceService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
});
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function service(options: InferenceServiceOptions = {}): InferenceService {
  const created = new InferenceService({ restartDelayMs: 0, ...options });
  services.push(created);
  return created;
}

/** A copy of the committed manifest and model in a temporary directory; `edit` changes the manifest. */
function copyModel(edit: (manifest: Record<string, unknown>) => void = () => undefined): { manifest: string; model: string } {
  const dir = mkdtempSync(join(tmpdir(), 'inference-'));
  dirs.push(dir);
  const manifest = JSON.parse(readFileSync(RECOGNISER_MANIFEST, 'utf8')) as Record<string, unknown>;
  edit(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  copyFileSync(join(dirname(RECOGNISER_MANIFEST), committed.file), join(dir, committed.file));
  return { manifest: join(dir, 'manifest.json'), model: join(dir, committed.file) };
}

function tamper(model: string): void {
  const bytes = readFileSync(model);
  bytes[bytes.length - 100]! ^= 0x01;
  writeFileSync(model, bytes);
}

/** Deterministic raw crops (a small LCG), `width` × `height`. */
function rawCrops(count: number, seed: number, width = SIZE, height = SIZE): { width: number; height: number; rgb: Uint8Array }[] {
  let state = seed >>> 0;
  return Array.from({ length: count }, () => {
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < rgb.length; i++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      rgb[i] = state >>> 24;
    }
    return { width, height, rgb };
  });
}

async function rejection(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

function settleAll<T>(promises: Promise<T>[]): Promise<({ ok: true; value: T } | { ok: false; code: ModelErrorCode | undefined })[]> {
  return Promise.all(
    promises.map((p) =>
      p.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, code: error instanceof ModelError ? error.code : undefined }),
      ),
    ),
  );
}

describe('inference service: results and batching', () => {
  it('gives the embeddings ProductRecogniser gives for the same crops (raw, resized, encoded, a view into a larger buffer)', async () => {
    const [exact, other] = rawCrops(2, 1);
    const [large] = rawCrops(1, 2, SIZE + 37, SIZE + 11);
    const png = await sharp(other!.rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
    const backing = Buffer.alloc(exact!.rgb.length + 17);
    backing.set(exact!.rgb, 9);
    const view = { width: SIZE, height: SIZE, rgb: backing.subarray(9, 9 + exact!.rgb.length) };
    const crops: RecogniserImage[] = [exact!, large!, png, view, ...rawCrops(6, 3)];

    const inference = service();
    expect((await inference.start()).state).toBe('available');
    const recogniser = await ProductRecogniser.load();
    const [expected, actual] = await Promise.all([recogniser.embed(crops), inference.embed(crops)]);
    await recogniser.close();

    expect(actual).toHaveLength(crops.length);
    expect(actual[0]!.length).toBe(inference.manifest!.embeddingSize);
    actual.forEach((embedding, i) => {
      for (let j = 0; j < embedding.length; j++) expect(Math.abs(embedding[j]! - expected[i]![j]!)).toBeLessThan(1e-5);
    });
    // The view gave the same pixels as the crop it copies.
    expect([...actual[3]!]).toEqual([...actual[0]!]);
  });

  it('merges requests that wait while the worker is busy into one batch, and splits the results back', async () => {
    const inference = service({ maxBatch: 64 });
    await inference.start();
    const requests = Array.from({ length: 10 }, (_, i) => rawCrops(2, 100 + i));
    const alone = await Promise.all(requests.map((crops) => inference.embed(crops)));
    const before = inference.metrics();
    // All ten are queued in this turn: the first goes to the idle worker, the other nine wait and go together.
    const merged = await Promise.all(requests.map((crops) => inference.embed(crops)));
    const after = inference.metrics();
    expect(after.requests - before.requests).toBe(10);
    expect(after.batches - before.batches).toBe(2);
    expect(after.batches).toBeLessThan(after.requests);
    merged.forEach((embeddings, i) => {
      expect(embeddings).toHaveLength(2);
      embeddings.forEach((e, j) => e.forEach((v, k) => expect(Math.abs(v - alone[i]![j]![k]!)).toBeLessThan(1e-5)));
    });
    expect(after.meanBatchSize).toBeGreaterThan(2);
    expect(after.latencyMs.samples).toBe(20);
    expect(after.latencyMs.p95).toBeGreaterThanOrEqual(after.latencyMs.p50!);
  });

  it('with maxWaitMs, an idle worker waits for more requests and runs them as one batch', async () => {
    const inference = service({ maxWaitMs: 50, maxBatch: 64 });
    await inference.start();
    await Promise.all(Array.from({ length: 6 }, (_, i) => inference.embed(rawCrops(3, 200 + i))));
    expect(inference.metrics()).toMatchObject({ requests: 6, batches: 1, meanBatchSize: 18 });
  });

  it('fails only the request with a crop that is not an image, not the others in its batch', async () => {
    const inference = service();
    await inference.start();
    const results = await settleAll([
      inference.embed(rawCrops(1, 5)),
      inference.embed(rawCrops(1, 6)),
      inference.embed([Buffer.from('not an image')]),
      inference.embed([{ width: SIZE, height: SIZE, rgb: new Uint8Array(5) }]),
      inference.embed(rawCrops(1, 7)),
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', 'ok', 'MDL_ERR_INPUT_INVALID', 'MDL_ERR_INPUT_INVALID', 'ok']);
    expect(inference.metrics()).toMatchObject({ requests: 3, errors: 2 });
    expect((await rejection(inference.embed([{} as RecogniserImage]))).code).toBe('MDL_ERR_INPUT_INVALID');
  });

  it('drops the oldest waiting request when the queue is full, with MDL_ERR_QUEUE_FULL, and counts it', async () => {
    const inference = service({ queueLimit: 2 });
    await inference.start();
    // Request 0 goes to the worker; 1…9 queue behind it in a queue of 2, so 1…7 are dropped, oldest first.
    const results = await settleAll(Array.from({ length: 10 }, (_, i) => inference.embed(rawCrops(2, 300 + i))));
    expect(results.map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', ...Array<string>(7).fill('MDL_ERR_QUEUE_FULL'), 'ok', 'ok']);
    expect(inference.metrics()).toMatchObject({ dropped: 7, requests: 3, errors: 0, queueDepth: 0, queueLimit: 2 });
  });
});

describe('inference service: refused models', () => {
  async function unavailableWith(manifestPath: string, code: ModelErrorCode): Promise<void> {
    const inference = service({ manifestPath });
    const events: InferenceStatusChange[] = [];
    inference.on('status', (status) => events.push(status));
    const status = await inference.start();
    expect(status).toMatchObject({ state: 'unavailable', modelName: undefined, version: undefined, error: { code } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ state: 'unavailable', previousState: 'starting', error: { code } });
    const refused = await rejection(inference.embed(rawCrops(1, 1)));
    expect(refused.code).toBe('MDL_ERR_UNAVAILABLE');
    expect(refused.message).toContain(code);
    expect((refused.cause as ModelError).code).toBe(code);
    expect(inference.metrics()).toMatchObject({ state: 'unavailable', error: { code }, errors: 1 });
  }

  it('starts unavailable on a tampered model (MDL_ERR_MODEL_INTEGRITY), rejects requests, and reports it', async () => {
    const { manifest, model } = copyModel();
    tamper(model);
    await unavailableWith(manifest, 'MDL_ERR_MODEL_INTEGRITY');
  });

  it('starts unavailable on a missing model file', async () => {
    const { manifest, model } = copyModel();
    rmSync(model);
    await unavailableWith(manifest, 'MDL_ERR_MODEL_INTEGRITY');
  });

  it('starts unavailable on a missing manifest (MDL_ERR_MANIFEST_INVALID)', async () => {
    await unavailableWith(join(tmpdir(), 'no-such-dir', 'manifest.json'), 'MDL_ERR_MANIFEST_INVALID');
  });

  it('rejects requests queued while starting when the model is refused', async () => {
    const { manifest, model } = copyModel();
    tamper(model);
    const inference = service({ manifestPath: manifest });
    const queued = inference.embed(rawCrops(1, 1));
    void inference.start();
    expect((await rejection(queued)).code).toBe('MDL_ERR_UNAVAILABLE');
  });

  it('becomes available after a successful swap, and says so', async () => {
    const { manifest, model } = copyModel();
    tamper(model);
    const inference = service({ manifestPath: manifest });
    const events: InferenceStatusChange[] = [];
    inference.on('status', (status) => events.push(status));
    await inference.start();
    // A failed swap while unavailable keeps it unavailable, with the new reason.
    await expect(inference.swap(join(tmpdir(), 'no-such-dir', 'manifest.json'))).rejects.toMatchObject({ code: 'MDL_ERR_MANIFEST_INVALID' });
    expect(inference.status()).toMatchObject({ state: 'unavailable', error: { code: 'MDL_ERR_MANIFEST_INVALID' } });
    await inference.swap(RECOGNISER_MANIFEST);
    expect(events.map((e) => e.state)).toEqual(['unavailable', 'unavailable', 'available']);
    expect(events[2]).toMatchObject({ previousState: 'unavailable', version: committed.version, error: undefined });
    expect(await inference.embed(rawCrops(2, 1))).toHaveLength(2);
  });

  it('refuses invalid options with MDL_ERR_CONFIG_INVALID', () => {
    expect(() => new InferenceService({ workers: 0 })).toThrow(expect.objectContaining({ code: 'MDL_ERR_CONFIG_INVALID' }));
    expect(() => new InferenceService({ queueLimit: 1.5 })).toThrow(/queueLimit/);
  });
});

describe('inference service: hot swap', () => {
  it('switches version while requests are in flight, none failing; earlier requests finish on the old version', async () => {
    const next = copyModel((m) => (m.version = '9.9.9'));
    const inference = service({ workers: 2, maxBatch: 8 });
    const events: InferenceStatusChange[] = [];
    inference.on('status', (status) => events.push(status));
    await inference.start();
    const before = Array.from({ length: 24 }, (_, i) => inference.embedWithModel(rawCrops(4, 400 + i)));
    expect(inference.metrics().workersBusy).toBeGreaterThan(0);
    const swapped = await inference.swap(next.manifest);
    expect(swapped).toMatchObject({ state: 'available', version: '9.9.9' });
    expect(inference.version).toBe('9.9.9');
    const after = Array.from({ length: 6 }, (_, i) => inference.embedWithModel(rawCrops(4, 500 + i)));
    const results = await Promise.all([...before, ...after]);

    // Requests are dispatched in order, so versions never go back; the first batch was running before the swap.
    const versions = results.map((r) => r.version);
    expect(versions[0]).toBe(committed.version);
    const firstNew = versions.indexOf('9.9.9');
    expect(firstNew).toBeGreaterThan(0);
    expect(versions.slice(firstNew).every((v) => v === '9.9.9')).toBe(true);
    expect(versions.slice(before.length).every((v) => v === '9.9.9')).toBe(true);
    // Same bytes, so the same embeddings either side of the swap.
    const again = await inference.embed(rawCrops(4, 400));
    again.forEach((e, j) => e.forEach((v, k) => expect(Math.abs(v - results[0]!.embeddings[j]![k]!)).toBeLessThan(1e-5)));

    expect(inference.metrics()).toMatchObject({ errors: 0, dropped: 0, swaps: 1, swapFailures: 0, requests: 31 });
    expect(events.at(-1)).toMatchObject({ state: 'available', previousState: 'available', version: '9.9.9' });
  });

  it('keeps the old version serving when a swap fails: tampered, missing, or a file onnxruntime cannot open', async () => {
    const inference = service({ workers: 2 });
    await inference.start();
    const tampered = copyModel((m) => (m.version = '2.0.0'));
    tamper(tampered.model);
    const missing = copyModel((m) => (m.version = '2.0.0'));
    rmSync(missing.model);
    const garbage = Buffer.from('this is not an onnx model');
    const notOnnx = copyModel((m) => {
      m.version = '2.0.0';
      m.sha256 = createHash('sha256').update(garbage).digest('hex');
    });
    writeFileSync(notOnnx.model, garbage);

    const running = inference.embed(rawCrops(4, 1));
    expect((await rejection(inference.swap(tampered.manifest))).code).toBe('MDL_ERR_MODEL_INTEGRITY');
    expect((await rejection(inference.swap(missing.manifest))).code).toBe('MDL_ERR_MODEL_INTEGRITY');
    const load = await rejection(inference.swap(notOnnx.manifest));
    expect(load.code).toBe('MDL_ERR_MODEL_LOAD');
    expect(load.message).toContain('2.0.0');

    expect(await running).toHaveLength(4);
    expect(inference.status()).toMatchObject({ state: 'available', version: committed.version, error: undefined });
    const result = await inference.embedWithModel(rawCrops(3, 2));
    expect(result).toMatchObject({ version: committed.version });
    expect(inference.metrics()).toMatchObject({ swaps: 0, swapFailures: 3, errors: 0 });
  });
});

describe('inference service: workers', () => {
  it('rejects the requests of a worker that dies with MDL_ERR_WORKER_CRASHED, counts it and restarts the worker', async () => {
    const workers: Worker[] = [];
    const inference = service({ onWorker: (worker) => workers.push(worker) });
    const crashes: unknown[] = [];
    inference.on('workerCrashed', (crash) => crashes.push(crash));
    await inference.start();
    const running = inference.embed(rawCrops(8, 1, SIZE * 3, SIZE * 3));
    const waiting = inference.embed(rawCrops(2, 2));
    expect(inference.metrics()).toMatchObject({ workersBusy: 1, queueDepth: 1 });
    void workers[0]!.terminate();

    const crashed = await rejection(running);
    expect(crashed.code).toBe('MDL_ERR_WORKER_CRASHED');
    expect(crashed.message).toMatch(/worker 0 exited/);
    // The waiting request runs on the restarted worker.
    expect(await waiting).toHaveLength(2);
    expect(workers).toHaveLength(2);
    expect(crashes).toEqual([expect.objectContaining({ worker: 0, requestsFailed: 1 })]);
    expect(inference.metrics()).toMatchObject({ state: 'available', workers: 1, workerCrashes: 1, errors: 1, requests: 1 });
  });

  it('close() ends every worker and rejects later requests', async () => {
    const exits: Promise<number>[] = [];
    const inference = service({
      workers: 2,
      onWorker: (worker) => exits.push(new Promise((resolve) => worker.once('exit', resolve))),
    });
    const events: InferenceStatusChange[] = [];
    inference.on('status', (status) => events.push(status));
    await inference.start();
    const running = inference.embed(rawCrops(4, 1));
    await inference.close();
    // The batch running at close() was finished, and the workers ended on their own (exit code 0).
    expect(await running).toHaveLength(4);
    expect(await Promise.all(exits)).toEqual([0, 0]);
    expect(inference.metrics()).toMatchObject({ state: 'closed', workers: 0, workersBusy: 0 });
    expect(events.at(-1)).toMatchObject({ state: 'closed', previousState: 'available' });
    expect((await rejection(inference.embed(rawCrops(1, 1)))).code).toBe('MDL_ERR_UNAVAILABLE');
    await expect(inference.swap(RECOGNISER_MANIFEST)).rejects.toMatchObject({ code: 'MDL_ERR_UNAVAILABLE' });
  });

  it('starts no worker once closed', async () => {
    let started = 0;
    const inference = service({ onWorker: () => started++ });
    await inference.close();
    expect(await inference.start()).toMatchObject({ state: 'closed' });
    expect(started).toBe(0);
  });
});
