import { describe, expect, it } from 'vitest';
import { canonicalBytes, sha256Hex } from '../src/canonical.ts';
import {
  buildDocument,
  DocumentAssembler,
  documentBodySchemas,
  documentHeaderSchema,
  planKeyChanges,
  verifyHeader,
  type AssemblyResult,
  type DocChunkMessage,
  type DocumentHeader,
  type DocumentInput,
} from '../src/documents.ts';
import { SyncError } from '../src/errors.ts';
import { generateSigningKey, KeyRing, signBytes } from '../src/keys.ts';

const hq1 = generateSigningKey('hq-1');
const hq2 = generateSigningKey('hq-2');
const outsider = generateSigningKey('hq-1'); // same id as a trusted key, different key
const trustedRing = () => new KeyRing([hq1, hq2].map(({ keyId, publicKey }) => ({ keyId, publicKey })));

const T0 = 1_764_000_000_000;
const pricesBody = { prices: [{ sku: 'SKU-1', priceMinor: 199, currency: 'EUR' }, { sku: 'SKU-2', priceMinor: 0 }] };
const pricesInput = (over: Partial<DocumentInput> = {}): DocumentInput => ({
  id: 'doc-prices-42',
  kind: 'prices',
  version: 42,
  stores: ['s1'],
  issuedAt: T0,
  effectiveFrom: T0 + 3_600_000,
  body: pricesBody,
  ...over,
});

/** A catalog body of roughly `items` × 60 bytes, for multi-chunk documents. */
function bigCatalog(items: number) {
  return { items: Array.from({ length: items }, (_, i) => ({ sku: `SKU-${i}`, name: `Item number ${i}`, priceMinor: 100 + i, currency: 'EUR' })) };
}

function assembler(options: Partial<ConstructorParameters<typeof DocumentAssembler>[0]> = {}) {
  return new DocumentAssembler({ storeId: 's1', keyRing: trustedRing(), ...options });
}

function expectRefused(result: AssemblyResult, code: string): void {
  expect(result.status, JSON.stringify(result)).toBe('refused');
  if (result.status === 'refused') expect(result.code).toBe(code);
}

/** A copy of `message` with `edit` applied to a deep clone (the original stays valid). */
function tampered(message: DocChunkMessage, edit: (m: DocChunkMessage & Record<string, unknown>) => void): unknown {
  const copy = structuredClone(message) as DocChunkMessage & Record<string, unknown>;
  edit(copy);
  return copy;
}

/** A header re-signed by `signer` after `edit`: a validly signed message with different content. */
function resigned(message: DocChunkMessage, edit: (h: DocumentHeader) => void, signer = hq1): DocChunkMessage {
  const header = structuredClone(message.header);
  edit(header);
  return { ...message, header, keyId: signer.keyId, sig: signBytes(signer.privateKeyPem, canonicalBytes(header)) };
}

function flipBase64Byte(text: string, at: number): string {
  const bytes = Buffer.from(text, 'base64');
  bytes[at] = bytes[at]! ^ 0x01;
  return bytes.toString('base64');
}

describe('buildDocument', () => {
  it('signs the canonical header and carries the canonical body', () => {
    const { header, messages } = buildDocument(pricesInput(), hq1);
    const body = canonicalBytes(pricesBody);
    expect(header).toEqual({
      id: 'doc-prices-42',
      kind: 'prices',
      version: 42,
      stores: ['s1'],
      issuedAt: T0,
      effectiveFrom: T0 + 3_600_000,
      expiresAt: null,
      bodySha256: sha256Hex(body),
      bodyBytes: body.length,
      chunks: 1,
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ v: 1, header, keyId: 'hq-1', alg: 'Ed25519', index: 0, data: body.toString('base64') });
    expect(verifyHeader(messages[0], trustedRing()).ok).toBe(true);
  });

  it('defaults the id to doc-<uuid>', () => {
    const a = buildDocument(pricesInput({ id: undefined }), hq1).header.id;
    const b = buildDocument(pricesInput({ id: undefined }), hq1).header.id;
    expect(a).toMatch(/^doc-[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  it('splits the body into chunks of chunkBytes', () => {
    const { header, messages } = buildDocument(pricesInput({ kind: 'catalog', body: bigCatalog(50) }), hq1, { chunkBytes: 500 });
    expect(header.chunks).toBe(Math.ceil(header.bodyBytes / 500));
    expect(messages.map((m) => m.index)).toEqual([...Array(header.chunks).keys()]);
    expect(messages.slice(0, -1).every((m) => Buffer.from(m.data, 'base64').length === 500)).toBe(true);
    expect(Buffer.concat(messages.map((m) => Buffer.from(m.data, 'base64')))).toEqual(canonicalBytes(bigCatalog(50)));
  });

  it('refuses to build what stores would refuse', () => {
    const thrown = (input: DocumentInput) => {
      try {
        buildDocument(input, hq1);
      } catch (error) {
        return error instanceof SyncError ? error.code : error;
      }
      return 'no error';
    };
    expect(thrown(pricesInput({ body: { prices: [] } }))).toBe('SYNC_ERR_DOC_BODY_INVALID');
    expect(thrown(pricesInput({ body: { prices: [{ sku: 'a', priceMinor: 1.5 }] } }))).toBe('SYNC_ERR_DOC_BODY_INVALID');
    expect(thrown(pricesInput({ version: 0 }))).toBe('SYNC_ERR_DOC_MALFORMED');
    expect(thrown(pricesInput({ stores: [] }))).toBe('SYNC_ERR_DOC_MALFORMED');
    expect(thrown(pricesInput({ stores: ['*', 's1'] }))).toBe('SYNC_ERR_DOC_MALFORMED');
    expect(thrown(pricesInput({ stores: ['s1/#'] }))).toBe('SYNC_ERR_DOC_MALFORMED');
    expect(thrown(pricesInput({ id: 'has space' }))).toBe('SYNC_ERR_DOC_MALFORMED');
  });
});

describe('verifyHeader', () => {
  const [message] = buildDocument(pricesInput(), hq1).messages as [DocChunkMessage];

  it('accepts the message parsed or as raw JSON text or bytes', () => {
    expect(verifyHeader(message, trustedRing()).ok).toBe(true);
    expect(verifyHeader(JSON.stringify(message), trustedRing()).ok).toBe(true);
    expect(verifyHeader(Buffer.from(JSON.stringify(message)), trustedRing()).ok).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['garbage JSON', '{"v":1,"header":', 'SYNC_ERR_DOC_MALFORMED'],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), 'SYNC_ERR_DOC_MALFORMED'],
    ['not an object', [1, 2], 'SYNC_ERR_DOC_MALFORMED'],
    ['null', null, 'SYNC_ERR_DOC_MALFORMED'],
    ['an extra envelope field', tampered(message, (m) => (m.extra = 1)), 'SYNC_ERR_DOC_MALFORMED'],
    ['an extra header field', tampered(message, (m) => ((m.header as Record<string, unknown>).extra = 1)), 'SYNC_ERR_DOC_MALFORMED'],
    ['version 2', tampered(message, (m) => (m.v = 2 as 1)), 'SYNC_ERR_DOC_MALFORMED'],
    ['an unknown kind', tampered(message, (m) => ((m.header as Record<string, unknown>).kind = 'firmware')), 'SYNC_ERR_DOC_MALFORMED'],
    ['alg EdDSA', tampered(message, (m) => (m.alg = 'EdDSA')), 'SYNC_ERR_DOC_SIGNATURE'],
    ['alg none', tampered(message, (m) => (m.alg = 'none')), 'SYNC_ERR_DOC_SIGNATURE'],
    ['alg ed25519 (case)', tampered(message, (m) => (m.alg = 'ed25519')), 'SYNC_ERR_DOC_SIGNATURE'],
    ['an unknown key id', tampered(message, (m) => (m.keyId = 'hq-9')), 'SYNC_ERR_DOC_UNKNOWN_KEY'],
    ['one flipped signature byte', tampered(message, (m) => (m.sig = flipBase64Byte(m.sig, 5))), 'SYNC_ERR_DOC_SIGNATURE'],
    ['an empty signature', tampered(message, (m) => (m.sig = '')), 'SYNC_ERR_DOC_SIGNATURE'],
    ['a tampered version', tampered(message, (m) => (m.header.version = 43)), 'SYNC_ERR_DOC_SIGNATURE'],
    ['a widened store list', tampered(message, (m) => (m.header.stores = ['*'])), 'SYNC_ERR_DOC_SIGNATURE'],
    ['a swapped body hash', tampered(message, (m) => (m.header.bodySha256 = sha256Hex('other'))), 'SYNC_ERR_DOC_SIGNATURE'],
    ['a cleared effectiveFrom', tampered(message, (m) => (m.header.effectiveFrom = null)), 'SYNC_ERR_DOC_SIGNATURE'],
  ])('refuses %s', (_name, input, code) => {
    const result = verifyHeader(input, trustedRing());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.code).toBe(code);
  });

  it('checks the algorithm before the key: alg none under an unknown key is a signature refusal', () => {
    const result = verifyHeader(tampered(message, (m) => ((m.alg = 'none'), (m.keyId = 'hq-9'))), trustedRing());
    expect(result).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_SIGNATURE', reason: 'algorithm not allowed' });
  });

  it('refuses a revoked key', () => {
    const ring = trustedRing();
    ring.revoke('hq-1');
    expect(verifyHeader(message, ring)).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_UNKNOWN_KEY' });
  });

  describe('adversarial verifier (immudb GHSA-672p lesson: test the checker, not just the happy path)', () => {
    it('a signature by another trusted key does not verify under the key id the message names', () => {
      // hq-2 is trusted and signs; the message claims hq-1. Must fail: the key comes from the ring by
      // the named id, never "any trusted key that happens to verify".
      const byHq2 = resigned(message, () => {}, hq2);
      expect(verifyHeader(byHq2, trustedRing()).ok).toBe(true);
      expect(verifyHeader({ ...byHq2, keyId: 'hq-1' }, trustedRing())).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_SIGNATURE' });
    });

    it('an outsider key reusing a trusted key id does not verify', () => {
      expect(verifyHeader(resigned(message, (h) => (h.stores = ['*']), outsider), trustedRing())).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_SIGNATURE' });
    });

    it('the signature covers the canonical header, not the sender’s key order', () => {
      const reordered = { ...message, header: Object.fromEntries(Object.entries(message.header).reverse()) };
      expect(verifyHeader(reordered, trustedRing()).ok).toBe(true);
    });

    it('a signature over the body instead of the header does not verify', () => {
      const body = Buffer.from(message.data, 'base64');
      expect(verifyHeader({ ...message, sig: signBytes(hq1.privateKeyPem, body) }, trustedRing())).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_SIGNATURE' });
    });

    it('a signature replayed from another document does not verify', () => {
      const other = buildDocument(pricesInput({ id: 'doc-prices-43', version: 43 }), hq1).messages[0]!;
      expect(verifyHeader({ ...message, sig: other.sig }, trustedRing())).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_SIGNATURE' });
    });
  });
});

describe('DocumentAssembler', () => {
  it('assembles a single-chunk document and returns the validated body', () => {
    const { header, messages } = buildDocument(pricesInput(), hq1);
    const result = assembler().accept(messages[0]);
    expect(result).toEqual({ status: 'complete', header, keyId: 'hq-1', body: pricesBody, bodyBytes: canonicalBytes(pricesBody) });
  });

  it('assembles a multi-chunk document arriving out of order, with duplicates', () => {
    const body = bigCatalog(200);
    const { header, messages } = buildDocument(pricesInput({ kind: 'catalog', body }), hq1, { chunkBytes: 1000 });
    expect(messages.length).toBeGreaterThan(5);
    const asm = assembler();
    const order = [...messages].reverse();
    const results = order.flatMap((m, i) => (i === 2 ? [asm.accept(m), asm.accept(m)] : [asm.accept(m)]));
    const last = results.pop()!;
    expect(results.every((r) => r.status === 'incomplete')).toBe(true);
    expect(results[3]).toEqual({ status: 'incomplete', header, received: 3 }); // the duplicate did not count
    expect(asm.pending()).toBe(0);
    expect(last).toMatchObject({ status: 'complete', header, keyId: 'hq-1', body });
  });

  it('keeps the first copy of a chunk: a later copy with other bytes is ignored', () => {
    const { header, messages } = buildDocument(pricesInput({ kind: 'catalog', body: bigCatalog(60) }), hq1, { chunkBytes: 1000 });
    const asm = assembler();
    expect(asm.accept(messages[0])).toEqual({ status: 'incomplete', header, received: 1 });
    expect(asm.accept({ ...messages[0]!, data: flipBase64Byte(messages[0]!.data, 3) })).toEqual({ status: 'incomplete', header, received: 1 });
    expect(messages.slice(1).map((m) => asm.accept(m)).at(-1)).toMatchObject({ status: 'complete', header });
  });

  it('accepts chain-wide documents; a planogram\'s model is the store\'s to check', () => {
    const { messages } = buildDocument(pricesInput({ kind: 'planogram', stores: ['*'], body: { model: {} } }), hq1);
    expect(assembler().accept(messages[0])).toMatchObject({ status: 'complete', body: { model: {} } });
    expect(() => buildDocument(pricesInput({ id: 'bare', kind: 'planogram', body: { bays: [] } }), hq1)).toThrow(/planogram body: model/);
  });

  it('assembles several documents interleaved', () => {
    const a = buildDocument(pricesInput({ id: 'a', kind: 'catalog', body: bigCatalog(40) }), hq1, { chunkBytes: 700 }).messages;
    const b = buildDocument(pricesInput({ id: 'b', kind: 'catalog', body: bigCatalog(30) }), hq2, { chunkBytes: 700 }).messages;
    const asm = assembler();
    const done: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      for (const m of [a[i], b[i]]) {
        if (m === undefined) continue;
        const r = asm.accept(m);
        if (r.status === 'complete') done.push(`${r.header.id}:${r.keyId}`);
        else expect(r.status).toBe('incomplete');
      }
    }
    expect(done.sort()).toEqual(['a:hq-1', 'b:hq-2']);
  });

  describe('refusals, each with its exact code', () => {
    const multi = () => buildDocument(pricesInput({ kind: 'catalog', body: bigCatalog(60) }), hq1, { chunkBytes: 1000 });

    it('wrong store', () => {
      const { messages } = buildDocument(pricesInput({ stores: ['s2', 's3'] }), hq1);
      const result = assembler().accept(messages[0]);
      expectRefused(result, 'SYNC_ERR_DOC_WRONG_STORE');
      expect(result.status === 'refused' && result.header?.id).toBe('doc-prices-42');
    });

    it('unknown and revoked keys', () => {
      const { messages } = buildDocument(pricesInput(), generateSigningKey('hq-7'));
      expectRefused(assembler().accept(messages[0]), 'SYNC_ERR_DOC_UNKNOWN_KEY');
      const ring = trustedRing();
      ring.revoke('hq-1');
      expectRefused(assembler({ keyRing: ring }).accept(buildDocument(pricesInput(), hq1).messages[0]), 'SYNC_ERR_DOC_UNKNOWN_KEY');
    });

    it('signature, alg and malformed envelopes pass through from verifyHeader, with the header when it parses', () => {
      const [m] = buildDocument(pricesInput(), hq1).messages as [DocChunkMessage];
      const result = assembler().accept(tampered(m, (x) => (x.alg = 'EdDSA')));
      expectRefused(result, 'SYNC_ERR_DOC_SIGNATURE');
      expect(result.status === 'refused' && result.header?.id).toBe('doc-prices-42');
      expectRefused(assembler().accept(tampered(m, (x) => (x.sig = flipBase64Byte(x.sig, 0)))), 'SYNC_ERR_DOC_SIGNATURE');
      expectRefused(assembler().accept(tampered(m, (x) => (x.header.bodyBytes += 1))), 'SYNC_ERR_DOC_SIGNATURE');
      expectRefused(assembler().accept('not json'), 'SYNC_ERR_DOC_MALFORMED');
      expectRefused(assembler().accept(tampered(m, (x) => (x.index = -1))), 'SYNC_ERR_DOC_MALFORMED');
    });

    it('too large, before a byte is buffered', () => {
      const { messages } = multi();
      const asm = assembler({ maxBodyBytes: 2000 });
      expectRefused(asm.accept(messages[0]), 'SYNC_ERR_DOC_TOO_LARGE');
      expect(asm.pending()).toBe(0);
    });

    it('chunk index out of range', () => {
      const { messages } = multi();
      const asm = assembler();
      const inRange = asm.accept(messages[0]);
      expect(inRange.status).toBe('incomplete');
      expectRefused(asm.accept({ ...messages[1]!, index: messages.length }), 'SYNC_ERR_DOC_MALFORMED');
      expect(asm.pending()).toBe(0); // the document is refused as a whole
    });

    it('data that is not base64', () => {
      const [m] = buildDocument(pricesInput(), hq1).messages as [DocChunkMessage];
      expectRefused(assembler().accept({ ...m, data: `${m.data.slice(0, 4)}$${m.data.slice(4)}` }), 'SYNC_ERR_DOC_MALFORMED');
    });

    it('a truncated or padded chunk whose size does not fit', () => {
      const { messages } = multi();
      const cut = (m: DocChunkMessage, n: number) => ({ ...m, data: Buffer.from(m.data, 'base64').subarray(0, n).toString('base64') });
      // A middle chunk shorter than the first one.
      let asm = assembler();
      expect(asm.accept(messages[0]).status).toBe('incomplete');
      expectRefused(asm.accept(cut(messages[1]!, 999)), 'SYNC_ERR_DOC_MALFORMED');
      // The last chunk shorter than the others leave for it.
      asm = assembler();
      expect(asm.accept(messages[0]).status).toBe('incomplete');
      const lastIndex = messages.length - 1;
      expectRefused(asm.accept(cut(messages[lastIndex]!, 1)), 'SYNC_ERR_DOC_MALFORMED');
      // The last chunk first, then a full chunk that cannot match it.
      asm = assembler();
      expect(asm.accept(messages[lastIndex]).status).toBe('incomplete');
      expectRefused(asm.accept(cut(messages[0]!, 900)), 'SYNC_ERR_DOC_MALFORMED');
      // A chunk larger than the whole body.
      const [single] = buildDocument(pricesInput(), hq1).messages as [DocChunkMessage];
      const padded = { ...single, data: Buffer.concat([Buffer.from(single.data, 'base64'), Buffer.from(' ')]).toString('base64') };
      expectRefused(assembler().accept(padded), 'SYNC_ERR_DOC_MALFORMED');
    });

    it('a single-chunk body cut short is caught by the body check', () => {
      const [m] = buildDocument(pricesInput(), hq1).messages as [DocChunkMessage];
      const short = { ...m, data: Buffer.from(m.data, 'base64').subarray(0, 10).toString('base64') };
      expectRefused(assembler().accept(short), 'SYNC_ERR_DOC_BODY_HASH');
    });

    it('one flipped byte in a body chunk', () => {
      const { messages } = multi();
      const asm = assembler();
      const results = messages.map((m, i) => asm.accept(i === 1 ? { ...m, data: flipBase64Byte(m.data, 17) } : m));
      expectRefused(results.at(-1)!, 'SYNC_ERR_DOC_BODY_HASH');
      expect(asm.pending()).toBe(0);
    });

    it('a different header under an id in progress is refused and the first one kept', () => {
      const { header, messages } = multi();
      const asm = assembler();
      expect(asm.accept(messages[0]).status).toBe('incomplete');
      const other = resigned(messages[1]!, (h) => (h.version += 1));
      const refused = asm.accept(other);
      expectRefused(refused, 'SYNC_ERR_DOC_MALFORMED');
      expect(refused.status === 'refused' && refused.header?.version).toBe(header.version + 1);
      expect(asm.pending()).toBe(1);
      const results = messages.slice(1).map((m) => asm.accept(m));
      expect(results.at(-1)).toMatchObject({ status: 'complete', header });
    });

    it('a signed body that is not JSON, not canonical, or not of its kind', () => {
      const sign = (bodyBytes: Buffer, kind: DocumentHeader['kind'] = 'prices') => {
        const header: DocumentHeader = { ...buildDocument(pricesInput(), hq1).header, kind, bodySha256: sha256Hex(bodyBytes), bodyBytes: bodyBytes.length, chunks: 1 };
        return { v: 1, header, keyId: 'hq-1', alg: 'Ed25519', sig: signBytes(hq1.privateKeyPem, canonicalBytes(header)), index: 0, data: bodyBytes.toString('base64') };
      };
      expectRefused(assembler().accept(sign(Buffer.from('{"prices":['))), 'SYNC_ERR_DOC_BODY_INVALID');
      expectRefused(assembler().accept(sign(Buffer.from([0x22, 0xc3, 0x28, 0x22]))), 'SYNC_ERR_DOC_BODY_INVALID');
      expectRefused(assembler().accept(sign(Buffer.from('{ "prices": [{"sku":"a","priceMinor":1}] }'))), 'SYNC_ERR_DOC_BODY_INVALID');
      expectRefused(assembler().accept(sign(canonicalBytes({ prices: [{ sku: 'a', priceMinor: -1 }] }))), 'SYNC_ERR_DOC_BODY_INVALID');
      expectRefused(assembler().accept(sign(canonicalBytes({ promotions: 'x' }), 'promotions')), 'SYNC_ERR_DOC_BODY_INVALID');
      expectRefused(assembler().accept(sign(canonicalBytes([1]), 'order')), 'SYNC_ERR_DOC_BODY_INVALID');
      expect(assembler().accept(sign(canonicalBytes({ prices: [{ sku: 'a', priceMinor: 1 }] }))).status).toBe('complete');
    });
  });

  it('drops the oldest pending document beyond maxPendingDocuments', () => {
    const docs = ['d1', 'd2', 'd3'].map((id) => buildDocument(pricesInput({ id, kind: 'catalog', body: bigCatalog(30) }), hq1, { chunkBytes: 500 }).messages);
    const asm = assembler({ maxPendingDocuments: 2 });
    for (const messages of docs) expect(asm.accept(messages[0]).status).toBe('incomplete');
    expect(asm.pending()).toBe(2);
    // d1 was dropped: its remaining chunks start over and never complete; d3 completes.
    const d1 = docs[0]!.slice(1).map((m) => asm.accept(m));
    expect(d1.at(-1)?.status).toBe('incomplete');
    const d3 = docs[2]!.slice(1).map((m) => asm.accept(m));
    expect(d3.at(-1)).toMatchObject({ status: 'complete', header: { id: 'd3' } });
  });

  it('never throws, whatever it is fed', () => {
    const asm = assembler();
    const [m] = buildDocument(pricesInput(), hq1).messages as [DocChunkMessage];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const inputs: unknown[] = [undefined, null, 0, '', '{}', '[]', 'null', Buffer.alloc(0), Buffer.from([0xff]), [], {}, cyclic, { ...m, header: cyclic }, { ...m, index: 1.5 }, { ...m, data: 7 }, Object.create(null), Symbol('x'), 10n, () => 1];
    for (const input of inputs) expect(asm.accept(input).status).toBe('refused');
  });
});

describe('body schemas', () => {
  it('validate catalog items', () => {
    const item = { sku: 'A', name: 'Apple', priceMinor: 50, currency: 'EUR', gtin: '4006381333931', unitWeightG: 150 };
    expect(documentBodySchemas.catalog.safeParse({ items: [item] }).success).toBe(true);
    for (const gtin of ['1234567', '123456789', '12345678901234567', 'abcdefgh']) {
      expect(documentBodySchemas.catalog.safeParse({ items: [{ ...item, gtin }] }).success, gtin).toBe(false);
    }
    expect(documentBodySchemas.catalog.safeParse({ items: [{ ...item, currency: 'eur' }] }).success).toBe(false);
    expect(documentBodySchemas.catalog.safeParse({ items: [{ ...item, unitWeightG: 0 }] }).success).toBe(false);
    expect(documentBodySchemas.catalog.safeParse({ items: [] }).success).toBe(false);
  });

  it('validate keys documents, including the public key length', () => {
    const k = generateSigningKey('hq-3');
    expect(documentBodySchemas.keys.safeParse({ add: [{ keyId: 'hq-3', publicKey: k.publicKey }], revoke: ['hq-1'] }).success).toBe(true);
    expect(documentBodySchemas.keys.safeParse({ add: [{ keyId: 'hq-3', publicKey: Buffer.alloc(16).toString('base64') }], revoke: [] }).success).toBe(false);
    expect(documentBodySchemas.keys.safeParse({ add: [] }).success).toBe(false);
  });

  it('header schema refuses more chunks than bytes and non-lowercase hashes', () => {
    const header = buildDocument(pricesInput(), hq1).header;
    expect(documentHeaderSchema.safeParse(header).success).toBe(true);
    expect(documentHeaderSchema.safeParse({ ...header, chunks: header.bodyBytes + 1 }).success).toBe(false);
    expect(documentHeaderSchema.safeParse({ ...header, bodySha256: header.bodySha256.toUpperCase() }).success).toBe(false);
    expect(documentHeaderSchema.safeParse({ ...header, version: 2 ** 53 }).success).toBe(false);
  });
});

describe('planKeyChanges', () => {
  const k3 = generateSigningKey('hq-3');

  it('refuses a key revoking itself', () => {
    expect(planKeyChanges({ add: [], revoke: ['hq-1'] }, 'hq-1', trustedRing())).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_KEY_SELF_REVOKE' });
  });

  it('refuses rebinding a trusted key id to another key', () => {
    expect(planKeyChanges({ add: [{ keyId: 'hq-2', publicKey: k3.publicKey }], revoke: [] }, 'hq-1', trustedRing())).toMatchObject({ ok: false, code: 'SYNC_ERR_DOC_BODY_INVALID' });
  });

  it('plans only real changes', () => {
    const ring = trustedRing();
    ring.revoke('old');
    const plan = planKeyChanges({ add: [{ keyId: 'hq-3', publicKey: k3.publicKey }, { keyId: 'hq-2', publicKey: hq2.publicKey }], revoke: ['hq-2', 'old', 'hq-2'] }, 'hq-1', ring);
    expect(plan).toEqual({ ok: true, add: [{ keyId: 'hq-3', publicKey: k3.publicKey }], revoke: ['hq-2'] });
  });
});
