/**
 * aio_cancel: what can be canceled and what cannot. A request still queued is
 * canceled (AIO_CANCELED; status ECANCELED, return -1, notification delivered). A
 * request already in the thread pool is not (AIO_NOTCANCELED): it completes
 * normally. One already done gives AIO_ALLDONE; a closed descriptor -1 and EBADF.
 *
 * Source: Linux aio_cancel(3) says only "See aio(7)" (transcribed in aio7.ts);
 * POSIX aio_cancel(3p) says "None."; FreeBSD aio_cancel(2) has no EXAMPLES section.
 * This is the page's canonical usage instead. A FIFO makes "in the thread pool"
 * certain: a read of it waits there until someone writes.
 *
 * Run: npx tsx examples/run.ts aio_cancel
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AIO_ALLDONE, AIO_CANCELED, AIO_NOTCANCELED, AioControlBlock, EINPROGRESS, SIGEV_THREAD,
  aio_cancel, aio_error, aio_read, aio_return, aio_suspend, errno, lastError, strerror,
} from '../src/index';

const NAMES: Record<number, string> = { [AIO_CANCELED]: 'AIO_CANCELED', [AIO_NOTCANCELED]: 'AIO_NOTCANCELED', [AIO_ALLDONE]: 'AIO_ALLDONE' };

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number | string>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_cancel-'));
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = fs.openSync(fifo, 'r+'); // O_RDWR: open does not wait for a writer.
  const writer = fs.openSync(fifo, 'r+');
  const seen: Record<string, number | string> = {};
  const notified: string[] = [];
  const block = (name: string): AioControlBlock =>
    new AioControlBlock({
      aio_fildes: fd, aio_buf: Buffer.alloc(16), aio_nbytes: 16,
      aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_value: name, sigev_notify_function: (v) => notified.push(String(v)) },
    });
  const cancel = (what: string, fildes: number, cb: AioControlBlock | null): void => {
    const s = aio_cancel(fildes, cb);
    seen[what] = s;
    log(`aio_cancel(${what}): ${NAMES[s] ?? s}${s === -1 ? `, errno ${strerror(errno())}` : ''}`);
  };
  const running = block('running');
  try {
    // The first read goes to the thread pool and waits there for data. Reads of a
    // FIFO run in submission order, so the next ones wait in the library's queue.
    const queued = block('queued');
    const another = block('another');
    for (const cb of [running, queued, another]) if (aio_read(cb) === -1) throw lastError();

    cancel('the read in the thread pool', fd, running); // Too late: it is running.
    cancel('a queued read', fd, queued);
    seen['queued: aio_error'] = aio_error(queued);
    seen['queued: aio_return'] = aio_return(queued);
    log(`  canceled read: aio_error ${strerror(aio_error(queued))}, aio_return ${seen['queued: aio_return']}`);
    // With NULL, everything queued on fd is canceled, but one request was running.
    cancel('everything on the FIFO', fd, null);
    seen['another: aio_error'] = aio_error(another);

    // Feed the FIFO so the running read can finish; it was never canceled.
    fs.writeSync(writer, 'data');
    // C would spin: while (aio_error(&running) == EINPROGRESS) ; but on Node that
    // never ends: the completion is delivered by the event loop, which cannot turn
    // while this single thread spins, so aio_error's answer can never change.
    while (aio_error(running) === EINPROGRESS) await aio_suspend([running], 1);
    seen['running: read'] = (running.aio_buf as Buffer).subarray(0, aio_return(running)).toString();
    log(`  the running read completed normally: ${JSON.stringify(seen['running: read'])}`);
    cancel('the finished read', fd, running);

    // A descriptor that is not open: -1 and EBADF.
    const closed = fs.openSync(path.join(dir, 'closed'), 'w');
    fs.closeSync(closed);
    cancel('a closed descriptor', closed, null);
    seen['closed: errno'] = errno();

    // Canceled requests are notified too, on the event loop, never inside aio_cancel.
    await new Promise((resolve) => setImmediate(resolve));
    seen['notified'] = notified.join(', ');
    log(`notifications: ${notified.join(', ')}`);
    return seen;
  } finally {
    if (aio_error(running) === EINPROGRESS) fs.writeSync(writer, '!'); // Never leave a read blocked.
    while (aio_error(running) === EINPROGRESS) await aio_suspend([running], 1);
    fs.closeSync(fd);
    fs.closeSync(writer);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
