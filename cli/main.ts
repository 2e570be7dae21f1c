/**
 * The `posix-aio` command. One command so far: `posix-aio bench`, a small fio for
 * this library (cli/args.ts lists its flags).
 *
 * Exit status: 0 on success; 1 when a request failed, a completion was lost or
 * doubled, or the run could not start; 2 for a bad command line; 130 when stopped
 * early by SIGINT/SIGTERM (the report still covers the time it ran).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { benchHelp, mainHelp, parseBenchArgs, UsageError, type BenchOptions } from './args';
import { counters } from './lib';
import { describeJob, formatProgress, formatReport } from './report';
import { TraceRecorder } from './trace';
import { LIBRARY_APIS, prepareFile, runJob, type JobConfig, type JobStats } from './workload';

function usageExit(err: UsageError, command: string): never {
  process.stderr.write(`${command}: ${err.message}\n`);
  process.exit(2);
}

async function bench(argv: readonly string[]): Promise<number> {
  let opts: BenchOptions;
  try {
    opts = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) usageExit(err, 'posix-aio bench');
    throw err;
  }
  if (opts.help) {
    process.stdout.write(`${benchHelp()}\n`);
    return 0;
  }

  // The data file: the user's, or a temporary one removed at the end.
  let dir: string | null = null;
  let file = opts.file;
  if (file === null) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-bench-'));
    file = path.join(dir, 'data');
  }
  const cleanup = (): void => {
    if (dir !== null) fs.rmSync(dir, { recursive: true, force: true });
    dir = null;
  };
  const stop = new AbortController();
  const onSignal = (): void => {
    // First Ctrl-C: stop submitting and report; a second one exits at once.
    if (stop.signal.aborted) {
      cleanup();
      process.exit(130);
    }
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    try {
      prepareFile(file, opts.size);
    } catch (err) {
      process.stderr.write(`posix-aio bench: cannot prepare the data file ${file}: ${(err as Error).message}\n`);
      return 1;
    }
    const cfg: JobConfig = {
      rw: opts.rw,
      bs: opts.bs,
      iodepth: opts.iodepth,
      size: opts.size,
      runtimeMs: opts.runtimeMs,
      api: opts.api,
      fsync: opts.fsync,
      file,
      notify: opts.notify,
      buffers: opts.buffers,
      signal: stop.signal,
    };
    if (opts.batch > 0) cfg.batch = opts.batch;
    if (opts.threads > 0) cfg.threads = opts.threads;
    if (opts.poll >= 0) cfg.poll = opts.poll;
    const isLib = LIBRARY_APIS.includes(opts.api);

    const recorder = opts.trace === null ? null : new TraceRecorder();
    recorder?.start(isLib ? counters : null);

    const label = `${opts.api} ${opts.rw} ${opts.bs >= 1024 ? `${opts.bs / 1024}k` : opts.bs} qd${opts.iodepth}`;
    const tty = process.stderr.isTTY === true;
    let stats: JobStats;
    try {
      stats = await runJob(cfg, {
        ...(tty ? { onProgress: (p) => process.stderr.write(`\r\x1b[K${formatProgress(p, label)}`), progressMs: 250 } : {}),
        ...(recorder !== null && !isLib ? { onRequest: (op, s, e, r, error) => recorder.userOp(op, s, e, r, error) } : {}),
      });
    } finally {
      if (tty) process.stderr.write('\r\x1b[K');
      recorder?.stop();
    }
    if (recorder !== null && opts.trace !== null) {
      recorder.write(opts.trace, describeJob(stats), { tool: 'posix-aio bench', job: describeJob(stats), config: { ...stats, firstError: undefined } });
    }
    const temporary = opts.file === null;
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ...stats, file: file, temporaryFile: temporary, trace: opts.trace, node: process.version, uvThreadpoolSize: Number(process.env['UV_THREADPOOL_SIZE'] ?? 4) })}\n`);
    } else {
      process.stdout.write(`${formatReport(stats, { path: file, temporary }, opts.trace)}\n`);
    }
    if (stop.signal.aborted) {
      process.stderr.write('posix-aio bench: stopped early by a signal; the numbers cover the time it ran\n');
      return 130;
    }
    const ok = stats.errors === 0 && stats.completed === stats.submitted && stats.duplicates === 0;
    return ok ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    process.stderr.write(`${mainHelp()}\n`);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${mainHelp()}\n`);
    return 0;
  }
  if (command === 'bench') return bench(rest);
  usageExit(new UsageError(null, `unknown command "${command}" (the command is bench: posix-aio bench --help)`), 'posix-aio');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`posix-aio: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
