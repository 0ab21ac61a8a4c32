import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, loadConfigFile } from '../src/config/load.ts';
import { errorOf } from './helpers/error-of.ts';

describe('config', () => {
  it('fills defaults, resolves paths against the config folder and freezes the result', () => {
    const config = loadConfig({ storeId: 'store-042' }, '/etc/storeedge');
    expect(config.broker).toMatchObject({ mode: 'embedded', tcpPort: 1883, wsPort: 9001 });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080, users: [], apiTokens: [] });
    expect(config.dataDir).toBe('/etc/storeedge/.storeedge');
    expect(config.ledgerFile).toBe('/etc/storeedge/.storeedge/ledger.db');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.broker)).toBe(true);
    expect(() => {
      (config.broker as { tcpPort: number }).tcpPort = 1;
    }).toThrow(TypeError);
  });

  it('lists every invalid field with what to fix', () => {
    const error = errorOf(() => loadConfig({ storeId: 'Store 42', broker: { tcpPort: 70000, bogus: 1 }, http: { port: 'x' } }));
    expect(error.code).toBe('EDGE_ERR_CONFIG_INVALID');
    expect(error.message).toContain('storeId: use lowercase letters');
    expect(error.message).toContain('broker.tcpPort');
    expect(error.message).toContain('broker');
    expect(error.message).toContain('bogus');
    expect(error.message).toContain('http.port');
  });

  it('requires broker.external in external mode', () => {
    const error = errorOf(() => loadConfig({ storeId: 's1', broker: { mode: 'external' } }));
    expect(error.message).toContain("broker.external: broker.mode is 'external'");
  });

  it('reports unreadable files and bad JSON with their codes', () => {
    expect(errorOf(() => loadConfigFile('/nonexistent/storeedge.json')).code).toBe('EDGE_ERR_CONFIG_UNREADABLE');
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-config-'));
    writeFileSync(join(dir, 'bad.json'), '{ storeId: ');
    expect(errorOf(() => loadConfigFile(join(dir, 'bad.json'))).code).toBe('EDGE_ERR_CONFIG_INVALID');
  });
});
