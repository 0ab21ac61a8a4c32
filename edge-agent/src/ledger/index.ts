export { Ledger, type LedgerOptions, type LedgerHead, type LedgerStats, type EventQuery, type PendingOutboxEntry, type OutboxBacklog, type ChainVerdict } from './ledger.ts';
export { canonicalJson, sha256Hex } from './canonical.ts';
export { GENESIS_HASH, eventHash } from './chain.ts';
export { LEDGER_SCHEMA_VERSION } from './schema.ts';
export type { AppendInput, AppendResult, Db, LedgerEvent, OutboxRow, Projection } from './types.ts';
