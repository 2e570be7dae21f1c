/**
 * `struct aiocb` and `struct sigevent`, and the bookkeeping that ties a control
 * block to its request.
 *
 * The caller owns the control block: the library never writes into its fields (glibc
 * does: it rewrites aio_lio_opcode and aio_reqprio). The status lives in the request;
 * the block only leads to it. An {@link AioControlBlock} keeps its request in a
 * private field, reached through an accessor on the class's prototype under a
 * registered symbol (so that the ESM and the CommonJS copy of the package both find
 * it): one property load per aio_error, aio_return or aio_suspend entry, 8 bytes per
 * block, untouched by Object.freeze, invisible to `Object.keys`, a spread and
 * `JSON.stringify`. Any other object with the aiocb fields (and a Proxy, which has no
 * private fields) is tied to its request by a WeakMap shared by both copies. A block
 * that is garbage collected takes its record with it.
 */
import { AIO_PRIO_DELTA_MAX, LIO_NOP, SIGEV_NONE } from './constants';
import { errnoName, invalidArgType, outOfRange, rangeRule } from './errors';
import { allocAligned, MAX_ALIGNED } from './aligned';
import { PAGE_SIZE } from './engine/aligned';
import { IN_FLIGHT, type Request } from './engine/request';
import { shared } from './shared';
import { type Notifier, readSigevent } from './sigevent';
import { readField, readKeys, unreadableField, validateInteger, validateObject } from './validate';

/**
 * `struct sigevent`: how completion is notified.
 *
 * - `SIGEV_NONE`: no notification (poll with aio_error or wait with aio_suspend).
 * - `SIGEV_THREAD`: `sigev_notify_function(sigev_value)` is called on the event loop.
 * - `SIGEV_SIGNAL`: `process.emit(name, name, { si_signo, si_code: SI_ASYNCIO,
 *   si_value })`, so `process.on('SIGUSR2', (name, info) => ...)` receives it; no real
 *   OS signal is raised.
 */
export interface SigEvent {
  /** How completion is notified: SIGEV_NONE, SIGEV_SIGNAL or SIGEV_THREAD; any other number is EINVAL at submission. */
  sigev_notify: number;
  /** For SIGEV_SIGNAL: a signal name ('SIGUSR2') or number. */
  sigev_signo?: number | string;
  /** Passed to the notification (`si_value`, or the notify function's argument). */
  sigev_value?: unknown;
  /** For SIGEV_THREAD. */
  sigev_notify_function?: (value: unknown) => void;
}

/**
 * The fields of `struct aiocb`, as a plain object may carry them. A field the object
 * lacks reads as in a new {@link AioControlBlock}.
 */
export interface AiocbFields {
  /** The file descriptor (a C int). Missing: -1, no descriptor. */
  aio_fildes: number;
  /** File offset of the transfer in bytes: a safe integer or a bigint within off_t; ignored on pipes, sockets and terminals. Missing: 0. */
  aio_offset: number | bigint;
  /** The buffer: a Buffer, any TypedArray or a DataView; null only when `aio_nbytes` is 0. Missing: null. */
  aio_buf: ArrayBufferView | null;
  /** Bytes to transfer: an integer from 0 to `aio_buf.byteLength`. Missing: 0. */
  aio_nbytes: number;
  /** Lowers the request's priority: 0 (most urgent) to AIO_PRIO_DELTA_MAX; outside that range is EINVAL. Missing: 0. */
  aio_reqprio: number;
  /** How completion is notified. Missing: no notification (SIGEV_NONE). */
  aio_sigevent: SigEvent;
  /** LIO_READ, LIO_WRITE or LIO_NOP; used only by lio_listio. Missing: LIO_NOP. */
  aio_lio_opcode: number;
}

/** What the C faces accept as a control block: an {@link AioControlBlock} or any object with the aiocb fields. */
export type Aiocb = AioControlBlock | Partial<AiocbFields>;

/** The fields of struct aiocb, the only keys the AioControlBlock constructor copies. */
const AIOCB_FIELDS: ReadonlySet<string> = new Set(['aio_fildes', 'aio_offset', 'aio_buf', 'aio_nbytes', 'aio_reqprio', 'aio_sigevent', 'aio_lio_opcode']);

/** The key of an AioControlBlock's request slot (see the notes at the top): an accessor on the prototype. */
const SLOT = Symbol.for('posix-aio.v0.request');

/** An object that may lead to its request through {@link SLOT}: a Request, null (an AioControlBlock that carried none yet) or undefined (any other object). */
interface Slotted {
  [SLOT]?: unknown;
}

/**
 * `struct aiocb`, field for field. Every field has C's zero-initialised meaning
 * except `aio_fildes`, which starts at -1 (no descriptor), and `aio_lio_opcode`,
 * which starts at LIO_NOP. The constructor copies the aiocb fields `init` has as own
 * keys; any other key is ignored.
 *
 * @example
 * const cb = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(512), aio_nbytes: 512 });
 * if (aio_read(cb) === -1) throw lastError();
 */
export class AioControlBlock implements AiocbFields {
  /** The descriptor. */
  aio_fildes = -1;
  /** File offset of the transfer; ignored on pipes, sockets and terminals. */
  aio_offset: number | bigint = 0;
  /** The buffer: a Buffer, any TypedArray or a DataView. */
  aio_buf: ArrayBufferView | null = null;
  /** Bytes to transfer, at most `aio_buf.byteLength`. */
  aio_nbytes = 0;
  /** Lowers the request's priority: 0 (most urgent) to AIO_PRIO_DELTA_MAX. */
  aio_reqprio = 0;
  /** How completion is notified. */
  aio_sigevent: SigEvent = { sigev_notify: SIGEV_NONE };
  /** LIO_READ, LIO_WRITE or LIO_NOP; used only by lio_listio. */
  aio_lio_opcode = LIO_NOP;

  constructor(init?: Partial<AiocbFields>) {
    if (init === undefined || init === null) return;
    const src = validateObject(init, 'init');
    // Field by field, so that a throwing getter or proxy trap gives a coded TypeError
    // naming it. Only the seven fields: another key (a "__proto__" from JSON.parse
    // would replace the block's prototype) is not part of struct aiocb.
    for (const key of readKeys(src, 'init')) if (AIOCB_FIELDS.has(key)) (this as unknown as Record<string, unknown>)[key] = readField(src, key, 'init');
  }

  /** The request this block last carried (null: none yet). Private: not a C field. */
  #request: Request | null = null;

  /** @internal the request this block last carried, for both copies of the package (see the notes at the top); undefined through a Proxy. */
  get [SLOT](): Request | null | undefined {
    return #request in this ? this.#request : undefined;
  }
  /** @internal records the request this block now carries (used by `attach`); does nothing through a Proxy. */
  set [SLOT](req: Request) {
    if (#request in this) this.#request = req;
  }

  /** Shows the fields and the status, as `util.inspect` and `console.log` print them. */
  [Symbol.for('nodejs.util.inspect.custom')](): object {
    const req = requestOf(this);
    const status =
      req === undefined ? 'unsubmitted' : req.state === IN_FLIGHT ? 'in progress (in the thread pool)' : req.pending ? 'in progress (queued)' : req.error === 0 ? 'done' : `failed (${errnoName(req.error)})`;
    return {
      aio_fildes: this.aio_fildes,
      aio_offset: this.aio_offset,
      aio_nbytes: this.aio_nbytes,
      aio_reqprio: this.aio_reqprio,
      aio_lio_opcode: this.aio_lio_opcode,
      aio_sigevent: this.aio_sigevent,
      aio_buf: this.aio_buf === null ? null : `<${this.aio_buf.constructor.name} ${this.aio_buf.byteLength} bytes>`,
      status,
    };
  }
}

/** What {@link allocControlBlocks} fills in. */
export interface ControlBlockOptions {
  /** `aio_fildes` of every block. */
  fd: number;
  /** `aio_nbytes` of every block, and the length of its buffer. */
  nbytes: number;
  /** `aio_lio_opcode` of every block (default LIO_NOP). */
  lioOpcode?: number;
}

/** Most blocks one {@link allocControlBlocks} call makes. */
const MAX_BLOCKS = 65536;

/**
 * Preallocates `n` control blocks, each with its own page-aligned buffer (in the
 * spirit of SCO's aio_mkcbs, which preallocated the control blocks).
 *
 * @param n - How many blocks: an integer from 0 to 65536.
 * @param options - `fd` (aio_fildes), `nbytes` (aio_nbytes and the buffer length),
 * `lioOpcode` (aio_lio_opcode, default LIO_NOP).
 * @returns `n` new {@link AioControlBlock}s; each `aio_buf` is a zero-filled Buffer
 * starting a memory page (`isAligned(cb.aio_buf)` is true), distinct from the others;
 * `aio_offset` is 0.
 *
 * Errors:
 * - TypeError (ERR_INVALID_ARG_TYPE) when `options` is not an object or a field is not a number.
 * - RangeError (ERR_OUT_OF_RANGE) when `n`, `options.fd` or `options.nbytes` is not an
 *   integer in its range, or the buffers together would exceed 2 ** 31 bytes.
 *
 * Notes: the buffers share one allocation, each rounded up to whole pages, so reads
 * into them at page-multiple offsets run at the kernel's full copy speed and the
 * engine reads into them directly. The memory is freed when every buffer is garbage
 * collected.
 *
 * @example
 * const cbs = allocControlBlocks(4, { fd, nbytes: 1 << 20, lioOpcode: LIO_READ });
 * cbs.forEach((cb, i) => (cb.aio_offset = i * (1 << 20)));
 * lio_listio(LIO_WAIT, cbs, cbs.length, null);
 */
export function allocControlBlocks(n: number, options: ControlBlockOptions): AioControlBlock[] {
  validateInteger(n, 'n', 0, MAX_BLOCKS);
  const o = validateObject(options, 'options');
  const fd = validateInteger(readField(o, 'fd', 'options'), 'options.fd', INT_MIN, INT_MAX);
  const nbytes = validateInteger(readField(o, 'nbytes', 'options'), 'options.nbytes', 0, MAX_ALIGNED);
  const opIn = readField(o, 'lioOpcode', 'options');
  const opcode = opIn === undefined ? LIO_NOP : validateInteger(opIn, 'options.lioOpcode', INT_MIN, INT_MAX);
  const stride = Math.max(PAGE_SIZE, Math.ceil(nbytes / PAGE_SIZE) * PAGE_SIZE);
  if (n * stride > MAX_ALIGNED) throw outOfRange('options.nbytes', `<= ${Math.floor(MAX_ALIGNED / Math.max(n, 1))} (2 ** 31 bytes in all for ${n} blocks, each rounded up to 4096)`, nbytes);
  const all = allocAligned(n * stride);
  const out: AioControlBlock[] = [];
  for (let i = 0; i < n; i++) {
    const cb = new AioControlBlock();
    cb.aio_fildes = fd;
    cb.aio_buf = all.subarray(i * stride, i * stride + nbytes);
    cb.aio_nbytes = nbytes;
    cb.aio_lio_opcode = opcode;
    out.push(cb);
  }
  return out;
}

/** Block (other than an AioControlBlock) to the request it last carried, shared by the ESM and CommonJS copies of the package. */
const registry = shared.registry as WeakMap<object, Request>;

/** The request `cb` last carried, if it was ever accepted. */
export function requestOf(cb: object): Request | undefined {
  const slot = (cb as Slotted)[SLOT];
  if (slot === null) return undefined;
  return typeof slot === 'object' ? (slot as Request) : registry.get(cb);
}

/** Records that `cb` now carries `req`. */
export function attach(cb: object, req: Request): void {
  const slot = (cb as Slotted)[SLOT];
  if (typeof slot === 'object') (cb as Slotted)[SLOT] = req; // a Request or null: an AioControlBlock
  else registry.set(cb, req);
}

/** True while `cb` carries a request that has not completed. */
export function inProgress(cb: object): boolean {
  return requestOf(cb)?.pending === true;
}

/** A read or write, as read from a control block at submission. */
export interface RwSnapshot {
  readonly fd: number;
  readonly pos: number | bigint;
  readonly buf: ArrayBufferView | null;
  readonly len: number;
  readonly prio: number;
  readonly sig: Notifier | null;
  /** The EINVAL rule a field broke (reqprio, sigevent), or null. A negative offset is judged later, once seekability is known. */
  readonly invalid: string | null;
}

/** A snapshot {@link readRw} may fill in place. */
export type MutableRwSnapshot = { -readonly [K in keyof RwSnapshot]: RwSnapshot[K] };

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const OFF_MIN = -(2n ** 63n);
const OFF_MAX = 2n ** 63n - 1n;

/** Reads `cb.aio_fildes` (C int; undefined means -1). Throws for wrong types. */
export function readFildes(cb: Record<string, unknown>, name: string): number {
  return checkFildes(readField(cb, 'aio_fildes', name), name);
}

/** Checks a value read from `aio_fildes` (C int; undefined means -1). Throws for wrong types. */
function checkFildes(fd: unknown, name: string): number {
  if (fd === undefined) return -1;
  if (typeof fd !== 'number') throw invalidArgType(`${name}.aio_fildes`, 'of type number', fd);
  if (!Number.isInteger(fd) || fd < INT_MIN || fd > INT_MAX) throw outOfRange(`${name}.aio_fildes`, `an integer >= ${INT_MIN} && <= ${INT_MAX}`, fd);
  return fd;
}

/** Reads `cb.aio_sigevent`. Throws for wrong types; returns EINVAL as a rule string. */
export function readBlockSigevent(cb: Record<string, unknown>, name: string): Notifier | null | string {
  return readSigevent(readField(cb, 'aio_sigevent', name), `${name}.aio_sigevent`);
}

/**
 * Reads and checks the fields of a read or write control block, each exactly once.
 *
 * Throws TypeError/RangeError (ERR_INVALID_ARG_TYPE, ERR_OUT_OF_RANGE) for what C's
 * type system or memory safety would stop: a field of the wrong type, a fractional
 * or negative `aio_nbytes`, `aio_nbytes` beyond the buffer, an offset outside off_t.
 * Rules POSIX reports as EINVAL come back in `invalid`. With `into`, the snapshot is
 * written there (once every field has been read and checked) and `into` returned,
 * instead of a new object.
 */
export function readRw(cb: unknown, name: string, into?: MutableRwSnapshot): RwSnapshot {
  const obj = validateObject(cb, name) as Partial<Record<keyof AiocbFields, unknown>>;
  // Named loads, each in its own try (see unreadableField): this runs on every submission.
  let fdIn: unknown;
  try {
    fdIn = obj.aio_fildes;
  } catch (cause) {
    throw unreadableField(name, 'aio_fildes', cause);
  }
  const fd = checkFildes(fdIn, name);

  let bufIn: unknown;
  try {
    bufIn = obj.aio_buf;
  } catch (cause) {
    throw unreadableField(name, 'aio_buf', cause);
  }
  let buf: ArrayBufferView | null = null;
  if (bufIn !== undefined && bufIn !== null) {
    if (!ArrayBuffer.isView(bufIn)) throw invalidArgType(`${name}.aio_buf`, 'an instance of Buffer, TypedArray, or DataView, or null', bufIn);
    buf = bufIn;
  }

  let lenIn: unknown;
  try {
    lenIn = obj.aio_nbytes;
  } catch (cause) {
    throw unreadableField(name, 'aio_nbytes', cause);
  }
  let len = 0;
  if (lenIn !== undefined) {
    if (typeof lenIn !== 'number') throw invalidArgType(`${name}.aio_nbytes`, 'of type number', lenIn);
    if (!Number.isInteger(lenIn) || lenIn < 0) throw outOfRange(`${name}.aio_nbytes`, 'an integer >= 0', lenIn);
    len = lenIn;
  }
  if (buf === null) {
    if (len > 0) throw invalidArgType(`${name}.aio_buf`, `an instance of Buffer, TypedArray, or DataView when "${name}.aio_nbytes" is ${len}`, bufIn);
  } else if (len > buf.byteLength) {
    throw outOfRange(`${name}.aio_nbytes`, `>= 0 && <= ${buf.byteLength} (the byteLength of ${name}.aio_buf)`, len);
  }

  let posIn: unknown;
  try {
    posIn = obj.aio_offset;
  } catch (cause) {
    throw unreadableField(name, 'aio_offset', cause);
  }
  let pos: number | bigint = 0;
  if (typeof posIn === 'number') {
    if (!Number.isSafeInteger(posIn)) throw outOfRange(`${name}.aio_offset`, `a safe integer (>= ${Number.MIN_SAFE_INTEGER} && <= ${Number.MAX_SAFE_INTEGER}) or a bigint`, posIn);
    pos = posIn;
  } else if (typeof posIn === 'bigint') {
    if (posIn < OFF_MIN || posIn > OFF_MAX) throw outOfRange(`${name}.aio_offset`, `>= -(2n ** 63n) && <= 2n ** 63n - 1n`, posIn);
    pos = posIn;
  } else if (posIn !== undefined) {
    throw invalidArgType(`${name}.aio_offset`, 'of type number or bigint', posIn);
  }

  let invalid: string | null = null;
  let prioIn: unknown;
  try {
    prioIn = obj.aio_reqprio;
  } catch (cause) {
    throw unreadableField(name, 'aio_reqprio', cause);
  }
  let prio = 0;
  if (prioIn !== undefined) {
    if (typeof prioIn !== 'number') throw invalidArgType(`${name}.aio_reqprio`, 'of type number', prioIn);
    if (!Number.isInteger(prioIn)) throw outOfRange(`${name}.aio_reqprio`, 'an integer', prioIn);
    if (prioIn < 0 || prioIn > AIO_PRIO_DELTA_MAX) invalid = rangeRule(`${name}.aio_reqprio`, `>= 0 && <= ${AIO_PRIO_DELTA_MAX}`, prioIn);
    else prio = prioIn;
  }

  let sigIn: unknown;
  try {
    sigIn = obj.aio_sigevent;
  } catch (cause) {
    throw unreadableField(name, 'aio_sigevent', cause);
  }
  const sig = readSigevent(sigIn, `${name}.aio_sigevent`);
  if (typeof sig === 'string') invalid ??= sig;
  const notifier = typeof sig === 'string' ? null : sig;
  if (into === undefined) return { fd, pos, buf, len, prio, sig: notifier, invalid };
  into.fd = fd;
  into.pos = pos;
  into.buf = buf;
  into.len = len;
  into.prio = prio;
  into.sig = notifier;
  into.invalid = invalid;
  return into;
}

/** The EINVAL rule for a negative offset on a seekable descriptor, or null when the offset is fine. */
export function offsetRule(pos: number | bigint, name: string, seekable: boolean): string | null {
  if (!seekable || pos >= 0) return null;
  return rangeRule(`${name}.aio_offset`, '>= 0 on a seekable descriptor (-1 is not "the current position" here)', pos);
}

