/** One hand (or staff) on a tray during [startAt, endAt]. */
interface Booking {
  startAt: number;
  endAt: number;
}

/** Units of one SKU on one tray: `base` before `since`, then signed changes in time order. */
interface StockLine {
  base: number;
  changes: Array<{ at: number; units: number }>;
}

/** One hand on one tray, relative to the start of a slot (several make an episode that may overlap itself). */
export interface SlotRequest {
  trayId: string;
  offsetMs: number;
  durationMs: number;
}

/**
 * The script books actions out of time order (a person decides at t, arrives later), so the
 * trays' calendar and stock are kept as timelines: a new action is placed in the earliest slot
 * that keeps `quietMs` clear of every booking on its tray and the neighbouring trays, and a
 * pick only takes units the tray holds at that time and keeps holding for every booked pick
 * after it. Decision times never go back, so everything before the current one is folded away.
 */
export class TrayBook {
  readonly #quietMs: number;
  readonly #neighbours: ReadonlyMap<string, readonly string[]>;
  readonly #bookings = new Map<string, Booking[]>();
  readonly #stock = new Map<string, Map<string, StockLine>>();

  constructor(trays: Iterable<{ trayId: string; neighbours: readonly string[]; stock: ReadonlyMap<string, number> }>, quietMs: number) {
    this.#quietMs = quietMs;
    const neighbours = new Map<string, readonly string[]>();
    for (const tray of trays) {
      neighbours.set(tray.trayId, tray.neighbours);
      this.#bookings.set(tray.trayId, []);
      this.#stock.set(tray.trayId, new Map([...tray.stock].map(([sku, units]) => [sku, { base: units, changes: [] }])));
    }
    this.#neighbours = neighbours;
  }

  /**
   * The earliest start ≥ notBefore at which every request's hand fits: none comes within
   * quietMs of a booking on its tray or a neighbouring one. Requests of one episode may overlap
   * each other.
   */
  earliestSlot(requests: readonly SlotRequest[], notBefore: number): number {
    let start = notBefore;
    for (;;) {
      let next = start;
      for (const r of requests) {
        const from = start + r.offsetMs - this.#quietMs;
        const to = start + r.offsetMs + r.durationMs + this.#quietMs;
        for (const id of [r.trayId, ...(this.#neighbours.get(r.trayId) ?? [])]) {
          for (const b of this.#bookings.get(id) ?? []) {
            // The smallest start that clears this booking (always later than `start`).
            if (b.startAt < to && b.endAt > from) next = Math.max(next, b.endAt + this.#quietMs - r.offsetMs);
          }
        }
      }
      if (next === start) return start;
      start = next;
    }
  }

  book(trayId: string, startAt: number, endAt: number): void {
    const list = this.#bookings.get(trayId)!;
    let i = list.length;
    while (i > 0 && list[i - 1]!.startAt > startAt) i--;
    list.splice(i, 0, { startAt, endAt });
  }

  /** Units of `sku` a pick starting at `at` can take: the least the tray holds from then on. */
  available(trayId: string, sku: string, at: number): number {
    const line = this.#line(trayId, sku);
    let units = line.base;
    let least = Infinity;
    for (const c of line.changes) {
      if (c.at > at && units < least) least = units;
      units += c.units;
    }
    return Math.min(least, units);
  }

  /** Units of `sku` on the tray just after `at` (for restock decisions). */
  unitsAt(trayId: string, sku: string, at: number): number {
    const line = this.#line(trayId, sku);
    let units = line.base;
    for (const c of line.changes) if (c.at <= at) units += c.units;
    return units;
  }

  /** Every SKU the tray has held: its own, and units put on it by mistake (possibly none left). */
  skus(trayId: string): string[] {
    return [...this.#stock.get(trayId)!.keys()];
  }

  change(trayId: string, sku: string, at: number, units: number): void {
    const line = this.#line(trayId, sku);
    let i = line.changes.length;
    while (i > 0 && line.changes[i - 1]!.at > at) i--;
    line.changes.splice(i, 0, { at, units });
  }

  /** Forgets bookings that can no longer matter and folds stock changes before `now` into the base. */
  prune(now: number): void {
    for (const list of this.#bookings.values()) {
      let n = 0;
      while (n < list.length && list[n]!.endAt + this.#quietMs < now) n++;
      if (n > 0) list.splice(0, n);
    }
    for (const lines of this.#stock.values()) {
      for (const line of lines.values()) {
        let n = 0;
        while (n < line.changes.length && line.changes[n]!.at < now) line.base += line.changes[n++]!.units;
        if (n > 0) line.changes.splice(0, n);
      }
    }
  }

  #line(trayId: string, sku: string): StockLine {
    const lines = this.#stock.get(trayId)!;
    let line = lines.get(sku);
    if (line === undefined) {
      line = { base: 0, changes: [] };
      lines.set(sku, line);
    }
    return line;
  }
}
