/**
 * File operations on the nng_aio face: vectored read and write at an offset, fsync
 * and fdatasync, carried by the same request queue as the POSIX face.
 *
 * nng has no file I/O; these are this package's own, written only with the public
 * provider calls (nng_aio_begin, nng_aio_defer, nng_aio_finish), so that they are
 * also the worked example of a provider:
 *
 * 1. nng_aio_begin: refused on a stopped handle (the callback gets NNG_ESTOPPED).
 * 2. Argument errors finish at once with NNG_EINVAL (through the callback).
 * 3. nng_aio_defer registers the cancel function before anything is queued, so a
 *    ZERO timeout, a past expiry or a pending abort never queue a request.
 * 4. The request goes to the engine; its done hook maps the errno and finishes.
 * 5. The cancel function cancels the engine request: a queued one completes at once
 *    with the reason (NNG_ETIMEDOUT, NNG_ECANCELED, NNG_ESTOPPED, an abort code); one
 *    already in the thread pool cannot be taken back, so the cancel is declined and
 *    the operation completes when its system call returns, with its real result,
 *    and only then are its buffers free again.
 *
 * @packageDocumentation
 */
import { constants as osConstants } from 'node:os';
import { CANCELED, engine } from '../engine/queue';
import { OP_FDATASYNC, OP_FSYNC, OP_READ, OP_WRITE, Request, type Op } from '../engine/request';
import { invalidArgType } from '../errors';
import { NNG_EAGAIN, NNG_EINVAL } from './constants';
import { errnoToNng } from './errors';
import { iovOf, nng_aio_begin, nng_aio_defer, nng_aio_finish, validateAio, type NngAio, type NngIov } from './handle';

const { ECANCELED, EIO } = osConstants.errno;

/** One file operation in progress: its handle, its engine request, and why it was canceled. It is the request's owner. */
interface FileOp {
  readonly aio: NngAio;
  /** Whether the operation transfers bytes (read, write) rather than syncs. */
  readonly isIo: boolean;
  req: Request | null;
  /** The reason our cancel function was called with while `req` was being canceled, or 0. */
  abortErr: number;
  /** A cancel that came while a write piece was in the thread pool: the rest is not written. */
  declined: number;
}

/** The done hook of every file operation (one function, not a closure per operation). */
function fileOpDone(req: Request): void {
  const state = req.owner as FileOp;
  state.req = null;
  if (req.error !== 0) {
    const reason = state.abortErr !== 0 ? state.abortErr : state.declined;
    const err = req.error === ECANCELED && reason !== 0 ? reason : errnoToNng(req.error);
    // A write that failed part-way reports what it had written.
    return nng_aio_finish(state.aio, err, req.partial);
  }
  nng_aio_finish(state.aio, 0, state.isIo ? req.value : 0);
}

function validateFd(fd: unknown): number {
  if (typeof fd !== 'number') throw invalidArgType('fd', 'of type number', fd);
  return fd;
}

function validateOffset(offset: unknown): void {
  if (typeof offset !== 'number' && typeof offset !== 'bigint') {
    throw invalidArgType('offset', 'of type number or bigint', offset);
  }
}

function offsetOk(offset: number | bigint): boolean {
  return typeof offset === 'bigint' ? offset >= 0n : Number.isSafeInteger(offset) && offset >= 0;
}

/** The cancel function of every file operation. */
function cancelFileOp(_aio: NngAio, arg: unknown, err: number): void {
  const state = arg as FileOp;
  const req = state.req;
  if (req === null) return;
  state.abortErr = err;
  // CANCELED: the done hook already ran and finished with `err`. Otherwise the request
  // is in the thread pool (or done): it keeps its real result.
  if (engine().cancel(req) !== CANCELED) {
    state.abortErr = 0;
    state.declined = err;
    req.halted = true;
  }
}

/** Queues `req` on the engine for `fd`, or fails it at once (EBADF ...). */
function submit(req: Request, fd: number): void {
  const eng = engine();
  const lane = eng.laneFor(fd);
  if (typeof lane === 'number') eng.submitFailed(req, lane);
  else eng.submit(req, lane);
}

/**
 * Views of the first `iov_len` bytes of each entry: the entry's own buffer when it is
 * used whole (no new view per operation), else a new view. Throws when a buffer was
 * detached (its byteLength is then 0, and a new view of it throws).
 */
function views(aio: NngAio): ArrayBufferView[] {
  const iov = iovOf(aio);
  const out: ArrayBufferView[] = [];
  // Indexed, not for-of: the iterator protocol allocated on every operation.
  for (let i = 0; i < iov.length; i++) {
    const { iov_buf, iov_len } = iov[i] as NngIov;
    if (iov_len > iov_buf.byteLength) throw new RangeError('iov entry longer than its buffer');
    out.push(iov_len > 0 && iov_len === iov_buf.byteLength ? iov_buf : new Uint8Array(iov_buf.buffer, iov_buf.byteOffset, iov_len));
  }
  return out;
}

function total(bufs: readonly ArrayBufferView[]): number {
  let n = 0;
  for (const b of bufs) n += b.byteLength;
  return n;
}

/**
 * The common path: begin, validate, defer, then run `op` once (read, fsync,
 * fdatasync) or until every byte is written (write).
 */
function fileOp(op: Op, fd: number, offset: number | bigint, aio: NngAio): void {
  if (!nng_aio_begin(aio)) return;
  if (!offsetOk(offset)) return nng_aio_finish(aio, NNG_EINVAL);
  const eng = engine();
  if (!eng.hasRoom()) return nng_aio_finish(aio, NNG_EAGAIN);
  const isIo = op === OP_READ || op === OP_WRITE;
  let bufs: ArrayBufferView[] | null = null;
  try {
    if (isIo) bufs = views(aio);
  } catch {
    // A buffer detached (transferred) since nng_aio_set_iov: nothing to read into or write from.
    return nng_aio_finish(aio, NNG_EINVAL);
  }
  const state: FileOp = { aio, isIo, req: null, abortErr: 0, declined: 0 };
  if (!nng_aio_defer(aio, cancelFileOp, state)) return;

  // A write is "the whole iov or fails": the engine continues a short write in place,
  // so the rest keeps the request's position in the descriptor's order.
  const req = new Request(op, fd, isIo ? offset : 0, null, bufs, bufs === null ? 0 : total(bufs), 0, fileOpDone, state);
  req.face = 'nng';
  req.whole = op === OP_WRITE;
  state.req = req;
  submit(req, fd);
}

/**
 * nng_file_read: reads into the handle's iov from `fd` at `offset`, with one
 * vectored read.
 *
 * @param fd - an open file descriptor.
 * @param offset - byte offset (number or bigint); ignored on descriptors that cannot
 * seek (pipes, FIFOs, terminals), which read at their current position.
 * @param aio - the handle; its iov (nng_aio_set_iov) says where the bytes go.
 * @returns nothing. The callback runs once; nng_aio_count is the bytes read: what
 * one vectored read returned, short near the end of the file and 0 at its end.
 * @remarks
 * Errors (through the callback, count 0):
 * - NNG_EINVAL: `offset` is negative or not an integer.
 * - NNG_ECLOSED: `fd` is not open, or not open for reading (EBADF).
 * - NNG_EAGAIN: the outstanding-request limit (aio_max) is reached.
 * - NNG_ETIMEDOUT, NNG_ECANCELED, the abort code, NNG_ESTOPPED: ended while still
 *   queued (a read already in the thread pool completes with its real result).
 * - NNG_ECANCELED: canceled by aio_cancel on the descriptor.
 * - other system errors as errnoToNng maps them (`NNG_ESYSERR | EISDIR` ...).
 *
 * Throws a TypeError when `fd` is not a number or `offset` not a number or bigint,
 * and an Error when an operation is in flight on the handle or it has been freed.
 *
 * Notes: the buffers are filled in place and must not be reused until the callback
 * has run. Requests on one descriptor keep POSIX ordering with every other request
 * of this package (SPEC §2).
 * @example
 * const buf = Buffer.alloc(4096);
 * nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: buf.length }]);
 * nng_file_read(fd, 0, aio);
 */
export function nng_file_read(fd: number, offset: number | bigint, aio: NngAio): void {
  validateAio(aio, 'nng_file_read');
  validateOffset(offset);
  fileOp(OP_READ, validateFd(fd), offset, aio);
}

/**
 * nng_file_write: writes the handle's whole iov to `fd` at `offset`.
 *
 * @param offset - byte offset (number or bigint); ignored on descriptors that cannot
 * seek, and by Linux on O_APPEND descriptors.
 * @returns nothing. The callback runs once; on success nng_aio_count is the iov's
 * total length (a short write is resumed with the rest until all is written).
 * @remarks
 * Errors (through the callback; nng_aio_count is the bytes written before the
 * failure):
 * - NNG_EINVAL: `offset` is negative or not an integer.
 * - NNG_ECLOSED: `fd` is not open, or not open for writing (EBADF), or a pipe with
 *   no reader (EPIPE).
 * - NNG_ENOSPC: no space left (ENOSPC, EFBIG, EDQUOT).
 * - NNG_EAGAIN: the outstanding-request limit is reached.
 * - NNG_ETIMEDOUT, NNG_ECANCELED, the abort code, NNG_ESTOPPED: ended while queued.
 * - other system errors as errnoToNng maps them.
 *
 * Throws as {@link nng_file_read}.
 *
 * Notes: a cancel or timeout that arrives while a chunk is in the thread pool lets
 * that chunk finish; the rest is then not written, and the operation ends with the
 * cancel's code and the bytes written so far.
 * @example
 * nng_aio_set_iov(aio, 1, [{ iov_buf: data, iov_len: data.length }]);
 * nng_file_write(fd, 0, aio);
 */
export function nng_file_write(fd: number, offset: number | bigint, aio: NngAio): void {
  validateAio(aio, 'nng_file_write');
  validateOffset(offset);
  fileOp(OP_WRITE, validateFd(fd), offset, aio);
}

/**
 * nng_file_fsync: flushes `fd`'s data and metadata to storage, after every earlier
 * write of this package on it.
 *
 * @returns nothing. The callback runs once with count 0.
 * @remarks
 * Errors (through the callback): NNG_ECLOSED (not open), NNG_EAGAIN (limit), the
 * timeout/cancel/stop codes while queued, the error of an earlier write it covers,
 * and other system errors as errnoToNng maps them (`NNG_ESYSERR | EINVAL` is not
 * one: EINVAL, for a descriptor that cannot sync, is NNG_EINVAL).
 *
 * Throws as {@link nng_file_read}.
 * @example
 * nng_file_fsync(fd, aio);
 */
export function nng_file_fsync(fd: number, aio: NngAio): void {
  validateAio(aio, 'nng_file_fsync');
  fileOp(OP_FSYNC, validateFd(fd), 0, aio);
}

/**
 * nng_file_fdatasync: as {@link nng_file_fsync}, flushing only what is needed to
 * read the data back (fdatasync(2)).
 *
 * @returns nothing. The callback runs once with count 0.
 * @remarks
 * Errors: as nng_file_fsync.
 * @example
 * nng_file_fdatasync(fd, aio);
 */
export function nng_file_fdatasync(fd: number, aio: NngAio): void {
  validateAio(aio, 'nng_file_fdatasync');
  fileOp(OP_FDATASYNC, validateFd(fd), 0, aio);
}
