import { requestOf, type Aiocb } from '../aiocb';
import { EINVAL } from '../constants';
import { fail } from '../errors';
import { validateObject } from '../validate';

/**
 * aio_return(3): the result of the completed request `aiocbp` carries, once.
 *
 * @returns what the synchronous read(2), write(2) or fsync(2) would have returned:
 * the byte count (possibly short), 0 for a synchronisation, or -1 when the request
 * failed or was canceled. In that last case errno is set to the request's error too
 * (as FreeBSD does), so `strerror(errno())` explains the -1.
 *
 * Errors: -1 with errno `EINVAL` when the block was never accepted, is still in
 * progress, or its result was already retrieved (POSIX: "may be called exactly
 * once"; glibc allows repeats, FreeBSD does not; LTP aio_return/2-1, 3-2, 4-1).
 *
 * Throws TypeError when `aiocbp` is not an object.
 *
 * Notes: aio_error keeps reporting the final status after this call. Submitting the
 * block again makes aio_return usable again for the new request.
 *
 * @example
 * const n = aio_return(cb);
 * if (n === -1) console.error(lastError()?.message);
 */
export function aio_return(aiocbp: Aiocb): number {
  const req = requestOf(validateObject(aiocbp, 'aiocbp'));
  if (req === undefined) return fail(EINVAL, 'aio_return', '"aiocbp" was never submitted');
  if (req.pending) return fail(EINVAL, 'aio_return', '"aiocbp" is still in progress (aio_error returns EINPROGRESS)');
  if (req.retrieved) return fail(EINVAL, 'aio_return', 'the result of "aiocbp" was already retrieved: aio_return may be called once per operation');
  req.retrieved = true;
  if (req.error !== 0) fail(req.error, 'aio_return', 'the operation failed; aio_error(aiocbp) reports the same error');
  return req.value;
}
