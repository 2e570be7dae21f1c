/**
 * Fault injection (issue 5, part 2): every way the thread pool, the kernel or a
 * broken backend can fail a request, seen through both faces.
 *
 * Injected faults go through the backend seam (fault-backend.ts over real temp files,
 * or the held backend over fake descriptors); real faults use /dev/full, read-only and
 * directory descriptors, a non-blocking FIFO, and a descriptor closed and reused
 * behind the library's back.
 *
 * Set RELIABILITY_COUNTS=1 to print how many faults ran.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import {
  AIO_ALLDONE,
  AioControlBlock,
  EAGAIN,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EINTR,
  EINVAL,
  EIO,
  EISDIR,
  ENOSPC,
  NNG_EAGAIN,
  NNG_ECANCELED,
  NNG_ECLOSED,
  NNG_EINTR,
  NNG_EINVAL,
  NNG_ENOSPC,
  NNG_ESYSERR,
  O_DSYNC,
  O_SYNC,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  aio_cancel,
  aio_close,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_write,
  errno,
  errnoToNng,
  nng_aio_alloc,
  nng_aio_busy,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_aio_wait,
  nng_file_fdatasync,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
  type NngAio,
  type SigEvent,
} from '../../src/index';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { settle } from '../helpers/aio';
import { cleanup, tmpDir, tmpFile, tmpPath, track, untrack } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall, sleep } from '../helpers/mustcall';
import { captureUncaught, FaultBackend, type FaultOp } from './fault-backend';

/** Faults run in this file (injected and real). */
let faultCount = 0;
let restoreBackend: (() => void) | null = null;

function install(fb: FaultBackend, force = false): FaultBackend {
  restoreBackend = fb.use(engine(), force);
  return fb;
}

afterEach(async () => {
  await flush();
  if (restoreBackend !== null) {
    restoreBackend();
    restoreBackend = null;
  }
  aio_init({ aio_threads: DEFAULTS.maxInFlight });
  // A failed test may leave real requests in the thread pool: let them drain, so that
  // the next test starts on an idle engine.
  for (let i = 0; i < 200 && engine().outstanding > 0; i++) await sleep(5);
});

/** Waits (bounded) until the fault backend holds `n` callbacks: the real system calls have returned. */
async function untilHeld(fb: FaultBackend, n: number): Promise<void> {
  for (let i = 0; i < 400 && fb.heldCount < n; i++) await sleep(5);
  expect(fb.heldCount).toBe(n);
}

afterAll(() => {
  cleanup();
  if (process.env['RELIABILITY_COUNTS'] !== undefined) process.stdout.write(`faults.test.ts: ${faultCount} faults\n`);
});

/** The engine is idle again: nothing queued, nothing in the thread pool. */
async function expectIdle(): Promise<void> {
  await flush();
  const c = engine().counters;
  expect({ queued: c.queued, inFlight: c.inFlight }).toEqual({ queued: 0, inFlight: 0 });
}

/** A SIGEV_THREAD sigevent whose function must run exactly once, with `tag`, after aio_error of `cb()` is final. */
function notifyOnce(tag: string, cb: () => AioControlBlock, expected: () => number): SigEvent {
  return {
    sigev_notify: SIGEV_THREAD,
    sigev_value: tag,
    sigev_notify_function: mustCall((v: unknown) => {
      expect(v).toBe(tag);
      expect(aio_error(cb())).toBe(expected());
    }),
  };
}

function block(fd: number, init: Partial<AioControlBlock> = {}): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, ...init });
}

/** Starts an nng operation on a new handle whose callback must run once; resolves with its result and count. */
function nngStart(start: (aio: NngAio) => void, iov: readonly Uint8Array[] = []): Promise<{ result: number; count: number }> {
  const aio = nng_aio_alloc(mustCall());
  expect(nng_aio_set_iov(aio, iov.length, iov.map((b) => ({ iov_buf: b, iov_len: b.byteLength })))).toBe(0);
  start(aio);
  return nng_aio_wait(aio).then(() => {
    const out = { result: nng_aio_result(aio), count: nng_aio_count(aio) };
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
    return out;
  });
}

// The errno each injected error carries, and what the nng face must map it to
// (nng's nni_plat_errno: SPEC §3).
const CODES: ReadonlyArray<readonly [string, number, number]> = [
  ['EIO', EIO, NNG_ESYSERR | EIO],
  ['EINTR', EINTR, NNG_EINTR],
  ['ENOSPC', ENOSPC, NNG_ENOSPC],
  ['EBADF', EBADF, NNG_ECLOSED],
  ['EAGAIN', EAGAIN, NNG_EAGAIN],
];

describe.each(CODES)('an injected %s', (code, E, NNG) => {
  test('fails aio_read: aio_error, aio_return, errno and the notification report it', async () => {
    const fb = install(new FaultBackend().inject({ error: code }, ['read']));
    const f = tmpFile('0123456789');
    const cb: AioControlBlock = block(f.fd, { aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_sigevent: notifyOnce('r', () => cb, () => E) });
    expect(aio_read(cb)).toBe(0);
    await settle(cb);
    await flush();
    expect(aio_error(cb)).toBe(E);
    expect(aio_return(cb)).toBe(-1);
    expect(errno()).toBe(E);
    expect(aio_error(cb)).toBe(E); // keeps reporting the final status after aio_return
    expect(fb.applied).toBe(1);
    faultCount++;
    await expectIdle();
  });

  test('fails aio_write without writing anything, and SIGEV_SIGNAL carries the value', async () => {
    const fb = install(new FaultBackend().inject({ error: code }, ['write']));
    const f = tmpFile('0123456789');
    const seen: unknown[] = [];
    const listener = (_name: unknown, info: { si_value: unknown }): void => {
      seen.push(info.si_value);
    };
    process.on('SIGUSR2', listener);
    try {
      const cb = block(f.fd, { aio_buf: Buffer.from('WXYZ'), aio_nbytes: 4, aio_sigevent: { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: 'w' } });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      await flush();
      expect(seen).toEqual(['w']);
      expect(aio_error(cb)).toBe(E);
      expect(aio_return(cb)).toBe(-1);
      expect(fs.readFileSync(f.path, 'latin1')).toBe('0123456789');
    } finally {
      process.off('SIGUSR2', listener);
    }
    expect(fb.applied).toBe(1);
    faultCount++;
    await expectIdle();
  });

  test.each([
    ['O_SYNC', O_SYNC, 'fsync'],
    ['O_DSYNC', O_DSYNC, 'fdatasync'],
  ] as const)('fails aio_fsync(%s)', async (_name, op, backendOp) => {
    const fb = install(new FaultBackend().inject({ error: code }, [backendOp]));
    const f = tmpFile('x');
    const cb: AioControlBlock = block(f.fd, { aio_sigevent: notifyOnce('s', () => cb, () => E) });
    expect(aio_fsync(op, cb)).toBe(0);
    await settle(cb);
    await flush();
    expect(aio_error(cb)).toBe(E);
    expect(aio_return(cb)).toBe(-1);
    expect(fb.applied).toBe(1);
    faultCount++;
    await expectIdle();
  });

  test('fails a write that aio_fsync covers: the fsync reports the write\'s error, a later write does not taint it', async () => {
    const fb = install(new FaultBackend().inject({ error: code }, ['write']));
    const f = tmpFile('0123456789');
    const w = block(f.fd, { aio_buf: Buffer.from('AB'), aio_nbytes: 2 });
    const ok = block(f.fd, { aio_buf: Buffer.from('CD'), aio_nbytes: 2, aio_offset: 4 });
    const s = block(f.fd);
    const clean = block(f.fd);
    expect(aio_write(w)).toBe(0);
    expect(aio_write(ok)).toBe(0);
    expect(aio_fsync(O_SYNC, s)).toBe(0);
    await settle(w, ok, s);
    expect(aio_error(w)).toBe(E);
    expect(aio_error(ok)).toBe(0);
    expect(aio_error(s)).toBe(E);
    expect(aio_return(s)).toBe(-1);
    // A second barrier, submitted after the failure completed, covers nothing that failed.
    expect(aio_fsync(O_DSYNC, clean)).toBe(0);
    await settle(clean);
    expect(aio_error(clean)).toBe(0);
    expect(aio_return(clean)).toBe(0);
    expect(fs.readFileSync(f.path, 'latin1')).toBe('0123CD6789');
    expect(fb.applied).toBe(1);
    faultCount++;
    await expectIdle();
  });

  test('fails nng_file_read, nng_file_write, nng_file_fsync and nng_file_fdatasync with the mapped code', async () => {
    expect(errnoToNng(E)).toBe(NNG);
    const fb = install(new FaultBackend());
    const f = tmpFile('0123456789');
    const ops: Array<[FaultOp, (aio: NngAio) => void, Uint8Array[]]> = [
      ['readv', (aio) => nng_file_read(f.fd, 0, aio), [new Uint8Array(4)]],
      ['writev', (aio) => nng_file_write(f.fd, 2, aio), [Buffer.from('zz')]],
      ['fsync', (aio) => nng_file_fsync(f.fd, aio), []],
      ['fdatasync', (aio) => nng_file_fdatasync(f.fd, aio), []],
    ];
    for (const [op, start, iov] of ops) {
      fb.inject({ error: code }, [op]);
      expect(await nngStart(start, iov)).toEqual({ result: NNG, count: 0 });
      faultCount++;
    }
    expect(fb.applied).toBe(4);
    expect(fs.readFileSync(f.path, 'latin1')).toBe('0123456789');
    await expectIdle();
  });

  test('fails an nng write that nng_file_fsync and aio_fsync cover: both report it', async () => {
    const fb = install(new FaultBackend().inject({ error: code }, ['writev']));
    const f = tmpFile('0123456789');
    const write = nngStart((aio) => nng_file_write(f.fd, 0, aio), [Buffer.from('abc')]);
    const sync = nngStart((aio) => nng_file_fsync(f.fd, aio));
    const s = block(f.fd);
    expect(aio_fsync(O_SYNC, s)).toBe(0);
    expect(await write).toEqual({ result: NNG, count: 0 });
    expect(await sync).toEqual({ result: NNG, count: 0 });
    await settle(s);
    expect(aio_error(s)).toBe(E);
    expect(fb.applied).toBe(1);
    faultCount++;
    await expectIdle();
  });

  test('fails a POSIX write that nng_file_fdatasync covers', async () => {
    install(new FaultBackend().inject({ error: code }, ['write']));
    const f = tmpFile('0123456789');
    const w = block(f.fd, { aio_buf: Buffer.from('Q'), aio_nbytes: 1 });
    expect(aio_write(w)).toBe(0);
    expect(await nngStart((aio) => nng_file_fdatasync(f.fd, aio))).toEqual({ result: NNG, count: 0 });
    expect(aio_error(w)).toBe(E);
    faultCount++;
    await expectIdle();
  });
});

describe('short transfers', () => {
  test('aio_read reports a short read as what read() returned, with the bytes in place', async () => {
    install(new FaultBackend().inject({ bytes: 3 }, ['read']));
    const f = tmpFile('abcdefgh');
    const buf = Buffer.alloc(8, '.');
    const cb = block(f.fd, { aio_buf: buf, aio_nbytes: 8 });
    expect(aio_read(cb)).toBe(0);
    await settle(cb);
    expect(aio_error(cb)).toBe(0);
    expect(aio_return(cb)).toBe(3);
    expect(buf.toString('latin1')).toBe('abc.....');
    faultCount++;
    await expectIdle();
  });

  test('aio_write reports a short write as what write() returned; an fsync covering it succeeds', async () => {
    install(new FaultBackend().inject({ bytes: 2 }, ['write']));
    const f = tmpFile('0123456789');
    const cb = block(f.fd, { aio_buf: Buffer.from('ABCDE'), aio_nbytes: 5, aio_offset: 1 });
    const s = block(f.fd);
    expect(aio_write(cb)).toBe(0);
    expect(aio_fsync(O_SYNC, s)).toBe(0);
    await settle(cb, s);
    expect(aio_return(cb)).toBe(2);
    expect(aio_error(s)).toBe(0);
    expect(fs.readFileSync(f.path, 'latin1')).toBe('0AB3456789');
    faultCount++;
    await expectIdle();
  });

  test('nng_file_read reports one short vectored read', async () => {
    install(new FaultBackend().inject({ bytes: 5 }, ['readv']));
    const f = tmpFile('abcdefghij');
    const a = new Uint8Array(4);
    const b = new Uint8Array(4);
    expect(await nngStart((aio) => nng_file_read(f.fd, 1, aio), [a, b])).toEqual({ result: 0, count: 5 });
    expect(Buffer.from(a).toString('latin1')).toBe('bcde');
    expect(Buffer.from(b).toString('latin1')).toBe('f\0\0\0');
    faultCount++;
    await expectIdle();
  });

  test('nng_file_write resumes a short write until the whole iov is written', async () => {
    const fb = install(new FaultBackend().inject({ bytes: 3 }, ['writev']).inject({ bytes: 2 }, ['writev']));
    const f = tmpFile('..........');
    expect(await nngStart((aio) => nng_file_write(f.fd, 1, aio), [Buffer.from('ABCD'), Buffer.from('EFGH')])).toEqual({ result: 0, count: 8 });
    expect(fs.readFileSync(f.path, 'latin1')).toBe('.ABCDEFGH.');
    expect(fb.log.filter((o) => o.op === 'writev').map((o) => o.length)).toEqual([8, 5, 3]);
    faultCount += 2;
    await expectIdle();
  });

  test('nng_file_write that stops making progress fails with EIO and the bytes written so far', async () => {
    install(new FaultBackend().inject({ bytes: 3 }, ['writev']).inject({ bytes: 0 }, ['writev']));
    const f = tmpFile('..........');
    expect(await nngStart((aio) => nng_file_write(f.fd, 0, aio), [Buffer.from('ABCDEF')])).toEqual({ result: NNG_ESYSERR | EIO, count: 3 });
    expect(fs.readFileSync(f.path, 'latin1')).toBe('ABC.......');
    faultCount += 2;
    await expectIdle();
  });

  test('nng_file_write whose resumed chunk fails reports that error and the bytes written before it', async () => {
    install(new FaultBackend().inject({ bytes: 4 }, ['writev']).inject({ error: 'ENOSPC' }, ['writev']));
    const f = tmpFile('..........');
    expect(await nngStart((aio) => nng_file_write(f.fd, 0, aio), [Buffer.from('ABCDEF')])).toEqual({ result: NNG_ENOSPC, count: 4 });
    expect(fs.readFileSync(f.path, 'latin1')).toBe('ABCD......');
    faultCount += 2;
    await expectIdle();
  });
});

describe('a backend that breaks the callback contract', () => {
  test('a second callback is ignored: status, return value, notification and counters stay those of the first', async () => {
    const fb = install(new FaultBackend().inject({ twice: { error: 'EIO' } }, ['read']).inject({ twice: { bytes: 1 } }, ['write']));
    const f = tmpFile('abcdef');
    const before = engine().counters.completed;
    const r: AioControlBlock = block(f.fd, { aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_sigevent: notifyOnce('r', () => r, () => 0) });
    const w: AioControlBlock = block(f.fd, { aio_buf: Buffer.from('XYZ'), aio_nbytes: 3, aio_offset: 3, aio_sigevent: notifyOnce('w', () => w, () => 0) });
    expect(aio_read(r)).toBe(0);
    expect(aio_write(w)).toBe(0);
    await settle(r, w);
    await flush();
    expect(aio_error(r)).toBe(0);
    expect(aio_error(w)).toBe(0);
    expect(aio_return(r)).toBe(3);
    expect(aio_return(w)).toBe(3);
    expect(engine().counters.completed - before).toBe(2);
    expect(fb.callbackThrew).toBe(0);
    faultCount += 2;
    await expectIdle();
  });

  test('a second callback arriving while a later request on the descriptor is in flight does not touch it', async () => {
    const fb = install(new FaultBackend().inject({ twice: { error: 'EIO' } }, ['write']).inject({ hold: true }, ['read']));
    aio_init({ aio_threads: 1 });
    const f = tmpFile('abcdef');
    const w = block(f.fd, { aio_buf: Buffer.from('Z'), aio_nbytes: 1 });
    const r = block(f.fd, { aio_buf: Buffer.alloc(2), aio_nbytes: 2 }); // overlaps: waits for the write
    expect(aio_write(w)).toBe(0);
    expect(aio_read(r)).toBe(0);
    await settle(w);
    await untilHeld(fb, 1); // the read has run; its callback is held
    await flush(); // the stray second callback of the write has run by now
    expect(aio_error(w)).toBe(0);
    expect(aio_error(r)).toBe(EINPROGRESS);
    fb.releaseHeld();
    await settle(r);
    expect(aio_return(r)).toBe(2);
    expect((r.aio_buf as Buffer).toString('latin1')).toBe('Zb');
    faultCount += 2;
    await expectIdle();
  });

  test('a second callback of an nng file operation is ignored: the handle completes once', async () => {
    install(new FaultBackend().inject({ twice: { error: 'ENOSPC' } }, ['writev']));
    const f = tmpFile('....');
    expect(await nngStart((aio) => nng_file_write(f.fd, 0, aio), [Buffer.from('ok')])).toEqual({ result: 0, count: 2 });
    await flush();
    expect(fs.readFileSync(f.path, 'latin1')).toBe('ok..');
    faultCount++;
    await expectIdle();
  });

  test('a notify function that throws inside the completion: the exception surfaces once, uncaught, and the engine stays consistent', async () => {
    const fb = install(new FaultBackend());
    const f = tmpFile('abcdef');
    const uncaught = captureUncaught(true);
    const boom = new Error('notify threw');
    let calls = 0;
    try {
      const bad = block(f.fd, {
        aio_buf: Buffer.alloc(2),
        aio_nbytes: 2,
        aio_sigevent: {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: () => {
            calls++;
            throw boom;
          },
        },
      });
      const good: AioControlBlock = block(f.fd, { aio_buf: Buffer.alloc(2), aio_nbytes: 2, aio_offset: 2, aio_sigevent: notifyOnce('g', () => good, () => 0) });
      expect(aio_read(bad)).toBe(0);
      expect(aio_read(good)).toBe(0);
      await settle(bad, good);
      await flush();
      await flush();
      expect(calls).toBe(1);
      expect(uncaught.seen).toEqual([boom]);
      expect(fb.callbackThrew).toBe(0); // the engine never lets it escape into the backend
      expect(aio_error(bad)).toBe(0);
      expect(aio_return(bad)).toBe(2);
      expect(aio_return(good)).toBe(2);
    } finally {
      uncaught.restore();
    }
    // Later requests still work.
    const after = block(f.fd, { aio_buf: Buffer.alloc(6), aio_nbytes: 6 });
    expect(aio_read(after)).toBe(0);
    await settle(after);
    expect(aio_return(after)).toBe(6);
    faultCount++;
    await expectIdle();
  });

  test('an nng callback that throws after a file operation: surfaces once, the handle ends busy and is reusable', async () => {
    install(new FaultBackend());
    const f = tmpFile('abcdef');
    const uncaught = captureUncaught(true);
    const boom = new Error('nng callback threw');
    let calls = 0;
    const aio = nng_aio_alloc(() => {
      calls++;
      if (calls === 1) throw boom;
    });
    try {
      expect(nng_aio_set_iov(aio, 1, [{ iov_buf: new Uint8Array(3), iov_len: 3 }])).toBe(0);
      nng_file_read(f.fd, 0, aio);
      await nng_aio_wait(aio);
      await flush();
      expect(uncaught.seen).toEqual([boom]);
      expect(nng_aio_busy(aio)).toBe(false);
      expect(nng_aio_result(aio)).toBe(0);
      expect(nng_aio_count(aio)).toBe(3);
    } finally {
      uncaught.restore();
    }
    nng_file_read(f.fd, 3, aio);
    await nng_aio_wait(aio);
    expect(calls).toBe(2);
    expect(nng_aio_count(aio)).toBe(3);
    nng_aio_free(aio);
    faultCount++;
    await expectIdle();
  });
});

describe('a completion that arrives after aio_close was called on the descriptor', () => {
  let held: HeldBackend;
  let restore: (() => void) | null = null;
  afterEach(async () => {
    held.autoRelease = 0;
    held.releaseAll();
    await flush();
    restore?.();
    restore = null;
  });

  test.each([
    ['with its real byte count', {}, 0, 4],
    ['with an injected EIO', { error: 'EIO' }, EIO, -1],
  ] as const)('the in-flight read completes %s; the queued write is canceled at once; the close then succeeds', async (_name, release, error, value) => {
    held = new HeldBackend().open(1000);
    restore = held.use(1);
    const r: AioControlBlock = block(1000, { aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_sigevent: notifyOnce('r', () => r, () => error) });
    const w: AioControlBlock = block(1000, { aio_buf: Buffer.from('late'), aio_nbytes: 4, aio_offset: 8, aio_sigevent: notifyOnce('w', () => w, () => ECANCELED) });
    expect(aio_read(r)).toBe(0);
    expect(aio_write(w)).toBe(0);
    expect(held.pending.map((o) => o.op)).toEqual(['read']);
    const closed = aio_close(1000);
    expect(aio_error(w)).toBe(ECANCELED);
    expect(aio_error(r)).toBe(EINPROGRESS);
    // New requests on the closing descriptor fail as on a closed one.
    const late = block(1000, { aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
    expect(aio_read(late)).toBe(0);
    expect(aio_error(late)).toBe(EBADF);
    expect(aio_fsync(O_SYNC, block(1000))).toBe(-1);
    expect(errno()).toBe(EBADF);
    held.releaseNext(release);
    expect(await closed).toBe(0);
    expect(aio_error(r)).toBe(error);
    expect(aio_return(r)).toBe(value);
    expect(aio_return(w)).toBe(-1);
    expect(held.log.map((o) => o.op)).toEqual(['read']); // the canceled write never reached the backend
    faultCount++;
    await expectIdle();
  });

  test('an nng read in flight keeps its real result; a queued nng write ends NNG_ECANCELED', async () => {
    held = new HeldBackend().open(1001);
    restore = held.use(1);
    const read = nngStart((aio) => nng_file_read(1001, 0, aio), [new Uint8Array(6)]);
    const write = nngStart((aio) => nng_file_write(1001, 0, aio), [Buffer.from('xy')]);
    const closed = aio_close(1001);
    held.releaseNext({ bytes: 5 });
    expect(await write).toEqual({ result: NNG_ECANCELED, count: 0 });
    expect(await read).toEqual({ result: 0, count: 5 });
    expect(await closed).toBe(0);
    expect(await nngStart((aio) => nng_file_read(1001, 0, aio), [new Uint8Array(1)])).toEqual({ result: NNG_ECLOSED, count: 0 });
    faultCount++;
    await expectIdle();
  });

  test('aio_close of a number reused behind the library while a request is in flight leaves the new file open (-1/EBADF)', async () => {
    held = new HeldBackend().open(1002);
    restore = held.use(1);
    const r = block(1002, { aio_buf: Buffer.alloc(2), aio_nbytes: 2 });
    expect(aio_read(r)).toBe(0);
    held.reopen(1002); // closed and reopened as another file behind the library's back
    const closed = aio_close(1002);
    held.releaseNext();
    expect(await closed).toBe(-1);
    expect(errno()).toBe(EBADF);
    expect(() => held.fstat(1002)).not.toThrow(); // the new file is still open
    await settle(r);
    expect(aio_return(r)).toBe(2);
    faultCount++;
    await expectIdle();
  });

  test('a stray second callback that arrives after the close has finished is ignored', async () => {
    held = new HeldBackend();
    const fb = install(new FaultBackend().inject({ hold: true, twice: { error: 'EIO' } }, ['read']));
    const f = tmpFile('abc');
    const r: AioControlBlock = block(f.fd, { aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_sigevent: notifyOnce('r', () => r, () => 0) });
    expect(aio_read(r)).toBe(0);
    await untilHeld(fb, 1); // the real read has returned; its callback is held
    const closed = aio_close(f.fd);
    fb.releaseHeld();
    expect(await closed).toBe(0);
    untrack(f.fd);
    await flush();
    expect(aio_error(r)).toBe(0);
    expect(aio_return(r)).toBe(3);
    expect(fb.callbackThrew).toBe(0);
    expect(() => fs.fstatSync(f.fd)).toThrow(/EBADF/);
    faultCount++;
    await expectIdle();
  });
});

describe('real faults', () => {
  test('/dev/full: aio_write fails with ENOSPC, an fsync covering it reports ENOSPC, nng_file_write gives NNG_ENOSPC', async () => {
    const fd = track(fs.openSync('/dev/full', 'r+'));
    const w: AioControlBlock = block(fd, { aio_buf: Buffer.from('data'), aio_nbytes: 4, aio_sigevent: notifyOnce('w', () => w, () => ENOSPC) });
    const s = block(fd);
    expect(aio_write(w)).toBe(0);
    expect(aio_fsync(O_SYNC, s)).toBe(0);
    await settle(w, s);
    expect(aio_error(w)).toBe(ENOSPC);
    expect(aio_return(w)).toBe(-1);
    expect(errno()).toBe(ENOSPC);
    expect(aio_error(s)).toBe(ENOSPC); // its own fsync(2) would say EINVAL: the covered write's error wins
    // Alone, the fsync of a character device fails with its own error.
    const alone = block(fd);
    expect(aio_fsync(O_SYNC, alone)).toBe(0);
    await settle(alone);
    expect(aio_error(alone)).toBe(EINVAL);
    expect(await nngStart((aio) => nng_file_write(fd, 0, aio), [Buffer.from('xyz')])).toEqual({ result: NNG_ENOSPC, count: 0 });
    expect(await nngStart((aio) => nng_file_fsync(fd, aio))).toEqual({ result: NNG_EINVAL, count: 0 });
    faultCount += 4;
    await expectIdle();
  });

  test('a read-only descriptor: writes fail with EBADF (NNG_ECLOSED) and leave the file alone; reads and fsync work', async () => {
    const f = tmpFile('readonly', 'r');
    const w = block(f.fd, { aio_buf: Buffer.from('XX'), aio_nbytes: 2 });
    const s = block(f.fd);
    const r = block(f.fd, { aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
    expect(aio_write(w)).toBe(0);
    expect(aio_fsync(O_SYNC, s)).toBe(0); // accepted (glibc BZ#15361); reports the covered write's EBADF
    expect(aio_read(r)).toBe(0);
    await settle(w, s, r);
    expect(aio_error(w)).toBe(EBADF);
    expect(aio_return(w)).toBe(-1);
    expect(aio_error(s)).toBe(EBADF);
    expect(aio_return(r)).toBe(8);
    // A zero-length write still reaches the kernel, so it fails too.
    const empty = block(f.fd, { aio_buf: null, aio_nbytes: 0 });
    expect(aio_write(empty)).toBe(0);
    await settle(empty);
    expect(aio_error(empty)).toBe(EBADF);
    expect(await nngStart((aio) => nng_file_write(f.fd, 0, aio), [Buffer.from('nn')])).toEqual({ result: NNG_ECLOSED, count: 0 });
    expect(await nngStart((aio) => nng_file_read(f.fd, 0, aio), [new Uint8Array(4)])).toEqual({ result: 0, count: 4 });
    expect(fs.readFileSync(f.path, 'latin1')).toBe('readonly');
    faultCount += 4;
    await expectIdle();
  });

  test('a directory descriptor: reads fail with EISDIR (NNG_ESYSERR | EISDIR), writes with EBADF', async () => {
    const fd = track(fs.openSync(tmpDir(), 'r'));
    const r: AioControlBlock = block(fd, { aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_sigevent: notifyOnce('d', () => r, () => EISDIR) });
    const w = block(fd, { aio_buf: Buffer.from('x'), aio_nbytes: 1 });
    expect(aio_read(r)).toBe(0);
    expect(aio_write(w)).toBe(0);
    await settle(r, w);
    expect(aio_error(r)).toBe(EISDIR);
    expect(aio_return(r)).toBe(-1);
    expect(errno()).toBe(EISDIR);
    expect(aio_error(w)).toBe(EBADF);
    expect(await nngStart((aio) => nng_file_read(fd, 0, aio), [new Uint8Array(4)])).toEqual({ result: NNG_ESYSERR | EISDIR, count: 0 });
    faultCount += 3;
    await expectIdle();
  });

  test('a FIFO opened O_RDONLY|O_NONBLOCK: end of file (0) with no writer, EAGAIN (NNG_EAGAIN) with an idle writer, data once written', async () => {
    const p = tmpPath('fifo');
    execFileSync('mkfifo', [p]);
    const fd = track(fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
    // No writer has the FIFO open: read(2) returns 0, not EAGAIN.
    const eof = block(fd, { aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 12345 }); // offset ignored on a FIFO
    expect(aio_read(eof)).toBe(0);
    await settle(eof);
    expect(aio_error(eof)).toBe(0);
    expect(aio_return(eof)).toBe(0);
    expect(await nngStart((aio) => nng_file_read(fd, 0, aio), [new Uint8Array(4)])).toEqual({ result: 0, count: 0 });
    // A writer with nothing written yet: the non-blocking read fails with EAGAIN.
    const writer = track(fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    const again = block(fd, { aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
    expect(aio_read(again)).toBe(0);
    await settle(again);
    expect(aio_error(again)).toBe(EAGAIN);
    expect(aio_return(again)).toBe(-1);
    expect(await nngStart((aio) => nng_file_read(fd, 0, aio), [new Uint8Array(4)])).toEqual({ result: NNG_EAGAIN, count: 0 });
    fs.writeSync(writer, 'hi');
    const data = block(fd, { aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
    expect(aio_read(data)).toBe(0);
    await settle(data);
    expect(aio_return(data)).toBe(2);
    expect((data.aio_buf as Buffer).subarray(0, 2).toString()).toBe('hi');
    // fsync on a FIFO fails through aio_error with EINVAL (SPEC §2).
    const s = block(fd);
    expect(aio_fsync(O_SYNC, s)).toBe(0);
    await settle(s);
    expect(aio_error(s)).toBe(EINVAL);
    faultCount += 4;
    await expectIdle();
  });

  test('a descriptor closed behind the library and reused: every queued request fails with EBADF and the new file is untouched', async () => {
    aio_init({ aio_threads: 1 });
    // A read of an empty FIFO holds the only thread-pool slot until the peer writes.
    const fp = tmpPath('fifo');
    execFileSync('mkfifo', [fp]);
    const fifoFd = track(fs.openSync(fp, 'r+'));
    const peer = track(fs.openSync(fp, 'r+'));
    const hold = block(fifoFd, { aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
    expect(aio_read(hold)).toBe(0);

    const a = tmpFile('original-content');
    const wAt0: AioControlBlock = block(a.fd, { aio_buf: Buffer.from('CLOBBER'), aio_nbytes: 7, aio_sigevent: notifyOnce('w0', () => wAt0, () => EBADF) });
    const wAt9 = block(a.fd, { aio_buf: Buffer.from('!!'), aio_nbytes: 2, aio_offset: 9, aio_reqprio: 5 });
    const r = block(a.fd, { aio_buf: Buffer.alloc(4, '.'), aio_nbytes: 4 });
    const s = block(a.fd);
    const queued = [wAt0, wAt9, r, s];
    expect(aio_write(wAt0)).toBe(0);
    expect(aio_write(wAt9)).toBe(0);
    expect(aio_read(r)).toBe(0);
    expect(aio_fsync(O_DSYNC, s)).toBe(0);
    const nngWrite = nngStart((aio) => nng_file_write(a.fd, 0, aio), [Buffer.from('NNGNNG')]);
    for (const cb of queued) expect(aio_error(cb)).toBe(EINPROGRESS);

    fs.closeSync(a.fd); // behind the library's back
    untrack(a.fd);
    const victimPath = tmpPath('victim');
    fs.writeFileSync(victimPath, 'victim-bytes-here');
    const victim = track(fs.openSync(victimPath, 'r+'));
    expect(victim).toBe(a.fd); // the lowest free number is reused

    fs.writeSync(peer, 'x');
    await settle(hold, ...queued);
    expect(aio_return(hold)).toBe(1);
    for (const cb of queued) {
      expect(aio_error(cb)).toBe(EBADF);
      expect(aio_return(cb)).toBe(-1);
    }
    expect((r.aio_buf as Buffer).toString()).toBe('....');
    expect(await nngWrite).toEqual({ result: NNG_ECLOSED, count: 0 });
    expect(fs.readFileSync(victimPath, 'latin1')).toBe('victim-bytes-here');
    expect(fs.readFileSync(a.path, 'latin1')).toBe('original-content');
    expect(fs.fstatSync(victim).size).toBe(17); // still open: the library never closed it
    // Nothing queued remains; aio_cancel on the new file finds nothing.
    expect(aio_cancel(victim, null)).toBe(AIO_ALLDONE);
    faultCount += 6;
    await expectIdle();
  });
});

// These run last: a backend that throws synchronously may wedge the engine if the bug
// they guard against is present, and nothing after them may depend on it being idle.
describe('a backend method that throws synchronously instead of calling back', () => {
  test('aio_read still returns 0; the request fails through aio_error with the thrown error\'s errno and is notified once', async () => {
    const fb = install(new FaultBackend().inject({ throwSync: Object.assign(new Error('backend threw'), { code: 'EIO' }) }, ['read']), true);
    const f = tmpFile('abc');
    const cb: AioControlBlock = block(f.fd, { aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_sigevent: notifyOnce('t', () => cb, () => EIO) });
    faultCount++;
    expect(aio_read(cb)).toBe(0);
    await settle(cb);
    expect(aio_error(cb)).toBe(EIO);
    expect(aio_return(cb)).toBe(-1);
    expect(fb.applied).toBe(1);
    await expectIdle();
  });

  test('nng_file_write completes through its callback with NNG_ESYSERR | EIO; the handle is not left busy', async () => {
    install(new FaultBackend().inject({ throwSync: new Error('backend threw, no code') }, ['writev']), true);
    const f = tmpFile('abc');
    faultCount++;
    let threw: unknown = null;
    const aio = nng_aio_alloc(mustCall());
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: Buffer.from('z'), iov_len: 1 }])).toBe(0);
    try {
      nng_file_write(f.fd, 0, aio);
    } catch (err) {
      threw = err;
    }
    expect(threw).toBeNull();
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(NNG_ESYSERR | EIO);
    expect(nng_aio_busy(aio)).toBe(false);
    nng_aio_free(aio);
    await expectIdle();
  });
});
