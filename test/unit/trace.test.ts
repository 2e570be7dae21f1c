/**
 * Tracing through diagnostics_channel (src/engine/trace.ts): the plain channels
 * `posix-aio:enqueue|dispatch|cancel|complete`, the per-op TracingChannels
 * `posix-aio:<op>`, and the rule that nothing is built while nobody listens.
 *
 * The held backend (in-flight cap 1) makes queued and in-flight deterministic. Every
 * subscription made in a test is removed in afterEach.
 */
import { subscribe, tracingChannel, unsubscribe } from 'node:diagnostics_channel';
import {
  AioControlBlock,
  AioError,
  ECANCELED,
  EINPROGRESS,
  EIO,
  aio_cancel,
  aio_error,
  aio_fsync,
  aio_read,
  aio_return,
  aio_write,
  nng_aio_alloc,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_aio_wait,
  nng_file_read,
  O_DSYNC,
  O_SYNC,
  promises,
  type TraceContext,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

const F = 1000;
const G = 1001;

const STAGES = ['enqueue', 'dispatch', 'cancel', 'complete'] as const;
type Stage = (typeof STAGES)[number];
const TRACE_EVENTS = ['start', 'end', 'asyncStart', 'asyncEnd', 'error'] as const;
type TraceEvent = (typeof TRACE_EVENTS)[number];

interface Seen {
  readonly what: string;
  readonly ctx: TraceContext;
  /** A copy of the context's fields as they were when the event was published. */
  readonly at: TraceContext;
}

let seen: Seen[] = [];
const undo: Array<() => void> = [];

function record(what: string) {
  return (message: unknown): void => {
    const ctx = message as TraceContext;
    seen.push({ what, ctx, at: { ...ctx } });
  };
}

/** Subscribes to the plain channels (all, or the ones listed). */
function listenStages(stages: readonly Stage[] = STAGES): void {
  for (const s of stages) {
    const name = `posix-aio:${s}`;
    const fn = record(s);
    subscribe(name, fn);
    undo.push(() => unsubscribe(name, fn));
  }
}

/** Subscribes to the TracingChannel of `op` (events recorded as `op:event`). */
function listenTracing(op: string, events: readonly TraceEvent[] = TRACE_EVENTS): void {
  const tc = tracingChannel(`posix-aio:${op}`);
  const handlers: Partial<Record<TraceEvent, (m: unknown) => void>> = {};
  for (const e of events) handlers[e] = record(`${op}:${e}`);
  tc.subscribe(handlers as never);
  undo.push(() => tc.unsubscribe(handlers as never));
}

function whats(): string[] {
  return seen.map((s) => s.what);
}

let held: HeldBackend;
let restore: () => void;

async function drain(): Promise<void> {
  for (let i = 0; i < 200 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
    held.releaseAll();
    await flush(1);
  }
  await flush();
}

describe('tracing (diagnostics_channel)', () => {
  beforeEach(() => {
    seen = [];
    held = new HeldBackend().open(F).open(G);
    restore = held.use(1);
  });

  afterEach(async () => {
    for (const fn of undo.splice(0)) fn();
    await drain();
    restore();
    await flush();
  });

  describe('posix-aio:enqueue, :dispatch, :complete', () => {
    test('one request shows enqueue, dispatch, complete with the same context object, times in order', async () => {
      listenStages();
      const buf = Buffer.alloc(8);
      const onResult = mustCall(() => seen.push({ what: 'promise settled', ctx: null as never, at: null as never }));
      const p = promises.read(F, buf, { position: 7, length: 4, priority: 3 }).then(onResult);
      expect(whats()).toEqual(['enqueue', 'dispatch']);
      held.releaseNext({ bytes: 3 });
      await p;
      expect(whats()).toEqual(['enqueue', 'dispatch', 'complete', 'promise settled']);
      const [e, d, c] = seen as [Seen, Seen, Seen];
      expect(d.ctx).toBe(e.ctx);
      expect(c.ctx).toBe(e.ctx);
      const ctx = c.ctx;
      expect(ctx).toMatchObject({ op: 'read', face: 'promise', fd: F, position: 7, nbytes: 4, priority: 3, errno: 0, result: 3 });
      expect(typeof ctx.id).toBe('number');
      expect(ctx.error).toBeUndefined();
      const dispatchedAt = ctx.dispatchedAt as number;
      const completedAt = ctx.completedAt as number;
      expect(dispatchedAt).toBeGreaterThanOrEqual(ctx.enqueuedAt);
      expect(completedAt).toBeGreaterThanOrEqual(dispatchedAt);
      expect(ctx.queueWait).toBe(dispatchedAt - ctx.enqueuedAt);
      expect(ctx.queueWait).toBeGreaterThanOrEqual(0);
      expect(ctx.serviceTime).toBe(completedAt - dispatchedAt);
      expect(ctx.serviceTime).toBeGreaterThanOrEqual(0);
      // What each stage saw when it was published: the story so far, no more.
      expect(e.at.dispatchedAt).toBeUndefined();
      expect(e.at.completedAt).toBeUndefined();
      expect(d.at.dispatchedAt).toBe(dispatchedAt);
      expect(d.at.completedAt).toBeUndefined();
      expect(d.at.errno).toBeUndefined();
      expect(c.at.errno).toBe(0);
    });

    test('a queued request is dispatched after the one ahead of it completes, with its own context', async () => {
      listenStages();
      const a = promises.read(F, Buffer.alloc(1), { position: 0 });
      const b = promises.write(F, Buffer.alloc(2), { position: 100 });
      expect(whats()).toEqual(['enqueue', 'dispatch', 'enqueue']);
      held.releaseNext();
      await a;
      await flush();
      expect(whats()).toEqual(['enqueue', 'dispatch', 'enqueue', 'complete', 'dispatch']);
      held.releaseNext();
      await b;
      const ctxA = seen[0]?.ctx as TraceContext;
      const ctxB = seen[2]?.ctx as TraceContext;
      expect(ctxB).not.toBe(ctxA);
      expect(ctxB.id).toBeGreaterThan(ctxA.id);
      expect(seen[4]?.ctx).toBe(ctxB);
      expect(seen[5]?.ctx).toBe(ctxB);
      expect(ctxB).toMatchObject({ op: 'write', nbytes: 2, position: 100, errno: 0, result: 2 });
      expect(ctxB.dispatchedAt as number).toBeGreaterThanOrEqual(ctxA.completedAt as number);
      expect(ctxB.queueWait).toBe((ctxB.dispatchedAt as number) - ctxB.enqueuedAt);
      expect(ctxB.queueWait).toBeGreaterThanOrEqual(0);
    });

    test('a canceled request shows enqueue, cancel, complete and was never dispatched', async () => {
      listenStages();
      const a = promises.read(F, Buffer.alloc(1), { position: 0 });
      const rejected = mustCall();
      const b = promises.read(F, Buffer.alloc(1), { position: 10 }).catch(rejected);
      aio_cancel(F, null);
      await b;
      const story = seen.filter((s) => s.ctx === seen[2]?.ctx);
      expect(story.map((s) => s.what)).toEqual(['enqueue', 'cancel', 'complete']);
      const ctx = story[0]?.ctx as TraceContext;
      expect(ctx.dispatchedAt).toBeUndefined();
      expect(ctx.queueWait).toBeUndefined();
      expect(ctx.serviceTime).toBeUndefined();
      expect(ctx.completedAt as number).toBeGreaterThanOrEqual(ctx.enqueuedAt);
      expect(ctx.errno).toBe(ECANCELED);
      expect(ctx.result).toBe(-1);
      expect(ctx.error).toBeInstanceOf(AioError);
      expect((ctx.error as AioError).code).toBe('ECANCELED');
      held.releaseNext();
      await a;
    });

    test('an aborted request shows enqueue, cancel, complete', async () => {
      listenStages();
      const a = promises.read(F, Buffer.alloc(1), { position: 0 });
      const ac = new AbortController();
      const rejected = mustCall();
      const b = promises.read(F, Buffer.alloc(1), { position: 10, signal: ac.signal }).catch(rejected);
      ac.abort();
      await b;
      expect(whats()).toEqual(['enqueue', 'dispatch', 'enqueue', 'cancel', 'complete']);
      expect(seen[4]?.ctx.dispatchedAt).toBeUndefined();
      held.releaseNext();
      await a;
    });

    test('a failed request has errno, result -1 and an AioError', async () => {
      listenStages(['complete']);
      const rejected = mustCall();
      const p = promises.write(F, Buffer.alloc(1), { position: 0 }).catch(rejected);
      held.releaseNext({ error: 'EIO' });
      await p;
      expect(whats()).toEqual(['complete']);
      const ctx = seen[0]?.ctx as TraceContext;
      expect(ctx.errno).toBe(EIO);
      expect(ctx.result).toBe(-1);
      expect(ctx.error).toBeInstanceOf(AioError);
      expect(ctx.error).toMatchObject({ code: 'EIO', syscall: 'write' });
      expect(ctx.serviceTime).toBeGreaterThanOrEqual(0);
    });

    test('fsync has no position and no bytes', async () => {
      listenStages(['enqueue']);
      const p = promises.fsync(F, { priority: 2 });
      held.releaseNext();
      await p;
      expect(seen[0]?.ctx).toMatchObject({ op: 'fsync', position: null, nbytes: 0, priority: 2 });
    });

    test('ids are unique and increase with submission', async () => {
      listenStages(['enqueue']);
      const list = [
        promises.read(F, Buffer.alloc(1), { position: 0 }),
        promises.read(F, Buffer.alloc(1), { position: 10 }),
        promises.read(G, Buffer.alloc(1), { position: 20 }),
      ];
      await drain();
      await Promise.all(list);
      const ids = seen.map((s) => s.ctx.id);
      expect(ids).toHaveLength(3);
      expect(ids[1] as number).toBeGreaterThan(ids[0] as number);
      expect(ids[2] as number).toBeGreaterThan(ids[1] as number);
    });
  });

  describe('the posix-aio:<op> TracingChannels', () => {
    test('a read fires start, end, asyncStart, asyncEnd in that order with one context', async () => {
      listenTracing('read');
      const p = promises.read(F, Buffer.alloc(2), { position: 0 });
      expect(whats()).toEqual(['read:start', 'read:end']);
      held.releaseNext();
      await p;
      expect(whats()).toEqual(['read:start', 'read:end', 'read:asyncStart', 'read:asyncEnd']);
      expect(new Set(seen.map((s) => s.ctx)).size).toBe(1);
      expect(seen[2]?.at.completedAt).toBeDefined();
      expect(seen[2]?.at.result).toBe(2);
    });

    test('a failed read fires error (with the AioError) before asyncStart and asyncEnd', async () => {
      listenTracing('read');
      const rejected = mustCall();
      const p = promises.read(F, Buffer.alloc(2), { position: 0 }).catch(rejected);
      held.releaseNext({ error: 'EIO' });
      await p;
      expect(whats()).toEqual(['read:start', 'read:end', 'read:error', 'read:asyncStart', 'read:asyncEnd']);
      expect(seen[2]?.at.error).toBeInstanceOf(AioError);
      expect(new Set(seen.map((s) => s.ctx)).size).toBe(1);
    });

    test('a canceled request fires error (ECANCELED) and asyncStart/asyncEnd, never having been dispatched', async () => {
      listenTracing('write');
      const blocker = promises.read(F, Buffer.alloc(1), { position: 0 });
      const rejected = mustCall();
      const p = promises.write(F, Buffer.alloc(2), { position: 100 }).catch(rejected);
      aio_cancel(F, null);
      await p;
      expect(whats()).toEqual(['write:start', 'write:end', 'write:error', 'write:asyncStart', 'write:asyncEnd']);
      expect((seen[2]?.at.error as AioError).code).toBe('ECANCELED');
      held.releaseNext();
      await blocker;
    });

    test.each([
      ['write', 'write', () => promises.write(F, Buffer.alloc(1), { position: 0 })],
      ['writev', 'write', () => promises.writev(F, [Buffer.alloc(1)], { position: 0 })],
      ['readv', 'read', () => promises.readv(F, [Buffer.alloc(1)], { position: 0 })],
      ['fsync', 'fsync', () => promises.fsync(F)],
      ['fdatasync', 'fdatasync', () => promises.fdatasync(F)],
    ] as Array<[string, string, () => Promise<unknown>]>)('%s publishes on posix-aio:%s only', async (_name, op, start) => {
      for (const name of ['read', 'write', 'fsync', 'fdatasync']) listenTracing(name);
      const p = start();
      held.releaseNext();
      await p;
      expect(whats()).toEqual([`${op}:start`, `${op}:end`, `${op}:asyncStart`, `${op}:asyncEnd`]);
    });

    test('the C face\'s aio_fsync publishes on posix-aio:fsync or posix-aio:fdatasync by op', async () => {
      listenTracing('fsync');
      listenTracing('fdatasync');
      const a = new AioControlBlock({ aio_fildes: F });
      const b = new AioControlBlock({ aio_fildes: F });
      expect(aio_fsync(O_SYNC, a)).toBe(0);
      expect(aio_fsync(O_DSYNC, b)).toBe(0);
      await drain();
      expect(aio_error(a)).toBe(0);
      expect(aio_error(b)).toBe(0);
      expect(whats()).toEqual(['fsync:start', 'fsync:end', 'fdatasync:start', 'fdatasync:end', 'fsync:asyncStart', 'fsync:asyncEnd', 'fdatasync:asyncStart', 'fdatasync:asyncEnd']);
    });
  });

  describe('cost when nobody listens', () => {
    test('a request submitted before anyone subscribed publishes nothing later', async () => {
      const a = promises.read(F, Buffer.alloc(1), { position: 0 });
      const b = promises.read(F, Buffer.alloc(1), { position: 10 });
      listenStages();
      listenTracing('read');
      held.releaseNext();
      await a;
      await flush();
      // b is dispatched now, a has completed: neither has a context, so nothing is published.
      expect(held.pending).toHaveLength(1);
      held.releaseNext();
      await b;
      expect(seen).toEqual([]);
      // A request submitted after subscribing is traced.
      const c = promises.read(F, Buffer.alloc(1), { position: 20 });
      held.releaseNext();
      await c;
      expect(whats()).toEqual(['enqueue', 'read:start', 'read:end', 'dispatch', 'complete', 'read:asyncStart', 'read:asyncEnd']);
      expect(new Set(seen.map((s) => s.ctx)).size).toBe(1);
    });

    test('a request submitted after everyone unsubscribed publishes nothing', async () => {
      listenStages();
      const a = promises.read(F, Buffer.alloc(1), { position: 0 });
      held.releaseNext();
      await a;
      expect(seen).toHaveLength(3);
      for (const fn of undo.splice(0)) fn();
      seen = [];
      const b = promises.read(F, Buffer.alloc(1), { position: 0 });
      held.releaseNext();
      await b;
      expect(seen).toEqual([]);
    });

    test('a subscriber to one TracingChannel event alone is enough to build contexts', async () => {
      listenTracing('fsync', ['asyncEnd']);
      const p = promises.fsync(F);
      held.releaseNext();
      await p;
      expect(whats()).toEqual(['fsync:asyncEnd']);
      expect(seen[0]?.ctx).toMatchObject({ op: 'fsync', face: 'promise', errno: 0, result: 0 });
    });
  });

  describe('face tags', () => {
    test('aio_read requests are tagged posix', async () => {
      listenStages(['enqueue', 'complete']);
      const cb = new AioControlBlock({ aio_fildes: F, aio_offset: 64, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_reqprio: 1 });
      expect(aio_read(cb)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      held.releaseNext();
      await flush();
      expect(aio_return(cb)).toBe(4);
      expect(whats()).toEqual(['enqueue', 'complete']);
      expect(seen[0]?.ctx).toMatchObject({ face: 'posix', op: 'read', fd: F, position: 64, nbytes: 4, priority: 1, result: 4 });
    });

    test('aio_write requests are tagged posix', async () => {
      listenStages(['enqueue']);
      const cb = new AioControlBlock({ aio_fildes: F, aio_offset: 0n, aio_buf: Buffer.alloc(2), aio_nbytes: 2 });
      expect(aio_write(cb)).toBe(0);
      held.releaseNext();
      await flush();
      expect(aio_return(cb)).toBe(2);
      expect(seen[0]?.ctx).toMatchObject({ face: 'posix', op: 'write', fd: F, nbytes: 2 });
    });

    test('nng_file_read requests are tagged nng', async () => {
      listenStages(['enqueue', 'complete']);
      const aio = nng_aio_alloc(mustCall());
      const buf = Buffer.alloc(5);
      expect(nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: 5 }])).toBe(0);
      nng_file_read(F, 32, aio);
      held.releaseNext({ bytes: 5 });
      await nng_aio_wait(aio);
      expect(nng_aio_result(aio)).toBe(0);
      expect(nng_aio_count(aio)).toBe(5);
      nng_aio_free(aio);
      expect(whats()).toEqual(['enqueue', 'complete']);
      expect(seen[0]?.ctx).toMatchObject({ face: 'nng', op: 'read', fd: F, position: 32, nbytes: 5, result: 5 });
    });

    test('promises.read requests are tagged promise (position null by default)', async () => {
      listenStages(['enqueue']);
      const p = promises.read(F, Buffer.alloc(3));
      held.releaseNext();
      await p;
      expect(seen[0]?.ctx).toMatchObject({ face: 'promise', op: 'read', fd: F, position: null, nbytes: 3 });
    });
  });
});
