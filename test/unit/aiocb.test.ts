import { inspect } from 'node:util';
import { AioControlBlock, offsetRule, readRw } from '../../src/aiocb';
import { LIO_NOP, SIGEV_NONE, SIGEV_THREAD } from '../../src/constants';

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
    expect(offsetRule(snap, 'aiocbp', true)).toMatch(/"aiocbp.aio_offset" is out of range/);
    expect(offsetRule(snap, 'aiocbp', false)).toBeNull();
    expect(offsetRule(readRw({ aio_offset: 0n }, 'aiocbp'), 'aiocbp', true)).toBeNull();
  });
});
