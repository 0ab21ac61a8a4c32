import type { DocumentKind, SyncErrorCode, TrustedKey } from '@storeedge/sync';

/**
 * The sync ledger events (stream "sync"; docs/sync.md). Document outcomes go to HQ through the
 * outbox, in the same transaction as the document's effects, so HQ hears of each exactly once;
 * key changes stay in the store (HQ knows what it signed).
 */
export const syncStream = 'sync';

export const syncEventTypes = {
  documentApplied: 'sync.document.applied',
  documentRefused: 'sync.document.refused',
  keysChanged: 'sync.keys.changed',
  planogramScheduled: 'sync.planogram.scheduled',
  modelReleased: 'sync.model.released',
} as const;

/** A document took effect (its effects are in the same transaction). */
export interface DocumentApplied {
  docId: string;
  kind: DocumentKind;
  version: number;
  bodySha256: string;
  /** Key that signed it. */
  keyId: string;
  issuedAt: number;
  /** When its effects start (prices: the earliest entry), store clock. */
  effectiveFrom: number;
  /** What changed, e.g. `{ prices: 120 }`. */
  summary: Record<string, number>;
  /** Set when the document's issuedAt was further ahead of the store clock than sync.maxSkewMs (flagged, not adopted). */
  clockSkewMs?: number;
}

/** A document was refused; nothing of it was applied. Header fields are absent when the message had none readable. */
export interface DocumentRefused {
  docId: string;
  kind?: DocumentKind;
  version?: number;
  bodySha256?: string;
  code: SyncErrorCode;
  reason: string;
}

/** A `keys` document changed the trusted key ring (rebuilt from these at start). */
export interface KeysChanged {
  docId: string;
  version: number;
  add: TrustedKey[];
  revoke: string[];
}

/** A planogram document whose effective time was still ahead: the store model to apply then (docs/sync.md "Planograms"). */
export interface PlanogramScheduled {
  docId: string;
  version: number;
  effectiveFrom: number;
  /** The store model, as validated on arrival. */
  model: unknown;
}

/** A model-release document: the files written under the data directory, verified (docs/sync.md "Model releases"). */
export interface ModelReleased {
  docId: string;
  version: number;
  name: string;
  modelVersion: string;
  sha256: string;
  /** The manifest written, relative to the agent's data directory. */
  manifestPath: string;
}
