/**
 * Reading a store's retained `up/status` message. docs/sync.md fixes only that it is the store's
 * sync status, retained, with an "offline" last will; this accepts the shapes that says: an object
 * with `online` / `connected` (boolean) or `state` / `status` ("online" | "offline"), or the bare
 * string "online" / "offline". Anything else — including the cleared (empty) message — is offline.
 */
export function storeConnected(status: unknown): boolean {
  if (status === 'online') return true;
  if (typeof status !== 'object' || status === null || Array.isArray(status)) return false;
  const s = status as Record<string, unknown>;
  if (typeof s.online === 'boolean') return s.online;
  if (typeof s.connected === 'boolean') return s.connected;
  return s.state === 'online' || s.status === 'online';
}
