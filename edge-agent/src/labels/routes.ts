import type { FastifyInstance } from 'fastify';
import { ledColours } from '@storeedge/device-drivers';
import { z } from 'zod';
import { actorOf, noBodyActor } from '../http/auth/index.ts';
import { parseInput as parse } from '../http/parse-input.ts';
import type { LabelsApi } from './api.ts';
import { labelStates } from './metrics.ts';

const id = z.string().min(1).max(64);

const listQuery = z.strictObject({
  state: z.enum(labelStates).optional(),
  sku: id.optional(),
  gateway: id.optional(),
  stale: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  after: id.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
const flashBody = z.strictObject({
  colour: z.enum(ledColours).default('green'),
  flashes: z.number().int().min(1).max(15).default(3),
  repeats: z.number().int().min(1).max(15).default(2),
  /** Who asked is the logged-in user or token (actorOf), never the body. */
  actor: noBodyActor,
});

/** Label endpoints (docs/esl.md "API"). Routes only parse and delegate. */
export function registerLabelRoutes(app: FastifyInstance, labels: LabelsApi): void {
  app.get('/api/labels', (request) => {
    const q = parse(listQuery, request.query, 'query');
    return labels.list({
      limit: q.limit,
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.sku === undefined ? {} : { sku: q.sku }),
      ...(q.gateway === undefined ? {} : { gateway: q.gateway }),
      ...(q.stale === undefined ? {} : { stale: q.stale }),
      ...(q.after === undefined ? {} : { after: q.after }),
    });
  });
  app.get<{ Params: { id: string } }>('/api/labels/:id', (request) => labels.label(request.params.id));
  app.get<{ Params: { id: string } }>('/api/labels/:id/image', async (request, reply) => {
    const png = await labels.image(request.params.id);
    return reply.type('image/png').header('cache-control', 'no-store').send(png);
  });
  app.post<{ Params: { id: string } }>('/api/labels/:id/flash', async (request, reply) => {
    const { colour, flashes, repeats } = parse(flashBody, request.body, 'body');
    const flash = await labels.flash(request.params.id, { colour, flashes, repeats, actor: actorOf(request) });
    return reply.status(202).send(flash);
  });
}
