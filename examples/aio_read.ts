/**
 * aio_read: queue a read, wait for it, collect its result.
 *
 * Source: no page has an example of its own. Linux aio_read(3) has no EXAMPLES
 * section (it points to aio(7), transcribed in aio7.ts); POSIX aio_read(3p) says
 * "None."; FreeBSD aio_read(2) has no EXAMPLES section. This is the page's
 * canonical usage instead: fill in an aiocb, aio_read, wait, aio_error, aio_return.
 *
 * Run: npx tsx examples/run.ts aio_read
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AioControlBlock, EINPROGRESS, aio_error, aio_read, aio_return, aio_suspend, lastError, strerror } from '../src/index';

const BUF_SIZE = 64;

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<{ status: number; nbytes: number; data: string }> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_read-'));
  const file = path.join(dir, 'input.txt');
  fs.writeFileSync(file, 'The quick brown fox jumps over the lazy dog\n');
  const fd = fs.openSync(file, 'r');
  try {
    // struct aiocb cb; memset(&cb, 0, sizeof cb); then the fields: read 16 bytes at offset 4.
    const cb = new AioControlBlock({
      aio_fildes: fd,
      aio_buf: Buffer.alloc(BUF_SIZE),
      aio_nbytes: 16,
      aio_offset: 4,
    });
    if (aio_read(cb) === -1) throw lastError();
    log(`aio_read: queued a read of ${cb.aio_nbytes} bytes at offset ${cb.aio_offset} on descriptor ${fd}`);
    log(`aio_error: ${strerror(aio_error(cb))} (EINPROGRESS until the read is done)`);

    // The C program now waits with
    //     while (aio_error(&cb) == EINPROGRESS) ;
    // On Node that loop never ends: the read completes in the thread pool, but its
    // completion is delivered by the event loop, which cannot turn while this
    // single thread spins, so aio_error's answer can never change. Await
    // aio_suspend instead (or ask for a SIGEV_THREAD notification): it gives the
    // event loop back until the read is done.
    while (aio_error(cb) === EINPROGRESS) await aio_suspend([cb], 1);

    const status = aio_error(cb);
    const nbytes = aio_return(cb);
    if (nbytes === -1) throw new Error(`read failed: ${strerror(status)}`);
    const data = (cb.aio_buf as Buffer).subarray(0, nbytes).toString('latin1');
    log(`aio_error: ${status} (${strerror(status)})`);
    log(`aio_return: ${nbytes} bytes: ${JSON.stringify(data)}`);
    return { status, nbytes, data };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
