import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { InventoryApi } from '../http/api.ts';
import { actorOf, noBodyActor } from '../http/auth/index.ts';
import { parseInput as parse } from '../http/parse-input.ts';

const id = z.string().min(1).max(64);
/** Who did it is the logged-in user or token (actorOf), never the body. */
const actor = noBodyActor;

const stockQuery = z.strictObject({ sku: id.optional(), zone: id.optional() });
const alertsQuery = z.strictObject({
  state: z.enum(['open', 'acknowledged', 'cleared']).optional(),
  kind: z.string().min(1).max(64).optional(),
  sku: id.optional(),
  trayId: id.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
const epcisQuery = z.strictObject({
  since: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
const restockBody = z.strictObject({
  trayId: id,
  sku: id,
  quantity: z.number().int().min(1).max(10_000),
  actor,
  note: z.string().max(500).optional(),
  restockId: z.string().min(1).max(100).optional(),
});
const reconcileBody = z.strictObject({ trayId: id.optional(), sku: id.optional(), actor });
const ackBody = z.strictObject({ actor });
/** A colleague's name as the store uses it (no e-mail or phone number needed), or null: nobody. */
const assignBody = z.strictObject({
  to: z.string().trim().min(1).max(64).regex(/^[^<>\u0000-\u001f]+$/, 'a name without control characters or angle brackets').nullable(),
  actor,
});


/**
 * Inventory endpoints (docs/inventory.md): stock, alerts, restock and reconciliation, and the
 * EPCIS export. Routes only parse and delegate to the facade.
 */
export function registerInventoryRoutes(app: FastifyInstance, inventory: InventoryApi): void {
  app.get('/api/stock', (request) => inventory.stock(parse(stockQuery, request.query, 'query')));

  app.post('/api/stock/restock', (request) => {
    const { note, restockId, ...input } = parse(restockBody, request.body, 'body');
    return inventory.restock({ ...input, actor: actorOf(request), note: note ?? null, ...(restockId === undefined ? {} : { restockId }) });
  });

  app.post('/api/stock/reconcile', (request) => {
    const { trayId, sku } = parse(reconcileBody, request.body, 'body');
    return inventory.reconcile({ ...(trayId === undefined ? {} : { trayId }), ...(sku === undefined ? {} : { sku }), actor: actorOf(request) });
  });

  app.get('/api/alerts', (request) => ({ alerts: inventory.alerts(parse(alertsQuery, request.query, 'query')) }));

  app.post<{ Params: { id: string } }>('/api/alerts/:id/ack', (request) => {
    parse(ackBody, request.body, 'body');
    return inventory.acknowledgeAlert(request.params.id, actorOf(request));
  });

  app.post<{ Params: { id: string } }>('/api/alerts/:id/assign', (request) => {
    const body = parse(assignBody, request.body, 'body');
    return inventory.assignAlert(request.params.id, body.to, actorOf(request));
  });

  app.get('/api/epcis', (request, reply) => {
    const { document, nextSince } = inventory.epcis(parse(epcisQuery, request.query, 'query'));
    // The cursor travels in a header: the document's top-level keys are fixed by the standard.
    return reply.header('x-storeedge-next-since', String(nextSince)).type('application/ld+json; charset=utf-8').send(document);
  });
}
