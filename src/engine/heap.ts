/**
 * The ready queue: requests that may be dispatched, ordered by priority (lower
 * `prio` first) and then by submission order.
 *
 * Two structures hold them:
 * - the run: a FIFO of requests pushed in (prio, seq) order, each after the one
 *   pushed before it. This is the usual case (equal priorities, requests ready in
 *   submission order), and there push, pop and removal cost O(1). Removal leaves a
 *   hole that pop skips; the array is compacted (and its indexes renumbered) when
 *   holes reach half of it, so the work stays O(1) amortised and the memory bounded.
 * - a binary min-heap for every other request (a more urgent priority, or one made
 *   ready late because it waited for an earlier request): push, pop and removal of
 *   any element in O(log n).
 * Pop takes the earlier of the two fronts. Each request remembers where it is
 * (`slot`, its heapIndex: its heap slot when >= 0, its run slot as -2 - slot when
 * <= -2, -1 once it left both) so that removal needs no search. The field means
 * other things in other states (request.ts): only READY requests are ever in here.
 */
import type { Request } from './request';

function before(a: Request, b: Request): boolean {
  return a.prio < b.prio || (a.prio === b.prio && a.seq < b.seq);
}

/** Run slots start here (req.slot = RUN - slot). */
const RUN = -2;
/** Below this many slots the run is never compacted. */
const COMPACT_MIN = 64;

/** The ready queue of requests, keyed on (prio, seq). */
export class ReadyHeap {
  readonly #items: Request[] = [];
  #run: Array<Request | null> = [];
  /** First slot of the run that may hold a request (the ones before are holes). */
  #head = 0;
  /** Requests in the run. */
  #inRun = 0;
  /** Key of the request pushed last into the run (removed or not): the next must come after it. */
  #lastPrio = 0;
  #lastSeq = 0;

  /** Number of requests queued. */
  get size(): number {
    return this.#items.length + this.#inRun;
  }

  /** @internal slots the run occupies, holes included (for tests of its bound). */
  get runSlots(): number {
    return this.#run.length;
  }

  push(req: Request): void {
    const prio = req.prio;
    if (this.#inRun === 0 || prio > this.#lastPrio || (prio === this.#lastPrio && req.seq > this.#lastSeq)) {
      const run = this.#run;
      req.slot = RUN - run.length;
      run.push(req);
      this.#inRun++;
      this.#lastPrio = prio;
      this.#lastSeq = req.seq;
      return;
    }
    const items = this.#items;
    req.slot = items.length;
    items.push(req);
    this.#up(req.slot);
  }

  /** Removes and returns the most urgent request, or undefined when empty. */
  pop(): Request | undefined {
    const top = this.#items[0];
    if (this.#inRun === 0) {
      if (top !== undefined) this.#removeAt(0);
      return top;
    }
    const run = this.#run;
    let h = this.#head;
    while (run[h] === null) h++;
    this.#head = h;
    const first = run[h] as Request;
    if (top !== undefined && before(top, first)) {
      this.#removeAt(0);
      return top;
    }
    run[h] = null;
    this.#head = h + 1;
    first.slot = -1;
    this.#leftRun();
    return first;
  }

  /**
   * Removes `req` wherever it is; nothing when it is not here (its slot then means
   * something else, or nothing: the slot it names must hold it).
   */
  remove(req: Request): void {
    const i = req.slot;
    if (i >= 0) {
      if (this.#items[i] === req) this.#removeAt(i);
    } else if (i <= RUN && this.#run[RUN - i] === req) {
      this.#run[RUN - i] = null;
      req.slot = -1;
      this.#leftRun();
    }
  }

  /** Bookkeeping after a request left the run: reset when empty, compact when half holes. */
  #leftRun(): void {
    const left = --this.#inRun;
    const run = this.#run;
    if (left === 0) {
      run.length = 0;
      this.#head = 0;
    } else if (run.length >= COMPACT_MIN && left * 2 <= run.length) {
      const kept: Array<Request | null> = [];
      for (let i = this.#head; i < run.length; i++) {
        const r = run[i] as Request | null;
        if (r === null) continue;
        r.slot = RUN - kept.length;
        kept.push(r);
      }
      this.#run = kept;
      this.#head = 0;
    }
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const gone = items[i] as Request;
    const last = items.pop() as Request;
    gone.slot = -1;
    if (i === items.length) return;
    items[i] = last;
    last.slot = i;
    this.#down(i);
    this.#up(last.slot);
  }

  #up(i: number): void {
    const items = this.#items;
    const item = items[i] as Request;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex] as Request;
      if (!before(item, parent)) break;
      items[i] = parent;
      parent.slot = i;
      i = parentIndex;
    }
    items[i] = item;
    item.slot = i;
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
      child.slot = i;
      i = c;
    }
    items[i] = item;
    item.slot = i;
  }
}
