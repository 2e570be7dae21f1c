import { requestOf, readFildes, type Aiocb } from '../aiocb';
import { AIO_ALLDONE, AIO_CANCELED, AIO_NOTCANCELED, EBADF, EINVAL } from '../constants';
import { fail } from '../errors';
import { CANCELED, engine, NOT_CANCELED } from '../engine/queue';
import { validateInteger, validateObject } from '../validate';

/**
 * aio_cancel(3): cancels the queued requests on `fildes`: all of them when `aiocbp`
 * is null or omitted, else the one `aiocbp` carries.
 *
 * @returns
 * - `AIO_CANCELED`: the requests were canceled. Each now has status ECANCELED and
 *   return value -1, and its notification is delivered (later, on the event loop).
 * - `AIO_NOTCANCELED`: at least one request was already in the thread pool, where it
 *   cannot be stopped; it completes normally. With a null `aiocbp` the queued ones
 *   were still canceled: check each with aio_error.
 * - `AIO_ALLDONE`: nothing that matched was outstanding.
 * - -1 with errno set on error.
 *
 * Errors:
 * - `EBADF`: `fildes` is not an open descriptor (checked first, even when
 *   `aiocbp.aio_fildes` differs; LTP aio_cancel/10-1, glibc tst-aio7).
 * - `EINVAL`: `aiocbp.aio_fildes` is not `fildes` (glibc and musl; POSIX leaves it
 *   unspecified).
 *
 * Throws TypeError for a non-number `fildes` or a non-object `aiocbp`.
 *
 * Notes: a request is cancelable while it waits in this library's queue; once handed
 * to libuv's thread pool it is not (Node cannot cancel a running fs call). The
 * in-flight cap (aio_init's aio_threads) decides how much stays cancelable. Status
 * is final when this call returns; notifications never run inside it. Requests of
 * the nng face on the same descriptor are canceled too (one queue serves both).
 *
 * @example
 * if (aio_cancel(fd, null) === AIO_NOTCANCELED) await aio_suspend(list, list.length);
 */
export function aio_cancel(fildes: number, aiocbp?: Aiocb | null): number {
  validateInteger(fildes, 'fildes', -(2 ** 31), 2 ** 31 - 1);
  const eng = engine();
  if (!eng.isOpen(fildes)) return fail(EBADF, 'aio_cancel', `"fildes" (${fildes}) is not an open file descriptor`);
  if (aiocbp !== undefined && aiocbp !== null) {
    const obj = validateObject(aiocbp, 'aiocbp');
    const fd = readFildes(obj, 'aiocbp');
    if (fd !== fildes) return fail(EINVAL, 'aio_cancel', `"aiocbp.aio_fildes" (${fd}) is not "fildes" (${fildes})`);
    const req = requestOf(obj);
    if (req === undefined || req.fd !== fildes) return AIO_ALLDONE;
    const r = eng.cancel(req);
    return r === CANCELED ? AIO_CANCELED : r === NOT_CANCELED ? AIO_NOTCANCELED : AIO_ALLDONE;
  }
  const { canceled, inFlight } = eng.cancelFd(fildes);
  if (inFlight > 0) return AIO_NOTCANCELED;
  return canceled > 0 ? AIO_CANCELED : AIO_ALLDONE;
}
