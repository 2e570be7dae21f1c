import { ReadyHeap } from '../../../src/engine/heap';
import { OP_READ, Request } from '../../../src/engine/request';

function req(prio: number, seq: number): Request {
  const r = new Request(OP_READ, 3, 0, null, null, 0, prio, () => {}, null);
  r.seq = seq;
  return r;
}

/**
 * Runs `steps` seeded random operations on a heap and a sorted reference list: a push
 * of `make(rand)` with probability `pPush` (always when empty), a pop with `pPop`, else
 * the removal of a random live request; checks every pop, removal and size, then
 * drains both. Returns the number of pops.
 */
function agreesWithSortedList(seed: number, steps: number, pPush: number, pPop: number, make: (rand: () => number) => Request): number {
  let a = seed;
  const rand = (): number => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return a / 2 ** 32;
  };
  const h = new ReadyHeap();
  const live: Request[] = [];
  const byKey = (x: Request, y: Request): number => x.prio - y.prio || x.seq - y.seq;
  let pops = 0;
  for (let step = 0; step < steps; step++) {
    const roll = rand();
    if (roll < pPush || live.length === 0) {
      const r = make(rand);
      h.push(r);
      live.push(r);
    } else if (roll < pPush + pPop) {
      live.sort(byKey);
      expect(h.pop()).toBe(live.shift());
      pops++;
    } else {
      const [r] = live.splice(Math.floor(rand() * live.length), 1) as [Request];
      h.remove(r);
      expect(r.heapIndex).toBe(-1);
    }
    expect(h.size).toBe(live.length);
  }
  live.sort(byKey);
  for (const r of live) expect(h.pop()).toBe(r);
  expect(h.pop()).toBeUndefined();
  return pops;
}

describe('ReadyHeap', () => {
  test('pops by priority, then by submission order', () => {
    const h = new ReadyHeap();
    const items = [req(5, 1), req(0, 2), req(5, 3), req(20, 4), req(0, 5), req(3, 6)];
    for (const r of items) h.push(r);
    const order: number[] = [];
    for (let r = h.pop(); r !== undefined; r = h.pop()) order.push(r.seq);
    expect(order).toEqual([2, 5, 6, 1, 3, 4]);
  });

  test('removes any element and keeps the order of the rest', () => {
    const h = new ReadyHeap();
    const items = Array.from({ length: 200 }, (_, i) => req((i * 7) % 21, i + 1));
    for (const r of items) h.push(r);
    const removed = new Set(items.filter((_, i) => i % 3 === 0));
    for (const r of removed) h.remove(r);
    for (const r of removed) expect(r.heapIndex).toBe(-1);
    const out: Request[] = [];
    for (let r = h.pop(); r !== undefined; r = h.pop()) out.push(r);
    const expected = items.filter((r) => !removed.has(r)).sort((a, b) => a.prio - b.prio || a.seq - b.seq);
    expect(out).toEqual(expected);
    expect(h.size).toBe(0);
  });

  test('removing an element not in the heap does nothing', () => {
    const h = new ReadyHeap();
    const a = req(1, 1);
    h.remove(a);
    h.push(a);
    expect(h.pop()).toBe(a);
    h.remove(a);
    expect(h.size).toBe(0);
  });

  test('removing a request whose slot names a place another holds (its number means something else) does nothing', () => {
    const h = new ReadyHeap();
    const queued = [req(0, 1), req(0, 2), req(5, 3), req(1, 4)]; // two in the run, two in the heap
    for (const r of queued) h.push(r);
    const stranger = req(0, 9);
    for (const slot of [0, 1, -2, -3, -1, 7, -40]) {
      stranger.slot = slot; // a blocked request's blocker count, a done one's result
      h.remove(stranger);
      expect(h.size).toBe(4);
    }
    const out: number[] = [];
    for (let r = h.pop(); r !== undefined; r = h.pop()) out.push(r.seq);
    expect(out).toEqual([1, 2, 4, 3]);
  });

  test('agrees with a sorted list over a seeded random run of pushes, pops and removals', () => {
    let seq = 0;
    const pops = agreesWithSortedList(12345, 5000, 0.5, 0.25, (rand) => req(Math.floor(rand() * 4), ++seq));
    expect(pops).toBeGreaterThan(1000);
  });

  describe('the run (requests pushed in order)', () => {
    test('in-order pushes go to the run and pop in order; an urgent or late-ready request still goes first', () => {
      const h = new ReadyHeap();
      const run = [req(0, 10), req(0, 11), req(0, 12), req(5, 13)];
      for (const r of run) h.push(r);
      expect(run.every((r) => r.heapIndex <= -2)).toBe(true);
      const urgent = req(0, 14); // more urgent than the run's last entry (5, 13): into the heap
      const late = req(0, 3); // made ready late: an older submission
      h.push(urgent);
      h.push(late);
      expect(urgent.heapIndex).toBeGreaterThanOrEqual(0);
      expect(late.heapIndex).toBeGreaterThanOrEqual(0);
      expect(h.size).toBe(6);
      const order: number[] = [];
      for (let r = h.pop(); r !== undefined; r = h.pop()) order.push(r.seq);
      expect(order).toEqual([3, 10, 11, 12, 14, 13]);
      expect([...run, urgent, late].every((r) => r.heapIndex === -1)).toBe(true);
    });

    test('removing from the run leaves a hole that pop skips; a push after a removed last entry still appends', () => {
      const h = new ReadyHeap();
      const a = req(0, 1);
      const b = req(0, 2);
      const c = req(0, 3);
      for (const r of [a, b, c]) h.push(r);
      h.remove(b);
      h.remove(c);
      expect([b.heapIndex, c.heapIndex]).toEqual([-1, -1]);
      const d = req(0, 4);
      h.push(d);
      expect(d.heapIndex).toBeLessThanOrEqual(-2);
      h.remove(c); // not queued any more: nothing happens
      expect(h.size).toBe(2);
      expect(h.pop()).toBe(a);
      expect(h.pop()).toBe(d);
      expect(h.pop()).toBeUndefined();
      expect(h.runSlots).toBe(0);
    });

    test('compaction renumbers what is left: removal by handle and pop order stay right', () => {
      const h = new ReadyHeap();
      const items = Array.from({ length: 1000 }, (_, i) => req(0, i + 1));
      for (const r of items) h.push(r);
      const gone = items.filter((_, i) => i % 5 !== 0 && i % 7 !== 0);
      for (const r of gone) h.remove(r);
      const left = items.filter((_, i) => i % 5 === 0 || i % 7 === 0);
      expect(h.size).toBe(left.length);
      expect(h.runSlots).toBeLessThan(items.length); // compacted at least once
      for (const r of left.filter((_, i) => i % 2 === 1)) h.remove(r);
      const out: Request[] = [];
      for (let r = h.pop(); r !== undefined; r = h.pop()) out.push(r);
      expect(out).toEqual(left.filter((_, i) => i % 2 === 0));
    });

    test('pushes and removals behind a front that never pops keep the run bounded', () => {
      const h = new ReadyHeap();
      const front = req(0, 1);
      h.push(front);
      let seq = 1;
      for (let i = 0; i < 100000; i++) {
        const r = req(0, ++seq);
        h.push(r);
        h.remove(r);
      }
      expect(h.size).toBe(1);
      expect(h.runSlots).toBeLessThanOrEqual(128);
      expect(h.pop()).toBe(front);
    });

    test('agrees with a sorted list over a seeded run of mostly in-order pushes, late ones, pops and removals', () => {
      let seq = 100000;
      let lateSeq = 0;
      // Mostly priority 0 in submission order; now and then an older one or another priority.
      const pops = agreesWithSortedList(777, 20000, 0.55, 0.25, (rand) => {
        const kind = rand();
        return kind < 0.9 ? req(0, ++seq) : kind < 0.95 ? req(0, ++lateSeq) : req(Math.floor(rand() * 3), ++seq);
      });
      expect(pops).toBeGreaterThan(4000);
    });
  });
});
