/**
 * The README's demo (`npm run demo`): the library in one minute, on a temp file.
 *
 *   write with aio_write -> aio_fsync barrier -> read back with lio_listio(LIO_WAIT)
 *   -> hold the only thread-pool slot with a FIFO read, time out in aio_suspend,
 *   cancel a queued request with aio_cancel -> feed the FIFO -> clean up.
 *
 * It prints what it does line by line, removes its files and exits by itself.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AIO_CANCELED, AIO_NOTCANCELED, AioControlBlock, EINPROGRESS, LIO_READ, LIO_WAIT, O_SYNC, SIGEV_THREAD,
  aio_cancel, aio_close, aio_error, aio_fsync, aio_init, counters, aio_read, aio_return, aio_suspend, aio_write, errno, lastError, lio_listio, strerror,
} from '../src/index';

/** Throws the library's explanation when a call returns -1. */
function check(result: number): number {
  if (result === -1) throw lastError();
  return result;
}

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<Record<string, number | string>> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'posix-aio-demo-'));
  const file = path.join(dir, 'demo.txt');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const fd = fs.openSync(file, 'w+');
  const fifoFd = fs.openSync(fifo, 'r+'); // O_RDWR: open does not wait for a writer.
  const out: Record<string, number | string> = {};
  const hold = new AioControlBlock({ aio_fildes: fifoFd, aio_buf: Buffer.alloc(16), aio_nbytes: 16 });
  log(`posix-aio demo, working in ${dir}`);
  const cap = counters().inFlightCap; // restored at the end
  try {
    // 1. Two writes; each says when it is done through SIGEV_THREAD.
    const parts = [Buffer.from('Hello from '), Buffer.from('posix-aio!\n')];
    const writes = parts.map((buf, j) => new AioControlBlock({
      aio_fildes: fd, aio_buf: buf, aio_nbytes: buf.length, aio_offset: j === 0 ? 0 : (parts[0] as Buffer).length,
      aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_value: j, sigev_notify_function: (v) => log(`  notification: write ${String(v)} done`) },
    }));
    for (const cb of writes) check(aio_write(cb));
    log(`aio_write x2: queued ${parts[0]?.length} + ${parts[1]?.length} bytes`);

    // 2. A barrier: the fsync starts only after both writes have finished.
    const sync = new AioControlBlock({ aio_fildes: fd });
    check(aio_fsync(O_SYNC, sync));
    // No `while (aio_error(&sync) == EINPROGRESS);` here: on Node that loop never ends
    // (completions come from the event loop, which cannot turn while we spin).
    while (aio_error(sync) === EINPROGRESS) await aio_suspend([sync], 1);
    out['fsync'] = aio_error(sync);
    log(`aio_fsync(O_SYNC): ${strerror(aio_error(sync))}; writes returned ${writes.map(aio_return).join(' and ')}`);

    // 3. Read it back: two reads in one lio_listio(LIO_WAIT).
    const reads = parts.map((buf, j) => new AioControlBlock({
      aio_lio_opcode: LIO_READ, aio_fildes: fd, aio_buf: Buffer.alloc(buf.length), aio_nbytes: buf.length, aio_offset: j === 0 ? 0 : (parts[0] as Buffer).length,
    }));
    out['lio_listio'] = check(await lio_listio(LIO_WAIT, reads, reads.length));
    out['read back'] = reads.map((cb) => (cb.aio_buf as Buffer).subarray(0, aio_return(cb)).toString()).join('');
    log(`lio_listio(LIO_WAIT): read back ${JSON.stringify(out['read back'])}`);

    // 4. One thread-pool slot, held by a read of an empty FIFO; the next request queues.
    aio_init({ aio_threads: 1 });
    check(aio_read(hold));
    const queued = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
    check(aio_read(queued));
    log('aio_init({ aio_threads: 1 }): a FIFO read holds the only slot; a file read waits behind it');
    out['suspend'] = await aio_suspend([hold], 1, { tv_sec: 0, tv_nsec: 100_000_000 });
    out['suspend errno'] = errno();
    log(`aio_suspend(100 ms): ${out['suspend']} (${strerror(errno())}): the FIFO is still empty`);
    out['cancel queued'] = aio_cancel(fd, queued);
    log(`aio_cancel(queued read): ${out['cancel queued'] === AIO_CANCELED ? 'AIO_CANCELED' : out['cancel queued']}; aio_error: ${strerror(aio_error(queued))}`);
    out['queued status'] = aio_error(queued);
    out['cancel running'] = aio_cancel(fifoFd, hold);
    log(`aio_cancel(FIFO read): ${out['cancel running'] === AIO_NOTCANCELED ? 'AIO_NOTCANCELED' : out['cancel running']}: it is already in the thread pool`);

    // 5. Feed the FIFO: the held read completes normally.
    fs.writeFileSync(fifo, 'ping');
    check(await aio_suspend([hold], 1));
    out['fifo'] = (hold.aio_buf as Buffer).subarray(0, aio_return(hold)).toString();
    log(`fed the FIFO; the held read returned ${JSON.stringify(out['fifo'])}`);
    return out;
  } finally {
    if (aio_error(hold) === EINPROGRESS) fs.writeFileSync(fifo, '!'); // Never leave a read blocked.
    aio_init({ aio_threads: cap }); // Back to the cap in force before.
    // aio_close waits for anything still running on the descriptor, then closes it.
    await aio_close(fd);
    await aio_close(fifoFd);
    fs.rmSync(dir, { recursive: true, force: true });
    log('closed both descriptors and removed the temp files');
  }
}

// `npm run demo` runs this file directly; the test suite imports main() instead.
if (process.argv[1] !== undefined && /[\\/]demo\.ts$/.test(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
