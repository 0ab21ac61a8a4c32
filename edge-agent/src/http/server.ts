import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { StoreEdgeError, errors } from '../errors.ts';
import { registerCheckoutRoutes } from '../checkout/routes.ts';
import { registerInventoryRoutes } from '../inventory/routes.ts';
import { registerLabelRoutes } from '../labels/routes.ts';
import { registerOrderRoutes } from '../orders/routes.ts';
import { registerPricingRoutes } from '../pricing/routes.ts';
import type { Logger } from '../log.ts';
import type { AgentApi } from './api.ts';
import { registerAccess, type AccessOptions } from './auth/index.ts';
import { registerEventStream } from './event-stream.ts';
import { registerDashboard } from '../dashboard/register-dashboard.ts';

/**
 * The agent's one HTTP server: JSON API under /api, Prometheus text at /metrics, live events by
 * server-sent events. Routes stay thin; they read through the AgentApi facade. Every route is
 * behind the access hook (docs/dashboard.md "Access"): who asks, CSRF, role, audit.
 */
export async function createHttpServer(api: AgentApi, logger: Logger, access: AccessOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger.child({ part: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 1024 * 1024,
  });

  app.setErrorHandler((error: FastifyError | StoreEdgeError, request, reply) => {
    if (error instanceof StoreEdgeError) {
      return reply.status(error.statusCode).send({ error: { code: error.code, message: error.message } });
    }
    if ('validation' in error && error.validation) {
      return reply.status(400).send({ error: { code: errors.EDGE_ERR_BAD_REQUEST.code, message: error.message } });
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode).send({ error: { code: errors.EDGE_ERR_BAD_REQUEST.code, message: error.message } });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.status(500).send({ error: { code: errors.EDGE_ERR_INTERNAL.code, message: 'internal error; see the agent log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { code: errors.EDGE_ERR_NOT_FOUND.code, message: `no route ${request.method} ${request.url}` } }),
  );

  registerAccess(app, access);
  registerDashboard(app, api);
  app.get('/api/health', () => api.health());
  app.get('/metrics', async (_request, reply) => reply.type('text/plain; version=0.0.4; charset=utf-8').send(await api.metricsText()));
  app.get('/api/devices', () => ({ devices: api.devices() }));
  app.get<{ Params: { id: string } }>('/api/devices/:id', (request) => api.device(request.params.id));
  registerInventoryRoutes(app, api.inventory);
  registerCheckoutRoutes(app, api.checkout);
  registerPricingRoutes(app, api.prices);
  registerLabelRoutes(app, api.labels);
  registerOrderRoutes(app, api.orders);
  registerEventStream(app, api);
  return app;
}
