/**
 * aio_write: queue two writes at different offsets, wait for both, check the file.
 *
 * Source: no page has an example of its own. Linux aio_write(3) has no EXAMPLES
 * section; POSIX aio_write(3p) says "None."; FreeBSD aio_write(2) has no EXAMPLES
 * section. This is the page's canonical usage instead: one aiocb per write, each
 * at its own aio_offset, then aio_error and aio_return for each.
 *
 * Run: npx tsx examples/run.ts aio_write
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AioControlBlock, EINPROGRESS, aio_error, aio_return, aio_suspend, aio_write, lastError, strerror } from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<{ statuses: number[]; returns: number[]; content: string }> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_write-'));
  const file = path.join(dir, 'output.txt');
  const fd = fs.openSync(file, 'w'); // O_WRONLY | O_CREAT | O_TRUNC
  try {
    // Two control blocks. They do not overlap, so the library may run them in
    // parallel; the file ends up the same whichever finishes first.
    const first = Buffer.from('hello, ');
    const second = Buffer.from('asynchronous world\n');
    const list = [
      new AioControlBlock({ aio_fildes: fd, aio_buf: first, aio_nbytes: first.length, aio_offset: 0 }),
      new AioControlBlock({ aio_fildes: fd, aio_buf: second, aio_nbytes: second.length, aio_offset: first.length }),
    ];
    for (const [j, cb] of list.entries()) {
      if (aio_write(cb) === -1) throw lastError();
      log(`aio_write: request ${j} queued: ${cb.aio_nbytes} bytes at offset ${cb.aio_offset}`);
    }

    // In C: for each cb, while (aio_error(&cb) == EINPROGRESS) ;
    // That spin never ends on Node: completions are delivered by the event loop,
    // which cannot turn while this single thread spins, so aio_error's answer can
    // never change. aio_suspend returns the thread to the event loop until at
    // least one listed request is done. It returns at once while any listed
    // request is already done, so list only those still in progress (C programs
    // set finished entries to NULL), or this loop would spin on resolved Promises.
    for (;;) {
      const waiting = list.map((cb) => (aio_error(cb) === EINPROGRESS ? cb : null));
      if (waiting.every((cb) => cb === null)) break;
      await aio_suspend(waiting, waiting.length);
    }

    const statuses = list.map((cb) => aio_error(cb));
    const returns = list.map((cb) => aio_return(cb));
    statuses.forEach((s, j) => log(`request ${j}: aio_error ${s} (${strerror(s)}), aio_return ${returns[j]}`));
    const content = fs.readFileSync(file, 'utf8');
    log(`file now holds ${JSON.stringify(content)}`);
    return { statuses, returns, content };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
