import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errors } from '../../errors.ts';
import { parseInput as parse } from '../parse-input.ts';
import { clearedSessionCookie, cookieValue, sameOrigin, sessionCookie, sessionCookieName, sessionOfRequest, type AccessHookDeps } from './access-hook.ts';
import type { LoginThrottle } from './login-throttle.ts';

const loginBody = z.strictObject({
  name: z.string().min(1).max(200),
  // Bounded: scrypt reads every byte, and nobody types a longer one.
  password: z.string().min(1).max(1_024),
});

/**
 * POST /api/auth/login, POST /api/auth/logout, GET /api/auth/session (docs/dashboard.md
 * "Access"). The same answer for an unknown name and a wrong password.
 */
export function registerAuthRoutes(app: FastifyInstance, deps: AccessHookDeps & { throttle: LoginThrottle }): void {
  const { credentials, sessions, audit, throttle, refused } = deps;

  app.post('/api/auth/login', async (request, reply) => {
    // Login CSRF: another site must not log the browser in as someone else.
    const origin = request.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
      throw refused(errors.EDGE_ERR_AUTH_CSRF(`the login comes from ${origin.slice(0, 100)}, not from this server`));
    }
    const { name, password } = parse(loginBody, request.body, 'body');
    const address = request.ip;
    if (!credentials.hasUsers) {
      audit.record('auth.login-failed', { name: null, reason: 'no-users', address });
      throw refused(
        errors.EDGE_ERR_AUTH_NO_USERS(
          'no users are configured, so nobody can log in: make a password hash with `storeedge user hash`, add { "name", "role": "manager", "passwordHash" } to http.users in the config and restart the agent',
        ),
      );
    }
    const waitMs = throttle.retryAfterMs(name, address);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      reply.header('retry-after', String(seconds));
      throw refused(errors.EDGE_ERR_AUTH_THROTTLED(`too many failed logins for this name from this address; try again in ${seconds} s`));
    }
    const user = await credentials.checkPassword(name, password);
    if (user === undefined) {
      throttle.failed(name, address);
      audit.record('auth.login-failed', { name: credentials.isUser(name) ? name : null, reason: 'invalid', address });
      throw refused(errors.EDGE_ERR_AUTH_INVALID());
    }
    throttle.succeeded(name, address);
    const previous = cookieValue(request.headers.cookie, sessionCookieName);
    if (previous !== undefined) sessions.end(previous);
    const { session, token } = sessions.create(user);
    audit.record('auth.login', { actor: user.name, role: user.role, session: session.id, address });
    request.log.info({ actor: user.name, role: user.role, session: session.id }, 'login');
    return reply.header('set-cookie', sessionCookie(token)).header('cache-control', 'no-store').send({ user, csrfToken: session.csrfToken });
  });

  app.post('/api/auth/logout', async (request, reply) => {
    const session = sessionOfRequest.get(request);
    const token = cookieValue(request.headers.cookie, sessionCookieName);
    if (session !== undefined && token !== undefined && sessions.end(token)) {
      audit.record('auth.logout', { actor: session.user.name, role: session.user.role, session: session.id });
      request.log.info({ actor: session.user.name, session: session.id }, 'logout');
    }
    return reply.header('set-cookie', clearedSessionCookie).status(204).send();
  });

  app.get('/api/auth/session', (request, reply) => {
    const principal = request.principal!;
    const session = sessionOfRequest.get(request);
    return reply.header('cache-control', 'no-store').send({ user: { name: principal.name, role: principal.role }, csrfToken: session?.csrfToken ?? null });
  });
}
