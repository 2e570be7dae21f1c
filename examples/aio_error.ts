/**
 * aio_error: every answer it can give. EINPROGRESS while a request runs; 0 when
 * it succeeded; the errno the synchronous call would have set when it failed
 * (EBADF here); ECANCELED after aio_cancel; -1 with errno EINVAL for a block that
 * was never submitted.
 *
 * Source: no page has an example of its own. Linux aio_error(3) has no EXAMPLES
 * section (aio(7), transcribed in aio7.ts, polls aio_error in a loop); POSIX
 * aio_error(3p) says "None."; FreeBSD aio_error(2) has no EXAMPLES section. This is
 * the page's canonical usage instead: switch on aio_error's answer.
 *
 * Run: npx tsx examples/run.ts aio_error
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AIO_CANCELED, AioControlBlock, ECANCELED, EINPROGRESS,
  aio_cancel, aio_error, aio_read, aio_suspend, aio_write, errno, lastError, strerror,
} from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_error-'));
  const file = path.join(dir, 'data.bin');
  const fd = fs.openSync(file, 'w'); // Write-only: a read on it fails with EBADF.
  const seen: Record<string, number> = {};
  // The switch of the C program: name what aio_error said.
  const show = (what: string, cb: AioControlBlock): void => {
    const s = aio_error(cb);
    seen[what] = s;
    const text = s === 0 ? 'I/O succeeded' : s === EINPROGRESS ? 'In progress' : s === ECANCELED ? 'Canceled' : s === -1 ? `-1, errno ${strerror(errno())}` : `failed: ${strerror(s)}`;
    log(`aio_error(${what}): ${text}`);
  };
  try {
    // 1. A block that was never submitted: -1 and errno EINVAL.
    const fresh = new AioControlBlock({ aio_fildes: fd });
    show('never submitted', fresh);
    seen['never submitted errno'] = errno();

    // 2. A write, seen at once (in progress), and after it completed (0).
    const data = Buffer.alloc(4096, 0x61);
    const write = new AioControlBlock({ aio_fildes: fd, aio_buf: data, aio_nbytes: data.length });
    if (aio_write(write) === -1) throw lastError();
    show('write, just queued', write);

    // 3. A second write over the same bytes must wait for the first (their ranges
    //    overlap), so it is still queued and can be canceled: ECANCELED.
    const overlapping = new AioControlBlock({ aio_fildes: fd, aio_buf: data, aio_nbytes: 16 });
    if (aio_write(overlapping) === -1) throw lastError();
    if (aio_cancel(fd, overlapping) !== AIO_CANCELED) throw new Error('expected AIO_CANCELED');
    show('overlapping write, canceled', overlapping);

    // 4. A read on a descriptor open only for writing: accepted (0), fails later.
    const read = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
    if (aio_read(read) === -1) throw lastError();

    // A C program would now spin: while (aio_error(&write) == EINPROGRESS) ;
    // On Node that loop never ends: the completion is delivered by the event loop,
    // which cannot turn while this single thread spins, so aio_error's answer can
    // never change. await aio_suspend gives the thread back until it is done.
    for (const cb of [write, read]) {
      while (aio_error(cb) === EINPROGRESS) await aio_suspend([cb], 1);
    }
    show('write, completed', write);
    show('read on a write-only descriptor', read);
    return seen;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
