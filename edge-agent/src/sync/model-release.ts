import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { loadVerifiedModel, ModelError, recogniserManifest } from '@storeedge/models';
import type { DocumentHeader, ModelReleaseBody } from '@storeedge/sync';
import type { Ledger } from '../ledger/index.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { DocumentPlan, ModelReleaseTarget, Refusal } from './document-handlers.ts';
import { syncEventTypes, syncStream, type ModelReleased } from './ledger-events.ts';

/** The vision service as a release sees it. */
export interface ReleaseVision {
  /** False when the store runs no vision (config vision.enabled): a release is refused. */
  enabled(): boolean;
  /** Hot swap to the manifest (loads, checks, rebuilds the gallery); rejects and keeps the old model on a refusal. */
  swap(manifestPath: string): Promise<unknown>;
}

export interface ModelReleasesOptions {
  ledger: Ledger;
  /** The agent's data directory: releases are written under `<dataDir>/models/`. */
  dataDir: string;
  vision: ReleaseVision;
  logger?: Logger;
}

/** The model names a release may carry: the ones the agent serves. */
const servedModels = new Set(['product-recogniser']);

const invalid = (reason: string): Refusal => ({ ok: false, code: 'SYNC_ERR_DOC_BODY_INVALID', reason });

/**
 * HQ model releases (docs/sync.md "Model releases"): a `model-release` document carries a
 * model's manifest and its .onnx bytes, so the signature covers both. On arrival the bytes are
 * checked against the manifest's sha256, written under `<dataDir>/models/<name>/<version>-<sha8>/`
 * (content-addressed, written to a temporary name and renamed), read back and verified as the
 * inference service verifies a model at load (manifest schema + sha256); any failure refuses
 * the document. Applying records the release in the ledger; after the commit the vision service
 * hot-swaps to it (a model the runtime cannot load leaves the old one serving, logged and
 * alerted by the vision service). At start the agent serves the latest release recorded
 * (`latestRelease`), falling back to the config's model when its files no longer verify.
 */
export class ModelReleases implements ModelReleaseTarget {
  readonly #o: ModelReleasesOptions;
  readonly #log: Logger;
  /** The last hot swap, for tests and health: resolves once the new model serves (or was refused). */
  lastSwap: Promise<void> = Promise.resolve();

  constructor(options: ModelReleasesOptions) {
    this.#o = options;
    this.#log = (options.logger ?? silentLogger()).child({ part: 'model-releases' });
  }

  plan(body: ModelReleaseBody, header: DocumentHeader, now: number): DocumentPlan | Refusal {
    const { manifest } = body;
    if (!servedModels.has(manifest.name)) return invalid(`manifest.name: this agent serves no model "${manifest.name}" (it serves ${[...servedModels].join(', ')})`);
    if (!this.#o.vision.enabled()) return { ok: false, code: 'SYNC_ERR_DOC_UNSUPPORTED_KIND', reason: 'this store runs no vision (config vision.enabled is false)' };
    const checked = recogniserManifest.safeParse(manifest);
    if (!checked.success) {
      return invalid(`manifest: ${checked.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
    }
    const bytes = Buffer.from(body.modelBase64, 'base64');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== manifest.sha256) return invalid(`modelBase64: the model bytes have sha256 ${sha256}, the manifest says ${manifest.sha256}`);
    if (typeof manifest.bytes === 'number' && manifest.bytes !== bytes.length) return invalid(`modelBase64: ${bytes.length} model bytes, the manifest says ${manifest.bytes}`);
    const dir = resolve(this.#o.dataDir, 'models', manifest.name, `${manifest.version}-${sha256.slice(0, 8)}`);
    const manifestPath = join(dir, 'manifest.json');
    try {
      writeRelease(dir, manifest.file, bytes, manifest);
      loadVerifiedModel(manifestPath, recogniserManifest);
    } catch (err) {
      if (err instanceof ModelError) return invalid(`${err.code}: ${err.message}`);
      throw err;
    }
    const payload: ModelReleased = {
      docId: header.id,
      version: header.version,
      name: manifest.name,
      modelVersion: manifest.version,
      sha256,
      manifestPath: relative(resolve(this.#o.dataDir), manifestPath),
    };
    return {
      ok: true,
      effectiveFrom: now,
      summary: { bytes: bytes.length },
      apply: () => {
        this.#o.ledger.append({ type: syncEventTypes.modelReleased, stream: syncStream, key: `sync.model.released:${header.id}:${header.version}`, payload });
      },
      afterCommit: () => {
        this.lastSwap = this.#o.vision.swap(manifestPath).then(
          () => this.#log.info({ name: manifest.name, version: manifest.version, docId: header.id }, 'model release now serving'),
          (err: unknown) => this.#log.error({ err, name: manifest.name, version: manifest.version, docId: header.id }, 'model release recorded but not loaded; the previous model keeps serving'),
        );
      },
    };
  }
}

/** Writes the manifest and model into `dir` (once: a directory already complete is kept as it is). */
function writeRelease(dir: string, file: string, bytes: Buffer, manifest: Record<string, unknown>): void {
  const manifestPath = join(dir, 'manifest.json');
  if (existsSync(manifestPath) && existsSync(join(dir, file))) return;
  mkdirSync(dir, { recursive: true });
  const write = (path: string, data: string | Buffer) => {
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, data);
    renameSync(temporary, path);
  };
  write(join(dir, file), bytes);
  write(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
}

/**
 * The manifest of the latest model release recorded in the ledger whose files still verify, or
 * undefined (none, or its files are gone or changed: logged, and the config's model serves).
 */
export function latestRelease(ledger: Ledger, dataDir: string, logger?: Logger): string | undefined {
  let latest: ModelReleased | undefined;
  for (let from = 1; ; ) {
    const batch = ledger.events({ stream: syncStream, fromSeq: from, limit: 1_000 });
    for (const event of batch) if (event.type === syncEventTypes.modelReleased) latest = event.payload as ModelReleased;
    if (batch.length < 1_000) break;
    from = batch.at(-1)!.seq + 1;
  }
  if (latest === undefined) return undefined;
  const manifestPath = resolve(dataDir, latest.manifestPath);
  try {
    loadVerifiedModel(manifestPath, recogniserManifest);
    return manifestPath;
  } catch (err) {
    logger?.error({ err, docId: latest.docId, name: latest.name, version: latest.modelVersion }, 'the model release in the ledger no longer verifies on disk; serving the config\'s model');
    return undefined;
  }
}
