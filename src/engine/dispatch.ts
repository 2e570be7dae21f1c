/**
 * The backend seam: the only module that imports `node:fs`.
 *
 * The engine reaches the thread pool only through an {@link FsBackend}. The default,
 * {@link nodeBackend}, calls `fs.read/readv/write/writev/fsync/fdatasync/close` and
 * absorbs the Node 20 traps that are about calling conventions rather than policy:
 *
 * - fs functions throw synchronously for arguments they dislike (fd -1, lengths);
 *   every call here is wrapped so that the error reaches the callback instead, on a
 *   later tick, exactly as an I/O error would.
 * - `fs.readv` reads at most IOV_MAX (1024) buffers per call; longer lists are read
 *   in chunks until a chunk comes back short.
 * - a zero-length `fs.read` answers without a system call (so a bad descriptor is not
 *   reported); zero-length reads go through `readv` with one empty buffer instead,
 *   which does reach the kernel. Zero-length writes go through `writev` the same way,
 *   because `fs.write` refuses the null buffer such a request may carry.
 *
 * Positions arrive already normalised by the engine: a number, or `null` for "no
 * position" (non-seekable descriptors). Only `read` accepts a bigint, because only
 * `fs.read` honours one on Node 20.
 *
 * Bounce reads: a read of at least `bounce.minBytes` (configureBounce in src/aligned.ts)
 * into one buffer that is not memory of ours goes through a page-aligned slot of the bounce
 * pool (engine/aligned.ts): the kernel fills the slot, the bytes actually read are
 * copied into the caller's buffer on the event loop, the slot goes back to the pool,
 * and only then is `cb` called. The caller's buffer is never touched after `cb`. On an
 * error the slot is released and nothing is copied. When the pool is exhausted (its
 * cap) the read goes directly into the caller's buffer. Why: the kernel copies page
 * cache into an ordinary large Buffer (malloc'ed with mmap, 16 bytes into a page) at a
 * quarter of its speed (4K aliasing), and into an aligned slot at full speed; the copy
 * on the event loop costs less than the difference for reads of 1 MiB and more. Below
 * 1 MiB Node's Buffers came from malloc's heap in our measurements, were already fast,
 * and a bounce made them 30-40 % slower: hence the default threshold. Even at 1 MiB a
 * Buffer may come from the heap (malloc raises its mmap threshold when mapped chunks
 * are freed) and be fast, and JavaScript cannot see addresses; so by default each
 * destination (its ArrayBuffer, and its byteOffset minus the position modulo 4096) is
 * probed: its first reads alternate between direct and bounced, {@link PROBES} of
 * each, timed (a bounce with its copy), and later reads take the way that was faster
 * (the bounce only when it wins by 25 %). Only whole reads are samples.
 * Not bounced (measured, no gain): writes (the kernel reads from a misaligned source at
 * full speed; copying into a slot first cost 20-30 % at 1 MiB) and readv, whose
 * segments are the small buffers of merged requests (heap-allocated, already fast).
 *
 * Tests replace the backend with a held one (test/helpers/held-backend.ts) to make
 * queued/in-flight states deterministic.
 */
import * as fs from 'node:fs';
import { PAGE_SIZE, bounce, bouncePool, copiesFast } from './aligned';

/** The platform's `O_SYNC` (aio_fsync op). */
export const O_SYNC: number = fs.constants.O_SYNC;
/** The platform's `O_DSYNC` (aio_fsync op). */
export const O_DSYNC: number = fs.constants.O_DSYNC;
/** The platform's `O_APPEND`, as it appears in /proc/self/fdinfo flags. */
export const O_APPEND: number = fs.constants.O_APPEND;

/** Callback of a backend operation: a Node system error or null, and a byte count. */
export type IoCallback = (err: NodeJS.ErrnoException | null, bytes: number) => void;

/** What the engine needs to know about an open descriptor. */
export interface FdStat {
  /** Device and inode: together they identify the open file, to detect a reused number. */
  readonly dev: number;
  readonly ino: number;
  /** True for regular files, directories and block devices: positioned I/O works. */
  readonly seekable: boolean;
}

/**
 * The operations the engine dispatches. Every asynchronous method must call `cb`
 * exactly once and never synchronously. `fstat` and `fdflags` are synchronous and
 * may throw a Node system error (for example `EBADF`).
 */
export interface FsBackend {
  read(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): void;
  readv(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void;
  write(fd: number, buf: ArrayBufferView, length: number, position: number | null, cb: IoCallback): void;
  writev(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void;
  fsync(fd: number, cb: IoCallback): void;
  fdatasync(fd: number, cb: IoCallback): void;
  close(fd: number, cb: IoCallback): void;
  /** Synchronous fstat: identity and seekability. Throws (EBADF) when `fd` is not open. */
  fstat(fd: number): FdStat;
  /** The descriptor's open flags (from /proc/self/fdinfo), or null where the platform does not say. */
  fdflags(fd: number): number | null;
}

/** libuv clamps one read to this many buffers (IOV_MAX on Linux). */
export const IOV_MAX = 1024;

const EMPTY = new Uint8Array(0);

function fail(cb: IoCallback, err: unknown): void {
  process.nextTick(cb, asSystemError(err), 0);
}

/**
 * Turns whatever fs (or a replacement backend) threw into something with a `code`
 * the engine can map to an errno; EIO when it names none.
 */
export function asSystemError(err: unknown): NodeJS.ErrnoException {
  // Duck-typed, not instanceof: errors thrown by Node's own fs come from the main realm,
  // which is not this module's realm under vm contexts (and jest).
  const e = err as NodeJS.ErrnoException;
  if (typeof err === 'object' && err !== null && (typeof e.message === 'string' || typeof e.code === 'string')) {
    // fs rejects fd -1 and other impossible descriptors with ERR_OUT_OF_RANGE before the
    // kernel sees them; the kernel would have said EBADF.
    if (e.code === 'ERR_OUT_OF_RANGE' && /"fd"/.test(String(e.message))) e.code = 'EBADF';
    return e;
  }
  return Object.assign(new Error(String(err)), { code: 'EIO' });
}

function readvChunked(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
  let done = 0;
  let at = 0;
  const step = (): void => {
    const chunk = bufs.slice(at, at + IOV_MAX);
    let want = 0;
    for (const b of chunk) want += b.byteLength;
    const pos = position === null ? null : position + done;
    try {
      fs.readv(fd, chunk as NodeJS.ArrayBufferView[], pos, (err, n) => {
        if (err !== null) return cb(done > 0 ? null : err, done);
        done += n;
        at += chunk.length;
        if (n < want || at >= bufs.length) return cb(null, done);
        step();
      });
    } catch (err) {
      if (done > 0) process.nextTick(cb, null, done);
      else fail(cb, err);
    }
  };
  step();
}

let bounced = 0;

/** Reads that went through a bounce slot since the process started (for tests and traces). */
export function bouncedReads(): number {
  return bounced;
}

/** Samples of each way a destination is probed with before the choice is made. */
export const PROBES = 3;
/** The bounce is chosen when a direct read costs more than this many times a bounced one (copy included). */
const BOUNCE_GAIN = 1.25;

const PROBING = 0;
const DIRECT = 1;
const BOUNCE = 2;

/** What is known about reading into one destination at one skew. */
interface Verdict {
  choice: typeof PROBING | typeof DIRECT | typeof BOUNCE;
  /** Reads started while probing: even ones go directly, odd ones through a slot. */
  started: number;
  directSamples: number;
  bounceSamples: number;
  /** Best milliseconds per MiB seen each way. */
  direct: number;
  bounced: number;
}

/** Destination memory to its verdicts, by skew (byteOffset minus position, modulo 4096). */
const verdicts = new WeakMap<ArrayBuffer, Map<number, Verdict>>();

function verdictFor(buf: ArrayBufferView, skew: number): Verdict {
  let bySkew = verdicts.get(buf.buffer as ArrayBuffer);
  if (bySkew === undefined) verdicts.set(buf.buffer as ArrayBuffer, (bySkew = new Map()));
  const key = (((buf.byteOffset - skew) % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
  let v = bySkew.get(key);
  if (v === undefined) bySkew.set(key, (v = { choice: PROBING, started: 0, directSamples: 0, bounceSamples: 0, direct: Infinity, bounced: Infinity }));
  return v;
}

/** Records one probe; once both ways have {@link PROBES} samples, chooses. */
function record(v: Verdict, bouncedWay: boolean, ms: number, bytes: number): void {
  const perMiB = (ms * 1048576) / bytes;
  if (bouncedWay) {
    v.bounced = Math.min(v.bounced, perMiB);
    v.bounceSamples++;
  } else {
    v.direct = Math.min(v.direct, perMiB);
    v.directSamples++;
  }
  if (v.choice === PROBING && v.directSamples >= PROBES && v.bounceSamples >= PROBES) v.choice = v.direct > BOUNCE_GAIN * v.bounced ? BOUNCE : DIRECT;
}

/**
 * Reads through an aligned slot when that pays (see the notes at the top), or
 * returns false so that the caller reads directly.
 */
function bounceRead(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): boolean {
  // The slot's first byte is made congruent to the file position modulo the page
  // size: that is what the kernel's copy needs to run at full speed.
  const skew = position === null ? 0 : typeof position === 'bigint' ? Number(((position % 4096n) + 4096n) % 4096n) : ((position % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
  if (copiesFast(buf, skew)) return false;
  let v: Verdict | null = null;
  if (bounce.adaptive) {
    v = verdictFor(buf, skew);
    if (v.choice === DIRECT) return false;
    if (v.choice === PROBING && v.started++ % 2 === 0) {
      directTimed(fd, buf, length, position, cb, v);
      return true;
    }
  }
  const slot = bouncePool.acquire(length + skew);
  if (slot === null) return false;
  bounced++;
  const into = slot.bytes.subarray(skew, skew + length);
  const probe = v !== null && v.choice === PROBING ? v : null;
  const t0 = probe === null ? 0 : performance.now();
  try {
    fs.read(fd, into, 0, length, position, (err, n) => {
      let error = err;
      if (error === null && n > 0) {
        try {
          new Uint8Array(buf.buffer, buf.byteOffset, n).set(into.subarray(0, n));
        } catch (copyErr) {
          // The caller detached its buffer while the read was in the pool: C would
          // have faulted on the address.
          error = Object.assign(new Error(`read: the destination buffer is no longer usable (${String(copyErr)})`), { code: 'EFAULT', syscall: 'read' });
        }
        // The probe counts the copy too: it is the price of the bounce.
        if (probe !== null && error === null && n === length) record(probe, true, performance.now() - t0, n);
      }
      // Release before the callback: the callback may submit the next read, which
      // then finds the slot free.
      bouncePool.release(slot);
      cb(error, error === null ? n : 0);
    });
  } catch (err) {
    bouncePool.release(slot);
    fail(cb, err);
  }
  return true;
}

/** A direct read whose duration is a probe sample for `v`. */
function directTimed(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback, v: Verdict): void {
  const t0 = performance.now();
  try {
    fs.read(fd, buf as NodeJS.ArrayBufferView, 0, length, position, (err, n) => {
      if (err === null && n === length) record(v, false, performance.now() - t0, n);
      cb(err, n);
    });
  } catch (err) {
    fail(cb, err);
  }
}

/** The default backend: Node's fs on libuv's thread pool. */
export const nodeBackend: FsBackend = {
  read(fd, buf, length, position, cb) {
    if (length === 0) return this.readv(fd, [EMPTY], typeof position === 'bigint' ? Number(position) : position, cb);
    if (length >= bounce.minBytes && bounceRead(fd, buf, length, position, cb)) return;
    try {
      fs.read(fd, buf as NodeJS.ArrayBufferView, 0, length, position, cb);
    } catch (err) {
      fail(cb, err);
    }
  },
  readv(fd, bufs, position, cb) {
    if (bufs.length > IOV_MAX) return readvChunked(fd, bufs, position, cb);
    try {
      fs.readv(fd, (bufs.length === 0 ? [EMPTY] : bufs) as NodeJS.ArrayBufferView[], position, cb);
    } catch (err) {
      fail(cb, err);
    }
  },
  write(fd, buf, length, position, cb) {
    // A zero-length write may come with a null buffer, which fs.write refuses; one
    // empty buffer through writev still reaches the kernel (EBADF on a read-only fd).
    if (length === 0) return this.writev(fd, [EMPTY], position, cb);
    try {
      fs.write(fd, buf as NodeJS.ArrayBufferView, 0, length, position, cb);
    } catch (err) {
      fail(cb, err);
    }
  },
  writev(fd, bufs, position, cb) {
    try {
      // An empty list would answer without a system call; one empty buffer reaches the kernel.
      fs.writev(fd, (bufs.length === 0 ? [EMPTY] : bufs) as NodeJS.ArrayBufferView[], position, cb);
    } catch (err) {
      fail(cb, err);
    }
  },
  fsync(fd, cb) {
    try {
      fs.fsync(fd, (err) => cb(err, 0));
    } catch (err) {
      fail(cb, err);
    }
  },
  fdatasync(fd, cb) {
    try {
      fs.fdatasync(fd, (err) => cb(err, 0));
    } catch (err) {
      fail(cb, err);
    }
  },
  close(fd, cb) {
    try {
      fs.close(fd, (err) => cb(err, 0));
    } catch (err) {
      fail(cb, err);
    }
  },
  fstat(fd) {
    try {
      const st = fs.fstatSync(fd);
      return { dev: st.dev, ino: st.ino, seekable: st.isFile() || st.isDirectory() || st.isBlockDevice() };
    } catch (err) {
      throw asSystemError(err);
    }
  },
  fdflags(fd) {
    let info: number;
    try {
      info = fs.openSync(`/proc/self/fdinfo/${fd}`, 'r');
    } catch {
      return null;
    }
    try {
      const text = FDINFO_BUF.subarray(0, fs.readSync(info, FDINFO_BUF, 0, FDINFO_BUF.length, 0)).toString('latin1');
      const m = /^flags:\s*([0-7]+)/m.exec(text);
      return m?.[1] === undefined ? null : parseInt(m[1], 8);
    } catch {
      return null;
    } finally {
      fs.closeSync(info);
    }
  },
};

const FDINFO_BUF = Buffer.allocUnsafe(512);

/**
 * Opens `path` (for the Promise face's `open`), through the thread pool like any fs
 * call. Resolves with the descriptor; rejects with Node's system error.
 */
export function openFile(path: string | URL | Buffer, flags: string | number, mode: number): Promise<number> {
  return new Promise((resolve, reject) => {
    try {
      fs.open(path, flags, mode, (err, fd) => (err === null ? resolve(fd) : reject(err)));
    } catch (err) {
      reject(asSystemError(err));
    }
  });
}
