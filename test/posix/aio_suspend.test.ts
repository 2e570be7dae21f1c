/**
 * aio_suspend(3), walked along its man page: RETURN VALUE, ERRORS (POSIX's EAGAIN
 * and EINTR, and the EINVAL and TypeError cases SPEC §2 fixes), the Promise shape,
 * and the ports of LTP aio_suspend/*, glibc tst-aio, tst-aio6, tst-aio7 and the
 * AbortSignal analogues of tst-aio9 and tst-aio10.
 *
 * C's aio_suspend blocks; here it returns a Promise (a blocked JS thread could never
 * see a completion). Requests are held "in progress" with the held backend, or with
 * a read of an empty FIFO on real descriptors.
 */
import { getEventListeners } from 'node:events';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  AIO_CANCELED,
  AioControlBlock,
  EAGAIN,
  EBADF,
  EINPROGRESS,
  EINTR,
  EINVAL,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WRITE,
  SIGEV_NONE,
  SIGEV_THREAD,
  aio_cancel,
  aio_error,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  lio_listio,
  type Timespec,
} from '../../src/index';
import { requestOf } from '../../src/aiocb';
import { engine } from '../../src/engine/queue';
import { PENDING, settledNow } from '../helpers/aio';
import { cleanup, fifo, tmpFile } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

const FILE = 1000;
const OTHER = 1001;

function readCb(fd: number, offset: number, nbytes: number): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(nbytes), aio_nbytes: nbytes });
}

function writeCb(fd: number, offset: number, nbytes: number, fill = 0xaa): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(nbytes, fill), aio_nbytes: nbytes });
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

describe('aio_suspend', () => {
  describe('with the held backend', () => {
    let held: HeldBackend;
    let restore: () => void;

    async function drain(): Promise<void> {
      for (let i = 0; i < 1000 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
        held.releaseAll();
        await flush();
      }
      await flush();
      expect(engine().outstanding).toBe(0);
    }

    /** A request held in progress. */
    function pendingRead(offset = 0): AioControlBlock {
      const cb = readCb(FILE, offset, 16);
      expect(aio_read(cb)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      return cb;
    }

    /** A request that has completed. */
    async function completedRead(): Promise<AioControlBlock> {
      const cb = readCb(OTHER, 0, 16);
      expect(aio_read(cb)).toBe(0);
      held.pending.find((op) => op.fd === OTHER)?.release();
      await flush();
      expect(aio_error(cb)).toBe(0);
      return cb;
    }

    beforeEach(() => {
      held = new HeldBackend().open(FILE).open(OTHER);
      restore = held.use(4);
    });

    afterEach(async () => {
      await drain();
      restore();
    });

    describe('RETURN VALUE', () => {
      test('returns a Promise, on success and on failure', async () => {
        const done = await completedRead();
        const ok = aio_suspend([done], 1);
        const bad = aio_suspend([done], -1);
        expect(ok).toBeInstanceOf(Promise);
        expect(bad).toBeInstanceOf(Promise);
        expect(await ok).toBe(0);
        expect(await bad).toBe(-1);
      });

      test('resolves 0 at once when one listed request is already complete, even with others in progress', async () => {
        const a = pendingRead();
        const done = await completedRead();
        expect(await settledNow(aio_suspend([a, done], 2, { tv_sec: 5, tv_nsec: 0 }))).toBe(0);
        expect(await settledNow(aio_suspend([done, a], 2))).toBe(0);
        expect(aio_error(a)).toBe(EINPROGRESS);
      });

      test('resolves 0 at once when the request completed and its result was already retrieved', async () => {
        const done = await completedRead();
        expect(aio_return(done)).toBe(16);
        expect(await settledNow(aio_suspend([done], 1))).toBe(0);
      });

      test('resolves 0 at once for an empty list, nent 0, an all-null list and blocks never submitted', async () => {
        const a = pendingRead();
        expect(await settledNow(aio_suspend([], 0))).toBe(0);
        expect(await settledNow(aio_suspend([a], 0))).toBe(0);
        expect(await settledNow(aio_suspend([null, null, undefined], 3))).toBe(0);
        expect(await settledNow(aio_suspend([null, readCb(FILE, 0, 4), new AioControlBlock()], 3))).toBe(0);
      });

      test('resolves 0, not -1/EAGAIN or -1/EINTR, for a list that holds no request, even with a {0,0} timeout or an aborted signal', async () => {
        const poll = { tv_sec: 0, tv_nsec: 0 };
        expect(await aio_suspend([], 0, poll)).toBe(0);
        expect(await aio_suspend([null, null], 2, poll)).toBe(0);
        expect(await aio_suspend([new AioControlBlock()], 1, poll, AbortSignal.abort())).toBe(0);
        // With a request in progress the same poll does fail.
        const a = pendingRead();
        expect(await aio_suspend([null, a], 2, poll)).toBe(-1);
        expect(errno()).toBe(EAGAIN);
      });

      test('waits while every listed request is in progress, and resolves 0 when one completes through the backend', async () => {
        const a = pendingRead(0);
        const b = pendingRead(100);
        const p = aio_suspend([a, b], 2);
        expect(await settledNow(p)).toBe(PENDING);
        await flush();
        expect(await settledNow(p)).toBe(PENDING);
        held.pending[1]?.release();
        expect(await p).toBe(0);
        expect(aio_error(b)).toBe(0);
        expect(aio_error(a)).toBe(EINPROGRESS);
      });

      test('is woken by a listed request that is canceled', async () => {
        restore();
        held = new HeldBackend().open(FILE).open(OTHER);
        restore = held.use(1);
        const a = pendingRead(0);
        const b = readCb(FILE, 100, 16);
        expect(aio_read(b)).toBe(0);
        const p = aio_suspend([b], 1);
        expect(await settledNow(p)).toBe(PENDING);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        expect(await p).toBe(0);
        expect(aio_error(a)).toBe(EINPROGRESS);
      });

      test('looks only at the first nent entries', async () => {
        const a = pendingRead();
        const done = await completedRead();
        expect(await aio_suspend([a, done], 1, { tv_sec: 0, tv_nsec: 0 })).toBe(-1);
        expect(errno()).toBe(EAGAIN);
      });

      test('skips null entries', async () => {
        const a = pendingRead();
        const p = aio_suspend([null, a, null], 3);
        expect(await settledNow(p)).toBe(PENDING);
        held.releaseNext();
        expect(await p).toBe(0);
      });

      test('accepts a block listed twice', async () => {
        const a = pendingRead();
        const p = aio_suspend([a, a], 2);
        held.releaseNext();
        expect(await p).toBe(0);
      });

      test('several callers waiting on one request are all woken', async () => {
        const a = pendingRead();
        const p1 = aio_suspend([a], 1);
        const p2 = aio_suspend([a], 1, { tv_sec: 10, tv_nsec: 0 });
        held.releaseNext();
        expect(await Promise.all([p1, p2])).toEqual([0, 0]);
      });

      test('a loop of calls, one at a time, keeps one waiter on the request: each takes the slot of the one that returned', async () => {
        const a = pendingRead();
        for (let i = 0; i < 5; i++) expect(await aio_suspend([a], 1, { tv_sec: 0, tv_nsec: 1e5 })).toBe(-1);
        const first = requestOf(a)?.waiters;
        expect(typeof first).toBe('function');
        const p = aio_suspend([a], 1);
        const second = requestOf(a)?.waiters;
        expect(typeof second).toBe('function');
        expect(second).not.toBe(first);
        held.releaseNext();
        expect(await p).toBe(0);
        expect(requestOf(a)?.waiters).toBeNull();
      });

      test('two calls waiting at once on one request are both woken by its completion', async () => {
        const a = pendingRead();
        const p1 = aio_suspend([a], 1);
        const p2 = aio_suspend([a], 1);
        const ws = requestOf(a)?.waiters;
        expect(Array.isArray(ws) ? ws.length : 0).toBe(2);
        held.releaseNext();
        expect(await Promise.all([p1, p2])).toEqual([0, 0]);
      });

      test('waiters of settled calls do not pile up on a request still in progress (pruned at 8)', async () => {
        const a = pendingRead();
        for (let i = 0; i < 20; i++) expect(await aio_suspend([a], 1, { tv_sec: 0, tv_nsec: 1e5 })).toBe(-1);
        const ac = new AbortController();
        const p = aio_suspend([a], 1, null, ac.signal);
        ac.abort();
        expect(await p).toBe(-1);
        const left = requestOf(a)?.waiters ?? [];
        const ws = typeof left === 'function' ? [left] : left;
        expect(ws.length).toBeLessThanOrEqual(8);
        // Every one left belongs to a call that has returned: calling it does nothing.
        expect(ws.every((w) => (w as { over?: boolean }).over === true)).toBe(true);
      });
    });

    describe('ERRORS', () => {
      test('EAGAIN: a zero timeout polls, resolving -1 with errno EAGAIN when nothing has completed', async () => {
        const a = pendingRead();
        const p = aio_suspend([a], 1, { tv_sec: 0, tv_nsec: 0 });
        expect(await settledNow(p)).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        expect(lastError()).toMatchObject({ code: 'EAGAIN', syscall: 'aio_suspend' });
        expect(aio_error(a)).toBe(EINPROGRESS);
      });

      test('EAGAIN: errno is set when a poll resolves -1, not overwritten by a call made before it resolves', async () => {
        const a = pendingRead();
        const p = aio_suspend([a], 1, { tv_sec: 0, tv_nsec: 0 });
        expect(aio_cancel(-1, null)).toBe(-1);
        expect(errno()).toBe(EBADF);
        expect(await p).toBe(-1);
        expect(errno()).toBe(EAGAIN);
      });

      test('EAGAIN: errno is set when a timed wait resolves -1', async () => {
        const a = pendingRead();
        const p = aio_suspend([a], 1, { tv_sec: 0, tv_nsec: 5e6 });
        expect(aio_cancel(-1, null)).toBe(-1);
        expect(errno()).toBe(EBADF);
        expect(await p).toBe(-1);
        expect(errno()).toBe(EAGAIN);
      });

      test.each<[string, Timespec]>([
        ['1 ns', { tv_sec: 0, tv_nsec: 1 }],
        ['30 ms', { tv_sec: 0, tv_nsec: 30e6 }],
        ['1.2 ms', { tv_sec: 0, tv_nsec: 1_200_000 }],
      ])('EAGAIN: a timeout of %s is never cut short (elapsed >= requested, on the monotonic clock)', async (_label, timeout) => {
        const a = pendingRead();
        const t0 = performance.now();
        expect(await aio_suspend([a], 1, timeout)).toBe(-1);
        const elapsed = performance.now() - t0;
        expect(errno()).toBe(EAGAIN);
        expect(elapsed).toBeGreaterThanOrEqual(timeout.tv_sec * 1000 + timeout.tv_nsec / 1e6);
      });

      test('EAGAIN: the deadline ignores the wall clock (Date.now jumping forward does not end the wait)', async () => {
        const a = pendingRead();
        const realNow = Date.now;
        const spy = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 3600_000);
        try {
          const t0 = performance.now();
          expect(await aio_suspend([a], 1, { tv_sec: 0, tv_nsec: 40e6 })).toBe(-1);
          expect(performance.now() - t0).toBeGreaterThanOrEqual(40);
        } finally {
          spy.mockRestore();
        }
      });

      test('EINVAL: nent < 0 resolves -1 with errno EINVAL', async () => {
        const a = pendingRead();
        expect(await aio_suspend([a], -1)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lastError()?.message).toMatch(/nent/);
      });

      test('EINVAL: nent larger than the list resolves -1 with errno EINVAL', async () => {
        const a = pendingRead();
        expect(await aio_suspend([a], 2)).toBe(-1);
        expect(errno()).toBe(EINVAL);
      });

      test.each<[string, Timespec]>([
        ['tv_nsec 1e9', { tv_sec: 0, tv_nsec: 1e9 }],
        ['tv_nsec 2e9', { tv_sec: 0, tv_nsec: 2e9 }],
        ['tv_nsec -1', { tv_sec: 0, tv_nsec: -1 }],
        ['tv_sec -1', { tv_sec: -1, tv_nsec: 0 }],
        ['fractional tv_sec', { tv_sec: 1.5, tv_nsec: 0 }],
        ['fractional tv_nsec', { tv_sec: 0, tv_nsec: 0.5 }],
      ])('EINVAL: a timespec with %s resolves -1/EINVAL, checked before anything else', async (_label, timeout) => {
        const a = pendingRead();
        expect(await aio_suspend([a], 1, timeout)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lastError()?.message).toMatch(/tv_n?sec/);
        // Even when an entry is already complete, when nent is bad, or when the signal has aborted.
        const done = await completedRead();
        expect(await aio_suspend([done], 1, timeout)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(await aio_suspend([], 0, timeout)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(await aio_suspend([a], 1, timeout, AbortSignal.abort())).toBe(-1);
        expect(errno()).toBe(EINVAL);
      });

      test('rejects with a TypeError for an entry of the wrong type even when an earlier entry has already completed', async () => {
        const done = await completedRead();
        const p = aio_suspend([done, null, 5 as never], 3);
        await expect(p).rejects.toThrow(TypeError);
        await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('list[2]') });
        // Entries beyond nent are not looked at.
        expect(await aio_suspend([done, 5 as never], 1)).toBe(0);
      });

      test.each<[string, () => Promise<number>]>([
        ['list is not an array', () => aio_suspend('x' as never, 1)],
        ['nent is not a number', () => aio_suspend([], '0' as never)],
        ['an entry is not an object', () => aio_suspend([5 as never], 1)],
        ['timeout is not an object', () => aio_suspend([], 0, 5 as never)],
        ['timeout.tv_sec is not a number', () => aio_suspend([], 0, { tv_sec: '1', tv_nsec: 0 } as never)],
        ['timeout.tv_nsec is not a number', () => aio_suspend([], 0, { tv_sec: 1 } as never)],
        ['signal is not an AbortSignal', () => aio_suspend([], 0, null, {} as never)],
      ])('rejects with a TypeError (never throws synchronously) when %s', async (_label, call) => {
        let p: Promise<number> | undefined;
        expect(() => {
          p = call();
        }).not.toThrow();
        expect(p).toBeInstanceOf(Promise);
        await expect(p).rejects.toThrow(TypeError);
        await expect(p).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      });

      test('EINTR: an abort while waiting resolves -1 with errno EINTR, and the request goes on', async () => {
        const a = pendingRead();
        const ac = new AbortController();
        const p = aio_suspend([a], 1, { tv_sec: 10, tv_nsec: 0 }, ac.signal);
        expect(await settledNow(p)).toBe(PENDING);
        ac.abort();
        expect(await p).toBe(-1);
        expect(errno()).toBe(EINTR);
        expect(lastError()).toMatchObject({ code: 'EINTR', syscall: 'aio_suspend' });
        expect(aio_error(a)).toBe(EINPROGRESS);
        held.releaseNext();
        await flush();
        expect(aio_return(a)).toBe(16);
      });

      test('EINTR: a signal that has already aborted resolves -1 with errno EINTR', async () => {
        const a = pendingRead();
        const signal = AbortSignal.abort();
        expect(await settledNow(aio_suspend([a], 1, null, signal))).toBe(-1);
        expect(errno()).toBe(EINTR);
        expect(abortListeners(signal)).toBe(0);
      });

      test('leaves no abort listener behind, however it settles', async () => {
        const ac = new AbortController();
        const { signal } = ac;
        // Completion.
        const a = pendingRead(0);
        const p1 = aio_suspend([a], 1, null, signal);
        expect(await settledNow(p1)).toBe(PENDING);
        expect(abortListeners(signal)).toBe(1);
        held.releaseNext();
        expect(await p1).toBe(0);
        expect(abortListeners(signal)).toBe(0);
        // Timeout.
        const b = pendingRead(100);
        expect(await aio_suspend([b], 1, { tv_sec: 0, tv_nsec: 2e6 }, signal)).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        expect(abortListeners(signal)).toBe(0);
        // Already complete, poll.
        expect(await aio_suspend([a], 1, null, signal)).toBe(0);
        expect(await aio_suspend([b], 1, { tv_sec: 0, tv_nsec: 0 }, signal)).toBe(-1);
        expect(abortListeners(signal)).toBe(0);
        // Abort.
        const p2 = aio_suspend([b], 1, null, signal);
        expect(abortListeners(signal)).toBe(1);
        ac.abort();
        expect(await p2).toBe(-1);
        expect(errno()).toBe(EINTR);
        expect(abortListeners(signal)).toBe(0);
      });

      test('an abort after it has settled changes nothing', async () => {
        const a = pendingRead();
        const ac = new AbortController();
        const p = aio_suspend([a], 1, null, ac.signal);
        held.releaseNext();
        expect(await p).toBe(0);
        expect(aio_cancel(-1, null)).toBe(-1);
        ac.abort();
        await flush();
        expect(errno()).toBe(EBADF);
      });
    });

    describe('ports', () => {
      test('LTP aio_suspend/1-1: waiting on [NULL, #6] of a LIO_NOWAIT list of ten reads resolves 0 once #6 completes', async () => {
        restore();
        held = new HeldBackend().open(FILE);
        restore = held.use(1);
        const SIZE = 1 << 20;
        const listNotified = mustCall();
        const cbs = Array.from({ length: 10 }, (_, i) => new AioControlBlock({ aio_fildes: FILE, aio_offset: i * SIZE, aio_buf: Buffer.alloc(SIZE), aio_nbytes: SIZE, aio_lio_opcode: LIO_READ }));
        expect(lio_listio(LIO_NOWAIT, cbs, 10, { sigev_notify: SIGEV_THREAD, sigev_notify_function: listNotified })).toBe(0);
        const cb6 = cbs[6] as AioControlBlock;
        expect(aio_error(cb6)).toBe(EINPROGRESS);
        const p = aio_suspend([null, cb6], 2, null);
        for (let i = 0; i < 6; i++) {
          held.releaseNext();
          await flush();
          expect(await settledNow(p)).toBe(PENDING);
        }
        held.releaseNext();
        expect(await p).toBe(0);
        expect(aio_error(cb6)).toBe(0);
        expect(listNotified.calls).toBe(0);
        await drain();
        expect(listNotified.calls).toBe(1);
        for (const cb of cbs) {
          expect(aio_error(cb)).toBe(0);
          expect(aio_return(cb)).toBe(SIZE);
        }
      });

      test('LTP aio_suspend/4-1: a 10 ns timeout on [NULL, #6] of a LIO_NOWAIT list of writes resolves -1/EAGAIN while #6 is in progress', async () => {
        restore();
        held = new HeldBackend().open(FILE);
        restore = held.use(1);
        const SIZE = 2 << 20;
        const cb6Notified = mustCall();
        const listNotified = mustCall();
        const cbs = Array.from({ length: 10 }, (_, i) => {
          const nbytes = i === 6 ? 10 * SIZE : SIZE;
          const cb = new AioControlBlock({ aio_fildes: FILE, aio_offset: i * SIZE, aio_buf: Buffer.alloc(nbytes), aio_nbytes: nbytes, aio_lio_opcode: LIO_WRITE });
          if (i === 6) cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: cb6Notified };
          return cb;
        });
        expect(lio_listio(LIO_NOWAIT, cbs, 10, { sigev_notify: SIGEV_THREAD, sigev_notify_function: listNotified })).toBe(0);
        const cb6 = cbs[6] as AioControlBlock;
        expect(await aio_suspend([null, cb6], 2, { tv_sec: 0, tv_nsec: 10 })).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        expect(aio_error(cb6)).toBe(EINPROGRESS);
        await drain();
        expect(cb6Notified.calls).toBe(1);
        expect(listNotified.calls).toBe(1);
        cbs.forEach((cb, i) => {
          expect(aio_error(cb)).toBe(0);
          expect(aio_return(cb)).toBe(i === 6 ? 10 * SIZE : SIZE);
        });
      });

      test('LTP aio_suspend/9-1: a 1 ms timeout on [NULL, #6] of a LIO_NOWAIT list of reads resolves -1/EAGAIN while #6 is in progress', async () => {
        const SIZE = 64 * 1024;
        const listNotified = mustCall();
        const cbs = Array.from({ length: 10 }, (_, i) => new AioControlBlock({ aio_fildes: FILE, aio_offset: i * SIZE, aio_buf: Buffer.alloc(SIZE), aio_nbytes: SIZE, aio_lio_opcode: LIO_READ }));
        expect(lio_listio(LIO_NOWAIT, cbs, 10, { sigev_notify: SIGEV_THREAD, sigev_notify_function: listNotified })).toBe(0);
        const cb6 = cbs[6] as AioControlBlock;
        const t0 = performance.now();
        expect(await aio_suspend([null, cb6], 2, { tv_sec: 0, tv_nsec: 1e6 })).toBe(-1);
        expect(performance.now() - t0).toBeGreaterThanOrEqual(1);
        expect(errno()).toBe(EAGAIN);
        expect(aio_error(cb6)).toBe(EINPROGRESS);
        await drain();
        expect(listNotified.calls).toBe(1);
        for (const cb of cbs) expect(aio_return(cb)).toBe(SIZE);
      });
    });
  });

  describe('on real files', () => {
    afterAll(() => {
      cleanup();
    });

    /** A read of an empty FIFO: in progress until `peer` writes. */
    function blockedRead(): { cb: AioControlBlock; peer: number } {
      const { fd, peer } = fifo();
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(cb)).toBe(0);
      return { cb, peer };
    }

    /** Unblocks a FIFO read and waits for it, so that no thread of the pool stays pinned. */
    async function unblock(cb: AioControlBlock, peer: number): Promise<void> {
      fs.writeSync(peer, Buffer.from('done'));
      expect(await aio_suspend([cb], 1)).toBe(0);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(4);
    }

    test('LTP aio_suspend/3-1: a list of 8 with NULLs at 0, 1, 3, 4 and 7 resolves 0, and the three writes complete', async () => {
      const { fd } = tmpFile();
      const writes = [0, 1, 2].map((i) => writeCb(fd, i * 512, 512, i + 1));
      for (const cb of writes) expect(aio_write(cb)).toBe(0);
      const list = [null, null, writes[0], null, null, writes[1], writes[2], null];
      expect(await aio_suspend(list, 8, null)).toBe(0);
      for (;;) {
        const pending = writes.filter((cb) => aio_error(cb) === EINPROGRESS);
        if (pending.length === 0) break;
        expect(await aio_suspend(pending, pending.length)).toBe(0);
      }
      for (const cb of writes) expect(aio_return(cb)).not.toBe(-1);
    });

    test('glibc tst-aio: writes submitted in reverse order, waited with a shrinking list, then read back the same way', async () => {
      const { fd, path } = tmpFile();
      const writes: Array<AioControlBlock | null> = [];
      for (let i = 9; i >= 0; i--) {
        const cb = writeCb(fd, i * 100, 100, 0x30 + i);
        expect(aio_write(cb)).toBe(0);
        writes.push(cb);
      }
      const waitShrinking = async (list: Array<AioControlBlock | null>, expected: number): Promise<void> => {
        let left = list.length;
        while (left > 0) {
          expect(await aio_suspend(list, list.length)).toBe(0);
          list.forEach((cb, j) => {
            if (cb === null || aio_error(cb) === EINPROGRESS) return;
            expect(aio_error(cb)).toBe(0);
            expect(aio_return(cb)).toBe(expected);
            list[j] = null;
            left--;
          });
        }
      };
      await waitShrinking(writes, 100);
      expect(fs.fstatSync(fd).size).toBe(1000);

      const reads = Array.from({ length: 10 }, (_, i) => readCb(fd, i * 100, 100));
      for (const cb of reads) expect(aio_read(cb)).toBe(0);
      await waitShrinking(reads.slice(), 100);
      reads.forEach((cb, i) => expect((cb.aio_buf as Buffer).equals(Buffer.alloc(100, 0x30 + i))).toBe(true));
      expect(fs.readFileSync(path).length).toBe(1000);
    });

    test('glibc tst-aio6: a 1 s timeout on a read of an empty FIFO resolves -1/EAGAIN, not earlier than 1 s', async () => {
      const { cb, peer } = blockedRead();
      const t0 = performance.now();
      expect(await aio_suspend([cb], 1, { tv_sec: 1, tv_nsec: 0 })).toBe(-1);
      const elapsed = performance.now() - t0;
      expect(errno()).toBe(EAGAIN);
      expect(elapsed).toBeGreaterThanOrEqual(1000);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await unblock(cb, peer);
    });

    test('glibc tst-aio7: [completed, blocked FIFO read] with a 3 s timeout resolves 0 at once', async () => {
      const { fd } = tmpFile('abcd');
      const done = readCb(fd, 0, 4);
      expect(aio_read(done)).toBe(0);
      expect(await aio_suspend([done], 1)).toBe(0);
      const { cb, peer } = blockedRead();
      expect(await settledNow(aio_suspend([done, cb], 2, { tv_sec: 3, tv_nsec: 0 }))).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await unblock(cb, peer);
    });

    test('glibc tst-aio9 analogue: an AbortSignal interrupts an untimed wait on an empty FIFO read with EINTR', async () => {
      const { cb, peer } = blockedRead();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 20);
      expect(await aio_suspend([cb], 1, null, ac.signal)).toBe(-1);
      expect(errno()).toBe(EINTR);
      expect(abortListeners(ac.signal)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await unblock(cb, peer);
    });

    test('glibc tst-aio10 analogue: an AbortSignal interrupts the wait for a lio_listio read of an empty FIFO with EINTR, and the read is not canceled', async () => {
      const { fd, peer } = fifo();
      const notify = mustCall();
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_lio_opcode: LIO_READ, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify } });
      expect(lio_listio(LIO_NOWAIT, [cb], 1, { sigev_notify: SIGEV_NONE })).toBe(0);
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 20);
      expect(await aio_suspend([cb], 1, null, ac.signal)).toBe(-1);
      expect(errno()).toBe(EINTR);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      expect(notify.calls).toBe(0);
      await unblock(cb, peer);
      await flush();
      expect(notify.calls).toBe(1);
    });
  });
});
