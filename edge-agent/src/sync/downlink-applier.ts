import {
  canonicalJson,
  DocumentAssembler,
  KeyRing,
  sha256Hex,
  type DocumentHeader,
  type DocumentKind,
  type SyncErrorCode,
  type TrustedKey,
} from '@storeedge/sync';
import { StoreEdgeError } from '../errors.ts';
import type { Ledger, LedgerEvent } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { applyKeyChanges, documentHandlers, type DocumentPlan, type DocumentPriceBook, type HandlerContext, type Refusal, type StoreParts } from './document-handlers.ts';
import { syncEventTypes, syncStream, type DocumentApplied, type DocumentRefused, type KeysChanged } from './ledger-events.ts';

export interface DownlinkApplierOptions {
  ledger: Ledger;
  prices: DocumentPriceBook;
  /** Orders, planograms, model releases: the kinds whose part is absent are refused. */
  parts?: StoreParts;
  storeId: string;
  /** Keys trusted from the config; `keys` documents recorded in the ledger change them. */
  trustedKeys: readonly TrustedKey[];
  /** Store clock (the price book's), ms: effective times and expiry are judged on it. */
  now: () => number;
  maxBodyBytes?: number;
  maxPendingDocuments?: number;
  /** Refusals recorded in the ledger (and so reported to HQ) per minute, at most; more are logged and counted only. Default 60. */
  refusalsPerMinute?: number;
  metrics?: Metrics;
  logger?: Logger;
}

/** What became of one `down/doc` message. */
export type ChunkOutcome =
  | { status: 'incomplete'; docId: string }
  | { status: 'applied'; docId: string; kind: DocumentKind; version: number }
  | { status: 'duplicate'; docId: string; kind: DocumentKind; version: number }
  | { status: 'refused'; docId: string | null; code: SyncErrorCode; reason: string };

/** The last document applied and the last refused, for GET /api/health. */
export interface DownlinkStatus {
  lastApplied: { docId: string; kind: DocumentKind; version: number; at: number } | null;
  lastRefused: { docId: string | null; kind: DocumentKind | null; version: number | null; code: SyncErrorCode; reason: string; at: number } | null;
  /** Highest applied version per kind. */
  versions: Partial<Record<DocumentKind, number>>;
  trustedKeys: string[];
  pendingDocuments: number;
}

interface AppliedDocument {
  kind: DocumentKind;
  version: number;
  bodySha256: string;
}

interface CompleteDocument {
  header: DocumentHeader;
  keyId: string;
  body: unknown;
}

/** One check after assembly, in docs/sync.md's order; undefined lets the document through. */
type DocumentCheck = (doc: CompleteDocument) => Refusal | 'duplicate' | undefined;

const MAX_REASON_CHARS = 1_000;

/**
 * `down/doc` chunks → verified, applied documents (docs/sync.md "Downlink"). The assembler checks
 * each chunk (shape, pinned algorithm, trusted key, signature, store scope, size) and the body
 * (hash, canonical JSON, the kind's schema); then the applier checks the kind is supported, the
 * version is above the last applied one of its kind (the same document again is a duplicate,
 * not re-applied), the document has not expired and its handler's plan fits the store — and
 * applies it in ONE ledger transaction together with its outcome event (`outbox: true`, so HQ
 * hears of it exactly once). A refusal is an outcome event too; nothing of a refused document
 * is applied. Applied versions and the key ring are rebuilt from the ledger at construction, so
 * a restart (kill -9 included) neither re-applies nor forgets.
 */
export class DownlinkApplier {
  readonly #ledger: Ledger;
  readonly #prices: DocumentPriceBook;
  readonly #parts: StoreParts;
  readonly #now: () => number;
  readonly #metrics: Metrics | undefined;
  readonly #logger: Logger | undefined;
  readonly #keyRing: KeyRing;
  readonly #assembler: DocumentAssembler;
  readonly #refusalsPerMinute: number;
  /** Every document applied, by id: a replay of any of them is a duplicate, never a refusal. */
  readonly #applied = new Map<string, AppliedDocument>();
  readonly #versions = new Map<DocumentKind, number>();
  #refusalWindow = { start: 0, count: 0 };
  #lastApplied: DownlinkStatus['lastApplied'] = null;
  #lastRefused: DownlinkStatus['lastRefused'] = null;
  readonly #checks: ReadonlyArray<DocumentCheck>;

  constructor(options: DownlinkApplierOptions) {
    this.#ledger = options.ledger;
    this.#prices = options.prices;
    this.#parts = options.parts ?? {};
    this.#now = options.now;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#refusalsPerMinute = options.refusalsPerMinute ?? 60;
    this.#keyRing = new KeyRing();
    for (const key of options.trustedKeys) this.#trust(key);
    this.#rebuild();
    this.#assembler = new DocumentAssembler({
      storeId: options.storeId,
      keyRing: this.#keyRing,
      ...(options.maxBodyBytes === undefined ? {} : { maxBodyBytes: options.maxBodyBytes }),
      ...(options.maxPendingDocuments === undefined ? {} : { maxPendingDocuments: options.maxPendingDocuments }),
    });
    this.#checks = [this.#supportedKind, this.#notSeenBefore, this.#newerVersion, this.#notExpired];
  }

  /** The keys documents are verified against now. */
  get keyRing(): KeyRing {
    return this.#keyRing;
  }

  /**
   * One `down/doc` message. Synchronous: when it returns, the document (if this chunk completed
   * it) is applied or refused and committed — so the caller acknowledges the message after.
   * Throws only when the ledger itself fails (the message should then be delivered again).
   */
  accept(raw: Buffer | Uint8Array | string): ChunkOutcome {
    let message: unknown;
    try {
      message = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch (err) {
      return this.#refused(null, 'SYNC_ERR_DOC_MALFORMED', `not JSON: ${(err as Error).message}`);
    }
    const result = this.#assembler.accept(message);
    if (result.status === 'incomplete') return { status: 'incomplete', docId: result.header.id };
    if (result.status === 'refused') return this.#refused(result.header ?? null, result.code, result.reason);
    const doc: CompleteDocument = { header: result.header, keyId: result.keyId, body: result.body };
    for (const check of this.#checks) {
      const verdict = check(doc);
      if (verdict === 'duplicate') return this.#duplicate(doc.header);
      if (verdict !== undefined) return this.#refused(doc.header, verdict.code, verdict.reason);
    }
    return this.#apply(doc);
  }

  status(): DownlinkStatus {
    return {
      lastApplied: this.#lastApplied,
      lastRefused: this.#lastRefused,
      versions: Object.fromEntries(this.#versions),
      trustedKeys: this.#keyRing.list().map((k) => k.keyId),
      pendingDocuments: this.#assembler.pending(),
    };
  }

  // ── checks after assembly (docs/sync.md "Verification order" 5 and on) ────────────────────

  readonly #supportedKind: DocumentCheck = ({ header }) =>
    documentHandlers.has(header.kind) ? undefined : { ok: false, code: 'SYNC_ERR_DOC_UNSUPPORTED_KIND', reason: `this store does not apply ${header.kind} documents yet` };

  /** The same document again (a re-send, a replay): acknowledged by the outcome already recorded, not applied twice. */
  readonly #notSeenBefore: DocumentCheck = ({ header }) => {
    const applied = this.#applied.get(header.id);
    if (applied === undefined) return undefined;
    if (applied.kind === header.kind && applied.version === header.version && applied.bodySha256 === header.bodySha256) return 'duplicate';
    return { ok: false, code: 'SYNC_ERR_DOC_STALE', reason: `document id ${header.id} was applied before as ${applied.kind} version ${applied.version} with other content` };
  };

  readonly #newerVersion: DocumentCheck = ({ header }) => {
    if (documentHandlers.get(header.kind)?.independentVersions) return undefined;
    const last = this.#versions.get(header.kind);
    if (last === undefined || header.version > last) return undefined;
    return { ok: false, code: 'SYNC_ERR_DOC_STALE', reason: `${header.kind} version ${header.version} is not above the applied version ${last}` };
  };

  /** An expired document is refused; the last valid one of its kind stays in force (G6). */
  readonly #notExpired: DocumentCheck = ({ header }) => {
    const now = this.#now();
    if (header.expiresAt === null || header.expiresAt > now) return undefined;
    return { ok: false, code: 'SYNC_ERR_DOC_EXPIRED', reason: `document expired at ${new Date(header.expiresAt).toISOString()}` };
  };

  // ── outcomes ──────────────────────────────────────────────────────────────────────────────

  #apply(doc: CompleteDocument): ChunkOutcome {
    const { header, keyId } = doc;
    const ctx: HandlerContext = { header, keyId, now: this.#now, ledger: this.#ledger, prices: this.#prices, keyRing: this.#keyRing, parts: this.#parts };
    const plan = documentHandlers.get(header.kind)!.plan(doc.body, ctx);
    if (!plan.ok) return this.#refused(header, plan.code, plan.reason);

    // G8: a remote time moves the outbox clock unless it is implausibly far ahead (flagged).
    const skew = this.#ledger.observeRemoteClock(header.issuedAt);
    if (!skew.adopted) {
      this.#metrics?.syncClockSkew.inc();
      this.#logger?.warn({ docId: header.id, issuedAt: header.issuedAt, skewMs: skew.skewMs }, 'document issued too far ahead of the store clock: SYNC_ERR_CLOCK_SKEW flagged, time not adopted');
    }
    try {
      this.#prices.atomically(() => {
        plan.apply();
        const payload: DocumentApplied = {
          docId: header.id,
          kind: header.kind,
          version: header.version,
          bodySha256: header.bodySha256,
          keyId,
          issuedAt: header.issuedAt,
          effectiveFrom: plan.effectiveFrom,
          summary: plan.summary,
          ...(skew.adopted ? {} : { clockSkewMs: skew.skewMs }),
        };
        this.#ledger.append({ type: syncEventTypes.documentApplied, stream: syncStream, key: `sync.document.applied:${header.id}:${header.version}`, payload, outbox: true });
      });
    } catch (err) {
      // The handler's plan said yes but the price book said no (a rule `plan` does not know):
      // everything rolled back, the book was rebuilt from the ledger; refuse the document whole.
      if (err instanceof StoreEdgeError && err.code.startsWith('EDGE_ERR_PRICE_')) {
        return this.#refused(header, 'SYNC_ERR_DOC_BODY_INVALID', `${err.code}: ${err.message}`);
      }
      throw err;
    }
    this.#afterCommit(plan);
    this.#remember({ kind: header.kind, version: header.version, bodySha256: header.bodySha256 }, header.id);
    this.#lastApplied = { docId: header.id, kind: header.kind, version: header.version, at: this.#now() };
    this.#metrics?.syncDocuments.inc({ kind: header.kind, outcome: 'applied' });
    this.#logger?.info({ docId: header.id, kind: header.kind, version: header.version, keyId, effectiveFrom: plan.effectiveFrom, ...plan.summary }, 'HQ document applied');
    return { status: 'applied', docId: header.id, kind: header.kind, version: header.version };
  }

  #afterCommit(plan: DocumentPlan): void {
    try {
      plan.afterCommit?.();
    } catch (err) {
      // Only a key ring change runs here, and its plan was checked: a bug, not bad input.
      this.#logger?.error({ err }, 'applying a committed document in memory failed; restart the agent to rebuild from the ledger');
    }
  }

  #duplicate(header: DocumentHeader): ChunkOutcome {
    this.#metrics?.syncDocuments.inc({ kind: header.kind, outcome: 'duplicate' });
    this.#logger?.info({ docId: header.id, kind: header.kind, version: header.version }, 'HQ document received again; already applied, its outcome is in the outbox');
    return { status: 'duplicate', docId: header.id, kind: header.kind, version: header.version };
  }

  #refused(header: DocumentHeader | null, code: SyncErrorCode, reasonText: string): ChunkOutcome {
    const reason = reasonText.length > MAX_REASON_CHARS ? `${reasonText.slice(0, MAX_REASON_CHARS - 1)}…` : reasonText;
    const at = this.#now();
    this.#metrics?.syncDocumentRefusals.inc({ code });
    this.#metrics?.syncDocuments.inc({ kind: header?.kind ?? 'unknown', outcome: 'refused' });
    this.#lastRefused = { docId: header?.id ?? null, kind: header?.kind ?? null, version: header?.version ?? null, code, reason, at };
    const log = { docId: header?.id, kind: header?.kind, version: header?.version, code, reason };
    // Without a readable header there is no document to report on; it is logged and counted.
    if (header === null) {
      this.#logger?.warn(log, 'HQ document message refused');
      return { status: 'refused', docId: null, code, reason };
    }
    if (!this.#mayRecordRefusal(at)) {
      this.#logger?.warn({ ...log, limitPerMinute: this.#refusalsPerMinute }, 'HQ document refused (not recorded: too many refusals this minute)');
      return { status: 'refused', docId: header.id, code, reason };
    }
    const payload: DocumentRefused = { docId: header.id, kind: header.kind, version: header.version, bodySha256: header.bodySha256, code, reason };
    // The same refusal twice (a replayed document) is one event: the key is its content.
    const key = `sync.document.refused:${sha256Hex(canonicalJson(payload)).slice(0, 32)}`;
    this.#ledger.append({ type: syncEventTypes.documentRefused, stream: syncStream, key, payload, outbox: true });
    this.#logger?.warn(log, 'HQ document refused');
    return { status: 'refused', docId: header.id, code, reason };
  }

  /** A forged-document flood must not fill the ledger: a fixed window of `refusalsPerMinute`. */
  #mayRecordRefusal(now: number): boolean {
    if (now - this.#refusalWindow.start >= 60_000 || now < this.#refusalWindow.start) this.#refusalWindow = { start: now, count: 0 };
    this.#refusalWindow.count += 1;
    return this.#refusalWindow.count <= this.#refusalsPerMinute;
  }

  // ── state from the ledger ─────────────────────────────────────────────────────────────────

  #remember(applied: AppliedDocument, docId: string): void {
    this.#applied.set(docId, applied);
    if (applied.version > (this.#versions.get(applied.kind) ?? 0)) this.#versions.set(applied.kind, applied.version);
  }

  /** Applied documents and key changes, in ledger order. */
  #rebuild(): void {
    for (let from = 1; ; ) {
      const batch = this.#ledger.events({ stream: syncStream, fromSeq: from, limit: 10_000 });
      for (const event of batch) this.#replay(event);
      if (batch.length < 10_000) break;
      from = batch.at(-1)!.seq + 1;
    }
  }

  #replay(event: LedgerEvent): void {
    if (event.type === syncEventTypes.documentApplied) {
      const p = event.payload as DocumentApplied;
      this.#remember({ kind: p.kind, version: p.version, bodySha256: p.bodySha256 }, p.docId);
      this.#lastApplied = { docId: p.docId, kind: p.kind, version: p.version, at: event.at };
    } else if (event.type === syncEventTypes.keysChanged) {
      try {
        applyKeyChanges(this.#keyRing, event.payload as KeysChanged);
      } catch (err) {
        this.#logger?.error({ err, seq: event.seq }, 'a recorded key change no longer applies (a config key id bound to another key?); skipped');
      }
    }
  }

  #trust(key: TrustedKey): void {
    try {
      this.#keyRing.add(key);
    } catch (err) {
      this.#logger?.error({ err, keyId: key.keyId }, 'sync.trustedKeys: key not trusted');
    }
  }
}
