import { execFile, spawn, type ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/**
 * `node bin/storeedge.js …` as a child process, the way a store or a head office runs it: the
 * real CLI, its own event loop and SQLite connections, stopped by signals. The fault tests
 * SIGKILL, SIGTERM, SIGSTOP and SIGCONT these; every one started here is killed by
 * `killAllStoreedgeProcesses` (afterEach) and, failing that, when the test process exits.
 */

export const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../../..');
const bin = resolve(repoRoot, 'bin/storeedge.js');

export interface StoreedgeProcess {
  readonly pid: number;
  /** The match of the `ready` pattern on stdout (the line the command prints once it is up). */
  readonly ready: RegExpExecArray;
  readonly running: boolean;
  /** The last 20 kB of stderr (warn/error logs), for failure messages. */
  stderr(): string;
  /** Sends `signal` and waits for the exit (SIGKILL: no handlers run, nothing is closed). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful stop), SIGKILL after `graceMs`; resolves with the exit code (null if it had to be killed). */
  stop(graceMs?: number): Promise<number | null>;
  /** SIGSTOP: frozen with its sockets open (nothing it holds is answered), until `resume`. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
}

const live = new Set<ChildProcessByStdio<null, Readable, Readable>>();
let exitHookInstalled = false;

/** Runs a storeedge command to completion (e.g. `hq keygen`) and resolves with its stdout; rejects with its stderr on a non-zero exit. */
export function runStoreedge(args: string[]): Promise<string> {
  return new Promise((resolveRun, reject) => {
    execFile(process.execPath, [bin, ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`storeedge ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolveRun(stdout);
    });
  });
}

/**
 * Starts `storeedge …args` and resolves once stdout matches `ready`; rejects (and kills it) if it
 * exits first or does not get there within `timeoutMs`.
 */
export function startStoreedge(args: string[], ready: RegExp, timeoutMs = 30_000): Promise<StoreedgeProcess> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // If the test process dies without cleaning up, no child may outlive it.
    process.on('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const child = spawn(process.execPath, [bin, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolveExit({ code, signal });
    }),
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const describe = () => `storeedge ${args.join(' ')}\nstdout: ${stdout.slice(-2_000)}\nstderr: ${stderr.slice(-4_000)}`;

  return new Promise<StoreedgeProcess>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not start within ${timeoutMs} ms: ${describe()}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited before it was up (code ${code}, signal ${signal}): ${describe()}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout.on('data', (chunk: string) => {
      stdout = (stdout + chunk).slice(-20_000);
      const match = ready.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stdout.resume();
      resolveStart({
        pid: child.pid!,
        ready: match,
        get running() {
          return !gone();
        },
        stderr: () => stderr,
        async kill(signal = 'SIGKILL') {
          if (!gone()) {
            child.kill('SIGCONT'); // a paused process must be able to die of SIGTERM
            child.kill(signal);
          }
          await exited;
        },
        async stop(graceMs = 15_000) {
          if (gone()) return child.exitCode;
          child.kill('SIGCONT');
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const { code } = await exited;
          clearTimeout(killer);
          return code;
        },
        pause: () => void child.kill('SIGSTOP'),
        resume: () => void child.kill('SIGCONT'),
      });
    });
  });
}

/** SIGKILLs every storeedge child still running and waits for them (afterEach: a failed test leaves none behind). */
export async function killAllStoreedgeProcesses(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolveExit) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolveExit();
          child.once('exit', () => resolveExit());
          child.kill('SIGCONT');
          child.kill('SIGKILL');
        }),
    ),
  );
}
