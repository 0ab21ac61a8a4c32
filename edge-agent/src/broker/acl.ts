import { parseTopic, TOPIC_ROOT } from '@storeedge/device-drivers';

/**
 * Topic permissions of a device (docs/mqtt.md): it publishes only its own `state` and `evt/…`,
 * and subscribes only to its own `cmd/…`. Commands and `out/` streams are the agent's alone;
 * the agent publishes in-process, never through a client connection.
 */
export interface DeviceIdentity {
  storeId: string;
  deviceId: string;
}

export function devicePublishAllowed(identity: DeviceIdentity, topic: string) {
  const parsed = parseTopic(topic);
  if (!parsed || parsed.kind === 'out' || parsed.kind === 'cmd') return null;
  if (parsed.storeId !== identity.storeId || parsed.deviceId !== identity.deviceId) return null;
  return parsed;
}

/**
 * A subscription filter is allowed only when every topic it can match is one of the device's
 * own commands: `…/dev/{self}/cmd/#`, `…/cmd/+` or `…/cmd/{type}`.
 */
export function deviceSubscribeAllowed(identity: DeviceIdentity, filter: string): boolean {
  const prefix = `${TOPIC_ROOT}/${identity.storeId}/dev/${identity.deviceId}/cmd/`;
  if (!filter.startsWith(prefix)) return false;
  const rest = filter.slice(prefix.length);
  if (rest === '#' || rest === '+') return true;
  return parseTopic(filter)?.kind === 'cmd';
}
