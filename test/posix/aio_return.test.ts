/**
 * aio_return(3): RETURN VALUE and ERRORS, with the once-only rule SPEC §2 fixes,
 * and the LTP checks (research/posix-aio.md A.7, B.1, B.4 item 7).
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
  O_DSYNC,
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
import { cleanup, fifo, tmpFile, track } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

function expectEinval(rc: number): void {
  expect(rc).toBe(-1);
  expect(errno()).toBe(EINVAL);
  expect(lastError()).toMatchObject({ code: 'EINVAL', errno: EINVAL });
}

describe('aio_return', () => {
  afterEach(async () => {
    await dropHeld();
  });

  afterAll(() => {
    cleanup();
  });

  describe('RETURN VALUE', () => {
    test('LTP aio_return/1-1: returns the byte count of a completed write (111)', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(111, 2), aio_nbytes: 111 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(111);
    });

    test('LTP aio_return/3-1: a block reused after aio_return reports its new result (4096 then 2048)', async () => {
      const { fd, path } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4096, 1), aio_nbytes: 4096 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(4096);
      cb.aio_buf = Buffer.alloc(2048, 2);
      cb.aio_nbytes = 2048;
      cb.aio_offset = 4096;
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(2048);
      expect(fs.statSync(path).size).toBe(6144);
    });

    test('returns the short count of a read at end of file', async () => {
      const { fd } = tmpFile('12345');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(64), aio_nbytes: 64, aio_offset: 2 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(3);
    });

    test('returns 0 for a read past the end of file', async () => {
      const { fd } = tmpFile('12345');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 5 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(0);
    });

    test('returns the count the backend reported for a short write', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(100), aio_nbytes: 100 });
      expect(aio_write(cb)).toBe(0);
      held.releaseNext({ bytes: 37 });
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(37);
    });

    test.each([
      ['O_SYNC', O_SYNC],
      ['O_DSYNC', O_DSYNC],
    ])('returns 0 for a completed aio_fsync(%s)', async (_name, op) => {
      const { fd } = tmpFile('data');
      const cb = new AioControlBlock({ aio_fildes: fd });
      expect(aio_fsync(op, cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(0);
    });

    test('returns -1 for a failed read and sets errno to its error (EBADF)', async () => {
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(-1);
      expect(errno()).toBe(EBADF);
      expect(lastError()).toMatchObject({ code: 'EBADF', errno: EBADF });
      expect(aio_error(cb)).toBe(EBADF);
    });

    test('returns -1 for a failed write and sets errno to its error (ENOSPC on /dev/full)', async () => {
      const fd = track(fs.openSync('/dev/full', 'w'));
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(-1);
      expect(errno()).toBe(ENOSPC);
    });

    test('returns -1 for an operation that failed in the backend (EIO) and sets errno', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(cb)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await settle(cb);
      expect(aio_return(cb)).toBe(-1);
      expect(errno()).toBe(EIO);
    });

    test('returns -1 for a canceled request, with ECANCELED', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const a = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const b = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 8 });
      expect(aio_write(a)).toBe(0);
      expect(aio_write(b)).toBe(0);
      expect(aio_cancel(1000, b)).toBe(AIO_CANCELED);
      expect(aio_return(b)).toBe(-1);
      expect(errno()).toBe(ECANCELED);
      held.releaseNext();
      await settle(a);
      expect(aio_return(a)).toBe(4);
    });

    test('is usable inside the notification function', async () => {
      const { fd } = tmpFile('');
      const cb: AioControlBlock = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('notify'), aio_nbytes: 6 });
      const fn = mustCall(() => {
        expect(aio_return(cb)).toBe(6);
      });
      cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn };
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      await flush();
      expectEinval(aio_return(cb));
    });
  });

  describe('ERRORS', () => {
    test('LTP aio_return/2-1: a second call returns -1 with EINVAL', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(111), aio_nbytes: 111 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(111);
      expectEinval(aio_return(cb));
    });

    test('LTP aio_return/3-2: a second call on a 4096-byte write is -1/EINVAL; aio_error still reports 0', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4096), aio_nbytes: 4096 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(4096);
      expectEinval(aio_return(cb));
      expect(aio_error(cb)).toBe(0);
    });

    test('LTP aio_return/4-1: a block that was never submitted is -1/EINVAL (and aio_error agrees)', async () => {
      const { fd } = tmpFile('');
      const done = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(111), aio_nbytes: 111 });
      expect(aio_write(done)).toBe(0);
      await settle(done);
      const other = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(111), aio_nbytes: 111 });
      expectEinval(aio_return(other));
      expect(aio_error(other)).toBe(-1);
      expect(errno()).toBe(EINVAL);
      // The completed block is unaffected.
      expect(aio_return(done)).toBe(111);
    });

    test('returns -1/EINVAL while the request is in progress, and the result can still be retrieved once after', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
      expect(aio_read(cb)).toBe(0);
      expectEinval(aio_return(cb));
      expect(lastError()?.message).toContain('aiocbp');
      expect(aio_error(cb)).toBe(EINPROGRESS);
      held.releaseNext({ bytes: 6 });
      await settle(cb);
      expect(aio_return(cb)).toBe(6);
      expectEinval(aio_return(cb));
    });

    test('returns -1/EINVAL while a read is blocked in the thread pool on a FIFO', async () => {
      const f = fifo();
      const cb = new AioControlBlock({ aio_fildes: f.fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_read(cb)).toBe(0);
      await flush();
      expectEinval(aio_return(cb));
      fs.writeSync(f.peer, 'data');
      await settle(cb);
      expect(aio_return(cb)).toBe(4);
    });

    test('a second call after a failed operation is -1/EINVAL (errno no longer the operation error)', async () => {
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(-1);
      expect(errno()).toBe(EBADF);
      expectEinval(aio_return(cb));
    });

    test('a refused resubmission does not make the result retrievable again', async () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(3);
      cb.aio_offset = -1;
      expect(aio_read(cb)).toBe(-1);
      expectEinval(aio_return(cb));
    });

    test('returns -1/EINVAL for a fresh AioControlBlock and a plain object', () => {
      expectEinval(aio_return(new AioControlBlock()));
      expectEinval(aio_return({ aio_fildes: 0 }));
    });

    test.each([null, undefined, 3, 'cb'])('throws TypeError ERR_INVALID_ARG_TYPE naming "aiocbp" for %p', (cb) => {
      expect(() => aio_return(cb as unknown as Aiocb)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('aiocbp') }));
    });
  });
});
