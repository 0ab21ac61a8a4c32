import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { tokenSha256 } from '../../src/http/auth/index.ts';
import { verifySecret } from '../../src/registry/secrets.ts';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/storeedge.js');

function storeedge(args: string[], input = '') {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', input, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('storeedge user', () => {
  it('hash: reads the password from stdin or a file and prints a salted scrypt hash the config takes', async () => {
    const password = 'correct horse battery';
    const first = storeedge(['user', 'hash'], `${password}\n`);
    expect(first.code, first.stderr).toBe(0);
    const hash = first.stdout.trim();
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    expect(await verifySecret(password, hash)).toBe(true);
    expect(first.stdout + first.stderr).not.toContain(password);
    expect(loadConfig({ storeId: 's1', http: { users: [{ name: 'anna', role: 'manager', passwordHash: hash }] } }).http.users).toHaveLength(1);

    const dir = mkdtempSync(join(tmpdir(), 'storeedge-user-'));
    try {
      writeFileSync(join(dir, 'pw'), `${password}\nsecond line ignored\n`);
      const again = storeedge(['user', 'hash', '--password-file', join(dir, 'pw')]);
      expect(again.stdout.trim()).not.toBe(hash); // a new salt each time
      expect(await verifySecret(password, again.stdout.trim())).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hash refuses short passwords and a password on the command line; token prints a token and its sha256', () => {
    const short = storeedge(['user', 'hash'], 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 12 characters');
    expect(storeedge(['user', 'hash', 'my-password-here']).stderr).toContain('never from the command line');
    const token = storeedge(['user', 'token']);
    expect(token.code).toBe(0);
    const made = JSON.parse(token.stdout) as { token: string; tokenSha256: string };
    expect(made.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(made.tokenSha256).toBe(tokenSha256(made.token));
    expect(storeedge(['user', 'nope']).code).toBe(2);
  });
});
