/** The reference HQ (docs/sync.md "Reference HQ"): `storeedge hq …` runs `runHqCommand`. */
export { runHqCommand } from './cli.ts';
export {
  configuredStores,
  HQ_BROKER_USER,
  hqConfigSchema,
  loadHqConfig,
  loadHqConfigFile,
  type HqConfig,
  type HqConfigInput,
  type ResolvedHqConfig,
} from './config.ts';
export {
  filterWithin,
  HqBroker,
  syncAclAllows,
  type HqBrokerAddresses,
  type HqBrokerCounters,
  type HqBrokerSettings,
  type HqBrokerStatus,
} from './embedded-broker.ts';
export { HqError, hqErrorCodes, type HqErrorCode } from './hq-errors.ts';
export { startHq, upstreamConnection, type RunningHq } from './hq-runtime.ts';
export {
  HqService,
  type BatchIngested,
  type HqCounters,
  type HqServiceEvents,
  type HqServiceOptions,
  type HqServiceStatus,
  type PublishDocumentInput,
  type PublishedDocument,
  type UpstreamConnection,
} from './hq-service.ts';
export {
  DOCUMENT_APPLIED_TYPE,
  DOCUMENT_REFUSED_TYPE,
  HqStore,
  type CheckpointFork,
  type DocumentOutcome,
  type EpochState,
  type HeldRecord,
  type HqStoreOptions,
  type IngestResult,
  type RecordQuery,
  type RejectEntry,
  type StoreDocument,
  type StoredDocument,
  type StoreGap,
  type StoreSummary,
} from './hq-store.ts';
export { createHqHttpServer, storeView, type StoreView } from './http.ts';
export { adminTokenSha256, newAdminToken } from './admin-token.ts';
export { loadSigningKey, writeNewSigningKey } from './signing-key.ts';
export { newStoreCredentials, storePasswordSha256 } from './store-credentials.ts';
export { storeConnected } from './store-status.ts';
