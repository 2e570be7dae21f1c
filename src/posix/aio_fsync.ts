import { attach, inProgress, readBlockSigevent, readFildes, type Aiocb } from '../aiocb';
import { EAGAIN, EINVAL, O_DSYNC, O_SYNC } from '../constants';
import { fail, rangeRule } from '../errors';
import { engine } from '../engine/queue';
import { OP_FDATASYNC, OP_FSYNC, Request } from '../engine/request';
import { validateInteger, validateObject } from '../validate';
import { ownerFor, posixDone } from './submit';

/**
 * aio_fsync(3): queues a synchronisation of every request submitted before it on
 * `aio_fildes`: `O_SYNC` as fsync(2), `O_DSYNC` as fdatasync(2).
 *
 * @returns 0 when queued; -1 with errno set otherwise.
 *
 * Errors:
 * - `EINVAL`: `op` is neither O_SYNC nor O_DSYNC (checked first, as glibc does);
 *   `aio_sigevent` is invalid; the block is still in progress.
 * - `EBADF`: `aio_fildes` is not an open descriptor (at once, unlike aio_read; LTP
 *   aio_fsync/12-1). A descriptor open only for reading is accepted (glibc BZ#15361).
 * - `EAGAIN`: the outstanding-request limit is reached.
 *
 * Errors of the synchronisation arrive through aio_error: `EINVAL` on a pipe or
 * socket, any fsync(2) error, or the first failure of a write it covers.
 *
 * Notes: only `aio_fildes` and `aio_sigevent` are read; `aio_buf`, `aio_nbytes`,
 * `aio_offset` and `aio_reqprio` may hold anything (LTP aio_fsync/8-1..8-4). It is a
 * barrier: issued only once every request submitted before it on the descriptor has
 * finished, whatever their priorities (glibc lets it overtake lower-priority ones).
 * As POSIX asks and glibc does not, when a write it covers failed (a write submitted
 * before it that had not completed when it was submitted; canceled writes do not
 * count), it reports that write's error. Later requests do not wait for it.
 *
 * @example
 * const sync = new AioControlBlock({ aio_fildes: fd });
 * if (aio_fsync(O_SYNC, sync) === -1) throw lastError();
 */
export function aio_fsync(op: number, aiocbp: Aiocb): number {
  validateInteger(op, 'op', -(2 ** 31), 2 ** 31 - 1);
  const obj = validateObject(aiocbp, 'aiocbp');
  const fd = readFildes(obj, 'aiocbp');
  const sig = readBlockSigevent(obj, 'aiocbp');
  if (op !== O_SYNC && op !== O_DSYNC) return fail(EINVAL, 'aio_fsync', rangeRule('op', `O_SYNC (${O_SYNC}) or O_DSYNC (${O_DSYNC})`, op));
  if (typeof sig === 'string') return fail(EINVAL, 'aio_fsync', sig);
  if (inProgress(obj)) return fail(EINVAL, 'aio_fsync', '"aiocbp" is still in progress: a control block carries one operation at a time');
  const eng = engine();
  const lane = eng.openLane(fd);
  if (typeof lane === 'number') return fail(lane, 'aio_fsync', `"aiocbp.aio_fildes" (${fd}) is not an open file descriptor`);
  if (!eng.hasRoom()) return fail(EAGAIN, 'aio_fsync', `the outstanding-request limit (AIO_MAX = ${eng.maxOutstanding}) is reached`);
  const req = new Request(op === O_SYNC ? OP_FSYNC : OP_FDATASYNC, fd, 0, null, null, 0, 0, posixDone, ownerFor(sig, null));
  attach(obj, req);
  eng.submit(req, lane);
  return 0;
}
