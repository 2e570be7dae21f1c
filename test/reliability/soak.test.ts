/**
 * The soak (bench/soak.ts) as a child process, with a short run: every request
 * completes exactly once, the process exits by itself with code 0 and leaves no
 * handle open.
 *
 * Heap flatness is asserted only loosely here (`--heap-limit 1.5`, and the same bound
 * on the reported ratio): on a run this short the start heap is taken after 20,000
 * warm-up operations and the end heap still moves by a few percent with lazy
 * compilation and GC timing (about 1 MB of JIT and inline-cache state on a ~10 MB
 * heap: end/start was 1.02 at 50,000 operations and 1.11 with a 1,000-operation
 * warm-up). The 10% target is checked by the full run (`npm run soak`,
 * 2,000,000 operations), whose exit code includes it.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const OPS = 40_000;
/** Far above the run's few seconds; reaching it means the process did not end by itself. */
const WATCHDOG_MS = 90_000;

interface SoakReport {
  ops: number;
  tally: {
    accepted: number;
    listNotifications: number;
    expected: number;
    completedOnce: number;
    completedTwiceOrMore: number;
    neverCompleted: number;
    refused: number;
    perfect: boolean;
  };
  outcomes: { ok: number; canceled: number; timedOut: number; aborted: number; unexpected: number };
  violations: number;
  problems: string[];
  kinds: Record<string, { chosen: number; requests: number }>;
  heap: { start: number; end: number; ratio: number; limit: number };
  engine: { submitted: number; completed: number; queued: number; inFlight: number; idle: boolean };
  closes: number[];
  activeResources: string[];
  openHandles: string[];
  pass: boolean;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  killedByWatchdog: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the soak without --expose-gc, as `npm run soak` does (it exposes gc itself). */
function runSoak(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'soak.ts'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    let killedByWatchdog = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const watchdog = setTimeout(() => {
      killedByWatchdog = true;
      child.kill('SIGKILL');
    }, WATCHDOG_MS);
    child.on('error', (err) => {
      clearTimeout(watchdog);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(watchdog);
      resolve({ code, signal, killedByWatchdog, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('npm run soak', () => {
  let run: Run;
  let report: SoakReport;

  beforeAll(async () => {
    run = await runSoak(['--ops', String(OPS), '--json', '--heap-limit', '1.5']);
    const line = run.stdout.trim().split('\n').pop() ?? '';
    report = JSON.parse(line) as SoakReport;
  }, WATCHDOG_MS + 10_000);

  test('exits by itself with code 0: nothing left running, no process.exit, no kill', () => {
    expect(run.killedByWatchdog).toBe(false);
    expect(run.signal).toBeNull();
    expect({ code: run.code, stderr: run.stderr, problems: report.problems }).toEqual({ code: 0, stderr: '', problems: [] });
    expect(report.pass).toBe(true);
  });

  test('completes every accepted request exactly once', () => {
    const t = report.tally;
    expect(t.accepted).toBe(OPS);
    expect(t.expected).toBe(t.accepted + t.listNotifications);
    expect(t).toMatchObject({ completedOnce: t.expected, completedTwiceOrMore: 0, neverCompleted: 0, refused: 0, perfect: true });
    expect(report.outcomes.unexpected).toBe(0);
    expect(report.violations).toBe(0);
    expect(report.outcomes.ok + report.outcomes.canceled + report.outcomes.timedOut + report.outcomes.aborted).toBe(t.accepted);
  });

  test('exercises every kind of operation, and cancellation and timeouts', () => {
    for (const [name, k] of Object.entries(report.kinds)) {
      expect({ name, chosen: k.chosen > 0 }).toEqual({ name, chosen: true });
    }
    expect(report.outcomes.canceled).toBeGreaterThan(0);
    expect(report.outcomes.timedOut).toBeGreaterThan(0);
    expect(report.outcomes.aborted).toBeGreaterThan(0);
  });

  test('leaves the engine idle and no handle open at the end', () => {
    expect(report.engine).toMatchObject({ queued: 0, inFlight: 0, idle: true });
    expect(report.engine.completed).toBe(report.engine.submitted);
    expect(report.closes).toEqual([0, 0, 0, 0]);
    expect(report.openHandles).toEqual([]);
    // Only the two stdio pipes this test gave the child may be active.
    expect(report.activeResources.filter((r) => r !== 'PipeWrap')).toEqual([]);
  });

  test('keeps the heap roughly flat (loose bound at this size)', () => {
    expect(report.heap.start).toBeGreaterThan(0);
    expect(report.heap.ratio).toBeLessThanOrEqual(1.5);
  });
});
