import { OP_READ } from '../engine/request';
import type { Aiocb } from '../aiocb';
import { submitRw } from './submit';

/**
 * aio_read(3): queues a read of `aio_nbytes` bytes from `aio_fildes` at
 * `aio_offset` into `aio_buf`, and returns at once.
 *
 * @returns 0 when the request was queued; -1 with errno set when it was not (then
 * nothing was initiated and the block's status is unchanged).
 *
 * Errors (returned as -1, errno, and a sentence in lastError()):
 * - `EAGAIN`: the outstanding-request limit (AIO_MAX, see aio_init/sysconf) is reached.
 * - `EINVAL`: `aio_reqprio` is outside 0..AIO_PRIO_DELTA_MAX; `aio_offset` is negative
 *   on a seekable descriptor; `aio_sigevent` is invalid; the block is still in progress.
 *
 * Errors of the read itself arrive through aio_error and aio_return: `EBADF` when
 * `aio_fildes` is not open for reading (even -1: the call still returns 0, as glibc
 * and LTP aio_read/10-1 expect), `ECANCELED` after aio_cancel, or any read(2) error.
 *
 * Throws TypeError (ERR_INVALID_ARG_TYPE) or RangeError (ERR_OUT_OF_RANGE) for what C
 * would not compile or what would corrupt memory: a field of the wrong type,
 * `aio_nbytes` beyond `aio_buf`, a fractional `aio_nbytes`.
 *
 * Notes: the result is what one read(2) returns, so a short count is possible (at
 * end of file, on pipes). `aio_lio_opcode` is ignored. `aio_offset` is ignored on
 * pipes, sockets and terminals. The block is never written to; its status lives in
 * the library. Completion is notified per `aio_sigevent`, on the event loop, never
 * inside this call.
 *
 * @example
 * const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(4096), aio_nbytes: 4096 });
 * if (aio_read(cb) === -1) throw lastError();
 * await aio_suspend([cb], 1);
 * const n = aio_return(cb); // bytes read, or -1 with aio_error(cb) saying why
 */
export function aio_read(aiocbp: Aiocb): number {
  return submitRw(aiocbp, OP_READ, 'aio_read', 'aiocbp');
}
