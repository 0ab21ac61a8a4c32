import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../../..');
const childScript = 'edge-agent/test/checkout/durability/agent-child.ts';

/** A running agent child process and where it listens. */
export interface AgentProcess {
  api: string;
  mqttUrl: string;
  pid: number;
  /** Everything the child wrote on stderr (its warn/error logs), for failure messages. */
  stderr(): string;
  /** SIGKILL (kill -9: no handlers, no ledger close) and wait until the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful stop) and wait; SIGKILL after `graceMs`. Resolves with the exit code (null if killed). */
  stop(graceMs?: number): Promise<number | null>;
}

/**
 * Starts the agent on `configFile` as a child process (node --import tsx, as the ledger's kill -9
 * test does) and resolves once it printed its addresses. Ports are whatever the config says
 * (0: the OS picks, read back from the line).
 */
export function startAgentProcess(configFile: string, timeoutMs = 20_000): Promise<AgentProcess> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, ['--import', 'tsx', childScript, configFile], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  return new Promise<AgentProcess>((resolveStart, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not start within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`agent exited before it started (code ${code}, signal ${signal})\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const line = /API (http:\/\/\S+)\s+broker (\{.*\})\n/.exec(stdout);
      if (!line) return;
      clearTimeout(timer);
      const addresses = JSON.parse(line[2]!) as { mqtt?: string };
      if (!addresses.mqtt) return reject(new Error(`agent has no mqtt:// listener: ${line[0]}`));
      resolveStart({
        api: line[1]!,
        mqttUrl: addresses.mqtt,
        pid: child.pid!,
        stderr: () => stderr,
        async kill9() {
          if (!gone()) child.kill('SIGKILL');
          await exited;
        },
        async stop(graceMs = 10_000) {
          if (gone()) return child.exitCode;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          const { code } = await exited;
          clearTimeout(timer);
          return code;
        },
      });
    });
  });
}
