import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CheckoutApi } from '../http/api.ts';
import { actorOf, noBodyActor } from '../http/auth/index.ts';
import { parseInput as parse } from '../http/parse-input.ts';

const id = z.string().min(1).max(100);
const sku = z.string().min(1).max(64);
const limit = z.coerce.number().int().min(1).max(10_000).optional();

const sessionsQuery = z.strictObject({ state: z.enum(['open', 'exiting', 'in-review', 'closed']).optional(), limit });
const receiptsQuery = z.strictObject({ limit });
const reviewQuery = z.strictObject({ state: z.enum(['open', 'resolved']).optional() });
const resolveBody = z.strictObject({
  /** The cart lines the evidence stands for (an empty list: nobody took anything), or "accept" for the proposal. */
  lines: z.union([z.literal('accept'), z.array(z.strictObject({ sessionId: id, sku, quantity: z.number().int().min(-100).max(100) })).max(50)]),
  actor: noBodyActor,
});
const correctionBody = z.strictObject({
  lines: z.array(z.strictObject({ sku, quantity: z.number().int().min(1).max(1_000) })).min(1).max(100),
  reason: z.string().min(1).max(500),
  actor: noBodyActor,
});


/** Checkout endpoints (docs/checkout.md): sessions, receipts, the review queue and corrections. Routes only parse and delegate. */
export function registerCheckoutRoutes(app: FastifyInstance, checkout: CheckoutApi): void {
  app.get('/api/sessions', (request) => {
    const q = parse(sessionsQuery, request.query, 'query');
    return { sessions: checkout.sessions({ ...(q.state ? { state: q.state } : {}), ...(q.limit ? { limit: q.limit } : {}) }) };
  });
  app.get<{ Params: { id: string } }>('/api/sessions/:id', (request) => checkout.session(request.params.id));
  app.get('/api/receipts', (request) => {
    const q = parse(receiptsQuery, request.query, 'query');
    return { receipts: checkout.receipts(q.limit ? { limit: q.limit } : {}) };
  });
  app.get<{ Params: { id: string } }>('/api/receipts/:id', (request) => checkout.receipt(request.params.id));
  app.post<{ Params: { id: string } }>('/api/receipts/:id/corrections', (request) => {
    const { lines, reason } = parse(correctionBody, request.body, 'body');
    return checkout.correctReceipt(request.params.id, { lines, reason, actor: actorOf(request) });
  });
  app.get('/api/review', (request) => {
    const q = parse(reviewQuery, request.query, 'query');
    return { items: checkout.reviews(q.state ? { state: q.state } : {}) };
  });
  app.post<{ Params: { id: string } }>('/api/review/:id/resolve', (request) => {
    const { lines } = parse(resolveBody, request.body, 'body');
    return checkout.resolveReview(request.params.id, { lines, actor: actorOf(request) });
  });
}
