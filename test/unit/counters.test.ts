/**
 * counters() (src/engine/queue.ts): the queue's counts as a snapshot, shared by every
 * face. With the held backend and an in-flight cap of 1, "queued" and "in flight" are
 * states the test sets. Counts are compared with a baseline taken in the test: tests
 * of one file share the process engine.
 */
import {
  AIO_ALLDONE,
  AioControlBlock,
  EBADF,
  aio_cancel,
  aio_error,
  aio_read,
  aio_return,
  counters,
  type EngineCounters,
  nng_aio_alloc,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_aio_wait,
  nng_file_read,
  promises,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

const F = 1000;
const G = 1001;
const NOT_OPEN = 1099;

let held: HeldBackend;
let restore: () => void;

async function drain(): Promise<void> {
  for (let i = 0; i < 200 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
    held.releaseAll();
    await flush(1);
  }
  await flush();
}

/** How the counts moved since `base`. */
function delta(base: EngineCounters): Record<keyof EngineCounters, number> {
  const now = counters();
  return {
    submitted: now.submitted - base.submitted,
    completed: now.completed - base.completed,
    canceled: now.canceled - base.canceled,
    failed: now.failed - base.failed,
    merged: now.merged - base.merged,
    queued: now.queued - base.queued,
    inFlight: now.inFlight - base.inFlight,
    inFlightCap: now.inFlightCap - base.inFlightCap,
  };
}

const ZERO = { submitted: 0, completed: 0, canceled: 0, failed: 0, merged: 0, queued: 0, inFlight: 0, inFlightCap: 0 };

/** Settles `p` exactly once; returns whether it rejected. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let rejected = false;
  const once = mustCall((r: boolean) => {
    rejected = r;
  });
  await p.then(
    () => once(false),
    () => once(true),
  );
  return rejected;
}

describe('counters', () => {
  beforeEach(() => {
    held = new HeldBackend().open(F).open(G);
    restore = held.use(1);
  });

  afterEach(async () => {
    await drain();
    restore();
    await flush();
  });

  test('has every count, all numbers, none queued or in flight when idle', () => {
    const c = counters();
    expect(Object.keys(c).sort()).toEqual(['canceled', 'completed', 'failed', 'inFlight', 'inFlightCap', 'merged', 'queued', 'submitted']);
    for (const v of Object.values(c)) expect(typeof v).toBe('number');
    expect(c.queued).toBe(0);
    expect(c.inFlight).toBe(0);
  });

  test('returns a snapshot: the object does not change later, and each call gives a new one', async () => {
    const before = counters();
    const copy = { ...before };
    const p = settled(promises.read(F, Buffer.alloc(1), { position: 0 }));
    expect(before).toEqual(copy);
    const during = counters();
    expect(during).not.toBe(before);
    expect(during.submitted).toBe(before.submitted + 1);
    held.releaseNext();
    expect(await p).toBe(false);
    expect(before).toEqual(copy);
    expect(during.inFlight).toBe(1);
    expect(during.completed).toBe(before.completed);
  });

  test('separates queued from in flight under a cap of 1', async () => {
    const base = counters();
    const list = [0, 10, 20].map((position) => settled(promises.read(F, Buffer.alloc(1), { position })));
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, queued: 2, inFlight: 1 });
    held.releaseNext();
    await flush();
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 1, queued: 1, inFlight: 1 });
    held.releaseNext();
    await flush();
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 2, queued: 0, inFlight: 1 });
    held.releaseNext();
    await flush();
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 3 });
    for (const p of list) expect(await p).toBe(false);
  });

  test('a canceled request counts as canceled and completed, not failed', async () => {
    const base = counters();
    const a = settled(promises.read(F, Buffer.alloc(1), { position: 0 }));
    const b = settled(promises.read(F, Buffer.alloc(1), { position: 10 }));
    const c = settled(promises.fsync(F));
    expect(aio_cancel(G, null)).toBe(AIO_ALLDONE); // nothing outstanding on G // AIO_ALLDONE: nothing outstanding on G
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, queued: 2, inFlight: 1 });
    aio_cancel(F, null);
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 2, canceled: 2, inFlight: 1 });
    held.releaseNext();
    await flush();
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 3, canceled: 2 });
    expect(await a).toBe(false);
    expect(await b).toBe(true);
    expect(await c).toBe(true);
  });

  test('aborted and timed-out requests count as canceled', async () => {
    const base = counters();
    const blocker = settled(promises.read(F, Buffer.alloc(1), { position: 0 }));
    const ac = new AbortController();
    const aborted = settled(promises.read(F, Buffer.alloc(1), { position: 10, signal: ac.signal }));
    const timed = settled(promises.read(F, Buffer.alloc(1), { position: 20, timeout: 1 }));
    ac.abort();
    expect(await aborted).toBe(true);
    expect(await timed).toBe(true);
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 2, canceled: 2, inFlight: 1 });
    held.releaseNext();
    expect(await blocker).toBe(false);
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 3, canceled: 2 });
  });

  test('a request that fails counts as failed and completed', async () => {
    const base = counters();
    const p = settled(promises.write(F, Buffer.alloc(1), { position: 0 }));
    held.releaseNext({ error: 'EIO' });
    expect(await p).toBe(true);
    expect(delta(base)).toEqual({ ...ZERO, submitted: 1, completed: 1, failed: 1 });
  });

  test('a request refused before queueing (bad arguments, an aborted signal) is not counted', async () => {
    const base = counters();
    const ac = new AbortController();
    ac.abort();
    expect(await settled(promises.read(F, Buffer.alloc(1), { signal: ac.signal }))).toBe(true);
    expect(await settled(promises.read(F, 'x' as never))).toBe(true);
    expect(await settled(promises.batch([{ op: 'read', fd: F, buffer: Buffer.alloc(1) }, null as never]))).toBe(true);
    expect(delta(base)).toEqual(ZERO);
  });

  test('a request that completes at submission (EOVERFLOW) counts as submitted, completed and failed, never queued', async () => {
    const base = counters();
    expect(await settled(promises.write(F, Buffer.alloc(1), { position: 2n ** 60n }))).toBe(true);
    expect(delta(base)).toEqual({ ...ZERO, submitted: 1, completed: 1, failed: 1 });
  });

  test('every face counts in the same queue', async () => {
    const base = counters();
    const cb = new AioControlBlock({ aio_fildes: F, aio_offset: 0, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
    expect(aio_read(cb)).toBe(0);
    const aio = nng_aio_alloc(mustCall());
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: Buffer.alloc(1), iov_len: 1 }])).toBe(0);
    nng_file_read(G, 0, aio);
    const p = settled(promises.read(F, Buffer.alloc(1), { position: 100 }));
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, queued: 2, inFlight: 1 });
    await drain();
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
    expect(aio_error(cb)).toBe(0);
    expect(aio_return(cb)).toBe(1);
    expect(await p).toBe(false);
    expect(delta(base)).toEqual({ ...ZERO, submitted: 3, completed: 3 });
  });

  test('a C-face request on a descriptor that is not open counts as submitted and failed', async () => {
    const base = counters();
    const cb = new AioControlBlock({ aio_fildes: NOT_OPEN, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
    expect(aio_read(cb)).toBe(0);
    expect(aio_error(cb)).toBe(EBADF);
    await flush();
    expect(delta(base)).toEqual({ ...ZERO, submitted: 1, completed: 1, failed: 1 });
  });
});
