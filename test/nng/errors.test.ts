/**
 * nng_strerror, errnoToNng and the constants (research/nng-aio.md §2; nng's
 * src/core/errors_test.c).
 */
import {
  EACCES, EAGAIN, EBADF, ECANCELED, EDQUOT, EEXIST, EFBIG, EINTR, EINVAL, EIO, EISDIR, EMFILE, ENAMETOOLONG,
  ENFILE, ENOBUFS, ENOENT, ENOMEM, ENOSPC, ENOSYS, ENOTCONN, ENOTSUP, EPERM, EPIPE, EPROTO, ETIMEDOUT, EWOULDBLOCK,
  EAFNOSUPPORT, ENOPROTOOPT, EPROTONOSUPPORT, ENOTSOCK, ETIME,
  ECONNREFUSED, ECONNRESET, ECONNABORTED, EADDRINUSE, EADDRNOTAVAIL, EHOSTUNREACH, ENETUNREACH, EBUSY, EISCONN,
  NNG_DURATION_DEFAULT, NNG_DURATION_INFINITE, NNG_DURATION_ZERO,
  NNG_EADDRINUSE, NNG_EADDRINVAL, NNG_EAGAIN, NNG_EAMBIGUOUS, NNG_EBADTYPE, NNG_EBUSY, NNG_ECANCELED, NNG_ECLOSED,
  NNG_ECONNABORTED, NNG_ECONNREFUSED, NNG_ECONNRESET, NNG_ECONNSHUT, NNG_ECRYPTO, NNG_EEXIST, NNG_EINTERNAL, NNG_EINTR,
  NNG_EINVAL, NNG_EMSGSIZE, NNG_ENOARG, NNG_ENOENT, NNG_ENOFILES, NNG_ENOMEM, NNG_ENOSPC, NNG_ENOTSUP, NNG_EPEERAUTH,
  NNG_EPERM, NNG_EPROTO, NNG_EREADONLY, NNG_ESTATE, NNG_ESTOPPED, NNG_ESYSERR, NNG_ETIMEDOUT, NNG_ETRANERR,
  NNG_EUNREACHABLE, NNG_EWRITEONLY, NNG_OK, errnoToNng, nng_strerror, strerror,
} from '../../src/index';

describe('constants', () => {
  test.each([
    ['NNG_OK', NNG_OK, 0], ['NNG_EINTR', NNG_EINTR, 1], ['NNG_ENOMEM', NNG_ENOMEM, 2], ['NNG_EINVAL', NNG_EINVAL, 3],
    ['NNG_EBUSY', NNG_EBUSY, 4], ['NNG_ETIMEDOUT', NNG_ETIMEDOUT, 5], ['NNG_ECONNREFUSED', NNG_ECONNREFUSED, 6],
    ['NNG_ECLOSED', NNG_ECLOSED, 7], ['NNG_EAGAIN', NNG_EAGAIN, 8], ['NNG_ENOTSUP', NNG_ENOTSUP, 9],
    ['NNG_EADDRINUSE', NNG_EADDRINUSE, 10], ['NNG_ESTATE', NNG_ESTATE, 11], ['NNG_ENOENT', NNG_ENOENT, 12],
    ['NNG_EPROTO', NNG_EPROTO, 13], ['NNG_EUNREACHABLE', NNG_EUNREACHABLE, 14], ['NNG_EADDRINVAL', NNG_EADDRINVAL, 15],
    ['NNG_EPERM', NNG_EPERM, 16], ['NNG_EMSGSIZE', NNG_EMSGSIZE, 17], ['NNG_ECONNABORTED', NNG_ECONNABORTED, 18],
    ['NNG_ECONNRESET', NNG_ECONNRESET, 19], ['NNG_ECANCELED', NNG_ECANCELED, 20], ['NNG_ENOFILES', NNG_ENOFILES, 21],
    ['NNG_ENOSPC', NNG_ENOSPC, 22], ['NNG_EEXIST', NNG_EEXIST, 23], ['NNG_EREADONLY', NNG_EREADONLY, 24],
    ['NNG_EWRITEONLY', NNG_EWRITEONLY, 25], ['NNG_ECRYPTO', NNG_ECRYPTO, 26], ['NNG_EPEERAUTH', NNG_EPEERAUTH, 27],
    ['NNG_ENOARG', NNG_ENOARG, 28], ['NNG_EAMBIGUOUS', NNG_EAMBIGUOUS, 29], ['NNG_EBADTYPE', NNG_EBADTYPE, 30],
    ['NNG_ECONNSHUT', NNG_ECONNSHUT, 31], ['NNG_ESTOPPED', NNG_ESTOPPED, 999], ['NNG_EINTERNAL', NNG_EINTERNAL, 1000],
    ['NNG_ESYSERR', NNG_ESYSERR, 0x10000000], ['NNG_ETRANERR', NNG_ETRANERR, 0x20000000],
    ['NNG_DURATION_INFINITE', NNG_DURATION_INFINITE, -1], ['NNG_DURATION_DEFAULT', NNG_DURATION_DEFAULT, -2],
    ['NNG_DURATION_ZERO', NNG_DURATION_ZERO, 0],
  ])('%s is %p', (_name, value, expected) => {
    expect(value).toBe(expected);
  });
});

describe('nng_strerror', () => {
  test.each([
    [NNG_OK, 'Hunky dory'], [NNG_EINTR, 'Interrupted'], [NNG_ENOMEM, 'Out of memory'], [NNG_EINVAL, 'Invalid argument'],
    [NNG_EBUSY, 'Resource busy'], [NNG_ETIMEDOUT, 'Timed out'], [NNG_ECONNREFUSED, 'Connection refused'],
    [NNG_ECLOSED, 'Object closed'], [NNG_EAGAIN, 'Try again'], [NNG_ENOTSUP, 'Not supported'],
    [NNG_EADDRINUSE, 'Address in use'], [NNG_ESTATE, 'Incorrect state'], [NNG_ENOENT, 'Entry not found'],
    [NNG_EPROTO, 'Protocol error'], [NNG_EUNREACHABLE, 'Destination unreachable'], [NNG_EADDRINVAL, 'Address invalid'],
    [NNG_EPERM, 'Permission denied'], [NNG_EMSGSIZE, 'Message too large'], [NNG_ECONNABORTED, 'Connection aborted'],
    [NNG_ECONNRESET, 'Connection reset'], [NNG_ECANCELED, 'Operation canceled'], [NNG_ENOFILES, 'Out of files'],
    [NNG_ENOSPC, 'Out of space'], [NNG_EEXIST, 'Resource already exists'], [NNG_EREADONLY, 'Read only resource'],
    [NNG_EWRITEONLY, 'Write only resource'], [NNG_ECRYPTO, 'Cryptographic error'],
    [NNG_EPEERAUTH, 'Peer could not be authenticated'], [NNG_ENOARG, 'Option requires argument'],
    [NNG_EAMBIGUOUS, 'Ambiguous option'], [NNG_EBADTYPE, 'Incorrect type'], [NNG_ECONNSHUT, 'Connection shutdown'],
    [NNG_ESTOPPED, 'Operation stopped'], [NNG_EINTERNAL, 'Internal error detected'],
  ])('nng errors_test known errors: %p is %p', (code, text) => {
    expect(nng_strerror(code)).toBe(text);
  });

  test('nng errors_test system errors: NNG_ESYSERR + errno gives the system text', () => {
    expect(nng_strerror(NNG_ESYSERR + ENOENT)).toBe(strerror(ENOENT));
    expect(nng_strerror(NNG_ESYSERR + EINVAL)).toBe(strerror(EINVAL));
    expect(nng_strerror(NNG_ESYSERR | EIO)).toMatch(/i\/o error/i);
  });

  test('NNG_ETRANERR + n gives "Transport error #n"', () => {
    expect(nng_strerror(NNG_ETRANERR + 5)).toBe('Transport error #5');
  });

  test('the system bit is checked first and taken off only when an errno is left (nng_strerror, nni_plat_strerror)', () => {
    expect(nng_strerror(NNG_ESYSERR | NNG_ETRANERR | 5)).toBe(strerror(NNG_ETRANERR | 5));
    expect(nng_strerror(NNG_ESYSERR)).toBe(strerror(NNG_ESYSERR));
    expect(nng_strerror(NNG_ESYSERR)).not.toBe(strerror(0));
  });

  test('an unknown code gives "Unknown error #n"', () => {
    expect(nng_strerror(12345)).toBe('Unknown error #12345');
    expect(nng_strerror(-3)).toBe('Unknown error #-3');
  });

  test('nng errors_test unknown errors: every code gives a non-empty string', () => {
    for (let i = 0; i < 0x1000000; i = i * 2 + 100) expect(nng_strerror(i).length).toBeGreaterThan(0);
  });

  test('returns its own string each time (no shared static buffer)', () => {
    const a = nng_strerror(12345);
    const b = nng_strerror(54321);
    expect(a).toBe('Unknown error #12345');
    expect(b).toBe('Unknown error #54321');
  });
});

describe('errnoToNng', () => {
  test.each([
    ['EBADF', EBADF, NNG_ECLOSED], ['EPIPE', EPIPE, NNG_ECLOSED], ['ENOTCONN', ENOTCONN, NNG_ECLOSED],
    ['ENOSPC', ENOSPC, NNG_ENOSPC], ['EFBIG', EFBIG, NNG_ENOSPC], ['EDQUOT', EDQUOT, NNG_ENOSPC],
    ['EINVAL', EINVAL, NNG_EINVAL], ['ENAMETOOLONG', ENAMETOOLONG, NNG_EINVAL], ['ENOENT', ENOENT, NNG_ENOENT],
    ['EMFILE', EMFILE, NNG_ENOFILES], ['ENFILE', ENFILE, NNG_ENOFILES], ['ECANCELED', ECANCELED, NNG_ECANCELED],
    ['ETIMEDOUT', ETIMEDOUT, NNG_ETIMEDOUT], ['EAGAIN', EAGAIN, NNG_EAGAIN], ['EWOULDBLOCK', EWOULDBLOCK, NNG_EAGAIN],
    ['ENOMEM', ENOMEM, NNG_ENOMEM], ['ENOBUFS', ENOBUFS, NNG_ENOMEM], ['EACCES', EACCES, NNG_EPERM],
    ['EPERM', EPERM, NNG_EPERM], ['EINTR', EINTR, NNG_EINTR], ['EEXIST', EEXIST, NNG_EEXIST],
    ['ENOSYS', ENOSYS, NNG_ENOTSUP], ['ENOTSUP', ENOTSUP, NNG_ENOTSUP], ['EPROTO', EPROTO, NNG_EPROTO],
    ['EBUSY', EBUSY, NNG_EBUSY], ['EISCONN', EISCONN, NNG_EBUSY], ['ECONNREFUSED', ECONNREFUSED, NNG_ECONNREFUSED],
    ['ECONNRESET', ECONNRESET, NNG_ECONNRESET], ['ECONNABORTED', ECONNABORTED, NNG_ECONNABORTED],
    ['EADDRINUSE', EADDRINUSE, NNG_EADDRINUSE], ['EADDRNOTAVAIL', EADDRNOTAVAIL, NNG_EADDRINVAL],
    ['EHOSTUNREACH', EHOSTUNREACH, NNG_EUNREACHABLE], ['ENETUNREACH', ENETUNREACH, NNG_EUNREACHABLE],
    ['EAFNOSUPPORT', EAFNOSUPPORT, NNG_ENOTSUP], ['ENOPROTOOPT', ENOPROTOOPT, NNG_ENOTSUP],
    ['EPROTONOSUPPORT', EPROTONOSUPPORT, NNG_ENOTSUP], ['ENOTSOCK', ENOTSOCK, NNG_EINVAL],
    ['ETIME', ETIME, NNG_ETIMEDOUT],
  ])('maps %s to its nng code', (_name, errno, code) => {
    expect(errnoToNng(errno)).toBe(code);
  });

  test.each([['EIO', EIO], ['EISDIR', EISDIR]])('maps %s, which nng does not know, to NNG_ESYSERR | errno', (_name, errno) => {
    expect(errnoToNng(errno)).toBe(NNG_ESYSERR | errno);
    expect(nng_strerror(errnoToNng(errno))).toBe(strerror(errno));
  });

  test('maps 0 to 0 and negates a libuv-style negative errno', () => {
    expect(errnoToNng(0)).toBe(NNG_OK);
    expect(errnoToNng(-EBADF)).toBe(NNG_ECLOSED);
  });
});
