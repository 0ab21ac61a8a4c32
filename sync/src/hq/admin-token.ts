import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The admin token of HQ's HTTP API. The config holds only its sha256, so a leaked config file
 * does not let anyone publish prices; the operator keeps the token itself.
 */

/** A new random token (256 bits, base64url) and the sha256 to put in `http.adminTokenSha256`. */
export function newAdminToken(): { token: string; sha256: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, sha256: adminTokenSha256(token) };
}

export function adminTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * True when `authorization` is `Bearer <token>` and the token's sha256 is `expectedSha256`.
 * Compares hashes in constant time; false when no hash is configured.
 */
export function bearerMatches(authorization: string | undefined, expectedSha256: string | undefined): boolean {
  if (!expectedSha256 || !authorization) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return false;
  const actual = Buffer.from(adminTokenSha256(match[1]!), 'hex');
  const expected = Buffer.from(expectedSha256, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
