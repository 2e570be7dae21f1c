/**
 * aio_fsync: a barrier. Queue writes, then an aio_fsync(O_SYNC) that is issued only
 * after every write queued before it on the descriptor has finished; then an
 * aio_fsync(O_DSYNC), the asynchronous fdatasync.
 *
 * Source: no page has an example of its own. Linux aio_fsync(3) has no EXAMPLES
 * section; POSIX aio_fsync(3p) says "None."; FreeBSD aio_fsync(2) has no EXAMPLES
 * section. This is the page's canonical usage instead, with completion notified by
 * SIGEV_THREAD (sigev_notify_function runs on the event loop).
 *
 * Run: npx tsx examples/run.ts aio_fsync
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AioControlBlock, EINPROGRESS, O_DSYNC, O_SYNC, SIGEV_THREAD,
  aio_error, aio_fsync, aio_return, aio_suspend, aio_write, lastError, strerror,
} from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<{ order: string[]; fsyncStatus: number; dsyncStatus: number; content: string }> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio_fsync-'));
  const file = path.join(dir, 'journal.txt');
  const fd = fs.openSync(file, 'w+');
  const order: string[] = []; // Completion notifications, in the order they ran.
  const notify = (value: unknown): void => {
    order.push(String(value));
    log(`notification: ${String(value)} done`);
  };
  try {
    const entries = [Buffer.from('entry 1\n'), Buffer.from('entry 2\n')];
    let offset = 0;
    for (const [j, buf] of entries.entries()) {
      const cb = new AioControlBlock({
        aio_fildes: fd, aio_buf: buf, aio_nbytes: buf.length, aio_offset: offset,
        aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: notify, sigev_value: `write ${j}` },
      });
      offset += buf.length;
      if (aio_write(cb) === -1) throw lastError();
      log(`aio_write: queued write ${j} (${buf.length} bytes)`);
    }

    // Only aio_fildes and aio_sigevent of the block are read by aio_fsync.
    // The C program would now spin: while (aio_error(&sync) == EINPROGRESS) ;
    // That never ends on Node: completions are delivered by the event loop, which
    // cannot turn while this single thread spins, so aio_error's answer can never
    // change. Here the SIGEV_THREAD notification itself ends the wait instead.
    let synced!: () => void;
    const done = new Promise<void>((resolve) => (synced = resolve));
    const sync = new AioControlBlock({
      aio_fildes: fd,
      aio_sigevent: {
        sigev_notify: SIGEV_THREAD, sigev_value: 'fsync(O_SYNC)',
        sigev_notify_function: (value) => { notify(value); synced(); },
      },
    });
    if (aio_fsync(O_SYNC, sync) === -1) throw lastError();
    log('aio_fsync(O_SYNC): queued behind both writes');
    await done;
    const fsyncStatus = aio_error(sync);
    log(`aio_fsync(O_SYNC): aio_error ${fsyncStatus} (${strerror(fsyncStatus)}), aio_return ${aio_return(sync)}`);

    // O_DSYNC is fdatasync: the data, and only the metadata needed to read it back.
    const dsync = new AioControlBlock({ aio_fildes: fd });
    if (aio_fsync(O_DSYNC, dsync) === -1) throw lastError();
    while (aio_error(dsync) === EINPROGRESS) await aio_suspend([dsync], 1);
    const dsyncStatus = aio_error(dsync);
    log(`aio_fsync(O_DSYNC): aio_error ${dsyncStatus} (${strerror(dsyncStatus)}), aio_return ${aio_return(dsync)}`);

    const content = fs.readFileSync(file, 'utf8');
    log(`notifications ran in this order: ${order.join(', ')}`);
    return { order, fsyncStatus, dsyncStatus, content };
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
