/**
 * The nng_aio handle: a completion callback, cancellation, timeouts and byte counts
 * for any asynchronous operation, after nng's nng_aio(5). Where nng 1.x and 2.x
 * differ, this follows 2.x (nng 2.0.0dev, main); each call's notes say where.
 *
 * Design notes (the invariants, before any code):
 *
 * - A handle carries at most one operation at a time. An operation begins with
 *   nng_aio_begin or nng_aio_start (or nng_aio_reset followed by a synchronous
 *   nng_aio_finish) and ends with exactly one run of the callback. Starting another
 *   one while it is in flight throws; starting one from the callback is fine,
 *   because the old operation is over by then.
 * - The callback runs exactly once per operation, and never inside the call that
 *   started or finished it: finish only stores the result and queues the callback
 *   with `engine().defer`, which runs queued functions in order on a later
 *   setImmediate turn, so a callback that resubmits at once cannot starve the event
 *   loop.
 * - busy holds from the start of an operation until its callback has returned (or
 *   until the next operation started from that callback ends). nng_aio_wait and
 *   nng_aio_stop resolve only when busy ends. busy ends when the callback function
 *   returns, even if it returned a promise: that promise is ignored.
 * - The framework never completes an operation itself, except a sleep and an
 *   operation it refuses to start. Abort, cancel, stop, free and expiry all do the
 *   same thing: take the provider's cancel function (so it is called at most once
 *   per registration), remove the deadline, and call it with a reason. The provider
 *   then finishes with that reason, or lets the operation run to its real result.
 * - A deadline exists only while an operation is registered with a cancel function
 *   (nng: "we only schedule expiration if we have a way to cancel"). It is computed
 *   when the provider registers (defer or start), on {@link nng_clock}, is strict
 *   (it fires once the clock has passed it), and its timer is cleared whenever the
 *   operation ends, so an idle handle holds no timer and never keeps the process
 *   alive.
 * - Stopped is permanent. After nng_aio_stop or nng_aio_free every start returns
 *   false and completes at once through the callback with NNG_ESTOPPED, every time.
 * - result, count and outputs are cleared when an operation begins and are final
 *   from its finish until the next one begins; inputs, msg, iov and the relative
 *   timeout persist; an absolute expiry (nng_aio_set_expire) lasts one operation.
 * - An abort with nothing in flight has no effect (nng's documented behaviour; its
 *   code overwrites the result). An abort between begin and defer is remembered and
 *   ends the operation at defer with exactly one callback (nanomsg/nng#2208).
 * - A second finish of the same operation is ignored, before or after its
 *   callback ran, as long as no newer operation has begun: it never runs a second
 *   callback. finish names no operation, so one that comes after the handle began
 *   a newer operation completes that one; providers must not finish late.
 * - After nng_aio_free (or nng_aio_reap) every call throws, except calls made from
 *   inside the callback of the operation that was in flight when it was freed, and
 *   the provider calls that complete that operation (nng_aio_defer and nng_aio_start,
 *   which then return false with NNG_ESTOPPED, nng_aio_set_output, nng_aio_set_msg,
 *   nng_aio_get_input, nng_aio_get_msg, nng_aio_finish); that callback still runs
 *   exactly once.
 *
 * @packageDocumentation
 */
import { engine } from '../engine/queue';
import { invalidArgType, outOfRange } from '../errors';
import {
  NNG_AIO_MAX_IOV,
  NNG_AIO_SLOTS,
  NNG_DURATION_DEFAULT,
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_ECANCELED,
  NNG_EINVAL,
  NNG_ESTOPPED,
  NNG_ETIMEDOUT,
} from './constants';
import { clockNow, nng_clock } from './sleep';

/** The completion callback: called with the `arg` given to nng_aio_alloc. */
export type NngAioCallback = (arg: unknown) => unknown;

/**
 * A provider's cancel function, called as `cancelFn(aio, arg, err)` with the reason
 * (NNG_ETIMEDOUT, NNG_ECANCELED, NNG_ESTOPPED or an abort code). If it can still
 * cancel, it must make sure nng_aio_finish is called with `err`; if it is too late,
 * it returns without doing anything and the operation ends with its real result.
 */
export type NngCancelFn = (aio: NngAio, arg: unknown, err: number) => void;

/** One scatter/gather entry: `iov_len` bytes at the start of `iov_buf`. */
export interface NngIov {
  /** The buffer: a Buffer, any TypedArray or a DataView. */
  iov_buf: ArrayBufferView;
  /** Bytes of `iov_buf` to use, from its start: an integer from 0 to `iov_buf.byteLength`. */
  iov_len: number;
}

// Where the current operation stands. busy = op !== IDLE || the callback is running.
const IDLE = 0;
/** Begun (nng_aio_begin) and not yet registered with a cancel function. */
const BEGUN = 1;
/** Registered (nng_aio_defer / nng_aio_start): cancelable and, maybe, timed. */
const ACTIVE = 2;
/** Finished: the callback is queued and has not run yet. */
const FINISHED = 3;

// The free state.
const LIVE = 0;
/** Freed while busy: the pending callback still runs (and may use the handle). */
const FREEING = 1;
const FREED = 2;

/** The brand that survives duplicate copies of the package (see AioError). */
const kBrand = Symbol.for('posix-aio.NngAio');

/** setTimeout's largest delay; longer ones are re-armed in steps. */
const MAX_TIMER = 0x7fffffff;

/**
 * An asynchronous I/O handle (nng's `nng_aio`). Create it with
 * {@link nng_aio_alloc} and use it only through the `nng_aio_*` functions; its
 * state is private.
 */
export class NngAio {
  /** A handle made by either copy of the package (ESM or CommonJS) is an NngAio to both. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
  }

  #callb: NngAioCallback | null;
  #arg: unknown;

  #op = IDLE;
  #inCallback = false;
  /** A finish is accepted on an idle handle only after alloc, reset or a start (a synchronous completion). */
  #finishable = true;
  #stopped = false;
  #free = LIVE;
  #pendingAbort = 0;

  #result = 0;
  #count = 0;
  readonly #inputs: unknown[] = [null, null, null, null];
  #outputs: unknown[] = [null, null, null, null];
  #msg: unknown = null;
  #iov: readonly NngIov[] = [];

  #timeout = NNG_DURATION_DEFAULT;
  #expire = 0;
  #useExpire = false;

  #cancelFn: NngCancelFn | null = null;
  #cancelArg: unknown = undefined;
  /** Absolute deadline on nng_clock, or -1 for none. */
  #deadline = -1;
  #timer: NodeJS.Timeout | null = null;
  /** For a sleep: the result its deadline gives (0, or NNG_ETIMEDOUT when a shorter timeout cut it). */
  #sleepRv = -1;

  #waiters: Array<() => void> = [];

  /** @internal use {@link nng_aio_alloc}. */
  constructor(callb: NngAioCallback | null, arg: unknown) {
    this.#callb = callb;
    this.#arg = arg;
    Object.defineProperty(this, kBrand, { value: true });
  }

  /** Shows the handle's state, as `util.inspect` and `console.log` print it. */
  [Symbol.for('nodejs.util.inspect.custom')](): object {
    const op = ['idle', 'begun', 'active', 'finished'][this.#op] ?? 'unknown';
    return {
      state: this.#free === FREED ? 'freed' : this.#stopped ? `stopped (${op})` : op,
      result: this.#result,
      count: this.#count,
      timeout: this.#useExpire ? `expires at ${this.#expire}` : this.#timeout,
      iov: this.#iov.length,
      inCallback: this.#inCallback,
    };
  }

  // ---- checks -------------------------------------------------------------

  /** @internal throws when the handle has been freed (see the design notes). */
  check(name: string): void {
    if (!(#free in this)) throw invalidArgType('aio', 'a handle made by nng_aio_alloc', this);
    if (this.#free === FREED || (this.#free === FREEING && !this.#inCallback)) {
      throw new Error(`${name}: the nng_aio handle has been freed`);
    }
  }

  /**
   * @internal the provider's check: besides a live handle, it accepts one freed while
   * an operation is in flight, so that the provider can still register (and be
   * refused with NNG_ESTOPPED), set outputs and finish it: its callback must run.
   */
  checkProvider(name: string): void {
    if (!(#free in this)) throw invalidArgType('aio', 'a handle made by nng_aio_alloc', this);
    if (this.#free === FREED || (this.#free === FREEING && this.#op === IDLE && !this.#inCallback)) {
      throw new Error(`${name}: the nng_aio handle has been freed`);
    }
  }

  #checkStart(name: string): void {
    this.check(name);
    if (this.#free !== LIVE) throw new Error(`${name}: the nng_aio handle has been freed`);
    if (this.#op !== IDLE) {
      throw new Error(`${name}: an operation is already in flight on this nng_aio (one operation at a time)`);
    }
  }

  // ---- consumer side --------------------------------------------------------

  /** @internal true once freed for good (not while a pending callback still runs). */
  get freed(): boolean {
    if (!(#free in this)) throw invalidArgType('aio', 'a handle made by nng_aio_alloc', this);
    return this.#free === FREED;
  }
  /** @internal */
  get busy(): boolean {
    return this.#op !== IDLE || this.#inCallback;
  }
  /** @internal */
  get result(): number {
    return this.#result;
  }
  /** @internal */
  get count(): number {
    return this.#count;
  }
  /** @internal */
  get iov(): readonly NngIov[] {
    return this.#iov;
  }
  /** @internal */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** @internal */
  setTimeout(ms: number): void {
    this.#timeout = ms;
    this.#useExpire = false;
  }
  /** @internal */
  setExpire(when: number): void {
    this.#expire = when;
    this.#useExpire = true;
  }
  /** @internal */
  get timeout(): number {
    return this.#timeout;
  }

  /** @internal */
  setInput(i: number, v: unknown): void {
    this.#inputs[i] = v;
  }
  /** @internal */
  getInput(i: number): unknown {
    return this.#inputs[i] ?? null;
  }
  /** @internal */
  setOutput(i: number, v: unknown): void {
    this.#outputs[i] = v;
  }
  /** @internal */
  getOutput(i: number): unknown {
    return this.#outputs[i] ?? null;
  }
  /** @internal */
  setMsg(msg: unknown): void {
    this.#msg = msg;
  }
  /** @internal */
  getMsg(): unknown {
    return this.#msg;
  }
  /** @internal */
  setIov(iov: readonly NngIov[]): void {
    this.#iov = iov;
  }

  /** @internal resolves once busy is false. */
  wait(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** @internal nng_aio_abort: ask the provider to end the operation with `err`. */
  abort(err: number): void {
    if (this.#op === BEGUN) {
      // Not registered yet: remember it, so that defer ends the operation (nanomsg/nng#2208).
      this.#pendingAbort = err;
      return;
    }
    if (this.#op !== ACTIVE) return; // Idle or already finished: no effect.
    this.#clearDeadline();
    const fn = this.#cancelFn;
    const arg = this.#cancelArg;
    this.#cancelFn = null;
    this.#cancelArg = undefined;
    if (this.#sleepRv >= 0) {
      // A sleep is the framework's own operation: end it here.
      this.finish(err, undefined);
      return;
    }
    if (fn !== null) fn(this, arg, err);
  }

  /** @internal marks the handle stopped and asks the provider to end what is in flight. */
  stop(): void {
    this.#stopped = true;
    this.abort(NNG_ESTOPPED);
  }

  /** @internal nng_aio_free / nng_aio_reap. */
  free(name: string): void {
    this.check(name);
    if (this.#free !== LIVE) throw new Error(`${name}: the nng_aio handle has already been freed`);
    // Freed first: a cancel function that throws (surfacing here) cannot leave the handle live.
    this.#free = FREEING;
    try {
      this.stop();
    } finally {
      if (!this.busy || (this.#inCallback && this.#op === IDLE)) this.#free = FREED;
    }
  }

  // ---- provider side --------------------------------------------------------

  /** @internal clears what an operation's start clears. */
  #clear(): void {
    this.#result = 0;
    this.#count = 0;
    this.#pendingAbort = 0;
    this.#sleepRv = -1;
    this.#outputs = [null, null, null, null];
  }

  /** @internal nng_aio_reset. */
  reset(name: string): void {
    this.#checkStart(name);
    this.#clear();
    this.#finishable = true;
  }

  /** @internal nng_aio_begin. */
  begin(name: string): boolean {
    this.#checkStart(name);
    this.#clear();
    this.#finishable = true;
    this.#op = BEGUN;
    if (this.#stopped) {
      this.#refuse(NNG_ESTOPPED);
      return false;
    }
    return true;
  }

  /**
   * @internal nng_aio_defer / nng_aio_start: register the cancel function and arm
   * the deadline. From IDLE this begins the operation too.
   */
  register(name: string, cancelFn: NngCancelFn | null, arg: unknown, isStart: boolean): boolean {
    this.checkProvider(name);
    if (this.#op === IDLE) {
      if (!this.begin(name)) return false;
    } else if (isStart && this.#op !== BEGUN) {
      throw new Error(`${name}: an operation is already in flight on this nng_aio (one operation at a time)`);
    } else if (this.#op === ACTIVE) {
      // A second registration within the same operation replaces the cancel function;
      // the deadline armed by the first stays.
      this.#cancelFn = cancelFn;
      this.#cancelArg = arg;
      if (this.#stopped && cancelFn !== null) this.abort(NNG_ESTOPPED);
      return true;
    } else if (this.#op === FINISHED) {
      return false; // Already finished: its callback is queued.
    }
    // BEGUN: nng 2.x's order of checks.
    if (this.#stopped) {
      this.#refuse(NNG_ESTOPPED);
      return false;
    }
    if (this.#pendingAbort !== 0) {
      this.#refuse(this.#pendingAbort);
      return false;
    }
    let deadline = -1;
    if (this.#useExpire) {
      // Only an absolute expiry can already have passed. (A relative timeout is
      // measured from now: re-reading the clock could see the tick advance and
      // refuse a 1 ms timeout that nng would accept, as nni_aio_schedule does.)
      deadline = this.#expire;
      if (deadline <= nng_clock()) {
        this.#refuse(NNG_ETIMEDOUT);
        return false;
      }
    } else if (this.#timeout === NNG_DURATION_ZERO) {
      this.#refuse(NNG_ETIMEDOUT);
      return false;
    } else if (this.#timeout !== NNG_DURATION_INFINITE && this.#timeout !== NNG_DURATION_DEFAULT) {
      // A negative duration other than the sentinels is a deadline already passed.
      if (this.#timeout < 0) {
        this.#refuse(NNG_ETIMEDOUT);
        return false;
      }
      deadline = nng_clock() + this.#timeout;
    }
    this.#op = ACTIVE;
    this.#cancelFn = cancelFn;
    this.#cancelArg = arg;
    if (deadline !== -1 && cancelFn !== null) this.#armDeadline(deadline);
    return true;
  }

  /** @internal starts a sleep of `ms` (the framework is the provider; see nng_sleep_aio). */
  sleep(name: string, ms: number): void {
    this.#checkStart(name);
    this.#clear();
    this.#finishable = true;
    this.#op = BEGUN;
    if (this.#stopped) {
      this.#refuse(NNG_ESTOPPED);
      return;
    }
    let wait = ms === NNG_DURATION_INFINITE ? -1 : Math.max(ms, 0);
    let rv = 0;
    const t = this.#timeout;
    if (t >= 0 && (wait === -1 || wait > t)) {
      wait = t;
      rv = NNG_ETIMEDOUT;
    }
    this.#op = ACTIVE;
    this.#sleepRv = rv;
    this.#cancelFn = null;
    if (wait !== -1) this.#armDeadline(nng_clock() + wait);
  }

  /** @internal nng_aio_finish. */
  finish(err: number, count: number | undefined): void {
    if (this.#op === FINISHED) return; // A second finish of the same operation.
    if (this.#op === IDLE) {
      if (!this.#finishable) return; // The previous operation already finished.
      this.check('nng_aio_finish');
    }
    this.#finishable = false;
    this.#clearDeadline();
    this.#cancelFn = null;
    this.#cancelArg = undefined;
    this.#useExpire = false;
    this.#sleepRv = -1;
    this.#result = err;
    if (count !== undefined) this.#count = count;
    this.#op = FINISHED;
    engine().defer(this.#runCallback);
  }

  /** Ends a start that must not proceed: the callback runs with `err`. */
  #refuse(err: number): void {
    this.finish(err, undefined);
  }

  readonly #runCallback = (): void => {
    this.#op = IDLE;
    this.#inCallback = true;
    try {
      const cb = this.#callb;
      if (cb !== null) cb(this.#arg);
    } finally {
      // Even when the callback threw: busy ends, waiters resolve, the handle stays usable.
      this.#inCallback = false;
      if (this.#op === IDLE) this.#settle();
    }
  };

  /** busy just ended: complete a pending free and resolve waiters. */
  #settle(): void {
    if (this.#free === FREEING) {
      this.#free = FREED;
      this.#callb = null;
    }
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  #armDeadline(deadline: number): void {
    this.#deadline = deadline;
    this.#schedule();
  }

  #schedule(): void {
    // Strict expiry (as nng): the deadline has passed once the clock is beyond it.
    // Node timers may fire up to 1 ms early against this clock, so re-check and re-arm.
    const delay = Math.min(Math.max(this.#deadline + 1 - clockNow(), 1), MAX_TIMER);
    this.#timer = setTimeout(this.#onTimer, Math.ceil(delay));
  }

  readonly #onTimer = (): void => {
    this.#timer = null;
    if (this.#deadline === -1 || this.#op !== ACTIVE) return;
    if (nng_clock() <= this.#deadline) {
      this.#schedule();
      return;
    }
    this.#deadline = -1;
    if (this.#sleepRv >= 0) {
      this.finish(this.#sleepRv, undefined);
      return;
    }
    const fn = this.#cancelFn;
    const arg = this.#cancelArg;
    this.#cancelFn = null;
    this.#cancelArg = undefined;
    if (fn !== null) fn(this, arg, NNG_ETIMEDOUT);
  };

  #clearDeadline(): void {
    this.#deadline = -1;
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
  }
}

/** Throws the coded TypeError unless `aio` is a handle (of either copy of the package). */
function asHandle(aio: unknown): asserts aio is NngAio {
  if (!(aio instanceof NngAio) || typeof (aio as { check?: unknown }).check !== 'function') {
    throw invalidArgType('aio', 'an instance of NngAio', aio);
  }
}

/** @internal checks that `aio` is a live handle (see the design notes on freed handles). */
export function validateAio(aio: unknown, name: string): NngAio {
  asHandle(aio);
  aio.check(name);
  return aio;
}

/**
 * @internal as {@link validateAio}, for the calls a provider makes to complete an
 * operation (register, outputs, inputs, msg): they still work on a handle freed
 * while that operation is in flight, whose callback must run exactly once.
 */
function validateProviderAio(aio: unknown, name: string): NngAio {
  asHandle(aio);
  aio.checkProvider(name);
  return aio;
}

function validateSlot(i: unknown): boolean {
  return typeof i === 'number' && Number.isInteger(i) && i >= 0 && i < NNG_AIO_SLOTS;
}

function validateDuration(ms: unknown, name: string): number {
  if (typeof ms !== 'number') throw invalidArgType(name, 'of type number', ms);
  if (!Number.isInteger(ms) || ms < -0x80000000 || ms > 0x7fffffff) {
    throw outOfRange(name, 'an integer >= -2147483648 && <= 2147483647', ms);
  }
  return ms;
}

function validateCancelFn(cancelFn: unknown): NngCancelFn | null {
  if (cancelFn === null || cancelFn === undefined) return null;
  if (typeof cancelFn !== 'function') throw invalidArgType('cancelFn', 'of type function or null', cancelFn);
  return cancelFn as NngCancelFn;
}

// ---------------------------------------------------------------------------
// Consumer calls, in the order of nng's aio reference.
// ---------------------------------------------------------------------------

/**
 * nng_aio_alloc: allocates a handle whose operations call `callb(arg)` when they
 * complete.
 *
 * @param callb - the completion callback, or null/undefined for none (completion is
 * then seen through nng_aio_wait and nng_aio_busy).
 * @param arg - passed to `callb` as its only argument.
 * @returns the new handle: result 0, count 0, timeout NNG_DURATION_DEFAULT (no
 * deadline), empty slots and iov, not busy, not stopped.
 * @remarks
 * Errors: throws a TypeError (ERR_INVALID_ARG_TYPE) when `callb` is not a function.
 * nng's NNG_ENOMEM cannot happen here.
 *
 * Notes: the callback runs on the event loop, never inside a call of this
 * package, exactly once per operation; it may start the next operation. It must
 * not block. If it returns a promise, the promise is ignored: the operation's busy
 * state ends when the function returns. An exception it throws surfaces as an
 * uncaught exception after the handle has been left consistent. nng 2.x requires
 * `nng_init` first; here nothing needs initialising (as in 1.x).
 * @example
 * const aio = nng_aio_alloc((a) => console.log(nng_strerror(nng_aio_result(aio))));
 * nng_sleep_aio(100, aio);
 */
export function nng_aio_alloc(callb?: NngAioCallback | null, arg?: unknown): NngAio {
  if (callb !== undefined && callb !== null && typeof callb !== 'function') {
    throw invalidArgType('callb', 'of type function or null', callb);
  }
  return new NngAio(callb ?? null, arg);
}

/**
 * nng_aio_free: stops the handle and releases it.
 *
 * @returns nothing, at once.
 * @remarks
 * Errors: throws an Error when the handle has already been freed (a second free),
 * and a TypeError when `aio` is not a handle.
 *
 * Notes: an operation in flight is asked to end with NNG_ESTOPPED (nng 2.x; 1.x
 * passes NNG_ECLOSED) and its callback still runs exactly once; nng blocks until
 * then, this returns at once. Its provider can still complete it: nng_aio_defer or
 * nng_aio_start after nng_aio_begin return false (the callback gets NNG_ESTOPPED),
 * and nng_aio_set_output, nng_aio_set_msg, nng_aio_get_input, nng_aio_get_msg and
 * nng_aio_finish work until it has finished. Inside that callback the handle can
 * still be read (result, count, outputs, msg), but nothing can be started. Every
 * other later call throws an Error saying the handle has been freed. Calling it from the
 * handle's own callback is safe here (nng deadlocks; use {@link nng_aio_reap} to
 * stay portable).
 * @example
 * nng_aio_free(aio);
 */
export function nng_aio_free(aio: NngAio): void {
  validateAio(aio, 'nng_aio_free').free('nng_aio_free');
}

/**
 * nng_aio_reap: frees the handle in a way that is safe from its own callback.
 *
 * @returns nothing, at once.
 * @remarks
 * Errors: as {@link nng_aio_free}.
 *
 * Notes: identical to nng_aio_free here, which is already safe in the callback (nng
 * hands the aio to a reaper thread instead). Called from the callback with nothing
 * else in flight, the handle is freed at once: later calls, even in the rest of
 * that callback, throw.
 * @example
 * const aio = nng_aio_alloc(() => nng_aio_reap(aio));
 * nng_sleep_aio(10, aio);
 */
export function nng_aio_reap(aio: NngAio): void {
  validateAio(aio, 'nng_aio_reap').free('nng_aio_reap');
}

/**
 * nng_aio_abort: asks the provider to end the operation in flight with `err`.
 *
 * @param err - the result the operation should end with (for example NNG_ESTATE); it
 * is passed through unchanged.
 * @returns nothing, at once, without waiting.
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: the cancel function registered by the provider is called synchronously as
 * `cancelFn(aio, arg, err)`, at most once, and the deadline is removed even if the
 * provider declines (then the operation ends later with its real result). Between
 * nng_aio_begin and nng_aio_defer, the abort is remembered and defer ends the
 * operation with `err` (one callback; nanomsg/nng#2208). With nothing in flight it
 * has no effect, not even on nng_aio_result (nng's documented behaviour; its 1.12
 * and 2.x code overwrite the result).
 * @example
 * nng_aio_abort(aio, NNG_ESTATE);
 */
export function nng_aio_abort(aio: NngAio, err: number): void {
  validateAio(aio, 'nng_aio_abort');
  if (typeof err !== 'number' || !Number.isInteger(err) || err <= 0) {
    throw outOfRange('err', 'a positive integer nng error code', err);
  }
  aio.abort(err);
}

/**
 * nng_aio_cancel: nng_aio_abort with NNG_ECANCELED.
 *
 * @returns nothing, at once.
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: a request: an operation that can no longer be canceled (a read already in
 * the thread pool) ends with its real result; read nng_aio_result to know.
 * @example
 * nng_aio_cancel(aio);
 */
export function nng_aio_cancel(aio: NngAio): void {
  validateAio(aio, 'nng_aio_cancel').abort(NNG_ECANCELED);
}

/**
 * nng_aio_stop: stops the handle for good and waits for what is in flight.
 *
 * @returns a promise that resolves once no operation is in flight and the last
 * callback has returned (at once, in effect, when idle).
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: the operation in flight is asked to end with NNG_ESTOPPED (nng 2.x; 1.x
 * passes NNG_ECANCELED). From now on every start returns false and completes at once
 * through the callback with NNG_ESTOPPED, without running the operation (nng 2.x;
 * 1.x gives no callback), so a callback must not resubmit after NNG_ESTOPPED. Safe
 * from the handle's own callback: the handle is stopped at once and the promise
 * resolves after the callback returns (nng deadlocks). Stopping twice is fine.
 * @example
 * await nng_aio_stop(aio);
 */
export function nng_aio_stop(aio: NngAio): Promise<void> {
  validateAio(aio, 'nng_aio_stop').stop();
  return aio.wait();
}

/**
 * nng_aio_wait: waits for the operation in flight and its callback.
 *
 * @returns a promise that resolves when the handle is no longer busy: at once (on a
 * later microtask) when idle, otherwise after the callback has returned, following
 * any operation the callback started.
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: it does not cancel anything; combine it with nng_aio_cancel or a timeout.
 * Awaiting it inside the handle's own callback is allowed (it resolves after the
 * callback returns), but the callback itself must not block waiting for it.
 * @example
 * nng_sleep_aio(50, aio);
 * await nng_aio_wait(aio);
 */
export function nng_aio_wait(aio: NngAio): Promise<void> {
  return validateAio(aio, 'nng_aio_wait').wait();
}

/**
 * nng_aio_busy: whether an operation is in flight or its callback is running.
 *
 * @returns true from the start of an operation until its callback has returned
 * (true inside the callback, and across an operation started from it); false on a
 * new handle and after nng_aio_wait or nng_aio_stop resolves.
 * @remarks
 * Errors: throws on a freed handle.
 * @example
 * nng_sleep_aio(100, aio);
 * nng_aio_busy(aio); // true
 */
export function nng_aio_busy(aio: NngAio): boolean {
  return validateAio(aio, 'nng_aio_busy').busy;
}

/**
 * nng_aio_result: the result of the last operation.
 *
 * @returns 0 (NNG_OK) or an NNG_E* code. Cleared to 0 when an operation begins;
 * meaningful in the callback or after nng_aio_wait, not while the operation runs.
 * @remarks
 * Errors: throws on a freed handle (except inside the callback of the operation that
 * was in flight when it was freed).
 * @example
 * if (nng_aio_result(aio) !== 0) console.error(nng_strerror(nng_aio_result(aio)));
 */
export function nng_aio_result(aio: NngAio): number {
  return validateAio(aio, 'nng_aio_result').result;
}

/**
 * nng_aio_count: the bytes the last operation transferred.
 *
 * @returns a byte count; 0 for operations that move no data (sleep, fsync), and 0
 * until the provider reports one. Cleared when an operation begins.
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: nng's public providers cannot set it; here nng_aio_finish takes a count.
 * @example
 * nng_file_read(fd, 0, aio); // ... in the callback:
 * const n = nng_aio_count(aio);
 */
export function nng_aio_count(aio: NngAio): number {
  return validateAio(aio, 'nng_aio_count').count;
}

/**
 * nng_aio_set_timeout: sets the relative timeout of later operations.
 *
 * @param ms - milliseconds, or NNG_DURATION_INFINITE / NNG_DURATION_DEFAULT (no
 * deadline) or NNG_DURATION_ZERO (fail at once with NNG_ETIMEDOUT, through the
 * callback, unless the provider completes without registering).
 * @returns nothing.
 * @remarks
 * Errors: throws on a freed handle; a TypeError or RangeError when `ms` is not an
 * int32 integer.
 *
 * Notes: it persists across operations, and replaces an absolute expiry set before
 * it. The deadline is computed when the provider registers the operation (defer or
 * start), so changing the timeout during an operation affects only the next one.
 * Operations whose provider registered no cancel function never time out (nng).
 * @example
 * nng_aio_set_timeout(aio, 100);
 */
export function nng_aio_set_timeout(aio: NngAio, ms: number): void {
  validateAio(aio, 'nng_aio_set_timeout').setTimeout(validateDuration(ms, 'ms'));
}

/**
 * nng_aio_set_expire: sets an absolute deadline, on {@link nng_clock}, for the next
 * operation.
 *
 * @param when - milliseconds on nng_clock.
 * @returns nothing.
 * @remarks
 * Errors: throws on a freed handle; a TypeError when `when` is not a number, a
 * RangeError when it is not finite.
 *
 * Notes: it applies to one operation only; when that operation finishes the handle
 * goes back to its relative timeout (nng). Any time before now, negative ones
 * included (`nng_clock() - 1000` early in the process), is a deadline already
 * passed (nng's `nng_time` is unsigned, but its clock is never that small). A
 * deadline at or before the current time when the operation is registered fails it
 * at once with NNG_ETIMEDOUT through the callback, without calling the cancel
 * function (nng 2.x; 1.x arms it and expires it through the cancel function).
 * nng_sleep_aio ignores it.
 * @example
 * nng_aio_set_expire(aio, nng_clock() + 40);
 */
export function nng_aio_set_expire(aio: NngAio, when: number): void {
  validateAio(aio, 'nng_aio_set_expire');
  if (typeof when !== 'number') throw invalidArgType('when', 'of type number', when);
  if (!Number.isFinite(when)) throw outOfRange('when', 'a finite number', when);
  aio.setExpire(when);
}

/**
 * nng_aio_set_input: stores an input of the next operation in slot `index`.
 *
 * @returns 0, or NNG_EINVAL when `index` is not an integer in 0..3 (nothing stored).
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: inputs persist across operations; nothing clears them.
 * @example
 * nng_aio_set_input(aio, 0, 'hello');
 */
export function nng_aio_set_input(aio: NngAio, index: number, value: unknown): number {
  validateAio(aio, 'nng_aio_set_input');
  if (!validateSlot(index)) return NNG_EINVAL;
  aio.setInput(index, value);
  return 0;
}

/**
 * nng_aio_get_input: the input stored in slot `index`.
 *
 * @returns the value, or null for an empty slot or an index outside 0..3.
 * @remarks
 * Errors: throws on a freed handle, except for the provider of an operation that was
 * in flight when it was freed (see {@link nng_aio_free}).
 * @example
 * const text = nng_aio_get_input(aio, 0);
 */
export function nng_aio_get_input(aio: NngAio, index: number): unknown {
  validateProviderAio(aio, 'nng_aio_get_input');
  return validateSlot(index) ? aio.getInput(index) : null;
}

/**
 * nng_aio_set_output: stores an output of the operation in slot `index` (provider
 * side; set outputs before nng_aio_finish).
 *
 * @returns 0, or NNG_EINVAL when `index` is not an integer in 0..3.
 * @remarks
 * Errors: throws on a freed handle, except for the provider of an operation that was
 * in flight when it was freed (see {@link nng_aio_free}).
 *
 * Notes: every output is cleared to null when an operation begins.
 * @example
 * nng_aio_set_output(aio, 0, reply);
 */
export function nng_aio_set_output(aio: NngAio, index: number, value: unknown): number {
  validateProviderAio(aio, 'nng_aio_set_output');
  if (!validateSlot(index)) return NNG_EINVAL;
  aio.setOutput(index, value);
  return 0;
}

/**
 * nng_aio_get_output: the output stored in slot `index` by the last operation.
 *
 * @returns the value, or null for an empty slot or an index outside 0..3.
 * @remarks
 * Errors: throws on a freed handle.
 * @example
 * const reply = nng_aio_get_output(aio, 0);
 */
export function nng_aio_get_output(aio: NngAio, index: number): unknown {
  validateAio(aio, 'nng_aio_get_output');
  return validateSlot(index) ? aio.getOutput(index) : null;
}

/**
 * nng_aio_set_iov: sets the scatter/gather vector of later operations.
 *
 * @param niov - how many entries of `iov` to use, 0..8.
 * @param iov - entries `{ iov_buf, iov_len }`: `iov_len` bytes at the start of the
 * ArrayBufferView `iov_buf`.
 * @returns 0, or NNG_EINVAL (and the stored vector is unchanged) when `niov` is not
 * an integer in 0..8, exceeds the array's length, or an entry's `iov_buf` is not an
 * ArrayBufferView or its `iov_len` is not an integer in 0..byteLength.
 * @remarks
 * Errors: throws on a freed handle.
 *
 * Notes: the entries are copied, not the bytes: the buffers are used in place. The
 * vector persists across operations. nng accepts 8 entries (its docs promise 4).
 * @example
 * const buf = Buffer.alloc(4096);
 * nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: buf.length }]);
 */
export function nng_aio_set_iov(aio: NngAio, niov: number, iov: readonly NngIov[] | null | undefined): number {
  validateAio(aio, 'nng_aio_set_iov');
  if (typeof niov !== 'number' || !Number.isInteger(niov) || niov < 0 || niov > NNG_AIO_MAX_IOV) return NNG_EINVAL;
  if (niov === 0 && (iov === null || iov === undefined)) {
    aio.setIov([]);
    return 0;
  }
  if (!Array.isArray(iov) || niov > iov.length) return NNG_EINVAL;
  const copy: NngIov[] = [];
  for (let i = 0; i < niov; i++) {
    let iov_buf: unknown;
    let iov_len: unknown;
    try {
      // A throwing getter or proxy trap is a malformed entry, like any other.
      const e: unknown = iov[i];
      if (typeof e !== 'object' || e === null) return NNG_EINVAL;
      ({ iov_buf, iov_len } = e as { iov_buf?: unknown; iov_len?: unknown });
    } catch {
      return NNG_EINVAL;
    }
    if (!ArrayBuffer.isView(iov_buf)) return NNG_EINVAL;
    if (typeof iov_len !== 'number' || !Number.isInteger(iov_len) || iov_len < 0 || iov_len > iov_buf.byteLength) {
      return NNG_EINVAL;
    }
    copy.push(Object.freeze({ iov_buf, iov_len }));
  }
  aio.setIov(Object.freeze(copy));
  return 0;
}

/**
 * nng_aio_set_msg: stores a message in the handle's message slot.
 *
 * @returns nothing.
 * @remarks
 * Errors: throws on a freed handle, except for the provider of an operation that was
 * in flight when it was freed (see {@link nng_aio_free}).
 *
 * Notes: a plain slot that no operation clears.
 * @example
 * nng_aio_set_msg(aio, Buffer.from('hello'));
 */
export function nng_aio_set_msg(aio: NngAio, msg: unknown): void {
  validateProviderAio(aio, 'nng_aio_set_msg').setMsg(msg);
}

/**
 * nng_aio_get_msg: the message in the handle's message slot.
 *
 * @returns the value last stored, or null.
 * @remarks
 * Errors: throws on a freed handle, except for the provider of an operation that was
 * in flight when it was freed (see {@link nng_aio_free}).
 * @example
 * const msg = nng_aio_get_msg(aio);
 */
export function nng_aio_get_msg(aio: NngAio): unknown {
  return validateProviderAio(aio, 'nng_aio_get_msg').getMsg();
}

// ---------------------------------------------------------------------------
// Provider calls.
// ---------------------------------------------------------------------------

/**
 * nng_aio_begin: begins an operation (nng 1.x provider call).
 *
 * @returns true when the provider may proceed; from then on it must call
 * nng_aio_finish exactly once (usually after nng_aio_defer). false when the handle
 * is stopped: the callback will run with NNG_ESTOPPED, and the provider must do
 * nothing more.
 * @remarks
 * Errors: throws an Error when an operation is already in flight on the handle (one
 * at a time; starting from the callback is fine) or the handle has been freed.
 *
 * Notes: clears result, count and outputs. On a stopped handle it runs the callback
 * with NNG_ESTOPPED, every time (nng 2.x's start; 1.x's begin gives no callback at
 * all). Timeouts are checked by nng_aio_defer, not here, so a provider that
 * completes synchronously (begin then finish) succeeds even with
 * NNG_DURATION_ZERO.
 * @example
 * if (!nng_aio_begin(aio)) return;
 * if (!nng_aio_defer(aio, cancel, state)) return;
 */
export function nng_aio_begin(aio: NngAio): boolean {
  return validateAio(aio, 'nng_aio_begin').begin('nng_aio_begin');
}

/**
 * nng_aio_defer: registers the cancel function of a begun operation and arms its
 * deadline (nng 1.x provider call).
 *
 * @param cancelFn - called as `cancelFn(aio, arg, err)` on abort, cancel, stop, free
 * or expiry; null makes the operation uncancelable and exempt from timeouts.
 * @returns true when the operation is registered; false when it must not proceed
 * (stopped, a pending abort, NNG_DURATION_ZERO, or an absolute expiry already
 * passed): the callback has been queued with NNG_ESTOPPED, the abort code or
 * NNG_ETIMEDOUT, and the provider must do nothing more, not even finish.
 * @remarks
 * Errors: throws on a freed handle, except for the provider of an operation that was
 * in flight when it was freed (see {@link nng_aio_free}).
 *
 * Notes: nng 1.x's public defer returns void and loses this status (a hang risk);
 * this one reports it as nng 2.x's start does. Without a prior nng_aio_begin it
 * begins the operation itself (like nng_aio_start). Called again within the same
 * operation it replaces the cancel function and keeps the deadline. Called after the
 * operation finished it returns false.
 * @example
 * if (!nng_aio_defer(aio, (a, arg, err) => nng_aio_finish(a, err), null)) return;
 */
export function nng_aio_defer(aio: NngAio, cancelFn: NngCancelFn | null, arg?: unknown): boolean {
  return validateProviderAio(aio, 'nng_aio_defer').register('nng_aio_defer', validateCancelFn(cancelFn), arg, false);
}

/**
 * nng_aio_reset: prepares the handle for an operation (nng 2.x provider call).
 *
 * @returns nothing.
 * @remarks
 * Errors: throws when an operation is in flight or the handle has been freed.
 *
 * Notes: clears result, count and outputs; leaves inputs, msg, iov, timeouts and the
 * stopped flag alone. Call it before completing an operation synchronously with
 * nng_aio_finish (no start): that still runs the callback once, later. It does not
 * begin an operation, so an abort between reset and start has no effect (as in nng
 * 2.x, whose public start resets the pending abort away).
 * @example
 * nng_aio_reset(aio);
 * nng_aio_finish(aio, NNG_EINVAL);
 */
export function nng_aio_reset(aio: NngAio): void {
  validateAio(aio, 'nng_aio_reset').reset('nng_aio_reset');
}

/**
 * nng_aio_start: begins an operation and registers its cancel function (nng 2.x
 * provider call).
 *
 * @returns true when the provider may proceed and must later call nng_aio_finish
 * exactly once; false when it must not: the handle is stopped (NNG_ESTOPPED), an
 * abort is pending (its code), the timeout is NNG_DURATION_ZERO or the absolute
 * expiry has passed (NNG_ETIMEDOUT). The callback has then been queued with that
 * result, and the provider must do nothing more.
 * @remarks
 * Errors: throws an Error when another operation is in flight (one at a time;
 * starting from the callback is fine) or the handle has been freed (after
 * nng_aio_begin on a handle freed since, it returns false: NNG_ESTOPPED).
 *
 * Notes: resets the handle first, as nng 2.x's public start does. After
 * nng_aio_begin it acts as nng_aio_defer for the begun operation (and honours an
 * abort that arrived in between). A null cancel function makes the operation
 * uncancelable and exempt from timeouts (nng).
 * @example
 * if (!nng_aio_start(aio, cancel, state)) return;
 */
export function nng_aio_start(aio: NngAio, cancelFn: NngCancelFn | null, arg?: unknown): boolean {
  validateProviderAio(aio, 'nng_aio_start');
  const fn = validateCancelFn(cancelFn);
  return aio.register('nng_aio_start', fn, arg, true);
}

/**
 * nng_aio_finish: completes the operation with `err` (provider call).
 *
 * @param err - 0 or an NNG_E* code: the operation's result.
 * @param count - bytes transferred; omitted, the count stays as it is (0 unless an
 * earlier finish set it). nng keeps the count internal; this package exposes it.
 * @returns nothing. The callback runs later, once.
 * @remarks
 * Errors: a TypeError or RangeError for an `err` or `count` that is not a
 * non-negative integer; an Error on a freed handle (one freed while this operation
 * was in flight is fine: its callback is still to run).
 *
 * Notes: clears the cancel function, the deadline and a one-shot absolute expiry.
 * A second finish of the same operation is ignored (nng would queue a second
 * callback or crash, nanomsg/nng#110). Called on an idle handle after nng_aio_reset
 * (or on a new one), it completes a synchronous operation, still through the
 * callback. A provider must not touch the handle after it.
 * @example
 * nng_aio_finish(aio, 0, bytes);
 */
export function nng_aio_finish(aio: NngAio, err: number, count?: number): void {
  asHandle(aio);
  // A provider may still finish on a handle freed while busy (its callback is pending), never on one already freed.
  if (aio.freed) throw new Error('nng_aio_finish: the nng_aio handle has been freed');
  if (typeof err !== 'number' || !Number.isInteger(err) || err < 0) {
    throw outOfRange('err', 'a non-negative integer nng error code', err);
  }
  if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 0)) {
    throw outOfRange('count', 'a non-negative integer', count);
  }
  aio.finish(err, count);
}

/** @internal the handle's current iov (for this package's providers). */
export function iovOf(aio: NngAio): readonly NngIov[] {
  return aio.iov;
}
