/**
 * The soak: millions of mixed operations against real temp files, with random
 * cancellation and timeouts, checking that every request completes exactly once,
 * that the heap stays flat and that nothing is left running at the end.
 *
 * The mix, chosen per operation from a seeded PRNG:
 * - aio_read / aio_write / aio_fsync (O_SYNC, O_DSYNC) with SIGEV_NONE (collected by a
 *   poller that waits in aio_suspend with a timeout: {0,0} polls, 1-5 ms, or none)
 *   and SIGEV_THREAD (the notify function resubmits the block at once);
 * - lio_listio LIO_WAIT and LIO_NOWAIT lists of 1-4 reads/writes (NOP and null entries
 *   mixed in), each entry with its own SIGEV_NONE or SIGEV_THREAD notification, the
 *   NOWAIT list with a SIGEV_THREAD list notification;
 * - nng handles: nng_file_read / nng_file_write (one or two iov entries) and
 *   nng_file_fsync, some with a 1-3 ms timeout (NNG_ETIMEDOUT while queued);
 * - the Promise face: promises.read, promises.write / writev (bigint position),
 *   promises.fsync / fdatasync and promises.batch of 1-4 entries, some with an
 *   AbortSignal, a 1-3 ms queue timeout or a lower priority;
 * - after 3% of submissions, a random other slot's operation is canceled
 *   (aio_cancel(fd, cb), nng_aio_cancel, nng_aio_abort, or AbortController.abort),
 *   and rarely every queued request on a file (aio_cancel(fd, null)), which hits the
 *   nng and Promise faces too.
 *
 * A fixed set of slots (256 by default) each carry one operation (or one list) at a
 * time; control blocks, handles, sigevents, iovs and buffers belong to the slots and
 * are reused, so the heap measures the library, not the driver. Every accepted
 * request has an id; its completion is counted in a byte array, so a request that
 * completes twice, or never, shows in the tally.
 *
 * The first 5% of the operations (at least 20,000, at most 100,000, at most half) are
 * a warm-up; the process then drains, runs gc and takes the start heap; the rest run;
 * it drains again, runs gc and takes the end heap. Files are closed with aio_close and
 * removed.
 *
 * Exit code 0 when the tally is perfect (accepted = completed once, nothing twice or
 * never, no unexpected error, no ordering violation), the engine is idle, no handle is
 * left open and the heap grew by at most 10%; 1 otherwise. On success it never calls
 * process.exit: the process ends because nothing is left to run. A lost completion
 * cannot pass for a clean exit: if the event loop empties with requests outstanding,
 * or nothing completes for --stall-ms (30 s), it prints what is stuck and exits 1.
 *
 * Usage: npm run soak -- [--ops 2000000] [--slots 256] [--seed 1] [--heap-limit 1.1]
 *   [--stall-ms 30000] [--json]
 * (gc is exposed at run time when node was not started with --expose-gc, so the
 * package.json script needs no flag.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  AIO_ALLDONE,
  AIO_CANCELED,
  AIO_NOTCANCELED,
  AioControlBlock,
  aio_cancel,
  aio_close,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  EAGAIN,
  ECANCELED,
  EINPROGRESS,
  EINVAL,
  EIO,
  errno,
  lastError,
  lio_listio,
  LIO_NOP,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WAIT,
  LIO_WRITE,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_aio_set_timeout,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
  counters,
  promises,
  NNG_DURATION_DEFAULT,
  NNG_ECANCELED,
  NNG_ECONNRESET,
  NNG_ETIMEDOUT,
  type NngAio,
  type NngIov,
  O_DSYNC,
  O_SYNC,
  SIGEV_NONE,
  SIGEV_THREAD,
  type SigEvent,
  type Timespec,
} from '../src/index';
import type { BatchOp, BatchResult } from '../src/promises';

// ---- options ----------------------------------------------------------------

function intArg(name: string, dflt: number, min: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < min) throw new RangeError(`--${name} must be an integer >= ${min}`);
  return v;
}
function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!(v >= 1)) throw new RangeError(`--${name} must be a number >= 1`);
  return v;
}
const OPS = intArg('ops', 2_000_000, 100);
const SLOTS = intArg('slots', 256, 1);
const SEED = intArg('seed', 1, 1);
const JSON_OUT = process.argv.includes('--json');
/** No completion at all for this long while requests are outstanding: report the stall and fail. */
const STALL_MS = intArg('stall-ms', 30_000, 100);
/** Warm-up: 5% of the run, at least 20,000 (so that the JIT and the library's lazy state settle) and at most 100,000, never more than half. */
const WARMUP = Math.min(Math.floor(OPS / 2), Math.min(100_000, Math.max(20_000, Math.floor(OPS * 0.05))));

const NFILES = 4;
const FILE_SIZE = 1 << 20;
const BLOCK = 4096;
const LIO_MAX = 4;
/** Ids are encoded with the slot in a sigev_value: id * SLOT_MUL + slot. */
const SLOT_MUL = 1024;
if (SLOTS > SLOT_MUL) throw new RangeError(`--slots must be <= ${SLOT_MUL}`);
/** The heap may grow by this factor at most (the issue's target: flat within 10%). */
const HEAP_LIMIT = numArg('heap-limit', 1.1);

const gc: () => void =
  (globalThis as { gc?: () => void }).gc ??
  (() => {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  })();

// ---- PRNG (xorshift32) ----------------------------------------------------------

let rs = SEED >>> 0 || 1;
function rnd(n: number): number {
  rs ^= rs << 13;
  rs >>>= 0;
  rs ^= rs >>> 17;
  rs ^= rs << 5;
  rs >>>= 0;
  return rs % n;
}

// ---- bookkeeping ----------------------------------------------------------------

/** Completions per id (saturating at 255). Ids are given to requests and to list notifications. */
const counts = new Uint8Array(2 * OPS + SLOTS * (LIO_MAX + 2) + 16);
let nextId = 0;
/** Accepted requests (each lio entry is one); the op budget counts these. */
let accepted = 0;
/** Accepted LIO_NOWAIT list notifications (each expects exactly one call). */
let listsAccepted = 0;
/** Submissions refused with -1 (should stay 0: the limits are set to fit). */
let refused = 0;

const K_READ_NONE = 0;
const K_READ_THREAD = 1;
const K_WRITE_NONE = 2;
const K_WRITE_THREAD = 3;
const K_FSYNC_NONE = 4;
const K_FSYNC_THREAD = 5;
const K_LIO_WAIT = 6;
const K_LIO_NOWAIT = 7;
const K_NNG_READ = 8;
const K_NNG_WRITE = 9;
const K_NNG_FSYNC = 10;
const K_PROM_READ = 11;
const K_PROM_WRITE = 12;
const K_PROM_SYNC = 13;
const K_PROM_BATCH = 14;
const KIND_NAMES = [
  'aio_read/SIGEV_NONE',
  'aio_read/SIGEV_THREAD',
  'aio_write/SIGEV_NONE',
  'aio_write/SIGEV_THREAD',
  'aio_fsync/SIGEV_NONE',
  'aio_fsync/SIGEV_THREAD',
  'lio_listio/LIO_WAIT',
  'lio_listio/LIO_NOWAIT',
  'nng_file_read',
  'nng_file_write',
  'nng_file_fsync',
  'promises.read',
  'promises.write/writev',
  'promises.fsync/fdatasync',
  'promises.batch',
] as const;
/** Relative weights of the kinds (per 1000 choices). */
const WEIGHTS = [120, 120, 80, 80, 2, 3, 50, 50, 140, 80, 4, 110, 70, 1, 40];
const CUMULATIVE: number[] = [];
{
  let acc = 0;
  for (const w of WEIGHTS) CUMULATIVE.push((acc += w));
}
function pickKind(): number {
  const r = rnd(CUMULATIVE[CUMULATIVE.length - 1] as number);
  let k = 0;
  while (r >= (CUMULATIVE[k] as number)) k++;
  return k;
}

/** Choices per kind (lists count once), and requests per kind. */
const kindChosen = new Array<number>(KIND_NAMES.length).fill(0);
const kindRequests = new Array<number>(KIND_NAMES.length).fill(0);

const outcomes = {
  ok: 0,
  /** ECANCELED (POSIX) / NNG_ECANCELED. */
  canceled: 0,
  /** NNG_ETIMEDOUT. */
  timedOut: 0,
  /** The nng_aio_abort code, or an AbortError of the Promise face. */
  aborted: 0,
  /** Anything else: a bug. */
  unexpected: 0,
};
const actions = {
  aioCancelOne: [0, 0, 0] as number[], // by result: AIO_CANCELED, AIO_NOTCANCELED, AIO_ALLDONE
  aioCancelFd: [0, 0, 0] as number[],
  nngCancel: 0,
  nngAbort: 0,
  suspendCalls: 0,
  suspendWoken: 0,
  suspendTimedOut: 0,
  suspendPolls: 0,
  lioWaitFailed: 0,
  /** LIO_WAIT resolved -1 but errno, read in the continuation, was no longer EIO (see the report's notes). */
  lioWaitErrnoClobbered: 0,
  promiseAborts: 0,
};
/** Broken promises of the contract (status not final at notification, a list done before its entries ...). */
let violations = 0;
const problems: string[] = [];
function problem(msg: string): void {
  violations++;
  if (problems.length < 20) problems.push(msg);
}
function unexpected(msg: string): void {
  outcomes.unexpected++;
  if (problems.length < 20) problems.push(msg);
}
let maxOutstanding = 0;

// ---- files ----------------------------------------------------------------------

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-soak-'));
const fds: number[] = [];
{
  const seedBuf = Buffer.alloc(FILE_SIZE, 0x5a);
  for (let i = 0; i < NFILES; i++) {
    const p = path.join(dir, `f${i}`);
    fs.writeFileSync(p, seedBuf);
    fds.push(fs.openSync(p, 'r+'));
  }
}
function randomFd(): number {
  return fds[rnd(NFILES)] as number;
}
/** A random range inside the file: 512..4096 bytes at a 512-aligned offset. */
function randomLen(): number {
  return 512 * (1 + rnd(8));
}
function randomOffset(len: number): number {
  return 512 * rnd((FILE_SIZE - len) / 512 + 1);
}

// The default AIO_MAX (512) holds every slot's worst case (a 4-entry list each) up to 128 slots; raise it beyond.
if (SLOTS * LIO_MAX > 512) aio_init({ aio_max: SLOTS * LIO_MAX });

const SEV_NONE: SigEvent = Object.freeze({ sigev_notify: SIGEV_NONE });

// ---- slots ----------------------------------------------------------------------

class Slot {
  readonly index: number;
  /** The block of single operations. */
  readonly cb = new AioControlBlock();
  readonly buf = Buffer.alloc(BLOCK);
  readonly sev: SigEvent;
  /** Blocks, buffers and sigevents of lists. */
  readonly lio: AioControlBlock[] = [];
  readonly lioSev: SigEvent[] = [];
  readonly list: Array<AioControlBlock | null> = [];
  /** Submitted entries of the current list and their ids. */
  readonly lioBlocks: AioControlBlock[] = [];
  readonly lioIds: number[] = [];
  readonly lioExpect: number[] = [];
  readonly listSev: SigEvent;
  /** The nng handle and its iovs (index len/512 - 1; 8..15: two entries). */
  readonly aio: NngAio;
  readonly nngBuf = Buffer.alloc(BLOCK);
  readonly iovs: NngIov[][] = [];
  nngWant = 0;
  /** The Promise face: buffer, writev halves, batch entries, the abort controller. */
  readonly promBuf = Buffer.alloc(BLOCK);
  readonly promVecs: Buffer[][] = [];
  readonly batchBufs: Buffer[] = [];
  readonly batchOps: BatchOp[] = [];
  readonly batchWant: number[] = [];
  readonly batchIds: number[] = [];
  ac = new AbortController();
  usedSignal = false;
  promWant = 0;
  readonly onPromOk: (v: unknown) => void;
  readonly onPromErr: (e: unknown) => void;
  readonly onBatch: (r: BatchResult[]) => void;

  busy = false;
  kind = -1;
  /** Id of the current single/nng operation, or of the list's notification. */
  id = -1;
  /** Expected byte count of the current single operation. */
  expect = 0;
  readonly onLioWait: (rc: number) => void;

  constructor(index: number) {
    this.index = index;
    this.sev = { sigev_notify: SIGEV_THREAD, sigev_notify_function: onThread, sigev_value: 0 };
    this.listSev = { sigev_notify: SIGEV_THREAD, sigev_notify_function: onListSig, sigev_value: 0 };
    for (let i = 0; i < LIO_MAX; i++) {
      this.lio.push(new AioControlBlock({ aio_buf: Buffer.alloc(BLOCK) }));
      this.lioSev.push({ sigev_notify: SIGEV_THREAD, sigev_notify_function: onThread, sigev_value: 0 });
    }
    this.aio = nng_aio_alloc(onNng, this);
    for (let k = 1; k <= 8; k++) this.iovs.push([{ iov_buf: this.nngBuf, iov_len: 512 * k }]);
    for (let k = 1; k <= 8; k++) {
      // Two entries over one buffer: the first half and the rest.
      const a = 256 * k;
      this.iovs.push([
        { iov_buf: this.nngBuf.subarray(0, a), iov_len: a },
        { iov_buf: this.nngBuf.subarray(a), iov_len: 512 * k - a },
      ]);
    }
    this.onLioWait = (rc) => lioWaitDone(this, rc);
    for (let k = 1; k <= 8; k++) this.promVecs.push([this.promBuf.subarray(0, 256 * k), this.promBuf.subarray(256 * k, 512 * k)]);
    for (let i = 0; i < LIO_MAX; i++) this.batchBufs.push(Buffer.alloc(BLOCK));
    this.onPromOk = (v) => promiseSettled(this, v, null);
    this.onPromErr = (e) => promiseSettled(this, undefined, e);
    this.onBatch = (r) => batchSettled(this, r);
  }
}

const slots: Slot[] = [];
for (let i = 0; i < SLOTS; i++) slots.push(new Slot(i));

// ---- phases -----------------------------------------------------------------------

/** Accepted-request count at which the current phase stops issuing. */
let phaseTarget = 0;
let idleSlots = SLOTS;
let onPhaseDone: (() => void) | null = null;

function runPhase(target: number): Promise<void> {
  phaseTarget = target;
  return new Promise<void>((resolve) => {
    onPhaseDone = resolve;
    idleSlots = 0;
    for (const s of slots) issue(s);
  });
}

function slotIdle(s: Slot): void {
  s.busy = false;
  s.kind = -1;
  if (++idleSlots === SLOTS) {
    const done = onPhaseDone;
    onPhaseDone = null;
    // Let whatever the last completion deferred run before the phase is declared over.
    setImmediate(() => done?.());
  }
}

/** Starts the slot's next operation, or idles it when the phase's budget is spent. */
function issue(s: Slot): void {
  for (;;) {
    if (accepted >= phaseTarget) return slotIdle(s);
    const kind = pickKind();
    s.kind = kind;
    s.busy = true;
    kindChosen[kind] = (kindChosen[kind] as number) + 1;
    let ok: boolean;
    if (kind <= K_FSYNC_THREAD) ok = issueSingle(s, kind);
    else if (kind <= K_LIO_NOWAIT) ok = issueList(s, kind === K_LIO_WAIT);
    else if (kind <= K_NNG_FSYNC) ok = issueNng(s, kind);
    else ok = issuePromise(s, kind);
    const c = counters();
    const out = c.queued + c.inFlight;
    if (out > maxOutstanding) maxOutstanding = out;
    if (ok) break;
    // Refused: the slot stays free; try another kind (never loops: refusals are counted and expected to be 0).
    s.busy = false;
    if (refused > 1000) throw new Error(`too many refused submissions; last: ${String(lastError())}`);
  }
  maybeCancelSomething(s);
}

function newId(): number {
  return nextId++;
}

/** First completions so far (the stall watchdog's measure of progress). */
let completions = 0;

/** Records one completion of `id`; true the first time. */
function count(id: number): boolean {
  const c = counts[id] as number;
  if (c < 255) counts[id] = c + 1;
  if (c === 0) completions++;
  return c === 0;
}

/** The exactly-once tally of every id issued so far. */
function tallyNow(): { once: number; twice: number; never: number; neverIds: number[] } {
  let once = 0;
  let twice = 0;
  let never = 0;
  const neverIds: number[] = [];
  for (let id = 0; id < nextId; id++) {
    const c = counts[id] as number;
    if (c === 1) once++;
    else if (c === 0) {
      never++;
      if (neverIds.length < 10) neverIds.push(id);
    } else twice++;
  }
  return { once, twice, never, neverIds };
}

// ---- single POSIX operations ----------------------------------------------------------

/** Slots whose SIGEV_NONE single operation is outstanding, and their blocks (the aio_suspend list). */
const pollSlots: Slot[] = [];
const pollList: AioControlBlock[] = [];
let polling = false;

function issueSingle(s: Slot, kind: number): boolean {
  const cb = s.cb;
  const thread = kind === K_READ_THREAD || kind === K_WRITE_THREAD || kind === K_FSYNC_THREAD;
  const id = nextId; // taken only if accepted
  if (thread) {
    s.sev.sigev_value = id * SLOT_MUL + s.index;
    cb.aio_sigevent = s.sev;
  } else {
    cb.aio_sigevent = SEV_NONE;
  }
  cb.aio_fildes = randomFd();
  let rc: number;
  if (kind === K_FSYNC_NONE || kind === K_FSYNC_THREAD) {
    s.expect = 0;
    rc = aio_fsync(rnd(2) === 0 ? O_SYNC : O_DSYNC, cb);
  } else {
    const len = randomLen();
    cb.aio_buf = s.buf;
    cb.aio_nbytes = len;
    cb.aio_offset = randomOffset(len);
    cb.aio_reqprio = rnd(4) === 0 ? rnd(21) : 0;
    s.expect = len;
    rc = kind === K_READ_NONE || kind === K_READ_THREAD ? aio_read(cb) : aio_write(cb);
  }
  if (rc !== 0) {
    refused++;
    if (problems.length < 20) problems.push(`${KIND_NAMES[kind]} refused: ${String(lastError())}`);
    return false;
  }
  newId();
  s.id = id;
  accepted++;
  kindRequests[kind] = (kindRequests[kind] as number) + 1;
  if (!thread) {
    pollSlots.push(s);
    pollList.push(cb);
    if (!polling) {
      polling = true;
      void pollLoop();
    }
  }
  return true;
}

/** Checks and consumes the result of a finished single operation, then starts the next one. */
function finishSingle(s: Slot): void {
  const cb = s.cb;
  const err = aio_error(cb);
  if (err === EINPROGRESS) problem(`${KIND_NAMES[s.kind]} #${s.id}: completion seen while aio_error is EINPROGRESS`);
  const rv = aio_return(cb);
  if (err === 0) {
    if (rv !== s.expect) unexpected(`${KIND_NAMES[s.kind]} #${s.id}: aio_return ${rv}, expected ${s.expect}`);
    else outcomes.ok++;
  } else if (err === ECANCELED) {
    if (rv !== -1) problem(`${KIND_NAMES[s.kind]} #${s.id}: canceled but aio_return ${rv}`);
    outcomes.canceled++;
  } else {
    unexpected(`${KIND_NAMES[s.kind]} #${s.id}: aio_error ${err} (${String(lastError())})`);
  }
  // aio_return is valid once: a second call is -1/EINVAL (checked on a sample).
  if ((s.id & 63) === 0 && (aio_return(cb) !== -1 || errno() !== EINVAL)) problem(`#${s.id}: a second aio_return did not fail with EINVAL`);
  issue(s);
}

/** SIGEV_THREAD notifications of single operations and of list entries. */
function onThread(value: unknown): void {
  const v = value as number;
  const slotIndex = v % SLOT_MUL;
  const id = (v - slotIndex) / SLOT_MUL;
  const first = count(id);
  if (!first) return; // counted as "twice or more" in the tally
  const s = slots[slotIndex] as Slot;
  if (s.kind === K_LIO_WAIT || s.kind === K_LIO_NOWAIT) {
    const i = s.lioIds.indexOf(id);
    if (i < 0) return problem(`list entry #${id} notified after its list was over`);
    if (aio_error(s.lioBlocks[i] as AioControlBlock) === EINPROGRESS) problem(`list entry #${id}: notified while aio_error is EINPROGRESS`);
    return;
  }
  if (!s.busy || s.id !== id) return problem(`#${id}: notified while its slot carries another operation`);
  finishSingle(s);
}

function randomTimespec(): Timespec | null {
  const r = rnd(20);
  if (r === 0) return null;
  if (r === 1) return { tv_sec: 0, tv_nsec: 0 };
  return { tv_sec: 0, tv_nsec: (1 + rnd(5)) * 1_000_000 };
}

/** Collects SIGEV_NONE single operations: aio_suspend with a timeout, then aio_error on each. */
async function pollLoop(): Promise<void> {
  while (pollSlots.length > 0) {
    const ts = randomTimespec();
    actions.suspendCalls++;
    if (ts !== null && ts.tv_nsec === 0) actions.suspendPolls++;
    const rc = await aio_suspend(pollList, pollList.length, ts);
    if (rc === 0) actions.suspendWoken++;
    else if (errno() === EAGAIN) actions.suspendTimedOut++;
    else unexpected(`aio_suspend: ${String(lastError())}`);
    // Backwards with swap-remove: slots appended while scanning wait for the next round.
    for (let i = pollSlots.length - 1; i >= 0; i--) {
      if (i >= pollSlots.length) continue;
      const s = pollSlots[i] as Slot;
      if (aio_error(s.cb) === EINPROGRESS) continue;
      const last = pollSlots.length - 1;
      pollSlots[i] = pollSlots[last] as Slot;
      pollList[i] = pollList[last] as AioControlBlock;
      pollSlots.pop();
      pollList.pop();
      if (count(s.id)) finishSingle(s);
    }
  }
  polling = false;
}

// ---- lists ----------------------------------------------------------------------------

function issueList(s: Slot, wait: boolean): boolean {
  const list = s.list;
  list.length = 0;
  s.lioBlocks.length = 0;
  s.lioIds.length = 0;
  s.lioExpect.length = 0;
  // Never more entries than the phase has left, so that a run accepts exactly --ops requests.
  const n = 1 + rnd(Math.min(LIO_MAX, phaseTarget - accepted));
  let ids = nextId;
  for (let i = 0; i < n; i++) {
    const cb = s.lio[i] as AioControlBlock;
    const r = rnd(16);
    if (r === 0) {
      list.push(null);
      continue;
    }
    if (r === 1) {
      cb.aio_lio_opcode = LIO_NOP;
      list.push(cb);
      continue;
    }
    cb.aio_lio_opcode = r < 10 ? LIO_READ : LIO_WRITE;
    cb.aio_fildes = randomFd();
    const len = randomLen();
    cb.aio_nbytes = len;
    cb.aio_offset = randomOffset(len);
    cb.aio_reqprio = 0;
    if (rnd(2) === 0) {
      const sev = s.lioSev[i] as SigEvent;
      sev.sigev_value = ids * SLOT_MUL + s.index;
      cb.aio_sigevent = sev;
    } else {
      cb.aio_sigevent = SEV_NONE;
    }
    list.push(cb);
    s.lioBlocks.push(cb);
    s.lioIds.push(ids++);
    s.lioExpect.push(len);
  }
  const kind = wait ? K_LIO_WAIT : K_LIO_NOWAIT;
  if (wait) {
    // Ids are final before the call: its notifications may not run inside it, but be safe.
    nextId = ids;
    accepted += s.lioIds.length;
    kindRequests[kind] = (kindRequests[kind] as number) + s.lioIds.length;
    s.id = -1;
    void lio_listio(LIO_WAIT, list, list.length).then(s.onLioWait);
    return true;
  }
  const listId = ids++;
  s.listSev.sigev_value = listId * SLOT_MUL + s.index;
  const rc = lio_listio(LIO_NOWAIT, list, list.length, s.listSev);
  if (rc !== 0) {
    refused++;
    if (problems.length < 20) problems.push(`lio_listio(LIO_NOWAIT) refused: ${String(lastError())}`);
    // Entries may have been queued anyway (EAGAIN / EIO): treat them as accepted so that they are tallied.
  }
  nextId = ids;
  accepted += s.lioIds.length;
  listsAccepted++;
  kindRequests[kind] = (kindRequests[kind] as number) + s.lioIds.length;
  s.id = listId;
  return true;
}

/** Checks every entry of the slot's finished list, then starts the next operation. */
function finishList(s: Slot, rc: number): void {
  // errno as lio_listio left it, before aio_return below sets it again.
  const rcErrno = errno();
  let failed = 0;
  for (let i = 0; i < s.lioBlocks.length; i++) {
    const cb = s.lioBlocks[i] as AioControlBlock;
    const id = s.lioIds[i] as number;
    const err = aio_error(cb);
    if (err === EINPROGRESS) {
      problem(`${KIND_NAMES[s.kind]} entry #${id}: list done while the entry is in progress`);
      continue;
    }
    if (cb.aio_sigevent === SEV_NONE) {
      count(id);
    } else if ((counts[id] as number) === 0) {
      problem(`${KIND_NAMES[s.kind]} entry #${id}: list done before the entry's own notification`);
    }
    const rv = aio_return(cb);
    if (err === 0) {
      if (rv !== s.lioExpect[i]) unexpected(`list entry #${id}: aio_return ${rv}, expected ${String(s.lioExpect[i])}`);
      else outcomes.ok++;
    } else if (err === ECANCELED) {
      outcomes.canceled++;
      failed++;
    } else {
      unexpected(`list entry #${id}: aio_error ${err}`);
      failed++;
    }
  }
  if (s.kind === K_LIO_WAIT) {
    if (rc === -1) actions.lioWaitFailed++;
    const want = failed > 0 ? -1 : 0;
    if (rc !== want) problem(`lio_listio(LIO_WAIT) resolved ${rc} with ${failed} failed entries`);
    // errno is process-wide: notifications that ran in the same engine turn as the list's
    // completion (and failed calls they made) may have set it again before this
    // continuation runs. Counted, not judged: the SPEC lets the next failing call overwrite it.
    if (rc === -1 && rcErrno !== EIO) actions.lioWaitErrnoClobbered++;
  }
  issue(s);
}

function lioWaitDone(s: Slot, rc: number): void {
  finishList(s, rc);
}

/** LIO_NOWAIT list notifications. */
function onListSig(value: unknown): void {
  const v = value as number;
  const slotIndex = v % SLOT_MUL;
  const id = (v - slotIndex) / SLOT_MUL;
  if (!count(id)) return;
  const s = slots[slotIndex] as Slot;
  if (!s.busy || s.kind !== K_LIO_NOWAIT || s.id !== id) return problem(`list #${id}: notified while its slot carries another operation`);
  finishList(s, 0);
}

// ---- nng ----------------------------------------------------------------------------------

function issueNng(s: Slot, kind: number): boolean {
  const aio = s.aio;
  nng_aio_set_timeout(aio, rnd(10) === 0 ? 1 + rnd(3) : NNG_DURATION_DEFAULT);
  const id = newId();
  s.id = id;
  accepted++;
  kindRequests[kind] = (kindRequests[kind] as number) + 1;
  const fd = randomFd();
  if (kind === K_NNG_FSYNC) {
    s.nngWant = 0;
    nng_file_fsync(fd, aio);
    return true;
  }
  const k = rnd(16);
  const iov = s.iovs[k] as NngIov[];
  nng_aio_set_iov(aio, iov.length, iov);
  const len = 512 * ((k & 7) + 1);
  s.nngWant = len;
  const off = randomOffset(len);
  if (kind === K_NNG_READ) nng_file_read(fd, off, aio);
  else nng_file_write(fd, rnd(8) === 0 ? BigInt(off) : off, aio);
  return true;
}

/** The callback of every slot's handle. */
function onNng(arg: unknown): void {
  const s = arg as Slot;
  const id = s.id;
  if (!s.busy || s.kind < K_NNG_READ) {
    problem(`nng callback on slot ${s.index} with no nng operation in flight`);
    return;
  }
  if (!count(id)) return;
  const rv = nng_aio_result(s.aio);
  const n = nng_aio_count(s.aio);
  if (rv === 0) {
    if (n !== s.nngWant) unexpected(`${KIND_NAMES[s.kind]} #${id}: count ${n}, expected ${s.nngWant}`);
    else outcomes.ok++;
  } else if (rv === NNG_ECANCELED) outcomes.canceled++;
  else if (rv === NNG_ETIMEDOUT) outcomes.timedOut++;
  else if (rv === NNG_ECONNRESET) outcomes.aborted++;
  else unexpected(`${KIND_NAMES[s.kind]} #${id}: result ${rv}`);
  issue(s);
}

// ---- the Promise face ---------------------------------------------------------------------

/** Options of one Promise-face request: sometimes an AbortSignal (aborted by a later cancel), sometimes a 1-3 ms timeout. */
function promiseOptions(s: Slot): { signal?: AbortSignal; timeout?: number; priority?: number } {
  s.usedSignal = false;
  const r = rnd(20);
  if (r < 2) {
    if (s.ac.signal.aborted) s.ac = new AbortController();
    s.usedSignal = true;
    return { signal: s.ac.signal };
  }
  if (r === 2) return { timeout: 1 + rnd(3) };
  if (r === 3) return { priority: rnd(21) };
  return {};
}

function issuePromise(s: Slot, kind: number): boolean {
  const fd = randomFd();
  const opts = promiseOptions(s);
  if (kind === K_PROM_BATCH) {
    const n = 1 + rnd(Math.min(LIO_MAX, phaseTarget - accepted));
    s.batchOps.length = 0;
    s.batchWant.length = 0;
    s.batchIds.length = 0;
    for (let i = 0; i < n; i++) {
      const len = randomLen();
      const f = randomFd();
      const position = randomOffset(len);
      const buffer = s.batchBufs[i] as Buffer;
      s.batchOps.push(rnd(2) === 0 ? { op: 'read', fd: f, buffer, length: len, position } : { op: 'write', fd: f, buffer, length: len, position });
      s.batchWant.push(len);
      s.batchIds.push(newId());
    }
    accepted += n;
    kindRequests[kind] = (kindRequests[kind] as number) + n;
    s.id = -1;
    promises.batch(s.batchOps, opts).then(s.onBatch, s.onPromErr);
    return true;
  }
  s.id = newId();
  accepted++;
  kindRequests[kind] = (kindRequests[kind] as number) + 1;
  let p: Promise<unknown>;
  if (kind === K_PROM_SYNC) {
    s.promWant = 0;
    p = rnd(2) === 0 ? promises.fsync(fd, opts) : promises.fdatasync(fd, opts);
  } else {
    const k = rnd(8);
    const len = 512 * (k + 1);
    const position = randomOffset(len);
    s.promWant = len;
    if (kind === K_PROM_READ) p = promises.read(fd, s.promBuf, { ...opts, length: len, position });
    else if (rnd(4) === 0) p = promises.writev(fd, s.promVecs[k] as Buffer[], { ...opts, position: BigInt(position) });
    else p = promises.write(fd, s.promBuf, { ...opts, length: len, position });
  }
  p.then(s.onPromOk, s.onPromErr);
  return true;
}

/** How a rejected Promise-face request ended; false when the reason is not one the mix can cause. */
function promiseFailure(e: unknown): boolean {
  const err = e as { name?: unknown; code?: unknown } | null;
  if (err?.name === 'AbortError' && err.code === 'ABORT_ERR') outcomes.aborted++;
  else if (err?.code === 'ETIMEDOUT') outcomes.timedOut++;
  else if (err?.code === 'ECANCELED') outcomes.canceled++;
  else return false;
  return true;
}

function promiseSettled(s: Slot, v: unknown, e: unknown): void {
  if (s.kind === K_PROM_BATCH) {
    // A batch rejects only for bad arguments or a signal aborted before the call: neither happens here.
    unexpected(`promises.batch rejected: ${String(e)}`);
    for (const id of s.batchIds) count(id);
    return issue(s);
  }
  if (!count(s.id)) return;
  if (e !== null) {
    if (!promiseFailure(e)) unexpected(`${KIND_NAMES[s.kind]} #${s.id}: rejected with ${String(e)}`);
  } else if (s.kind === K_PROM_SYNC) {
    if (v !== undefined) unexpected(`${KIND_NAMES[s.kind]} #${s.id}: resolved ${String(v)}`);
    else outcomes.ok++;
  } else {
    const r = v as { bytesRead?: number; bytesWritten?: number };
    const n = s.kind === K_PROM_READ ? r.bytesRead : r.bytesWritten;
    if (n !== s.promWant) unexpected(`${KIND_NAMES[s.kind]} #${s.id}: ${String(n)} bytes, expected ${s.promWant}`);
    else outcomes.ok++;
  }
  issue(s);
}

function batchSettled(s: Slot, results: BatchResult[]): void {
  if (results.length !== s.batchIds.length) unexpected(`promises.batch: ${results.length} results for ${s.batchIds.length} entries`);
  for (let i = 0; i < s.batchIds.length; i++) {
    const id = s.batchIds[i] as number;
    if (!count(id)) continue;
    const r = results[i];
    if (r === undefined) continue;
    if (r.status === 'rejected') {
      if (!promiseFailure(r.reason)) unexpected(`promises.batch entry #${id}: rejected with ${String(r.reason)}`);
      continue;
    }
    const val = r.value as { bytesRead?: number; bytesWritten?: number };
    const n = (s.batchOps[i] as BatchOp).op === 'read' ? val.bytesRead : val.bytesWritten;
    if (n !== s.batchWant[i]) unexpected(`promises.batch entry #${id}: ${String(n)} bytes, expected ${String(s.batchWant[i])}`);
    else outcomes.ok++;
  }
  issue(s);
}

// ---- random cancellation ----------------------------------------------------------------

function maybeCancelSomething(from: Slot): void {
  if (rnd(5000) === 0) {
    const fd = randomFd();
    const r = aio_cancel(fd, null);
    if (r < 0 || r > 2) unexpected(`aio_cancel(${fd}, null) returned ${r}: ${String(lastError())}`);
    else actions.aioCancelFd[r] = (actions.aioCancelFd[r] as number) + 1;
    return;
  }
  if (rnd(100) >= 3) return;
  const t = slots[rnd(SLOTS)] as Slot;
  if (!t.busy) return;
  let cb: AioControlBlock | null = null;
  if (t.kind >= K_PROM_READ) {
    if (t.usedSignal && !t.ac.signal.aborted) {
      actions.promiseAborts++;
      t.ac.abort();
    }
    return;
  }
  if (t.kind <= K_FSYNC_THREAD) cb = t.cb;
  else if (t.kind <= K_LIO_NOWAIT) cb = t.lioBlocks.length > 0 ? (t.lioBlocks[rnd(t.lioBlocks.length)] as AioControlBlock) : null;
  else {
    if (!nng_aio_busy(t.aio)) return;
    if (rnd(2) === 0) {
      actions.nngCancel++;
      nng_aio_cancel(t.aio);
    } else {
      actions.nngAbort++;
      nng_aio_abort(t.aio, NNG_ECONNRESET);
    }
    return;
  }
  if (cb === null) return;
  const r = aio_cancel(cb.aio_fildes, cb);
  if (r !== AIO_CANCELED && r !== AIO_NOTCANCELED && r !== AIO_ALLDONE) {
    unexpected(`aio_cancel(fd, cb) returned ${r}: ${String(lastError())} (slot ${from.index} canceling slot ${t.index})`);
  } else {
    actions.aioCancelOne[r] = (actions.aioCancelOne[r] as number) + 1;
  }
}

// ---- the run ------------------------------------------------------------------------------

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Waits `n` turns of the event loop. */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Handles of the standard streams, which are not ours to close. */
function stdioResources(): string[] {
  const out: string[] = [];
  for (const s of [process.stdout, process.stderr]) {
    const type = (s as unknown as { _type?: string })._type;
    if (type === 'pipe') out.push('PipeWrap');
    else if (type === 'tty') out.push('TTYWrap');
  }
  return out;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

async function main(): Promise<void> {
  // Touch both standard streams now, so their handles exist before and after alike.
  void process.stdout;
  void process.stderr;
  const t0 = performance.now();
  await runPhase(WARMUP);
  const tw = performance.now();
  await turns(3);
  const heapStart = heapAfterGc();
  const t1 = performance.now();
  const acceptedAtStart = accepted;
  await runPhase(OPS);
  const t2 = performance.now();
  await turns(3);
  const heapEnd = heapAfterGc();

  // The tally: every id issued must have exactly one completion.
  const { once, twice, never, neverIds } = tallyNow();
  const engineCounters = counters();
  const engineIdle = engineCounters.queued === 0 && engineCounters.inFlight === 0 && engineCounters.submitted === engineCounters.completed;

  // Tear down: free the handles, close the files through the library, remove them.
  for (const s of slots) nng_aio_free(s.aio);
  const closes = await Promise.all(fds.map((fd) => aio_close(fd)));
  fs.rmSync(dir, { recursive: true, force: true });
  clearInterval(watchdog);
  await turns(2);
  const resources = process.getActiveResourcesInfo();
  const leftover = [...resources];
  for (const r of stdioResources()) {
    const i = leftover.indexOf(r);
    if (i >= 0) leftover.splice(i, 1);
  }

  // Throughput over the time spent running operations (the gc between the phases excluded).
  const totalMs = tw - t0 + (t2 - t1);
  const mainMs = t2 - t1;
  const ratio = heapEnd / heapStart;
  const tallyPerfect = never === 0 && twice === 0 && once === nextId && outcomes.unexpected === 0 && violations === 0;
  const closedOk = closes.every((r) => r === 0);
  const pass = tallyPerfect && engineIdle && leftover.length === 0 && ratio <= HEAP_LIMIT && closedOk;

  const report = {
    ops: OPS,
    slots: SLOTS,
    seed: SEED,
    warmupOps: acceptedAtStart,
    node: process.version,
    uvThreadpoolSize: Number(process.env['UV_THREADPOOL_SIZE'] ?? 4),
    tally: {
      accepted,
      listNotifications: listsAccepted,
      expected: nextId,
      completedOnce: once,
      completedTwiceOrMore: twice,
      neverCompleted: never,
      neverCompletedIds: neverIds,
      refused,
      perfect: tallyPerfect,
    },
    outcomes,
    violations,
    problems,
    kinds: Object.fromEntries(KIND_NAMES.map((name, k) => [name, { chosen: kindChosen[k], requests: kindRequests[k] }])),
    actions,
    timeMs: Math.round(totalMs),
    mainPhaseMs: Math.round(mainMs),
    opsPerSec: Math.round((accepted / totalMs) * 1000),
    mainPhaseOpsPerSec: Math.round(((accepted - acceptedAtStart) / mainMs) * 1000),
    heap: { start: heapStart, end: heapEnd, ratio: Math.round(ratio * 10000) / 10000, limit: HEAP_LIMIT },
    maxOutstanding,
    engine: { ...engineCounters, idle: engineIdle },
    closes,
    activeResources: resources,
    openHandles: leftover,
    pass,
  };

  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    const t = report.tally;
    const lines = [
      `posix-aio soak: ${fmt(accepted)} operations (${fmt(acceptedAtStart)} warm-up), ${SLOTS} slots, seed ${SEED}, ${process.version}, UV_THREADPOOL_SIZE ${report.uvThreadpoolSize}`,
      '',
      'exactly-once tally',
      `  accepted requests        ${fmt(t.accepted)}  (+ ${fmt(t.listNotifications)} LIO_NOWAIT list notifications = ${fmt(t.expected)} expected completions)`,
      `  completed once           ${fmt(t.completedOnce)}`,
      `  completed twice or more  ${fmt(t.completedTwiceOrMore)}`,
      `  never completed          ${fmt(t.neverCompleted)}${neverIds.length > 0 ? `  (ids ${neverIds.join(', ')})` : ''}`,
      `  refused submissions      ${fmt(t.refused)}`,
      `  outcomes                 ok ${fmt(outcomes.ok)}, canceled ${fmt(outcomes.canceled)}, timed out ${fmt(outcomes.timedOut)}, aborted ${fmt(outcomes.aborted)}, unexpected ${fmt(outcomes.unexpected)}`,
      `  contract violations      ${fmt(violations)}`,
      ...problems.map((p) => `    ${p}`),
      '',
      'mix (chosen / requests)',
      ...KIND_NAMES.map((name, k) => `  ${name.padEnd(24)} ${fmt(kindChosen[k] as number).padStart(10)} / ${fmt(kindRequests[k] as number)}`),
      `  aio_cancel(fd, cb)       canceled ${fmt(actions.aioCancelOne[0] as number)}, not canceled ${fmt(actions.aioCancelOne[1] as number)}, all done ${fmt(actions.aioCancelOne[2] as number)}`,
      `  aio_cancel(fd, null)     canceled ${fmt(actions.aioCancelFd[0] as number)}, not canceled ${fmt(actions.aioCancelFd[1] as number)}, all done ${fmt(actions.aioCancelFd[2] as number)}`,
      `  nng_aio_cancel / abort   ${fmt(actions.nngCancel)} / ${fmt(actions.nngAbort)}`,
      `  aio_suspend              ${fmt(actions.suspendCalls)} calls (${fmt(actions.suspendPolls)} {0,0} polls): woken ${fmt(actions.suspendWoken)}, timed out ${fmt(actions.suspendTimedOut)}`,
      `  lio_listio(LIO_WAIT) -1  ${fmt(actions.lioWaitFailed)} (errno no longer EIO when the continuation ran: ${fmt(actions.lioWaitErrnoClobbered)})`,
      `  AbortController.abort    ${fmt(actions.promiseAborts)} (Promise-face requests carrying its signal)`,
      '',
      `throughput                 ${fmt(report.opsPerSec)} ops/s over ${(totalMs / 1000).toFixed(1)} s (main phase ${fmt(report.mainPhaseOpsPerSec)} ops/s)`,
      `heap after gc              start ${fmt(heapStart)} B, end ${fmt(heapEnd)} B, end/start ${ratio.toFixed(4)} (limit ${HEAP_LIMIT})`,
      `max outstanding            ${fmt(maxOutstanding)}`,
      `engine counters()         ${Object.entries(engineCounters).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}`,
      `aio_close of the files     ${closes.join(', ')}`,
      `active resources at end    ${JSON.stringify(resources)} (open handles besides stdio: ${JSON.stringify(leftover)})`,
      '',
      pass ? 'PASS' : 'FAIL',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  finished = true;
  if (!pass) process.exitCode = 1;
}

// ---- stalls: a lost completion must not pass for a clean exit ------------------------------

let finished = false;

/** Prints what is stuck, with the tally so far, and marks the run failed. */
function reportStall(why: string): void {
  finished = true;
  process.exitCode = 1;
  const tally = tallyNow();
  const busy = slots.filter((s) => s.busy);
  const stall = {
    stalled: why,
    accepted,
    expected: nextId,
    tally,
    busySlots: busy.length,
    examples: busy.slice(0, 10).map((s) => ({ slot: s.index, kind: KIND_NAMES[s.kind] ?? s.kind, id: s.id, lioIds: s.lioIds, batchIds: s.batchIds, nngBusy: nng_aio_busy(s.aio) })),
    polledSigevNone: pollSlots.length,
    engine: counters(),
    problems,
    pass: false,
  };
  if (JSON_OUT) process.stdout.write(`${JSON.stringify(stall)}\n`);
  else process.stdout.write(`STALLED: ${why}\n${JSON.stringify(stall, null, 2)}\nFAIL\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

// Requests outstanding and nothing left that could complete them: the event loop empties.
process.on('beforeExit', () => {
  if (!finished) reportStall('the event loop emptied while requests were outstanding: a completion was lost');
});

// Requests outstanding and no completion for STALL_MS (something keeps the loop alive, e.g. a poller).
let lastCompletions = -1;
let quietSince = performance.now();
const watchdog = setInterval(() => {
  if (completions !== lastCompletions) {
    lastCompletions = completions;
    quietSince = performance.now();
    return;
  }
  if (performance.now() - quietSince < STALL_MS) return;
  reportStall(`no completion for ${STALL_MS} ms while requests were outstanding`);
  process.exit(1);
}, Math.min(1000, STALL_MS));
watchdog.unref();

main().catch((err: unknown) => {
  finished = true;
  console.error(err);
  process.exitCode = 1;
});
