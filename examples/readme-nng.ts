/**
 * The README's nng face example: read the first 4 KiB of a file and cancel a
 * second read that is still waiting in the queue, with nng_aio handles.
 *
 * As in readme-posix.ts, the in-flight cap is set to 1 so that the second read is
 * certain to wait in the queue (the nng face shares the POSIX face's queue, and
 * aio_init tunes it). A canceled queued read completes at once with NNG_ECANCELED;
 * one already in the thread pool would complete with its real result.
 *
 * The lines between "README begin" and "README end" are the README's snippet, with
 * '../src/index' for 'posix-aio' and `log` for console.log.
 *
 * Run: npx tsx examples/run.ts readme-nng
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closeSync, openSync } from 'node:fs';
import {
  aio_init, counters, nng_aio_alloc, nng_aio_cancel, nng_aio_count, nng_aio_free, nng_aio_result, nng_aio_set_iov, nng_aio_wait, nng_file_read, nng_strerror,
} from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number | string | boolean>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'readme-nng-'));
  const file = path.join(dir, 'data.bin');
  const content = Buffer.alloc(3 * 4096, 'nng_aio ');
  fs.writeFileSync(file, content);
  const out: Record<string, number | string | boolean> = {};
  const cap = counters().inFlightCap; // restored at the end
  try {
    // README begin
    aio_init({ aio_threads: 1 }); // the same queue and cap serve every face

    const fd = openSync(file, 'r');
    const buf = Buffer.alloc(4096);
    const first = nng_aio_alloc(); // no callback: we wait instead (nng_aio_alloc(cb, arg) for one)
    const second = nng_aio_alloc();
    nng_aio_set_iov(first, 1, [{ iov_buf: buf, iov_len: 4096 }]);
    nng_aio_set_iov(second, 1, [{ iov_buf: Buffer.alloc(4096), iov_len: 4096 }]);
    nng_file_read(fd, 0, first);
    nng_file_read(fd, 4096, second);

    nng_aio_cancel(second); // still queued: it completes at once with NNG_ECANCELED

    await nng_aio_wait(first); // C blocks here; Node awaits
    await nng_aio_wait(second);
    const [rv1, n1, rv2] = [nng_aio_result(first), nng_aio_count(first), nng_aio_result(second)];
    log(`first: ${nng_strerror(rv1)}, ${n1} bytes`); // Hunky dory, 4096 bytes
    log(`second: ${nng_strerror(rv2)}`); // Operation canceled
    nng_aio_free(first);
    nng_aio_free(second);
    closeSync(fd);
    // README end

    out['first result'] = rv1;
    out['first count'] = n1;
    out['second result'] = rv2;
    out['first data matches'] = buf.equals(content.subarray(0, 4096));
    return out;
  } finally {
    aio_init({ aio_threads: cap }); // Back to the cap in force before.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
