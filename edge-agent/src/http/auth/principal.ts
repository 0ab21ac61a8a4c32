import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errors } from '../../errors.ts';
import type { AuthVia } from './audit.ts';
import type { Role } from './roles.ts';

/** Who made a request: a logged-in user (session cookie) or a machine client (bearer token). */
export interface Principal {
  readonly name: string;
  readonly role: Role;
  readonly via: AuthVia;
  /** The session's short id (never its token); null for a token. */
  readonly sessionId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the access hook before any handler runs; null only on public routes. */
    principal: Principal | null;
  }
}

/**
 * The actor the ledger records for a request: the authenticated principal's name. Routes take it
 * from here, never from the body — a client cannot name someone else.
 */
export function actorOf(request: FastifyRequest): string {
  if (request.principal === null) throw errors.EDGE_ERR_AUTH_REQUIRED();
  return request.principal.name;
}

/**
 * The `actor` body field routes took before logins existed: refused with the reason, so a client
 * that still sends one learns why instead of being silently renamed.
 */
export const noBodyActor = z.never({ error: 'leave actor out: the ledger records the logged-in user or the API token\'s name' }).optional();
