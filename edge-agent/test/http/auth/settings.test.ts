import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { hashPassword, newApiToken } from '../../../src/http/auth/index.ts';

function problems(http: unknown): string {
  try {
    loadConfig({ storeId: 'store-1', http });
  } catch (error) {
    return `${(error as { code: string }).code}: ${(error as Error).message}`;
  }
  return '';
}

describe('http access settings', () => {
  it('default to no users, no tokens (nobody gets in), and sessions of 2 h idle / 12 h at most', () => {
    const { http } = loadConfig({ storeId: 'store-1' });
    expect(http).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      users: [],
      apiTokens: [],
      sessions: { idleTimeoutMs: 7_200_000, maxLifetimeMs: 43_200_000, maxSessions: 1_000 },
      loginThrottle: { maxFailures: 5, windowMs: 900_000 },
    });
  });

  it('take hashes from `storeedge user hash` and sha256 of tokens', async () => {
    const token = newApiToken();
    const { http } = loadConfig({
      storeId: 'store-1',
      http: { users: [{ name: 'maria', role: 'manager', passwordHash: await hashPassword('a-long-password') }], apiTokens: [{ name: 'sim', role: 'service', tokenSha256: token.tokenSha256 }] },
    });
    expect(http.users.map((u) => u.name)).toEqual(['maria']);
  });

  it('refuse a password in place of its hash, weak or odd hashes, bad roles and tokens, with what to do', () => {
    const message = problems({
      users: [
        { name: 'maria', role: 'manager', passwordHash: 'hunter2hunter2' },
        { name: 'sam', role: 'admin', passwordHash: 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA==' },
      ],
      apiTokens: [{ name: 'sim', role: 'service', tokenSha256: 'not-hex' }],
    });
    expect(message).toContain('EDGE_ERR_CONFIG_INVALID');
    expect(message).toContain('http.users.0.passwordHash: must be a hash printed by `storeedge user hash`');
    expect(message).toContain('http.users.1.role');
    expect(message).toContain('http.users.1.passwordHash');
    expect(message).toContain('http.apiTokens.0.tokenSha256: the sha256 of the token');
    expect(message).not.toContain('hunter2hunter2');
  });

  it('refuse one name for two principals, one token twice, and an idle timeout above the lifetime', () => {
    const token = newApiToken();
    const hash = `scrypt$16384$8$1$${Buffer.alloc(16, 1).toString('base64')}$${Buffer.alloc(32, 2).toString('base64')}`;
    const message = problems({
      users: [{ name: 'maria', role: 'manager', passwordHash: hash }],
      apiTokens: [
        { name: 'Maria', role: 'service', tokenSha256: token.tokenSha256 },
        { name: 'sim', role: 'service', tokenSha256: token.tokenSha256 },
      ],
      sessions: { idleTimeoutMs: 3_600_000, maxLifetimeMs: 1_800_000 },
    });
    expect(message).toContain('http.apiTokens.0.name: the name "Maria" is already used by users.0.name');
    expect(message).toContain('http.apiTokens.1.tokenSha256: the same token is listed twice');
    expect(message).toContain('http.sessions.idleTimeoutMs');
  });
});
