/**
 * The comparative bench (issue 4): every interface of the library against Node's own
 * fs on the same workloads, in one process.
 *
 * Rows: 4 KiB random reads and random writes at depth 1, 16, 64 and 256; 4 KiB
 * sequential reads at depth 16; 1 MiB sequential reads at depth 4, twice: into
 * `Buffer.allocUnsafe` buffers ("seqread 1m qd4"; malloc may map them or carve them
 * from its heap) and into Buffers that start 16 bytes into a page as malloc maps them
 * ("seqread 1m qd4 mapped", the 4K-aliasing case of issue 4; see slotBuffers in
 * cli/workload.ts), every api of a row reading into the same kind; 4 KiB sequential
 * writes at depth 16 with an fsync every 64 writes. For each row the interfaces raw
 * (callback fs.read/fs.write), fspromises (FileHandle), posix (aio_read/aio_write +
 * aio_suspend), lio (lio_listio batches), nng (nng_file_* on nng_aio handles) and
 * promise (the Promise face) run through cli/workload.ts, the runner of
 * `posix-aio bench`.
 *
 * Method (as bench/cap.ts): page-cached data files (written, then read once); a
 * warm-up of every interface; then passes interleaved (pass 1 of every row and api,
 * then pass 2 ...; the api order rotates from pass to pass); medians over the passes.
 * "x raw" is the median over passes of the ratio to raw fs.read (fs.write for write
 * rows) of the same row in the same pass. Fairness: during every run a 1-iteration
 * crypto.pbkdf2 probe measures how long a foreign job waits for a thread-pool thread
 * (median), and perf_hooks.monitorEventLoopDelay the event-loop delay (p99); the
 * depth-64 rows are summarised at the end, followed by issue 4's targets judged on
 * this run (bench/targets.ts; `targets` in the JSON).
 *
 * `npm run bench` bundles this file and the library (tsup, into .bench/) and runs the
 * bundle, so that it measures the code users get: under tsx every module boundary and
 * closure costs extra (esbuild's keepNames and export getters), ~10-20 % here.
 * `npx tsx bench/run.ts` runs the sources directly (CI's smoke test does).
 *
 * Usage: npm run bench -- [--passes 3] [--ms 1000] [--json] [--uring] [--tiny] [--only TEXT] [--threads N] [--bounce MODE] [--poll MICROS]
 *   --passes N   passes per row and api (default 3; --tiny: 1)
 *   --ms N       milliseconds per run (default 1000; --tiny: 25)
 *   --json       print the results as JSON instead of tables
 *   --uring      then re-run everything in a child process with UV_USE_IO_URING=1
 *                and print its table too
 *   --tiny       CI smoke: a 2 MiB file, a few ms per run, one pass
 *   --only TEXT  only the rows whose name contains TEXT (e.g. "qd64")
 *   --threads N  aio_init({ aio_threads: N }) first: the in-flight cap to measure
 *                (default: the library's default)
 *   --bounce MODE  configureBounce({ mode: MODE }) first: adaptive (the library's
 *                default), always or off (large reads straight into the buffer)
 *   --poll MICROS  configurePolling({ windowMicros: MICROS }) first: how long the
 *                event loop polls after each event (default: the library's, 200;
 *                0 = never, to measure what polling buys)
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatCount, formatPolling } from '../cli/report';
import { IO_URING } from '../src/engine/queue';
import { configureBounce, configurePolling, MAX_POLL_WINDOW_MICROS, type BounceMode, type PollSettings } from '../src/index';
import { prepareFile, runJob, type Api, type BufferKind, type JobStats, type Rw } from '../cli/workload';
import { formatVerdicts, judge, type Verdict } from './targets';

interface RowSpec {
  readonly name: string;
  readonly rw: Rw;
  readonly bs: number;
  readonly iodepth: number;
  readonly fsync: number;
  /** The slots' buffers (default 'alloc'). */
  readonly buffers?: BufferKind;
}

const KiB = 1024;
const MiB = 1024 * 1024;

const ROWS: readonly RowSpec[] = [
  ...[1, 16, 64, 256].map((d) => ({ name: `randread 4k qd${d}`, rw: 'randread' as const, bs: 4 * KiB, iodepth: d, fsync: 0 })),
  ...[1, 16, 64, 256].map((d) => ({ name: `randwrite 4k qd${d}`, rw: 'randwrite' as const, bs: 4 * KiB, iodepth: d, fsync: 0 })),
  { name: 'seqread 4k qd16', rw: 'read', bs: 4 * KiB, iodepth: 16, fsync: 0 },
  { name: 'seqread 1m qd4', rw: 'read', bs: MiB, iodepth: 4, fsync: 0 },
  { name: 'seqread 1m qd4 mapped', rw: 'read', bs: MiB, iodepth: 4, fsync: 0, buffers: 'mapped' },
  { name: 'write 4k qd16 fsync/64', rw: 'write', bs: 4 * KiB, iodepth: 16, fsync: 64 },
];

const APIS: readonly Api[] = ['raw', 'fspromises', 'posix', 'lio', 'nng', 'promise'];

interface Options {
  passes: number;
  ms: number;
  json: boolean;
  uring: boolean;
  tiny: boolean;
  only: string | null;
  threads: number | null;
  bounce: BounceMode | null;
  poll: number | null;
  child: boolean;
}

function usage(message: string): never {
  process.stderr.write(`bench/run.ts: ${message}\nusage: npm run bench -- [--passes N] [--ms N] [--json] [--uring] [--tiny] [--only TEXT] [--threads N] [--bounce adaptive|always|off] [--poll MICROS]\n`);
  process.exit(2);
}

function parse(argv: readonly string[]): Options {
  const o: Options = { passes: 3, ms: 1000, json: false, uring: false, tiny: false, only: null, threads: null, bounce: null, poll: null, child: false };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a}: needs a value`);
      return v;
    };
    const int = (min: number, max: number): number => {
      const v = value();
      const n = /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(n) || n < min || n > max) usage(`${a}: must be a whole number from ${min} to ${max} (got "${v}")`);
      return n;
    };
    given.add(a);
    switch (a) {
      case '--passes':
        o.passes = int(1, 99);
        break;
      case '--ms':
        o.ms = int(1, 600000);
        break;
      case '--only':
        o.only = value();
        break;
      case '--threads':
        o.threads = int(1, 1024);
        break;
      case '--bounce': {
        const v = value();
        if (v !== 'adaptive' && v !== 'always' && v !== 'off') usage(`--bounce: must be adaptive, always or off (got "${v}")`);
        o.bounce = v;
        break;
      }
      case '--poll':
        o.poll = int(0, MAX_POLL_WINDOW_MICROS);
        break;
      case '--json':
        o.json = true;
        break;
      case '--uring':
        o.uring = true;
        break;
      case '--tiny':
        o.tiny = true;
        break;
      case '--child':
        o.child = true;
        break;
      case '--help':
      case '-h':
        // The header of the source file, also when this runs as the bundle in .bench/.
        process.stdout.write(`${(/\/\*\*([\s\S]*?)\*\//.exec(fs.readFileSync(new URL('../bench/run.ts', import.meta.url), 'utf8'))?.[1] ?? '').replace(/^ \* ?/gm, '').trim()}\n`);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        usage(`${a}: unknown flag`);
    }
  }
  if (o.tiny) {
    if (!given.has('--passes')) o.passes = 1;
    if (!given.has('--ms')) o.ms = 25;
  }
  return o;
}

/** One (row, api) cell over the passes. */
interface Cell {
  row: RowSpec;
  api: Api;
  runs: JobStats[];
  ratios: number[];
}

/** One line of results, as printed and as --json gives it. */
interface Line {
  row: string;
  rw: Rw;
  bs: number;
  iodepth: number;
  fsync: number;
  api: Api;
  iops: number;
  mbps: number;
  p50us: number;
  p99us: number;
  /** Median ratio of IOPS to raw fs.read/fs.write of the same row and pass. */
  ratio: number;
  probeMs: number;
  lagP99Ms: number;
  errors: number;
  /** Every run's submissions equalled its completions. */
  exactlyOnce: boolean;
  passes: Array<Pick<JobStats, 'iops' | 'bandwidth' | 'elapsedMs' | 'submitted' | 'completed' | 'errors'> & { p50us: number; p99us: number }>;
}

interface Result {
  meta: {
    node: string;
    platform: string;
    cpus: number;
    uvThreadpoolSize: string;
    ioUring: string;
    bounce: BounceMode;
    poll: PollSettings;
    /** The in-flight cap given with --threads; null = the library's default. */
    threads: number | null;
    passes: number;
    msPerRun: number;
    fileSize: number;
  };
  lines: Line[];
  /** Issue 4's targets judged on `lines` (bench/targets.ts). */
  targets: Verdict[];
  firstError: string | null;
  uring?: Result | { error: string };
}

function median(xs: readonly number[]): number {
  const s = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function measure(o: Options): Promise<Result> {
  const rows = ROWS.filter((r) => o.only === null || r.name.includes(o.only));
  const bounceMode = configureBounce(o.bounce !== null ? { mode: o.bounce } : {}).mode;
  const poll = configurePolling(o.poll !== null ? { windowMicros: o.poll } : {});
  if (rows.length === 0) usage(`--only: no row name contains "${o.only ?? ''}"`);
  const fileSize = o.tiny ? 2 * MiB : 64 * MiB;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-bench-'));
  const tty = process.stderr.isTTY === true && !o.child;
  const status = (text: string): void => {
    if (tty) process.stderr.write(`\r\x1b[K${text}`);
  };
  try {
    const readFile = path.join(dir, 'read.data');
    const writeFile = path.join(dir, 'write.data');
    status('preparing the data files (page cache) ...');
    prepareFile(readFile, fileSize);
    prepareFile(writeFile, fileSize);

    const job = (row: RowSpec, api: Api, ms: number, probe: boolean): Promise<JobStats> =>
      runJob({
        rw: row.rw,
        bs: row.bs,
        iodepth: row.iodepth,
        size: fileSize,
        runtimeMs: ms,
        api,
        fsync: row.fsync,
        file: row.rw === 'read' || row.rw === 'randread' ? readFile : writeFile,
        probe,
        ...(row.buffers !== undefined ? { buffers: row.buffers } : {}),
        ...(o.threads !== null ? { threads: o.threads } : {}),
      });

    // Warm-up: every code path once (JIT, thread pool, page cache), not recorded.
    const warmMs = o.tiny ? 5 : Math.min(300, Math.max(20, o.ms / 2));
    const warmRows: RowSpec[] = [
      { name: 'warm read', rw: 'randread', bs: 4 * KiB, iodepth: 16, fsync: 0 },
      { name: 'warm write', rw: 'randwrite', bs: 4 * KiB, iodepth: 16, fsync: 8 },
    ];
    for (const row of warmRows) {
      for (const api of APIS) {
        status(`warm-up ${row.rw} ${api}`);
        await job(row, api, warmMs, false);
      }
    }

    const cells = new Map<string, Cell>();
    const total = rows.length * APIS.length * o.passes;
    let done = 0;
    let firstError: string | null = null;
    for (let pass = 0; pass < o.passes; pass++) {
      for (const row of rows) {
        const order = APIS.map((_, i) => APIS[(i + pass) % APIS.length] as Api);
        const results = new Map<Api, JobStats>();
        for (const api of order) {
          status(`pass ${pass + 1}/${o.passes} [${++done}/${total}] ${row.name} ${api}`);
          const s = await job(row, api, o.ms, true);
          firstError ??= s.firstError;
          results.set(api, s);
        }
        const raw = results.get('raw') as JobStats;
        for (const [api, s] of results) {
          const key = `${row.name}/${api}`;
          const cell = cells.get(key) ?? { row, api, runs: [], ratios: [] };
          cell.runs.push(s);
          cell.ratios.push(raw.iops > 0 ? s.iops / raw.iops : NaN);
          cells.set(key, cell);
        }
      }
    }
    status('');
    const lines: Line[] = [];
    for (const row of rows) {
      for (const api of APIS) {
        const c = cells.get(`${row.name}/${api}`) as Cell;
        lines.push({
          row: row.name,
          rw: row.rw,
          bs: row.bs,
          iodepth: row.iodepth,
          fsync: row.fsync,
          api,
          iops: median(c.runs.map((r) => r.iops)),
          mbps: median(c.runs.map((r) => r.bandwidth / 1e6)),
          p50us: median(c.runs.map((r) => r.lat.p50)),
          p99us: median(c.runs.map((r) => r.lat.p99)),
          ratio: median(c.ratios),
          probeMs: median(c.runs.map((r) => r.probe?.medianMs ?? NaN)),
          lagP99Ms: median(c.runs.map((r) => r.loopDelay?.p99Ms ?? NaN)),
          errors: c.runs.reduce((n, r) => n + r.errors, 0),
          exactlyOnce: c.runs.every((r) => r.submitted === r.completed && r.duplicates === 0),
          passes: c.runs.map((r) => ({
            iops: r.iops,
            bandwidth: r.bandwidth,
            elapsedMs: r.elapsedMs,
            submitted: r.submitted,
            completed: r.completed,
            errors: r.errors,
            p50us: r.lat.p50,
            p99us: r.lat.p99,
          })),
        });
      }
    }
    return {
      meta: {
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: os.availableParallelism(),
        uvThreadpoolSize: process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)',
        ioUring: IO_URING ? `on (UV_USE_IO_URING=${process.env['UV_USE_IO_URING'] ?? ''})` : 'off',
        bounce: bounceMode,
        poll,
        threads: o.threads,
        passes: o.passes,
        msPerRun: o.ms,
        fileSize,
      },
      lines,
      targets: judge(lines),
      firstError,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

function table(r: Result): string {
  const m = r.meta;
  const out: string[] = [];
  out.push(
    `posix-aio bench: Node ${m.node}, ${m.platform}, ${m.cpus} CPUs, UV_THREADPOOL_SIZE=${m.uvThreadpoolSize}, io_uring ${m.ioUring}`,
    `${m.msPerRun} ms per run, medians of ${m.passes} interleaved pass${m.passes === 1 ? '' : 'es'}, ${m.fileSize / MiB} MiB page-cached files; library in-flight cap: ${m.threads ?? 'its default'}; bounce mode: ${m.bounce}; polling: ${formatPolling(m.poll)}`,
    `x raw: IOPS ratio to raw fs.read/fs.write, same row and pass. probe: median wait of a 1-iteration pbkdf2 for a pool thread. lag: event-loop delay p99.`,
    '',
  );
  const head = `${'row'.padEnd(24)}${'api'.padEnd(12)}${'IOPS'.padStart(9)}${'MB/s'.padStart(9)}${'p50 us'.padStart(10)}${'p99 us'.padStart(10)}${'x raw'.padStart(8)}${'probe ms'.padStart(10)}${'lag ms'.padStart(9)}`;
  out.push(head, '-'.repeat(head.length));
  let last = '';
  for (const l of r.lines) {
    const rowCol = l.row === last ? '' : l.row;
    if (l.row !== last && last !== '') out.push('');
    last = l.row;
    const flag = l.errors > 0 || !l.exactlyOnce ? `  !! errors ${l.errors}${l.exactlyOnce ? '' : ', completions != submissions'}` : '';
    out.push(
      `${rowCol.padEnd(24)}${l.api.padEnd(12)}${formatCount(l.iops).padStart(9)}${fmt(l.mbps, 1).padStart(9)}${fmt(l.p50us, 1).padStart(10)}${fmt(l.p99us, 1).padStart(10)}${`${fmt(l.ratio, 2)}x`.padStart(8)}${fmt(l.probeMs, 3).padStart(10)}${fmt(l.lagP99Ms, 2).padStart(9)}${flag}`,
    );
  }
  // Fairness at depth 64.
  const fairRows = [...new Set(r.lines.filter((l) => l.iodepth === 64).map((l) => l.row))];
  if (fairRows.length > 0) {
    out.push('', 'fairness at depth 64: pbkdf2 probe median wait (ms) / event-loop delay p99 (ms)');
    out.push(`${'api'.padEnd(12)}${fairRows.map((n) => n.padStart(24)).join('')}`);
    for (const api of APIS) {
      const cells = fairRows.map((n) => {
        const l = r.lines.find((x) => x.row === n && x.api === api);
        return (l === undefined ? '-' : `${fmt(l.probeMs, 3)} / ${fmt(l.lagP99Ms, 2)}`).padStart(24);
      });
      out.push(`${api.padEnd(12)}${cells.join('')}`);
    }
  }
  out.push(...formatVerdicts(r.targets));
  if (r.firstError !== null) out.push('', `first error: ${r.firstError}`);
  return out.join('\n');
}

/** Runs this script again in a child process with UV_USE_IO_URING=1 and returns its JSON. */
function uringChild(argv: readonly string[]): Result | { error: string } {
  const args = [...process.execArgv, process.argv[1] as string, ...argv.filter((a) => a !== '--uring' && a !== '--json'), '--json', '--child'];
  const child = spawnSync(process.execPath, args, {
    env: { ...process.env, UV_USE_IO_URING: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * MiB,
  });
  if (child.status !== 0 && child.status !== 1) return { error: `the io_uring child exited with ${child.status ?? child.signal}` };
  try {
    return JSON.parse(child.stdout) as Result;
  } catch {
    return { error: `the io_uring child printed no JSON (exit ${child.status ?? child.signal})` };
  }
}

function ok(r: Result): boolean {
  return r.lines.every((l) => l.errors === 0 && l.exactlyOnce && l.iops > 0);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parse(argv);
  const result = await measure(o);
  if (o.uring && !o.child) result.uring = uringChild(argv);
  if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(`${table(result)}\n`);
    if (result.uring !== undefined) {
      process.stdout.write('\n\nThe same matrix with UV_USE_IO_URING=1 (child process):\n\n');
      process.stdout.write('error' in result.uring ? `${result.uring.error}\n` : `${table(result.uring)}\n`);
    }
  }
  const good = ok(result) && (result.uring === undefined || ('lines' in result.uring && ok(result.uring)));
  process.exitCode = good ? 0 : 1;
}

void main();
