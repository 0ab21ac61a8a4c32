import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Structured logs: one JSON event per line on stderr (stdout stays for command output). */
export function createHqLogger(level: LevelWithSilent = 'info'): Logger {
  return pino({ name: 'storeedge-hq', level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
