/**
 * The Promise face (src/promises.ts), against its design notes, with the held
 * backend: queued and in-flight are states the test sets, never races.
 *
 * In-flight cap 1 throughout, so that the first request occupies the thread pool and
 * every later one is deterministically queued. Fake descriptors: F and G seekable,
 * PIPE non-seekable, NOT_OPEN never declared.
 */
import { getEventListeners } from 'node:events';
import { inspect, getSystemErrorMap } from 'node:util';
import {
  AIO_ALLDONE,
  AIO_CANCELED,
  AIO_NOTCANCELED,
  AioError,
  AioFileHandle,
  EBADF,
  ECANCELED,
  EFBIG,
  EINVAL,
  EIO,
  EISDIR,
  ENOSPC,
  EOVERFLOW,
  ETIMEDOUT,
  aio_cancel,
  aio_close,
  aio_init,
  counters,
  promises,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { HeldBackend } from '../helpers/held-backend';
import { trackTimers } from '../helpers/timers';
import { flush, fulfilment, mustCall, rejection, sleep } from '../helpers/mustcall';

const F = 1000;
const G = 1001;
const PIPE = 1002;
const NOT_OPEN = 1099;

/** A Promise watched until it settles: exactly once (mustCall), never unhandled. */
interface Observed<T> {
  settled: boolean;
  rejected: boolean;
  value: T | undefined;
  reason: unknown;
  readonly done: Promise<void>;
}

function observe<T>(p: Promise<T>): Observed<T> {
  const o = { settled: false, rejected: false, value: undefined, reason: undefined } as Omit<Observed<T>, 'done'> & { done: Promise<void> };
  const onSettle = mustCall((rejected: boolean, v: unknown) => {
    o.settled = true;
    o.rejected = rejected;
    if (rejected) o.reason = v;
    else o.value = v as T;
  });
  o.done = p.then(
    (v) => onSettle(false, v),
    (e: unknown) => onSettle(true, e),
  );
  return o;
}



/** Calls `fn`, asserting that it does not throw synchronously and returns a Promise. */
function call(fn: () => Promise<unknown>): Promise<unknown> {
  let p: Promise<unknown> | undefined;
  expect(() => {
    p = fn();
  }).not.toThrow();
  expect(p).toBeInstanceOf(Promise);
  return p as Promise<unknown>;
}

const errorTexts = getSystemErrorMap();

/** Asserts `err` is the Promise face's system error: Node's shape, negative errno. */
function expectSystemError(err: unknown, errno: number, syscall: string): void {
  const entry = errorTexts.get(-errno) as [string, string];
  expect(err).toBeInstanceOf(AioError);
  expect(err).toBeInstanceOf(Error);
  expect(err).toMatchObject({ name: 'AioError', code: entry[0], errno: -errno, syscall });
  expect((err as Error).message).toBe(`${entry[0]}: ${entry[1]}, ${syscall}`);
}

/** Asserts `err` is Node core's AbortError shape with `cause` the signal's reason. */
function expectAbortError(err: unknown, reason: unknown): void {
  expect(err).toBeInstanceOf(Error);
  expect(err).not.toBeInstanceOf(AioError);
  expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', message: 'The operation was aborted' });
  expect((err as Error).cause).toBe(reason);
}

/** The listeners this face (or anyone) put on `signal`. */
function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

/** Timers made during this test and still armed (test/helpers/timers.ts says why not getActiveResourcesInfo). */
const timeouts = trackTimers();

let held: HeldBackend;
let restore: () => void;

/** Releases everything until the engine is idle, then lets the notifications run. */
async function drain(): Promise<void> {
  for (let i = 0; i < 200 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
    held.releaseAll();
    await flush(1);
  }
  await flush();
  expect(engine().outstanding).toBe(0);
}

/** Releases pending operations one at a time, oldest first, until none is left. */
async function releaseOneByOne(): Promise<void> {
  for (let i = 0; i < 200 && held.pending.length > 0; i++) {
    held.releaseNext();
    await flush(1);
  }
}

/** A read of 4 bytes at `position` on F: the filler that occupies the single in-flight slot. */
function occupy(fd = F, position = 1_000_000): Observed<{ bytesRead: number; buffer: Buffer }> {
  return observe(promises.read(fd, Buffer.alloc(4), { position }));
}

function positions(): Array<number | bigint | null> {
  return held.log.map((o) => o.position);
}

describe('the Promise face (held backend, in-flight cap 1)', () => {
  beforeEach(() => {
    held = new HeldBackend().open(F).open(G).open(PIPE, { seekable: false });
    restore = held.use(1);
  });

  afterEach(async () => {
    await drain();
    restore();
    await flush();
  });

  describe('promises.read', () => {
    test('resolves { bytesRead, buffer } with the caller\'s buffer object', async () => {
      const buf = Buffer.alloc(8);
      const p = promises.read(F, buf, { position: 0 });
      expect(held.pending).toHaveLength(1);
      held.releaseNext({ bytes: 5 });
      const r = await fulfilment(p);
      expect(r).toEqual({ bytesRead: 5, buffer: buf });
      expect(r.buffer).toBe(buf);
      expect(Object.keys(r).sort()).toEqual(['buffer', 'bytesRead']);
    });

    test('reads [offset, offset + length) of the buffer at the given position', async () => {
      const buf = Buffer.alloc(16);
      const p = observe(promises.read(F, buf, { offset: 2, length: 3, position: 7 }));
      const op = held.log[0];
      expect(op?.op).toBe('read');
      expect(op?.fd).toBe(F);
      expect(op?.position).toBe(7);
      expect(op?.length).toBe(3);
      const view = op?.buffers[0] as Uint8Array;
      expect(view.buffer).toBe(buf.buffer);
      expect(view.byteOffset).toBe(buf.byteOffset + 2);
      expect(view.byteLength).toBe(3);
      held.releaseNext();
      await p.done;
      expect(p.value?.bytesRead).toBe(3);
      expect(p.value?.buffer).toBe(buf);
    });

    test('length defaults to the rest of the buffer after offset', async () => {
      const buf = Buffer.alloc(10);
      const p = observe(promises.read(F, buf, { offset: 4 }));
      expect(held.log[0]?.length).toBe(6);
      expect((held.log[0]?.buffers[0] as Uint8Array).byteOffset).toBe(buf.byteOffset + 4);
      held.releaseNext();
      await p.done;
      expect(p.value?.bytesRead).toBe(6);
    });

    test('counts offset and length in bytes for any ArrayBufferView', async () => {
      const u16 = new Uint16Array(8);
      const dv = new DataView(new ArrayBuffer(12), 4);
      const a = observe(promises.read(F, u16, { offset: 3, length: 5, position: 0 }));
      const b = observe(promises.read(G, dv, { position: 0 }));
      expect(held.log[0]?.length).toBe(5);
      expect((held.log[0]?.buffers[0] as Uint8Array).byteOffset).toBe(3);
      await releaseOneByOne();
      await Promise.all([a.done, b.done]);
      expect(held.log[1]?.length).toBe(8);
      expect(a.value?.buffer).toBe(u16);
      expect(b.value?.buffer).toBe(dv);
    });

    test.each([
      ['omitted', undefined],
      ['null', null],
      ['-1', -1],
    ])('position %s means the current file position (null to the backend)', async (_name, position) => {
      const p = observe(promises.read(F, Buffer.alloc(2), position === undefined ? undefined : { position }));
      expect(held.log[0]?.position).toBeNull();
      held.releaseNext();
      await p.done;
      expect(p.value?.bytesRead).toBe(2);
    });

    test('accepts a bigint position (exact numbers reach the backend as numbers)', async () => {
      const p = observe(promises.read(F, Buffer.alloc(2), { position: 4096n }));
      expect(held.log[0]?.position).toBe(4096);
      held.releaseNext();
      await p.done;
      expect(p.value?.bytesRead).toBe(2);
    });

    test('passes a bigint position past 2^53 to the backend as a bigint (fs.read honours it)', async () => {
      const big = 2n ** 60n;
      const p = observe(promises.read(F, Buffer.alloc(2), { position: big }));
      expect(held.log[0]?.position).toBe(big);
      held.releaseNext({ bytes: 0 });
      await p.done;
      expect(p.value?.bytesRead).toBe(0);
    });

    test('ignores the position on a descriptor that cannot seek', async () => {
      const p = observe(promises.read(PIPE, Buffer.alloc(2), { position: 9 }));
      expect(held.log[0]?.position).toBeNull();
      held.releaseNext();
      await p.done;
      expect(p.settled).toBe(true);
    });

    test('resolves fewer bytes than asked at end of file', async () => {
      const p = observe(promises.read(F, Buffer.alloc(8), { position: 0 }));
      held.releaseNext({ bytes: 0 });
      await p.done;
      expect(p.value?.bytesRead).toBe(0);
    });
  });

  describe('promises.write', () => {
    test('resolves { bytesWritten, buffer } with the caller\'s buffer object', async () => {
      const buf = Buffer.from('hello world');
      const p = promises.write(F, buf, { offset: 6, length: 5, position: 100 });
      const op = held.log[0];
      expect(op?.op).toBe('write');
      expect(op?.position).toBe(100);
      expect(Buffer.from(op?.buffers[0] as Uint8Array).toString()).toBe('world');
      held.releaseNext();
      const r = await fulfilment(p);
      expect(r).toEqual({ bytesWritten: 5, buffer: buf });
      expect(r.buffer).toBe(buf);
    });

    test('rejects EOVERFLOW for a bigint position past 2^53, without dispatching', async () => {
      const before = counters();
      const err = await rejection(call(() => promises.write(F, Buffer.alloc(1), { position: 2n ** 53n + 1n })));
      expectSystemError(err, EOVERFLOW, 'write');
      expect(held.log).toHaveLength(0);
      const after = counters();
      expect(after.submitted - before.submitted).toBe(1);
      expect(after.failed - before.failed).toBe(1);
      expect(after.queued).toBe(before.queued);
    });
  });

  describe('promises.readv and promises.writev', () => {
    test('readv resolves { bytesRead, buffers } with the caller\'s array', async () => {
      const bufs = [Buffer.alloc(2), Buffer.alloc(3)];
      const p = promises.readv(F, bufs, { position: 10 });
      expect(held.log[0]).toMatchObject({ op: 'readv', fd: F, position: 10, length: 5 });
      expect(held.log[0]?.buffers[0]).toBe(bufs[0]);
      held.releaseNext({ bytes: 4 });
      const r = await fulfilment(p);
      expect(r).toEqual({ bytesRead: 4, buffers: bufs });
      expect(r.buffers).toBe(bufs);
    });

    test('writev resolves { bytesWritten, buffers } with the caller\'s array', async () => {
      const bufs = [Buffer.from('ab'), Buffer.from('cde')];
      const p = promises.writev(F, bufs, { position: 3n });
      expect(held.log[0]).toMatchObject({ op: 'writev', fd: F, position: 3, length: 5 });
      held.releaseNext();
      const r = await fulfilment(p);
      expect(r).toEqual({ bytesWritten: 5, buffers: bufs });
      expect(r.buffers).toBe(bufs);
    });

    test('position defaults to the current file position', async () => {
      const a = observe(promises.readv(F, [Buffer.alloc(1)]));
      const b = observe(promises.writev(G, [Buffer.alloc(1)], { position: -1 }));
      await releaseOneByOne();
      await Promise.all([a.done, b.done]);
      expect(positions()).toEqual([null, null]);
    });

    test('position -1n is the current file position too, as fs.read takes it', async () => {
      const list = [
        observe(promises.read(F, Buffer.alloc(1), { position: -1n })),
        observe(promises.write(F, Buffer.alloc(1), { position: -1n })),
        observe(promises.readv(G, [Buffer.alloc(1)], { position: -1n })),
        observe(promises.writev(G, [Buffer.alloc(1)], { position: -1n })),
      ];
      await releaseOneByOne();
      await Promise.all(list.map((o) => o.done));
      expect(list.every((o) => !o.rejected)).toBe(true);
      expect(positions()).toEqual([null, null, null, null]);
    });

    test.each([
      ['readv', 'read'],
      ['writev', 'write'],
    ] as const)('%s rejects EOVERFLOW for a bigint position past 2^53 (Node cannot address it)', async (name, syscall) => {
      const err = await rejection(call(() => promises[name](F, [Buffer.alloc(1)], { position: 2n ** 62n })));
      expectSystemError(err, EOVERFLOW, syscall);
      expect(held.log).toHaveLength(0);
    });
  });

  describe('promises.fsync and promises.fdatasync', () => {
    test.each([
      ['fsync', 'fsync'],
      ['fdatasync', 'fdatasync'],
    ] as const)('%s resolves undefined after the %s system call', async (name, op) => {
      const p = promises[name](F);
      expect(held.log[0]).toMatchObject({ op, fd: F });
      held.releaseNext();
      expect(await fulfilment(p)).toBeUndefined();
    });

    test.each(['fsync', 'fdatasync'] as const)('%s waits for every earlier request on the descriptor (a barrier)', async (name) => {
      // Cap 2: a slot stays free, so only the barrier rule holds the sync back.
      engine().setMaxInFlight(2);
      try {
        const w = observe(promises.write(F, Buffer.alloc(1), { position: 0 }));
        const s = observe(promises[name](F));
        const r = observe(promises.read(G, Buffer.alloc(1), { position: 0 }));
        expect(held.log.map((o) => o.op)).toEqual(['write', 'read']);
        held.releaseNext();
        await w.done;
        await flush();
        expect(s.settled).toBe(false);
        expect(held.log.map((o) => o.op)).toEqual(['write', 'read', name]);
        await releaseOneByOne();
        await Promise.all([s.done, r.done]);
        expect(s.value).toBeUndefined();
      } finally {
        engine().setMaxInFlight(1);
      }
    });

    test('fsync rejects with the failure of a write it covers', async () => {
      const w = observe(promises.write(F, Buffer.alloc(1), { position: 0 }));
      const s = observe(promises.fsync(F));
      held.releaseNext({ error: 'EIO' });
      await w.done;
      await releaseOneByOne();
      await s.done;
      expectSystemError(w.reason, EIO, 'write');
      expectSystemError(s.reason, EIO, 'fsync');
    });
  });

  describe('errors', () => {
    test.each([
      ['EIO', EIO, 'read'],
      ['ENOSPC', ENOSPC, 'write'],
      ['EFBIG', EFBIG, 'write'],
      ['EISDIR', EISDIR, 'read'],
      ['EINVAL', EINVAL, 'fsync'],
      ['EBADF', EBADF, 'fdatasync'],
    ])('an I/O error %s rejects with an AioError shaped like Node\'s (negative errno, syscall, message)', async (code, errno, syscall) => {
      const p =
        syscall === 'read'
          ? promises.read(F, Buffer.alloc(1), { position: 0 })
          : syscall === 'write'
            ? promises.write(F, Buffer.alloc(1), { position: 0 })
            : syscall === 'fsync'
              ? promises.fsync(F)
              : promises.fdatasync(F);
      held.releaseNext({ error: code });
      const err = await rejection(p);
      expectSystemError(err, errno, syscall);
      expect((err as AioError).errno).toBeLessThan(0);
    });

    test('a descriptor that is not open rejects EBADF and nothing reaches the backend', async () => {
      const err = await rejection(call(() => promises.read(NOT_OPEN, Buffer.alloc(1))));
      expectSystemError(err, EBADF, 'read');
      expect(held.log).toHaveLength(0);
    });

    test('a queued request whose descriptor was closed behind the library rejects EBADF without being dispatched', async () => {
      const blocker = occupy(G);
      const p = observe(promises.read(F, Buffer.alloc(1), { position: 0 }));
      held.forget(F);
      held.releaseNext();
      await Promise.all([blocker.done, p.done]);
      expectSystemError(p.reason, EBADF, 'read');
      expect(held.log.map((o) => o.fd)).toEqual([G]);
    });

    test.each([-1, -(2 ** 31)])('a negative fd %p (an int, but no descriptor) rejects EBADF, as aio_read reports it', async (fd) => {
      expectSystemError(await rejection(call(() => promises.write(fd, Buffer.alloc(1)))), EBADF, 'write');
      expectSystemError(await rejection(call(() => promises.fsync(fd))), EBADF, 'fsync');
      expect(held.log).toHaveLength(0);
    });
  });


  describe('signal', () => {
    const ops = [
      ['read', (s: AbortSignal) => promises.read(F, Buffer.alloc(1), { signal: s })],
      ['write', (s: AbortSignal) => promises.write(F, Buffer.alloc(1), { signal: s })],
      ['readv', (s: AbortSignal) => promises.readv(F, [Buffer.alloc(1)], { signal: s })],
      ['writev', (s: AbortSignal) => promises.writev(F, [Buffer.alloc(1)], { signal: s })],
      ['fsync', (s: AbortSignal) => promises.fsync(F, { signal: s })],
      ['fdatasync', (s: AbortSignal) => promises.fdatasync(F, { signal: s })],
      ['batch', (s: AbortSignal) => promises.batch([{ op: 'read', fd: F, buffer: Buffer.alloc(1) }], { signal: s })],
    ] as const;

    test.each(ops)('%s with an already aborted signal rejects AbortError and queues nothing', async (_name, start) => {
      const ac = new AbortController();
      ac.abort();
      const before = counters();
      const err = await rejection(call(() => start(ac.signal)));
      expectAbortError(err, ac.signal.reason);
      expect(((err as Error).cause as Error).name).toBe('AbortError');
      expect(counters()).toEqual(before);
      expect(held.log).toHaveLength(0);
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('an already aborted signal with a custom reason rejects AbortError whose cause is that reason', async () => {
      const ac = new AbortController();
      const reason = new Error('custom');
      ac.abort(reason);
      const err = await rejection(call(() => promises.read(F, Buffer.alloc(1), { signal: ac.signal })));
      expectAbortError(err, reason);
      expect(((err as Error).cause as Error).message).toBe('custom');
      expect(held.log).toHaveLength(0);
    });

    test('a non-Error reason is the cause as it is', async () => {
      const ac = new AbortController();
      ac.abort('just because');
      const err = await rejection(call(() => promises.write(F, Buffer.alloc(1), { signal: ac.signal })));
      expectAbortError(err, 'just because');
    });

    test('AbortSignal.timeout gives an AbortError whose cause is the TimeoutError', async () => {
      const signal = AbortSignal.timeout(1);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      const before = counters();
      const err = await rejection(call(() => promises.read(F, Buffer.alloc(1), { signal })));
      expectAbortError(err, signal.reason);
      expect(((err as Error).cause as Error).name).toBe('TimeoutError');
      expect(counters()).toEqual(before);
      expect(held.log).toHaveLength(0);
    });

    test('abort while queued rejects AbortError at once; the request is never dispatched and its buffer untouched', async () => {
      const first = occupy();
      const ac = new AbortController();
      const buf = Buffer.alloc(8, 0xee);
      const p = observe(promises.read(F, buf, { position: 0, signal: ac.signal }));
      await flush();
      expect(p.settled).toBe(false);
      const before = counters();
      const reason = new Error('stop');
      ac.abort(reason);
      await flush();
      expect(p.settled).toBe(true);
      expectAbortError(p.reason, reason);
      expect(counters().canceled - before.canceled).toBe(1);
      expect(counters().queued).toBe(before.queued - 1);
      await drain();
      await first.done;
      expect(held.log).toHaveLength(1);
      expect(held.log[0]?.position).toBe(1_000_000);
      expect(buf.equals(Buffer.alloc(8, 0xee))).toBe(true);
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('abort while in flight has no effect: the request settles with its real result after release', async () => {
      const ac = new AbortController();
      const buf = Buffer.alloc(8);
      const p = observe(promises.read(F, buf, { position: 0, signal: ac.signal }));
      expect(held.pending).toHaveLength(1);
      ac.abort();
      await flush();
      expect(p.settled).toBe(false);
      held.releaseNext({ bytes: 6 });
      await p.done;
      expect(p.rejected).toBe(false);
      expect(p.value).toEqual({ bytesRead: 6, buffer: buf });
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('abort while in flight still settles with the real error', async () => {
      const ac = new AbortController();
      const p = observe(promises.write(F, Buffer.alloc(1), { position: 0, signal: ac.signal }));
      ac.abort();
      held.releaseNext({ error: 'ENOSPC' });
      await p.done;
      expectSystemError(p.reason, ENOSPC, 'write');
    });

    test('abort cancels every queued request on the signal, oldest first, and leaves the in-flight one alone', async () => {
      const ac = new AbortController();
      const a = observe(promises.read(F, Buffer.alloc(1), { position: 0, signal: ac.signal }));
      const b = observe(promises.read(F, Buffer.alloc(1), { position: 1, signal: ac.signal }));
      const c = observe(promises.fsync(G, { signal: ac.signal }));
      const other = observe(promises.read(G, Buffer.alloc(1), { position: 0 }));
      const order: string[] = [];
      void b.done.then(() => order.push('b'));
      void c.done.then(() => order.push('c'));
      ac.abort();
      await flush();
      expect(a.settled).toBe(false);
      expect(order).toEqual(['b', 'c']);
      expectAbortError(b.reason, ac.signal.reason);
      expectAbortError(c.reason, ac.signal.reason);
      expect(other.settled).toBe(false);
      await drain();
      expect(a.value?.bytesRead).toBe(1);
      expect(other.value?.bytesRead).toBe(1);
      expect(held.log.map((o) => `${o.op} ${o.fd}`)).toEqual([`read ${F}`, `read ${G}`]);
    });

    test('abort cancels every request queued on the signal, even one that canceling another unblocks', async () => {
      // Cap 2 leaves a slot free: the read at [12, 20) waits only for the write at [5, 15).
      engine().setMaxInFlight(2);
      try {
        observe(promises.write(F, Buffer.alloc(10), { position: 0 }));
        const ac = new AbortController();
        const a = observe(promises.write(F, Buffer.alloc(10), { position: 5, signal: ac.signal }));
        const b = observe(promises.read(F, Buffer.alloc(8), { position: 12, signal: ac.signal }));
        expect(held.log).toHaveLength(1);
        expect(counters().queued).toBe(2);
        ac.abort();
        await flush();
        // Both were queued when the signal fired: neither may reach the thread pool.
        expect(held.log.map((o) => `${o.op}@${String(o.position)}`)).toEqual(['write@0']);
        expect(a.settled).toBe(true);
        expectAbortError(a.reason, ac.signal.reason);
        expect(b.settled).toBe(true);
        expectAbortError(b.reason, ac.signal.reason);
      } finally {
        await drain();
        engine().setMaxInFlight(1);
      }
    });

    test('a signal gets at most one listener from this face however many requests share it, and none once they settle', async () => {
      const ac = new AbortController();
      const other = new AbortController();
      expect(abortListeners(ac.signal)).toBe(0);
      const list = [
        observe(promises.read(F, Buffer.alloc(1), { position: 0, signal: ac.signal })),
        observe(promises.read(F, Buffer.alloc(1), { position: 1, signal: ac.signal })),
        observe(promises.write(G, Buffer.alloc(1), { position: 0, signal: ac.signal })),
        observe(promises.fsync(G, { signal: ac.signal })),
        observe(promises.batch([{ op: 'read', fd: F, buffer: Buffer.alloc(1), position: 2 }, { op: 'fdatasync', fd: F }], { signal: ac.signal })),
        observe(promises.read(F, Buffer.alloc(1), { position: 3, signal: other.signal })),
      ];
      expect(abortListeners(ac.signal)).toBe(1);
      expect(abortListeners(other.signal)).toBe(1);
      await releaseOneByOne();
      await Promise.all(list.map((o) => o.done));
      expect(list.every((o) => o.settled && !o.rejected)).toBe(true);
      expect(abortListeners(ac.signal)).toBe(0);
      expect(abortListeners(other.signal)).toBe(0);
    });

    test('the listener is removed as the last request settles, whatever ended it (abort, cancel, timeout, error)', async () => {
      const ac = new AbortController();
      const first = observe(promises.read(F, Buffer.alloc(1), { position: 0, signal: ac.signal }));
      const canceled = observe(promises.read(G, Buffer.alloc(1), { position: 0, signal: ac.signal }));
      const timed = observe(promises.read(G, Buffer.alloc(1), { position: 1, signal: ac.signal, timeout: 0 }));
      expect(abortListeners(ac.signal)).toBe(1);
      expect(aio_cancel(G, null)).toBe(AIO_CANCELED);
      await flush();
      expectSystemError(canceled.reason, ECANCELED, 'read');
      expect(timed.rejected).toBe(true);
      expect(abortListeners(ac.signal)).toBe(1);
      held.releaseNext({ error: 'EIO' });
      await first.done;
      expectSystemError(first.reason, EIO, 'read');
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('the listener is removed when a timeout ends the last request on the signal', async () => {
      const blocker = occupy();
      const ac = new AbortController();
      const p = observe(promises.read(F, Buffer.alloc(1), { position: 0, signal: ac.signal, timeout: 1 }));
      expect(abortListeners(ac.signal)).toBe(1);
      await p.done;
      expectSystemError(p.reason, ETIMEDOUT, 'read');
      expect(abortListeners(ac.signal)).toBe(0);
      await drain();
      await blocker.done;
    });

    test('a request rejected before queueing (EBADF) leaves no listener', async () => {
      const ac = new AbortController();
      expectSystemError(await rejection(promises.read(NOT_OPEN, Buffer.alloc(1), { signal: ac.signal })), EBADF, 'read');
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('100 requests sharing one signal stay at one listener (below the EventTarget leak warning)', async () => {
      // The warning itself is watched in test/integration/promises.test.ts, in a child
      // process: jest's sandboxed `process` does not see warnings Node emits on the real one.
      const ac = new AbortController();
      const list: Array<Observed<unknown>> = [];
      for (let i = 0; i < 100; i++) {
        list.push(observe(promises.read(F, Buffer.alloc(1), { position: i * 10, signal: ac.signal })));
        expect(abortListeners(ac.signal)).toBe(1);
      }
      ac.abort();
      await flush();
      expect(list.filter((o) => o.rejected)).toHaveLength(99);
      await drain();
      await Promise.all(list.map((o) => o.done));
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('aborting one signal leaves requests on other signals queued', async () => {
      const blocker = occupy();
      const a = new AbortController();
      const b = new AbortController();
      const pa = observe(promises.read(F, Buffer.alloc(1), { position: 0, signal: a.signal }));
      const pb = observe(promises.read(F, Buffer.alloc(1), { position: 1, signal: b.signal }));
      a.abort();
      await flush();
      expect(pa.rejected).toBe(true);
      expect(pb.settled).toBe(false);
      await drain();
      await Promise.all([blocker.done, pb.done]);
      expect(pb.value?.bytesRead).toBe(1);
    });
  });

  describe('timeout', () => {
    test.each<readonly [string, () => Promise<unknown>]>([
      ['read', () => promises.read(F, Buffer.alloc(1), { position: 0, timeout: 30 })],
      ['write', () => promises.writev(F, [Buffer.alloc(1)], { position: 0, timeout: 30 })],
      ['fsync', () => promises.fsync(G, { timeout: 30 })],
      ['fdatasync', () => promises.fdatasync(G, { timeout: 30 })],
    ])('expiring while queued rejects ETIMEDOUT with syscall %s and the request is never dispatched', async (syscall, start) => {
      const blocker = occupy();
      const before = counters();
      const t0 = performance.now();
      const p = observe(start());
      expect(counters().queued - before.queued).toBe(1);
      await p.done;
      // libuv's clock has millisecond granularity: allow for one.
      expect(performance.now() - t0).toBeGreaterThanOrEqual(29);
      expectSystemError(p.reason, ETIMEDOUT, syscall);
      expect(counters().canceled - before.canceled).toBe(1);
      expect(held.log).toHaveLength(1);
      await drain();
      await blocker.done;
      expect(held.log).toHaveLength(1);
    });

    test('a timeout of 0 on a queued request rejects ETIMEDOUT on the next timer turn', async () => {
      const blocker = occupy();
      const p = observe(promises.read(F, Buffer.alloc(1), { position: 0, timeout: 0 }));
      expect(p.settled).toBe(false);
      await p.done;
      expectSystemError(p.reason, ETIMEDOUT, 'read');
      await drain();
      await blocker.done;
    });

    test('expiring after dispatch has no effect: the real result comes after release', async () => {
      const buf = Buffer.alloc(4);
      const p = observe(promises.read(F, buf, { position: 0, timeout: 5 }));
      expect(held.pending).toHaveLength(1);
      await sleep(30);
      expect(p.settled).toBe(false);
      held.releaseNext({ bytes: 3 });
      await p.done;
      expect(p.value).toEqual({ bytesRead: 3, buffer: buf });
    });

    test('the timer is cleared when the request settles: nothing keeps the event loop alive', async () => {
      const base = timeouts();
      const ok = observe(promises.read(F, Buffer.alloc(1), { position: 0, timeout: 3_600_000 }));
      const failed = observe(promises.read(F, Buffer.alloc(1), { position: 1, timeout: 3_600_000 }));
      const canceled = observe(promises.read(G, Buffer.alloc(1), { position: 0, timeout: 3_600_000 }));
      const ac = new AbortController();
      const aborted = observe(promises.read(G, Buffer.alloc(1), { position: 1, timeout: 3_600_000, signal: ac.signal }));
      expect(timeouts()).toBe(base + 4);
      ac.abort();
      expect(aio_cancel(G, null)).toBe(AIO_CANCELED);
      await flush();
      expect(timeouts()).toBe(base + 2);
      held.releaseNext();
      await ok.done;
      expect(timeouts()).toBe(base + 1);
      await flush();
      held.releaseNext({ error: 'EIO' });
      await failed.done;
      expect(timeouts()).toBe(base);
      expect(ok.value?.bytesRead).toBe(1);
      expectSystemError(failed.reason, EIO, 'read');
      expectSystemError(canceled.reason, ECANCELED, 'read');
      expectAbortError(aborted.reason, ac.signal.reason);
    });

    test('signal and timeout together: whichever comes first decides', async () => {
      const blocker = occupy();
      const ac = new AbortController();
      const byTimeout = observe(promises.read(F, Buffer.alloc(1), { position: 0, timeout: 1, signal: ac.signal }));
      await byTimeout.done;
      expectSystemError(byTimeout.reason, ETIMEDOUT, 'read');
      const base = timeouts();
      const byAbort = observe(promises.read(F, Buffer.alloc(1), { position: 1, timeout: 3_600_000, signal: ac.signal }));
      expect(timeouts()).toBe(base + 1);
      ac.abort();
      await byAbort.done;
      expectAbortError(byAbort.reason, ac.signal.reason);
      expect(timeouts()).toBe(base);
      await drain();
      await blocker.done;
    });
  });

  describe('priority', () => {
    test('lower priority values are dispatched first, equal ones in submission order', async () => {
      const all = [
        observe(promises.read(F, Buffer.alloc(1), { position: 0, priority: 0 })),
        observe(promises.read(F, Buffer.alloc(1), { position: 10, priority: 5 })),
        observe(promises.read(F, Buffer.alloc(1), { position: 20 })),
        observe(promises.read(G, Buffer.alloc(1), { position: 30, priority: 5 })),
        observe(promises.read(F, Buffer.alloc(1), { position: 40, priority: 20 })),
        observe(promises.write(G, Buffer.alloc(1), { position: 50, priority: 0 })),
        observe(promises.read(F, Buffer.alloc(1), { position: 60, priority: 1 })),
      ];
      await releaseOneByOne();
      await Promise.all(all.map((o) => o.done));
      expect(positions()).toEqual([0, 20, 50, 60, 10, 30, 40]);
    });

    test.each([0, 20])('accepts priority %p', async (priority) => {
      const p = observe(promises.fsync(F, { priority }));
      held.releaseNext();
      await p.done;
      expect(p.rejected).toBe(false);
    });
  });

  describe('promises.batch', () => {
    test('resolves one result per entry, in order, shaped like Promise.allSettled', async () => {
      const a = Buffer.alloc(4);
      const b = Buffer.from('xy');
      const vr = [Buffer.alloc(1), Buffer.alloc(2)];
      const vw = [Buffer.from('q')];
      const p = observe(
        promises.batch([
          { op: 'read', fd: F, buffer: a, position: 0 },
          { op: 'write', fd: G, buffer: b, position: 0 },
          { op: 'fsync', fd: G },
          { op: 'readv', fd: F, buffers: vr, position: 100 },
          { op: 'writev', fd: F, buffers: vw, position: 200 },
          { op: 'fdatasync', fd: F },
          { op: 'read', fd: NOT_OPEN, buffer: Buffer.alloc(1) },
        ]),
      );
      // Fail the write; everything else succeeds.
      for (let i = 0; i < 100 && held.pending.length > 0; i++) {
        const next = held.pending[0];
        held.releaseNext(next?.op === 'write' ? { error: 'EIO' } : {});
        await flush(1);
      }
      await p.done;
      const r = p.value as Awaited<ReturnType<typeof promises.batch>>;
      expect(r).toHaveLength(7);
      expect(r[0]).toEqual({ status: 'fulfilled', value: { bytesRead: 4, buffer: a } });
      expect((r[0] as { value: { buffer: unknown } }).value.buffer).toBe(a);
      expect(r[1]?.status).toBe('rejected');
      expectSystemError((r[1] as { reason: unknown }).reason, EIO, 'write');
      // The fsync covers the failed write on G.
      expect(r[2]?.status).toBe('rejected');
      expectSystemError((r[2] as { reason: unknown }).reason, EIO, 'fsync');
      expect(r[3]).toEqual({ status: 'fulfilled', value: { bytesRead: 3, buffers: vr } });
      expect((r[3] as { value: { buffers: unknown } }).value.buffers).toBe(vr);
      expect(r[4]).toEqual({ status: 'fulfilled', value: { bytesWritten: 1, buffers: vw } });
      expect(r[5]).toEqual({ status: 'fulfilled', value: undefined });
      expect(r[6]?.status).toBe('rejected');
      expectSystemError((r[6] as { reason: unknown }).reason, EBADF, 'read');
    });

    test('an empty batch resolves []', async () => {
      expect(await fulfilment(promises.batch([]))).toEqual([]);
    });

    test('an entry\'s own priority overrides the batch\'s', async () => {
      const blocker = occupy();
      const p = observe(
        promises.batch(
          [
            { op: 'read', fd: F, buffer: Buffer.alloc(1), position: 10 },
            { op: 'read', fd: F, buffer: Buffer.alloc(1), position: 20, priority: 0 },
            { op: 'read', fd: F, buffer: Buffer.alloc(1), position: 30 },
            { op: 'fsync', fd: G, priority: 20 },
          ],
          { priority: 10 },
        ),
      );
      await releaseOneByOne();
      await Promise.all([blocker.done, p.done]);
      expect(positions()).toEqual([1_000_000, 20, 10, 30, null]);
      expect(held.log[4]?.op).toBe('fsync');
    });

    test('a signal shared by the batch cancels its queued entries and gets one listener', async () => {
      const ac = new AbortController();
      const p = observe(
        promises.batch(
          [
            { op: 'read', fd: F, buffer: Buffer.alloc(1), position: 0 },
            { op: 'write', fd: G, buffer: Buffer.alloc(1), position: 0 },
            { op: 'fsync', fd: G },
          ],
          { signal: ac.signal },
        ),
      );
      expect(held.log).toHaveLength(1);
      expect(abortListeners(ac.signal)).toBe(1);
      ac.abort();
      await flush();
      expect(p.settled).toBe(false);
      held.releaseNext({ bytes: 1 });
      await p.done;
      const r = p.value as Awaited<ReturnType<typeof promises.batch>>;
      expect(r[0]?.status).toBe('fulfilled');
      expect(r[1]?.status).toBe('rejected');
      expectAbortError((r[1] as { reason: unknown }).reason, ac.signal.reason);
      expectAbortError((r[2] as { reason: unknown }).reason, ac.signal.reason);
      expect(held.log).toHaveLength(1);
      expect(abortListeners(ac.signal)).toBe(0);
    });

    test('a batch timeout applies to every entry', async () => {
      const blocker = occupy();
      const p = observe(
        promises.batch(
          [
            { op: 'read', fd: F, buffer: Buffer.alloc(1), position: 0 },
            { op: 'fdatasync', fd: G },
          ],
          { timeout: 1 },
        ),
      );
      await p.done;
      const r = p.value as Awaited<ReturnType<typeof promises.batch>>;
      expectSystemError((r[0] as { reason: unknown }).reason, ETIMEDOUT, 'read');
      expectSystemError((r[1] as { reason: unknown }).reason, ETIMEDOUT, 'fdatasync');
      await drain();
      await blocker.done;
    });

    const good = { op: 'read', fd: F, buffer: Buffer.alloc(4) } as const;
    test.each([
      ['null', null, TypeError, 'ops[1]'],
      ['a number', 7, TypeError, 'ops[1]'],
      ['an array', [], TypeError, 'ops[1]'],
      ['an unknown op', { op: 'open', fd: F }, TypeError, 'ops[1].op'],
      ['no op', { fd: F, buffer: Buffer.alloc(1) }, TypeError, 'ops[1].op'],
      ['a string fd', { op: 'read', fd: '3', buffer: Buffer.alloc(1) }, TypeError, 'ops[1].fd'],
      ['no fd on fsync', { op: 'fsync' }, TypeError, 'ops[1].fd'],
      ['a string buffer', { op: 'write', fd: F, buffer: 'abc' }, TypeError, 'ops[1].buffer'],
      ['no buffer', { op: 'read', fd: F }, TypeError, 'ops[1].buffer'],
      ['buffers not an array', { op: 'readv', fd: F, buffers: Buffer.alloc(1) }, TypeError, 'ops[1].buffers'],
      ['a bad iov entry', { op: 'writev', fd: F, buffers: [Buffer.alloc(1), 'x'] }, TypeError, 'ops[1].buffers[1]'],
      ['an offset past the buffer', { op: 'read', fd: F, buffer: Buffer.alloc(1), offset: 2 }, RangeError, 'ops[1].offset'],
      ['a length past the buffer', { op: 'read', fd: F, buffer: Buffer.alloc(1), length: 2 }, RangeError, 'ops[1].length'],
      ['a string position', { op: 'readv', fd: F, buffers: [], position: '0' }, TypeError, 'ops[1].position'],
      ['a negative position', { op: 'write', fd: F, buffer: Buffer.alloc(1), position: -2 }, RangeError, 'ops[1].position'],
      ['priority 21', { op: 'fsync', fd: F, priority: 21 }, RangeError, 'ops[1].priority'],
      ['a string priority', { op: 'fdatasync', fd: F, priority: '1' }, TypeError, 'ops[1].priority'],
    ] as const)('an entry with %s rejects the whole batch with an error naming it, and queues nothing', async (_what, bad, Ctor, name) => {
      const before = counters();
      const err = await rejection(call(() => promises.batch([good, bad as never, good])));
      expect(err).toBeInstanceOf(Ctor);
      expect((err as NodeJS.ErrnoException).code).toBe(Ctor === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
      expect((err as Error).message).toContain(`"${name}"`);
      expect(counters()).toEqual(before);
      expect(held.log).toHaveLength(0);
    });

    test('a hole in the list rejects naming the entry', async () => {
      // eslint-disable-next-line no-sparse-arrays
      const ops = [good, , good] as never;
      const err = await rejection(call(() => promises.batch(ops)));
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).message).toContain('"ops[1]"');
      expect(held.log).toHaveLength(0);
    });

    test('an entry whose getter throws rejects naming the field', async () => {
      const bad = {
        op: 'read',
        fd: F,
        get buffer(): never {
          throw new Error('no buffer for you');
        },
      };
      const err = await rejection(call(() => promises.batch([good, bad as never])));
      expect(err).toBeInstanceOf(TypeError);
      expect((err as Error).message).toContain('"ops[1].buffer"');
      expect((err as Error).message).toContain('no buffer for you');
      expect(held.log).toHaveLength(0);
    });
  });

  describe('with the C faces', () => {
    test('aio_cancel(fd, null) cancels queued Promise-face requests (ECANCELED) and leaves the in-flight one', async () => {
      const a = observe(promises.read(F, Buffer.alloc(2), { position: 0 }));
      const b = observe(promises.write(F, Buffer.alloc(2), { position: 10 }));
      const c = observe(promises.fsync(F));
      const before = counters();
      expect(aio_cancel(F, null)).toBe(AIO_NOTCANCELED);
      await flush();
      expectSystemError(b.reason, ECANCELED, 'write');
      expectSystemError(c.reason, ECANCELED, 'fsync');
      expect(a.settled).toBe(false);
      expect(counters().canceled - before.canceled).toBe(2);
      await drain();
      expect(a.value?.bytesRead).toBe(2);
      expect(held.log).toHaveLength(1);
    });

    test('aio_cancel returns AIO_CANCELED when every Promise-face request on the descriptor was queued', async () => {
      const blocker = occupy(G);
      const ac = new AbortController();
      const p = observe(promises.read(F, Buffer.alloc(1), { signal: ac.signal }));
      expect(aio_cancel(F, null)).toBe(AIO_CANCELED);
      await flush();
      // Canceled from the C face: ECANCELED, not an AbortError, and the listener is gone.
      expectSystemError(p.reason, ECANCELED, 'read');
      expect(abortListeners(ac.signal)).toBe(0);
      expect(aio_cancel(F, null)).toBe(AIO_ALLDONE);
      await drain();
      await blocker.done;
    });

    test('aio_close cancels the queued requests, waits for the in-flight one, then closes', async () => {
      const a = observe(promises.read(F, Buffer.alloc(1), { position: 0 }));
      const b = observe(promises.read(F, Buffer.alloc(1), { position: 1 }));
      const closed = observe(aio_close(F));
      await flush();
      expectSystemError(b.reason, ECANCELED, 'read');
      expect(a.settled).toBe(false);
      expect(closed.settled).toBe(false);
      const late = await rejection(promises.read(F, Buffer.alloc(1)));
      expectSystemError(late, EBADF, 'read');
      held.releaseNext();
      await a.done;
      await closed.done;
      expect(a.value?.bytesRead).toBe(1);
      expect(closed.value).toBe(0);
      expect(engine().isOpen(F)).toBe(false);
    });

    test('promises.close cancels the queued requests, waits for the in-flight one, then closes', async () => {
      const a = observe(promises.write(F, Buffer.alloc(1), { position: 0 }));
      const b = observe(promises.fdatasync(F));
      const closed = observe(promises.close(F));
      await flush();
      expectSystemError(b.reason, ECANCELED, 'fdatasync');
      expect(closed.settled).toBe(false);
      held.releaseNext();
      await a.done;
      await closed.done;
      expect(a.value?.bytesWritten).toBe(1);
      expect(closed.rejected).toBe(false);
      expect(closed.value).toBeUndefined();
      expect(engine().isOpen(F)).toBe(false);
    });

    test('promises.close rejects EBADF for a descriptor that is not open, or already being closed', async () => {
      expectSystemError(await rejection(call(() => promises.close(NOT_OPEN))), EBADF, 'close');
      const a = occupy(F);
      const first = observe(promises.close(F));
      expectSystemError(await rejection(promises.close(F)), EBADF, 'close');
      held.releaseNext();
      await Promise.all([a.done, first.done]);
      expect(first.rejected).toBe(false);
    });

    test('is not bounded by aio_max: the queue holds whatever it is given', async () => {
      aio_init({ aio_max: 2 });
      try {
        const list = Array.from({ length: 6 }, (_, i) => observe(promises.read(F, Buffer.alloc(1), { position: i * 10 })));
        expect(counters().inFlight).toBe(1);
        expect(counters().queued).toBe(5);
        await drain();
        await Promise.all(list.map((o) => o.done));
        expect(list.every((o) => o.value?.bytesRead === 1)).toBe(true);
      } finally {
        aio_init({ aio_max: 512 });
      }
    });
  });

  describe('AioFileHandle', () => {
    test('fd is the descriptor until the handle closes, then -1', async () => {
      const fh = new AioFileHandle(F);
      expect(fh.fd).toBe(F);
      const closing = fh.close();
      expect(fh.fd).toBe(-1);
      await closing;
      expect(fh.fd).toBe(-1);
    });

    test('its methods are the face\'s calls on its descriptor', async () => {
      const fh = new AioFileHandle(F);
      const buf = Buffer.alloc(3);
      const bufs = [Buffer.alloc(1)];
      const r = observe(fh.read(buf, { position: 0 }));
      const w = observe(fh.write(buf, { position: 10, offset: 1 }));
      const rv = observe(fh.readv(bufs, { position: 20 }));
      const wv = observe(fh.writev(bufs, { position: 30 }));
      const s = observe(fh.sync());
      const d = observe(fh.datasync({ priority: 3 }));
      await releaseOneByOne();
      await Promise.all([r.done, w.done, rv.done, wv.done, s.done, d.done]);
      expect(held.log.map((o) => `${o.op} ${o.fd} ${String(o.position)} ${o.length}`)).toEqual([
        `read ${F} 0 3`,
        `write ${F} 10 2`,
        `readv ${F} 20 1`,
        `writev ${F} 30 1`,
        `fsync ${F} null 0`,
        `fdatasync ${F} null 0`,
      ]);
      expect(r.value).toEqual({ bytesRead: 3, buffer: buf });
      expect(w.value).toEqual({ bytesWritten: 2, buffer: buf });
      expect(rv.value?.buffers).toBe(bufs);
      expect(wv.value?.buffers).toBe(bufs);
      expect(s.value).toBeUndefined();
      expect(d.value).toBeUndefined();
      await fh.close();
    });

    test('close twice returns the same Promise', async () => {
      const fh = new AioFileHandle(F);
      const p1 = fh.close();
      const p2 = fh.close();
      expect(p2).toBe(p1);
      await fulfilment(p1);
      expect(fh.close()).toBe(p1);
    });

    test('Symbol.asyncDispose closes it and returns the close Promise', async () => {
      const fh = new AioFileHandle(F);
      const disposing = fh[Symbol.asyncDispose]();
      expect(disposing).toBe(fh.close());
      await fulfilment(disposing);
      expect(fh.fd).toBe(-1);
      expect(engine().isOpen(F)).toBe(false);
    });

    test('await using closes it at the end of the block', async () => {
      let seen: AioFileHandle | undefined;
      {
        await using fh = new AioFileHandle(F);
        seen = fh;
        const r = observe(fh.read(Buffer.alloc(1), { position: 0 }));
        held.releaseNext();
        await r.done;
        expect(fh.fd).toBe(F);
      }
      expect(seen?.fd).toBe(-1);
      expect(engine().isOpen(F)).toBe(false);
    });

    test.each([
      ['read', (fh: AioFileHandle) => fh.read(Buffer.alloc(1)), 'read'],
      ['write', (fh: AioFileHandle) => fh.write(Buffer.alloc(1)), 'write'],
      ['readv', (fh: AioFileHandle) => fh.readv([Buffer.alloc(1)]), 'read'],
      ['writev', (fh: AioFileHandle) => fh.writev([Buffer.alloc(1)]), 'write'],
      ['sync', (fh: AioFileHandle) => fh.sync(), 'fsync'],
      ['datasync', (fh: AioFileHandle) => fh.datasync(), 'fdatasync'],
    ] as const)('%s after close rejects EBADF and queues nothing', async (_name, start, syscall) => {
      const fh = new AioFileHandle(F);
      await fh.close();
      const before = counters();
      expectSystemError(await rejection(call(() => start(fh))), EBADF, syscall);
      expect(counters()).toEqual(before);
      expect(held.log).toHaveLength(0);
    });

    test('close cancels what is queued on the handle and waits for what is in flight', async () => {
      const fh = new AioFileHandle(F);
      const a = observe(fh.read(Buffer.alloc(1), { position: 0 }));
      const b = observe(fh.read(Buffer.alloc(1), { position: 1 }));
      const closed = observe(fh.close());
      await flush();
      expectSystemError(b.reason, ECANCELED, 'read');
      expectSystemError(await rejection(fh.write(Buffer.alloc(1))), EBADF, 'write');
      expect(closed.settled).toBe(false);
      held.releaseNext();
      await Promise.all([a.done, closed.done]);
      expect(a.value?.bytesRead).toBe(1);
      expect(closed.rejected).toBe(false);
    });

    test('close rejects EBADF when the descriptor is no longer open', async () => {
      const fh = new AioFileHandle(NOT_OPEN);
      expectSystemError(await rejection(fh.close()), EBADF, 'close');
    });

    test.each([
      ['a string', '3', TypeError],
      ['-1', -1, RangeError],
      ['1.5', 1.5, RangeError],
    ] as const)('the constructor refuses %s', (_what, fd, Ctor) => {
      expect(() => new AioFileHandle(fd as never)).toThrow(Ctor);
    });

    test('util.inspect shows the descriptor, the state and the outstanding requests', async () => {
      const fh = new AioFileHandle(F);
      const r = observe(fh.read(Buffer.alloc(1), { position: 0 }));
      expect(inspect(fh)).toBe(`AioFileHandle { fd: ${F}, state: 'open', outstanding: 1 }`);
      held.releaseNext();
      await r.done;
      await fh.close();
      expect(inspect(fh)).toBe(`AioFileHandle { fd: ${F}, state: 'closed', outstanding: 0 }`);
    });
  });

  describe('bad arguments', () => {
    const buf = Buffer.alloc(8);
    const boom = {
      get timeout(): never {
        throw new Error('boom');
      },
    };
    type Case = readonly [string, () => Promise<unknown>, typeof TypeError | typeof RangeError, string];
    const T = TypeError;
    const R = RangeError;
    const cases: Case[] = [
      ['read: fd a string', () => promises.read('1' as never, buf), T, 'fd'],
      ['read: fd a bigint', () => promises.read(1n as never, buf), T, 'fd'],
      ['read: fd 1.5', () => promises.read(1.5, buf), R, 'fd'],
      ['read: fd NaN', () => promises.read(Number.NaN, buf), R, 'fd'],
      ['read: fd Infinity', () => promises.read(Infinity, buf), R, 'fd'],
      ['read: fd 2^31', () => promises.read(2 ** 31, buf), R, 'fd'],
      ['write: fd -2^31 - 1', () => promises.write(-(2 ** 31) - 1, buf), R, 'fd'],
      ['readv: fd 0.5', () => promises.readv(0.5, [buf]), R, 'fd'],
      ['writev: fd NaN', () => promises.writev(Number.NaN, [buf]), R, 'fd'],
      ['fsync: fd 1.5', () => promises.fsync(1.5), R, 'fd'],
      ['fdatasync: fd 2^31', () => promises.fdatasync(2 ** 31), R, 'fd'],
      ['batch: ops[0].fd 1.5', () => promises.batch([{ op: 'read', fd: 1.5, buffer: buf }]), R, 'ops[0].fd'],
      ['close: fd 1.5', () => promises.close(1.5), R, 'fd'],
      ['read: buffer a string', () => promises.read(F, 'abc' as never), T, 'buffer'],
      ['read: buffer an ArrayBuffer', () => promises.read(F, new ArrayBuffer(4) as never), T, 'buffer'],
      ['read: options a number', () => promises.read(F, buf, 5 as never), T, 'options'],
      ['read: options a string', () => promises.read(F, buf, 'r' as never), T, 'options'],
      ['read: options an array', () => promises.read(F, buf, [] as never), T, 'options'],
      ['read: options.signal an object', () => promises.read(F, buf, { signal: {} as never }), T, 'options.signal'],
      ['read: options.signal a controller', () => promises.read(F, buf, { signal: new AbortController() as never }), T, 'options.signal'],
      ['read: options.signal null', () => promises.read(F, buf, { signal: null as never }), T, 'options.signal'],
      ['read: options.timeout a string', () => promises.read(F, buf, { timeout: '5' as never }), T, 'options.timeout'],
      ['read: options.timeout null', () => promises.read(F, buf, { timeout: null as never }), T, 'options.timeout'],
      ['read: options.timeout -1', () => promises.read(F, buf, { timeout: -1 }), R, 'options.timeout'],
      ['read: options.timeout 2^31', () => promises.read(F, buf, { timeout: 2 ** 31 }), R, 'options.timeout'],
      ['read: options.timeout NaN', () => promises.read(F, buf, { timeout: Number.NaN }), R, 'options.timeout'],
      ['read: options.timeout Infinity', () => promises.read(F, buf, { timeout: Infinity }), R, 'options.timeout'],
      ['read: options.timeout throws', () => promises.read(F, buf, boom as never), T, 'options.timeout'],
      ['read: options.priority a string', () => promises.read(F, buf, { priority: '1' as never }), T, 'options.priority'],
      ['read: options.priority -1', () => promises.read(F, buf, { priority: -1 }), R, 'options.priority'],
      ['read: options.priority 21', () => promises.read(F, buf, { priority: 21 }), R, 'options.priority'],
      ['read: options.priority 1.5', () => promises.read(F, buf, { priority: 1.5 }), R, 'options.priority'],
      ['read: options.priority NaN', () => promises.read(F, buf, { priority: Number.NaN }), R, 'options.priority'],
      ['read: options.offset a string', () => promises.read(F, buf, { offset: '1' as never }), T, 'options.offset'],
      ['read: options.offset -1', () => promises.read(F, buf, { offset: -1 }), R, 'options.offset'],
      ['read: options.offset past the buffer', () => promises.read(F, buf, { offset: 9 }), R, 'options.offset'],
      ['read: options.offset 1.5', () => promises.read(F, buf, { offset: 1.5 }), R, 'options.offset'],
      ['read: options.length a string', () => promises.read(F, buf, { length: '1' as never }), T, 'options.length'],
      ['read: options.length -1', () => promises.read(F, buf, { length: -1 }), R, 'options.length'],
      ['read: options.length past the buffer', () => promises.read(F, buf, { length: 9 }), R, 'options.length'],
      ['read: options.length past the buffer after offset', () => promises.read(F, buf, { offset: 4, length: 5 }), R, 'options.length'],
      ['read: options.position a string', () => promises.read(F, buf, { position: '0' as never }), T, 'options.position'],
      ['read: options.position an object', () => promises.read(F, buf, { position: {} as never }), T, 'options.position'],
      ['read: options.position -2', () => promises.read(F, buf, { position: -2 }), R, 'options.position'],
      ['read: options.position 1.5', () => promises.read(F, buf, { position: 1.5 }), R, 'options.position'],
      ['read: options.position NaN', () => promises.read(F, buf, { position: Number.NaN }), R, 'options.position'],
      ['read: options.position 2^53', () => promises.read(F, buf, { position: 2 ** 53 }), R, 'options.position'],
      ['read: options.position -2n', () => promises.read(F, buf, { position: -2n }), R, 'options.position'],
      ['read: options.position 2n^63n', () => promises.read(F, buf, { position: 2n ** 63n }), R, 'options.position'],
      ['write: fd null', () => promises.write(null as never, buf), T, 'fd'],
      ['write: buffer a number', () => promises.write(F, 5 as never), T, 'buffer'],
      ['write: options.offset past the buffer', () => promises.write(F, buf, { offset: 100 }), R, 'options.offset'],
      ['write: options.position -3', () => promises.write(F, buf, { position: -3 }), R, 'options.position'],
      ['write: options.signal a string', () => promises.write(F, buf, { signal: 'x' as never }), T, 'options.signal'],
      ['write: options.priority 100', () => promises.write(F, buf, { priority: 100 }), R, 'options.priority'],
      ['readv: fd a string', () => promises.readv('1' as never, [buf]), T, 'fd'],
      ['readv: buffers not an array', () => promises.readv(F, buf as never), T, 'buffers'],
      ['readv: buffers[1] a string', () => promises.readv(F, [buf, 'x'] as never), T, 'buffers[1]'],
      ['readv: options.position a string', () => promises.readv(F, [buf], { position: 'x' as never }), T, 'options.position'],
      ['readv: options.timeout -1', () => promises.readv(F, [buf], { timeout: -1 }), R, 'options.timeout'],
      ['writev: buffers undefined', () => promises.writev(F, undefined as never), T, 'buffers'],
      ['writev: buffers[0] null', () => promises.writev(F, [null] as never), T, 'buffers[0]'],
      ['writev: options.priority -1', () => promises.writev(F, [buf], { priority: -1 }), R, 'options.priority'],
      ['writev: options a boolean', () => promises.writev(F, [buf], true as never), T, 'options'],
      ['fsync: fd a string', () => promises.fsync('1' as never), T, 'fd'],
      ['fsync: options a number', () => promises.fsync(F, 1 as never), T, 'options'],
      ['fsync: options.signal a number', () => promises.fsync(F, { signal: 1 as never }), T, 'options.signal'],
      ['fsync: options.timeout -0.5', () => promises.fsync(F, { timeout: -0.5 }), R, 'options.timeout'],
      ['fsync: options.priority 21', () => promises.fsync(F, { priority: 21 }), R, 'options.priority'],
      ['fdatasync: fd undefined', () => promises.fdatasync(undefined as never), T, 'fd'],
      ['fdatasync: options.priority a boolean', () => promises.fdatasync(F, { priority: true as never }), T, 'options.priority'],
      ['fdatasync: options.timeout a bigint', () => promises.fdatasync(F, { timeout: 1n as never }), T, 'options.timeout'],
      ['batch: ops not an array', () => promises.batch({} as never), T, 'ops'],
      ['batch: options a string', () => promises.batch([], 'x' as never), T, 'options'],
      ['batch: options.timeout -1', () => promises.batch([], { timeout: -1 }), R, 'options.timeout'],
      ['batch: options.priority 21', () => promises.batch([], { priority: 21 }), R, 'options.priority'],
      ['batch: options.signal an object', () => promises.batch([], { signal: {} as never }), T, 'options.signal'],
      ['close: fd a string', () => promises.close('1' as never), T, 'fd'],
      ['open: path a number', () => promises.open(5 as never), T, 'path'],
      ['open: flags an object', () => promises.open('/nonexistent', {} as never), T, 'flags'],
      ['open: mode a string', () => promises.open('/nonexistent', 'r', '644' as never), T, 'mode'],
      ['open: mode -1', () => promises.open('/nonexistent', 'r', -1), R, 'mode'],
    ];

    test.each(cases)('%s rejects (never throws) with a coded error naming the argument, and queues nothing', async (_what, start, Ctor, name) => {
      const before = counters();
      const err = await rejection(call(start));
      expect(err).toBeInstanceOf(Ctor);
      expect((err as NodeJS.ErrnoException).code).toBe(Ctor === TypeError ? 'ERR_INVALID_ARG_TYPE' : 'ERR_OUT_OF_RANGE');
      expect((err as Error).message).toContain(`"${name}"`);
      expect(counters()).toEqual(before);
      expect(held.log).toHaveLength(0);
    });

    test('messages follow Node\'s grammar', async () => {
      const e1 = (await rejection(promises.read(F, buf, { timeout: '5' as never }))) as Error;
      expect(e1.message).toBe('The "options.timeout" property must be of type number. Received type string (\'5\')');
      const e2 = (await rejection(promises.read(F, buf, { priority: 21 }))) as Error;
      expect(e2.message).toBe('The value of "options.priority" is out of range. It must be >= 0 && <= 20. Received 21');
      const e3 = (await rejection(promises.read('1' as never, buf))) as Error;
      expect(e3.message).toBe('The "fd" argument must be of type number. Received type string (\'1\')');
      const e4 = (await rejection(promises.read(F, buf, { signal: {} as never }))) as Error;
      expect(e4.message).toBe('The "options.signal" property must be an instance of AbortSignal. Received an instance of Object');
      const e5 = (await rejection(promises.read(1.5, buf))) as Error;
      expect(e5.message).toBe('The value of "fd" is out of range. It must be an integer. Received 1.5');
      const e6 = (await rejection(promises.read(F, buf, { position: -2n }))) as Error;
      expect(e6.message).toBe('The value of "options.position" is out of range. It must be -1n or >= 0n && <= 9223372036854775807n. Received -2n');
    });
  });
});
