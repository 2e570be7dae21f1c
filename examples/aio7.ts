/**
 * The example program of aio(7) (Linux man-pages), transcribed: open some inputs,
 * aio_read each with SIGEV_SIGNAL notification, monitor them with aio_error,
 * cancel the outstanding ones on SIGQUIT, and print each aio_return.
 *
 * What changes on Node, and why:
 * - The inputs are two FIFOs the program makes (the page reads /dev/stdin twice).
 *   A timer plays the user: it sends "SIGQUIT", then types "abc" into the first.
 * - IO_SIGNAL is SIGUSR2 (Node reserves SIGUSR1 for its inspector). SIGEV_SIGNAL
 *   raises no real signal: the library emits the signal's event on `process` with
 *   a siginfo whose si_code is SI_ASYNCIO, so the handler reads the same.
 * - sleep(3) between monitoring steps becomes `await aio_suspend(...)` on the
 *   requests in progress, with the same 3 s timeout and an AbortSignal that the
 *   SIGQUIT handler aborts (EINTR, as a signal interrupts sleep).
 * - aio_init({ aio_threads: 1 }): one read runs at a time, so the second is still
 *   queued when SIGQUIT comes and can be canceled. The first is blocked in the
 *   thread pool on a FIFO: aio_cancel cannot stop it (nor can glibc's), so it
 *   reports AIO_NOTCANCELED and the read completes when "abc" arrives.
 *
 * Run: npx tsx examples/run.ts aio7   (press Ctrl-\ early to send a real SIGQUIT)
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  AIO_ALLDONE, AIO_CANCELED, AIO_NOTCANCELED, AioControlBlock, ECANCELED, EINPROGRESS, SI_ASYNCIO, SIGEV_SIGNAL, type SigInfo,
  aio_cancel, aio_error, aio_init, counters, aio_read, aio_return, aio_suspend, lastError, strerror,
} from '../src/index';

const BUF_SIZE = 20; // Size of buffers for read operations.
const IO_SIGNAL = 'SIGUSR2'; // Signal used to notify I/O completion.

interface IoRequest { reqNum: number; status: number; aiocbp: AioControlBlock } // Application-defined.

export async function main(opts: { dir?: string; log?: (line: string) => void } = {}): Promise<{ statuses: number[]; returns: number[]; canceled: number[]; signals: number }> {
  const log = opts.log ?? console.log;
  const dir = fs.mkdtempSync(path.join(opts.dir ?? os.tmpdir(), 'aio7-'));
  const paths = [path.join(dir, 'fifo0'), path.join(dir, 'fifo1')];
  for (const p of paths) execFileSync('mkfifo', [p]);
  const writers = paths.map((p) => fs.openSync(p, 'r+')); // Our "keyboard" for each FIFO.

  let gotSIGQUIT = false; // On SIGQUIT, we attempt to cancel all outstanding requests.
  let quit = new AbortController();
  const quitHandler = (): void => { gotSIGQUIT = true; quit.abort(); };
  let signals = 0;
  const aioSigHandler = (_sig: NodeJS.Signals, si?: SigInfo): void => {
    if (si?.si_code === SI_ASYNCIO) {
      signals++;
      log('I/O completion signal received'); // si.si_value is the IoRequest.
    }
  };
  process.on('SIGQUIT', quitHandler);
  process.on(IO_SIGNAL, aioSigHandler);
  const cap = counters().inFlightCap; // restored at the end
  aio_init({ aio_threads: 1 });

  const ioList: IoRequest[] = [];
  const canceled: number[] = [];
  const user = setTimeout(() => {
    quitHandler(); // The user types Control-\ ...
    setTimeout(() => fs.writeSync(writers[0] as number, 'abc\n'), 50); // ... then "abc".
  }, 50);
  try {
    // Open each input and queue a read request on the resulting descriptor.
    for (const [j, p] of paths.entries()) {
      const fd = fs.openSync(p, 'r+'); // O_RDWR: opening a FIFO O_RDONLY waits for a writer.
      log(`opened ${path.basename(p)} on descriptor ${fd}`);
      const aiocbp = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(BUF_SIZE), aio_nbytes: BUF_SIZE, aio_reqprio: 0, aio_offset: 0 });
      const req: IoRequest = { reqNum: j, status: EINPROGRESS, aiocbp };
      aiocbp.aio_sigevent = { sigev_notify: SIGEV_SIGNAL, sigev_signo: IO_SIGNAL, sigev_value: req };
      ioList.push(req);
      if (aio_read(aiocbp) === -1) throw lastError();
    }

    let openReqs = ioList.length; // Number of I/O requests still in progress.
    while (openReqs > 0) {
      // C: sleep(3). A loop that polls aio_error without sleeping -- or a sleep
      // that blocks the thread -- would never see a change on Node: completions
      // are delivered by the event loop, which cannot turn while this single
      // thread is busy. aio_suspend waits on the event loop instead, and wakes
      // early when a request completes or SIGQUIT aborts it.
      const inProgress = ioList.map((r) => (r.status === EINPROGRESS ? r.aiocbp : null));
      await aio_suspend(inProgress, inProgress.length, { tv_sec: 3, tv_nsec: 0 }, quit.signal);

      if (gotSIGQUIT) {
        log('got SIGQUIT; canceling I/O requests: ');
        for (const r of ioList) {
          if (r.status !== EINPROGRESS) continue;
          const s = aio_cancel(r.aiocbp.aio_fildes, r.aiocbp);
          canceled.push(s);
          const what = s === AIO_CANCELED ? 'I/O canceled' : s === AIO_NOTCANCELED ? 'I/O not canceled' : s === AIO_ALLDONE ? 'I/O all done' : `aio_cancel: ${lastError()?.message}`;
          log(`    Request ${r.reqNum} on descriptor ${r.aiocbp.aio_fildes}: ${what}`);
        }
        gotSIGQUIT = false;
        quit = new AbortController(); // The old one stays aborted.
      }

      // Check the status of each I/O request that is still in progress.
      log('aio_error():');
      for (const r of ioList) {
        if (r.status !== EINPROGRESS) continue;
        r.status = aio_error(r.aiocbp);
        const what = r.status === 0 ? 'I/O succeeded' : r.status === EINPROGRESS ? 'In progress' : r.status === ECANCELED ? 'Canceled' : `aio_error: ${strerror(r.status)}`;
        log(`    for request ${r.reqNum} (descriptor ${r.aiocbp.aio_fildes}): ${what}`);
        if (r.status !== EINPROGRESS) openReqs--;
      }
    }
    log('All I/O requests completed');

    log('aio_return():');
    const returns = ioList.map((r) => aio_return(r.aiocbp));
    for (const r of ioList) log(`    for request ${r.reqNum} (descriptor ${r.aiocbp.aio_fildes}): ${returns[r.reqNum]}`);
    await new Promise((resolve) => setImmediate(resolve)); // Let the last notification run.
    return { statuses: ioList.map((r) => r.status), returns, canceled, signals };
  } finally {
    clearTimeout(user);
    for (const [j, r] of ioList.entries()) if (aio_error(r.aiocbp) === EINPROGRESS) fs.writeSync(writers[j] as number, '\n');
    for (const r of ioList) while (aio_error(r.aiocbp) === EINPROGRESS) await aio_suspend([r.aiocbp], 1);
    for (const fd of [...ioList.map((r) => r.aiocbp.aio_fildes), ...writers]) fs.closeSync(fd);
    aio_init({ aio_threads: cap }); // Back to the cap in force before.
    process.off('SIGQUIT', quitHandler);
    process.off(IO_SIGNAL, aioSigHandler);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
