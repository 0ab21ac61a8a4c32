import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canConnect, findMosquitto, freePort } from '../../src/bench/mosquitto.ts';

const lookup = findMosquitto();
export const mosquittoBinary = lookup.found ? lookup.path : undefined;
export const mosquittoPasswd = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd'].find((p) => existsSync(p));

/**
 * Suites that need Mosquitto skip without it on a developer machine, but CI sets
 * STOREEDGE_REQUIRE_MOSQUITTO=1 so a missing broker fails the run instead of hiding the suite.
 */
export const skipWithoutMosquitto = !(mosquittoBinary && mosquittoPasswd) && process.env.STOREEDGE_REQUIRE_MOSQUITTO !== '1';

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** A real Mosquitto on a free loopback port, with a password file and an ACL file. */
export async function startMosquitto(options: { users: Record<string, string>; acl: string }): Promise<Mosquitto> {
  if (!mosquittoBinary || !mosquittoPasswd) throw new Error('mosquitto is not installed (apt-get install mosquitto mosquitto-clients)');
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-mosquitto-'));
  const passwordFile = join(dir, 'passwd');
  writeFileSync(passwordFile, '');
  for (const [user, password] of Object.entries(options.users)) {
    const r = spawnSync(mosquittoPasswd, ['-b', passwordFile, user, password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
  }
  writeFileSync(join(dir, 'acl'), options.acl);
  // Started as root, mosquitto drops to the `mosquitto` user before reading these files.
  chmodSync(dir, 0o711);
  chmodSync(passwordFile, 0o644);
  chmodSync(join(dir, 'acl'), 0o644);
  const port = await freePort();
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      'use_username_as_clientid true',
      `password_file ${passwordFile}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
    ].join('\n') + '\n',
  );
  const child = spawn(mosquittoBinary, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  for (let i = 0; !(await canConnect(port)); i++) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr.trim()}`);
    if (i > 200) throw new Error('mosquitto did not open its port');
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
