/**
 * The backend seam: the only module that imports `node:fs`.
 *
 * The engine reaches the thread pool only through an {@link FsBackend}. The default,
 * {@link nodeBackend}, calls `fs.read/readv/write/writev/fsync/fdatasync/close` and
 * absorbs the Node 20 traps that are about calling conventions rather than policy:
 *
 * - fs functions throw synchronously for arguments they dislike (fd -1, lengths);
 *   every call here is wrapped so that the error reaches the callback instead, on a
 *   later tick, exactly as an I/O error would: EBADF for an impossible descriptor,
 *   EFAULT for a buffer that lost its bytes while queued (detached or shrunk).
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
 * Bounce reads (configureBounce in src/aligned.ts; mode 'adaptive' by default, from
 * 256 KiB): a read of at least `bounce.minBytes` into one buffer may go through a
 * page-aligned slot of the bounce pool (engine/aligned.ts): the kernel fills the slot,
 * the bytes actually read are copied into the caller's buffer on the event loop, the
 * slot goes back to the pool, and only then is `cb` called. The caller's buffer is
 * never touched after `cb`. On an error the slot is released and nothing is copied.
 * When the pool is exhausted (its cap) the read goes directly into the caller's
 * buffer; so does one into a buffer shorter than the read (detached), so that it fails
 * exactly as a direct read. Why: the kernel copies page cache into a destination 1-31
 * bytes ahead of the source modulo 4096 (an ordinary large Buffer malloc maps starts 16
 * bytes into a page) at a quarter of its speed (4K aliasing), and into a slot placed
 * right at full speed; bounced, such 1 MiB reads ran 2.5-3x faster (bench/bounce.ts).
 * But a Buffer malloc carved from its heap is usually fast already, and a bounce costs
 * it 30-40 %; JavaScript cannot see which kind it has (malloc raises its mmap
 * threshold once mapped chunks are freed, so the same code gets either). So:
 *
 * - memory of ours (allocAligned): its address is known; it is bounced only when its
 *   offset against the position is in the aliasing window (copiesFast).
 * - mode 'adaptive': BouncePolicy (engine/aligned.ts) decides per ArrayBuffer and
 *   (byteOffset - position) mod 4096, which with the buffer's fixed address decides
 *   the aliasing: it times reads both ways (call to callback, the copy included) in
 *   probe phases, keeps the faster, and probes again now and then. Reads it routes
 *   cost two clock readings and O(1) bookkeeping; only full reads are recorded.
 * - mode 'always': every such read is bounced; 'off': none is.
 *
 * readv with one buffer (nng_aio's one-segment iov) is a read, and is routed as one.
 *
 * Not bounced, and why (measured): writes. The penalty there needs the page cache
 * (destination) 1-32 bytes ahead of the source modulo 4096; a mapped Buffer (16 bytes
 * into a page) written at a page-multiple position is behind, and is written at full
 * speed; copying into a slot first cost 20-30 % at 1 MiB. Only writes at odd positions
 * (17-48 past a page, for such a Buffer) would gain. Nor readv of several buffers: its
 * segments are the buffers of merged requests, 1 MiB in all, each small and
 * heap-allocated.
 *
 * Tests replace the backend with a held one (test/helpers/held-backend.ts) to make
 * queued/in-flight states deterministic.
 */
import * as fs from 'node:fs';
import { PAGE_SIZE, VIA_SLOT, bounce, bouncePolicy, bouncePool, copiesFast, isOurs } from './aligned';

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
    // The faces checked buffer, offset and length at submission: fs refusing them now
    // means the memory went away since (an ArrayBuffer detached or shrunk while the
    // request was queued). C would have faulted on the address, as a bounced read
    // reports it too.
    else if (isGoneBuffer(e)) e.code = 'EFAULT';
    return e;
  }
  return Object.assign(new Error(String(err)), { code: 'EIO' });
}

/** fs's synchronous refusal of a buffer that no longer holds the bytes asked for. */
function isGoneBuffer(e: NodeJS.ErrnoException): boolean {
  const text = String(e.message);
  return (e.code === 'ERR_INVALID_ARG_VALUE' && /'buffer'/.test(text)) || (e.code === 'ERR_OUT_OF_RANGE' && /"(length|offset)"/.test(text));
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

const HALF_PAGE = PAGE_SIZE / 2;

/** The file position modulo the page size (0 for "no position"). */
function pageSkew(position: number | bigint | null): number {
  if (position === null) return 0;
  if (typeof position === 'bigint') return Number(((position % 4096n) + 4096n) % 4096n);
  return ((position % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE;
}

/**
 * Reads through an aligned slot (see the notes at the top), or returns false (the
 * pool is at its cap) so that the caller reads directly. `skew` is the position
 * modulo the page size.
 */
function bounceRead(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, skew: number, cb: IoCallback): boolean {
  // Where the bytes go in the slot: half a page past the file position's offset in its
  // page. Two copies must dodge the aliasing window (destination 1-63 bytes ahead of
  // the source modulo 4096): the kernel's, page cache to slot (2048 ahead: fast), and
  // ours, slot to buffer. A mapped Buffer sits 16 bytes past a page, so at a
  // page-multiple position it is 16 - 2048 mod 4096 = 2064 ahead of the slot: fast,
  // where a slot congruent to the position would leave it 16 ahead, and memmove
  // (rep movsb, under 512 KiB) then copies at a tenth of its speed (measured: 2.9
  // against 37 GB/s for 256 KiB). Slots have a page to spare (SLOT_PAD) for this.
  const at = (skew + HALF_PAGE) % PAGE_SIZE;
  const slot = bouncePool.acquire(length + at);
  if (slot === null) return false;
  bounced++;
  const into = slot.bytes.subarray(at, at + length);
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

/** A direct read into the caller's buffer. */
function directRead(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): void {
  try {
    fs.read(fd, buf as NodeJS.ArrayBufferView, 0, length, position, cb);
  } catch (err) {
    fail(cb, err);
  }
}

/**
 * A read the adaptive policy routes: timed from here to the callback (the copy
 * included), and recorded when every byte asked for arrived.
 */
function adaptiveRead(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, skew: number, cb: IoCallback): void {
  const policy = bouncePolicy;
  const c = policy.classOf(buf, skew);
  const how = policy.choose(c);
  const t0 = policy.now();
  const timed: IoCallback = (err, n) => {
    policy.finish(c, how, err === null && n === length ? n : -1, policy.now() - t0);
    cb(err, n);
  };
  if ((how & VIA_SLOT) !== 0) {
    if (bounceRead(fd, buf, length, position, skew, timed)) return;
    // The pool at its cap: the read goes directly, and teaches nothing.
    directRead(fd, buf, length, position, (err, n) => {
      policy.finish(c, how, -1, 0);
      cb(err, n);
    });
    return;
  }
  directRead(fd, buf, length, position, timed);
}

/** The default backend: Node's fs on libuv's thread pool. */
export const nodeBackend: FsBackend = {
  read(fd, buf, length, position, cb) {
    if (length === 0) return this.readv(fd, [EMPTY], typeof position === 'bigint' ? Number(position) : position, cb);
    // A buffer shorter than the read (detached, say) goes directly, so that it fails as a direct read does.
    if (length >= bounce.minBytes && bounce.mode !== 'off' && buf.byteLength >= length) {
      const skew = pageSkew(position);
      // Our memory: its address modulo 4096 is known, so no need to measure.
      if (isOurs(buf)) {
        if (!copiesFast(buf, skew) && bounceRead(fd, buf, length, position, skew, cb)) return;
      } else if (bounce.mode === 'always') {
        if (bounceRead(fd, buf, length, position, skew, cb)) return;
      } else return adaptiveRead(fd, buf, length, position, skew, cb);
    }
    directRead(fd, buf, length, position, cb);
  },
  readv(fd, bufs, position, cb) {
    // One buffer is a read (nng_aio's one-segment iov): bounced like one.
    const only = bufs.length === 1 ? (bufs[0] as ArrayBufferView) : null;
    if (only !== null && only.byteLength >= bounce.minBytes && bounce.mode !== 'off') return this.read(fd, only, only.byteLength, position, cb);
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
