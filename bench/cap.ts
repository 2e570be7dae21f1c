/**
 * How the in-flight cap (aio_init's aio_threads) trades throughput against the
 * wait other thread-pool users see. Runs 4 KiB random reads from a page-cached file
 * at a fixed depth through aio_read (completion-driven resubmission) for each cap,
 * and raw callback fs.read at the same depth, while a 1-iteration crypto.pbkdf2 probe
 * measures how long a foreign job waits for a thread. Every number is a ratio to raw
 * fs.read measured in the same run.
 *
 * Usage: npx tsx bench/cap.ts [--depth 64] [--ms 1500] [--passes 3] [--caps 1,4,16,32,64,128]
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AioControlBlock, aio_init, aio_read, aio_return, SIGEV_THREAD } from '../src/index';
import { numberFlag } from './args';

const DEPTH = numberFlag('depth', 64);
const MS = numberFlag('ms', 1500);
const PASSES = numberFlag('passes', 3);
const FILE_SIZE = 64 << 20;
const BS = 4096;
const BLOCKS = FILE_SIZE / BS;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-bench-'));
const file = path.join(dir, 'data');
fs.writeFileSync(file, crypto.randomBytes(FILE_SIZE));
const fd = fs.openSync(file, 'r');

let seed = 12345;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % BLOCKS;
};

interface Result {
  iops: number;
  probeMedianMs: number;
}

function probe(stopAt: number, waits: number[]): void {
  const t0 = performance.now();
  crypto.pbkdf2('p', 's', 1, 16, 'sha256', () => {
    waits.push(performance.now() - t0);
    if (performance.now() < stopAt) setTimeout(() => probe(stopAt, waits), 5);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

function runRaw(): Promise<Result> {
  return new Promise((resolve) => {
    let ops = 0;
    const waits: number[] = [];
    const end = performance.now() + MS;
    let live = DEPTH;
    const one = (buf: Buffer): void => {
      fs.read(fd, buf, 0, BS, rand() * BS, () => {
        ops++;
        if (performance.now() < end) one(buf);
        else if (--live === 0) resolve({ iops: ops / (MS / 1000), probeMedianMs: median(waits) });
      });
    };
    for (let i = 0; i < DEPTH; i++) one(Buffer.allocUnsafe(BS));
    setTimeout(() => probe(end, waits), 20);
  });
}

function runAio(cap: number): Promise<Result> {
  aio_init({ aio_threads: cap });
  return new Promise((resolve) => {
    let ops = 0;
    const waits: number[] = [];
    const end = performance.now() + MS;
    let live = DEPTH;
    const blocks: AioControlBlock[] = [];
    const submit = (cb: AioControlBlock): void => {
      cb.aio_offset = rand() * BS;
      if (aio_read(cb) !== 0) throw new Error('aio_read refused');
    };
    for (let i = 0; i < DEPTH; i++) {
      const cb: AioControlBlock = new AioControlBlock({
        aio_fildes: fd,
        aio_buf: Buffer.allocUnsafe(BS),
        aio_nbytes: BS,
        aio_sigevent: {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: () => {
            aio_return(cb);
            ops++;
            if (performance.now() < end) submit(cb);
            else if (--live === 0) resolve({ iops: ops / (MS / 1000), probeMedianMs: median(waits) });
          },
        },
      });
      blocks.push(cb);
    }
    for (const cb of blocks) submit(cb);
    setTimeout(() => probe(end, waits), 20);
  });
}

async function main(): Promise<void> {
  const capsArg = process.argv.indexOf('--caps');
  const caps = capsArg > 0 ? String(process.argv[capsArg + 1]).split(',').map(Number) : [1, 4, 16, 32, 64, 128];
  const rows = new Map<string, { ratio: number[]; probe: number[]; iops: number[] }>();
  // Warm-up: page cache and the thread pool.
  await runRaw();
  for (let pass = 0; pass < PASSES; pass++) {
    for (const cap of caps) {
      const raw = await runRaw();
      const aio = await runAio(cap);
      const row = rows.get(`cap ${cap}`) ?? { ratio: [], probe: [], iops: [] };
      row.ratio.push(aio.iops / raw.iops);
      row.probe.push(aio.probeMedianMs);
      row.iops.push(aio.iops);
      rows.set(`cap ${cap}`, row);
      const r = rows.get('raw fs.read') ?? { ratio: [], probe: [], iops: [] };
      r.ratio.push(1);
      r.probe.push(raw.probeMedianMs);
      r.iops.push(raw.iops);
      rows.set('raw fs.read', r);
    }
  }
  console.log(`randread 4 KiB, depth ${DEPTH}, ${MS} ms x ${PASSES} passes, UV_THREADPOOL_SIZE=${process.env['UV_THREADPOOL_SIZE'] ?? '4 (default)'}`);
  console.log('row            IOPS(median)  ratio-to-raw(median)  pbkdf2-probe-wait-ms(median)');
  for (const [name, r] of rows) {
    console.log(`${name.padEnd(14)} ${median(r.iops).toFixed(0).padStart(12)}  ${median(r.ratio).toFixed(2).padStart(20)}  ${median(r.probe).toFixed(3).padStart(28)}`);
  }
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
}

void main();
