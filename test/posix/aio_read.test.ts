/**
 * aio_read(3): RETURN VALUE and ERRORS, the rules SPEC §2 fixes, and the LTP,
 * glibc and FreeBSD checks that concern it (research/posix-aio.md A.3, B.1-B.4).
 */
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import {
  AIO_CANCELED,
  AioControlBlock,
  EAGAIN,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EINVAL,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WRITE,
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SI_ASYNCIO,
  _SC_AIO_MAX,
  _SC_PRIORITIZED_IO,
  aio_cancel,
  aio_error,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lio_listio,
  lastError,
  sysconf,
  type Aiocb,
  type SigInfo,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { dropHeld, expectFailure, expectNeverSubmitted, hold, settle } from '../helpers/aio';
import { cleanup, fifo, tmpFile } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall, mustNotCall } from '../helpers/mustcall';

function fill(n: number, f: (i: number) => number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = f(i) & 0xff;
  return b;
}

describe('aio_read', () => {
  afterEach(async () => {
    await dropHeld();
  });

  afterAll(() => {
    cleanup();
  });

  describe('RETURN VALUE', () => {
    test('LTP aio_read/1-1: reads 256 bytes at offset 512 into the buffer and reports them', async () => {
      const content = fill(1024, (i) => 1 + Math.floor(i / 256));
      const { fd } = tmpFile(content);
      const buf = Buffer.alloc(256);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 256, aio_offset: 512 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(256);
      expect(buf).toEqual(content.subarray(512, 768));
      expect(buf.every((b) => b === 3)).toBe(true);
    });

    test('LTP aio_read/3-1: the control block is usable with aio_error and aio_return', async () => {
      const content = fill(111, (i) => i);
      const { fd } = tmpFile(content);
      const buf = Buffer.alloc(111);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 111 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(111);
      expect(buf).toEqual(content);
    });

    test('LTP aio_read/3-2: a read beyond the end of file returns the short count', async () => {
      const { fd } = tmpFile(fill(512, () => 7));
      const buf = Buffer.alloc(1024);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 1024 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(512);
      expect(buf.subarray(0, 512).every((b) => b === 7)).toBe(true);
      expect(buf.subarray(512).every((b) => b === 0)).toBe(true);
    });

    test('LTP aio_read/4-1: reads at aio_offset, as if lseek(SEEK_SET) preceded it', async () => {
      const { fd } = tmpFile(fill(1024, (i) => (i < 512 ? 1 : 2)));
      const buf = Buffer.alloc(512);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 512, aio_offset: 512 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(512);
      expect(buf.every((b) => b === 2)).toBe(true);
    });

    test('LTP aio_read/5-1: aio_lio_opcode is ignored (LIO_WRITE still reads)', async () => {
      const content = fill(111, (i) => 0x40 + (i % 26));
      const { fd, path } = tmpFile(content);
      const buf = Buffer.alloc(111);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 111, aio_lio_opcode: LIO_WRITE });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(111);
      expect(buf).toEqual(content);
      expect(fs.readFileSync(path)).toEqual(content);
      expect(cb.aio_lio_opcode).toBe(LIO_WRITE);
    });

    test('LTP aio_read/7-1: a read on an empty file is queued (returns 0) and completes', async () => {
      const { fd } = tmpFile('');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(111), aio_nbytes: 111 });
      expect(aio_read(cb)).toBe(0);
      expect(aio_error(cb)).toBe(EINPROGRESS);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(0);
    });

    test('returns 0 for a read entirely past the end of file', async () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(16), aio_nbytes: 16, aio_offset: 100 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(0);
    });

    test('accepts a null aio_buf with aio_nbytes 0 and completes with 0', async () => {
      const { fd } = tmpFile('abc');
      const cb = { aio_fildes: fd, aio_buf: null, aio_nbytes: 0 };
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(0);
    });

    test('reads into a Buffer that is a slice of a larger pool, at the slice', async () => {
      const { fd } = tmpFile('hello world');
      const backing = Buffer.alloc(32, 0xee);
      const view = backing.subarray(10, 15);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: view, aio_nbytes: 5, aio_offset: 6 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(5);
      expect(backing.subarray(10, 15).toString()).toBe('world');
      expect(backing.subarray(0, 10).every((b) => b === 0xee)).toBe(true);
      expect(backing.subarray(15).every((b) => b === 0xee)).toBe(true);
    });

    test('reads into a Uint16Array: aio_nbytes counts bytes and they land at its byteOffset', async () => {
      const { fd } = tmpFile(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
      const ab = new ArrayBuffer(16);
      const view = new Uint16Array(ab, 2, 4);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: view, aio_nbytes: 8 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(8);
      expect([...new Uint8Array(ab)]).toEqual([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0]);
    });

    test('reads into a DataView: bytes land at the view byteOffset', async () => {
      const { fd } = tmpFile(Buffer.from('ABCDEFGH'));
      const ab = new ArrayBuffer(16);
      const view = new DataView(ab, 5, 6);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: view, aio_nbytes: 6, aio_offset: 1 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(6);
      expect(Buffer.from(ab).toString('latin1')).toBe('\0\0\0\0\0BCDEFG\0\0\0\0\0');
    });

    test('accepts a bigint aio_offset and reads at that position', async () => {
      const { fd } = tmpFile('0123456789');
      const buf = Buffer.alloc(4);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: buf, aio_nbytes: 4, aio_offset: 3n });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(4);
      expect(buf.toString()).toBe('3456');
    });

    test('reaches the file with a bigint offset past 2^53 (fs.read addresses it): 0 bytes past EOF', async () => {
      const { fd } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 2n ** 60n });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(0);
    });

    test('ignores a negative aio_offset on a FIFO', async () => {
      const f = fifo();
      fs.writeSync(f.peer, 'xyz');
      const buf = Buffer.alloc(3);
      const cb = new AioControlBlock({ aio_fildes: f.fd, aio_buf: buf, aio_nbytes: 3, aio_offset: -1 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(3);
      expect(buf.toString()).toBe('xyz');
    });

    test('a buffer detached while the request is queued fails it with EFAULT (C would fault on the address), small or bounced, and nothing else', async () => {
      const prevThreads = engine().maxInFlight;
      aio_init({ aio_threads: 1 });
      try {
        const f = fifo();
        const { fd } = tmpFile(Buffer.alloc(2 << 20, 7));
        const blocker = new AioControlBlock({ aio_fildes: f.fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
        expect(aio_read(blocker)).toBe(0); // holds the only slot until the FIFO has data
        const small = new Uint8Array(new ArrayBuffer(64));
        const big = new Uint8Array(new ArrayBuffer((1 << 20) + 16), 16, 1 << 20); // a bounce candidate
        const fine = Buffer.alloc(64);
        const cbs = [small, big, fine].map((b) => new AioControlBlock({ aio_fildes: fd, aio_buf: b, aio_nbytes: b.byteLength, aio_offset: 4096 }));
        for (const cb of cbs) expect(aio_read(cb)).toBe(0);
        structuredClone(small.buffer, { transfer: [small.buffer as ArrayBuffer] });
        structuredClone(big.buffer, { transfer: [big.buffer as ArrayBuffer] });
        fs.writeSync(f.peer, 'x');
        await settle(blocker, ...cbs);
        expect(cbs.map((cb) => aio_error(cb))).toEqual([osConstants.errno.EFAULT, osConstants.errno.EFAULT, 0]);
        expect(cbs.map((cb) => aio_return(cb))).toEqual([-1, -1, 64]);
        expect(fine.every((b) => b === 7)).toBe(true);
      } finally {
        aio_init({ aio_threads: prevThreads });
      }
    });

    test('queued requests go to the thread pool by aio_reqprio, then in submission order (aio_write and lio_listio entries alike)', async () => {
      const held = hold(1, new HeldBackend().open(1000).open(1001));
      const mk = (fd: number, offset: number, prio: number, opcode = LIO_READ): AioControlBlock =>
        new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_reqprio: prio, aio_lio_opcode: opcode });
      const first = mk(1000, 0, 20);
      expect(aio_read(first)).toBe(0); // takes the only slot
      const cbs = [mk(1000, 100, 5), mk(1000, 200, 0), mk(1000, 300, 20), mk(1001, 400, 0), mk(1000, 500, 5)];
      expect(aio_read(cbs[0] as AioControlBlock)).toBe(0);
      expect(aio_write(cbs[1] as AioControlBlock)).toBe(0);
      expect(aio_read(cbs[2] as AioControlBlock)).toBe(0);
      expect(lio_listio(LIO_NOWAIT, [cbs[3] as AioControlBlock, cbs[4] as AioControlBlock], 2)).toBe(0);
      while (held.pending.length > 0) {
        held.releaseNext();
        await flush(1);
      }
      await settle(first, ...cbs);
      expect(held.log.map((o) => `${o.op} ${o.fd}@${String(o.position)}`)).toEqual(['read 1000@0', 'write 1000@200', 'read 1001@400', 'read 1000@100', 'read 1000@500', 'read 1000@300']);
    });

    test('accepts aio_reqprio AIO_PRIO_DELTA_MAX (20)', async () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_reqprio: 20 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(3);
    });

    test('accepts a plain object with the aiocb fields', async () => {
      const { fd } = tmpFile('plain');
      const buf = Buffer.alloc(5);
      const cb = { aio_fildes: fd, aio_offset: 0, aio_buf: buf, aio_nbytes: 5, aio_reqprio: 0, aio_sigevent: { sigev_notify: SIGEV_NONE }, aio_lio_opcode: LIO_READ };
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(5);
      expect(buf.toString()).toBe('plain');
    });

    test('never writes into the control block (all seven fields unchanged)', async () => {
      const { fd } = tmpFile('0123456789');
      const sigev = { sigev_notify: SIGEV_NONE };
      const buf = Buffer.alloc(4);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_offset: 2, aio_buf: buf, aio_nbytes: 4, aio_reqprio: 3, aio_sigevent: sigev, aio_lio_opcode: LIO_WRITE });
      const snapshot = (): Record<string, unknown> => ({ ...cb, aio_sigevent: { ...cb.aio_sigevent } });
      const before = snapshot();
      const keys = Object.keys(cb);
      expect(aio_read(cb)).toBe(0);
      expect(snapshot()).toEqual(before);
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(4);
      const after = snapshot();
      expect(after).toEqual(before);
      expect(Object.keys(cb)).toEqual(keys);
      expect(cb.aio_buf).toBe(buf);
      expect(cb.aio_sigevent).toBe(sigev);
      expect(cb.aio_lio_opcode).toBe(LIO_WRITE);
      expect(cb.aio_reqprio).toBe(3);
      expect(cb.aio_offset).toBe(2);
      expect(cb.aio_nbytes).toBe(4);
      expect(cb.aio_fildes).toBe(fd);
    });

    test('glibc tst-aio: ten reads at distinct offsets, waited with a shrinking aio_suspend list', async () => {
      const content = Buffer.concat(Array.from({ length: 10 }, (_, i) => Buffer.alloc(100, 0x30 + i)));
      const { fd } = tmpFile(content);
      const cbs = Array.from({ length: 10 }, (_, i) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(100), aio_nbytes: 100, aio_offset: i * 100 }));
      // Submitted in reverse order, as tst-aio does.
      for (let i = 9; i >= 0; i--) expect(aio_read(cbs[i] as AioControlBlock)).toBe(0);
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
      cbs.forEach((cb, i) => expect((cb.aio_buf as Buffer).every((b) => b === 0x30 + i)).toBe(true));
    });

    test.each(['poll', 'suspend', 'thread'])('FreeBSD aio_test file_%s: a 16 KiB random buffer written then read back is identical', async (style) => {
      const { fd } = tmpFile('');
      const data = fill(16384, () => Math.floor(Math.random() * 256));
      const back = Buffer.alloc(16384);
      const complete = async (cb: AioControlBlock, submit: (cb: AioControlBlock) => number): Promise<number> => {
        if (style === 'thread') {
          const done = new Promise<void>((resolve) => {
            cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: mustCall(() => resolve()) };
          });
          expect(submit(cb)).toBe(0);
          await done;
        } else {
          expect(submit(cb)).toBe(0);
          if (style === 'suspend') expect(await aio_suspend([cb], 1)).toBe(0);
          else await settle(cb);
        }
        expect(aio_error(cb)).toBe(0);
        return aio_return(cb);
      };
      expect(await complete(new AioControlBlock({ aio_fildes: fd, aio_buf: data, aio_nbytes: 16384 }), aio_write)).toBe(16384);
      expect(await complete(new AioControlBlock({ aio_fildes: fd, aio_buf: back, aio_nbytes: 16384 }), aio_read)).toBe(16384);
      expect(back.equals(data)).toBe(true);
    });

    test('FreeBSD aio_test fifo_poll: 256 bytes written to a FIFO are read back identical', async () => {
      const f = fifo();
      const data = fill(256, () => Math.floor(Math.random() * 256));
      const back = Buffer.alloc(256);
      const w = new AioControlBlock({ aio_fildes: f.fd, aio_buf: data, aio_nbytes: 256 });
      const r = new AioControlBlock({ aio_fildes: f.fd, aio_buf: back, aio_nbytes: 256 });
      expect(aio_write(w)).toBe(0);
      expect(aio_read(r)).toBe(0);
      await settle(w, r);
      expect(aio_return(w)).toBe(256);
      expect(aio_return(r)).toBe(256);
      expect(back.equals(data)).toBe(true);
    });

    test('FreeBSD aio_socket_two_reads (FIFO): one byte completes exactly one read; the other stays queued and is canceled', async () => {
      const a = fifo();
      const b = fifo();
      const prevThreads = engine().maxInFlight;
      aio_init({ aio_threads: 1 });
      try {
        const first = new AioControlBlock({ aio_fildes: a.fd, aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
        const other = new AioControlBlock({ aio_fildes: b.fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
        const second = new AioControlBlock({ aio_fildes: a.fd, aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
        expect(aio_read(first)).toBe(0);
        // Takes the only slot when `first` completes, so that `second` stays queued (cancelable).
        expect(aio_read(other)).toBe(0);
        expect(aio_read(second)).toBe(0);
        fs.writeSync(a.peer, 'x');
        expect(await aio_suspend([first, second], 2)).toBe(0);
        expect(aio_error(first)).toBe(0);
        expect(aio_return(first)).toBe(1);
        expect(aio_error(second)).toBe(EINPROGRESS);
        expect(aio_cancel(a.fd, second)).toBe(AIO_CANCELED);
        fs.writeSync(b.peer, 'y');
        await settle(second, other);
        expect(aio_return(second)).toBe(-1);
        expect(aio_return(other)).toBe(1);
      } finally {
        aio_init({ aio_threads: prevThreads });
      }
    });
  });

  describe('ERRORS', () => {
    test('LTP aio_read/8-1: aio_reqprio -1 on a zeroed block fails (prioritized I/O is supported)', () => {
      expect(sysconf(_SC_PRIORITIZED_IO)).toBeGreaterThanOrEqual(200112);
      const cb = { aio_fildes: 0, aio_offset: 0, aio_buf: null, aio_nbytes: 0, aio_reqprio: -1 };
      expect(aio_read(cb)).toBe(-1);
    });

    test('LTP aio_read/9-1: reads are refused with EAGAIN once AIO_MAX are outstanding', async () => {
      const max = sysconf(_SC_AIO_MAX);
      expect(max).not.toBe(-1);
      const { fd } = tmpFile(Buffer.alloc(512));
      const accepted: AioControlBlock[] = [];
      let failedAt = -1;
      for (let i = 0; i < 1024; i++) {
        const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512), aio_nbytes: 512 });
        if (aio_read(cb) === -1) {
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

    test('LTP aio_read/10-1: a descriptor of -1 is accepted and fails later with EBADF', async () => {
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test('LTP aio_read/11-1: aio_offset -1 on a regular file is EINVAL (never "the current position")', () => {
      const { fd } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: -1 });
      expectFailure(aio_read(cb), EINVAL, 'aiocbp.aio_offset');
      expectNeverSubmitted(cb);
    });

    test('LTP aio_read/11-2: aio_reqprio -1 on a valid descriptor is -1/EINVAL', () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_reqprio: -1 });
      expectFailure(aio_read(cb), EINVAL, 'aiocbp.aio_reqprio');
    });

    test.each([-2, -4096, Number.MIN_SAFE_INTEGER, -1n, -(2n ** 63n)])('fails with EINVAL for aio_offset %p on a regular file', (offset) => {
      const { fd } = tmpFile('0123456789');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: offset });
      expectFailure(aio_read(cb), EINVAL, 'aiocbp.aio_offset');
      expectNeverSubmitted(cb);
    });

    test.each([-1, 21, 1000])('fails with EINVAL for aio_reqprio %p and leaves a never-submitted block never submitted', (prio) => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_reqprio: prio });
      expectFailure(aio_read(cb), EINVAL, 'aiocbp.aio_reqprio');
      expectNeverSubmitted(cb);
    });

    test('a refused submission leaves the status of the request the block carried before', async () => {
      const { fd } = tmpFile('abc');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      cb.aio_reqprio = 21;
      expectFailure(aio_read(cb), EINVAL, 'aiocbp.aio_reqprio');
      expect(aio_error(cb)).toBe(0);
      cb.aio_reqprio = -1;
      expectFailure(aio_read(cb), EINVAL, 'aiocbp.aio_reqprio');
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(3);
    });

    test('fails with EINVAL when the block is still in progress, and the first request is unaffected', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const cb = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
      expect(aio_read(cb)).toBe(0);
      expect(held.pending).toHaveLength(1);
      expectFailure(aio_read(cb), EINVAL, 'aiocbp');
      expect(aio_error(cb)).toBe(EINPROGRESS);
      expect(held.log).toHaveLength(1);
      held.releaseNext({ bytes: 5 });
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(5);
      // Once complete, the block may carry a new request.
      expect(aio_read(cb)).toBe(0);
      held.releaseNext();
      await settle(cb);
      expect(aio_return(cb)).toBe(8);
    });

    test('fails with EAGAIN when aio_init({ aio_max }) outstanding requests are reached', async () => {
      const { fd } = tmpFile('abcdef');
      aio_init({ aio_max: 2 });
      try {
        const a = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2 });
        const b = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2, aio_offset: 2 });
        const c = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2, aio_offset: 4 });
        expect(aio_read(a)).toBe(0);
        expect(aio_read(b)).toBe(0);
        expectFailure(aio_read(c), EAGAIN);
        expect(lastError()).toMatchObject({ code: 'EAGAIN' });
        expectNeverSubmitted(c);
        await settle(a, b);
        // Completed requests no longer count.
        expect(aio_read(c)).toBe(0);
        await settle(c);
        expect((c.aio_buf as Buffer).toString()).toBe('ef');
      } finally {
        aio_init({ aio_max: 512 });
      }
      expect(sysconf(_SC_AIO_MAX)).toBe(512);
    });

    test('accepts a closed descriptor number and fails later with EBADF', async () => {
      const { fd } = tmpFile('abc');
      fs.closeSync(fd);
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test('accepts a descriptor open only for writing and fails later with EBADF', async () => {
      const { fd } = tmpFile('abc', 'w');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test.each([
      ['-1', (): number => -1],
      ['a closed descriptor number', (): number => {
        const { fd } = tmpFile('abc');
        fs.closeSync(fd);
        return fd;
      }],
      ['a descriptor open only for writing', (): number => tmpFile('abc', 'w').fd],
    ])('reports EBADF for a zero-length read on %s (the read reaches the kernel)', async (_what, open) => {
      const cb = new AioControlBlock({ aio_fildes: open(), aio_buf: Buffer.alloc(4), aio_nbytes: 0 });
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    });

    test.each([
      ['aiocbp.aio_buf', { aio_buf: 'abc' }],
      ['aiocbp.aio_buf', { aio_buf: [1, 2, 3] }],
      ['aiocbp.aio_buf', { aio_buf: new ArrayBuffer(8) }],
      ['aiocbp.aio_fildes', { aio_fildes: '3' }],
      ['aiocbp.aio_nbytes', { aio_nbytes: '4' }],
      ['aiocbp.aio_offset', { aio_offset: '0' }],
      ['aiocbp.aio_reqprio', { aio_reqprio: '0' }],
      ['aiocbp.aio_sigevent', { aio_sigevent: 'SIGEV_NONE' }],
      ['aiocbp.aio_sigevent.sigev_notify', { aio_sigevent: { sigev_notify: 'SIGEV_NONE' } }],
      ['aiocbp.aio_sigevent.sigev_notify_function', { aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: 'f' } }],
    ])('throws TypeError ERR_INVALID_ARG_TYPE naming %s for a value of the wrong type', (field, patch) => {
      const { fd } = tmpFile('abcd');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, ...patch };
      let thrown: unknown;
      try {
        aio_read(cb as unknown as Aiocb);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(TypeError);
      expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' });
      expect((thrown as Error).message).toContain(field);
      expectNeverSubmitted(cb as unknown as Aiocb);
    });

    test.each([null, undefined, 42, 'cb'])('throws TypeError ERR_INVALID_ARG_TYPE naming "aiocbp" for %p', (cb) => {
      expect(() => aio_read(cb as unknown as Aiocb)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('aiocbp') }));
    });

    test('throws TypeError naming aiocbp.aio_buf for a null buffer with aio_nbytes > 0', () => {
      const { fd } = tmpFile('abcd');
      expect(() => aio_read({ aio_fildes: fd, aio_buf: null, aio_nbytes: 4 })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('aiocbp.aio_buf') }));
    });

    test.each([
      ['larger than the buffer', Buffer.alloc(8), 9],
      ['larger than a Uint16Array in bytes', new Uint16Array(4), 9],
      ['negative', Buffer.alloc(8), -1],
      ['fractional', Buffer.alloc(8), 1.5],
      ['NaN', Buffer.alloc(8), NaN],
      ['Infinity', Buffer.alloc(8), Infinity],
    ])('throws RangeError ERR_OUT_OF_RANGE naming aiocbp.aio_nbytes when it is %s', (_what, buf, nbytes) => {
      const { fd } = tmpFile('abcdefgh');
      const cb = { aio_fildes: fd, aio_buf: buf, aio_nbytes: nbytes };
      expect(() => aio_read(cb)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('aiocbp.aio_nbytes') }));
      expectNeverSubmitted(cb);
    });

    test.each([2 ** 53, 1.5, NaN, -Infinity])('throws RangeError ERR_OUT_OF_RANGE naming aiocbp.aio_offset for the number %p', (offset) => {
      const { fd } = tmpFile('abcdefgh');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: offset };
      expect(() => aio_read(cb)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE', message: expect.stringContaining('aiocbp.aio_offset') }));
      expectNeverSubmitted(cb);
    });

    test.each([
      ['an unknown sigev_notify (99)', { sigev_notify: 99 }, 'sigev_notify'],
      ['SIGEV_THREAD without a function', { sigev_notify: SIGEV_THREAD }, 'sigev_notify_function'],
      ['SIGEV_SIGNAL with signal 0', { sigev_notify: SIGEV_SIGNAL, sigev_signo: 0 }, 'sigev_signo'],
      ['SIGEV_SIGNAL with signal 65', { sigev_notify: SIGEV_SIGNAL, sigev_signo: 65 }, 'sigev_signo'],
      ['SIGEV_SIGNAL with an unknown name', { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGNOPE' }, 'sigev_signo'],
      ['SIGEV_SIGNAL without a signal', { sigev_notify: SIGEV_SIGNAL }, 'sigev_signo'],
    ])('fails with EINVAL for %s', (_what, sigev, field) => {
      const { fd } = tmpFile('abcd');
      const cb = { aio_fildes: fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_sigevent: sigev };
      expectFailure(aio_read(cb), EINVAL, `aiocbp.aio_sigevent.${field}`);
      expectNeverSubmitted(cb);
    });

    test('lastError() explains an EINVAL: an Error with code, positive errno and the field', () => {
      const { fd } = tmpFile('abc');
      expect(aio_read({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_reqprio: 21 })).toBe(-1);
      const err = lastError();
      expect(err).toBeInstanceOf(Error);
      expect(err).toMatchObject({ code: 'EINVAL', errno: EINVAL });
      expect(EINVAL).toBeGreaterThan(0);
      expect(err?.message).toContain('aiocbp.aio_reqprio');
    });

    test('errno() keeps its value until the next failing call', async () => {
      const { fd } = tmpFile('abc');
      expect(aio_read({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_offset: -1 })).toBe(-1);
      expect(errno()).toBe(EINVAL);
      const ok = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
      expect(aio_read(ok)).toBe(0);
      expect(errno()).toBe(EINVAL);
      await settle(ok);
      expect(aio_return(ok)).toBe(3);
      expect(errno()).toBe(EINVAL);
      aio_init({ aio_max: 1 });
      try {
        const a = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 });
        expect(aio_read(a)).toBe(0);
        expect(aio_read(new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 }))).toBe(-1);
        expect(errno()).toBe(EAGAIN);
        await settle(a);
      } finally {
        aio_init({ aio_max: 512 });
      }
    });
  });

  describe('notification', () => {
    test('SIGEV_THREAD runs once, after the call has returned, with the status already final', async () => {
      const { fd } = tmpFile('hello');
      let returned = false;
      const cb: AioControlBlock = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(5), aio_nbytes: 5 });
      const fn = mustCall((value: unknown) => {
        expect(returned).toBe(true);
        expect(value).toBe('tag');
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(5);
      });
      cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: 'tag' };
      expect(aio_read(cb)).toBe(0);
      returned = true;
      expect(fn.calls).toBe(0);
      await settle(cb);
      await flush();
      expect(fn.calls).toBe(1);
    });

    test('SIGEV_THREAD for a deferred EBADF is never delivered inside aio_read', async () => {
      const fn = mustCall((value: unknown) => {
        expect(value).toBe(7);
      });
      const cb = new AioControlBlock({ aio_fildes: -1, aio_buf: Buffer.alloc(1), aio_nbytes: 1, aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: 7 } });
      expect(aio_read(cb)).toBe(0);
      expect(fn.calls).toBe(0);
      await settle(cb);
      await flush();
      expect(aio_error(cb)).toBe(EBADF);
    });

    test('SIGEV_THREAD for a deferred EBADF is not delivered inside an aio_read called from another notification', async () => {
      const { fd } = tmpFile('hello');
      const order: string[] = [];
      let inside = false;
      const bad = new AioControlBlock({
        aio_fildes: -1,
        aio_buf: Buffer.alloc(1),
        aio_nbytes: 1,
        aio_sigevent: {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: mustCall(() => {
            expect(inside).toBe(false);
            order.push('bad');
          }),
        },
      });
      const first = new AioControlBlock({
        aio_fildes: fd,
        aio_buf: Buffer.alloc(5),
        aio_nbytes: 5,
        aio_sigevent: {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: mustCall(() => {
            order.push('first');
            inside = true;
            expect(aio_read(bad)).toBe(0);
            inside = false;
            order.push('first returned');
          }),
        },
      });
      expect(aio_read(first)).toBe(0);
      // No aio_suspend on `first`: a waiter would make its notification wait for the event loop too.
      for (let i = 0; i < 1000 && order.length < 3; i++) await flush(1);
      expect(order).toEqual(['first', 'first returned', 'bad']);
      expect(aio_error(bad)).toBe(EBADF);
    });

    test('SIGEV_SIGNAL emits the signal on process with a siginfo carrying SI_ASYNCIO and sigev_value', async () => {
      const { fd } = tmpFile('hello');
      const value = { id: 1 };
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(5), aio_nbytes: 5, aio_sigevent: { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: value } });
      const listener = mustCall((name: string, info?: SigInfo) => {
        expect(name).toBe('SIGUSR2');
        expect(info).toEqual({ si_signo: osConstants.signals.SIGUSR2, si_code: SI_ASYNCIO, si_value: value });
        expect(info?.si_value).toBe(value);
        expect(aio_error(cb)).toBe(0);
      });
      process.on('SIGUSR2', listener);
      try {
        expect(aio_read(cb)).toBe(0);
        expect(listener.calls).toBe(0);
        await settle(cb);
        await flush();
      } finally {
        process.removeListener('SIGUSR2', listener);
      }
      expect(aio_return(cb)).toBe(5);
    });

    test('SIGEV_SIGNAL accepts the signal number and emits its name', async () => {
      const { fd } = tmpFile('x');
      const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1, aio_sigevent: { sigev_notify: SIGEV_SIGNAL, sigev_signo: osConstants.signals.SIGUSR2, sigev_value: 42 } });
      const listener = mustCall((name: string, info?: SigInfo) => {
        expect(name).toBe('SIGUSR2');
        expect(info).toMatchObject({ si_signo: osConstants.signals.SIGUSR2, si_code: SI_ASYNCIO, si_value: 42 });
      });
      process.on('SIGUSR2', listener);
      try {
        expect(aio_read(cb)).toBe(0);
        await settle(cb);
        await flush();
      } finally {
        process.removeListener('SIGUSR2', listener);
      }
    });

    test('SIGEV_NONE notifies nobody and still sets the status', async () => {
      const { fd } = tmpFile('abc');
      const listener = mustNotCall<[string]>('no signal expected');
      process.on('SIGUSR2', listener);
      try {
        const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_sigevent: { sigev_notify: SIGEV_NONE, sigev_signo: 'SIGUSR2' } });
        expect(aio_read(cb)).toBe(0);
        await settle(cb);
        await flush();
        expect(aio_return(cb)).toBe(3);
      } finally {
        process.removeListener('SIGUSR2', listener);
      }
    });

    test('notifies a canceled read exactly once, with aio_error already ECANCELED', async () => {
      const held = hold(1, new HeldBackend().open(1000));
      const first = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
      const second: AioControlBlock = new AioControlBlock({ aio_fildes: 1000, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 4 });
      const fn = mustCall(() => {
        expect(aio_error(second)).toBe(ECANCELED);
      });
      second.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn };
      expect(aio_read(first)).toBe(0);
      expect(aio_read(second)).toBe(0);
      expect(aio_cancel(1000, second)).toBe(AIO_CANCELED);
      expect(fn.calls).toBe(0);
      await flush();
      expect(fn.calls).toBe(1);
      held.releaseNext();
      await settle(first);
      expect(aio_return(second)).toBe(-1);
    });
  });
});
