/**
 * Argument fuzzing (issue 5, part 3): every public entry of the POSIX and nng faces
 * with malformed values. Each call must give one of the answers SPEC §2/§3 allow:
 * -1 with errno (compared with the exported constants), an NNG error code, or a
 * coded TypeError/RangeError (ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE) whose message
 * names the field. Never a crash, a hang, an uncaught exception, or a corrupted
 * queue: after every batch a well-formed read and write still work and the engine
 * is back to queued 0 / in flight 0.
 *
 * The oracle: for each call the test lists every rule the arguments break, and the
 * answer must be one of theirs (which one wins when several are broken is the
 * implementation's business, except where SPEC orders the checks). With no rule
 * broken, the call must succeed.
 *
 * Set RELIABILITY_COUNTS=1 to print how many malformed calls ran.
 */
import fc from 'fast-check';
import {
  AIO_ALLDONE,
  AioControlBlock,
  EBADF,
  EINPROGRESS,
  EINVAL,
  EIO,
  EOVERFLOW,
  LIO_NOP,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WAIT,
  LIO_WRITE,
  NNG_ECLOSED,
  NNG_EINVAL,
  NNG_ESYSERR,
  NngAio,
  O_DSYNC,
  O_SYNC,
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  _SC_AIO_LISTIO_MAX,
  _SC_AIO_MAX,
  _SC_AIO_PRIO_DELTA_MAX,
  _SC_ASYNCHRONOUS_IO,
  _SC_PRIORITIZED_IO,
  aio_cancel,
  aio_close,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lio_listio,
  nng_aio_abort,
  nng_aio_alloc,
  nng_aio_begin,
  nng_aio_busy,
  nng_aio_cancel,
  nng_aio_count,
  nng_aio_defer,
  nng_aio_finish,
  nng_aio_free,
  nng_aio_get_input,
  nng_aio_get_msg,
  nng_aio_get_output,
  nng_aio_reap,
  nng_aio_reset,
  nng_aio_result,
  nng_aio_set_expire,
  nng_aio_set_input,
  nng_aio_set_iov,
  nng_aio_set_msg,
  nng_aio_set_output,
  nng_aio_set_timeout,
  nng_aio_start,
  nng_aio_stop,
  nng_aio_wait,
  nng_file_fdatasync,
  nng_file_fsync,
  nng_file_read,
  nng_file_write,
  nng_sleep_aio,
  nng_strerror,
  sysconf,
  type Aiocb,
} from '../../src/index';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { settle } from '../helpers/aio';
import { cleanup, tmpFile } from '../helpers/files';
import { flush } from '../helpers/mustcall';
import { captureUncaught } from './fault-backend';

const RUNS = 150;
let malformedCalls = 0;
const uncaught = captureUncaught(false);

afterAll(() => {
  uncaught.restore();
  cleanup();
  if (process.env['RELIABILITY_COUNTS'] !== undefined) process.stdout.write(`fuzz.test.ts: ${malformedCalls} malformed calls\n`);
});

afterEach(async () => {
  await healthy();
  expect(uncaught.seen).toEqual([]);
});

// ---------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------

type Outcome = { readonly threw: unknown } | { readonly value: unknown; readonly errno: number };

/** What a call may answer. */
type Want =
  | { readonly throws: 'TypeError' | 'RangeError' | 'either'; readonly field: string }
  | { readonly fails: number }
  | { readonly returns: unknown }
  | { readonly freed: true };

const T = (field: string): Want => ({ throws: 'TypeError', field });
const R = (field: string): Want => ({ throws: 'RangeError', field });
const TR = (field: string): Want => ({ throws: 'either', field });
const FAIL = (code: number): Want => ({ fails: code });
const RET = (value: unknown): Want => ({ returns: value });

/**
 * Throwing getters and proxy traps fire only while a library call runs (see
 * {@link call}); fast-check, jest and this harness may inspect the values freely.
 */
let armed = false;

function call(fn: () => unknown): Outcome {
  armed = true;
  try {
    const value = fn();
    armed = false;
    return { value, errno: errno() };
  } catch (threw) {
    armed = false;
    return { threw };
  }
}

async function callAsync(fn: () => unknown, hangMs = 2000): Promise<Outcome> {
  let p: unknown;
  armed = true;
  try {
    p = fn();
  } catch (threw) {
    return { threw: { sync: true, err: threw } };
  } finally {
    armed = false;
  }
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<'HANG'>((resolve) => {
    timer = setTimeout(() => resolve('HANG'), hangMs);
  });
  try {
    const v = await Promise.race([p, hang]);
    if (v === 'HANG') return { threw: new Error('HANG: the Promise did not settle') };
    return { value: v, errno: errno() };
  } catch (threw) {
    return { threw };
  } finally {
    clearTimeout(timer);
  }
}

function isCoded(err: unknown, kind: 'TypeError' | 'RangeError' | 'either', field: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown; message?: unknown };
  const okType = e.name === 'TypeError' && e.code === 'ERR_INVALID_ARG_TYPE';
  const okRange = e.name === 'RangeError' && e.code === 'ERR_OUT_OF_RANGE';
  if (kind === 'TypeError' ? !okType : kind === 'RangeError' ? !okRange : !(okType || okRange)) return false;
  return typeof e.message === 'string' && e.message.includes(`"${field}"`);
}

function matches(o: Outcome, w: Want): boolean {
  if ('throws' in w) return 'threw' in o && isCoded(o.threw, w.throws, w.field);
  if ('freed' in w) return 'threw' in o && o.threw instanceof Error && /freed/.test(o.threw.message);
  if ('threw' in o) return false;
  if ('fails' in w) return o.value === -1 && o.errno === w.fails;
  return Object.is(o.value, w.returns);
}

function show(v: unknown): string {
  if (typeof v === 'object' && v !== null && 'message' in v) {
    const e = v as { name?: unknown; code?: unknown; message?: unknown };
    return `${String(e.name)}[${String(e.code)}]: ${String(e.message)}`;
  }
  try {
    return typeof v === 'bigint' ? `${v}n` : typeof v === 'symbol' ? v.toString() : JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Counts one malformed call and asserts its outcome is one of `wants`. */
function expectOneOf(o: Outcome, wants: readonly Want[], what: string): void {
  malformedCalls++;
  if (wants.some((w) => matches(o, w))) return;
  const got = 'threw' in o ? `threw ${show((o.threw as { err?: unknown }).err ?? o.threw)}` : `returned ${show(o.value)} (errno ${o.errno})`;
  throw new Error(`${what}: ${got}; expected one of ${wants.map((w) => JSON.stringify(w)).join(' | ')}`);
}

// ---------------------------------------------------------------------------
// Malformed values
// ---------------------------------------------------------------------------

const sym = Symbol('fuzz');
/** Values of a JS type no numeric field accepts (no number, null or undefined). */
const wrongType = fc.oneof(
  fc.string({ maxLength: 6 }).filter((s) => !s.startsWith('SIG')),
  fc.boolean(),
  fc.bigInt(),
  fc.constant(sym),
  fc.object({ maxDepth: 1 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant(() => 1),
  fc.constant(new Date(0)),
);
/** Numbers no integer field accepts. */
const badNumber = fc.oneof(
  fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0.5, 1.000001, Number.EPSILON, 2 ** 53 + 2, -(2 ** 53) - 2, Number.MAX_VALUE, -Number.MAX_VALUE),
  fc.double({ noInteger: true }),
);
/** Integers that are never open descriptors (beyond any RLIMIT_NOFILE, or negative). */
const closedFd = fc.oneof(fc.integer({ min: -(2 ** 31), max: -1 }), fc.integer({ min: 2 ** 24, max: 2 ** 31 - 1 }));
/** Integers outside C's int. */
const outsideInt = fc.oneof(fc.integer({ min: 2 ** 31, max: 2 ** 52 }), fc.integer({ min: -(2 ** 52), max: -(2 ** 31) - 1 }));

function detachedView(): Uint8Array {
  const ab = new ArrayBuffer(16);
  const view = new Uint8Array(ab);
  structuredClone(ab, { transfer: [ab] });
  return view;
}

function throwingGetter<T extends object>(base: T, key: string): T {
  const copy = { ...base };
  Object.defineProperty(copy, key, {
    enumerable: true,
    get() {
      if (armed) throw new Error(`getter of ${key} threw`);
      return undefined;
    },
  });
  return copy;
}

/** Keys the test harness itself (fast-check, jest, error reports) may look up on a value. */
const HARNESS_KEYS = new Set(['toString', 'valueOf', 'toJSON', 'constructor', 'then', 'asymmetricMatch', '$$typeof', 'nodeType', '@@__IMMUTABLE_ITERABLE__@@', '@@__IMMUTABLE_RECORD__@@']);

/** A Proxy whose traps throw for every field name (symbols and the harness's own probes pass through). */
function throwingProxy<T extends object>(base: T): T {
  const trapped = (k: string | symbol): boolean => armed && typeof k === 'string' && !HARNESS_KEYS.has(k);
  return new Proxy(base, {
    get(t, k, r) {
      if (trapped(k)) throw new Error(`proxy get trap threw for ${String(k)}`);
      return Reflect.get(t, k, r) as unknown;
    },
    has(t, k) {
      if (trapped(k)) throw new Error(`proxy has trap threw for ${String(k)}`);
      return Reflect.has(t, k);
    },
    ownKeys(t) {
      return Reflect.ownKeys(t);
    },
    getOwnPropertyDescriptor(t, k) {
      if (trapped(k)) throw new Error(`proxy getOwnPropertyDescriptor trap threw for ${String(k)}`);
      return Reflect.getOwnPropertyDescriptor(t, k);
    },
  });
}

// ---------------------------------------------------------------------------
// Health: a well-formed read and write still work, and the engine is idle
// ---------------------------------------------------------------------------

let scratch: { path: string; fd: number } | null = null;
function file(): { path: string; fd: number } {
  return (scratch ??= tmpFile('0123456789abcdef'));
}

/** Every block accepted during a batch, to settle before checking the engine. */
const accepted: Aiocb[] = [];

async function healthy(): Promise<void> {
  for (const cb of accepted.splice(0)) await settle(cb);
  await flush();
  const { fd } = file();
  const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('OK'), aio_nbytes: 2, aio_offset: 20 });
  expect(aio_write(w)).toBe(0);
  await settle(w);
  expect(aio_return(w)).toBe(2);
  const r = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2, aio_offset: 20 });
  expect(aio_read(r)).toBe(0);
  await settle(r);
  expect(aio_return(r)).toBe(2);
  expect((r.aio_buf as Buffer).toString()).toBe('OK');
  await flush();
  const c = engine().counters;
  expect({ queued: c.queued, inFlight: c.inFlight }).toEqual({ queued: 0, inFlight: 0 });
  expect(engine().maxOutstanding).toBe(512);
  expect(engine().listioMax).toBe(256);
  expect(engine().maxInFlight).toBe(DEFAULTS.maxInFlight);
}

/** A well-formed read block on the scratch file. */
function goodRead(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { aio_fildes: file().fd, aio_buf: Buffer.alloc(16), aio_nbytes: 16, aio_offset: 0, aio_reqprio: 0, aio_sigevent: { sigev_notify: SIGEV_NONE }, aio_lio_opcode: LIO_READ, ...extra };
}

// ---------------------------------------------------------------------------
// Field rules of a read/write block (SPEC §2), as (field, value) -> wants
// ---------------------------------------------------------------------------

type FieldCase = { readonly field: string; readonly value: unknown; readonly wants: (name: string, write: boolean) => Want[]; readonly accepted?: boolean };

/** Malformed values for each aiocb field, with what SPEC §2 says they give. */
const fieldCase: fc.Arbitrary<FieldCase> = fc.oneof(
  // aio_fildes
  wrongType.map((value) => ({ field: 'aio_fildes', value, wants: (n: string) => [T(`${n}.aio_fildes`)] })),
  fc.constant(null).map((value) => ({ field: 'aio_fildes', value, wants: (n: string) => [T(`${n}.aio_fildes`)] })),
  fc.oneof(badNumber, outsideInt).map((value) => ({ field: 'aio_fildes', value, wants: (n: string) => [R(`${n}.aio_fildes`)] })),
  closedFd.map((value) => ({ field: 'aio_fildes', value, wants: () => [RET(0)], accepted: true })), // deferred EBADF
  // aio_buf
  wrongType.map((value) => ({ field: 'aio_buf', value, wants: (n: string) => [T(`${n}.aio_buf`)] })),
  fc.constant(null).map(() => ({ field: 'aio_buf', value: null, wants: (n: string) => [T(`${n}.aio_buf`)] })),
  fc.constant(null).map(() => ({ field: 'aio_buf', value: detachedView(), wants: (n: string) => [R(`${n}.aio_nbytes`)] })),
  fc.integer({ min: 0, max: 15 }).map((len) => ({ field: 'aio_buf', value: new DataView(new ArrayBuffer(len)), wants: (n: string) => [R(`${n}.aio_nbytes`)] })),
  // aio_nbytes
  wrongType.map((value) => ({ field: 'aio_nbytes', value, wants: (n: string) => [T(`${n}.aio_nbytes`)] })),
  fc.constant(null).map((value) => ({ field: 'aio_nbytes', value, wants: (n: string) => [T(`${n}.aio_nbytes`)] })),
  fc.oneof(badNumber, fc.integer({ max: -1 }), fc.integer({ min: 17 }), outsideInt).map((value) => ({ field: 'aio_nbytes', value, wants: (n: string) => [R(`${n}.aio_nbytes`)] })),
  // aio_offset
  fc.oneof(wrongType.filter((v) => typeof v !== 'bigint'), fc.constant(null)).map((value) => ({ field: 'aio_offset', value, wants: (n: string) => [T(`${n}.aio_offset`)] })),
  badNumber.map((value) => ({ field: 'aio_offset', value, wants: (n: string) => [R(`${n}.aio_offset`)] })),
  fc.oneof(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }), fc.bigInt({ min: -(2n ** 63n), max: -1n })).map((value) => ({ field: 'aio_offset', value, wants: () => [FAIL(EINVAL)] })),
  fc.oneof(fc.bigInt({ min: 2n ** 63n, max: 2n ** 80n }), fc.bigInt({ min: -(2n ** 80n), max: -(2n ** 63n) - 1n })).map((value) => ({ field: 'aio_offset', value, wants: (n: string) => [R(`${n}.aio_offset`)] })),
  fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 63n - 1n }).map((value) => ({ field: 'aio_offset', value, wants: () => [RET(0)], accepted: true })),
  // aio_reqprio
  fc.oneof(wrongType, fc.constant(null)).map((value) => ({ field: 'aio_reqprio', value, wants: (n: string) => [T(`${n}.aio_reqprio`)] })),
  badNumber.map((value) => ({ field: 'aio_reqprio', value, wants: (n: string) => [R(`${n}.aio_reqprio`), FAIL(EINVAL)] })), // SPEC silent on non-integers
  fc.oneof(fc.integer({ max: -1 }), fc.integer({ min: 21 })).map((value) => ({ field: 'aio_reqprio', value, wants: () => [FAIL(EINVAL)] })),
  // aio_sigevent
  fc.oneof(fc.string(), fc.boolean(), fc.bigInt(), fc.constant(sym), fc.integer(), fc.constant(() => 1)).map((value) => ({ field: 'aio_sigevent', value, wants: (n: string) => [T(`${n}.aio_sigevent`)] })),
  fc.oneof(wrongType, fc.constant(null)).map((v) => ({ field: 'aio_sigevent', value: { sigev_notify: v }, wants: (n: string) => [T(`${n}.aio_sigevent.sigev_notify`)] })),
  fc.oneof(badNumber, fc.integer().filter((x) => x < 0 || x > 2)).map((v) => ({ field: 'aio_sigevent', value: { sigev_notify: v }, wants: () => [FAIL(EINVAL)] })),
  fc.constant(null).map(() => ({ field: 'aio_sigevent', value: { sigev_notify: SIGEV_THREAD }, wants: () => [FAIL(EINVAL)] })),
  wrongType.filter((v) => typeof v !== 'function').map((fn) => ({ field: 'aio_sigevent', value: { sigev_notify: SIGEV_THREAD, sigev_notify_function: fn }, wants: (n: string) => [T(`${n}.aio_sigevent.sigev_notify_function`)] })),
  fc.oneof(fc.constant(undefined), badNumber, fc.integer().filter((x) => x < 1 || x > 64), fc.string({ maxLength: 5 }).filter((s) => !s.startsWith('SIG'))).map((signo) => ({ field: 'aio_sigevent', value: { sigev_notify: SIGEV_SIGNAL, sigev_signo: signo }, wants: () => [FAIL(EINVAL)] })),
  fc.oneof(fc.boolean(), fc.bigInt(), fc.constant(sym), fc.object({ maxDepth: 0 }), fc.constant(null)).map((signo) => ({ field: 'aio_sigevent', value: { sigev_notify: SIGEV_SIGNAL, sigev_signo: signo }, wants: (n: string) => [T(`${n}.aio_sigevent.sigev_signo`)] })),
);

function applyCase(base: Record<string, unknown>, c: FieldCase): Record<string, unknown> {
  const out = { ...base, [c.field]: c.value };
  // A detached or short buffer is only malformed with a length it cannot hold.
  return out;
}

// ---------------------------------------------------------------------------
// POSIX face
// ---------------------------------------------------------------------------

describe('aio_read and aio_write', () => {
  test.each([
    ['aio_read', aio_read],
    ['aio_write', aio_write],
  ] as const)('%s: one malformed field gives the answer SPEC §2 gives it', async (name, fn) => {
    const write = name === 'aio_write';
    fc.assert(
      fc.property(fieldCase, fc.boolean(), (c, asClass) => {
        // Writes go past the end of the scratch data, so accepted ones never clobber it.
        const fields = applyCase(goodRead({ aio_offset: write ? 64 : 0 }), c);
        if (c.field === 'aio_offset') fields['aio_offset'] = c.value;
        const cb = asClass ? new AioControlBlock(fields as never) : fields;
        const o = call(() => fn(cb));
        expectOneOf(o, c.wants('aiocbp', write), `${name}(${c.field} = ${show(c.value)})`);
        if ('value' in o && o.value === 0) {
          accepted.push(cb);
          if (c.field === 'aio_fildes') expect(aio_error(cb)).toBe(EBADF); // deferred EBADF: final at once
        } else {
          // A refused submission never makes the block "submitted".
          expect(aio_error(cb)).toBe(-1);
        }
      }),
      { numRuns: RUNS * 2 },
    );
    await healthy();
    // Accepted bigint offsets past 2^53: a write fails with EOVERFLOW (Node cannot address it).
    if (write) {
      const cb = goodRead({ aio_offset: 2n ** 60n });
      expect(aio_write(cb)).toBe(0);
      await settle(cb);
      expect(aio_error(cb)).toBe(EOVERFLOW);
    }
  });

  test.each([
    ['aio_read', aio_read],
    ['aio_write', aio_write],
  ] as const)('%s: wrong control blocks, throwing getters, throwing proxies, frozen and sealed blocks', async (name, fn) => {
    for (const v of [undefined, null, 0, 1, NaN, 'cb', true, 1n, sym, [], [goodRead()], () => 0]) {
      expectOneOf(call(() => fn(v as never)), [T('aiocbp')], `${name}(${show(v)})`);
    }
    for (const key of ['aio_fildes', 'aio_buf', 'aio_nbytes', 'aio_offset', 'aio_reqprio', 'aio_sigevent']) {
      const cb = throwingGetter(goodRead({ aio_offset: 64 }), key);
      expectOneOf(call(() => fn(cb)), [T(`aiocbp.${key}`)], `${name}(getter ${key} throws)`);
      expect(aio_error(cb)).toBe(-1);
    }
    for (const key of ['sigev_notify', 'sigev_notify_function', 'sigev_signo', 'sigev_value']) {
      const notify = key === 'sigev_signo' ? SIGEV_SIGNAL : SIGEV_THREAD;
      const sev = throwingGetter({ sigev_notify: notify, sigev_notify_function: () => {}, sigev_signo: 'SIGUSR2', sigev_value: 1 }, key);
      const cb = goodRead({ aio_offset: 64, aio_sigevent: sev });
      expectOneOf(call(() => fn(cb)), [T(`aiocbp.aio_sigevent.${key}`)], `${name}(sigevent getter ${key} throws)`);
    }
    const proxy = throwingProxy(goodRead());
    expectOneOf(call(() => fn(proxy)), [T('aiocbp.aio_fildes')], `${name}(throwing proxy)`);
    expect(aio_error(proxy)).toBe(-1);
    // Frozen and sealed blocks (plain and class) are fine: the library never writes into them.
    const at = name === 'aio_write' ? 64 : 0;
    for (const seal of [Object.freeze, Object.seal, Object.preventExtensions]) {
      for (const cb of [seal(goodRead({ aio_offset: at })), seal(new AioControlBlock(goodRead({ aio_offset: at }) as never))]) {
        expectOneOf(call(() => fn(cb)), [RET(0)], `${name}(${seal.name} block)`);
        await settle(cb);
        expect(aio_error(cb)).toBe(0);
        expect(aio_return(cb)).toBe(16);
      }
    }
    // A frozen sigevent and a frozen buffer view's block: also fine.
    const frozenSig = goodRead({ aio_offset: 64, aio_sigevent: Object.freeze({ sigev_notify: SIGEV_NONE }) });
    expectOneOf(call(() => fn(frozenSig)), [RET(0)], `${name}(frozen sigevent)`);
    accepted.push(frozenSig);
    // A block still in progress cannot be submitted again (EINVAL), and keeps its status.
    const busy = goodRead({ aio_offset: 64 });
    expect(fn(busy)).toBe(0);
    expectOneOf(call(() => fn(busy)), [FAIL(EINVAL)], `${name}(in progress)`);
    expect(aio_error(busy)).toBe(EINPROGRESS);
    accepted.push(busy);
  });

  test('a buffer detached while its read is queued does not break the engine', async () => {
    aio_init({ aio_threads: 1 });
    try {
      const first = goodRead();
      const ab = new ArrayBuffer(16);
      const second = goodRead({ aio_buf: new Uint8Array(ab), aio_offset: 0 });
      expect(aio_read(first)).toBe(0);
      expect(aio_read(second)).toBe(0);
      structuredClone(ab, { transfer: [ab] }); // detached while queued
      malformedCalls++;
      await settle(first, second);
      expect(aio_error(first)).toBe(0);
      // SPEC is silent: the read fails through aio_error (its buffer is gone), never throws.
      expect(aio_error(second)).not.toBe(EINPROGRESS);
      expect(aio_return(second)).toBe(aio_error(second) === 0 ? 0 : -1);
    } finally {
      aio_init({ aio_threads: DEFAULTS.maxInFlight });
    }
  });
});

describe('aio_error and aio_return', () => {
  test.each([
    ['aio_error', aio_error],
    ['aio_return', aio_return],
  ] as const)('%s: non-objects throw TypeError; objects never submitted are -1/EINVAL', (name, fn) => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.boolean(), fc.bigInt(), fc.constant(sym), fc.double(), fc.constant(null), fc.constant(undefined), fc.array(fc.anything(), { maxLength: 2 }), fc.constant(() => 1)), (v) => {
        expectOneOf(call(() => fn(v as never)), [T('aiocbp')], `${name}(${show(v)})`);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(fc.object({ maxDepth: 2 }), fc.constant(null).map(() => throwingProxy({})), fc.constant(null).map(() => Object.freeze(goodRead())), fc.constant(null).map(() => new AioControlBlock())), (v) => {
        expectOneOf(call(() => fn(v as never)), [FAIL(EINVAL)], `${name}(${show(v)})`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('aio_fsync', () => {
  test('a malformed op, descriptor or sigevent gives the answer SPEC §2 gives it; the other fields may hold anything', () => {
    const opCase = fc.oneof(
      fc.oneof(wrongType, fc.constant(null), fc.constant(undefined)).map((op) => ({ op, wants: [T('op')] })),
      fc.oneof(badNumber, outsideInt).map((op) => ({ op, wants: [R('op')] })),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((x) => x !== O_SYNC && x !== O_DSYNC).map((op) => ({ op, wants: [FAIL(EINVAL)] })),
    );
    fc.assert(
      fc.property(opCase, fc.anything(), fc.anything(), fc.anything(), fc.anything(), (c, buf, nbytes, offset, prio) => {
        const cb = { aio_fildes: file().fd, aio_buf: buf, aio_nbytes: nbytes, aio_offset: offset, aio_reqprio: prio };
        expectOneOf(call(() => aio_fsync(c.op as number, cb as never)), c.wants, `aio_fsync(${show(c.op)})`);
      }),
      { numRuns: RUNS },
    );
    // A valid op: only aio_fildes and aio_sigevent are read.
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.anything(), fc.anything(), fc.constantFrom(O_SYNC, O_DSYNC), (buf, nbytes, offset, prio, op) => {
        const cb = throwingGetter({ aio_fildes: file().fd, aio_buf: buf, aio_nbytes: nbytes, aio_offset: offset, aio_reqprio: prio }, 'aio_lio_opcode');
        expectOneOf(call(() => aio_fsync(op, cb as never)), [RET(0)], 'aio_fsync(garbage in ignored fields)');
        accepted.push(cb as never);
      }),
      { numRuns: 40 },
    );
    const fdCase = fc.oneof(
      fc.oneof(wrongType, fc.constant(null)).map((fd) => ({ fd, wants: [T('aiocbp.aio_fildes')] })),
      fc.oneof(badNumber, outsideInt).map((fd) => ({ fd, wants: [R('aiocbp.aio_fildes')] })),
      closedFd.map((fd) => ({ fd, wants: [FAIL(EBADF)] })),
    );
    fc.assert(
      fc.property(fdCase, fc.constantFrom(O_SYNC, O_DSYNC), (c, op) => {
        const cb = { aio_fildes: c.fd };
        expectOneOf(call(() => aio_fsync(op, cb as never)), c.wants, `aio_fsync(aio_fildes = ${show(c.fd)})`);
        expect(aio_error(cb as never)).toBe(-1);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fieldCase.filter((c) => c.field === 'aio_sigevent'), (c) => {
        const cb = { aio_fildes: file().fd, aio_sigevent: c.value };
        expectOneOf(call(() => aio_fsync(O_SYNC, cb as never)), c.wants('aiocbp', false), `aio_fsync(aio_sigevent = ${show(c.value)})`);
      }),
      { numRuns: RUNS },
    );
    for (const v of [undefined, null, 5, 'x', [], sym]) expectOneOf(call(() => aio_fsync(O_SYNC, v as never)), [T('aiocbp')], `aio_fsync(O_SYNC, ${show(v)})`);
    expectOneOf(call(() => aio_fsync(O_SYNC, throwingProxy({ aio_fildes: file().fd }))), [T('aiocbp.aio_fildes')], 'aio_fsync(throwing proxy)');
  });
});

describe('aio_suspend', () => {
  test('malformed lists, counts, timespecs and signals reject with a coded error or resolve -1/EINVAL; never hang', async () => {
    const done = goodRead();
    expect(aio_read(done)).toBe(0);
    await settle(done);
    const entry = fc.oneof(fc.constant(null), fc.constant(undefined), fc.constant(done), fc.constant(new AioControlBlock()), fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.constant(sym)));
    const listArb = fc.oneof(
      fc.array(entry, { maxLength: 5 }).map((list) => ({ list: list as unknown })),
      fc.array(entry, { maxLength: 5 }).map((l) => {
        const holey: unknown[] = new Array(l.length + 2);
        l.forEach((e, i) => {
          if (i % 2 === 0) holey[i] = e;
        });
        return { list: holey as unknown };
      }),
      fc.oneof(wrongType.filter((v) => !Array.isArray(v)), fc.constant(null), fc.constant(undefined)).map((list) => ({ list })),
    );
    const nentArb = fc.oneof(fc.integer({ min: -3, max: 8 }), badNumber, wrongType, fc.constant(undefined));
    const tsArb = fc.oneof(
      fc.constant(undefined),
      fc.constant(null),
      fc.record({ tv_sec: fc.oneof(fc.integer({ min: -3, max: 0 }), badNumber, wrongType, fc.constant(undefined)), tv_nsec: fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom(1e9 - 1, 1e9, 2e9), badNumber, wrongType) }),
      fc.oneof(fc.integer(), fc.string(), fc.boolean()),
    );
    const aborted = AbortSignal.abort();
    const sigArb = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant(aborted), fc.constant(new AbortController().signal), wrongType, fc.constant({ aborted: true }));

    await fc.assert(
      fc.asyncProperty(listArb, nentArb, tsArb, sigArb, async ({ list }, nent, ts, sig) => {
        const wants: Want[] = [];
        const isArr = Array.isArray(list);
        if (!isArr) wants.push(T('list'));
        if (typeof nent !== 'number') wants.push(T('nent'));
        if (sig !== undefined && sig !== null && !(sig instanceof AbortSignal)) wants.push(T('signal'));
        if (ts !== undefined && ts !== null) {
          if (typeof ts !== 'object') wants.push(T('timeout'));
          else {
            const { tv_sec, tv_nsec } = ts as { tv_sec: unknown; tv_nsec: unknown };
            if (typeof tv_sec !== 'number') wants.push(T('timeout.tv_sec'));
            else if (!Number.isInteger(tv_sec) || tv_sec < 0) wants.push(FAIL(EINVAL));
            if (typeof tv_nsec !== 'number') wants.push(T('timeout.tv_nsec'));
            else if (!Number.isInteger(tv_nsec) || tv_nsec < 0 || tv_nsec >= 1e9) wants.push(FAIL(EINVAL));
          }
        }
        if (typeof nent === 'number' && isArr && (!Number.isInteger(nent) || nent < 0 || nent > list.length)) wants.push(FAIL(EINVAL));
        if (isArr && typeof nent === 'number' && Number.isInteger(nent)) {
          for (let i = 0; i < Math.min(nent, list.length); i++) {
            const e: unknown = list[i];
            if (e !== null && e !== undefined && typeof e !== 'object') wants.push(T(`list[${i}]`));
            // SPEC is silent on an entry of the wrong type after one already complete: 0 is fine too.
            if (e === done) wants.push(RET(0));
          }
        }
        if (wants.length === 0) wants.push(RET(0)); // nothing listed is pending
        const o = await callAsync(() => aio_suspend(list as never, nent as never, ts as never, sig as never));
        // aio_suspend never throws synchronously: TypeErrors come as rejections.
        expect('threw' in o && typeof o.threw === 'object' && o.threw !== null && 'sync' in o.threw).toBe(false);
        expectOneOf(o, wants, `aio_suspend(${show(list)}, ${show(nent)}, ${show(ts)}, signal)`);
      }),
      { numRuns: RUNS },
    );
    // A throwing getter in the timespec.
    const ts = throwingGetter({ tv_sec: 0, tv_nsec: 0 }, 'tv_nsec');
    expectOneOf(await callAsync(() => aio_suspend([done], 1, ts)), [T('timeout.tv_nsec')], 'aio_suspend(throwing tv_nsec)');
  });

  test('a list whose element getter throws rejects with a coded TypeError naming the element', async () => {
    const done = goodRead();
    expect(aio_read(done)).toBe(0);
    await settle(done);
    const trapList = new Proxy([done], {
      get(t, k, r) {
        if (armed && k === '0') throw new Error('list element trap threw');
        return Reflect.get(t, k, r) as unknown;
      },
    });
    expectOneOf(await callAsync(() => aio_suspend(trapList, 1)), [T('list[0]')], 'aio_suspend(list element trap throws)');
  });
});

describe('aio_cancel', () => {
  test('malformed descriptors and control blocks', () => {
    const { fd } = file();
    const fdArb = fc.oneof(
      fc.oneof(wrongType, fc.constant(null), fc.constant(undefined)).map((v) => ({ v, wants: [T('fildes')] })),
      fc.oneof(badNumber, outsideInt).map((v) => ({ v, wants: [R('fildes')] })),
      closedFd.map((v) => ({ v, wants: [FAIL(EBADF)] })),
    );
    fc.assert(
      fc.property(fdArb, fc.anything(), (c, cb) => {
        expectOneOf(call(() => aio_cancel(c.v as number, cb as never)), c.wants, `aio_cancel(${show(c.v)})`);
      }),
      { numRuns: RUNS },
    );
    const cbArb = fc.oneof(
      fc.oneof(fc.string(), fc.boolean(), fc.bigInt(), fc.constant(sym), fc.integer(), fc.array(fc.integer(), { maxLength: 2 }), fc.constant(() => 1)).map((v) => ({ v, wants: [T('aiocbp')] })),
      fc.oneof(wrongType, fc.constant(null)).map((f) => ({ v: { aio_fildes: f }, wants: [T('aiocbp.aio_fildes')] })),
      fc.oneof(badNumber, outsideInt).map((f) => ({ v: { aio_fildes: f }, wants: [R('aiocbp.aio_fildes')] })),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).filter((f) => f !== fd).map((f) => ({ v: { aio_fildes: f }, wants: [FAIL(EINVAL)] })),
      fc.constant(null).map(() => ({ v: { aio_fildes: fd }, wants: [RET(AIO_ALLDONE)] })),
      fc.constant(null).map(() => ({ v: throwingProxy({ aio_fildes: fd }), wants: [T('aiocbp.aio_fildes')] })),
      fc.constant(null).map(() => ({ v: Object.freeze({ aio_fildes: fd }), wants: [RET(AIO_ALLDONE)] })),
    );
    fc.assert(
      fc.property(cbArb, (c) => {
        expectOneOf(call(() => aio_cancel(fd, c.v as never)), c.wants, `aio_cancel(fd, ${show(c.v)})`);
      }),
      { numRuns: RUNS },
    );
    // SPEC: the descriptor is checked first.
    expectOneOf(call(() => aio_cancel(2 ** 30, 'not a block' as never)), [FAIL(EBADF)], 'aio_cancel(bad fd, bad cb)');
  });
});

describe('lio_listio', () => {
  test('malformed modes, lists, counts, entries and sigevents', async () => {
    const entryArb = fc.oneof(
      fc.constant(null).map(() => ({ e: null as unknown, wants: [] as Want[], bad: false })),
      fc.constant(null).map(() => ({ e: undefined as unknown, wants: [] as Want[], bad: false })),
      fc.constant(null).map(() => ({ e: goodRead() as unknown, wants: [] as Want[], bad: false })),
      fc.constant(null).map(() => ({ e: goodRead({ aio_lio_opcode: LIO_NOP, aio_buf: 'ignored' }) as unknown, wants: [] as Want[], bad: false })),
      fc.oneof(fc.integer(), fc.string(), fc.boolean(), fc.bigInt(), fc.constant(sym)).map((e) => ({ e: e as unknown, wants: [] as Want[], typeAt: '' as string, bad: false, prim: true })),
      fc.oneof(wrongType, fc.constant(null)).map((op) => ({ e: goodRead({ aio_lio_opcode: op }) as unknown, wants: [] as Want[], opType: true, bad: false })),
      fc.oneof(badNumber, fc.integer().filter((x) => x < 0 || x > 2)).map((op) => ({ e: goodRead({ aio_lio_opcode: op }) as unknown, wants: [] as Want[], bad: true })),
      fieldCase.map((c) => ({ e: applyCase(goodRead(), c) as unknown, wants: [] as Want[], field: c, bad: false })),
    );
    const modeArb = fc.oneof(fc.constantFrom(LIO_WAIT, LIO_NOWAIT, LIO_NOWAIT), badNumber, fc.integer().filter((x) => x !== 0 && x !== 1), wrongType);
    const sigArb = fc.oneof(fc.constant(undefined), fc.constant(null), fc.constant({ sigev_notify: SIGEV_NONE }), fieldCase.filter((c) => c.field === 'aio_sigevent').map((c) => c.value));
    await fc.assert(
      fc.asyncProperty(modeArb, fc.array(entryArb, { maxLength: 4 }), fc.oneof(fc.integer({ min: -1, max: 5 }), badNumber, wrongType), sigArb, fc.boolean(), async (mode, entries, nentIn, sig, exactNent) => {
        const list = entries.map((x) => x.e);
        const nent = exactNent ? list.length : nentIn;
        const wants: Want[] = [];
        let sync = false;
        if (typeof mode !== 'number') wants.push(T('mode'));
        else if (mode !== LIO_WAIT && mode !== LIO_NOWAIT) {
          wants.push(FAIL(EINVAL));
          sync = true;
        }
        const wait = mode === LIO_WAIT;
        if (typeof nent !== 'number') wants.push(T('nent'));
        else if (!Number.isInteger(nent) || nent < 0 || nent > list.length) wants.push(FAIL(EINVAL));
        let someBad = false;
        let entryErrors = 0;
        let maybeFails = false;
        if (typeof nent === 'number' && Number.isInteger(nent)) {
          for (let i = 0; i < Math.min(nent, list.length); i++) {
            const x = entries[i] as (typeof entries)[number] & { prim?: boolean; opType?: boolean; field?: FieldCase };
            if (x.prim === true) wants.push(T(`list[${i}]`));
            else if (x.opType === true && (x.e as { aio_lio_opcode: unknown }).aio_lio_opcode !== null) wants.push(T(`list[${i}].aio_lio_opcode`));
            else if (x.opType === true) wants.push(T(`list[${i}].aio_lio_opcode`));
            else if (x.bad) someBad = true;
            else if (x.field !== undefined) {
              for (const w of x.field.wants(`list[${i}]`, false)) {
                if ('throws' in w) wants.push(w);
                else if ('fails' in w) someBad = true;
              }
              if (x.field.accepted === true && x.field.field === 'aio_fildes') entryErrors++; // deferred EBADF
              if (x.field.accepted === true && x.field.field === 'aio_offset') maybeFails = true; // a read past 2^53: 0 bytes or an error
            }
          }
        }
        if (!wait && typeof mode === 'number' && sig !== undefined && sig !== null) {
          wants.push(...sigeventWants(sig, 'sig'));
        }
        if (someBad) wants.push(FAIL(EIO));
        if (entryErrors > 0 && wait) wants.push(FAIL(EIO));
        if (wants.length === 0 || (maybeFails && wants.every((w) => 'fails' in w && w.fails === EIO))) wants.push(RET(0));
        if (maybeFails && wait) wants.push(FAIL(EIO));
        let o: Outcome;
        if (wait && !sync) {
          o = await callAsync(() => lio_listio(mode as never, list as never, nent as never, sig as never));
          if ('threw' in o && typeof o.threw === 'object' && o.threw !== null && 'sync' in o.threw) o = { threw: (o.threw as unknown as { err: unknown }).err };
        } else {
          o = call(() => lio_listio(mode as never, list as never, nent as never, sig as never));
          if (typeof mode === 'number' && mode !== LIO_WAIT) expect('value' in o && o.value instanceof Promise).toBe(false);
        }
        expectOneOf(o, wants, `lio_listio(${show(mode)}, [${list.map(show).join(', ')}], ${show(nent)}, ${show(sig)})`);
        for (const e of list) if (typeof e === 'object' && e !== null && !Array.isArray(e) && aioErrorSafe(e) !== -1) accepted.push(e as Aiocb);
      }),
      { numRuns: RUNS },
    );
    for (const v of [null, undefined, 'list', 3, {}, sym]) expectOneOf(call(() => lio_listio(LIO_NOWAIT, v as never, 0)), [T('list')], `lio_listio(list = ${show(v)})`);
    // Entries with throwing getters and traps.
    expectOneOf(call(() => lio_listio(LIO_NOWAIT, [throwingGetter(goodRead(), 'aio_lio_opcode')], 1)), [T('list[0].aio_lio_opcode')], 'lio_listio(opcode getter throws)');
    expectOneOf(call(() => lio_listio(LIO_NOWAIT, [throwingProxy(goodRead())], 1)), [T('list[0].aio_lio_opcode')], 'lio_listio(throwing proxy entry)');
    // A wrong type anywhere throws before anything is queued, in both modes.
    const first = goodRead();
    for (const mode of [LIO_WAIT, LIO_NOWAIT]) {
      expectOneOf(call(() => lio_listio(mode, [first, goodRead({ aio_nbytes: 'x' })], 2)), [T('list[1].aio_nbytes')], 'lio_listio(wrong type in entry 1)');
      expect(aio_error(first)).toBe(-1);
    }
    // A list with a write entry whose fields are fine except the opcode: refused alone.
    const w = goodRead({ aio_lio_opcode: LIO_WRITE, aio_offset: 64, aio_buf: Buffer.from('x'), aio_nbytes: 1 });
    const badOp = goodRead({ aio_lio_opcode: 7 });
    expectOneOf(call(() => lio_listio(LIO_NOWAIT, [w, badOp], 2)), [FAIL(EIO)], 'lio_listio(bad opcode entry)');
    expect(aio_error(badOp)).toBe(EINVAL);
    accepted.push(w, badOp);
  });

  test('a list whose element getter throws gives a coded TypeError naming the element, in both modes', () => {
    for (const mode of [LIO_WAIT, LIO_NOWAIT]) {
      const entry = goodRead();
      const trapList = new Proxy([entry], {
        get(t, k, r) {
          if (armed && k === '0') throw new Error('list element trap threw');
          return Reflect.get(t, k, r) as unknown;
        },
      });
      expectOneOf(call(() => lio_listio(mode, trapList, 1)), [T('list[0]')], `lio_listio(${mode}, list element trap throws)`);
      expect(aio_error(entry)).toBe(-1);
    }
  });
});

function aioErrorSafe(cb: object): number {
  try {
    return aio_error(cb as never);
  } catch {
    return -1;
  }
}

/** What a malformed sigevent gives, from fieldCase's rules (re-derived for a value). */
function sigeventWants(sev: unknown, name: string): Want[] {
  if (typeof sev !== 'object' || sev === null) return [T(name)];
  const n = (sev as { sigev_notify?: unknown }).sigev_notify;
  if (n === undefined || n === SIGEV_NONE) return [];
  if (typeof n !== 'number') return [T(`${name}.sigev_notify`)];
  if (n === SIGEV_THREAD) {
    const fn = (sev as { sigev_notify_function?: unknown }).sigev_notify_function;
    if (fn === undefined || fn === null) return [FAIL(EINVAL)];
    return typeof fn === 'function' ? [] : [T(`${name}.sigev_notify_function`)];
  }
  if (n === SIGEV_SIGNAL) {
    const s = (sev as { sigev_signo?: unknown }).sigev_signo;
    if (s === undefined) return [FAIL(EINVAL)];
    if (typeof s !== 'number' && typeof s !== 'string') return [T(`${name}.sigev_signo`)];
    return [FAIL(EINVAL)];
  }
  return [FAIL(EINVAL)];
}

describe('aio_init and sysconf', () => {
  test('aio_init: any invalid field throws a coded error naming it, and nothing is applied', () => {
    const field = fc.constantFrom('aio_threads', 'aio_num', 'aio_max', 'aio_listio_max', 'aio_idle_time');
    const bad = (key: string): fc.Arbitrary<{ v: unknown; wants: Want[] }> =>
      fc.oneof(
        fc.oneof(wrongType, fc.constant(null)).map((v) => ({ v, wants: [T(`init.${key}`)] })),
        (key === 'aio_idle_time' ? fc.constantFrom(NaN, Infinity, -Infinity, -1, -0.5, -1e9) : fc.oneof(badNumber, fc.integer({ max: key === 'aio_listio_max' ? 1 : 0 }), fc.integer({ min: 2 ** 31, max: 2 ** 40 }))).map((v) => ({ v, wants: [R(`init.${key}`)] })),
      );
    fc.assert(
      fc.property(fc.uniqueArray(field, { minLength: 1, maxLength: 5 }).chain((keys) => fc.tuple(...keys.map((k) => bad(k).map((b) => [k, b] as const)))), (pairs) => {
        const before = [sysconf(_SC_AIO_MAX), sysconf(_SC_AIO_LISTIO_MAX), engine().maxInFlight, engine().idleTime, engine().num];
        const init = Object.fromEntries(pairs.map(([k, b]) => [k, b.v]));
        expectOneOf(call(() => aio_init(init)), pairs.flatMap(([, b]) => b.wants), `aio_init(${show(init)})`);
        expect([sysconf(_SC_AIO_MAX), sysconf(_SC_AIO_LISTIO_MAX), engine().maxInFlight, engine().idleTime, engine().num]).toEqual(before);
      }),
      { numRuns: RUNS },
    );
    for (const v of [null, undefined, 1, 'x', true, 1n, sym, [], () => 0]) expectOneOf(call(() => aio_init(v as never)), [T('init')], `aio_init(${show(v)})`);
    expectOneOf(call(() => aio_init(throwingGetter({}, 'aio_threads'))), [T('init.aio_threads')], 'aio_init(getter throws)');
    expectOneOf(call(() => aio_init(throwingProxy({}))), [T('init.aio_threads')], 'aio_init(throwing proxy)');
    // Frozen and sealed valid objects are fine.
    expectOneOf(call(() => aio_init(Object.freeze({ aio_max: 512 }))), [RET(undefined)], 'aio_init(frozen)');
    expectOneOf(call(() => aio_init(Object.seal({ aio_threads: DEFAULTS.maxInFlight }))), [RET(undefined)], 'aio_init(sealed)');
  });

  test('sysconf: a non-number throws TypeError; an unknown number is -1/EINVAL', () => {
    const known = new Set([_SC_AIO_MAX, _SC_AIO_LISTIO_MAX, _SC_AIO_PRIO_DELTA_MAX, _SC_ASYNCHRONOUS_IO, _SC_PRIORITIZED_IO]);
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), badNumber).filter((x) => !known.has(x)), (v) => {
        expectOneOf(call(() => sysconf(v)), [FAIL(EINVAL)], `sysconf(${show(v)})`);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), fc.constant(BigInt(_SC_AIO_MAX))), (v) => {
        expectOneOf(call(() => sysconf(v as never)), [T('name')], `sysconf(${show(v)})`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('aio_close', () => {
  test('malformed descriptors reject with a coded error; integers that are not open resolve -1/EBADF', async () => {
    const arb = fc.oneof(
      fc.oneof(wrongType, fc.constant(null), fc.constant(undefined)).map((v) => ({ v, wants: [T('fd')] })),
      fc.oneof(badNumber, outsideInt).map((v) => ({ v, wants: [R('fd')] })),
      closedFd.map((v) => ({ v, wants: [FAIL(EBADF)] })),
    );
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        let o = await callAsync(() => aio_close(c.v as number));
        if ('threw' in o && typeof o.threw === 'object' && o.threw !== null && 'sync' in o.threw) o = { threw: new Error('aio_close threw synchronously instead of rejecting') };
        expectOneOf(o, c.wants, `aio_close(${show(c.v)})`);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('AioControlBlock', () => {
  test('the constructor accepts any init without throwing a non-coded error; submitting the result follows the field rules', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant(undefined), fc.constant(null), fc.string({ maxLength: 3 }), fc.integer(), fc.boolean(), fc.bigInt(), fc.constant(sym), fc.object({ maxDepth: 1 }), fieldCase.map((c) => applyCase(goodRead(), c))), async (init) => {
        const o = call(() => new AioControlBlock(init as never));
        if ('threw' in o) {
          expectOneOf(o, [TR('init')], `new AioControlBlock(${show(init)})`);
          return;
        }
        malformedCalls++;
        const cb = o.value as AioControlBlock;
        expect(cb).toBeInstanceOf(AioControlBlock);
        // Never open a real descriptor by accident: only the scratch file or closed numbers.
        const fd = cb.aio_fildes as unknown;
        if (typeof fd === 'number' && Number.isInteger(fd) && fd >= 0 && fd < 2 ** 24 && fd !== file().fd) return;
        const r = call(() => aio_read(cb));
        if ('threw' in r) {
          const err = r.threw as { code?: unknown; name?: unknown };
          expect(['ERR_INVALID_ARG_TYPE', 'ERR_OUT_OF_RANGE']).toContain(err.code);
        } else if (r.value === 0) {
          accepted.push(cb);
        } else {
          expect(r.value).toBe(-1);
          expect(errno()).toBe(EINVAL);
        }
      }),
      { numRuns: RUNS },
    );
    // Defaults, and an init that is frozen.
    const d = new AioControlBlock(Object.freeze({ aio_nbytes: 0 }));
    expect([d.aio_fildes, d.aio_offset, d.aio_buf, d.aio_nbytes, d.aio_reqprio, d.aio_lio_opcode, d.aio_sigevent.sigev_notify]).toEqual([-1, 0, null, 0, 0, LIO_NOP, SIGEV_NONE]);
  });

  test('an init whose getter or proxy trap throws gives a coded TypeError naming the field', () => {
    for (const init of [throwingGetter({}, 'aio_fildes'), throwingProxy({ aio_fildes: 3 })]) {
      expectOneOf(call(() => new AioControlBlock(init as never)), [TR('init'), TR('init.aio_fildes')], 'new AioControlBlock(throwing init)');
    }
  });
});

// ---------------------------------------------------------------------------
// nng face
// ---------------------------------------------------------------------------

/** Values that are not nng_aio handles. */
const notAio = fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), fc.double(), fc.constant(null).map(() => throwingProxy({})));

/** Every nng_aio_* call with the handle in its place and harmless other arguments. */
const HANDLE_CALLS: ReadonlyArray<readonly [string, (aio: never) => unknown]> = [
  ['nng_aio_free', (a) => nng_aio_free(a)],
  ['nng_aio_reap', (a) => nng_aio_reap(a)],
  ['nng_aio_abort', (a) => nng_aio_abort(a, 3)],
  ['nng_aio_cancel', (a) => nng_aio_cancel(a)],
  ['nng_aio_stop', (a) => nng_aio_stop(a)],
  ['nng_aio_wait', (a) => nng_aio_wait(a)],
  ['nng_aio_busy', (a) => nng_aio_busy(a)],
  ['nng_aio_result', (a) => nng_aio_result(a)],
  ['nng_aio_count', (a) => nng_aio_count(a)],
  ['nng_aio_set_timeout', (a) => nng_aio_set_timeout(a, 10)],
  ['nng_aio_set_expire', (a) => nng_aio_set_expire(a, 10)],
  ['nng_aio_set_input', (a) => nng_aio_set_input(a, 0, 1)],
  ['nng_aio_get_input', (a) => nng_aio_get_input(a, 0)],
  ['nng_aio_set_output', (a) => nng_aio_set_output(a, 0, 1)],
  ['nng_aio_get_output', (a) => nng_aio_get_output(a, 0)],
  ['nng_aio_set_iov', (a) => nng_aio_set_iov(a, 0, [])],
  ['nng_aio_set_msg', (a) => nng_aio_set_msg(a, 1)],
  ['nng_aio_get_msg', (a) => nng_aio_get_msg(a)],
  ['nng_aio_begin', (a) => nng_aio_begin(a)],
  ['nng_aio_defer', (a) => nng_aio_defer(a, null)],
  ['nng_aio_reset', (a) => nng_aio_reset(a)],
  ['nng_aio_start', (a) => nng_aio_start(a, null)],
  ['nng_aio_finish', (a) => nng_aio_finish(a, 0)],
  ['nng_sleep_aio', (a) => nng_sleep_aio(1, a)],
  ['nng_file_read', (a) => nng_file_read(2 ** 30, 0, a)],
  ['nng_file_write', (a) => nng_file_write(2 ** 30, 0, a)],
  ['nng_file_fsync', (a) => nng_file_fsync(2 ** 30, a)],
  ['nng_file_fdatasync', (a) => nng_file_fdatasync(2 ** 30, a)],
];

/** Runs `fn` with a fresh handle, waits (at most 2 s) until it is idle, frees it, and says how its callback ran. */
async function withHandle(fn: (aio: NngAio) => void): Promise<{ calls: number; result: number }> {
  let calls = 0;
  const aio = nng_aio_alloc(() => {
    calls++;
  });
  fn(aio);
  const idle = await callAsync(() => nng_aio_wait(aio));
  expect('threw' in idle ? show(idle.threw) : 'idle').toBe('idle');
  const result = nng_aio_result(aio);
  nng_aio_free(aio);
  return { calls, result };
}

/** Drops the values that are non-negative integers (valid error codes and counts). */
function nonNegIntFilter(arb: fc.Arbitrary<number>): fc.Arbitrary<number> {
  return arb.filter((x) => !(Number.isInteger(x) && x >= 0));
}

describe('nng_aio handle calls', () => {
  test.each(HANDLE_CALLS)('%s: a value that is not a handle throws TypeError naming "aio"', (name, fn) => {
    fc.assert(
      fc.property(notAio, (v) => {
        expectOneOf(call(() => fn(v as never)), [T('aio')], `${name}(${show(v)})`);
      }),
      { numRuns: 40 },
    );
  });

  test('every call: an object forged from NngAio.prototype or carrying its brand, but not made by nng_aio_alloc, throws TypeError naming "aio"', () => {
    const wrong: string[] = [];
    for (const [name, fn] of HANDLE_CALLS) {
      for (const forged of [Object.create(NngAio.prototype) as unknown, { [Symbol.for('posix-aio.NngAio')]: true }]) {
        try {
          expectOneOf(call(() => fn(forged as never)), [T('aio')], `${name}(forged handle)`);
        } catch (err) {
          wrong.push((err as Error).message);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test.each(HANDLE_CALLS)('%s: a freed handle throws an Error that says so', async (name, fn) => {
    const used = nng_aio_alloc(null);
    nng_sleep_aio(0, used);
    await nng_aio_wait(used);
    for (const aio of [nng_aio_alloc(null), used]) {
      nng_aio_free(aio);
      expectOneOf(call(() => fn(aio as never)), [{ freed: true }], `${name}(freed handle)`);
    }
  });

  test('nng_aio_alloc: a callback that is not a function throws TypeError naming "callb"', () => {
    fc.assert(
      fc.property(fc.oneof(wrongType.filter((v) => typeof v !== 'function'), fc.double()), (v) => {
        expectOneOf(call(() => nng_aio_alloc(v as never)), [T('callb')], `nng_aio_alloc(${show(v)})`);
      }),
      { numRuns: RUNS },
    );
  });

  test('durations, expiries, abort codes, finish codes and counts', async () => {
    const aio = nng_aio_alloc(null);
    const intArb = (field: string): fc.Arbitrary<{ v: unknown; wants: Want[] }> =>
      fc.oneof(fc.oneof(wrongType, fc.constant(null), fc.constant(undefined)).map((v) => ({ v, wants: [T(field), R(field)] })), fc.oneof(badNumber, outsideInt).map((v) => ({ v, wants: [R(field)] })));
    fc.assert(
      fc.property(intArb('ms'), (c) => {
        expectOneOf(call(() => nng_aio_set_timeout(aio, c.v as number)), c.wants.filter((w) => !('throws' in w && w.throws === 'RangeError' && typeof c.v !== 'number')), `nng_aio_set_timeout(${show(c.v)})`);
        expectOneOf(call(() => nng_sleep_aio(c.v as number, aio)), c.wants.filter((w) => !('throws' in w && w.throws === 'RangeError' && typeof c.v !== 'number')), `nng_sleep_aio(${show(c.v)})`);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(fc.oneof(wrongType, fc.constant(null), fc.constant(undefined)).map((v) => ({ v, wants: [T('when')] })), fc.constantFrom(NaN, Infinity, -Infinity).map((v) => ({ v, wants: [R('when')] }))), (c) => {
        expectOneOf(call(() => nng_aio_set_expire(aio, c.v as number)), c.wants, `nng_aio_set_expire(${show(c.v)})`);
      }),
      { numRuns: RUNS },
    );
    // Any finite time is accepted: one before the clock's origin is a deadline already passed.
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        expect(nng_aio_set_expire(aio, v)).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    // SPEC §3 does not say which class a non-number error code throws: either, naming "err".
    fc.assert(
      fc.property(fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), badNumber.filter((x) => !(Number.isInteger(x) && x > 0)), fc.integer({ max: 0 })), (v) => {
        expectOneOf(call(() => nng_aio_abort(aio, v as number)), [TR('err')], `nng_aio_abort(${show(v)})`);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), nonNegIntFilter(badNumber), fc.integer({ max: -1 })), fc.oneof(wrongType, fc.constant(null), nonNegIntFilter(badNumber), fc.integer({ max: -1 })), fc.boolean(), (err, count, badErr) => {
        if (badErr) expectOneOf(call(() => nng_aio_finish(aio, err as number)), [TR('err')], `nng_aio_finish(${show(err)})`);
        else expectOneOf(call(() => nng_aio_finish(aio, 0, count as number)), [TR('count')], `nng_aio_finish(0, ${show(count)})`);
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.oneof(wrongType.filter((v) => typeof v !== 'function'), fc.double()), (fn) => {
        expectOneOf(call(() => nng_aio_defer(aio, fn as never)), [T('cancelFn')], `nng_aio_defer(${show(fn)})`);
        expectOneOf(call(() => nng_aio_start(aio, fn as never)), [T('cancelFn')], `nng_aio_start(${show(fn)})`);
      }),
      { numRuns: RUNS },
    );
    expect(nng_aio_busy(aio)).toBe(false); // nothing above started an operation
    nng_aio_free(aio);
  });

  test('slots: an index outside 0..3 is NNG_EINVAL to set and null to get', () => {
    const aio = nng_aio_alloc(null);
    fc.assert(
      fc.property(fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), badNumber, fc.integer().filter((i) => i < 0 || i > 3)), fc.anything(), (i, v) => {
        expectOneOf(call(() => nng_aio_set_input(aio, i as number, v)), [RET(NNG_EINVAL)], `nng_aio_set_input(${show(i)})`);
        expectOneOf(call(() => nng_aio_set_output(aio, i as number, v)), [RET(NNG_EINVAL)], `nng_aio_set_output(${show(i)})`);
        expectOneOf(call(() => nng_aio_get_input(aio, i as number)), [RET(null)], `nng_aio_get_input(${show(i)})`);
        expectOneOf(call(() => nng_aio_get_output(aio, i as number)), [RET(null)], `nng_aio_get_output(${show(i)})`);
      }),
      { numRuns: RUNS },
    );
    // Anything may go into a slot or the message slot, and comes back as it went in.
    fc.assert(
      fc.property(fc.anything(), fc.integer({ min: 0, max: 3 }), (v, i) => {
        expect(nng_aio_set_input(aio, i, v)).toBe(0);
        expect(nng_aio_get_input(aio, i)).toBe(v ?? null); // an empty slot reads as null
        nng_aio_set_msg(aio, v);
        expect(nng_aio_get_msg(aio)).toBe(v);
      }),
      { numRuns: 50 },
    );
    nng_aio_free(aio);
  });

  test('nng_aio_set_iov: every malformed vector is NNG_EINVAL and leaves the old vector in place', async () => {
    const aio = nng_aio_alloc(null);
    const keep = new Uint8Array(4);
    expect(nng_aio_set_iov(aio, 1, [{ iov_buf: keep, iov_len: 4 }])).toBe(0);
    const badEntry = fc.oneof(
      fc.oneof(wrongType.filter((v) => typeof v !== 'object' || v === null), fc.constant(null), fc.constant(undefined), fc.integer()),
      fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), fc.integer()).map((b) => ({ iov_buf: b, iov_len: 0 })),
      fc.oneof(wrongType, fc.constant(null), fc.constant(undefined), badNumber, fc.integer({ max: -1 }), fc.integer({ min: 5 })).map((len) => ({ iov_buf: new Uint8Array(4), iov_len: len })),
      fc.integer({ min: 1, max: 16 }).map((len) => ({ iov_buf: detachedView(), iov_len: len })),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.oneof(wrongType, fc.constant(undefined), badNumber, fc.integer({ max: -1 }), fc.integer({ min: 9 })).map((niov) => ({ niov, iov: [] as unknown })),
          fc.integer({ min: 1, max: 8 }).chain((niov) => fc.array(fc.constant({ iov_buf: new Uint8Array(1), iov_len: 1 }), { maxLength: niov - 1 }).map((iov) => ({ niov: niov as unknown, iov: iov as unknown }))),
          fc.integer({ min: 1, max: 8 }).chain((niov) => fc.oneof(wrongType.filter((v) => !Array.isArray(v)), fc.constant(null), fc.constant(undefined)).map((iov) => ({ niov: niov as unknown, iov }))),
          fc.tuple(fc.integer({ min: 1, max: 8 }), badEntry).chain(([niov, bad]) => fc.integer({ min: 0, max: niov - 1 }).map((at) => {
            const iov: unknown[] = Array.from({ length: niov }, () => ({ iov_buf: new Uint8Array(2), iov_len: 2 }));
            iov[at] = bad;
            return { niov: niov as unknown, iov: iov as unknown };
          })),
        ),
        (c) => {
          expectOneOf(call(() => nng_aio_set_iov(aio, c.niov as number, c.iov as never)), [RET(NNG_EINVAL)], `nng_aio_set_iov(${show(c.niov)}, ${show(c.iov)})`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
    // The old vector is still the one used.
    nng_file_read(file().fd, 0, aio);
    await nng_aio_wait(aio);
    expect(nng_aio_result(aio)).toBe(0);
    expect(nng_aio_count(aio)).toBe(4);
    expect(Buffer.from(keep).toString()).toBe('0123');
    nng_aio_free(aio);
  });

  test('nng_aio_set_iov: an entry whose getter or trap throws is NNG_EINVAL (or a coded TypeError naming it)', () => {
    const aio = nng_aio_alloc(null);
    // Throwing getters and traps: NNG_EINVAL, or a coded TypeError naming the iov.
    const traps: unknown[] = [
      [throwingGetter({ iov_buf: new Uint8Array(1), iov_len: 1 }, 'iov_buf')],
      [throwingGetter({ iov_buf: new Uint8Array(1), iov_len: 1 }, 'iov_len')],
      [throwingProxy({ iov_buf: new Uint8Array(1), iov_len: 1 })],
      new Proxy([{ iov_buf: new Uint8Array(1), iov_len: 1 }], {
        get(t, k, r) {
          if (armed && k === '0') throw new Error('iov element trap threw');
          return Reflect.get(t, k, r) as unknown;
        },
      }),
    ];
    const wrong: string[] = [];
    for (const iov of traps) {
      try {
        expectOneOf(call(() => nng_aio_set_iov(aio, 1, iov as never)), [RET(NNG_EINVAL), T('iov'), T('iov[0]'), T('iov[0].iov_buf'), T('iov[0].iov_len')], 'nng_aio_set_iov(throwing getter/trap)');
      } catch (err) {
        wrong.push((err as Error).message);
      }
    }
    nng_aio_free(aio);
    expect(wrong).toEqual([]);
  });
});

describe('nng_file_*', () => {
  test('malformed descriptors and offsets: coded TypeErrors, or NNG_ECLOSED / NNG_EINVAL through the callback, exactly once', async () => {
    const fdArb = fc.oneof(
      fc.oneof(wrongType, fc.constant(null), fc.constant(undefined)).map((v) => ({ v, wants: [T('fd')] as Want[] })),
      fc.oneof(badNumber, outsideInt, closedFd).map((v) => ({ v, wants: [RET(NNG_ECLOSED), R('fd')] as Want[] })),
    );
    const offArb = fc.oneof(
      fc.oneof(wrongType.filter((v) => typeof v !== 'bigint'), fc.constant(null), fc.constant(undefined)).map((v) => ({ v, wants: [T('offset')] as Want[] })),
      fc.oneof(badNumber, fc.integer({ max: -1 }), fc.bigInt({ max: -1n }), fc.constantFrom(2 ** 53, 2 ** 60)).map((v) => ({ v, wants: [RET(NNG_EINVAL)] as Want[] })),
      fc.bigInt({ min: 2n ** 53n + 1n, max: 2n ** 70n }).map((v) => ({ v, wants: [RET(NNG_ESYSERR | EOVERFLOW), RET(NNG_EINVAL)] as Want[] })),
    );
    await fc.assert(
      fc.asyncProperty(fc.option(fdArb, { nil: null }), fc.option(offArb, { nil: null }), fc.constantFrom('read', 'write', 'fsync', 'fdatasync'), async (fdc, offc, op) => {
        if (fdc === null && offc === null) return;
        if ((op === 'fsync' || op === 'fdatasync') && fdc === null) return;
        const fd = fdc === null ? file().fd : fdc.v;
        const off = offc === null || op === 'fsync' || op === 'fdatasync' ? 64 : offc.v;
        const wants: Want[] = [...(fdc?.wants ?? []), ...(op === 'read' || op === 'write' ? (offc?.wants ?? []) : [])];
        const buf = new Uint8Array(2);
        let thrown: unknown = null;
        const { calls, result } = await withHandle((aio) => {
          expect(nng_aio_set_iov(aio, 1, [{ iov_buf: buf, iov_len: 2 }])).toBe(0);
          try {
            if (op === 'read') nng_file_read(fd as number, off as number, aio);
            else if (op === 'write') nng_file_write(fd as number, off as number, aio);
            else if (op === 'fsync') nng_file_fsync(fd as number, aio);
            else nng_file_fdatasync(fd as number, aio);
          } catch (err) {
            thrown = err;
          }
        });
        const o: Outcome = thrown !== null ? { threw: thrown } : { value: calls === 1 ? result : `callback ran ${calls} times`, errno: errno() };
        expectOneOf(o, wants, `nng_file_${op}(${show(fd)}, ${show(off)})`);
        if (thrown !== null) expect(calls).toBe(0);
        else expect(calls).toBe(1);
      }),
      { numRuns: RUNS },
    );
  });

  test('a buffer detached after nng_aio_set_iov: the operation completes through the callback, and the handle is not left busy', async () => {
    for (const op of ['read', 'write'] as const) {
      const u = new Uint8Array(8);
      let calls = 0;
      const aio = nng_aio_alloc(() => {
        calls++;
      });
      expect(nng_aio_set_iov(aio, 1, [{ iov_buf: u, iov_len: 8 }])).toBe(0);
      structuredClone(u.buffer, { transfer: [u.buffer] });
      const o = call(() => (op === 'read' ? nng_file_read(file().fd, 0, aio) : nng_file_write(file().fd, 64, aio)));
      malformedCalls++;
      await flush();
      // SPEC §3 iov rule: a vector that no longer fits its buffer is NNG_EINVAL (or a coded error at the call).
      if ('threw' in o) {
        expectOneOf(o, [T('iov'), T('aio'), R('iov')], `nng_file_${op}(detached iov)`);
      } else {
        expect(calls).toBe(1);
        expect(nng_aio_result(aio)).toBe(NNG_EINVAL);
      }
      expect(nng_aio_busy(aio)).toBe(false);
      if (!nng_aio_busy(aio)) nng_aio_free(aio);
    }
  });
});

describe('nng_strerror', () => {
  test('any value gives a non-empty string, never a throw (or a coded TypeError)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), badNumber, fc.bigInt(), fc.constant(sym), fc.integer(), fc.integer({ min: NNG_ESYSERR, max: NNG_ESYSERR + 200 })), (v) => {
        const o = call(() => nng_strerror(v as number));
        malformedCalls++;
        if ('threw' in o) expectOneOf(o, [T('err')], `nng_strerror(${show(v)})`);
        else {
          expect(typeof o.value).toBe('string');
          expect((o.value as string).length).toBeGreaterThan(0);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('an object whose conversion to a string throws still gives a string (or a coded TypeError)', () => {
    for (const v of [{ toString: () => { throw new Error('toString threw'); } }, throwingProxy({}), Object.create(null) as unknown]) {
      const o = call(() => nng_strerror(v as number));
      if ('threw' in o) expectOneOf(o, [T('err')], 'nng_strerror(throwing object)');
      else expect(typeof o.value).toBe('string');
    }
  });
});
