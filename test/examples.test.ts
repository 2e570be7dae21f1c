/**
 * Runs every example (undici's test/examples.js idea): the examples are
 * documentation, and documentation that is never run rots. Each one works in a
 * temp dir of its own, logs through a capturing `log`, and must leave behind no
 * file, no outstanding request and the default in-flight cap.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AIO_ALLDONE, AIO_CANCELED, AIO_NOTCANCELED, EAGAIN, EBADF, ECANCELED, EINPROGRESS, EINTR, EINVAL, NNG_ECANCELED, strerror,
} from '../src/index';
import { DEFAULTS, engine } from '../src/engine/queue';
import { cleanup, tmpDir } from './helpers/files';
import { main as aio7 } from '../examples/aio7';
import { main as aio_cancel } from '../examples/aio_cancel';
import { main as aio_error } from '../examples/aio_error';
import { main as aio_fsync } from '../examples/aio_fsync';
import { main as aio_read } from '../examples/aio_read';
import { main as aio_return } from '../examples/aio_return';
import { main as aio_suspend } from '../examples/aio_suspend';
import { main as aio_write } from '../examples/aio_write';
import { main as demo } from '../examples/demo';
import { main as lio_listio } from '../examples/lio_listio';
import { main as readme_nng } from '../examples/readme-nng';
import { main as readme_posix } from '../examples/readme-posix';
import { main as readme_promises } from '../examples/readme-promises';

type Main<T> = (opts?: { dir?: string; log?: (line: string) => void }) => Promise<T>;

/** The examples this file runs, by file name. */
const COVERED = ['aio7', 'aio_cancel', 'aio_error', 'aio_fsync', 'aio_read', 'aio_return', 'aio_suspend', 'aio_write', 'demo', 'lio_listio', 'readme-nng', 'readme-posix', 'readme-promises'];

const ROOT = path.join(__dirname, '..');

/** Runs an example's main in a fresh temp dir and checks that it cleaned up after itself. */
async function run<T>(main: Main<T>): Promise<{ result: T; lines: string[] }> {
  const dir = fs.mkdtempSync(path.join(tmpDir(), 'example-'));
  const lines: string[] = [];
  const result = await main({ dir, log: (line) => void lines.push(line) });
  expect(fs.readdirSync(dir)).toEqual([]);
  expect(engine().outstanding).toBe(0);
  expect(engine().maxInFlight).toBe(DEFAULTS.maxInFlight);
  expect(lines.length).toBeGreaterThan(0);
  return { result, lines };
}

/** Runs a file with tsx, as a user would; resolves with its exit code and output. */
function tsx(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

afterAll(cleanup);

describe('examples/', () => {
  test('every example is run by this file (except run.ts and the nng-*.ts ones)', () => {
    const files = fs
      .readdirSync(path.join(ROOT, 'examples'))
      .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('nng-'))
      .map((f) => f.slice(0, -3))
      .sort();
    expect(files).toEqual([...COVERED].sort());
  });
});

describe('examples/aio_read.ts', () => {
  test('reads 16 bytes at offset 4 and returns them', async () => {
    const { result, lines } = await run(aio_read);
    expect(result).toEqual({ status: 0, nbytes: 16, data: 'quick brown fox ' });
    expect(lines).toContain('aio_return: 16 bytes: "quick brown fox "');
  });

  test('prints EINPROGRESS in words, as strerror(3) does', async () => {
    const { lines } = await run(aio_read);
    expect(lines[1]).toBe(`aio_error: ${strerror(EINPROGRESS)} (EINPROGRESS until the read is done)`);
    expect(strerror(EINPROGRESS)).toBe('Operation now in progress');
  });
});

describe('examples/aio_write.ts', () => {
  test('writes two pieces at their offsets and the file holds both', async () => {
    const { result } = await run(aio_write);
    expect(result).toEqual({ statuses: [0, 0], returns: [7, 19], content: 'hello, asynchronous world\n' });
  });
});

describe('examples/aio_fsync.ts', () => {
  test('the O_SYNC barrier is notified after both writes, and both syncs succeed', async () => {
    const { result, lines } = await run(aio_fsync);
    expect(result.fsyncStatus).toBe(0);
    expect(result.dsyncStatus).toBe(0);
    expect(result.content).toBe('entry 1\nentry 2\n');
    expect(result.order).toHaveLength(3);
    expect(result.order[2]).toBe('fsync(O_SYNC)');
    expect(result.order.slice(0, 2).sort()).toEqual(['write 0', 'write 1']);
    expect(lines).toContain('notification: fsync(O_SYNC) done');
  });
});

describe('examples/aio_error.ts', () => {
  test('shows -1/EINVAL, EINPROGRESS, ECANCELED, 0 and a deferred EBADF', async () => {
    const { result, lines } = await run(aio_error);
    expect(result).toEqual({
      'never submitted': -1,
      'never submitted errno': EINVAL,
      'write, just queued': EINPROGRESS,
      'overlapping write, canceled': ECANCELED,
      'write, completed': 0,
      'read on a write-only descriptor': EBADF,
    });
    expect(lines).toContain('aio_error(overlapping write, canceled): Canceled');
    expect(lines).toContain(`aio_error(read on a write-only descriptor): failed: ${strerror(EBADF)}`);
  });
});

describe('examples/aio_return.ts', () => {
  test('gives a short count at EOF, 0 past it, -1 on failure, and EINVAL too early or twice', async () => {
    const { result } = await run(aio_return);
    expect(result).toEqual({
      'too early': -1,
      'too early errno': EINVAL,
      'read 64 bytes of a 10-byte file': 10,
      'read at offset 100, past the end': 0,
      'read a write-only descriptor': -1,
      'read a write-only descriptor (aio_error)': EBADF,
      'second call': -1,
      'second call errno': EINVAL,
    });
  });
});

describe('examples/aio_suspend.ts', () => {
  test('waits for three reads, times out with EAGAIN, is interrupted with EINTR, then wakes', async () => {
    const { result } = await run(aio_suspend);
    const { wakeups, ...rest } = result;
    expect(wakeups).toBeGreaterThanOrEqual(1);
    expect(wakeups).toBeLessThanOrEqual(3);
    expect(rest).toEqual({
      words: 'alpha beta gamma',
      timeout: -1,
      'timeout errno': EAGAIN,
      poll: -1,
      'poll errno': EAGAIN,
      interrupted: -1,
      'interrupted errno': EINTR,
      'after feeding': 0,
      fifo: 'wake up',
    });
  });
});

describe('examples/aio_cancel.ts', () => {
  test('cancels queued reads, not the running one, and notifies the canceled ones first', async () => {
    const { result, lines } = await run(aio_cancel);
    expect(result).toEqual({
      'the read in the thread pool': AIO_NOTCANCELED,
      'a queued read': AIO_CANCELED,
      'queued: aio_error': ECANCELED,
      'queued: aio_return': -1,
      'everything on the FIFO': AIO_NOTCANCELED,
      'another: aio_error': ECANCELED,
      'running: read': 'data',
      'the finished read': AIO_ALLDONE,
      'a closed descriptor': -1,
      'closed: errno': EBADF,
      notified: 'queued, another, running',
    });
    expect(lines).toContain('aio_cancel(a queued read): AIO_CANCELED');
  });
});

describe('examples/aio7.ts', () => {
  test('the aio(7) program: SIGQUIT cancels the queued read; the running one completes', async () => {
    const { result, lines } = await run(aio7);
    expect(result).toEqual({ statuses: [0, ECANCELED], returns: [4, -1], canceled: [AIO_NOTCANCELED, AIO_CANCELED], signals: 2 });
    expect(lines.filter((l) => l === 'I/O completion signal received')).toHaveLength(2);
    expect(lines).toContain('got SIGQUIT; canceling I/O requests: ');
    expect(lines.some((l) => /^ {4}Request 0 on descriptor \d+: I\/O not canceled$/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {4}Request 1 on descriptor \d+: I\/O canceled$/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {4}for request 0 \(descriptor \d+\): 4$/.test(l))).toBe(true);
    expect(lines.indexOf('All I/O requests completed')).toBe(lines.indexOf('aio_return():') - 1);
    expect(process.listenerCount('SIGQUIT')).toBe(0);
    expect(process.listenerCount('SIGUSR2')).toBe(0);
  });
});

describe('examples/lio_listio.ts', () => {
  test('LIO_WAIT writes and reads in one call; LIO_NOWAIT notifies the list after its entries', async () => {
    const { result } = await run(lio_listio);
    expect(result.waitResult).toBe(0);
    expect(result.nowaitResult).toBe(0);
    expect(result.statuses).toEqual([0, 0, 0, 0]);
    expect(result.readFromInput).toBe('first line\nsecond line\n');
    expect(result.readBack).toBe('header|body\n');
    expect(result.order).toHaveLength(3);
    expect(result.order[2]).toBe('list');
    expect(result.order.slice(0, 2).sort()).toEqual(['entry 0', 'entry 1']);
  });
});

describe('examples/demo.ts', () => {
  test('writes, syncs, reads back, times out, cancels the queued read and feeds the FIFO', async () => {
    const { result, lines } = await run(demo);
    expect(result).toEqual({
      fsync: 0,
      lio_listio: 0,
      'read back': 'Hello from posix-aio!\n',
      suspend: -1,
      'suspend errno': EAGAIN,
      'cancel queued': AIO_CANCELED,
      'queued status': ECANCELED,
      'cancel running': AIO_NOTCANCELED,
      fifo: 'ping',
    });
    expect(lines[0]).toMatch(/^posix-aio demo, working in /);
    expect(lines[lines.length - 1]).toBe('closed both descriptors and removed the temp files');
  });

  test('`tsx examples/demo.ts` (npm run demo) prints the demo and exits by itself', async () => {
    const { code, stdout } = await tsx('examples/demo.ts');
    expect(code).toBe(0);
    expect(stdout).toContain('lio_listio(LIO_WAIT): read back "Hello from posix-aio!\\n"');
    expect(stdout.trim().split('\n').pop()).toBe('closed both descriptors and removed the temp files');
  }, 60_000);
});

describe('examples/run.ts', () => {
  test('runs an example by name', async () => {
    const { code, stdout } = await tsx('examples/run.ts', 'aio_read');
    expect(code).toBe(0);
    expect(stdout).toContain('aio_return: 16 bytes: "quick brown fox "');
  }, 60_000);

  test('refuses a name that is not an example', async () => {
    const { code, stderr } = await tsx('examples/run.ts', 'no_such_example');
    expect(code).toBe(1);
    expect(stderr).toContain('no example named "no_such_example"');
  }, 60_000);
});

describe('examples/readme-posix.ts', () => {
  test('reads the first 4 KiB and cancels the queued second read', async () => {
    const { result, lines } = await run(readme_posix);
    expect(result).toEqual({ canceled: AIO_CANCELED, 'second aio_error': ECANCELED, 'first bytes': 4096, 'first data matches': true });
    expect(lines).toContain('read 4096 bytes');
  });
});

describe('examples/readme-nng.ts', () => {
  test('reads the first 4 KiB and cancels the queued second read', async () => {
    const { result } = await run(readme_nng);
    expect(result).toEqual({ 'first result': 0, 'first count': 4096, 'second result': NNG_ECANCELED, 'first data matches': true });
  });
});

describe('examples/readme-promises.ts', () => {
  test('reads the first 4 KiB and aborts the queued second read', async () => {
    const { result } = await run(readme_promises);
    expect(result).toEqual({ first: 4096, 'first data matches': true, second: 'AbortError', 'second code': 'ABORT_ERR' });
  });
});
