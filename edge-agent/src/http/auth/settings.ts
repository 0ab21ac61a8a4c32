import { z } from 'zod';
import { tokenRoles, userRoles } from './roles.ts';

/**
 * Access to the HTTP API and dashboard (docs/dashboard.md "Access"): who may log in, which
 * machine clients hold tokens, how long a session lives. Part of the agent config's `http`.
 * No user and no token is configured by default: nobody gets in until one is added.
 */
const principalName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/, "1–64 letters, digits and '.', '_', '@', '-', starting with a letter or digit");

/** `scrypt$N$r$p$<salt b64>$<hash b64>` as `storeedge user hash` prints it, with a cost the agent can afford to check. */
export function isPasswordHash(value: string): boolean {
  const parts = value.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [n, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const base64 = /^[A-Za-z0-9+/]+={0,2}$/;
  return (
    Number.isInteger(n) && n >= 1 << 14 && n <= 1 << 20 && (n & (n - 1)) === 0 &&
    Number.isInteger(r) && r >= 1 && r <= 32 &&
    Number.isInteger(p) && p >= 1 && p <= 16 &&
    base64.test(parts[4]!) && Buffer.from(parts[4]!, 'base64').length >= 16 &&
    base64.test(parts[5]!) && Buffer.from(parts[5]!, 'base64').length >= 16
  );
}

export const userSchema = z.strictObject({
  /** Login name; also the actor the ledger records for what this user does. */
  name: principalName,
  role: z.enum(userRoles),
  /** From `storeedge user hash` (scrypt, per-user random salt); never the password itself. */
  passwordHash: z.string().refine(isPasswordHash, 'must be a hash printed by `storeedge user hash` (scrypt$N$r$p$salt$hash), never the password itself'),
});

export const apiTokenSchema = z.strictObject({
  /** The actor the ledger records for what this client does. */
  name: principalName,
  role: z.enum(tokenRoles),
  /** sha256 (hex) of the token the client sends as `Authorization: Bearer <token>`; `storeedge user token` makes a pair. */
  tokenSha256: z.string().regex(/^[0-9a-f]{64}$/, 'the sha256 of the token: 64 lowercase hex digits, as `storeedge user token` prints it'),
});

export const sessionSettingsSchema = z
  .strictObject({
    /** A session not used for this long ends (ms). */
    idleTimeoutMs: z.number().int().min(60_000).max(7 * 24 * 3_600_000).default(2 * 3_600_000),
    /** A session ends this long after login, used or not (ms): about one shift. */
    maxLifetimeMs: z.number().int().min(60_000).max(30 * 24 * 3_600_000).default(12 * 3_600_000),
    /** Most sessions held at once; a new login beyond it ends the least recently used one. */
    maxSessions: z.number().int().min(1).max(100_000).default(1_000),
  })
  .refine((s) => s.idleTimeoutMs <= s.maxLifetimeMs, { message: 'idleTimeoutMs must not exceed maxLifetimeMs', path: ['idleTimeoutMs'] });

export const loginThrottleSchema = z.strictObject({
  /** Failed logins for one name from one address within windowMs before further tries are refused (429); an address alone gets ten times this. */
  maxFailures: z.number().int().min(1).max(1_000).default(5),
  windowMs: z.number().int().min(1_000).max(24 * 3_600_000).default(15 * 60_000),
});

/** The access fields of the config's `http` object. */
export const accessSettingsFields = {
  users: z.array(userSchema).max(1_000).default([]),
  apiTokens: z.array(apiTokenSchema).max(1_000).default([]),
  sessions: sessionSettingsSchema.prefault({}),
  loginThrottle: loginThrottleSchema.prefault({}),
};

export type UserConfig = z.output<typeof userSchema>;
export type ApiTokenConfig = z.output<typeof apiTokenSchema>;
export type SessionSettings = z.output<typeof sessionSettingsSchema>;
export type LoginThrottleSettings = z.output<typeof loginThrottleSchema>;

/** Names are actors in the ledger, so one name is one user or one token; a token's hash is one client's. */
export function checkAccessSettings(http: { users: readonly UserConfig[]; apiTokens: readonly ApiTokenConfig[] }, ctx: z.RefinementCtx): void {
  const names = new Map<string, string>();
  const claim = (name: string, path: (string | number)[]) => {
    const key = name.toLowerCase();
    const first = names.get(key);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path, message: `the name "${name}" is already used by ${first}; each user and token needs its own name` });
    else names.set(key, path.join('.'));
  };
  http.users.forEach((user, i) => claim(user.name, ['users', i, 'name']));
  http.apiTokens.forEach((token, i) => claim(token.name, ['apiTokens', i, 'name']));
  const hashes = new Set<string>();
  http.apiTokens.forEach((token, i) => {
    if (hashes.has(token.tokenSha256)) ctx.addIssue({ code: 'custom', path: ['apiTokens', i, 'tokenSha256'], message: 'the same token is listed twice; give each client its own token' });
    hashes.add(token.tokenSha256);
  });
}
