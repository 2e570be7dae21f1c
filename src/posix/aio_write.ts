import { OP_WRITE } from '../engine/request';
import type { Aiocb } from '../aiocb';
import { submitRw } from './submit';

/**
 * aio_write(3): queues a write of `aio_nbytes` bytes from `aio_buf` to `aio_fildes`
 * at `aio_offset`, and returns at once.
 *
 * @returns 0 when the request was queued; -1 with errno set when it was not.
 *
 * Errors (returned as -1, errno, and a sentence in lastError()):
 * - `EAGAIN`: the outstanding-request limit (AIO_MAX) is reached.
 * - `EINVAL`: `aio_reqprio` is outside 0..AIO_PRIO_DELTA_MAX; `aio_offset` is negative
 *   on a seekable descriptor; `aio_sigevent` is invalid; the block is still in progress.
 *
 * Errors of the write itself arrive through aio_error and aio_return: `EBADF` when
 * the descriptor is not open for writing (deferred, as LTP aio_write/8-1 and 8-2
 * expect), `ENOSPC`, `EIO`, `ECANCELED`, `EOVERFLOW` for a bigint offset past 2^53
 * (Node's fs cannot address it), or any write(2) error.
 *
 * Throws TypeError or RangeError for wrong JS types and `aio_nbytes` beyond `aio_buf`.
 *
 * Notes: on a descriptor opened with O_APPEND, and on pipes, sockets and terminals,
 * writes land in the order of the calls (Linux ignores the offset with O_APPEND).
 * Writes whose byte ranges overlap an earlier read or write on the same descriptor
 * wait for it; others may run in parallel. The result is what one write(2) returns.
 *
 * @example
 * const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('hello'), aio_nbytes: 5 });
 * if (aio_write(cb) === -1) throw lastError();
 */
export function aio_write(aiocbp: Aiocb): number {
  return submitRw(aiocbp, OP_WRITE, 'aio_write', 'aiocbp');
}
