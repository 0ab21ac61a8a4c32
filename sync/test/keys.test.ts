import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64Strict, generateSigningKey, KeyRing, publicKeyOf, signBytes, verifyBytes } from '../src/keys.ts';

const data = Buffer.from('{"id":"doc-1"}');

describe('Ed25519 keys', () => {
  const key = generateSigningKey('hq-1');

  it('generates a PEM private key and a raw 32-byte public key', () => {
    expect(key.keyId).toBe('hq-1');
    expect(key.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(Buffer.from(key.publicKey, 'base64')).toHaveLength(32);
    expect(publicKeyOf(key.privateKeyPem)).toBe(key.publicKey);
  });

  it('signs and verifies; any change to data, signature or key fails', () => {
    const sig = signBytes(key.privateKeyPem, data);
    expect(Buffer.from(sig, 'base64')).toHaveLength(64);
    expect(verifyBytes(key.publicKey, data, sig)).toBe(true);

    const otherData = Buffer.from(data);
    otherData[2] = otherData[2]! ^ 1;
    expect(verifyBytes(key.publicKey, otherData, sig)).toBe(false);

    const flipped = Buffer.from(sig, 'base64');
    flipped[10] = flipped[10]! ^ 0x01;
    expect(verifyBytes(key.publicKey, data, flipped.toString('base64'))).toBe(false);

    expect(verifyBytes(generateSigningKey('hq-2').publicKey, data, sig)).toBe(false);
  });

  it.each([
    ['empty signature', 'pk', ''],
    ['signature not base64', 'pk', '!!!!'],
    ['signature too short', 'pk', Buffer.alloc(63).toString('base64')],
    ['signature too long', 'pk', Buffer.alloc(65).toString('base64')],
    ['public key not base64', '%%%', 'sig'],
    ['public key of 31 bytes', Buffer.alloc(31).toString('base64'), 'sig'],
    ['public key of 33 bytes', Buffer.alloc(33).toString('base64'), 'sig'],
    ['public key unpadded', 'key-unpadded', 'sig'],
  ])('verifyBytes is false, never a throw, for %s', (_name, publicKey, signature) => {
    const sig = signBytes(key.privateKeyPem, data);
    const pk = publicKey === 'pk' ? key.publicKey : publicKey === 'key-unpadded' ? key.publicKey.replace(/=+$/, '') : publicKey;
    const signatureText = signature === 'sig' ? sig : signature;
    expect(verifyBytes(pk, data, signatureText)).toBe(false);
  });

  it('rejects a signature with junk characters that lenient base64 would skip', () => {
    const sig = signBytes(key.privateKeyPem, data);
    expect(Buffer.from(`${sig.slice(0, 4)}*${sig.slice(4)}`, 'base64').toString('base64')).toBe(sig); // lenient decode ignores '*'
    expect(verifyBytes(key.publicKey, data, `${sig.slice(0, 4)}*${sig.slice(4)}`)).toBe(false);
  });

  it('refuses to sign with a key that is not Ed25519', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => signBytes(pem, data)).toThrow(/Ed25519/);
    expect(() => publicKeyOf(pem)).toThrow(/Ed25519/);
  });

  it('decodes base64 strictly', () => {
    expect(decodeBase64Strict('AAEC')).toEqual(Buffer.from([0, 1, 2]));
    expect(decodeBase64Strict('')).toEqual(Buffer.alloc(0));
    expect(decodeBase64Strict('AAE=')).toEqual(Buffer.from([0, 1]));
    for (const bad of ['AAE', 'AA E', 'AAF=', 'AA==AA==', '-_8=', 42, null]) expect(decodeBase64Strict(bad), String(bad)).toBeUndefined();
  });
});

describe('KeyRing', () => {
  const k1 = generateSigningKey('hq-1');
  const k2 = generateSigningKey('hq-2');
  const trusted = (key: { keyId: string; publicKey: string }) => ({ keyId: key.keyId, publicKey: key.publicKey });

  it('finds trusted keys and lists them', () => {
    const ring = new KeyRing([trusted(k1)]);
    expect(ring.get('hq-1')).toEqual(trusted(k1));
    expect(ring.get('hq-2')).toBeUndefined();
    ring.add(trusted(k2));
    expect(ring.list()).toEqual([trusted(k1), trusted(k2)]);
  });

  it('keeps a revoked key revoked, even when it is added again', () => {
    const ring = new KeyRing([trusted(k1), trusted(k2)]);
    ring.revoke('hq-1');
    expect(ring.get('hq-1')).toBeUndefined();
    expect(ring.isRevoked('hq-1')).toBe(true);
    ring.add(trusted(k1));
    expect(ring.get('hq-1')).toBeUndefined();
    expect(ring.list()).toEqual([trusted(k2)]);
    // Revoking ahead of time also holds.
    ring.revoke('hq-9');
    ring.add({ keyId: 'hq-9', publicKey: k1.publicKey });
    expect(ring.get('hq-9')).toBeUndefined();
    expect(ring.revoked().sort()).toEqual(['hq-1', 'hq-9']);
  });

  it('validates public keys and refuses to rebind a key id', () => {
    const ring = new KeyRing();
    expect(() => ring.add({ keyId: 'x', publicKey: Buffer.alloc(31).toString('base64') })).toThrow(TypeError);
    expect(() => ring.add({ keyId: 'x', publicKey: 'not base64' })).toThrow(TypeError);
    expect(() => ring.add({ keyId: '', publicKey: k1.publicKey })).toThrow(TypeError);
    ring.add(trusted(k1));
    ring.add(trusted(k1)); // same binding: no-op
    expect(() => ring.add({ keyId: 'hq-1', publicKey: k2.publicKey })).toThrow(/different public key/);
    expect(ring.get('hq-1')?.publicKey).toBe(k1.publicKey);
  });

  it('hands out copies, so a caller cannot swap a trusted key', () => {
    const ring = new KeyRing([trusted(k1)]);
    const got = ring.get('hq-1')!;
    got.publicKey = k2.publicKey;
    ring.list()[0]!.publicKey = k2.publicKey;
    expect(ring.get('hq-1')?.publicKey).toBe(k1.publicKey);
  });
});
