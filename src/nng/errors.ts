/**
 * nng's error texts and the mapping from system errno values to nng codes.
 *
 * @packageDocumentation
 */
import { constants as osConstants } from 'node:os';
import { strerror } from '../errors';
import * as C from './constants';

const MESSAGES: ReadonlyMap<number, string> = new Map<number, string>([
  [C.NNG_OK, 'Hunky dory'],
  [C.NNG_EINTR, 'Interrupted'],
  [C.NNG_ENOMEM, 'Out of memory'],
  [C.NNG_EINVAL, 'Invalid argument'],
  [C.NNG_EBUSY, 'Resource busy'],
  [C.NNG_ETIMEDOUT, 'Timed out'],
  [C.NNG_ECONNREFUSED, 'Connection refused'],
  [C.NNG_ECLOSED, 'Object closed'],
  [C.NNG_EAGAIN, 'Try again'],
  [C.NNG_ENOTSUP, 'Not supported'],
  [C.NNG_EADDRINUSE, 'Address in use'],
  [C.NNG_ESTATE, 'Incorrect state'],
  [C.NNG_ENOENT, 'Entry not found'],
  [C.NNG_EPROTO, 'Protocol error'],
  [C.NNG_EUNREACHABLE, 'Destination unreachable'],
  [C.NNG_EADDRINVAL, 'Address invalid'],
  [C.NNG_EPERM, 'Permission denied'],
  [C.NNG_EMSGSIZE, 'Message too large'],
  [C.NNG_ECONNABORTED, 'Connection aborted'],
  [C.NNG_ECONNRESET, 'Connection reset'],
  [C.NNG_ECANCELED, 'Operation canceled'],
  [C.NNG_ENOFILES, 'Out of files'],
  [C.NNG_ENOSPC, 'Out of space'],
  [C.NNG_EEXIST, 'Resource already exists'],
  [C.NNG_EREADONLY, 'Read only resource'],
  [C.NNG_EWRITEONLY, 'Write only resource'],
  [C.NNG_ECRYPTO, 'Cryptographic error'],
  [C.NNG_EPEERAUTH, 'Peer could not be authenticated'],
  [C.NNG_ENOARG, 'Option requires argument'],
  [C.NNG_EAMBIGUOUS, 'Ambiguous option'],
  [C.NNG_EBADTYPE, 'Incorrect type'],
  [C.NNG_ECONNSHUT, 'Connection shutdown'],
  [C.NNG_ESTOPPED, 'Operation stopped'],
  [C.NNG_EINTERNAL, 'Internal error detected'],
]);

/**
 * nng_strerror: the message for an nng error code.
 *
 * @param err - 0, an `NNG_E*` code, `NNG_ESYSERR | errno` or `NNG_ETRANERR | n`.
 * @returns nng's English text: "Hunky dory" for 0, the table text for a known
 * code ("Timed out", "Operation stopped" ...), the system's text for
 * `NNG_ESYSERR | errno` ("No space left on device"), "Transport error #n" for
 * `NNG_ETRANERR | n`, and "Unknown error #n" for anything else.
 * @remarks
 * Errors: none; any value gives a non-empty string.
 *
 * Notes: the system texts are libuv's (Node's `util.getSystemErrorMap`), with a
 * capital first letter, as this package's `strerror` gives them; they can differ
 * in wording from glibc's. Unlike nng, which formats the last two cases into a
 * static buffer, every call returns its own string. The texts may change between
 * versions and must not be parsed (nng's rule too). Codes are nng 2.x's,
 * including NNG_ESTOPPED (999); the 1.x-only NNG_ENOARG and NNG_EAMBIGUOUS keep
 * their 1.x texts.
 * @example
 * nng_strerror(NNG_ETIMEDOUT); // 'Timed out'
 */
export function nng_strerror(err: number): string {
  const known = MESSAGES.get(err);
  if (known !== undefined) return known;
  if (Number.isInteger(err) && err > 0 && err <= 0x7fffffff) {
    // nng's order: the system bit first (nni_plat_strerror takes off the flag only
    // when something is left), then the transport bit.
    if ((err & C.NNG_ESYSERR) !== 0) return strerror(err > C.NNG_ESYSERR ? err - C.NNG_ESYSERR : err);
    if ((err & C.NNG_ETRANERR) !== 0) return `Transport error #${err & ~C.NNG_ETRANERR}`;
  }
  let text: string;
  try {
    text = String(err);
  } catch {
    text = typeof err;
  }
  return `Unknown error #${text}`;
}

const E = osConstants.errno as Record<string, number | undefined>;

// nni_plat_errno's table (nng src/platform/posix/posix_debug.c), in its order,
// plus ECANCELED, which nng never sees from the kernel but our engine reports when
// a request is canceled by aio_cancel on its descriptor.
const ERRNO_TABLE: ReadonlyArray<readonly [string, number]> = [
  ['EINTR', C.NNG_EINTR],
  ['EINVAL', C.NNG_EINVAL],
  ['ENOMEM', C.NNG_ENOMEM],
  ['EACCES', C.NNG_EPERM],
  ['EADDRINUSE', C.NNG_EADDRINUSE],
  ['EADDRNOTAVAIL', C.NNG_EADDRINVAL],
  ['EAFNOSUPPORT', C.NNG_ENOTSUP],
  ['EAGAIN', C.NNG_EAGAIN],
  ['EBADF', C.NNG_ECLOSED],
  ['EBUSY', C.NNG_EBUSY],
  ['ECONNABORTED', C.NNG_ECONNABORTED],
  ['ECONNREFUSED', C.NNG_ECONNREFUSED],
  ['ECONNRESET', C.NNG_ECONNRESET],
  ['ENOTCONN', C.NNG_ECLOSED],
  ['EISCONN', C.NNG_EBUSY],
  ['EHOSTUNREACH', C.NNG_EUNREACHABLE],
  ['ENETUNREACH', C.NNG_EUNREACHABLE],
  ['ENAMETOOLONG', C.NNG_EINVAL],
  ['ENOENT', C.NNG_ENOENT],
  ['ENOBUFS', C.NNG_ENOMEM],
  ['ENOPROTOOPT', C.NNG_ENOTSUP],
  ['ENOSYS', C.NNG_ENOTSUP],
  ['ENOTSUP', C.NNG_ENOTSUP],
  ['EPERM', C.NNG_EPERM],
  ['EPIPE', C.NNG_ECLOSED],
  ['EPROTO', C.NNG_EPROTO],
  ['EPROTONOSUPPORT', C.NNG_ENOTSUP],
  ['ETIME', C.NNG_ETIMEDOUT],
  ['ETIMEDOUT', C.NNG_ETIMEDOUT],
  ['EWOULDBLOCK', C.NNG_EAGAIN],
  ['ENOSPC', C.NNG_ENOSPC],
  ['EFBIG', C.NNG_ENOSPC],
  ['EDQUOT', C.NNG_ENOSPC],
  ['ENFILE', C.NNG_ENOFILES],
  ['EMFILE', C.NNG_ENOFILES],
  ['EEXIST', C.NNG_EEXIST],
  ['ENOTSOCK', C.NNG_EINVAL],
  ['ECANCELED', C.NNG_ECANCELED],
];

const ERRNO_MAP = new Map<number, number>();
for (const [name, code] of ERRNO_TABLE) {
  const value = E[name];
  // First entry wins, as in nng's linear search (EWOULDBLOCK equals EAGAIN on Linux).
  if (value !== undefined && !ERRNO_MAP.has(value)) ERRNO_MAP.set(value, code);
}

/**
 * errnoToNng: the nng code for a system errno, as nng's `nni_plat_errno` maps it.
 *
 * @param errno - a positive errno (EBADF ...); a negative libuv-style value is
 * negated first; 0 means success.
 * @returns 0 for 0; the nng code for the errnos nng knows (EBADF, EPIPE and
 * ENOTCONN → NNG_ECLOSED; ENOSPC, EFBIG and EDQUOT → NNG_ENOSPC; EINVAL →
 * NNG_EINVAL; ENOENT → NNG_ENOENT; EMFILE and ENFILE → NNG_ENOFILES; EACCES and
 * EPERM → NNG_EPERM; EAGAIN → NNG_EAGAIN; ETIMEDOUT → NNG_ETIMEDOUT; ENOMEM →
 * NNG_ENOMEM ...); `NNG_ESYSERR | errno` for every other errno (EIO, EISDIR ...).
 * @remarks
 * Errors: none.
 *
 * Notes: ECANCELED → NNG_ECANCELED is this package's addition (nng's table has
 * no ECANCELED; here the engine reports it when `aio_cancel` cancels a queued
 * file request). nng panics on EFAULT; here it is `NNG_ESYSERR | EFAULT`.
 * @example
 * errnoToNng(EBADF); // NNG_ECLOSED
 * errnoToNng(EIO) === (NNG_ESYSERR | EIO); // true
 */
export function errnoToNng(errno: number): number {
  if (errno === 0) return C.NNG_OK;
  const n = Math.abs(errno);
  return ERRNO_MAP.get(n) ?? (C.NNG_ESYSERR | n);
}
