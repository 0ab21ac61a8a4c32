import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { publicKeyOf } from '../../src/keys.ts';
import { adminTokenSha256 } from '../../src/hq/admin-token.ts';
import { runHqCommand } from '../../src/hq/cli.ts';
import { loadHqConfig, loadHqConfigFile, type HqConfigInput } from '../../src/hq/config.ts';
import { startHq } from '../../src/hq/hq-runtime.ts';
import { HqStore } from '../../src/hq/hq-store.ts';
import { silentLogger } from '../../src/hq/log.ts';
import { freePort } from '../helpers/mosquitto.ts';
import { batch, record, T0 } from './uplink-fixtures.ts';

/** Runs `storeedge hq …` in-process; returns the exit code and what it printed. */
async function hq(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await runHqCommand(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe('storeedge hq (CLI and config)', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-hq-cli-'));
  });
  afterEach(() => {
    delete process.env.STOREEDGE_HQ_TOKEN;
    rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (config: HqConfigInput) => {
    const file = join(dir, 'hq.json');
    writeFileSync(file, JSON.stringify(config));
    return file;
  };

  /** A config whose broker is a closed port (HQ keeps retrying; nothing here needs it). */
  const baseConfig = async (extra: Partial<HqConfigInput> = {}): Promise<HqConfigInput> => ({
    signingKey: { keyId: 'hq-1', file: 'keys/hq.pem' },
    upstream: { url: `mqtt://127.0.0.1:${await freePort()}`, password: 'x', reconnectMinMs: 1000 },
    stores: ['s1', 's2'],
    http: { port: 0 },
    log: { level: 'silent' },
    ...extra,
  });

  it('keygen writes a 0600 Ed25519 key and prints its public half; it never overwrites one', async () => {
    const out = join(dir, 'keys', 'hq.pem');
    const made = await hq('keygen', '--out', out, '--key-id', 'hq-2026');
    expect(made.code).toBe(0);
    const printed = JSON.parse(made.stdout) as { keyId: string; publicKey: string };
    expect(printed).toEqual({ keyId: 'hq-2026', publicKey: publicKeyOf(readFileSync(out, 'utf8')) });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = await hq('keygen', '--out', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('SYNC_ERR_HQ_KEY_EXISTS');
    expect(JSON.parse(made.stdout)).toEqual(printed);
  });

  it('token prints a random token and the sha256 to configure', async () => {
    const a = JSON.parse((await hq('token')).stdout) as { token: string; sha256: string };
    const b = JSON.parse((await hq('token')).stdout) as { token: string; sha256: string };
    expect(a.token).not.toBe(b.token);
    expect(a.token.length).toBeGreaterThanOrEqual(43);
    expect(a.sha256).toBe(adminTokenSha256(a.token));
  });

  it('usage errors exit 2 and name what is missing', async () => {
    expect((await hq()).code).toBe(2);
    expect((await hq('help')).code).toBe(0);
    expect((await hq('nonsense')).code).toBe(2);
    const noOut = await hq('keygen');
    expect(noOut).toMatchObject({ code: 2, stderr: expect.stringContaining('--out FILE is required') });
    expect((await hq('serve', '--bogus')).code).toBe(2);
  });

  it('the config is strict, resolves paths against its file and is frozen', async () => {
    const base = await baseConfig();
    expect(() => loadHqConfig({ ...base, colour: 'blue' })).toThrow(expect.objectContaining({ code: 'SYNC_ERR_HQ_CONFIG_INVALID' }));
    expect(() => loadHqConfig({ upstream: { url: 'http://x' } })).toThrow(/signingKey[\s\S]*upstream\.url/);
    expect(() => loadHqConfig({ ...base, http: { adminTokenSha256: 'secret' } })).toThrow(/http\.adminTokenSha256/);
    const config = loadHqConfigFile(writeConfig(await baseConfig()));
    expect(config.signingKey.file).toBe(join(dir, 'keys', 'hq.pem'));
    expect(config.databaseFile).toBe(join(dir, 'hq.db'));
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.upstream).toMatchObject({ username: 'hq', clientId: 'hq', protocolVersion: 5 });
    expect(Object.isFrozen(config.upstream)).toBe(true);
  });

  it('HQ refuses to start without its signing key, before opening anything', async () => {
    const config = loadHqConfigFile(writeConfig(await baseConfig()));
    await expect(startHq(config, { logger: silentLogger() })).rejects.toMatchObject({ code: 'SYNC_ERR_HQ_KEY_MISSING', message: expect.stringContaining('hq keygen') });
    expect(() => statSync(config.databaseFile)).toThrow();
    writeFileSync(config.signingKey.file.replace('keys/hq.pem', 'not-a-key.pem'), 'hello');
    const garbage = loadHqConfigFile(writeConfig(await baseConfig({ signingKey: { keyId: 'hq-1', file: 'not-a-key.pem' } })));
    await expect(startHq(garbage, { logger: silentLogger() })).rejects.toMatchObject({ code: 'SYNC_ERR_HQ_KEY_MISSING' });
  });

  it('publish prices posts a signed price change through the running HQ; status shows the stores', async () => {
    await hq('keygen', '--out', join(dir, 'keys', 'hq.pem'));
    const token = JSON.parse((await hq('token')).stdout) as { token: string; sha256: string };
    const configFile = writeConfig(await baseConfig({ http: { port: 0, adminTokenSha256: token.sha256 } }));
    const running = await startHq(loadHqConfigFile(configFile), { logger: silentLogger() });
    try {
      const args = ['publish', 'prices', '--config', configFile, '--url', running.httpUrl, '--store', 's1', '--sku', 'A-1', '--price', '199', '--sku', 'B-2', '--price', '250', '--currency', 'EUR', '--effective', '2026-03-01T06:00:00Z'];
      expect(await hq(...args)).toMatchObject({ code: 2, stderr: expect.stringContaining('STOREEDGE_HQ_TOKEN') });
      expect(await hq(...args, '--token', 'wrong')).toMatchObject({ code: 1, stderr: expect.stringContaining('SYNC_ERR_HQ_UNAUTHORIZED') });

      process.env.STOREEDGE_HQ_TOKEN = token.token;
      const published = await hq(...args);
      expect(published.code).toBe(0);
      const { id, version, stores } = JSON.parse(published.stdout) as { id: string; version: number; stores: string[] };
      expect({ version, stores }).toEqual({ version: 1, stores: ['s1'] });
      const doc = running.store.document(id);
      expect(doc?.header).toMatchObject({ kind: 'prices', stores: ['s1'], effectiveFrom: Date.parse('2026-03-01T06:00:00Z') });
      const [chunk] = running.store.documentChunks(id).map((m) => JSON.parse(m) as { data: string });
      expect(JSON.parse(Buffer.from(chunk!.data, 'base64').toString('utf8'))).toEqual({
        prices: [
          { currency: 'EUR', priceMinor: 199, sku: 'A-1' },
          { currency: 'EUR', priceMinor: 250, sku: 'B-2' },
        ],
      });
      // The broker is down: the delivery waits in HQ's database, not in memory.
      expect(running.store.unsentTargets()).toEqual([{ docId: id, store: 's1' }]);

      const all = await hq('publish', 'prices', '--config', configFile, '--url', running.httpUrl, '--all', '--sku', 'A-1', '--price', '189');
      expect(JSON.parse(all.stdout)).toMatchObject({ version: 2, stores: ['s1', 's2'] });
      expect(await hq('publish', 'prices', '--config', configFile, '--url', running.httpUrl, '--all', '--store', 's1', '--sku', 'A', '--price', '1')).toMatchObject({ code: 2 });
      expect(await hq('publish', 'prices', '--config', configFile, '--url', running.httpUrl, '--all', '--sku', 'A', '--price', '1.99')).toMatchObject({ code: 2 });

      // A planogram from an agent config's store.model, and a model release from a manifest and the .onnx beside it.
      const agentConfig = join(dir, 'agent.json');
      writeFileSync(agentConfig, JSON.stringify({ storeId: 's1', store: { model: { catalog: [], zones: [{ id: 'z1' }] } } }));
      const plano = await hq('publish', 'planogram', '--config', configFile, '--url', running.httpUrl, '--store', 's1', '--model', agentConfig, '--effective', '2026-03-02T05:00:00Z');
      expect(plano.code).toBe(0);
      const planoId = (JSON.parse(plano.stdout) as { id: string }).id;
      const planoChunk = JSON.parse(running.store.documentChunks(planoId)[0]!) as { data: string };
      expect(JSON.parse(Buffer.from(planoChunk.data, 'base64').toString('utf8'))).toEqual({ model: { catalog: [], zones: [{ id: 'z1' }] } });
      const manifest = fileURLToPath(new URL('../../../models/recogniser/manifest.json', import.meta.url));
      const release = await hq('publish', 'model-release', '--config', configFile, '--url', running.httpUrl, '--all', '--manifest', manifest);
      expect(release.code).toBe(0);
      expect(running.store.document((JSON.parse(release.stdout) as { id: string }).id)?.header).toMatchObject({ kind: 'model-release', chunks: expect.any(Number) });
      expect(await hq('publish', 'prices', '--config', configFile, '--url', running.httpUrl, '--all', '--manifest', manifest)).toMatchObject({ code: 2 });

      running.store.ingest('s1', batch('s1', 'e1', [record(1), record(3)]), T0);
    } finally {
      await running.stop();
    }
    const status = await hq('status', '--config', configFile);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^store\s+status/);
    expect(status.stdout).toMatch(/\ns1\s+\?\s+\S+\s+2\s+e1:1\/3\s+1\s/);
    expect(status.stdout).toMatch(/\ns2\s+never seen/);
    const json = JSON.parse((await hq('status', '--config', configFile, '--json')).stdout) as { stores: Array<{ id: string; held: number; documents: unknown[] }> };
    expect(json.stores.map((s) => [s.id, s.held, s.documents.length])).toEqual([
      ['s1', 2, 4],
      ['s2', 0, 2],
    ]);
  });

  it('serve runs until SIGTERM and then closes cleanly', async () => {
    await hq('keygen', '--out', join(dir, 'keys', 'hq.pem'));
    const configFile = writeConfig(await baseConfig());
    const entry = fileURLToPath(new URL('../../src/hq/cli.ts', import.meta.url));
    const script = `const { runHqCommand } = await import(${JSON.stringify(entry)}); process.exitCode = await runHqCommand(['serve', '--config', ${JSON.stringify(configFile)}]);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8');
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.includes('\n')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`serve exited early with ${code}: ${stderr}`)));
    });
    expect(stdout).toMatch(/^storeedge hq: API http:\/\/127\.0\.0\.1:\d+ {2}upstream mqtt:\/\/127\.0\.0\.1:\d+ {2}signing key hq-1 \(/);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, stderr).toBe(0);
    // Closed cleanly: the WAL was checkpointed into the file, which opens read-only.
    const store = HqStore.open(join(dir, 'hq.db'), { readonly: true });
    expect(store.count()).toBe(0);
    store.close();
  });
});
