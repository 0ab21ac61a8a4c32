import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DOCUMENT_KINDS, type DocumentKind } from '../documents.ts';
import { SyncError } from '../errors.ts';
import { newAdminToken } from './admin-token.ts';
import { configuredStores, HQ_BROKER_USER, loadHqConfigFile, type ResolvedHqConfig } from './config.ts';
import { HqError } from './hq-errors.ts';
import { startHq } from './hq-runtime.ts';
import { HqStore } from './hq-store.ts';
import { storeView, type StoreView } from './http.ts';
import { writeNewSigningKey } from './signing-key.ts';
import { newStoreCredentials } from './store-credentials.ts';
import { isValidStoreId } from '../topics.ts';

/**
 * `storeedge hq …`: run the reference HQ and operate it. `runHqCommand(argv)` takes the
 * arguments after `hq` and returns the exit code (0 ok, 1 failed, 2 wrong usage).
 */

const usage = `storeedge hq — the reference HQ (docs/sync.md)

usage:
  storeedge hq serve --config FILE           run HQ (broker client, database, HTTP API) until SIGINT/SIGTERM
  storeedge hq keygen --out FILE [--key-id ID]
                                             write a new Ed25519 signing key (mode 0600); prints { keyId, publicKey }
                                             for the stores' sync.trustedKeys
  storeedge hq token                         print a new admin token and the sha256 for http.adminTokenSha256
  storeedge hq store-credentials ID [--out FILE]
                                             a new random broker password for store ID (its sync.upstream.password,
                                             or written to FILE, mode 0600, for sync.upstream.passwordFile) and the
                                             { id, passwordSha256 } entry for HQ's broker.stores
  storeedge hq publish prices --config FILE (--store ID … | --all) --sku SKU --price MINOR [--sku … --price …]
                                             [--currency EUR] [--effective ISO] [--expires ISO]
  storeedge hq publish planogram --config FILE (--store ID … | --all) --model FILE [--effective ISO]
                                             the store model from FILE (a store model, or an agent config's store.model)
  storeedge hq publish model-release --config FILE (--store ID … | --all) --manifest FILE
                                             the model FILE names (manifest.json and the .onnx beside it)
  storeedge hq publish KIND --config FILE (--store ID … | --all) --body FILE [--effective ISO] [--expires ISO]
                                             sign and send a document through the running HQ's API; the admin
                                             token comes from $STOREEDGE_HQ_TOKEN (or --token, visible to ps)
  storeedge hq status --config FILE [--json] per-store sync status, read from HQ's database`;

type Subcommand = (args: string[]) => Promise<number>;

const subcommands: Record<string, Subcommand> = {
  serve: serveCommand,
  keygen: keygenCommand,
  token: tokenCommand,
  'store-credentials': storeCredentialsCommand,
  publish: publishCommand,
  status: statusCommand,
};

export async function runHqCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(`${usage}\n`);
    return name ? 0 : 2;
  }
  const subcommand = subcommands[name];
  if (!subcommand) {
    process.stderr.write(`storeedge hq: unknown command "${name}"\n\n${usage}\n`);
    return 2;
  }
  try {
    return await subcommand(rest);
  } catch (error) {
    if (error instanceof HqError || error instanceof SyncError) {
      process.stderr.write(`storeedge hq ${name}: ${error.code}: ${error.message}\n`);
      return error.code === 'SYNC_ERR_HQ_CLI_USAGE' ? 2 : 1;
    }
    process.stderr.write(`storeedge hq ${name}: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

async function serveCommand(args: string[]): Promise<number> {
  const help = 'storeedge hq serve --config FILE';
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' } }, help);
  const config = loadHqConfigFile(requireOption(values.config, '--config FILE', help));
  // Listen before announcing: a supervisor may signal as soon as it reads the line below (and a
  // signal during start-up stops HQ once it is up, instead of killing it half-started).
  const stopSignal = untilSignal();
  const hq = await startHq(config);
  const upstream = hq.broker ? `embedded broker ${Object.values(hq.broker.addresses).join(' ')}` : `upstream ${config.upstream?.url}`;
  process.stdout.write(`storeedge hq: API ${hq.httpUrl}  ${upstream}  signing key ${hq.service.signingKey.keyId} (${hq.service.signingKey.publicKey})\n`);
  const signal = await stopSignal;
  hq.logger.info({ signal }, 'shutting down');
  await hq.stop();
  return 0;
}

async function keygenCommand(args: string[]): Promise<number> {
  const help = 'storeedge hq keygen --out FILE [--key-id ID]';
  const { values } = parseCommandArgs(args, { out: { type: 'string', short: 'o' }, 'key-id': { type: 'string' } }, help);
  const out = requireOption(values.out, '--out FILE', help);
  const key = writeNewSigningKey(out, values['key-id'] ?? 'hq-1');
  process.stdout.write(`${JSON.stringify(key)}\n`);
  process.stderr.write(
    `wrote ${out} (mode 0600). Put { "keyId": "${key.keyId}", "file": "${out}" } in HQ's signingKey, and the line above in every store's sync.trustedKeys.\n`,
  );
  return 0;
}

async function tokenCommand(args: string[]): Promise<number> {
  parseCommandArgs(args, {}, 'storeedge hq token');
  const token = newAdminToken();
  process.stdout.write(`${JSON.stringify(token)}\n`);
  process.stderr.write('keep the token (STOREEDGE_HQ_TOKEN for `hq publish`); put only the sha256 in HQ\'s http.adminTokenSha256.\n');
  return 0;
}

async function storeCredentialsCommand(args: string[]): Promise<number> {
  const help = 'storeedge hq store-credentials ID [--out FILE]';
  const { values, positionals } = parseCommandArgs(args, { out: { type: 'string', short: 'o' } }, help);
  const [id, ...extra] = positionals;
  if (!id || extra.length > 0) throw usageError('name one store id', help);
  if (!isValidStoreId(id)) throw usageError(`${JSON.stringify(id)} is not a store id (1–64 of A–Z a–z 0–9 _ -)`, help);
  if (id === HQ_BROKER_USER) throw usageError(`"${HQ_BROKER_USER}" is HQ's own user on the broker; give the store another id`, help);
  const credentials = newStoreCredentials(id);
  const entry = { id, passwordSha256: credentials.passwordSha256 };
  if (values.out !== undefined) {
    mkdirSync(dirname(values.out), { recursive: true });
    try {
      writeFileSync(values.out, `${credentials.password}\n`, { mode: 0o600, flag: 'wx' });
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') throw usageError(`${values.out} already exists; choose another --out`, help);
      throw cause;
    }
    process.stdout.write(`${JSON.stringify(entry)}\n`);
    process.stderr.write(
      `wrote the password to ${values.out} (mode 0600): the store's sync.upstream.passwordFile. Add the line above to HQ's broker.stores (and restart HQ).\n`,
    );
    return 0;
  }
  process.stdout.write(`${JSON.stringify(credentials)}\n`);
  process.stderr.write(
    `give the store its password (sync.upstream.password, or better a file for sync.upstream.passwordFile); put only ${JSON.stringify(entry)} in HQ's broker.stores (and restart HQ). The embedded broker speaks MQTT 3.1.1: the store also needs sync.upstream.protocolVersion 4.\n`,
  );
  return 0;
}

async function publishCommand(args: string[]): Promise<number> {
  const help = usage
    .split('\n')
    .filter((line) => line.includes('publish') || line.startsWith('                                             '))
    .join('\n');
  const { values, positionals } = parseCommandArgs(
    args,
    {
      config: { type: 'string', short: 'c' },
      store: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      sku: { type: 'string', multiple: true },
      price: { type: 'string', multiple: true },
      currency: { type: 'string' },
      body: { type: 'string' },
      model: { type: 'string' },
      manifest: { type: 'string' },
      effective: { type: 'string' },
      expires: { type: 'string' },
      token: { type: 'string' },
      url: { type: 'string' },
    },
    help,
  );
  const [kindArg, ...extra] = positionals;
  if (!kindArg || extra.length > 0 || !(DOCUMENT_KINDS as readonly string[]).includes(kindArg)) {
    throw usageError(`name one document kind (${DOCUMENT_KINDS.join(', ')})`, help);
  }
  const kind = kindArg as DocumentKind;
  const config = loadHqConfigFile(requireOption(values.config, '--config FILE', help));
  if (values.all === (values.store !== undefined)) throw usageError('give --store ID (repeatable) or --all', help);
  const token = values.token ?? process.env.STOREEDGE_HQ_TOKEN;
  if (!token) throw usageError('no admin token: set STOREEDGE_HQ_TOKEN (or --token)', help);

  let body: unknown;
  const sources = [values.body, values.model, values.manifest, values.sku ?? values.price].filter((v) => v !== undefined);
  if (sources.length > 1) throw usageError('give one of --body FILE, --model FILE, --manifest FILE or --sku/--price', help);
  if (values.model !== undefined && kind !== 'planogram') throw usageError('--model FILE is for planogram documents', help);
  if (values.manifest !== undefined && kind !== 'model-release') throw usageError('--manifest FILE is for model-release documents', help);
  if (values.body !== undefined) {
    body = readJsonFile(values.body);
  } else if (values.model !== undefined) {
    const file = readJsonFile(values.model) as { store?: { model?: unknown } };
    body = { model: file.store?.model ?? file };
  } else if (values.manifest !== undefined) {
    const manifest = readJsonFile(values.manifest) as { file?: unknown };
    if (typeof manifest.file !== 'string') throw usageError(`${values.manifest}: the manifest names no model file`, help);
    let model: Buffer;
    try {
      model = readFileSync(join(dirname(values.manifest), manifest.file));
    } catch (cause) {
      throw usageError(`cannot read the model ${manifest.file} next to ${values.manifest}: ${(cause as Error).message}`, help);
    }
    body = { manifest, modelBase64: model.toString('base64') };
  } else if (kind === 'prices') {
    body = { prices: priceEntries(values.sku ?? [], values.price ?? [], values.currency, help) };
  } else {
    throw usageError(`a ${kind} document needs --body FILE`, help);
  }

  const request = {
    kind,
    stores: values.all ? ['*'] : values.store,
    body,
    ...(values.effective !== undefined ? { effectiveFrom: isoInstant(values.effective, '--effective', help) } : {}),
    ...(values.expires !== undefined ? { expiresAt: isoInstant(values.expires, '--expires', help) } : {}),
  };
  const url = `${values.url ?? apiBaseUrl(config)}/api/documents`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(request),
    });
  } catch (cause) {
    throw new HqError('SYNC_ERR_HQ_UNREACHABLE', `cannot reach HQ at ${url}: ${(cause as Error).message}; is \`storeedge hq serve\` running?`);
  }
  const text = await response.text();
  if (!response.ok) {
    const error = safeJson(text) as { error?: { code?: string; message?: string } } | undefined;
    process.stderr.write(`storeedge hq publish: HQ answered ${response.status}: ${error?.error?.code ?? ''} ${error?.error?.message ?? text}\n`);
    return 1;
  }
  process.stdout.write(`${text}\n`);
  return 0;
}

async function statusCommand(args: string[]): Promise<number> {
  const help = 'storeedge hq status --config FILE [--json]';
  const { values } = parseCommandArgs(args, { config: { type: 'string', short: 'c' }, json: { type: 'boolean' } }, help);
  const config = loadHqConfigFile(requireOption(values.config, '--config FILE', help));
  let store: HqStore;
  try {
    store = HqStore.open(config.databaseFile, { readonly: true });
  } catch (cause) {
    if (cause instanceof HqError) throw cause;
    throw new HqError('SYNC_ERR_HQ_CONFIG_INVALID', `cannot open HQ's database ${config.databaseFile}: ${(cause as Error).message}; has \`storeedge hq serve\` run?`);
  }
  try {
    const configured = new Set(configuredStores(config));
    const ids = [...new Set([...configured, ...store.storeIds()])].sort();
    const views = ids.map((id) => storeView(store, id, configured.has(id)));
    process.stdout.write(values.json ? `${JSON.stringify({ stores: views }, null, 2)}\n` : statusTable(views));
  } finally {
    store.close();
  }
  return 0;
}

// ---- helpers -----------------------------------------------------------------------------------

function statusTable(views: StoreView[]): string {
  const when = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const rows = views.map((v) => {
    const pending = v.documents.filter((d) => d.outcome === null).length;
    const refused = v.documents.filter((d) => d.outcome?.outcome === 'refused').length + v.foreignDocuments.filter((o) => o.outcome === 'refused').length;
    return [
      v.id,
      v.connected === null ? (v.seen ? '?' : 'never seen') : v.connected ? 'online' : 'offline',
      when(v.lastBatchAt),
      String(v.held),
      v.epochs.map((e) => `${e.epoch.slice(0, 8)}:${e.watermark}/${e.maxSeq}`).join(' ') || '-',
      String(v.missingSeqs),
      String(v.counters.recordsDuplicate),
      String(v.counters.recordsRejected),
      v.forks === 0 ? '0' : `${v.forks} LEDGER REWRITTEN`,
      `${pending} pending, ${refused} refused`,
    ];
  });
  const header = ['store', 'status', 'last batch', 'held', 'epoch:watermark/max', 'missing', 'dups', 'rejected', 'forks', 'last documents'];
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  return `${table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')}\n`;
}

function priceEntries(skus: string[], prices: string[], currency: string | undefined, help: string) {
  if (skus.length === 0 || skus.length !== prices.length) throw usageError('give --sku SKU --price MINOR pairs (the same number of each)', help);
  if (currency !== undefined && !/^[A-Z]{3}$/.test(currency)) throw usageError('--currency must be an ISO 4217 code such as EUR', help);
  return skus.map((sku, i) => {
    const text = prices[i]!;
    if (!/^\d+$/.test(text)) throw usageError(`--price ${text}: a price in minor units (cents), a whole number`, help);
    return { sku, priceMinor: Number(text), ...(currency !== undefined ? { currency } : {}) };
  });
}

function isoInstant(text: string, flag: string, help: string): number {
  const ms = Date.parse(text);
  if (!/(Z|[+-]\d{2}:\d{2})$/.test(text) || Number.isNaN(ms)) throw usageError(`${flag} ${text}: an ISO-8601 time with a zone, e.g. 2026-03-01T06:00:00+01:00`, help);
  return ms;
}

/** Where the running HQ listens, as seen from this machine. */
function apiBaseUrl(config: Readonly<ResolvedHqConfig>): string {
  const host = config.http.host === '0.0.0.0' ? '127.0.0.1' : config.http.host === '::' ? '[::1]' : config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host;
  return `http://${host}:${config.http.port}`;
}

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new HqError('SYNC_ERR_HQ_CLI_USAGE', `cannot read ${file}: ${(cause as Error).message}`);
  }
  const value = safeJson(text);
  if (value === undefined) throw new HqError('SYNC_ERR_HQ_CLI_USAGE', `${file} is not JSON`);
  return value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseCommandArgs<T extends ParseArgsConfig['options']>(args: string[], options: T, help: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw usageError((cause as Error).message, help);
  }
}

function requireOption(value: string | undefined, what: string, help: string): string {
  if (!value) throw usageError(`${what} is required`, help);
  return value;
}

function usageError(message: string, help: string): HqError {
  return new HqError('SYNC_ERR_HQ_CLI_USAGE', `${message}\nusage: ${help}`);
}

/** Resolves when SIGINT or SIGTERM arrives. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
