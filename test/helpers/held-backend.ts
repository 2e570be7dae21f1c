/**
 * A held (fake) backend: every operation waits until the test releases it, so
 * "queued" and "in flight" are states a test controls instead of races it hopes for
 * (libuv's saturate_threadpool idea, without threads).
 *
 * Fake descriptors are declared with `open(fd, kind)`; the fake fstat answers EBADF
 * for any other number. `use()` installs the backend on the process engine and
 * returns a restore function (call it in afterEach).
 */
import { constants as osConstants } from 'node:os';
import type { FdStat, FsBackend, IoCallback } from '../../src/engine/dispatch';
import { O_APPEND } from '../../src/engine/dispatch';
import { engine, type Engine } from '../../src/engine/queue';

export type HeldOpName = 'read' | 'readv' | 'write' | 'writev' | 'fsync' | 'fdatasync' | 'close';

/** One operation waiting in the held backend. */
export interface HeldOp {
  readonly op: HeldOpName;
  readonly fd: number;
  /** Bytes asked for (sum of the iov for vectored ops, 0 for fsync/close). */
  readonly length: number;
  readonly position: number | bigint | null;
  readonly buffers: readonly ArrayBufferView[];
  /** Completes the operation: with `bytes` (default: all of them), or with a Node-style error code. */
  release(result?: { bytes?: number; error?: string }): void;
  readonly released: boolean;
}

export interface FakeFd {
  seekable?: boolean;
  append?: boolean;
  /** Identity; change it with `reopen` to simulate a closed and reused number. */
  ino?: number;
}

function sysError(code: string, syscall: string): NodeJS.ErrnoException {
  const errno = (osConstants.errno as Record<string, number>)[code] ?? 5;
  return Object.assign(new Error(`${code}: held backend, ${syscall}`), { code, errno: -errno, syscall });
}

export class HeldBackend implements FsBackend {
  readonly #pending: HeldOp[] = [];

  /**
   * Operations dispatched and not yet released, oldest first. Reading it first lets the
   * engine dispatch what it holds (from a completion until the event loop's check
   * phase): a test that looks at the thread pool acts after that point.
   */
  get pending(): HeldOp[] {
    this.#engine?.dispatchHeld();
    return this.#pending;
  }

  readonly #log: HeldOp[] = [];

  /** Operations dispatched and not yet released, oldest first, without letting the engine dispatch what it holds or has parked. */
  peek(): readonly HeldOp[] {
    return this.#pending;
  }

  /** The operation dispatched last, without touching the engine (safe inside a backend call). */
  lastDispatched(): HeldOp | undefined {
    return this.#log[this.#log.length - 1];
  }

  /** Every operation ever dispatched, in dispatch order (after letting the engine dispatch what it holds). */
  get log(): HeldOp[] {
    this.#engine?.dispatchHeld();
    return this.#log;
  }
  readonly #fds = new Map<number, Required<FakeFd>>();
  #nextIno = 1000;
  /** Calls of {@link fstat} (the engine's descriptor identity checks). */
  statCalls = 0;
  /** Calls of {@link fdflags} (each is an open, read and close of /proc/self/fdinfo in the real backend). */
  flagReads = 0;
  /** When set, every operation completes on its own after this many ms (0 = next tick). */
  autoRelease: number | null = null;

  /** Declares fake descriptor `fd`. */
  open(fd: number, kind: FakeFd = {}): this {
    this.#fds.set(fd, { seekable: kind.seekable ?? true, append: kind.append ?? false, ino: kind.ino ?? this.#nextIno++ });
    return this;
  }

  /** Forgets `fd` (as if closed behind the library's back). */
  forget(fd: number): void {
    this.#fds.delete(fd);
  }

  /** Gives `fd` a new identity (closed and reopened as another file). */
  reopen(fd: number, kind: FakeFd = {}): void {
    this.open(fd, { ...kind, ino: this.#nextIno++ });
  }

  /** The engine this backend is installed on (by {@link use}). */
  #engine: Engine | null = null;

  /** Releases the oldest pending operation. */
  releaseNext(result?: { bytes?: number; error?: string }): HeldOp {
    const op = this.pending[0];
    if (op === undefined) throw new Error('held backend: nothing pending');
    op.release(result);
    return op;
  }

  /** Releases every pending operation (including ones dispatched as a result), oldest first. */
  releaseAll(): void {
    while (this.pending.length > 0) this.releaseNext();
  }

  #hold(op: HeldOpName, fd: number, length: number, position: number | bigint | null, buffers: readonly ArrayBufferView[], cb: IoCallback): void {
    let released = false;
    const pending = this.#pending;
    const entry: HeldOp = {
      op,
      fd,
      length,
      position,
      buffers,
      get released() {
        return released;
      },
      release: (result = {}) => {
        if (released) throw new Error('held backend: operation released twice');
        released = true;
        pending.splice(pending.indexOf(entry), 1);
        const err = result.error !== undefined ? sysError(result.error, op) : !this.#fds.has(fd) ? sysError('EBADF', op) : null;
        const bytes = err !== null ? 0 : result.bytes ?? length;
        // Like libuv: the callback never runs inside the call that released it.
        process.nextTick(cb, err, bytes);
      },
    };
    this.#pending.push(entry);
    this.#log.push(entry);
    if (this.autoRelease !== null) {
      const delay = this.autoRelease;
      setTimeout(() => {
        if (!entry.released) entry.release();
      }, delay);
    }
  }

  read(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): void {
    this.#hold('read', fd, length, position, [buf], cb);
  }
  readv(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    this.#hold('readv', fd, bufs.reduce((n, b) => n + b.byteLength, 0), position, bufs, cb);
  }
  write(fd: number, buf: ArrayBufferView, length: number, position: number | null, cb: IoCallback): void {
    this.#hold('write', fd, length, position, [buf], cb);
  }
  writev(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    this.#hold('writev', fd, bufs.reduce((n, b) => n + b.byteLength, 0), position, bufs, cb);
  }
  fsync(fd: number, cb: IoCallback): void {
    this.#hold('fsync', fd, 0, null, [], cb);
  }
  fdatasync(fd: number, cb: IoCallback): void {
    this.#hold('fdatasync', fd, 0, null, [], cb);
  }
  close(fd: number, cb: IoCallback): void {
    const known = this.#fds.delete(fd);
    process.nextTick(cb, known ? null : sysError('EBADF', 'close'), 0);
  }
  fstat(fd: number): FdStat {
    this.statCalls++;
    const f = this.#fds.get(fd);
    if (f === undefined) throw sysError('EBADF', 'fstat');
    return { dev: 1, ino: f.ino, seekable: f.seekable };
  }
  fdflags(fd: number): number | null {
    this.flagReads++;
    const f = this.#fds.get(fd);
    if (f === undefined) return null;
    return f.append ? O_APPEND | 2 : 2;
  }

  /**
   * Installs this backend on `eng` (default: the process engine) with an in-flight
   * cap of `maxInFlight`, and returns a function that restores the previous backend
   * and cap. The engine must be idle.
   */
  use(maxInFlight = 1, eng: Engine = engine()): () => void {
    if (eng.outstanding !== 0) throw new Error(`held backend: engine not idle (${eng.outstanding} outstanding)`);
    // A hold left by the previous test's last completion would delay this test's first dispatch.
    eng.dispatchHeld();
    const prev = { backend: eng.backend, cap: eng.maxInFlight };
    eng.backend = this;
    this.#engine = eng;
    eng.setMaxInFlight(maxInFlight);
    return () => {
      this.autoRelease = 0;
      this.releaseAll();
      eng.backend = prev.backend;
      eng.setMaxInFlight(prev.cap);
    };
  }
}
