import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput as parse } from '../http/parse-input.ts';
import type { OrdersApi } from './api.ts';
import { orderStates } from './ledger-events.ts';

const sku = z.string().min(1).max(64);
/** Who did it; recorded in the ledger. Until staff logins exist, the caller names itself. */
const actor = z.string().min(1).max(100).default('api');

const listQuery = z.strictObject({
  state: z.enum([...orderStates, 'active', 'all']).default('active'),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
const pickedBody = z.strictObject({
  lines: z.array(z.strictObject({ sku, qty: z.number().int().min(0).max(10_000) })).min(1).max(500),
  actor,
});
const collectedBody = z.strictObject({ actor });
const cancelBody = z.strictObject({ actor, reason: z.string().min(1).max(500).optional() });

/** Click & collect endpoints (docs/sync.md "Online orders"). Routes only parse and delegate. */
export function registerOrderRoutes(app: FastifyInstance, orders: OrdersApi): void {
  app.get('/api/orders', (request) => orders.list(parse(listQuery, request.query, 'query')));
  app.get<{ Params: { id: string } }>('/api/orders/:id', (request) => orders.order(request.params.id));
  app.post<{ Params: { id: string } }>('/api/orders/:id/picked', (request) => orders.picked(request.params.id, parse(pickedBody, request.body, 'body')));
  app.post<{ Params: { id: string } }>('/api/orders/:id/collected', (request) => orders.collected(request.params.id, parse(collectedBody, request.body, 'body')));
  app.post<{ Params: { id: string } }>('/api/orders/:id/cancel', (request) => {
    const { reason, ...input } = parse(cancelBody, request.body, 'body');
    return orders.cancel(request.params.id, { ...input, reason: reason ?? null });
  });
}
