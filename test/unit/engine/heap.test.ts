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
});
