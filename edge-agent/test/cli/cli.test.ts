import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { topics } from '@storeedge/device-drivers';
import { newApiToken } from '../../src/http/auth/index.ts';

const root = resolve(import.meta.dirname, '../../..');
const bin = join(root, 'bin/storeedge.js');

function storeedge(args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('storeedge CLI (child processes)', () => {
  let dir: string;
  let configFile: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-cli-'));
    configFile = join(dir, 'storeedge.json');
    writeFileSync(
      configFile,
      JSON.stringify({ storeId: 'store-cli', broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null }, http: { port: 0 }, log: { level: 'warn' } }),
    );
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('device add / list / disable / enable / rotate-secret manage the registry in the ledger', () => {
    const added = storeedge(['device', 'add', 'shelf-1', '--kind', 'shelf', '--config', configFile, '--json']);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const { secret } = JSON.parse(added.stdout);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const again = storeedge(['device', 'add', 'shelf-1', '--kind', 'shelf', '--config', configFile]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('EDGE_ERR_DEVICE_EXISTS');

    const list = storeedge(['device', 'list', '--config', configFile, '--json']);
    const devices = JSON.parse(list.stdout);
    expect(devices).toEqual([expect.objectContaining({ id: 'shelf-1', kind: 'shelf', enabled: true })]);
    expect(list.stdout).not.toContain('scrypt');

    expect(storeedge(['device', 'disable', 'shelf-1', '--config', configFile]).stdout).toContain('disabled');
    expect(JSON.parse(storeedge(['device', 'list', '--config', configFile, '--json']).stdout)[0].enabled).toBe(false);
    expect(storeedge(['device', 'enable', 'shelf-1', '--config', configFile]).code).toBe(0);

    const rotated = JSON.parse(storeedge(['device', 'rotate-secret', 'shelf-1', '--config', configFile, '--json']).stdout);
    expect(rotated.secret).not.toBe(secret);
  });

  it('refuses bad usage with exit code 2 and says how to use it', () => {
    const noConfig = storeedge(['device', 'list']);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toContain('EDGE_ERR_CLI_USAGE');
    expect(noConfig.stderr).toContain('--config FILE is required');
    expect(storeedge(['device', 'add', 'x', '--config', configFile]).stderr).toContain('needs --kind');
    expect(storeedge(['device', 'add', 'Bad Id', '--kind', 'shelf', '--config', configFile]).stderr).toContain('EDGE_ERR_DEVICE_ID_INVALID');
    expect(storeedge(['device', 'add', 'x1', '--kind', 'toaster', '--config', configFile]).stderr).toContain('EDGE_ERR_DEVICE_KIND_INVALID');
    expect(storeedge(['nonsense']).code).toBe(2);
    const badConfig = join(dir, 'bad.json');
    writeFileSync(badConfig, JSON.stringify({ storeId: 'UPPER' }));
    const invalid = storeedge(['agent', '--config', badConfig]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('EDGE_ERR_CONFIG_INVALID');
    expect(invalid.stderr).toContain('storeId');
  });

  it('agent serves devices registered by the CLI, sees a CLI disable while running, and shuts down cleanly on SIGTERM', async () => {
    const { secret } = JSON.parse(storeedge(['device', 'add', 'gate-1', '--kind', 'gate', '--config', configFile, '--json']).stdout);
    const apiToken = newApiToken();
    // Same store and ledger, but logging at info so the shutdown line shows on stderr.
    const agentConfig = join(dir, 'agent.json');
    writeFileSync(
      agentConfig,
      JSON.stringify({
        storeId: 'store-cli',
        broker: { host: '127.0.0.1', tcpPort: 0, wsPort: null },
        http: { port: 0, apiTokens: [{ name: 'test', role: 'service', tokenSha256: apiToken.tokenSha256 }] },
        log: { level: 'info' },
      }),
    );
    const child = spawn(process.execPath, [bin, 'agent', '--config', agentConfig], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
    try {
      const line = await new Promise<string>((resolveLine, reject) => {
        child.stdout.on('data', (chunk) => {
          stdout += chunk;
          if (stdout.includes('\n')) resolveLine(stdout);
        });
        child.on('exit', () => reject(new Error(`agent exited early: ${stderr}`)));
      });
      const api = /API (http:\/\/\S+)/.exec(line)![1]!;
      const mqttUrl = /"mqtt":"(mqtt:\/\/[^"]+)"/.exec(line)![1]!;
      const client = await mqtt.connectAsync(mqttUrl, { clientId: 'gate-1', username: 'gate-1', password: secret, reconnectPeriod: 0 });
      await client.publishAsync(topics.event('store-cli', 'gate-1', 'scan'), JSON.stringify({ at: 1, lane: 'entry', token: 'tok_0123456789' }), { qos: 1 });
      const device = await (await fetch(`${api}/api/devices/gate-1`, { headers: { authorization: `Bearer ${apiToken.token}` } })).json();
      expect(device).toMatchObject({ id: 'gate-1', online: true, messages: 1 });

      const closedConnection = new Promise<void>((r) => client.once('close', () => r()));
      expect(storeedge(['device', 'disable', 'gate-1', '--config', configFile]).code).toBe(0);
      await closedConnection; // the running agent noticed the other process's change and disconnected it
      await client.endAsync(true);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('agent stopped');
      // A clean stop checkpoints the WAL into the database file.
      const wal = join(dir, '.storeedge', 'ledger.db-wal');
      expect(!existsSync(wal) || statSync(wal).size === 0).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
