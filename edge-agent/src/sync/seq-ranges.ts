/**
 * A set of outbox ids held as sorted, disjoint, inclusive ranges: the ids the relay sent and HQ
 * has not acknowledged yet. An ack counts only for ids in it (docs/sync.md: the store marks sent
 * only what it sent), and it stays a handful of ranges however many rows go up.
 */
export class SeqRanges {
  /** Sorted by start; no two touch or overlap. */
  #ranges: Array<[number, number]> = [];

  /** Adds [from, to]. */
  add(from: number, to: number): void {
    if (!(from <= to)) return;
    const next: Array<[number, number]> = [];
    let merged: [number, number] = [from, to];
    let placed = false;
    for (const range of this.#ranges) {
      if (range[1] + 1 < merged[0]) next.push(range);
      else if (merged[1] + 1 < range[0]) {
        if (!placed) {
          next.push(merged);
          placed = true;
        }
        next.push(range);
      } else merged = [Math.min(range[0], merged[0]), Math.max(range[1], merged[1])];
    }
    if (!placed) next.push(merged);
    this.#ranges = next;
  }

  /** Removes [from, to]. */
  remove(from: number, to: number): void {
    if (!(from <= to)) return;
    const next: Array<[number, number]> = [];
    for (const [a, b] of this.#ranges) {
      if (b < from || a > to) next.push([a, b]);
      else {
        if (a < from) next.push([a, from - 1]);
        if (b > to) next.push([to + 1, b]);
      }
    }
    this.#ranges = next;
  }

  has(id: number): boolean {
    return this.#ranges.some(([a, b]) => a <= id && id <= b);
  }

  /** The ids of [from, to] that are in the set, ascending. */
  idsWithin(from: number, to: number): number[] {
    const ids: number[] = [];
    for (const [a, b] of this.#ranges) {
      for (let id = Math.max(a, from); id <= Math.min(b, to); id++) ids.push(id);
    }
    return ids;
  }
}
