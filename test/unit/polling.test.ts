/**
 * configurePolling (src/polling.ts): reports the settings, changes only the given
 * fields, and refuses bad input by naming the field and its rule, changing nothing.
 */
import { spawnSync } from 'node:child_process';
import { DEFAULTS, engine, IO_URING } from '../../src/engine/queue';
import { configurePolling, MAX_POLL_WINDOW_MICROS } from '../../src/index';

/** configurePolling() as a fresh process with `env` reports it (the sources, through tsx). */
function defaultsUnder(env: Record<string, string | undefined>): unknown {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '-e', "import('./src/index.ts').then((m) => console.log(JSON.stringify(m.configurePolling())))"], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as unknown;
}

afterEach(() => {
  configurePolling({ windowMicros: DEFAULTS.pollWindowMicros, maxBytes: DEFAULTS.pollMaxBytes });
});

describe('configurePolling', () => {
  test('defaults: a 200 us window (none under io_uring), for up to 256 KiB in the thread pool', () => {
    expect(configurePolling()).toEqual({ windowMicros: IO_URING ? 0 : 200, maxBytes: 256 * 1024 });
  });

  test('under io_uring (UV_USE_IO_URING=1, as libuv reads it) the default is not to poll', () => {
    const off = { windowMicros: 0, maxBytes: 256 * 1024 };
    const on = { windowMicros: 200, maxBytes: 256 * 1024 };
    expect(defaultsUnder({ UV_USE_IO_URING: '1' })).toEqual(process.platform === 'linux' ? off : on);
    expect(defaultsUnder({ UV_USE_IO_URING: '0' })).toEqual(on);
    expect(defaultsUnder({ UV_USE_IO_URING: 'yes' })).toEqual(on); // atoi("yes") is 0
    expect(defaultsUnder({ UV_USE_IO_URING: undefined })).toEqual(on);
  }, 120_000);

  test('reports the settings, keeps omitted fields and changes given ones, on the process engine', () => {
    expect(configurePolling({ windowMicros: 0 })).toEqual({ windowMicros: 0, maxBytes: 256 * 1024 });
    expect(engine().pollWindowMicros).toBe(0);
    expect(configurePolling({ maxBytes: Infinity })).toEqual({ windowMicros: 0, maxBytes: Infinity });
    expect(engine().pollMaxBytes).toBe(Infinity);
    expect(configurePolling({ windowMicros: 12.5, maxBytes: 0 })).toEqual({ windowMicros: 12.5, maxBytes: 0 });
    expect(configurePolling({ windowMicros: MAX_POLL_WINDOW_MICROS })).toEqual({ windowMicros: 1_000_000, maxBytes: 0 });
    expect(configurePolling({})).toEqual({ windowMicros: 1_000_000, maxBytes: 0 });
  });

  test.each([
    [{ windowMicros: -1 }, RangeError, 'The value of "options.windowMicros" is out of range. It must be a number >= 0 && <= 1000000. Received -1'],
    [{ windowMicros: 1_000_001 }, RangeError, '"options.windowMicros"'],
    [{ windowMicros: NaN }, RangeError, '"options.windowMicros"'],
    [{ windowMicros: Infinity }, RangeError, '"options.windowMicros"'],
    [{ windowMicros: '200' }, TypeError, 'The "options.windowMicros" property must be of type number'],
    [{ maxBytes: -1 }, RangeError, 'The value of "options.maxBytes" is out of range. It must be an integer >= 0, or Infinity. Received -1'],
    [{ maxBytes: 1.5 }, RangeError, '"options.maxBytes"'],
    [{ maxBytes: 1n }, TypeError, 'The "options.maxBytes" property must be of type number'],
    [{ windowMicros: 100, maxBytes: -1 }, RangeError, '"options.maxBytes"'],
    [null, TypeError, 'The "options" argument must be of type object'],
    ['fast', TypeError, 'The "options" argument must be of type object'],
  ])('refuses %p and changes nothing', (options, type, message) => {
    const before = configurePolling();
    const call = (): unknown => configurePolling(options as never);
    expect(call).toThrow(type as ErrorConstructor);
    expect(call).toThrow(message);
    expect(configurePolling()).toEqual(before);
  });
});
