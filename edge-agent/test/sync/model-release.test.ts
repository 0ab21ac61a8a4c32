import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RECOGNISER_MANIFEST } from '@storeedge/models';
import { buildDocument, generateSigningKey } from '@storeedge/sync';
import { Ledger } from '../../src/ledger/ledger.ts';
import { PriceBook } from '../../src/pricing/index.ts';
import { DownlinkApplier, type ChunkOutcome } from '../../src/sync/downlink-applier.ts';
import { syncEventTypes } from '../../src/sync/ledger-events.ts';
import { latestRelease, ModelReleases } from '../../src/sync/model-release.ts';

const hq = generateSigningKey('hq-1');
const dirs: string[] = [];
let version = 1;

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const committed = (() => {
  const manifest = JSON.parse(readFileSync(RECOGNISER_MANIFEST, 'utf8')) as Record<string, unknown> & { file: string };
  return { manifest, bytes: readFileSync(join(dirname(RECOGNISER_MANIFEST), manifest.file)) };
})();

/** The applier with a model-release part whose vision service only records swaps. */
function rig(options: { visionEnabled?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-release-'));
  dirs.push(dir);
  const ledger = Ledger.open(join(dir, 'ledger.db'), { synchronous: 'normal' });
  const swaps: string[] = [];
  const releases = new ModelReleases({
    ledger,
    dataDir: dir,
    vision: {
      enabled: () => options.visionEnabled ?? true,
      swap: async (manifestPath) => {
        swaps.push(manifestPath);
      },
    },
  });
  const applier = new DownlinkApplier({ ledger, prices: new PriceBook({ ledger }), parts: { models: releases }, storeId: 's1', trustedKeys: [{ keyId: hq.keyId, publicKey: hq.publicKey }], now: () => Date.now() });
  const send = (body: unknown): ChunkOutcome => {
    let outcome: ChunkOutcome | undefined;
    for (const m of buildDocument({ kind: 'model-release', version: version++, stores: ['s1'], issuedAt: Date.now(), body: body as never }, hq, { chunkBytes: 256 * 1024 }).messages) {
      outcome = applier.accept(JSON.stringify(m));
    }
    return outcome!;
  };
  return { dir, ledger, releases, swaps, send };
}

const release = (manifest: Record<string, unknown> = {}, bytes: Buffer = committed.bytes) => ({ manifest: { ...committed.manifest, ...manifest }, modelBase64: bytes.toString('base64') });

describe('model-release documents', () => {
  it('writes a verified release under the data directory, records it, and swaps the vision service to it after the commit', async () => {
    const r = rig();
    expect(r.send(release({ version: '2.0.0' }))).toMatchObject({ status: 'applied', kind: 'model-release' });
    await r.releases.lastSwap;
    const manifestPath = latestRelease(r.ledger, r.dir);
    expect(manifestPath).toMatch(/models\/product-recogniser\/2\.0\.0-[0-9a-f]{8}\/manifest\.json$/);
    expect(r.swaps).toEqual([manifestPath]);
    expect(readFileSync(join(dirname(manifestPath!), 'recogniser.onnx')).equals(committed.bytes)).toBe(true);
    const recorded = r.ledger.events({ stream: 'sync' }).filter((e) => e.type === syncEventTypes.modelReleased);
    expect(recorded.map((e) => e.payload)).toEqual([expect.objectContaining({ name: 'product-recogniser', modelVersion: '2.0.0', sha256: committed.manifest.sha256 })]);
    r.ledger.close();
  });

  it('refuses bytes that do not match the manifest, a model it does not serve, a bad manifest, and a store without vision — writing nothing', () => {
    const flipped = Buffer.from(committed.bytes);
    flipped[1000] = (flipped[1000]! + 1) % 256;
    const cases: Array<[string, unknown, string, RegExp, boolean?]> = [
      ['bytes changed', release({ version: '2.0.1' }, flipped), 'SYNC_ERR_DOC_BODY_INVALID', /model bytes have sha256 [0-9a-f]{64}, the manifest says/],
      ['truncated', release({ version: '2.0.2' }, committed.bytes.subarray(0, 1000)), 'SYNC_ERR_DOC_BODY_INVALID', /sha256/],
      ['another model', release({ name: 'face-recogniser' }), 'SYNC_ERR_DOC_BODY_INVALID', /serves no model "face-recogniser"/],
      ['manifest without its input spec', release({ version: '2.0.3', input: undefined }), 'SYNC_ERR_DOC_BODY_INVALID', /manifest: input: /],
      ['no vision in this store', release({ version: '2.0.4' }), 'SYNC_ERR_DOC_UNSUPPORTED_KIND', /runs no vision/, false],
    ];
    for (const [what, body, code, reason, visionEnabled] of cases) {
      const r = rig(visionEnabled === undefined ? {} : { visionEnabled });
      expect({ what, outcome: r.send(body) }).toMatchObject({ what, outcome: { status: 'refused', code, reason: expect.stringMatching(reason) } });
      expect({ what, release: latestRelease(r.ledger, r.dir) }).toEqual({ what, release: undefined });
      expect(r.swaps).toEqual([]);
      expect(existsSync(join(r.dir, 'models'))).toBe(false);
      r.ledger.close();
    }
  });
});
