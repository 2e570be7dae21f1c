/**
 * aio_init(3) (glibc's GNU extension) and sysconf(3) for the AIO names, and the
 * <aio.h> definitions the package exports: the constants with glibc's values, the
 * errno table, and the ports of LTP conformance/definitions/aio_h and glibc tst-aio4.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as aio from '../../src/index';
import {
  AIO_ALLDONE,
  AIO_CANCELED,
  AIO_NOTCANCELED,
  AIO_PRIO_DELTA_MAX,
  AioControlBlock,
  EAGAIN,
  EINPROGRESS,
  EINVAL,
  LIO_NOP,
  LIO_NOWAIT,
  LIO_READ,
  LIO_WAIT,
  LIO_WRITE,
  O_DSYNC,
  O_SYNC,
  SIGEV_NONE,
  SIGEV_SIGNAL,
  SIGEV_THREAD,
  SI_ASYNCIO,
  _SC_AIO_LISTIO_MAX,
  _SC_AIO_MAX,
  _SC_AIO_PRIO_DELTA_MAX,
  _SC_ASYNCHRONOUS_IO,
  _SC_PRIORITIZED_IO,
  aio_cancel,
  aio_error,
  aio_fsync,
  aio_init,
  aio_read,
  aio_return,
  aio_suspend,
  aio_write,
  errno,
  lastError,
  lio_listio,
  sysconf,
  type AioInit,
  type SigInfo,
} from '../../src/index';
import { DEFAULTS as ENGINE_DEFAULTS, engine } from '../../src/engine/queue';
import { cleanup, tmpFile } from '../helpers/files';
import { HeldBackend } from '../helpers/held-backend';
import { flush, mustCall } from '../helpers/mustcall';

const FILE = 1000;
const OTHER = 1001;

function readCb(fd: number, offset: number): AioControlBlock {
  return new AioControlBlock({ aio_fildes: fd, aio_offset: offset, aio_buf: Buffer.alloc(8), aio_nbytes: 8 });
}

/** The documented defaults, restored after every test. */
const DEFAULTS = { aio_threads: ENGINE_DEFAULTS.maxInFlight, aio_num: 64, aio_idle_time: 1, aio_max: 512, aio_listio_max: 256 } as const;

afterEach(() => {
  aio_init(DEFAULTS);
});

afterAll(() => {
  cleanup();
});

describe('sysconf', () => {
  test('reports the documented defaults', () => {
    expect(sysconf(_SC_AIO_MAX)).toBe(512);
    expect(sysconf(_SC_AIO_LISTIO_MAX)).toBe(256);
    expect(sysconf(_SC_AIO_PRIO_DELTA_MAX)).toBe(20);
    expect(sysconf(_SC_AIO_PRIO_DELTA_MAX)).toBe(AIO_PRIO_DELTA_MAX);
  });

  test('claims the Asynchronous and the Prioritized Input and Output options (>= 200112L, as LTP checks first)', () => {
    expect(sysconf(_SC_ASYNCHRONOUS_IO)).toBeGreaterThanOrEqual(200112);
    expect(sysconf(_SC_PRIORITIZED_IO)).toBeGreaterThanOrEqual(200112);
  });

  test('never returns -1 for the AIO names', () => {
    for (const name of [_SC_AIO_MAX, _SC_AIO_LISTIO_MAX, _SC_AIO_PRIO_DELTA_MAX, _SC_ASYNCHRONOUS_IO, _SC_PRIORITIZED_IO]) expect(sysconf(name)).not.toBe(-1);
  });

  test('reports the values aio_init set', () => {
    aio_init({ aio_max: 100, aio_listio_max: 10 });
    expect(sysconf(_SC_AIO_MAX)).toBe(100);
    expect(sysconf(_SC_AIO_LISTIO_MAX)).toBe(10);
    expect(sysconf(_SC_AIO_PRIO_DELTA_MAX)).toBe(20);
  });

  test('EINVAL: returns -1 with errno EINVAL for an unknown name', () => {
    expect(sysconf(99999)).toBe(-1);
    expect(errno()).toBe(EINVAL);
    expect(lastError()).toMatchObject({ code: 'EINVAL', syscall: 'sysconf' });
    expect(sysconf(-1)).toBe(-1);
    expect(errno()).toBe(EINVAL);
  });

  test('throws a TypeError when name is not a number', () => {
    expect(() => sysconf('_SC_AIO_MAX' as never)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  });
});

describe('aio_init', () => {
  test('returns nothing and accepts every field of struct aioinit, glibc\'s unused ones included', () => {
    expect(aio_init({ aio_threads: 2, aio_num: 32, aio_idle_time: 0, aio_max: 64, aio_listio_max: 2, aio_locks: 0, aio_usedba: 0, aio_debug: 0, aio_numusers: 0, aio_reserved: [0, 0] })).toBeUndefined();
    expect(sysconf(_SC_AIO_MAX)).toBe(64);
    expect(sysconf(_SC_AIO_LISTIO_MAX)).toBe(2);
    expect(engine().maxInFlight).toBe(2);
  });

  test('an empty init changes nothing', () => {
    aio_init({});
    expect(sysconf(_SC_AIO_MAX)).toBe(512);
    expect(sysconf(_SC_AIO_LISTIO_MAX)).toBe(256);
    expect(engine().maxInFlight).toBe(DEFAULTS.aio_threads);
  });

  test('accepts the smallest legal values: aio_threads, aio_num and aio_max 1, aio_listio_max 2, aio_idle_time 0', () => {
    expect(() => aio_init({ aio_threads: 1, aio_num: 1, aio_max: 1, aio_listio_max: 2, aio_idle_time: 0 })).not.toThrow();
    expect(sysconf(_SC_AIO_MAX)).toBe(1);
    expect(sysconf(_SC_AIO_LISTIO_MAX)).toBe(2);
  });

  test.each<[string, AioInit]>([
    ['aio_threads 0', { aio_threads: 0 }],
    ['aio_threads -1', { aio_threads: -1 }],
    ['aio_threads 1.5', { aio_threads: 1.5 }],
    ['aio_num 0', { aio_num: 0 }],
    ['aio_max 0', { aio_max: 0 }],
    ['aio_max NaN', { aio_max: NaN }],
    ['aio_listio_max 1', { aio_listio_max: 1 }],
    ['aio_idle_time -1', { aio_idle_time: -1 }],
    ['aio_idle_time Infinity', { aio_idle_time: Infinity }],
  ])('throws a RangeError for %s', (_label, init) => {
    expect(() => aio_init(init)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }));
  });

  test.each<[string, unknown]>([
    ['aio_threads is a string', { aio_threads: '4' }],
    ['aio_max is a bigint', { aio_max: 10n }],
    ['aio_listio_max is null', { aio_listio_max: null }],
    ['aio_idle_time is a string', { aio_idle_time: '1' }],
    ['init is not an object', 4],
    ['init is null', null],
  ])('throws a TypeError when %s', (_label, init) => {
    expect(() => aio_init(init as AioInit)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
  });

  test.each<[string, AioInit]>([
    ['the last field is bad', { aio_threads: 2, aio_max: 100, aio_listio_max: 10, aio_idle_time: -1 }],
    ['the first field is bad', { aio_threads: 0, aio_max: 100, aio_listio_max: 10 }],
    ['a middle field is bad', { aio_threads: 2, aio_max: 100, aio_listio_max: 1 }],
  ])('applies nothing when one field is bad (%s)', (_label, init) => {
    expect(() => aio_init(init)).toThrow();
    expect(sysconf(_SC_AIO_MAX)).toBe(512);
    expect(sysconf(_SC_AIO_LISTIO_MAX)).toBe(256);
    expect(engine().maxInFlight).toBe(DEFAULTS.aio_threads);
  });

  describe('with the held backend', () => {
    let held: HeldBackend;
    let restore: () => void;

    async function drain(): Promise<void> {
      for (let i = 0; i < 1000 && (engine().outstanding > 0 || held.pending.length > 0); i++) {
        held.releaseAll();
        await flush();
      }
      await flush();
      expect(engine().outstanding).toBe(0);
    }

    beforeEach(() => {
      held = new HeldBackend().open(FILE).open(OTHER);
      restore = held.use(1);
    });

    afterEach(async () => {
      await drain();
      restore();
    });

    test('raising aio_threads dispatches waiting requests at once', () => {
      const cbs = [0, 100, 200].map((off) => readCb(FILE, off));
      for (const cb of cbs) expect(aio_read(cb)).toBe(0);
      expect(held.pending).toHaveLength(1);
      aio_init({ aio_threads: 3 });
      expect(held.pending).toHaveLength(3);
      for (const cb of cbs) expect(aio_cancel(FILE, cb)).toBe(aio.AIO_NOTCANCELED);
    });

    test('lowering aio_threads takes nothing back from the thread pool and applies to later dispatches', async () => {
      aio_init({ aio_threads: 3 });
      const cbs = [0, 100, 200, 300, 400].map((off) => readCb(FILE, off));
      for (const cb of cbs) expect(aio_read(cb)).toBe(0);
      expect(held.pending).toHaveLength(3);
      aio_init({ aio_threads: 1 });
      expect(held.pending).toHaveLength(3);
      held.releaseNext();
      await flush();
      // Two are still in flight, above the new cap of 1: nothing new is dispatched.
      expect(held.pending).toHaveLength(2);
      held.releaseNext();
      await flush();
      expect(held.pending).toHaveLength(1);
      held.releaseNext();
      await flush();
      expect(held.pending).toHaveLength(1);
      expect(held.log).toHaveLength(4);
    });

    test('lowering aio_max below what is outstanding affects only new submissions', async () => {
      const cbs = [0, 100, 200].map((off) => readCb(FILE, off));
      for (const cb of cbs) expect(aio_read(cb)).toBe(0);
      aio_init({ aio_max: 2 });
      expect(sysconf(_SC_AIO_MAX)).toBe(2);
      for (const cb of cbs) expect(aio_error(cb)).toBe(EINPROGRESS);
      const refused = readCb(OTHER, 0);
      expect(aio_read(refused)).toBe(-1);
      expect(errno()).toBe(EAGAIN);
      expect(lastError()?.message).toMatch(/AIO_MAX/);
      expect(aio_error(refused)).toBe(-1);
      await drain();
      for (const cb of cbs) expect(aio_return(cb)).toBe(8);
      // Now nothing is outstanding: two fit, the third does not.
      const next = [readCb(FILE, 0), readCb(FILE, 100)];
      for (const cb of next) expect(aio_read(cb)).toBe(0);
      expect(aio_read(readCb(OTHER, 0))).toBe(-1);
      expect(errno()).toBe(EAGAIN);
      expect(aio_fsync(O_SYNC, { aio_fildes: OTHER })).toBe(-1);
      expect(errno()).toBe(EAGAIN);
    });

    test('completed requests whose result was not retrieved are not outstanding', async () => {
      aio_init({ aio_max: 1 });
      const a = readCb(FILE, 0);
      expect(aio_read(a)).toBe(0);
      expect(aio_read(readCb(FILE, 100))).toBe(-1);
      expect(errno()).toBe(EAGAIN);
      held.releaseNext();
      await flush();
      expect(aio_error(a)).toBe(0);
      const b = readCb(FILE, 100);
      expect(aio_read(b)).toBe(0);
    });

    test('lowering aio_listio_max applies to the next lio_listio', async () => {
      aio_init({ aio_listio_max: 2 });
      const cbs = [0, 100, 200].map((off) => new AioControlBlock({ ...readCb(FILE, off), aio_lio_opcode: LIO_READ }));
      expect(lio_listio(LIO_NOWAIT, cbs, 3)).toBe(-1);
      expect(errno()).toBe(EINVAL);
      expect(held.log).toHaveLength(0);
      expect(lio_listio(LIO_NOWAIT, cbs, 2)).toBe(0);
    });
  });

  test('glibc tst-aio4: after aio_init({ 10, 20, 0 }) a write notifies through SIGEV_SIGNAL, and a LIO_NOWAIT list through its list signal', async () => {
    aio_init({ aio_threads: 10, aio_num: 20, aio_idle_time: 0 });
    const { fd } = tmpFile();
    let resolveWrite!: () => void;
    const writeSignal = new Promise<void>((r) => (resolveWrite = r));
    let resolveList!: () => void;
    const listSignal = new Promise<void>((r) => (resolveList = r));
    const handler = mustCall((name: unknown, info: SigInfo) => {
      expect(name).toBe('SIGUSR2');
      expect(info.si_code).toBe(SI_ASYNCIO);
      if (info.si_value === 'write') resolveWrite();
      if (info.si_value === 'list') resolveList();
    }, 2);
    process.on('SIGUSR2', handler);
    try {
      const w = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.from('hello'), aio_nbytes: 5, aio_sigevent: { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: 'write' } });
      expect(aio_write(w)).toBe(0);
      await writeSignal;
      expect(aio_return(w)).toBe(5);
      const l = new AioControlBlock({ aio_fildes: fd, aio_offset: 5, aio_buf: Buffer.from('world'), aio_nbytes: 5, aio_lio_opcode: LIO_WRITE });
      expect(lio_listio(LIO_NOWAIT, [l], 1, { sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: 'list' })).toBe(0);
      await listSignal;
      expect(aio_return(l)).toBe(5);
      expect(fs.readFileSync(tmpPathOf(fd)).toString()).toBe('helloworld');
    } finally {
      process.removeListener('SIGUSR2', handler);
    }
  });
});

/** The path of a descriptor opened by tmpFile (Linux). */
function tmpPathOf(fd: number): string {
  return fs.readlinkSync(`/proc/self/fd/${fd}`);
}

describe('<aio.h> definitions', () => {
  test('AIO_CANCELED, AIO_NOTCANCELED and AIO_ALLDONE carry glibc\'s values and are distinct', () => {
    expect([AIO_CANCELED, AIO_NOTCANCELED, AIO_ALLDONE]).toEqual([0, 1, 2]);
  });

  test('LIO_READ, LIO_WRITE, LIO_NOP, LIO_WAIT and LIO_NOWAIT carry glibc\'s values; each group is distinct', () => {
    expect([LIO_READ, LIO_WRITE, LIO_NOP]).toEqual([0, 1, 2]);
    expect([LIO_WAIT, LIO_NOWAIT]).toEqual([0, 1]);
  });

  test('SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD carry glibc\'s values; SI_ASYNCIO is Linux\'s', () => {
    expect([SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD]).toEqual([0, 1, 2]);
    expect(SI_ASYNCIO).toBe(-4);
  });

  test('AIO_PRIO_DELTA_MAX is 20', () => {
    expect(AIO_PRIO_DELTA_MAX).toBe(20);
  });

  test('O_SYNC and O_DSYNC are the platform\'s, from fs.constants, and differ', () => {
    expect(O_SYNC).toBe(fs.constants.O_SYNC);
    expect(O_DSYNC).toBe(fs.constants.O_DSYNC);
    expect(O_SYNC).not.toBe(O_DSYNC);
  });

  test('the _SC_ names are exported and distinct', () => {
    const names = [_SC_AIO_LISTIO_MAX, _SC_AIO_MAX, _SC_AIO_PRIO_DELTA_MAX, _SC_ASYNCHRONOUS_IO, _SC_PRIORITIZED_IO];
    for (const n of names) expect(Number.isInteger(n)).toBe(true);
    expect(new Set(names).size).toBe(names.length);
  });

  test.each(['EINPROGRESS', 'ECANCELED', 'EAGAIN', 'EBADF', 'EINVAL', 'EIO', 'EINTR', 'ESPIPE', 'EOVERFLOW', 'ENOSPC', 'EFBIG'])(
    '%s equals os.constants.errno',
    (name) => {
      const exported = (aio as unknown as Record<string, unknown>)[name];
      expect(exported).toBe((os.constants.errno as Record<string, number>)[name]);
      expect(typeof exported).toBe('number');
    },
  );

  test('every name in os.constants.errno is exported from the package root with its value', () => {
    const exports = aio as unknown as Record<string, unknown>;
    const missing: string[] = [];
    for (const [name, value] of Object.entries(os.constants.errno)) {
      if (exports[name] !== value) missing.push(name);
    }
    expect(missing).toEqual([]);
  });

  test('LTP aio_h/1-1: the module loads', () => {
    expect(typeof aio).toBe('object');
  });

  test('LTP aio_h/1-2: struct aiocb is a complete type with C\'s initial values (aio_fildes -1, aio_lio_opcode LIO_NOP)', () => {
    const cb = new AioControlBlock();
    expect(cb).toMatchObject({ aio_fildes: -1, aio_offset: 0, aio_buf: null, aio_nbytes: 0, aio_reqprio: 0, aio_lio_opcode: LIO_NOP });
    expect(cb.aio_sigevent.sigev_notify).toBe(SIGEV_NONE);
  });

  test('LTP aio_h/2-1: the seven members of struct aiocb can be assigned', () => {
    const buf = Buffer.alloc(4);
    const cb = new AioControlBlock();
    cb.aio_fildes = 3;
    cb.aio_offset = 10n;
    cb.aio_buf = buf;
    cb.aio_nbytes = 4;
    cb.aio_reqprio = 1;
    cb.aio_sigevent = { sigev_notify: SIGEV_THREAD, sigev_notify_function: () => {} };
    cb.aio_lio_opcode = LIO_WRITE;
    expect(cb).toMatchObject({ aio_fildes: 3, aio_offset: 10n, aio_buf: buf, aio_nbytes: 4, aio_reqprio: 1, aio_lio_opcode: LIO_WRITE });
    const fromInit = new AioControlBlock({ aio_fildes: 3, aio_offset: 10n, aio_buf: buf, aio_nbytes: 4, aio_reqprio: 1, aio_lio_opcode: LIO_WRITE });
    expect(fromInit).toMatchObject({ aio_fildes: 3, aio_offset: 10n, aio_buf: buf, aio_nbytes: 4, aio_reqprio: 1, aio_lio_opcode: LIO_WRITE });
  });

  test('LTP aio_h/3-1: the eight constants exist (AIO_ALLDONE ... LIO_WRITE)', () => {
    const exports = aio as unknown as Record<string, unknown>;
    for (const name of ['AIO_ALLDONE', 'AIO_CANCELED', 'AIO_NOTCANCELED', 'LIO_NOP', 'LIO_NOWAIT', 'LIO_READ', 'LIO_WAIT', 'LIO_WRITE']) {
      expect(typeof exports[name]).toBe('number');
    }
  });

  test('LTP aio_h/4-1: the eight functions exist and take C\'s arguments', () => {
    const arity: Array<[unknown, number]> = [
      [aio_cancel, 2],
      [aio_error, 1],
      [aio_fsync, 2],
      [aio_read, 1],
      [aio_return, 1],
      [aio_write, 1],
      [lio_listio, 4],
    ];
    for (const [fn, n] of arity) {
      expect(typeof fn).toBe('function');
      expect((fn as (...a: unknown[]) => unknown).length).toBe(n);
    }
    expect(typeof aio_suspend).toBe('function');
    // list, nent, timeout (and this package's AbortSignal).
    expect(aio_suspend.length).toBeGreaterThanOrEqual(3);
  });
});
