import type { ImageEncoding } from '@storeedge/device-drivers';
import type { Ledger } from '../ledger/ledger.ts';

export interface StoredImage {
  contentHash: string;
  tagType: string;
  encoding: ImageEncoding;
  encoded: Buffer;
}

/**
 * Rendered label images by content hash, in the ledger's file (table `label_images`) but not in
 * its log: images are up to 160 KiB and the log is hashed and kept forever. An image is kept
 * while some tag desires or shows it (reference counts over desired + shown hashes), so storage
 * is bounded by two images per tag, usually far less (tags of one SKU and type share one).
 * Written inside the ledger transaction that records the desired event, so a desired version
 * never exists without its bytes.
 */
export class LabelImageStore {
  readonly #ledger: Ledger;
  readonly #refs = new Map<string, number>();
  readonly #sql;

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
    ledger.transaction(() =>
      ledger.db.exec(`CREATE TABLE IF NOT EXISTS label_images (
        content_hash TEXT PRIMARY KEY, tag_type TEXT NOT NULL, encoding TEXT NOT NULL, encoded BLOB NOT NULL, created_at INTEGER NOT NULL)`),
    );
    const db = ledger.db;
    this.#sql = {
      get: db.prepare<[string], { content_hash: string; tag_type: string; encoding: ImageEncoding; encoded: Buffer }>('SELECT * FROM label_images WHERE content_hash = ?'),
      put: db.prepare<[string, string, string, Buffer, number]>('INSERT OR IGNORE INTO label_images (content_hash, tag_type, encoding, encoded, created_at) VALUES (?, ?, ?, ?, ?)'),
      drop: db.prepare<[string]>('DELETE FROM label_images WHERE content_hash = ?'),
      hashes: db.prepare<[], string>('SELECT content_hash FROM label_images').pluck(),
      count: db.prepare<[], number>('SELECT count(*) FROM label_images').pluck(),
    };
  }

  get(contentHash: string): StoredImage | undefined {
    const row = this.#sql.get.get(contentHash);
    return row && { contentHash: row.content_hash, tagType: row.tag_type, encoding: row.encoding, encoded: row.encoded };
  }

  /** Stores an image (a no-op when the hash is there). Call inside the transaction of the desired event. */
  put(image: StoredImage, at: number): void {
    this.#sql.put.run(image.contentHash, image.tagType, image.encoding, image.encoded, at);
  }

  /** A tag's desired or shown hash now points at `hash`. */
  ref(hash: string | null): void {
    if (hash !== null) this.#refs.set(hash, (this.#refs.get(hash) ?? 0) + 1);
  }

  /** A tag's desired or shown hash moved away from `hash`; the image goes when nothing points at it. */
  unref(hash: string | null): void {
    if (hash === null) return;
    const n = (this.#refs.get(hash) ?? 0) - 1;
    if (n > 0) {
      this.#refs.set(hash, n);
      return;
    }
    this.#refs.delete(hash);
    this.#ledger.transaction(() => this.#sql.drop.run(hash));
  }

  /** After a rebuild (references counted again): drops images nothing points at any more. */
  collect(): number {
    let dropped = 0;
    const orphans = this.#sql.hashes.all().filter((hash) => !this.#refs.has(hash));
    if (orphans.length > 0) this.#ledger.transaction(() => orphans.forEach((hash) => (dropped += this.#sql.drop.run(hash).changes)));
    return dropped;
  }

  count(): number {
    return this.#sql.count.get() ?? 0;
  }
}
