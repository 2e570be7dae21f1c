/**
 * One asynchronous operation, as the engine sees it: what to do (op, fd, position,
 * buffers), where it stands (state), how it ended (error, value), and the links
 * that put it in the ready heap and in its descriptor's lane.
 *
 * The faces create requests and read their results; only the engine changes their
 * state. A request's fields are a snapshot taken at submission: the caller's control
 * block may change afterwards without affecting the operation.
 */
import type { Lane } from './lane';
import type { TraceContext } from './trace';

/** Operation codes. */
export const OP_READ = 0;
export const OP_WRITE = 1;
export const OP_FSYNC = 2;
export const OP_FDATASYNC = 3;
export type Op = typeof OP_READ | typeof OP_WRITE | typeof OP_FSYNC | typeof OP_FDATASYNC;

/** The system call each op stands for, for messages and tracing. */
export const OP_NAMES = ['read', 'write', 'fsync', 'fdatasync'] as const;

/** Accepted, waiting for an earlier conflicting request on its descriptor. */
export const BLOCKED = 0;
/** In the ready heap: may be dispatched as soon as the in-flight cap allows. */
export const READY = 1;
/** Handed to the thread pool: can no longer be canceled. */
export const IN_FLIGHT = 2;
/** Completed or canceled: error and value are final. */
export const DONE = 3;
export type State = typeof BLOCKED | typeof READY | typeof IN_FLIGHT | typeof DONE;

/** Bits of {@link Request.flags}. */
const RETRIEVED = 1;
const GATED = 2;
const WHOLE = 4;
const HALTED = 8;
const INDEXED = 16;
const MERGEABLE = 32;

/** The public face a request came from. */
export type Face = 'posix' | 'nng' | 'promise';

/** Called once, synchronously, when the request's status becomes final. */
export type DoneHook = (req: Request) => void;

/**
 * A request. Construct it with the operation's snapshot, then hand it to
 * `Engine.submit`. `error` is EINPROGRESS-like (-1 here; the faces translate) until
 * the request is DONE.
 */
export class Request {
  readonly op: Op;
  readonly fd: number;
  /**
   * Position as submitted (number or bigint); ignored on non-seekable descriptors.
   * `null` means the descriptor's current file position (the Promise face's default):
   * such a request is ordered after everything earlier on its descriptor, like I/O on
   * a stream.
   */
  readonly pos: number | bigint | null;
  /** Single buffer, or null for fsync and vectored requests. */
  readonly buf: ArrayBufferView | null;
  /** Vectored buffers (each used whole), or null. */
  readonly iov: readonly ArrayBufferView[] | null;
  /** Bytes to transfer. */
  readonly len: number;
  /** 0 is the most urgent; larger values are dispatched later. */
  readonly prio: number;
  /** Called once when the status is final. */
  readonly onDone: DoneHook;
  /** Whatever the face needs to remember (its control block, sigevent, handle). */
  readonly owner: unknown;

  /** Submission order, assigned by the engine; FIFO tie-break among equal priorities. */
  seq = 0;
  state: State = BLOCKED;
  /** 0 on success, a positive errno on failure; meaningful only once DONE. */
  error = 0;
  /** Bytes transferred (or 0 for fsync) on success, -1 on failure. */
  value = 0;
  /** Which face submitted it, for tracing. */
  face: Face = 'posix';
  /** @internal the tracing context while someone listens (engine/trace.ts), else null. */
  trace: TraceContext | null = null;

  /** @internal the lane (per-descriptor state) while outstanding. */
  lane: Lane | null = null;
  /** @internal neighbours in the lane's outstanding list, in submission order. */
  lanePrev: Request | null = null;
  laneNext: Request | null = null;
  /** @internal index in the ready heap, -1 when not in it. */
  heapIndex = -1;
  /** @internal earlier requests this one must wait for. */
  blockers = 0;
  /** @internal later requests waiting for this one. */
  dependents: Request[] | null = null;
  /** @internal for barriers: the first failure among the writes it covers. */
  coveredError = 0;
  /** For whole writes: bytes written by earlier pieces (the count to report with an error). */
  partial = 0;
  /** @internal callbacks to run once when the status becomes final (aio_suspend waiters). */
  waiters: Array<(req: Request) => void> | null = null;
  /**
   * @internal the lane's hazard index (lane.ts): children in its tree of outstanding
   * positioned requests, or neighbours in its list of gated ones.
   */
  hazardLeft: Request | null = null;
  hazardRight: Request | null = null;
  /** @internal the request reaching furthest (largest end) in this one's subtree of the hazard tree. */
  hazardReach: Request | null = null;
  /**
   * @internal the boolean properties below, one bit each: a queued request costs one
   * field for all of them instead of one field each (issue 4's memory target).
   */
  flags = 0;

  constructor(
    op: Op,
    fd: number,
    pos: number | bigint | null,
    buf: ArrayBufferView | null,
    iov: readonly ArrayBufferView[] | null,
    len: number,
    prio: number,
    onDone: DoneHook,
    owner: unknown,
  ) {
    this.op = op;
    this.fd = fd;
    this.pos = pos;
    this.buf = buf;
    this.iov = iov;
    this.len = len;
    this.prio = prio;
    this.onDone = onDone;
    this.owner = owner;
  }

  /** Set by the face when the result has been retrieved (aio_return's once-only rule). */
  get retrieved(): boolean {
    return (this.flags & RETRIEVED) !== 0;
  }
  set retrieved(on: boolean) {
    this.#set(RETRIEVED, on);
  }

  /** @internal true when it must wait for every earlier request of its lane (barriers, streams). */
  get gated(): boolean {
    return (this.flags & GATED) !== 0;
  }
  set gated(on: boolean) {
    this.#set(GATED, on);
  }

  /**
   * Set by the face before submission: a short write is continued (in the same slot,
   * keeping its place in the descriptor's order) until every byte is written or an
   * error occurs. nng_file_write's "the whole iov or fails".
   */
  get whole(): boolean {
    return (this.flags & WHOLE) !== 0;
  }
  set whole(on: boolean) {
    this.#set(WHOLE, on);
  }

  /**
   * For whole writes, set by the face when a cancel came while a piece was in the
   * thread pool: the piece cannot be taken back, but the rest is not written; the
   * request then ends with ECANCELED and `partial` bytes written.
   */
  get halted(): boolean {
    return (this.flags & HALTED) !== 0;
  }
  set halted(on: boolean) {
    this.#set(HALTED, on);
  }

  /** @internal true while listed in its lane's merge index (ready, positional, mergeable). */
  get indexed(): boolean {
    return (this.flags & INDEXED) !== 0;
  }
  set indexed(on: boolean) {
    this.#set(INDEXED, on);
  }

  /** @internal true when it may share a system call with adjacent requests (see queue.ts). */
  get mergeable(): boolean {
    return (this.flags & MERGEABLE) !== 0;
  }
  set mergeable(on: boolean) {
    this.#set(MERGEABLE, on);
  }

  #set(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  /** True for fsync and fdatasync: barriers over earlier requests on the descriptor. */
  get isBarrier(): boolean {
    return this.op >= OP_FSYNC;
  }

  /** True until the status is final. */
  get pending(): boolean {
    return this.state !== DONE;
  }
}
