/**
 * Request merging (engine/queue.ts #gather): ready requests of one op whose byte
 * ranges continue one another share one readv/writev, and every request still gets
 * the result it would have had alone. Held backend with an in-flight cap of 1: the
 * first request holds the only slot, so what is submitted behind it is queued and
 * merged when the slot frees.
 */
import { constants as osConstants } from 'node:os';
import type { Lane } from '../../../src/engine/lane';
import { Engine, MERGE_MIN_HITS, MERGE_RETRY, MERGE_WINDOW } from '../../../src/engine/queue';
import { OP_FSYNC, OP_READ, OP_WRITE, type Op, Request } from '../../../src/engine/request';
import { HeldBackend } from '../../helpers/held-backend';
import { flush, mustCall } from '../../helpers/mustcall';

const { ECANCELED, EIO, ENOSPC } = osConstants.errno;

let eng: Engine;
let held: HeldBackend;
/** Completion order, as request labels. */
let order: string[];

beforeEach(() => {
  eng = new Engine();
  held = new HeldBackend().open(10).open(11).open(20, { seekable: false }).open(30, { append: true });
  held.use(1, eng);
  order = [];
});

afterEach(() => {
  held.autoRelease = 0;
  held.releaseAll();
});

/** Submits `op` of `len` bytes at `pos` on `fd`; its done hook must run exactly once. */
function submit(label: string, op: Op, fd: number, pos: number | bigint | null, len: number, prio = 0): Request {
  const buf = op <= OP_WRITE ? new Uint8Array(len).fill(label.charCodeAt(0)) : null;
  const done = mustCall((r: Request) => {
    order.push(label);
    expect(r.state).toBe(3);
  });
  const req = new Request(op, fd, pos, buf, null, len, prio, done, label);
  const lane = eng.laneFor(fd);
  if (typeof lane === 'number') throw new Error(`fd ${fd} not open`);
  eng.submit(req, lane);
  return req;
}

/** Releases pending ops one by one (oldest first) until none is left. */
async function drain(): Promise<void> {
  while (held.pending.length > 0) {
    held.releaseNext();
    await flush(1);
  }
}

/** What the held backend dispatched: "op@position/length". */
function dispatched(): string[] {
  return held.log.map((o) => `${o.op}@${String(o.position)}/${o.length}`);
}

describe('Engine: merging adjacent requests', () => {
  test('ready reads that continue one another share one readv, and each gets its own count', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    const reqs = [0, 1, 2, 3].map((i) => submit(`r${i}`, OP_READ, 10, i * 4096, 4096));
    held.releaseNext();
    await flush(1);
    expect(dispatched()).toEqual(['read@0/1', 'readv@0/16384']);
    expect(held.pending[0]?.buffers).toHaveLength(4);
    expect(eng.counters).toMatchObject({ inFlight: 4, queued: 0 });
    held.releaseNext();
    await flush(1);
    expect(reqs.map((r) => [r.error, r.value])).toEqual([[0, 4096], [0, 4096], [0, 4096], [0, 4096]]);
    expect(order).toEqual(['blocker', 'r0', 'r1', 'r2', 'r3']);
    expect(eng.counters).toMatchObject({ merged: 4, completed: 5, queued: 0, inFlight: 0 });
  });

  test('merges backwards and forwards from the request dispatched, in file order, and completes in submission order', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('b', OP_READ, 10, 100, 10);
    submit('a', OP_READ, 10, 90, 10);
    submit('c', OP_READ, 10, 110, 10);
    held.releaseNext();
    await flush(1);
    // 'b' is dispatched first (submission order); 'a' precedes it in the file, 'c' follows.
    expect(dispatched()).toEqual(['read@0/1', 'readv@90/30']);
    const bufs = held.pending[0]?.buffers.map((b) => b.byteLength);
    expect(bufs).toEqual([10, 10, 10]);
    held.releaseNext();
    await flush(1);
    expect(order).toEqual(['blocker', 'b', 'a', 'c']);
  });

  test('adjacent writes share one writev whose buffers are the writes in file order', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('x', OP_WRITE, 10, 8, 8);
    submit('w', OP_WRITE, 10, 0, 8);
    held.releaseNext();
    await flush(1);
    expect(dispatched()).toEqual(['read@0/1', 'writev@0/16']);
    const bytes = held.pending[0]?.buffers.map((b) => String.fromCharCode((b as Uint8Array)[0] ?? 0));
    expect(bytes).toEqual(['w', 'x']);
    held.releaseNext();
    await flush(1);
    expect(order).toEqual(['blocker', 'x', 'w']);
  });

  test('does not merge across a gap, across ops, across descriptors, or requests that overlap', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('r0', OP_READ, 10, 0, 10);
    submit('gap', OP_READ, 10, 11, 10);
    submit('w', OP_WRITE, 10, 10, 1); // adjacent to r0, but a write
    submit('other', OP_READ, 11, 10, 10); // adjacent by position, other descriptor
    await drain();
    expect(dispatched()).toEqual(['read@0/1', 'read@0/10', 'read@11/10', 'write@10/1', 'read@10/10']);
    expect(eng.counters.merged).toBe(0);
  });

  test('never merges requests that are not ready: one waiting for an overlapping write stays behind', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('w', OP_WRITE, 10, 10, 10);
    submit('r0', OP_READ, 10, 0, 10);
    submit('r1', OP_READ, 10, 10, 10); // overlaps w: blocked until w completes
    held.releaseNext();
    await flush(1);
    // w and r0 are ready (different ops: not merged); r1 waits for w.
    expect(dispatched()).toEqual(['read@0/1', 'write@10/10']);
    held.releaseNext();
    await flush(1);
    // r0 and r1 are now both ready and adjacent.
    expect(dispatched()).toEqual(['read@0/1', 'write@10/10', 'readv@0/20']);
    held.releaseAll();
    await flush(1);
    expect(order).toEqual(['blocker', 'w', 'r0', 'r1']);
  });

  test('never merges gated requests: O_APPEND writes, non-seekable descriptors, current-position I/O, barriers', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('a0', OP_WRITE, 30, 0, 4);
    submit('a1', OP_WRITE, 30, 4, 4);
    submit('p0', OP_READ, 20, 0, 4);
    submit('p1', OP_READ, 20, 4, 4);
    submit('c0', OP_READ, 10, null, 4);
    submit('c1', OP_READ, 10, null, 4);
    submit('s', OP_FSYNC, 10, 0, 0);
    await drain();
    expect(held.log.filter((o) => o.op === 'readv' || o.op === 'writev')).toEqual([]);
    expect(eng.counters.merged).toBe(0);
  });

  test('a canceled request is not merged and is never touched', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('r0', OP_READ, 10, 0, 10);
    const r1 = submit('r1', OP_READ, 10, 10, 10);
    submit('r2', OP_READ, 10, 20, 10);
    eng.cancel(r1);
    await drain();
    expect(dispatched()).toEqual(['read@0/1', 'read@0/10', 'read@20/10']);
    // The cancel completes r1 at once; r0 and r2 are no longer adjacent.
    expect(order).toEqual(['r1', 'blocker', 'r0', 'r2']);
  });

  test('respects mergeMaxRequests and mergeMaxBytes', async () => {
    eng.mergeMaxRequests = 3;
    submit('blocker', OP_READ, 11, 0, 1);
    for (let i = 0; i < 7; i++) submit(`r${i}`, OP_READ, 10, i * 10, 10);
    await drain();
    expect(dispatched()).toEqual(['read@0/1', 'readv@0/30', 'readv@30/30', 'read@60/10']);
    held.log.length = 0;
    eng.mergeMaxRequests = 64;
    eng.mergeMaxBytes = 25;
    submit('blocker2', OP_READ, 11, 0, 1);
    for (let i = 0; i < 5; i++) submit(`s${i}`, OP_READ, 10, i * 10, 10);
    await drain();
    expect(dispatched()).toEqual(['read@0/1', 'readv@0/20', 'readv@20/20', 'read@40/10']);
  });

  test('mergeMaxRequests = 1 turns merging off', async () => {
    eng.mergeMaxRequests = 1;
    submit('blocker', OP_READ, 11, 0, 1);
    for (let i = 0; i < 4; i++) submit(`r${i}`, OP_READ, 10, i * 10, 10);
    await drain();
    expect(dispatched()).toEqual(['read@0/1', 'read@0/10', 'read@10/10', 'read@20/10', 'read@30/10']);
    expect(eng.counters.merged).toBe(0);
  });

  test('a short merged read (end of file) gives what each read alone would: full, partial, then 0 run alone', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    const r = [0, 1, 2, 3].map((i) => submit(`r${i}`, OP_READ, 10, i * 10, 10));
    held.releaseNext();
    await flush(1);
    held.releaseNext({ bytes: 15 }); // the file ends at byte 15
    await flush(1);
    expect(r[0]?.value).toBe(10);
    expect(r[1]?.value).toBe(5);
    // r2 and r3 were not reached: each runs alone, one after the other, in the same slot.
    expect(dispatched()).toEqual(['read@0/1', 'readv@0/40', 'read@20/10']);
    expect(eng.counters).toMatchObject({ inFlight: 2 });
    held.releaseNext({ bytes: 0 });
    await flush(1);
    expect(dispatched()).toEqual(['read@0/1', 'readv@0/40', 'read@20/10', 'read@30/10']);
    held.releaseNext({ bytes: 0 });
    await flush(1);
    expect(r.map((q) => [q.error, q.value])).toEqual([[0, 10], [0, 5], [0, 0], [0, 0]]);
    expect(order).toEqual(['blocker', 'r0', 'r1', 'r2', 'r3']);
  });

  test('a failed merged call runs every request alone, so each reports its own result', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    const w = [0, 1, 2].map((i) => submit(`w${i}`, OP_WRITE, 10, i * 10, 10));
    held.releaseNext();
    await flush(1);
    held.releaseNext({ error: 'EIO' });
    await flush(1);
    expect(w.every((q) => q.pending)).toBe(true);
    held.releaseNext(); // w0 alone: succeeds
    await flush(1);
    held.releaseNext({ bytes: 4 }); // w1 alone: short (disk filling up)
    await flush(1);
    held.releaseNext({ error: 'ENOSPC' }); // w2 alone: no space
    await flush(1);
    expect(w.map((q) => [q.error, q.value])).toEqual([[0, 10], [0, 4], [ENOSPC, -1]]);
    expect(dispatched()).toEqual(['read@0/1', 'writev@0/30', 'write@0/10', 'write@10/10', 'write@20/10']);
    expect(eng.counters).toMatchObject({ failed: 1, inFlight: 0, queued: 0 });
  });

  test('a merged call keeps one slot of the in-flight cap', async () => {
    eng.setMaxInFlight(2);
    submit('blocker', OP_READ, 11, 0, 1);
    submit('blocker2', OP_READ, 11, 10, 1);
    for (let i = 0; i < 8; i++) submit(`r${i}`, OP_READ, 10, i * 10, 10);
    submit('far', OP_READ, 10, 1000, 10);
    held.releaseNext();
    await flush(1);
    // One slot freed: r0..r7 go as one readv; 'far' waits for a slot.
    expect(held.pending.map((o) => o.op)).toEqual(['read', 'readv']);
    held.releaseNext();
    await flush(1);
    expect(held.pending.map((o) => `${o.op}@${String(o.position)}`)).toEqual(['readv@0', 'read@1000']);
    held.releaseAll();
    await flush(1);
  });

  test('a barrier after merged writes reports the first failure among them', async () => {
    submit('blocker', OP_READ, 11, 0, 1);
    submit('w0', OP_WRITE, 10, 0, 10);
    submit('w1', OP_WRITE, 10, 10, 10);
    const s = submit('sync', OP_FSYNC, 10, 0, 0);
    held.releaseNext();
    await flush(1);
    held.releaseNext({ error: 'EIO' }); // merged writev fails: run alone
    await flush(1);
    held.releaseNext({ error: 'EIO' }); // w0 alone fails
    await flush(1);
    held.releaseNext(); // w1 alone succeeds
    await flush(1);
    held.releaseNext(); // the fsync itself succeeds
    await flush(1);
    expect(s.error).toBe(EIO);
    expect(order).toEqual(['blocker', 'w0', 'w1', 'sync']);
  });

  test('a whole write cut short while its descriptor is being closed ends there, with ECANCELED and the bytes written', async () => {
    const req = new Request(OP_WRITE, 10, 0, new Uint8Array(8), null, 8, 0, mustCall(), null);
    req.whole = true;
    eng.submit(req, eng.laneFor(10) as Lane);
    const closed = eng.close(10);
    held.releaseNext({ bytes: 3 });
    await flush(1);
    expect([req.error, req.partial]).toEqual([ECANCELED, 3]);
    // The rest is never written: the held backend closes at once (close is not held).
    expect(await closed).toBe(0);
    expect(held.log.map((o) => o.op)).toEqual(['write']);
  });

  test('a whole write cut short is continued in place, before a later overlapping write', async () => {
    const req = new Request(OP_WRITE, 10, 0, new Uint8Array(8), null, 8, 0, mustCall(), null);
    req.whole = true;
    eng.submit(req, eng.laneFor(10) as Lane);
    submit('later', OP_WRITE, 10, 4, 2);
    held.releaseNext({ bytes: 3 });
    await flush(1);
    expect(dispatched()).toEqual(['write@0/8', 'writev@3/5']);
    await drain();
    expect(dispatched()).toEqual(['write@0/8', 'writev@3/5', 'write@4/2']);
    expect([req.error, req.value]).toEqual([0, 8]);
  });
});

describe('Engine: the merge index is bounded', () => {
  test('past 4096 ready requests of one op on a descriptor the rest are not indexed, and every request still completes once with its own count', async () => {
    submit('first', OP_READ, 10, 10_000_000, 1); // holds the only slot
    const reqs: Request[] = [];
    for (let i = 0; i < 4100; i++) reqs.push(submit(`r${i}`, OP_READ, 10, i * 8, 4));
    const lane = eng.laneFor(10) as Lane;
    expect(lane.indexedCount(OP_READ)).toBe(4096);
    await drain();
    expect(reqs.every((r) => r.error === 0 && r.value === 4)).toBe(true);
    expect(lane.indexedCount(OP_READ)).toBe(0);
  });
});

describe('Engine: descriptors where merging rarely pays stop indexing', () => {
  /** Positions no two of which are adjacent (8 KiB apart, in a scattered order). */
  const scattered = (n: number, base = 0): number[] => Array.from({ length: n }, (_, i) => base + ((i * 7919) % n) * 8192);

  /**
   * Behind a blocker (the only slot), submits reads on fd 10 that make MERGE_WINDOW + 1
   * calls, `pairs` of them two adjacent reads, and lets the first MERGE_WINDOW calls be
   * dispatched (the window is judged); the last call then waits and keeps the lane (and
   * its statistics). Every done hook is checked to run once by the test's drain.
   */
  async function window(pairs: number): Promise<Lane> {
    submit('blocker', OP_READ, 11, 0, 1);
    const positions = scattered(MERGE_WINDOW + 1 - pairs, 1 << 28);
    for (let i = 0; i < pairs; i++) positions.unshift(i * 65536, i * 65536 + 4096);
    positions.forEach((p, i) => submit(`a${i}`, OP_READ, 10, p, 4096));
    for (let i = 0; i < MERGE_WINDOW; i++) {
      held.releaseNext();
      await flush(1);
    }
    const lane = eng.laneFor(10) as Lane;
    expect(lane.mergeTries).toBe(0); // a window was just judged
    return lane;
  }

  test(`fewer than ${MERGE_MIN_HITS} merges in ${MERGE_WINDOW} dispatches: new ready requests are not indexed; each still completes once`, async () => {
    const lane = await window(MERGE_MIN_HITS - 1);
    expect(lane.mergeOff).toBe(true);
    const indexed = lane.indexedCount(OP_READ); // the last of the run, if not yet dispatched
    for (const [i, p] of scattered(10, 1 << 24).entries()) submit(`b${i}`, OP_READ, 10, p, 4096);
    expect(lane.indexedCount(OP_READ)).toBe(indexed);
    await drain();
    expect(order.filter((l) => /^b\d/.test(l))).toHaveLength(10);
  });

  test(`${MERGE_MIN_HITS} merges in ${MERGE_WINDOW} dispatches keep merging on`, async () => {
    const lane = await window(MERGE_MIN_HITS);
    expect(lane.mergeOff).toBe(false);
    await drain();
  });

  test('a request that continues the previous one turns merging back on, and the run after it merges', async () => {
    const lane = await window(0);
    expect(lane.mergeOff).toBe(true);
    const base = 1 << 25;
    const indexed = lane.indexedCount(OP_READ);
    const seq = [0, 1, 2, 3].map((i) => submit(`s${i}`, OP_READ, 10, base + i * 4096, 4096));
    expect(lane.mergeOff).toBe(false);
    expect(lane.indexedCount(OP_READ) - indexed).toBe(3); // the first of the run came before the run was seen
    const before = eng.counters.merged;
    await drain();
    expect(eng.counters.merged - before).toBe(4);
    expect(seq.map((r) => r.value)).toEqual([4096, 4096, 4096, 4096]);
  });

  test('the verdict outlives the lane: a descriptor whose queue drains keeps merging off for the same file, not for another file on its number', async () => {
    const lane = await window(0);
    expect(lane.mergeOff).toBe(true);
    await drain();
    // Emptied: the next request makes a new lane, which takes over what this one learned.
    const again = eng.laneFor(10) as Lane;
    expect(again).not.toBe(lane);
    expect(again.mergeOff).toBe(true);
    for (const [i, p] of scattered(10, 1 << 24).entries()) submit(`d${i}`, OP_READ, 10, p, 4096);
    expect((eng.laneFor(10) as Lane).indexedCount(OP_READ)).toBe(0);
    await drain();
    // The number now names another file: it starts afresh.
    held.reopen(10);
    const fresh = eng.laneFor(10) as Lane;
    expect(fresh.mergeOff).toBe(false);
    expect(fresh.mergeTries).toBe(0);
    expect(order.filter((l) => l.startsWith('d'))).toHaveLength(10);
  });

  test(`a descriptor left out of the index is tried again after ${MERGE_RETRY} requests`, async () => {
    const lane = await window(0);
    const indexed = lane.indexedCount(OP_READ);
    for (const [i, p] of scattered(MERGE_RETRY, 1 << 26).entries()) submit(`c${i}`, OP_READ, 10, p, 4096);
    expect(lane.mergeOff).toBe(false);
    expect(lane.indexedCount(OP_READ) - indexed).toBe(1);
    await drain();
    expect(order.filter((l) => l.startsWith('c'))).toHaveLength(MERGE_RETRY);
  });
});
