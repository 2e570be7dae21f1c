import { performance } from 'node:perf_hooks';
import { requestOf, type Aiocb } from '../aiocb';
import { EAGAIN, EINTR, EINVAL } from '../constants';
import { fail, failLater, invalidArgType, rangeRule } from '../errors';
import { engine } from '../engine/queue';
import type { Request, Waiter } from '../engine/request';
import { readElement, readField } from '../validate';

/** C's `struct timespec`, a relative timeout. */
export interface Timespec {
  /** Whole seconds: an integer >= 0 (otherwise EINVAL). */
  tv_sec: number;
  /** Nanoseconds added to `tv_sec`: an integer from 0 to 999999999 (otherwise EINVAL). */
  tv_nsec: number;
}

/** A request's waiter list is pruned of finished waiters when it reaches this length. */
const PRUNE_AT = 8;

/** Drops, in place, the waiters whose aio_suspend call has returned (they carry `over: true`). */
function prune(ws: Waiter[]): void {
  let n = 0;
  for (const w of ws) if (w.over !== true) ws[n++] = w;
  ws.length = n;
}

/**
 * Adds `wake` to `req`'s waiters: in the request's one slot when that is free or
 * holds a call that has returned (the usual case: a loop over aio_suspend), in a list
 * otherwise. O(1) amortised, and no allocation in the usual case.
 */
function addWaiter(req: Request, wake: Waiter): void {
  const ws = req.waiters;
  if (ws === null || (typeof ws === 'function' && ws.over === true)) req.waiters = wake;
  else if (typeof ws === 'function') req.waiters = [ws, wake];
  else {
    if (ws.length >= PRUNE_AT) prune(ws);
    ws.push(wake);
  }
}

/** setTimeout's longest delay; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Checks a timespec. Throws TypeError for wrong types.
 *
 * @returns the timeout in milliseconds, or the EINVAL rule it breaks (tv_sec
 * negative or fractional, tv_nsec outside 0 <= tv_nsec < 1e9).
 */
export function readTimespec(timeout: unknown, name: string): number | string {
  if (typeof timeout !== 'object' || timeout === null) throw invalidArgType(name, 'of type object or null', timeout);
  const obj = timeout as Record<string, unknown>;
  const sec = readField(obj, 'tv_sec', name);
  const nsec = readField(obj, 'tv_nsec', name);
  if (typeof sec !== 'number') throw invalidArgType(`${name}.tv_sec`, 'of type number', sec);
  if (typeof nsec !== 'number') throw invalidArgType(`${name}.tv_nsec`, 'of type number', nsec);
  if (!Number.isInteger(sec) || sec < 0) return rangeRule(`${name}.tv_sec`, 'an integer >= 0', sec);
  if (!Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9) return rangeRule(`${name}.tv_nsec`, 'an integer >= 0 && < 1000000000', nsec);
  return sec * 1000 + nsec / 1e6;
}

function checkSignal(signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (!(signal instanceof AbortSignal)) throw invalidArgType('signal', 'an instance of AbortSignal', signal);
  return signal;
}

/**
 * aio_suspend(3): waits until at least one of the listed requests is no longer in
 * progress, the timeout passes, or `signal` aborts.
 *
 * @returns a Promise of 0 as soon as one listed request has completed (at once when
 * one already has, or when the list holds no request at all); of -1 with errno set
 * otherwise.
 *
 * Errors (the Promise resolves -1, errno is set when it resolves):
 * - `EAGAIN`: the timeout passed first (`{ tv_sec: 0, tv_nsec: 0 }` polls).
 * - `EINTR`: `signal` aborted (the analogue of a signal interrupting the C call).
 * - `EINVAL`: `nent` is negative or larger than the list; the timespec has a negative
 *   or fractional `tv_sec` or a `tv_nsec` outside 0..999999999 (checked before
 *   anything else; glibc aborts the process instead).
 *
 * The Promise rejects with TypeError when `list` is not an array or an entry,
 * `timeout` or `signal` has the wrong type.
 *
 * Notes: null entries, and blocks never submitted, are skipped. The deadline is
 * measured on the monotonic clock and never ends early. Which request completed is
 * found with aio_error. A completion resolves the Promise once the event loop has
 * handled every completion of the same turn (with the notifications, in completion
 * order), so one pass over the list after it finds them all; a request that completed
 * before the deadline or the abort wins over both. This is C's blocking call turned
 * into a Promise: Node's
 * single thread cannot block and still see completions. Because it resolves at once
 * while any listed request is done, a loop waiting for all of a list must drop the
 * finished ones from what it passes: awaiting an already-resolved Promise runs no
 * event-loop turn, so `while (someInProgress) await aio_suspend(all, n)` with one
 * finished entry spins in microtasks and the others can never complete.
 *
 * @example
 * const list = [cbA, null, cbB];
 * if ((await aio_suspend(list, list.length, { tv_sec: 1, tv_nsec: 0 })) === -1) console.log(strerror(errno()));
 *
 * // Waiting for all of them: list only those still in progress.
 * for (let left = [cbA, cbB]; left.length > 0; left = left.filter((cb) => aio_error(cb) === EINPROGRESS)) {
 *   await aio_suspend(left, left.length);
 * }
 */
export function aio_suspend(list: ReadonlyArray<Aiocb | null | undefined>, nent: number, timeout?: Timespec | null, signal?: AbortSignal): Promise<number> {
  try {
    return suspend(list, nent, timeout, signal);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** `list[i]`: a control block, or null for a null or undefined entry; a TypeError for any other type. */
function entryAt(list: unknown[], i: number): object | null {
  const cb: unknown = readElement(list, i, 'list');
  if (cb === null || cb === undefined) return null;
  if (typeof cb !== 'object') throw invalidArgType(`list[${i}]`, 'an aiocb object or null', cb);
  return cb;
}

function suspend(list: unknown, nent: unknown, timeout: unknown, signalIn: unknown): Promise<number> {
  if (!Array.isArray(list)) throw invalidArgType('list', 'an instance of Array', list);
  if (typeof nent !== 'number') throw invalidArgType('nent', 'of type number', nent);
  const signal = checkSignal(signalIn);
  let ms: number | null = null;
  if (timeout !== undefined && timeout !== null) {
    const t = readTimespec(timeout, 'timeout');
    if (typeof t === 'string') return failLater(EINVAL, 'aio_suspend', t);
    ms = t;
  }
  if (!Number.isInteger(nent) || nent < 0 || nent > list.length) {
    return failLater(EINVAL, 'aio_suspend', rangeRule('nent', `an integer >= 0 && <= ${list.length} (the length of list)`, nent));
  }
  // Waiters are registered during the one pass over the list (each element is read
  // once); if the call returns at once after all, they are marked over, and do nothing.
  const call = new Suspension(signal);
  let waiting = false;
  try {
    for (let i = 0; i < nent; i++) {
      const cb = entryAt(list, i);
      if (cb === null) continue;
      const req = requestOf(cb);
      if (req === undefined) continue;
      if (!req.pending) {
        call.drop();
        // The rest of the list still gets its type check: a wrong JS type rejects wherever it is.
        for (let j = i + 1; j < nent; j++) entryAt(list, j);
        return Promise.resolve(0);
      }
      addWaiter(req, call.wake);
      waiting = true;
    }
  } catch (err) {
    call.drop();
    throw err;
  }
  if (!waiting) return Promise.resolve(0);
  if (signal?.aborted === true) {
    call.drop();
    return failLater(EINTR, 'aio_suspend', 'the AbortSignal was aborted');
  }
  if (ms === 0) {
    call.drop();
    return failLater(EAGAIN, 'aio_suspend', 'no listed request completed before the timeout');
  }
  return call.start(ms);
}

/**
 * One aio_suspend call that waits: its waiter (registered on the listed requests), its
 * Promise, its timer and its abort listener. One object and two closures per call
 * (three with a signal), and no list of the requests it waits for.
 */
class Suspension {
  /**
   * The waiter on every listed request. A completion wakes the caller once the event
   * loop has handled every completion of its turn (deferred, like notifications): a
   * loop over aio_suspend then finds them all in one pass instead of paying a scan of
   * its list per completion.
   */
  readonly wake: Waiter;
  readonly #signal: AbortSignal | undefined;
  #resolve: ((result: number) => void) | null = null;
  #timer: NodeJS.Timeout | undefined = undefined;
  #deadline = 0;
  #settled = false;
  #woken = false;

  constructor(signal: AbortSignal | undefined) {
    this.#signal = signal;
    this.wake = (): void => {
      if (this.#woken || this.#settled) return;
      this.#woken = true;
      engine().defer(this.#onWoken, true);
    };
  }

  /** The call returns without waiting: registered waiters do nothing from now on. */
  drop(): void {
    this.#settled = true;
    this.wake.over = true;
  }

  /** Waits: at most `ms` milliseconds (null: no timeout). */
  start(ms: number | null): Promise<number> {
    const promise = new Promise<number>((resolve) => {
      this.#resolve = resolve;
    });
    const signal = this.#signal;
    if (signal !== undefined) {
      this.#onAbort = (): void => {
        if (!this.#woken) this.#settle(-1, EINTR, 'the AbortSignal was aborted');
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    if (ms !== null) {
      this.#deadline = performance.now() + ms;
      this.#arm();
    }
    return promise;
  }

  readonly #onWoken = (): void => this.#settle(0, 0, '');

  /** The abort listener, made only for a call with a signal. */
  #onAbort: (() => void) | null = null;

  #arm(): void {
    // A request that completed before the deadline wins, even if its wake-up is still on its way.
    if (this.#woken) return;
    const left = this.#deadline - performance.now();
    if (left <= 0) return this.#settle(-1, EAGAIN, 'no listed request completed before the timeout');
    // Timers run on a millisecond clock and may fire a fraction early: check, re-arm.
    this.#timer = setTimeout(Suspension.#rearm, Math.min(Math.ceil(left), MAX_TIMER_MS), this);
  }

  static #rearm(call: Suspension): void {
    call.#arm();
  }

  #settle(result: number, error: number, why: string): void {
    if (this.#settled) return;
    // Left in the lists of the requests still in progress (no O(n) removal per call):
    // a finished waiter does nothing when called, and the next registration prunes it.
    this.drop();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#onAbort !== null) this.#signal?.removeEventListener('abort', this.#onAbort);
    (this.#resolve as (result: number) => void)(result === -1 ? fail(error, 'aio_suspend', why) : 0);
  }
}
