/**
 * The bounce bench (issue 4): 1 MiB sequential reads at depth 4 from a page-cached
 * file through the backend (src/engine/dispatch.ts), into destinations whose address
 * modulo 4096 is known but which the library does not know as its own: views of a
 * WebAssembly.Memory made here. "slow" views start 16 bytes into a page (where malloc
 * puts a large Buffer it maps: the kernel copies into them at about a quarter of its
 * speed), "fast" views start a page.
 *
 * For each destination: direct (mode 'off'), bounce (mode 'always') and adaptive (the
 * default: the policy times both paths per buffer and alignment class and keeps the
 * faster; its probes are part of the run). Fresh destinations every run, so adaptive
 * starts from nothing each time. Passes interleaved (the mode order rotates);
 * medians; "x direct" is the median of the ratio to direct reads into the same
 * destination in the same pass.
 *
 * Usage: npx tsx bench/bounce.ts [--passes 5] [--ms 1000] [--bs 1048576] [--posix]
 *   --posix  read through aio_read (SIGEV_THREAD) instead of calling the backend
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { configureBounce } from '../src/aligned';
import { AioControlBlock, SIGEV_THREAD, aio_read, aio_return } from '../src/index';
import { nodeBackend } from '../src/engine/dispatch';
import { numberFlag } from './args';

const args = process.argv.slice(2);
const passes = numberFlag('passes', 5);
const ms = numberFlag('ms', 1000);
const bs = numberFlag('bs', 1 << 20);
const posix = args.includes('--posix');
const DEPTH = 4;
const SIZE = 256 << 20;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-bounce-'));
const file = path.join(dir, 'data');
fs.writeFileSync(file, crypto.randomBytes(SIZE));
const fd = fs.openSync(file, 'r');
fs.readFileSync(file); // into the page cache

type Mode = 'direct' | 'bounce' | 'adaptive';
const MODES: readonly Mode[] = ['direct', 'bounce', 'adaptive'];
const SETTING = { direct: 'off', bounce: 'always', adaptive: 'adaptive' } as const;

/** Fresh destinations for every run, as a program would allocate them. */
function views(skew: number): Uint8Array[] {
  const mem = new (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } } }).WebAssembly.Memory({ initial: Math.ceil(((bs + 8192) * DEPTH) / 65536) });
  return Array.from({ length: DEPTH }, (_, i) => new Uint8Array(mem.buffer, i * (bs + 8192) + skew, bs));
}

function run(bufs: Uint8Array[]): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    let pos = 0;
    let live = bufs.length;
    const t0 = performance.now();
    const end = t0 + ms;
    const one = (b: Uint8Array): void => {
      const p = pos;
      pos = (pos + bs) % SIZE;
      const done = (n: number): void => {
        bytes += n;
        if (performance.now() < end) one(b);
        else if (--live === 0) resolve(bytes / (performance.now() - t0) / 1e6);
      };
      if (posix) {
        const cb: AioControlBlock = new AioControlBlock({
          aio_fildes: fd,
          aio_buf: b,
          aio_nbytes: bs,
          aio_offset: p,
          aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: () => done(aio_return(cb)) },
        });
        if (aio_read(cb) !== 0) throw new Error('aio_read failed');
        return;
      }
      nodeBackend.read(fd, b, bs, p, (err, n) => {
        if (err !== null) throw err;
        done(n);
      });
    };
    for (const b of bufs) one(b);
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function main(): Promise<void> {
  const dests = [
    ['slow (page+16)', 16],
    ['fast (page+0)', 0],
  ] as const;
  const gbs = new Map<string, number[]>();
  const ratio = new Map<string, number[]>();
  for (let p = 0; p < passes; p++) {
    for (const [name, skew] of dests) {
      const got: Partial<Record<Mode, number>> = {};
      for (const mode of MODES.map((_, i) => MODES[(i + p) % MODES.length] as Mode)) {
        configureBounce({ mode: SETTING[mode], minBytes: 256 * 1024 });
        got[mode] = await run(views(skew));
      }
      for (const mode of MODES) {
        const key = `${name}\t${mode}`;
        (gbs.get(key) ?? gbs.set(key, []).get(key))?.push(got[mode] as number);
        (ratio.get(key) ?? ratio.set(key, []).get(key))?.push((got[mode] as number) / (got.direct as number));
      }
    }
  }
  process.stdout.write(`bounce bench (${posix ? 'aio_read' : 'backend'}): ${bs} B reads at depth ${DEPTH}, ${ms} ms runs, medians of ${passes} passes\ndestination\tmode\tGB/s\tx direct\n`);
  for (const [key, xs] of gbs) process.stdout.write(`${key}\t${median(xs).toFixed(2)}\t${median(ratio.get(key) as number[]).toFixed(2)}x\n`);
  configureBounce({ mode: 'adaptive' });
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true });
}

void main();
