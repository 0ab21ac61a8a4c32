import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Where the reference broker is looked for when no path is given. */
export const defaultMosquittoPaths = ['/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/opt/homebrew/sbin/mosquitto'];

export type MosquittoLookup = { found: true; path: string; version: string } | { found: false; reason: string };

/** Finds an executable mosquitto (the given path, the usual places, then $PATH) and its version. */
export function findMosquitto(explicit?: string): MosquittoLookup {
  const candidates = explicit
    ? [explicit]
    : [...defaultMosquittoPaths, ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'mosquitto'))];
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    // `mosquitto -h` prints "mosquitto version 2.0.11" first (and exits non-zero on some versions).
    const probe = spawnSync(path, ['-h'], { encoding: 'utf8', timeout: 5_000 });
    const version = /mosquitto version (\S+)/.exec(`${probe.stdout ?? ''}${probe.stderr ?? ''}`)?.[1];
    if (version) return { found: true, path, version };
  }
  return {
    found: false,
    reason: explicit
      ? `${explicit} is not an executable mosquitto`
      : `mosquitto is not installed (looked in ${defaultMosquittoPaths.join(', ')} and $PATH); install it with \`apt-get install -y mosquitto\``,
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

/**
 * The reference broker's configuration: loopback only, anonymous, no persistence, TCP_NODELAY
 * like the embedded broker, and no cap on the per-client queue (the default of 1000 would drop
 * QoS 1 messages for the sink under a 10,000-message burst, measuring the cap, not the broker).
 */
export function mosquittoConfig(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'set_tcp_nodelay true',
    'max_queued_messages 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

/** A Mosquitto child process on a free loopback port with a generated config. */
export class MosquittoProcess {
  readonly url: string;
  readonly version: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  #stderr = '';
  #exited: Promise<void>;
  #running = true;
  readonly #killOnExit = () => this.#child.kill('SIGKILL');

  private constructor(child: ChildProcess, dir: string, port: number, version: string) {
    this.#child = child;
    this.#dir = dir;
    this.url = `mqtt://127.0.0.1:${port}`;
    this.version = version;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4_000);
    });
    this.#exited = new Promise((resolve) =>
      child.once('exit', () => {
        this.#running = false;
        process.off('exit', this.#killOnExit);
        resolve();
      }),
    );
    // If the bench dies without cleaning up, the broker must not outlive it.
    process.on('exit', this.#killOnExit);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Starts mosquitto and waits until it accepts TCP connections (bounded by timeoutMs). `config`
   * builds its configuration for the chosen port (default `mosquittoConfig`: anonymous, no ACL).
   */
  static async start(path: string, version: string, timeoutMs = 5_000, config: (port: number) => string = mosquittoConfig): Promise<MosquittoProcess> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-mosquitto-'));
    const configFile = join(dir, 'mosquitto.conf');
    writeFileSync(configFile, config(port));
    const child = spawn(path, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    const broker = new MosquittoProcess(child, dir, port, version);
    try {
      await broker.#waitListening(port, timeoutMs);
    } catch (error) {
      await broker.stop();
      throw error;
    }
    return broker;
  }

  /** CPU time (user + system, seconds) the broker process has used so far; NaN where /proc is missing. */
  cpuSeconds(): number {
    return processCpuSeconds(this.#child.pid);
  }

  /** SIGTERM, then SIGKILL after 3 s; removes the config folder. */
  async stop(): Promise<void> {
    if (this.#running) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #waitListening(port: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.#running) throw new Error(`mosquitto exited at start: ${this.#stderr.trim() || '(no output)'}`);
      if (await canConnect(port)) return;
      if (Date.now() > deadline) throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within ${timeoutMs} ms: ${this.#stderr.trim()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
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

/** utime + stime of a process from /proc/<pid>/stat, in seconds (Linux; NaN elsewhere). */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / clockTicksPerSecond();
  } catch {
    return Number.NaN;
  }
}

let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const value = Number(out.stdout?.trim());
    ticksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}
