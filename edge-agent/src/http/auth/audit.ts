import { randomUUID } from 'node:crypto';
import type { Ledger } from '../../ledger/index.ts';
import type { Role } from './roles.ts';

/** The ledger stream of access events (docs/dashboard.md "Access"); kept in the store, not sent to HQ. */
export const authStream = 'auth';

/** How a principal proved who it is. */
export type AuthVia = 'session' | 'token';

/** Access events. Never a password, a session token or an API token: only names and short session ids. */
export interface AuthEvents {
  'auth.login': { actor: string; role: Role; session: string; address: string };
  /** `name` only when it is a configured user: a password typed into the name field must not land in the ledger. */
  'auth.login-failed': { name: string | null; reason: 'invalid' | 'no-users'; address: string };
  'auth.logout': { actor: string; role: Role; session: string };
  /** A mutating request by a logged-in user or a token, whatever its outcome (a refusal included). */
  'auth.request': { actor: string; role: Role; via: AuthVia; method: string; route: string; status: number };
}

export type AuthEventType = keyof AuthEvents;

/** Where access events go: the ledger in the agent, a list in tests. */
export interface AuthAudit {
  record<T extends AuthEventType>(type: T, payload: AuthEvents[T]): void;
}

/** Each access event as its own ledger event in the `auth` stream. */
export function ledgerAudit(ledger: Ledger): AuthAudit {
  return {
    record(type, payload) {
      ledger.append({ type, stream: authStream, key: `${type}:${randomUUID()}`, payload });
    },
  };
}
