import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { canonicalBytes, canonicalJson, sha256Hex } from './canonical.ts';
import { syncError, type SyncErrorCode } from './errors.ts';
import { decodeBase64Strict, isPublicKeyText, signBytes, verifyBytes, type KeyRing, type TrustedKey } from './keys.ts';
import { storeIdPattern } from './topics.ts';
import { describeIssues, parseWireJson } from './uplink.ts';

/**
 * Signed documents, HQ → store (docs/sync.md "Downlink"). A document is a header (the signed
 * part) and a body (canonical JSON, UTF-8) sent in chunks; every chunk carries the header and its
 * signature, so each chunk is verified before a byte of it is buffered.
 */

export const DOCUMENT_KINDS = ['prices', 'promotions', 'catalog', 'planogram', 'model-release', 'order', 'keys'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** The one signature algorithm; pinned here, never taken from the message (RFC 9864: `Ed25519`, not `EdDSA`). */
export const SIGNATURE_ALGORITHM = 'Ed25519';
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_PENDING_DOCUMENTS = 8;

/** Document and key ids: 1–128 of letters, digits, `.`, `_`, `:` and `-`. */
export const documentIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

const ms = z.number().int().min(0);
const count = z.number().int().min(0);

export const documentHeaderSchema = z
  .strictObject({
    id: z.string().regex(documentIdPattern, 'an id of 1–128 letters, digits, ".", "_", ":" or "-"'),
    kind: z.enum(DOCUMENT_KINDS),
    /** Strictly increasing per kind across the chain. */
    version: z.number().int().min(1),
    /** Store ids, or exactly ["*"] for every store. */
    stores: z
      .array(z.string().refine((id) => id === '*' || storeIdPattern.test(id), 'a store id or "*"'))
      .min(1)
      .refine((stores) => !stores.includes('*') || stores.length === 1, 'a wildcard is exactly ["*"]'),
    issuedAt: ms,
    effectiveFrom: ms.nullable(),
    expiresAt: ms.nullable(),
    bodySha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'),
    bodyBytes: count,
    chunks: z.number().int().min(1),
  })
  // Every chunk holds at least one byte, so there are never more chunks than bytes.
  .refine((header) => header.chunks <= Math.max(1, header.bodyBytes), { message: 'more chunks than body bytes', path: ['chunks'] });

export type DocumentHeader = z.infer<typeof documentHeaderSchema>;

export const docChunkMessageSchema = z.strictObject({
  v: z.literal(1),
  header: documentHeaderSchema,
  keyId: z.string().regex(documentIdPattern, 'a key id'),
  /** Checked against SIGNATURE_ALGORITHM by `verifyHeader`, so a wrong value is a signature refusal, not a malformed message. */
  alg: z.string().max(32),
  /** base64 of the 64-byte Ed25519 signature over canonicalJson(header) as UTF-8. */
  sig: z.string().max(128),
  index: z.number().int().min(0),
  /** base64 of this chunk's bytes (decoded strictly by the assembler). */
  data: z.string(),
});

export type DocChunkMessage = z.infer<typeof docChunkMessageSchema>;

// ---- bodies ----------------------------------------------------------------------------------

const sku = z.string().min(1).max(64);
const priceMinor = z.number().int().min(0);
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as "EUR"');
const keyId = z.string().regex(documentIdPattern, 'a key id');

export const pricesBodySchema = z.strictObject({
  prices: z
    .array(z.strictObject({ sku, priceMinor, currency: currency.optional(), effectiveFrom: ms.optional() }))
    .min(1)
    .max(100_000),
});

/** The price book validates each promotion itself. */
export const promotionsBodySchema = z.strictObject({ promotions: z.array(z.unknown()) });

export const catalogBodySchema = z.strictObject({
  items: z
    .array(
      z.strictObject({
        sku,
        name: z.string().min(1).max(500),
        priceMinor,
        currency,
        // GTIN-8, UPC-A (12), EAN-13 or GTIN-14 [GS1 General Specifications §3.2]
        gtin: z.string().regex(/^(?:\d{8}|\d{12,14})$/, '8, 12, 13 or 14 digits').optional(),
        unitWeightG: z.number().positive().finite().optional(),
      }),
    )
    .min(1)
    .max(200_000),
});

export const keysBodySchema = z.strictObject({
  add: z.array(z.strictObject({ keyId, publicKey: z.string().refine(isPublicKeyText, 'base64 of a 32-byte Ed25519 key') })),
  revoke: z.array(keyId),
});

/**
 * A pseudonymous customer reference: `c-` and 4–64 lowercase hex digits (a random id, or a keyed
 * hash HQ can map back). The shape keeps names, e-mail addresses and formatted phone numbers out;
 * HQ must still never derive it from them (docs/sync.md "Online orders").
 */
export const customerRefPattern = /^c-[0-9a-f]{4,64}$/;

/** Click & collect: one order for this store to reserve, pick and hand over (docs/sync.md "Online orders"). */
export const orderBodySchema = z.strictObject({
  orderId: z.string().regex(documentIdPattern, 'an id of 1–128 letters, digits, ".", "_", ":" or "-"'),
  lines: z
    .array(z.strictObject({ sku, qty: z.number().int().min(1).max(10_000) }))
    .min(1)
    .max(500)
    .superRefine((lines, ctx) => {
      const seen = new Set<string>();
      for (const [index, line] of lines.entries()) {
        if (seen.has(line.sku)) ctx.addIssue({ code: 'custom', path: [index, 'sku'], message: `SKU "${line.sku}" is listed twice (one line per SKU)` });
        seen.add(line.sku);
      }
    }),
  customerRef: z.string().regex(customerRefPattern, 'a pseudonymous reference such as "c-7f3a" ("c-" and 4–64 lowercase hex digits), never a name, phone number or e-mail address'),
  /** Store clock, ms: not collected by then, the order expires and its stock is released. */
  collectBy: ms,
  /** For the store team (packing, substitutions); stays in the store, never sent back up. */
  note: z.string().min(1).max(500).optional(),
});

/**
 * A planogram: the store model (catalogue, zones, gondolas with bays, shelves and trays, gates,
 * shelf labels) as the store's config has it under `store.model`. The store checks the model
 * itself against its schema (device-drivers `storeModel`); here only its envelope.
 */
export const planogramBodySchema = z.strictObject({
  model: z.record(z.string(), z.unknown()),
});

/** A model release: the manifest and the .onnx bytes it names, signed together with the document. */
export const modelReleaseBodySchema = z.strictObject({
  /** The manifest as models/<name>/manifest.json has it; its `sha256` must match the bytes. */
  manifest: z
    .object({
      name: z.string().regex(/^[a-z][a-z0-9-]{0,63}$/, 'a model name such as "product-recogniser"'),
      version: z.string().regex(/^\d+\.\d+\.\d+$/, 'versions are semver (1.2.3)'),
      file: z.string().regex(/^[\w.-]+\.onnx$/, 'the model file is a .onnx file next to the manifest'),
      sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 is 64 lowercase hex digits'),
    })
    .loose(),
  /** The model file, base64. */
  modelBase64: z.string().min(1).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
});

export const documentBodySchemas: Record<DocumentKind, z.ZodType> = {
  prices: pricesBodySchema,
  promotions: promotionsBodySchema,
  catalog: catalogBodySchema,
  planogram: planogramBodySchema,
  'model-release': modelReleaseBodySchema,
  order: orderBodySchema,
  keys: keysBodySchema,
};

export type PricesBody = z.infer<typeof pricesBodySchema>;
export type PromotionsBody = z.infer<typeof promotionsBodySchema>;
export type CatalogBody = z.infer<typeof catalogBodySchema>;
export type KeysBody = z.infer<typeof keysBodySchema>;
export type OrderBody = z.infer<typeof orderBodySchema>;
export type PlanogramBody = z.infer<typeof planogramBodySchema>;
export type ModelReleaseBody = z.infer<typeof modelReleaseBodySchema>;

/**
 * What a `keys` document signed by `signerKeyId` would change, or why it must be refused: a key
 * may not revoke itself (SYNC_ERR_DOC_KEY_SELF_REVOKE, docs/sync.md "Keys"), and a key id already
 * bound to another public key is not rebound (SYNC_ERR_DOC_BODY_INVALID). Keys already trusted
 * and ids already revoked are left out of the plan.
 */
export function planKeyChanges(
  body: KeysBody,
  signerKeyId: string,
  keyRing: KeyRing,
): { ok: true; add: TrustedKey[]; revoke: string[] } | { ok: false; code: SyncErrorCode; reason: string } {
  if (body.revoke.includes(signerKeyId)) return { ok: false, code: 'SYNC_ERR_DOC_KEY_SELF_REVOKE', reason: `key ${signerKeyId} may not revoke itself` };
  const add: TrustedKey[] = [];
  for (const key of body.add) {
    if (keyRing.isRevoked(key.keyId) || body.revoke.includes(key.keyId)) continue;
    const known = keyRing.get(key.keyId);
    if (known !== undefined && known.publicKey !== key.publicKey) {
      return { ok: false, code: 'SYNC_ERR_DOC_BODY_INVALID', reason: `key id ${key.keyId} is already bound to a different public key` };
    }
    if (known === undefined) add.push({ keyId: key.keyId, publicKey: key.publicKey });
  }
  const revoke = [...new Set(body.revoke)].filter((id) => !keyRing.isRevoked(id));
  return { ok: true, add, revoke };
}

// ---- building (HQ) ---------------------------------------------------------------------------

export interface DocumentInput {
  /** Default: `doc-` + a random UUID. */
  id?: string;
  kind: DocumentKind;
  version: number;
  stores: string[];
  issuedAt: number;
  effectiveFrom?: number | null;
  expiresAt?: number | null;
  body: unknown;
}

/**
 * A signed document, split into chunk messages ready to publish. Throws SyncError
 * SYNC_ERR_DOC_MALFORMED for a bad header field and SYNC_ERR_DOC_BODY_INVALID for a body that
 * does not fit its kind (HQ must never publish what every store would refuse).
 */
export function buildDocument(
  input: DocumentInput,
  signer: { keyId: string; privateKeyPem: string },
  options: { chunkBytes?: number } = {},
): { header: DocumentHeader; messages: DocChunkMessage[] } {
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new RangeError(`buildDocument: chunkBytes must be a positive integer, got ${chunkBytes}`);
  if (!documentIdPattern.test(signer.keyId)) throw syncError('SYNC_ERR_DOC_MALFORMED', `buildDocument: not a valid key id: ${JSON.stringify(signer.keyId)}`);

  const bodySchema = documentBodySchemas[input.kind] as z.ZodType | undefined;
  if (bodySchema === undefined) throw syncError('SYNC_ERR_DOC_UNSUPPORTED_KIND', `buildDocument: unknown kind ${JSON.stringify(input.kind)}`);
  const bodyCheck = bodySchema.safeParse(input.body);
  if (!bodyCheck.success) throw syncError('SYNC_ERR_DOC_BODY_INVALID', `buildDocument: ${input.kind} body: ${describeIssues(bodyCheck.error)}`, bodyCheck.error.issues);
  let body: Buffer;
  try {
    body = canonicalBytes(input.body);
  } catch (error) {
    throw syncError('SYNC_ERR_DOC_BODY_INVALID', `buildDocument: ${error instanceof Error ? error.message : String(error)}`);
  }

  const chunks = Math.max(1, Math.ceil(body.length / chunkBytes));
  const headerCheck = documentHeaderSchema.safeParse({
    id: input.id ?? `doc-${randomUUID()}`,
    kind: input.kind,
    version: input.version,
    stores: input.stores,
    issuedAt: input.issuedAt,
    effectiveFrom: input.effectiveFrom ?? null,
    expiresAt: input.expiresAt ?? null,
    bodySha256: sha256Hex(body),
    bodyBytes: body.length,
    chunks,
  });
  if (!headerCheck.success) throw syncError('SYNC_ERR_DOC_MALFORMED', `buildDocument: header: ${describeIssues(headerCheck.error)}`, headerCheck.error.issues);
  const header = headerCheck.data;
  const sig = signBytes(signer.privateKeyPem, canonicalBytes(header));

  const messages: DocChunkMessage[] = [];
  for (let index = 0; index < chunks; index++) {
    const data = body.subarray(index * chunkBytes, (index + 1) * chunkBytes).toString('base64');
    messages.push({ v: 1, header, keyId: signer.keyId, alg: SIGNATURE_ALGORITHM, sig, index, data });
  }
  return { header, messages };
}

// ---- verifying (store) -----------------------------------------------------------------------

export type VerifyHeaderResult = { ok: true; message: DocChunkMessage } | { ok: false; code: SyncErrorCode; reason: string; header?: unknown };

/**
 * Check one chunk message (parsed JSON, or the raw payload as text or bytes) up to its signature, in the order of docs/sync.md: shape
 * (SYNC_ERR_DOC_MALFORMED) → algorithm pinned to Ed25519 (SYNC_ERR_DOC_SIGNATURE) → key trusted
 * and unrevoked (SYNC_ERR_DOC_UNKNOWN_KEY) → signature over the canonical header, under the key
 * the message names and no other (SYNC_ERR_DOC_SIGNATURE). Never throws.
 */
export function verifyHeader(message: unknown, keyRing: KeyRing): VerifyHeaderResult {
  const decoded = typeof message === 'string' || message instanceof Uint8Array ? parseWireJson(message, z.unknown()) : { ok: true as const, value: message };
  if (!decoded.ok) return { ok: false, code: 'SYNC_ERR_DOC_MALFORMED', reason: decoded.reason };
  const parsed = docChunkMessageSchema.safeParse(decoded.value);
  if (!parsed.success) {
    const value = decoded.value;
    const header = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { header?: unknown }).header : undefined;
    return { ok: false, code: 'SYNC_ERR_DOC_MALFORMED', reason: describeIssues(parsed.error), header };
  }
  const chunk = parsed.data;
  if (chunk.alg !== SIGNATURE_ALGORITHM) return { ok: false, code: 'SYNC_ERR_DOC_SIGNATURE', reason: 'algorithm not allowed', header: chunk.header };
  const key = keyRing.get(chunk.keyId);
  if (key === undefined) {
    const why = keyRing.isRevoked(chunk.keyId) ? 'revoked' : 'not trusted';
    return { ok: false, code: 'SYNC_ERR_DOC_UNKNOWN_KEY', reason: `key ${chunk.keyId} is ${why}`, header: chunk.header };
  }
  let signed: Buffer;
  try {
    signed = canonicalBytes(chunk.header);
  } catch {
    return { ok: false, code: 'SYNC_ERR_DOC_MALFORMED', reason: 'header has no canonical form', header: chunk.header };
  }
  if (!verifyBytes(key.publicKey, signed, chunk.sig)) {
    return { ok: false, code: 'SYNC_ERR_DOC_SIGNATURE', reason: `signature does not verify under key ${chunk.keyId}`, header: chunk.header };
  }
  return { ok: true, message: chunk };
}

// ---- assembling (store) ----------------------------------------------------------------------

export type AssemblyResult =
  | { status: 'incomplete'; header: DocumentHeader; received: number }
  | { status: 'complete'; header: DocumentHeader; keyId: string; body: unknown; bodyBytes: Buffer }
  | { status: 'refused'; code: SyncErrorCode; reason: string; header?: DocumentHeader };

export interface DocumentAssemblerOptions {
  /** This store's id: documents for other stores are refused. */
  storeId: string;
  keyRing: KeyRing;
  /** Largest body accepted. Default 64 MiB. */
  maxBodyBytes?: number;
  /** Documents assembled at once; a new one beyond this drops the one that started first. Default 8. */
  maxPendingDocuments?: number;
}

interface PendingDocument {
  header: DocumentHeader;
  /** canonicalJson(header): a chunk with the same id must carry exactly this header. */
  headerText: string;
  keyId: string;
  chunks: Map<number, Buffer>;
  /** Size of every chunk but the last, once one of them has arrived. */
  fullChunkBytes: number | undefined;
  /** Size of the last chunk, once it has arrived. */
  lastChunkBytes: number | undefined;
}

/**
 * Reassembles documents from verified chunks, keyed by `header.id`; chunks may arrive in any
 * order and more than once. A refusal of a chunk refuses its document: what was buffered for
 * it is dropped (a re-sent document starts afresh). Version and staleness are not checked here:
 * the store compares them with what it applied. Never throws.
 */
export class DocumentAssembler {
  readonly #storeId: string;
  readonly #keyRing: KeyRing;
  readonly #maxBodyBytes: number;
  readonly #maxPending: number;
  /** In order of first chunk (Map keeps insertion order), so the oldest goes first. */
  readonly #pending = new Map<string, PendingDocument>();

  constructor(options: DocumentAssemblerOptions) {
    this.#storeId = options.storeId;
    this.#keyRing = options.keyRing;
    this.#maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#maxPending = Math.max(1, options.maxPendingDocuments ?? DEFAULT_MAX_PENDING_DOCUMENTS);
  }

  /** Documents with some but not all chunks in. */
  pending(): number {
    return this.#pending.size;
  }

  accept(message: unknown): AssemblyResult {
    try {
      return this.#accept(message);
    } catch (error) {
      // Unreachable by design; the promise is that no input makes the assembler throw.
      return { status: 'refused', code: 'SYNC_ERR_DOC_MALFORMED', reason: `unexpected: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  #accept(message: unknown): AssemblyResult {
    const verified = verifyHeader(message, this.#keyRing);
    if (!verified.ok) {
      const parsedHeader = documentHeaderSchema.safeParse(verified.header);
      return { status: 'refused', code: verified.code, reason: verified.reason, ...(parsedHeader.success ? { header: parsedHeader.data } : {}) };
    }
    const chunk = verified.message;
    const { header } = chunk;
    const refuse = (code: SyncErrorCode, reason: string): AssemblyResult => ({ status: 'refused', code, reason, header });

    if (!(header.stores.length === 1 && header.stores[0] === '*') && !header.stores.includes(this.#storeId)) {
      return refuse('SYNC_ERR_DOC_WRONG_STORE', `document ${header.id} is for ${header.stores.join(', ')}, not ${this.#storeId}`);
    }
    if (header.bodyBytes > this.#maxBodyBytes) {
      return refuse('SYNC_ERR_DOC_TOO_LARGE', `document ${header.id} has ${header.bodyBytes} body bytes; at most ${this.#maxBodyBytes} accepted`);
    }

    const headerText = canonicalJson(header);
    const existing = this.#pending.get(header.id);
    if (existing !== undefined && existing.headerText !== headerText) {
      // A validly signed but different header under an id already in progress: keep the first.
      return refuse('SYNC_ERR_DOC_MALFORMED', `document ${header.id} is already being assembled with a different header`);
    }
    if (chunk.index >= header.chunks) {
      this.#drop(header.id);
      return refuse('SYNC_ERR_DOC_MALFORMED', `chunk ${chunk.index} of document ${header.id}, which has ${header.chunks}`);
    }
    if (existing?.chunks.has(chunk.index)) return { status: 'incomplete', header, received: existing.chunks.size };

    const data = decodeBase64Strict(chunk.data);
    const problem = data === undefined ? 'chunk data is not base64' : chunkSizeProblem(header, chunk.index, data.length, existing);
    if (data === undefined || problem !== undefined) {
      this.#drop(header.id);
      return refuse('SYNC_ERR_DOC_MALFORMED', `document ${header.id} chunk ${chunk.index}: ${problem}`);
    }

    const pending = existing ?? this.#start(header, headerText, chunk.keyId);
    pending.chunks.set(chunk.index, data);
    if (chunk.index === header.chunks - 1) pending.lastChunkBytes = data.length;
    else pending.fullChunkBytes = data.length;
    if (pending.chunks.size < header.chunks) return { status: 'incomplete', header, received: pending.chunks.size };

    this.#drop(header.id);
    return finish(pending);
  }

  #start(header: DocumentHeader, headerText: string, keyId: string): PendingDocument {
    while (this.#pending.size >= this.#maxPending) {
      const oldest = this.#pending.keys().next().value as string;
      this.#pending.delete(oldest);
    }
    const pending: PendingDocument = { header, headerText, keyId, chunks: new Map(), fullChunkBytes: undefined, lastChunkBytes: undefined };
    this.#pending.set(header.id, pending);
    return pending;
  }

  #drop(id: string): void {
    this.#pending.delete(id);
  }
}

/**
 * Why a chunk of `size` bytes cannot sit at `index` of this document, or undefined when it can.
 * Every chunk but the last has one size F > 0, the last has 1…F bytes (0 only for an empty
 * body), and (chunks − 1) × F + last = bodyBytes; a chunk is checked against whichever of F and
 * the last size are already known, so a chunk that does not fit is refused as it arrives.
 */
function chunkSizeProblem(header: DocumentHeader, index: number, size: number, pending: PendingDocument | undefined): string | undefined {
  const { bodyBytes, chunks } = header;
  const isLast = index === chunks - 1;
  const full = isLast ? pending?.fullChunkBytes : size;
  const last = isLast ? size : pending?.lastChunkBytes;
  if (bodyBytes === 0) return size === 0 ? undefined : `${size} bytes in an empty body`;
  if (size === 0) return 'empty chunk';
  if (size > bodyBytes) return `${size} bytes, more than the body's ${bodyBytes}`;
  if (!isLast && pending?.fullChunkBytes !== undefined && pending.fullChunkBytes !== size) {
    return `${size} bytes where the other chunks have ${pending.fullChunkBytes}`;
  }
  if (full !== undefined) {
    // With F known, the last chunk must hold exactly what the others leave.
    const rest = bodyBytes - (chunks - 1) * full;
    if (rest < 1 || rest > full) return `chunks of ${full} bytes cannot make a body of ${bodyBytes} in ${chunks} chunks`;
    if (last !== undefined && last !== rest) return `the last chunk has ${last} bytes; ${rest} expected`;
  }
  return undefined;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** All chunks are in: check the body against the signed hash, parse it and fit it to its kind. */
function finish(pending: PendingDocument): AssemblyResult {
  const { header } = pending;
  const refuse = (code: SyncErrorCode, reason: string): AssemblyResult => ({ status: 'refused', code, reason, header });
  const bodyBytes = Buffer.concat([...pending.chunks.entries()].sort(([a], [b]) => a - b).map(([, data]) => data));
  if (bodyBytes.length !== header.bodyBytes) return refuse('SYNC_ERR_DOC_BODY_HASH', `body has ${bodyBytes.length} bytes; the header says ${header.bodyBytes}`);
  if (sha256Hex(bodyBytes) !== header.bodySha256) return refuse('SYNC_ERR_DOC_BODY_HASH', 'body sha256 does not match the signed header');

  let body: unknown;
  try {
    const text = utf8.decode(bodyBytes);
    body = JSON.parse(text);
    // The body is defined as canonical JSON; anything else signed means HQ is broken.
    if (canonicalJson(body) !== text) return refuse('SYNC_ERR_DOC_BODY_INVALID', 'body is not canonical JSON');
  } catch (error) {
    return refuse('SYNC_ERR_DOC_BODY_INVALID', `body is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const checked = documentBodySchemas[header.kind].safeParse(body);
  if (!checked.success) return refuse('SYNC_ERR_DOC_BODY_INVALID', `${header.kind} body: ${describeIssues(checked.error)}`);
  return { status: 'complete', header, keyId: pending.keyId, body: checked.data, bodyBytes };
}
