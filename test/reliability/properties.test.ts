/**
 * Property-based tests (fast-check): random programs of POSIX and nng requests,
 * cancellations, suspends, timeouts and closes, run against real temp files and
 * against a simulated file behind the held backend, and checked against a shadow
 * model (test/reliability/model.ts).
 *
 * Invariants checked after every program:
 *
 * 1. Every accepted request completes exactly once: each SIGEV_THREAD notify
 *    function, SIGEV_SIGNAL listener call and nng callback is counted; none runs
 *    twice, none is missing (including list notifications of LIO_NOWAIT, and none
 *    arrives after its program was checked).
 * 2. aio_error's final value agrees with aio_return (bytes, or -1 with errno set to
 *    the same error; a second aio_return is -1/EINVAL) and with what aio_error showed
 *    when the notification ran; the nng result and count seen in the callback agree
 *    with nng_aio_result/nng_aio_count and with the operation (a successful write
 *    moved the whole iov, a read at most the iov, fsync 0). Every non-zero final code
 *    must be one something in the program caused: ECANCELED after a cancel or close,
 *    EAGAIN exactly when the outstanding limit was reached, EBADF exactly after
 *    aio_close, NNG_ETIMEDOUT only with a timeout, NNG_ESTOPPED exactly after stop,
 *    an abort code only after nng_aio_abort with it.
 * 3. File contents equal the shadow byte for byte: the initial content with every
 *    write that completed applied in submission order (overlapping writes complete in
 *    submission order, SPEC §2). A read that completed returns exactly the model's
 *    bytes for its range given the overlapping writes submitted before it (holes read
 *    as zeros).
 * 4. No notification or callback runs inside the library call that caused it (a flag
 *    is set around every library call; a notification that sees it fails).
 * 5. No error POSIX lists ever throws from the C faces: every call is wrapped, and any
 *    exception fails the property (no malformed arguments are passed here).
 * 6. No request runs on a descriptor after aio_close was called on it: a recording
 *    backend (wrapping nodeBackend) logs every descriptor operation; none starts on
 *    the descriptor after the aio_close call, and the descriptor is closed once, after
 *    every operation on it has ended. The in-flight cap (aio_threads) holds throughout.
 * 7. Requests that were canceled (or refused) never touch their buffers: read buffers
 *    are filled with a sentinel that must survive a failed or canceled read (and the
 *    bytes past a successful read's count); a canceled write's bytes (each write has
 *    its own byte value) appear nowhere in the file.
 *
 * The held-backend properties also check the ordering rules from the dispatch log:
 * two requests on one descriptor whose ranges overlap with one a write, every pair on
 * a non-seekable descriptor, writes on an O_APPEND descriptor, and an fsync after
 * every earlier request: the later one is dispatched only after the earlier one
 * completed; an fsync reports the failure of a write it covers.
 *
 * Replaying a failure: fast-check prints `seed` and `path` in its error. Run
 *
 *   PROP_SEED=<seed> PROP_PATH=<path> npx jest test/reliability/properties.test.ts -t '<test name>'
 *
 * (`-t` picks the property the seed belongs to). PROP_RUNS=<n> changes the number of
 * programs per property (defaults below keep the file well under 40 s on 2 cores).
 * Real-file programs depend on thread-pool timing, so a replay reproduces the program,
 * not necessarily the interleaving; held-backend programs replay exactly.
 */
import fc from 'fast-check';
import {
  AIO_PRIO_DELTA_MAX,
  NNG_DURATION_DEFAULT,
  NNG_DURATION_INFINITE,
  NNG_DURATION_ZERO,
  NNG_ECONNRESET,
  NNG_EINTR,
} from '../../src/index';
import { engine } from '../../src/engine/queue';
import { cleanup } from '../helpers/files';
import {
  HANDLES,
  lateArrivals,
  runHeldProgram,
  runRealProgram,
  SIGNAL_NAME,
  signalListener,
  stats,
  type HeldProgram,
  type LioEntrySpec,
  type Notify,
  type Op,
  type RealProgram,
} from './model';

const env = process.env;
const runs = (fallback: number): number => {
  const n = Number(env['PROP_RUNS']);
  return Number.isInteger(n) && n > 0 ? n : fallback;
};

/** fast-check parameters: numRuns, plus the replay seed and path when given. */
function params(fallbackRuns: number): fc.Parameters<unknown> {
  const p: fc.Parameters<unknown> = { numRuns: runs(fallbackRuns), interruptAfterTimeLimit: 240_000, markInterruptAsFailure: false };
  const seed = Number(env['PROP_SEED']);
  if (env['PROP_SEED'] !== undefined && Number.isInteger(seed)) p.seed = seed;
  if (env['PROP_PATH'] !== undefined) p.path = env['PROP_PATH'];
  return p;
}

/** The merge counts so far: the engine's (requests) and the model's (merged calls, and the requests it attributed to them). */
function mergeCounts(): { engine: number; calls: number; requests: number } {
  return { engine: engine().counters.merged, calls: stats['merged calls'] ?? 0, requests: stats['merged requests'] ?? 0 };
}

/**
 * After a property: the engine merged requests during it (the programs reach merged
 * calls), and the model attributed every merged request (the engine's count, per
 * request, equals the requests the model found in multi-request backend calls). A
 * replay of one program (PROP_PATH) need not merge.
 */
function expectMerged(before: ReturnType<typeof mergeCounts>): void {
  const now = mergeCounts();
  if (env['PROP_STATS'] !== undefined) console.log(`merged: engine ${now.engine - before.engine} requests; model ${now.calls - before.calls} calls, ${now.requests - before.requests} requests`);
  expect(now.requests - before.requests).toBe(now.engine - before.engine);
  if (env['PROP_PATH'] !== undefined) return;
  expect(now.engine - before.engine).toBeGreaterThan(0);
  expect(now.calls - before.calls).toBeGreaterThan(0);
}

/** Runs a program and fails with every violation it found. */
async function pass(violations: Promise<string[]>): Promise<void> {
  const v = await violations;
  if (v.length > 0) throw new Error(`${v.length} invariant violation(s):\n- ${v.join('\n- ')}`);
}

beforeAll(() => {
  process.on(SIGNAL_NAME, signalListener);
  // Merging stays at the engine's default: the model attributes a merged readv/writev
  // to each request it carries (model.ts, SimBackend), and the programs submit runs of
  // adjacent requests (`burst` below) so that merged calls happen in every property.
});

afterAll(() => {
  if (env['PROP_STATS'] !== undefined) console.log(Object.entries(stats).sort().map(([k, v]) => `${k}: ${v}`).join('\n'));
  process.off(SIGNAL_NAME, signalListener);
  cleanup();
});

afterEach(() => {
  expect(lateArrivals).toEqual([]);
  expect(engine().outstanding).toBe(0);
});

// ---------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------

const notify = fc.constantFrom<Notify>('thread', 'thread', 'signal', 'none');
const prio = fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: AIO_PRIO_DELTA_MAX }), weight: 1 });
const fileIndex = fc.nat({ max: 2 });
const offset = fc.nat({ max: 120 });
const length = fc.nat({ max: 40 });
const content = fc.uint8Array({ max: 0x7f, maxLength: 96 });

const rw = fc.record({ f: fileIndex, off: offset, len: length, prio, notify });

const lioEntry: fc.Arbitrary<LioEntrySpec> = fc.oneof(
  { arbitrary: rw.map((s) => ({ kind: 'read' as const, ...s })), weight: 3 },
  { arbitrary: rw.map((s) => ({ kind: 'write' as const, ...s })), weight: 3 },
  { arbitrary: fileIndex.map((f) => ({ kind: 'nop' as const, f })), weight: 1 },
  { arbitrary: fc.constant({ kind: 'null' as const }), weight: 1 },
);

const handle = fc.nat({ max: HANDLES - 1 });

interface OpOptions {
  /** Held programs: nothing may wait for a real completion, and time does not pass. */
  held: boolean;
  /** Smallest iov entry of nng reads and writes (held programs map buffers to requests, so no empty iov). */
  minIov: number;
}

function opArb(o: OpOptions): fc.Arbitrary<Op> {
  const lens = fc.array(fc.nat({ max: 24 }).map((n) => Math.max(n, o.minIov)), { minLength: 1, maxLength: 3 });
  const timeouts = o.held ? fc.constantFrom(NNG_DURATION_ZERO, NNG_DURATION_DEFAULT) : fc.constantFrom(NNG_DURATION_ZERO, 1, 2, 3, 5, NNG_DURATION_INFINITE, NNG_DURATION_DEFAULT);
  const arbs: Array<{ arbitrary: fc.Arbitrary<Op>; weight: number }> = [
    { arbitrary: rw.map((s): Op => ({ t: 'read', ...s })), weight: 4 },
    { arbitrary: rw.map((s): Op => ({ t: 'write', ...s })), weight: 5 },
    { arbitrary: fc.record({ f: fileIndex, dsync: fc.boolean(), notify }).map((s): Op => ({ t: 'fsync', ...s })), weight: 1 },
    {
      arbitrary: fc
        .record({ wait: fc.boolean(), awaitNow: fc.boolean(), listNotify: fc.boolean(), entries: fc.array(lioEntry, { maxLength: 4, size: 'max' }) })
        .map((s): Op => ({ t: 'lio', ...s })),
      weight: 2,
    },
    { arbitrary: fc.record({ h: handle, f: fileIndex, off: offset, lens }).map((s): Op => ({ t: 'nread', ...s })), weight: 2 },
    { arbitrary: fc.record({ h: handle, f: fileIndex, off: offset, lens }).map((s): Op => ({ t: 'nwrite', ...s })), weight: 3 },
    { arbitrary: fc.record({ h: handle, f: fileIndex, dsync: fc.boolean() }).map((s): Op => ({ t: 'nsync', ...s })), weight: 1 },
    { arbitrary: fc.record({ h: handle, ms: timeouts }).map((s): Op => ({ t: 'ntimeout', ...s })), weight: 1 },
    { arbitrary: handle.map((h): Op => ({ t: 'ncancel', h })), weight: 1 },
    { arbitrary: fc.record({ h: handle, code: fc.constantFrom(NNG_ECONNRESET, NNG_EINTR) }).map((s): Op => ({ t: 'nabort', ...s })), weight: 1 },
    { arbitrary: fc.record({ h: handle, awaitIt: o.held ? fc.constant(false) : fc.boolean() }).map((s): Op => ({ t: 'nstop', ...s })), weight: 0.3 as number },
    { arbitrary: fc.nat().map((k): Op => ({ t: 'cancel1', k })), weight: 2 },
    { arbitrary: fileIndex.map((f): Op => ({ t: 'cancelfd', f })), weight: 1 },
    { arbitrary: fc.record({ ks: fc.array(fc.nat(), { maxLength: 3 }), ms: o.held ? fc.constant(0) : fc.nat({ max: 3 }) }).map((s): Op => ({ t: 'suspend', ...s })), weight: 1 },
    { arbitrary: fc.nat({ max: 3 }).map((turns): Op => ({ t: 'yield', turns })), weight: 2 },
  ];
  if (!o.held) arbs.push({ arbitrary: fc.integer({ min: 1, max: 3 }).map((ms): Op => ({ t: 'sleep', ms })), weight: 1 });
  if (o.held) {
    const release = fc
      .record({
        k: fc.nat(),
        short: fc.option(fc.constantFrom(0, 0.25, 0.5, 0.75), { freq: 4 }),
        error: fc.nat({ max: 11 }).map((x) => x === 0),
        settle: fc.boolean(),
      })
      .map((s): Op => ({ t: 'release', ...s }));
    arbs.push({ arbitrary: release, weight: 8 });
    arbs.push({ arbitrary: fileIndex.map((f): Op => ({ t: 'close', f, probe: false })), weight: 0.3 as number });
  }
  // fast-check wants integer weights: scale.
  return fc.oneof(...arbs.map((a) => ({ arbitrary: a.arbitrary, weight: Math.round(a.weight * 10) })));
}

/**
 * A run of 2..5 requests of one kind on one file whose ranges continue one another
 * (POSIX aio_read/aio_write, or nng reads and writes on distinct handles), submitted
 * back to back, in file order or not: what the engine merges into one readv/writev
 * when they are ready together (queued behind the in-flight cap, or held behind a
 * completion), handing bytes out in file order and completing in submission order.
 */
function burst(o: OpOptions): fc.Arbitrary<Op[]> {
  const piece = fc.record({ len: fc.integer({ min: Math.max(1, o.minIov), max: 16 }), nng: fc.nat({ max: 3 }).map((x) => x === 0), prio: fc.constant(0), notify });
  return fc
    .record({
      kind: fc.constantFrom<'read' | 'write'>('read', 'write'),
      f: fileIndex,
      off: offset,
      pieces: fc.array(piece, { minLength: 2, maxLength: 5 }),
      // Submission order against file order: ascending, descending, or rotated.
      reverse: fc.boolean(),
      rotate: fc.nat({ max: 4 }),
    })
    .map(({ kind, f, off, pieces, reverse, rotate }) => {
      const ops: Op[] = [];
      let at = off;
      let h = 0;
      for (const p of pieces) {
        if (p.nng && h < HANDLES) ops.push({ t: kind === 'read' ? 'nread' : 'nwrite', h: h++, f, off: at, lens: [p.len] });
        else ops.push({ t: kind, f, off: at, len: p.len, prio: p.prio, notify: p.notify });
        at += p.len;
      }
      if (reverse) ops.reverse();
      const k = rotate % ops.length;
      return ops.slice(k).concat(ops.slice(0, k));
    });
}

/** Program operations: single operations, and now and then a burst of adjacent requests. */
function opsArb(o: OpOptions, maxLength: number): fc.Arbitrary<Op[]> {
  const single = opArb(o).map((op) => [op]);
  return fc
    .array(fc.oneof({ arbitrary: single, weight: 9 }, { arbitrary: burst(o), weight: 1 }), { minLength: 1, maxLength, size: 'max' })
    .map((parts) => parts.flat());
}

const realOps = opsArb({ held: false, minIov: 0 }, 25);
const heldOps = opsArb({ held: true, minIov: 1 }, 30);

function realProgram(limits: fc.Arbitrary<{ threads: number; max: number }>): fc.Arbitrary<RealProgram> {
  return fc
    .record({
      limits,
      files: fc.array(content, { minLength: 2, maxLength: 2 }),
      ops: realOps,
      close: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      submitDuringClose: fc.boolean(),
    })
    .map(({ limits: l, ...rest }) => ({ ...l, ...rest }));
}

function heldProgram(nngShort: boolean): fc.Arbitrary<HeldProgram> {
  return fc.record({
    threads: fc.integer({ min: 1, max: 3 }),
    files: fc.tuple(content, content).map(([a, b]) => [
      { kind: 'seekable' as const, initial: a },
      { kind: 'stream' as const, initial: new Uint8Array(0) },
      { kind: 'append' as const, initial: b },
    ]),
    ops: heldOps,
    nngShort: fc.constant(nngShort),
  });
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

describe('random programs on real files', () => {
  test('mixed POSIX and nng programs keep the seven invariants (in-flight cap 1..4, default limits)', async () => {
    const before = mergeCounts();
    await fc.assert(
      fc.asyncProperty(realProgram(fc.record({ threads: fc.integer({ min: 1, max: 4 }), max: fc.constant(512) })), (p) => pass(runRealProgram(p))),
      params(100),
    );
    expectMerged(before);
  }, 300_000);

  test('programs at a tiny outstanding limit refuse with EAGAIN exactly when full and keep the invariants', async () => {
    const before = mergeCounts();
    await fc.assert(
      fc.asyncProperty(realProgram(fc.record({ threads: fc.integer({ min: 1, max: 2 }), max: fc.integer({ min: 1, max: 6 }) })), (p) => pass(runRealProgram(p))),
      params(50),
    );
    expectMerged(before);
  }, 300_000);
});

describe('random programs on the held backend (completion order chosen by the program)', () => {
  test('completions released in random order keep the ordering rules, the model and the invariants', async () => {
    const before = mergeCounts();
    await fc.assert(
      fc.asyncProperty(heldProgram(false), (p) => pass(runHeldProgram(p))),
      params(100),
    );
    expectMerged(before);
  }, 300_000);

  test('short vectored writes resumed by nng_file_write keep submission order with other writes', async () => {
    const before = mergeCounts();
    await fc.assert(
      fc.asyncProperty(heldProgram(true), (p) => pass(runHeldProgram(p))),
      params(50),
    );
    expectMerged(before);
  }, 300_000);
});
