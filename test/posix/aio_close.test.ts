/**
 * aio_close (this package's own call, SPEC §2 "Closing"): cancel what is queued on
 * the descriptor, wait for what is in the thread pool, then close it, so that a
 * queued request can never run against a reused descriptor number.
 *
 * Descriptors that aio_close closes are opened here without the helpers' tracking:
 * cleanup() must not close a number that may already belong to someone else.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import {
  AioControlBlock,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EIO,
  LIO_NOWAIT,
  LIO_WRITE,
  O_SYNC,
  SIGEV_THREAD,
  aio_cancel,
  aio_close,
  aio_error,
  aio_fsync,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  lio_listio,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { PENDING, settledNow } from '../helpers/aio';
import { cleanup, tmpPath } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall, sleep } from '../helpers/mustcall';

const FILE = 1000;
const OTHER = 1001;
const SOCK = 1002;

function readCb(fd: number, offset = 0, nbytes = 8): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(nbytes), aio_nbytes: nbytes });
}

function writeCb(fd: number, offset = 0, nbytes = 8): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(nbytes, 0x61), aio_nbytes: nbytes });
}

/** A regular file opened 'r+' and not tracked by the helpers. */
function untrackedFile(content = ''): number {
  return untracked(content).fd;
}

function untracked(content = ''): { fd: number; path: string } {
  const path = tmpPath();
  fs.writeFileSync(path, content);
  return { fd: fs.openSync(path, 'r+'), path };
}

function expectClosed(fd: number): void {
  expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
}

describe('aio_close', () => {
  describe('on real files', () => {
    afterAll(() => {
      cleanup();
    });

    test('returns a Promise that resolves 0, and the descriptor is closed', async () => {
      const fd = untrackedFile('abc');
      const p = aio_close(fd);
      expect(p).toBeInstanceOf(Promise);
      expect(await p).toBe(0);
      expectClosed(fd);
    });

    test('closes after the requests it waited for have completed, and they are all on disk', async () => {
      const { fd, path: p } = untracked();
      const cbs = Array.from({ length: 8 }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_offset: i * 4, aio_buf: Buffer.from(`${i}${i}${i}${i}`), aio_nbytes: 4 }));
      for (const cb of cbs) expect(aio_write(cb)).toBe(0);
      expect(await aio_close(fd)).toBe(0);
      expectClosed(fd);
      let written = '';
      cbs.forEach((cb, i) => {
        const e = aio_error(cb);
        expect([0, ECANCELED]).toContain(e);
        expect(aio_return(cb)).toBe(e === 0 ? 4 : -1);
        written += e === 0 ? `${i}${i}${i}${i}` : '';
      });
      // The writes that were not canceled reached the file; the canceled ones did not.
      const content = fs.readFileSync(p).toString().replace(/\0+/g, '');
      expect(content).toBe(written);
    });

    test('EBADF: resolves -1 with errno EBADF for a descriptor that is not open', async () => {
      expect(await aio_close(-1)).toBe(-1);
      expect(errno()).toBe(EBADF);
      expect(lastError()).toMatchObject({ code: 'EBADF', syscall: 'aio_close' });
      const fd = untrackedFile();
      fs.closeSync(fd);
      expect(await aio_close(fd)).toBe(-1);
      expect(errno()).toBe(EBADF);
    });

    test('EBADF: a second aio_close of the same descriptor resolves -1/EBADF', async () => {
      const fd = untrackedFile();
      expect(await aio_close(fd)).toBe(0);
      expect(await aio_close(fd)).toBe(-1);
      expect(errno()).toBe(EBADF);
    });

    test('rejects with a TypeError when fd is not a number', async () => {
      let p: Promise<number> | undefined;
      expect(() => {
        p = aio_close('3' as never);
      }).not.toThrow();
      await expect(p).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' });
    });

    test('waits for a read blocked in the thread pool, however long it takes, then closes', async () => {
      const path = tmpPath('fifo');
      execFileSync('mkfifo', [path]);
      const fd = fs.openSync(path, 'r+');
      const peer = fs.openSync(path, 'r+');
      try {
        const notify = mustCall();
        const r = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify } });
        expect(aio_read(r)).toBe(0);
        const p = aio_close(fd);
        await sleep(50);
        expect(await settledNow(p)).toBe(PENDING);
        expect(aio_error(r)).toBe(EINPROGRESS);
        expect(fs.fstatSync(fd).isFIFO()).toBe(true);
        fs.writeSync(peer, Buffer.from('data'));
        expect(await p).toBe(0);
        expect(aio_error(r)).toBe(0);
        expect(aio_return(r)).toBe(4);
        expect(r.aio_buf?.toString()).toBe('data');
        expectClosed(fd);
        await flush();
        expect(notify.calls).toBe(1);
      } finally {
        fs.closeSync(peer);
      }
    });

    test('a read submitted on the number after the close resolved is accepted and fails with EBADF', async () => {
      const fd = untrackedFile('abc');
      expect(await aio_close(fd)).toBe(0);
      const r = readCb(fd);
      expect(aio_read(r)).toBe(0);
      expect(aio_error(r)).toBe(EBADF);
      expect(aio_return(r)).toBe(-1);
    });
  });

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

    function isOpenInBackend(fd: number): boolean {
      try {
        held.fstat(fd);
        return true;
      } catch {
        return false;
      }
    }

    beforeEach(() => {
      held = new HeldBackend().open(FILE).open(OTHER).open(SOCK, { seekable: false });
      restore = held.use(1);
    });

    afterEach(async () => {
      await drain();
      restore();
    });

    test('with nothing outstanding, closes the descriptor and resolves 0', async () => {
      expect(await aio_close(FILE)).toBe(0);
      expect(isOpenInBackend(FILE)).toBe(false);
    });

    test('cancels the queued requests: ECANCELED and -1 at once, each notified once, later', async () => {
      const order: string[] = [];
      const sev = (tag: string) => ({ sigev_notify: SIGEV_THREAD, sigev_value: tag, sigev_notify_function: mustCall((v: unknown) => order.push(String(v))) });
      const a = writeCb(SOCK);
      const b = new AioControlBlock({ ...writeCb(SOCK), aio_sigevent: sev('b') });
      const c = new AioControlBlock({ ...writeCb(SOCK), aio_sigevent: sev('c') });
      for (const cb of [a, b, c]) expect(aio_write(cb)).toBe(0);
      const p = aio_close(SOCK);
      expect(aio_error(b)).toBe(ECANCELED);
      expect(aio_error(c)).toBe(ECANCELED);
      expect(aio_return(b)).toBe(-1);
      expect(order).toEqual([]);
      await flush();
      expect(order).toEqual(['b', 'c']);
      held.releaseNext();
      expect(await p).toBe(0);
      expect(held.log).toHaveLength(1);
    });

    test('waits for the request in flight, which completes with its real result before the descriptor is closed', async () => {
      const a = readCb(FILE, 0, 8);
      expect(aio_read(a)).toBe(0);
      let errorAtClose: number | null = null;
      const p = aio_close(FILE).then((r) => {
        errorAtClose = aio_error(a);
        return r;
      });
      await flush();
      expect(await settledNow(p)).toBe(PENDING);
      expect(isOpenInBackend(FILE)).toBe(true);
      expect(aio_error(a)).toBe(EINPROGRESS);
      held.releaseNext({ bytes: 3 });
      expect(await p).toBe(0);
      expect(errorAtClose).toBe(0);
      expect(aio_return(a)).toBe(3);
      expect(isOpenInBackend(FILE)).toBe(false);
    });

    test('a failed in-flight request keeps its own error', async () => {
      const a = writeCb(FILE);
      expect(aio_write(a)).toBe(0);
      const p = aio_close(FILE);
      held.releaseNext({ error: 'EIO' });
      expect(await p).toBe(0);
      expect(aio_error(a)).toBe(EIO);
      expect(aio_return(a)).toBe(-1);
    });

    test('while pending, new requests on the descriptor fail as on a closed one', async () => {
      expect(aio_read(readCb(FILE))).toBe(0);
      const p = aio_close(FILE);

      const r = readCb(FILE, 100);
      expect(aio_read(r)).toBe(0);
      expect(aio_error(r)).toBe(EBADF);
      const w = writeCb(FILE, 200);
      expect(aio_write(w)).toBe(0);
      expect(aio_error(w)).toBe(EBADF);
      const l = new AioControlBlock({ ...writeCb(FILE, 300), aio_lio_opcode: LIO_WRITE });
      expect(lio_listio(LIO_NOWAIT, [l], 1)).toBe(0);
      expect(aio_error(l)).toBe(EBADF);

      expect(aio_fsync(O_SYNC, { aio_fildes: FILE })).toBe(-1);
      expect(errno()).toBe(EBADF);
      expect(aio_cancel(FILE, null)).toBe(-1);
      expect(errno()).toBe(EBADF);
      expect(aio_cancel(FILE, r)).toBe(-1);
      expect(errno()).toBe(EBADF);

      expect(await aio_close(FILE)).toBe(-1);
      expect(errno()).toBe(EBADF);

      held.releaseNext();
      expect(await p).toBe(0);
      expect(held.log).toHaveLength(1);
    });

    test('leaves the requests on other descriptors alone', async () => {
      const mine = writeCb(FILE);
      const other = writeCb(OTHER);
      const queuedOther = writeCb(OTHER, 100);
      for (const cb of [mine, other, queuedOther]) expect(aio_write(cb)).toBe(0);
      const p = aio_close(FILE);
      expect(aio_error(queuedOther)).toBe(EINPROGRESS);
      await drain();
      expect(await p).toBe(0);
      expect(aio_return(other)).toBe(8);
      expect(aio_return(queuedOther)).toBe(8);
      expect(isOpenInBackend(OTHER)).toBe(true);
    });

    test('resolves -1/EBADF and leaves the new file open when the number was reused while it waited', async () => {
      const a = readCb(FILE);
      const b = readCb(FILE, 100);
      expect(aio_read(a)).toBe(0);
      expect(aio_read(b)).toBe(0);
      const p = aio_close(FILE);
      expect(aio_error(b)).toBe(ECANCELED);
      // Closed and reopened as another file behind the library's back.
      held.reopen(FILE);
      held.releaseNext();
      expect(await p).toBe(-1);
      expect(errno()).toBe(EBADF);
      expect(isOpenInBackend(FILE)).toBe(true);
      expect(aio_return(a)).toBe(8);
    });

    test('resolves -1/EBADF when the descriptor was closed behind the library while it waited', async () => {
      expect(aio_read(readCb(FILE))).toBe(0);
      const p = aio_close(FILE);
      held.forget(FILE);
      held.releaseNext();
      expect(await p).toBe(-1);
      expect(errno()).toBe(EBADF);
    });

    test('queued writes on a number reused behind the library never reach the backend under the new identity: they fail with EBADF', async () => {
      const a = writeCb(FILE, 0);
      const b = writeCb(FILE, 100);
      const c = writeCb(FILE, 200);
      for (const cb of [a, b, c]) expect(aio_write(cb)).toBe(0);
      held.reopen(FILE);
      held.releaseNext();
      await flush();
      expect(aio_return(a)).toBe(8);
      expect(aio_error(b)).toBe(EBADF);
      expect(aio_error(c)).toBe(EBADF);
      expect(aio_return(b)).toBe(-1);
      expect(held.log).toHaveLength(1);
      expect(held.pending).toHaveLength(0);
      // The new file is left alone, and closes normally afterwards.
      expect(isOpenInBackend(FILE)).toBe(true);
      expect(await aio_close(FILE)).toBe(0);
      expect(isOpenInBackend(FILE)).toBe(false);
    });

    test('queued reads on a number reused behind the library never reach the backend under the new identity: they fail with EBADF', async () => {
      const a = readCb(FILE, 0);
      const b = readCb(FILE, 100);
      const c = readCb(FILE, 200);
      for (const cb of [a, b, c]) expect(aio_read(cb)).toBe(0);
      held.reopen(FILE);
      held.releaseNext();
      await flush();
      expect(aio_return(a)).toBe(8);
      expect(held.log.map((op) => op.position)).toEqual([0]);
      expect(aio_error(b)).toBe(EBADF);
      expect(aio_error(c)).toBe(EBADF);
    });

    test('queued requests on a descriptor closed behind the library fail with EBADF and are notified', async () => {
      const notify = mustCall((v: unknown) => expect(v).toBe('b'));
      const a = writeCb(SOCK);
      const b = new AioControlBlock({ ...writeCb(SOCK), aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_value: 'b', sigev_notify_function: notify } });
      for (const cb of [a, b]) expect(aio_write(cb)).toBe(0);
      held.forget(SOCK);
      held.releaseNext();
      await flush();
      expect(aio_error(a)).toBe(EBADF);
      expect(aio_error(b)).toBe(EBADF);
      expect(held.log).toHaveLength(1);
      expect(notify.calls).toBe(1);
      expect(await aio_close(SOCK)).toBe(-1);
      expect(errno()).toBe(EBADF);
    });
  });
});
