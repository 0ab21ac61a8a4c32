/**
 * Part 3 of `storeedge bench sync`: HQ's large documents — a full catalog of `skus` SKUs, then a
 * price list with a new price for every one of them (effective in an hour, as an overnight change
 * is sent ahead) — to one store.
 *
 * - HQ side (in its thread): `publishDocument` (body schema check, canonical JSON, sha256,
 *   Ed25519 signature, one transaction recording the document, its chunks and the delivery row),
 *   then the hand-over of every chunk to the broker (QoS 1, PUBACK each).
 * - end to end: from `publishDocument` until the store's SyncService reported the document
 *   applied — chunks through Mosquitto, each verified as it arrives, the body assembled, hashed,
 *   parsed, checked and applied with its outcome event in one ledger transaction (synchronous FULL).
 * - store side alone: the same chunk messages fed to a DownlinkApplier on a fresh ledger file, in
 *   this thread, no network: `verify` is the time in the chunks that only buffer (signature check,
 *   base64), `apply` the time in the chunk that completes the document (assembly, body hash,
 *   JSON parse, canonical check, schema, the handler's plan and the transaction with its commit).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { Ledger } from '../ledger/index.ts';
import { PriceBook } from '../pricing/index.ts';
import { DownlinkApplier } from '../sync/downlink-applier.ts';
import type { ChunkOutcome } from '../sync/downlink-applier.ts';
import { BenchStore } from './sync-bench-store.ts';
import { password, runDir, within, type SyncBenchContext } from './sync-bench-context.ts';

export type DocKind = 'catalog' | 'prices';

export interface DocumentRun {
  kind: DocKind;
  run: number;
  /** Catalog items or price entries. */
  entries: number;
  bodyBytes: number;
  chunks: number;
  /** HQ: publishDocument, and handing every chunk to the broker. */
  hqSignMs: number;
  hqSendMs: number;
  /** publishDocument called → the store's SyncService reported it applied. */
  endToEndMs: number;
  /** Store side alone (no network): buffering chunks, and the chunk that completes and applies the document. */
  storeVerifyMs: number;
  storeApplyMs: number;
  /** Ledger events the document's transaction wrote (its effects and its outcome event). */
  ledgerEvents: number;
  outcome: ChunkOutcome['status'];
}

/** One run: catalog then prices, end to end through Mosquitto, then the same chunks applied in-process. */
export async function measureDocuments(ctx: SyncBenchContext, p: { skus: number; run: number; chunkBytes?: number }): Promise<DocumentRun[]> {
  const dir = runDir(ctx, `downlink-${p.run}`);
  const trustedKeys = [{ keyId: ctx.signingKey.keyId, publicKey: ctx.signingKey.publicKey }];
  await ctx.hq.request({
    op: 'open',
    file: `${dir}/hq.db`,
    url: ctx.upstream.url,
    password: password(ctx, 'hq'),
    stores: [ctx.storeId],
    signingKey: ctx.signingKey,
    ...(p.chunkBytes === undefined ? {} : { chunkBytes: p.chunkBytes }),
  });
  const store = BenchStore.open({ dir, storeId: ctx.storeId });
  const runs: DocumentRun[] = [];
  const chunkMessages = new Map<DocKind, string[]>();
  try {
    await store.connect({ url: ctx.upstream.url, password: password(ctx, ctx.storeId), trustedKeys });
    for (const kind of ['catalog', 'prices'] as const) {
      const outcomes: Array<{ docId: string | null; status: string; at: number }> = [];
      const onDocument = (o: ChunkOutcome) => outcomes.push({ docId: o.docId, status: o.status, at: performance.now() });
      store.sync.on('document', onDocument);
      try {
        const t0 = performance.now();
        const published = await ctx.hq.request(
          { op: 'publish', kind, skus: p.skus, stores: [ctx.storeId], effectiveFrom: kind === 'prices' ? Date.now() + 3_600_000 : null, withChunks: true },
          180_000,
        );
        let outcome: (typeof outcomes)[number] | undefined;
        await within(
          (async () => {
            while (!(outcome = outcomes.find((o) => o.docId === published.docId))) await new Promise((resolve) => setTimeout(resolve, 2));
          })(),
          180_000,
          `the store did not answer ${kind} document ${published.docId}`,
        );
        if (outcome!.status !== 'applied') throw new Error(`the store did not apply the ${kind} document: ${outcome!.status}`);
        chunkMessages.set(kind, published.chunkMessages ?? []);
        runs.push({
          kind,
          run: p.run,
          entries: p.skus,
          bodyBytes: published.bodyBytes,
          chunks: published.chunks,
          hqSignMs: published.signMs,
          hqSendMs: published.sendMs,
          // The worker generated the body before publishDocument: not HQ's work, not counted.
          endToEndMs: outcome!.at - t0 - published.bodyMs,
          storeVerifyMs: Number.NaN,
          storeApplyMs: Number.NaN,
          ledgerEvents: 0,
          outcome: 'applied',
        });
      } finally {
        store.sync.off('document', onDocument);
      }
    }
  } finally {
    await store.close();
    await ctx.hq.request({ op: 'close' });
  }

  // The same chunks, applied by a fresh store in this thread.
  const alone = join(dir, 'in-process');
  mkdirSync(alone);
  const ledger = Ledger.open(join(alone, 'ledger.db'), { synchronous: 'full' });
  try {
    const applier = new DownlinkApplier({ ledger, prices: new PriceBook({ ledger }), storeId: ctx.storeId, trustedKeys, now: () => Date.now() });
    for (const run of runs) {
      const messages = chunkMessages.get(run.kind)!;
      const head0 = ledger.head().seq;
      let verifyMs = 0;
      let last: ChunkOutcome | undefined;
      for (const [i, message] of messages.entries()) {
        const t0 = performance.now();
        last = applier.accept(message);
        const ms = performance.now() - t0;
        if (i < messages.length - 1) verifyMs += ms;
        else run.storeApplyMs = ms;
      }
      run.storeVerifyMs = verifyMs;
      run.ledgerEvents = ledger.head().seq - head0;
      run.outcome = last?.status ?? 'refused';
      if (run.outcome !== 'applied') throw new Error(`the in-process store did not apply the ${run.kind} document: ${JSON.stringify(last)}`);
    }
  } finally {
    ledger.close();
  }
  return runs;
}
