import { createHash, randomBytes } from 'node:crypto';
import { hashSecret, verifySecret } from '../../registry/secrets.ts';
import type { Role, UserRole } from './roles.ts';
import type { ApiTokenConfig, UserConfig } from './settings.ts';

/** Passwords shorter than this are refused by `storeedge user hash`. */
export const minPasswordLength = 12;

/** A password's stored form: scrypt with a random salt (the device-secret scheme, registry/secrets.ts). */
export const hashPassword = hashSecret;

/** A new API token (256 bits, base64url) and the sha256 to put in `http.apiTokens[].tokenSha256`. */
export function newApiToken(): { token: string; tokenSha256: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, tokenSha256: tokenSha256(token) };
}

export function tokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A password generated for a person (the demo's logins): 18 random bytes, base64url (24 characters). */
export function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The configured users and API tokens. Checks a login's password in constant time — an unknown
 * name costs the same scrypt as a known one, so the answer time does not tell which names exist.
 */
export class Credentials {
  readonly #users: ReadonlyMap<string, UserConfig>;
  readonly #tokens: ReadonlyMap<string, ApiTokenConfig>;
  #decoy: Promise<string> | undefined;

  constructor(users: readonly UserConfig[], apiTokens: readonly ApiTokenConfig[]) {
    this.#users = new Map(users.map((u) => [u.name, u]));
    this.#tokens = new Map(apiTokens.map((t) => [t.tokenSha256, t]));
  }

  get hasUsers(): boolean {
    return this.#users.size > 0;
  }

  isUser(name: string): boolean {
    return this.#users.has(name);
  }

  /** The user when `password` is theirs; undefined for an unknown name or a wrong password. */
  async checkPassword(name: string, password: string): Promise<{ name: string; role: UserRole } | undefined> {
    const user = this.#users.get(name);
    this.#decoy ??= hashSecret(randomBytes(16).toString('base64'));
    const ok = await verifySecret(password, user?.passwordHash ?? (await this.#decoy));
    return ok && user ? { name: user.name, role: user.role } : undefined;
  }

  /** The client holding `token`, if it is a configured one (looked up by its sha256). */
  tokenHolder(token: string): { name: string; role: Role } | undefined {
    const holder = this.#tokens.get(tokenSha256(token));
    return holder && { name: holder.name, role: holder.role };
  }
}
