/**
 * aio_error(3): RETURN VALUE and ERRORS, the rules SPEC §2 fixes (never-submitted
 * blocks, status after aio_return, refused submissions), and the LTP checks
 * (research/posix-aio.md A.6, B.1, B.4 item 7).
 */
import * as fs from 'node:fs';
import {
  AIO_CANCELED,
  AioControlBlock,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EINVAL,
  EIO,
  ENOSPC,
  O_SYNC,
  SIGEV_THREAD,
  aio_cancel,
  aio_error,
  aio_fsync,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  type Aiocb,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { dropHeld, hold, settle } from '../helpers/aio';
import { cleanup, tmpFile, track } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

describe('aio_error', () => {
  afterEach(async () => {
    await dropHeld();
  });

  afterAll(() => {
    cleanup();
  });

  describe('RETURN VALUE', () => {
    test('LTP aio_error/1-1: returns 0 once a write of 111 bytes has completed', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(111, 1), aio_nbytes: 111 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(111);
    });

    test('LTP aio_error/2-1: 128 writes at offset 0 on one descriptor report EINPROGRESS right after submission', async () => {
      const { fd, path } = tmpFile('');
      const cbs = Array.from({ length: 128 }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1024, i), aio_nbytes: 1024 }));
      for (const cb of cbs) expect(aio_write(cb)).toBe(0);
      const inProgress = cbs.filter((cb) => aio_error(cb) === EINPROGRESS).length;
      expect(inProgress).toBeGreaterThanOrEqual(1);
      // Nothing completes inside a synchronous stretch of JavaScript: all of them are in progress.
      expect(inProgress).toBe(128);
      await settle(...cbs);
      for (const cb of cbs) {
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(1024);
      }
      // Overlapping writes land in submission order: the last one wins.
      expect(fs.readFileSync(path).every((b) => b === 127)).toBe(true);
    });

    test('returns EINPROGRESS while the request is held in the thread pool, then the final status', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
      expect(aio_read(cb)).toBe(0);
      expect(held.pending).toHaveLength(1);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await flush();
      expect(aio_error(cb)).toBe(EINPROGRESS);
      held.releaseNext({ bytes: 3 });
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(3);
    });

    test('returns EINPROGRESS for a request still queued behind the in-flight cap', async () => {
      const held = hold(1, new HeldBackend().open(1000).open(1001));
      const a = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
      const b = new AioControlBlock({ aio_fildes: 1001, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
      expect(aio_read(a)).toBe(0);
      expect(aio_read(b)).toBe(0);
      expect(held.pending).toHaveLength(1);
      expect(aio_error(b)).toBe(EINPROGRESS);
      held.releaseNext();
      await settle(a);
      expect(aio_error(a)).toBe(0);
      expect(aio_error(b)).toBe(EINPROGRESS);
      held.releaseNext();
      await settle(b);
      expect(aio_error(b)).toBe(0);
    });

    test('returns the errno of the failed operation (EIO from the backend)', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(cb)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await settle(cb);
      expect(aio_error(cb)).toBe(EIO);
    });

    test('returns ENOSPC for a write to /dev/full', async () => {
      const fd = track(fs.openSync('/dev/full', 'w'));
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(ENOSPC);
    });

    test('returns EBADF for a read on descriptor -1 (deferred)', async () => {
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
    });

    test('returns ECANCELED for a canceled request', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const a = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const b = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 4 });
      expect(aio_read(a)).toBe(0);
      expect(aio_read(b)).toBe(0);
      expect(aio_cancel(1000, b)).toBe(AIO_CANCELED);
      expect(aio_error(b)).toBe(ECANCELED);
      held.releaseNext();
      await settle(a);
      expect(aio_error(a)).toBe(0);
    });

    test('returns 0 for a completed aio_fsync', async () => {
      const { fd } = tmpFile('data');
      const cb = new AioControlBlock({ aio_fildes: fd });
      expect(aio_fsync(O_SYNC, cb)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
    });

    test('keeps reporting the final status after aio_return (success)', async () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(3);
      expect(aio_error(cb)).toBe(0);
      expect(aio_error(cb)).toBe(0);
    });

    test('keeps reporting the final status after aio_return (failure)', async () => {
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(-1);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_error(cb)).toBe(EBADF);
    });

    test('reports the new request once the block is submitted again', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(cb)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await settle(cb);
      expect(aio_error(cb)).toBe(EIO);
      expect(aio_write(cb)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      held.releaseNext();
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
    });

    test('accepts a plain object literal as the block', async () => {
      const { fd } = tmpFile('xyz');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 };
      expect(aio_read(cb)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(3);
    });

    test('shows the final status inside the notification', async () => {
      const { fd } = tmpFile('');
      const cb: AioControlBlock = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('ab'), aio_nbytes: 2 });
      const fn = mustCall(() => {
        expect(aio_error(cb)).toBe(0);
      });
      cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn };
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      await flush();
    });

    test('does not change errno when it succeeds', async () => {
      const { fd } = tmpFile('abc');
      const never = new AioControlBlock();
      expect(aio_error(never)).toBe(-1);
      expect(errno()).toBe(EINVAL);
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(errno()).toBe(EINVAL);
      const ok = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(ok)).toBe(0);
      await settle(ok);
      expect(aio_error(ok)).toBe(0);
      expect(errno()).toBe(EINVAL);
    });
  });

  describe('ERRORS', () => {
    test('LTP aio_error/3-1: a never-submitted zeroed block (aio_reqprio -1) is -1/EINVAL', () => {
      const cb = { aio_fildes: 0, aio_offset: 0, aio_buf: null, aio_nbytes: 0, aio_reqprio: -1 };
      expect(aio_error(cb)).toBe(-1);
      expect(errno()).toBe(EINVAL);
    });

    test('returns -1/EINVAL for a fresh AioControlBlock and lastError() says why', () => {
      expect(aio_error(new AioControlBlock())).toBe(-1);
      expect(errno()).toBe(EINVAL);
      const err = lastError();
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: 'EINVAL', errno: EINVAL });
      expect(err?.message).toContain('aiocbp');
    });

    test('returns -1/EINVAL for a block whose submission was refused', () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_reqprio: 21 });
      expect(aio_read(cb)).toBe(-1);
      expect(aio_error(cb)).toBe(-1);
      expect(errno()).toBe(EINVAL);
    });

    test('returns -1/EINVAL for a copy of a submitted block (the block object is the handle)', async () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      const copy = { ...cb };
      expect(aio_error(copy)).toBe(-1);
      expect(errno()).toBe(EINVAL);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
    });

    test('a refused resubmission keeps the earlier request status (in progress)', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(cb)).toBe(0);
      cb.aio_reqprio = -1;
      expect(aio_read(cb)).toBe(-1);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      cb.aio_reqprio = 0;
      expect(aio_read(cb)).toBe(-1);
      expect(errno()).toBe(EINVAL);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      held.releaseNext();
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
    });

    test.each([null, undefined, 5, 'cb'])('throws TypeError ERR_INVALID_ARG_TYPE naming "aiocbp" for %p', (cb) => {
      expect(() => aio_error(cb as unknown as Aiocb)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('aiocbp') }));
    });
  });
});
