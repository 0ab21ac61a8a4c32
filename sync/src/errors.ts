/**
 * The catalogue of sync error codes (SYNC_ERR_*), shared by the store and the reference HQ.
 * Codes travel on the wire (refused-document outcomes, rejected uplink records in an ack), so a
 * code, once published, keeps its meaning.
 *
 * Wire-facing checks never throw: they return `{ ok: false, code, reason }` (or an assembly
 * result with status 'refused'). `SyncError` is for callers that build messages from bad
 * input (HQ publishing a malformed document) and for code that prefers to throw.
 */
export class SyncError extends Error {
  readonly code: SyncErrorCode;
  readonly details?: unknown;
  constructor(code: SyncErrorCode, message: string, details?: unknown) {
    super(message);
    this.name = 'SyncError';
    this.code = code;
    if (details !== undefined) this.details = details;
  }
}

/** Each code with the message an error gets when the caller gives none. */
const defaultMessages = {
  /** A document chunk message is not well formed: not JSON, wrong shape, bad header, bad base64, chunk index or size inconsistent. */
  SYNC_ERR_DOC_MALFORMED: 'document message is malformed',
  /** A document is signed by a key id the store does not trust, or whose key was revoked. */
  SYNC_ERR_DOC_UNKNOWN_KEY: 'document signed by an unknown or revoked key',
  /** A document's signature does not verify over its canonical header, or its algorithm is not Ed25519. */
  SYNC_ERR_DOC_SIGNATURE: 'document signature is not valid',
  /** A document is addressed to other stores (this store is not in its `stores`). */
  SYNC_ERR_DOC_WRONG_STORE: 'document is not addressed to this store',
  /** A document's version is not above the last version of its kind this store applied (a rollback or replay). */
  SYNC_ERR_DOC_STALE: 'document version is not newer than the applied one',
  /** A reassembled document body does not match the header's `bodyBytes` or `bodySha256`. */
  SYNC_ERR_DOC_BODY_HASH: 'document body does not match its signed hash',
  /** A document body is not canonical JSON or does not fit its kind's schema. */
  SYNC_ERR_DOC_BODY_INVALID: 'document body is not valid for its kind',
  /** A document body is larger than the store accepts (`maxBodyBytes`). */
  SYNC_ERR_DOC_TOO_LARGE: 'document body is too large',
  /** A document kind this store does not apply. */
  SYNC_ERR_DOC_UNSUPPORTED_KIND: 'document kind is not supported',
  /** A `keys` document revokes the key that signed it (a key cannot revoke itself). */
  SYNC_ERR_DOC_KEY_SELF_REVOKE: 'a keys document may not revoke its own signing key',
  /** A document's `expiresAt` has passed; it is flagged and the last valid document of its kind stays in force. */
  SYNC_ERR_DOC_EXPIRED: 'document has expired',
  /** An uplink batch is not well formed (not JSON, wrong shape, records out of seq order). */
  SYNC_ERR_UPLINK_MALFORMED: 'uplink batch is malformed',
  /** An uplink record's `hash` is not the content hash of its fields (corruption). */
  SYNC_ERR_UPLINK_HASH: 'uplink record hash mismatch',
  /** An uplink record reuses a (store, key) or (store, epoch, seq) already held with a different hash; refused, the first kept. */
  SYNC_ERR_UPLINK_CONFLICT: 'uplink record conflicts with one already held',
  /** A store's checkpoint names a chain hash at a ledger seq other than the one HQ was sent before: history was rewritten (G9). */
  SYNC_ERR_CHECKPOINT_FORK: 'store ledger checkpoint contradicts an earlier one',
  /** An uplink ack from HQ is not well formed. */
  SYNC_ERR_ACK_MALFORMED: 'uplink ack is malformed',
  /** A remote time is further ahead of the local clock than `maxSkewMs`; flagged, not adopted. */
  SYNC_ERR_CLOCK_SKEW: 'remote clock is too far ahead',
} as const;

export type SyncErrorCode = keyof typeof defaultMessages;

/** Every SYNC_ERR_* code, for the docs cross-check and for validating codes read off the wire. */
export const syncErrorCodes: readonly SyncErrorCode[] = Object.freeze(Object.keys(defaultMessages) as SyncErrorCode[]);

/** True when `code` is one of this catalogue's codes. */
export function isSyncErrorCode(code: unknown): code is SyncErrorCode {
  return typeof code === 'string' && Object.hasOwn(defaultMessages, code);
}

/** A `SyncError` with `code`; the message defaults to the code's catalogue text. */
export function syncError(code: SyncErrorCode, message?: string, details?: unknown): SyncError {
  return new SyncError(code, message ?? defaultMessages[code], details);
}
