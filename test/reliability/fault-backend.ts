/**
 * A fault-injecting backend: it forwards every operation to a real backend (Node's fs
 * by default) except the ones a test has planned a fault for. Faults are consumed in
 * plan order, one per dispatched operation that matches.
 *
 * - `error`: the operation never reaches the real backend; it calls back (on a later
 *   tick) with a Node-style system error carrying that code.
 * - `bytes`: a short transfer: the real backend is asked for only `bytes` bytes (so the
 *   file really holds only that many), and the callback reports that count.
 * - `throwSync`: the method throws this value synchronously instead of calling back
 *   (a backend breaking the FsBackend contract).
 * - `twice`: after the real callback, the backend calls back a second time with this
 *   result (a backend breaking the exactly-once contract).
 * - `hold`: the callback is held until the test calls `releaseHeld()`.
 *
 * Every invocation of the engine's callback is wrapped: `callbackThrew` counts the
 * times the engine let an exception escape into the backend (it never should).
 */
import { constants as osConstants } from 'node:os';
import { runInThisContext } from 'node:vm';
import { type FdStat, type FsBackend, type IoCallback, nodeBackend } from '../../src/engine/dispatch';
import { engine, type Engine } from '../../src/engine/queue';

export type FaultOp = 'read' | 'readv' | 'write' | 'writev' | 'fsync' | 'fdatasync';

export interface Fault {
  error?: string;
  bytes?: number;
  throwSync?: unknown;
  twice?: { error?: string; bytes?: number };
  hold?: boolean;
}

interface Planned {
  readonly ops: readonly FaultOp[] | null;
  readonly fd: number | null;
  readonly fault: Fault;
}

/** One operation the backend saw. */
export interface SeenOp {
  readonly op: FaultOp;
  readonly fd: number;
  readonly length: number;
  readonly fault: Fault | null;
}

export function sysError(code: string, syscall: string): NodeJS.ErrnoException {
  const errno = (osConstants.errno as Record<string, number>)[code] ?? 5;
  return Object.assign(new Error(`${code}: injected fault, ${syscall}`), { code, errno: -errno, syscall });
}

function truncate(bufs: readonly ArrayBufferView[], bytes: number): ArrayBufferView[] {
  const out: ArrayBufferView[] = [];
  let left = bytes;
  for (const b of bufs) {
    if (left <= 0) break;
    const n = Math.min(left, b.byteLength);
    out.push(new Uint8Array(b.buffer, b.byteOffset, n));
    left -= n;
  }
  return out;
}

export class FaultBackend implements FsBackend {
  readonly #plan: Planned[] = [];
  readonly #held: Array<() => void> = [];
  /** Every operation dispatched to this backend, in order. */
  readonly log: SeenOp[] = [];
  /** Times a call of the engine's callback threw into the backend. */
  callbackThrew = 0;
  /** Faults applied so far. */
  applied = 0;

  constructor(readonly base: FsBackend = nodeBackend) {}

  /** Plans `fault` for the next dispatched operation among `ops` (any op when omitted) on `fd` (any fd when omitted). */
  inject(fault: Fault, ops: readonly FaultOp[] | null = null, fd: number | null = null): this {
    this.#plan.push({ ops, fd, fault });
    return this;
  }

  /** Faults planned and not yet applied. */
  get planned(): number {
    return this.#plan.length;
  }

  /** Held callbacks not yet released. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Releases the oldest held callback. */
  releaseHeld(): void {
    const next = this.#held.shift();
    if (next === undefined) throw new Error('fault backend: nothing held');
    next();
  }

  #take(op: FaultOp, fd: number): Fault | null {
    const i = this.#plan.findIndex((p) => (p.ops === null || p.ops.includes(op)) && (p.fd === null || p.fd === fd));
    if (i < 0) return null;
    const [p] = this.#plan.splice(i, 1);
    this.applied++;
    return (p as Planned).fault;
  }

  #call(cb: IoCallback, err: NodeJS.ErrnoException | null, bytes: number): void {
    try {
      cb(err, bytes);
    } catch {
      this.callbackThrew++;
    }
  }

  /** Runs one operation: `run(length?)` reaches the real backend (optionally shortened). */
  #op(op: FaultOp, fd: number, length: number, cb: IoCallback, run: (short: number | null, cb: IoCallback) => void): void {
    const fault = this.#take(op, fd);
    this.log.push({ op, fd, length, fault });
    if (fault === null) return run(null, (err, n) => this.#call(cb, err, n));
    if (fault.throwSync !== undefined) throw fault.throwSync;
    const deliver = (err: NodeJS.ErrnoException | null, n: number): void => {
      const go = (): void => {
        this.#call(cb, err, n);
        const again = fault.twice;
        if (again !== undefined) {
          process.nextTick(() => {
            const e2 = again.error === undefined ? null : sysError(again.error, op);
            this.#call(cb, e2, e2 === null ? (again.bytes ?? n) : 0);
          });
        }
      };
      if (fault.hold === true) this.#held.push(go);
      else go();
    };
    if (fault.error !== undefined) {
      const err = sysError(fault.error, op);
      process.nextTick(deliver, err, 0);
      return;
    }
    run(fault.bytes === undefined ? null : Math.min(fault.bytes, length), deliver);
  }

  read(fd: number, buf: ArrayBufferView, length: number, position: number | bigint | null, cb: IoCallback): void {
    this.#op('read', fd, length, cb, (short, done) => this.base.read(fd, buf, short ?? length, position, done));
  }
  readv(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    const length = bufs.reduce((n, b) => n + b.byteLength, 0);
    this.#op('readv', fd, length, cb, (short, done) => this.base.readv(fd, short === null ? bufs : truncate(bufs, short), position, done));
  }
  write(fd: number, buf: ArrayBufferView, length: number, position: number | null, cb: IoCallback): void {
    this.#op('write', fd, length, cb, (short, done) => this.base.write(fd, buf, short ?? length, position, done));
  }
  writev(fd: number, bufs: readonly ArrayBufferView[], position: number | null, cb: IoCallback): void {
    const length = bufs.reduce((n, b) => n + b.byteLength, 0);
    this.#op('writev', fd, length, cb, (short, done) => this.base.writev(fd, short === null ? bufs : truncate(bufs, short), position, done));
  }
  fsync(fd: number, cb: IoCallback): void {
    this.#op('fsync', fd, 0, cb, (_short, done) => this.base.fsync(fd, done));
  }
  fdatasync(fd: number, cb: IoCallback): void {
    this.#op('fdatasync', fd, 0, cb, (_short, done) => this.base.fdatasync(fd, done));
  }
  close(fd: number, cb: IoCallback): void {
    this.base.close(fd, cb);
  }
  fstat(fd: number): FdStat {
    return this.base.fstat(fd);
  }
  fdflags(fd: number): number | null {
    return this.base.fdflags(fd);
  }

  /**
   * Installs this backend on `eng` (default: the process engine), which must be idle,
   * and returns a function that restores the previous backend. `force` skips the idle
   * check (only for tests that follow one which may have wedged the engine).
   */
  use(eng: Engine = engine(), force = false): () => void {
    if (!force && eng.outstanding !== 0) throw new Error(`fault backend: engine not idle (${eng.outstanding} outstanding)`);
    const prev = eng.backend;
    eng.backend = this;
    return () => {
      while (this.#held.length > 0) this.releaseHeld();
      eng.backend = prev;
    };
  }
}

/**
 * Captures uncaught exceptions on the real process (jest's sandbox `process` is a copy
 * whose listeners never fire). With `exclusive`, jest's own handler is removed until
 * `restore()`, so that an expected uncaught exception does not fail the test.
 */
export function captureUncaught(exclusive: boolean): { readonly seen: unknown[]; restore(): void } {
  const real = runInThisContext('process') as NodeJS.Process;
  const saved = exclusive ? real.listeners('uncaughtException') : [];
  if (exclusive) real.removeAllListeners('uncaughtException');
  const seen: unknown[] = [];
  const spy = (err: unknown): void => {
    seen.push(err);
  };
  real.on('uncaughtException', spy);
  return {
    seen,
    restore() {
      real.off('uncaughtException', spy);
      for (const l of saved) real.on('uncaughtException', l);
    },
  };
}
