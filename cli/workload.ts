/**
 * The workload runner: one job (a read or write pattern at a fixed depth for a fixed
 * time) through one interface, returning its numbers. `posix-aio bench` runs one job;
 * bench/run.ts runs a matrix of them.
 *
 * Every interface is driven the same way: `iodepth` slots, each with its own buffer,
 * each issuing its next request as soon as its previous one is reported complete,
 * until the run time is over; then the outstanding requests drain. The scheduler
 * ({@link Sched}) hands out positions (random or sequential, block aligned), inserts
 * an fsync after every `fsync` writes, and counts every submission and completion,
 * so exactly-once delivery is checked for every interface alike. Latency is measured
 * as the caller sees it: from the submitting call to the moment the completion is
 * observed (callback, resolved promise, aio_suspend wake-up).
 *
 * This module may use node:fs (the raw baselines, opening the data file); the
 * library itself does not.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { createHistogram, monitorEventLoopDelay, performance, type RecordableHistogram } from 'node:perf_hooks';
import {
  AioControlBlock,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  configurePolling,
  EINPROGRESS,
  errno,
  lastError,
  LIO_READ,
  LIO_WAIT,
  LIO_WRITE,
  lio_listio,
  nng_aio_alloc,
  nng_aio_count,
  nng_aio_free,
  nng_aio_result,
  nng_aio_set_iov,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
  nng_strerror,
  O_SYNC,
  SIGEV_THREAD,
  strerror,
  sysconf,
  _SC_AIO_LISTIO_MAX,
  _SC_AIO_MAX,
  type NngAio,
  type PollSettings,
} from '../src/index';
import { counters, promises, type Counters } from './lib';

export type Rw = 'randread' | 'randwrite' | 'read' | 'write';
export type Api = 'posix' | 'nng' | 'promise' | 'raw' | 'fspromises' | 'lio';
export type Notify = 'suspend' | 'thread';
/** Where the slots' buffers come from: see {@link JobConfig.buffers}. */
export type BufferKind = 'alloc' | 'mapped';

/** The interfaces that go through the library's engine. */
export const LIBRARY_APIS: readonly Api[] = ['posix', 'lio', 'nng', 'promise'];

/** One job. */
export interface JobConfig {
  rw: Rw;
  /** Bytes per request. */
  bs: number;
  /** Requests outstanding at once. */
  iodepth: number;
  /** Bytes of the file the positions cover (a whole number of blocks is used). */
  size: number;
  /** How long to keep submitting, in milliseconds. */
  runtimeMs: number;
  api: Api;
  /** An fsync after every N writes; 0 = never. */
  fsync: number;
  /** Path of the data file: it must exist and hold `size` bytes for reads. */
  file: string;
  /** posix api: aio_suspend (default) or SIGEV_THREAD. */
  notify?: Notify;
  /** lio api: entries per lio_listio call; default a quarter of the depth. */
  batch?: number;
  /** In-flight cap to set with aio_init before the job (library apis); 0/undefined = leave it. */
  threads?: number;
  /** Polling window to set with configurePolling before the job (library apis); undefined = leave it. */
  poll?: number;
  /** Measure fairness: a 1-iteration crypto.pbkdf2 probe every 5 ms, and event-loop delay. */
  probe?: boolean;
  /** Stops submitting early (Ctrl-C). */
  signal?: AbortSignal;
  /** Seed of the random positions. */
  seed?: number;
  /**
   * The slots' buffers, for every api alike. 'alloc' (the default): one
   * `Buffer.allocUnsafe(bs)` per slot, as a program writes it; whether malloc maps a
   * large one (its first byte 16 bytes into a page) or carves it from its heap depends
   * on the allocator's history, so their address modulo 4096 is not known. 'mapped':
   * Buffers that start 16 bytes into a page for certain (see {@link slotBuffers}).
   */
  buffers?: BufferKind;
}

/** What a progress callback sees. */
export interface Progress {
  readonly elapsedMs: number;
  readonly runtimeMs: number;
  /** Data requests completed so far. */
  readonly ops: number;
  readonly bytes: number;
  /** Submitted and not yet observed complete. */
  readonly outstanding: number;
  /** The engine's queue right now (library apis), else null. */
  readonly engine: Counters | null;
}

export interface JobHooks {
  /** Called every `progressMs` while the job runs. */
  onProgress?: (p: Progress) => void;
  progressMs?: number;
  /**
   * Called for every completed request with its caller-side timing
   * (`performance.now()` milliseconds); used to trace the raw baselines, which
   * publish nothing on the library's channels.
   */
  onRequest?: (op: 'read' | 'write' | 'fsync', startMs: number, endMs: number, result: number, error: string | null) => void;
}

/** Latency percentiles, in microseconds. */
export interface Latency {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** The result of one job. */
export interface JobStats {
  rw: Rw;
  api: Api;
  bs: number;
  iodepth: number;
  size: number;
  runtimeMs: number;
  fsync: number;
  /** posix: how completions were awaited; lio: entries per call. */
  notify: Notify | null;
  batch: number | null;
  /** Library apis: the in-flight cap in effect; null for raw and fspromises. */
  inFlightCap: number | null;
  /** Library apis: the polling settings in effect (configurePolling); null for raw and fspromises. */
  poll: PollSettings | null;
  /** From the first submission until the last completion was observed (the IOPS divisor). */
  elapsedMs: number;
  /** Data requests (reads or writes) that completed successfully. */
  ops: number;
  bytes: number;
  /** ops per second. */
  iops: number;
  /** bytes per second. */
  bandwidth: number;
  /** Every request issued (data requests and fsyncs). */
  submitted: number;
  /** Every completion observed; equals `submitted` when nothing was lost or doubled. */
  completed: number;
  /** Completions observed more than once for one submission (must be 0). */
  duplicates: number;
  fsyncs: number;
  errors: number;
  /** The first failure, as text. */
  firstError: string | null;
  /** Short transfers (fewer bytes than bs, without an error). */
  short: number;
  lat: Latency;
  fsyncLat: Latency | null;
  /** The engine's counters over the job (deltas; queued and inFlight at the end), library apis only. */
  engine: Counters | null;
  /** pbkdf2 probe: median and p99 wait for a thread-pool thread (ms), when probed. */
  probe: { samples: number; medianMs: number; p99Ms: number } | null;
  /** Event-loop delay during the job (ms beyond the monitor's 2 ms sampling interval), when probed. */
  loopDelay: { p50Ms: number; p99Ms: number; maxMs: number } | null;
}

/** `next()` results besides a position. */
const FSYNC = -1;
const STOP = -2;

/** Positions, fsync insertion, counting and latency for one job. */
class Sched {
  readonly bs: number;
  readonly isWrite: boolean;
  /** Hands out the slots' buffers (see {@link slotBuffers}). */
  readonly buffer: () => Buffer;
  readonly #random: boolean;
  readonly #blocks: number;
  readonly #fsyncEvery: number;
  readonly #runtimeMs: number;
  readonly #depth: number;
  #deadline = Infinity;
  readonly #signal: AbortSignal | undefined;
  readonly #onRequest: JobHooks['onRequest'];
  #cursor = 0;
  #seed: number;
  #writesSinceSync = 0;
  #stopped = false;

  submitted = 0;
  completed = 0;
  ops = 0;
  bytes = 0;
  fsyncs = 0;
  errors = 0;
  short = 0;
  firstError: string | null = null;
  /** When the first request was issued: the run's clock starts there. */
  firstAt = 0;
  lastEnd = 0;
  readonly lat: RecordableHistogram = createHistogram();
  readonly fsyncLat: RecordableHistogram = createHistogram();

  constructor(cfg: JobConfig, onRequest: JobHooks['onRequest']) {
    this.bs = cfg.bs;
    this.isWrite = cfg.rw === 'write' || cfg.rw === 'randwrite';
    this.buffer = slotBuffers(cfg.buffers ?? 'alloc', cfg.bs, this.isWrite);
    this.#random = cfg.rw === 'randread' || cfg.rw === 'randwrite';
    this.#blocks = Math.max(1, Math.floor(cfg.size / cfg.bs));
    this.#fsyncEvery = this.isWrite ? cfg.fsync : 0;
    this.#runtimeMs = cfg.runtimeMs;
    this.#depth = cfg.iodepth;
    this.#signal = cfg.signal;
    this.#seed = (cfg.seed ?? 0x2545f491) >>> 0 || 1;
    this.#onRequest = onRequest;
  }

  /**
   * Whether submitting should stop: the run time is over (counted from the first
   * submission, and never before every slot has issued its first request, so that a
   * stall on a loaded machine cannot leave a run empty), or the signal aborted.
   */
  get stopping(): boolean {
    if (!this.#stopped) {
      if (this.#signal?.aborted === true) this.#stopped = true;
      else if (this.submitted >= this.#depth && performance.now() >= this.#deadline) this.#stopped = true;
    }
    return this.#stopped;
  }

  /** The next request: a byte position, FSYNC, or STOP. Counts it as submitted unless STOP. */
  next(): number {
    if (this.submitted === 0 && this.firstAt === 0) {
      this.firstAt = performance.now();
      this.#deadline = this.firstAt + this.#runtimeMs;
    }
    if (this.stopping) return STOP;
    this.submitted++;
    if (this.#fsyncEvery > 0 && this.#writesSinceSync >= this.#fsyncEvery) {
      this.#writesSinceSync = 0;
      return FSYNC;
    }
    if (this.isWrite) this.#writesSinceSync++;
    let block: number;
    if (this.#random) {
      // xorshift32: fast, and the same sequence for every api given the same seed.
      let x = this.#seed;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.#seed = x >>> 0;
      block = this.#seed % this.#blocks;
    } else {
      block = this.#cursor;
      this.#cursor = this.#cursor + 1 === this.#blocks ? 0 : this.#cursor + 1;
    }
    return block * this.bs;
  }

  /**
   * Records one completion.
   *
   * @param kind FSYNC or a position.
   * @param t0 when it was submitted.
   * @param result bytes transferred (0 for fsync), or -1 on failure.
   * @param error the failure as text, or null.
   */
  end(kind: number, t0: number, result: number, error: string | null): void {
    const t1 = performance.now();
    this.lastEnd = t1;
    this.completed++;
    const ns = Math.max(1, Math.round((t1 - t0) * 1e6));
    if (error !== null) {
      this.errors++;
      this.firstError ??= error;
    } else if (kind === FSYNC) {
      this.fsyncs++;
      this.fsyncLat.record(ns);
    } else {
      this.ops++;
      this.bytes += result;
      if (result < this.bs) this.short++;
      this.lat.record(ns);
    }
    this.#onRequest?.(kind === FSYNC ? 'fsync' : this.isWrite ? 'write' : 'read', t0, t1, result, error);
  }
}

function latency(h: RecordableHistogram): Latency {
  const us = (ns: number): number => Math.round(ns / 10) / 100;
  if (h.count === 0) return { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    min: us(h.min),
    mean: us(h.mean),
    p50: us(h.percentile(50)),
    p90: us(h.percentile(90)),
    p99: us(h.percentile(99)),
    p999: us(h.percentile(99.9)),
    max: us(h.max),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function nodeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code !== undefined ? `${e.code}: ${e.message}` : String(err);
}

/** lio api: entries per list when not given. */
export function defaultBatch(iodepth: number): number {
  return Math.max(1, Math.ceil(iodepth / 4));
}

type Driver = (s: Sched, fd: number, cfg: JobConfig) => Promise<void>;

/** Callback fs.read/fs.write: the baseline. */
const rawDriver: Driver = (s, fd, cfg) =>
  new Promise((resolve) => {
    let live = cfg.iodepth;
    const slot = (buf: Buffer): void => {
      const pos = s.next();
      if (pos === STOP) {
        if (--live === 0) resolve();
        return;
      }
      const t0 = performance.now();
      if (pos === FSYNC) {
        fs.fsync(fd, (err) => {
          s.end(FSYNC, t0, err === null ? 0 : -1, err === null ? null : nodeError(err));
          slot(buf);
        });
      } else if (s.isWrite) {
        fs.write(fd, buf, 0, s.bs, pos, (err, n) => {
          s.end(pos, t0, err === null ? n : -1, err === null ? null : nodeError(err));
          slot(buf);
        });
      } else {
        fs.read(fd, buf, 0, s.bs, pos, (err, n) => {
          s.end(pos, t0, err === null ? n : -1, err === null ? null : nodeError(err));
          slot(buf);
        });
      }
    };
    for (const buf of buffers(cfg.iodepth, s)) slot(buf);
  });

/** fs.promises FileHandle.read/write, one async loop per slot. */
const fsPromisesDriver: Driver = async (s, _fd, cfg) => {
  const fh = await fs.promises.open(cfg.file, s.isWrite ? 'r+' : 'r');
  try {
    const loop = async (buf: Buffer): Promise<void> => {
      for (let pos = s.next(); pos !== STOP; pos = s.next()) {
        const t0 = performance.now();
        try {
          if (pos === FSYNC) {
            await fh.sync();
            s.end(FSYNC, t0, 0, null);
          } else if (s.isWrite) {
            const r = await fh.write(buf, 0, s.bs, pos);
            s.end(pos, t0, r.bytesWritten, null);
          } else {
            const r = await fh.read(buf, 0, s.bs, pos);
            s.end(pos, t0, r.bytesRead, null);
          }
        } catch (err) {
          s.end(pos, t0, -1, nodeError(err));
        }
      }
    };
    const loops: Promise<void>[] = [];
    for (const buf of buffers(cfg.iodepth, s)) loops.push(loop(buf));
    await Promise.all(loops);
  } finally {
    await fh.close();
  }
};

/** The Promise face, one async loop per slot. */
const promiseDriver: Driver = async (s, fd, cfg) => {
  const p = promises;
  const loop = async (buf: Buffer): Promise<void> => {
    for (let pos = s.next(); pos !== STOP; pos = s.next()) {
      const t0 = performance.now();
      try {
        if (pos === FSYNC) {
          await p.fsync(fd);
          s.end(FSYNC, t0, 0, null);
        } else if (s.isWrite) {
          const r = await p.write(fd, buf, { position: pos, length: s.bs });
          s.end(pos, t0, r.bytesWritten, null);
        } else {
          const r = await p.read(fd, buf, { position: pos, length: s.bs });
          s.end(pos, t0, r.bytesRead, null);
        }
      } catch (err) {
        s.end(pos, t0, -1, nodeError(err));
      }
    }
  };
  const loops: Promise<void>[] = [];
  for (const buf of buffers(cfg.iodepth, s)) loops.push(loop(buf));
  await Promise.all(loops);
};

function aioFailure(call: string, cb: AioControlBlock): string {
  const e = aio_error(cb);
  return `${call}: ${strerror(e)} (errno ${e})`;
}

/**
 * aio_read/aio_write. With `notify: 'suspend'` (the C idiom) one loop waits in
 * aio_suspend on the list of every outstanding block, then reaps all that are done
 * with aio_error/aio_return and resubmits them. With `notify: 'thread'` each block
 * carries a SIGEV_THREAD function that reaps and resubmits it.
 */
const posixDriver: Driver = (s, fd, cfg) =>
  new Promise((resolve, reject) => {
    const depth = cfg.iodepth;
    const thread = cfg.notify === 'thread';
    const blocks: AioControlBlock[] = [];
    const list: Array<AioControlBlock | null> = new Array<AioControlBlock | null>(depth).fill(null);
    const kinds = new Float64Array(depth);
    const starts = new Float64Array(depth);
    let live = 0;

    /** Issues slot i's next request; false when the slot retires. */
    const issue = (i: number): boolean => {
      const cb = blocks[i] as AioControlBlock;
      for (;;) {
        const pos = s.next();
        if (pos === STOP) {
          list[i] = null;
          return false;
        }
        const t0 = performance.now();
        let rc: number;
        if (pos === FSYNC) rc = aio_fsync(O_SYNC, cb);
        else {
          cb.aio_offset = pos;
          rc = s.isWrite ? aio_write(cb) : aio_read(cb);
        }
        if (rc === 0) {
          kinds[i] = pos;
          starts[i] = t0;
          list[i] = cb;
          return true;
        }
        // Refused at submission (EAGAIN, EINVAL): counted as a failed request; try the next one.
        s.end(pos, t0, -1, `${pos === FSYNC ? 'aio_fsync' : s.isWrite ? 'aio_write' : 'aio_read'} returned -1: ${lastError()?.message ?? strerror(errno())}`);
        if (s.errors > 1000) {
          list[i] = null;
          return false;
        }
      }
    };

    const reap = (i: number): void => {
      const cb = blocks[i] as AioControlBlock;
      const kind = kinds[i] as number;
      const err = aio_error(cb);
      const n = aio_return(cb);
      s.end(kind, starts[i] as number, err === 0 ? n : -1, err === 0 ? null : aioFailure(kind === FSYNC ? 'aio_fsync' : s.isWrite ? 'aio_write' : 'aio_read', cb));
    };

    for (let i = 0; i < depth; i++) {
      const cb: AioControlBlock = new AioControlBlock({ aio_fildes: fd, aio_buf: s.buffer(), aio_nbytes: s.bs });
      if (thread) {
        const slot = i;
        cb.aio_sigevent = {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: () => {
            reap(slot);
            if (!issue(slot) && --live === 0) resolve();
          },
        };
      }
      blocks.push(cb);
    }
    for (let i = 0; i < depth; i++) if (issue(i)) live++;
    if (live === 0) return resolve();
    if (thread) return;

    const loop = async (): Promise<void> => {
      while (live > 0) {
        if ((await aio_suspend(list, depth)) !== 0) throw new Error(`aio_suspend returned -1: ${lastError()?.message ?? strerror(errno())}`);
        for (let i = 0; i < depth; i++) {
          const cb = list[i];
          if (cb === null || cb === undefined || aio_error(cb) === EINPROGRESS) continue;
          reap(i);
          if (!issue(i)) live--;
        }
      }
    };
    loop().then(resolve, reject);
  });

/**
 * lio_listio(LIO_WAIT): the depth is split into lists of `batch` entries; each list
 * is submitted with one call, awaited as a whole, reaped, and submitted again. An
 * fsync due in a list is issued with aio_fsync once the list is done.
 */
const lioDriver: Driver = async (s, fd, cfg) => {
  const batch = Math.min(cfg.batch ?? defaultBatch(cfg.iodepth), cfg.iodepth);
  const lists: AioControlBlock[][] = [];
  for (let left = cfg.iodepth; left > 0; left -= batch) {
    const n = Math.min(batch, left);
    const l: AioControlBlock[] = [];
    for (let i = 0; i < n; i++) {
      l.push(new AioControlBlock({ aio_fildes: fd, aio_buf: s.buffer(), aio_nbytes: s.bs, aio_lio_opcode: s.isWrite ? LIO_WRITE : LIO_READ }));
    }
    lists.push(l);
  }
  const run = async (l: AioControlBlock[]): Promise<void> => {
    const sync = new AioControlBlock({ aio_fildes: fd });
    const positions = new Float64Array(l.length);
    for (;;) {
      let n = 0;
      let syncDue = false;
      while (n < l.length) {
        const pos = s.next();
        if (pos === STOP) break;
        if (pos === FSYNC) {
          syncDue = true;
          break;
        }
        positions[n] = pos;
        (l[n] as AioControlBlock).aio_offset = pos;
        n++;
      }
      if (n > 0) {
        const t0 = performance.now();
        await lio_listio(LIO_WAIT, l, n);
        for (let i = 0; i < n; i++) {
          const cb = l[i] as AioControlBlock;
          const err = aio_error(cb);
          const r = aio_return(cb);
          s.end(positions[i] as number, t0, err === 0 ? r : -1, err === 0 ? null : aioFailure('lio_listio entry', cb));
        }
      }
      if (syncDue) {
        const t0 = performance.now();
        if (aio_fsync(O_SYNC, sync) !== 0) {
          s.end(FSYNC, t0, -1, `aio_fsync returned -1: ${lastError()?.message ?? strerror(errno())}`);
        } else {
          await aio_suspend([sync], 1);
          const err = aio_error(sync);
          const r = aio_return(sync);
          s.end(FSYNC, t0, err === 0 ? r : -1, err === 0 ? null : aioFailure('aio_fsync', sync));
        }
        continue;
      }
      if (n < l.length) return;
    }
  };
  await Promise.all(lists.map(run));
};

/** One nng_aio handle per slot, its iov set once; the callback reaps and resubmits. */
const nngDriver: Driver = (s, fd, cfg) =>
  new Promise((resolve) => {
    const handles: NngAio[] = [];
    const starters: Array<() => void> = [];
    let live = cfg.iodepth;
    const finish = (): void => {
      for (const h of handles) nng_aio_free(h);
      resolve();
    };
    for (let i = 0; i < cfg.iodepth; i++) {
      let kind = 0;
      let t0 = 0;
      const issue = (aio: NngAio): void => {
        const pos = s.next();
        if (pos === STOP) {
          if (--live === 0) setImmediate(finish);
          return;
        }
        kind = pos;
        t0 = performance.now();
        if (pos === FSYNC) nng_file_fsync(fd, aio);
        else if (s.isWrite) nng_file_write(fd, pos, aio);
        else nng_file_read(fd, pos, aio);
      };
      const aio = nng_aio_alloc(() => {
        const rv = nng_aio_result(aio);
        s.end(kind, t0, rv === 0 ? nng_aio_count(aio) : -1, rv === 0 ? null : `nng: ${nng_strerror(rv)} (${rv})`);
        issue(aio);
      });
      const buf = s.buffer();
      nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: s.bs }]);
      handles.push(aio);
      starters.push(() => issue(aio));
    }
    for (const start of starters) start();
  });

const DRIVERS: Readonly<Record<Api, Driver>> = {
  raw: rawDriver,
  fspromises: fsPromisesDriver,
  posix: posixDriver,
  lio: lioDriver,
  nng: nngDriver,
  promise: promiseDriver,
};

/** One buffer per slot, made before the first request so that the clock does not run while they are filled. */
function buffers(n: number, s: Sched): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) out.push(s.buffer());
  return out;
}

/** Bytes of the Buffer 'mapped' buffers are views of: above glibc's largest mmap threshold. */
const MAPPED_BACKING = 33 * 1024 * 1024;

/**
 * A source of slot buffers of `bs` bytes, filled (random bytes for writes, zeros for
 * reads) as they are made.
 *
 * 'alloc': `Buffer.allocUnsafe(bs)` each.
 *
 * 'mapped': views, a page-multiple stride apart, of one `Buffer.allocUnsafeSlow` of
 * more than 32 MiB (another when it is full). Why these are ordinary Buffers that start
 * 16 bytes into a page: Node allocates a Buffer's memory with malloc, and glibc's
 * malloc maps every request above its largest mmap threshold (32 MiB on 64-bit; below
 * that its threshold floats between 128 KiB and 32 MiB with the program's history) in
 * a fresh mapping whose first 16 bytes are the chunk header, so the Buffer starts at a
 * page + 16, and each view at a page-multiple offset does too. That is exactly where a
 * fresh 1 MiB `Buffer.allocUnsafe` starts whenever malloc maps it (the 4K-aliasing case
 * of issue 4), but here for certain, whatever the allocator's history. The library
 * cannot tell these from any other Buffer (no WebAssembly memory involved).
 */
export function slotBuffers(kind: BufferKind, bs: number, random: boolean): () => Buffer {
  const fill = (b: Buffer): Buffer => (random ? crypto.randomFillSync(b) : b.fill(0));
  if (kind === 'alloc') return () => fill(Buffer.allocUnsafe(bs));
  const stride = Math.ceil(bs / 4096) * 4096;
  let backing: Buffer | null = null;
  let used = 0;
  return () => {
    if (backing === null || used + bs > backing.length) {
      backing = Buffer.allocUnsafeSlow(Math.max(MAPPED_BACKING, stride));
      used = 0;
    }
    const b = backing.subarray(used, used + bs);
    used += stride;
    return fill(b);
  };
}

function delta(a: Counters, b: Counters): Counters {
  return {
    submitted: b.submitted - a.submitted,
    completed: b.completed - a.completed,
    canceled: b.canceled - a.canceled,
    failed: b.failed - a.failed,
    merged: b.merged - a.merged,
    queued: b.queued,
    inFlight: b.inFlight,
    inFlightCap: b.inFlightCap,
  };
}

/** Sampling interval of the event-loop delay monitor. */
const LAG_RESOLUTION_MS = 2;

/**
 * Event-loop delay in ms from one of monitorEventLoopDelay's samples: on Node 20 a
 * sample is the whole interval between two ticks of its timer, so the sampling
 * interval itself is taken off.
 */
function lagMs(ns: number): number {
  return Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);
}

/** The pbkdf2 probe of bench/cap.ts: how long a foreign thread-pool job waits. */
function startProbe(stopAt: () => boolean, waits: number[]): void {
  const probe = (): void => {
    const t0 = performance.now();
    crypto.pbkdf2('p', 's', 1, 16, 'sha256', () => {
      waits.push(performance.now() - t0);
      if (!stopAt()) setTimeout(probe, 5);
    });
  };
  setTimeout(probe, 20);
}

/**
 * Runs one job.
 *
 * @returns its numbers. I/O errors are counted, not thrown; the job throws only when
 * the data file cannot be opened.
 */
export async function runJob(cfg: JobConfig, hooks: JobHooks = {}): Promise<JobStats> {
  const isLib = LIBRARY_APIS.includes(cfg.api);
  const isWrite = cfg.rw === 'write' || cfg.rw === 'randwrite';
  let cap: number | null = null;
  let poll: PollSettings | null = null;
  if (isLib) {
    poll = configurePolling(cfg.poll !== undefined ? { windowMicros: cfg.poll } : {});
    const init: { aio_threads?: number; aio_max?: number; aio_listio_max?: number } = {};
    if (cfg.threads !== undefined && cfg.threads > 0) init.aio_threads = cfg.threads;
    // Room for the depth plus an fsync per slot.
    if (sysconf(_SC_AIO_MAX) < cfg.iodepth * 2) init.aio_max = cfg.iodepth * 2;
    const batch = cfg.batch ?? defaultBatch(cfg.iodepth);
    if (cfg.api === 'lio' && sysconf(_SC_AIO_LISTIO_MAX) < batch) init.aio_listio_max = batch;
    if (Object.keys(init).length > 0) aio_init(init);
    cap = counters().inFlightCap;
  }
  const fd = cfg.api === 'fspromises' ? -1 : fs.openSync(cfg.file, isWrite ? 'r+' : 'r');
  const before = isLib ? counters() : null;
  const start = performance.now();
  const s = new Sched(cfg, hooks.onRequest);

  const waits: number[] = [];
  const lag = cfg.probe === true ? monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS }) : null;
  lag?.enable();
  if (cfg.probe === true) startProbe(() => s.stopping, waits);

  let timer: NodeJS.Timeout | null = null;
  if (hooks.onProgress !== undefined) {
    const on = hooks.onProgress;
    timer = setInterval(() => {
      on({
        elapsedMs: performance.now() - start,
        runtimeMs: cfg.runtimeMs,
        ops: s.ops,
        bytes: s.bytes,
        outstanding: s.submitted - s.completed,
        engine: isLib ? counters() : null,
      });
    }, hooks.progressMs ?? 200);
  }
  try {
    await DRIVERS[cfg.api](s, fd, cfg);
  } finally {
    if (timer !== null) clearInterval(timer);
    lag?.disable();
    if (fd >= 0) fs.closeSync(fd);
  }
  const elapsedMs = s.completed === 0 ? 1e-3 : Math.max(s.lastEnd - s.firstAt, 1e-3);
  const after = isLib ? counters() : null;
  const fsyncLat = s.fsyncs > 0 ? latency(s.fsyncLat) : null;
  return {
    rw: cfg.rw,
    api: cfg.api,
    bs: cfg.bs,
    iodepth: cfg.iodepth,
    size: cfg.size,
    runtimeMs: cfg.runtimeMs,
    fsync: isWrite ? cfg.fsync : 0,
    notify: cfg.api === 'posix' ? (cfg.notify ?? 'suspend') : null,
    batch: cfg.api === 'lio' ? Math.min(cfg.batch ?? defaultBatch(cfg.iodepth), cfg.iodepth) : null,
    inFlightCap: cap,
    poll,
    elapsedMs,
    ops: s.ops,
    bytes: s.bytes,
    iops: s.ops / (elapsedMs / 1000),
    bandwidth: s.bytes / (elapsedMs / 1000),
    submitted: s.submitted,
    completed: s.completed,
    duplicates: Math.max(0, s.completed - s.submitted),
    fsyncs: s.fsyncs,
    errors: s.errors,
    firstError: s.firstError,
    short: s.short,
    lat: latency(s.lat),
    fsyncLat,
    engine: before !== null && after !== null ? delta(before, after) : null,
    probe: cfg.probe === true ? { samples: waits.length, medianMs: median(waits), p99Ms: percentile(waits, 99) } : null,
    loopDelay: lag !== null ? { p50Ms: lagMs(lag.percentile(50)), p99Ms: lagMs(lag.percentile(99)), maxMs: lagMs(lag.max) } : null,
  };
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
}

/**
 * Makes sure `file` holds at least `size` bytes of data, then reads it once so that it
 * sits in the page cache. Never truncates.
 *
 * @returns true when it created the file.
 */
export function prepareFile(file: string, size: number): boolean {
  let have = -1;
  try {
    have = fs.statSync(file).size;
  } catch {
    have = -1;
  }
  const created = have < 0;
  const fd = fs.openSync(file, created ? 'w+' : 'r+');
  try {
    const chunk = Buffer.allocUnsafe(Math.min(size, 1 << 20));
    for (let at = Math.max(0, have); at < size; at += chunk.length) {
      crypto.randomFillSync(chunk);
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
    }
    for (let at = 0; at < size; at += chunk.length) fs.readSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
  } finally {
    fs.closeSync(fd);
  }
  return created;
}
