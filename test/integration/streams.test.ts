/**
 * Streams (engine/queue.ts design notes) on real files: a sequential reader and a
 * sequential writer at depth 16, resubmitting from each completion's notification
 * (SIGEV_THREAD), as the bench does. With polling on, merged groups wait for their
 * descriptor's call and are handed over from its completion; with polling off they
 * are not. Both runs must give the same result for every request, the same bytes in
 * every buffer and in the file, and exactly one notification per request.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { DEFAULTS, engine } from '../../src/engine/queue';
import { AioControlBlock, aio_error, aio_read, aio_return, aio_write, configurePolling, SIGEV_THREAD } from '../../src/index';
import { cleanup, tmpFile } from '../helpers/files';
import { flush } from '../helpers/mustcall';

const BS = 4096;
const DEPTH = 16;
const SIZE = 256 * 1024 + 1000; // the reader passes the end: short and empty reads at the tail

afterEach(() => {
  configurePolling({ windowMicros: DEFAULTS.pollWindowMicros, maxBytes: DEFAULTS.pollMaxBytes });
  cleanup();
});

interface Run {
  /** Per offset: aio_error, aio_return, and (reads) the bytes the buffer got, hex. */
  results: Map<number, [number, number, string]>;
  file: string;
  handOvers: number;
}

/**
 * Keeps DEPTH requests in flight over [0, end) in BS steps: each notification
 * records its request's result and submits the next offset with the same block.
 */
function stream(fd: number, op: 'read' | 'write', end: number, fill: (offset: number) => Buffer): Promise<Map<number, [number, number, string]>> {
  const results = new Map<number, [number, number, string]>();
  const notified = new Map<number, number>();
  let next = 0;
  let live = 0;
  return new Promise((resolve, reject) => {
    const submit = (): void => {
      const offset = next;
      next += BS;
      live++;
      const cb: AioControlBlock = new AioControlBlock({
        aio_fildes: fd,
        aio_offset: offset,
        aio_buf: fill(offset),
        aio_nbytes: BS,
        aio_sigevent: {
          sigev_notify: SIGEV_THREAD,
          sigev_notify_function: () => {
            notified.set(offset, (notified.get(offset) ?? 0) + 1);
            const n = aio_return(cb);
            results.set(offset, [aio_error(cb), n, op === 'read' ? (cb.aio_buf as Buffer).toString('hex') : '']);
            live--;
            if (next < end) submit();
            else if (live === 0) {
              if ([...notified.values()].some((k) => k !== 1)) reject(new Error('a request was notified more than once'));
              else resolve(results);
            }
          },
        },
      });
      const rc = op === 'read' ? aio_read(cb) : aio_write(cb);
      if (rc !== 0) reject(new Error(`aio_${op} returned ${rc}`));
    };
    for (let i = 0; i < DEPTH; i++) submit();
  });
}

async function run(content: Buffer, polling: boolean): Promise<Run> {
  configurePolling({ windowMicros: polling ? 20_000 : 0 });
  const before = engine().handOvers;
  const { fd: rfd } = tmpFile(content);
  // Reads go 2 blocks past the end of the file.
  const results = await stream(rfd, 'read', SIZE + 2 * BS, () => Buffer.alloc(BS, 0xee));
  const { path, fd: wfd } = tmpFile(Buffer.alloc(0));
  const written = await stream(wfd, 'write', SIZE - (SIZE % BS), (offset) => content.subarray(offset, offset + BS));
  for (const [offset, r] of written) results.set(-1 - offset, r);
  await flush();
  return { results, file: fs.readFileSync(path).toString('hex'), handOvers: engine().handOvers - before };
}

describe('streams on real files', () => {
  test('depth 16, reading and writing sequentially: the same results, bytes and file with polling (streams) on and off', async () => {
    const content = randomBytes(SIZE);
    const off = await run(content, false);
    const on = await run(content, true);
    expect(off.handOvers).toBe(0);
    // With polling, groups were handed over from their stream's completions.
    expect(on.handOvers).toBeGreaterThan(0);
    expect(on.results.size).toBe(off.results.size);
    for (const [offset, r] of off.results) expect([offset, on.results.get(offset)]).toEqual([offset, r]);
    expect(on.file).toBe(off.file);
    expect(on.file).toBe(content.subarray(0, SIZE - (SIZE % BS)).toString('hex'));
    // The tail of the reader: a short read at the end, then empty ones.
    expect(on.results.get(SIZE - (SIZE % BS))?.slice(0, 2)).toEqual([0, SIZE % BS]);
    expect(on.results.get(SIZE - (SIZE % BS) + BS)?.slice(0, 2)).toEqual([0, 0]);
  });
});
