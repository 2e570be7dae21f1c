/**
 * The three error channels (STYLE.md "Errors: three kinds, three channels"):
 *
 * - misuse C would not compile or that would corrupt memory: a thrown TypeError or
 *   RangeError with Node's `code` and message grammar ({@link invalidArgType},
 *   {@link outOfRange});
 * - errors POSIX lists for the call: return -1 and set the module-wide errno
 *   ({@link fail}), which {@link errno} and {@link lastError} read;
 * - errors of the I/O itself: positive errno values through aio_error and nng
 *   results, and an {@link AioError} rejection on the Promise face ({@link systemError}).
 */
import { getSystemErrorMap } from 'node:util';
import { errnoConstants } from './constants';
import { shared } from './shared';

const nameOf = new Map<number, string>();
for (const [name, value] of Object.entries(errnoConstants)) {
  // EWOULDBLOCK and EAGAIN (and ENOTSUP/EOPNOTSUPP) share a number on Linux: keep the first name.
  if (!nameOf.has(value)) nameOf.set(value, name);
}
const systemErrors = getSystemErrorMap();

/** glibc's text for the errno values libuv's table leaves out. */
const MISSING_TEXT: Readonly<Record<string, string>> = {
  EBADMSG: 'Bad message',
  ECHILD: 'No child processes',
  EDEADLK: 'Resource deadlock avoided',
  EDOM: 'Numerical argument out of domain',
  EDQUOT: 'Disk quota exceeded',
  EIDRM: 'Identifier removed',
  EINPROGRESS: 'Operation now in progress',
  EMULTIHOP: 'Multihop attempted',
  ENETRESET: 'Network dropped connection on reset',
  ENOEXEC: 'Exec format error',
  ENOLCK: 'No locks available',
  ENOLINK: 'Link has been severed',
  ENOMSG: 'No message of desired type',
  ENOSR: 'Out of streams resources',
  ENOSTR: 'Device not a stream',
  ESTALE: 'Stale file handle',
  ETIME: 'Timer expired',
};

/** The symbolic name of a positive errno value ('EBADF'), or `E${n}` when the platform has none. */
export function errnoName(code: number): string {
  return nameOf.get(code) ?? `E${code}`;
}

/** A positive errno for a Node system error (`err.code`), EIO when the code is not an errno name. */
export function errnoOf(err: NodeJS.ErrnoException): number {
  const code = err.code;
  if (code !== undefined) {
    const n = errnoConstants[code];
    if (n !== undefined) return n;
    // The permission model refuses fsync with a Node code, not an errno.
    if (code === 'ERR_ACCESS_DENIED') return errnoConstants['EACCES'] ?? 13;
  }
  if (typeof err.errno === 'number' && err.errno < 0) return -err.errno;
  return errnoConstants['EIO'] ?? 5;
}

/**
 * The message C's strerror(3) gives for `code`.
 *
 * @returns the platform's description with a capital first letter ("Bad file
 * descriptor"), "Success" for 0, and "Unknown error N" for numbers the platform
 * does not define.
 */
export function strerror(code: number): string {
  if (code === 0) return 'Success';
  const name = Number.isInteger(code) && code > 0 ? nameOf.get(code) : undefined;
  if (name === undefined) return `Unknown error ${String(code)}`;
  const missing = MISSING_TEXT[name];
  if (missing !== undefined) return missing;
  // libuv numbers errors as the negated errno on POSIX systems.
  const text = systemErrors.get(-code)?.[1];
  if (text === undefined) return `Unknown error ${code}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const kBrand = Symbol.for('posix-aio.AioError');

/**
 * A system error of this package, shaped like Node's: `code` ('EBADF'), `errno`,
 * `syscall`, and the message `CODE: description, syscall`.
 *
 * The sign of `errno` follows the face: positive on the C faces (lastError(), as C
 * and aio_error report it), negative on the Promise face, exactly as Node's own
 * system errors (fs.promises rejects EBADF with errno -9). `code` is the same on
 * both and is the stable way to identify an error.
 *
 * `instanceof AioError` holds across the ESM and CommonJS copies of the package (a
 * brand check on a global symbol).
 */
export class AioError extends Error {
  /** Always 'AioError'. */
  override name = 'AioError';
  /** The errno name, e.g. 'EBADF'. */
  readonly code: string;
  /** The errno value: positive on the C faces, negative (Node's convention) on the Promise face. */
  readonly errno: number;
  /** The call that failed, e.g. 'aio_read' or 'read'. */
  readonly syscall: string;
  /** The sentence that says which field broke which rule, when there is one. */
  readonly detail: string | undefined;

  constructor(errno: number, syscall: string, detail?: string) {
    const code = errnoName(errno);
    super(`${code}: ${strerror(errno).toLowerCase()}, ${syscall}${detail === undefined ? '' : ` (${detail})`}`);
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
    this.detail = detail;
    Object.defineProperty(this, kBrand, { value: true });
  }

  /** True for an AioError from either copy of the package (ESM or CommonJS): checks the brand, not the prototype chain. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kBrand] === true;
  }
}

/**
 * The Promise face's form of an I/O error: an {@link AioError} with Node's negative
 * `errno`, so that it reads exactly like an fs.promises rejection
 * (`{ code: 'EBADF', errno: -9, syscall: 'read' }`).
 */
export function systemError(errno: number, syscall: string): AioError {
  const err = new AioError(errno, syscall);
  (err as { errno: number }).errno = -errno;
  return err;
}

/**
 * Records a failure of a C-face call and returns -1, so that a call site reads
 * `return fail(EINVAL, 'aio_read', 'The value of "aiocbp.aio_reqprio" ...')`.
 */
export function fail(code: number, syscall: string, detail: string): -1 {
  shared.errno = code;
  shared.lastError = new AioError(code, syscall, detail);
  return -1;
}

/**
 * The Promise-returning calls' form of {@link fail}: a Promise of -1 that sets errno
 * when it resolves, not when the call returns (SPEC: "for calls that return a
 * Promise it is set when the Promise resolves -1").
 */
export function failLater(code: number, syscall: string, detail: string): Promise<-1> {
  return Promise.resolve().then(() => fail(code, syscall, detail));
}

/**
 * errno(3): the error number of the last failing call of this package.
 *
 * @returns the value set by the most recent call that returned -1 (or whose Promise
 * resolved -1); it keeps its value until the next failure, as in C. 0 before any.
 * @example
 * if (aio_read(cb) === -1) console.error(strerror(errno()));
 */
export function errno(): number {
  return shared.errno;
}

/**
 * The last failure as an Error whose message names the field and the rule.
 *
 * @returns an {@link AioError} with `code`, positive `errno`, `syscall` and a message
 * such as `EINVAL: invalid argument, aio_read (The value of "aiocbp.aio_reqprio" is
 * out of range. It must be >= 0 && <= 20. Received 21)`; null before any failure.
 */
export function lastError(): Error | null {
  return shared.lastError;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name === '' ? '<anonymous>' : value.name}`;
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return ctor !== undefined && ctor !== '' ? `an instance of ${ctor}` : 'an object';
  }
  let shown = typeof value === 'bigint' ? `${value}n` : String(value);
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  if (typeof value === 'string') shown = `'${shown}'`;
  return `type ${typeof value} (${shown})`;
}

function formatReceived(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') {
    return Number.isInteger(value) && Math.abs(value) > 2 ** 32
      ? String(value).replace(/(\d)(?=(\d{3})+$)/g, '$1_')
      : String(value);
  }
  return describe(value);
}

/** A TypeError like Node's ERR_INVALID_ARG_TYPE: `The "name" argument must be <expected>. Received <what>`. */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  const label = name.includes('.') ? `"${name}" property` : `"${name}" argument`;
  const err = new TypeError(`The ${label} must be ${expected}. Received ${describe(actual)}`);
  return Object.assign(err, { code: 'ERR_INVALID_ARG_TYPE' });
}

/** A RangeError like Node's ERR_OUT_OF_RANGE: `The value of "name" is out of range. It must be <range>. Received <value>`. */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  const err = new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${formatReceived(actual)}`);
  return Object.assign(err, { code: 'ERR_OUT_OF_RANGE' });
}

/** The sentence for an EINVAL that lastError() reports, in the same grammar as {@link outOfRange}. */
export function rangeRule(name: string, range: string, actual: unknown): string {
  return `The value of "${name}" is out of range. It must be ${range}. Received ${formatReceived(actual)}`;
}
