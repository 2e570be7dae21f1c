import { constants as osConstants } from 'node:os';
import { AioError, errno, errnoName, errnoOf, fail, invalidArgType, lastError, outOfRange, strerror } from '../../src/errors';

const E = osConstants.errno;

describe('strerror', () => {
  test.each([
    [0, 'Success'],
    [E.EBADF, 'Bad file descriptor'],
    [E.EINVAL, 'Invalid argument'],
    [E.ECANCELED, 'Operation canceled'],
    [E.ENOSPC, 'No space left on device'],
    [E.EAGAIN, 'Resource temporarily unavailable'],
    [E.EINPROGRESS, "Operation now in progress"],
  ])('strerror(%i) is %p', (code, text) => {
    expect(strerror(code)).toBe(text);
  });

  test.each([99999, -1, 1.5, Number.NaN])('an unknown number %p gives "Unknown error"', (code) => {
    expect(strerror(code)).toMatch(/^Unknown error/);
  });
});

describe('errnoName and errnoOf', () => {
  test('name the platform errno values', () => {
    expect(errnoName(E.EBADF)).toBe('EBADF');
    expect(errnoName(E.EAGAIN)).toBe('EAGAIN');
    expect(errnoName(424242)).toBe('E424242');
  });

  test.each([
    [{ code: 'EBADF', errno: -E.EBADF }, E.EBADF],
    [{ code: 'ENOSPC' }, E.ENOSPC],
    [{ code: 'ERR_ACCESS_DENIED' }, E.EACCES],
    [{ code: 'ERR_SOMETHING_ELSE', errno: -E.EPIPE }, E.EPIPE],
    [{}, E.EIO],
  ])('maps a Node error %p to a positive errno', (shape, expected) => {
    expect(errnoOf(Object.assign(new Error('x'), shape) as NodeJS.ErrnoException)).toBe(expected);
  });
});

describe('fail, errno and lastError', () => {
  test('fail returns -1 and records the errno and a sentence', () => {
    expect(fail(E.EINVAL, 'aio_read', 'The value of "aiocbp.aio_reqprio" is out of range.')).toBe(-1);
    expect(errno()).toBe(E.EINVAL);
    const err = lastError() as AioError;
    expect(err).toBeInstanceOf(AioError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe('EINVAL');
    expect(err.errno).toBe(E.EINVAL);
    expect(err.syscall).toBe('aio_read');
    expect(err.message).toBe('EINVAL: invalid argument, aio_read (The value of "aiocbp.aio_reqprio" is out of range.)');
  });

  test('AioError is recognised across copies of the package by its brand', () => {
    const foreign = new AioError(E.EBADF, 'read');
    const clone = Object.create(Object.getPrototypeOf(foreign) as object) as object;
    expect(clone instanceof AioError).toBe(false);
    expect(foreign instanceof AioError).toBe(true);
    expect({ code: 'EBADF' } instanceof AioError).toBe(false);
  });
});

describe('argument errors', () => {
  test.each([
    ['aiocbp.aio_buf', 'an instance of Buffer', 'abc', `The "aiocbp.aio_buf" property must be an instance of Buffer. Received type string ('abc')`],
    ['fildes', 'of type number', null, 'The "fildes" argument must be of type number. Received null'],
    ['list', 'an instance of Array', {}, 'The "list" argument must be an instance of Array. Received an instance of Object'],
    ['x', 'of type number', 10n, 'The "x" argument must be of type number. Received type bigint (10n)'],
  ])('invalidArgType(%p) says what was expected and what was received', (name, expected, actual, message) => {
    const err = invalidArgType(name, expected, actual);
    expect(err).toBeInstanceOf(TypeError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE', message });
  });

  test('outOfRange follows Node grammar', () => {
    const err = outOfRange('aiocbp.aio_nbytes', '>= 0 && <= 4096', 8192);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({
      code: 'ERR_OUT_OF_RANGE',
      message: 'The value of "aiocbp.aio_nbytes" is out of range. It must be >= 0 && <= 4096. Received 8192',
    });
  });
});
