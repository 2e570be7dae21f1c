/**
 * The ready heap: requests that may be dispatched, ordered by priority (lower
 * `prio` first) and then by submission order. A binary min-heap keeps push, pop and
 * removal of any element (cancellation) at O(log n); each request remembers its
 * index so that removal needs no search.
 */
import type { Request } from './request';

function before(a: Request, b: Request): boolean {
  return a.prio < b.prio || (a.prio === b.prio && a.seq < b.seq);
}

/** A min-heap of requests keyed on (prio, seq). */
export class ReadyHeap {
  readonly #items: Request[] = [];

  /** Number of requests in the heap. */
  get size(): number {
    return this.#items.length;
  }

  push(req: Request): void {
    const items = this.#items;
    req.heapIndex = items.length;
    items.push(req);
    this.#up(req.heapIndex);
  }

  /** Removes and returns the most urgent request, or undefined when empty. */
  pop(): Request | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.#removeAt(0);
    return top;
  }

  /** Removes `req` wherever it is. */
  remove(req: Request): void {
    if (req.heapIndex >= 0) this.#removeAt(req.heapIndex);
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const gone = items[i] as Request;
    const last = items.pop() as Request;
    gone.heapIndex = -1;
    if (i === items.length) return;
    items[i] = last;
    last.heapIndex = i;
    this.#down(i);
    this.#up(last.heapIndex);
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i] as Request;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as Request;
      if (!before(item, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const item = items[i] as Request;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && before(items[r] as Request, items[l] as Request)) c = r;
      const child = items[c] as Request;
      if (!before(child, item)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
