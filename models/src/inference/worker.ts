import { parentPort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { ModelError, type ModelErrorCode } from '../manifest.ts';
import { preprocessCrop, type RecogniserImage, type RecogniserManifest } from '../recogniser.ts';
import type { FromWorker, RequestResult, ToWorker, WireCrop, WireError } from './protocol.ts';

/**
 * One inference worker (started through worker-entry.mjs by service.ts): preprocesses crops
 * with sharp and runs them through the onnxruntime session of the model generation the main
 * thread names. The main thread sends at most one batch at a time; loads may overlap a batch.
 */

if (!parentPort) throw new Error('inference worker: not started as a worker thread');
const port = parentPort;

interface Loaded {
  session: InferenceSession;
  manifest: RecogniserManifest;
}

const sessions = new Map<number, Loaded>();
/** Generations to release once the batch using them is done. */
const retiring = new Set<number>();
let running: number | undefined;
let closing = false;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

function wireError(error: unknown, fallback: ModelErrorCode): WireError {
  if (error instanceof ModelError) return { code: error.code, message: error.message };
  return { code: fallback, message: error instanceof Error ? error.message : String(error) };
}

function image(crop: WireCrop): RecogniserImage {
  if ('encoded' in crop) return Buffer.from(crop.encoded.buffer, crop.encoded.byteOffset, crop.encoded.byteLength);
  return crop;
}

async function load(message: Extract<ToWorker, { type: 'load' }>): Promise<void> {
  const { generation, manifest } = message;
  let session: InferenceSession | undefined;
  try {
    session = await InferenceSession.create(message.model, { intraOpNumThreads: message.threads, interOpNumThreads: 1 });
    if (!session.inputNames.includes(manifest.input.name) || !session.outputNames.includes(manifest.output.name)) {
      throw new Error(
        `the model's inputs are [${session.inputNames.join(', ')}] and outputs [${session.outputNames.join(', ')}]; ` +
          `the manifest names input "${manifest.input.name}" and output "${manifest.output.name}"`,
      );
    }
    // One crop of zeros through the model: a model whose shapes differ from its manifest's is refused here, not mid-shift.
    const size = manifest.input.shape[2];
    const probe = await session.run({ [manifest.input.name]: new Tensor('float32', new Float32Array(3 * size * size), [1, 3, size, size]) });
    const dims = probe[manifest.output.name]!.dims;
    if (dims.length !== 2 || dims[0] !== 1 || dims[1] !== manifest.embeddingSize) {
      throw new Error(`one ${size} × ${size} crop gave an output of shape [${dims.join(', ')}]; the manifest says [1, ${manifest.embeddingSize}]`);
    }
    sessions.set(generation, { session, manifest });
    send({ type: 'loaded', generation });
  } catch (error) {
    await session?.release().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    send({ type: 'load-failed', generation, error: { code: 'MDL_ERR_MODEL_LOAD', message: `model ${manifest.name} ${manifest.version}: onnxruntime cannot run it: ${reason}` } });
  }
}

async function run(message: Extract<ToWorker, { type: 'run' }>): Promise<void> {
  const loaded = sessions.get(message.generation);
  if (!loaded) {
    const error: WireError = { code: 'MDL_ERR_INFERENCE_FAILED', message: `inference worker: model generation ${message.generation} is not loaded` };
    send({ type: 'result', batch: message.batch, results: message.requests.map(() => ({ ok: false, error })) });
    return;
  }
  running = message.generation;
  const { session, manifest } = loaded;
  const size = manifest.input.shape[2];
  const inputSize = 3 * size * size;
  const dims = manifest.embeddingSize;
  // A crop that cannot be read fails its own request only, not the others merged into the batch.
  const inputs = await Promise.all(
    message.requests.map((crops) =>
      Promise.all(crops.map((crop) => preprocessCrop(image(crop), manifest.input))).then(
        (tensors) => ({ ok: true as const, tensors }),
        (error: unknown) => ({ ok: false as const, error: wireError(error, 'MDL_ERR_INPUT_INVALID') }),
      ),
    ),
  );
  const flat = inputs.flatMap((input) => (input.ok ? input.tensors : []));
  const embeddings: Float32Array[] = [];
  let failure: WireError | undefined;
  try {
    for (let start = 0; start < flat.length; start += message.maxBatch) {
      const chunk = flat.slice(start, start + message.maxBatch);
      const data = new Float32Array(chunk.length * inputSize);
      chunk.forEach((input, i) => data.set(input, i * inputSize));
      const result = await session.run({ [manifest.input.name]: new Tensor('float32', data, [chunk.length, 3, size, size]) });
      const output = result[manifest.output.name]!.data as Float32Array;
      for (let i = 0; i < chunk.length; i++) embeddings.push(output.slice(i * dims, (i + 1) * dims));
    }
  } catch (error) {
    failure = { code: 'MDL_ERR_INFERENCE_FAILED', message: `model ${manifest.name} ${manifest.version}: ${wireError(error, 'MDL_ERR_INFERENCE_FAILED').message}` };
  }
  let next = 0;
  const results: RequestResult[] = inputs.map((input) => {
    if (!input.ok) return input;
    if (failure) return { ok: false, error: failure };
    const own = embeddings.slice(next, next + input.tensors.length);
    next += input.tensors.length;
    return { ok: true, embeddings: own };
  });
  running = undefined;
  send(
    { type: 'result', batch: message.batch, results },
    embeddings.map((e) => e.buffer as ArrayBuffer),
  );
  for (const generation of retiring) await retire(generation);
  if (closing) await close();
}

async function retire(generation: number): Promise<void> {
  if (running === generation) {
    retiring.add(generation);
    return;
  }
  retiring.delete(generation);
  const loaded = sessions.get(generation);
  sessions.delete(generation);
  await loaded?.session.release();
}

async function close(): Promise<void> {
  closing = true;
  if (running !== undefined) return;
  for (const generation of [...sessions.keys()]) await retire(generation);
  // Nothing else keeps the thread alive: it ends, and the main thread sees 'exit' with code 0.
  port.close();
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      return void load(message);
    case 'run':
      return void run(message);
    case 'retire':
      return void retire(message.generation);
    case 'close':
      return void close();
  }
});
send({ type: 'ready' });
