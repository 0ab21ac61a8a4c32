/** One stretch of time in which a SKU's current price differed from what one of its labels showed. */
export interface IntegrityWindow {
  sku: string;
  start: number;
  /** null while open. */
  end: number | null;
  lagMs: number;
}

export interface ChargedLine {
  sku: string;
  unitPriceMinor: number;
  /** When the unit was taken (or priced), ms since the epoch. */
  at: number;
}

export interface ChargeVerdict {
  /** The lowest price a confirmed label of the SKU showed at `at`; null when none showed one. */
  labelPriceMinor: number | null;
  /** The charge was above that price. */
  violation: boolean;
}

export interface IntegritySummary {
  windowsOpen: number;
  windowsClosed: number;
  /** Longest mismatch, open windows included (their age so far). */
  maxLagMs: number;
  totalLagMs: number;
  charges: number;
  violations: number;
  open: IntegrityWindow[];
  /** The most recent closed windows (at most `windowsKept`), newest last. */
  recent: IntegrityWindow[];
}

/** What one tag shows, for integrity: a known price, content the agent never rendered, or nothing (blank, never confirmed). */
export type ShownPrice = number | 'unknown' | null;

interface SkuBook {
  current: number | null;
  shown: Map<string, number | 'unknown'>;
  /** The lowest shown price from `from` on; the last entry is the present. */
  history: Array<{ from: number; price: number | null }>;
  openSince: number | null;
}

/**
 * Price integrity bookkeeping (ARCHITECTURE "Pricing and labels"; research/esl.md §5, §6.6):
 * - what each tag shows, per SKU, and from when;
 * - `labelPriceFor(sku, at)`: the lowest price any confirmed label of the SKU showed at `at` —
 *   the checkout charges min(current price, that) ("the lower price will be honoured");
 * - mismatch windows: from the instant a SKU's current price and one of its labels differ
 *   (a label showing content the agent never rendered counts as differing) until all agree;
 * - charges above the label price at that instant, counted as violations.
 * A blank label shows no price: it neither opens a window nor bounds the charge (the
 * 'label-stale' alert covers it).
 */
export class PriceIntegrity {
  readonly #books = new Map<string, SkuBook>();
  readonly #skuOfTag = new Map<string, string>();
  readonly #historyMs: number;
  readonly #windowsKept: number;
  readonly #recent: IntegrityWindow[] = [];
  #closed = 0;
  #maxClosedLagMs = 0;
  #totalLagMs = 0;
  #charges = 0;
  #violations = 0;

  constructor(options: { historyMs: number; windowsKept: number }) {
    this.#historyMs = options.historyMs;
    this.#windowsKept = options.windowsKept;
  }

  /** The SKU's price in force from `at` (null: the SKU has no price). */
  setCurrentPrice(sku: string, priceMinor: number | null, at: number): void {
    const book = this.#book(sku);
    if (book.current === priceMinor) return;
    book.current = priceMinor;
    this.#update(sku, book, at);
  }

  currentPrice(sku: string): number | null {
    return this.#books.get(sku)?.current ?? null;
  }

  /** What tag `tagId` (a label of `sku`) shows from `at`. */
  setShown(tagId: string, sku: string, shown: ShownPrice, at: number): void {
    const previousSku = this.#skuOfTag.get(tagId);
    if (previousSku !== undefined && previousSku !== sku) this.removeTag(tagId, at);
    const book = this.#book(sku);
    const before = book.shown.get(tagId) ?? null;
    if (before === shown) return;
    if (shown === null) {
      book.shown.delete(tagId);
      this.#skuOfTag.delete(tagId);
    } else {
      book.shown.set(tagId, shown);
      this.#skuOfTag.set(tagId, sku);
    }
    this.#update(sku, book, at);
  }

  /** The tag left the store model. */
  removeTag(tagId: string, at: number): void {
    const sku = this.#skuOfTag.get(tagId);
    if (sku === undefined) return;
    this.#skuOfTag.delete(tagId);
    const book = this.#book(sku);
    book.shown.delete(tagId);
    this.#update(sku, book, at);
  }

  /** The lowest price a confirmed label of `sku` showed at `at`, or null (none showed one, or `at` is older than the kept history). */
  labelPriceFor(sku: string, at: number): number | null {
    const history = this.#books.get(sku)?.history ?? [];
    for (let i = history.length - 1; i >= 0; i--) {
      if (history[i]!.from <= at) return history[i]!.price;
    }
    return null;
  }

  /** Judges one charged line against the label price at its instant. */
  recordCharge(line: ChargedLine): ChargeVerdict {
    this.#charges += 1;
    const labelPriceMinor = this.labelPriceFor(line.sku, line.at);
    const violation = labelPriceMinor !== null && line.unitPriceMinor > labelPriceMinor;
    if (violation) this.#violations += 1;
    return { labelPriceMinor, violation };
  }

  summary(now: number): IntegritySummary {
    const open: IntegrityWindow[] = [];
    for (const [sku, book] of this.#books) {
      if (book.openSince !== null) open.push({ sku, start: book.openSince, end: null, lagMs: now - book.openSince });
    }
    const openMax = open.reduce((max, w) => Math.max(max, w.lagMs), 0);
    return {
      windowsOpen: open.length,
      windowsClosed: this.#closed,
      maxLagMs: Math.max(this.#maxClosedLagMs, openMax),
      totalLagMs: this.#totalLagMs,
      charges: this.#charges,
      violations: this.#violations,
      open,
      recent: [...this.#recent],
    };
  }

  #book(sku: string): SkuBook {
    let book = this.#books.get(sku);
    if (!book) this.#books.set(sku, (book = { current: null, shown: new Map(), history: [], openSince: null }));
    return book;
  }

  #update(sku: string, book: SkuBook, at: number): void {
    let lowest: number | null = null;
    let mismatch = false;
    for (const shown of book.shown.values()) {
      if (shown === 'unknown') {
        mismatch = book.current !== null;
        continue;
      }
      lowest = lowest === null ? shown : Math.min(lowest, shown);
      if (book.current !== null && shown !== book.current) mismatch = true;
    }
    const last = book.history.at(-1);
    if (!last || last.price !== lowest) {
      if (last && last.from === at) last.price = lowest;
      else book.history.push({ from: at, price: lowest });
    }
    // Keep what a past instant within historyMs needs: the entry in force at now − historyMs and later ones.
    while (book.history.length > 1 && book.history[1]!.from <= at - this.#historyMs) book.history.shift();
    if (mismatch && book.openSince === null) book.openSince = at;
    if (!mismatch && book.openSince !== null) {
      const window: IntegrityWindow = { sku, start: book.openSince, end: at, lagMs: at - book.openSince };
      book.openSince = null;
      this.#closed += 1;
      this.#totalLagMs += window.lagMs;
      this.#maxClosedLagMs = Math.max(this.#maxClosedLagMs, window.lagMs);
      if (this.#windowsKept > 0) {
        this.#recent.push(window);
        if (this.#recent.length > this.#windowsKept) this.#recent.shift();
      }
    }
  }
}
