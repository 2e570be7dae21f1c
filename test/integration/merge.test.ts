/**
 * Merged and unmerged execution give identical results on real files: the same
 * bytes in every buffer and in the file, the same aio_error / aio_return for every
 * request, and (with one request in the thread pool at a time, where the order is
 * deterministic) the same notification order. Each program runs twice, with
 * merging on (the default) and off (mergeMaxRequests = 1), on fresh copies of one file.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { DEFAULTS, engine } from '../../src/engine/queue';
import {
  AioControlBlock,
  aio_error,
  aio_init,
  aio_read,
  aio_return,
  aio_write,
  promises,
  SIGEV_THREAD,
} from '../../src/index';
import { cleanup, tmpFile } from '../helpers/files';
import { flush } from '../helpers/mustcall';

const SIZE = 64 * 1024 + 1000; // not a multiple of the block size: reads straddle and pass the end
const BS = 4096;

afterEach(() => {
  engine().mergeMaxRequests = 64;
  aio_init({ aio_threads: DEFAULTS.maxInFlight });
  cleanup();
});

interface Outcome {
  /** Completion order, by request index. */
  order: number[];
  /** [aio_error, aio_return] per request. */
  results: Array<[number, number]>;
  /** Each read buffer, hex. */
  buffers: string[];
  /** The file afterwards, hex. */
  file: string;
  merged: number;
}

/**
 * 24 adjacent reads spanning the end of the file and 8 adjacent writes over a
 * separate region, submitted all at once (SIGEV_THREAD counts each completion).
 */
async function program(content: Buffer, merge: boolean, threads: number): Promise<Outcome> {
  const eng = engine();
  eng.mergeMaxRequests = merge ? 64 : 1;
  aio_init({ aio_threads: threads });
  const before = eng.counters.merged;
  const { path, fd } = tmpFile(content);
  const order: number[] = [];
  const seen = new Map<number, number>();
  const cbs: AioControlBlock[] = [];
  const done = new Promise<void>((resolve) => {
    let left = 32;
    const note = (i: number) => () => {
      seen.set(i, (seen.get(i) ?? 0) + 1);
      order.push(i);
      if (--left === 0) resolve();
    };
    for (let i = 0; i < 24; i++) {
      // Reads from 8 blocks before the end to well past it.
      const cb = new AioControlBlock({
        aio_fildes: fd,
        aio_offset: SIZE - 8 * BS + 100 + i * BS,
        aio_buf: Buffer.alloc(BS, 0xee),
        aio_nbytes: BS,
        aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: note(i) },
      });
      cbs.push(cb);
    }
    for (let i = 0; i < 8; i++) {
      const cb = new AioControlBlock({
        aio_fildes: fd,
        aio_offset: i * 1000,
        aio_buf: Buffer.alloc(1000, 0x41 + i),
        aio_nbytes: 1000,
        aio_sigevent: { sigev_notify: SIGEV_THREAD, sigev_notify_function: note(24 + i) },
      });
      cbs.push(cb);
    }
    for (let i = 0; i < 32; i++) expect(i < 24 ? aio_read(cbs[i] as AioControlBlock) : aio_write(cbs[i] as AioControlBlock)).toBe(0);
  });
  await done;
  await flush();
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  expect(seen.size).toBe(32);
  const results = cbs.map((cb) => [aio_error(cb), aio_return(cb)] as [number, number]);
  const buffers = cbs.slice(0, 24).map((cb) => Buffer.from((cb.aio_buf as Buffer).buffer, (cb.aio_buf as Buffer).byteOffset, BS).toString('hex'));
  const file = fs.readFileSync(path).toString('hex');
  return { order, results, buffers, file, merged: eng.counters.merged - before };
}

describe('merging on real files', () => {
  const content = randomBytes(SIZE);

  test('one request in the thread pool at a time: identical results, bytes, file and notification order', async () => {
    const off = await program(content, false, 1);
    const on = await program(content, true, 1);
    expect(off.merged).toBe(0);
    expect(on.merged).toBeGreaterThan(0);
    expect(on.results).toEqual(off.results);
    expect(on.buffers).toEqual(off.buffers);
    expect(on.file).toEqual(off.file);
    expect(on.order).toEqual(off.order);
    // Sanity: reads past the end returned 0, the straddling one a partial count.
    expect(on.results.slice(0, 24).map(([, n]) => n)).toEqual([...Array(7).fill(BS), BS - 100, ...Array(16).fill(0)]);
  });

  test('four in the thread pool: identical results, bytes and file', async () => {
    const off = await program(content, false, 4);
    const on = await program(content, true, 4);
    expect(on.merged).toBeGreaterThan(0);
    expect(on.results).toEqual(off.results);
    expect(on.buffers).toEqual(off.buffers);
    expect(on.file).toEqual(off.file);
  });

  test('the Promise face: sequential 4 KiB reads at depth 16 merge and return the file', async () => {
    // A cap below the number of reads, so that some wait in the queue, where they merge.
    aio_init({ aio_threads: 4 });
    const { fd } = tmpFile(content);
    const before = engine().counters.merged;
    const reads = Array.from({ length: Math.ceil(SIZE / BS) + 2 }, (_, i) => promises.read(fd, Buffer.alloc(BS), { position: i * BS }));
    const got = await Promise.all(reads);
    const joined = Buffer.concat(got.map((r) => r.buffer.subarray(0, r.bytesRead)));
    expect(joined.equals(content)).toBe(true);
    expect(got.slice(-3).map((r) => r.bytesRead)).toEqual([SIZE % BS, 0, 0]);
    expect(engine().counters.merged - before).toBeGreaterThan(0);
  });
});
