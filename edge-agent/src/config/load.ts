import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { errors } from '../errors.ts';
import { configSchema, type Config } from './schema.ts';

export type { Config, ConfigInput } from './schema.ts';

export interface ResolvedConfig extends Config {
  /** Absolute ledger file path (dataDir and ledger.file resolved). */
  readonly ledgerFile: string;
}

/**
 * Validates a raw config once, fills defaults, resolves paths against baseDir and returns a
 * deep-frozen object. Errors list every problem with the path of the field to fix.
 */
export function loadConfig(raw: unknown, baseDir: string = process.cwd()): Readonly<ResolvedConfig> {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw errors.EDGE_ERR_CONFIG_INVALID(`configuration is invalid; fix these fields:\n${problems.join('\n')}`, {
      details: parsed.error.issues,
    });
  }
  const config = parsed.data;
  const abs = (p: string) => (isAbsolute(p) || p === ':memory:' ? p : resolve(baseDir, p));
  const dataDir = abs(config.dataDir);
  const resolved: ResolvedConfig = {
    ...config,
    dataDir,
    ledgerFile: config.ledger.file ? abs(config.ledger.file) : resolve(dataDir, 'ledger.db'),
    vision: { ...config.vision, ...(config.vision.manifest ? { manifest: abs(config.vision.manifest) } : {}) },
    broker: {
      ...config.broker,
      tls: config.broker.tls && { ...config.broker.tls, certFile: abs(config.broker.tls.certFile), keyFile: abs(config.broker.tls.keyFile) },
      external: config.broker.external && {
        ...config.broker.external,
        passwordFile: abs(config.broker.external.passwordFile),
        ...(config.broker.external.caFile ? { caFile: abs(config.broker.external.caFile) } : {}),
      },
    },
    ...(config.sync ? { sync: { ...config.sync, upstream: resolveFiles(config.sync.upstream, abs, ['passwordFile', 'caFile', 'certFile', 'keyFile']) } } : {}),
  };
  return deepFreeze(resolved);
}

/** Reads a JSON config file and validates it; paths in it are relative to the file. */
export function loadConfigFile(file: string): Readonly<ResolvedConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw errors.EDGE_ERR_CONFIG_UNREADABLE(`cannot read config file ${file}: ${(cause as Error).message}`, { cause });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw errors.EDGE_ERR_CONFIG_INVALID(`config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  return loadConfig(raw, dirname(resolve(file)));
}

/** `value` with the named optional path fields resolved by `abs`. */
function resolveFiles<T extends object>(value: T, abs: (p: string) => string, fields: ReadonlyArray<keyof T>): T {
  const out = { ...value };
  for (const field of fields) {
    const path = out[field];
    if (typeof path === 'string') (out as Record<keyof T, unknown>)[field] = abs(path);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
