/**
 * `struct sigevent`: reading one at submission and delivering it at completion.
 *
 * A sigevent is read once, when the request is accepted, into a {@link Notifier}
 * (C copies it too: the caller's block may be reused as soon as the status is
 * final). Delivery happens on the event loop, never inside a call of the library.
 *
 * SIGEV_SIGNAL cannot raise a real signal carrying a value from JavaScript; it emits
 * the signal's name on `process` instead, with a siginfo, so handlers installed with
 * `process.on('SIGUSR2', ...)` receive it. No listener means nothing happens (a real
 * SIGUSR2 would have killed the process).
 */
import { constants as osConstants } from 'node:os';
import { SI_ASYNCIO, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD } from './constants';
import { invalidArgType, rangeRule } from './errors';
import { readField, unreadableField } from './validate';

/** The first real-time signal as glibc numbers it (the kernel's 32 and 33 belong to the threads library). */
export const SIGRTMIN = 34;
/** The last real-time signal on Linux. */
export const SIGRTMAX = 64;

/** What a completion must do, fixed at submission. */
export interface Notifier {
  readonly notify: typeof SIGEV_SIGNAL | typeof SIGEV_THREAD;
  readonly signo: number;
  readonly name: string;
  readonly value: unknown;
  readonly fn: ((value: unknown) => void) | null;
}

/** siginfo_t as a SIGEV_SIGNAL listener receives it. */
export interface SigInfo {
  /** The signal's number (`sigev_signo`, resolved to a number when it was given as a name). */
  si_signo: number;
  /** Always SI_ASYNCIO: the signal reports the completion of an asynchronous I/O request. */
  si_code: number;
  /** The request's `sigev_value`, as it was at submission. */
  si_value: unknown;
}

const byName = new Map<string, number>();
const byNumber = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.signals as Record<string, number>)) {
  byName.set(name, n);
  if (!byNumber.has(n)) byNumber.set(n, name);
}
for (let n = SIGRTMIN; n <= SIGRTMAX; n++) {
  // The names `kill -l` prints: SIGRTMIN, SIGRTMIN+1 ... SIGRTMAX-1, SIGRTMAX.
  const name = n === SIGRTMIN ? 'SIGRTMIN' : n === SIGRTMAX ? 'SIGRTMAX' : n - SIGRTMIN <= 15 ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`;
  byName.set(name, n);
  byNumber.set(n, name);
}

/** The signal's number and event name, or null when `signo` names no signal this platform can have. */
export function resolveSignal(signo: number | string): { signo: number; name: string } | null {
  if (typeof signo === 'string') {
    const n = byName.get(signo);
    return n === undefined ? null : { signo: n, name: signo };
  }
  if (!Number.isInteger(signo) || signo < 1 || signo > SIGRTMAX) return null;
  return { signo, name: byNumber.get(signo) ?? `SIG${signo}` };
}

/**
 * Reads a sigevent once.
 *
 * @returns null for SIGEV_NONE (or no sigevent at all), a {@link Notifier}, or the
 * EINVAL rule that was broken (an unknown sigev_notify, SIGEV_THREAD without a
 * function, SIGEV_SIGNAL with no valid signal). Throws TypeError for wrong types.
 */
export function readSigevent(sev: unknown, name: string): Notifier | null | string {
  if (sev === undefined || sev === null) return null;
  if (typeof sev !== 'object') throw invalidArgType(name, 'of type object', sev);
  const obj = sev as Record<string, unknown>;
  let notify: unknown;
  try {
    notify = obj['sigev_notify']; // a named load: read on every submission (see unreadableField)
  } catch (cause) {
    throw unreadableField(name, 'sigev_notify', cause);
  }
  if (notify === undefined) return null;
  if (typeof notify !== 'number') throw invalidArgType(`${name}.sigev_notify`, 'of type number', notify);
  if (notify === SIGEV_NONE) return null;
  const value = readField(obj, 'sigev_value', name);
  if (notify === SIGEV_THREAD) {
    const fn = readField(obj, 'sigev_notify_function', name);
    if (fn === undefined || fn === null) return `The "${name}.sigev_notify_function" property is required with SIGEV_THREAD`;
    if (typeof fn !== 'function') throw invalidArgType(`${name}.sigev_notify_function`, 'of type function', fn);
    return { notify: SIGEV_THREAD, signo: 0, name: '', value, fn: fn as (value: unknown) => void };
  }
  if (notify === SIGEV_SIGNAL) {
    const signo = readField(obj, 'sigev_signo', name);
    if (typeof signo !== 'number' && typeof signo !== 'string') {
      if (signo === undefined) return `The "${name}.sigev_signo" property is required with SIGEV_SIGNAL`;
      throw invalidArgType(`${name}.sigev_signo`, 'of type number or string', signo);
    }
    const sig = resolveSignal(signo);
    if (sig === null) return rangeRule(`${name}.sigev_signo`, `a signal name or a number >= 1 && <= ${SIGRTMAX}`, signo);
    return { notify: SIGEV_SIGNAL, signo: sig.signo, name: sig.name, value, fn: null };
  }
  return rangeRule(`${name}.sigev_notify`, 'SIGEV_NONE, SIGEV_SIGNAL or SIGEV_THREAD', notify);
}

/** Delivers a notification. Call it only from a deferred callback (Engine.defer). */
export function deliver(n: Notifier): void {
  if (n.notify === SIGEV_THREAD) {
    (n.fn as (value: unknown) => void)(n.value);
    return;
  }
  const info: SigInfo = { si_signo: n.signo, si_code: SI_ASYNCIO, si_value: n.value };
  (process.emit as (event: string, ...args: unknown[]) => boolean)(n.name, n.name, info);
}
