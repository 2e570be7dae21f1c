/**
 * Command-line parsing for `posix-aio bench`, with no dependencies.
 *
 * Every flag is described once, in {@link FLAGS}: the parser, the validation and the
 * help text all read that table, so a flag cannot exist without being documented.
 * A bad flag throws a {@link UsageError} whose message names the flag and the rule
 * it breaks; the entry point prints it and exits with status 2.
 */
import { MAX_POLL_WINDOW_MICROS } from '../src/index';
import type { Api, BufferKind, Notify, Rw } from './workload';

/** A command line that cannot be run: the message names the flag and the rule. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** The flag at fault ('--bs'), or null for a problem with the command itself. */
  readonly flag: string | null;

  constructor(flag: string | null, message: string) {
    super(flag === null ? message : `${flag}: ${message}`);
    this.flag = flag;
  }
}

/** What `posix-aio bench` was asked to do. */
export interface BenchOptions {
  rw: Rw;
  bs: number;
  iodepth: number;
  size: number;
  runtimeMs: number;
  api: Api;
  /** fsync after every N writes; 0 = never. */
  fsync: number;
  /** The data file, or null for a temporary one the tool creates and removes. */
  file: string | null;
  json: boolean;
  /** Where to write a Chrome trace-event file, or null. */
  trace: string | null;
  /** posix api: how completions are awaited. */
  notify: Notify;
  /** lio api: entries per lio_listio call (0 = the default, a quarter of the depth). */
  batch: number;
  /** In-flight cap (aio_init aio_threads) for the library's apis; 0 = the library default. */
  threads: number;
  /** Polling window (configurePolling windowMicros) for the library's apis; -1 = the library default. */
  poll: number;
  /** Where the slots' buffers come from (every api alike). */
  buffers: BufferKind;
  help: boolean;
}

export const RW_VALUES: readonly Rw[] = ['randread', 'randwrite', 'read', 'write'];
export const API_VALUES: readonly Api[] = ['posix', 'nng', 'promise', 'raw', 'fspromises', 'lio'];
export const NOTIFY_VALUES: readonly Notify[] = ['suspend', 'thread'];
export const BUFFER_VALUES: readonly BufferKind[] = ['alloc', 'mapped'];

/** Largest block size: one request must fit in a Buffer and in one read(2). */
const MAX_BS = 1 << 30;
/** Largest depth: far past any useful value, small enough to allocate the buffers. */
const MAX_DEPTH = 65536;
/** Longest run: a day. */
const RUNTIME_MAX_MS = 24 * 3600 * 1000;

interface FlagSpec {
  readonly name: keyof BenchOptions;
  readonly flag: string;
  /** null for a boolean switch. */
  readonly value: string | null;
  readonly help: string;
  readonly parse?: (raw: string, flag: string) => unknown;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * Parses a byte size as fio writes it: a number with an optional binary suffix
 * (k, m, g, t; "kib", "kb" and "b" are accepted too, all powers of 1024).
 *
 * @returns the size in bytes, or null when `raw` is not such a size or not a whole number of bytes.
 */
export function parseSize(raw: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(raw.trim());
  if (m === null) return null;
  const n = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? NaN);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Parses a duration: seconds by default, or with a suffix ms, s or m.
 *
 * @returns milliseconds, or null when `raw` is not such a duration.
 */
export function parseDuration(raw: string): number | null {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m)?$/i.exec(raw.trim());
  if (m === null) return null;
  const unit = (m[2] ?? 's').toLowerCase();
  const n = Number(m[1]) * (unit === 'ms' ? 1 : unit === 's' ? 1000 : 60000);
  return Number.isFinite(n) ? n : null;
}

function oneOf<T extends string>(values: readonly T[]): (raw: string, flag: string) => T {
  return (raw, flag) => {
    if ((values as readonly string[]).includes(raw)) return raw as T;
    throw new UsageError(flag, `must be one of ${values.join(', ')} (got "${raw}")`);
  };
}

function integer(min: number, max: number): (raw: string, flag: string) => number {
  return (raw, flag) => {
    const n = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(flag, `must be a whole number from ${min} to ${max} (got "${raw}")`);
    }
    return n;
  };
}

function size(min: number, max: number, example: string): (raw: string, flag: string) => number {
  return (raw, flag) => {
    const n = parseSize(raw);
    if (n === null || n < min || n > max) {
      throw new UsageError(flag, `must be a size in bytes from ${min} to ${max}, with an optional suffix k, m or g, such as ${example} (got "${raw}")`);
    }
    return n;
  };
}

function duration(raw: string, flag: string): number {
  const ms = parseDuration(raw);
  if (ms === null || ms <= 0 || ms > RUNTIME_MAX_MS) {
    throw new UsageError(flag, `must be a duration above 0 and at most 24 hours: seconds (3, 0.5) or with a suffix ms, s or m (got "${raw}")`);
  }
  return ms;
}

function text(raw: string, flag: string): string {
  if (raw === '') throw new UsageError(flag, 'must be a non-empty path');
  return raw;
}

/** Every flag of `posix-aio bench`, in the order the help lists them. */
export const FLAGS: readonly FlagSpec[] = [
  { name: 'rw', flag: '--rw', value: 'MODE', help: `randread, randwrite, read (sequential) or write (sequential). Default randread.`, parse: oneOf(RW_VALUES) },
  { name: 'bs', flag: '--bs', value: 'SIZE', help: 'Block size of one request: 4k, 64k, 1m ... Default 4k.', parse: size(1, MAX_BS, '4k or 1m') },
  { name: 'iodepth', flag: '--iodepth', value: 'N', help: 'Requests kept outstanding at once. Default 16.', parse: integer(1, MAX_DEPTH) },
  { name: 'size', flag: '--size', value: 'SIZE', help: 'Size of the data file the requests cover. Default 64m.', parse: size(1, 2 ** 50, '64m or 1g') },
  { name: 'runtimeMs', flag: '--runtime', value: 'TIME', help: 'How long to submit requests: seconds (3, 0.5) or with a suffix (250ms, 2s, 1m). Default 3.', parse: duration },
  {
    name: 'api',
    flag: '--api',
    value: 'API',
    help: [
      'Which interface issues the requests. Default posix.',
      'posix       aio_read/aio_write + aio_suspend (or --notify)',
      'lio         lio_listio(LIO_WAIT), --batch entries per call',
      'nng         nng_aio handles, nng_file_read/nng_file_write',
      'promise     the Promise face: promises.read/write',
      'raw         callback fs.read/fs.write (the baseline)',
      'fspromises  fs.promises FileHandle.read/write',
    ].join('\n'),
    parse: oneOf(API_VALUES),
  },
  { name: 'fsync', flag: '--fsync', value: 'N', help: 'Write workloads: fsync after every N writes (0 = never). Default 0.', parse: integer(0, 2 ** 31 - 1) },
  { name: 'file', flag: '--file', value: 'PATH', help: 'Use this data file (created, or extended to --size, if needed; never removed). Default: a temporary file, removed at the end.', parse: text },
  { name: 'threads', flag: '--threads', value: 'N', help: 'In-flight cap of the library (aio_init aio_threads). Default: the library default (16 per libuv thread: 64).', parse: integer(1, 1024) },
  { name: 'poll', flag: '--poll', value: 'MICROS', help: 'How long the event loop polls after each dispatch or completion instead of sleeping (configurePolling windowMicros); 0 = never. Default: the library default (200).', parse: integer(0, MAX_POLL_WINDOW_MICROS) },
  { name: 'notify', flag: '--notify', value: 'HOW', help: 'posix api: suspend (aio_suspend on the outstanding list) or thread (SIGEV_THREAD). Default suspend.', parse: oneOf(NOTIFY_VALUES) },
  { name: 'batch', flag: '--batch', value: 'N', help: 'lio api: entries per lio_listio call. Default: a quarter of --iodepth (at least 1).', parse: integer(1, MAX_DEPTH) },
  {
    name: 'buffers',
    flag: '--buffers',
    value: 'KIND',
    help: "The slots' buffers, for every api alike: alloc (Buffer.allocUnsafe, as a program writes it; whether malloc maps a large one depends on its history) or mapped (views 16 bytes into a page, where malloc puts a large Buffer it maps: the kernel copies into them at a quarter of its speed). Default alloc.",
    parse: oneOf(BUFFER_VALUES),
  },
  { name: 'json', flag: '--json', value: null, help: 'Print the result as one JSON object instead of the text report.' },
  { name: 'trace', flag: '--trace', value: 'FILE', help: 'Write a Chrome trace-event JSON file (open it in https://ui.perfetto.dev): one async slice per request with its queue wait and service time, from the posix-aio:* diagnostics channels.', parse: text },
  { name: 'help', flag: '--help', value: null, help: 'Show this help (also -h).' },
];

const DEFAULTS: BenchOptions = {
  rw: 'randread',
  bs: 4096,
  iodepth: 16,
  size: 64 * 1024 * 1024,
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
};

/** Splits `text` into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  out.push(line);
  return out;
}

/** The help text of `posix-aio bench`. */
export function benchHelp(): string {
  const lines = [
    'Usage: posix-aio bench [flags]',
    '',
    'A small fio for posix-aio: runs one workload through one interface for a fixed',
    'time, then reports IOPS, bandwidth, latency percentiles (p50/p90/p99/p99.9) and',
    "the engine's counters. A live progress line is shown when stderr is a terminal.",
    '',
    'Flags (as --flag value or --flag=value):',
  ];
  const indent = ' '.repeat(22);
  for (const f of FLAGS) {
    const head = `  ${f.flag}${f.value === null ? '' : ` ${f.value}`}`;
    const [first, ...rest] = f.help.split('\n');
    const body = [...wrap(first ?? '', 80 - indent.length), ...rest];
    lines.push(`${head.padEnd(indent.length)}${body[0] ?? ''}`);
    for (const r of body.slice(1)) lines.push(`${indent}${r}`);
  }
  lines.push(
    '',
    'Sizes take binary suffixes (4k = 4096 bytes). Exit status: 0 on success, 1 when',
    'a request failed or a completion was lost or doubled, 2 for a bad command line,',
    '130 when stopped early with Ctrl-C (the report covers the time it ran).',
    '',
    'Examples:',
    '  posix-aio bench --rw randread --bs 4k --iodepth 64 --runtime 3 --api posix',
    '  posix-aio bench --rw write --bs 64k --fsync 32 --api nng --json',
    '  posix-aio bench --api promise --runtime 500ms --trace trace.json',
  );
  return lines.join('\n');
}

/** The top-level help of `posix-aio`. */
export function mainHelp(): string {
  return [
    'Usage: posix-aio <command> [flags]',
    '',
    'Commands:',
    '  bench     run one I/O workload through one interface and report its speed',
    '            (posix-aio bench --help lists its flags)',
    '',
    'Flags:',
    '  --help    show this help (also -h)',
  ].join('\n');
}

/**
 * Parses the flags of `posix-aio bench` (everything after the command).
 *
 * @throws {UsageError} for an unknown flag, a missing or invalid value, or a
 * combination that cannot run (such as --bs larger than --size).
 */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const opts: BenchOptions = { ...DEFAULTS };
  const seen = new Set<string>();
  const byFlag = new Map(FLAGS.map((f) => [f.flag, f]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '-h') {
      opts.help = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(null, `unexpected argument "${arg}": flags start with -- (see posix-aio bench --help)`);
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const spec = byFlag.get(flag);
    if (spec === undefined) throw new UsageError(flag, 'unknown flag (see posix-aio bench --help for the list)');
    if (seen.has(flag)) throw new UsageError(flag, 'given more than once');
    seen.add(flag);
    if (spec.value === null) {
      if (eq >= 0) throw new UsageError(flag, 'takes no value');
      (opts as unknown as Record<string, unknown>)[spec.name] = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new UsageError(flag, `needs a value (${spec.value})`);
      raw = next;
      i++;
    }
    (opts as unknown as Record<string, unknown>)[spec.name] = (spec.parse as (raw: string, flag: string) => unknown)(raw, flag);
  }
  if (opts.help) return opts;
  if (opts.bs > opts.size) throw new UsageError('--bs', `must not be larger than --size (${opts.bs} > ${opts.size} bytes)`);
  const writes = opts.rw === 'write' || opts.rw === 'randwrite';
  if (seen.has('--fsync') && opts.fsync > 0 && !writes) throw new UsageError('--fsync', `applies only to write workloads (--rw write or randwrite), not ${opts.rw}`);
  if (seen.has('--notify') && opts.api !== 'posix') throw new UsageError('--notify', `applies only to --api posix, not ${opts.api}`);
  if (seen.has('--batch')) {
    if (opts.api !== 'lio') throw new UsageError('--batch', `applies only to --api lio, not ${opts.api}`);
    if (opts.batch > opts.iodepth) throw new UsageError('--batch', `must not be larger than --iodepth (${opts.batch} > ${opts.iodepth})`);
  }
  for (const flag of ['--threads', '--poll']) {
    if (seen.has(flag) && (opts.api === 'raw' || opts.api === 'fspromises')) {
      throw new UsageError(flag, `applies only to the library's apis (posix, lio, nng, promise), not ${opts.api}`);
    }
  }
  return opts;
}
