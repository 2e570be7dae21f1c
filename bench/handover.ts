/**
 * The hand-over bench (issue 4, the engine's streams): how much a thread-pool
 * submission costs depending on how long after the last completion it comes. No
 * library: sequential `fs.readv` calls of `--group` 4 KiB buffers from a page-cached
 * file, `--inflight` calls at a time (1, or 2 side by side), each next call submitted
 * after a busy wait of D microseconds from the completion that frees its place, with
 * one setImmediate always pending so that the event loop polls (as the engine's
 * polling does) instead of sleeping.
 *
 * On a 2-vCPU VM whose idle vCPUs halt at once, a submission within a few
 * microseconds of the last completion finds its worker still awake; later, waking it
 * costs the event loop ~10 us more, and the round trip doubles. That is why the
 * engine hands a stream's next group over from the completion callback itself.
 *
 * Prints, per row, the 4 KiB requests per second and the medians of the submission's
 * time on the event loop (the readv call) and of the round trip (call to callback).
 * Passes interleaved (the row order rotates); medians of the passes.
 *
 * Usage: npx tsx bench/handover.ts [--passes 3] [--ms 500] [--group 8]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { numberFlag } from './args';

const passes = numberFlag('passes', 3);
const ms = numberFlag('ms', 500);
const group = numberFlag('group', 8);
const BS = 4096;
const SIZE = 64 << 20;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-handover-'));
const file = path.join(dir, 'data');
fs.writeFileSync(file, Buffer.alloc(SIZE, 0x5a));
const fd = fs.openSync(file, 'r');
fs.readFileSync(file); // into the page cache

interface Row {
  readonly waitUs: number;
  readonly inflight: number;
}
const ROWS: readonly Row[] = [0, 2, 4, 5, 10, 20, 40].map((waitUs) => ({ waitUs, inflight: 1 })).concat([{ waitUs: 0, inflight: 2 }]);

interface Result {
  iops: number;
  submitUs: number;
  roundTripUs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function busyWait(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

function run(row: Row): Promise<Result> {
  return new Promise((resolve) => {
    const submits: number[] = [];
    const trips: number[] = [];
    let pos = 0;
    let requests = 0;
    let live = 0;
    let polling = true;
    const poll = (): void => {
      if (polling) setImmediate(poll);
    };
    setImmediate(poll);
    const t0 = performance.now();
    const end = t0 + ms;
    const one = (bufs: Buffer[]): void => {
      const at = pos;
      pos = (pos + group * BS) % SIZE;
      live++;
      const start = performance.now();
      fs.readv(fd, bufs, at, (err, n) => {
        if (err !== null) throw err;
        if (n !== group * BS) throw new Error(`readv at ${at} returned ${n} bytes, not ${group * BS}`);
        trips.push(performance.now() - start);
        requests += group;
        live--;
        if (performance.now() < end) {
          busyWait(row.waitUs);
          one(bufs);
        } else if (live === 0) {
          polling = false;
          const s = (performance.now() - t0) / 1000;
          resolve({ iops: requests / s, submitUs: median(submits) * 1000, roundTripUs: median(trips) * 1000 });
        }
      });
      submits.push(performance.now() - start);
    };
    for (let i = 0; i < row.inflight; i++) one(Array.from({ length: group }, () => Buffer.allocUnsafe(BS)));
  });
}

async function main(): Promise<void> {
  const got = ROWS.map(() => ({ iops: [] as number[], submitUs: [] as number[], roundTripUs: [] as number[] }));
  await run({ waitUs: 0, inflight: 1 }); // warm-up
  for (let p = 0; p < passes; p++) {
    for (let k = 0; k < ROWS.length; k++) {
      const i = (k + p) % ROWS.length;
      const r = await run(ROWS[i] as Row);
      const g = got[i] as (typeof got)[number];
      g.iops.push(r.iops);
      g.submitUs.push(r.submitUs);
      g.roundTripUs.push(r.roundTripUs);
    }
  }
  process.stdout.write(`hand-over bench: readv of ${group} x 4 KiB, ${ms} ms runs, medians of ${passes} passes (Node ${process.version}, ${os.availableParallelism()} CPUs)\n`);
  process.stdout.write('wait us\tin flight\tIOPS\tsubmit us p50\tround trip us p50\n');
  ROWS.forEach((row, i) => {
    const g = got[i] as (typeof got)[number];
    process.stdout.write(`${row.waitUs}\t${row.inflight}\t${(median(g.iops) / 1000).toFixed(0)}k\t${median(g.submitUs).toFixed(1)}\t${median(g.roundTripUs).toFixed(1)}\n`);
  });
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true });
}

void main();
