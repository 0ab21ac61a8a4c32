/**
 * Upstream-broker topics (docs/sync.md "Topics"). Each store owns the subtree
 * `storeedge/v1/{storeId}/`; the broker ACL confines a store to it, so a store id must be one
 * topic level: no `/`, and none of MQTT's wildcards `+` and `#` [MQTT-4.7.1].
 */

export const SYNC_TOPIC_ROOT = 'storeedge/v1';

/** Store ids: 1–64 letters, digits, `_` and `-`. */
export const storeIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** The topics of one store, by what travels on them. */
export interface SyncTopics {
  /** store → HQ: uplink batches. */
  batch: string;
  /** store → HQ, retained: the store's sync status (last will: offline). */
  status: string;
  /** HQ → store: uplink acks. */
  ack: string;
  /** HQ → store: document chunks. */
  doc: string;
}

/** What each direction carries; anything else under a store's subtree is not a sync topic. */
const topicKinds = { up: ['batch', 'status'], down: ['ack', 'doc'] } as const;

/** What HQ subscribes to: every store's uplink. */
export const HQ_SUBSCRIPTIONS = [`${SYNC_TOPIC_ROOT}/+/up/batch`, `${SYNC_TOPIC_ROOT}/+/up/status`] as const;

export function isValidStoreId(id: unknown): id is string {
  return typeof id === 'string' && storeIdPattern.test(id);
}

/** The four topics of `storeId`; throws TypeError for an id that is not a valid store id. */
export function syncTopics(storeId: string): SyncTopics {
  if (!isValidStoreId(storeId)) throw new TypeError(`not a valid store id: ${JSON.stringify(storeId)} (1–64 of A–Z a–z 0–9 _ -)`);
  const base = `${SYNC_TOPIC_ROOT}/${storeId}`;
  return { batch: `${base}/up/batch`, status: `${base}/up/status`, ack: `${base}/down/ack`, doc: `${base}/down/doc` };
}

/** The parts of a sync topic, or undefined for any other topic. */
export function parseSyncTopic(topic: string): { storeId: string; direction: 'up' | 'down'; kind: string } | undefined {
  const levels = topic.split('/');
  if (levels.length !== 5 || `${levels[0]}/${levels[1]}` !== SYNC_TOPIC_ROOT) return undefined;
  const [, , storeId, direction, kind] = levels as [string, string, string, string, string];
  if (!isValidStoreId(storeId)) return undefined;
  if (direction !== 'up' && direction !== 'down') return undefined;
  if (!(topicKinds[direction] as readonly string[]).includes(kind)) return undefined;
  return { storeId, direction, kind };
}
