import { createHash, randomBytes } from 'node:crypto';

/**
 * A store's password on HQ's embedded broker: 256 random bits (base64url), of which HQ's config
 * keeps only the sha256 (`broker.stores[].passwordSha256`), as with the admin token. A plain hash
 * is enough because the password is random; a person-chosen one would need a slow hash.
 */
export function newStoreCredentials(storeId: string): { id: string; password: string; passwordSha256: string } {
  const password = randomBytes(32).toString('base64url');
  return { id: storeId, password, passwordSha256: storePasswordSha256(password) };
}

export function storePasswordSha256(password: string): string {
  return createHash('sha256').update(password, 'utf8').digest('hex');
}
