/**
 * Time on the nng_aio face: the clock that deadlines use, and the sleep operation,
 * for which the framework itself is the provider.
 *
 * @packageDocumentation
 */
import { invalidArgType, outOfRange } from '../errors';
import { validateAio, type NngAio } from './handle';

/**
 * @internal nng_clock's time with its fraction (for arming timers). Its origin is
 * the process's (performance.timeOrigin), not this module's load, so that both
 * copies of the package (ESM and CommonJS) read the same clock.
 */
export function clockNow(): number {
  return performance.now();
}

/**
 * nng_clock: the current time in milliseconds, on the monotonic clock that
 * deadlines and nng_aio_set_expire use.
 *
 * @returns an integer count of milliseconds from an arbitrary origin (the start of
 * the process); it never goes backwards.
 * @remarks
 * Errors: none.
 *
 * Notes: it reads `performance.now()`, never `Date.now()`, so changes of the wall
 * clock do not move deadlines. nng's `nng_time` is a uint64; here it is a number,
 * exact to 2^53 ms.
 * @example
 * nng_aio_set_expire(aio, nng_clock() + 40); // at most 40 ms from now
 */
export function nng_clock(): number {
  return Math.floor(clockNow());
}

/**
 * nng_sleep_aio: an operation that does nothing for `ms` milliseconds.
 *
 * @param ms - milliseconds, or NNG_DURATION_INFINITE to sleep until canceled.
 * @returns nothing; the callback runs later, once, with result 0 and count 0 when
 * the sleep completes.
 * @remarks
 * Errors (through the callback):
 * - NNG_ETIMEDOUT: the handle's relative timeout is shorter than `ms` (including
 *   NNG_DURATION_ZERO); the sleep ends at the timeout. An equal timeout still gives 0.
 * - NNG_ECANCELED, or the code of nng_aio_abort: ended early.
 * - NNG_ESTOPPED: the handle is stopped (at once), or was stopped or freed during
 *   the sleep.
 *
 * Throws an Error when an operation is already in flight or the handle has been
 * freed, and a TypeError or RangeError when `ms` is not an int32 integer.
 *
 * Notes: expiry is strict (the callback runs once the clock has passed start + ms,
 * so at least `ms` later). It ignores nng_aio_set_expire, which then no longer
 * applies, and leaves the stored timeout alone (nanomsg/nng#283). An infinite sleep
 * waits until cancel, abort, stop or free (nng 2.x; nng 1.x completes it at once)
 * and holds no timer, so on its own it does not keep the process alive; a sleep
 * with a deadline does, like setTimeout. Negative values other than
 * NNG_DURATION_INFINITE sleep 0 ms. To repeat, call it again from the callback
 * unless the result is NNG_ESTOPPED.
 * @example
 * const aio = nng_aio_alloc(() => console.log('tick', nng_aio_result(aio)));
 * nng_sleep_aio(100, aio);
 */
export function nng_sleep_aio(ms: number, aio: NngAio): void {
  const handle = validateAio(aio, 'nng_sleep_aio');
  if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms);
  if (!Number.isInteger(ms) || ms < -0x80000000 || ms > 0x7fffffff) {
    throw outOfRange('ms', 'an integer >= -2147483648 && <= 2147483647', ms);
  }
  handle.sleep('nng_sleep_aio', ms);
}
