/**
 * The README's POSIX face example: read the first 4 KiB of a file and cancel a
 * second read that is still waiting in the queue.
 *
 * The in-flight cap is set to 1 (aio_init), so that the first read holds the only
 * thread-pool slot and the second one is certain to wait in the library's queue,
 * where it can still be canceled. With the default cap both reads would go to the
 * thread pool at once, and aio_cancel would answer AIO_NOTCANCELED.
 *
 * The lines between "README begin" and "README end" are the README's snippet, with
 * '../src/index' for 'posix-aio' and `log` for console.log.
 *
 * Run: npx tsx examples/run.ts readme-posix
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSync } from 'node:fs';
import {
  AIO_CANCELED, AioControlBlock, aio_cancel, aio_close, aio_error, aio_init, counters, aio_read, aio_return, aio_suspend, lastError, strerror,
} from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number | string | boolean>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'readme-posix-'));
  const file = path.join(dir, 'data.bin');
  const content = Buffer.alloc(3 * 4096, 'posix-aio ');
  fs.writeFileSync(file, content);
  const out: Record<string, number | string | boolean> = {};
  const cap = counters().inFlightCap; // restored at the end
  try {
    // README begin
    aio_init({ aio_threads: 1 }); // one request in the thread pool at a time: the second read must wait

    const fd = openSync(file, 'r');
    const first = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4096), aio_nbytes: 4096, aio_offset: 0 });
    const second = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4096), aio_nbytes: 4096, aio_offset: 4096 });
    if (aio_read(first) === -1) throw lastError(); // -1 and errno, as in C; lastError() says what was wrong
    if (aio_read(second) === -1) throw lastError();

    const canceled = aio_cancel(fd, second); // AIO_CANCELED: it was still queued
    log(`cancel: ${canceled === AIO_CANCELED ? 'AIO_CANCELED' : canceled}, ${strerror(aio_error(second))}, aio_return ${aio_return(second)}`);

    await aio_suspend([first], 1); // C blocks here; Node awaits
    if (aio_error(first) !== 0) throw new Error(strerror(aio_error(first)));
    const bytes = aio_return(first); // once per request, as in C
    log(`read ${bytes} bytes`);
    await aio_close(fd);
    // README end

    out['canceled'] = canceled;
    out['second aio_error'] = aio_error(second);
    out['first bytes'] = bytes;
    out['first data matches'] = (first.aio_buf as Buffer).equals(content.subarray(0, 4096));
    return out;
  } finally {
    aio_init({ aio_threads: cap }); // Back to the cap in force before.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
