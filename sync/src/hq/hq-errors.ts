/**
 * Error codes of the reference HQ's own operation (config, key, HTTP API, CLI). Wire-facing codes
 * (what a store and HQ tell each other) live in ../errors.ts; these never travel on MQTT.
 *
 * Each code with its HTTP status and the message an error gets when the caller gives none.
 */
const hqErrorCatalogue = {
  /** The HQ config file does not fit the schema; the message lists each field to fix. */
  SYNC_ERR_HQ_CONFIG_INVALID: [500, 'HQ configuration is invalid'],
  /** The HQ config file cannot be read. */
  SYNC_ERR_HQ_CONFIG_UNREADABLE: [500, 'HQ configuration file cannot be read'],
  /** The signing key file is missing, unreadable or not an Ed25519 private key; HQ does not start without one. */
  SYNC_ERR_HQ_KEY_MISSING: [500, 'HQ signing key is missing or not an Ed25519 private key'],
  /** `hq keygen` refuses to overwrite an existing key file. */
  SYNC_ERR_HQ_KEY_EXISTS: [500, 'key file already exists'],
  /** The HQ database was written by a newer storeedge. */
  SYNC_ERR_HQ_SCHEMA_TOO_NEW: [500, 'HQ database was written by a newer storeedge'],
  /** A read-only open (`hq status`) found a database that `hq serve` has not migrated yet. */
  SYNC_ERR_HQ_SCHEMA_OLD: [500, 'HQ database needs migrating'],
  /** A mutating API request without a valid `Authorization: Bearer` admin token. */
  SYNC_ERR_HQ_UNAUTHORIZED: [401, 'a valid admin token is required (Authorization: Bearer …)'],
  /** An API request whose parameters or body do not fit. */
  SYNC_ERR_HQ_BAD_REQUEST: [400, 'request is not valid'],
  /** A document addressed to a store HQ does not know (not configured, never seen). */
  SYNC_ERR_HQ_UNKNOWN_STORE: [400, 'store is not known to HQ'],
  /** No such route, store or document. */
  SYNC_ERR_HQ_NOT_FOUND: [404, 'not found'],
  /** A batch on one store's topic claims to come from another store: not ingested, not acked. */
  SYNC_ERR_HQ_STORE_MISMATCH: [403, 'batch store does not match its topic'],
  /** The CLI could not reach the running HQ's HTTP API. */
  SYNC_ERR_HQ_UNREACHABLE: [503, 'HQ HTTP API is not reachable'],
  /** Wrong CLI arguments. */
  SYNC_ERR_HQ_CLI_USAGE: [400, 'wrong arguments'],
  /** Anything unexpected (a bug); details are in the HQ log. */
  SYNC_ERR_HQ_INTERNAL: [500, 'internal error; see the HQ log'],
} as const satisfies Record<string, readonly [number, string]>;

export type HqErrorCode = keyof typeof hqErrorCatalogue;

/** Every HQ error code, for the docs cross-check. */
export const hqErrorCodes: readonly HqErrorCode[] = Object.freeze(Object.keys(hqErrorCatalogue) as HqErrorCode[]);

export class HqError extends Error {
  readonly code: HqErrorCode;
  readonly statusCode: number;
  readonly details?: unknown;

  constructor(code: HqErrorCode, message?: string, details?: unknown) {
    const [statusCode, defaultMessage] = hqErrorCatalogue[code];
    super(message ?? defaultMessage);
    this.name = 'HqError';
    this.code = code;
    this.statusCode = statusCode;
    if (details !== undefined) this.details = details;
  }
}
