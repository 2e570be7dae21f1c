/**
 * The shadow model and program runner of test/reliability/properties.test.ts.
 *
 * A program is a list of operations on one engine: POSIX submissions (aio_read,
 * aio_write, aio_fsync, lio_listio), nng_file_* operations on nng_aio handles,
 * cancellations of every kind (aio_cancel of one block or of a descriptor,
 * nng_aio_cancel, nng_aio_abort, nng_aio_stop, nng timeouts), aio_suspend with short
 * timeouts, pauses, and, at the end, aio_close of some descriptors. The runner
 * executes it against
 *
 * - real temp files (`runRealProgram`), through a recording backend that wraps
 *   nodeBackend and logs every descriptor operation with a sequence number; or
 * - fake descriptors (`runHeldProgram`), through a simulating backend that wraps a
 *   HeldBackend: every operation waits until the program releases it (in a random
 *   order, possibly short or failed), and the simulated file changes only when an
 *   operation is released, so completion order is decided by the program and is
 *   replayable.
 *
 * It records every request (a "Rec"), every notification and callback, and returns
 * the list of invariant violations found (empty when the program passed). The
 * invariants are stated at the top of properties.test.ts.
 *
 * The shadow model of a file is order-aware: the expected content is the initial
 * content with every write that actually completed (learned from aio_error and
 * aio_return, or from the nng result and count) applied in submission order.
 * Overlapping writes complete in submission order (SPEC §2), and non-overlapping
 * writes commute, so that order gives the one correct result. A read that completed
 * must see exactly the writes submitted before it that overlap its range (they were
 * ordered before it; later overlapping writes were ordered after it); bytes past the
 * end of that state are holes (zeros) left by non-overlapping writes that extended
 * the file, and the count may be anything between the model's end and the request.
 */
import { constants as osConstants } from 'node:os';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  AIO_ALLDONE,
  AIO_CANCELED,
  AIO_NOTCANCELED,
  AioControlBlock,
  EAGAIN,
  EBADF,
  ECANCELED,
  EINPROGRESS,
  EINVAL,
  EIO,
  LIO_NOP,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WAIT,
  LIO_WRITE,
  NNG_DURATION_DEFAULT,
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_EAGAIN,
  NNG_ECANCELED,
  NNG_ECLOSED,
  NNG_ESTOPPED,
  NNG_ETIMEDOUT,
  O_DSYNC,
  O_SYNC,
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SI_ASYNCIO,
  aio_cancel,
  aio_close,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  errnoToNng,
  lio_listio,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_aio_set_timeout,
  nng_aio_stop,
  nng_aio_wait,
  nng_file_fdatasync,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
  type NngAio,
  type SigEvent,
} from '../../src/index';
import { type FdStat, type FsBackend, type IoCallback, nodeBackend } from '../../src/engine/dispatch';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { tmpFile, untrack } from '../helpers/files';
import { HeldBackend, type HeldOp } from '../helpers/held-backend';
import { flush, sleep } from '../helpers/mustcall';

// ---------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------

/** How a POSIX request is notified. */
export type Notify = 'thread' | 'signal' | 'none';

export interface RwSpec {
  /** File index (0..files-1). */
  f: number;
  off: number;
  len: number;
  prio: number;
  notify: Notify;
}

export type LioEntrySpec = ({ kind: 'read' | 'write' } & RwSpec) | { kind: 'nop'; f: number } | { kind: 'null' };

export type Op =
  | ({ t: 'read' } & RwSpec)
  | ({ t: 'write' } & RwSpec)
  | { t: 'fsync'; f: number; dsync: boolean; notify: Notify }
  | { t: 'lio'; wait: boolean; awaitNow: boolean; listNotify: boolean; entries: LioEntrySpec[] }
  | { t: 'nread'; h: number; f: number; off: number; lens: number[] }
  | { t: 'nwrite'; h: number; f: number; off: number; lens: number[] }
  | { t: 'nsync'; h: number; f: number; dsync: boolean }
  | { t: 'ntimeout'; h: number; ms: number }
  | { t: 'ncancel'; h: number }
  | { t: 'nabort'; h: number; code: number }
  | { t: 'nstop'; h: number; awaitIt: boolean }
  | { t: 'cancel1'; k: number }
  | { t: 'cancelfd'; f: number }
  | { t: 'suspend'; ks: number[]; ms: number }
  | { t: 'yield'; turns: number }
  | { t: 'sleep'; ms: number }
  // Held programs only: release a pending backend operation, possibly short or failed.
  | { t: 'release'; k: number; short: number | null; error: boolean; settle: boolean }
  | { t: 'close'; f: number; probe: boolean };

/** A program against real temp files. */
export interface RealProgram {
  /** aio_init({ aio_threads }) for this program. */
  threads: number;
  /** aio_init({ aio_max }) for this program. */
  max: number;
  /** Initial content of each file (bytes 0x00..0x7f). */
  files: Uint8Array[];
  ops: Op[];
  /** aio_close each file at the end (before draining). */
  close: boolean[];
  /** While the first aio_close is pending, submit on its descriptor (must fail as on a closed one). */
  submitDuringClose: boolean;
}

/** Kinds of fake descriptor of a held program. */
export type FakeKind = 'seekable' | 'stream' | 'append';

/** A program against fake descriptors with a held (simulated) backend. */
export interface HeldProgram {
  /** In-flight cap. */
  threads: number;
  /** One entry per fake descriptor: its kind and initial content. */
  files: Array<{ kind: FakeKind; initial: Uint8Array }>;
  ops: Op[];
  /** Whether releases of nng vectored writes may be short (a short write is resumed by nng_file_write). */
  nngShort: boolean;
}

/** Number of nng_aio handles a program uses. */
export const HANDLES = 3;
/** Read buffers are filled with this byte; file bytes never take it. */
export const SENTINEL = 0xff;
/** Bytes of a buffer past the request's length (never touched by the request). */
const SLACK = 3;
/** Write buffers' slack bytes. */
const WRITE_SLACK = 0xfd;
/** Each write fills its bytes with its own value, 0x80..0xfc. */
const FILL_BASE = 0x80;
const FILL_COUNT = 0xfd - FILL_BASE;
/** The signal SIGEV_SIGNAL requests use: a name with no OS handler, so only process.emit reaches it. */
export const SIGNAL_NAME = 'SIGRTMIN+3';
const SIGNAL_NUMBER = 34 + 3;
/** First fake descriptor of held programs. */
export const FAKE_FD = 1000;
/** The bytes a fake non-seekable descriptor yields to reads, in order. */
const STREAM_INPUT = Uint8Array.from({ length: 8192 }, (_, i) => (i * 7 + 3) & 0x7f);

// ---------------------------------------------------------------------------
// The shadow model of a file
// ---------------------------------------------------------------------------

/** A write as the model applies it: `n` bytes of value `fill` at `off` (or at the end, for append). */
export interface ModelWrite {
  off: number;
  n: number;
  fill: number;
}

/** The initial content with `writes` applied in order; holes are zeros. */
export function applyWrites(initial: Uint8Array, writes: readonly ModelWrite[], append = false): Uint8Array {
  let size = initial.length;
  for (const w of writes) if (w.n > 0) size = append ? size + w.n : Math.max(size, w.off + w.n);
  const out = new Uint8Array(size);
  out.set(initial);
  let end = initial.length;
  for (const w of writes) {
    if (w.n <= 0) continue;
    const at = append ? end : w.off;
    out.fill(w.fill, at, at + w.n);
    end = Math.max(end, at + w.n);
  }
  return out;
}

/** Whether two byte ranges share a byte (zero-length ranges never do, as the engine decides). */
export function overlaps(aOff: number, aLen: number, bOff: number, bLen: number): boolean {
  return aLen > 0 && bLen > 0 && aOff < bOff + bLen && bOff < aOff + aLen;
}

/**
 * Checks what a completed read of `len` bytes at `off` returned (`data`, `n` bytes)
 * against the state `state` the model gives it. Every returned byte must be the
 * model's (zero past the model's end: a hole). The count must be exactly what the
 * state holds there (`exact`), at least that (`atLeast`: non-overlapping writes may
 * have extended the file), at most that (`atMost`: a short count), or anything up
 * to `len` (`any`).
 *
 * @returns a description of the mismatch, or null.
 */
export function checkReadData(state: Uint8Array, off: number, len: number, n: number, data: Uint8Array, mode: 'exact' | 'atLeast' | 'atMost' | 'any'): string | null {
  const avail = Math.max(0, Math.min(len, state.length - off));
  if (n < 0 || n > len) return `count ${n} outside 0..${len}`;
  if (mode === 'exact' && n !== avail) return `count ${n}, model says ${avail}`;
  if (mode === 'atLeast' && n < avail) return `count ${n} below the ${avail} bytes the model holds there`;
  if (mode === 'atMost' && n > avail) return `count ${n} above the ${avail} bytes the model holds there`;
  for (let i = 0; i < n; i++) {
    const want = off + i < state.length ? (state[off + i] as number) : 0;
    if (data[i] !== want) return `byte ${off + i} is 0x${(data[i] ?? -1).toString(16)}, model says 0x${want.toString(16)}`;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

type Kind = 'read' | 'write' | 'fsync' | 'fdatasync';

interface FileState {
  index: number;
  fd: number;
  path: string | null;
  kind: FakeKind;
  initial: Uint8Array;
  /** Event sequence number at which aio_close was called, or -1. */
  closeAt: number;
  closePromise: Promise<number | undefined> | null;
}

interface HandleState {
  index: number;
  aio: NngAio;
  /** The operation whose callback is still due. */
  current: Rec | null;
  timeout: number;
  stopped: boolean;
}

interface LioGroup {
  id: number;
  entries: Rec[];
  wait: boolean;
  listNotify: boolean;
  listNotes: number;
  /** The LIO_WAIT promise's value, once settled. */
  waitResult: number | undefined;
  waitErrno: number | undefined;
  /** Expected EAGAIN: an entry was over the outstanding limit. */
  overLimit: boolean;
  /** Settled while the program ran (awaitNow) or at the drain. */
  promise: Promise<number | undefined> | null;
}

/** One request of the program: POSIX block or nng operation. */
export interface Rec {
  id: number;
  /** Submission order (model order). */
  seq: number;
  face: 'posix' | 'nng';
  kind: Kind;
  file: FileState;
  off: number;
  len: number;
  prio: number;
  fill: number;
  /** The buffers (read: filled with SENTINEL; write: fill bytes), each with slack after `lens[i]`. */
  bufs: Uint8Array[];
  lens: number[];
  cb: AioControlBlock | null;
  notify: Notify;
  /** Accepted by the library (POSIX: the call returned 0; nng: the operation was started). */
  accepted: boolean;
  /** Refused by a POSIX call (-1); never notified, never run. */
  refused: boolean;
  /** A LIO_NOP entry: never submitted. */
  nop: boolean;
  notes: number;
  noteStatus: number[];
  /** Final codes other than success that something the program did allows. */
  permits: Set<number>;
  /** The only final code allowed, when the program fixes it. */
  required: number | null;
  /** aio_cancel reported it in the thread pool: it must not end canceled. */
  mustNotCancel: boolean;
  /** Submitted after aio_close on its descriptor was called. */
  afterClose: boolean;
  handle: HandleState | null;
  cbs: number;
  cbResult: number;
  cbCount: number;
  cbBusy: boolean;
  lio: LioGroup | null;
  /** Final status: POSIX aio_error / aio_return; nng result / count. */
  err: number;
  n: number;
  /** Held programs: first dispatch and last completion event numbers, dispatch count, short release. */
  firstD: number;
  lastC: number;
  dispatches: number;
  /** Held programs: merged calls that carried it but gave it no byte (it then ran alone, or was canceled). */
  unreached: number;
  short: boolean;
  /** Held programs: completion events of this request's chunks (event number, error). */
  completions: Array<{ at: number; error: boolean }>;
  /** Event number just before the submitting call. */
  submittedAt: number;
  /** Held programs: the backend operations that carried it (an nng write resumes a short write with another), as dispatched. */
  chunks: Chunk[];
}

/** A byte range a backend operation carried for a request: dispatched at event `d`, completed at `c` (-1: never). */
interface Chunk {
  off: number;
  len: number;
  d: number;
  c: number;
  /** A merged call that gave the request no byte (it was to run alone afterwards). */
  unreached?: boolean;
}

/** The state a notification or callback hands back to its runner. */
const runnerOf = new WeakMap<object, Runner>();

/** Counts of what programs did (printed by properties.test.ts when PROP_STATS is set), to see that the generators reach the interesting states. */
export const stats: Record<string, number> = {};
function count(key: string, n = 1): void {
  stats[key] = (stats[key] ?? 0) + n;
}

/** Notifications that arrived after their program was checked: reported by the next program. */
export const lateArrivals: string[] = [];

/** The SIGEV_SIGNAL listener; install it once per test file. */
export function signalListener(name: unknown, info: unknown): void {
  const si = info as { si_signo?: unknown; si_code?: unknown; si_value?: unknown } | undefined;
  const rec = si?.si_value as Rec | undefined;
  if (rec === undefined || typeof rec !== 'object') return;
  const r = runnerOf.get(rec);
  if (r === undefined) return;
  if (name !== SIGNAL_NAME || si?.si_signo !== SIGNAL_NUMBER || si?.si_code !== SI_ASYNCIO) {
    r.violation(`rec ${rec.id}: SIGEV_SIGNAL listener got (${String(name)}, signo ${String(si?.si_signo)}, code ${String(si?.si_code)})`);
  }
  r.noteArrived(rec, 'signal');
}

function onThreadNote(value: unknown): void {
  const rec = value as Rec;
  runnerOf.get(rec)?.noteArrived(rec, 'thread');
}

function onListNote(value: unknown): void {
  const g = value as LioGroup;
  runnerOf.get(g)?.listNoteArrived(g);
}

function onNngCallback(arg: unknown): void {
  const hs = arg as HandleState;
  runnerOf.get(hs)?.callbackArrived(hs);
}

function describe(rec: Rec): string {
  const where = rec.kind === 'fsync' || rec.kind === 'fdatasync' ? '' : ` [${rec.off}, +${rec.len})`;
  return `#${rec.id} ${rec.face} ${rec.kind}${where} on file ${rec.file.index}${rec.lio !== null ? ` (lio ${rec.lio.id})` : ''}`;
}

// ---------------------------------------------------------------------------
// Backends
// ---------------------------------------------------------------------------

/** One logged backend event. */
export interface BackendEvent {
  at: number;
  ev: 'start' | 'end' | 'aio_close' | 'close';
  op: string;
  fd: number;
}

/** One request's part of a backend operation: its bytes of the call's buffers. */
interface SimMember {
  rec: Rec;
  /** Bytes of the call's buffers before this request's (file order). */
  start: number;
  len: number;
  chunk: Chunk;
}

/**
 * The requests an operation's buffers belong to, in buffer (file) order: runs of
 * consecutive buffers with one owner (`owners` maps a request's ArrayBuffers to it).
 * A single-buffer read or write carries `length` bytes of its buffer (the rest is
 * slack); a vectored call carries whole views. Each gets a chunk of the call's range,
 * dispatched at event `at`.
 */
function membersOf(owners: ReadonlyMap<ArrayBufferLike, Rec>, op: string, position: number | bigint | null, bufs: readonly ArrayBufferView[], length: number, at: number): SimMember[] {
  const base = Number(position ?? 0);
  if (op === 'read' || op === 'write') {
    const rec = bufs[0] === undefined ? null : (owners.get(bufs[0].buffer) ?? null);
    return rec === null ? [] : [{ rec, start: 0, len: length, chunk: { off: base, len: length, d: at, c: -1 } }];
  }
  const out: SimMember[] = [];
  let pos = 0;
  let cur: SimMember | null = null;
  for (const b of bufs) {
    const rec = owners.get(b.buffer) ?? null;
    if (rec !== null && cur !== null && cur.rec === rec) {
      cur.len += b.byteLength;
      cur.chunk.len += b.byteLength;
    } else if (rec !== null) {
      cur = { rec, start: pos, len: b.byteLength, chunk: { off: base + pos, len: b.byteLength, d: at, c: -1 } };
      out.push(cur);
    } else {
      cur = null;
    }
    pos += b.byteLength;
  }
  return out;
}

/** Records that a backend operation carrying `members` was dispatched (event `at`). */
function dispatched(members: readonly SimMember[], at: number): void {
  for (const m of members) {
    if (m.rec.firstD < 0) m.rec.firstD = at;
    m.rec.dispatches++;
    m.rec.chunks.push(m.chunk);
  }
  if (members.length > 1) {
    count('merged calls');
    count('merged requests', members.length);
  }
}

/**
 * Records the completion (event `end`) of a backend operation carrying `members`,
 * which failed (`failed`) or moved `n` of its `length` bytes. A single request's
 * operation completes it (with an error, or not). A merged call is resolved as the
 * engine's #finishGroup does: bytes in file order, each request getting min(rest, its
 * length); a request the call did not reach (no byte left for it, or any error: then
 * none is reached) gets nothing from it, is run alone afterwards, and answers for that
 * own call only; so the merged call's completion is never an error for anyone.
 * `shortRelease`: the program asked for a short count (held backend), which makes a
 * request that got part of its length "short".
 */
function completed(members: readonly SimMember[], end: number, failed: boolean, n: number, length: number, shortRelease: boolean): void {
  for (const m of members) m.chunk.c = end;
  if (members.length === 1) {
    const rec = (members[0] as SimMember).rec;
    rec.lastC = end;
    rec.completions.push({ at: end, error: failed });
    return;
  }
  if (members.length === 0) return;
  if (failed) count('merged calls failed');
  else if (n < length) count('merged calls short');
  let rest = failed ? -1 : n;
  for (const m of members) {
    const share = rest > 0 ? Math.min(rest, m.len) : 0;
    if (rest > 0) rest -= share;
    m.rec.lastC = end;
    m.rec.completions.push({ at: end, error: false });
    if (share === 0) {
      m.rec.unreached++;
      m.chunk.unreached = true;
      count('merged requests run alone');
    } else if (share < m.len && shortRelease) {
      m.rec.short = true;
    }
  }
}

/**
 * Invariant 6, real files: delegates to nodeBackend and logs every descriptor
 * operation (start and end) with a sequence number; the runner adds a marker when it
 * calls aio_close. Also tracks how many operations are in the thread pool at once.
 */
export class RecordingBackend implements FsBackend {
  readonly log: BackendEvent[] = [];
  inFlight = 0;
  peak = 0;
  /** ArrayBuffer of a request's buffers → its record: merged calls are attributed as on the held backend (SimBackend). */
  readonly owners = new Map<ArrayBufferLike, Rec>();
  readonly #inner: FsBackend;
  readonly #next: () => number;

  constructor(next: () => number, inner: FsBackend = nodeBackend) {
    this.#inner = inner;
    this.#next = next;
  }

  mark(ev: 'aio_close', fd: number): number {
    const at = this.#next();
    this.log.push({ at, ev, op: ev, fd });
    return at;
  }

  #wrap(op: string, fd: number, cb: IoCallback, position: number | bigint | null = null, bufs: readonly ArrayBufferView[] = [], length = 0): IoCallback {
    const isIo = op !== 'close';
    const at = this.#next();
    this.log.push({ at, ev: isIo ? 'start' : 'close', op, fd });
    if (isIo) this.peak = Math.max(this.peak, ++this.inFlight);
    const members = membersOf(this.owners, op, position, bufs, length, at);
    dispatched(members, at);
    return (err, bytes) => {
      if (isIo) this.inFlight--;
      const end = this.#next();
      this.log.push({ at: end, ev: 'end', op, fd });
      completed(members, end, err !== null, err === null ? bytes : 0, length, false);
      cb(err, bytes);
    };
  }

  read(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): void {
    this.#inner.read(fd, buf, length, position, this.#wrap('read', fd, cb, position, [buf], length));
  }
  readv(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    this.#inner.readv(fd, bufs, position, this.#wrap('readv', fd, cb, position, bufs, bufs.reduce((n, b) => n + b.byteLength, 0)));
  }
  write(fd: number, buf: ArrayBufferView, length: number, position: number | null, cb: IoCallback): void {
    this.#inner.write(fd, buf, length, position, this.#wrap('write', fd, cb, position, [buf], length));
  }
  writev(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    this.#inner.writev(fd, bufs, position, this.#wrap('writev', fd, cb, position, bufs, bufs.reduce((n, b) => n + b.byteLength, 0)));
  }
  fsync(fd: number, cb: IoCallback): void {
    this.#inner.fsync(fd, this.#wrap('fsync', fd, cb));
  }
  fdatasync(fd: number, cb: IoCallback): void {
    this.#inner.fdatasync(fd, this.#wrap('fdatasync', fd, cb));
  }
  close(fd: number, cb: IoCallback): void {
    this.#inner.close(fd, this.#wrap('close', fd, cb));
  }
  fstat(fd: number): FdStat {
    return this.#inner.fstat(fd);
  }
  fdflags(fd: number): number | null {
    return this.#inner.fdflags(fd);
  }
}

/** A simulated descriptor behind the held backend. */
interface SimFile {
  kind: FakeKind;
  mem: Uint8Array;
  /** Stream descriptors: bytes written, in completion order, and bytes consumed from STREAM_INPUT. */
  out: number[];
  consumed: number;
}

/** One operation the simulating backend saw, with the requests it belongs to. */
interface SimOp {
  held: HeldOp;
  /** The request that owns the operation's first buffer (sync operations: matched after the program). */
  rec: Rec | null;
  /**
   * The requests whose buffers the operation carries, in file order: one, or several
   * for a merged readv/writev (the engine's request merging).
   */
  members: SimMember[];
  /** For sync operations: the fd and kind, matched to a request after the program. */
  op: string;
  fd: number;
  dispatchedAt: number;
  end: number;
  error: boolean;
  /** The program released it with fewer bytes than asked. */
  shortRelease: boolean;
}

/**
 * Held programs: a backend that hands every operation to a HeldBackend (so it waits
 * for the program's release) and applies the operation's effect to a simulated file
 * when it is released: reads copy the simulated bytes into the buffers (up to the
 * released count and the end of the file), writes store the buffers' first `bytes`
 * bytes. Logs dispatches and completions with sequence numbers.
 *
 * A merged call (one readv/writev carrying adjacent requests, see src/engine/queue.ts
 * #dispatchGroup) is attributed to every request whose buffers it carries, each with
 * its own chunk of the call's range. On completion the byte count is handed out in
 * file order as the engine does (#finishGroup): a request gets min(rest, its length);
 * one the call did not reach (rest 0, or an error: then none is reached) gets nothing
 * from it: the engine runs it alone afterwards, so its result, and the error an
 * injected failure lands as, come from that own call (a second chunk). A merged
 * call's error therefore reaches no request directly.
 */
export class SimBackend implements FsBackend {
  readonly held: HeldBackend;
  readonly files = new Map<number, SimFile>();
  readonly ops: SimOp[] = [];
  readonly log: BackendEvent[] = [];
  inFlight = 0;
  peak = 0;
  /** Merged calls seen (operations carrying more than one request). */
  mergedCalls = 0;
  /** ArrayBuffer of a request's buffers → its record (each request owns its ArrayBuffers). */
  readonly owners = new Map<ArrayBufferLike, Rec>();
  readonly #next: () => number;

  constructor(held: HeldBackend, next: () => number) {
    this.held = held;
    this.#next = next;
  }

  mark(ev: 'aio_close', fd: number): number {
    const at = this.#next();
    this.log.push({ at, ev, op: ev, fd });
    return at;
  }

  #dispatch(op: string, fd: number, position: number | bigint | null, bufs: readonly ArrayBufferView[], length: number, cb: IoCallback, start: (cb: IoCallback) => void): void {
    const at = this.#next();
    this.log.push({ at, ev: 'start', op, fd });
    this.peak = Math.max(this.peak, ++this.inFlight);
    const members = membersOf(this.owners, op, position, bufs, length, at);
    const entry: SimOp = { held: null as unknown as HeldOp, rec: members[0]?.rec ?? null, members, op, fd, dispatchedAt: at, end: -1, error: false, shortRelease: false };
    dispatched(members, at);
    if (members.length > 1) this.mergedCalls++;
    this.ops.push(entry);
    start((err, bytes) => {
      this.inFlight--;
      let n = 0;
      if (err === null) n = this.#apply(op, fd, position, bufs, length, bytes);
      const end = this.#next();
      this.log.push({ at: end, ev: 'end', op, fd });
      entry.end = end;
      entry.error = err !== null;
      completed(members, end, err !== null, n, length, entry.shortRelease);
      cb(err, n);
    });
    entry.held = this.held.lastDispatched() as HeldOp;
  }

  /** Applies a released operation to the simulated file; returns the byte count the caller sees. */
  #apply(op: string, fd: number, position: number | bigint | null, bufs: readonly ArrayBufferView[], length: number, bytes: number): number {
    const f = this.files.get(fd);
    if (f === undefined || op === 'fsync' || op === 'fdatasync') return 0;
    const views = bufs.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    if (op === 'read' || op === 'readv') {
      let src: Uint8Array;
      if (f.kind === 'stream') {
        src = STREAM_INPUT.subarray(f.consumed);
      } else {
        const pos = Number(position ?? 0);
        src = pos >= f.mem.length ? new Uint8Array(0) : f.mem.subarray(pos);
      }
      const n = Math.min(bytes, length, src.length);
      if (f.kind === 'stream') f.consumed += n;
      let done = 0;
      for (const v of views) {
        if (done >= n) break;
        const k = Math.min(v.length, n - done, op === 'read' ? length : v.length);
        v.set(src.subarray(done, done + k));
        done += k;
      }
      return n;
    }
    // write / writev (a zero-length write changes nothing, not even the size)
    const n = Math.min(bytes, length);
    if (n === 0) return 0;
    const data = new Uint8Array(n);
    let done = 0;
    for (const v of views) {
      if (done >= n) break;
      const k = Math.min(v.length, n - done);
      data.set(v.subarray(0, k), done);
      done += k;
    }
    if (f.kind === 'stream') {
      for (const b of data) f.out.push(b);
      return n;
    }
    const at = f.kind === 'append' ? f.mem.length : Number(position ?? 0);
    if (at + n > f.mem.length) {
      const grown = new Uint8Array(at + n);
      grown.set(f.mem);
      f.mem = grown;
    }
    f.mem.set(data, at);
    return n;
  }

  read(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): void {
    this.#dispatch('read', fd, position, [buf], length, cb, (c) => this.held.read(fd, buf, length, position, c));
  }
  readv(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    const length = bufs.reduce((n, b) => n + b.byteLength, 0);
    this.#dispatch('readv', fd, position, bufs, length, cb, (c) => this.held.readv(fd, bufs, position, c));
  }
  write(fd: number, buf: ArrayBufferView, length: number, position: number | null, cb: IoCallback): void {
    this.#dispatch('write', fd, position, [buf], length, cb, (c) => this.held.write(fd, buf, length, position, c));
  }
  writev(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    const length = bufs.reduce((n, b) => n + b.byteLength, 0);
    this.#dispatch('writev', fd, position, bufs, length, cb, (c) => this.held.writev(fd, bufs, position, c));
  }
  fsync(fd: number, cb: IoCallback): void {
    this.#dispatch('fsync', fd, null, [], 0, cb, (c) => this.held.fsync(fd, c));
  }
  fdatasync(fd: number, cb: IoCallback): void {
    this.#dispatch('fdatasync', fd, null, [], 0, cb, (c) => this.held.fdatasync(fd, c));
  }
  close(fd: number, cb: IoCallback): void {
    this.log.push({ at: this.#next(), ev: 'close', op: 'close', fd });
    this.held.close(fd, cb);
  }
  fstat(fd: number): FdStat {
    return this.held.fstat(fd);
  }
  fdflags(fd: number): number | null {
    return this.held.fdflags(fd);
  }
}

// ---------------------------------------------------------------------------
// The runner
// ---------------------------------------------------------------------------

const ABORT_CODES = new Set<number>();
/** Codes a canceled nng operation may end with (besides those a test permits per request). */
function nngCancelLike(code: number): boolean {
  return code === NNG_ECANCELED || code === NNG_ETIMEDOUT || code === NNG_ESTOPPED || ABORT_CODES.has(code);
}

/** Waits for `p` at most `ms`; resolves to `timedOut` if it takes longer. */
async function within<T>(p: Promise<T>, ms: number, timedOut: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

const GIVE_UP_MS = 5000;

class Runner {
  readonly violations: string[] = [];
  readonly recs: Rec[] = [];
  readonly groups: LioGroup[] = [];
  readonly files: FileState[] = [];
  readonly handles: HandleState[] = [];
  /** Event sequence shared by the backend log and the runner's markers. */
  #event = 0;
  readonly next = (): number => ++this.#event;
  #seq = 0;
  #ids = 0;
  #writes = 0;
  /** The library call in progress (invariant 4), or null. */
  inCall: string | null = null;
  finished = false;
  readonly held: boolean;
  readonly pendingPromises: Array<Promise<unknown>> = [];
  recorder: RecordingBackend | SimBackend | null = null;

  constructor(held: boolean) {
    this.held = held;
  }

  violation(msg: string): void {
    this.violations.push(msg);
  }

  // ---- invariant 4 and 5: every library call goes through here ---------------

  /** Runs a synchronous library call with the in-call flag set; a throw is a violation (invariant 5). */
  lib<T>(name: string, fn: () => T): T | undefined {
    const outer = this.inCall;
    this.inCall = name;
    try {
      return fn();
    } catch (err) {
      this.violation(`${name} threw: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      return undefined;
    } finally {
      this.inCall = outer;
    }
  }

  /** Awaits a library promise; a rejection is a violation. */
  async settle<T>(name: string, p: Promise<T> | undefined, timeoutMs = GIVE_UP_MS): Promise<T | undefined> {
    if (p === undefined) return undefined;
    const TIMEOUT = Symbol('timeout');
    try {
      const v = await within<T | typeof TIMEOUT>(p, timeoutMs, TIMEOUT);
      if (v === TIMEOUT) {
        this.violation(`${name} did not settle within ${timeoutMs} ms`);
        return undefined;
      }
      return v;
    } catch (err) {
      this.violation(`${name} rejected: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      return undefined;
    }
  }

  #checkNotInCall(what: string): void {
    if (this.inCall !== null) this.violation(`${what} ran inside ${this.inCall} (invariant 4)`);
  }

  // ---- notifications (invariants 1, 2, 4) ------------------------------------

  noteArrived(rec: Rec, how: Notify): void {
    if (this.finished) {
      lateArrivals.push(`${describe(rec)}: notification (${how}) after its program was checked`);
      return;
    }
    this.#checkNotInCall(`notification of ${describe(rec)}`);
    if (how !== rec.notify) this.violation(`${describe(rec)}: notified by ${how}, asked for ${rec.notify}`);
    rec.notes++;
    if (rec.notes > 1) this.violation(`${describe(rec)}: notified ${rec.notes} times (invariant 1)`);
    const status = rec.cb === null ? -2 : aio_error(rec.cb);
    rec.noteStatus.push(status);
    if (status === EINPROGRESS) this.violation(`${describe(rec)}: notified while aio_error is still EINPROGRESS`);
  }

  listNoteArrived(g: LioGroup): void {
    if (this.finished) {
      lateArrivals.push(`lio ${g.id}: list notification after its program was checked`);
      return;
    }
    this.#checkNotInCall(`list notification of lio ${g.id}`);
    g.listNotes++;
    if (g.listNotes > 1) this.violation(`lio ${g.id}: list notified ${g.listNotes} times`);
    for (const e of g.entries) {
      if (e.nop || e.cb === null) continue;
      if (aio_error(e.cb) === EINPROGRESS) this.violation(`lio ${g.id}: list notified before entry ${describe(e)} completed`);
      if (e.notify !== 'none' && e.notes !== 1) this.violation(`lio ${g.id}: list notified before the own notification of ${describe(e)}`);
    }
  }

  callbackArrived(hs: HandleState): void {
    const rec = hs.current;
    if (this.finished) {
      lateArrivals.push(`handle ${hs.index}: callback after its program was checked`);
      return;
    }
    if (rec === null) {
      this.violation(`handle ${hs.index}: callback with no operation in flight (invariant 1)`);
      return;
    }
    this.#checkNotInCall(`callback of ${describe(rec)}`);
    rec.cbs++;
    rec.cbResult = nng_aio_result(hs.aio);
    rec.cbCount = nng_aio_count(hs.aio);
    rec.cbBusy = nng_aio_busy(hs.aio);
    hs.current = null;
  }

  // ---- building requests -------------------------------------------------------

  #rec(face: 'posix' | 'nng', kind: Kind, file: FileState, off: number, lens: number[], prio: number, notify: Notify): Rec {
    const id = ++this.#ids;
    const len = lens.reduce((a, b) => a + b, 0);
    let fill = 0;
    if (kind === 'write') fill = FILL_BASE + (this.#writes++ % FILL_COUNT);
    const bufs = lens.map((l) => {
      const b = new Uint8Array(new ArrayBuffer(l + SLACK));
      if (kind === 'write') {
        b.fill(fill, 0, l);
        b.fill(WRITE_SLACK, l);
      } else {
        b.fill(SENTINEL);
      }
      return b;
    });
    const rec: Rec = {
      id,
      seq: 0,
      face,
      kind,
      file,
      off,
      len,
      prio,
      fill,
      bufs,
      lens,
      cb: null,
      notify,
      accepted: false,
      refused: false,
      nop: false,
      notes: 0,
      noteStatus: [],
      permits: new Set(),
      required: null,
      mustNotCancel: false,
      afterClose: file.closeAt >= 0,
      handle: null,
      cbs: 0,
      cbResult: -1,
      cbCount: -1,
      cbBusy: false,
      lio: null,
      err: -1,
      n: -1,
      firstD: -1,
      lastC: -1,
      dispatches: 0,
      unreached: 0,
      short: false,
      completions: [],
      submittedAt: -1,
      chunks: [],
    };
    runnerOf.set(rec, this);
    if (this.recorder !== null) for (const b of bufs) this.recorder.owners.set(b.buffer, rec);
    this.recs.push(rec);
    return rec;
  }

  #sigevent(rec: Rec): SigEvent {
    if (rec.notify === 'thread') return { sigev_notify: SIGEV_THREAD, sigev_notify_function: onThreadNote, sigev_value: rec };
    if (rec.notify === 'signal') return { sigev_notify: SIGEV_SIGNAL, sigev_signo: SIGNAL_NAME, sigev_value: rec };
    return { sigev_notify: SIGEV_NONE };
  }

  #block(rec: Rec, opcode: number): AioControlBlock {
    const fields = {
      aio_fildes: rec.file.fd,
      aio_sigevent: this.#sigevent(rec),
      aio_lio_opcode: opcode,
    };
    const cb =
      rec.kind === 'read' || rec.kind === 'write'
        ? new AioControlBlock({ ...fields, aio_offset: rec.off, aio_buf: rec.bufs[0] as Uint8Array, aio_nbytes: rec.len, aio_reqprio: rec.prio })
        : new AioControlBlock(fields);
    rec.cb = cb;
    return cb;
  }

  /** Whether the engine is at its outstanding limit (the next submission must be EAGAIN). */
  #full(): boolean {
    return !engine().hasRoom();
  }

  #file(f: number): FileState {
    return this.files[f % this.files.length] as FileState;
  }

  #open(file: FileState): boolean {
    return file.closeAt < 0;
  }

  // ---- executing operations ---------------------------------------------------------

  async exec(op: Op): Promise<void> {
    count(`op ${op.t}`);
    switch (op.t) {
      case 'read':
      case 'write':
        return this.#rw(op.t, op);
      case 'fsync':
        return this.#fsync(op.f, op.dsync, op.notify);
      case 'lio':
        return this.#lio(op);
      case 'nread':
      case 'nwrite':
        return this.#nngFile(op.t === 'nread' ? 'read' : 'write', op.h, op.f, op.off, op.lens);
      case 'nsync':
        return this.#nngFile(op.dsync ? 'fdatasync' : 'fsync', op.h, op.f, 0, []);
      case 'ntimeout': {
        const hs = this.handles[op.h % this.handles.length] as HandleState;
        this.lib('nng_aio_set_timeout', () => nng_aio_set_timeout(hs.aio, op.ms));
        hs.timeout = op.ms;
        return;
      }
      case 'ncancel':
      case 'nabort':
      case 'nstop':
        return this.#nngCancel(op);
      case 'cancel1':
        return this.#cancel1(op.k);
      case 'cancelfd':
        return this.#cancelFd(op.f);
      case 'suspend':
        return this.#suspend(op.ks, op.ms);
      case 'yield':
        return op.turns === 0 ? Promise.resolve() : flush(op.turns);
      case 'sleep':
        return this.held ? flush(1) : sleep(op.ms);
      case 'release':
        return this.#release(op);
      case 'close':
        return this.#close(this.#file(op.f), op.probe);
    }
  }

  async #rw(kind: 'read' | 'write', spec: RwSpec): Promise<void> {
    const file = this.#file(spec.f);
    const rec = this.#rec('posix', kind, file, spec.off, [spec.len], spec.prio, spec.notify);
    const cb = this.#block(rec, LIO_NOP);
    const full = this.#full();
    rec.seq = ++this.#seq;
    rec.submittedAt = this.next();
    const rc = this.lib(`aio_${kind}`, () => (kind === 'read' ? aio_read(cb) : aio_write(cb)));
    this.#accepted(rec, rc, full);
    // SPEC §2: a descriptor that is not open (or being closed) is accepted and fails later with EBADF.
    if (rec.afterClose && rec.accepted) rec.required = EBADF;
  }

  /** Records the outcome of a POSIX submission: accepted (0) or refused (-1/EAGAIN exactly when full). */
  #accepted(rec: Rec, rc: number | undefined, full: boolean): void {
    if (rc === 0) {
      rec.accepted = true;
      if (full) this.violation(`${describe(rec)}: accepted although the outstanding limit (${engine().maxOutstanding}) was reached`);
    } else {
      rec.refused = true;
      if (rc === -1) {
        const e = errno();
        if (!full || e !== EAGAIN) this.violation(`${describe(rec)}: refused with -1/${e} (full: ${full})`);
      } else if (rc !== undefined) {
        this.violation(`${describe(rec)}: submission returned ${rc}`);
      }
    }
  }

  async #fsync(f: number, dsync: boolean, notify: Notify): Promise<void> {
    const file = this.#file(f);
    const rec = this.#rec('posix', dsync ? 'fdatasync' : 'fsync', file, 0, [], 0, notify);
    const cb = this.#block(rec, LIO_NOP);
    rec.seq = ++this.#seq;
    rec.submittedAt = this.next();
    const full = this.#full();
    const rc = this.lib('aio_fsync', () => aio_fsync(dsync ? O_DSYNC : O_SYNC, cb));
    if (rec.afterClose) {
      // SPEC §2: aio_fsync fails at once with -1/EBADF on a descriptor that is not open (or being closed).
      rec.refused = true;
      if (rc !== -1 || errno() !== EBADF) this.violation(`${describe(rec)}: after aio_close, aio_fsync returned ${rc} (errno ${errno()}), want -1/EBADF`);
      return;
    }
    this.#accepted(rec, rc, full);
  }

  async #lio(op: Extract<Op, { t: 'lio' }>): Promise<void> {
    const group: LioGroup = {
      id: ++this.#ids,
      entries: [],
      wait: op.wait,
      listNotify: op.listNotify && !op.wait,
      listNotes: 0,
      waitResult: undefined,
      waitErrno: undefined,
      overLimit: false,
      promise: null,
    };
    runnerOf.set(group, this);
    this.groups.push(group);
    const list: Array<AioControlBlock | null> = [];
    let room = engine().maxOutstanding - engine().outstanding;
    for (const e of op.entries) {
      if (e.kind === 'null') {
        list.push(null);
        continue;
      }
      const file = this.#file(e.f);
      if (e.kind === 'nop') {
        const rec = this.#rec('posix', 'read', file, 0, [0], 0, 'none');
        rec.nop = true;
        rec.lio = group;
        list.push(this.#block(rec, LIO_NOP));
        group.entries.push(rec);
        continue;
      }
      const rec = this.#rec('posix', e.kind, file, e.off, [e.len], e.prio, e.notify);
      rec.lio = group;
      rec.seq = ++this.#seq;
      rec.accepted = true;
      list.push(this.#block(rec, e.kind === 'read' ? LIO_READ : LIO_WRITE));
      group.entries.push(rec);
      if (room <= 0) {
        rec.required = EAGAIN;
        group.overLimit = true;
      } else if (rec.afterClose) {
        rec.required = EBADF; // fails at once, takes no room
      } else {
        room--;
      }
    }
    const at = this.next();
    for (const e of group.entries) e.submittedAt = at;
    const sig: SigEvent | null = group.listNotify ? { sigev_notify: SIGEV_THREAD, sigev_notify_function: onListNote, sigev_value: group } : null;
    if (op.wait) {
      const p = this.lib('lio_listio(LIO_WAIT)', () => lio_listio(LIO_WAIT, list, list.length, sig));
      const settled = this.settle('lio_listio(LIO_WAIT)', p).then((v) => {
        group.waitResult = v;
        group.waitErrno = errno();
        return v;
      });
      group.promise = settled;
      // Held programs cannot wait here: the entries complete only when released.
      if (op.awaitNow && !this.held) await settled;
      else this.pendingPromises.push(settled);
    } else {
      const rc = this.lib('lio_listio(LIO_NOWAIT)', () => lio_listio(LIO_NOWAIT, list, list.length, sig));
      const want = group.overLimit ? -1 : 0;
      if (rc !== want || (want === -1 && errno() !== EAGAIN)) {
        this.violation(`lio ${group.id} (LIO_NOWAIT): returned ${rc} (errno ${errno()}), want ${want}${want === -1 ? '/EAGAIN' : ''}`);
      }
    }
  }

  async #nngFile(kind: Kind, h: number, f: number, off: number, lens: number[]): Promise<void> {
    const hs = this.handles[h % this.handles.length] as HandleState;
    if (nng_aio_busy(hs.aio)) {
      // One operation per handle: wait for the previous one (held programs cannot: skip).
      if (this.held) return;
      await this.settle('nng_aio_wait', this.lib('nng_aio_wait', () => nng_aio_wait(hs.aio)));
      if (nng_aio_busy(hs.aio)) return;
    }
    const file = this.#file(f);
    const rec = this.#rec('nng', kind, file, off, lens, 0, 'none');
    rec.handle = hs;
    rec.accepted = true;
    if (kind === 'read' || kind === 'write') {
      const iov = rec.bufs.map((b, i) => ({ iov_buf: b, iov_len: rec.lens[i] as number }));
      const rv = this.lib('nng_aio_set_iov', () => nng_aio_set_iov(hs.aio, iov.length, iov));
      if (rv !== 0) this.violation(`${describe(rec)}: nng_aio_set_iov returned ${rv}`);
    }
    // What the start must end with, in nng's order of checks: stopped, limit, ZERO timeout.
    if (hs.stopped) rec.required = NNG_ESTOPPED;
    else if (this.#full()) rec.required = NNG_EAGAIN;
    else if (hs.timeout === NNG_DURATION_ZERO) rec.required = NNG_ETIMEDOUT;
    else if (rec.afterClose) rec.required = NNG_ECLOSED;
    if (hs.timeout !== NNG_DURATION_DEFAULT && hs.timeout !== NNG_DURATION_INFINITE) rec.permits.add(NNG_ETIMEDOUT);
    hs.current = rec;
    rec.seq = ++this.#seq;
    rec.submittedAt = this.next();
    const fd = file.fd;
    this.lib(`nng_file_${kind}`, () => {
      if (kind === 'read') nng_file_read(fd, off, hs.aio);
      else if (kind === 'write') nng_file_write(fd, off, hs.aio);
      else if (kind === 'fsync') nng_file_fsync(fd, hs.aio);
      else nng_file_fdatasync(fd, hs.aio);
    });
    if (!nng_aio_busy(hs.aio)) this.violation(`${describe(rec)}: nng_aio_busy is false right after the start`);
  }

  async #nngCancel(op: Extract<Op, { t: 'ncancel' | 'nabort' | 'nstop' }>): Promise<void> {
    const hs = this.handles[op.h % this.handles.length] as HandleState;
    const rec = hs.current;
    if (op.t === 'ncancel') {
      rec?.permits.add(NNG_ECANCELED);
      this.lib('nng_aio_cancel', () => nng_aio_cancel(hs.aio));
    } else if (op.t === 'nabort') {
      ABORT_CODES.add(op.code);
      rec?.permits.add(op.code);
      this.lib('nng_aio_abort', () => nng_aio_abort(hs.aio, op.code));
    } else {
      rec?.permits.add(NNG_ESTOPPED);
      hs.stopped = true;
      const p = this.lib('nng_aio_stop', () => nng_aio_stop(hs.aio));
      if (op.awaitIt && !this.held) {
        await this.settle('nng_aio_stop', p);
        if (nng_aio_busy(hs.aio)) this.violation(`handle ${hs.index}: busy after nng_aio_stop resolved`);
        if (hs.current !== null) this.violation(`handle ${hs.index}: nng_aio_stop resolved before the callback of ${describe(hs.current)}`);
      } else if (p !== undefined) {
        this.pendingPromises.push(this.settle('nng_aio_stop', p));
      }
    }
  }

  /** Accepted POSIX requests on open descriptors: the targets of aio_cancel. */
  #posixTargets(): Rec[] {
    return this.recs.filter((r) => r.face === 'posix' && r.accepted && !r.nop && r.cb !== null && this.#open(r.file));
  }

  async #cancel1(k: number): Promise<void> {
    const targets = this.#posixTargets();
    if (targets.length === 0) return;
    const rec = targets[k % targets.length] as Rec;
    const cb = rec.cb as AioControlBlock;
    const before = aio_error(cb);
    if (before === EINPROGRESS) rec.permits.add(ECANCELED);
    const rc = this.lib('aio_cancel', () => aio_cancel(rec.file.fd, cb));
    const after = aio_error(cb);
    if (before === EINPROGRESS) {
      if (rc === AIO_CANCELED) {
        if (after !== ECANCELED) this.violation(`aio_cancel(${describe(rec)}) = AIO_CANCELED but aio_error is ${after}`);
      } else if (rc === AIO_NOTCANCELED) {
        if (after !== EINPROGRESS) this.violation(`aio_cancel(${describe(rec)}) = AIO_NOTCANCELED but aio_error is ${after}`);
        rec.mustNotCancel = true;
      } else {
        this.violation(`aio_cancel(${describe(rec)}) of a request in progress returned ${rc}`);
      }
    } else if (rc !== AIO_ALLDONE || after !== before) {
      this.violation(`aio_cancel(${describe(rec)}) of a finished request returned ${rc} (aio_error ${before} -> ${after})`);
    }
  }

  /** Marks what a cancel of every request on `file` may do; returns the POSIX requests in progress on it. */
  #permitFdCancel(file: FileState): Rec[] {
    const inProgress: Rec[] = [];
    for (const r of this.recs) {
      if (r.file !== file || !r.accepted || r.nop) continue;
      if (r.face === 'posix' && r.cb !== null && aio_error(r.cb) === EINPROGRESS) {
        r.permits.add(ECANCELED);
        inProgress.push(r);
      }
      if (r.face === 'nng' && r.handle?.current === r) r.permits.add(NNG_ECANCELED);
    }
    return inProgress;
  }

  async #cancelFd(f: number): Promise<void> {
    const file = this.#file(f);
    if (!this.#open(file)) return;
    const inProgress = this.#permitFdCancel(file);
    const rc = this.lib('aio_cancel', () => aio_cancel(file.fd, null));
    const still = inProgress.filter((r) => aio_error(r.cb as AioControlBlock) === EINPROGRESS);
    const notCanceled = inProgress.filter((r) => {
      const e = aio_error(r.cb as AioControlBlock);
      return e !== EINPROGRESS && e !== ECANCELED;
    });
    for (const r of still) r.mustNotCancel = true;
    if (notCanceled.length > 0) this.violation(`aio_cancel(file ${file.index}) completed ${describe(notCanceled[0] as Rec)} with ${aio_error(notCanceled[0]?.cb as AioControlBlock)} inside the call`);
    if (rc === AIO_ALLDONE && inProgress.length > 0) this.violation(`aio_cancel(file ${file.index}) = AIO_ALLDONE with ${inProgress.length} POSIX requests in progress`);
    if (rc === AIO_CANCELED && still.length > 0) this.violation(`aio_cancel(file ${file.index}) = AIO_CANCELED but ${describe(still[0] as Rec)} is still in progress`);
    if (rc === AIO_NOTCANCELED && still.length === 0 && !this.recs.some((r) => r.face === 'nng' && r.file === file && r.handle?.current === r)) {
      this.violation(`aio_cancel(file ${file.index}) = AIO_NOTCANCELED with nothing left in progress`);
    }
    if (rc !== AIO_ALLDONE && rc !== AIO_CANCELED && rc !== AIO_NOTCANCELED) this.violation(`aio_cancel(file ${file.index}) returned ${rc} (errno ${errno()})`);
  }

  async #suspend(ks: number[], ms: number): Promise<void> {
    const pool = this.recs.filter((r) => r.face === 'posix' && r.accepted && !r.nop && r.cb !== null);
    const list = pool.length === 0 ? [] : ks.map((k) => (pool[k % pool.length] as Rec).cb as AioControlBlock);
    const doneBefore = list.some((cb) => aio_error(cb) !== EINPROGRESS);
    const t0 = performance.now();
    const p = this.lib('aio_suspend', () => aio_suspend(list, list.length, { tv_sec: 0, tv_nsec: ms * 1e6 }));
    const rc = await this.settle('aio_suspend', p);
    const elapsed = performance.now() - t0;
    const e = errno();
    if (rc === 0) {
      if (list.length > 0 && !list.some((cb) => aio_error(cb) !== EINPROGRESS)) this.violation(`aio_suspend returned 0 with every listed request in progress`);
    } else if (rc === -1) {
      if (e !== EAGAIN) this.violation(`aio_suspend returned -1 with errno ${e}, want EAGAIN`);
      if (doneBefore) this.violation(`aio_suspend timed out although a listed request was already done`);
      if (elapsed < ms) this.violation(`aio_suspend timed out after ${elapsed.toFixed(2)} ms < ${ms} ms`);
    } else if (rc !== undefined) {
      this.violation(`aio_suspend returned ${rc}`);
    }
  }

  async #release(op: Extract<Op, { t: 'release' }>): Promise<void> {
    const sim = this.recorder as SimBackend;
    const pending = sim.held.pending;
    if (pending.length === 0) return;
    const h = pending[op.k % pending.length] as HeldOp;
    const entry = sim.ops.find((o) => o.held === h);
    const members = entry?.members ?? [];
    const result: { bytes?: number; error?: string } = {};
    if (op.error) {
      result.error = 'EIO';
    } else if (op.short !== null && h.length > 0) {
      // Short nng writes (resumed by nng_file_write) only when the program asks for them.
      const nngWrite = members.some((m) => m.rec.face === 'nng' && m.rec.kind === 'write');
      if (!nngWrite || this.nngShort) {
        result.bytes = Math.floor(h.length * op.short);
        if (entry !== undefined) entry.shortRelease = true;
        // A merged call's members are marked on completion: only the one the count ends inside is short.
        if (members.length === 1) (members[0] as SimMember).rec.short = true;
      }
    }
    h.release(result);
    // Let the completion (delivered on process.nextTick) reach the engine now, or leave it for later.
    if (op.settle) await new Promise<void>((resolve) => process.nextTick(resolve));
  }

  nngShort = false;

  async #close(file: FileState, duringCloseProbe: boolean): Promise<void> {
    if (!this.#open(file)) return;
    this.#permitFdCancel(file);
    file.closeAt = (this.recorder as RecordingBackend | SimBackend).mark('aio_close', file.fd);
    const p = this.lib('aio_close', () => aio_close(file.fd));
    file.closePromise = this.settle('aio_close', p);
    if (file.path !== null) untrack(file.fd);
    if (duringCloseProbe) {
      // SPEC §2 (aio_close): while it is pending, new requests on fd fail as on a closed descriptor.
      await this.#rw('read', { f: file.index, off: 0, len: 4, prio: 0, notify: 'thread' });
      await this.#fsync(file.index, false, 'none');
      const rc = this.lib('aio_cancel', () => aio_cancel(file.fd, null));
      if (rc !== -1 || errno() !== EBADF) this.violation(`aio_cancel(file ${file.index}) while aio_close is pending returned ${rc} (errno ${errno()}), want -1/EBADF`);
    }
    if (!this.held) {
      const rc = await file.closePromise;
      this.#checkClosed(file, rc);
    } else {
      this.pendingPromises.push(file.closePromise.then((rc) => this.#checkClosed(file, rc)));
    }
  }

  #checkClosed(file: FileState, rc: number | undefined): void {
    if (rc !== 0) this.violation(`aio_close(file ${file.index}) resolved ${rc} (errno ${errno()})`);
    for (const r of this.recs) {
      if (r.file === file && r.face === 'posix' && r.accepted && !r.nop && r.cb !== null && aio_error(r.cb) === EINPROGRESS) {
        this.violation(`aio_close(file ${file.index}) resolved while ${describe(r)} is still in progress`);
      }
    }
  }

  // ---- draining ----------------------------------------------------------------------

  async drain(): Promise<void> {
    const sim = this.recorder instanceof SimBackend ? this.recorder : null;
    for (let round = 0; round < 200; round++) {
      if (sim !== null) {
        sim.held.autoRelease = 0;
        sim.held.releaseAll();
      }
      await flush(2);
      const busy = this.recs.some((r) => r.face === 'posix' && r.accepted && !r.nop && r.cb !== null && aio_error(r.cb) === EINPROGRESS) || this.handles.some((h) => nng_aio_busy(h.aio));
      if (!busy && engine().outstanding === 0) break;
      if (sim === null) {
        const pending = this.recs.find((r) => r.face === 'posix' && r.accepted && !r.nop && r.cb !== null && aio_error(r.cb) === EINPROGRESS);
        if (pending !== undefined) {
          const rc = await this.settle('aio_suspend', this.lib('aio_suspend', () => aio_suspend([pending.cb], 1, { tv_sec: 5, tv_nsec: 0 })));
          if (rc !== 0) {
            this.violation(`${describe(pending)} never completed`);
            break;
          }
        }
        const h = this.handles.find((x) => nng_aio_busy(x.aio));
        if (h !== undefined) await this.settle('nng_aio_wait', this.lib('nng_aio_wait', () => nng_aio_wait(h.aio)));
      }
      if (round === 199) this.violation(`the engine did not drain (${engine().outstanding} outstanding)`);
    }
    await Promise.all(this.pendingPromises);
    // Deferred notifications (and list notifications deferred after them).
    await flush(6);
  }

  // ---- checks after the program ----------------------------------------------------------

  finalStatus(): void {
    for (const r of this.recs) {
      if (r.face === 'posix') {
        if (r.cb === null) continue;
        if (r.nop || r.refused) {
          const e = aio_error(r.cb);
          if (e !== -1 || errno() !== EINVAL) this.violation(`${describe(r)}: ${r.nop ? 'LIO_NOP entry' : 'refused block'} has aio_error ${e}, want -1/EINVAL (never accepted)`);
          if (r.notes !== 0) this.violation(`${describe(r)}: ${r.nop ? 'LIO_NOP entry' : 'refused block'} was notified`);
          r.err = -1;
          r.n = -1;
          continue;
        }
        const e = aio_error(r.cb);
        r.err = e;
        if (e === EINPROGRESS) {
          this.violation(`${describe(r)}: still in progress after the drain (invariant 1)`);
          continue;
        }
        const ret = aio_return(r.cb);
        const retErrno = errno();
        r.n = e === 0 ? ret : 0;
        if (e === 0) {
          const max = r.kind === 'read' || r.kind === 'write' ? r.len : 0;
          if (ret < 0 || ret > max) this.violation(`${describe(r)}: aio_error 0 but aio_return ${ret} (want 0..${max})`);
        } else if (ret !== -1 || retErrno !== e) {
          this.violation(`${describe(r)}: aio_error ${e} but aio_return ${ret} with errno ${retErrno} (invariant 2)`);
        }
        const again = aio_return(r.cb);
        if (again !== -1 || errno() !== EINVAL) this.violation(`${describe(r)}: a second aio_return gave ${again} (errno ${errno()}), want -1/EINVAL`);
        if (aio_error(r.cb) !== e) this.violation(`${describe(r)}: aio_error changed after aio_return`);
        if (r.notify === 'none') {
          if (r.notes !== 0) this.violation(`${describe(r)}: SIGEV_NONE request was notified`);
        } else {
          if (r.notes !== 1) this.violation(`${describe(r)}: notified ${r.notes} times, want exactly once (invariant 1)`);
          else if (r.noteStatus[0] !== e) this.violation(`${describe(r)}: notified with aio_error ${r.noteStatus[0]}, final ${e} (invariant 2)`);
        }
        this.#checkCode(r, e, ECANCELED);
      } else {
        if (r.cbs !== 1) {
          this.violation(`${describe(r)}: callback ran ${r.cbs} times, want exactly once (invariant 1)`);
          continue;
        }
        if (!r.cbBusy) this.violation(`${describe(r)}: nng_aio_busy was false inside the callback`);
        r.err = r.cbResult;
        r.n = r.cbCount;
        const hs = r.handle as HandleState;
        const last = [...this.recs].reverse().find((x) => x.handle === hs);
        if (last === r && (nng_aio_result(hs.aio) !== r.cbResult || nng_aio_count(hs.aio) !== r.cbCount)) {
          this.violation(`${describe(r)}: callback saw ${r.cbResult}/${r.cbCount}, nng_aio_result/count now ${nng_aio_result(hs.aio)}/${nng_aio_count(hs.aio)} (invariant 2)`);
        }
        const total = r.len;
        if (r.err === 0) {
          const ok = r.kind === 'read' ? r.n >= 0 && r.n <= total : r.kind === 'write' ? r.n === total : r.n === 0;
          if (!ok) this.violation(`${describe(r)}: result 0 with count ${r.n} (iov ${total})`);
        } else if (r.kind === 'read' || r.kind === 'fsync' || r.kind === 'fdatasync' ? r.n !== 0 : r.n < 0 || r.n > total) {
          this.violation(`${describe(r)}: result ${r.err} with count ${r.n}`);
        }
        this.#checkCode(r, r.err, NNG_ECANCELED);
      }
    }
    count('programs');
    for (const r of this.recs) {
      if (r.nop) count('lio nop');
      else if (r.refused) count(`${r.face} refused`);
      else count(`${r.face} ${r.kind} ${r.err === 0 ? 'ok' : `err ${r.err}`}${r.short ? ' short' : ''}`);
    }
    for (const g of this.groups) {
      const submitted = g.entries.filter((e) => !e.nop);
      if (g.listNotify && g.listNotes !== 1) this.violation(`lio ${g.id}: list notified ${g.listNotes} times, want exactly once`);
      if (g.wait) {
        const failed = submitted.some((e) => e.err !== 0);
        const want = failed || g.overLimit ? -1 : 0;
        if (g.waitResult !== want) this.violation(`lio ${g.id} (LIO_WAIT): resolved ${g.waitResult}, want ${want}`);
        else if (want === -1 && g.waitErrno !== (g.overLimit ? EAGAIN : EIO)) this.violation(`lio ${g.id} (LIO_WAIT): errno ${g.waitErrno}, want ${g.overLimit ? 'EAGAIN' : 'EIO'}`);
      }
    }
  }

  /** A final code is success, exactly what the program fixed, or something the program permitted. */
  #checkCode(r: Rec, code: number, canceled: number): void {
    if (r.required !== null) {
      if (code !== r.required) this.violation(`${describe(r)}: ended with ${code}, want ${r.required}`);
      return;
    }
    if (code === 0) return;
    if (code === canceled && r.mustNotCancel) {
      this.violation(`${describe(r)}: ended canceled although aio_cancel reported it in the thread pool`);
      return;
    }
    if (this.held && code === eioOf(r)) return; // judged by checkInjected
    if (!r.permits.has(code)) this.violation(`${describe(r)}: ended with ${code}, which nothing in the program allows`);
  }

  /** Invariant 3 and 7 on real files, and reads against the model. */
  checkContents(actual: (file: FileState) => Uint8Array | { out: Uint8Array }): void {
    for (const file of this.files) {
      const writes = this.recs.filter((r) => r.file === file && r.kind === 'write' && r.accepted && !r.nop && r.n > 0).sort((a, b) => a.seq - b.seq);
      const got = actual(file);
      if (file.kind === 'stream') {
        const expected = applyWrites(new Uint8Array(0), writes.map((w) => ({ off: 0, n: w.n, fill: w.fill })), true);
        const out = (got as { out: Uint8Array }).out;
        if (!Buffer.from(out).equals(Buffer.from(expected))) {
          this.violation(`file ${file.index} (stream): written ${hex(out)}, model ${hex(expected)} (writes in submission order)`);
        }
      } else {
        const expected = applyWrites(file.initial, writes, file.kind === 'append');
        const bytes = got as Uint8Array;
        if (!Buffer.from(bytes).equals(Buffer.from(expected))) {
          this.violation(`file ${file.index}: content ${hex(bytes)}\n  model ${hex(expected)} (invariant 3)`);
        }
        // Invariant 7 for writes: a write that never ran left no byte of its fill in the file.
        for (const r of this.recs) {
          if (r.file !== file || r.kind !== 'write' || r.n > 0 || r.len === 0) continue;
          if (bytes.includes(r.fill)) this.violation(`file ${file.index}: holds bytes of ${describe(r)}, which ended ${r.err} with no byte written (invariant 7)`);
        }
      }
    }
    // Reads.
    const streamCursor = new Map<FileState, number>();
    for (const r of [...this.recs].sort((a, b) => a.seq - b.seq)) {
      if (r.kind !== 'read' || r.nop || !r.accepted) continue;
      const data = concat(r.bufs.map((b, i) => b.subarray(0, r.lens[i])));
      const ok = r.err === 0;
      const n = ok ? r.n : 0;
      // Invariant 7: nothing past the count (nor the slack) was touched; a failed or canceled read touched nothing.
      for (let i = 0; i < r.bufs.length; i++) {
        const b = r.bufs[i] as Uint8Array;
        if (b.subarray(r.lens[i]).some((x) => x !== SENTINEL)) this.violation(`${describe(r)}: bytes past the request's length were written`);
      }
      if (data.subarray(n).some((x) => x !== SENTINEL)) {
        this.violation(`${describe(r)}: ${ok ? `bytes past the count ${n}` : `buffer of a request that ended ${r.err}`} were written (invariant 7)`);
      }
      if (!ok) continue;
      if (r.file.kind === 'stream') {
        const at = streamCursor.get(r.file) ?? 0;
        const want = STREAM_INPUT.subarray(at, at + n);
        if (!Buffer.from(data.subarray(0, n)).equals(Buffer.from(want))) this.violation(`${describe(r)}: stream read ${hex(data.subarray(0, n))}, want ${hex(want)} (reads in submission order)`);
        streamCursor.set(r.file, at + n);
        continue;
      }
      const append = r.file.kind === 'append';
      const earlier = this.recs
        .filter((w) => w.file === r.file && w.kind === 'write' && w.accepted && !w.nop && w.n > 0 && w.seq < r.seq && (append || overlaps(w.off, w.n, r.off, r.len)))
        .sort((a, b) => a.seq - b.seq);
      const state = applyWrites(r.file.initial, earlier, append);
      const mode = append ? (r.short ? 'atMost' : 'exact') : r.short ? 'any' : 'atLeast';
      const why = checkReadData(state, r.off, r.len, n, data, mode);
      if (why !== null) this.violation(`${describe(r)}: ${why} (reads see the overlapping writes submitted before them)`);
    }
  }

  /** Invariant 6 and the in-flight cap, from the backend log. */
  checkLog(log: readonly BackendEvent[], cap: number, peak: number): void {
    if (peak > cap) this.violation(`${peak} operations were in the thread pool at once, cap ${cap}`);
    for (const file of this.files) {
      if (file.closeAt < 0) continue;
      const fd = file.fd;
      // A request that a merged call dispatched before the close but did not reach runs
      // alone afterwards: it is in the thread pool, and the close waits for it.
      const continuations = new Set<number>();
      for (const r of this.recs) {
        if (r.file !== file) continue;
        r.chunks.forEach((c, i) => {
          const nextChunk = r.chunks[i + 1];
          if (c.unreached === true && c.d < file.closeAt && nextChunk !== undefined) continuations.add(nextChunk.d);
        });
      }
      const late = log.find((e) => e.fd === fd && e.ev === 'start' && e.at > file.closeAt && !continuations.has(e.at));
      if (late !== undefined) this.violation(`file ${file.index}: ${late.op} dispatched on fd ${fd} after aio_close was called (invariant 6)`);
      const closes = log.filter((e) => e.fd === fd && e.ev === 'close');
      if (closes.length !== 1) this.violation(`file ${file.index}: the backend closed fd ${fd} ${closes.length} times`);
      const closeAt = closes[0]?.at ?? Infinity;
      const starts = log.filter((e) => e.fd === fd && e.ev === 'start').length;
      const endsBefore = log.filter((e) => e.fd === fd && e.ev === 'end' && e.op !== 'close' && e.at < closeAt).length;
      if (endsBefore !== starts) this.violation(`file ${file.index}: fd ${fd} closed with ${starts - endsBefore} operations still in the thread pool (invariant 6)`);
    }
  }

  /** Held programs: ordering rules from the dispatch log (SPEC §2), and canceled requests never dispatched. */
  checkOrder(sim: SimBackend): void {
    // Match sync operations to requests: on each descriptor they run in submission order.
    for (const file of this.files) {
      const syncOps = sim.ops.filter((o) => o.fd === file.fd && (o.op === 'fsync' || o.op === 'fdatasync'));
      const ran = this.recs
        .filter((r) => r.file === file && (r.kind === 'fsync' || r.kind === 'fdatasync') && r.accepted && !r.refused && syncRan(r))
        .sort((a, b) => a.seq - b.seq);
      if (syncOps.length !== ran.length) {
        this.violation(`file ${file.index}: ${syncOps.length} sync operations dispatched, ${ran.length} sync requests report having run`);
        continue;
      }
      syncOps.forEach((o, i) => {
        const r = ran[i] as Rec;
        if (o.op !== r.kind) this.violation(`file ${file.index}: sync dispatch ${i} is ${o.op}, but the ${i}th sync request to run is ${describe(r)} (barriers out of submission order)`);
        o.rec = r;
        r.firstD = o.dispatchedAt;
        r.dispatches++;
        if (o.end >= 0) {
          r.lastC = o.end;
          r.completions.push({ at: o.end, error: o.error });
        }
        r.chunks.push({ off: 0, len: 0, d: o.dispatchedAt, c: o.end });
      });
    }
    const byFile = new Map<FileState, Rec[]>();
    for (const r of this.recs) {
      if (!r.accepted || r.nop) continue;
      const canceled = r.face === 'posix' ? r.err === ECANCELED || r.err === EAGAIN || r.err === EBADF : nngCancelLike(r.err) || r.err === NNG_EAGAIN || r.err === NNG_ECLOSED;
      // A merged call that gave it no byte did not touch its buffer (the engine then ran it
      // alone, or canceled it when aio_close came meanwhile): that is not a dispatch here.
      if (canceled && r.dispatches > r.unreached && !(r.face === 'nng' && r.kind === 'write' && r.n > 0)) {
        this.violation(`${describe(r)}: ended ${r.err} but was dispatched (invariant 7)`);
      }
      if (r.dispatches === 0) continue;
      const list = byFile.get(r.file) ?? [];
      list.push(r);
      byFile.set(r.file, list);
    }
    for (const [file, list] of byFile) {
      list.sort((a, b) => a.seq - b.seq);
      for (let j = 0; j < list.length; j++) {
        const b = list[j] as Rec;
        for (let i = 0; i < j; i++) {
          const a = list[i] as Rec;
          // Chunk by chunk: a short nng write is resumed by another backend operation on the rest of its range.
          let bad: string | null = null;
          for (const ca of a.chunks) {
            for (const cb of b.chunks) {
              const why = conflict(file.kind, a.kind, ca, b.kind, cb);
              if (why !== null && !(cb.d > ca.c)) bad ??= `${why}: [${cb.off}, +${cb.len}) dispatched at event ${cb.d}, the earlier request's [${ca.off}, +${ca.len}) completed at ${ca.c}`;
            }
          }
          if (bad !== null) this.violation(`ordering (${bad}): ${describe(b)} ran before the earlier ${describe(a)} was done with that range (SPEC §2)`);
        }
      }
    }
  }

  /**
   * Held programs: injected errors (EIO) arrive where they must. A read or write whose
   * operation failed ends with EIO; a barrier ends with EIO exactly when its own
   * operation failed or a write it covers failed: a write on its descriptor submitted
   * before it and not complete when it was submitted (SPEC §2, aio_fsync).
   */
  checkInjected(): void {
    for (const r of this.recs) {
      if (!r.accepted || r.nop || r.refused || r.required !== null) continue;
      const eio = eioOf(r);
      let want = r.completions.some((c) => c.error);
      let why = 'its operation failed';
      if (r.kind === 'fsync' || r.kind === 'fdatasync') {
        if (r.dispatches === 0) continue; // canceled: judged elsewhere
        const covered = this.recs.find(
          (w) =>
            w.file === r.file &&
            w.kind === 'write' &&
            w.accepted &&
            !w.nop &&
            w.seq < r.seq &&
            // A backend error, or an nng write that made no progress on a piece (the engine fails it with EIO).
            (w.completions.some((c) => c.error && c.at > r.submittedAt) || (w.face === 'nng' && w.err === eioOf(w) && w.completions.some((c) => c.at > r.submittedAt))),
        );
        if (covered !== undefined) {
          want = true;
          why = `the covered ${describe(covered)} failed`;
        }
      }
      if (want && r.err !== eio) this.violation(`${describe(r)}: ended ${r.err}, want ${eio} because ${why}`);
      if (!want && r.err === eio && !(r.face === 'nng' && r.kind === 'write' && r.short)) this.violation(`${describe(r)}: ended ${eio} (EIO) but no operation it answers for failed`);
    }
  }
}

/** The code an EIO takes on the request's face. */
function eioOf(r: Rec): number {
  return r.face === 'posix' ? EIO : errnoToNng(EIO);
}

/** Whether a sync request's final status shows that it was dispatched. */
function syncRan(r: Rec): boolean {
  if (r.face === 'posix') return r.err === 0 || r.err === EIO;
  return r.err === 0 || r.err === errnoToNng(EIO);
}

/** Why `b` (later) must wait for `a` (earlier) on one descriptor, or null when they may run in parallel. */
function conflict(fileKind: FakeKind, aKind: Kind, a: { off: number; len: number }, bKind: Kind, b: { off: number; len: number }): string | null {
  if (fileKind === 'stream') return 'non-seekable descriptor';
  if (bKind === 'fsync' || bKind === 'fdatasync') return 'barrier';
  if (aKind === 'fsync' || aKind === 'fdatasync') return null;
  if (fileKind === 'append' && (aKind === 'write' || bKind === 'write')) return 'O_APPEND write';
  if ((aKind === 'write' || bKind === 'write') && overlaps(a.off, a.len, b.off, b.len)) return 'overlapping ranges';
  return null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex(b: Uint8Array): string {
  const s = Buffer.from(b).toString('hex');
  return s.length > 240 ? `${s.slice(0, 240)}... (${b.length} bytes)` : `${s} (${b.length} bytes)`;
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

/** Aborts the test run when a previous program left a late notification behind. */
function takeLate(r: Runner): void {
  for (const l of lateArrivals.splice(0)) r.violation(`from an earlier program: ${l} (invariant 1)`);
}

function allocHandles(r: Runner): void {
  for (let i = 0; i < HANDLES; i++) {
    const hs = { index: i, aio: null as unknown as NngAio, current: null, timeout: NNG_DURATION_DEFAULT, stopped: false } as HandleState;
    runnerOf.set(hs, r);
    hs.aio = nng_aio_alloc(onNngCallback, hs);
    r.handles.push(hs);
  }
}

function freeHandles(r: Runner): void {
  for (const hs of r.handles) {
    try {
      nng_aio_free(hs.aio);
    } catch (err) {
      r.violation(`nng_aio_free threw: ${String(err)}`);
    }
  }
}

/**
 * Runs `p` against real temp files. Returns the violations (empty: the program passed).
 * Leaves the engine idle, its backend and limits restored, and every descriptor closed.
 */
export async function runRealProgram(p: RealProgram): Promise<string[]> {
  const r = new Runner(false);
  takeLate(r);
  const eng = engine();
  if (eng.outstanding !== 0) return [`engine not idle before the program (${eng.outstanding} outstanding)`];
  const recorder = new RecordingBackend(r.next);
  r.recorder = recorder;
  eng.backend = recorder;
  aio_init({ aio_threads: p.threads, aio_max: p.max });
  try {
    p.files.forEach((initial, index) => {
      const { path, fd } = tmpFile(initial);
      r.files.push({ index, fd, path, kind: 'seekable', initial, closeAt: -1, closePromise: null });
    });
    allocHandles(r);
    for (const op of p.ops) await r.exec(op);
    let probe = p.submitDuringClose;
    for (const file of r.files) {
      if (p.close[file.index] !== true) continue;
      await r.exec({ t: 'close', f: file.index, probe });
      probe = false;
    }
    await r.drain();
    r.finalStatus();
    r.checkContents((file) => new Uint8Array(fs.readFileSync(file.path as string)));
    r.checkLog(recorder.log, p.threads, recorder.peak);
  } finally {
    r.finished = true;
    freeHandles(r);
    for (const file of r.files) {
      if (file.closeAt >= 0) continue;
      try {
        fs.closeSync(file.fd);
      } catch {
        // already closed
      }
      untrack(file.fd);
    }
    eng.backend = nodeBackend;
    aio_init({ aio_threads: DEFAULTS.maxInFlight, aio_max: DEFAULTS.maxOutstanding });
  }
  return r.violations;
}

/** Runs `p` on fake descriptors with the simulating held backend. Returns the violations. */
export async function runHeldProgram(p: HeldProgram): Promise<string[]> {
  const r = new Runner(true);
  r.nngShort = p.nngShort;
  takeLate(r);
  const eng = engine();
  if (eng.outstanding !== 0) return [`engine not idle before the program (${eng.outstanding} outstanding)`];
  const held = new HeldBackend();
  const sim = new SimBackend(held, r.next);
  r.recorder = sim;
  p.files.forEach((f, index) => {
    const fd = FAKE_FD + index;
    held.open(fd, { seekable: f.kind !== 'stream', append: f.kind === 'append' });
    sim.files.set(fd, { kind: f.kind, mem: Uint8Array.from(f.initial), out: [], consumed: 0 });
    r.files.push({ index, fd, path: null, kind: f.kind, initial: f.kind === 'stream' ? new Uint8Array(0) : f.initial, closeAt: -1, closePromise: null });
  });
  const restore = held.use(p.threads);
  eng.backend = sim;
  try {
    allocHandles(r);
    for (const op of p.ops) await r.exec(op);
    await r.drain();
    r.finalStatus();
    r.checkContents((file) => {
      const s = sim.files.get(file.fd) as SimFile;
      return file.kind === 'stream' ? { out: Uint8Array.from(s.out) } : s.mem;
    });
    r.checkLog(sim.log, p.threads, sim.peak);
    r.checkOrder(sim);
    r.checkInjected();
  } finally {
    r.finished = true;
    freeHandles(r);
    held.autoRelease = 0;
    held.releaseAll();
    await flush(3);
    restore();
  }
  return r.violations;
}
