import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real Mosquitto for the sync tests, as the upstream broker between stores and HQ: per-user
 * passwords, the ACL of docs/sync.md, and optional persistence in its temp dir so a test can
 * stop it mid-scenario (or kill -9 it) and start it again on the same port with its sessions
 * and queued messages. (The agent's tests have their own helper; the sync package does not
 * depend on the agent.)
 */

export const mosquittoBinary = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto'].find(isExecutable);
export const mosquittoPasswd = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd'].find(isExecutable);

/**
 * Suites that need Mosquitto skip without it on a developer machine, but CI sets
 * STOREEDGE_REQUIRE_MOSQUITTO=1 so a missing broker fails the run instead of hiding the suite.
 */
export const skipWithoutMosquitto = !(mosquittoBinary && mosquittoPasswd) && process.env.STOREEDGE_REQUIRE_MOSQUITTO !== '1';

/** The upstream broker ACL, exactly as docs/sync.md gives it (`%u` = username = store id). */
export const SYNC_BROKER_ACL = `pattern read  storeedge/v1/%u/down/#
pattern write storeedge/v1/%u/up/#
user hq
topic read  storeedge/v1/+/up/#
topic write storeedge/v1/+/down/#
`;

export interface MosquittoOptions {
  /** username → password. */
  users: Record<string, string>;
  /** ACL file contents; default SYNC_BROKER_ACL. */
  acl?: string;
  /** Keep sessions, subscriptions and queued QoS 1 messages across a restart (saved on a clean stop). */
  persistence?: boolean;
  /**
   * With persistence: also save every this many seconds, after any change (so a kill -9 loses at
   * most that window). Default: only on a clean stop, like a stock Mosquitto's 1800 s.
   */
  autosaveIntervalS?: number;
  /** Further mosquitto.conf lines (e.g. `max_queued_messages 10`). */
  extraConfig?: readonly string[];
}

export interface Mosquitto {
  readonly url: string;
  readonly port: number;
  /** Its temp dir: config, password file, ACL, persistence. */
  readonly dir: string;
  readonly running: boolean;
  /** SIGTERM and wait (Mosquitto saves its persistence file on the way out). The dir stays. */
  stop(): Promise<void>;
  /** SIGKILL and wait: nothing saved since the last autosave. The dir stays. */
  kill(): Promise<void>;
  /** Starts again on the same port with the same config (and persistence). */
  start(): Promise<void>;
  /** Stops (if running) and removes the dir. */
  dispose(): Promise<void>;
}

/** A real Mosquitto on a free loopback port, with a password file and an ACL file. */
export async function startMosquitto(options: MosquittoOptions): Promise<Mosquitto> {
  if (!mosquittoBinary || !mosquittoPasswd) throw new Error('mosquitto is not installed (apt-get install mosquitto mosquitto-clients)');
  const binary = mosquittoBinary;
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-sync-mosquitto-'));
  const passwordFile = join(dir, 'passwd');
  writeFileSync(passwordFile, '');
  for (const [user, password] of Object.entries(options.users)) {
    const r = spawnSync(mosquittoPasswd, ['-b', passwordFile, user, password], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
  }
  const aclFile = join(dir, 'acl');
  writeFileSync(aclFile, options.acl ?? SYNC_BROKER_ACL);
  // Started as root, mosquitto drops to the `mosquitto` user before reading these files.
  chmodSync(dir, 0o711);
  chmodSync(passwordFile, 0o644);
  chmodSync(aclFile, 0o644);
  const dataDir = join(dir, 'data');
  if (options.persistence) {
    mkdirSync(dataDir);
    // …and writes its persistence file as that user.
    const owner = mosquittoUser();
    if (owner && process.getuid?.() === 0) chownSync(dataDir, owner.uid, owner.gid);
    else chmodSync(dataDir, 0o777);
  }
  const port = await freePort();
  const configFile = join(dir, 'mosquitto.conf');
  writeFileSync(
    configFile,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      'use_username_as_clientid true',
      `password_file ${passwordFile}`,
      `acl_file ${aclFile}`,
      ...(options.persistence
        ? [
            'persistence true',
            `persistence_location ${dataDir}/`,
            ...(options.autosaveIntervalS !== undefined ? ['autosave_on_changes true', `autosave_interval ${options.autosaveIntervalS}`] : []),
          ]
        : ['persistence false']),
      ...(options.extraConfig ?? []),
      'log_dest stderr',
      'log_type error',
      'log_type warning',
    ].join('\n') + '\n',
  );

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stderr = '';
  const killOnExit = () => child?.kill('SIGKILL');

  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    stderr = '';
    const proc = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-4_000)));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    // If the test process dies without cleaning up, the broker must not outlive it.
    process.on('exit', killOnExit);
    for (let i = 0; !(await canConnect(port)); i++) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode ?? proc.signalCode}: ${stderr.trim()}`);
      if (i > 400) throw new Error(`mosquitto did not open port ${port}: ${stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    await exited;
    process.off('exit', killOnExit);
  };

  await start();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    start,
    async dispose() {
      await halt('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A free TCP port on 127.0.0.1 (closed again before it is returned; a tiny race is accepted). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether something accepts TCP connections on 127.0.0.1:port right now. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function mosquittoUser(): { uid: number; gid: number } | undefined {
  if (!existsSync('/etc/passwd')) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('mosquitto:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid !== undefined && gid !== undefined ? { uid: Number(uid), gid: Number(gid) } : undefined;
}
