/**
 * aio_suspend: wait for the first of several requests; time out; be interrupted.
 *
 * Source: no page has an example of its own. Linux aio_suspend(3) has no EXAMPLES
 * section; POSIX aio_suspend(3p) says "None."; FreeBSD aio_suspend(2) has no
 * EXAMPLES section. This is the page's canonical usage instead: suspend on a list,
 * scan it with aio_error, set finished entries to NULL, suspend again.
 *
 * In C, aio_suspend blocks the calling thread. Node has one thread, and blocking
 * it would stop the very completions it waits for, so here it returns a Promise:
 * `await aio_suspend(...)` is the blocking call.
 *
 * Run: npx tsx examples/run.ts aio_suspend
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AioControlBlock, EINPROGRESS, type Aiocb, aio_error, aio_read, aio_return, aio_suspend, errno, lastError, strerror } from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number | string>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_suspend-'));
  const seen: Record<string, number | string> = {};
  const fds: number[] = [];
  const open = (p: string): number => { const fd = fs.openSync(p, 'r+'); fds.push(fd); return fd; };
  // A FIFO nobody writes to: a read of it stays in the thread pool until we feed it.
  // Opening it O_RDWR ('r+') does not block, and `writer` is how we feed it.
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const fifoFd = open(fifo);
  const writer = open(fifo);
  const slow = new AioControlBlock({ aio_fildes: fifoFd, aio_buf: Buffer.alloc(32), aio_nbytes: 32 });
  try {
    // 1. Three reads; wait for them as they finish.
    const list: Array<Aiocb | null> = ['alpha', 'beta', 'gamma'].map((word) => {
      const p = path.join(dir, word);
      fs.writeFileSync(p, word);
      return new AioControlBlock({ aio_fildes: open(p), aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
    });
    for (const cb of list) if (cb !== null && aio_read(cb) === -1) throw lastError();
    // C would spin: while (aio_error(cb) == EINPROGRESS) ; for each request. That
    // never ends on Node: completions are delivered by the event loop, which cannot
    // turn while this single thread spins, so aio_error's answer never changes.
    // Await aio_suspend instead; it returns at once while any listed request is
    // done, so each finished entry is set to null before suspending again.
    let wakeups = 0;
    const words: string[] = [];
    while (list.some((cb) => cb !== null)) {
      if ((await aio_suspend(list, list.length)) === -1) throw lastError();
      wakeups++;
      list.forEach((cb, j) => {
        if (cb === null || aio_error(cb) === EINPROGRESS) return;
        const n = aio_return(cb);
        words[j] = (cb.aio_buf as Buffer).subarray(0, n).toString();
        log(`aio_suspend woke: request ${j} done, read ${JSON.stringify(words[j])}`);
        list[j] = null;
      });
    }
    seen['words'] = words.join(' ');
    seen['wakeups'] = wakeups;

    // 2. A timeout: the FIFO read cannot finish, so aio_suspend fails with EAGAIN.
    if (aio_read(slow) === -1) throw lastError();
    seen['timeout'] = await aio_suspend([slow], 1, { tv_sec: 0, tv_nsec: 50_000_000 });
    seen['timeout errno'] = errno();
    log(`aio_suspend with a 50 ms timeout: ${seen['timeout']} (${strerror(errno())})`);
    seen['poll'] = await aio_suspend([slow], 1, { tv_sec: 0, tv_nsec: 0 }); // {0, 0} polls.
    seen['poll errno'] = errno();
    log(`aio_suspend with a zero timeout (a poll): ${seen['poll']} (${strerror(errno())})`);

    // 3. An interruption: where C gets EINTR from a signal, an AbortSignal aborts.
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    seen['interrupted'] = await aio_suspend([slow], 1, null, ac.signal);
    seen['interrupted errno'] = errno();
    log(`aio_suspend interrupted by an AbortSignal: ${seen['interrupted']} (${strerror(errno())})`);

    // 4. Feed the FIFO: the read completes and aio_suspend returns 0.
    fs.writeSync(writer, 'wake up');
    seen['after feeding'] = await aio_suspend([slow], 1);
    seen['fifo'] = (slow.aio_buf as Buffer).subarray(0, aio_return(slow)).toString();
    log(`aio_suspend after feeding the FIFO: ${seen['after feeding']}, read ${JSON.stringify(seen['fifo'])}`);
    return seen;
  } finally {
    // Never leave a read blocked in the thread pool (it would keep the process alive).
    if (aio_error(slow) === EINPROGRESS) fs.writeSync(writer, '!');
    while (aio_error(slow) === EINPROGRESS) await aio_suspend([slow], 1);
    for (const fd of fds) fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
