import { constants as osConstants } from 'node:os';
import { SI_ASYNCIO, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD } from '../../src/constants';
import { deliver, readSigevent, resolveSignal, SIGRTMAX, SIGRTMIN } from '../../src/sigevent';
import { mustCall } from '../helpers/mustcall';

describe('resolveSignal', () => {
  test.each([
    ['SIGUSR2', osConstants.signals.SIGUSR2, 'SIGUSR2'],
    [osConstants.signals.SIGUSR1, osConstants.signals.SIGUSR1, 'SIGUSR1'],
    [SIGRTMIN, SIGRTMIN, 'SIGRTMIN'],
    [SIGRTMIN + 1, SIGRTMIN + 1, 'SIGRTMIN+1'],
    ['SIGRTMIN+1', SIGRTMIN + 1, 'SIGRTMIN+1'],
    [SIGRTMAX, SIGRTMAX, 'SIGRTMAX'],
    [SIGRTMAX - 2, SIGRTMAX - 2, 'SIGRTMAX-2'],
  ])('%p is signal %i named %p', (input, signo, name) => {
    expect(resolveSignal(input)).toEqual({ signo, name });
  });

  test.each([0, -1, 65, 1.5, 'SIGNOPE', ''])('%p is no signal', (input) => {
    expect(resolveSignal(input)).toBeNull();
  });
});

describe('readSigevent', () => {
  test('no sigevent, or SIGEV_NONE, means no notification', () => {
    expect(readSigevent(undefined, 's')).toBeNull();
    expect(readSigevent(null, 's')).toBeNull();
    expect(readSigevent({ sigev_notify: SIGEV_NONE }, 's')).toBeNull();
  });

  test('returns the EINVAL rule for an unknown sigev_notify, a missing function or a bad signal', () => {
    expect(readSigevent({ sigev_notify: 99 }, 'cb.aio_sigevent')).toMatch(/"cb.aio_sigevent.sigev_notify" is out of range/);
    expect(readSigevent({ sigev_notify: SIGEV_THREAD }, 's')).toMatch(/sigev_notify_function" property is required/);
    expect(readSigevent({ sigev_notify: SIGEV_SIGNAL, sigev_signo: 0 }, 's')).toMatch(/sigev_signo" is out of range/);
    expect(readSigevent({ sigev_notify: SIGEV_SIGNAL }, 's')).toMatch(/sigev_signo" property is required/);
  });

  test('throws TypeError for values of the wrong type', () => {
    expect(() => readSigevent('x', 's')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }));
    expect(() => readSigevent({ sigev_notify: '1' }, 's')).toThrow(TypeError);
    expect(() => readSigevent({ sigev_notify: SIGEV_THREAD, sigev_notify_function: 42 }, 's')).toThrow(TypeError);
    expect(() => readSigevent({ sigev_notify: SIGEV_SIGNAL, sigev_signo: {} }, 's')).toThrow(TypeError);
  });

  test('a getter that throws becomes a coded TypeError naming the field', () => {
    const sev = {
      get sigev_notify(): number {
        throw new Error('nope');
      },
    };
    expect(() => readSigevent(sev, 'cb.aio_sigevent')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: expect.stringContaining('"cb.aio_sigevent.sigev_notify"') }));
  });
});

describe('deliver', () => {
  test('SIGEV_THREAD calls the function with sigev_value', () => {
    const fn = mustCall((v: unknown) => expect(v).toBe('value'));
    const n = readSigevent({ sigev_notify: SIGEV_THREAD, sigev_notify_function: fn, sigev_value: 'value' }, 's');
    if (n === null || typeof n === 'string') throw new Error('expected a notifier');
    deliver(n);
  });

  test('SIGEV_SIGNAL emits the name on process with a siginfo', () => {
    const listener = mustCall((name: unknown, info: unknown) => {
      expect(name).toBe('SIGUSR2');
      expect(info).toEqual({ si_signo: osConstants.signals.SIGUSR2, si_code: SI_ASYNCIO, si_value: 7 });
    });
    process.on('SIGUSR2', listener);
    try {
      const n = readSigevent({ sigev_notify: SIGEV_SIGNAL, sigev_signo: 'SIGUSR2', sigev_value: 7 }, 's');
      if (n === null || typeof n === 'string') throw new Error('expected a notifier');
      deliver(n);
    } finally {
      process.removeListener('SIGUSR2', listener);
    }
  });
});
