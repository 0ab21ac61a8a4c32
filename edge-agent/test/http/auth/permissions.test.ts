import { describe, expect, it } from 'vitest';
import { EventBus } from '../../../src/events.ts';
import type { AgentApi } from '../../../src/http/api.ts';
import { permissionFor, permissions, registeredRoutes } from '../../../src/http/auth/index.ts';
import { isPublicPagePath } from '../../../src/http/auth/permissions.ts';
import { createHttpServer } from '../../../src/http/server.ts';
import { silentLogger } from '../../../src/log.ts';
import { testAccess } from '../../helpers/http-access.ts';

/** The agent's real server; its routes only capture the facade's parts, so empty ones do. */
async function serverRoutes() {
  const api = { storeId: 'store-test', bus: new EventBus(), inventory: {}, checkout: {}, prices: {}, labels: {}, orders: {}, setQueueDepth: () => {} } as unknown as AgentApi;
  const app = await createHttpServer(api, silentLogger(), testAccess().access);
  await app.ready();
  const routes = registeredRoutes(app);
  await app.close();
  return routes;
}

describe('the permission table', () => {
  it('has an entry for every route the server registers (a route without one would be manager-only)', async () => {
    const routes = await serverRoutes();
    expect(routes.length).toBeGreaterThan(30);
    const missing = routes.filter((r) => permissionFor(r.method, r.url) === undefined).map((r) => `${r.method} ${r.url}`);
    expect(missing, 'add these to edge-agent/src/http/auth/permissions.ts').toEqual([]);
  });

  it('names no route that does not exist (public page paths excepted: they are an allow-list)', async () => {
    const routes = new Set((await serverRoutes()).map((r) => `${r.method} ${r.url}`));
    const stale = permissions.filter((p) => !routes.has(`${p.method} ${p.route}`) && !(p.role === 'public' && !p.route.startsWith('/api/')));
    expect(stale).toEqual([]);
  });

  it('lists each route once; staff may do floor work, only managers money and prices', () => {
    const keys = permissions.map((p) => `${p.method} ${p.route}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(permissionFor('POST', '/api/alerts/:id/ack')?.role).toBe('staff');
    expect(permissionFor('HEAD', '/api/stock')?.role).toBe('staff');
    for (const route of ['/api/review/:id/resolve', '/api/receipts/:id/corrections', '/api/prices']) expect(permissionFor('POST', route)?.role).toBe('manager');
    expect(permissions.filter((p) => p.role === 'public').map((p) => `${p.method} ${p.route}`)).toEqual([
      'POST /api/auth/login',
      'GET /api/health',
      'GET /login',
      'GET /assets/*',
      'GET /favicon.ico',
    ]);
  });

  it('public page paths are exactly /login, /assets/… and /favicon.ico', () => {
    expect(['/login', '/assets/app.js', '/assets/x/y.css', '/favicon.ico'].every(isPublicPagePath)).toBe(true);
    expect(['/', '/login/x', '/loginx', '/assets', '/api/health', '/metrics', '/favicon.ico.js'].some(isPublicPagePath)).toBe(false);
  });
});
