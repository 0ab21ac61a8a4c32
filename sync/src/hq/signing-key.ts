import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generateSigningKey, publicKeyOf, type SigningKey } from '../keys.ts';
import { HqError } from './hq-errors.ts';

/**
 * HQ's document signing key on disk: a PKCS#8 PEM file, mode 0600, named in the config with the
 * key id the stores trust it under. There is no built-in default key — a key anybody could read
 * in the source would let anybody sign prices (G11).
 */

export interface LoadedSigningKey extends SigningKey {
  file: string;
  /** Set when the file is readable by group or others; HQ logs it as a warning. */
  looseMode?: string;
}

/** Reads and checks the key file; throws SYNC_ERR_HQ_KEY_MISSING when it is absent or not an Ed25519 private key. */
export function loadSigningKey(file: string, keyId: string): LoadedSigningKey {
  let privateKeyPem: string;
  try {
    privateKeyPem = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new HqError(
      'SYNC_ERR_HQ_KEY_MISSING',
      `cannot read the signing key ${file}: ${(cause as Error).message}; create one with \`storeedge hq keygen --out ${file}\``,
    );
  }
  let publicKey: string;
  try {
    publicKey = publicKeyOf(privateKeyPem);
  } catch (cause) {
    throw new HqError('SYNC_ERR_HQ_KEY_MISSING', `${file} is not an Ed25519 private key in PKCS#8 PEM: ${(cause as Error).message}`);
  }
  const mode = statSync(file).mode & 0o777;
  return { keyId, privateKeyPem, publicKey, file, ...(mode & 0o077 ? { looseMode: mode.toString(8).padStart(4, '0') } : {}) };
}

/**
 * Writes a new key to `file` (mode 0600, never over an existing file) and returns its public
 * half, for the stores' `sync.trustedKeys`.
 */
export function writeNewSigningKey(file: string, keyId: string): { keyId: string; publicKey: string } {
  const key = generateSigningKey(keyId);
  mkdirSync(dirname(file), { recursive: true });
  try {
    writeFileSync(file, key.privateKeyPem, { mode: 0o600, flag: 'wx' });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new HqError('SYNC_ERR_HQ_KEY_EXISTS', `${file} already exists; keygen never overwrites a key (stores may trust it). Choose another --out`);
    }
    throw cause;
  }
  return { keyId: key.keyId, publicKey: key.publicKey };
}
