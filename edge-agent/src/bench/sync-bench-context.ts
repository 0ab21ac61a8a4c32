import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { SigningKey } from '@storeedge/sync';
import type { HqThread } from './sync-hq-thread.ts';
import type { SyncUpstream } from './sync-upstream.ts';

/** What every part of `storeedge bench sync` runs against: one Mosquitto, one HQ thread, one signing key. */
export interface SyncBenchContext {
  hq: HqThread;
  upstream: SyncUpstream;
  signingKey: SigningKey;
  /** The store of parts 1–3. */
  storeId: string;
  /** Temp folder of the invocation; each run gets a fresh folder in it (ledger and HQ files). */
  workDir: string;
  progress: (line: string) => void;
  signal?: AbortSignal;
}

export function password(ctx: SyncBenchContext, user: string): string {
  const pw = ctx.upstream.passwords.get(user);
  if (pw === undefined) throw new Error(`no broker user ${user}`);
  return pw;
}

/** A fresh folder for one run. */
export function runDir(ctx: SyncBenchContext, name: string): string {
  return mkdtempSync(join(ctx.workDir, `${name}-`));
}

/** Rejects when `promise` has not settled within `ms`, naming what did not happen. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${Math.round(ms / 1000)} s`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

/** Absolute high-resolution time (ms), comparable across threads. */
export const absoluteNow = (): number => performance.timeOrigin + performance.now();
