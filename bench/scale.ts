/**
 * Scale: what one more request costs with a million queued, against the same with a
 * thousand queued (issue 4: "within 2x"; SPEC §4: O(log n) or better), and the heap
 * each queued request takes beyond its buffer (issue 4: <= 300 bytes).
 *
 * Timing: a real {@link Engine} over a backend that never completes on its own (the
 * bench plays libuv and completes the one in-flight call when it measures dispatch),
 * with an in-flight cap of 1 so that everything else stays queued. The queue holds a
 * write in flight at offset 0, then reads and (every 16th) writes of 4 KiB at
 * distinct, non-adjacent offsets, so hazard lookups are live for every new request;
 * each measured request half-overlaps one queued request.
 * Measured, per operation, `--reps` times on each queue size:
 * - submit: laneFor + submit of a 4 KiB read or write (alternately) at a random offset;
 * - cancel: canceling that request again (the queue keeps its size);
 * - dispatch: completing the call in flight and ending the engine's hold on dispatch
 *   (Engine.dispatchHeld; the event loop would end it at the check phase), which
 *   dispatches the next queued request (a replacement is submitted, untimed, to keep
 *   the size).
 * Each pass builds both queues afresh and takes the median operation of each kind (a
 * sum would be dominated by the few operations preempted on a shared machine or met
 * by a garbage collection); the medians of the passes are printed with the ratio
 * big/small of each pass, measured in the same run. A first, discarded pass warms
 * the JIT up.
 *
 * Memory: the process engine through the POSIX face: one write outstanding, then
 * `--mem` aio_read calls, each with its own AioControlBlock and one shared Buffer, all
 * held queued (aio_threads 1 on the never-completing backend). The heapUsed delta
 * after a full GC, divided by the count: control block, its registry entry, the
 * engine's request and every index it sits in; and, measured apart, the bytes of the
 * control blocks alone, so that the library's share is printed too. Offsets stay below 2 GiB (small
 * integers); larger offsets add a boxed number per field that holds one.
 *
 * Usage: npx tsx bench/scale.ts [--reps 1000] [--passes 3] [--small 1000] [--big 1000000] [--mem 1000000] [--mem-write 1]
 */
import { performance } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { AioControlBlock, aio_init, aio_read, aio_write } from '../src/index';
import type { FdStat, FsBackend, IoCallback } from '../src/engine/dispatch';
import type { Lane } from '../src/engine/lane';
import { Engine, engine } from '../src/engine/queue';
import { OP_READ, OP_WRITE, type Op, Request } from '../src/engine/request';
import { numberFlag } from './args';

const REPS = numberFlag('reps', 1000);
const PASSES = numberFlag('passes', 3);
const SMALL = numberFlag('small', 1000);
const BIG = numberFlag('big', 1_000_000);
const MEM = numberFlag('mem', 1_000_000);
/** 0: measure memory without the outstanding write (no hazard lookups at all). */
const MEM_WRITE = numberFlag('mem-write', 1);

const FD = 1000;
const BS = 4096;
/** Queued requests sit this far apart: never adjacent, so none merge. */
const STRIDE = 2 * BS;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** A backend whose calls complete only when the bench says so. */
class NeverBackend implements FsBackend {
  readonly held: Array<{ cb: IoCallback; n: number }> = [];
  read(_fd: number, _buf: ArrayBufferView, length: number, _pos: number | bigint | null, cb: IoCallback): void {
    this.held.push({ cb, n: length });
  }
  readv(_fd: number, bufs: readonly ArrayBufferView[], _pos: number | null, cb: IoCallback): void {
    this.held.push({ cb, n: bufs.reduce((n, b) => n + b.byteLength, 0) });
  }
  write(_fd: number, _buf: ArrayBufferView, length: number, _pos: number | null, cb: IoCallback): void {
    this.held.push({ cb, n: length });
  }
  writev(_fd: number, bufs: readonly ArrayBufferView[], _pos: number | null, cb: IoCallback): void {
    this.held.push({ cb, n: bufs.reduce((n, b) => n + b.byteLength, 0) });
  }
  fsync(_fd: number, cb: IoCallback): void {
    this.held.push({ cb, n: 0 });
  }
  fdatasync(_fd: number, cb: IoCallback): void {
    this.held.push({ cb, n: 0 });
  }
  close(_fd: number, cb: IoCallback): void {
    process.nextTick(cb, null, 0);
  }
  fstat(): FdStat {
    return { dev: 1, ino: 1, seekable: true };
  }
  fdflags(): number {
    return 2; // O_RDWR, no O_APPEND: positioned writes, hazards by byte range
  }
  /** Plays libuv: completes the oldest call in flight (the engine then dispatches the next). */
  completeOldest(): void {
    const h = this.held.shift();
    if (h === undefined) throw new Error('scale bench: nothing in flight');
    h.cb(null, h.n);
  }
}

const buf = Buffer.alloc(BS);
const noop = (): void => {};

function submit(eng: Engine, op: Op, pos: number): Request {
  const req = new Request(op, FD, pos, buf, null, BS, 0, noop, null);
  eng.submit(req, eng.laneFor(FD) as Lane);
  return req;
}

/**
 * A random offset within the first `n` slots, half-overlapping the request queued
 * there and adjacent to nothing (adjacent requests would merge into one call).
 */
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

const randomPos = (n: number): number => Math.floor(Math.random() * n) * STRIDE + BS / 2;

interface Costs {
  submit: number;
  cancel: number;
  dispatch: number;
}

/** Per-operation microseconds with `n` requests queued. */
function measure(n: number): Costs {
  const eng = new Engine();
  const backend = new NeverBackend();
  eng.backend = backend;
  eng.maxOutstanding = Number.MAX_SAFE_INTEGER;
  eng.setMaxInFlight(1);
  submit(eng, OP_WRITE, 0); // in flight: the descriptor has a write outstanding throughout
  for (let i = 1; i < n; i++) submit(eng, i % 16 === 0 ? OP_WRITE : OP_READ, i * STRIDE);
  if (eng.outstanding !== n) throw new Error(`scale bench: ${eng.outstanding} outstanding, expected ${n}`);
  const tSubmit: number[] = [];
  const tCancel: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const op = r % 2 === 0 ? OP_READ : OP_WRITE;
    const pos = randomPos(n);
    const t0 = performance.now();
    const req = submit(eng, op, pos);
    const t1 = performance.now();
    eng.cancel(req);
    const t2 = performance.now();
    tSubmit.push(t1 - t0);
    tCancel.push(t2 - t1);
  }
  const tDispatch: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    backend.completeOldest();
    eng.dispatchHeld(); // the engine holds dispatch after a completion until the check phase; end the hold now
    tDispatch.push(performance.now() - t0);
    submit(eng, r % 16 === 0 ? OP_WRITE : OP_READ, randomPos(n));
  }
  if (eng.outstanding !== n || backend.held.length !== 1) throw new Error('scale bench: the queue changed size');
  // The median operation: on a shared machine a sum is dominated by the few operations
  // that were preempted or met a garbage collection.
  const us = (ms: number[]): number => median(ms) * 1000;
  return { submit: us(tSubmit), cancel: us(tCancel), dispatch: us(tDispatch) };
}

/** Heap bytes per AioControlBlock as the memory bench builds them, not submitted (the user's part of a request). */
function bytesPerBlock(m: number): number {
  const blocks: AioControlBlock[] = new Array<AioControlBlock>(m).fill(null as unknown as AioControlBlock);
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < m; i++) blocks[i] = new AioControlBlock({ aio_fildes: FD, aio_buf: buf, aio_nbytes: BS, aio_offset: ((i + 1) * BS) % 2 ** 30 });
  gc();
  gc();
  const per = (process.memoryUsage().heapUsed - before) / m;
  blocks.length = 0;
  return per;
}

/** Heap bytes per queued aio_read (control block included), with a write outstanding. */
function memoryPerRequest(m: number): number {
  const backend = new NeverBackend();
  const eng = engine();
  eng.backend = backend;
  aio_init({ aio_threads: 1, aio_max: m + 1 });
  const blocks: AioControlBlock[] = new Array<AioControlBlock>(m).fill(null as unknown as AioControlBlock);
  const write = new AioControlBlock({ aio_fildes: FD, aio_buf: buf, aio_nbytes: BS, aio_offset: 0 });
  if (MEM_WRITE !== 0 && aio_write(write) !== 0) throw new Error('scale bench: aio_write refused');
  gc();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < m; i++) {
    const cb = new AioControlBlock({ aio_fildes: FD, aio_buf: buf, aio_nbytes: BS, aio_offset: ((i + 1) * BS) % 2 ** 30 });
    if (aio_read(cb) !== 0) throw new Error(`scale bench: aio_read ${i} refused`);
    blocks[i] = cb;
  }
  gc();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (eng.counters.queued + eng.counters.inFlight !== m + (MEM_WRITE !== 0 ? 1 : 0)) throw new Error('scale bench: requests not held');
  const per = (after - before) / m;
  // Let go: the engine and the blocks are garbage once the process is done with them.
  blocks.length = 0;
  return per;
}

const rows: Record<keyof Costs, { small: number[]; big: number[]; ratio: number[] }> = {
  submit: { small: [], big: [], ratio: [] },
  cancel: { small: [], big: [], ratio: [] },
  dispatch: { small: [], big: [], ratio: [] },
};
const started = performance.now();
measure(SMALL); // warm-up: let the JIT compile the engine before anything counts
/** One turn of the event loop: the engine's end-of-hold callbacks (setImmediate) run and let go of it. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
for (let p = 0; p < PASSES; p++) {
  // A turn of the event loop, then a full collection before each: the previous pass's
  // million requests are garbage (once the engine's pending setImmediate has run: this
  // bench is otherwise synchronous, and each pass's engine stayed reachable from it,
  // 260 MB a pass) that the collector would otherwise be marking while this pass measures.
  await turn();
  gc();
  const small = measure(SMALL);
  await turn();
  gc();
  const big = measure(BIG);
  for (const k of Object.keys(rows) as Array<keyof Costs>) {
    rows[k].small.push(small[k]);
    rows[k].big.push(big[k]);
    rows[k].ratio.push(big[k] / small[k]);
  }
}
console.log(`scale: ${REPS} reps, ${PASSES} passes, ${SMALL} vs ${BIG} queued (a write outstanding); median op of each pass, then median of passes, microseconds`);
console.log('op         small      big   big/small (per pass)');
for (const k of Object.keys(rows) as Array<keyof Costs>) {
  const r = rows[k];
  const passes = r.ratio.map((x) => x.toFixed(2)).join(' ');
  console.log(`${k.padEnd(9)} ${median(r.small).toFixed(2).padStart(7)} ${median(r.big).toFixed(2).padStart(8)}   ${median(r.ratio).toFixed(2).padStart(6)} (${passes})`);
}
const block = bytesPerBlock(MEM);
const mem = memoryPerRequest(MEM);
console.log(`memory: ${mem.toFixed(1)} heap bytes per queued aio_read (${MEM} queued, control block included, buffer shared)`);
console.log(`        ${(mem - block).toFixed(1)} of them the library's (request, registry entry, indexes), ${block.toFixed(1)} the control block's`);
console.log(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
