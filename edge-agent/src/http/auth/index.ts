import type { FastifyInstance } from 'fastify';
import type { StoreEdgeError } from '../../errors.ts';
import { installAccessHooks } from './access-hook.ts';
import type { AuthAudit } from './audit.ts';
import { registerAuthRoutes } from './auth-routes.ts';
import { Credentials } from './credentials.ts';
import { LoginThrottle } from './login-throttle.ts';
import { SessionStore } from './session-store.ts';
import type { ApiTokenConfig, LoginThrottleSettings, SessionSettings, UserConfig } from './settings.ts';

export { registeredRoutes } from './access-hook.ts';
export { actorOf, noBodyActor, type Principal } from './principal.ts';
export { ledgerAudit, authStream, type AuthAudit, type AuthEvents } from './audit.ts';
export { permissions, permissionFor } from './permissions.ts';
export { newApiToken, newPassword, hashPassword, tokenSha256 } from './credentials.ts';
export type { UserConfig, ApiTokenConfig, SessionSettings, LoginThrottleSettings } from './settings.ts';

/** What the HTTP server needs to know about access: the config's `http` access fields and where to audit. */
export interface AccessOptions {
  users: readonly UserConfig[];
  apiTokens: readonly ApiTokenConfig[];
  sessions: SessionSettings;
  loginThrottle: LoginThrottleSettings;
  audit: AuthAudit;
  /** Counts each refused request by code (the agent's storeedge_http_auth_refusals_total). */
  countRefusal?: (code: string) => void;
  /** Wall clock for session and throttle times; tests inject theirs. */
  now?: () => number;
}

/**
 * Authentication, CSRF protection, roles and audit for every route of `app` (docs/dashboard.md
 * "Access"). Register it before any route.
 */
export function registerAccess(app: FastifyInstance, options: AccessOptions): void {
  const now = options.now ?? Date.now;
  const deps = {
    credentials: new Credentials(options.users, options.apiTokens),
    sessions: new SessionStore(options.sessions, now),
    audit: options.audit,
    refused: (error: StoreEdgeError) => {
      options.countRefusal?.(error.code);
      return error;
    },
  };
  installAccessHooks(app, deps);
  registerAuthRoutes(app, { ...deps, throttle: new LoginThrottle(options.loginThrottle, now) });
}
