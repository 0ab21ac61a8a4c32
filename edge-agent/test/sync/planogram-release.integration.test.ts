import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoreModelInput } from '@storeedge/device-drivers';
import { RECOGNISER_MANIFEST } from '@storeedge/models';
import { SimClock } from '@storeedge/simulators';
import { generateSigningKey } from '@storeedge/sync';
import { HqService, HqStore, type DocumentOutcome } from '@storeedge/sync/hq/index.ts';
import { StoreAgent } from '../../src/agent.ts';
import { loadConfig, type ResolvedConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { skipWithoutMosquitto, startMosquitto, SYNC_BROKER_ACL, type Mosquitto } from '../../../sync/test/helpers/mosquitto.ts';
import { waitFor } from './helpers/probes.ts';

/**
 * Issue 7's last two document kinds, end to end: HQ (in-process HqService) signs a planogram and
 * a model release, a real Mosquitto carries them, a real agent applies them. The planogram waits
 * for its effective time on the store clock, then the store model, the price book and the label
 * service follow it — and a restart keeps HQ's model, not the config's. The model release is
 * verified, written under the data directory and hot-swapped into the vision service (real
 * onnxruntime workers); a tampered one is refused and the model serving stays.
 */

const STORE = 'store-plano';
const PASSWORDS = { [STORE]: 'store-pw-0123456789', hq: 'hq-pw-0123456789' };
const HOUR = 3_600_000;
const hqKey = generateSigningKey('hq-1');

const configModel: StoreModelInput = {
  catalog: [
    { sku: 'oat-milk', gtin: '04006381333931', name: 'Oat drink 1 l', unitWeightG: 1_040, unitWeightSigmaG: 8, priceMinor: 189 },
    { sku: 'rye-bread', gtin: '05901234123457', name: 'Rye bread 500 g', unitWeightG: 500, unitWeightSigmaG: 12, priceMinor: 249 },
  ],
  zones: [{ id: 'aisle-1' }],
  gondolas: [
    {
      id: 'g1',
      zone: 'aisle-1',
      bays: [{ id: 'b1', shelves: [{ id: 's1', trays: [{ id: 't1', device: 'shelf-1', channel: 0, facings: [{ sku: 'oat-milk', capacity: 12, minLevel: 3, initial: 10 }] }] }] }],
    },
  ],
  labels: [{ tagId: 'esl-0001', gateway: 'esl-gw-1', tagType: 'm2-2.9-bwr', sku: 'oat-milk', trayId: 't1' }],
};

/** HQ's reset: rye bread gets a tray of its own and a label; a new SKU, muesli, arrives with its tray and label. */
const planogram: StoreModelInput = (() => {
  const model = structuredClone(configModel);
  model.catalog.push({ sku: 'muesli-750', gtin: '04012345000023', name: 'Muesli 750 g', unitWeightG: 760, unitWeightSigmaG: 6, priceMinor: 429 });
  model.gondolas![0]!.bays[0]!.shelves[0]!.trays.push(
    { id: 't2', device: 'shelf-1', channel: 1, facings: [{ sku: 'rye-bread', capacity: 8, minLevel: 2, initial: 6 }] },
    { id: 't3', device: 'shelf-1', channel: 2, facings: [{ sku: 'muesli-750', capacity: 10, minLevel: 2, initial: 9 }] },
  );
  model.labels!.push(
    { tagId: 'esl-0002', gateway: 'esl-gw-1', tagType: 'm2-2.9-bwr', sku: 'rye-bread', trayId: 't2' },
    { tagId: 'esl-0003', gateway: 'esl-gw-1', tagType: 'm3-2.9-bwr', sku: 'muesli-750', trayId: 't3' },
  );
  return model;
})();

/** The committed recogniser, released again as 1.0.1 (same weights: what changes is where it is served from). */
function recogniserRelease(version: string): { manifest: Record<string, unknown>; modelBase64: string } {
  const manifest = JSON.parse(readFileSync(RECOGNISER_MANIFEST, 'utf8')) as Record<string, unknown> & { file: string };
  const bytes = readFileSync(join(dirname(RECOGNISER_MANIFEST), manifest.file));
  return { manifest: { ...manifest, version }, modelBase64: bytes.toString('base64') };
}

let dir: string;
let broker: Mosquitto;
let hqStore: HqStore;
let hq: HqService;
let config: Readonly<ResolvedConfig>;
let agent: StoreAgent;
const clock = new SimClock(Date.now());
const hqOutcomes: DocumentOutcome[] = [];

async function startAgent(): Promise<StoreAgent> {
  const started = await StoreAgent.start(config, { logger: silentLogger(), clock });
  await waitFor('the store connected upstream', () => (started.sync!.connected ? true : undefined));
  return started;
}

async function publish(input: Parameters<HqService['publishDocument']>[0]) {
  const doc = await hq.publishDocument(input);
  const outcome = await waitFor(`HQ to hear the store's outcome of ${doc.id}`, () => hqOutcomes.find((o) => o.docId === doc.id && o.store === STORE));
  return { ...doc, outcome };
}

const tagIds = () => agent.labels.list({ limit: 100 }).labels.map((l) => l.id).sort();

beforeAll(async () => {
  if (skipWithoutMosquitto) return;
  dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-plano-'));
  broker = await startMosquitto({ users: PASSWORDS, acl: SYNC_BROKER_ACL });
  hqStore = HqStore.open(':memory:');
  hq = new HqService({ store: hqStore, signingKey: hqKey, upstream: { url: broker.url, username: 'hq', clientId: 'hq', password: PASSWORDS.hq, reconnectMinMs: 100 }, stores: [STORE] });
  hq.on('documentOutcome', (outcome) => hqOutcomes.push(outcome));
  hq.start();
  await hq.ready();
  config = loadConfig(
    {
      storeId: STORE,
      dataDir: join(dir, 'data'),
      broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      vision: { enabled: true, workers: 1 },
      store: { model: configModel },
      sync: {
        upstream: { url: broker.url, password: PASSWORDS[STORE], reconnectMinMs: 100, reconnectMaxMs: 1_000 },
        trustedKeys: [{ keyId: hqKey.keyId, publicKey: hqKey.publicKey }],
        uplink: { pollIntervalMs: 20, ackTimeoutMs: 3_000, retryBaseMs: 100, retryMaxMs: 1_000 },
      },
    },
    dir,
  );
  agent = await startAgent();
  await agent.labels.idle();
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await hq?.stop();
  hqStore?.close();
  await broker?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.skipIf(skipWithoutMosquitto)('planograms and model releases from HQ through a real Mosquitto (skipped: mosquitto not installed)', () => {
  it('a planogram takes effect at its time on the store clock; the model, prices and labels follow, and a restart keeps it', async () => {
    const effectiveFrom = clock.now() + 2 * HOUR;
    const doc = await publish({ kind: 'planogram', stores: [STORE], effectiveFrom, body: { model: planogram } });
    expect(doc.outcome).toMatchObject({ outcome: 'applied', code: null });
    // Recorded, not yet in force: the store sells from the config's layout until the reset.
    expect(agent.inventory.modelSource).toMatchObject({ kind: 'config' });
    expect(tagIds()).toEqual(['esl-0001']);
    expect(agent.prices.history('muesli-750')).toEqual([]);
    expect(agent.sync!.health().planogram).toEqual({ docId: doc.id, version: doc.version, effectiveFrom });

    clock.runUntil(effectiveFrom - 1_000);
    expect(agent.inventory.modelSource).toMatchObject({ kind: 'config' });
    clock.runUntil(effectiveFrom);
    expect(agent.inventory.modelSource).toMatchObject({ kind: 'planogram', version: String(doc.version) });
    expect(agent.sync!.health().planogram).toBeNull();
    expect(agent.inventory.model!.catalog.map((c) => c.sku)).toContain('muesli-750');
    expect(agent.prices.unitPriceAt('muesli-750', clock.now()).priceMinor).toBe(429);
    // The label service re-read the model: the new tags joined and are to show their prices.
    await waitFor('the new labels to join', () => (tagIds().length === 3 ? true : undefined));
    await agent.labels.idle();
    expect(tagIds()).toEqual(['esl-0001', 'esl-0002', 'esl-0003']);
    expect(agent.labels.label('esl-0003').desired?.content?.priceMinor).toBe(429);
    expect(agent.labels.label('esl-0002').desired?.content?.priceMinor).toBe(249);
    // Stock: oat milk's tray kept its units; the new trays start at their initial levels.
    const observed = Object.fromEntries(agent.inventory.stock().trays.map((t) => [t.trayId, t.observed]));
    expect(observed).toEqual({ t1: 10, t2: 6, t3: 9 });

    // Restarted (the config still has the old model): HQ's planogram stays the store's model.
    const modelEvents = () => agent.ledger.events({ stream: 'inventory' }).filter((e) => e.type === 'inventory.model.applied').length;
    const applied = modelEvents();
    await agent.stop();
    agent = await startAgent();
    expect(agent.inventory.modelSource).toMatchObject({ kind: 'planogram', version: String(doc.version) });
    expect(modelEvents()).toBe(applied); // neither the config's model nor the planogram again
    expect(tagIds()).toEqual(['esl-0001', 'esl-0002', 'esl-0003']);
    expect(agent.prices.unitPriceAt('muesli-750', clock.now()).priceMinor).toBe(429);
  }, 90_000);

  it('an invalid planogram is refused whole and HQ hears why', async () => {
    const hash = agent.inventory.modelHash;
    const broken = structuredClone(planogram);
    broken.labels!.push({ tagId: 'esl-0009', gateway: 'esl-gw-1', tagType: 'm2-2.9-bwr', sku: 'no-such-sku' });
    const doc = await publish({ kind: 'planogram', stores: [STORE], body: { model: broken } });
    expect(doc.outcome).toMatchObject({ outcome: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID' });
    expect(doc.outcome.reason).toMatch(/SKU "no-such-sku" is not in the catalog/);
    expect(agent.inventory.modelHash).toBe(hash);
  }, 60_000);

  it('a model release is verified, written, hot-swapped into the vision service, and still served after a restart; a tampered one is refused', async () => {
    const release = recogniserRelease('1.0.1');
    const doc = await publish({ kind: 'model-release', stores: [STORE], body: release });
    expect(doc.outcome).toMatchObject({ outcome: 'applied', code: null });
    await waitFor('the vision service to serve 1.0.1', () => (agent.vision.status().version === '1.0.1' ? true : undefined), { timeoutMs: 60_000 });
    expect(agent.vision.status()).toMatchObject({ state: expect.not.stringMatching('disabled'), modelName: 'product-recogniser', version: '1.0.1' });

    // Bytes changed under the manifest's hash (a corrupted or doctored release): refused, 1.0.1 keeps serving.
    const bytes = Buffer.from(release.modelBase64, 'base64');
    bytes[bytes.length - 100] = (bytes[bytes.length - 100]! + 1) % 256;
    const tampered = await publish({ kind: 'model-release', stores: [STORE], body: { manifest: { ...release.manifest, version: '1.0.2' }, modelBase64: bytes.toString('base64') } });
    expect(tampered.outcome).toMatchObject({ outcome: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID' });
    expect(tampered.outcome.reason).toMatch(/sha256/);
    expect(agent.vision.status().version).toBe('1.0.1');

    // A restart serves the release from the data directory…
    await agent.stop();
    agent = await startAgent();
    expect(agent.vision.manifestPath).toContain(join('data', 'models', 'product-recogniser', '1.0.1-'));
    // …unless its files no longer verify: then the config's model serves and the agent says why.
    await agent.stop();
    const modelFile = join(dirname(agent.vision.manifestPath), 'recogniser.onnx');
    writeFileSync(modelFile, Buffer.concat([readFileSync(modelFile), Buffer.from([0])]));
    agent = await startAgent();
    expect(agent.vision.manifestPath).toBe(RECOGNISER_MANIFEST);
  }, 120_000);
});
