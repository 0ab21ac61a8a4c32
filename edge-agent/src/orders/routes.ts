import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { actorOf, noBodyActor } from '../http/auth/index.ts';
import { parseInput as parse } from '../http/parse-input.ts';
import type { OrdersApi } from './api.ts';
import { orderStates } from './ledger-events.ts';

const sku = z.string().min(1).max(64);
/** Who did it is the logged-in user or token (actorOf), never the body. */
const actor = noBodyActor;

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
  app.post<{ Params: { id: string } }>('/api/orders/:id/picked', (request) => {
    const { lines } = parse(pickedBody, request.body, 'body');
    return orders.picked(request.params.id, { lines, actor: actorOf(request) });
  });
  app.post<{ Params: { id: string } }>('/api/orders/:id/collected', (request) => {
    parse(collectedBody, request.body, 'body');
    return orders.collected(request.params.id, { actor: actorOf(request) });
  });
  app.post<{ Params: { id: string } }>('/api/orders/:id/cancel', (request) => {
    const { reason } = parse(cancelBody, request.body, 'body');
    return orders.cancel(request.params.id, { actor: actorOf(request), reason: reason ?? null });
  });
}
