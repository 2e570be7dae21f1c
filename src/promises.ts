/**
 * The idiomatic face: Promises with AbortSignal, timeout and priority options, on the
 * same request queue as the POSIX and nng faces, with results shaped like
 * `fs.promises` and errors shaped like Node's system errors.
 *
 * Design notes (the invariants, before any code):
 *
 * - Every call returns a Promise and never throws. Bad arguments reject with Node's
 *   TypeError / RangeError (`ERR_INVALID_ARG_TYPE`, `ERR_OUT_OF_RANGE`) and queue
 *   nothing; I/O errors reject with an {@link AioError} carrying Node's negative
 *   `errno` (`EBADF: bad file descriptor, read`, errno -9, syscall 'read').
 * - A request settles exactly once, after its status is final. Once its Promise has
 *   settled the library never touches its buffers again.
 * - Abort and timeout act on the queue. A request still waiting in the queue is
 *   taken out and rejects at once: abort with an `AbortError` (`code 'ABORT_ERR'`,
 *   `cause` = the signal's reason), timeout with `ETIMEDOUT`. A request already in the
 *   thread pool cannot be taken back (libuv has no way to stop a running system
 *   call), so it runs to completion and settles with its real result: the I/O
 *   happened, and the Promise says so. An already aborted signal rejects before
 *   anything is queued.
 * - A signal gets at most one 'abort' listener from this face however many requests
 *   share it (no MaxListenersExceededWarning with a signal shared by a batch); it is
 *   removed when the last of those requests settles. A timeout is one timer per
 *   request, cleared when it settles.
 * - Unlike the C faces this face is not bounded by AIO_MAX: like fs.promises it
 *   accepts whatever it is given, and the queue (not libuv) holds what waits, where
 *   it stays cancelable.
 * - `position` null (the default) means the descriptor's current file position, as
 *   in fs: such a request is ordered after everything earlier on its descriptor.
 *   A number or bigint is positional I/O, ordered only against overlapping requests.
 *
 * @packageDocumentation
 */
import { constants as osConstants } from 'node:os';
import { AIO_PRIO_DELTA_MAX } from './constants';
import { openFile } from './engine/dispatch';
import { CANCELED, engine } from './engine/queue';
import { DONE, OP_FDATASYNC, OP_FSYNC, OP_NAMES, OP_READ, OP_WRITE, type Op, Request } from './engine/request';
import { type AioError, invalidArgType, outOfRange, systemError } from './errors';
import { readElement, readField, validateArray, validateBuffer, validateInteger, validateObject } from './validate';

const { ECANCELED, ETIMEDOUT } = osConstants.errno;
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
const MAX_TIMEOUT = 2 ** 31 - 1;
const MAX_BIGINT_POSITION = 2n ** 63n - 1n;
/** fs.read's "current position" as a bigint (a literal -1n in a function makes a BigInt per call). */
const MINUS_ONE_N = -1n;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** Options every request takes. */
export interface RequestOptions {
  /** Aborts the request while it is queued (see the notes on what cannot be taken back). */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds the request may wait in the queue: still queued then, it is canceled
   * and rejects with ETIMEDOUT. Between 0 and 2^31-1.
   * @defaultValue no timeout
   */
  timeout?: number | undefined;
  /**
   * Lowers the request's priority, like aio_reqprio: 0 is the most urgent, up to
   * AIO_PRIO_DELTA_MAX (20). Equal priorities run in submission order.
   * @defaultValue 0
   */
  priority?: number | undefined;
}

/** Where and how much of a buffer to read into or write from. */
export interface BufferOptions extends RequestOptions {
  /** First byte of the buffer to use. @defaultValue 0 */
  offset?: number | undefined;
  /** Bytes to transfer. @defaultValue the rest of the buffer after `offset` */
  length?: number | undefined;
  /**
   * File offset (number or bigint), or null (or -1, or -1n, as in fs.read) for the
   * current file position.
   * @defaultValue null
   */
  position?: number | bigint | null | undefined;
}

/** Options of readv and writev. */
export interface VectorOptions extends RequestOptions {
  /** File offset, or null (or -1, or -1n) for the current file position. @defaultValue null */
  position?: number | bigint | null | undefined;
}

/** What read resolves with, as fs.promises. */
export interface ReadResult<T extends ArrayBufferView> {
  /** Bytes read: fewer than asked at end of file, 0 at or past it. */
  bytesRead: number;
  /** The buffer passed to read (the whole of it, not only the part read into). */
  buffer: T;
}

/** What write resolves with, as fs.promises. */
export interface WriteResult<T extends ArrayBufferView> {
  /** Bytes written. */
  bytesWritten: number;
  /** The buffer passed to write (the whole of it, not only the part written). */
  buffer: T;
}

/** What readv resolves with, as fs.promises. */
export interface ReadvResult<T extends ArrayBufferView> {
  /** Bytes read, over all the buffers in order: fewer than asked at end of file. */
  bytesRead: number;
  /** The array of buffers passed to readv (the same array). */
  buffers: T[];
}

/** What writev resolves with, as fs.promises. */
export interface WritevResult<T extends ArrayBufferView> {
  /** Bytes written, over all the buffers in order. */
  bytesWritten: number;
  /** The array of buffers passed to writev (the same array). */
  buffers: T[];
}

/** One operation of a {@link batch}. */
export type BatchOp =
  | ({
      /** The call this entry stands for: {@link read} or {@link write}. */
      op: 'read' | 'write';
      /** The file descriptor. */
      fd: number;
      /** The buffer to read into or write from, as the call's `buffer`. */
      buffer: ArrayBufferView;
    } & Omit<BufferOptions, 'signal' | 'timeout'>)
  | ({
      /** The call this entry stands for: {@link readv} or {@link writev}. */
      op: 'readv' | 'writev';
      /** The file descriptor. */
      fd: number;
      /** The buffers to read into or write from, in order, as the call's `buffers`. */
      buffers: readonly ArrayBufferView[];
    } & Omit<VectorOptions, 'signal' | 'timeout'>)
  | {
      /** The call this entry stands for: {@link fsync} or {@link fdatasync}. */
      op: 'fsync' | 'fdatasync';
      /** The file descriptor. */
      fd: number;
      /** As {@link RequestOptions.priority}. @defaultValue the batch's `priority` */
      priority?: number | undefined;
    };

/** What each operation of a {@link batch} came to, in the shape of Promise.allSettled. */
export type BatchResult =
  | {
      /** The operation succeeded. */
      status: 'fulfilled';
      /** What the single call would have resolved with (undefined for fsync and fdatasync). */
      value: ReadResult<ArrayBufferView> | WriteResult<ArrayBufferView> | ReadvResult<ArrayBufferView> | WritevResult<ArrayBufferView> | undefined;
    }
  | {
      /** The operation failed, was aborted, timed out or was canceled. */
      status: 'rejected';
      /** What the single call would have rejected with (an AioError, or an AbortError). */
      reason: unknown;
    };

/** The rejection of an aborted request, shaped like Node core's. */
class AbortError extends Error {
  override name = 'AbortError';
  readonly code = 'ABORT_ERR';
  constructor(cause: unknown) {
    super('The operation was aborted', { cause });
  }
}

/** How a settled request's value is shaped. */
const SHAPE_READ = 0;
const SHAPE_WRITE = 1;
const SHAPE_READV = 2;
const SHAPE_WRITEV = 3;
const SHAPE_NONE = 4;
type Shape = typeof SHAPE_READ | typeof SHAPE_WRITE | typeof SHAPE_READV | typeof SHAPE_WRITEV | typeof SHAPE_NONE;

interface Control {
  /** The options object, or null when none was given. */
  o: Record<string, unknown> | null;
  signal: AbortSignal | null;
  timeout: number | undefined;
  priority: number;
}

function unset(): void {}

/** One request's Promise side: made with its request, bound to its Promise when queued. */
class Pending {
  resolve: (value: unknown) => void = unset;
  reject: (reason: unknown) => void = unset;
  readonly shape: Shape;
  /** What the result hands back: the caller's buffer or buffers. */
  readonly payload: unknown;
  req: Request | null = null;
  signal: AbortSignal | null = null;
  timer: ReturnType<typeof setTimeout> | null = null;
  /** The rejection a cancel of ours asked for (AbortError or ETIMEDOUT). */
  why: unknown = null;

  constructor(shape: Shape, payload: unknown) {
    this.shape = shape;
    this.payload = payload;
  }

  /** Cancels the request if it is still queued; a request in the thread pool keeps its real result. */
  cancel(why: unknown): void {
    const req = this.req;
    if (req === null || req.state === DONE) return;
    this.why = why;
    if (engine().cancel(req) !== CANCELED) this.why = null;
  }

  /** The `timeout` expired (setTimeout's callback, with this as its argument: no closure per request). */
  static onTimeout(p: Pending): void {
    p.timer = null;
    const req = p.req;
    if (req !== null) p.cancel(systemError(ETIMEDOUT, OP_NAMES[req.op]));
  }
}

/**
 * The face's listeners: one per signal, shared by every pending request on it.
 * Entries live only while a request on that signal is pending.
 */
const listeners = new Map<AbortSignal, { readonly pending: Set<Pending>; readonly onAbort: () => void }>();

function watch(signal: AbortSignal, p: Pending): void {
  let entry = listeners.get(signal);
  if (entry === undefined) {
    const pending = new Set<Pending>();
    const onAbort = (): void => {
      listeners.delete(signal);
      // Every request queued on the signal goes, oldest first, before anything is
      // dispatched: canceling one may unblock another that is also being aborted.
      const why = new AbortError(signal.reason);
      const reqs: Request[] = [];
      for (const q of pending) {
        if (q.req === null || q.req.state === DONE) continue;
        q.why = why;
        reqs.push(q.req);
      }
      engine().cancelAll(reqs);
      for (const q of pending) if (q.req !== null && q.req.state !== DONE) q.why = null;
    };
    entry = { pending, onAbort };
    listeners.set(signal, entry);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  entry.pending.add(p);
  p.signal = signal;
}

function unwatch(p: Pending): void {
  const signal = p.signal as AbortSignal;
  p.signal = null;
  const entry = listeners.get(signal);
  if (entry === undefined) return;
  entry.pending.delete(p);
  if (entry.pending.size === 0) {
    listeners.delete(signal);
    signal.removeEventListener('abort', entry.onAbort);
  }
}

/** The engine's done hook for this face: settles the Promise exactly once. */
function settle(req: Request): void {
  const p = req.owner as Pending;
  if (p.timer !== null) {
    clearTimeout(p.timer);
    p.timer = null;
  }
  if (p.signal !== null) unwatch(p);
  if (req.error !== 0) {
    p.reject(req.error === ECANCELED && p.why !== null ? p.why : systemError(req.error, OP_NAMES[req.op]));
    return;
  }
  const n = req.value;
  switch (p.shape) {
    case SHAPE_READ:
      p.resolve({ bytesRead: n, buffer: p.payload });
      break;
    case SHAPE_WRITE:
      p.resolve({ bytesWritten: n, buffer: p.payload });
      break;
    case SHAPE_READV:
      p.resolve({ bytesRead: n, buffers: p.payload });
      break;
    case SHAPE_WRITEV:
      p.resolve({ bytesWritten: n, buffers: p.payload });
      break;
    default:
      p.resolve(undefined);
  }
}

/** Queues a validated request (from {@link bufferRequest} and its kin); the Promise settles through {@link settle}. */
function start(req: Request, ctl: Control): Promise<unknown> {
  const signal = ctl.signal;
  if (signal !== null && signal.aborted) return Promise.reject(new AbortError(signal.reason));
  const eng = engine();
  const lane = eng.laneFor(req.fd);
  if (typeof lane === 'number') return Promise.reject(systemError(lane, OP_NAMES[req.op]));
  const p = req.owner as Pending;
  return new Promise((resolve, reject) => {
    p.resolve = resolve;
    p.reject = reject;
    p.req = req;
    eng.submit(req, lane);
    // Some requests complete inside submit (a position Node cannot address); they need no watch.
    if (req.state === DONE) return;
    if (signal !== null) watch(signal, p);
    if (ctl.timeout !== undefined) p.timer = setTimeout(Pending.onTimeout, ctl.timeout, p);
  });
}

/** A request of this face, its Pending as owner. */
function request(op: Op, fd: number, pos: number | bigint | null, buf: ArrayBufferView | null, iov: readonly ArrayBufferView[] | null, len: number, priority: number, shape: Shape, payload: unknown): Request {
  const req = new Request(op, fd, pos, buf, iov, len, priority, settle, new Pending(shape, payload));
  req.face = 'promise';
  return req;
}

/**
 * A descriptor is a C int: a number that is not an integer in int32's range is a bad
 * argument (RangeError, as fs.read and the POSIX face's aio_fildes say); a negative
 * one is a descriptor that is not open (EBADF, as aio_read reports -1).
 */
function validateFd(fd: unknown, name: string): number {
  return validateInteger(fd, name, INT_MIN, INT_MAX);
}

/** `owner.field`, an integer from 0 to `max`; the name is built only for an error. */
function optionInt(value: unknown, owner: string, field: string, max: number): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= max) return value;
  return validateInteger(value, `${owner}.${field}`, 0, max);
}

/** `owner.priority` (0 when absent). */
function validatePriority(value: unknown, owner: string): number {
  return value === undefined ? 0 : optionInt(value, owner, 'priority', AIO_PRIO_DELTA_MAX);
}

/** `owner.position`: null for the current position. The name is built only for an error. */
function validatePosition(value: unknown, owner: string): number | bigint | null {
  if (value === undefined || value === null || value === -1 || value === MINUS_ONE_N) return null;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  return checkPosition(value, `${owner}.position`);
}

/** The slow path of {@link validatePosition}: a bigint in range, or the error naming `name`. */
function checkPosition(value: unknown, name: string): bigint {
  if (typeof value === 'bigint') {
    if (value < 0n || value > MAX_BIGINT_POSITION) throw outOfRange(name, `-1n or >= 0n && <= ${MAX_BIGINT_POSITION}n`, value);
    return value;
  }
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number or bigint', value);
  throw outOfRange(name, `-1 or an integer >= 0 && <= ${Number.MAX_SAFE_INTEGER}`, value);
}

/** What a call without options gets (never changed). */
const NO_OPTIONS: Control = Object.freeze({ o: null, signal: null, timeout: undefined, priority: 0 });

function controlOf(options: unknown, name: string): Control {
  if (options === undefined || options === null) return NO_OPTIONS;
  const o = validateObject(options, name);
  const signal = readField(o, 'signal', name);
  if (signal !== undefined && !isAbortSignal(signal)) throw invalidArgType(`${name}.signal`, 'an instance of AbortSignal', signal);
  const timeout = readField(o, 'timeout', name);
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') throw invalidArgType(`${name}.timeout`, 'of type number', timeout);
    if (!(timeout >= 0 && timeout <= MAX_TIMEOUT)) throw outOfRange(`${name}.timeout`, `>= 0 && <= ${MAX_TIMEOUT}`, timeout);
  }
  const priority = validatePriority(readField(o, 'priority', name), name);
  return { o, signal: signal === undefined ? null : (signal as AbortSignal), timeout: timeout as number | undefined, priority };
}

function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' && typeof (value as AbortSignal).addEventListener === 'function';
}

/** A request on one buffer: the view of `[offset, offset + length)` and its position. */
function bufferRequest(op: Op, shape: Shape, fd: unknown, buffer: unknown, o: Record<string, unknown> | null, name: string, priority: number, prefix = ''): Request {
  const f = validateFd(fd, `${prefix}fd`);
  const buf = validateBuffer(buffer, `${prefix}buffer`);
  const size = buf.byteLength;
  const offsetIn = o === null ? undefined : readField(o, 'offset', name);
  const offset = offsetIn === undefined ? 0 : optionInt(offsetIn, name, 'offset', size);
  const lengthIn = o === null ? undefined : readField(o, 'length', name);
  const len = lengthIn === undefined ? size - offset : optionInt(lengthIn, name, 'length', size - offset);
  const pos = validatePosition(o === null ? undefined : readField(o, 'position', name), name);
  const view = offset === 0 && len === size ? buf : new Uint8Array(buf.buffer, buf.byteOffset + offset, len);
  return request(op, f, pos, view, null, len, priority, shape, buffer);
}

function vectorRequest(op: Op, shape: Shape, fd: unknown, buffers: unknown, o: Record<string, unknown> | null, name: string, priority: number, prefix = ''): Request {
  const f = validateFd(fd, `${prefix}fd`);
  const list = validateArray(buffers, `${prefix}buffers`);
  const iov: ArrayBufferView[] = [];
  let len = 0;
  for (let i = 0; i < list.length; i++) {
    const b = validateBuffer(readElement(list, i, `${prefix}buffers`), `${prefix}buffers[${i}]`);
    iov.push(b);
    len += b.byteLength;
  }
  const pos = validatePosition(o === null ? undefined : readField(o, 'position', name), name);
  return request(op, f, pos, null, iov, len, priority, shape, buffers);
}

function syncRequest(op: Op, fd: unknown, priority: number, prefix = ''): Request {
  return request(op, validateFd(fd, `${prefix}fd`), 0, null, null, 0, priority, SHAPE_NONE, undefined);
}

/**
 * Reads from `fd` into `buffer`, through the queue.
 *
 * @returns a Promise of `{ bytesRead, buffer }` (fewer bytes than asked at end of file).
 *
 * Errors (rejections):
 * - AioError EBADF (`fd` not open, or negative), EISDIR, EINVAL, EIO ...: the system
 *   call's error, with Node's negative errno and `syscall: 'read'`.
 * - AbortError (`code 'ABORT_ERR'`): `signal` aborted while the request was queued.
 * - AioError ETIMEDOUT: `timeout` expired while the request was queued.
 * - AioError ECANCELED: aio_cancel or aio_close canceled it.
 * - TypeError / RangeError: bad arguments (`fd` not an integer in int32's range,
 *   `position` below -1, ...); nothing was queued.
 *
 * Notes: `position` defaults to the current file position, as in fs. Abort and
 * timeout cannot take back a request already in the thread pool: it settles with its
 * real result.
 *
 * @example
 * ```ts
 * const { bytesRead } = await promises.read(fd, Buffer.alloc(4096), { position: 0, signal });
 * ```
 */
export function read<T extends ArrayBufferView>(fd: number, buffer: T, options?: BufferOptions): Promise<ReadResult<T>> {
  try {
    const ctl = controlOf(options, 'options');
    return start(bufferRequest(OP_READ, SHAPE_READ, fd, buffer, ctl.o, 'options', ctl.priority), ctl) as Promise<never>;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Writes `buffer` (or `[offset, offset + length)` of it) to `fd`, through the queue.
 *
 * @returns a Promise of `{ bytesWritten, buffer }`.
 *
 * Errors: as {@link read}, with `syscall: 'write'`; ENOSPC, EFBIG, EBADF on a
 * descriptor not open for writing; EOVERFLOW for a bigint position past 2^53, which
 * Node cannot address for writes.
 *
 * Notes: on an O_APPEND descriptor Linux ignores the position and appends.
 *
 * @example
 * ```ts
 * await promises.write(fd, Buffer.from('hello'), { position: 0 });
 * ```
 */
export function write<T extends ArrayBufferView>(fd: number, buffer: T, options?: BufferOptions): Promise<WriteResult<T>> {
  try {
    const ctl = controlOf(options, 'options');
    return start(bufferRequest(OP_WRITE, SHAPE_WRITE, fd, buffer, ctl.o, 'options', ctl.priority), ctl) as Promise<never>;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Reads from `fd` into `buffers` in order (scatter), as one request.
 *
 * @returns a Promise of `{ bytesRead, buffers }`.
 *
 * Errors: as {@link read}.
 *
 * @example
 * ```ts
 * const { bytesRead } = await promises.readv(fd, [header, body], { position: 0 });
 * ```
 */
export function readv<T extends ArrayBufferView>(fd: number, buffers: readonly T[], options?: VectorOptions): Promise<ReadvResult<T>> {
  try {
    const ctl = controlOf(options, 'options');
    return start(vectorRequest(OP_READ, SHAPE_READV, fd, buffers, ctl.o, 'options', ctl.priority), ctl) as Promise<never>;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Writes `buffers` to `fd` in order (gather), as one request.
 *
 * @returns a Promise of `{ bytesWritten, buffers }`.
 *
 * Errors: as {@link write}.
 *
 * @example
 * ```ts
 * await promises.writev(fd, [header, body], { position: 0 });
 * ```
 */
export function writev<T extends ArrayBufferView>(fd: number, buffers: readonly T[], options?: VectorOptions): Promise<WritevResult<T>> {
  try {
    const ctl = controlOf(options, 'options');
    return start(vectorRequest(OP_WRITE, SHAPE_WRITEV, fd, buffers, ctl.o, 'options', ctl.priority), ctl) as Promise<never>;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * Flushes `fd` to stable storage once every request queued on it before this call
 * has completed (a barrier, like aio_fsync with O_SYNC).
 *
 * @returns a Promise of undefined.
 *
 * Errors: EBADF; EINVAL on a pipe or socket; EIO ...; the first failure of a write
 * it covers (as aio_fsync reports it); abort and timeout as {@link read}.
 *
 * @example
 * ```ts
 * await Promise.all([promises.write(fd, a, { position: 0 }), promises.fsync(fd)]);
 * ```
 */
export function fsync(fd: number, options?: RequestOptions): Promise<void> {
  try {
    const ctl = controlOf(options, 'options');
    return start(syncRequest(OP_FSYNC, fd, ctl.priority), ctl) as Promise<never>;
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * As {@link fsync}, but flushes only what is needed to read the data back
 * (fdatasync(2); aio_fsync with O_DSYNC).
 *
 * @returns a Promise of undefined.
 *
 * Errors: as {@link fsync}.
 *
 * @example
 * ```ts
 * await promises.fdatasync(fd);
 * ```
 */
export function fdatasync(fd: number, options?: RequestOptions): Promise<void> {
  try {
    const ctl = controlOf(options, 'options');
    return start(syncRequest(OP_FDATASYNC, fd, ctl.priority), ctl) as Promise<never>;
  } catch (err) {
    return Promise.reject(err);
  }
}

const BATCH_OPS: Readonly<Record<string, readonly [Op, Shape] | undefined>> = {
  read: [OP_READ, SHAPE_READ],
  write: [OP_WRITE, SHAPE_WRITE],
  readv: [OP_READ, SHAPE_READV],
  writev: [OP_WRITE, SHAPE_WRITEV],
  fsync: [OP_FSYNC, SHAPE_NONE],
  fdatasync: [OP_FDATASYNC, SHAPE_NONE],
};

/**
 * Queues several operations at once (lio_listio's idiomatic form) and waits for all.
 * Every entry is validated before anything is queued: one malformed entry rejects
 * the whole batch and queues nothing.
 *
 * @returns a Promise of one result per entry, in order, shaped like
 * `Promise.allSettled`: `{ status: 'fulfilled', value }` with the value the single
 * call would have given, or `{ status: 'rejected', reason }`.
 *
 * Errors: TypeError / RangeError for a malformed entry (the name says which, e.g.
 * `ops[2].buffer`); an already aborted `signal` rejects with AbortError. Errors of
 * single operations are in their results.
 *
 * Notes: `signal` and `timeout` apply to every entry; an entry's own `priority`
 * overrides the batch's. Adjacent entries on one descriptor may share a system call
 * (merging); results are the same as if they had not.
 *
 * @example
 * ```ts
 * const results = await promises.batch([
 *   { op: 'read', fd, buffer: a, position: 0 },
 *   { op: 'read', fd, buffer: b, position: 4096 },
 * ]);
 * ```
 */
export function batch(ops: readonly BatchOp[], options?: RequestOptions): Promise<BatchResult[]> {
  let reqs: Request[];
  let ctl: Control;
  try {
    const list = validateArray(ops, 'ops');
    ctl = controlOf(options, 'options');
    reqs = [];
    for (let i = 0; i < list.length; i++) {
      const name = `ops[${i}]`;
      if (!(i in list)) throw invalidArgType(name, 'of type object', undefined);
      const o = validateObject(list[i], name);
      const kind = readField(o, 'op', name);
      const spec = typeof kind === 'string' ? BATCH_OPS[kind] : undefined;
      if (spec === undefined) throw invalidArgType(`${name}.op`, `one of ${Object.keys(BATCH_OPS).map((k) => `'${k}'`).join(', ')}`, kind);
      const prioIn = readField(o, 'priority', name);
      const priority = prioIn === undefined ? ctl.priority : validatePriority(prioIn, name);
      const fd = readField(o, 'fd', name);
      const [op, shape] = spec;
      const prefix = `${name}.`;
      if (shape === SHAPE_NONE) reqs.push(syncRequest(op, fd, priority, prefix));
      else if (shape === SHAPE_READ || shape === SHAPE_WRITE) reqs.push(bufferRequest(op, shape, fd, readField(o, 'buffer', name), o, name, priority, prefix));
      else reqs.push(vectorRequest(op, shape, fd, readField(o, 'buffers', name), o, name, priority, prefix));
    }
  } catch (err) {
    return Promise.reject(err);
  }
  if (ctl.signal !== null && ctl.signal.aborted) return Promise.reject(new AbortError(ctl.signal.reason));
  return Promise.allSettled(reqs.map((req) => start(req, ctl))) as Promise<BatchResult[]>;
}

/**
 * aio_close's Promise form: cancels the requests queued on `fd`, waits for those in
 * the thread pool, then closes it. From the call on, new requests on `fd` fail with
 * EBADF.
 *
 * @returns a Promise of undefined.
 *
 * Errors: AioError EBADF when `fd` is not open (or already being closed); close(2)'s
 * own error otherwise.
 *
 * @example
 * ```ts
 * await promises.close(fd);
 * ```
 */
export async function close(fd: number): Promise<void> {
  const f = validateFd(fd, 'fd');
  const err = await engine().close(f);
  if (err !== 0) throw systemError(err, 'close');
}

/**
 * A descriptor with the Promise face's calls as methods, like fs.promises' FileHandle.
 * It owns its descriptor: {@link AioFileHandle.close} (or `await using`) closes it
 * through the queue, after what is queued is canceled and what is in the thread pool
 * has completed.
 *
 * @example
 * ```ts
 * await using fh = await promises.open(path, 'r');
 * const { bytesRead } = await fh.read(Buffer.alloc(4096), { position: 0 });
 * ```
 */
export class AioFileHandle {
  #fd: number;
  #closing: Promise<void> | null = null;

  /** Wraps an open descriptor; the handle takes ownership of it. */
  constructor(fd: number) {
    this.#fd = validateInteger(fd, 'fd', 0, 0x7fffffff);
  }

  /** The descriptor, or -1 once the handle is closing or closed. */
  get fd(): number {
    return this.#closing === null ? this.#fd : -1;
  }

  /** {@link read} on this handle. */
  read<T extends ArrayBufferView>(buffer: T, options?: BufferOptions): Promise<ReadResult<T>> {
    return read(this.fd, buffer, options);
  }

  /** {@link write} on this handle. */
  write<T extends ArrayBufferView>(buffer: T, options?: BufferOptions): Promise<WriteResult<T>> {
    return write(this.fd, buffer, options);
  }

  /** {@link readv} on this handle. */
  readv<T extends ArrayBufferView>(buffers: readonly T[], options?: VectorOptions): Promise<ReadvResult<T>> {
    return readv(this.fd, buffers, options);
  }

  /** {@link writev} on this handle. */
  writev<T extends ArrayBufferView>(buffers: readonly T[], options?: VectorOptions): Promise<WritevResult<T>> {
    return writev(this.fd, buffers, options);
  }

  /** {@link fsync} on this handle. */
  sync(options?: RequestOptions): Promise<void> {
    return fsync(this.fd, options);
  }

  /** {@link fdatasync} on this handle. */
  datasync(options?: RequestOptions): Promise<void> {
    return fdatasync(this.fd, options);
  }

  /**
   * Closes the descriptor ({@link close}). Calling it again returns the same Promise.
   * Requests made on the handle afterwards reject with EBADF.
   */
  close(): Promise<void> {
    return (this.#closing ??= close(this.#fd));
  }

  /** Closes the handle at the end of an `await using` block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Shows the descriptor, whether the handle is open and how many requests are outstanding on it, as `util.inspect` and `console.log` print them. */
  [INSPECT](): string {
    const eng = engine();
    const state = this.#closing !== null ? 'closed' : 'open';
    return `AioFileHandle { fd: ${this.#fd}, state: '${state}', outstanding: ${this.#closing !== null ? 0 : eng.outstandingOn(this.#fd)} }`;
  }
}

/**
 * Opens `path` through the thread pool and wraps the descriptor in an
 * {@link AioFileHandle}.
 *
 * @returns a Promise of the handle.
 *
 * Errors: Node's own system errors of open(2) (ENOENT, EACCES, EISDIR ...).
 *
 * @example
 * ```ts
 * const fh = await promises.open('/tmp/data', 'r+');
 * ```
 */
export async function open(path: string | Buffer | URL, flags: string | number = 'r', mode = 0o666): Promise<AioFileHandle> {
  if (typeof path !== 'string' && !Buffer.isBuffer(path) && !(path instanceof URL)) {
    throw invalidArgType('path', 'of type string or an instance of Buffer or URL', path);
  }
  if (typeof flags !== 'string' && typeof flags !== 'number') throw invalidArgType('flags', 'of type string or number', flags);
  validateInteger(mode, 'mode', 0, 0o7777);
  return new AioFileHandle(await openFile(path, flags, mode));
}

