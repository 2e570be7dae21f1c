/**
 * Streams (engine/queue.ts design notes): while a merged call of a descriptor is in
 * the thread pool and the event loop polls, a further merged group on it waits
 * ("parked") and goes out from that call's completion, before the call's requests
 * complete. Observed through the held backend's `peek()` and `lastDispatched()`,
 * which (unlike `pending` and `log`) never end a hold or hand a parked group over.
 */
import { constants as osConstants } from 'node:os';
import fc from 'fast-check';
import { CANCELED, Engine } from '../../../src/engine/queue';
import { OP_READ, OP_WRITE, Request } from '../../../src/engine/request';
import { HeldBackend, type HeldOp } from '../../helpers/held-backend';
import { flush, mustCall, sleep } from '../../helpers/mustcall';

const { ECANCELED, EIO } = osConstants.errno;
const BS = 4096;

let eng: Engine;
let held: HeldBackend;

beforeEach(() => {
  eng = new Engine();
  // A window no test's awaits outlast, even on a loaded machine: parking needs the loop to be polling.
  eng.pollWindowMicros = 1_000_000;
  held = new HeldBackend().open(10).open(11);
  held.use(4, eng);
});

afterEach(async () => {
  held.autoRelease = 0;
  held.releaseAll();
  await flush(2);
});

/** Submits a 4 KiB request of `op` at block `block` on `fd`; `then` runs in its done hook, exactly once. */
function submit(op: typeof OP_READ | typeof OP_WRITE, block: number, then: (r: Request) => void = () => {}, fd = 10): Request {
  const req = new Request(op, fd, block * BS, new Uint8Array(BS), null, BS, 0, mustCall(then), null);
  const lane = eng.laneFor(fd);
  if (typeof lane === 'number') throw new Error(`fd ${fd} not open`);
  eng.submit(req, lane);
  return req;
}

/** Reads of blocks [from, to) submitted in one burst: one merged group when they are adjacent. */
function burst(from: number, to: number, then?: (r: Request) => void, op: typeof OP_READ | typeof OP_WRITE = OP_READ): Request[] {
  const reqs: Request[] = [];
  eng.defer(() => {
    for (let b = from; b < to; b++) reqs.push(submit(op, b, then));
  });
  return reqs;
}

function describeOp(o: HeldOp): string {
  return `${o.op}@${String(o.position)}/${o.length}`;
}

/** What is in the thread pool, without disturbing the engine. */
function inPool(): string[] {
  return held.peek().map(describeOp);
}

/** One burst per [from, to) run, each in its own event-loop turn: the runs' groups in order. */
async function bursts(...runs: Array<[from: number, to: number]>): Promise<void> {
  for (const [from, to] of runs) {
    burst(from, to);
    await flush(1);
  }
}

/** Releases everything, round after round, until nothing is left (every done hook has run). */
async function drain(): Promise<void> {
  while (held.pending.length > 0) {
    held.releaseAll();
    await flush(2);
  }
}

describe('Engine: streams', () => {
  test("a merged group behind a merged call of its descriptor waits, and goes out from that call's completion before its requests complete", async () => {
    const dispatchedAtDone: string[] = [];
    burst(0, 4, () => dispatchedAtDone.push(describeOp(held.lastDispatched() as HeldOp)));
    await flush(1);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`]);
    burst(4, 8);
    await flush(1);
    // Held back: the loop polls and the descriptor has a merged call in the pool.
    expect(eng.polling).toBe(true);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`]);
    expect(eng.counters.queued).toBe(4);
    (held.peek()[0] as HeldOp).release();
    await flush(1);
    // Every request of the first call saw the second call already in the pool.
    expect(dispatchedAtDone).toEqual(new Array(4).fill(`readv@${4 * BS}/${4 * BS}`));
    expect(inPool()).toEqual([`readv@${4 * BS}/${4 * BS}`]);
    expect(eng.handOvers).toBe(1);
    await drain();
    expect(eng.counters.completed).toBe(8);
  });

  test('groups that continue the parked one join it (one call); others go to the pool at once', async () => {
    await bursts([0, 4], [4, 8], [8, 12]);
    // Not adjacent to the parked group: its own call, beside the stream's.
    eng.defer(() => {
      submit(OP_READ, 100);
      submit(OP_READ, 101);
    });
    await flush(1);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${100 * BS}/${2 * BS}`]);
    expect(eng.counters.queued).toBe(8);
    (held.peek()[0] as HeldOp).release();
    await flush(1);
    expect(inPool()).toEqual([`readv@${100 * BS}/${2 * BS}`, `readv@${4 * BS}/${8 * BS}`]);
    await drain();
    expect(eng.counters.completed).toBe(14);
  });

  test('a group that would pass the merge limits does not join the parked one', async () => {
    eng.mergeMaxRequests = 6;
    await bursts([0, 4], [4, 8], [8, 12]);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${8 * BS}/${4 * BS}`]);
    expect(eng.counters.queued).toBe(4);
    await drain();
    expect(eng.counters.completed).toBe(12);
  });

  test('writes stream the same way, and a write group never joins a parked read group', async () => {
    burst(0, 4, undefined, OP_WRITE);
    await flush(1);
    burst(4, 8, undefined, OP_WRITE);
    await flush(1);
    expect(inPool()).toEqual([`writev@0/${4 * BS}`]);
    expect(eng.counters.queued).toBe(4);
    (held.peek()[0] as HeldOp).release();
    await flush(1);
    expect(inPool()).toEqual([`writev@${4 * BS}/${4 * BS}`]);
    await drain();
    expect(eng.handOvers).toBe(1);
  });

  test('nothing is parked while the loop does not poll (window 0), nor a request that merged with nothing, nor on another descriptor', async () => {
    eng.pollWindowMicros = 0;
    await bursts([0, 4], [4, 8]);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${4 * BS}/${4 * BS}`]);
    await drain();
    eng.pollWindowMicros = 1_000_000;
    await bursts([0, 4]);
    eng.defer(() => {
      submit(OP_READ, 4);
      submit(OP_READ, 0, undefined, 11);
      submit(OP_READ, 1, undefined, 11);
    });
    await flush(1);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `read@${4 * BS}/${BS}`, `readv@0/${2 * BS}`]);
    await drain();
    expect(eng.handOvers).toBe(0);
  });

  test('a parked request can be canceled: ECANCELED exactly once, and the rest of its group runs as usual', async () => {
    await bursts([0, 4]);
    const errors = new Map<number, number>();
    const group = burst(4, 8, (r) => errors.set((r.pos as number) / BS, r.error));
    await flush(1);
    expect(eng.counters.queued).toBe(4);
    expect(eng.cancel(group[1] as Request)).toBe(CANCELED);
    // Block 4 now merges with nothing; 6 and 7 form a group that waits for the stream's call again.
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `read@${4 * BS}/${BS}`]);
    expect(eng.counters.queued).toBe(2);
    await drain();
    expect([...errors].sort((a, b) => a[0] - b[0])).toEqual([
      [4, 0],
      [5, ECANCELED],
      [6, 0],
      [7, 0],
    ]);
    expect(held.log.map(describeOp)).toEqual([`readv@0/${4 * BS}`, `read@${4 * BS}/${BS}`, `readv@${6 * BS}/${2 * BS}`]);
  });

  test('aio_close (Engine.close) cancels a parked group and closes after the call in the pool', async () => {
    const errors: number[] = [];
    burst(0, 4, (r) => errors.push(r.error));
    await flush(1);
    burst(4, 8, (r) => errors.push(r.error));
    await flush(1);
    const closed = eng.close(10);
    expect(errors).toEqual(new Array(4).fill(ECANCELED));
    expect(inPool()).toEqual([`readv@0/${4 * BS}`]);
    await drain();
    expect(await closed).toBe(0);
    expect(errors).toEqual([...new Array(4).fill(ECANCELED), 0, 0, 0, 0]);
  });

  test('when polling stops for want of events (a slow call), the parked group goes to the pool', async () => {
    await bursts([0, 4], [4, 8]);
    expect(eng.counters.queued).toBe(4);
    // The call is slow: a window of 1 us passes at the next poll turn without an event.
    eng.pollWindowMicros = 1;
    for (let i = 0; i < 50 && eng.polling; i++) await sleep(2);
    expect(eng.polling).toBe(false);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${4 * BS}/${4 * BS}`]);
    await drain();
    expect(eng.handOvers).toBe(0);
  });

  test("the hand-over takes the slot of the call that ended, even with the in-flight cap reached", async () => {
    held.use(2, eng);
    await bursts([0, 4], [4, 8]);
    eng.defer(() => submit(OP_READ, 100));
    await flush(1);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `read@${100 * BS}/${BS}`]);
    expect(eng.counters.queued).toBe(4);
    (held.peek()[0] as HeldOp).release();
    await flush(1);
    expect(inPool()).toEqual([`read@${100 * BS}/${BS}`, `readv@${4 * BS}/${4 * BS}`]);
    expect(eng.handOvers).toBe(1);
    await drain();
    expect(eng.counters.completed).toBe(9);
  });

  test("a short transfer keeps its slot for the requests it did not reach: without another slot the group becomes ready and goes out as usual", async () => {
    held.use(2, eng);
    const got = new Map<number, number>();
    const record = (r: Request): void => {
      got.set((r.pos as number) / BS, r.value);
    };
    burst(0, 4, record);
    await flush(1);
    burst(4, 8, record);
    await flush(1);
    eng.defer(() => submit(OP_READ, 100));
    await flush(1);
    // One and a half blocks: block 0 whole, block 1 short, blocks 2 and 3 run alone after.
    (held.peek()[0] as HeldOp).release({ bytes: BS + BS / 2 });
    await flush(1);
    expect(eng.handOvers).toBe(0);
    expect(inPool()).toEqual([`read@${100 * BS}/${BS}`, `read@${2 * BS}/${BS}`]);
    await drain();
    expect([...got].sort((a, b) => a[0] - b[0])).toEqual([
      [0, BS],
      [1, BS / 2],
      [2, BS],
      [3, BS],
      [4, BS],
      [5, BS],
      [6, BS],
      [7, BS],
    ]);
    expect(held.log.map(describeOp)).toEqual([`readv@0/${4 * BS}`, `read@${100 * BS}/${BS}`, `read@${2 * BS}/${BS}`, `read@${3 * BS}/${BS}`, `readv@${4 * BS}/${4 * BS}`]);
  });

  test('dispatchHeld hands parked groups to the pool', async () => {
    await bursts([0, 4], [4, 8]);
    expect(eng.counters.queued).toBe(4);
    eng.dispatchHeld();
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${4 * BS}/${4 * BS}`]);
    await drain();
  });
});

type Action =
  | { t: 'burst'; fd: 10 | 11; n: number; write: boolean }
  | { t: 'release'; k: number; how: 'whole' | 'short' | 'error'; settle: boolean }
  | { t: 'cancel'; k: number }
  | { t: 'turn' }
  | { t: 'close'; fd: 10 | 11 };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('burst' as const), fd: fc.constantFrom(10 as const, 11 as const), n: fc.integer({ min: 2, max: 6 }), write: fc.boolean() }), weight: 20 },
  {
    arbitrary: fc.record({ t: fc.constant('release' as const), k: fc.nat(), how: fc.constantFrom('whole' as const, 'whole' as const, 'whole' as const, 'short' as const, 'error' as const), settle: fc.boolean() }),
    weight: 25,
  },
  { arbitrary: fc.record({ t: fc.constant('cancel' as const), k: fc.nat() }), weight: 5 },
  { arbitrary: fc.constant({ t: 'turn' as const }), weight: 5 },
  { arbitrary: fc.record({ t: fc.constant('close' as const), fd: fc.constantFrom(10 as const, 11 as const) }), weight: 1 },
);

describe('Engine: streams, random programs', () => {
  test('bursts, releases (whole, short, failed), cancels and closes in any order: every request completes exactly once with a result its calls explain; the pool never holds a request twice nor more calls than the cap', async () => {
    let handOvers = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 4 }), fc.array(action, { minLength: 1, maxLength: 40 }), async (cap, actions) => {
        // A fresh engine per program (beforeEach's is left alone).
        const e = new Engine();
        e.pollWindowMicros = 1_000_000;
        const hb = new HeldBackend().open(10).open(11);
        const restore = hb.use(cap, e);
        const reqs: Request[] = [];
        const ends = new Map<Request, number>();
        const canceled = new Set<Request>();
        const shortBufs = new Set<ArrayBufferView>();
        const failedBufs = new Set<ArrayBufferView>();
        const next = new Map<string, number>();
        const closing = new Set<number>();
        const closes: Array<Promise<number>> = [];
        const checkPool = (): void => {
          const pool = hb.peek();
          expect(pool.length).toBeLessThanOrEqual(cap);
          const bufs = pool.flatMap((o) => o.buffers);
          expect(new Set(bufs).size).toBe(bufs.length);
        };
        try {
          for (const a of actions) {
            if (a.t === 'burst') {
              if (closing.has(a.fd)) continue;
              const key = `${a.fd}:${a.write ? 'w' : 'r'}`;
              const first = next.get(key) ?? (a.write ? 1000 : 0);
              next.set(key, first + a.n);
              e.defer(() => {
                for (let b = first; b < first + a.n; b++) {
                  const req = new Request(a.write ? OP_WRITE : OP_READ, a.fd, b * BS, new Uint8Array(BS), null, BS, 0, (r) => ends.set(r, (ends.get(r) ?? 0) + 1), null);
                  const lane = e.laneFor(a.fd);
                  if (typeof lane === 'number') throw new Error(`fd ${a.fd}: errno ${lane}`);
                  e.submit(req, lane);
                  reqs.push(req);
                }
              });
              await flush(1);
            } else if (a.t === 'release') {
              const pool = hb.peek();
              if (pool.length === 0) continue;
              const op = pool[a.k % pool.length] as HeldOp;
              if (a.how === 'error') {
                for (const b of op.buffers) failedBufs.add(b);
                op.release({ error: 'EIO' });
              } else if (a.how === 'short') {
                for (const b of op.buffers) shortBufs.add(b);
                op.release({ bytes: Math.floor(op.length / 3) });
              } else op.release();
              if (a.settle) await new Promise((r) => process.nextTick(r));
            } else if (a.t === 'cancel') {
              const live = reqs.filter((r) => !ends.has(r));
              if (live.length === 0) continue;
              const r = live[a.k % live.length] as Request;
              if (e.cancel(r) === CANCELED) canceled.add(r);
            } else if (a.t === 'turn') {
              await flush(1);
            } else if (!closing.has(a.fd)) {
              closing.add(a.fd);
              closes.push(e.close(a.fd));
            }
            checkPool();
          }
          // Drain: every call completes whole from here on.
          for (let i = 0; i < 1000 && e.outstanding > 0; i++) {
            for (const op of [...hb.peek()]) op.release();
            e.dispatchHeld();
            await flush(1);
          }
          await flush(2);
          for (const c of closes) expect(await c).toBe(0);
          expect(e.outstanding).toBe(0);
          for (const r of reqs) {
            expect(ends.get(r)).toBe(1);
            const buf = r.buf as ArrayBufferView;
            if (canceled.has(r)) expect([r.error, r.value]).toEqual([ECANCELED, -1]);
            else if (r.error === ECANCELED) expect(closing.has(r.fd)).toBe(true);
            else if (r.error === EIO) expect(failedBufs.has(buf)).toBe(true);
            else {
              expect(r.error).toBe(0);
              if (r.value !== BS) expect(shortBufs.has(buf)).toBe(true);
              expect(r.value).toBeGreaterThanOrEqual(0);
              expect(r.value).toBeLessThanOrEqual(BS);
            }
          }
          handOvers += e.handOvers;
        } finally {
          hb.autoRelease = 0;
          hb.releaseAll();
          await flush(2);
          restore();
        }
      }),
      { numRuns: 150 },
    );
    // The programs reach the hand-over, not only the fallbacks.
    expect(handOvers).toBeGreaterThan(0);
  }, 120_000);
});
