/**
 * The device-plane MQTT topic contract (docs/mqtt.md):
 *   storeedge/v1/{storeId}/dev/{deviceId}/state        retained online/offline + birth
 *   storeedge/v1/{storeId}/dev/{deviceId}/evt/{type}   device → agent
 *   storeedge/v1/{storeId}/dev/{deviceId}/cmd/{type}   agent → device
 *   storeedge/v1/{storeId}/out/{stream}                agent → integrations
 */
export const TOPIC_ROOT = 'storeedge/v1';

/** Device ids: lowercase letters, digits, '-', '_' and '.'; no MQTT wildcards or separators. */
export const deviceIdPattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Event and command types: dotted lowercase words, e.g. "weight", "tag.report". */
export const typePattern = /^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$/;

export const topics = {
  state: (storeId: string, deviceId: string) => `${TOPIC_ROOT}/${storeId}/dev/${deviceId}/state`,
  event: (storeId: string, deviceId: string, type: string) => `${TOPIC_ROOT}/${storeId}/dev/${deviceId}/evt/${type}`,
  command: (storeId: string, deviceId: string, type: string) => `${TOPIC_ROOT}/${storeId}/dev/${deviceId}/cmd/${type}`,
  out: (storeId: string, stream: string) => `${TOPIC_ROOT}/${storeId}/out/${stream}`,
  /** Filters the agent subscribes to in external-broker mode. */
  allDeviceEvents: (storeId: string) => `${TOPIC_ROOT}/${storeId}/dev/+/evt/#`,
  allDeviceStates: (storeId: string) => `${TOPIC_ROOT}/${storeId}/dev/+/state`,
} as const;

export type ParsedTopic =
  | { kind: 'state'; storeId: string; deviceId: string }
  | { kind: 'evt'; storeId: string; deviceId: string; type: string }
  | { kind: 'cmd'; storeId: string; deviceId: string; type: string }
  | { kind: 'out'; storeId: string; stream: string };

/** Parses a device-plane topic; null for anything outside the contract. */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts.length < 4 || parts[0] !== 'storeedge' || parts[1] !== 'v1') return null;
  const storeId = parts[2]!;
  if (parts[3] === 'out' && parts.length === 5 && typePattern.test(parts[4]!)) {
    return { kind: 'out', storeId, stream: parts[4]! };
  }
  if (parts[3] !== 'dev' || parts.length < 6) return null;
  const deviceId = parts[4]!;
  if (!deviceIdPattern.test(deviceId)) return null;
  if (parts[5] === 'state' && parts.length === 6) return { kind: 'state', storeId, deviceId };
  if ((parts[5] === 'evt' || parts[5] === 'cmd') && parts.length === 7 && typePattern.test(parts[6]!)) {
    return { kind: parts[5], storeId, deviceId, type: parts[6]! };
  }
  return null;
}
