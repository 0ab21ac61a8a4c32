import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Ed25519 keys and signatures for HQ documents (docs/sync.md "Keys", research/sync.md §4.1).
 * Only Ed25519 exists here: the algorithm is pinned by the code, never chosen by a message
 * (RFC 9864 replaces the polymorphic `EdDSA` name with `Ed25519`).
 *
 * Public keys travel as base64 of the raw 32-byte key (RFC 8032 §5.1.5), signatures as base64
 * of the raw 64 bytes; private keys stay PKCS#8 PEM, which node:crypto reads directly.
 */

/** A key HQ signs with. */
export interface SigningKey {
  keyId: string;
  privateKeyPem: string;
  /** base64 of the raw 32-byte public key. */
  publicKey: string;
}

/** A public key the store trusts, by id. */
export interface TrustedKey {
  keyId: string;
  /** base64 of the raw 32-byte public key. */
  publicKey: string;
}

const PUBLIC_KEY_BYTES = 32;
const SIGNATURE_BYTES = 64;
/** DER SubjectPublicKeyInfo prefix for an Ed25519 key (RFC 8410 §4): the raw 32 bytes follow. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict base64 decode: standard alphabet, padded, canonical (the bytes re-encode to the same
 * text). `Buffer.from(s, 'base64')` instead skips any character it does not know, so two
 * different strings would decode to the same bytes. Returns undefined for anything else.
 */
export function decodeBase64Strict(text: unknown): Buffer | undefined {
  if (typeof text !== 'string' || !BASE64_SHAPE.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** True when `publicKey` is base64 of exactly 32 bytes (the shape of an Ed25519 public key). */
export function isPublicKeyText(publicKey: unknown): publicKey is string {
  return decodeBase64Strict(publicKey)?.length === PUBLIC_KEY_BYTES;
}

/** A fresh Ed25519 key pair under `keyId`. */
export function generateSigningKey(keyId: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: rawPublicKey(publicKey).toString('base64'),
  };
}

/** The base64 raw public key of a PKCS#8 PEM Ed25519 private key; throws if it is not one. */
export function publicKeyOf(privateKeyPem: string): string {
  return rawPublicKey(createPublicKey(ed25519PrivateKey(privateKeyPem))).toString('base64');
}

/** The base64 Ed25519 signature of `data`; throws if the PEM is not an Ed25519 private key. */
export function signBytes(privateKeyPem: string, data: Uint8Array): string {
  // Ed25519 hashes internally: the digest argument must be null (RFC 8032 PureEdDSA).
  return sign(null, data, ed25519PrivateKey(privateKeyPem)).toString('base64');
}

/**
 * True only when `signature` is a valid Ed25519 signature of `data` under `publicKey`. Never
 * throws: bad base64, a key that is not 32 bytes or a signature that is not 64 bytes are false.
 */
export function verifyBytes(publicKey: string, data: Uint8Array, signature: string): boolean {
  const key = importPublicKey(publicKey);
  const sig = decodeBase64Strict(signature);
  if (key === undefined || sig?.length !== SIGNATURE_BYTES) return false;
  try {
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

/**
 * The keys a store trusts. A revoked key id stays revoked for the life of the ring, even if a
 * later `add` names it again (a rollback of the key set must not resurrect a revoked key); a
 * key id is bound to one public key: re-adding it with another key throws (rotate under a new id).
 */
export class KeyRing {
  readonly #keys = new Map<string, TrustedKey>();
  readonly #revoked = new Set<string>();

  constructor(keys: readonly TrustedKey[] = []) {
    for (const key of keys) this.add(key);
  }

  /** The trusted key with this id; undefined when unknown or revoked. */
  get(keyId: string): TrustedKey | undefined {
    if (this.#revoked.has(keyId)) return undefined;
    const key = this.#keys.get(keyId);
    return key === undefined ? undefined : { ...key };
  }

  /**
   * Trust `key`. Adding a revoked id is a no-op (it stays revoked); adding a known id with the
   * same public key is a no-op. Throws TypeError when the id is empty, the public key is not
   * base64 of 32 bytes, or the id is already bound to a different public key.
   */
  add(key: TrustedKey): void {
    if (typeof key.keyId !== 'string' || key.keyId.length === 0) throw new TypeError('KeyRing.add: keyId must be a non-empty string');
    if (!isPublicKeyText(key.publicKey)) throw new TypeError(`KeyRing.add: publicKey of ${key.keyId} is not base64 of a 32-byte Ed25519 key`);
    if (this.#revoked.has(key.keyId)) return;
    const known = this.#keys.get(key.keyId);
    if (known !== undefined && known.publicKey !== key.publicKey) {
      throw new TypeError(`KeyRing.add: key id ${key.keyId} is already bound to a different public key; use a new key id`);
    }
    this.#keys.set(key.keyId, { keyId: key.keyId, publicKey: key.publicKey });
  }

  /** Stop trusting `keyId`, for good (also when it is not known yet). */
  revoke(keyId: string): void {
    this.#revoked.add(keyId);
  }

  isRevoked(keyId: string): boolean {
    return this.#revoked.has(keyId);
  }

  /** The trusted, unrevoked keys, in the order they were added. */
  list(): TrustedKey[] {
    return [...this.#keys.values()].filter((key) => !this.#revoked.has(key.keyId)).map((key) => ({ ...key }));
  }

  /** Every revoked key id (to persist the ring). */
  revoked(): string[] {
    return [...this.#revoked];
  }
}

function ed25519PrivateKey(privateKeyPem: string): KeyObject {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'a non-asymmetric key'}`);
  return key;
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - PUBLIC_KEY_BYTES);
}

function importPublicKey(publicKey: string): KeyObject | undefined {
  const raw = decodeBase64Strict(publicKey);
  if (raw?.length !== PUBLIC_KEY_BYTES) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}
