import { inspect } from 'node:util';
import { AioControlBlock, offsetRule, readRw, requestOf } from '../../src/aiocb';
import { LIO_NOP, SIGEV_NONE, SIGEV_THREAD } from '../../src/constants';
import { aio_error, aio_read, aio_return } from '../../src/index';
import { expectNeverSubmitted, settle } from '../helpers/aio';
import { cleanup, tmpFile } from '../helpers/files';

afterAll(cleanup);

describe('AioControlBlock', () => {
  test('starts with C zero values, aio_fildes -1 and LIO_NOP', () => {
    const cb = new AioControlBlock();
    expect({ ...cb }).toEqual({
      aio_fildes: -1,
      aio_offset: 0,
      aio_buf: null,
      aio_nbytes: 0,
      aio_reqprio: 0,
      aio_sigevent: { sigev_notify: SIGEV_NONE },
      aio_lio_opcode: LIO_NOP,
    });
  });

  test('takes any subset of the fields', () => {
    const buf = Buffer.alloc(8);
    const cb = new AioControlBlock({ aio_fildes: 3, aio_buf: buf, aio_nbytes: 8, aio_offset: 16n });
    expect(cb.aio_fildes).toBe(3);
    expect(cb.aio_buf).toBe(buf);
    expect(cb.aio_offset).toBe(16n);
    expect(cb.aio_reqprio).toBe(0);
  });

  test('copies only the aiocb fields of init: other keys, "__proto__" from JSON.parse included, are left out', async () => {
    const { fd } = tmpFile('abc');
    const cb = new AioControlBlock(JSON.parse(`{"__proto__": {"x": 1}, "aio_fildes": ${fd}, "aio_nbytes": 0, "foo": 2}`) as Partial<AioControlBlock>);
    expect(cb).toBeInstanceOf(AioControlBlock);
    expect(cb.aio_fildes).toBe(fd);
    expect(Object.keys(cb)).not.toContain('foo');
    expect((cb as unknown as { x?: number }).x).toBeUndefined();
    // Still tied to its request through the class's private slot.
    expect(aio_read(cb)).toBe(0);
    await settle(cb);
    expect(aio_return(cb)).toBe(0);
  });

  test('util.inspect shows the fields, the buffer size and the status', () => {
    const text = inspect(new AioControlBlock({ aio_fildes: 3, aio_buf: Buffer.alloc(8), aio_nbytes: 8 }));
    expect(text).toContain('aio_fildes: 3');
    expect(text).toContain('<Buffer 8 bytes>');
    expect(text).toContain("status: 'unsubmitted'");
  });

  test('JSON.stringify shows only the C fields (no bookkeeping on the block)', () => {
    const cb = new AioControlBlock({ aio_fildes: 3 });
    expect(Object.keys(JSON.parse(JSON.stringify(cb)) as object).sort()).toEqual(
      ['aio_buf', 'aio_fildes', 'aio_lio_opcode', 'aio_nbytes', 'aio_offset', 'aio_reqprio', 'aio_sigevent'].sort(),
    );
  });
});

describe('the tie between a block and its request', () => {
  const file = (): number => tmpFile('abcdefgh').fd;

  test('an AioControlBlock keeps it in a private field: no own key of any kind, not in a spread, not in JSON', async () => {
    const cb = new AioControlBlock({ aio_fildes: file(), aio_buf: Buffer.alloc(4), aio_nbytes: 4 });
    expect(aio_read(cb)).toBe(0);
    const req = requestOf(cb);
    expect(req).toBeDefined();
    expect(Reflect.ownKeys(cb).sort()).toEqual(['aio_buf', 'aio_fildes', 'aio_lio_opcode', 'aio_nbytes', 'aio_offset', 'aio_reqprio', 'aio_sigevent']);
    expect(Reflect.ownKeys({ ...cb })).toHaveLength(7);
    const copy = { ...cb };
    expectNeverSubmitted(copy);
    await settle(cb);
    expect(aio_return(cb)).toBe(4);
  });

  test('a frozen AioControlBlock is submitted again and again, each status its latest', async () => {
    const cb = Object.freeze(new AioControlBlock({ aio_fildes: file(), aio_buf: Buffer.alloc(4), aio_nbytes: 4 }));
    const seen = new Set<unknown>();
    for (let i = 0; i < 3; i++) {
      expect(aio_read(cb)).toBe(0);
      seen.add(requestOf(cb));
      await settle(cb);
      expect(aio_error(cb)).toBe(0);
      expect(aio_return(cb)).toBe(4);
    }
    expect(seen.size).toBe(3);
    expect((cb.aio_buf as Buffer).toString()).toBe('abcd');
  });

  test('a plain object (frozen or not) is tied through the shared WeakMap', async () => {
    const fd = file();
    for (const cb of [{ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2 }, Object.freeze({ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2 })]) {
      expect(aio_read(cb)).toBe(0);
      expect(Object.getOwnPropertySymbols(cb)).toEqual([]);
      await settle(cb);
      expect(aio_return(cb)).toBe(2);
    }
  });

  test('a Proxy (of an AioControlBlock, which has no private fields, or of a plain object that answers junk) is tied through the WeakMap', async () => {
    const fd = file();
    const through = new Proxy(new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 }), {});
    const hiding = new Proxy({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3 }, {
      get: (t, k, r) => (typeof k === 'symbol' ? 0 : (Reflect.get(t, k, r) as unknown)),
    });
    for (const cb of [through, hiding]) {
      expect(aio_read(cb)).toBe(0);
      await settle(cb);
      expect(aio_return(cb)).toBe(3);
    }
  });
});

describe('aio_read called again from inside its own reading of a block', () => {
  test('from a field getter, or a proxy trap after the fields were read: each request keeps its own fields', async () => {
    const { fd } = tmpFile('0123456789abcdefghij');
    const inner = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(3), aio_nbytes: 3, aio_offset: 10 });
    const viaGetter = { aio_fildes: fd, aio_nbytes: 4, aio_offset: 0, get aio_buf(): Buffer {
      expect(aio_read(inner)).toBe(0);
      return outBuf;
    } };
    const outBuf = Buffer.alloc(4);
    expect(aio_read(viaGetter)).toBe(0);
    await settle(inner, viaGetter);
    expect([aio_return(inner), inner.aio_buf?.toString()]).toEqual([3, 'abc']);
    expect([aio_return(viaGetter), outBuf.toString()]).toEqual([4, '0123']);

    const inner2 = new AioControlBlock({ aio_fildes: fd, aio_buf: Buffer.alloc(2), aio_nbytes: 2, aio_offset: 18 });
    const outBuf2 = Buffer.alloc(5);
    let nested = false;
    const viaTrap = new Proxy({ aio_fildes: fd, aio_buf: outBuf2, aio_nbytes: 5, aio_offset: 5 }, {
      get: (t, k, r) => {
        // Symbols are looked up after the fields (the request tie): submit another block there.
        if (typeof k === 'symbol' && !nested) {
          nested = true;
          expect(aio_read(inner2)).toBe(0);
        }
        return Reflect.get(t, k, r) as unknown;
      },
    });
    expect(aio_read(viaTrap)).toBe(0);
    expect(nested).toBe(true);
    await settle(inner2, viaTrap);
    expect([aio_return(inner2), inner2.aio_buf?.toString()]).toEqual([2, 'ij']);
    expect([aio_return(viaTrap), outBuf2.toString()]).toEqual([5, '56789']);
  });
});

describe('readRw', () => {
  test('reads each field once, even through getters', () => {
    const reads: string[] = [];
    const block = new Proxy(
      { aio_fildes: 3, aio_buf: Buffer.alloc(4), aio_nbytes: 4, aio_offset: 0, aio_reqprio: 0, aio_sigevent: { sigev_notify: SIGEV_NONE } },
      {
        get(target, key, receiver) {
          reads.push(String(key));
          return Reflect.get(target, key, receiver) as unknown;
        },
      },
    );
    const snap = readRw(block, 'aiocbp');
    expect(snap).toMatchObject({ fd: 3, len: 4, pos: 0, prio: 0, sig: null, invalid: null });
    expect(reads.filter((k) => k.startsWith('aio_')).sort()).toEqual(['aio_buf', 'aio_fildes', 'aio_nbytes', 'aio_offset', 'aio_reqprio', 'aio_sigevent']);
  });

  test('missing fields take the control block defaults', () => {
    expect(readRw({}, 'aiocbp')).toMatchObject({ fd: -1, pos: 0, buf: null, len: 0, prio: 0, sig: null, invalid: null });
  });

  test.each([
    [{ aio_fildes: '3' }, TypeError, 'aiocbp.aio_fildes'],
    [{ aio_fildes: 1.5 }, RangeError, 'aiocbp.aio_fildes'],
    [{ aio_buf: 'abc', aio_nbytes: 3 }, TypeError, 'aiocbp.aio_buf'],
    [{ aio_buf: null, aio_nbytes: 3 }, TypeError, 'aiocbp.aio_buf'],
    [{ aio_buf: Buffer.alloc(2), aio_nbytes: 3 }, RangeError, 'aiocbp.aio_nbytes'],
    [{ aio_buf: Buffer.alloc(2), aio_nbytes: -1 }, RangeError, 'aiocbp.aio_nbytes'],
    [{ aio_buf: Buffer.alloc(2), aio_nbytes: 0.5 }, RangeError, 'aiocbp.aio_nbytes'],
    [{ aio_nbytes: '1' }, TypeError, 'aiocbp.aio_nbytes'],
    [{ aio_offset: 2 ** 53 }, RangeError, 'aiocbp.aio_offset'],
    [{ aio_offset: Number.NaN }, RangeError, 'aiocbp.aio_offset'],
    [{ aio_offset: 2n ** 63n }, RangeError, 'aiocbp.aio_offset'],
    [{ aio_offset: '0' }, TypeError, 'aiocbp.aio_offset'],
    [{ aio_reqprio: '0' }, TypeError, 'aiocbp.aio_reqprio'],
    [{ aio_reqprio: 0.5 }, RangeError, 'aiocbp.aio_reqprio'],
    [{ aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: 'f' } }, TypeError, 'aiocbp.aio_sigevent.sigev_notify_function'],
  ])('%p throws %p naming %p', (block, kind, field) => {
    expect(() => readRw(block, 'aiocbp')).toThrow(kind);
    expect(() => readRw(block, 'aiocbp')).toThrow(expect.objectContaining({ message: expect.stringContaining(`"${field}"`) }));
  });

  test('reports reqprio and sigevent rules as EINVAL material, not throws', () => {
    expect(readRw({ aio_reqprio: 21 }, 'aiocbp').invalid).toMatch(/"aiocbp.aio_reqprio" is out of range. It must be >= 0 && <= 20. Received 21/);
    expect(readRw({ aio_reqprio: -1 }, 'aiocbp').invalid).toMatch(/Received -1/);
    expect(readRw({ aio_sigevent: { sigev_notify: 42 } }, 'aiocbp').invalid).toMatch(/sigev_notify/);
  });

  test('a negative offset breaks a rule only on a seekable descriptor', () => {
    const snap = readRw({ aio_offset: -1 }, 'aiocbp');
    expect(offsetRule(snap.pos, 'aiocbp', true)).toMatch(/"aiocbp.aio_offset" is out of range/);
    expect(offsetRule(snap.pos, 'aiocbp', false)).toBeNull();
    expect(offsetRule(readRw({ aio_offset: 0n }, 'aiocbp').pos, 'aiocbp', true)).toBeNull();
  });
});
