/**
 * The upstream broker for `storeedge bench sync`: a real Mosquitto started by the bench on a free
 * loopback port, configured as docs/sync.md describes a chain's broker — no anonymous clients,
 * one password per store (username = store id) plus HQ's, and the documented ACL, so every
 * message pays the broker's authorisation as it would in a pilot.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors } from '../errors.ts';
import { findMosquitto, MosquittoProcess } from './mosquitto.ts';

/** docs/sync.md "Topics": a store reads its own down/ and writes its own up/; HQ the other way round. */
export const SYNC_BENCH_ACL = `pattern read  storeedge/v1/%u/down/#
pattern write storeedge/v1/%u/up/#
user hq
topic read  storeedge/v1/+/up/#
topic write storeedge/v1/+/down/#
`;

/**
 * A Mosquitto 2 password-file line: `$7$` is PBKDF2-HMAC-SHA512 with 101 iterations, a 12-byte
 * salt and a 64-byte hash, base64 — what `mosquitto_passwd` writes (so the bench does not need it).
 */
export function mosquittoPasswordLine(username: string, password: string, salt: Buffer = randomBytes(12)): string {
  const hash = pbkdf2Sync(password, salt, 101, 64, 'sha512');
  return `${username}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * The broker's configuration: loopback, password file and ACL, no persistence (each run starts
 * clean), TCP_NODELAY on the broker's side, and no cap on a client's queue
 * (`max_queued_messages 0`): the default 1000 would let Mosquitto drop QoS 1 batches queued for
 * HQ when 200 stores burst at once, and the bench would measure the stores' 30 s re-send
 * timeout instead of HQ. Everything else is Mosquitto's default (max_inflight_messages 20).
 */
export function syncUpstreamConfig(port: number, files: { passwordFile: string; aclFile: string }): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous false',
    `password_file ${files.passwordFile}`,
    `acl_file ${files.aclFile}`,
    'persistence false',
    'set_tcp_nodelay true',
    'max_queued_messages 0',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n');
}

export interface SyncUpstream {
  readonly url: string;
  readonly version: string;
  readonly path: string;
  /** The generated mosquitto.conf (file paths included), for the JSON. */
  readonly config: string;
  /** user → password (HQ is `hq`). */
  readonly passwords: ReadonlyMap<string, string>;
  /** CPU seconds Mosquitto has used so far (NaN where /proc is missing). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * Starts Mosquitto with a user per store and `hq`. Throws EDGE_ERR_UPSTREAM_BROKER, saying how to
 * install it, when Mosquitto is missing: the sync bench measures through a real broker or not at all.
 */
export async function startSyncUpstream(storeIds: readonly string[], mosquittoPath?: string): Promise<SyncUpstream> {
  const lookup = findMosquitto(mosquittoPath);
  if (!lookup.found) throw errors.EDGE_ERR_UPSTREAM_BROKER(`storeedge bench sync measures through a real Mosquitto: ${lookup.reason}`);
  const dir = mkdtempSync(join(tmpdir(), 'storeedge-bench-sync-broker-'));
  const passwords = new Map<string, string>([['hq', randomBytes(12).toString('hex')], ...storeIds.map((id) => [id, randomBytes(12).toString('hex')] as [string, string])]);
  const passwordFile = join(dir, 'passwd');
  const aclFile = join(dir, 'acl');
  writeFileSync(passwordFile, [...passwords].map(([user, password]) => mosquittoPasswordLine(user, password)).join('\n') + '\n');
  writeFileSync(aclFile, SYNC_BENCH_ACL);
  // Started as root, Mosquitto drops to its own user before it reads these two files.
  chmodSync(dir, 0o711);
  chmodSync(passwordFile, 0o644);
  chmodSync(aclFile, 0o644);
  let config = '';
  let broker: MosquittoProcess;
  try {
    broker = await MosquittoProcess.start(lookup.path, lookup.version, 10_000, (port) => (config = syncUpstreamConfig(port, { passwordFile, aclFile })));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: broker.url,
    version: lookup.version,
    path: lookup.path,
    config,
    passwords,
    cpuSeconds: () => broker.cpuSeconds(),
    async stop() {
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
