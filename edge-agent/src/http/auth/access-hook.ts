import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, type StoreEdgeError } from '../../errors.ts';
import type { AuthAudit } from './audit.ts';
import type { Credentials } from './credentials.ts';
import { isPublicPagePath, permissionFor } from './permissions.ts';
import type { Principal } from './principal.ts';
import { roleSatisfies } from './roles.ts';
import { csrfMatches, type Session, type SessionStore } from './session-store.ts';

export const sessionCookieName = 'storeedge_session';
const cookieAttributes = 'HttpOnly; SameSite=Strict; Path=/';
export const sessionCookie = (token: string) => `${sessionCookieName}=${token}; ${cookieAttributes}`;
export const clearedSessionCookie = `${sessionCookieName}=; Max-Age=0; ${cookieAttributes}`;

export interface AccessHookDeps {
  credentials: Credentials;
  sessions: SessionStore;
  audit: AuthAudit;
  /** Counts a refused request by its code (storeedge_http_auth_refusals_total). */
  refused: (error: StoreEdgeError) => StoreEdgeError;
}

const routesOf = new WeakMap<FastifyInstance, ReadonlyArray<{ method: string; url: string }>>();
/** Every route registered on `app` after its access hooks (for the test that each has a permission entry). */
export function registeredRoutes(app: FastifyInstance): ReadonlyArray<{ method: string; url: string }> {
  return routesOf.get(app) ?? [];
}

/** The session behind a cookie-authenticated request, for the auth routes (csrf token, logout). */
export const sessionOfRequest = new WeakMap<FastifyRequest, Session>();

const safeMethods = new Set(['GET', 'HEAD', 'OPTIONS']);
export const isMutating = (method: string) => !safeMethods.has(method);

/**
 * One onRequest hook decides every request before its body is read, in this order:
 * 1. public routes and page assets pass (permissions.ts);
 * 2. who is asking: `Authorization: Bearer <token>`, else the session cookie — nobody: a page
 *    GET is sent to /login (302), anything else is refused (401 EDGE_ERR_AUTH_REQUIRED);
 * 3. a mutating request on a session must carry the session's `x-csrf-token` and, when the
 *    browser sends an Origin, come from this server's own origin (403 EDGE_ERR_AUTH_CSRF);
 *    bearer requests skip this: a browser never adds that header on its own;
 * 4. the route's least role (403 EDGE_ERR_AUTH_FORBIDDEN; no entry: manager-only).
 * Then every mutating request of a principal is audited in the ledger with its outcome.
 */
export function installAccessHooks(app: FastifyInstance, deps: AccessHookDeps): void {
  const { refused } = deps;
  app.decorateRequest('principal', null);
  const routes: Array<{ method: string; url: string }> = [];
  routesOf.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  app.addHook('onRequest', async (request, reply) => {
    const route = request.routeOptions.url;
    const path = request.url.split('?', 1)[0]!;
    const permission = route === undefined ? undefined : permissionFor(request.method, route);
    if (permission?.role === 'public') return;
    if (route === undefined && !isMutating(request.method) && isPublicPagePath(path)) return;

    const principal = authenticate(request, reply, deps);
    if (principal === undefined) {
      if ((request.method === 'GET' || request.method === 'HEAD') && isPage(path)) {
        refused(errors.EDGE_ERR_AUTH_REQUIRED());
        return reply.redirect('/login', 302);
      }
      throw refused(errors.EDGE_ERR_AUTH_REQUIRED('log in (POST /api/auth/login), or send Authorization: Bearer <token> of http.apiTokens'));
    }
    request.principal = principal;
    if (route === undefined) return; // the not-found handler answers

    if (isMutating(request.method) && principal.via === 'session') {
      const origin = request.headers.origin;
      if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
        throw refused(errors.EDGE_ERR_AUTH_CSRF(`the request comes from ${origin.slice(0, 100)}, not from this server`));
      }
      const sent = request.headers['x-csrf-token'];
      if (!csrfMatches(typeof sent === 'string' ? sent : undefined, sessionOfRequest.get(request)!.csrfToken)) {
        throw refused(errors.EDGE_ERR_AUTH_CSRF('send the csrfToken of POST /api/auth/login or GET /api/auth/session in the x-csrf-token header'));
      }
    }
    const required = permission?.role ?? 'manager';
    if (!roleSatisfies(principal.role, required)) {
      throw refused(errors.EDGE_ERR_AUTH_FORBIDDEN(`${request.method} ${route} needs the ${required} role; ${principal.name} is ${principal.role}`));
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const principal = request.principal;
    const route = request.routeOptions.url;
    // Logins and logouts have their own events (auth.login, auth.logout).
    if (principal === null || !isMutating(request.method) || route?.startsWith('/api/auth/')) return;
    try {
      deps.audit.record('auth.request', {
        actor: principal.name,
        role: principal.role,
        via: principal.via,
        method: request.method,
        route: route ?? '(no such route)',
        status: reply.statusCode,
      });
    } catch (err) {
      request.log.error({ err, actor: principal.name, route }, 'could not audit a request in the ledger');
    }
  });
}

function authenticate(request: FastifyRequest, reply: FastifyReply, deps: AccessHookDeps): Principal | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
    const holder = token === undefined ? undefined : deps.credentials.tokenHolder(token);
    if (holder === undefined) throw deps.refused(errors.EDGE_ERR_AUTH_INVALID('the bearer token is not one of http.apiTokens'));
    return { name: holder.name, role: holder.role, via: 'token', sessionId: null };
  }
  const token = cookieValue(request.headers.cookie, sessionCookieName);
  if (token === undefined) return undefined;
  const session = deps.sessions.use(token);
  if (session === undefined) {
    // Expired, ended or from before a restart: tell the browser to drop it.
    reply.header('set-cookie', clearedSessionCookie);
    return undefined;
  }
  sessionOfRequest.set(request, session);
  return { name: session.user.name, role: session.user.role, via: 'session', sessionId: session.id };
}

/** Dashboard pages are everything outside the API and the metrics. */
function isPage(path: string): boolean {
  return path !== '/api' && !path.startsWith('/api/') && path !== '/metrics';
}

export function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file://) and anything unparsable
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
