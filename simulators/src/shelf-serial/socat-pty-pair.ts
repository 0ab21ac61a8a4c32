import { spawn } from 'node:child_process';
import { simulatorErrors } from '../errors.ts';

export interface PtyPair {
  /** The two pseudo-terminals; what is written to one is read from the other. */
  readonly paths: readonly [string, string];
  /** Stops socat (by its pid) and waits for it to exit. */
  close(): Promise<void>;
}

export interface PtyPairOptions {
  /** The socat executable. Default `socat` on PATH. */
  socat?: string;
  /** How long to wait for socat to report both ptys. Default 10 s. */
  timeoutMs?: number;
}

/**
 * A null-modem pair of pseudo-terminals, made by
 * `socat -d -d pty,raw,echo=0 pty,raw,echo=0`: socat names each pty on stderr
 * ("N PTY is /dev/pts/3") and then "starting data transfer loop". Put a simulated controller
 * on one path and the driver on the other. Rejects with SIM_ERR_CONNECT_FAILED when socat is
 * missing or does not report both ptys in time.
 */
export function openSocatPtyPair(options: PtyPairOptions = {}): Promise<PtyPair> {
  const socat = options.socat ?? 'socat';
  const child = spawn(socat, ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  return new Promise<PtyPair>((resolve, reject) => {
    const paths: string[] = [];
    let stderr = '';
    let settled = false;
    const fail = (message: string, cause?: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void close().then(() => reject(simulatorErrors.SIM_ERR_CONNECT_FAILED(`socat pty pair: ${message}`, { cause })));
    };
    const timer = setTimeout(() => fail(`no pty pair within ${options.timeoutMs ?? 10_000} ms; stderr: ${stderr.trim()}`), options.timeoutMs ?? 10_000);
    child.once('error', (error) => fail(`cannot run ${socat}: ${error.message}`, error));
    child.once('exit', (code) => fail(`socat exited (${code}) before the ptys were ready; stderr: ${stderr.trim()}`));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (settled) return;
      stderr += text;
      for (const match of stderr.matchAll(/PTY is (\S+)/g)) if (!paths.includes(match[1]!)) paths.push(match[1]!);
      if (paths.length >= 2 && stderr.includes('starting data transfer loop')) {
        settled = true;
        clearTimeout(timer);
        resolve({ paths: [paths[0]!, paths[1]!], close });
      }
    });
  });
}
