/**
 * Canonical JSON, the one byte-exact serialisation the ledger hashes and stores, is the same
 * function the HQ wire contract signs and hashes with: sorted keys, no whitespace, and values
 * JSON would silently change refused (rules in sync/src/canonical.ts). One implementation, so a
 * ledger event's bytes and an uplink record's bytes can never drift apart.
 */
export { canonicalJson, sha256Hex } from '@storeedge/sync';
