/**
 * aio_fsync(3): RETURN VALUE and ERRORS, the barrier and error-propagation rules
 * SPEC §2 fixes, and the LTP, glibc and FreeBSD checks that concern it
 * (research/posix-aio.md A.5, B.1-B.4).
 */
import * as fs from 'node:fs';
import {
  AIO_CANCELED,
  AioControlBlock,
  EAGAIN,
  EBADF,
  EINPROGRESS,
  EINVAL,
  EIO,
  ENOSPC,
  LIO_WRITE,
  O_DSYNC,
  O_SYNC,
  SIGEV_NONE,
  SIGEV_THREAD,
  aio_cancel,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  type Aiocb,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { dropHeld, expectFailure, hold, settle } from '../helpers/aio';
import { cleanup, fifo, tmpFile } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

/** The operations the held backend has seen, as "op:fd". */
function ops(held: HeldBackend): string[] {
  return held.log.map((o) => `${o.op}:${o.fd}`);
}

/** Lets released held operations call back and the engine dispatch what follows. */
async function turn(): Promise<void> {
  await flush();
}

describe('aio_fsync', () => {
  afterEach(async () => {
    await dropHeld();
  });

  afterAll(() => {
    cleanup();
  });

  describe('RETURN VALUE', () => {
    test.each([
      ['LTP aio_fsync/2-1', 'O_DSYNC', O_DSYNC],
      ['LTP aio_fsync/3-1', 'O_SYNC', O_SYNC],
    ])('%s: when the %s fsync is done, the write before it is no longer in progress', async (_id, _name, op) => {
      const { fd } = tmpFile('');
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1024, 0xaa), aio_nbytes: 1024 });
      const f = new AioControlBlock({ aio_fildes: fd });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(op, f)).toBe(0);
      await settle(f);
      expect(aio_error(w)).not.toBe(EINPROGRESS);
      expect(aio_error(f)).toBe(0);
      expect(aio_return(f)).toBe(0);
      expect(aio_return(w)).toBe(1024);
    });

    test('LTP aio_fsync/4-1: the status of a completed fsync is not negative and aio_return is 0', async () => {
      const { fd } = tmpFile('');
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512, 1), aio_nbytes: 512 });
      const f = new AioControlBlock({ aio_fildes: fd });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      await settle(w, f);
      expect(aio_error(f)).toBeGreaterThanOrEqual(0);
      expect(aio_error(f)).toBe(0);
      expect(aio_return(f)).toBe(0);
    });

    test('LTP aio_fsync/5-1: the fsync is in progress right after it is queued behind a write', async () => {
      const { fd } = tmpFile('');
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512, 1), aio_nbytes: 512 });
      const f = new AioControlBlock({ aio_fildes: fd });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expect(aio_error(f)).toBe(EINPROGRESS);
      await settle(w, f);
      expect(aio_return(f)).toBe(0);
    });

    test.each([
      ['LTP aio_fsync/8-1', 'aio_nbytes -1', { aio_nbytes: -1 }],
      ['LTP aio_fsync/8-2', 'aio_buf null', { aio_buf: null }],
      ['LTP aio_fsync/8-3', 'aio_reqprio -1', { aio_reqprio: -1 }],
      ['LTP aio_fsync/8-4', 'aio_offset -1', { aio_offset: -1 }],
    ])('%s: ignores %s', async (_id, _what, patch) => {
      const { fd } = tmpFile('');
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512, 3), aio_nbytes: 512 });
      expect(aio_write(w)).toBe(0);
      await settle(w);
      expect(aio_return(w)).toBe(512);
      const f = { aio_fildes: fd, aio_buf: Buffer.alloc(8), aio_nbytes: 8, aio_offset: 0, aio_reqprio: 0, ...patch };
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      await settle(f);
      expect(aio_error(f)).toBe(0);
      expect(aio_return(f)).toBe(0);
    });

    test('ignores every field but aio_fildes and aio_sigevent, even values of the wrong type', async () => {
      const { fd } = tmpFile('x');
      const f = { aio_fildes: fd, aio_buf: 'not a buffer', aio_nbytes: 1.5, aio_offset: -42n, aio_reqprio: 1000, aio_lio_opcode: 'nope' };
      expect(aio_fsync(O_DSYNC, f as unknown as Aiocb)).toBe(0);
      await settle(f as unknown as Aiocb);
      expect(aio_return(f as unknown as Aiocb)).toBe(0);
    });

    test('LTP aio_fsync/9-1: a plain fsync after a completed write returns 0 and completes with 0', async () => {
      const { fd } = tmpFile('');
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512, 9), aio_nbytes: 512 });
      expect(aio_write(w)).toBe(0);
      await settle(w);
      const f = new AioControlBlock({ aio_fildes: fd });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      await settle(f);
      expect(aio_return(f)).toBe(0);
    });

    test('accepts a descriptor open read-only (glibc BZ#15361)', async () => {
      const { fd } = tmpFile('read only', 'r');
      const f = new AioControlBlock({ aio_fildes: fd });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      await settle(f);
      expect(aio_error(f)).toBe(0);
      expect(aio_return(f)).toBe(0);
    });

    test('fails through aio_error with EINVAL on a FIFO', async () => {
      const p = fifo();
      const f = new AioControlBlock({ aio_fildes: p.fd });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      await settle(f);
      expect(aio_error(f)).toBe(EINVAL);
      expect(aio_return(f)).toBe(-1);
    });

    test.each([
      ['O_SYNC', O_SYNC, 'fsync'],
      ['O_DSYNC', O_DSYNC, 'fdatasync'],
    ])('%s dispatches %s', async (_name, op, expected) => {
      const held = hold(1, new HeldBackend().open(1000));
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_fsync(op, f)).toBe(0);
      expect(ops(held)).toEqual([`${expected}:1000`]);
      held.releaseNext();
      await settle(f);
      expect(aio_return(f)).toBe(0);
    });

    test('never writes into the control block (aio_reqprio and aio_lio_opcode included)', async () => {
      const { fd } = tmpFile('');
      const sigev = { sigev_notify: SIGEV_NONE };
      const buf = Buffer.alloc(4);
      const f = new AioControlBlock({ aio_fildes: fd, aio_offset: -1, aio_buf: buf, aio_nbytes: 4, aio_reqprio: 7, aio_sigevent: sigev, aio_lio_opcode: LIO_WRITE });
      const snapshot = (): Record<string, unknown> => ({ ...f, aio_sigevent: { ...f.aio_sigevent } });
      const before = snapshot();
      expect(aio_fsync(O_DSYNC, f)).toBe(0);
      expect(snapshot()).toEqual(before);
      await settle(f);
      expect(aio_return(f)).toBe(0);
      expect(snapshot()).toEqual(before);
      expect(f.aio_reqprio).toBe(7);
      expect(f.aio_lio_opcode).toBe(LIO_WRITE);
      expect(f.aio_buf).toBe(buf);
      expect(f.aio_sigevent).toBe(sigev);
    });
  });

  describe('barrier', () => {
    test('an fsync waits for an earlier write in flight whatever its aio_reqprio; later reads pass it', async () => {
      const held = hold(2, new HeldBackend().open(1000));
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_reqprio: 10 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      const r = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 100 });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expect(aio_read(r)).toBe(0);
      expect(ops(held)).toEqual(['write:1000', 'read:1000']);
      // The later read completes while the fsync still waits for the write.
      held.pending[1]?.release();
      await settle(r);
      expect(aio_return(r)).toBe(4);
      expect(aio_error(f)).toBe(EINPROGRESS);
      expect(ops(held)).toEqual(['write:1000', 'read:1000']);
      held.releaseNext();
      await turn();
      expect(aio_error(w)).toBe(0);
      expect(ops(held)).toEqual(['write:1000', 'read:1000', 'fsync:1000']);
      held.releaseNext();
      await settle(f);
      expect(aio_return(f)).toBe(0);
    });

    test('B.4 item 1: an fsync is not dispatched before a queued earlier write with a larger aio_reqprio (glibc lets it overtake)', async () => {
      const held = hold(2, new HeldBackend().open(1000).open(1001));
      const h1 = new AioControlBlock({ aio_fildes: 1001, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
      const h2 = new AioControlBlock({ aio_fildes: 1001, aio_buf: Buffer.alloc(1), aio_nbytes: 1, aio_offset: 1 });
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_reqprio: 10 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      const r = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 100 });
      expect(aio_read(h1)).toBe(0);
      expect(aio_read(h2)).toBe(0);
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expect(aio_read(r)).toBe(0);
      expect(ops(held)).toEqual(['read:1001', 'read:1001']);
      // A slot frees: the priority-0 read goes first; the fsync (priority 0 too) must not.
      held.releaseNext();
      await turn();
      expect(ops(held)).toEqual(['read:1001', 'read:1001', 'read:1000']);
      held.releaseNext();
      await turn();
      expect(ops(held)).toEqual(['read:1001', 'read:1001', 'read:1000', 'write:1000']);
      held.releaseNext(); // the read on 1000
      await settle(r);
      expect(aio_error(f)).toBe(EINPROGRESS);
      expect(ops(held)).not.toContain('fsync:1000');
      held.releaseNext(); // the write
      await turn();
      expect(ops(held).at(-1)).toBe('fsync:1000');
      held.releaseNext();
      await settle(h1, h2, w, f);
      expect(aio_return(w)).toBe(4);
      expect(aio_return(f)).toBe(0);
    });

    test('an fsync waits for every earlier request on its descriptor, reads included', async () => {
      const held = hold(4, new HeldBackend().open(1000));
      const r = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_reqprio: 20 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_read(r)).toBe(0);
      expect(aio_fsync(O_DSYNC, f)).toBe(0);
      expect(ops(held)).toEqual(['read:1000']);
      held.releaseNext();
      await turn();
      expect(ops(held)).toEqual(['read:1000', 'fdatasync:1000']);
      held.releaseNext();
      await settle(f);
      expect(aio_return(f)).toBe(0);
    });

    test('does not wait for requests on other descriptors', async () => {
      const held = hold(2, new HeldBackend().open(1000).open(1001));
      const other = new AioControlBlock({ aio_fildes: 1001, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_write(other)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expect(ops(held)).toEqual(['write:1001', 'fsync:1000']);
      held.pending[1]?.release();
      await settle(f);
      expect(aio_return(f)).toBe(0);
      expect(aio_error(other)).toBe(EINPROGRESS);
      held.releaseNext();
      await settle(other);
    });

    test('FreeBSD aio_fsync_sync_test / aio_fsync_dsync_test: 16 writes then an fsync; each write completes once, all before the fsync', async () => {
      for (const op of [O_SYNC, O_DSYNC]) {
        const { fd, path } = tmpFile('');
        const order: string[] = [];
        const writes = Array.from({ length: 16 }, (_, i) => {
          const fn = mustCall(() => {
            order.push(`w${i}`);
          });
          return new AioControlBlock({
            aio_fildes: fd,
            aio_buf: Buffer.alloc(4096, i + 1),
            aio_nbytes: 4096,
            aio_offset: i * 4096,
            aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn },
          });
        });
        for (const w of writes) expect(aio_write(w)).toBe(0);
        const fsyncDone = mustCall(() => {
          order.push('fsync');
        });
        const f = new AioControlBlock({ aio_fildes: fd, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: fsyncDone } });
        expect(aio_fsync(op, f)).toBe(0);
        await settle(f);
        for (const w of writes) expect(aio_error(w)).not.toBe(EINPROGRESS);
        await flush();
        expect(order).toHaveLength(17);
        expect(order.at(-1)).toBe('fsync');
        expect(new Set(order.slice(0, 16)).size).toBe(16);
        for (const w of writes) {
          expect(aio_error(w)).toBe(0);
          expect(aio_return(w)).toBe(4096);
        }
        expect(aio_return(f)).toBe(0);
        expect(fs.statSync(path).size).toBe(16 * 4096);
      }
    });

    test('glibc tst-aio: after ten writes and an aio_fsync(O_SYNC) complete, the file content is complete', async () => {
      const { fd, path } = tmpFile('');
      const writes = Array.from({ length: 10 }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(100, 0x61 + i), aio_nbytes: 100, aio_offset: i * 100 }));
      for (let i = 9; i >= 0; i--) expect(aio_write(writes[i] as AioControlBlock)).toBe(0);
      const f = new AioControlBlock({ aio_fildes: fd });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      await settle(f);
      expect(aio_return(f)).toBe(0);
      const data = fs.readFileSync(path);
      expect(data).toHaveLength(1000);
      for (let i = 0; i < 10; i++) expect(data.subarray(i * 100, i * 100 + 100).every((b) => b === 0x61 + i)).toBe(true);
      for (const w of writes) expect(aio_return(w)).toBe(100);
    });
  });

  describe('covered writes', () => {
    test('B.4 item 2: reports the error of an earlier write that fails before the fsync completes', async () => {
      const held = hold(2, new HeldBackend().open(1000));
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await turn();
      expect(aio_error(w)).toBe(EIO);
      expect(ops(held)).toEqual(['write:1000', 'fsync:1000']);
      held.releaseNext();
      await settle(f);
      expect(aio_error(f)).toBe(EIO);
      expect(aio_return(f)).toBe(-1);
      expect(errno()).toBe(EIO);
    });

    test('reports the first failure among several covered writes', async () => {
      const held = hold(3, new HeldBackend().open(1000));
      const a = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const b = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 4 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_write(a)).toBe(0);
      expect(aio_write(b)).toBe(0);
      expect(aio_fsync(O_DSYNC, f)).toBe(0);
      held.pending[1]?.release({ error: 'ENOSPC' });
      held.releaseNext({ error: 'EIO' });
      await turn();
      held.releaseNext();
      await settle(f);
      expect(aio_error(f)).toBe(ENOSPC);
      expect(aio_return(f)).toBe(-1);
    });

    test('a canceled write does not count', async () => {
      const held = hold(1, new HeldBackend().open(1000).open(1001));
      const h = new AioControlBlock({ aio_fildes: 1001, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_read(h)).toBe(0);
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expect(aio_cancel(1000, w)).toBe(AIO_CANCELED);
      held.releaseNext();
      await turn();
      expect(ops(held)).toEqual(['read:1001', 'fsync:1000']);
      held.releaseNext();
      await settle(f);
      expect(aio_error(f)).toBe(0);
      expect(aio_return(f)).toBe(0);
      expect(aio_return(w)).toBe(-1);
    });

    test('a write submitted after the fsync does not count', async () => {
      const held = hold(2, new HeldBackend().open(1000));
      const f = new AioControlBlock({ aio_fildes: 1000 });
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expect(aio_write(w)).toBe(0);
      expect(ops(held)).toEqual(['fsync:1000', 'write:1000']);
      held.pending[1]?.release({ error: 'EIO' });
      await settle(w);
      expect(aio_error(w)).toBe(EIO);
      held.releaseNext();
      await settle(f);
      expect(aio_error(f)).toBe(0);
      expect(aio_return(f)).toBe(0);
    });

    test('a write that had already failed when the fsync was submitted does not count', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(w)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await settle(w);
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      held.releaseNext();
      await settle(f);
      expect(aio_error(f)).toBe(0);
    });

    test('a failed write on another descriptor does not count', async () => {
      const held = hold(2, new HeldBackend().open(1000).open(1001));
      const w = new AioControlBlock({ aio_fildes: 1001, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await turn();
      held.releaseNext();
      await settle(w, f);
      expect(aio_error(w)).toBe(EIO);
      expect(aio_error(f)).toBe(0);
    });

    test('its own failure is reported when the covered writes succeed', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      held.releaseNext();
      await turn();
      held.releaseNext({ error: 'EIO' });
      await settle(w, f);
      expect(aio_error(w)).toBe(0);
      expect(aio_error(f)).toBe(EIO);
      expect(aio_return(f)).toBe(-1);
    });
  });

  describe('ERRORS', () => {
    test('LTP aio_fsync/12-1 (and glibc tst-aio7): a descriptor of -1 fails at once with EBADF', () => {
      const f = new AioControlBlock({ aio_fildes: -1 });
      expectFailure(aio_fsync(O_SYNC, f), EBADF, 'aiocbp.aio_fildes');
      expect(aio_error(f)).toBe(-1);
      expect(errno()).toBe(EINVAL);
    });

    test('LTP aio_fsync/14-1: op -1 on a valid descriptor is -1/EINVAL', () => {
      const { fd } = tmpFile('');
      const f = new AioControlBlock({ aio_fildes: fd });
      expectFailure(aio_fsync(-1, f), EINVAL, 'op');
      expect(aio_error(f)).toBe(-1);
    });

    test.each([0, 1, 666, O_SYNC | O_DSYNC | 1])('fails with EINVAL for op %p', (op) => {
      const { fd } = tmpFile('');
      expectFailure(aio_fsync(op, { aio_fildes: fd }), EINVAL, 'op');
    });

    test('FreeBSD aio_fsync_errors: op 666 is EINVAL, descriptor 666 is EBADF, sigev_notify 666 is EINVAL', () => {
      const { fd } = tmpFile('');
      expectFailure(aio_fsync(666, { aio_fildes: fd }), EINVAL, 'op');
      expectFailure(aio_fsync(O_SYNC, { aio_fildes: 666 }), EBADF);
      expectFailure(aio_fsync(O_SYNC, { aio_fildes: fd, aio_sigevent: { sigev_notify: 666 } }), EINVAL, 'aiocbp.aio_sigevent.sigev_notify');
    });

    test('checks op before the descriptor', () => {
      expectFailure(aio_fsync(12345, { aio_fildes: -1 }), EINVAL, 'op');
    });

    test('fails at once with EBADF for a closed descriptor number', () => {
      const { fd } = tmpFile('');
      fs.closeSync(fd);
      const f = new AioControlBlock({ aio_fildes: fd });
      expectFailure(aio_fsync(O_SYNC, f), EBADF, 'aiocbp.aio_fildes');
      expect(aio_error(f)).toBe(-1);
    });

    test('fails at once with EBADF for a descriptor closed behind the library while requests on it are outstanding', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const w = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      expect(aio_write(w)).toBe(0);
      held.forget(1000);
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expectFailure(aio_fsync(O_SYNC, f), EBADF, 'aiocbp.aio_fildes');
      expect(aio_error(f)).toBe(-1);
      held.releaseNext();
      await settle(w);
      expect(aio_error(w)).toBe(EBADF);
    });

    test('fails with EINVAL for SIGEV_THREAD without a function', () => {
      const { fd } = tmpFile('');
      const f = { aio_fildes: fd, aio_sigevent: { sigev_notify: SIGEV_THREAD } };
      expectFailure(aio_fsync(O_SYNC, f), EINVAL, 'aiocbp.aio_sigevent.sigev_notify_function');
      expect(aio_error(f)).toBe(-1);
    });

    test('fails with EINVAL when the block is still in progress', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const f = new AioControlBlock({ aio_fildes: 1000 });
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      expectFailure(aio_fsync(O_SYNC, f), EINVAL, 'aiocbp');
      expect(aio_error(f)).toBe(EINPROGRESS);
      expect(ops(held)).toEqual(['fsync:1000']);
      held.releaseNext();
      await settle(f);
      expect(aio_return(f)).toBe(0);
    });

    test('fails with EAGAIN when the outstanding-request limit is reached', async () => {
      const { fd } = tmpFile('abc');
      aio_init({ aio_max: 1 });
      try {
        const r = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
        expect(aio_read(r)).toBe(0);
        const f = new AioControlBlock({ aio_fildes: fd });
        expectFailure(aio_fsync(O_SYNC, f), EAGAIN);
        expect(aio_error(f)).toBe(-1);
        await settle(r);
        expect(aio_fsync(O_SYNC, f)).toBe(0);
        await settle(f);
        expect(aio_return(f)).toBe(0);
      } finally {
        aio_init({ aio_max: 512 });
      }
    });

    test('throws TypeError ERR_INVALID_ARG_TYPE naming "op" when op is not a number', () => {
      const { fd } = tmpFile('');
      expect(() => aio_fsync('O_SYNC' as unknown as number, { aio_fildes: fd })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"op"') }));
    });

    test.each([
      ['aiocbp', null],
      ['aiocbp', 3],
      ['aiocbp.aio_fildes', { aio_fildes: '3' }],
      ['aiocbp.aio_sigevent', { aio_fildes: 0, aio_sigevent: 'none' }],
      ['aiocbp.aio_sigevent.sigev_notify_function', { aio_fildes: 0, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: 1 } }],
    ])('throws TypeError ERR_INVALID_ARG_TYPE naming %s for a value of the wrong type', (field, cb) => {
      expect(() => aio_fsync(O_SYNC, cb as unknown as Aiocb)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining(field) }));
    });
  });

  describe('notification', () => {
    test('SIGEV_THREAD runs once, after the call has returned and after the covered write, with the status final', async () => {
      const { fd } = tmpFile('');
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('abc'), aio_nbytes: 3 });
      let returned = false;
      const f: AioControlBlock = new AioControlBlock({ aio_fildes: fd });
      const fn = mustCall((value: unknown) => {
        expect(returned).toBe(true);
        expect(value).toBe('synced');
        expect(aio_error(f)).toBe(0);
        expect(aio_error(w)).toBe(0);
      });
      f.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: 'synced' };
      expect(aio_write(w)).toBe(0);
      expect(aio_fsync(O_SYNC, f)).toBe(0);
      returned = true;
      expect(fn.calls).toBe(0);
      await settle(f);
      await flush();
      expect(aio_return(f)).toBe(0);
    });
  });
});
