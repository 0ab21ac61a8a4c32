import { createHash } from 'node:crypto';

/**
 * Canonical JSON: the one byte-exact serialisation that documents are signed over and uplink
 * records are hashed over (docs/sync.md). HQ and the store must produce the same bytes for the
 * same content on any machine and in any later version, or signatures and hashes stop matching.
 *
 * It is `JSON.stringify` with three differences, each there so that equal content always
 * gives equal bytes:
 * - object keys are sorted (by UTF-16 code unit, i.e. plain `Array#sort`), recursively;
 * - no whitespace;
 * - values JSON would silently change are refused instead: NaN/±Infinity (JSON writes
 *   `null`), `undefined`/functions/symbols inside arrays (JSON writes `null`), functions and
 *   symbols as object values (JSON drops them), bigint, Map/Set and other class instances
 *   without `toJSON` (JSON writes `{}`), and cycles.
 *
 * Like JSON, an object property whose value is `undefined` is left out (optional fields), and
 * `toJSON()` is honoured (a Date becomes its ISO string).
 *
 * The agent's ledger hashes and stores its events with this same function
 * (edge-agent/src/ledger/canonical.ts re-exports it).
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, '$', new Set());
}

/** The UTF-8 bytes of `canonicalJson(value)`: what is signed and hashed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

/** sha256 of `data` (a string is taken as UTF-8), as 64 lowercase hex digits. */
export function sha256Hex(data: string | Uint8Array): string {
  const hash = createHash('sha256');
  if (typeof data === 'string') hash.update(data, 'utf8');
  else hash.update(data);
  return hash.digest('hex');
}

function serialise(value: unknown, path: string, ancestors: Set<object>): string {
  const plain = withToJson(value);
  switch (typeof plain) {
    case 'string':
    case 'boolean':
      return JSON.stringify(plain);
    case 'number':
      if (!Number.isFinite(plain)) throw new TypeError(`canonicalJson: ${path} is ${plain}; only finite numbers have a JSON form`);
      return JSON.stringify(plain);
    case 'object':
      if (plain === null) return 'null';
      if (ancestors.has(plain)) throw new TypeError(`canonicalJson: ${path} refers back to one of its parents (a cycle)`);
      ancestors.add(plain);
      try {
        return Array.isArray(plain) ? serialiseArray(plain, path, ancestors) : serialiseObject(plain, path, ancestors);
      } finally {
        ancestors.delete(plain);
      }
    default:
      // undefined, function, symbol, bigint
      throw new TypeError(`canonicalJson: ${path} is a ${typeof plain}, which has no JSON form`);
  }
}

function serialiseArray(items: readonly unknown[], path: string, ancestors: Set<object>): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    // JSON.stringify would quietly write null here (and for holes); that changes the data.
    if (item === undefined) throw new TypeError(`canonicalJson: ${path}[${i}] is undefined; arrays may not hold undefined`);
    parts.push(serialise(item, `${path}[${i}]`, ancestors));
  }
  return `[${parts.join(',')}]`;
}

function serialiseObject(object: object, path: string, ancestors: Set<object>): string {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null) {
    const name = (object as { constructor?: { name?: string } }).constructor?.name ?? 'object';
    throw new TypeError(`canonicalJson: ${path} is a ${name}; use plain objects, arrays and primitives`);
  }
  const record = object as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue; // as JSON: an absent optional field
    parts.push(`${JSON.stringify(key)}:${serialise(member, `${path}.${key}`, ancestors)}`);
  }
  return `{${parts.join(',')}}`;
}

function withToJson(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return (value as { toJSON(): unknown }).toJSON();
  }
  return value;
}
