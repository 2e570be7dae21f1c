/**
 * One asynchronous operation, as the engine sees it: what to do (op, fd, position,
 * buffers), where it stands (state), how it ended (error, value), and the links
 * that put it in the ready heap and in its descriptor's lane.
 *
 * The faces create requests and read their results; only the engine changes their
 * state. A request's fields are a snapshot taken at submission: the caller's control
 * block may change afterwards without affecting the operation.
 *
 * Memory (issue 4: a queued request's heap, control block included, <= 300 bytes): a
 * request is 15 in-object fields (144 bytes with its header); what only some requests
 * need lives elsewhere:
 * - booleans, op, state, face and priority are packed into `flags`;
 * - `slot` is one number whose meaning follows the state: the blocker count while
 *   BLOCKED, the ready-queue place while READY, the result once DONE;
 * - the trace context, aio_suspend waiters, dependents (later requests waiting for
 *   this one) and a whole write's partial count or a barrier's covered error live in
 *   the `extra` record, made only when one of them is set (a lone waiter is kept as
 *   itself);
 * - the hazard tree's links and subtree reach live in a node of the lane's own
 *   (lane.ts), for the few requests in a tree;
 * - no private methods: a class that has one stores its brand in every instance.
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

/**
 * Layout of {@link Request.flags}: six booleans, then the op, the state, the face
 * and the priority as small integers, all in one small integer (a V8 Smi: at most
 * 31 bits) instead of one field each.
 */
const RETRIEVED = 1;
const GATED = 2;
const WHOLE = 4;
const HALTED = 8;
const INDEXED = 16;
const MERGEABLE = 32;
/** `data` holds the vectored buffers (iov) rather than one buffer. */
const VECTORED = 64;
const OP_SHIFT = 7;
const STATE_SHIFT = 9;
const FACE_SHIFT = 11;
const PRIO_SHIFT = 13;
const TWO_BITS = 3;
/** The largest priority a request can carry (the faces allow 0 to AIO_PRIO_DELTA_MAX, 20). */
const PRIO_MAX = (1 << (30 - PRIO_SHIFT)) - 1;

/**
 * `flags` with `bit` set or cleared. A module function, not a private method: a class
 * with a private method stores its brand in every instance (8 bytes per request).
 */
function withBit(flags: number, bit: number, on: boolean): number {
  return on ? flags | bit : flags & ~bit;
}

/** The faces, in the order of their two-bit codes in {@link Request.flags}. */
const FACES = ['posix', 'nng', 'promise'] as const;

/**
 * Called once when a request's status becomes final (an aio_suspend call). `over`
 * marks a waiter whose call has returned: calling it does nothing, and it may be
 * dropped.
 */
export type Waiter = ((req: Request) => void) & { over?: boolean };

/** A request's waiters: one (the usual case: one aio_suspend at a time), or several. */
export type Waiters = Waiter | Waiter[];

/**
 * What a request keeps only when it comes to need it: a trace context, aio_suspend
 * waiters, later requests waiting for it (a hazard), the bytes a whole write wrote so
 * far or the error a barrier carries. Most requests need none of these.
 */
interface Extra {
  trace: TraceContext | null;
  waiters: Waiters | null;
  dependents: Request[] | null;
  /** {@link Request.coveredError} for barriers, {@link Request.partial} for reads and writes: no request needs both. */
  shared: number;
}

/** The extra record of `req`, made on first use (a lone waiter moves into it). */
function recordOf(req: Request): Extra {
  const x = req.extra;
  if (x !== null && typeof x !== 'function') return x;
  const rec: Extra = { trace: null, waiters: x, dependents: null, shared: 0 };
  req.extra = rec;
  return rec;
}

/** The number `shared` of `req`'s extra record, 0 without one. */
function sharedOf(req: Request): number {
  const x = req.extra;
  return x === null || typeof x === 'function' ? 0 : x.shared;
}

/** The public face a request came from. */
export type Face = (typeof FACES)[number];

/** Called once, synchronously, when the request's status becomes final. */
export type DoneHook = (req: Request) => void;

/**
 * A request. Construct it with the operation's snapshot, then hand it to
 * `Engine.submit`. `error` is EINPROGRESS-like (-1 here; the faces translate) until
 * the request is DONE.
 */
export class Request {
  readonly fd: number;
  /**
   * Position as submitted (number or bigint); ignored on non-seekable descriptors.
   * `null` means the descriptor's current file position (the Promise face's default):
   * such a request is ordered after everything earlier on its descriptor, like I/O on
   * a stream.
   */
  readonly pos: number | bigint | null;
  /** @internal the single buffer or the vectored buffers (see {@link buf}, {@link iov}): one field for both. */
  readonly data: ArrayBufferView | readonly ArrayBufferView[] | null;
  /** Bytes to transfer. */
  readonly len: number;
  /** Called once when the status is final. */
  readonly onDone: DoneHook;
  /** Whatever the face needs to remember (its control block, sigevent, handle). */
  readonly owner: unknown;

  /** Submission order, assigned by the engine; FIFO tie-break among equal priorities. */
  seq = 0;
  /**
   * @internal one number whose meaning follows the state, one field for three (issue
   * 4's memory target):
   * - BLOCKED: how many earlier requests it waits for ({@link blockers});
   * - READY: where it sits in the ready queue ({@link heapIndex}: heap.ts's encoding);
   * - IN_FLIGHT: -1 (the ready queue let it go);
   * - DONE: how it ended: bytes transferred (>= 0) on success, minus the errno on
   *   failure. Read it through {@link error} and {@link value}; set it with {@link settle}.
   * A BLOCKED request is never in the ready queue and a READY one waits for nothing,
   * so no two of these are needed at once.
   */
  slot = 0;

  /** @internal the lane (per-descriptor state) while outstanding. */
  lane: Lane | null = null;
  /** @internal neighbours in the lane's outstanding list, in submission order. */
  lanePrev: Request | null = null;
  laneNext: Request | null = null;
  /**
   * @internal the trace context, aio_suspend waiters, dependents, and a whole write's
   * partial count or a barrier's covered error, once any is set: one field for all
   * (issue 4's memory target); a lone waiter (the aio_suspend loop) is kept as itself.
   */
  extra: Extra | Waiter | null = null;
  /**
   * @internal the lane's hazard index (lane.ts): neighbours in its chunk grid's list or
   * in its list of gated requests; null in its tree (a tree node of its own holds the
   * links there, and the subtree's reach, so no request carries a field for them).
   */
  hazardLeft: Request | null = null;
  hazardRight: Request | null = null;
  /**
   * @internal the booleans, op, state, face and priority below, packed (see the layout
   * above): a queued request costs one field for all of them instead of one field
   * each (issue 4's memory target).
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
    if (!(prio >= 0 && prio <= PRIO_MAX && Number.isInteger(prio))) throw new RangeError(`Request: prio must be an integer >= 0 && <= ${PRIO_MAX}; received ${prio}`);
    if (buf !== null && iov !== null) throw new TypeError('Request: buf and iov cannot both be given (buf is for a single buffer, iov for vectored requests)');
    this.fd = fd;
    this.pos = pos;
    this.data = iov ?? buf;
    this.len = len;
    this.onDone = onDone;
    this.owner = owner;
    this.flags = (iov !== null ? VECTORED : 0) | (op << OP_SHIFT) | (BLOCKED << STATE_SHIFT) | (prio << PRIO_SHIFT);
  }

  /** 0 on success, a positive errno on failure; meaningful only once DONE (0 until then). */
  get error(): number {
    const r = this.slot;
    return r < 0 && ((this.flags >> STATE_SHIFT) & TWO_BITS) === DONE ? -r : 0;
  }

  /** Bytes transferred (or 0 for fsync) on success, -1 on failure; 0 until DONE. */
  get value(): number {
    if (((this.flags >> STATE_SHIFT) & TWO_BITS) !== DONE) return 0;
    const r = this.slot;
    return r < 0 ? -1 : r;
  }

  /** @internal records how it ended (the request is DONE): `error` 0 and `value` bytes, or a positive errno (value is then -1). */
  settle(error: number, value: number): void {
    this.slot = error !== 0 ? -error : value;
  }

  /** @internal earlier requests this one waits for (hazard edges); 0 unless BLOCKED. */
  get blockers(): number {
    return ((this.flags >> STATE_SHIFT) & TWO_BITS) === BLOCKED ? this.slot : 0;
  }
  set blockers(n: number) {
    this.slot = n;
  }

  /** @internal its place in the ready queue while READY (see heap.ts; -1 once it left it). */
  get heapIndex(): number {
    return this.slot;
  }
  set heapIndex(i: number) {
    this.slot = i;
  }

  /** The operation. */
  get op(): Op {
    return ((this.flags >> OP_SHIFT) & TWO_BITS) as Op;
  }

  /** 0 is the most urgent; larger values are dispatched later. */
  get prio(): number {
    return this.flags >> PRIO_SHIFT;
  }

  /** Single buffer, or null for fsync and vectored requests. */
  get buf(): ArrayBufferView | null {
    return (this.flags & VECTORED) !== 0 ? null : (this.data as ArrayBufferView | null);
  }

  /** Vectored buffers (each used whole), or null. */
  get iov(): readonly ArrayBufferView[] | null {
    return (this.flags & VECTORED) !== 0 ? (this.data as readonly ArrayBufferView[]) : null;
  }

  /** Where the request stands: BLOCKED, READY, IN_FLIGHT or DONE. */
  get state(): State {
    return ((this.flags >> STATE_SHIFT) & TWO_BITS) as State;
  }
  set state(s: State) {
    this.flags = (this.flags & ~(TWO_BITS << STATE_SHIFT)) | (s << STATE_SHIFT);
  }

  /** Which face submitted it, for tracing. */
  get face(): Face {
    return FACES[(this.flags >> FACE_SHIFT) & TWO_BITS] as Face;
  }
  set face(f: Face) {
    this.flags = (this.flags & ~(TWO_BITS << FACE_SHIFT)) | (FACES.indexOf(f) << FACE_SHIFT);
  }

  /** @internal for barriers: the first failure among the writes it covers (0 for other requests). */
  get coveredError(): number {
    return this.isBarrier ? sharedOf(this) : 0;
  }
  set coveredError(errno: number) {
    if (errno !== 0 || sharedOf(this) !== 0) recordOf(this).shared = errno;
  }

  /** For whole writes: bytes written by earlier pieces (the count to report with an error); 0 for barriers. */
  get partial(): number {
    return this.isBarrier ? 0 : sharedOf(this);
  }
  set partial(bytes: number) {
    if (bytes !== 0 || sharedOf(this) !== 0) recordOf(this).shared = bytes;
  }

  /** @internal the tracing context while someone listens (engine/trace.ts), else null. */
  get trace(): TraceContext | null {
    const x = this.extra;
    return x === null || typeof x === 'function' ? null : x.trace;
  }
  set trace(ctx: TraceContext | null) {
    const x = this.extra;
    if (ctx !== null || (x !== null && typeof x !== 'function')) recordOf(this).trace = ctx;
  }

  /** @internal callbacks to run once when the status becomes final (aio_suspend waiters). */
  get waiters(): Waiters | null {
    const x = this.extra;
    return x === null || typeof x === 'function' ? x : x.waiters;
  }
  set waiters(ws: Waiters | null) {
    const x = this.extra;
    if (x !== null && typeof x !== 'function') x.waiters = ws;
    // One waiter and no trace (a loop over aio_suspend): the waiter itself, no record.
    else if (ws === null || typeof ws === 'function') this.extra = ws;
    else recordOf(this).waiters = ws;
  }

  /** @internal later requests waiting for this one (hazard edges), or null. */
  get dependents(): Request[] | null {
    const x = this.extra;
    return x === null || typeof x === 'function' ? null : x.dependents;
  }
  set dependents(ds: Request[] | null) {
    const x = this.extra;
    if (ds !== null || (x !== null && typeof x !== 'function')) recordOf(this).dependents = ds;
  }

  /** @internal makes `later` one of the requests waiting for this one. */
  addDependent(later: Request): void {
    const rec = recordOf(this);
    if (rec.dependents === null) rec.dependents = [later];
    else rec.dependents.push(later);
  }

  /** Set by the face when the result has been retrieved (aio_return's once-only rule). */
  get retrieved(): boolean {
    return (this.flags & RETRIEVED) !== 0;
  }
  set retrieved(on: boolean) {
    this.flags = withBit(this.flags, RETRIEVED, on);
  }

  /** @internal true when it must wait for every earlier request of its lane (barriers, streams). */
  get gated(): boolean {
    return (this.flags & GATED) !== 0;
  }
  set gated(on: boolean) {
    this.flags = withBit(this.flags, GATED, on);
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
    this.flags = withBit(this.flags, WHOLE, on);
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
    this.flags = withBit(this.flags, HALTED, on);
  }

  /** @internal true while listed in its lane's merge index (ready, positional, mergeable). */
  get indexed(): boolean {
    return (this.flags & INDEXED) !== 0;
  }
  set indexed(on: boolean) {
    this.flags = withBit(this.flags, INDEXED, on);
  }

  /** @internal true when it may share a system call with adjacent requests (see queue.ts). */
  get mergeable(): boolean {
    return (this.flags & MERGEABLE) !== 0;
  }
  set mergeable(on: boolean) {
    this.flags = withBit(this.flags, MERGEABLE, on);
  }

  /** True for fsync and fdatasync: barriers over earlier requests on the descriptor. */
  get isBarrier(): boolean {
    return ((this.flags >> OP_SHIFT) & TWO_BITS) >= OP_FSYNC;
  }

  /** True until the status is final. */
  get pending(): boolean {
    return ((this.flags >> STATE_SHIFT) & TWO_BITS) !== DONE;
  }
}
