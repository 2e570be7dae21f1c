import { AIO_PRIO_DELTA_MAX, EINVAL, _POSIX_VERSION, _SC_AIO_LISTIO_MAX, _SC_AIO_MAX, _SC_AIO_PRIO_DELTA_MAX, _SC_ASYNCHRONOUS_IO, _SC_PRIORITIZED_IO } from '../constants';
import { fail, invalidArgType, outOfRange, rangeRule } from '../errors';
import { engine } from '../engine/queue';
import { readField, validateInteger, validateObject } from '../validate';

/** glibc's `struct aioinit`. Every field is optional here; the unused ones are accepted and ignored. */
export interface AioInit {
  /** Most system calls in libuv's thread pool at once (the in-flight cap). Default: 16 per libuv thread (64 with UV_THREADPOOL_SIZE 4). */
  aio_threads?: number;
  /** Expected simultaneous requests (a sizing hint, as in glibc). Default 64. */
  aio_num?: number;
  /** Seconds an idle worker lingers in glibc; recorded for sysconf-style introspection only (libuv owns the threads). Default 1. */
  aio_idle_time?: number;
  /** The outstanding-request limit, AIO_MAX (not in glibc's struct: this package's extension). Default 512. */
  aio_max?: number;
  /** The lio_listio limit, AIO_LISTIO_MAX, at least 2 (POSIX's minimum). Default 256. */
  aio_listio_max?: number;
  /** Not used by glibc; accepted and ignored. */
  aio_locks?: number;
  /** Not used by glibc; accepted and ignored. */
  aio_usedba?: number;
  /** Not used by glibc; accepted and ignored. */
  aio_debug?: number;
  /** Not used by glibc; accepted and ignored. */
  aio_numusers?: number;
  /** Reserved in glibc; accepted and ignored. */
  aio_reserved?: number[];
}

const INT_MAX = 2 ** 31 - 1;

/**
 * aio_init(3): tunes the engine. May be called at any time, as often as wanted.
 *
 * @returns nothing (as in glibc).
 *
 * Throws TypeError when `init` is not an object or a field is not a number, and
 * RangeError when `aio_threads`, `aio_num` or `aio_max` is not an integer >= 1,
 * `aio_listio_max` not an integer >= 2, or `aio_idle_time` negative or not finite.
 * Nothing is applied unless every field is valid.
 *
 * Notes: a new `aio_threads` applies to later dispatches (raising it dispatches at
 * once). Lowering `aio_max` or `aio_listio_max` below what is outstanding affects
 * only new submissions. Unlike glibc, nothing is fixed after the first request.
 * The default in-flight cap is 16 per libuv thread: deep enough that libuv's workers
 * find the next request queued instead of sleeping until the event loop hands them
 * one (at the pool size, 4, small random reads ran at about 0.35x raw fs.read; at 64,
 * 0.75-0.85x), while a foreign job (dns.lookup, crypto, zlib) still waits about
 * 0.3 ms for a thread. Beyond the first pool-size calls the engine also stops at
 * 4 MiB in flight, so large requests wait here. The trade-off: a request in the thread
 * pool can no longer be canceled (AIO_NOTCANCELED); set `aio_threads` to the pool size
 * or lower to keep more of the queue cancelable, or to reserve threads for others.
 * `counters().inFlightCap` reports the cap in force.
 *
 * @example
 * aio_init({ aio_threads: 2, aio_max: 4096 });
 */
export function aio_init(init: AioInit): void {
  const obj = validateObject(init, 'init');
  const field = (key: string, min: number): number | undefined => {
    const v = readField(obj, key, 'init');
    return v === undefined ? undefined : validateInteger(v, `init.${key}`, min, INT_MAX);
  };
  const threads = field('aio_threads', 1);
  const num = field('aio_num', 1);
  const max = field('aio_max', 1);
  const listio = field('aio_listio_max', 2);
  const idleIn = readField(obj, 'aio_idle_time', 'init');
  if (idleIn !== undefined) {
    if (typeof idleIn !== 'number') throw invalidArgType('init.aio_idle_time', 'of type number', idleIn);
    if (!Number.isFinite(idleIn) || idleIn < 0) throw outOfRange('init.aio_idle_time', 'a finite number >= 0', idleIn);
  }
  const eng = engine();
  if (num !== undefined) eng.num = num;
  if (max !== undefined) eng.maxOutstanding = max;
  if (listio !== undefined) eng.listioMax = listio;
  if (idleIn !== undefined) eng.idleTime = idleIn as number;
  if (threads !== undefined) eng.setMaxInFlight(threads);
}

/**
 * sysconf(3), for the AIO names.
 *
 * @returns the current value: `_SC_AIO_MAX` the outstanding-request limit,
 * `_SC_AIO_LISTIO_MAX` the lio_listio limit (both set by aio_init),
 * `_SC_AIO_PRIO_DELTA_MAX` 20, `_SC_ASYNCHRONOUS_IO` and `_SC_PRIORITIZED_IO`
 * 200809 (the options are supported). Never -1 for these.
 *
 * Errors: -1 with errno `EINVAL` for any other name.
 *
 * Throws TypeError when `name` is not a number.
 *
 * @example
 * const max = sysconf(_SC_AIO_MAX);
 */
export function sysconf(name: number): number {
  if (typeof name !== 'number') throw invalidArgType('name', 'of type number', name);
  const eng = engine();
  switch (name) {
    case _SC_AIO_MAX:
      return eng.maxOutstanding;
    case _SC_AIO_LISTIO_MAX:
      return eng.listioMax;
    case _SC_AIO_PRIO_DELTA_MAX:
      return AIO_PRIO_DELTA_MAX;
    case _SC_ASYNCHRONOUS_IO:
    case _SC_PRIORITIZED_IO:
      return _POSIX_VERSION;
    default:
      return fail(EINVAL, 'sysconf', rangeRule('name', '_SC_AIO_MAX, _SC_AIO_LISTIO_MAX, _SC_AIO_PRIO_DELTA_MAX, _SC_ASYNCHRONOUS_IO or _SC_PRIORITIZED_IO', name));
  }
}
