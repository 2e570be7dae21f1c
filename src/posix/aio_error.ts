import { requestOf, type Aiocb } from '../aiocb';
import { EINPROGRESS, EINVAL } from '../constants';
import { fail } from '../errors';
import { validateObject } from '../validate';

/**
 * aio_error(3): the status of the request `aiocbp` carries.
 *
 * @returns `EINPROGRESS` until the request is complete; then 0 on success, or the
 * positive errno the synchronous call would have set (`ECANCELED` when canceled).
 * After aio_return it keeps returning the final status until the block is submitted
 * again. A refused submission does not change it.
 *
 * Errors: -1 with errno `EINVAL` when the block was never accepted by this library
 * (POSIX's "may fail"; glibc returns whatever the memory holds).
 *
 * Throws TypeError when `aiocbp` is not an object.
 *
 * Notes: the status is final before any notification of the request runs. Polling
 * aio_error in a loop never ends on Node's single thread (completions arrive only
 * when the loop turns): await aio_suspend instead.
 *
 * @example
 * await aio_suspend([cb], 1);
 * if (aio_error(cb) !== 0) console.error(strerror(aio_error(cb)));
 */
export function aio_error(aiocbp: Aiocb): number {
  const req = requestOf(validateObject(aiocbp, 'aiocbp'));
  if (req === undefined) return fail(EINVAL, 'aio_error', '"aiocbp" was never submitted');
  return req.pending ? EINPROGRESS : req.error;
}
