/**
 * A binary min-heap of timed events, ordered by due time and then by insertion order (so two
 * events due at the same millisecond come out in the order they went in, as SimClock fires
 * timers). The radio of one gateway keeps its tens of thousands of check-ins here instead of
 * one clock timer each: SimClock finds its next timer by a linear scan, which is right for
 * tens of timers and far too slow for 20 000.
 */
export class EventHeap<T> {
  readonly #dues: number[] = [];
  readonly #seqs: number[] = [];
  readonly #items: T[] = [];
  #nextSeq = 0;

  get size(): number {
    return this.#items.length;
  }

  push(due: number, item: T): void {
    const dues = this.#dues;
    const seqs = this.#seqs;
    const items = this.#items;
    let i = items.length;
    const seq = this.#nextSeq++;
    dues.push(due);
    seqs.push(seq);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(due, seq, dues[parent]!, seqs[parent]!)) break;
      dues[i] = dues[parent]!;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    dues[i] = due;
    seqs[i] = seq;
    items[i] = item;
  }

  /** When the earliest event is due, or undefined when the heap is empty. */
  peekDue(): number | undefined {
    return this.#dues[0];
  }

  /** Removes and returns the earliest event. */
  pop(): T | undefined {
    const dues = this.#dues;
    const seqs = this.#seqs;
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const lastDue = dues.pop()!;
    const lastSeq = seqs.pop()!;
    const lastItem = items.pop()!;
    const n = items.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(dues[right]!, seqs[right]!, dues[left]!, seqs[left]!) ? right : left;
      if (!before(dues[child]!, seqs[child]!, lastDue, lastSeq)) break;
      dues[i] = dues[child]!;
      seqs[i] = seqs[child]!;
      items[i] = items[child]!;
      i = child;
    }
    dues[i] = lastDue;
    seqs[i] = lastSeq;
    items[i] = lastItem;
    return top;
  }

  clear(): void {
    this.#dues.length = 0;
    this.#seqs.length = 0;
    this.#items.length = 0;
  }
}

function before(dueA: number, seqA: number, dueB: number, seqB: number): boolean {
  return dueA < dueB || (dueA === dueB && seqA < seqB);
}
