/**
 * The request queue: one engine serves every face.
 *
 * Design notes (the invariants, before any code):
 *
 * - Waiting requests live here, not in libuv. At most `maxInFlight` requests are in
 *   the thread pool at once; everything else waits in this queue, where it can be
 *   canceled, timed out or reprioritised. A request handed to the thread pool cannot
 *   be taken back: it completes when its system call returns.
 * - A request completes exactly once. Its status (error, value) is final before
 *   anything observes the completion: waiters, the face's done hook, notifications.
 * - The engine never calls user code. Faces turn completions into user callbacks
 *   through {@link Engine.defer}, which runs them later, on the event loop, in
 *   completion order.
 * - Among ready requests, lower `prio` goes first; equal priority is submission
 *   order. Priorities are strict: a steady stream of urgent requests starves less
 *   urgent ones, as in glibc.
 * - Ordering (SPEC §2): a request waits for every earlier outstanding request on its
 *   descriptor that it could observe. On seekable descriptors that is an earlier
 *   request whose byte range overlaps and where one of the two is a write; writes on
 *   an O_APPEND descriptor (or one whose flags are unknown, such as a write alone on
 *   its descriptor, whose flags are read only when a second request comes) and every
 *   request on a non-seekable descriptor wait for everything earlier ("gated"). A barrier (fsync,
 *   fdatasync) is gated too, and reports the first failure of a write it covers.
 * - A descriptor is classified when it gets its first outstanding request (a lane).
 *   Before a request is dispatched, the descriptor's identity (dev, ino) is
 *   confirmed whenever user code may have run since the last check, so no request
 *   runs against a number that was closed and reused behind the engine's back: it
 *   fails with EBADF instead. (The check is one fstat per dispatch at steady state;
 *   checks made in the same engine entry are shared.)
 * - Merging: when a request is dispatched, ready requests of the same op whose byte
 *   ranges continue its own without gap or overlap (positional, not gated) share its
 *   system call, one readv/writev in one slot of the cap, up to `mergeMaxRequests`
 *   requests and `mergeMaxBytes` bytes. Each still gets the result it would have had
 *   alone: bytes are handed out in file order; a request the call did not reach (a
 *   short transfer, or an error) runs alone afterwards in the same slot, also after
 *   an aio_close (it is in the thread pool: the close waits for it). Merged requests
 *   complete in submission order. A descriptor where fewer than MERGE_MIN_HITS of
 *   MERGE_WINDOW dispatches merged stops entering its ready requests in the merge index
 *   (random I/O pays nothing for merging) until a request continues the previous one,
 *   or MERGE_RETRY requests later; the verdict outlives the lane when its queue
 *   drains (for the same file). Merging is an optimisation, never a promise.
 * - Dispatch is batched behind completions. From the first thread-pool completion of
 *   an event-loop turn until that turn's check phase (one setImmediate), and while
 *   deferred notifications run (until the microtasks they queued have run: code that
 *   awaited a Promise they settled), freed slots and new requests on regular files wait
 *   ("held"); then everything ready goes out in one burst (one per turn: when
 *   notifications are due in the check phase, after them). Except a run of
 *   PLUG_FLUSH adjacent requests submitted on one descriptor during the hold: it goes
 *   out at once, merged, so that the pool reads it while the rest are being
 *   submitted. Resubmissions made by completion callbacks thus reach libuv together,
 *   its workers find work queued instead of being woken once per request, and
 *   requests that became adjacent merge. Holding is invisible to the POSIX and nng semantics: I/O on a regular
 *   file never needs the main thread to progress, and every cancel first dispatches
 *   what is held, so it finds exactly what it would have found had dispatch been
 *   immediate (aio_close instead cancels what is held on its descriptor: it is queued,
 *   and nothing may start after the close was called). A request on a non-seekable
 *   descriptor (pipe, FIFO, socket), whose progress may need this very thread, ends
 *   the hold at once.
 * - Streams: on a descriptor with a merged call in the thread pool, while the event
 *   loop polls (below), a further merged group is held back ("parked", at most one
 *   group per descriptor, grown by groups that continue it) and handed over from that
 *   call's completion callback, before its requests are completed, instead of
 *   joining the pool beside it. A sequential reader or writer then has one call in the
 *   pool at a time and the next one ready when it returns: the worker that finished
 *   takes it within microseconds, before its CPU idles (a submission then costs ~3 us
 *   instead of ~12 us, a 32 KiB read's round trip ~20 us instead of ~40 us on a 2-vCPU
 *   VM). A parked request is queued: it can be canceled (its group's others become
 *   ready again) and aio_close cancels it. The hand-over takes the slot of the call that
 *   ended, unless requests that call did not reach (a short transfer) still need it;
 *   then, if no other slot is free, the group becomes ready and goes out as usual.
 *   When polling stops for want of events (a slow device), parked groups go to the
 *   pool as usual.
 * - Polling (poll.ts): while calls are in the thread pool, no more of them than libuv
 *   has threads and of at most pollMaxBytes in all, the event loop is kept from
 *   sleeping for pollWindowMicros after each dispatch or completion (one pending
 *   setImmediate), so a completion is picked up without waking the loop. It never
 *   changes what completes or in which order, and it stops when the pool is empty.
 * - Submission, dispatch and cancellation cost O(log n) in the number of ready
 *   requests, O(1) when they become ready in (priority, submission) order (heap.ts's
 *   FIFO run, the usual case); hazard detection costs O(1) expected for requests of up to 256 KiB and
 *   O(log n + k) otherwise, for k conflicting requests (lane.ts's hazard index), plus
 *   the gated reads or writes outstanding on the descriptor, and nothing for reads
 *   when the descriptor has no writes outstanding. Reads enter the index when a write
 *   first looks for hazards on their descriptor: that write pays O(reads outstanding)
 *   once (amortised O(1) per read; without an index it would have scanned them all).
 *   The merge index holds at most MERGE_INDEX_MAX ready requests per descriptor.
 */
import { constants as osConstants } from 'node:os';
import { errnoOf } from '../errors';
import { shared } from '../shared';
import { asSystemError, type FsBackend, type IoCallback, nodeBackend } from './dispatch';
import { statFd, writesAppend } from './fdinfo';
import { ReadyHeap } from './heap';
import { Poller } from './poll';
import { Lane } from './lane';
import { BLOCKED, DONE, IN_FLIGHT, OP_FDATASYNC, OP_FSYNC, OP_READ, OP_WRITE, READY, type Request } from './request';
import { traceCancel, traceComplete, traceDispatch, traceEnqueue } from './trace';

const { EBADF, ECANCELED, EIO, EOVERFLOW } = osConstants.errno;

/** libuv's pool size as this process configured it (UV_THREADPOOL_SIZE, default 4). */
export function threadPoolSize(): number {
  const n = Number(process.env['UV_THREADPOOL_SIZE']);
  return Number.isInteger(n) && n > 0 ? Math.min(n, 1024) : 4;
}

/**
 * Whether libuv runs file system requests through io_uring (Linux, UV_USE_IO_URING=1;
 * off by default since Node 20.3), as libuv decides it: atoi() of the variable.
 */
export const IO_URING = process.platform === 'linux' && Number.parseInt(process.env['UV_USE_IO_URING'] ?? '0', 10) > 0;

/** Defaults of the tunables (aio_init). */
export const DEFAULTS = Object.freeze({
  /**
   * System calls in the thread pool at once: 16 per libuv thread (64 with the default
   * pool). Enough that libuv's workers find the next request queued instead of
   * sleeping until the event loop hands them one; few enough (with maxInFlightBytes)
   * that a foreign job (dns.lookup, crypto, zlib) waits well under 1 ms for a thread.
   * Measured in the README's performance section.
   */
  maxInFlight: Math.min(16 * threadPoolSize(), 1024),
  /**
   * Bytes in the thread pool at once, beyond the first libuv-pool-size calls (which
   * always go): large requests queue here, cancelable, instead of in libuv.
   */
  maxInFlightBytes: 4 * 1024 * 1024,
  /** Outstanding (accepted, not complete) requests: AIO_MAX. */
  maxOutstanding: 512,
  /** Entries of one lio_listio: AIO_LISTIO_MAX. */
  listioMax: 256,
  /** glibc's aio_idle_time (seconds); kept for aio_init's contract, the thread pool is libuv's. */
  idleTime: 1,
  /** glibc's aio_num: the expected number of simultaneous requests (a sizing hint). */
  num: 64,
  /** Most requests merged into one system call (1 turns merging off). */
  mergeMaxRequests: 64,
  /** Most bytes one merged system call transfers. */
  mergeMaxBytes: 1 << 20,
  /**
   * Microseconds the event loop keeps polling after each dispatch or completion while
   * calls are in the thread pool, instead of sleeping until a worker wakes it (poll.ts).
   * A page-cached 4 KiB read completes within 20-40 us of its dispatch, and waking a
   * sleeping event loop costs 30-50 us here; 200 us also covers a fast SSD's read.
   * The CPU it can spend is at most this much per event. 0 under io_uring: a read
   * from the page cache completes while it is being submitted, so there is no
   * wake-up to save, and the kernel threads that do buffered writes need the CPU
   * (4 KiB writes at depth 1 and 16: 20-50% slower polling).
   */
  pollWindowMicros: IO_URING ? 0 : 200,
  /**
   * Polling stops while more than this many bytes are in the thread pool: there the
   * copy dominates (~120 us per MiB from the page cache) and the wake-up is a small
   * part of it, while the spinning loop would compete with the workers for the CPU.
   */
  pollMaxBytes: 256 * 1024,
});

/** What {@link Engine.cancel} found. */
export const CANCELED = 0;
export const NOT_CANCELED = 1;
export const ALL_DONE = 2;

/** Counts readable at any time. */
export interface EngineCounters {
  /** Requests accepted since start. */
  readonly submitted: number;
  /** Requests completed (including canceled and failed ones). */
  readonly completed: number;
  /** Requests canceled while queued. */
  readonly canceled: number;
  /** Requests that completed with an error other than ECANCELED. */
  readonly failed: number;
  /** Requests that shared a system call with an adjacent one (counted per request). */
  readonly merged: number;
  /** Accepted and waiting (blocked or ready). */
  readonly queued: number;
  /** In the thread pool. */
  readonly inFlight: number;
  /** The in-flight cap in force (aio_init's aio_threads): system calls in the thread pool at most. */
  readonly inFlightCap: number;
}

/** The request queue. There is one per process ({@link engine}); tests may build their own. */
export class Engine {
  /** Where requests are dispatched. Replace it only while the engine is idle. */
  backend: FsBackend = nodeBackend;

  maxInFlight: number = DEFAULTS.maxInFlight;
  maxInFlightBytes: number = DEFAULTS.maxInFlightBytes;
  maxOutstanding: number = DEFAULTS.maxOutstanding;
  listioMax: number = DEFAULTS.listioMax;
  idleTime: number = DEFAULTS.idleTime;
  num: number = DEFAULTS.num;
  mergeMaxRequests: number = DEFAULTS.mergeMaxRequests;
  mergeMaxBytes: number = DEFAULTS.mergeMaxBytes;

  /** Accepted and not yet complete. */
  outstanding = 0;
  /** Requests in the thread pool. */
  inFlight = 0;
  /** System calls in the thread pool (a merged call carries several requests): what maxInFlight caps. */
  #calls = 0;
  /** Bytes the requests in the thread pool transfer: what maxInFlightBytes caps. */
  #bytesInFlight = 0;
  /** libuv's pool size: that many calls go whatever their size. */
  readonly #poolSize = threadPoolSize();
  submitted = 0;
  completed = 0;
  canceled = 0;
  failed = 0;
  merged = 0;
  /** @internal merged groups sent to the pool from the completion of their descriptor's previous call (streams; for tests and tools). */
  handOvers = 0;

  readonly #heap = new ReadyHeap();
  /** Polls for at most this many bytes in the thread pool (see {@link DEFAULTS}). */
  pollMaxBytes: number = DEFAULTS.pollMaxBytes;
  /** Keeps the event loop polling while small calls are in the thread pool: see poll.ts. */
  readonly #poller = new Poller(() => this.#worthPolling(), DEFAULTS.pollWindowMicros);
  readonly #lanes = new Map<number, Lane>();
  /** Lanes with a parked group (see streams in the design notes). */
  readonly #parkedLanes = new Set<Lane>();
  /** Descriptors being closed by aio_close: new requests fail as on a closed descriptor. */
  readonly #closing = new Set<number>();
  #seq = 0;
  /** Advanced whenever the engine is entered from outside; see the design notes. */
  #epoch = 0;
  #deferred: Array<() => void> = [];
  #flushScheduled = false;
  /** True while a thread-pool completion is being handled: the event loop called us, no library call is on the stack. */
  #inCompletion = false;

  constructor() {
    // Polling stopped for want of events (a slow device): parked groups stop waiting for their stream's call.
    this.#poller.onExpire = () => this.#sendAllParked();
  }

  /** Microseconds the event loop polls after each dispatch or completion (0 = never); see poll.ts. */
  get pollWindowMicros(): number {
    return this.#poller.windowUs;
  }

  set pollWindowMicros(us: number) {
    this.#poller.windowUs = us;
  }

  /** Whether the event loop is being kept polling now (a poll immediate is pending). */
  get polling(): boolean {
    return this.#poller.polling;
  }

  /** A snapshot of the counts. */
  get counters(): EngineCounters {
    return {
      submitted: this.submitted,
      completed: this.completed,
      canceled: this.canceled,
      failed: this.failed,
      merged: this.merged,
      queued: this.outstanding - this.inFlight,
      inFlight: this.inFlight,
      inFlightCap: this.maxInFlight,
    };
  }

  /** Whether `n` more requests fit under the outstanding limit. */
  hasRoom(n = 1): boolean {
    return this.outstanding + n <= this.maxOutstanding;
  }

  /**
   * The lane of `fd`, classifying the descriptor when it has no outstanding requests.
   *
   * @returns the lane (not yet registered when new: {@link submit} registers it), or
   * a positive errno: EBADF when `fd` is not open or is being closed by aio_close.
   */
  laneFor(fd: number): Lane | number {
    this.#epoch++;
    if (this.#closing.has(fd)) return EBADF;
    const existing = this.#lanes.get(fd);
    if (existing !== undefined) return existing;
    if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) return EBADF;
    const facts = statFd(this.backend, fd);
    if (typeof facts === 'number') return facts;
    const lane = new Lane(fd, facts);
    lane.verifiedEpoch = this.#epoch;
    const prev = this.#retired.get(fd);
    if (prev !== undefined && prev.dev === lane.dev && prev.ino === lane.ino) lane.learnFrom(prev);
    return lane;
  }

  /**
   * Lanes that emptied, by descriptor, the most recent last (at most RETIRED_MAX): a
   * new lane for the same file takes over what they learned about merging.
   */
  readonly #retired = new Map<number, Lane>();

  #retire(lane: Lane): void {
    const retired = this.#retired;
    retired.delete(lane.fd);
    retired.set(lane.fd, lane);
    if (retired.size > RETIRED_MAX) retired.delete(retired.keys().next().value as number);
  }

  /** Requests accepted on `fd` and not yet complete (queued or in the thread pool). */
  outstandingOn(fd: number): number {
    return this.#lanes.get(fd)?.count ?? 0;
  }

  /**
   * As {@link laneFor}, for calls that must fail at once when `fd` is not open
   * (aio_fsync, aio_cancel): laneFor trusts a descriptor that still has requests
   * outstanding, so one closed behind the library's back since is found here with one
   * fstat (glibc's fcntl(F_GETFL) check). Returns the lane, or the errno (EBADF).
   */
  openLane(fd: number): Lane | number {
    const lane = this.laneFor(fd);
    // A new lane was classified by laneFor's own fstat just now.
    if (typeof lane === 'number' || this.#lanes.get(fd) !== lane) return lane;
    const facts = statFd(this.backend, fd);
    return typeof facts === 'number' ? facts : lane;
  }

  /** Whether `fd` is open (and not being closed by aio_close). */
  isOpen(fd: number): boolean {
    return typeof this.openLane(fd) !== 'number';
  }

  /**
   * Accepts `req` on `lane` (from {@link laneFor}, in the same synchronous call).
   * The caller has checked {@link hasRoom}. The request may complete at once (a
   * position Node cannot address), but its done hook then still runs only after
   * this call has queued it: completion is never reported inside the submitting
   * call by the faces, which defer notifications.
   */
  submit(req: Request, lane: Lane): void {
    req.seq = ++this.#seq;
    this.submitted++;
    traceEnqueue(req);
    if (lane.seekable && req.op <= OP_WRITE && typeof req.pos === 'bigint' && req.pos > BigInt(Number.MAX_SAFE_INTEGER)) {
      // fs.write, fs.writev and fs.readv treat a bigint position as "current position"
      // on Node 20; only fs.read honours it. Past 2^53 there is no exact number either.
      if (req.op === OP_WRITE || req.iov !== null) return this.#completeUnqueued(req, EOVERFLOW);
    }
    this.outstanding++;
    if (lane.count === 0) this.#lanes.set(lane.fd, lane);
    if (lane.provisional !== null) this.#settleFlags(lane);
    if (!lane.seekable || req.isBarrier || req.pos === null) {
      req.gated = true;
    } else if (req.op === OP_WRITE) {
      if (lane.appends === undefined && lane.count === 0) {
        // Alone on its descriptor: whether it appends matters only to requests that come
        // while it is outstanding. Gated, it waits for nothing and they wait for it, as
        // for O_APPEND; the flags (open, read and close of /proc/self/fdinfo) are read
        // when a second request needs them, not for every write at queue depth 1.
        req.gated = true;
        lane.provisional = req;
      } else {
        if (lane.appends === undefined) lane.appends = writesAppend(this.backend, lane.fd);
        if (lane.appends) req.gated = true;
        else this.#findHazards(req, lane);
      }
    } else if (lane.writes > 0) {
      this.#findHazards(req, lane);
    }
    lane.add(req);
    req.mergeable = canMerge(req);
    if (req.gated ? lane.head === req : req.blockers === 0) this.#makeReady(req);
    if (!lane.seekable) this.#release();
    else if (this.#held() && req.mergeable && req.state === READY && this.#plugFull(req, lane)) this.#pump();
    else this.#pumpUnlessHeld();
  }

  /**
   * Counts `req` (ready, mergeable, submitted while dispatch is held) into its lane's
   * run of adjacent held submissions: true when the run reaches PLUG_FLUSH, which then
   * goes out at once (and a new run starts).
   */
  #plugFull(req: Request, lane: Lane): boolean {
    const start = req.pos as number;
    lane.heldRun = start === lane.heldRunEnd ? lane.heldRun + 1 : 1;
    lane.heldRunEnd = start + req.len;
    if (lane.heldRun < PLUG_FLUSH) return false;
    lane.heldRun = 0;
    return true;
  }

  /**
   * A second request came to a lane whose only write was gated for want of its flags:
   * read them now; if the descriptor does not append, that write becomes an ordinary
   * positioned one (nothing has looked it up yet), mergeable if it is still ready.
   */
  #settleFlags(lane: Lane): void {
    const w = lane.provisional as Request;
    lane.provisional = null;
    lane.appends = writesAppend(this.backend, lane.fd);
    if (lane.appends) return;
    lane.ungate(w);
    w.mergeable = canMerge(w);
    if (w.state === READY) this.#indexForMerge(w);
  }

  /**
   * Accepts `req` as already failed with `error` (for instance EBADF on a descriptor
   * that is not open): it never reaches the queue, but completes like any other
   * request, exactly once, through its done hook.
   */
  submitFailed(req: Request, error: number): void {
    req.seq = ++this.#seq;
    this.submitted++;
    traceEnqueue(req);
    this.#completeUnqueued(req, error);
  }

  /**
   * Cancels `req` if it is still queued.
   *
   * @returns CANCELED (it completed with ECANCELED), NOT_CANCELED (it is in the thread
   * pool) or ALL_DONE (it had already completed).
   */
  cancel(req: Request): number {
    this.#epoch++;
    this.#release();
    if (req.state === DONE) return ALL_DONE;
    if (req.state === IN_FLIGHT) return NOT_CANCELED;
    this.#cancelQueued(req);
    this.#pump();
    return CANCELED;
  }

  /**
   * Cancels each of `reqs` that is still queued, then dispatches: none of them can
   * slip into the thread pool because canceling another unblocked it.
   */
  cancelAll(reqs: readonly Request[]): void {
    this.#epoch++;
    this.#release();
    for (const r of reqs) if (r.state !== DONE && r.state !== IN_FLIGHT) this.#cancelQueued(r);
    this.#pump();
  }

  /**
   * Cancels every queued request on `fd`, oldest first.
   *
   * @returns how many were canceled and how many are still in the thread pool.
   */
  cancelFd(fd: number): { canceled: number; inFlight: number } {
    this.#epoch++;
    this.#release();
    return this.#cancelQueuedOn(fd);
  }

  #cancelQueuedOn(fd: number): { canceled: number; inFlight: number } {
    const lane = this.#lanes.get(fd);
    if (lane === undefined) return { canceled: 0, inFlight: 0 };
    const queued: Request[] = [];
    for (let r = lane.head; r !== null; r = r.laneNext) if (r.state !== IN_FLIGHT) queued.push(r);
    const inFlight = lane.inFlight;
    for (const r of queued) this.#cancelQueued(r);
    this.#pumpUnlessHeld();
    return { canceled: queued.length, inFlight };
  }

  /**
   * aio_close's engine half: cancels what is queued on `fd`, waits for what is in the
   * thread pool, then closes the descriptor. From the call on, new requests on `fd`
   * fail as on a closed descriptor.
   *
   * @returns a promise of 0, or a positive errno (EBADF when `fd` is not open or is
   * already being closed; close(2)'s own error otherwise).
   */
  close(fd: number): Promise<number> {
    const lane = this.laneFor(fd);
    if (typeof lane === 'number') return Promise.resolve(lane);
    this.#closing.add(fd);
    lane.closing = true;
    // What is held is still queued: canceled, not dispatched (nothing runs after the close is called).
    this.#cancelQueuedOn(fd);
    return new Promise<number>((resolve) => {
      const done = (error: number): void => {
        this.#closing.delete(fd);
        this.#lanes.delete(fd);
        resolve(error);
      };
      const finish = (): void => {
        // If the number was closed and reused behind our back, the file it names now is
        // someone else's: refuse rather than close it.
        if (!lane.names(statFd(this.backend, fd))) return done(EBADF);
        this.backend.close(fd, (err) => {
          this.#epoch++;
          done(err === null ? 0 : errnoOf(err));
        });
      };
      if (lane.count === 0) finish();
      else lane.onDrain = finish;
    });
  }

  /**
   * Runs `fn` later on the event loop, after every function deferred before it. Used
   * by the faces for every user-visible notification, so that none runs inside a
   * call of the library and all run in completion order. A function that throws
   * surfaces as an uncaught exception; the ones after it still run.
   */
  defer(fn: () => void, settles = false): void {
    // A function that settles a Promise of the library ends its batch: the code that
    // awaits it runs (microtasks) before the next deferred notification, which could
    // otherwise overwrite errno first.
    if (settles) this.#deferred.push(fn, BATCH_END);
    else this.#deferred.push(fn);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /**
   * Runs `fn` as soon as the rules allow: at once when called while a thread-pool
   * completion is being handled (the event loop called the engine; no call of the
   * library is on the stack) and nothing deferred is waiting ahead of it; otherwise
   * through {@link defer}. Either way never inside a call of the library, and in
   * completion order. A function that throws surfaces as an uncaught exception
   * without disturbing the engine.
   */
  notify(fn: () => void): void {
    if (!this.#inCompletion || this.#deferred.length > 0) {
      this.defer(fn);
      return;
    }
    // User code runs in `fn`: a library call it makes (aio_cancel, aio_close,
    // lio_listio ...) is a call of the library, and notifications of what that call
    // completes must wait for the event loop, not run inside it.
    this.#inCompletion = false;
    try {
      fn();
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    } finally {
      this.#inCompletion = true;
    }
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    this.#flushing = true;
    try {
      this.#runDeferred();
    } finally {
      // The hold lasts until the microtasks queued so far have run: code awaiting a
      // Promise the batch settled (aio_suspend, lio_listio) resubmits inside it.
      queueMicrotask(this.#endFlush);
    }
  };

  readonly #endFlush = (): void => {
    this.#flushing = false;
    this.#pumpUnlessHeld();
  };

  #runDeferred(): void {
    const batch = this.#deferred;
    this.#deferred = [];
    for (let i = 0; i < batch.length; i++) {
      if (batch[i] === BATCH_END) {
        if (i + 1 < batch.length) {
          this.#deferred = batch.slice(i + 1).concat(this.#deferred);
          this.#flushScheduled = true;
          setImmediate(this.#flush);
        }
        return;
      }
      try {
        (batch[i] as () => void)();
      } catch (err) {
        // Keep the rest, in order, for the next turn; then let the error surface.
        this.#deferred = batch.slice(i + 1).concat(this.#deferred);
        if (this.#deferred.length > 0 && !this.#flushScheduled) {
          this.#flushScheduled = true;
          setImmediate(this.#flush);
        }
        throw err;
      }
    }
  }

  /** Applies a new in-flight cap; raising it dispatches at once (or when the current hold ends). */
  setMaxInFlight(n: number): void {
    this.maxInFlight = n;
    this.#pumpUnlessHeld();
  }

  /** Makes `req` wait for every earlier request of `lane` it could observe (the lane's hazard index finds them). */
  #findHazards(req: Request, lane: Lane): void {
    lane.forEachHazard(req, waitFor);
  }

  #makeReady(req: Request): void {
    req.state = READY;
    this.#heap.push(req);
    this.#indexForMerge(req);
  }

  /** Lists a ready request in its lane's merge index when it can merge. */
  #indexForMerge(req: Request): void {
    if (!req.mergeable || this.mergeMaxRequests <= 1) return;
    const lane = req.lane as Lane;
    const start = req.pos as number;
    const end = start + req.len;
    const continues = start === lane.lastEnd || end === lane.lastStart;
    lane.lastStart = start;
    lane.lastEnd = end;
    if (lane.mergeOff) {
      // Merging is off on this descriptor: back on when requests come adjacent, or to look again.
      if (!continues && ++lane.mergeSkipped < MERGE_RETRY) return;
      lane.mergeOff = false;
      lane.mergeSkipped = lane.mergeTries = lane.mergeHits = 0;
    }
    // A bounded index stays in the CPU's caches: past MERGE_INDEX_MAX ready requests
    // on one descriptor, the others are simply not merged.
    if (lane.indexedCount(req.op) < MERGE_INDEX_MAX) lane.index(req);
  }

  /** From a thread-pool completion until this event-loop turn's check phase: see the design notes. */
  #window = false;
  #windowScheduled = false;
  /** True while deferred notifications run: their resubmissions go out together afterwards. */
  #flushing = false;

  #held(): boolean {
    return this.#window || this.#flushing;
  }

  /** Called on every thread-pool completion: holds dispatch until this turn's check phase. */
  #holdDispatch(): void {
    this.#window = true;
    this.#poller.kick();
    if (this.#windowScheduled) return;
    this.#windowScheduled = true;
    setImmediate(this.#endWindow);
  }

  readonly #endWindow = (): void => {
    this.#windowScheduled = false;
    this.#window = false;
    // Notifications are due in this check phase too: one burst after them (and what
    // they resubmit) instead of one before and one after, each confirming the
    // descriptor's identity anew (an fstat) since user code runs in between.
    if (this.#flushScheduled) return;
    this.#pumpUnlessHeld();
  };

  /**
   * Ends the current hold (see the design notes) and dispatches everything ready now,
   * as if dispatch had never been held. For tests and tools that swap the backend or
   * need "in the thread pool when this returns"; the faces never need it.
   */
  dispatchHeld(): void {
    this.#sendAllParked();
    this.#release();
  }

  /** Dispatches what is ready, unless dispatch is held (see the design notes). */
  #pumpUnlessHeld(): void {
    if (!this.#held()) this.#pump();
  }

  /** Ends the hold now and dispatches everything ready (before a cancel, or for a non-seekable descriptor). */
  #release(): void {
    this.#window = false;
    this.#pump();
  }

  #pump(): void {
    while (this.#hasSlot()) {
      const req = this.#heap.pop();
      if (req === undefined) return;
      this.#dispatch(req);
    }
  }

  /** Whether the in-flight caps let one more call into the thread pool. */
  #hasSlot(): boolean {
    return this.#calls < this.maxInFlight && (this.#calls < this.#poolSize || this.#bytesInFlight < this.maxInFlightBytes);
  }

  #dispatch(req: Request): void {
    const lane = req.lane as Lane;
    if (req.indexed) lane.unindex(req);
    // Confirm the descriptor's identity whenever user code may have run since the last
    // check: no request may run against a number that now names another file.
    if (!this.#verify(lane)) {
      // Closed behind our back, perhaps reopened as another file: never touch it.
      this.#complete(req, EBADF, -1);
      return;
    }
    // Nothing indexed for this op (merging off on the lane, or no other request ready): no lookups.
    const group = req.mergeable && lane.indexedCount(req.op) > 0 ? this.#gather(req, lane) : null;
    if (req.mergeable) countMerge(lane, group !== null);
    if (group !== null) {
      if (lane.streamCalls > 0 && this.#poller.polling && this.#park(group, lane)) return;
      return this.#dispatchGroup(group, lane);
    }
    this.#calls++;
    this.#poller.kick();
    this.#start(req, lane);
    this.#issue(req, lane, this.#callbackFor(req, true));
  }

  /** The backend callback of one call for `req`; a second call of it is ignored. */
  #callbackFor(req: Request, release: boolean): IoCallback {
    // One closure, not once() around another: this is allocated for every call.
    let called = false;
    return (err, bytes) => {
      if (called) return;
      called = true;
      this.#finish(req, err === null ? 0 : errnoOf(err), bytes, release);
    };
  }

  /** Writes what a short piece of a whole write left, from where it stopped. */
  #continue(req: Request, lane: Lane, release: boolean): void {
    if (!this.#verify(lane)) return this.#finish(req, EBADF, -1, release);
    const rest: ArrayBufferView[] = [];
    let skip = req.partial;
    for (const v of req.iov ?? [req.buf as ArrayBufferView]) {
      const n = v === req.buf ? req.len : v.byteLength;
      if (skip >= n) {
        skip -= n;
        continue;
      }
      rest.push(new Uint8Array(v.buffer, v.byteOffset + skip, n - skip));
      skip = 0;
    }
    const cb = this.#callbackFor(req, release);
    guarded(cb, () => this.backend.writev(lane.fd, rest, positionOf(req, lane, req.partial) as number | null, cb));
  }

  /** Whether `lane`'s descriptor still names its file (one fstat per engine entry). */
  #verify(lane: Lane): boolean {
    if (lane.verifiedEpoch === this.#epoch) return true;
    if (!lane.names(statFd(this.backend, lane.fd))) return false;
    lane.verifiedEpoch = this.#epoch;
    return true;
  }

  /** Marks `req` as handed to the thread pool. */
  #start(req: Request, lane: Lane): void {
    req.state = IN_FLIGHT;
    if (req.trace !== null) traceDispatch(req.trace);
    this.inFlight++;
    lane.inFlight++;
    this.#bytesInFlight += req.len;
  }

  /** Hands `req` alone to the backend (a backend that throws is guarded against, as in {@link guarded}). */
  #issue(req: Request, lane: Lane, cb: IoCallback): void {
    // guarded() written out: no closure for every call.
    try {
      this.#call(req, lane, cb);
    } catch (err) {
      process.nextTick(cb, asSystemError(err), 0);
    }
  }

  #call(req: Request, lane: Lane, cb: IoCallback): void {
    const b = this.backend;
    const fd = lane.fd;
    const pos = positionOf(req, lane, 0);
    switch (req.op) {
      case OP_READ:
        if (req.iov !== null) b.readv(fd, req.iov, pos as number | null, cb);
        else b.read(fd, req.buf as ArrayBufferView, req.len, pos, cb);
        break;
      case OP_WRITE:
        if (req.iov !== null) b.writev(fd, req.iov, pos as number | null, cb);
        else b.write(fd, req.buf as ArrayBufferView, req.len, pos as number | null, cb);
        break;
      case OP_FSYNC:
        b.fsync(fd, cb);
        break;
      case OP_FDATASYNC:
        b.fdatasync(fd, cb);
        break;
    }
  }

  /**
   * Holds `group` back until a merged call of `lane` completes (see streams in the
   * design notes): it becomes the lane's parked group, or joins the end of it when it
   * continues it within the merge limits. Returns false when it can do neither (it
   * then goes to the pool as usual).
   */
  #park(group: Request[], lane: Lane): boolean {
    const held = lane.parked;
    if (held === null) {
      lane.parked = group;
      this.#parkedLanes.add(lane);
      return true;
    }
    const last = held[held.length - 1] as Request;
    const first = group[0] as Request;
    if (first.op !== last.op || first.pos !== (last.pos as number) + last.len) return false;
    if (held.length + group.length > this.mergeMaxRequests) return false;
    if (bytesOf(held) + bytesOf(group) > this.mergeMaxBytes) return false;
    for (const m of group) held.push(m);
    return true;
  }

  /**
   * Sends `lane`'s parked group to the thread pool now. From the completion of one of
   * the lane's merged calls this is the hand-over: before that call's requests are
   * completed, so the worker that just finished takes it at once. Without a free slot
   * (or when the descriptor no longer names its file) the group becomes ready again
   * and is dispatched as usual. Returns whether it went.
   */
  #sendParked(lane: Lane): boolean {
    const group = this.#takeParked(lane);
    if (this.#hasSlot() && this.#verify(lane)) {
      this.#dispatchGroup(group, lane);
      return true;
    }
    for (const m of group) this.#makeReady(m);
    return false;
  }

  /** Makes `lane`'s parked group ready again (a cancel of one of its requests: the rest may no longer be adjacent). */
  #unpark(lane: Lane): void {
    for (const m of this.#takeParked(lane)) this.#makeReady(m);
  }

  /** Takes `lane`'s parked group off it. */
  #takeParked(lane: Lane): Request[] {
    const group = lane.parked as Request[];
    lane.parked = null;
    this.#parkedLanes.delete(lane);
    return group;
  }

  /** Sends every parked group to the pool (polling stopped, or dispatchHeld), then dispatches what else is ready. */
  #sendAllParked(): void {
    if (this.#parkedLanes.size === 0) return;
    this.#epoch++;
    for (const lane of this.#parkedLanes) this.#sendParked(lane);
    this.#pumpUnlessHeld();
  }

  /**
   * The ready requests that can share `req`'s system call: same op, byte ranges that
   * continue one another without gap or overlap, within the merge limits. They are
   * taken out of the heap. Returns them in file order, or null when there are none.
   */
  #gather(req: Request, lane: Lane): Request[] | null {
    const op = req.op;
    const maxN = this.mergeMaxRequests;
    const maxBytes = this.mergeMaxBytes;
    let bytes = req.len;
    let end = (req.pos as number) + req.len;
    let after: Request[] | null = null;
    let n = 1;
    for (let s = lane.startingAt(op, end); s !== undefined && n < maxN && bytes + s.len <= maxBytes; s = lane.startingAt(op, end)) {
      lane.unindex(s);
      this.#heap.remove(s);
      (after ??= []).push(s);
      n++;
      bytes += s.len;
      end += s.len;
    }
    let start = req.pos as number;
    let before: Request[] | null = null;
    for (let s = lane.endingAt(op, start); s !== undefined && n < maxN && bytes + s.len <= maxBytes; s = lane.endingAt(op, start)) {
      lane.unindex(s);
      this.#heap.remove(s);
      (before ??= []).push(s);
      n++;
      bytes += s.len;
      start -= s.len;
    }
    if (n === 1) return null;
    const group = before === null ? [req] : before.reverse().concat(req);
    return after === null ? group : group.concat(after);
  }

  /**
   * One readv/writev for adjacent requests (the block layer's request merging). The
   * results are those the requests would have had alone: bytes are handed out in
   * file order; a request the call did not reach (a short transfer, or an error) is
   * then run alone, in the same thread-pool slot, for its own result. Takes that slot
   * of the in-flight cap (the caller has checked there is one).
   */
  #dispatchGroup(group: Request[], lane: Lane): void {
    this.#calls++;
    this.#poller.kick();
    const views: ArrayBufferView[] = [];
    for (const m of group) {
      this.#start(m, lane);
      if (m.trace !== null) m.trace.merged = group.length;
      if (m.iov !== null) {
        for (const v of m.iov) views.push(v);
      } else {
        const b = m.buf as ArrayBufferView;
        views.push(m.len === b.byteLength ? b : new Uint8Array(b.buffer, b.byteOffset, m.len));
      }
    }
    this.merged += group.length;
    lane.streamCalls++;
    const pos = (group[0] as Request).pos as number;
    const cb = once((err, bytes) => this.#finishGroup(group, lane, err, bytes));
    guarded(cb, () => {
      if ((group[0] as Request).op === OP_READ) this.backend.readv(lane.fd, views, pos, cb);
      else this.backend.writev(lane.fd, views, pos, cb);
    });
  }

  #finishGroup(group: Request[], lane: Lane, err: NodeJS.ErrnoException | null, bytes: number): void {
    this.#epoch++;
    this.#holdDispatch();
    lane.streamCalls--;
    // Bytes are handed out in file order: the first `reached` requests got theirs, the
    // last of them perhaps only `lastShare` (a short transfer); the rest run alone.
    let rest = err === null ? bytes : -1;
    let reached = 0;
    let lastShare = 0;
    while (reached < group.length && rest > 0) {
      lastShare = Math.min(rest, (group[reached] as Request).len);
      rest -= lastShare;
      reached++;
    }
    const cut = reached > 0 ? (group[reached - 1] as Request) : null;
    const done = group.slice(0, reached);
    const left = group.slice(reached);
    for (const m of done) {
      this.inFlight--;
      lane.inFlight--;
      this.#bytesInFlight -= m.len;
    }
    // Unless some requests must run alone in it, the call's slot is free now, and the
    // descriptor's parked group may take it before anything is completed (streams).
    if (left.length === 0) this.#calls--;
    if (lane.parked !== null && this.#sendParked(lane)) this.handOvers++;
    // Completions in submission order, as they would be with a cap of one.
    done.sort((a, b) => a.seq - b.seq);
    this.#inCompletion = true;
    try {
      for (const m of done) this.#complete(m, 0, m === cut ? lastShare : m.len);
    } finally {
      this.#inCompletion = false;
    }
    if (left.length > 0) this.#runAlone(left, 0, lane);
    else this.#pumpUnlessHeld();
  }

  /** Runs `left[i..]` one after another in the slot their merged call held. */
  #runAlone(left: Request[], i: number, lane: Lane): void {
    const m = left[i] as Request;
    const last = i === left.length - 1;
    const next = (): void => {
      if (!last) this.#runAlone(left, i + 1, lane);
    };
    if (!this.#verify(lane)) {
      this.#finish(m, EBADF, -1, last);
      return next();
    }
    // Even when aio_close came while the merged call was in the pool: this request is
    // in the thread pool (aio_cancel said AIO_NOTCANCELED), so it completes normally,
    // and the close waits for it; the descriptor is still open until then.
    const cb = this.#callbackFor(m, last);
    this.#issue(m, lane, (err, bytes) => {
      cb(err, bytes);
      next();
    });
  }

  /** Completes a request from the thread pool; `release` frees its slot and dispatches more. */
  #finish(req: Request, errno: number, bytes: number, release: boolean): void {
    this.#epoch++;
    this.#holdDispatch();
    if (req.state !== IN_FLIGHT) return;
    if (req.whole && errno === 0) {
      const total = req.partial + bytes;
      if (bytes > 0 && total < req.len) {
        req.partial = total;
        // The rest is queued work: a cancel (halted) or aio_close on the descriptor ends it here.
        if (!req.halted && !(req.lane as Lane).closing) return this.#continue(req, req.lane as Lane, release);
        errno = ECANCELED;
      } else if (bytes === 0 && req.partial < req.len) {
        // No progress at all on a piece: fail rather than spin (write(2) returned 0).
        errno = EIO;
      } else {
        bytes = total;
      }
    }
    this.inFlight--;
    (req.lane as Lane).inFlight--;
    this.#bytesInFlight -= req.len;
    const error = req.coveredError !== 0 ? req.coveredError : errno;
    this.#inCompletion = true;
    try {
      this.#complete(req, error, bytes);
    } finally {
      this.#inCompletion = false;
    }
    if (release) this.#freeSlot();
  }

  /** A call left the thread pool: its slot goes to what is ready (unless dispatch is held). */
  #freeSlot(): void {
    this.#calls--;
    this.#pumpUnlessHeld();
  }

  /**
   * Whether the event loop should poll now rather than sleep (poll.ts): calls are in
   * the thread pool, no more of them than it has threads, and at most pollMaxBytes.
   * With more calls than threads the workers always find the next one queued and
   * completions come back to back, so the loop hardly sleeps, while a spinning loop
   * would take CPU from the workers. Polling whatever the count measured no faster
   * at depth 64 (reads or writes, interleaved runs) and 5-10% slower for 4 KiB random
   * writes at depths 64 and 256 in back-to-back runs.
   */
  #worthPolling(): boolean {
    return this.#calls > 0 && this.#calls <= this.#poolSize && this.#bytesInFlight <= this.pollMaxBytes;
  }

  #cancelQueued(req: Request): void {
    if (req.state === READY) {
      const parked = (req.lane as Lane).parked;
      // Its group's others become ready again (without it they may no longer be adjacent).
      if (parked !== null && parked.includes(req)) this.#unpark(req.lane as Lane);
      this.#heap.remove(req);
    }
    if (req.indexed) (req.lane as Lane).unindex(req);
    this.canceled++;
    if (req.trace !== null) traceCancel(req.trace);
    this.#complete(req, ECANCELED, -1);
  }

  #completeUnqueued(req: Request, error: number): void {
    req.state = DONE;
    req.settle(error, -1);
    this.completed++;
    this.failed++;
    this.#report(req);
  }

  #complete(req: Request, error: number, value: number): void {
    req.state = DONE;
    req.settle(error, value);
    const lane = req.lane as Lane;
    if (req.op === OP_WRITE && error !== 0 && error !== ECANCELED) {
      for (const b of lane.barriers) if (b.seq > req.seq && b.coveredError === 0) b.coveredError = error;
    }
    const wasHead = lane.head === req;
    lane.remove(req);
    const deps = req.dependents;
    if (deps !== null) {
      req.dependents = null;
      // A dependent canceled while blocked (DONE) is skipped: its number is its result now.
      for (const d of deps) if (d.state === BLOCKED && --d.blockers === 0 && !d.gated) this.#makeReady(d);
    }
    if (wasHead) {
      const h = lane.head;
      if (h !== null && h.gated && h.state === BLOCKED) this.#makeReady(h);
    }
    if (lane.count === 0) {
      if (lane.closing) {
        const drained = lane.onDrain;
        lane.onDrain = null;
        drained?.();
      } else {
        this.#lanes.delete(lane.fd);
        this.#retire(lane);
      }
    }
    this.outstanding--;
    this.completed++;
    if (error !== 0 && error !== ECANCELED) this.failed++;
    this.#report(req);
  }

  #report(req: Request): void {
    if (req.trace !== null) traceComplete(req, req.trace, report);
    else report(req);
  }
}

/** Whether `req` may share a system call with adjacent requests: positioned, not gated, not a whole write, not empty. */
function canMerge(req: Request): boolean {
  return !req.gated && !req.whole && req.op <= OP_WRITE && typeof req.pos === 'number' && req.len > 0;
}

/** Counts a dispatch of a mergeable request on `lane`; at the end of a window, turns merging off there if it rarely paid. */
function countMerge(lane: Lane, merged: boolean): void {
  if (merged) lane.mergeHits++;
  if (++lane.mergeTries < MERGE_WINDOW) return;
  if (lane.mergeHits < MERGE_MIN_HITS) lane.mergeOff = true;
  lane.mergeTries = lane.mergeHits = 0;
}

/** Bytes the requests of `group` transfer. */
function bytesOf(group: readonly Request[]): number {
  let n = 0;
  for (const m of group) n += m.len;
  return n;
}

/** Makes `req` wait for `earlier` (a hazard edge). */
function waitFor(earlier: Request, req: Request): void {
  req.blockers++;
  earlier.addDependent(req);
}

/** Emptied lanes kept for what they learned about merging (Engine#retire). */
const RETIRED_MAX = 64;

/**
 * Most ready requests of one op on one descriptor in the merge index. Merging needs
 * only the requests near the front of the queue; a million-entry Map would cost every
 * dispatch cache misses (bench/scale.ts: dispatch at 1M queued 3.5 us, ~2 us of it
 * the index).
 */
const MERGE_INDEX_MAX = 4096;

/**
 * A run of this many adjacent requests submitted on one descriptor while dispatch is
 * held goes out at once, as one merged call (the block layer's plug flush): the thread
 * pool starts on it while the event loop still runs the callbacks that submit the
 * rest, instead of waking for one call at the end. Measured (posix-aio bench --rw read,
 * 4 KiB): depth 16 120-143k -> 165-182k IOPS, depth 32 198k -> 221k, depth 8 and 64
 * unchanged; runs of 4, 6, 10, 12 and 16 gained less or lost.
 */
export const PLUG_FLUSH = 8;

/** Dispatches of mergeable requests over which a descriptor's merge rate is judged. */
export const MERGE_WINDOW = 128;

/**
 * Merges per window below which a descriptor's ready requests are no longer indexed
 * for merging: 1 in 16. A merge saves a system call (~1-3 us of the event loop here),
 * the index costs ~0.2 us per request; below that rate it costs more than it saves.
 */
export const MERGE_MIN_HITS = 8;

/** Requests left out of a descriptor's merge index after which it is tried again. */
export const MERGE_RETRY = 1024;

/** Marks the end of a deferred batch (see {@link Engine.defer}). */
const BATCH_END = (): void => {};

/** `cb`, ignoring every call after the first (a backend that calls back twice). */
function once(cb: IoCallback): IoCallback {
  let called = false;
  return (err, bytes) => {
    if (called) return;
    called = true;
    cb(err, bytes);
  };
}

/**
 * Runs `call`, which hands work to the backend. A backend that throws instead of
 * calling back (a broken replacement; the default never does) completes it with that
 * error on the next tick, so nothing is left in flight forever.
 */
function guarded(cb: IoCallback, call: () => void): void {
  try {
    call();
  } catch (err) {
    process.nextTick(cb, asSystemError(err), 0);
  }
}

/**
 * Where `req` transfers, `skip` bytes in: null on a non-seekable descriptor or for
 * the current file position; a bigint only past 2^53 (only fs.read honours one).
 */
function positionOf(req: Request, lane: Lane, skip: number): number | bigint | null {
  const at = req.pos;
  if (!lane.seekable || at === null) return null;
  if (typeof at === 'number') return at + skip;
  const big = at + BigInt(skip);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/** Tells everyone who waits for `req`, then its face. */
function report(req: Request): void {
  const waiters = req.waiters;
  if (waiters !== null) {
    req.waiters = null;
    if (typeof waiters === 'function') waiters(req);
    else for (const w of waiters) w(req);
  }
  req.onDone(req);
}

/** The process-wide engine (shared by the ESM and CommonJS copies of the package). */
export function engine(): Engine {
  return (shared.engine ??= new Engine()) as Engine;
}

/**
 * The queue's counts, as a snapshot: how many requests were submitted, are queued or
 * in the thread pool, and how many completed, were canceled, failed or shared a
 * system call with another (merged). Both faces count here: there is one queue.
 *
 * @example
 * ```ts
 * const { queued, inFlight } = counters();
 * ```
 */
export function counters(): EngineCounters {
  return engine().counters;
}
