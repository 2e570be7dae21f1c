import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AioControlBlock,
  aio_error,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  aio_cancel,
  AIO_CANCELED,
} from '../../src/index';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { cleanup, fifo, tmpDir, tmpFile, track } from '../helpers/files';
import { flush } from '../helpers/mustcall';

afterAll(cleanup);

const root = path.resolve(__dirname, '../..');

/** Runs a TypeScript snippet (importing the package source) in a child Node process. */
function runChild(source: string, timeoutMs = 15000): { status: number | null; stdout: string; stderr: string; signal: NodeJS.Signals | null } {
  const file = path.join(tmpDir(), `child-${Math.random().toString(36).slice(2)}.ts`);
  fs.writeFileSync(file, source.replaceAll('@src', path.join(root, 'src/index')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

describe('engine on real descriptors', () => {
  afterEach(() => aio_init({ aio_threads: DEFAULTS.maxInFlight }));

  test('a request queued on a descriptor closed and reused behind the library fails with EBADF and never touches the new file', async () => {
    aio_init({ aio_threads: 1 });
    const f = fifo();
    const hold = new AioControlBlock({ aio_fildes: f.fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1 });
    expect(aio_read(hold)).toBe(0); // blocks in the thread pool until the peer writes
    const a = tmpFile('original');
    const w = new AioControlBlock({ aio_fildes: a.fd, aio_buf: Buffer.from('CLOBBER'), aio_nbytes: 7 });
    expect(aio_write(w)).toBe(0);
    expect(aio_error(w)).toBe(EINPROGRESS);
    fs.closeSync(a.fd); // behind the library's back
    const bPath = path.join(tmpDir(), 'victim');
    fs.writeFileSync(bPath, 'victim data');
    const b = track(fs.openSync(bPath, 'r+'));
    expect(b).toBe(a.fd); // the kernel hands out the lowest free number
    fs.writeSync(f.peer, 'x');
    await aio_suspend([w], 1);
    expect(aio_error(w)).toBe(EBADF);
    expect(aio_return(w)).toBe(-1);
    expect(fs.readFileSync(bPath, 'utf8')).toBe('victim data');
    expect(fs.readFileSync(a.path, 'utf8')).toBe('original');
    await aio_suspend([hold], 1);
    expect(aio_return(hold)).toBe(1);
  });

  test('with the cap full of blocked FIFO reads, later requests stay queued and cancelable', async () => {
    aio_init({ aio_threads: 2 });
    const fifos = [fifo(), fifo()];
    const blocked = fifos.map((f) => new AioControlBlock({ aio_fildes: f.fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1 }));
    for (const cb of blocked) expect(aio_read(cb)).toBe(0);
    const file = tmpFile('data');
    const queued = new AioControlBlock({ aio_fildes: file.fd, aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
    expect(aio_read(queued)).toBe(0);
    await flush();
    expect(aio_error(queued)).toBe(EINPROGRESS);
    expect(engine().counters.inFlight).toBe(2);
    expect(aio_cancel(file.fd, queued)).toBe(AIO_CANCELED);
    expect(aio_error(queued)).toBe(ECANCELED);
    for (const f of fifos) fs.writeSync(f.peer, 'y');
    await aio_suspend([blocked[0] ?? null], 1);
    await aio_suspend([blocked[1] ?? null], 1);
    expect(blocked.map((cb) => aio_return(cb))).toEqual([1, 1]);
  });
});

describe('process-level behaviour (child processes)', () => {
  test('a notify function that throws surfaces as an uncaught exception, and the other notifications still run', () => {
    const r = runChild(`
      import * as fs from 'node:fs';
      import * as os from 'node:os';
      import * as path from 'node:path';
      import { AioControlBlock, aio_read, aio_error, SIGEV_THREAD } from '@src';
      const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aio-child-')), 'f');
      fs.writeFileSync(p, 'abc');
      const fd = fs.openSync(p, 'r');
      const seen: string[] = [];
      process.on('uncaughtException', (err) => { seen.push('uncaught:' + err.message); });
      const mk = (tag: string, fn: (v: unknown) => void) => new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(1), aio_nbytes: 1,
        aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: tag } });
      const a = mk('a', (v) => seen.push(String(v)));
      const b = mk('b', () => { throw new Error('from notify'); });
      const c = mk('c', (v) => seen.push(String(v)));
      for (const cb of [a, b, c]) aio_read(cb);
      setTimeout(() => { console.log(JSON.stringify({ seen, errors: [a, b, c].map(aio_error) })); }, 300);
    `);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout.trim()) as { seen: string[]; errors: number[] };
    expect(out.seen).toEqual(['a', 'uncaught:from notify', 'c']);
    expect(out.errors).toEqual([0, 0, 0]);
    expect(r.status).toBe(0);
  });

  test('the process exits by itself once every request is done (nothing keeps the event loop alive)', () => {
    const r = runChild(`
      import * as fs from 'node:fs';
      import * as os from 'node:os';
      import * as path from 'node:path';
      import { AioControlBlock, aio_read, aio_write, aio_fsync, aio_suspend, lio_listio, LIO_WAIT, LIO_READ, O_SYNC } from '@src';
      const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aio-child-')), 'f');
      fs.writeFileSync(p, 'hello');
      const fd = fs.openSync(p, 'r+');
      (async () => {
        const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('HE'), aio_nbytes: 2 });
        aio_write(w);
        const s = new AioControlBlock({ aio_fildes: fd });
        aio_fsync(O_SYNC, s);
        await aio_suspend([s], 1, { tv_sec: 5, tv_nsec: 0 });
        const r = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(5), aio_nbytes: 5, aio_lio_opcode: LIO_READ });
        await lio_listio(LIO_WAIT, [r], 1);
        console.log((r.aio_buf as Buffer).toString());
      })();
    `, 10000);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('HEllo');
  });
});
