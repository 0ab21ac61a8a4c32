import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DOCUMENT_KINDS } from '../documents.ts';
import { SyncError } from '../errors.ts';
import { isValidStoreId } from '../topics.ts';
import { bearerMatches } from './admin-token.ts';
import { HqError } from './hq-errors.ts';
import type { HqService } from './hq-service.ts';
import type { DocumentOutcome, EpochState, HeldRecord, HqStore, StoreCounters, StoreDocument } from './hq-store.ts';
import type { Logger } from './log.ts';
import { storeConnected } from './store-status.ts';

/**
 * HQ's HTTP API: per-store sync status and records for the chain's IT, and document publishing
 * for the CLI and back-office tools. Reads are open on loopback (or need the admin token when
 * `readsRequireToken`); anything that changes state needs `Authorization: Bearer <admin token>`,
 * checked before the body is even parsed.
 */

export interface HqHttpOptions {
  /** sha256 hex of the admin token; without it every mutating request is refused. */
  adminTokenSha256?: string;
  readsRequireToken?: boolean;
  maxBodyBytes?: number;
  logger: Logger;
}

export interface StoreView {
  id: string;
  /** In the config's `stores`. */
  configured: boolean;
  /** HQ has heard from it (a batch or a status). */
  seen: boolean;
  /** From its retained status; null when HQ has none. */
  connected: boolean | null;
  status: unknown;
  statusAt: number | null;
  firstSeenAt: number | null;
  lastSeenAt: number | null;
  lastBatchAt: number | null;
  /** Records HQ holds for the store. */
  held: number;
  counters: StoreCounters;
  /** Watermark, highest seq and gaps per epoch, newest first. */
  epochs: EpochState[];
  /** Seqs missing below the highest seen, over all epochs. */
  missingSeqs: number;
  /** Last documents addressed to it, with delivery and outcome. */
  documents: StoreDocument[];
  /** Outcomes it reported for documents HQ never signed (a forged or foreign document it refused). */
  foreignDocuments: DocumentOutcome[];
  /** Checkpoint forks (G9): its ledger history was rewritten after HQ saw it. 0 is the only good value. */
  forks: number;
}

const documentsPerStore = 5;
const maxRecordsPage = 1000;

const storeIdParam = z.strictObject({ id: z.string().refine(isValidStoreId, 'a store id') });
const docIdParam = z.strictObject({ id: z.string().min(1).max(128) });

const recordsQuery = z.strictObject({
  stream: z.string().min(1).optional(),
  type: z.string().min(1).optional(),
  epoch: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(maxRecordsPage).default(100),
  /** Cursor from a previous page's `next`. */
  after: z.string().min(1).optional(),
});

const limitQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).default(50), kind: z.enum(DOCUMENT_KINDS).optional() });

/** A time as ms since the epoch or an ISO-8601 string with a zone. */
const instant = z.union([
  z.number().int().min(0),
  z
    .string()
    .regex(/(Z|[+-]\d{2}:\d{2})$/, 'an ISO-8601 time with a zone (Z or ±hh:mm)')
    .transform((s, ctx) => {
      const ms = Date.parse(s);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: 'custom', message: 'not an ISO-8601 time' });
        return z.NEVER;
      }
      return ms;
    }),
]);

export const publishDocumentRequestSchema = z.strictObject({
  kind: z.enum(DOCUMENT_KINDS),
  /** Store ids, or ["*"] for every store HQ knows. */
  stores: z.array(z.string().min(1).max(64)).min(1).max(100_000),
  body: z.unknown(),
  effectiveFrom: instant.nullable().optional(),
  expiresAt: instant.nullable().optional(),
});

const resendRequestSchema = z.strictObject({ stores: z.array(z.string().min(1).max(64)).min(1).optional() });

export async function createHqHttpServer(service: HqService, options: HqHttpOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: options.logger.child({ part: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.maxBodyBytes ?? 32 * 1024 * 1024,
  });
  const store = service.store;

  app.setErrorHandler((error: FastifyError | HqError | SyncError, request, reply) => {
    if (error instanceof HqError) return reply.status(error.statusCode).send({ error: { code: error.code, message: error.message } });
    // A document no store would accept (bad body, bad header field): the caller's to fix.
    if (error instanceof SyncError) return reply.status(400).send({ error: { code: error.code, message: error.message } });
    const status = (error as FastifyError).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.status(status).send({ error: { code: 'SYNC_ERR_HQ_BAD_REQUEST', message: error.message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: 'SYNC_ERR_HQ_INTERNAL', message: 'internal error; see the HQ log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: 'SYNC_ERR_HQ_NOT_FOUND', message: `no route ${request.method} ${request.url}` } }),
  );

  // onRequest: refused before the body is read, so an anonymous client cannot make HQ parse anything.
  const admin = async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!options.adminTokenSha256) {
      throw new HqError('SYNC_ERR_HQ_UNAUTHORIZED', 'this HQ has no admin token configured (http.adminTokenSha256); run `storeedge hq token` and add its sha256');
    }
    if (!bearerMatches(request.headers.authorization, options.adminTokenSha256)) {
      request.log.warn({ method: request.method, url: request.url, ip: request.ip }, 'refused: no valid admin token');
      throw new HqError('SYNC_ERR_HQ_UNAUTHORIZED');
    }
  };
  const read = options.readsRequireToken ? { onRequest: admin } : {};
  const write = { onRequest: admin };

  app.get('/api/health', () => health(service));
  app.get('/metrics', (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(metricsText(service)));

  const view = (id: string) => storeView(store, id, service.isConfiguredStore(id));
  const knownView = (id: string) => {
    if (!service.knownStores().includes(id)) throw new HqError('SYNC_ERR_HQ_NOT_FOUND', `HQ does not know store ${id}`);
    return view(id);
  };
  app.get('/api/stores', read, () => ({ stores: service.knownStores().map(view) }));
  app.get('/api/stores/:id', read, (request) => {
    const { id } = parse(storeIdParam, request.params, 'params');
    return { ...knownView(id), streams: store.countsByStream(id) };
  });
  app.get('/api/stores/:id/records', read, (request) => {
    const { id } = parse(storeIdParam, request.params, 'params');
    knownView(id);
    const query = parse(recordsQuery, request.query, 'query');
    const records = store.records(id, {
      ...(query.stream !== undefined ? { stream: query.stream } : {}),
      ...(query.type !== undefined ? { type: query.type } : {}),
      ...(query.epoch !== undefined ? { epoch: query.epoch } : {}),
      ...(query.after !== undefined ? { after: decodeCursor(query.after) } : {}),
      limit: query.limit,
    });
    const last = records.at(-1);
    return { records, next: records.length === query.limit && last ? encodeCursor(last) : null };
  });
  app.get('/api/stores/:id/rejects', read, (request) => {
    const { id } = parse(storeIdParam, request.params, 'params');
    const { limit } = parse(limitQuery, request.query, 'query');
    return { rejects: store.rejects({ store: id, limit }) };
  });

  app.get('/api/documents', read, (request) => {
    const { limit, kind } = parse(limitQuery, request.query, 'query');
    return { documents: store.documents({ limit, ...(kind !== undefined ? { kind } : {}) }) };
  });
  app.get('/api/documents/:id', read, (request) => {
    const { id } = parse(docIdParam, request.params, 'params');
    const doc = store.document(id);
    if (!doc) throw new HqError('SYNC_ERR_HQ_NOT_FOUND', `no document ${id}`);
    return doc;
  });
  app.post('/api/documents', write, async (request, reply) => {
    const input = parse(publishDocumentRequestSchema, request.body, 'body');
    const published = await service.publishDocument({
      kind: input.kind,
      stores: input.stores,
      body: input.body,
      ...(input.effectiveFrom !== undefined ? { effectiveFrom: input.effectiveFrom } : {}),
      ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
    });
    request.log.info({ docId: published.id, kind: input.kind, version: published.version, stores: published.stores.length, ip: request.ip }, 'document published via the API');
    return reply.status(201).send(published);
  });
  app.post('/api/documents/:id/resend', write, (request) => {
    const { id } = parse(docIdParam, request.params, 'params');
    const { stores } = parse(resendRequestSchema, request.body ?? {}, 'body');
    return { id, stores: service.resendDocument(id, stores) };
  });
  return app;
}

export function health(service: HqService) {
  const status = service.status();
  return {
    status: status.upstream.connected ? 'ok' : 'degraded',
    upstream: status.upstream,
    signingKey: status.signingKey,
    stores: status.stores,
    unsentDeliveries: status.unsentDeliveries,
    counters: status.counters,
  };
}

/** One store's sync state as the API and `hq status` show it. */
export function storeView(store: HqStore, id: string, configured: boolean): StoreView {
  const summary = store.store(id);
  const epochs = summary?.epochs ?? [];
  return {
    id,
    configured,
    seen: summary !== undefined,
    connected: summary?.status === undefined || summary.status === null ? null : storeConnected(summary.status),
    status: summary?.status ?? null,
    statusAt: summary?.statusAt ?? null,
    firstSeenAt: summary?.firstSeenAt ?? null,
    lastSeenAt: summary?.lastSeenAt ?? null,
    lastBatchAt: summary?.lastBatchAt ?? null,
    held: summary?.held ?? 0,
    counters: summary?.counters ?? { batches: 0, recordsNew: 0, recordsDuplicate: 0, recordsRejected: 0 },
    epochs,
    missingSeqs: epochs.reduce((n, e) => n + e.gaps.reduce((m, [from, to]) => m + to - from + 1, 0), 0),
    documents: store.storeDocuments(id, documentsPerStore),
    foreignDocuments: store.foreignDocumentOutcomes(id, documentsPerStore),
    forks: summary?.forks ?? 0,
  };
}

/** Prometheus text exposition of HQ's counters and per-store sync state. */
export function metricsText(service: HqService): string {
  const { counters, upstream, unsentDeliveries } = service.status();
  const lines: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) {
      const text = Object.entries(labels)
        .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
        .join(',');
      lines.push(`${name}${text ? `{${text}}` : ''} ${value}`);
    }
  };
  metric('storeedge_hq_upstream_connected', 'gauge', 'HQ is connected to the upstream broker.', [[{}, upstream.connected ? 1 : 0]]);
  metric('storeedge_hq_batches_total', 'counter', 'Uplink batch messages received, by outcome.', [
    [{ outcome: 'ingested' }, counters.batches - counters.batchesMalformed - counters.batchesStoreMismatch - counters.batchesFailed],
    [{ outcome: 'malformed' }, counters.batchesMalformed],
    [{ outcome: 'store_mismatch' }, counters.batchesStoreMismatch],
    [{ outcome: 'failed' }, counters.batchesFailed],
  ]);
  metric('storeedge_hq_records_total', 'counter', 'Uplink records received, by outcome.', [
    [{ outcome: 'new' }, counters.recordsNew],
    [{ outcome: 'duplicate' }, counters.recordsDuplicate],
    [{ outcome: 'rejected' }, counters.recordsRejected],
  ]);
  metric('storeedge_hq_acks_total', 'counter', 'Acks handed to the broker.', [[{}, counters.acksSent]]);
  metric('storeedge_hq_documents_published_total', 'counter', 'Documents signed.', [[{}, counters.documentsPublished]]);
  metric('storeedge_hq_document_deliveries_total', 'counter', '(document, store) deliveries handed to the broker.', [[{}, counters.documentDeliveries]]);
  metric('storeedge_hq_document_deliveries_unsent', 'gauge', '(document, store) deliveries waiting for the broker.', [[{}, unsentDeliveries]]);
  const stores = service.knownStores().map((id) => [id, service.store.store(id)] as const);
  metric(
    'storeedge_hq_store_connected',
    'gauge',
    'Store connected per its retained status (absent: no status yet).',
    stores.filter(([, s]) => s?.status !== undefined && s.status !== null).map(([id, s]) => [{ store: id }, storeConnected(s!.status) ? 1 : 0]),
  );
  metric('storeedge_hq_store_records', 'gauge', 'Records HQ holds per store.', stores.map(([id, s]) => [{ store: id }, s?.held ?? 0]));
  metric(
    'storeedge_hq_store_missing_seqs',
    'gauge',
    'Seqs missing below the highest seen, per store (all epochs).',
    stores.map(([id, s]) => [{ store: id }, (s?.epochs ?? []).reduce((n, e) => n + e.gaps.reduce((m, [from, to]) => m + to - from + 1, 0), 0)]),
  );
  metric('storeedge_hq_checkpoint_forks', 'gauge', 'Checkpoint forks per store (G9: ledger history rewritten after HQ saw it); anything above 0 needs an investigation.', stores.map(([id, s]) => [{ store: id }, s?.forks ?? 0]));
  metric(
    'storeedge_hq_store_last_batch_seconds',
    'gauge',
    'Unix time of the last batch from the store.',
    stores.filter(([, s]) => s?.lastBatchAt != null).map(([id, s]) => [{ store: id }, Math.floor(s!.lastBatchAt! / 1000)]),
  );
  return `${lines.join('\n')}\n`;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${[where, ...issue.path].join('.')}: ${issue.message}`);
  throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', problems.join('; '));
}

function encodeCursor(record: HeldRecord): string {
  return Buffer.from(JSON.stringify([record.hlc, record.epoch, record.seq]), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { hlc: string; epoch: string; seq: number } {
  try {
    const [hlc, epoch, seq] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    if (typeof hlc === 'string' && typeof epoch === 'string' && typeof seq === 'number') return { hlc, epoch, seq };
  } catch {
    // fall through
  }
  throw new HqError('SYNC_ERR_HQ_BAD_REQUEST', 'query.after: not a cursor from a previous page');
}
