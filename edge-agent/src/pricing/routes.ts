import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { actorOf, noBodyActor } from '../http/auth/index.ts';
import { parseInput as parse } from '../http/parse-input.ts';
import type { PriceBook } from './price-book.ts';

/** The price book as the API sees it (implemented by PriceBook). */
export type PricingApi = Pick<PriceBook, 'list' | 'detail' | 'setPrice'>;

const sku = z.string().min(1).max(64);

const listQuery = z.strictObject({
  sku: sku.optional(),
  after: sku.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
  /** The instant to price at, ms since the epoch; default now. */
  at: z.coerce.number().int().nonnegative().optional(),
});
const detailQuery = z.strictObject({ at: z.coerce.number().int().nonnegative().optional() });

/** A price set in the store by a manager (or a service token): every change is in the ledger under their name. */
const setPriceBody = z.strictObject({
  sku,
  priceMinor: z.number().int().nonnegative().max(100_000_000),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "EUR"').optional(),
  effectiveFrom: z.number().int().nonnegative().optional(),
  source: z.enum(['manager', 'markdown']).default('manager'),
  reason: z.string().min(1).max(500),
  actor: noBodyActor,
  changeId: z.string().min(1).max(100).optional(),
});

/** Price book endpoints (docs/pricing.md). Routes only parse and delegate. */
export function registerPricingRoutes(app: FastifyInstance, pricing: PricingApi): void {
  app.get('/api/prices', (request) => pricing.list(parse(listQuery, request.query, 'query')));
  app.get<{ Params: { sku: string } }>('/api/prices/:sku', (request) => {
    const q = parse(detailQuery, request.query, 'query');
    return q.at === undefined ? pricing.detail(request.params.sku) : pricing.detail(request.params.sku, q.at);
  });
  app.post('/api/prices', (request) => {
    return { record: pricing.setPrice({ ...parse(setPriceBody, request.body, 'body'), actor: actorOf(request) }) };
  });
}
