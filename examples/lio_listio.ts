/**
 * lio_listio: a batch of reads and writes in one call.
 *
 * 1. LIO_WAIT: one list mixing writes (to one file) and reads (of another), with a
 *    NULL entry and an LIO_NOP entry, both skipped. The call returns when all are done.
 * 2. LIO_NOWAIT: a list of reads that returns at once; each entry notifies on its
 *    own, and the list notifies once, after the last entry's own notification.
 *
 * Source: no page has an example of its own. Linux lio_listio(3) has no EXAMPLES
 * section; POSIX lio_listio(3p) says "None."; FreeBSD lio_listio(2) has no EXAMPLES
 * section. This is the page's canonical usage instead.
 *
 * In C, LIO_WAIT blocks the thread. Node has one thread, and blocking it would stop
 * the completions it waits for, so with LIO_WAIT lio_listio returns a Promise.
 *
 * Run: npx tsx examples/run.ts lio_listio
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AioControlBlock, LIO_NOP, LIO_NOWAIT, LIO_READ, LIO_WAIT, LIO_WRITE, SIGEV_THREAD,
  aio_error, aio_return, lastError, lio_listio, strerror,
} from '../src/index';

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<{ waitResult: number; nowaitResult: number; statuses: number[]; readFromInput: string; readBack: string; order: string[] }> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'lio_listio-'));
  const input = path.join(dir, 'input.txt');
  fs.writeFileSync(input, 'first line\nsecond line\n');
  const inFd = fs.openSync(input, 'r');
  const outFd = fs.openSync(path.join(dir, 'output.txt'), 'w+');
  const text = (cb: AioControlBlock): string => (cb.aio_buf as Buffer).subarray(0, aio_return(cb)).toString();
  try {
    // 1. LIO_WAIT: two writes, two reads, and two entries that are skipped.
    const head = Buffer.from('header|');
    const body = Buffer.from('body\n');
    const list1 = [
      new AioControlBlock({ aio_lio_opcode: LIO_WRITE, aio_fildes: outFd, aio_buf: head, aio_nbytes: head.length, aio_offset: 0 }),
      new AioControlBlock({ aio_lio_opcode: LIO_WRITE, aio_fildes: outFd, aio_buf: body, aio_nbytes: body.length, aio_offset: head.length }),
      null,
      new AioControlBlock({ aio_lio_opcode: LIO_NOP }),
      new AioControlBlock({ aio_lio_opcode: LIO_READ, aio_fildes: inFd, aio_buf: Buffer.alloc(11), aio_nbytes: 11, aio_offset: 0 }),
      new AioControlBlock({ aio_lio_opcode: LIO_READ, aio_fildes: inFd, aio_buf: Buffer.alloc(12), aio_nbytes: 12, aio_offset: 11 }),
    ];
    const waitResult = await lio_listio(LIO_WAIT, list1, list1.length);
    if (waitResult === -1) throw lastError();
    log(`lio_listio(LIO_WAIT, 6 entries): ${waitResult}, every submitted entry is done`);
    const statuses: number[] = [];
    let readFromInput = '';
    for (const [j, cb] of list1.entries()) {
      if (cb === null || cb.aio_lio_opcode === LIO_NOP) continue;
      const status = aio_error(cb);
      statuses.push(status);
      if (cb.aio_lio_opcode === LIO_READ) {
        const got = text(cb);
        readFromInput += got;
        log(`  entry ${j} (LIO_READ): aio_error ${strerror(status)}, read ${JSON.stringify(got)}`);
      } else {
        log(`  entry ${j} (LIO_WRITE): aio_error ${strerror(status)}, wrote ${aio_return(cb)} bytes`);
      }
    }

    // 2. LIO_NOWAIT: read the output back in two halves. No busy-wait on aio_error
    //    (on Node it would never end: completions are delivered by the event loop,
    //    which cannot turn while this single thread spins); the list notification
    //    (SIGEV_THREAD) says when everything is done.
    const order: string[] = [];
    const entry = (name: string) => ({ sigev_notify: SIGEV_THREAD, sigev_value: name, sigev_notify_function: (v: unknown) => order.push(String(v)) });
    const list2 = [
      new AioControlBlock({ aio_lio_opcode: LIO_READ, aio_fildes: outFd, aio_buf: Buffer.alloc(head.length), aio_nbytes: head.length, aio_offset: 0, aio_sigevent: entry('entry 0') }),
      new AioControlBlock({ aio_lio_opcode: LIO_READ, aio_fildes: outFd, aio_buf: Buffer.alloc(body.length), aio_nbytes: body.length, aio_offset: head.length, aio_sigevent: entry('entry 1') }),
    ];
    let allDone!: () => void;
    const done = new Promise<void>((resolve) => (allDone = resolve));
    const sig = { sigev_notify: SIGEV_THREAD, sigev_notify_function: () => { order.push('list'); allDone(); } };
    const nowaitResult = lio_listio(LIO_NOWAIT, list2, list2.length, sig);
    if (nowaitResult === -1) throw lastError();
    log(`lio_listio(LIO_NOWAIT, 2 reads): returned ${nowaitResult} at once`);
    await done;
    log(`notifications, in order: ${order.join(', ')}`);
    const readBack = list2.map(text).join('');
    log(`read back ${JSON.stringify(readBack)}`);
    return { waitResult, nowaitResult, statuses, readFromInput, readBack, order };
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
