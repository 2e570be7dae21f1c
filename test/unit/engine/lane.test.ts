import { Engine } from '../../../src/engine/queue';
import { Lane } from '../../../src/engine/lane';
import { BLOCKED, DONE, OP_FDATASYNC, OP_FSYNC, OP_READ, OP_WRITE, type Op, Request } from '../../../src/engine/request';
import { HeldBackend } from '../../helpers/held-backend';
import { flush, mustCall } from '../../helpers/mustcall';

let eng: Engine;
let held: HeldBackend;

beforeEach(() => {
  eng = new Engine();
  eng.maxOutstanding = 1 << 20;
  held = new HeldBackend().open(10).open(30, { append: true }).open(20, { seekable: false });
  held.use(1, eng);
});

afterEach(() => {
  held.autoRelease = 0;
  held.releaseAll();
});

/** A small deterministic PRNG (mulberry32), so a failing mix can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function laneOf(fd: number): Lane {
  const lane = eng.laneFor(fd);
  if (typeof lane === 'number') throw new Error(`fd ${fd}: errno ${lane}`);
  return lane;
}

/** Cancels what is queued and completes what is in flight, until the engine is idle. */
async function settle(): Promise<void> {
  eng.cancelFd(10);
  while (eng.outstanding > 0) {
    held.releaseAll();
    await flush(2);
  }
}

function outstanding(lane: Lane): Request[] {
  const all: Request[] = [];
  for (let r = lane.head; r !== null; r = r.laneNext) all.push(r);
  return all;
}

/**
 * The plain rule (SPEC §2), as the engine applied it before the index: every earlier
 * outstanding non-barrier request whose range overlaps where one of the two is a
 * write; an earlier gated one overlaps everything. Only for requests that look hazards
 * up at all (positioned, not gated, on a seekable descriptor).
 */
function plainHazards(req: Request, lane: Lane): Request[] {
  const isWrite = req.op === OP_WRITE;
  if (!isWrite && lane.writes === 0) return [];
  const start = Number(req.pos);
  const end = start + req.len;
  const found: Request[] = [];
  for (const e of outstanding(lane)) {
    if (e.isBarrier) continue;
    const eWrite = e.op === OP_WRITE;
    if (!isWrite && !eWrite) continue;
    // A write gated only because it came alone while the flags were unknown is an
    // ordinary one by the time `req` looks (the engine reads the flags first), unless
    // the descriptor appends (fd 30 in these tests).
    const provisionalOnly = e === lane.provisional && lane.fd !== 30;
    if (!e.gated || provisionalOnly) {
      const eStart = Number(e.pos);
      if (req.len === 0 || e.len === 0 || eStart >= end || eStart + e.len <= start) continue;
    }
    found.push(e);
  }
  return found;
}

/** The earlier requests the engine made `req` wait for (those listing it as a dependent). */
function engineHazards(req: Request, lane: Lane): Request[] {
  return outstanding(lane).filter((e) => e.dependents?.includes(req) === true);
}

describe('Lane: hazard index', () => {
  // Small ranges in 16 KB exercise crowded grid chunks (more than 32: the rest go to
  // the tree); lengths spread from 1 byte to 2 MiB over 8 MiB exercise every grid
  // level, chunk-boundary crossings and the tree for the long ones.
  test.each([
    [1, 'small'],
    [2, 'small'],
    [3, 'small'],
    [4, 'small'],
    [5, 'small'],
    [6, 'small'],
    [7, 'spread'],
    [8, 'spread'],
    [9, 'spread'],
  ] as const)('gives the plain rule’s blockers and dependents on a random mix of reads, writes, gated requests, barriers, cancels and completions (seed %i, %s ranges)', async (seed, sizes) => {
    const rand = prng(seed);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const live: Request[] = [];
    let submitted = 0;
    let edges = 0;
    for (let step = 0; step < 600; step++) {
      const action = rand();
      if (action < 0.6 || live.length === 0) {
        const fd = pick([10, 10, 10, 10, 10, 30, 30, 20]);
        const roll = rand();
        const op: Op = roll < 0.06 ? OP_FSYNC : roll < 0.08 ? OP_FDATASYNC : roll < 0.5 ? OP_READ : OP_WRITE;
        const len = rand() < 0.08 ? 0 : sizes === 'small' ? 1 + Math.floor(rand() * 3000) : Math.floor(2 ** (rand() * 21));
        const at = Math.floor(rand() * (sizes === 'small' ? 16_000 : 8 << 20));
        const pos = op >= OP_FSYNC ? 0 : rand() < 0.08 ? null : rand() < 0.1 ? BigInt(at) : at;
        const buf = op <= OP_WRITE ? new Uint8Array(Math.max(len, 1)) : null;
        const req = new Request(op, fd, pos, buf, null, len, Math.floor(rand() * 3), mustCall<[Request]>(), null);
        const lane = laneOf(fd);
        const looksUp = op <= OP_WRITE && pos !== null && fd !== 20 && !(fd === 30 && op === OP_WRITE);
        const expected = looksUp ? plainHazards(req, lane) : [];
        eng.submit(req, lane);
        submitted++;
        edges += expected.length;
        expect(req.blockers).toBe(expected.length);
        expect(new Set(engineHazards(req, lane))).toEqual(new Set(expected));
        live.push(req);
      } else if (action < 0.8) {
        const req = pick(live);
        eng.cancel(req);
      } else if (held.pending.length > 0) {
        held.releaseNext();
        await flush(1);
      }
      for (let i = live.length - 1; i >= 0; i--) if ((live[i] as Request).state === DONE) live.splice(i, 1);
      // Completions and cancels keep the counts right: each blocked request waits exactly
      // for the outstanding requests that list it.
      for (const fd of [10, 20, 30]) {
        const lane = eng.laneFor(fd) as Lane;
        if (lane.count === 0) continue;
        for (const r of outstanding(lane)) if (!r.gated && r.state === BLOCKED) expect(engineHazards(r, lane)).toHaveLength(r.blockers);
      }
    }
    held.autoRelease = 0;
    while (eng.outstanding > 0) {
      held.releaseAll();
      await flush(2);
    }
    expect(eng.completed).toBe(submitted);
    // The mix is dense enough to exercise the index: many edges, not a trivial pass.
    expect(edges).toBeGreaterThan(100);
  });

  test('a new read among 100,000 outstanding disjoint writes and reads inspects fewer than 100 index entries', async () => {
    const lane = laneOf(10);
    const done = mustCall<[Request]>(() => {}, 100_000);
    const buf = new Uint8Array(4096);
    for (let i = 0; i < 100_000; i++) eng.submit(new Request(i % 2 === 0 ? OP_WRITE : OP_READ, 10, i * 8192, buf, null, 4096, 0, done, null), lane);
    const before = lane.inspected;
    const read = new Request(OP_READ, 10, 50_000 * 8192 + 2048, new Uint8Array(4096), null, 4096, 0, mustCall<[Request]>(), null);
    eng.submit(read, lane);
    expect(read.blockers).toBe(1); // the write at 50,000 * 8192
    expect(lane.inspected - before).toBeGreaterThan(0);
    expect(lane.inspected - before).toBeLessThan(100);
    const middle = lane.inspected;
    const write = new Request(OP_WRITE, 10, 70_001 * 8192 + 2048, new Uint8Array(4096), null, 4096, 0, mustCall<[Request]>(), null);
    eng.submit(write, lane);
    expect(write.blockers).toBe(1); // the read at 70,001 * 8192
    expect(lane.inspected - middle).toBeLessThan(200); // both trees
    await settle();
  });

  test('a crowded chunk (more than 32 requests) and requests longer than the grid still give the plain rule, before and after cancels', async () => {
    const lane = laneOf(10);
    const reads: Request[] = [];
    // 100 reads in one 16 KiB chunk: 32 listed in it, 68 sent to the tree; and 3 of 1 MiB (tree only).
    for (let i = 0; i < 100; i++) reads.push(new Request(OP_READ, 10, i * 100, new Uint8Array(300), null, 300, 0, mustCall<[Request]>(), null));
    for (let i = 0; i < 3; i++) reads.push(new Request(OP_READ, 10, i * 5000, new Uint8Array(1 << 20), null, 1 << 20, 0, mustCall<[Request]>(), null));
    for (const r of reads) eng.submit(r, lane);
    const check = (pos: number, len: number): void => {
      const w = new Request(OP_WRITE, 10, pos, new Uint8Array(len), null, len, 0, mustCall<[Request]>(), null);
      const expected = plainHazards(w, lane);
      eng.submit(w, lane);
      expect(expected.length).toBeGreaterThan(0);
      expect(w.blockers).toBe(expected.length);
      expect(new Set(engineHazards(w, lane))).toEqual(new Set(expected));
    };
    check(2_050, 10);
    check(9_999, 1);
    for (let i = 0; i < 100; i += 3) eng.cancel(reads[i] as Request);
    check(3_000, 4_000);
    check(20_000, 1);
    await settle();
  });

  test('a read with no write outstanding inspects nothing', async () => {
    const lane = laneOf(10);
    const done = mustCall<[Request]>(() => {}, 1000);
    for (let i = 0; i < 1000; i++) eng.submit(new Request(OP_READ, 10, i * 4096, new Uint8Array(4096), null, 4096, 0, done, null), lane);
    eng.submit(new Request(OP_READ, 10, 0, new Uint8Array(4096), null, 4096, 0, mustCall<[Request]>(), null), lane);
    expect(lane.inspected).toBe(0);
    await settle();
  });

  test('a write spanning many others waits for each overlapping one exactly once', async () => {
    const lane = laneOf(10);
    const reads: Request[] = [];
    for (let i = 0; i < 200; i++) {
      const r = new Request(OP_READ, 10, i * 100, new Uint8Array(150), null, 150, 0, mustCall<[Request]>(), null);
      eng.submit(r, lane);
      reads.push(r);
    }
    const write = new Request(OP_WRITE, 10, 5_000, new Uint8Array(10_000), null, 10_000, 0, mustCall<[Request]>(), null);
    eng.submit(write, lane);
    // Reads starting in (4850, 15000) overlap [5000, 15000): 49..149.
    const expected = reads.filter((r) => (r.pos as number) + 150 > 5_000 && (r.pos as number) < 15_000);
    expect(write.blockers).toBe(expected.length);
    expect(new Set(engineHazards(write, lane))).toEqual(new Set(expected));
    await settle();
  });

  test('reads enter the index only when a write first looks: those already gone are never in it, the rest are found', async () => {
    const lane = laneOf(10);
    const reads: Request[] = [];
    for (let i = 0; i < 100; i++) {
      const r = new Request(OP_READ, 10, i * 4096, new Uint8Array(4096), null, 4096, 0, mustCall<[Request]>(), null);
      eng.submit(r, lane);
      reads.push(r);
    }
    // Half of them leave before any write: canceled (the first is in flight and stays).
    for (let i = 1; i < 100; i += 2) eng.cancel(reads[i] as Request);
    const w1 = new Request(OP_WRITE, 10, 0, new Uint8Array(100 * 4096), null, 100 * 4096, 0, mustCall<[Request]>(), null);
    eng.submit(w1, lane);
    // Every read still outstanding (50 of them), and none of those canceled before.
    expect(new Set(engineHazards(w1, lane))).toEqual(new Set(reads.filter((r) => r.state !== DONE)));
    expect(w1.blockers).toBe(50);
    // Reads after the first write are indexed as they come; a second write finds them too.
    const late = new Request(OP_READ, 10, 500 * 4096, new Uint8Array(4096), null, 4096, 0, mustCall<[Request]>(), null);
    eng.submit(late, lane);
    const w2 = new Request(OP_WRITE, 10, 500 * 4096, new Uint8Array(4096), null, 4096, 0, mustCall<[Request]>(), null);
    eng.submit(w2, lane);
    expect(engineHazards(w2, lane)).toEqual([late]);
    await settle();
  });

  test('canceling barriers out of order keeps the others', async () => {
    const lane = laneOf(10);
    const w = new Request(OP_WRITE, 10, 0, new Uint8Array(4), null, 4, 0, mustCall<[Request]>(), null);
    eng.submit(w, lane);
    const b1 = new Request(OP_FSYNC, 10, 0, null, null, 0, 0, mustCall<[Request]>(), null);
    const b2 = new Request(OP_FSYNC, 10, 0, null, null, 0, 0, mustCall<[Request]>(), null);
    const b3 = new Request(OP_FDATASYNC, 10, 0, null, null, 0, 0, mustCall<[Request]>(), null);
    for (const b of [b1, b2, b3]) eng.submit(b, lane);
    eng.cancel(b2);
    expect([...lane.barriers]).toEqual([b1, b3]);
    held.releaseNext({ error: 'EIO' });
    await flush(1);
    // Both remaining barriers cover the failed write.
    expect(b1.coveredError).not.toBe(0);
    expect(b3.coveredError).not.toBe(0);
    held.releaseAll();
    await flush(2);
    held.releaseAll();
    await flush(2);
    expect(lane.count).toBe(0);
  });
});
