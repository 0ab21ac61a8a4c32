import type { RequiredRole } from './roles.ts';

export interface Permission {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The route pattern as registered with Fastify (`request.routeOptions.url`), e.g. `/api/review/:id/resolve`. */
  readonly route: string;
  /** The least role that may use it; `public` needs no login. */
  readonly role: RequiredRole;
}

const rule = (method: Permission['method'], route: string, role: RequiredRole): Permission => ({ method, route, role });

/**
 * Every route of the HTTP server and the least role that may use it — the one place access is
 * decided (docs/dashboard.md "Access"). The access hook looks up the route Fastify matched; a
 * route missing here is manager-only (service tokens pass everything), and
 * test/http/auth/permissions.test.ts fails for any registered route without an entry.
 * HEAD is checked as GET.
 */
export const permissions: readonly Permission[] = [
  // Public: the login itself, the load balancer's health probe, and what the login page needs to show.
  rule('POST', '/api/auth/login', 'public'),
  rule('GET', '/api/health', 'public'),
  rule('GET', '/login', 'public'),
  rule('GET', '/assets/*', 'public'),
  rule('GET', '/favicon.ico', 'public'),

  // Staff: every view, and the floor work — acknowledge alerts, declare restocks, flash labels, pick and hand over orders.
  rule('GET', '/', 'staff'),
  rule('GET', '/metrics', 'staff'),
  rule('GET', '/api/auth/session', 'staff'),
  rule('POST', '/api/auth/logout', 'staff'),
  rule('GET', '/api/events', 'staff'),
  rule('GET', '/api/devices', 'staff'),
  rule('GET', '/api/devices/:id', 'staff'),
  rule('GET', '/api/stock', 'staff'),
  rule('GET', '/api/alerts', 'staff'),
  rule('GET', '/api/epcis', 'staff'),
  rule('GET', '/api/sessions', 'staff'),
  rule('GET', '/api/sessions/:id', 'staff'),
  rule('GET', '/api/receipts', 'staff'),
  rule('GET', '/api/receipts/:id', 'staff'),
  rule('GET', '/api/review', 'staff'),
  rule('GET', '/api/review/:id/evidence', 'staff'),
  rule('GET', '/api/review/:id/crops/:index', 'staff'),
  rule('GET', '/api/prices', 'staff'),
  rule('GET', '/api/prices/:sku', 'staff'),
  rule('GET', '/api/labels', 'staff'),
  rule('GET', '/api/labels/:id', 'staff'),
  rule('GET', '/api/labels/:id/image', 'staff'),
  rule('GET', '/api/orders', 'staff'),
  rule('GET', '/api/orders/:id', 'staff'),
  rule('POST', '/api/alerts/:id/ack', 'staff'),
  rule('POST', '/api/alerts/:id/assign', 'staff'),
  rule('POST', '/api/stock/restock', 'staff'),
  rule('POST', '/api/labels/:id/flash', 'staff'),
  rule('POST', '/api/orders/:id/picked', 'staff'),
  rule('POST', '/api/orders/:id/collected', 'staff'),

  // Manager: money, prices and corrections of the books.
  rule('POST', '/api/review/:id/resolve', 'manager'),
  rule('POST', '/api/receipts/:id/corrections', 'manager'),
  rule('POST', '/api/prices', 'manager'),
  rule('POST', '/api/stock/reconcile', 'manager'),
  rule('POST', '/api/orders/:id/cancel', 'manager'),
];

const byRoute = new Map(permissions.map((p) => [`${p.method} ${p.route}`, p]));

/** The entry for a matched route, or undefined (then the route is manager-only). */
export function permissionFor(method: string, route: string): Permission | undefined {
  return byRoute.get(`${method === 'HEAD' ? 'GET' : method} ${route}`);
}

/** The public page paths (`/login`, `/assets/…`, `/favicon.ico`): reachable without a session even before their route exists. */
export function isPublicPagePath(path: string): boolean {
  return permissions.some(
    (p) => p.role === 'public' && p.method === 'GET' && !p.route.startsWith('/api/') && (p.route.endsWith('/*') ? path.startsWith(p.route.slice(0, -1)) : path === p.route),
  );
}
