/**
 * Streams (engine/queue.ts design notes): while a merged call of a descriptor is in
 * the thread pool and the event loop polls, a further merged group on it waits
 * ("parked") and goes out from that call's completion, before the call's requests
 * complete. Observed through the held backend's `peek()` and `lastDispatched()`,
 * which (unlike `pending` and `log`) never end a hold or hand a parked group over.
 */
import { constants as osConstants } from 'node:os';
import { CANCELED, Engine } from '../../../src/engine/queue';
import { OP_READ, OP_WRITE, Request } from '../../../src/engine/request';
import { HeldBackend, type HeldOp } from '../../helpers/held-backend';
import { flush, mustCall, sleep } from '../../helpers/mustcall';

const { ECANCELED } = osConstants.errno;
const BS = 4096;

let eng: Engine;
let held: HeldBackend;

beforeEach(() => {
  eng = new Engine();
  // A window no test's awaits outlast: parking needs the loop to be polling.
  eng.pollWindowMicros = 50_000;
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

function queued(): number {
  return eng.counters.queued;
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
    burst(0, 4);
    await flush(1);
    burst(4, 8);
    await flush(1);
    burst(8, 12);
    await flush(1);
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
    burst(0, 4);
    await flush(1);
    burst(4, 8);
    await flush(1);
    burst(8, 12);
    await flush(1);
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
    burst(0, 4);
    await flush(1);
    burst(4, 8);
    await flush(1);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${4 * BS}/${4 * BS}`]);
    await drain();
    eng.pollWindowMicros = 50_000;
    burst(0, 4);
    await flush(1);
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
    burst(0, 4);
    await flush(1);
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
    eng.pollWindowMicros = 2000;
    burst(0, 4);
    await flush(1);
    burst(4, 8);
    await flush(1);
    expect(eng.counters.queued).toBe(4);
    for (let i = 0; i < 50 && eng.polling; i++) await sleep(2);
    expect(eng.polling).toBe(false);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${4 * BS}/${4 * BS}`]);
    await drain();
    expect(eng.handOvers).toBe(0);
  });

  test('without a free slot at the completion the group becomes ready and goes out with the burst', async () => {
    held.use(2, eng);
    burst(0, 4);
    await flush(1);
    eng.defer(() => submit(OP_READ, 100));
    await flush(1);
    burst(4, 8);
    await flush(1);
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `read@${100 * BS}/${BS}`]);
    (held.peek()[0] as HeldOp).release();
    await flush(2);
    expect(inPool()).toEqual([`read@${100 * BS}/${BS}`, `readv@${4 * BS}/${4 * BS}`]);
    expect(eng.handOvers).toBe(0);
    await drain();
    expect(eng.counters.completed).toBe(9);
  });

  test('dispatchHeld hands parked groups to the pool', async () => {
    burst(0, 4);
    await flush(1);
    burst(4, 8);
    await flush(1);
    expect(eng.counters.queued).toBe(4);
    eng.dispatchHeld();
    expect(inPool()).toEqual([`readv@0/${4 * BS}`, `readv@${4 * BS}/${4 * BS}`]);
    await drain();
  });
});
