/**
 * aio_write(3): RETURN VALUE and ERRORS, the rules SPEC §2 fixes, and the LTP,
 * glibc and FreeBSD checks that concern it (research/posix-aio.md A.4, B.1-B.4).
 */
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import {
  AioControlBlock,
  EAGAIN,
  EBADF,
  EINPROGRESS,
  EINVAL,
  EIO,
  ENOSPC,
  EOVERFLOW,
  LIO_READ,
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SI_ASYNCIO,
  _SC_AIO_MAX,
  _SC_PRIORITIZED_IO,
  aio_error,
  aio_init,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  sysconf,
  type Aiocb,
  type SigInfo,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { dropHeld, expectFailure, expectNeverSubmitted, hold, settle } from '../helpers/aio';
import { cleanup, fifo, tmpFile, tmpPath, track } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

/** Reads everything `fd` holds through its path. */
function contents(path: string): Buffer {
  return fs.readFileSync(path);
}

describe('aio_write', () => {
  afterEach(async () => {
    await dropHeld();
  });

  afterAll(() => {
    cleanup();
  });

  describe('RETURN VALUE', () => {
    test('LTP aio_write/1-1: writes 512 bytes to a new file, and no more', async () => {
      const path = tmpPath();
      const fd = track(fs.openSync(path, 'wx+'));
      const buf = Buffer.alloc(512, 0xaa);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 512 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(512);
      const check = Buffer.alloc(513);
      expect(fs.readSync(fd, check, 0, 513, 0)).toBe(512);
      expect(check.subarray(0, 512).equals(buf)).toBe(true);
    });

    test('LTP aio_write/1-2: writes at aio_offset and leaves the bytes around it alone', async () => {
      const { fd, path } = tmpFile(Buffer.alloc(2048));
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1024, 0xaa), aio_nbytes: 1024, aio_offset: 512 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(1024);
      const data = contents(path);
      expect(data).toHaveLength(2048);
      expect(data[511]).toBe(0);
      expect(data[1536]).toBe(0);
      expect(data.subarray(512, 1536).every((b) => b === 0xaa)).toBe(true);
    });

    test('LTP aio_write/2-1: writes on an O_APPEND descriptor land in call order', async () => {
      const { fd, path } = tmpFile('', 'a+');
      const sizes = [512, 1024, 1536];
      const cbs = sizes.map((n, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(n, i), aio_nbytes: n }));
      for (const cb of cbs) expect(aio_write(cb)).toBe(0);
      // Wait only for the third, as LTP does: the first two must be complete by then.
      await settle(cbs[2] as AioControlBlock);
      cbs.forEach((cb, i) => {
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(sizes[i]);
      });
      expect(contents(path).equals(Buffer.concat(sizes.map((n, i) => Buffer.alloc(n, i))))).toBe(true);
    });

    test('LTP aio_write/3-1: aio_lio_opcode is ignored (LIO_READ still writes)', async () => {
      const { fd, path } = tmpFile('');
      const buf = Buffer.alloc(512, 0x5a);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 512, aio_lio_opcode: LIO_READ });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(512);
      expect(contents(path).equals(buf)).toBe(true);
      expect(cb.aio_lio_opcode).toBe(LIO_READ);
    });

    test('LTP aio_write/5-1: a plain write returns 0, completes with error 0 and return 512', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512, 1), aio_nbytes: 512 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(512);
    });

    test('glibc tst-aio: ten writes submitted in reverse order land at their offsets; the file is exactly 1000 bytes', async () => {
      const { fd, path } = tmpFile('');
      const cbs = Array.from({ length: 10 }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(100, 0x30 + i), aio_nbytes: 100, aio_offset: i * 100 }));
      for (let i = 9; i >= 0; i--) expect(aio_write(cbs[i] as AioControlBlock)).toBe(0);
      const list: Array<AioControlBlock | null> = [...cbs];
      let left = 10;
      while (left > 0) {
        expect(await aio_suspend(list, list.length)).toBe(0);
        for (let i = 0; i < 10; i++) {
          const cb = list[i];
          if (cb === null || cb === undefined || aio_error(cb) === EINPROGRESS) continue;
          expect(aio_error(cb)).toBe(0);
          expect(aio_return(cb)).toBe(100);
          list[i] = null;
          left--;
        }
      }
      const data = contents(path);
      expect(data).toHaveLength(1000);
      for (let i = 0; i < 10; i++) expect(data.subarray(i * 100, i * 100 + 100).every((b) => b === 0x30 + i)).toBe(true);
    });

    test('writes from a Uint16Array and a DataView take the bytes at their byteOffset', async () => {
      const { fd, path } = tmpFile('');
      const ab = new ArrayBuffer(16);
      new Uint8Array(ab).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      const u16 = new Uint16Array(ab, 2, 2);
      const dv = new DataView(ab, 9, 3);
      const a = new AioControlBlock({ aio_fildes: fd, aio_buf: u16, aio_nbytes: 4 });
      const b = new AioControlBlock({ aio_fildes: fd, aio_buf: dv, aio_nbytes: 3, aio_offset: 4 });
      expect(aio_write(a)).toBe(0);
      expect(aio_write(b)).toBe(0);
      await settle(a, b);
      expect(aio_return(a)).toBe(4);
      expect(aio_return(b)).toBe(3);
      expect([...contents(path)]).toEqual([2, 3, 4, 5, 9, 10, 11]);
    });

    test('accepts a null aio_buf with aio_nbytes 0 and completes with 0', async () => {
      const { fd, path } = tmpFile('abc');
      const cb = { aio_fildes: fd, aio_buf: null, aio_nbytes: 0 };
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(0);
      expect(contents(path).toString()).toBe('abc');
    });

    test('accepts a small bigint aio_offset and writes at that position', async () => {
      const { fd, path } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('XY'), aio_nbytes: 2, aio_offset: 5n });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(2);
      expect(contents(path).toString()).toBe('01234XY789');
    });

    test('does not move the file position (positioned write)', async () => {
      const { fd } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('ZZ'), aio_nbytes: 2, aio_offset: 8 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(2);
      const b = Buffer.alloc(3);
      expect(fs.readSync(fd, b, 0, 3, null)).toBe(3);
      expect(b.toString()).toBe('012');
    });

    test('writes on a FIFO land in call order and their aio_offset is ignored', async () => {
      const f = fifo();
      const offsets = [100, -5, 0, 7n];
      const cbs = ['a', 'b', 'c', 'd'].map((s, i) => new AioControlBlock({ aio_fildes: f.fd, aio_buf: Buffer.from(s), aio_nbytes: 1, aio_offset: offsets[i] as number | bigint }));
      for (const cb of cbs) expect(aio_write(cb)).toBe(0);
      await settle(...cbs);
      for (const cb of cbs) expect(aio_return(cb)).toBe(1);
      const out = Buffer.alloc(16);
      expect(fs.readSync(f.peer, out, 0, 16, null)).toBe(4);
      expect(out.subarray(0, 4).toString()).toBe('abcd');
    });

    test('FreeBSD aio_socket_blocking_short_write (FIFO): a write of twice the pipe buffer completes in full', async () => {
      const f = fifo();
      const size = 2 * 65536;
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) data[i] = (i * 7) & 0xff;
      const cb = new AioControlBlock({ aio_fildes: f.fd, aio_buf: data, aio_nbytes: size });
      expect(aio_write(cb)).toBe(0);
      // Never block this thread unless the write is in the thread pool to unblock it.
      expect(engine().inFlight).toBe(1);
      // The write runs in the thread pool; draining here blocks only until it has written more.
      const got: Buffer[] = [];
      let n = 0;
      while (n < size) {
        const chunk = Buffer.alloc(size - n);
        const k = fs.readSync(f.peer, chunk, 0, chunk.length, null);
        got.push(chunk.subarray(0, k));
        n += k;
      }
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(size);
      expect(Buffer.concat(got).equals(data)).toBe(true);
    });

    test('accepts aio_reqprio AIO_PRIO_DELTA_MAX (20)', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('abc'), aio_nbytes: 3, aio_reqprio: 20 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(3);
    });

    test('never writes into the control block (all seven fields unchanged)', async () => {
      const { fd } = tmpFile('0123456789');
      const sigev = { sigev_notify: SIGEV_NONE };
      const buf = Buffer.from('wxyz');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_offset: 2n, aio_buf: buf, aio_nbytes: 4, aio_reqprio: 5, aio_sigevent: sigev, aio_lio_opcode: LIO_READ });
      const snapshot = (): Record<string, unknown> => ({ ...cb, aio_sigevent: { ...cb.aio_sigevent } });
      const before = snapshot();
      const keys = Object.keys(cb);
      expect(aio_write(cb)).toBe(0);
      expect(snapshot()).toEqual(before);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(4);
      expect(snapshot()).toEqual(before);
      expect(Object.keys(cb)).toEqual(keys);
      expect(cb.aio_buf).toBe(buf);
      expect(cb.aio_sigevent).toBe(sigev);
      expect(cb.aio_lio_opcode).toBe(LIO_READ);
      expect(cb.aio_reqprio).toBe(5);
      expect(cb.aio_offset).toBe(2n);
      expect(cb.aio_nbytes).toBe(4);
      expect(cb.aio_fildes).toBe(fd);
    });
  });

  describe('ERRORS', () => {
    test('LTP aio_write/6-1: aio_reqprio -1 on a zeroed block is -1/EINVAL (prioritized I/O is supported)', () => {
      expect(sysconf(_SC_PRIORITIZED_IO)).toBeGreaterThanOrEqual(200112);
      const cb = { aio_fildes: 0, aio_offset: 0, aio_buf: null, aio_nbytes: 0, aio_reqprio: -1 };
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_reqprio');
    });

    test('LTP aio_write/7-1: writes are refused with EAGAIN once AIO_MAX are outstanding', async () => {
      const max = sysconf(_SC_AIO_MAX);
      expect(max).not.toBe(-1);
      const { fd } = tmpFile('');
      const accepted: AioControlBlock[] = [];
      let failedAt = -1;
      for (let i = 0; i < 1024; i++) {
        const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512, i & 0xff), aio_nbytes: 512, aio_offset: i * 512 });
        if (aio_write(cb) === -1) {
          failedAt = i;
          expect(errno()).toBe(EAGAIN);
          expectNeverSubmitted(cb);
          break;
        }
        accepted.push(cb);
      }
      expect(failedAt).toBe(max);
      await settle(...accepted);
      for (const cb of accepted) expect(aio_return(cb)).toBe(512);
    });

    test('LTP aio_write/8-1: a descriptor of -1 is accepted and fails later with EBADF', async () => {
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test('LTP aio_write/8-2: a descriptor open read-only is accepted and fails later with EBADF', async () => {
      const { fd, path } = tmpFile('untouched', 'r');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(16, 0x41), aio_nbytes: 16 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
      expect(contents(path).toString()).toBe('untouched');
    });

    test('LTP aio_write/9-1: aio_offset -1 on a regular file is EINVAL (never "the current position")', () => {
      const { fd, path } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('X'), aio_nbytes: 1, aio_offset: -1 });
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_offset');
      expectNeverSubmitted(cb);
      expect(contents(path).toString()).toBe('0123456789');
    });

    test('LTP aio_write/9-2: aio_reqprio -1 on a valid descriptor is -1/EINVAL', () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('X'), aio_nbytes: 1, aio_reqprio: -1 });
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_reqprio');
      expectNeverSubmitted(cb);
    });

    test.each([-2, -4096, Number.MIN_SAFE_INTEGER, -1n, -(2n ** 63n)])('fails with EINVAL for aio_offset %p on a regular file', (offset) => {
      const { fd } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('X'), aio_nbytes: 1, aio_offset: offset });
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_offset');
      expectNeverSubmitted(cb);
    });

    test.each([-1, 21])('fails with EINVAL for aio_reqprio %p and leaves a never-submitted block never submitted', (prio) => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('X'), aio_nbytes: 1, aio_reqprio: prio });
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_reqprio');
      expectNeverSubmitted(cb);
    });

    test('a refused submission leaves the status of the request the block carried before', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.from('abc'), aio_nbytes: 3 });
      expect(aio_write(cb)).toBe(0);
      held.releaseNext({ error: 'EIO' });
      await settle(cb);
      cb.aio_reqprio = 21;
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_reqprio');
      expect(aio_error(cb)).toBe(EIO);
      cb.aio_reqprio = -1;
      expectFailure(aio_write(cb), EINVAL, 'aiocbp.aio_reqprio');
      expect(aio_error(cb)).toBe(EIO);
      expect(aio_return(cb)).toBe(-1);
    });

    test('fails with EINVAL when the block is still in progress, and the first write is unaffected', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.from('abcd'), aio_nbytes: 4 });
      expect(aio_write(cb)).toBe(0);
      expectFailure(aio_write(cb), EINVAL, 'aiocbp');
      expect(aio_error(cb)).toBe(EINPROGRESS);
      expect(held.log).toHaveLength(1);
      held.releaseNext();
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(4);
    });

    test('fails with EAGAIN when aio_init({ aio_max }) outstanding requests are reached', async () => {
      const { fd, path } = tmpFile('');
      aio_init({ aio_max: 3 });
      try {
        const cbs = ['a', 'b', 'c'].map((s, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from(s), aio_nbytes: 1, aio_offset: i }));
        for (const cb of cbs) expect(aio_write(cb)).toBe(0);
        const extra = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('d'), aio_nbytes: 1, aio_offset: 3 });
        expectFailure(aio_write(extra), EAGAIN);
        expect(lastError()).toMatchObject({ code: 'EAGAIN' });
        expectNeverSubmitted(extra);
        await settle(...cbs);
        expect(contents(path).toString()).toBe('abc');
      } finally {
        aio_init({ aio_max: 512 });
      }
      expect(sysconf(_SC_AIO_MAX)).toBe(512);
    });

    test('accepts a closed descriptor number and fails later with EBADF', async () => {
      const { fd } = tmpFile('');
      fs.closeSync(fd);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('abc'), aio_nbytes: 3 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test('reports EBADF for a zero-length write on a read-only descriptor', async () => {
      const { fd } = tmpFile('abc', 'r');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1), aio_nbytes: 0 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test('reports ENOSPC through aio_error, and aio_return -1, for a write to /dev/full', async () => {
      const fd = track(fs.openSync('/dev/full', 'w'));
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(64, 1), aio_nbytes: 64 });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(ENOSPC);
      expect(aio_return(cb)).toBe(-1);
    });

    test('fails with EOVERFLOW through aio_error for a bigint offset past 2^53 (fs cannot address it)', async () => {
      const { fd, path } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('X'), aio_nbytes: 1, aio_offset: 2n ** 53n + 1n });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EOVERFLOW);
      expect(aio_return(cb)).toBe(-1);
      expect(contents(path)).toHaveLength(0);
    });

    test.each([
      ['aiocbp.aio_buf', { aio_buf: 'abcd' }],
      ['aiocbp.aio_buf', { aio_buf: [1, 2, 3, 4] }],
      ['aiocbp.aio_buf', { aio_buf: new ArrayBuffer(8) }],
      ['aiocbp.aio_fildes', { aio_fildes: '3' }],
      ['aiocbp.aio_nbytes', { aio_nbytes: 4n }],
      ['aiocbp.aio_offset', { aio_offset: '0' }],
      ['aiocbp.aio_reqprio', { aio_reqprio: null }],
      ['aiocbp.aio_sigevent', { aio_sigevent: 1 }],
      ['aiocbp.aio_sigevent.sigev_notify', { aio_sigevent: { sigev_notify: '2' } }],
      ['aiocbp.aio_sigevent.sigev_notify_function', { aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: {} } }],
    ])('throws TypeError ERR_INVALID_ARG_TYPE naming %s for a value of the wrong type', (field, patch) => {
      const { fd } = tmpFile('');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, ...patch };
      let thrown: unknown;
      try {
        aio_write(cb as unknown as Aiocb);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      expect((thrown as Error).message).toContain(field);
      expectNeverSubmitted(cb as unknown as Aiocb);
    });

    test.each([null, undefined, 7, [1]])('throws TypeError ERR_INVALID_ARG_TYPE naming "aiocbp" for %p', (cb) => {
      expect(() => aio_write(cb as unknown as Aiocb)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('aiocbp') }));
    });

    test('throws TypeError naming aiocbp.aio_buf for a null buffer with aio_nbytes > 0', () => {
      const { fd } = tmpFile('');
      expect(() => aio_write({ aio_fildes: fd, aio_buf: null, aio_nbytes: 1 })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('aiocbp.aio_buf') }));
    });

    test.each([
      ['larger than the buffer', Buffer.alloc(8), 9],
      ['larger than a DataView', new DataView(new ArrayBuffer(16), 4, 4), 5],
      ['negative', Buffer.alloc(8), -1],
      ['fractional', Buffer.alloc(8), 0.5],
    ])('throws RangeError ERR_OUT_OF_RANGE naming aiocbp.aio_nbytes when it is %s', (_what, buf, nbytes) => {
      const { fd, path } = tmpFile('');
      const cb = { aio_fildes: fd, aio_buf: buf, aio_nbytes: nbytes };
      expect(() => aio_write(cb)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('aiocbp.aio_nbytes') }));
      expectNeverSubmitted(cb);
      expect(contents(path)).toHaveLength(0);
    });

    test.each([2 ** 53, 0.5])('throws RangeError ERR_OUT_OF_RANGE naming aiocbp.aio_offset for the number %p', (offset) => {
      const { fd } = tmpFile('');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1, aio_offset: offset };
      expect(() => aio_write(cb)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('aiocbp.aio_offset') }));
      expectNeverSubmitted(cb);
    });

    test.each([
      ['an unknown sigev_notify (99)', { sigev_notify: 99 }, 'sigev_notify'],
      ['SIGEV_THREAD without a function', { sigev_notify: SIGEV_THREAD, sigev_value: 1 }, 'sigev_notify_function'],
      ['SIGEV_SIGNAL with signal -1', { sigev_notify: SIGEV_SIGNAL, sigev_signo: -1 }, 'sigev_signo'],
      ['SIGEV_SIGNAL with signal 1000', { sigev_notify: SIGEV_SIGNAL, sigev_signo: 1000 }, 'sigev_signo'],
      ['SIGEV_SIGNAL with an unknown name', { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'USR2' }, 'sigev_signo'],
    ])('fails with EINVAL for %s', (_what, sigev, field) => {
      const { fd } = tmpFile('');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_sigevent: sigev };
      expectFailure(aio_write(cb), EINVAL, `aiocbp.aio_sigevent.${field}`);
      expectNeverSubmitted(cb);
    });

    test('lastError() explains an EINVAL: an Error with code, positive errno and the field', () => {
      const { fd } = tmpFile('');
      expect(aio_write({ aio_fildes: fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1, aio_offset: -7 })).toBe(-1);
      const err = lastError();
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: 'EINVAL', errno: EINVAL });
      expect((err as NodeJS.ErrnoException).errno).toBeGreaterThan(0);
      expect(err?.message).toContain('aiocbp.aio_offset');
    });

    test('errno() keeps its value until the next failing call', async () => {
      const { fd } = tmpFile('');
      expect(aio_write({ aio_fildes: fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1, aio_reqprio: 99 })).toBe(-1);
      expect(errno()).toBe(EINVAL);
      const ok = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('a'), aio_nbytes: 1 });
      expect(aio_write(ok)).toBe(0);
      await settle(ok);
      expect(aio_return(ok)).toBe(1);
      expect(errno()).toBe(EINVAL);
      const bad = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.from('a'), aio_nbytes: 1 });
      expect(aio_write(bad)).toBe(0);
      await settle(bad);
      // A deferred failure is not a failing call: errno is untouched until aio_return reports it.
      expect(errno()).toBe(EINVAL);
      expect(aio_return(bad)).toBe(-1);
      expect(errno()).toBe(EBADF);
    });
  });

  describe('notification', () => {
    test('SIGEV_THREAD runs once, after the call has returned, with the status already final', async () => {
      const { fd } = tmpFile('');
      let returned = false;
      const cb: AioControlBlock = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('hello'), aio_nbytes: 5 });
      const fn = mustCall((value: unknown) => {
        expect(returned).toBe(true);
        expect(value).toBe(cb);
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(5);
      });
      cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: cb };
      expect(aio_write(cb)).toBe(0);
      returned = true;
      expect(fn.calls).toBe(0);
      await settle(cb);
      await flush();
      expect(fn.calls).toBe(1);
    });

    test('glibc tst-aio5: sigev_value reaches the notify function intact (sival_int 27)', async () => {
      const { fd } = tmpFile('');
      const fn = mustCall((value: unknown) => {
        expect(value).toBe(27);
      });
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('x'), aio_nbytes: 1, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: 27 } });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      await flush();
      expect(aio_return(cb)).toBe(1);
    });

    test('glibc tst-aio4 (as a listener): SIGEV_SIGNAL emits the signal once with SI_ASYNCIO and sigev_value', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('sig'), aio_nbytes: 3, aio_sigevent: { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: 'v' } });
      const listener = mustCall((name: string, info?: SigInfo) => {
        expect(name).toBe('SIGUSR2');
        expect(info).toEqual({ si_signo: osConstants.signals.SIGUSR2, si_code: SI_ASYNCIO, si_value: 'v' });
        expect(aio_error(cb)).toBe(0);
      });
      process.on('SIGUSR2', listener);
      try {
        expect(aio_write(cb)).toBe(0);
        expect(listener.calls).toBe(0);
        await settle(cb);
        await flush();
      } finally {
        process.removeListener('SIGUSR2', listener);
      }
      expect(aio_return(cb)).toBe(3);
    });

    test('notifies a failed write exactly once, after aio_error shows the failure', async () => {
      const fd = track(fs.openSync('/dev/full', 'w'));
      const cb: AioControlBlock = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
      const fn = mustCall(() => {
        expect(aio_error(cb)).toBe(ENOSPC);
      });
      cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn };
      expect(aio_write(cb)).toBe(0);
      expect(fn.calls).toBe(0);
      await settle(cb);
      await flush();
      expect(aio_return(cb)).toBe(-1);
    });
  });
});
