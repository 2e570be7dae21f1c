/**
 * `posix-aio bench`, spawned as a user runs it (node --import tsx cli/main.ts), with
 * stdout and stderr piped. The runs are started together in beforeAll (they are
 * independent processes) and each test checks one of them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { IO_URING } from '../../src/engine/queue';
import { type Run, runCli } from './helpers';

const FLAGS = ['--rw', '--bs', '--iodepth', '--size', '--runtime', '--api', '--fsync', '--file', '--json', '--trace', '--help', '--threads', '--notify', '--batch', '--buffers', '--poll'];
const APIS = ['posix', 'lio', 'nng', 'promise', 'raw', 'fspromises'] as const;
const LIBRARY = new Set<string>(['posix', 'lio', 'nng', 'promise']);
const TINY = ['--size', '1m', '--runtime', '120ms', '--iodepth', '8', '--json'];

interface Stats {
  api: string;
  rw: string;
  ops: number;
  bytes: number;
  iops: number;
  bandwidth: number;
  submitted: number;
  completed: number;
  duplicates: number;
  errors: number;
  firstError: string | null;
  fsyncs: number;
  inFlightCap: number | null;
  poll: { windowMicros: number; maxBytes: number } | null;
  lat: { min: number; p50: number; p90: number; p99: number; p999: number; max: number };
  engine: { submitted: number; completed: number; canceled: number; failed: number; queued: number; inFlight: number } | null;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-cli-test-'));
const tracePath = path.join(dir, 'trace.json');
const rawTracePath = path.join(dir, 'raw-trace.json');
const runs = new Map<string, Promise<Run>>();
const start = (key: string, args: string[]): void => {
  runs.set(key, runCli(args, 60000));
};
const result = (key: string): Promise<Run> => runs.get(key) as Promise<Run>;

beforeAll(() => {
  start('help', ['bench', '--help']);
  start('main-help', ['--help']);
  start('bad-bs', ['bench', '--bs', 'huge']);
  start('bad-command', ['benhc']);
  for (const api of APIS) start(`read ${api}`, ['bench', '--api', api, '--rw', 'randread', ...TINY]);
  for (const api of APIS) start(`write ${api}`, ['bench', '--api', api, '--rw', 'write', '--fsync', '4', ...TINY]);
  start('write posix thread', ['bench', '--api', 'posix', '--notify', 'thread', '--rw', 'randwrite', ...TINY]);
  // Sequential reads, so that the engine merges some adjacent requests into one call.
  start('trace', ['bench', '--api', 'posix', '--rw', 'read', '--trace', tracePath, ...TINY]);
  start('trace raw', ['bench', '--api', 'raw', '--rw', 'randwrite', '--fsync', '8', '--trace', rawTracePath, ...TINY]);
  start('text', ['bench', '--api', 'nng', '--size', '1m', '--runtime', '100ms']);
  start('poll off', ['bench', '--api', 'promise', '--poll', '0', '--iodepth', '1', ...TINY.filter((a) => a !== '8' && a !== '--iodepth')]);
});

afterAll(async () => {
  await Promise.all(runs.values());
  fs.rmSync(dir, { recursive: true, force: true });
});

function json(run: Run): Stats {
  return JSON.parse(run.stdout) as Stats;
}

describe('posix-aio bench --help', () => {
  test('prints the usage, mentions every flag and exits 0', async () => {
    const run = await result('help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: posix-aio bench/);
    for (const flag of FLAGS) expect(run.stdout).toContain(flag);
    for (const api of APIS) expect(run.stdout).toContain(api);
  });

  test('posix-aio --help lists the bench command and exits 0', async () => {
    const run = await result('main-help');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Usage: posix-aio <command>/);
    expect(run.stdout).toContain('bench');
  });
});

describe('posix-aio bench with a bad command line', () => {
  test('exits 2 with a message naming the flag and the rule for a bad value', async () => {
    const run = await result('bad-bs');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^posix-aio bench: --bs: must be a size in bytes .* \(got "huge"\)\n$/);
  });

  test('exits 2 naming an unknown command', async () => {
    const run = await result('bad-command');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command "benhc"/);
  });
});

describe('posix-aio bench --json', () => {
  const check = (s: Stats, api: string): void => {
    expect(s.api).toBe(api);
    expect(s.errors).toBe(0);
    expect(s.firstError).toBeNull();
    expect(s.ops).toBeGreaterThan(0);
    expect(s.bytes).toBe(s.ops * 4096);
    expect(s.iops).toBeGreaterThan(0);
    expect(Number.isFinite(s.iops)).toBe(true);
    expect(s.bandwidth).toBeGreaterThan(0);
    // Exactly once: every request issued was observed complete once.
    expect(s.completed).toBe(s.submitted);
    expect(s.duplicates).toBe(0);
    expect(s.lat.p50).toBeGreaterThan(0);
    expect(s.lat.min).toBeLessThanOrEqual(s.lat.p50);
    expect(s.lat.p50).toBeLessThanOrEqual(s.lat.p90);
    expect(s.lat.p90).toBeLessThanOrEqual(s.lat.p99);
    expect(s.lat.p99).toBeLessThanOrEqual(s.lat.p999);
    expect(s.lat.p999).toBeLessThanOrEqual(s.lat.max);
    if (LIBRARY.has(api)) {
      // The engine saw the same requests, and nothing is left in it.
      expect(s.engine).toMatchObject({ submitted: s.submitted, completed: s.submitted, canceled: 0, failed: 0, queued: 0, inFlight: 0 });
      expect(s.inFlightCap).toBeGreaterThanOrEqual(1);
      expect(s.poll).toEqual({ windowMicros: IO_URING ? 0 : 200, maxBytes: 256 * 1024 });
    } else {
      expect(s.engine).toBeNull();
      expect(s.poll).toBeNull();
    }
  };

  test.each(APIS)('a tiny random-read run through %s gives valid numbers, each request completed exactly once', async (api) => {
    const run = await result(`read ${api}`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const s = json(run);
    expect(s.rw).toBe('randread');
    check(s, api);
  });

  test.each(APIS)('a tiny sequential-write run through %s with --fsync 4 issues fsyncs, each request completed exactly once', async (api) => {
    const run = await result(`write ${api}`);
    expect(run.code).toBe(0);
    const s = json(run);
    expect(s.rw).toBe('write');
    check(s, api);
    expect(s.fsyncs).toBeGreaterThan(0);
    // One fsync after every 4 writes (the last few writes may not be followed by one).
    expect(s.fsyncs).toBeLessThanOrEqual(Math.ceil(s.ops / 4));
  });

  test('--notify thread drives aio_write with SIGEV_THREAD', async () => {
    const run = await result('write posix thread');
    expect(run.code).toBe(0);
    const s = json(run) as Stats & { notify: string };
    expect(s.notify).toBe('thread');
    check(s, 'posix');
  });
});

describe('posix-aio bench text report', () => {
  test('reports IOPS, bandwidth, latency percentiles and engine counters, with no progress line when piped', async () => {
    const run = await result('text');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/IOPS [\d.]+k?/);
    expect(run.stdout).toMatch(/MiB\/s|KiB\/s/);
    for (const p of ['p50', 'p90', 'p99', 'p99.9']) expect(run.stdout).toContain(`${p} `);
    expect(run.stdout).toMatch(/engine {3}submitted \d+, completed \d+/);
    expect(run.stdout).toContain('(exactly once)');
    expect(run.stdout).toMatch(IO_URING ? /in-flight cap \d+; polling off/ : /in-flight cap \d+; polling 200 us/);
    // Piped: no progress line, so no carriage return anywhere.
    expect(run.stdout).not.toContain('\r');
    expect(run.stderr).toBe('');
  });
});

describe('posix-aio bench --poll', () => {
  test('--poll 0 runs with polling off, and says so', async () => {
    const run = await result('poll off');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const s = json(run);
    expect(s.poll).toEqual({ windowMicros: 0, maxBytes: 256 * 1024 });
    expect(s.completed).toBe(s.submitted);
    expect(s.errors).toBe(0);
  });
});

describe('posix-aio bench --trace', () => {
  interface Event {
    name: string;
    ph: string;
    cat?: string;
    id?: string;
    ts: number;
    dur?: number;
    tid?: number;
    args?: Record<string, unknown>;
  }

  test('writes Chrome trace-event JSON with one request slice per request, its queue wait and service time as child slices', async () => {
    const run = await result('trace');
    expect(run.code).toBe(0);
    const s = json(run);
    const trace = JSON.parse(fs.readFileSync(tracePath, 'utf8')) as { traceEvents: Event[]; otherData: { dropped: number } };
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    expect(trace.otherData.dropped).toBe(0);
    const req = trace.traceEvents.filter((e) => e.cat === 'request');
    const byId = new Map<string, Event[]>();
    for (const e of req) byId.set(e.id as string, [...(byId.get(e.id as string) ?? []), e]);
    // One traced request per request the run issued, all of them reads.
    expect(byId.size).toBe(s.submitted);
    for (const events of byId.values()) {
      const find = (name: string, ph: string): Event => {
        const e = events.find((x) => x.name === name && x.ph === ph);
        expect(e).toBeDefined();
        return e as Event;
      };
      const begin = find('read', 'b');
      const qb = find('queue wait', 'b');
      const qe = find('queue wait', 'e');
      const sb = find('service', 'b');
      const se = find('service', 'e');
      const end = find('read', 'e');
      expect(qb.ts).toBe(begin.ts);
      expect(qe.ts).toBeGreaterThanOrEqual(qb.ts);
      expect(sb.ts).toBe(qe.ts);
      expect(se.ts).toBeGreaterThanOrEqual(sb.ts);
      expect(end.ts).toBe(se.ts);
      // The durations are carried on the end event too, in microseconds.
      const args = end.args as { queue_wait_us: number; service_us: number; result: number; errno: number };
      expect(args.queue_wait_us).toBeCloseTo(qe.ts - qb.ts, 0);
      expect(args.service_us).toBeCloseTo(se.ts - sb.ts, 0);
      expect(args.result).toBe(4096);
      expect(args.errno).toBe(0);
    }
    // Thread-pool slot tracks, one system call each (merged requests share one):
    // never more than the in-flight cap in use at once.
    const slots = new Set(trace.traceEvents.filter((e) => e.ph === 'X' && e.cat === 'thread-pool').map((e) => e.tid));
    expect(slots.size).toBeGreaterThanOrEqual(1);
    expect(slots.size).toBeLessThanOrEqual(s.inFlightCap as number);
    // Timestamps are microseconds: the requests span about the run time (120 ms).
    const ts = req.map((e) => e.ts);
    const span = Math.max(...ts) - Math.min(...ts);
    expect(span).toBeGreaterThan(50_000);
    expect(span).toBeLessThan(60_000_000);
  });

  test('for the raw baseline, which publishes nothing, writes one slice per request as the caller saw it', async () => {
    const run = await result('trace raw');
    expect(run.code).toBe(0);
    const s = json(run);
    const trace = JSON.parse(fs.readFileSync(rawTracePath, 'utf8')) as { traceEvents: Event[] };
    const fsEvents = trace.traceEvents.filter((e) => e.cat === 'fs');
    const begins = fsEvents.filter((e) => e.ph === 'b');
    const ends = fsEvents.filter((e) => e.ph === 'e');
    expect(begins).toHaveLength(s.submitted);
    expect(ends).toHaveLength(s.submitted);
    expect(new Set(begins.map((e) => e.name))).toEqual(new Set(['write', 'fsync']));
    for (const e of ends) expect((e.args as { latency_us: number }).latency_us).toBeGreaterThan(0);
    expect(trace.traceEvents.some((e) => e.cat === 'request')).toBe(false);
  });
});
