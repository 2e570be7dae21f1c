/**
 * Text output of `posix-aio bench`: the final report, the live progress line, and
 * the unit formatting shared with bench/run.ts.
 */
import type { PollSettings } from '../src/index';
import type { Latency, JobStats, Progress } from './workload';

/** 4096 → "4k", 1048576 → "1m", 1000 → "1000". */
export function formatSize(n: number): string {
  const units: Array<[number, string]> = [
    [1024 ** 4, 't'],
    [1024 ** 3, 'g'],
    [1024 ** 2, 'm'],
    [1024, 'k'],
  ];
  for (const [m, u] of units) if (n >= m && n % m === 0) return `${n / m}${u}`;
  return String(n);
}

/** The polling settings in a few words: "off", or the window and the size it applies to; "unknown" when there are none (raw apis, old JSON results). */
export function formatPolling(p: PollSettings | null | undefined): string {
  if (p === null || p === undefined) return 'unknown';
  if (p.windowMicros === 0) return 'off';
  return `${p.windowMicros} us after each event, up to ${Number.isFinite(p.maxBytes) ? `${p.maxBytes / 1024} KiB` : 'any size'} in flight`;
}

/** 123456 → "123.5k". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(n >= 100 ? 0 : 1);
}

/** Bytes per second → "160.7 MiB/s". */
export function formatRate(bytesPerSec: number): string {
  if (!Number.isFinite(bytesPerSec)) return '-';
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = bytesPerSec;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** Bytes → "63.1 MiB". */
export function formatBytes(n: number): string {
  return formatRate(n).replace('/s', '');
}

/** Microseconds → "12.3us", "1.52ms", "2.10s". */
export function formatMicros(us: number): string {
  if (!Number.isFinite(us)) return '-';
  if (us >= 1e6) return `${(us / 1e6).toFixed(2)}s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e4 ? 1 : 2)}ms`;
  return `${us.toFixed(us >= 100 ? 0 : 1)}us`;
}

function latLine(l: Latency): string {
  return [
    `min ${formatMicros(l.min)}`,
    `mean ${formatMicros(l.mean)}`,
    `p50 ${formatMicros(l.p50)}`,
    `p90 ${formatMicros(l.p90)}`,
    `p99 ${formatMicros(l.p99)}`,
    `p99.9 ${formatMicros(l.p999)}`,
    `max ${formatMicros(l.max)}`,
  ].join('  ');
}

/** What the job was, in one line: "randread bs=4k iodepth=64 api=posix (aio_suspend) size=64m runtime=3s". */
export function describeJob(s: Pick<JobStats, 'rw' | 'bs' | 'iodepth' | 'api' | 'size' | 'runtimeMs' | 'fsync' | 'notify' | 'batch'>): string {
  const api =
    s.api === 'posix' ? `posix (${s.notify === 'thread' ? 'SIGEV_THREAD' : 'aio_suspend'})` : s.api === 'lio' ? `lio (batch ${s.batch ?? '?'})` : s.api;
  const parts = [s.rw, `bs=${formatSize(s.bs)}`, `iodepth=${s.iodepth}`, `api=${api}`, `size=${formatSize(s.size)}`, `runtime=${s.runtimeMs >= 1000 ? `${s.runtimeMs / 1000}s` : `${s.runtimeMs}ms`}`];
  if (s.fsync > 0) parts.push(`fsync=${s.fsync}`);
  return parts.join(' ');
}

/** The final report, as text. */
export function formatReport(s: JobStats, file: { path: string; temporary: boolean }, trace: string | null): string {
  const isWrite = s.rw === 'write' || s.rw === 'randwrite';
  const lines: string[] = [];
  lines.push(`posix-aio bench: ${describeJob(s)}`);
  lines.push(`  file     ${file.path}${file.temporary ? ' (temporary)' : ''}`);
  lines.push(
    `  ${isWrite ? 'write' : 'read '}    IOPS ${formatCount(s.iops)}, BW ${formatRate(s.bandwidth)} (${(s.bandwidth / 1e6).toFixed(1)} MB/s), ${s.ops} ops, ${formatBytes(s.bytes)} in ${(s.elapsedMs / 1000).toFixed(3)} s`,
  );
  lines.push(`  lat      ${latLine(s.lat)}`);
  if (s.fsyncLat !== null) lines.push(`  fsync    ${s.fsyncs} calls: ${latLine(s.fsyncLat)}`);
  const exact = s.completed === s.submitted && s.duplicates === 0 ? 'exactly once' : 'MISMATCH';
  lines.push(`  requests submitted ${s.submitted}, completed ${s.completed} (${exact}), errors ${s.errors}${s.short > 0 ? `, short ${s.short}` : ''}`);
  if (s.firstError !== null) lines.push(`  first error: ${s.firstError}`);
  if (s.engine !== null) {
    const e = s.engine;
    lines.push(
      `  engine   submitted ${e.submitted}, completed ${e.completed}, canceled ${e.canceled}, failed ${e.failed}, merged ${e.merged}; at the end queued ${e.queued}, in flight ${e.inFlight}; in-flight cap ${s.inFlightCap ?? '?'}; polling ${formatPolling(s.poll)}`,
    );
  } else {
    lines.push(`  engine   (not used: ${s.api} calls Node's fs directly; libuv pool size ${process.env['UV_THREADPOOL_SIZE'] ?? '4'})`);
  }
  if (s.probe !== null) lines.push(`  probe    pbkdf2 wait median ${s.probe.medianMs.toFixed(3)} ms, p99 ${s.probe.p99Ms.toFixed(3)} ms (${s.probe.samples} samples)`);
  if (s.loopDelay !== null) lines.push(`  loop     event-loop delay p50 ${s.loopDelay.p50Ms.toFixed(2)} ms, p99 ${s.loopDelay.p99Ms.toFixed(2)} ms, max ${s.loopDelay.maxMs.toFixed(2)} ms`);
  if (trace !== null) lines.push(`  trace    ${trace} (open in https://ui.perfetto.dev)`);
  return lines.join('\n');
}

/** The live progress line (without the leading carriage return). */
export function formatProgress(p: Progress, label: string): string {
  const secs = p.elapsedMs / 1000;
  const pct = Math.min(100, (p.elapsedMs / p.runtimeMs) * 100);
  const iops = secs > 0 ? p.ops / secs : 0;
  const bw = secs > 0 ? p.bytes / secs : 0;
  let line = `[${label}] ${secs.toFixed(1)}s ${pct.toFixed(0)}%  IOPS ${formatCount(iops)}  BW ${formatRate(bw)}  outstanding ${p.outstanding}`;
  if (p.engine !== null) line += `  queued ${p.engine.queued} in-flight ${p.engine.inFlight}`;
  return line;
}
