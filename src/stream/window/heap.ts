/**
 * A binary min-heap of items ordered by a numeric priority, ties broken by a comparator (the window
 * store's expiry queue: windows by close time, then by window and key, so that windows closing at
 * the same time come out in the same order whatever order they went in — e.g. after a restore).
 * push/pop O(log n), peek O(1).
 */

type Slot<T> = { readonly priority: number; readonly item: T };

/** A min-heap of `T` by `priority`, then by `tie`. */
export class MinHeap<T> {
  readonly #items: Slot<T>[] = [];
  readonly #tie: (a: T, b: T) => number;

  constructor(tie: (a: T, b: T) => number = () => 0) {
    this.#tie = tie;
  }

  #less(a: Slot<T>, b: Slot<T>): boolean {
    return a.priority < b.priority || (a.priority === b.priority && this.#tie(a.item, b.item) < 0);
  }

  get size(): number {
    return this.#items.length;
  }

  /** The smallest priority, or Infinity when empty. */
  peekPriority(): number {
    return this.#items[0]?.priority ?? Infinity;
  }

  push(priority: number, item: T): void {
    const a = this.#items;
    a.push({ priority, item });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(a[i]!, a[p]!)) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  /** Removes and returns the item with the smallest priority. */
  pop(): T | undefined {
    const a = this.#items;
    const top = a[0];
    if (top === undefined) return undefined;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.#less(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.#less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top.item;
  }

  clear(): void {
    this.#items.length = 0;
  }
}
