import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { canConnect, findMosquitto, freePort } from '../bench/mosquitto.ts';
import { errors } from '../errors.ts';

/** The upstream broker ACL of docs/sync.md ("Topics"): `%u` = username = store id. */
export const upstreamBrokerAcl = `pattern read  storeedge/v1/%u/down/#
pattern write storeedge/v1/%u/up/#
user hq
topic read  storeedge/v1/+/up/#
topic write storeedge/v1/+/down/#
`;

const passwdPaths = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd', '/opt/homebrew/bin/mosquitto_passwd'];

export interface UpstreamMosquittoOptions {
  /** Created if missing; holds mosquitto.conf, the password file, the ACL and the persistence. Must be reachable by the `mosquitto` user when run as root. */
  dir: string;
  /** username → password (mosquitto_passwd hashes them). */
  users: Readonly<Record<string, string>>;
  /** How long `start` waits for the port to open. Default 10 s. */
  startTimeoutMs?: number;
}

/**
 * A real Mosquitto as HQ's upstream broker for `storeedge sim` (docs/sync.md "The HQ-outage
 * scenario"): a loopback port, per-user passwords, the docs' ACL, and persistence on, so
 * `stop()` (SIGTERM: Mosquitto saves sessions, subscriptions and queued QoS 1 messages) and
 * `start()` again on the same port is an outage that both sides come back from with their
 * sessions. Throws EDGE_ERR_SIM_UPSTREAM_BROKER when Mosquitto is not installed or does not start.
 */
export class UpstreamMosquitto {
  readonly url: string;
  readonly port: number;
  readonly #binary: string;
  readonly #configFile: string;
  readonly #startTimeoutMs: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';
  readonly #killOnExit = () => this.#child?.kill('SIGKILL');

  private constructor(binary: string, configFile: string, port: number, startTimeoutMs: number) {
    this.#binary = binary;
    this.#configFile = configFile;
    this.port = port;
    this.url = `mqtt://127.0.0.1:${port}`;
    this.#startTimeoutMs = startTimeoutMs;
  }

  static async start(options: UpstreamMosquittoOptions): Promise<UpstreamMosquitto> {
    const lookup = findMosquitto();
    const passwd = [...passwdPaths, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'mosquitto_passwd'))].find(isExecutable);
    if (!lookup.found || passwd === undefined) {
      const what = !lookup.found ? lookup.reason : 'mosquitto_passwd is not installed';
      throw errors.EDGE_ERR_SIM_UPSTREAM_BROKER(`a scenario with a \`network\` section runs a real Mosquitto as HQ's upstream broker: ${what}`);
    }
    const { dir } = options;
    mkdirSync(dir, { recursive: true });
    const passwordFile = join(dir, 'passwd');
    writeFileSync(passwordFile, '');
    for (const [user, password] of Object.entries(options.users)) {
      const r = spawnSync(passwd, ['-b', passwordFile, user, password], { encoding: 'utf8' });
      if (r.status !== 0) throw errors.EDGE_ERR_SIM_UPSTREAM_BROKER(`mosquitto_passwd failed for user ${user}: ${(r.stderr || r.error?.message || '').trim()}`);
    }
    const aclFile = join(dir, 'acl');
    writeFileSync(aclFile, upstreamBrokerAcl);
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    // Started as root, mosquitto drops to the `mosquitto` user before it reads these files and
    // writes its persistence file: it needs to pass through the dir and own the data dir.
    chmodSync(dir, 0o711);
    chmodSync(passwordFile, 0o644);
    chmodSync(aclFile, 0o644);
    const owner = process.getuid?.() === 0 ? mosquittoUser() : undefined;
    if (owner) chownSync(dataDir, owner.uid, owner.gid);
    else chmodSync(dataDir, 0o777);
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
        // Sessions and queued QoS 1 messages survive the outage (saved on SIGTERM, read at start).
        'persistence true',
        `persistence_location ${dataDir}/`,
        'log_dest stderr',
        'log_type error',
        'log_type warning',
        '',
      ].join('\n'),
    );
    const broker = new UpstreamMosquitto(lookup.path, configFile, port, options.startTimeoutMs ?? 10_000);
    await broker.start();
    return broker;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Starts the broker (again) on the same port with the same config; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    this.#stderr = '';
    const child = spawn(this.#binary, ['-c', this.#configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => (this.#stderr = (this.#stderr + chunk).slice(-4_000)));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // The broker must not outlive a run that dies without cleaning up.
    process.on('exit', this.#killOnExit);
    const deadline = Date.now() + this.#startTimeoutMs;
    while (!(await canConnect(this.port))) {
      if (!this.running) {
        process.off('exit', this.#killOnExit);
        throw errors.EDGE_ERR_SIM_UPSTREAM_BROKER(`mosquitto exited at start (${child.exitCode ?? child.signalCode}): ${this.#stderr.trim() || '(no output)'}`);
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw errors.EDGE_ERR_SIM_UPSTREAM_BROKER(`mosquitto did not listen on 127.0.0.1:${this.port} within ${this.#startTimeoutMs} ms: ${this.#stderr.trim()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** SIGTERM and wait: Mosquitto saves its persistence file on the way out (SIGKILL after 5 s). The dir stays. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await this.#exited;
    clearTimeout(timer);
    process.off('exit', this.#killOnExit);
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The `mosquitto` system user, which a root-started broker switches to. */
function mosquittoUser(): { uid: number; gid: number } | undefined {
  let passwdFile: string;
  try {
    passwdFile = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const [, , uid, gid] = passwdFile.split('\n').find((l) => l.startsWith('mosquitto:'))?.split(':') ?? [];
  return uid !== undefined && gid !== undefined ? { uid: Number(uid), gid: Number(gid) } : undefined;
}
