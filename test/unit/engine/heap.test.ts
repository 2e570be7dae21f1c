import { ReadyHeap } from '../../../src/engine/heap';
import { OP_READ, Request } from '../../../src/engine/request';

function req(prio: number, seq: number): Request {
  const r = new Request(OP_READ, 3, 0, null, null, 0, prio, () => {}, null);
  r.seq = seq;
  return r;
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

  test('agrees with a sorted list over a seeded random run of pushes, pops and removals', () => {
    let a = 12345;
    const rand = (): number => {
      a = (Math.imul(a, 1103515245) + 12345) >>> 0;
      return a / 2 ** 32;
    };
    const h = new ReadyHeap();
    const live: Request[] = [];
    const byKey = (x: Request, y: Request): number => x.prio - y.prio || x.seq - y.seq;
    let seq = 0;
    let pops = 0;
    for (let step = 0; step < 5000; step++) {
      const roll = rand();
      if (roll < 0.5 || live.length === 0) {
        const r = req(Math.floor(rand() * 4), ++seq);
        h.push(r);
        live.push(r);
      } else if (roll < 0.75) {
        live.sort(byKey);
        expect(h.pop()).toBe(live.shift());
        pops++;
      } else {
        const i = Math.floor(rand() * live.length);
        const [r] = live.splice(i, 1) as [Request];
        h.remove(r);
        expect(r.heapIndex).toBe(-1);
      }
      expect(h.size).toBe(live.length);
    }
    live.sort(byKey);
    for (const r of live) expect(h.pop()).toBe(r);
    expect(h.pop()).toBeUndefined();
    expect(pops).toBeGreaterThan(1000);
  });
});
