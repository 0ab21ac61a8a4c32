import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { UserRole } from './roles.ts';
import type { SessionSettings } from './settings.ts';

export interface Session {
  /** A short id for logs and the ledger; the token itself is never written anywhere. */
  readonly id: string;
  readonly user: { readonly name: string; readonly role: UserRole };
  /** Sent back in `x-csrf-token` with every mutating request of this session. */
  readonly csrfToken: string;
  readonly createdAt: number;
  lastSeenAt: number;
}

/**
 * Logged-in sessions, in memory: a restart logs everybody out. A session ends after
 * `idleTimeoutMs` unused or `maxLifetimeMs` after login, whichever comes first; beyond
 * `maxSessions` the least recently used one ends. Sessions are held by the sha256 of their
 * token, so the map holds nothing a cookie could be made from.
 */
export class SessionStore {
  readonly #byTokenHash = new Map<string, Session>();

  constructor(
    private readonly settings: SessionSettings,
    private readonly now: () => number,
  ) {}

  /** A new session; returns it and its token (the cookie value), which only the caller sees. */
  create(user: Session['user']): { session: Session; token: string } {
    this.#sweep();
    while (this.#byTokenHash.size >= this.settings.maxSessions) this.#byTokenHash.delete(this.#byTokenHash.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    const at = this.now();
    const session: Session = { id: randomBytes(6).toString('hex'), user, csrfToken: randomBytes(32).toString('base64url'), createdAt: at, lastSeenAt: at };
    this.#byTokenHash.set(hashOf(token), session);
    return { session, token };
  }

  /** The live session of `token` (its idle clock restarted), or undefined when unknown or expired. */
  use(token: string): Session | undefined {
    const key = hashOf(token);
    const session = this.#byTokenHash.get(key);
    if (!session) return undefined;
    const at = this.now();
    if (this.#expired(session, at)) {
      this.#byTokenHash.delete(key);
      return undefined;
    }
    session.lastSeenAt = at;
    // Re-insert: the map's order is least recently used first.
    this.#byTokenHash.delete(key);
    this.#byTokenHash.set(key, session);
    return session;
  }

  /** Ends the session of `token`; true when there was one. */
  end(token: string): boolean {
    return this.#byTokenHash.delete(hashOf(token));
  }

  get size(): number {
    return this.#byTokenHash.size;
  }

  #expired(session: Session, at: number): boolean {
    return at - session.lastSeenAt >= this.settings.idleTimeoutMs || at - session.createdAt >= this.settings.maxLifetimeMs;
  }

  #sweep(): void {
    const at = this.now();
    for (const [key, session] of this.#byTokenHash) if (this.#expired(session, at)) this.#byTokenHash.delete(key);
  }
}

/** Constant-time equality of a request's CSRF header and the session's token. */
export function csrfMatches(sent: string | undefined, expected: string): boolean {
  if (sent === undefined) return false;
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function hashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
