/**
 * The Promise face on real descriptors: results and errors compared with Node's own
 * fs (fs.promises, util.promisify(fs.*), fs.readSync) on the same files; FIFOs to
 * hold a read in the thread pool; /dev/full for ENOSPC; a directory for EISDIR; a
 * read-only descriptor for EBADF; a child process for the process-wide warning.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { getEventListeners } from 'node:events';
import { AioError, AioFileHandle, EOVERFLOW, aio_init, promises } from '../../src/index';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { cleanup, fifo, tmpDir, tmpFile, tmpPath, track, untrack } from '../helpers/files';
import { trackTimers } from '../helpers/timers';
import { flush, fulfilment, mustCall, rejection, sleep } from '../helpers/mustcall';

afterAll(cleanup);

const ALPHA = 'abcdefghijklmnopqrstuvwxyz';

const pRead = promisify(fs.read);
const pWrite = promisify(fs.write) as (fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null) => Promise<unknown>;
const pReadv = promisify(fs.readv);
const pWritev = promisify(fs.writev);
const pFsync = promisify(fs.fsync);
const pFdatasync = promisify(fs.fdatasync);



/** A Promise watched until it settles, exactly once, never unhandled. */
function observe<T>(p: Promise<T>): { settled: boolean; rejected: boolean; value?: T; reason?: unknown; done: Promise<void> } {
  const o: { settled: boolean; rejected: boolean; value?: T; reason?: unknown; done: Promise<void> } = { settled: false, rejected: false, done: Promise.resolve() };
  const once = mustCall((rejected: boolean, v: unknown) => {
    o.settled = true;
    o.rejected = rejected;
    if (rejected) o.reason = v;
    else o.value = v as T;
  });
  o.done = p.then(
    (v) => once(false, v),
    (e: unknown) => once(true, e),
  );
  return o;
}

/** The fields Node's system errors and ours share. */
function shape(err: unknown): { code: unknown; errno: unknown; syscall: unknown; message: unknown } {
  const e = err as NodeJS.ErrnoException;
  return { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message };
}

/** Timers made during this test and still armed (test/helpers/timers.ts says why not getActiveResourcesInfo). */
const timeouts = trackTimers();

/** A descriptor number that was just closed. */
function closedFd(): number {
  const { fd } = tmpFile('x');
  fs.closeSync(fd);
  untrack(fd);
  return fd;
}

describe('promises.read and promises.write on real files', () => {
  test.each([
    ['no options', {}],
    ['position 0', { position: 0 }],
    ['offset, length and position', { offset: 2, length: 5, position: 3 }],
    ['a short read near the end', { position: 20 }],
    ['a read past the end', { position: 100 }],
  ])('read with %s resolves as fs.promises FileHandle.read does', async (_what, options) => {
    const { path: p, fd } = tmpFile(ALPHA, 'r');
    const fh = await fs.promises.open(p, 'r');
    try {
      const ours = Buffer.alloc(16);
      const theirs = Buffer.alloc(16);
      const r = await fulfilment(promises.read(fd, ours, options));
      const n = await fh.read({ buffer: theirs, ...(options as { offset?: number; length?: number; position?: number }) });
      expect(r.buffer).toBe(ours);
      expect(r.bytesRead).toBe(n.bytesRead);
      expect(ours.equals(theirs)).toBe(true);
    } finally {
      await fh.close();
    }
  });

  test('a bigint position is honoured, as fs.readSync honours it (Node 20\'s FileHandle.read would ignore it)', async () => {
    const { path: p, fd } = tmpFile(ALPHA, 'r');
    const other = track(fs.openSync(p, 'r'));
    const ours = Buffer.alloc(16);
    const theirs = Buffer.alloc(16);
    const r = await fulfilment(promises.read(fd, ours, { position: 7n }));
    expect(r.bytesRead).toBe(fs.readSync(other, theirs, 0, 16, 7n));
    expect(ours.equals(theirs)).toBe(true);
    expect(ours.toString()).toBe('hijklmnopqrstuvw');
  });

  test('position null reads from the current file position, as fs.readSync does on the same file', async () => {
    const { path: p, fd } = tmpFile(ALPHA, 'r');
    const other = track(fs.openSync(p, 'r'));
    for (const n of [3, 4, 1, 30, 5]) {
      const ours = Buffer.alloc(n);
      const theirs = Buffer.alloc(n);
      const r = await fulfilment(promises.read(fd, ours, { position: null }));
      const m = fs.readSync(other, theirs, 0, n, null);
      expect(r.bytesRead).toBe(m);
      expect(ours.equals(theirs)).toBe(true);
    }
  });

  test('position null shares the descriptor\'s offset with fs; an explicit position leaves it alone', async () => {
    const { fd } = tmpFile(ALPHA, 'r');
    const a = Buffer.alloc(3);
    await fulfilment(promises.read(fd, a));
    expect(a.toString()).toBe('abc');
    const b = Buffer.alloc(3);
    expect(fs.readSync(fd, b, 0, 3, null)).toBe(3);
    expect(b.toString()).toBe('def');
    const c = Buffer.alloc(3);
    await fulfilment(promises.read(fd, c, { position: 20 }));
    expect(c.toString()).toBe('uvw');
    const d = Buffer.alloc(3);
    await fulfilment(promises.read(fd, d, { position: -1 }));
    expect(d.toString()).toBe('ghi');
  });

  test('null-position requests queued together run in submission order', async () => {
    const { fd } = tmpFile(ALPHA, 'r');
    const bufs = [Buffer.alloc(3), Buffer.alloc(3), Buffer.alloc(3), Buffer.alloc(3)];
    const rs = await Promise.all(bufs.map((b) => promises.read(fd, b)));
    expect(rs.map((r) => r.bytesRead)).toEqual([3, 3, 3, 3]);
    expect(bufs.map((b) => b.toString())).toEqual(['abc', 'def', 'ghi', 'jkl']);
    const w = tmpFile('');
    await Promise.all(['one', 'two', 'three'].map((s) => promises.write(w.fd, Buffer.from(s))));
    expect(fs.readFileSync(w.path, 'utf8')).toBe('onetwothree');
  });

  test('write with position null writes at the current position, as fs.writeSync does', async () => {
    const a = tmpFile('0123456789');
    const b = tmpFile('0123456789');
    fs.readSync(a.fd, Buffer.alloc(2), 0, 2, null);
    fs.readSync(b.fd, Buffer.alloc(2), 0, 2, null);
    const r = await fulfilment(promises.write(a.fd, Buffer.from('XYZ')));
    fs.writeSync(b.fd, Buffer.from('XYZ'), 0, 3, null);
    expect(r.bytesWritten).toBe(3);
    expect(fs.readFileSync(a.path, 'utf8')).toBe(fs.readFileSync(b.path, 'utf8'));
    expect(fs.readFileSync(a.path, 'utf8')).toBe('01XYZ56789');
  });

  test('write honours offset, length and position and resolves the caller\'s buffer', async () => {
    const { path: p, fd } = tmpFile('..........');
    const buf = Buffer.from('hello world');
    const r = await fulfilment(promises.write(fd, buf, { offset: 6, length: 5, position: 2 }));
    expect(r).toEqual({ bytesWritten: 5, buffer: buf });
    expect(r.buffer).toBe(buf);
    expect(fs.readFileSync(p, 'utf8')).toBe('..world...');
  });

  test('bigint positions work for read, write, readv and writev', async () => {
    const { path: p, fd } = tmpFile('..........');
    await fulfilment(promises.write(fd, Buffer.from('AB'), { position: 2n }));
    await fulfilment(promises.writev(fd, [Buffer.from('C'), Buffer.from('D')], { position: 6n }));
    expect(fs.readFileSync(p, 'utf8')).toBe('..AB..CD..');
    const r = Buffer.alloc(2);
    await fulfilment(promises.read(fd, r, { position: 2n }));
    expect(r.toString()).toBe('AB');
    const v = [Buffer.alloc(1), Buffer.alloc(1)];
    const rv = await fulfilment(promises.readv(fd, v, { position: 6n }));
    expect(rv.bytesRead).toBe(2);
    expect(Buffer.concat(v).toString()).toBe('CD');
  });

  test('a bigint position past 2^53 reads as fs.read does, and writes reject EOVERFLOW', async () => {
    const { path: p, fd } = tmpFile(ALPHA, 'r+');
    const big = 2n ** 60n;
    const ours = await fulfilment(promises.read(fd, Buffer.alloc(4), { position: big }));
    expect(ours.bytesRead).toBe(fs.readSync(fd, Buffer.alloc(4), 0, 4, big));
    const err = await rejection(promises.write(fd, Buffer.from('x'), { position: 2n ** 53n + 1n }));
    expect(err).toBeInstanceOf(AioError);
    expect(err).toMatchObject({ code: 'EOVERFLOW', errno: -EOVERFLOW, syscall: 'write' });
    expect(fs.readFileSync(p, 'utf8')).toBe(ALPHA);
  });

  test('readv scatters and writev gathers, resolving the caller\'s array', async () => {
    const { path: p, fd } = tmpFile('');
    const out = [Buffer.from('head'), Buffer.from('-'), Buffer.from('body')];
    const w = await fulfilment(promises.writev(fd, out, { position: 0 }));
    expect(w).toEqual({ bytesWritten: 9, buffers: out });
    expect(w.buffers).toBe(out);
    expect(fs.readFileSync(p, 'utf8')).toBe('head-body');
    const into = [Buffer.alloc(2), Buffer.alloc(3), Buffer.alloc(10)];
    const r = await fulfilment(promises.readv(fd, into, { position: 1 }));
    expect(r.bytesRead).toBe(8);
    expect(r.buffers).toBe(into);
    expect(Buffer.concat(into).subarray(0, 8).toString()).toBe('ead-body');
  });

  test('on an O_APPEND descriptor writes land at the end whatever the position (Linux)', async () => {
    const { path: p, fd } = tmpFile('start', 'a');
    await fulfilment(promises.write(fd, Buffer.from('+1'), { position: 0 }));
    await fulfilment(promises.write(fd, Buffer.from('+2')));
    expect(fs.readFileSync(p, 'utf8')).toBe('start+1+2');
  });

  test('fsync and fdatasync resolve undefined after the writes before them', async () => {
    const { path: p, fd } = tmpFile('');
    const w = promises.write(fd, Buffer.from('durable'), { position: 0 });
    const s = promises.fsync(fd);
    const d = promises.fdatasync(fd);
    expect((await fulfilment(w)).bytesWritten).toBe(7);
    expect(await fulfilment(s)).toBeUndefined();
    expect(await fulfilment(d)).toBeUndefined();
    expect(fs.readFileSync(p, 'utf8')).toBe('durable');
  });

  test('batch writes, syncs and reads back in one call', async () => {
    const { path: p, fd } = tmpFile('');
    const back = Buffer.alloc(5);
    const r = await fulfilment(
      promises.batch([
        { op: 'write', fd, buffer: Buffer.from('hello'), position: 0 },
        { op: 'fsync', fd },
        { op: 'read', fd, buffer: back, position: 0 },
      ]),
    );
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(back.toString()).toBe('hello');
    expect(fs.readFileSync(p, 'utf8')).toBe('hello');
  });
});

describe('errors, compared with Node\'s own fs', () => {
  test.each([
    ['read', (fd: number) => promises.read(fd, Buffer.alloc(1)), (fd: number) => pRead(fd, Buffer.alloc(1), 0, 1, null)],
    ['write', (fd: number) => promises.write(fd, Buffer.alloc(1)), (fd: number) => pWrite(fd, Buffer.alloc(1), 0, 1, null)],
    ['readv', (fd: number) => promises.readv(fd, [Buffer.alloc(1)]), (fd: number) => pReadv(fd, [Buffer.alloc(1)], null as never)],
    ['writev', (fd: number) => promises.writev(fd, [Buffer.alloc(1)]), (fd: number) => pWritev(fd, [Buffer.alloc(1)], null as never)],
    ['fsync', (fd: number) => promises.fsync(fd), (fd: number) => pFsync(fd)],
    ['fdatasync', (fd: number) => promises.fdatasync(fd), (fd: number) => pFdatasync(fd)],
  ] as Array<[string, (fd: number) => Promise<unknown>, (fd: number) => Promise<unknown>]>)(
    '%s on a closed descriptor rejects exactly as util.promisify(fs) does (EBADF, errno -9)',
    async (_name, ours, theirs) => {
      const fd = closedFd();
      const a = await rejection(ours(fd));
      const b = await rejection(theirs(fd));
      expect(a).toBeInstanceOf(AioError);
      expect(b).not.toBeInstanceOf(AioError);
      expect(shape(a)).toEqual(shape(b));
      expect((a as AioError).errno).toBe(-9);
    },
  );

  test('a write on a read-only descriptor rejects as fs.promises does (EBADF from the kernel)', async () => {
    const { path: p, fd } = tmpFile('data', 'r');
    const fh = await fs.promises.open(p, 'r');
    try {
      const a = await rejection(promises.write(fd, Buffer.from('x'), { position: 0 }));
      const b = await rejection(fh.write(Buffer.from('x'), 0, 1, 0));
      expect(shape(a)).toEqual(shape(b));
      expect((a as AioError).code).toBe('EBADF');
    } finally {
      await fh.close();
    }
  });

  test('a read on a directory rejects as fs.promises does (EISDIR)', async () => {
    const dirFd = track(fs.openSync(tmpDir(), 'r'));
    const fh = await fs.promises.open(tmpDir(), 'r');
    try {
      const a = await rejection(promises.read(dirFd, Buffer.alloc(4), { position: 0 }));
      const b = await rejection(fh.read(Buffer.alloc(4), 0, 4, 0));
      expect(a).toBeInstanceOf(AioError);
      expect(shape(a)).toEqual(shape(b));
      expect((a as AioError).code).toBe('EISDIR');
    } finally {
      await fh.close();
    }
  });

  test('a write to /dev/full rejects as fs.promises does (ENOSPC)', async () => {
    const fd = track(fs.openSync('/dev/full', 'w'));
    const fh = await fs.promises.open('/dev/full', 'w');
    try {
      const a = await rejection(promises.write(fd, Buffer.from('x')));
      const b = await rejection(fh.write(Buffer.from('x')));
      expect(a).toBeInstanceOf(AioError);
      expect(shape(a)).toEqual(shape(b));
      expect(a).toMatchObject({ name: 'AioError', code: 'ENOSPC', syscall: 'write', message: 'ENOSPC: no space left on device, write' });
    } finally {
      await fh.close();
    }
  });

  test('fsync on a FIFO rejects as util.promisify(fs.fsync) does (EINVAL)', async () => {
    const f = fifo();
    const a = await rejection(promises.fsync(f.fd));
    const b = await rejection(pFsync(f.fd));
    expect(shape(a)).toEqual(shape(b));
    expect((a as AioError).code).toBe('EINVAL');
  });

  test('open rejects with Node\'s own error (ENOENT, syscall open, path)', async () => {
    const missing = path.join(tmpDir(), 'missing', 'file');
    const a = await rejection(promises.open(missing, 'r'));
    const b = await rejection(fs.promises.open(missing, 'r'));
    expect(shape(a)).toEqual(shape(b));
    expect((a as NodeJS.ErrnoException).path).toBe(missing);
  });
});

describe('promises.open and AioFileHandle', () => {
  test('opens a file, does I/O through the handle, and closes it', async () => {
    const p = tmpPath();
    const fh = await fulfilment(promises.open(p, 'w+', 0o600));
    expect(fh).toBeInstanceOf(AioFileHandle);
    const fd = fh.fd;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(fs.fstatSync(fd).mode & 0o077).toBe(0);
    expect((await fh.write(Buffer.from('hello'), { position: 0 })).bytesWritten).toBe(5);
    expect((await fh.writev([Buffer.from(' '), Buffer.from('world')], { position: 5 })).bytesWritten).toBe(6);
    expect(await fh.sync()).toBeUndefined();
    expect(await fh.datasync()).toBeUndefined();
    const buf = Buffer.alloc(11);
    expect((await fh.read(buf, { position: 0 })).bytesRead).toBe(11);
    expect(buf.toString()).toBe('hello world');
    const parts = [Buffer.alloc(5), Buffer.alloc(6)];
    expect((await fh.readv(parts, { position: 0 })).bytesRead).toBe(11);
    expect(parts[1]?.toString()).toBe(' world');
    const closing = fh.close();
    expect(fh.close()).toBe(closing);
    expect(fh.fd).toBe(-1);
    expect(await fulfilment(closing)).toBeUndefined();
    // The number no longer names our file (it may already name someone else's).
    let link: string | null = null;
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      link = null;
    }
    expect(link).not.toBe(p);
    const err = await rejection(fh.read(Buffer.alloc(1)));
    expect(err).toBeInstanceOf(AioError);
    expect(err).toMatchObject({ code: 'EBADF', errno: -9, syscall: 'read' });
  });

  test('accepts a Buffer or URL path and numeric flags', async () => {
    const { path: p } = tmpFile('xyz');
    const a = await fulfilment(promises.open(Buffer.from(p), fs.constants.O_RDONLY));
    const b = await fulfilment(promises.open(pathToFileURL(p)));
    const buf = Buffer.alloc(3);
    await a.read(buf, { position: 0 });
    expect(buf.toString()).toBe('xyz');
    expect((await b.read(Buffer.alloc(3), { position: 1 })).bytesRead).toBe(2);
    await Promise.all([a.close(), b.close()]);
  });

  test('Symbol.asyncDispose closes the handle', async () => {
    const { path: p } = tmpFile('abc');
    const fh = await promises.open(p, 'r');
    await fh[Symbol.asyncDispose]();
    expect(fh.fd).toBe(-1);
    expect((await rejection(fh.sync())) as AioError).toMatchObject({ code: 'EBADF', syscall: 'fsync' });
  });

  test('await using closes the handle at the end of the block', async () => {
    const { path: p } = tmpFile('abc');
    let escaped: AioFileHandle | undefined;
    {
      await using fh = await promises.open(p, 'r');
      escaped = fh;
      const buf = Buffer.alloc(3);
      await fh.read(buf, { position: 0 });
      expect(buf.toString()).toBe('abc');
    }
    expect(escaped?.fd).toBe(-1);
  });

  test('closing while a read is in the thread pool waits for it; queued ones are canceled', async () => {
    aio_init({ aio_threads: 1 });
    try {
      const f = fifo();
      const fh = new AioFileHandle(f.fd);
      untrack(f.fd);
      const inFlight = observe(fh.read(Buffer.alloc(2)));
      const queued = observe(fh.read(Buffer.alloc(2)));
      const closed = observe(fh.close());
      await flush();
      expect(queued.rejected).toBe(true);
      expect(queued.reason).toMatchObject({ code: 'ECANCELED', syscall: 'read' });
      expect(inFlight.settled).toBe(false);
      expect(closed.settled).toBe(false);
      fs.writeSync(f.peer, 'hi');
      await Promise.all([inFlight.done, closed.done]);
      expect(inFlight.value?.bytesRead).toBe(2);
      expect(closed.rejected).toBe(false);
    } finally {
      aio_init({ aio_threads: DEFAULTS.maxInFlight });
    }
  });
});

describe('signal and timeout on real descriptors', () => {
  afterEach(() => aio_init({ aio_threads: DEFAULTS.maxInFlight }));

  test('abort while a FIFO read is in the thread pool: the read still completes with its data', async () => {
    const f = fifo();
    const ac = new AbortController();
    const buf = Buffer.alloc(2);
    const p = observe(promises.read(f.fd, buf, { signal: ac.signal }));
    await flush();
    ac.abort();
    await flush();
    expect(p.settled).toBe(false);
    fs.writeSync(f.peer, 'ok');
    await p.done;
    expect(p.rejected).toBe(false);
    expect(p.value?.bytesRead).toBe(2);
    expect(buf.toString()).toBe('ok');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  });

  test('abort while queued rejects AbortError and the file is never read into the buffer', async () => {
    aio_init({ aio_threads: 1 });
    const f = fifo();
    const { fd } = tmpFile(ALPHA, 'r');
    const blocker = observe(promises.read(f.fd, Buffer.alloc(1)));
    const ac = new AbortController();
    const buf = Buffer.alloc(4, 0xee);
    const p = observe(promises.read(fd, buf, { position: 0, signal: ac.signal }));
    await flush();
    ac.abort();
    await p.done;
    expect(p.reason).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect((p.reason as Error).cause).toBe(ac.signal.reason);
    fs.writeSync(f.peer, 'x');
    await blocker.done;
    await flush();
    expect(buf.equals(Buffer.alloc(4, 0xee))).toBe(true);
  });

  test('a timeout while queued rejects ETIMEDOUT and the buffer is never touched', async () => {
    aio_init({ aio_threads: 1 });
    const f = fifo();
    const { fd } = tmpFile(ALPHA, 'r');
    const blocker = observe(promises.read(f.fd, Buffer.alloc(1)));
    const buf = Buffer.alloc(4, 0xee);
    const p = observe(promises.read(fd, buf, { position: 0, timeout: 20 }));
    await p.done;
    expect(p.reason).toBeInstanceOf(AioError);
    expect(p.reason).toMatchObject({ code: 'ETIMEDOUT', errno: -110, syscall: 'read', message: 'ETIMEDOUT: connection timed out, read' });
    fs.writeSync(f.peer, 'x');
    await blocker.done;
    await flush();
    expect(buf.equals(Buffer.alloc(4, 0xee))).toBe(true);
  });

  test('a timeout that expires while the read is in the thread pool changes nothing', async () => {
    const f = fifo();
    const p = observe(promises.read(f.fd, Buffer.alloc(3), { timeout: 5 }));
    await sleep(30);
    expect(p.settled).toBe(false);
    fs.writeSync(f.peer, 'abc');
    await p.done;
    expect(p.value?.bytesRead).toBe(3);
  });

  test('a 1-hour timeout on a request that completes leaves no timer behind', async () => {
    const { fd } = tmpFile(ALPHA, 'r');
    const base = timeouts();
    const p = promises.read(fd, Buffer.alloc(4), { position: 0, timeout: 3_600_000 });
    expect(timeouts()).toBe(base + 1);
    expect((await fulfilment(p)).bytesRead).toBe(4);
    expect(timeouts()).toBe(base);
    expect(engine().outstanding).toBe(0);
  });

  test('100 requests sharing one signal give no MaxListenersExceededWarning (real process, child)', () => {
    const { path: file } = tmpFile(ALPHA.repeat(10), 'r');
    const root = path.resolve(__dirname, '../..');
    const child = path.join(tmpDir(), `child-warning-${process.pid}.ts`);
    fs.writeFileSync(
      child,
      `
      import * as fs from 'node:fs';
      import { promises } from ${JSON.stringify(path.join(root, 'src/index'))};
      const warnings: string[] = [];
      process.on('warning', (w) => warnings.push(w.name));
      const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
      async function main(): Promise<void> {
        // Control: an 11th listener on one signal does warn, and the spy sees it.
        const control = new AbortController();
        for (let i = 0; i < 11; i++) control.signal.addEventListener('abort', () => undefined);
        await tick();
        const controlSaw = warnings.includes('MaxListenersExceededWarning');
        warnings.length = 0;
        const fd = fs.openSync(${JSON.stringify(file)}, 'r');
        const ac = new AbortController();
        const list = [];
        for (let i = 0; i < 100; i++) list.push(promises.read(fd, Buffer.alloc(1), { position: i * 2, signal: ac.signal }));
        const all = await Promise.allSettled(list);
        const ac2 = new AbortController();
        const ops = Array.from({ length: 100 }, (_, i) => ({ op: 'read' as const, fd, buffer: Buffer.alloc(1), position: i * 2 }));
        const pending = promises.batch(ops, { signal: ac2.signal });
        ac2.abort();
        const batch = await pending;
        await tick();
        console.log(JSON.stringify({
          controlSaw,
          warnings,
          fulfilled: all.filter((r) => r.status === 'fulfilled').length,
          batchSettled: batch.length,
        }));
      }
      void main();
      `,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', child], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.signal).toBeNull();
    // Node prints each warning to stderr too: the control's, and nothing else.
    expect(r.stderr.match(/MaxListenersExceededWarning/g)).toHaveLength(1);
    const out = JSON.parse(r.stdout.trim()) as { controlSaw: boolean; warnings: string[]; fulfilled: number; batchSettled: number };
    expect(out.controlSaw).toBe(true);
    expect(out.warnings).toEqual([]);
    expect(out.fulfilled).toBe(100);
    expect(out.batchSettled).toBe(100);
    expect(r.status).toBe(0);
  }, 90_000);
});

describe('Node 20\'s fs traps (SPEC section 4), through the Promise face', () => {
  afterEach(() => aio_init({ aio_threads: DEFAULTS.maxInFlight }));

  /** `n` bytes 0, 1, ... 250, 0, 1 ... */
  function pattern(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = i % 251;
    return b;
  }

  const ones = (n: number): Buffer[] => Array.from({ length: n }, () => Buffer.alloc(1));

  test('readv of 2500 buffers (more than IOV_MAX) reads them all, at a number, a bigint and the current position', async () => {
    const content = pattern(2600);
    const { fd } = tmpFile(content, 'r');
    const a = ones(2500);
    expect((await fulfilment(promises.readv(fd, a, { position: 50 }))).bytesRead).toBe(2500);
    expect(Buffer.concat(a).equals(content.subarray(50, 2550))).toBe(true);
    const b = ones(2500);
    expect((await fulfilment(promises.readv(fd, b, { position: 7n }))).bytesRead).toBe(2500);
    expect(Buffer.concat(b).equals(content.subarray(7, 2507))).toBe(true);
    const c = ones(2500);
    expect((await fulfilment(promises.readv(fd, c))).bytesRead).toBe(2500);
    expect(Buffer.concat(c).equals(content.subarray(0, 2500))).toBe(true);
    // The current position moved by all 2500 bytes, not by the first 1024.
    expect(fs.readSync(fd, Buffer.alloc(200), 0, 200, null)).toBe(100);
  });

  test('readv of 2500 buffers stops short at end of file, past a chunk boundary', async () => {
    const { fd } = tmpFile(pattern(2600), 'r');
    expect((await fulfilment(promises.readv(fd, ones(2500), { position: 1000 }))).bytesRead).toBe(1600);
    expect((await fulfilment(promises.readv(fd, ones(2500), { position: 2600 - 1024 }))).bytesRead).toBe(1024);
  });

  test('two adjacent readv requests of 800 buffers each (merged past IOV_MAX) both read everything', async () => {
    const content = pattern(1600);
    const { fd } = tmpFile(content, 'r');
    const a = ones(800);
    const b = ones(800);
    const r = await fulfilment(
      promises.batch([
        { op: 'readv', fd, buffers: a, position: 0 },
        { op: 'readv', fd, buffers: b, position: 800 },
      ]),
    );
    expect(r.map((x) => (x.status === 'fulfilled' ? (x.value as { bytesRead: number }).bytesRead : x.reason))).toEqual([800, 800]);
    expect(Buffer.concat([...a, ...b]).equals(content)).toBe(true);
  });

  test('writev of 2500 buffers at a bigint position writes them all there', async () => {
    const { path: p, fd } = tmpFile('0123456789abcdef');
    fs.readSync(fd, Buffer.alloc(4), 0, 4, null); // the current position is 4: a bigint must not mean it
    const bufs = Array.from({ length: 2500 }, (_, i) => Buffer.from([i % 251]));
    expect((await fulfilment(promises.writev(fd, bufs, { position: 10n }))).bytesWritten).toBe(2500);
    const data = fs.readFileSync(p);
    expect(data.subarray(0, 10).toString()).toBe('0123456789');
    expect(data.subarray(10).equals(Buffer.concat(bufs))).toBe(true);
  });

  test('write, writev and readv at a bigint position ignore the current file position', async () => {
    const { path: p, fd } = tmpFile('..........');
    fs.readSync(fd, Buffer.alloc(5), 0, 5, null); // current position 5
    await fulfilment(promises.write(fd, Buffer.from('W'), { position: 1n }));
    await fulfilment(promises.writev(fd, [Buffer.from('V')], { position: 2n }));
    expect(fs.readFileSync(p, 'utf8')).toBe('.WV.......');
    const v = ones(2);
    await fulfilment(promises.readv(fd, v, { position: 1n }));
    expect(Buffer.concat(v).toString()).toBe('WV');
    // None of them moved the descriptor's position.
    const rest = Buffer.alloc(10);
    expect(fs.readSync(fd, rest, 0, 10, null)).toBe(5);
  });

  test('a zero-length read on a descriptor not open for reading rejects EBADF (the read reaches the kernel)', async () => {
    const { fd } = tmpFile('abc', 'w');
    const fh = await fs.promises.open(tmpFile('abc').path, 'w');
    try {
      for (const p of [
        promises.read(fd, Buffer.alloc(0), { position: 0 }),
        promises.read(fd, Buffer.alloc(8), { length: 0 }),
        promises.readv(fd, [], { position: 0n }),
        promises.readv(fd, [Buffer.alloc(0)]),
      ]) {
        const err = await rejection(p);
        expect(err).toBeInstanceOf(AioError);
        expect(shape(err)).toEqual({ code: 'EBADF', errno: -9, syscall: 'read', message: 'EBADF: bad file descriptor, read' });
      }
    } finally {
      await fh.close();
    }
  });

  test('a zero-length write on a descriptor not open for writing rejects EBADF', async () => {
    const { fd } = tmpFile('abc', 'r');
    for (const p of [
      promises.write(fd, Buffer.alloc(0), { position: 0 }),
      promises.write(fd, Buffer.alloc(8), { offset: 8 }),
      promises.writev(fd, [], { position: 1n }),
    ]) {
      expect(shape(await rejection(p))).toEqual({ code: 'EBADF', errno: -9, syscall: 'write', message: 'EBADF: bad file descriptor, write' });
    }
  });

  test('a zero-length read or write on a closed descriptor rejects EBADF', async () => {
    const fd = closedFd();
    expect(shape(await rejection(promises.read(fd, Buffer.alloc(0))))).toMatchObject({ code: 'EBADF', syscall: 'read' });
    expect(shape(await rejection(promises.writev(fd, [])))).toMatchObject({ code: 'EBADF', syscall: 'write' });
  });

  test('zero-length reads on an open file resolve 0, at any position', async () => {
    const { fd } = tmpFile('abc', 'r');
    expect((await fulfilment(promises.read(fd, Buffer.alloc(0), { position: 100 }))).bytesRead).toBe(0);
    expect((await fulfilment(promises.read(fd, Buffer.alloc(4), { position: 3 }))).bytesRead).toBe(0);
    expect((await fulfilment(promises.readv(fd, [], { position: 0 }))).bytesRead).toBe(0);
  });

  test('positions on a pipe are ignored: no ESPIPE, data in order', async () => {
    const f = fifo();
    expect((await fulfilment(promises.write(f.fd, Buffer.from('hello'), { position: 1000 }))).bytesWritten).toBe(5);
    expect((await fulfilment(promises.writev(f.fd, [Buffer.from('x'), Buffer.from('y')], { position: 3n }))).bytesWritten).toBe(2);
    const got = Buffer.alloc(7);
    expect(fs.readSync(f.peer, got)).toBe(7);
    expect(got.toString()).toBe('helloxy');
    fs.writeSync(f.peer, 'worldab');
    const r = Buffer.alloc(5);
    expect((await fulfilment(promises.read(f.fd, r, { position: 12n }))).bytesRead).toBe(5);
    expect(r.toString()).toBe('world');
    const v = ones(2);
    expect((await fulfilment(promises.readv(f.fd, v, { position: 5 }))).bytesRead).toBe(2);
    expect(Buffer.concat(v).toString()).toBe('ab');
  });

  test('a buffer detached while its request is queued makes the request reject, never throw out of the engine', async () => {
    aio_init({ aio_threads: 1 });
    const f = fifo();
    const { fd } = tmpFile('abcdefgh', 'r');
    const blocker = observe(promises.read(f.fd, Buffer.alloc(1)));
    const ab = new ArrayBuffer(8);
    const p = observe(promises.read(fd, new Uint8Array(ab), { position: 0 }));
    const w = observe(promises.writev(tmpFile('').fd, [new Uint8Array(ab), Buffer.from('x')], { position: 0 }));
    structuredClone(ab, { transfer: [ab] });
    await flush();
    expect(p.settled || w.settled).toBe(false);
    fs.writeSync(f.peer, 'x');
    await Promise.all([blocker.done, p.done, w.done]);
    expect(p.reason).toBeInstanceOf(AioError);
    // C would fault on the address: EFAULT, not a made-up EIO.
    expect(p.reason).toMatchObject({ syscall: 'read', code: 'EFAULT' });
    // writev of a detached view writes what is left, or fails: either way it settles once.
    expect(w.rejected ? (w.reason as AioError).syscall : (w.value as { bytesWritten: number }).bytesWritten).toEqual(w.rejected ? 'write' : 1);
  });

  test('50 writes on a pipe with scattered positions and priorities arrive in submission order', async () => {
    const f = fifo();
    const letters = Array.from({ length: 50 }, (_, i) => String.fromCharCode(65 + (i % 26)));
    await Promise.all(letters.map((s, i) => promises.write(f.fd, Buffer.from(s), { position: 50 - i, priority: i % 3 === 0 ? 20 : 0 })));
    const got = Buffer.alloc(50);
    expect(fs.readSync(f.peer, got)).toBe(50);
    expect(got.toString()).toBe(letters.join(''));
  });

  test('60 writes queued together on an O_APPEND descriptor land in submission order, whatever their positions', async () => {
    aio_init({ aio_threads: 2 });
    const { path: p, fd } = tmpFile('S', 'a');
    const parts = Array.from({ length: 60 }, (_, i) => `<${i}>`);
    await Promise.all(
      parts.map((s, i) =>
        i % 3 === 0
          ? promises.write(fd, Buffer.from(s), { position: 0 })
          : i % 3 === 1
            ? promises.writev(fd, [Buffer.from(s)], { position: BigInt(i * 7) })
            : promises.write(fd, Buffer.from(s)),
      ),
    );
    expect(fs.readFileSync(p, 'utf8')).toBe(`S${parts.join('')}`);
  });
});

describe('buffers of every kind, on a real file', () => {
  const kinds = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView];
  type ViewCtor = new (b: ArrayBuffer, byteOffset: number, length: number) => ArrayBufferView;
  /** A view of `bytes` bytes at byte `at` of a new ArrayBuffer of `size` bytes. */
  function viewOf(Ctor: (typeof kinds)[number], size: number, at: number, bytes: number): ArrayBufferView {
    const per = Ctor === DataView ? 1 : (Ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    return new (Ctor as unknown as ViewCtor)(new ArrayBuffer(size), at, bytes / per);
  }

  const content = Buffer.from(Array.from({ length: 64 }, (_, i) => i + 1));

  test.each(kinds.map((k) => [k.name, k] as const))('%s: read fills exactly its bytes; offset and length count bytes; a short read at end of file', async (_name, Ctor) => {
    const { fd } = tmpFile(content, 'r');
    const view = viewOf(Ctor, 48, 8, 32);
    const r = await fulfilment(promises.read(fd, view, { position: 4 }));
    expect(r.bytesRead).toBe(32);
    expect(r.buffer).toBe(view);
    expect(Buffer.from(view.buffer).equals(Buffer.concat([Buffer.alloc(8), content.subarray(4, 36), Buffer.alloc(8)]))).toBe(true);
    const tail = viewOf(Ctor, 48, 8, 32);
    expect((await fulfilment(promises.read(fd, tail, { position: 60, offset: 8, length: 16 }))).bytesRead).toBe(4);
    expect(Buffer.from(tail.buffer).equals(Buffer.concat([Buffer.alloc(16), content.subarray(60, 64), Buffer.alloc(28)]))).toBe(true);
  });

  test.each(kinds.map((k) => [k.name, k] as const))('%s: writev and readv move its bytes, in the view\'s window only', async (_name, Ctor) => {
    const { path: p, fd } = tmpFile('');
    const a = viewOf(Ctor, 32, 8, 16);
    new Uint8Array(a.buffer).set(content.subarray(0, 32));
    const b = viewOf(Ctor, 16, 0, 8);
    new Uint8Array(b.buffer).set(content.subarray(40, 56));
    expect((await fulfilment(promises.writev(fd, [a, b], { position: 0 }))).bytesWritten).toBe(24);
    expect(fs.readFileSync(p).equals(Buffer.concat([content.subarray(8, 24), content.subarray(40, 48)]))).toBe(true);
    const c = viewOf(Ctor, 24, 8, 8);
    const d = viewOf(Ctor, 16, 0, 16);
    expect((await fulfilment(promises.readv(fd, [c, d], { position: 0 }))).bytesRead).toBe(24);
    expect(Buffer.from(c.buffer).equals(Buffer.concat([Buffer.alloc(8), content.subarray(8, 16), Buffer.alloc(8)]))).toBe(true);
    expect(Buffer.from(d.buffer).equals(Buffer.concat([content.subarray(16, 24), content.subarray(40, 48)]))).toBe(true);
  });

  test('position -1n reads from the current file position, as fs.read takes it', async () => {
    const { path: p, fd } = tmpFile(ALPHA, 'r');
    const other = track(fs.openSync(p, 'r'));
    const ours = Buffer.alloc(3);
    const theirs = Buffer.alloc(3);
    for (let i = 0; i < 2; i++) {
      await fulfilment(promises.read(fd, ours, { position: -1n }));
      expect(fs.readSync(other, theirs, 0, 3, -1n)).toBe(3);
      expect(ours.equals(theirs)).toBe(true);
    }
    expect(ours.toString()).toBe('def');
  });
});

describe('a long-lived signal', () => {
  test('2000 requests on one signal, one after another and all at once, leave no listener and nothing outstanding', async () => {
    const { fd } = tmpFile(Buffer.alloc(4096), 'r');
    const ac = new AbortController();
    for (let i = 0; i < 200; i++) {
      expect((await fulfilment(promises.read(fd, Buffer.alloc(1), { position: i, signal: ac.signal }))).bytesRead).toBe(1);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    }
    const base = timeouts();
    const all = Array.from({ length: 2000 }, (_, i) => promises.read(fd, Buffer.alloc(1), { position: i, signal: ac.signal, timeout: 3_600_000 }));
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(1);
    const results = await Promise.all(all);
    expect({
      short: results.filter((r) => r.bytesRead !== 1).length,
      listeners: getEventListeners(ac.signal, 'abort').length,
      timers: timeouts() - base,
      outstanding: engine().outstanding,
    }).toEqual({ short: 0, listeners: 0, timers: 0, outstanding: 0 });
  });
});
