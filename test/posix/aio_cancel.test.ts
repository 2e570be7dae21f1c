/**
 * aio_cancel(3), walked along its man page: RETURN VALUE, ERRORS (POSIX's and the
 * ones SPEC §2 fixes), the fate of canceled and not-canceled requests, and the ports
 * of LTP aio_cancel/*, glibc tst-aio and tst-aio7, and FreeBSD aio_socket_two_reads.
 *
 * The LTP tests 2-1..7-1 build on aio_test.h: eight writes of half SO_SNDBUF to a
 * socket, so that (under glibc's per-descriptor serialisation) #0 and #1 fit in the
 * socket buffer, #2 blocks in progress and #3..#7 stay queued. Here the socket is a
 * non-seekable fake descriptor of the held backend: posix-aio orders all I/O on a
 * non-seekable descriptor, so only the oldest write is ever in flight, and releasing
 * #0 and #1 leaves exactly the state LTP builds.
 */
import * as fs from 'node:fs';
import {
  AIO_ALLDONE,
  AIO_CANCELED,
  AIO_NOTCANCELED,
  AioControlBlock,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EINVAL,
  EIO,
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SIGRTMIN,
  SI_ASYNCIO,
  aio_cancel,
  aio_error,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  type SigEvent,
  type SigInfo,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { cleanup, fifo, tmpFile, tmpPath } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

/** A seekable fake descriptor. */
const FILE = 1000;
/** A second seekable fake descriptor. */
const OTHER = 1002;
/** A non-seekable fake descriptor: the socket of LTP's aio_test.h. */
const SOCK = 1001;
/** Half of a 64 KiB SO_SNDBUF, as aio_test.h sizes each write. */
const HALF = 32 * 1024;

function writeCb(fd: number, offset: number, nbytes: number, sigev: SigEvent = { sigev_notify: SIGEV_NONE }): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(nbytes, 0xaa), aio_nbytes: nbytes, aio_sigevent: sigev });
}

/** Waits until no listed block is in progress, the way C waits: aio_suspend in a loop. */
async function waitAll(cbs: readonly AioControlBlock[]): Promise<void> {
  for (;;) {
    const pending = cbs.filter((cb) => aio_error(cb) === EINPROGRESS);
    if (pending.length === 0) return;
    expect(await aio_suspend(pending, pending.length)).toBe(0);
  }
}

describe('aio_cancel', () => {
  describe('with the held backend', () => {
    let held: HeldBackend;
    let restore: () => void;

    /** Releases everything until the engine is idle, then lets the notifications run. */
    async function drain(): Promise<void> {
      for (let i = 0; i < 1000 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
        held.releaseAll();
        await flush();
      }
      await flush();
      expect(engine().outstanding).toBe(0);
    }

    /**
     * aio_test.h's setup_aio: `n` writes of half SO_SNDBUF on the "socket", each with
     * its own sigevent; the first two complete (the socket buffer takes them), #2 is
     * in progress, the rest are queued.
     */
    async function setupAio(n: number, sigev?: (cb: AioControlBlock) => SigEvent): Promise<AioControlBlock[]> {
      const cbs = Array.from({ length: n }, () => writeCb(SOCK, 0, HALF));
      if (sigev !== undefined) for (const cb of cbs) cb.aio_sigevent = sigev(cb);
      for (const cb of cbs) expect(aio_write(cb)).toBe(0);
      for (let i = 0; i < 2; i++) {
        expect(held.pending).toHaveLength(1);
        expect(held.pending[0]?.buffers[0]).toBe(cbs[i]?.aio_buf);
        held.releaseNext();
        await flush();
      }
      expect(held.pending).toHaveLength(1);
      expect(held.pending[0]?.buffers[0]).toBe(cbs[2]?.aio_buf);
      return cbs;
    }

    beforeEach(() => {
      held = new HeldBackend().open(FILE).open(OTHER).open(SOCK, { seekable: false });
      restore = held.use(1);
    });

    afterEach(async () => {
      await drain();
      restore();
    });

    describe('RETURN VALUE', () => {
      test('returns AIO_CANCELED when the request is still queued', async () => {
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(held.pending).toHaveLength(1);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        expect(aio_error(b)).toBe(ECANCELED);
        expect(aio_error(a)).toBe(EINPROGRESS);
        await drain();
        expect(aio_return(a)).toBe(10);
        expect(aio_return(b)).toBe(-1);
      });

      test('returns AIO_NOTCANCELED when the request is already in the thread pool', async () => {
        const a = writeCb(FILE, 0, 10);
        expect(aio_write(a)).toBe(0);
        expect(held.pending).toHaveLength(1);
        expect(aio_cancel(FILE, a)).toBe(AIO_NOTCANCELED);
        expect(aio_error(a)).toBe(EINPROGRESS);
        held.releaseNext();
        await flush();
        expect(aio_error(a)).toBe(0);
        expect(aio_return(a)).toBe(10);
      });

      test('returns AIO_ALLDONE when the request has already completed', async () => {
        const a = writeCb(FILE, 0, 10);
        expect(aio_write(a)).toBe(0);
        held.releaseNext();
        await flush();
        expect(aio_error(a)).toBe(0);
        expect(aio_cancel(FILE, a)).toBe(AIO_ALLDONE);
        expect(aio_error(a)).toBe(0);
        expect(aio_return(a)).toBe(10);
      });

      test('returns AIO_ALLDONE for a block that was never submitted', () => {
        expect(aio_cancel(FILE, writeCb(FILE, 0, 10))).toBe(AIO_ALLDONE);
      });

      test('returns AIO_ALLDONE for a request that was already canceled, and notifies it only once', async () => {
        const notify = mustCall();
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10, { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify });
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        expect(aio_cancel(FILE, b)).toBe(AIO_ALLDONE);
        expect(aio_cancel(FILE, null)).toBe(AIO_NOTCANCELED);
        await drain();
        expect(notify.calls).toBe(1);
      });

      test('with a null aiocbp, returns AIO_CANCELED when every outstanding request on the descriptor was queued', async () => {
        // The in-flight slot (cap 1) is taken by a request on another descriptor.
        const busy = writeCb(OTHER, 0, 10);
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        for (const cb of [busy, a, b]) expect(aio_write(cb)).toBe(0);
        expect(held.pending.map((op) => op.fd)).toEqual([OTHER]);
        expect(aio_cancel(FILE, null)).toBe(AIO_CANCELED);
        expect(aio_error(a)).toBe(ECANCELED);
        expect(aio_error(b)).toBe(ECANCELED);
        expect(aio_error(busy)).toBe(EINPROGRESS);
        await drain();
        expect(held.log.map((op) => op.fd)).toEqual([OTHER]);
      });

      test('with a null aiocbp, returns AIO_NOTCANCELED when one request is in the thread pool, and still cancels the queued ones', async () => {
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        const c = writeCb(FILE, 200, 10);
        for (const cb of [a, b, c]) expect(aio_write(cb)).toBe(0);
        expect(aio_cancel(FILE, null)).toBe(AIO_NOTCANCELED);
        expect(aio_error(a)).toBe(EINPROGRESS);
        expect(aio_error(b)).toBe(ECANCELED);
        expect(aio_error(c)).toBe(ECANCELED);
        await drain();
        expect(aio_return(a)).toBe(10);
        expect(held.log).toHaveLength(1);
      });

      test('with a null aiocbp, returns AIO_ALLDONE when nothing is outstanding on the descriptor', async () => {
        expect(aio_cancel(FILE, null)).toBe(AIO_ALLDONE);
        const a = writeCb(FILE, 0, 10);
        expect(aio_write(a)).toBe(0);
        held.releaseNext();
        await flush();
        expect(aio_cancel(FILE, null)).toBe(AIO_ALLDONE);
      });

      test('with aiocbp omitted, behaves as with a null aiocbp', async () => {
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(aio_cancel(FILE)).toBe(AIO_NOTCANCELED);
        expect(aio_error(b)).toBe(ECANCELED);
        await drain();
        expect(aio_cancel(FILE)).toBe(AIO_ALLDONE);
      });

      test('cancels only requests on the given descriptor', async () => {
        const a = writeCb(FILE, 0, 10);
        const other = writeCb(OTHER, 0, 10);
        const mine = writeCb(FILE, 100, 10);
        for (const cb of [a, other, mine]) expect(aio_write(cb)).toBe(0);
        expect(aio_cancel(FILE, null)).toBe(AIO_NOTCANCELED);
        expect(aio_error(mine)).toBe(ECANCELED);
        expect(aio_error(other)).toBe(EINPROGRESS);
        await drain();
        expect(aio_error(other)).toBe(0);
        expect(aio_return(other)).toBe(10);
      });
    });

    describe('ERRORS', () => {
      test('EBADF: returns -1 with errno EBADF when fildes is not an open descriptor', () => {
        expect(aio_cancel(1999, null)).toBe(-1);
        expect(errno()).toBe(EBADF);
        expect(lastError()).toMatchObject({ code: 'EBADF', errno: EBADF, syscall: 'aio_cancel' });
        expect(aio_cancel(1999, { aio_fildes: 1999 })).toBe(-1);
        expect(errno()).toBe(EBADF);
      });

      test('EBADF: returns -1/EBADF for a descriptor forgotten behind the library', () => {
        held.open(1998);
        expect(aio_cancel(1998, null)).toBe(AIO_ALLDONE);
        held.forget(1998);
        expect(aio_cancel(1998, null)).toBe(-1);
        expect(errno()).toBe(EBADF);
      });

      test('EBADF: returns -1/EBADF for a descriptor closed behind the library while requests on it are outstanding', async () => {
        held.open(1997);
        const a = writeCb(1997, 0, 10);
        const b = writeCb(1997, 100, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(held.pending).toHaveLength(1);
        held.forget(1997);
        expect(aio_cancel(1997, null)).toBe(-1);
        expect(errno()).toBe(EBADF);
        expect(aio_cancel(1997, b)).toBe(-1);
        expect(errno()).toBe(EBADF);
        // Nothing was canceled: both end as the closed descriptor makes them end.
        expect(aio_error(b)).toBe(EINPROGRESS);
        await drain();
        expect(aio_error(a)).toBe(EBADF);
        expect(aio_error(b)).toBe(EBADF);
      });

      test('EBADF: the descriptor is checked before aiocbp.aio_fildes is compared with it', () => {
        const a = writeCb(FILE, 0, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_cancel(1999, a)).toBe(-1);
        expect(errno()).toBe(EBADF);
        expect(aio_error(a)).toBe(EINPROGRESS);
      });

      test('EINVAL: returns -1 with errno EINVAL when aiocbp.aio_fildes is not fildes, and cancels nothing', async () => {
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(aio_cancel(OTHER, b)).toBe(-1);
        expect(errno()).toBe(EINVAL);
        expect(lastError()).toMatchObject({ code: 'EINVAL', syscall: 'aio_cancel' });
        expect(lastError()?.message).toMatch(/aio_fildes/);
        expect(aio_error(b)).toBe(EINPROGRESS);
        await drain();
        expect(aio_return(b)).toBe(10);
      });

      test('throws a TypeError for a fildes that is not a number and for an aiocbp that is not an object', () => {
        expect(() => aio_cancel('1000' as unknown as number, null)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
        expect(() => aio_cancel(FILE, 7 as unknown as AioControlBlock)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
      });
    });

    describe('canceled requests', () => {
      test('have status ECANCELED and return -1 as soon as aio_cancel returns', () => {
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        expect(aio_error(b)).toBe(ECANCELED);
        expect(aio_return(b)).toBe(-1);
        expect(errno()).toBe(ECANCELED);
      });

      test('are notified later, never inside aio_cancel, exactly once, with the final status visible', async () => {
        const seen: number[] = [];
        const b = writeCb(FILE, 100, 10);
        const notify = mustCall((value: unknown) => {
          expect(value).toBe('b');
          seen.push(aio_error(b));
        });
        b.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify, sigev_value: 'b' };
        expect(aio_write(writeCb(FILE, 0, 10))).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        expect(notify.calls).toBe(0);
        await Promise.resolve();
        expect(notify.calls).toBe(0);
        await flush();
        expect(notify.calls).toBe(1);
        expect(seen).toEqual([ECANCELED]);
        await drain();
        expect(notify.calls).toBe(1);
      });

      test('are notified later, not inside an aio_cancel called from the notification of a request that just completed', async () => {
        const order: string[] = [];
        let inside = false;
        const b = writeCb(FILE, 100, 10, {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: mustCall(() => {
            expect(inside).toBe(false);
            expect(aio_error(b)).toBe(ECANCELED);
            order.push('b');
          }),
        });
        const a = writeCb(FILE, 0, 10, {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: mustCall(() => {
            order.push('a');
            inside = true;
            expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
            inside = false;
            order.push('a returned');
          }),
        });
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(held.pending).toHaveLength(1);
        held.releaseNext();
        await flush();
        expect(order).toEqual(['a', 'a returned', 'b']);
      });

      test('are notified through SIGEV_SIGNAL with si_code SI_ASYNCIO and their sigev_value', async () => {
        const b = writeCb(FILE, 100, 10);
        const handler = mustCall((name: unknown, info: SigInfo) => {
          expect(name).toBe('SIGUSR2');
          expect(info).toEqual({ si_signo: expect.any(Number), si_code: SI_ASYNCIO, si_value: b });
          expect(aio_error(info.si_value as AioControlBlock)).toBe(ECANCELED);
        });
        process.on('SIGUSR2', handler);
        try {
          b.aio_sigevent = { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: b };
          expect(aio_write(writeCb(FILE, 0, 10))).toBe(0);
          expect(aio_write(b)).toBe(0);
          expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
          expect(handler.calls).toBe(0);
          await flush();
          expect(handler.calls).toBe(1);
        } finally {
          process.removeListener('SIGUSR2', handler);
        }
      });

      test('never reach the backend, and are notified while the request ahead of them is still in flight', async () => {
        const order: string[] = [];
        const cbs = ['w0', 'w1', 'w2'].map((tag) =>
          writeCb(SOCK, 0, 8, { sigev_notify: SIGEV_THREAD, sigev_value: tag, sigev_notify_function: mustCall((v: unknown) => order.push(String(v))) }),
        );
        for (const cb of cbs) expect(aio_write(cb)).toBe(0);
        expect(aio_cancel(SOCK, cbs[1])).toBe(AIO_CANCELED);
        await flush();
        // w1 completed (and was notified) before anything after it was dispatched.
        expect(order).toEqual(['w1']);
        expect(held.pending.map((op) => op.buffers[0])).toEqual([cbs[0]?.aio_buf]);
        held.releaseNext();
        await flush();
        expect(held.pending.map((op) => op.buffers[0])).toEqual([cbs[2]?.aio_buf]);
        held.releaseNext();
        await flush();
        expect(order).toEqual(['w1', 'w0', 'w2']);
        expect(held.log.map((op) => op.buffers[0])).toEqual([cbs[0]?.aio_buf, cbs[2]?.aio_buf]);
      });

      test('canceling a queued write lets a read that waited only for it proceed at once', async () => {
        restore();
        held = new HeldBackend().open(FILE);
        restore = held.use(4);
        const a = writeCb(FILE, 0, 10); // [0, 10): in flight
        const b = writeCb(FILE, 5, 15); // [5, 20): waits for a
        const c = new AioControlBlock({ aio_fildes: FILE, aio_offset: 15, aio_buf: Buffer.alloc(5), aio_nbytes: 5 }); // [15, 20): waits for b only
        for (const cb of [a, b]) expect(aio_write(cb)).toBe(0);
        expect(aio_read(c)).toBe(0);
        expect(held.pending.map((op) => op.op)).toEqual(['write']);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        // c is dispatched while a is still held.
        expect(held.pending.map((op) => op.op)).toEqual(['write', 'read']);
        expect(held.pending[1]?.position).toBe(15);
        held.pending[1]?.release();
        await flush();
        expect(aio_error(c)).toBe(0);
        expect(aio_return(c)).toBe(5);
        expect(aio_error(a)).toBe(EINPROGRESS);
      });

      test('canceling a queued request on a non-seekable descriptor lets the next one run right after the one in flight', async () => {
        const cbs = [0, 1, 2, 3].map(() => writeCb(SOCK, 0, 4));
        for (const cb of cbs) expect(aio_write(cb)).toBe(0);
        expect(aio_cancel(SOCK, cbs[1])).toBe(AIO_CANCELED);
        expect(aio_cancel(SOCK, cbs[2])).toBe(AIO_CANCELED);
        held.releaseNext();
        await flush();
        expect(held.pending.map((op) => op.buffers[0])).toEqual([cbs[3]?.aio_buf]);
      });

      test('the block of a canceled request can be submitted again', async () => {
        const a = writeCb(FILE, 0, 10);
        const b = writeCb(FILE, 100, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_write(b)).toBe(0);
        expect(aio_cancel(FILE, b)).toBe(AIO_CANCELED);
        expect(aio_write(b)).toBe(0);
        expect(aio_error(b)).toBe(EINPROGRESS);
        await drain();
        expect(aio_error(b)).toBe(0);
        expect(aio_return(b)).toBe(10);
      });
    });

    describe('requests that are not canceled', () => {
      test('complete normally with their real result (a short count)', async () => {
        const a = writeCb(FILE, 0, 10);
        expect(aio_write(a)).toBe(0);
        expect(aio_cancel(FILE, a)).toBe(AIO_NOTCANCELED);
        held.releaseNext({ bytes: 3 });
        await flush();
        expect(aio_error(a)).toBe(0);
        expect(aio_return(a)).toBe(3);
      });

      test('complete normally with their real error', async () => {
        const notify = mustCall();
        const a = writeCb(FILE, 0, 10, { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify });
        expect(aio_write(a)).toBe(0);
        expect(aio_cancel(FILE, null)).toBe(AIO_NOTCANCELED);
        held.releaseNext({ error: 'EIO' });
        await flush();
        expect(aio_error(a)).toBe(EIO);
        expect(aio_return(a)).toBe(-1);
        expect(notify.calls).toBe(1);
      });

      test('are not modified by aio_cancel', () => {
        const a = writeCb(FILE, 64, 10);
        const before = { ...a };
        expect(aio_write(a)).toBe(0);
        expect(aio_cancel(FILE, a)).toBe(AIO_NOTCANCELED);
        expect({ ...a }).toEqual(before);
        expect(a.aio_buf).toBe(before.aio_buf);
      });
    });

    describe('ports', () => {
      test('LTP aio_cancel/2-1: with writes queued behind a blocked one, aio_cancel(fd, NULL) returns AIO_CANCELED or AIO_NOTCANCELED and cancels #3..#7', async () => {
        const cbs = await setupAio(8);
        const ret = aio_cancel(SOCK, null);
        expect([AIO_CANCELED, AIO_NOTCANCELED]).toContain(ret);
        // Our queue makes it exact: #2 is in the thread pool.
        expect(ret).toBe(AIO_NOTCANCELED);
        for (let i = 3; i < 8; i++) expect(aio_error(cbs[i] as AioControlBlock)).toBe(ECANCELED);
      });

      test('LTP aio_cancel/2-2: aio_cancel(fd, NULL) on a descriptor with no requests does not fail', () => {
        const ret = aio_cancel(FILE, null);
        expect(ret).not.toBe(-1);
        expect(ret).toBe(AIO_ALLDONE);
      });

      test('LTP aio_cancel/3-1: every request is notified, canceled ones with ECANCELED already set in the handler', async () => {
        const SIG = 'SIGRTMIN+1';
        let notified = 0;
        let canceled = 0;
        const handler = mustCall((_name: unknown, info: SigInfo) => {
          expect(info.si_signo).toBe(SIGRTMIN + 1);
          expect(info.si_code).toBe(SI_ASYNCIO);
          const cb = info.si_value as AioControlBlock;
          if (aio_error(cb) === ECANCELED) canceled++;
          aio_return(cb);
          notified++;
        }, 8);
        process.on(SIG, handler);
        try {
          // sival_ptr = &aiocb[i]
          await setupAio(8, (cb) => ({ sigev_notify: SIGEV_SIGNAL, sigev_signo: SIGRTMIN + 1, sigev_value: cb }));
          expect(notified).toBe(2);
          expect(aio_cancel(SOCK, null)).toBe(AIO_NOTCANCELED);
          held.releaseAll();
          await drain();
          expect(notified).toBe(8);
          expect(canceled).toBeGreaterThanOrEqual(8 - 3);
          expect(canceled).toBe(5);
        } finally {
          process.removeListener(SIG, handler);
        }
      });

      test('LTP aio_cancel/4-1: after aio_cancel(fd, NULL), requests #3..#7 report ECANCELED and return -1', async () => {
        const cbs = await setupAio(8);
        expect(aio_cancel(SOCK, null)).not.toBe(-1);
        for (let i = 3; i < 8; i++) {
          const cb = cbs[i] as AioControlBlock;
          expect(aio_error(cb)).toBe(ECANCELED);
          expect(aio_return(cb)).toBe(-1);
        }
      });

      test('LTP aio_cancel/5-1: returns AIO_NOTCANCELED; #0/#1 done, #2 in progress with its block unchanged, #3..#7 canceled', async () => {
        const cbs = await setupAio(8);
        const cb2 = cbs[2] as AioControlBlock;
        const buf2 = cb2.aio_buf;
        expect(aio_cancel(SOCK, null)).toBe(AIO_NOTCANCELED);
        expect(aio_error(cbs[0] as AioControlBlock)).toBe(0);
        expect(aio_error(cbs[1] as AioControlBlock)).toBe(0);
        expect(aio_error(cb2)).toBe(EINPROGRESS);
        expect(cb2.aio_fildes).toBe(SOCK);
        expect(cb2.aio_buf).toBe(buf2);
        expect(cb2.aio_nbytes).toBe(HALF);
        expect(cb2.aio_offset).toBe(0);
        expect(cb2.aio_sigevent.sigev_notify).toBe(SIGEV_NONE);
        for (let i = 3; i < 8; i++) expect(aio_error(cbs[i] as AioControlBlock)).toBe(ECANCELED);
      });

      test('LTP aio_cancel/6-1: canceling one queued request (#5) returns AIO_CANCELED and leaves #3, #4, #6, #7 queued', async () => {
        const cbs = await setupAio(8);
        expect(aio_cancel(SOCK, cbs[5])).toBe(AIO_CANCELED);
        expect(aio_error(cbs[5] as AioControlBlock)).toBe(ECANCELED);
        for (const i of [3, 4, 6, 7]) expect(aio_error(cbs[i] as AioControlBlock)).toBe(EINPROGRESS);
        await drain();
        for (const i of [2, 3, 4, 6, 7]) expect(aio_return(cbs[i] as AioControlBlock)).toBe(HALF);
        expect(held.log).toHaveLength(7);
      });

      test('LTP aio_cancel/7-1: AIO_NOTCANCELED; #0/#1 return their size, #2 completes later with its own, #3..#7 canceled', async () => {
        const cbs = await setupAio(8);
        expect(aio_cancel(SOCK, null)).toBe(AIO_NOTCANCELED);
        expect(aio_return(cbs[0] as AioControlBlock)).toBe(HALF);
        expect(aio_return(cbs[1] as AioControlBlock)).toBe(HALF);
        expect(aio_error(cbs[2] as AioControlBlock)).toBe(EINPROGRESS);
        for (let i = 3; i < 8; i++) expect(aio_error(cbs[i] as AioControlBlock)).toBe(ECANCELED);
        held.releaseNext();
        await flush();
        expect(aio_error(cbs[2] as AioControlBlock)).toBe(0);
        expect(aio_return(cbs[2] as AioControlBlock)).toBe(HALF);
        expect(held.log).toHaveLength(3);
      });

      test('glibc tst-aio7: aio_cancel(-1, cb) is EBADF whether cb.aio_fildes is -1 or -2', () => {
        expect(aio_cancel(-1, { aio_fildes: -1 })).toBe(-1);
        expect(errno()).toBe(EBADF);
        expect(aio_cancel(-1, { aio_fildes: -2 })).toBe(-1);
        expect(errno()).toBe(EBADF);
      });
    });
  });

  describe('on real files', () => {
    afterAll(() => {
      cleanup();
    });

    test('LTP aio_cancel/1-1: canceling a single write does not fail, and the write ends as the return value says', async () => {
      const { fd } = tmpFile();
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1024, 0xaa), aio_nbytes: 1024 });
      expect(aio_write(cb)).toBe(0);
      const ret = aio_cancel(fd, cb);
      expect([AIO_CANCELED, AIO_NOTCANCELED, AIO_ALLDONE]).toContain(ret);
      await waitAll([cb]);
      if (ret === AIO_CANCELED) {
        expect(aio_error(cb)).toBe(ECANCELED);
        expect(aio_return(cb)).toBe(-1);
      } else {
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(1024);
      }
    });

    test('LTP aio_cancel/8-1: canceling a completed write returns AIO_ALLDONE', async () => {
      const { fd } = tmpFile();
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1024, 0xaa), aio_nbytes: 1024 });
      expect(aio_write(cb)).toBe(0);
      await waitAll([cb]);
      expect(aio_cancel(fd, cb)).toBe(AIO_ALLDONE);
      expect(aio_return(cb)).toBe(1024);
    });

    test('LTP aio_cancel/9-1: aio_cancel(-1, NULL) returns -1 and sets errno', () => {
      expect(aio_cancel(-1, null)).toBe(-1);
      expect(errno()).not.toBe(0);
    });

    test('LTP aio_cancel/10-1: aio_cancel(-1, NULL) fails with EBADF', () => {
      expect(aio_cancel(-1, null)).toBe(-1);
      expect(errno()).toBe(EBADF);
    });

    test('returns -1/EBADF for a descriptor that was closed', () => {
      // Not tracked by the helpers: a closed number must not be closed again by cleanup().
      const fd = fs.openSync(tmpPath(), 'w');
      fs.closeSync(fd);
      expect(aio_cancel(fd, null)).toBe(-1);
      expect(errno()).toBe(EBADF);
    });

    test('glibc tst-aio: after aio_cancel(fd, NULL) or per-request cancels, every request ends with success or ECANCELED', async () => {
      const { fd, path } = tmpFile();
      const round = (): AioControlBlock[] =>
        Array.from({ length: 10 }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_offset: i * 100, aio_buf: Buffer.alloc(100, 0x30 + i), aio_nbytes: 100 }));

      const all = round();
      for (const cb of all) expect(aio_write(cb)).toBe(0);
      expect([AIO_CANCELED, AIO_NOTCANCELED, AIO_ALLDONE]).toContain(aio_cancel(fd, null));
      await waitAll(all);
      for (const cb of all) {
        const e = aio_error(cb);
        expect([0, ECANCELED]).toContain(e);
        expect(aio_return(cb)).toBe(e === 0 ? 100 : -1);
      }

      const each = round();
      for (const cb of each) expect(aio_write(cb)).toBe(0);
      const results = each.map((cb) => aio_cancel(fd, cb));
      await waitAll(each);
      each.forEach((cb, i) => {
        const e = aio_error(cb);
        expect([0, ECANCELED]).toContain(e);
        expect(e === ECANCELED).toBe(results[i] === AIO_CANCELED);
      });
      // What was written is what the writes that succeeded wrote.
      const content = fs.readFileSync(path);
      each.forEach((cb, i) => {
        if (aio_error(cb) === 0) expect(content.subarray(i * 100, i * 100 + 100).equals(Buffer.alloc(100, 0x30 + i))).toBe(true);
      });
    });

    test('FreeBSD aio_socket_two_reads analogue: of two reads on a FIFO, the queued one is canceled and the other completes with the byte that arrives', async () => {
      const { fd, peer } = fifo();
      const r1 = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
      const r2 = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(8), aio_nbytes: 8, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustCall() } });
      expect(aio_read(r1)).toBe(0);
      expect(aio_read(r2)).toBe(0);
      expect(await aio_suspend([r1, r2], 2, { tv_sec: 0, tv_nsec: 0 })).toBe(-1);
      // r1 blocks in the thread pool; r2 waits behind it (a FIFO orders all I/O).
      expect(aio_cancel(fd, r2)).toBe(AIO_CANCELED);
      expect(aio_cancel(fd, r1)).toBe(AIO_NOTCANCELED);
      fs.writeSync(peer, Buffer.from('x'));
      expect(await aio_suspend([r1], 1)).toBe(0);
      expect(aio_error(r1)).toBe(0);
      expect(aio_return(r1)).toBe(1);
      expect(r1.aio_buf?.toString()).toBe('x\0\0\0\0\0\0\0');
      expect(aio_error(r2)).toBe(ECANCELED);
      expect(aio_return(r2)).toBe(-1);
      await flush();
    });
  });
});
