import { constants as osConstants } from 'node:os';
import { ALL_DONE, CANCELED, DEFAULTS, Engine, NOT_CANCELED, threadPoolSize } from '../../../src/engine/queue';
import type { Lane } from '../../../src/engine/lane';
import { OP_FSYNC, OP_READ, OP_WRITE, type Op, Request } from '../../../src/engine/request';
import { HeldBackend } from '../../helpers/held-backend';
import { flush, mustCall } from '../../helpers/mustcall';

const { EBADF, ECANCELED, EIO, EOVERFLOW } = osConstants.errno;

let eng: Engine;
let held: HeldBackend;

beforeEach(() => {
  eng = new Engine();
  held = new HeldBackend().open(10).open(11).open(20, { seekable: false }).open(30, { append: true });
  held.use(1, eng);
});

afterEach(() => {
  held.autoRelease = 0;
  held.releaseAll();
});

interface Made {
  req: Request;
  done: ReturnType<typeof mustCall<[Request]>>;
}

/** Submits an op and returns it with an exactly-once done hook. */
function submit(op: Op, fd: number, pos: number | bigint, len: number, prio = 0): Made {
  const done = mustCall<[Request]>();
  const buf = op <= OP_WRITE ? new Uint8Array(Math.max(len, 1)) : null;
  const req = new Request(op, fd, pos, buf, null, len, prio, done, null);
  const lane = eng.laneFor(fd);
  if (typeof lane === 'number') eng.submitFailed(req, lane);
  else eng.submit(req, lane);
  return { req, done };
}

/** What the held backend has dispatched so far, as "op fd@pos". */
function dispatched(): string[] {
  return held.log.map((o) => `${o.op} ${o.fd}@${String(o.position)}`);
}

/** Releases pending ops one by one (oldest first) until none is left. */
async function drain(): Promise<void> {
  while (held.pending.length > 0) {
    held.releaseNext();
    await flush(1);
  }
}

describe('Engine: priorities', () => {
  test('dispatches ready requests by aio_reqprio, then in submission order', async () => {
    submit(OP_READ, 10, 0, 4); // takes the single in-flight slot
    submit(OP_READ, 10, 100, 4, 5);
    submit(OP_READ, 10, 200, 4, 0);
    submit(OP_READ, 10, 300, 4, 20);
    submit(OP_READ, 11, 400, 4, 0);
    submit(OP_READ, 10, 500, 4, 5);
    await drain();
    expect(dispatched()).toEqual(['read 10@0', 'read 10@200', 'read 11@400', 'read 10@100', 'read 10@500', 'read 10@300']);
  });

  test('a request made ready late still goes before later submissions of its priority', async () => {
    eng.setMaxInFlight(1);
    submit(OP_WRITE, 10, 0, 10); // in flight
    submit(OP_READ, 10, 0, 10); // blocked by the write
    submit(OP_READ, 10, 100, 10); // ready at once
    expect(held.pending).toHaveLength(1);
    await drain();
    expect(dispatched()).toEqual(['write 10@0', 'read 10@0', 'read 10@100']);
  });
});

describe('Engine: ordering on a seekable descriptor', () => {
  test('reads run in parallel with each other', async () => {
    eng.setMaxInFlight(4);
    for (let i = 0; i < 4; i++) submit(OP_READ, 10, 0, 4096);
    expect(held.pending).toHaveLength(4);
    await drain();
  });

  test('non-overlapping writes run in parallel', async () => {
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 10, 0, 10);
    submit(OP_WRITE, 10, 10, 10);
    submit(OP_WRITE, 10, 20, 10);
    expect(held.pending).toHaveLength(3);
    await drain();
  });

  test('a write alone on its descriptor does not read its flags; a second request does, and the first write is then an ordinary one', async () => {
    eng.setMaxInFlight(4);
    for (let i = 0; i < 3; i++) {
      submit(OP_WRITE, 10, i * 100, 10); // queue depth 1: each write alone on the descriptor
      await drain();
    }
    expect(held.flagReads).toBe(0);
    const first = submit(OP_WRITE, 10, 0, 10);
    expect(first.req.gated).toBe(true);
    const second = submit(OP_WRITE, 10, 10, 10);
    expect(held.flagReads).toBe(1);
    // Not O_APPEND: the first write is positioned again, and the second does not wait for it.
    expect(first.req.gated).toBe(false);
    expect(second.req.blockers).toBe(0);
    expect(held.pending).toHaveLength(2);
    await drain();
  });

  test('on an O_APPEND descriptor a lone write stays gated, and the next write waits for it', async () => {
    eng.setMaxInFlight(4);
    const first = submit(OP_WRITE, 30, 0, 10);
    const second = submit(OP_WRITE, 30, 100, 10);
    expect([first.req.gated, second.req.gated]).toEqual([true, true]);
    expect(held.pending).toHaveLength(1);
    await drain();
    expect(second.req.error).toBe(0);
  });

  test('a write waits for an earlier overlapping read, and a read for an earlier overlapping write', async () => {
    eng.setMaxInFlight(4);
    submit(OP_READ, 10, 0, 10);
    submit(OP_WRITE, 10, 5, 10); // overlaps the read
    submit(OP_READ, 10, 12, 1); // overlaps the write
    submit(OP_READ, 10, 50, 1); // overlaps nothing
    expect(dispatched()).toEqual(['read 10@0', 'read 10@50']);
    held.releaseNext();
    await flush(1);
    expect(dispatched()).toEqual(['read 10@0', 'read 10@50', 'write 10@5']);
    held.pending.find((o) => o.op === 'write')?.release();
    await flush(1);
    expect(dispatched()).toEqual(['read 10@0', 'read 10@50', 'write 10@5', 'read 10@12']);
    await drain();
  });

  test('overlapping writes complete in submission order whatever their priorities', async () => {
    eng.setMaxInFlight(4);
    const a = submit(OP_WRITE, 10, 0, 10, 20);
    const b = submit(OP_WRITE, 10, 5, 10, 0);
    expect(held.pending.map((o) => o.position)).toEqual([0]);
    await drain();
    expect(a.req.seq).toBeLessThan(b.req.seq);
    expect(dispatched()).toEqual(['write 10@0', 'write 10@5']);
  });

  test('requests on different descriptors do not wait for each other', async () => {
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 10, 0, 10);
    submit(OP_WRITE, 11, 0, 10);
    expect(held.pending).toHaveLength(2);
    await drain();
  });

  test('zero-length requests overlap nothing', async () => {
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 10, 0, 10);
    submit(OP_READ, 10, 5, 0);
    expect(held.pending).toHaveLength(2);
    await drain();
  });
});

describe('Engine: ordering on non-seekable and O_APPEND descriptors', () => {
  test('every request on a pipe waits for all earlier ones, and positions are dropped', async () => {
    eng.setMaxInFlight(4);
    submit(OP_READ, 20, 0, 4);
    submit(OP_READ, 20, 999, 4);
    submit(OP_WRITE, 20, 5, 4);
    expect(held.pending).toHaveLength(1);
    await drain();
    expect(dispatched()).toEqual(['read 20@null', 'read 20@null', 'write 20@null']);
  });

  test('writes on an O_APPEND descriptor wait for every earlier request; reads wait for earlier writes', async () => {
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 30, 0, 4);
    submit(OP_WRITE, 30, 1000, 4);
    submit(OP_READ, 30, 5000, 4); // an append write may land anywhere at the end: wait
    expect(dispatched()).toEqual(['write 30@0']);
    await drain();
    expect(dispatched()).toEqual(['write 30@0', 'write 30@1000', 'read 30@5000']);
  });

  test('writes are ordered when the descriptor flags cannot be read', async () => {
    held.fdflags = () => null;
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 11, 0, 4);
    submit(OP_WRITE, 11, 100, 4);
    expect(held.pending).toHaveLength(1);
    await drain();
  });
});

describe('Engine: fsync barriers', () => {
  test('an fsync waits for every earlier request on its descriptor, whatever their priorities', async () => {
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 10, 0, 10, 20);
    submit(OP_READ, 10, 100, 10, 20);
    const f = submit(OP_FSYNC, 10, 0, 0, 0);
    submit(OP_READ, 10, 200, 10); // later reads are not held back by the barrier
    expect(dispatched()).toEqual(['write 10@0', 'read 10@100', 'read 10@200']);
    held.releaseNext();
    await flush(1);
    expect(held.pending.map((o) => o.op)).not.toContain('fsync');
    held.releaseNext();
    await flush(1);
    expect(held.pending.map((o) => o.op)).toContain('fsync');
    await drain();
    expect(f.req.error).toBe(0);
  });

  test('an fsync reports the first failure of a write it covers', async () => {
    eng.setMaxInFlight(4);
    submit(OP_WRITE, 10, 0, 10);
    submit(OP_WRITE, 10, 10, 10);
    const f = submit(OP_FSYNC, 10, 0, 0);
    const later = submit(OP_WRITE, 10, 100, 10);
    held.pending[1]?.release({ error: 'ENOSPC' });
    held.pending[0]?.release({ error: 'EIO' });
    await drain();
    expect(later.req.error).toBe(0); // completed normally; not covered by anything
    expect(f.req.error).toBe(osConstants.errno.ENOSPC);
    expect(f.req.value).toBe(-1);
  });

  test('canceled writes and writes submitted after the fsync do not count', async () => {
    eng.setMaxInFlight(1);
    submit(OP_READ, 11, 0, 1); // holds the only slot
    const w = submit(OP_WRITE, 10, 0, 10);
    const f = submit(OP_FSYNC, 10, 0, 0);
    const later = submit(OP_WRITE, 10, 100, 10);
    expect(eng.cancel(w.req)).toBe(CANCELED);
    await flush(1);
    held.releaseNext(); // the read
    await flush(1);
    // fsync and the later write are both ready; fsync was submitted first.
    expect(held.pending[0]?.op).toBe('fsync');
    held.releaseNext();
    await flush(1);
    held.releaseNext({ error: 'EIO' });
    await flush(1);
    expect(f.req.error).toBe(0);
    expect(later.req.error).toBe(EIO);
  });
});

describe('Engine: the in-flight cap', () => {
  test('never has more than maxInFlight requests in the thread pool', async () => {
    eng.setMaxInFlight(3);
    for (let i = 0; i < 10; i++) submit(OP_READ, 10 + (i % 2), i * 10, 10);
    expect(held.pending).toHaveLength(3);
    expect(eng.counters).toMatchObject({ queued: 7, inFlight: 3 });
    held.releaseNext();
    await flush(1);
    expect(held.pending).toHaveLength(3);
    await drain();
    expect(eng.counters).toMatchObject({ submitted: 10, completed: 10, queued: 0, inFlight: 0 });
  });

  test('beyond the first pool-size calls, requests wait while maxInFlightBytes are in the thread pool', async () => {
    const pool = threadPoolSize();
    eng.setMaxInFlight(64);
    eng.maxInFlightBytes = 1 << 20;
    // Large reads, with gaps so that none merge: the first `pool` go whatever their size.
    for (let i = 0; i < pool + 4; i++) submit(OP_READ, 10, i * (1 << 20), 512 * 1024);
    expect(held.pending).toHaveLength(Math.max(pool, 2));
    // Small reads fill the cap once the bytes allow: each of them needs a freed large one.
    held.releaseAll();
    await flush(2);
    eng.maxInFlightBytes = DEFAULTS.maxInFlightBytes;
    for (let i = 0; i < 80; i++) submit(OP_READ, 11, i * 8192, 4096);
    expect(eng.counters.inFlight).toBe(64);
    await drain();
  });

  test('raising the cap dispatches waiting requests at once', async () => {
    // Gaps between the ranges: adjacent ones would share one readv (merging).
    for (let i = 0; i < 5; i++) submit(OP_READ, 10, i * 10, 1);
    expect(held.pending).toHaveLength(1);
    eng.setMaxInFlight(4);
    expect(held.pending).toHaveLength(4);
    await drain();
  });
});

describe('Engine: cancel', () => {
  test('cancels a queued request, not one in the thread pool, and reports one already done', async () => {
    const a = submit(OP_READ, 10, 0, 1);
    const b = submit(OP_READ, 10, 1, 1);
    expect(eng.cancel(a.req)).toBe(NOT_CANCELED);
    expect(eng.cancel(b.req)).toBe(CANCELED);
    expect(b.req.error).toBe(ECANCELED);
    expect(b.req.value).toBe(-1);
    expect(b.done.calls).toBe(1);
    expect(eng.cancel(b.req)).toBe(ALL_DONE);
    await drain();
    expect(a.req.error).toBe(0);
    expect(dispatched()).toEqual(['read 10@0']);
  });

  test('canceling a request others wait for lets them proceed', async () => {
    eng.setMaxInFlight(2);
    submit(OP_READ, 11, 0, 1);
    submit(OP_READ, 11, 1, 1); // both slots busy
    const w = submit(OP_WRITE, 10, 0, 10);
    const r = submit(OP_READ, 10, 0, 10); // waits for w
    eng.cancel(w.req);
    held.releaseNext();
    await flush(1);
    expect(held.pending.map((o) => `${o.op} ${o.fd}`)).toContain('read 10');
    await drain();
    expect(r.req.error).toBe(0);
  });

  test('cancelFd cancels every queued request of the descriptor, oldest first', async () => {
    const order: number[] = [];
    const reqs: Request[] = [];
    submit(OP_READ, 20, 0, 1); // in flight
    for (let i = 0; i < 4; i++) {
      const req = new Request(OP_WRITE, 20, 0, new Uint8Array(1), null, 1, 0, () => order.push(i), null);
      eng.submit(req, eng.laneFor(20) as Lane);
      reqs.push(req);
    }
    expect(eng.cancelFd(20)).toEqual({ canceled: 4, inFlight: 1 });
    expect(order).toEqual([0, 1, 2, 3]);
    expect(eng.cancelFd(99)).toEqual({ canceled: 0, inFlight: 0 });
    await drain();
  });
});

describe('Engine: descriptors', () => {
  test('a descriptor that is not open fails the request with EBADF without queueing it', () => {
    const m = submit(OP_READ, 77, 0, 1);
    expect(m.req.error).toBe(EBADF);
    expect(m.done.calls).toBe(1);
    expect(held.log).toHaveLength(0);
    expect(eng.outstanding).toBe(0);
  });

  test('a descriptor closed and reused behind the engine is never touched: queued requests fail with EBADF', async () => {
    submit(OP_READ, 11, 0, 1); // holds the slot
    const w = submit(OP_WRITE, 10, 0, 4);
    held.reopen(10); // fd 10 now names another file
    held.releaseNext();
    await flush(2);
    expect(w.req.error).toBe(EBADF);
    expect(held.log.filter((o) => o.fd === 10)).toHaveLength(0);
  });

  test('a lane is forgotten when its last request completes, so a reused number is classified afresh', async () => {
    submit(OP_WRITE, 10, 0, 4);
    await drain();
    held.reopen(10, { seekable: false });
    const lane = eng.laneFor(10);
    expect(typeof lane).toBe('object');
    expect((lane as Lane).seekable).toBe(false);
    await drain();
  });

  test('a bigint position is passed to fs.read when no number can hold it, and refused with EOVERFLOW for writes', async () => {
    const big = 2n ** 60n;
    const r = submit(OP_READ, 10, big, 4);
    const w = submit(OP_WRITE, 10, big, 4);
    expect(w.req.error).toBe(EOVERFLOW);
    expect(held.log[0]?.position).toBe(big);
    const small = submit(OP_WRITE, 10, 8n, 4);
    await drain();
    expect(held.log.map((o) => o.position)).toEqual([big, 8]);
    expect(r.req.error).toBe(0);
    expect(small.req.error).toBe(0);
  });

  test('close cancels queued requests, waits for the in-flight one, then closes', async () => {
    const a = submit(OP_READ, 10, 0, 1);
    const b = submit(OP_READ, 10, 1, 1);
    let closed: number | null = null;
    const p = eng.close(10).then((e) => (closed = e));
    expect(b.req.error).toBe(ECANCELED);
    expect(eng.laneFor(10)).toBe(EBADF);
    await flush(2);
    expect(closed).toBeNull();
    held.releaseNext();
    await p;
    expect(closed).toBe(0);
    expect(a.req.error).toBe(0);
    expect(() => held.fstat(10)).toThrow();
  });
});

describe('Engine: defer', () => {
  test('runs deferred functions later, in submission order', async () => {
    const order: number[] = [];
    eng.defer(() => order.push(1));
    eng.defer(() => order.push(2));
    expect(order).toEqual([]);
    await flush(1);
    expect(order).toEqual([1, 2]);
  });
});
