import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShelfLabel, StoreModelInput } from '@storeedge/device-drivers';
import { SimClock } from '@storeedge/simulators';
import { buildDocument, canonicalBytes, generateSigningKey, sha256Hex, signBytes, type DocChunkMessage, type SigningKey } from '@storeedge/sync';
import { HqService, HqStore, type DocumentOutcome } from '@storeedge/sync/hq/index.ts';
import { StoreAgent } from '../../src/agent.ts';
import { loadConfig } from '../../src/config/load.ts';
import { silentLogger } from '../../src/log.ts';
import { pricingStream } from '../../src/pricing/index.ts';
import type { ChunkOutcome } from '../../src/sync/downlink-applier.ts';
import { skipWithoutMosquitto, startMosquitto, SYNC_BROKER_ACL, type Mosquitto } from '../../../sync/test/helpers/mosquitto.ts';
import { waitFor } from './helpers/probes.ts';

/**
 * Issue 7, done-means 2: "A forged, replayed or wrong-store price document is refused and
 * nothing changes in the store; a valid one takes effect at its effective time, and the labels
 * follow." (research/sync.md G6, G11; T8's arrival cases, T11's wrong-key case.)
 *
 * A real agent in-process (price book, label service with three shelf labels, ledger) on a
 * simulated store clock, syncing through a real Mosquitto to the reference HQ (in-process
 * HqService). The attacks come over the broker from a client allowed to publish on the stores'
 * `down/doc` — a compromised broker account: only the signature, scope and version checks stand
 * between it and the shelf prices. After each refusal HQ has heard of it (its document
 * outcomes) and the store's prices, labels and pricing events are exactly as before.
 */

const STORE = 'store-docs';
const OTHER_STORE = 'store-other';
const PASSWORDS = { [STORE]: 'store-pw-0123456789', [OTHER_STORE]: 'other-pw-0123456789', hq: 'hq-pw-0123456789', attacker: 'attacker-pw-0123456789' };
const attackerAcl = `
user attacker
topic read storeedge/v1/+/down/doc
topic write storeedge/v1/+/down/doc
`;

const GATEWAY = 'esl-gw-1';
const labels: ShelfLabel[] = [
  { tagId: 'esl-0001', gateway: GATEWAY, tagType: 'm2-2.9-bwr', sku: 'oat-milk' },
  { tagId: 'esl-0002', gateway: GATEWAY, tagType: 'm3-2.9-bwr', sku: 'oat-milk' },
  { tagId: 'esl-0003', gateway: GATEWAY, tagType: 'm2-2.9-bwr', sku: 'rye-bread' },
];
const model: StoreModelInput = {
  catalog: [
    { sku: 'oat-milk', gtin: '04006381333931', name: 'Oat drink 1 l', unitWeightG: 1_040, unitWeightSigmaG: 8, priceMinor: 189 },
    { sku: 'rye-bread', gtin: '05901234123457', name: 'Rye bread 500 g', unitWeightG: 500, unitWeightSigmaG: 12, priceMinor: 249 },
  ],
  zones: [{ id: 'aisle-1' }],
  labels,
};
const HOUR = 3_600_000;

const hqKey = generateSigningKey('hq-1');

let dir: string;
let broker: Mosquitto;
let hqStore: HqStore;
let hq: HqService;
let agent: StoreAgent;
let attacker: MqttClient;
const clock = new SimClock(Date.now());
/** Outcomes HQ heard (from the store's uplinked sync.document.* records). */
const hqOutcomes: DocumentOutcome[] = [];
/** Outcomes the store's applier reported, in order. */
const storeOutcomes: Array<Exclude<ChunkOutcome, { status: 'incomplete' }>> = [];
/** Every chunk the attacker saw on any store's down/doc, by document id. */
const captured = new Map<string, DocChunkMessage[]>();

beforeAll(async () => {
  if (skipWithoutMosquitto) return;
  dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-docs-'));
  broker = await startMosquitto({ users: PASSWORDS, acl: SYNC_BROKER_ACL + attackerAcl });

  hqStore = HqStore.open(':memory:');
  hq = new HqService({ store: hqStore, signingKey: hqKey, upstream: { url: broker.url, username: 'hq', clientId: 'hq', password: PASSWORDS.hq, reconnectMinMs: 100 }, stores: [STORE, OTHER_STORE] });
  hq.on('documentOutcome', (outcome) => hqOutcomes.push(outcome));
  hq.start();
  await hq.ready();

  // MQTT 5 for "no local": the attacker captures what HQ sends, not its own injections.
  attacker = await mqtt.connectAsync(broker.url, { clientId: 'attacker', username: 'attacker', password: PASSWORDS.attacker, protocolVersion: 5, reconnectPeriod: 200 });
  attacker.on('message', (_topic, payload) => {
    const message = JSON.parse(payload.toString('utf8')) as DocChunkMessage;
    captured.set(message.header.id, [...(captured.get(message.header.id) ?? []), message]);
  });
  await attacker.subscribeAsync('storeedge/v1/+/down/doc', { qos: 1, nl: true });

  const config = loadConfig(
    {
      storeId: STORE,
      dataDir: join(dir, 'data'),
      broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
      http: { host: '127.0.0.1', port: 0 },
      log: { level: 'silent' },
      vision: { enabled: false },
      store: { model },
      sync: {
        upstream: { url: broker.url, password: PASSWORDS[STORE], reconnectMinMs: 100, reconnectMaxMs: 1_000 },
        trustedKeys: [{ keyId: hqKey.keyId, publicKey: hqKey.publicKey }],
        uplink: { pollIntervalMs: 20, ackTimeoutMs: 3_000, retryBaseMs: 100, retryMaxMs: 1_000 },
      },
    },
    dir,
  );
  agent = await StoreAgent.start(config, { logger: silentLogger(), clock });
  agent.sync!.on('document', (outcome) => storeOutcomes.push(outcome));
  await waitFor('the store connected upstream', () => (agent.sync!.connected ? true : undefined));
  await agent.labels.idle();
  expect(labelPrices()).toEqual({ 'esl-0001': 189, 'esl-0002': 189, 'esl-0003': 249 });
}, 60_000);

afterAll(async () => {
  await attacker?.endAsync(true);
  await agent?.stop();
  await hq?.stop();
  hqStore?.close();
  await broker?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** What each label is to show now (the label service's desired content). */
function labelPrices(): Record<string, number | undefined> {
  return Object.fromEntries(labels.map((l) => [l.tagId, agent.labels.label(l.tagId).desired?.content?.priceMinor]));
}

/** Everything a price document could change in the store. */
function storeState() {
  return {
    prices: model.catalog.map((c) => agent.prices.history(c.sku)),
    labels: labels.map((l) => agent.labels.label(l.tagId).desired),
    pricingEvents: agent.ledger.events({ stream: pricingStream }).length,
    versions: agent.sync!.applier.status().versions,
  };
}

/** HQ publishes; resolves once the store applied (or refused) it and HQ heard back. */
async function publish(input: Parameters<HqService['publishDocument']>[0]) {
  const doc = await hq.publishDocument(input);
  const outcome = await waitFor(`HQ to hear the store's outcome of ${doc.id}`, () => hqOutcomes.find((o) => o.docId === doc.id && o.store === STORE));
  return { ...doc, outcome };
}

/** The attacker puts raw chunk messages on the store's down/doc. */
async function inject(messages: Array<DocChunkMessage | string>): Promise<void> {
  for (const m of messages) await attacker.publishAsync(`storeedge/v1/${STORE}/down/doc`, typeof m === 'string' ? m : JSON.stringify(m), { qos: 1 });
}

/** A chunk message signed by `key` over a header of our choosing — bodies no HQ would build. */
function signedMessage(key: SigningKey, fields: { id: string; version: number; stores?: string[] }, body: unknown): DocChunkMessage {
  const bytes = canonicalBytes(body);
  const header = {
    id: fields.id,
    kind: 'prices' as const,
    version: fields.version,
    stores: fields.stores ?? [STORE],
    issuedAt: Date.now(),
    effectiveFrom: null,
    expiresAt: null,
    bodySha256: sha256Hex(bytes),
    bodyBytes: bytes.length,
    chunks: 1,
  };
  return { v: 1, header, keyId: key.keyId, alg: 'Ed25519', sig: signBytes(key.privateKeyPem, canonicalBytes(header)), index: 0, data: bytes.toString('base64') };
}

describe.skipIf(skipWithoutMosquitto)('signed price documents through a real Mosquitto (skipped: mosquitto not installed)', () => {
  it('refuses forged, tampered, replayed, rolled-back, wrong-store and malformed documents; nothing changes in the store and HQ hears every refusal it can', async () => {
    // What HQ really sent: v1 (this store, at once), v2 (another store), v3 (this store). The attacker captured all of it.
    const v1 = await publish({ kind: 'prices', stores: [STORE], body: { prices: [{ sku: 'oat-milk', priceMinor: 179 }] } });
    expect(v1.outcome).toMatchObject({ outcome: 'applied', version: 1 });
    const v2 = await hq.publishDocument({ kind: 'prices', stores: [OTHER_STORE], body: { prices: [{ sku: 'oat-milk', priceMinor: 99 }] } });
    const v3 = await publish({ kind: 'prices', stores: [STORE], body: { prices: [{ sku: 'rye-bread', priceMinor: 239 }] } });
    expect(v3.outcome).toMatchObject({ outcome: 'applied', version: 3 });
    await agent.labels.idle();
    expect(labelPrices()).toEqual({ 'esl-0001': 179, 'esl-0002': 179, 'esl-0003': 239 });
    await waitFor('the other store\'s document captured', () => (captured.has(v2.id) && captured.has(v1.id) ? true : undefined));
    const before = storeState();

    /** Injects, waits for the store's refusal with `code` (and HQ's report of it, when the message named a document), checks nothing changed. */
    const expectRefused = async (what: string, messages: Array<DocChunkMessage | string>, code: string, reportedAs?: string) => {
      const seen = storeOutcomes.length;
      const heard = hqOutcomes.length;
      await inject(messages);
      const refusal = await waitFor(`the store to refuse the ${what}`, () => storeOutcomes.slice(seen).find((o) => o.status === 'refused'));
      expect(refusal, what).toMatchObject({ status: 'refused', code });
      if (reportedAs !== undefined) {
        const report = await waitFor(`HQ to hear of the ${what}`, () => hqOutcomes.slice(heard).find((o) => o.docId === reportedAs));
        expect(report, what).toMatchObject({ store: STORE, outcome: 'refused', code });
      }
      expect(storeState(), `${what}: the store changed`).toEqual(before);
    };

    // Forged: HQ's key id, another key.
    const forger = generateSigningKey(hqKey.keyId);
    const forged = buildDocument({ id: 'doc-forged-1', kind: 'prices', version: 10, stores: [STORE], issuedAt: Date.now(), body: { prices: [{ sku: 'oat-milk', priceMinor: 1 }] } }, forger);
    await expectRefused('forged document', forged.messages, 'SYNC_ERR_DOC_SIGNATURE', 'doc-forged-1');
    // Signed by a key the store does not trust.
    const unknown = buildDocument({ id: 'doc-unknown-key', kind: 'prices', version: 11, stores: [STORE], issuedAt: Date.now(), body: { prices: [{ sku: 'oat-milk', priceMinor: 1 }] } }, generateSigningKey('hq-9'));
    await expectRefused('document signed by an unknown key', unknown.messages, 'SYNC_ERR_DOC_UNKNOWN_KEY', 'doc-unknown-key');

    // Tampered copies of what HQ sent: a new version number in the signed header; a new price in the body.
    const [v1Chunk] = captured.get(v1.id)!;
    const bumped = { ...v1Chunk!, header: { ...v1Chunk!.header, id: 'doc-bumped', version: 12 } };
    await expectRefused('genuine document with its header edited', [bumped], 'SYNC_ERR_DOC_SIGNATURE', 'doc-bumped');
    const cheaper = Buffer.from(Buffer.from(v1Chunk!.data, 'base64').toString('utf8').replace('179', '100')).toString('base64');
    await expectRefused('genuine document with its body edited', [{ ...v1Chunk!, data: cheaper }], 'SYNC_ERR_DOC_BODY_HASH', v1.id);
    // ...and HQ still has v1 as applied: a refused copy does not undo what the store applied.
    expect(hqStore.documentOutcome(v1.id, STORE)).toMatchObject({ outcome: 'applied' });

    // Replayed: v1 again, as HQ sent it — the store applied it once and does not apply it again.
    const seen = storeOutcomes.length;
    await inject(captured.get(v1.id)!);
    expect(await waitFor('the replay of v1 handled', () => storeOutcomes[seen])).toEqual({ status: 'duplicate', docId: v1.id, kind: 'prices', version: 1 });
    expect(storeState()).toEqual(before);
    // Rolled back: validly signed by HQ's key, but older than the applied version 3 (a copy held back and played late).
    const old = buildDocument({ id: 'doc-held-back', kind: 'prices', version: 2, stores: [STORE], issuedAt: Date.now(), body: { prices: [{ sku: 'oat-milk', priceMinor: 150 }] } }, hqKey);
    await expectRefused('older version', old.messages, 'SYNC_ERR_DOC_STALE', 'doc-held-back');

    // Wrong store: HQ's genuine document for another store, put on this store's topic.
    await expectRefused('other store\'s document', captured.get(v2.id)!, 'SYNC_ERR_DOC_WRONG_STORE', v2.id);
    expect(hqStore.documentOutcome(v2.id, STORE)).toMatchObject({ outcome: 'refused', code: 'SYNC_ERR_DOC_WRONG_STORE' });

    // Malformed: not JSON (nothing names a document: counted and logged, nothing to report), and a
    // signed envelope whose body is no price list.
    await expectRefused('message that is not JSON', ['{"v":1,"header":'], 'SYNC_ERR_DOC_MALFORMED');
    await expectRefused('negative price', [signedMessage(hqKey, { id: 'doc-negative', version: 13 }, { prices: [{ sku: 'oat-milk', priceMinor: -5 }] })], 'SYNC_ERR_DOC_BODY_INVALID', 'doc-negative');
    // HQ's own document naming a SKU this store does not sell is refused whole: the valid line is not applied either.
    const partial = await publish({ kind: 'prices', stores: [STORE], body: { prices: [{ sku: 'oat-milk', priceMinor: 150 }, { sku: 'no-such-sku', priceMinor: 1 }] } });
    expect(partial.outcome).toMatchObject({ outcome: 'refused', code: 'SYNC_ERR_DOC_BODY_INVALID' });
    expect(storeState()).toEqual(before);

    // HQ's view of this store: its documents with outcomes, and the forged ones it never signed.
    expect(hqStore.storeDocuments(STORE).map((d) => [d.version, d.outcome?.outcome, d.outcome?.code ?? null])).toEqual([
      [4, 'refused', 'SYNC_ERR_DOC_BODY_INVALID'],
      [3, 'applied', null],
      [1, 'applied', null],
    ]);
    expect(hqStore.foreignDocumentOutcomes(STORE, 100).map((o) => [o.docId, o.code]).sort()).toEqual(
      [
        ['doc-bumped', 'SYNC_ERR_DOC_SIGNATURE'],
        ['doc-forged-1', 'SYNC_ERR_DOC_SIGNATURE'],
        ['doc-held-back', 'SYNC_ERR_DOC_STALE'],
        ['doc-negative', 'SYNC_ERR_DOC_BODY_INVALID'],
        ['doc-unknown-key', 'SYNC_ERR_DOC_UNKNOWN_KEY'],
      ].sort(),
    );
  }, 90_000);

  it('applies a valid document with a future effectiveFrom at that time on the store clock, and the labels follow then, not before', async () => {
    const effectiveFrom = clock.now() + HOUR;
    const doc = await publish({ kind: 'prices', stores: [STORE], effectiveFrom, body: { prices: [{ sku: 'oat-milk', priceMinor: 159 }] } });
    expect(doc.outcome).toMatchObject({ outcome: 'applied', code: null });
    await agent.labels.idle();
    const was = labelPrices();
    expect(was['esl-0001']).not.toBe(159);
    // Recorded now, in force from its effective time: the till and the labels still use the old price.
    expect(agent.prices.regularAt('oat-milk', effectiveFrom)?.priceMinor).toBe(159);
    expect(agent.prices.unitPriceAt('oat-milk', clock.now()).priceMinor).toBe(was['esl-0001']);

    clock.runUntil(effectiveFrom - 1_000);
    await agent.labels.idle();
    expect(labelPrices()).toEqual(was);

    clock.runUntil(effectiveFrom);
    await agent.labels.idle();
    expect(labelPrices()).toEqual({ ...was, 'esl-0001': 159, 'esl-0002': 159 });
    expect(agent.prices.unitPriceAt('oat-milk', clock.now()).priceMinor).toBe(159);
  }, 60_000);
});
