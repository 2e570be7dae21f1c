/**
 * The README's Promise face example: read the first 4 KiB of a file and abort a
 * second read that is still waiting in the queue, with an AbortSignal.
 *
 * As in readme-posix.ts, the in-flight cap is set to 1 so that the second read is
 * certain to wait in the queue. An aborted queued read rejects at once with an
 * AbortError (`code 'ABORT_ERR'`, `cause` the signal's reason); one already in the
 * thread pool would settle with its real result.
 *
 * The lines between "README begin" and "README end" are the README's snippet, with
 * '../src/index' for 'posix-aio' and `log` for console.log.
 *
 * Run: npx tsx examples/run.ts readme-promises
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { aio_init, counters, promises as aio } from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number | string | boolean>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'readme-promises-'));
  const file = path.join(dir, 'data.bin');
  const content = Buffer.alloc(3 * 4096, 'promises ');
  fs.writeFileSync(file, content);
  const out: Record<string, number | string | boolean> = {};
  const cap = counters().inFlightCap; // restored at the end
  try {
    // README begin
    aio_init({ aio_threads: 1 }); // the same queue and cap serve every face

    const fh = await aio.open(file, 'r'); // an AioFileHandle; or promises.read(fd, ...) on a plain descriptor
    const ac = new AbortController();
    const first = fh.read(Buffer.alloc(4096), { position: 0 });
    const second = fh.read(Buffer.alloc(4096), { position: 4096, signal: ac.signal });
    ac.abort(); // still queued: it rejects at once with an AbortError

    const [a, b] = await Promise.allSettled([first, second]);
    if (a.status === 'fulfilled') log(`read ${a.value.bytesRead} bytes`);
    if (b.status === 'rejected') log(`second: ${(b.reason as Error).name}`); // AbortError (code 'ABORT_ERR')
    await fh.close(); // cancels what is still queued on it, waits for what is running, closes
    // README end

    out['first'] = a.status === 'fulfilled' ? a.value.bytesRead : a.status;
    out['first data matches'] = a.status === 'fulfilled' && a.value.buffer.equals(content.subarray(0, 4096));
    out['second'] = b.status === 'rejected' ? (b.reason as Error).name : b.status;
    out['second code'] = b.status === 'rejected' ? String((b.reason as { code?: unknown }).code) : '';
    return out;
  } finally {
    aio_init({ aio_threads: cap }); // Back to the cap in force before.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
