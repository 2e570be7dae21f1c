/**
 * aio_return: the result read(2) or write(2) would have returned, once per request.
 * A short count at end of file, 0 past it, -1 when the request failed (aio_error
 * says why), and -1 with errno EINVAL when asked too early or a second time.
 *
 * Source: no page has an example of its own. Linux aio_return(3) says only "See
 * aio(7)" (transcribed in aio7.ts); POSIX aio_return(3p) says "None."; FreeBSD
 * aio_return(2) has no EXAMPLES section. This is the page's canonical usage
 * instead: wait until aio_error is no longer EINPROGRESS, then call aio_return once.
 *
 * Run: npx tsx examples/run.ts aio_return
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AioControlBlock, EINPROGRESS, aio_error, aio_read, aio_return, aio_suspend, errno, lastError, strerror } from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_return-'));
  const file = path.join(dir, 'ten-bytes.txt');
  fs.writeFileSync(file, '0123456789');
  const fd = fs.openSync(file, 'r');
  const wfd = fs.openSync(file, 'a'); // Open only for writing: reading it fails.
  const seen: Record<string, number> = {};
  const block = (fildes: number, offset: number): AioControlBlock =>
    new AioControlBlock({ aio_fildes: fildes, aio_buf: Buffer.alloc(64), aio_nbytes: 64, aio_offset: offset });
  try {
    const reads = {
      'read 64 bytes of a 10-byte file': block(fd, 0),
      'read at offset 100, past the end': block(fd, 100),
      'read a write-only descriptor': block(wfd, 0),
    };
    for (const cb of Object.values(reads)) if (aio_read(cb) === -1) throw lastError();

    // Too early: C leaves the result undefined; this library says -1 and EINVAL.
    const first = reads['read 64 bytes of a 10-byte file'];
    if (aio_error(first) === EINPROGRESS) {
      seen['too early'] = aio_return(first);
      seen['too early errno'] = errno();
      log(`aio_return before completion: ${seen['too early']} (errno ${strerror(errno())})`);
    }

    // The C program would spin here: while (aio_error(cb) == EINPROGRESS) ;
    // That never ends on Node: completions are delivered by the event loop, which
    // cannot turn while this single thread spins, so aio_error's answer can never
    // change. await aio_suspend gives the thread back until the request is done.
    for (const [what, cb] of Object.entries(reads)) {
      while (aio_error(cb) === EINPROGRESS) await aio_suspend([cb], 1);
      const status = aio_error(cb);
      const n = aio_return(cb);
      seen[what] = n;
      log(`${what}: aio_return ${n}${n === -1 ? `, aio_error ${strerror(status)}` : ''}`);
      if (n === -1) seen[`${what} (aio_error)`] = status;
    }

    // Once retrieved, the result is gone: a second call is -1 with EINVAL.
    seen['second call'] = aio_return(first);
    seen['second call errno'] = errno();
    log(`aio_return a second time: ${seen['second call']} (errno ${strerror(errno())})`);
    return seen;
  } finally {
    fs.closeSync(fd);
    fs.closeSync(wfd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
