/**
 * nng_file_read / nng_file_write / nng_file_fsync / nng_file_fdatasync (SPEC §3
 * "File operations"): real files, a FIFO, /dev/full and a read-only descriptor for
 * integration; the held backend for queued-versus-in-flight cancel and timeout.
 */
import * as fs from 'node:fs';
import {
  EBADF,
  EIO,
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_EAGAIN,
  NNG_ECANCELED,
  NNG_ECLOSED,
  NNG_EINVAL,
  NNG_ENOSPC,
  NNG_ESTATE,
  NNG_ESTOPPED,
  NNG_ESYSERR,
  NNG_ETIMEDOUT,
  aio_cancel,
  type NngAio,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_begin,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_get_input,
  nng_aio_get_msg,
  nng_aio_get_output,
  nng_aio_result,
  nng_aio_set_input,
  nng_aio_set_iov,
  nng_aio_set_msg,
  nng_aio_set_output,
  nng_aio_set_timeout,
  nng_aio_stop,
  nng_aio_wait,
  nng_clock,
  nng_file_fdatasync,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { HeldBackend } from '../helpers/held-backend';
import { cleanup, fifo, tmpFile, track } from '../helpers/files';
import { flush, mustCall, sleep } from '../helpers/mustcall';

afterAll(cleanup);

function withIov(aio: NngAio, ...bufs: Uint8Array[]): void {
  expect(nng_aio_set_iov(aio, bufs.length, bufs.map((b) => ({ iov_buf: b, iov_len: b.byteLength })))).toBe(0);
}

async function run(start: (aio: NngAio) => void, bufs: Uint8Array[] = []): Promise<{ result: number; count: number }> {
  const aio = nng_aio_alloc(mustCall());
  if (bufs.length > 0) withIov(aio, ...bufs);
  start(aio);
  await nng_aio_wait(aio);
  const out = { result: nng_aio_result(aio), count: nng_aio_count(aio) };
  nng_aio_free(aio);
  return out;
}

describe('nng_file_read', () => {
  test('clears result, count and outputs when it starts; the iov, msg and inputs persist, so a second read reuses the iov', async () => {
    const { fd } = tmpFile('abcdefgh');
    const buf = Buffer.alloc(4);
    const aio = nng_aio_alloc(mustCall(() => {}, 3));
    withIov(aio, buf);
    nng_aio_set_msg(aio, 'msg');
    nng_aio_set_input(aio, 2, 'input');
    // A finished operation leaves a result, a count and an output behind.
    nng_aio_begin(aio);
    nng_aio_set_output(aio, 3, 'output');
    nng_aio_finish(aio, NNG_ESTATE, 7);
    await nng_aio_wait(aio);
    nng_file_read(fd, 4, aio);
    expect([nng_aio_result(aio), nng_aio_count(aio), nng_aio_get_output(aio, 3)]).toEqual([0, 0, null]);
    await nng_aio_wait(aio);
    expect([nng_aio_result(aio), nng_aio_count(aio), buf.toString()]).toEqual([0, 4, 'efgh']);
    nng_file_read(fd, 0, aio);
    await nng_aio_wait(aio);
    expect([nng_aio_result(aio), nng_aio_count(aio), buf.toString()]).toEqual([0, 4, 'abcd']);
    expect([nng_aio_get_msg(aio), nng_aio_get_input(aio, 2)]).toEqual(['msg', 'input']);
    nng_aio_free(aio);
  });

  test('reads into the iov at the offset; count is the bytes read', async () => {
    const { fd } = tmpFile('hello world');
    const buf = Buffer.alloc(5);
    expect(await run((aio) => nng_file_read(fd, 6, aio), [buf])).toEqual({ result: 0, count: 5 });
    expect(buf.toString()).toBe('world');
  });

  test('scatters one read over several entries', async () => {
    const { fd } = tmpFile('abcdefgh');
    const a = Buffer.alloc(3);
    const b = Buffer.alloc(5);
    expect(await run((aio) => nng_file_read(fd, 0, aio), [a, b])).toEqual({ result: 0, count: 8 });
    expect(a.toString() + b.toString()).toBe('abcdefgh');
  });

  test('uses only iov_len bytes of each buffer', async () => {
    const { fd } = tmpFile('abcdef');
    const buf = Buffer.alloc(6, '.');
    const r = await run((aio) => {
      nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: 2 }]);
      nng_file_read(fd, 0, aio);
    });
    expect(r).toEqual({ result: 0, count: 2 });
    expect(buf.toString()).toBe('ab....');
  });

  test('is short near the end of the file and 0 at its end', async () => {
    const { fd } = tmpFile('abc');
    expect(await run((aio) => nng_file_read(fd, 1, aio), [Buffer.alloc(10)])).toEqual({ result: 0, count: 2 });
    expect(await run((aio) => nng_file_read(fd, 3, aio), [Buffer.alloc(10)])).toEqual({ result: 0, count: 0 });
  });

  test('accepts a bigint offset', async () => {
    const { fd } = tmpFile('0123456789');
    const buf = Buffer.alloc(3);
    expect(await run((aio) => nng_file_read(fd, 7n, aio), [buf])).toEqual({ result: 0, count: 3 });
    expect(buf.toString()).toBe('789');
  });

  test('fails with NNG_EINVAL through the callback for a negative offset', async () => {
    const { fd } = tmpFile('abc');
    let after = false;
    const aio = nng_aio_alloc(mustCall(() => expect(after).toBe(true), 2));
    withIov(aio, Buffer.alloc(1));
    nng_file_read(fd, -1, aio);
    after = true;
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_EINVAL);
    nng_file_read(fd, -1n, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_EINVAL);
    nng_aio_free(aio);
  });

  test('fails with NNG_ECLOSED on a descriptor that is not open', async () => {
    const { fd } = tmpFile('abc');
    fs.closeSync(fd);
    expect(await run((aio) => nng_file_read(fd, 0, aio), [Buffer.alloc(1)])).toEqual({ result: NNG_ECLOSED, count: 0 });
  });

  test('throws a TypeError for an fd or offset of the wrong type', () => {
    const aio = nng_aio_alloc();
    expect(() => nng_file_read('3' as never, 0, aio)).toThrow(TypeError);
    expect(() => nng_file_read(3, '0' as never, aio)).toThrow(TypeError);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
  });

  test('a read held in the thread pool by a FIFO: the timeout cannot take it back; it completes with its real result', async () => {
    const { fd, peer } = fifo();
    const buf = Buffer.alloc(16);
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, buf);
    nng_aio_set_timeout(aio, 30);
    nng_file_read(fd, 0, aio);
    await sleep(100);
    expect(nng_aio_busy(aio)).toBe(true);
    fs.writeSync(peer, 'late');
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(4);
    expect(buf.subarray(0, 4).toString()).toBe('late');
    nng_aio_free(aio);
  });
});

describe('nng_file_write', () => {
  test('writes the whole iov at the offset; count is its length', async () => {
    const { fd, path } = tmpFile('..........');
    expect(await run((aio) => nng_file_write(fd, 2, aio), [Buffer.from('ab'), Buffer.from('cde')])).toEqual({ result: 0, count: 5 });
    expect(fs.readFileSync(path, 'utf8')).toBe('..abcde...');
  });

  test('fails with NNG_ENOSPC on /dev/full', async () => {
    const fd = track(fs.openSync('/dev/full', 'w'));
    expect(await run((aio) => nng_file_write(fd, 0, aio), [Buffer.from('x')])).toEqual({ result: NNG_ENOSPC, count: 0 });
  });

  test('fails with NNG_ECLOSED on a read-only descriptor (EBADF)', async () => {
    const { fd } = tmpFile('abc', 'r');
    expect(await run((aio) => nng_file_write(fd, 0, aio), [Buffer.from('x')])).toEqual({ result: NNG_ECLOSED, count: 0 });
  });

  test('writes to a FIFO, ignoring the offset', async () => {
    const { fd, peer } = fifo();
    expect(await run((aio) => nng_file_write(fd, 12345, aio), [Buffer.from('pipe')])).toEqual({ result: 0, count: 4 });
    const back = Buffer.alloc(4);
    fs.readSync(peer, back);
    expect(back.toString()).toBe('pipe');
  });
});

describe('nng_file_fsync', () => {
  test('completes with 0 and count 0 on a file', async () => {
    const { fd } = tmpFile('abc');
    expect(await run((aio) => nng_file_fsync(fd, aio))).toEqual({ result: 0, count: 0 });
  });

  test('fails with NNG_ECLOSED on a descriptor that is not open', async () => {
    const { fd } = tmpFile('abc');
    fs.closeSync(fd);
    expect(await run((aio) => nng_file_fsync(fd, aio))).toEqual({ result: NNG_ECLOSED, count: 0 });
  });
});

describe('nng_file_fdatasync', () => {
  test('completes with 0 and count 0 after a write', async () => {
    const { fd } = tmpFile('');
    expect((await run((aio) => nng_file_write(fd, 0, aio), [Buffer.from('data')])).result).toBe(0);
    expect(await run((aio) => nng_file_fdatasync(fd, aio))).toEqual({ result: 0, count: 0 });
  });
});

describe('file operations on the held backend', () => {
  let held: HeldBackend;
  let restore: () => void;
  beforeEach(() => {
    held = new HeldBackend().open(1000).open(1001, { seekable: false });
    restore = held.use(1);
  });
  afterEach(async () => {
    restore();
    await flush();
  });

  /** One read held in flight (cap 1), so the next request waits in the queue. */
  function occupy(): NngAio {
    const first = nng_aio_alloc(mustCall());
    withIov(first, Buffer.alloc(4));
    nng_file_read(1000, 0, first);
    expect(held.pending).toHaveLength(1);
    return first;
  }

  test('nng_aio_cancel on a queued read completes it at once with NNG_ECANCELED; it never dispatches', async () => {
    const first = occupy();
    const second = nng_aio_alloc(mustCall());
    withIov(second, Buffer.alloc(4));
    nng_file_read(1000, 100, second);
    nng_aio_cancel(second);
    await flush();
    expect(nng_aio_busy(second)).toBe(false);
    expect(nng_aio_result(second)).toBe(NNG_ECANCELED);
    expect(held.log).toHaveLength(1);
    held.releaseAll();
    await nng_aio_wait(first);
    expect(held.log).toHaveLength(1);
    nng_aio_free(first);
    nng_aio_free(second);
  });

  test.each([
    ['nng_aio_abort(NNG_ESTATE)', (aio: NngAio) => nng_aio_abort(aio, NNG_ESTATE), NNG_ESTATE],
    ['nng_aio_stop', (aio: NngAio) => void nng_aio_stop(aio), NNG_ESTOPPED],
  ])('%s on a queued write completes it at once with its code', async (_name, end, code) => {
    const first = occupy();
    const second = nng_aio_alloc(mustCall());
    withIov(second, Buffer.from('abc'));
    nng_file_write(1000, 100, second);
    end(second);
    await flush();
    expect(nng_aio_result(second)).toBe(code);
    expect(held.log).toHaveLength(1);
    held.releaseAll();
    await nng_aio_wait(first);
    nng_aio_free(first);
    nng_aio_free(second);
  });

  test('a timeout completes a queued read with NNG_ETIMEDOUT, no earlier than the timeout', async () => {
    const first = occupy();
    const second = nng_aio_alloc(mustCall());
    withIov(second, Buffer.alloc(4));
    nng_aio_set_timeout(second, 30);
    const t0 = nng_clock();
    nng_file_read(1000, 100, second);
    await nng_aio_wait(second);
    expect(nng_clock() - t0).toBeGreaterThanOrEqual(30);
    expect(nng_aio_result(second)).toBe(NNG_ETIMEDOUT);
    expect(held.log).toHaveLength(1);
    held.releaseAll();
    await nng_aio_wait(first);
    nng_aio_free(first);
    nng_aio_free(second);
  });

  test('a cancel or timeout of a read in flight is declined: it completes on release with its real result', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.alloc(8));
    nng_aio_set_timeout(aio, 10);
    nng_file_read(1000, 0, aio);
    nng_aio_cancel(aio);
    await sleep(40);
    expect(nng_aio_busy(aio)).toBe(true);
    held.releaseNext({ bytes: 6 });
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(6);
    nng_aio_free(aio);
  });

  test('free during a read in flight: the callback runs once, only after the system call returns', async () => {
    const cb = mustCall();
    const aio = nng_aio_alloc(cb);
    withIov(aio, Buffer.alloc(8));
    nng_file_read(1000, 0, aio);
    nng_aio_free(aio);
    await flush();
    expect(cb.calls).toBe(0);
    held.releaseNext({ bytes: 8 });
    await flush();
    expect(cb.calls).toBe(1);
  });

  test('NNG_DURATION_ZERO fails with NNG_ETIMEDOUT and never queues the request', async () => {
    const r = await run((aio) => {
      nng_aio_set_timeout(aio, NNG_DURATION_ZERO);
      nng_file_read(1000, 0, aio);
    }, [Buffer.alloc(4)]);
    expect(r).toEqual({ result: NNG_ETIMEDOUT, count: 0 });
    expect(held.log).toHaveLength(0);
  });

  test('after stop, a file operation completes with NNG_ESTOPPED and never queues the request', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.alloc(4));
    await nng_aio_stop(aio);
    nng_file_write(1000, 0, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESTOPPED);
    expect(held.log).toHaveLength(0);
    nng_aio_free(aio);
  });

  test('a short write is resumed with the rest: one callback, count = the whole iov', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.from('abc'), Buffer.from('defg'));
    nng_file_write(1000, 10, aio);
    held.releaseNext({ bytes: 4 });
    await flush();
    expect(held.pending).toHaveLength(1);
    const rest = held.pending[0];
    expect(rest?.position).toBe(14);
    expect(Buffer.concat((rest?.buffers ?? []).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toString()).toBe('efg');
    held.releaseNext();
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(7);
    nng_aio_free(aio);
  });

  test('a cancel declined during a short write\'s first chunk stops before the rest, with the bytes written', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.from('abcdef'));
    nng_file_write(1000, 0, aio);
    nng_aio_cancel(aio);
    held.releaseNext({ bytes: 2 });
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECANCELED);
    expect(nng_aio_count(aio)).toBe(2);
    expect(held.log).toHaveLength(1);
    nng_aio_free(aio);
  });

  test('a write failing after a partial write reports the bytes written before the failure', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.from('abcdef'));
    nng_file_write(1000, 0, aio);
    held.releaseNext({ bytes: 2 });
    await flush();
    held.releaseNext({ error: 'EIO' });
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESYSERR | EIO);
    expect(nng_aio_count(aio)).toBe(2);
    nng_aio_free(aio);
  });

  test('ignores the offset on a descriptor that cannot seek', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.alloc(4));
    nng_file_read(1001, 500, aio);
    expect(held.pending[0]?.position).toBeNull();
    held.releaseAll();
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    nng_aio_free(aio);
  });

  test('aio_cancel on the descriptor completes a queued nng read with NNG_ECANCELED', async () => {
    const first = occupy();
    const second = nng_aio_alloc(mustCall());
    withIov(second, Buffer.alloc(4));
    nng_aio_set_timeout(second, NNG_DURATION_INFINITE);
    nng_file_read(1000, 100, second);
    aio_cancel(1000, null);
    await flush();
    expect(nng_aio_result(second)).toBe(NNG_ECANCELED);
    held.releaseAll();
    await nng_aio_wait(first);
    nng_aio_free(first);
    nng_aio_free(second);
  });

  test('fails with NNG_EAGAIN through the callback when the outstanding limit is reached', async () => {
    const eng = engine();
    const saved = eng.maxOutstanding;
    eng.maxOutstanding = 1;
    try {
      const first = occupy();
      const r = await run((aio) => nng_file_read(1000, 0, aio), [Buffer.alloc(1)]);
      expect(r).toEqual({ result: NNG_EAGAIN, count: 0 });
      held.releaseAll();
      await nng_aio_wait(first);
      nng_aio_free(first);
    } finally {
      eng.maxOutstanding = saved;
    }
  });

  test('an error from the system call maps through errnoToNng (EBADF → NNG_ECLOSED)', async () => {
    const aio = nng_aio_alloc(mustCall());
    withIov(aio, Buffer.alloc(4));
    nng_file_read(1000, 0, aio);
    held.releaseNext({ error: 'EBADF' });
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ECLOSED);
    expect(EBADF).toBeGreaterThan(0);
    nng_aio_free(aio);
  });
});
