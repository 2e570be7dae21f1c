import { parseBenchArgs, parseDuration, parseSize, UsageError } from '../../cli/args';

function usageError(argv: string[]): UsageError {
  try {
    parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return err;
    throw err;
  }
  throw new Error(`expected a UsageError for ${argv.join(' ')}`);
}

describe('parseSize', () => {
  test.each([
    ['4k', 4096],
    ['1m', 1048576],
    ['64M', 64 * 1048576],
    ['1g', 1024 ** 3],
    ['512', 512],
    ['4KiB', 4096],
    ['1.5k', 1536],
  ])('reads %s as %d bytes (binary suffixes, as fio)', (raw, bytes) => {
    expect(parseSize(raw)).toBe(bytes);
  });

  test.each(['', 'k', '4q', '-4k', '1.3', '4 kk'])('refuses "%s"', (raw) => {
    expect(parseSize(raw)).toBeNull();
  });
});

describe('parseDuration', () => {
  test.each([
    ['3', 3000],
    ['0.5', 500],
    ['250ms', 250],
    ['2s', 2000],
    ['1m', 60000],
  ])('reads %s as %d ms (seconds by default)', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  test.each(['', 'ms', '-1', '3h', 'soon'])('refuses "%s"', (raw) => {
    expect(parseDuration(raw)).toBeNull();
  });
});

describe('parseBenchArgs', () => {
  test('gives the documented defaults when no flag is given', () => {
    expect(parseBenchArgs([])).toEqual({
      rw: 'randread',
      bs: 4096,
      iodepth: 16,
      size: 64 * 1048576,
      runtimeMs: 3000,
      api: 'posix',
      fsync: 0,
      file: null,
      json: false,
      trace: null,
      notify: 'suspend',
      batch: 0,
      threads: 0,
      poll: -1,
      buffers: 'alloc',
      help: false,
    });
  });

  test('reads every flag, as "--flag value" and as "--flag=value"', () => {
    const o = parseBenchArgs([
      '--rw', 'randwrite', '--bs=64k', '--iodepth', '32', '--size', '8m', '--runtime=250ms', '--api', 'nng',
      '--fsync', '16', '--file', '/tmp/x', '--json', '--trace', 't.json', '--threads', '2', '--poll', '0',
    ]);
    expect(o).toMatchObject({ poll: 0 });
    expect(o).toMatchObject({ rw: 'randwrite', bs: 65536, iodepth: 32, size: 8 << 20, runtimeMs: 250, api: 'nng', fsync: 16, file: '/tmp/x', json: true, trace: 't.json', threads: 2 });
  });

  test('reads --buffers (alloc by default) and refuses other kinds, naming the flag', () => {
    expect(parseBenchArgs([]).buffers).toBe('alloc');
    expect(parseBenchArgs(['--buffers', 'mapped']).buffers).toBe('mapped');
    expect(() => parseBenchArgs(['--buffers', 'aligned'])).toThrow(/--buffers/);
  });

  test('reads --notify for posix and --batch for lio', () => {
    expect(parseBenchArgs(['--api', 'posix', '--notify', 'thread']).notify).toBe('thread');
    expect(parseBenchArgs(['--api', 'lio', '--iodepth', '64', '--batch', '8']).batch).toBe(8);
  });

  test('sets help for --help and -h', () => {
    expect(parseBenchArgs(['--help']).help).toBe(true);
    expect(parseBenchArgs(['-h']).help).toBe(true);
  });

  test.each<[string[], string, RegExp]>([
    [['--rw', 'sideways'], '--rw', /must be one of randread, randwrite, read, write \(got "sideways"\)/],
    [['--bs', '4q'], '--bs', /must be a size in bytes/],
    [['--bs', '0'], '--bs', /from 1 to/],
    [['--iodepth', '0'], '--iodepth', /whole number from 1 to 65536/],
    [['--iodepth', '2.5'], '--iodepth', /whole number/],
    [['--size', 'big'], '--size', /must be a size in bytes/],
    [['--runtime', '0'], '--runtime', /duration above 0/],
    [['--runtime', '5h'], '--runtime', /duration/],
    [['--api', 'uring'], '--api', /must be one of posix, nng, promise, raw, fspromises, lio/],
    [['--fsync', '-1'], '--fsync', /whole number from 0/],
    [['--frobnicate'], '--frobnicate', /unknown flag/],
    [['--iodepth'], '--iodepth', /needs a value/],
    [['--iodepth', '--json'], '--iodepth', /needs a value/],
    [['--json=yes'], '--json', /takes no value/],
    [['--bs', '4k', '--bs', '8k'], '--bs', /given more than once/],
    [['--bs', '1m', '--size', '64k'], '--bs', /must not be larger than --size/],
    [['--rw', 'randread', '--fsync', '4'], '--fsync', /applies only to write workloads/],
    [['--api', 'raw', '--notify', 'thread'], '--notify', /only to --api posix/],
    [['--api', 'posix', '--batch', '4'], '--batch', /only to --api lio/],
    [['--api', 'lio', '--iodepth', '4', '--batch', '8'], '--batch', /not be larger than --iodepth/],
    [['--api', 'raw', '--threads', '2'], '--threads', /only to the library's apis/],
    [['--api', 'fspromises', '--poll', '0'], '--poll', /only to the library's apis/],
    [['--poll', '-1'], '--poll', /whole number from 0 to 1000000/],
    [['--poll', '1000001'], '--poll', /whole number from 0 to 1000000/],
    [['--file', ''], '--file', /non-empty path/],
  ])('refuses %j, naming %s and the rule', (argv, flag, rule) => {
    const err = usageError(argv);
    expect(err.flag).toBe(flag);
    expect(err.message.startsWith(`${flag}: `)).toBe(true);
    expect(err.message).toMatch(rule);
  });

  test('refuses a bare word, saying flags start with --', () => {
    const err = usageError(['randread']);
    expect(err.flag).toBeNull();
    expect(err.message).toMatch(/unexpected argument "randread"/);
  });
});
