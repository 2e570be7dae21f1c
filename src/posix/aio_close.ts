import { EBADF } from '../constants';
import { fail } from '../errors';
import { engine } from '../engine/queue';
import { validateInteger } from '../validate';

/**
 * aio_close: closes `fd` the safe way: cancels what is queued on it, waits for what
 * is already in the thread pool, then closes it. (Not in POSIX: musl's close does
 * the cancel half; the wait is what Node's FileHandle.close does.)
 *
 * @returns a Promise of 0 once the descriptor is closed; of -1 with errno set
 * otherwise.
 *
 * Errors: `EBADF` when `fd` is not open, is already being closed by aio_close, or
 * was closed and its number reused behind the library's back (it is then left
 * alone); any error of close(2).
 *
 * The Promise rejects with TypeError when `fd` is not an integer.
 *
 * Notes: queued requests complete with ECANCELED and are notified. While the close
 * is pending, new requests on `fd` fail as on a closed descriptor: aio_read and
 * aio_write are accepted and fail with EBADF, aio_fsync and aio_cancel return
 * -1/EBADF. This is what makes a queued request unable to run against a reused
 * descriptor number. It waits for in-flight requests however long they take (a
 * read of an empty FIFO waits for a writer).
 *
 * @example
 * if ((await aio_close(fd)) === -1) console.error(lastError());
 */
export async function aio_close(fd: number): Promise<number> {
  validateInteger(fd, 'fd', -(2 ** 31), 2 ** 31 - 1);
  const error = await engine().close(fd);
  if (error === 0) return 0;
  return fail(error, 'aio_close', error === EBADF ? `"fd" (${fd}) is not an open file descriptor (or is already being closed)` : 'close(2) failed');
}
